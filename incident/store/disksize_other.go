//go:build !unix

package store

import "io/fs"

// diskSize is the space fi takes on disk: its size, where the system
// does not report allocated blocks.
func diskSize(fi fs.FileInfo) uint64 { return uint64(fi.Size()) }
