//go:build unix && !aix

// AIX is left out: golang.org/x/sys/unix has no Flock there, so it uses
// the portable fallback in lock_other.go.

package vault

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Lock takes an exclusive, non-blocking advisory lock (flock) on
// dir/LOCK, creating dir (0700) and the file (0600) if needed, and writes
// "pid\ncommand line\n" into it. If another process holds the lock, or
// this process already does through another Lock call, it returns a
// *LockedError naming the holder.
//
// The lock lasts until unlock is called or the process exits (the kernel
// drops it, so a crash leaves no stale lock; the LOCK file itself stays,
// which is harmless). unlock empties the record and releases the lock; it
// may be called more than once and is safe for concurrent use.
func Lock(dir string) (unlock func() error, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	path := lockPath(dir)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("vault: opening lock file: %w", err)
	}
	fd := int(f.Fd())
	for {
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		f.Close()
		return nil, lockedError(dir, path)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("vault: locking %s: %w", path, err)
	}
	if err := writeOwner(f); err != nil {
		unix.Flock(fd, unix.LOCK_UN)
		f.Close()
		return nil, fmt.Errorf("vault: writing lock file: %w", err)
	}
	var once sync.Once
	var uerr error
	return func() error {
		once.Do(func() {
			terr := f.Truncate(0)
			ferr := unix.Flock(fd, unix.LOCK_UN)
			cerr := f.Close()
			uerr = errors.Join(terr, ferr, cerr)
			if uerr != nil {
				uerr = fmt.Errorf("vault: unlocking %s: %w", path, uerr)
			}
		})
		return uerr
	}, nil
}

func writeOwner(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(ownerRecord(), 0); err != nil {
		return err
	}
	return f.Sync()
}
