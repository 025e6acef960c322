//go:build !unix || aix

package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sync"
)

// Lock takes an exclusive lock on dir, creating dir (0700) if needed, by
// creating dir/LOCK exclusively (this build has no flock) and writing
// "pid\ncommand line\n" into it. If the file exists it returns a
// *LockedError naming the holder.
//
// unlock removes the file; it may be called more than once and is safe
// for concurrent use. A process that dies without unlocking leaves the
// file behind: on Windows a LOCK naming a process that no longer exists
// is removed, elsewhere the user must delete it by hand.
func Lock(dir string) (unlock func() error, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	path := lockPath(dir)
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			le := lockedError(dir, path)
			if attempt == 0 && stale(le.PID) {
				os.Remove(path)
				continue
			}
			return nil, le
		}
		if err != nil {
			return nil, fmt.Errorf("vault: creating lock file: %w", err)
		}
		_, err = f.Write(ownerRecord())
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("vault: writing lock file: %w", err)
		}
		var once sync.Once
		var uerr error
		return func() error {
			once.Do(func() {
				if err := os.Remove(path); err != nil {
					uerr = fmt.Errorf("vault: unlocking %s: %w", path, err)
				}
			})
			return uerr
		}, nil
	}
}

// stale reports whether pid surely names no running process. Only
// Windows' os.FindProcess checks that the process exists; elsewhere a
// lock is never presumed stale.
func stale(pid int) bool {
	if runtime.GOOS != "windows" || pid <= 0 || pid == os.Getpid() {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	p.Release()
	return false
}
