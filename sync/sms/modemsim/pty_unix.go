//go:build unix

package modemsim

import (
	"fmt"
	"os"

	cpty "github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// openPTY opens a pseudo-terminal with github.com/creack/pty, sets the
// slave raw (no echo, no line editing: what one end writes the other
// reads as it is, as on a serial line), and puts the master under Go's
// poller. creack/pty leaves the master blocking (it takes its Fd), and a
// blocking read is not ended by Close; a non-blocking duplicate is, so
// Close stops the Sim's reader whatever a driver still holds open.
func openPTY() (*pty, error) {
	master, slave, err := cpty.Open()
	if err != nil {
		return nil, fmt.Errorf("open a pseudo-terminal: %w", err)
	}
	if _, err := term.MakeRaw(int(slave.Fd())); err != nil {
		_ = master.Close()
		_ = slave.Close()
		return nil, fmt.Errorf("set the pseudo-terminal raw: %w", err)
	}
	fd, err := unix.Dup(int(master.Fd()))
	if err == nil {
		err = unix.SetNonblock(fd, true)
		if err != nil {
			_ = unix.Close(fd)
		}
	}
	_ = master.Close()
	if err != nil {
		_ = slave.Close()
		return nil, fmt.Errorf("make the pseudo-terminal non-blocking: %w", err)
	}
	unix.CloseOnExec(fd)
	return &pty{master: os.NewFile(uintptr(fd), "/dev/ptmx"), slave: slave, path: slave.Name()}, nil
}
