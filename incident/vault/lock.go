package vault

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LockName is the lock file in a home folder.
const LockName = "LOCK"

// LockedError is returned by Lock when another process holds the home
// folder. PID and Command come from the lock file and are zero when the
// holder has not written them (yet).
type LockedError struct {
	Dir     string
	PID     int
	Command string
}

func (e *LockedError) Error() string {
	switch {
	case e.PID == 0:
		return fmt.Sprintf("the store in %s is in use by another process", e.Dir)
	case e.Command == "":
		return fmt.Sprintf("the store in %s is in use by process %d", e.Dir, e.PID)
	}
	return fmt.Sprintf("the store in %s is in use by process %d (%s)", e.Dir, e.PID, e.Command)
}

// maxCommandLen bounds the command name recorded in the lock file.
const maxCommandLen = 64

// ownerRecord is what the lock holder writes into the lock file:
// "pid\ncommand name\n". The name is the program's base name alone,
// never its arguments: a command line holds report titles, invite codes
// and passphrase file names, and the lock file sits outside the encrypted
// store, fsynced, where a wipe cannot reach it.
func ownerRecord() []byte {
	cmd := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, filepath.Base(os.Args[0]))
	if len(cmd) > maxCommandLen {
		cmd = cmd[:maxCommandLen]
	}
	return []byte(strconv.Itoa(os.Getpid()) + "\n" + cmd + "\n")
}

// lockedError reads the holder's record from the lock file at path. The
// holder writes it just after taking the lock, so an empty or partial
// record is retried for a moment before giving up on it.
func lockedError(dir, path string) *LockedError {
	e := &LockedError{Dir: dir}
	for range 20 {
		if pid, cmd, ok := readOwner(path); ok {
			e.PID, e.Command = pid, cmd
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return e
}

// readOwner parses a complete owner record from the lock file at path.
func readOwner(path string) (pid int, cmd string, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return 0, "", false
	}
	pidLine, rest, found := strings.Cut(string(b), "\n")
	if !found {
		return 0, "", false
	}
	cmd, _, found = strings.Cut(rest, "\n")
	if !found {
		return 0, "", false
	}
	pid, err = strconv.Atoi(pidLine)
	if err != nil || pid <= 0 {
		return 0, "", false
	}
	return pid, cmd, true
}

func lockPath(dir string) string { return filepath.Join(dir, LockName) }
