//go:build !unix

package vault

// syncDir is a no-op where directories cannot be fsynced (on Windows a
// directory handle cannot be flushed; NTFS journals renames itself).
func syncDir(dir string) error { return nil }
