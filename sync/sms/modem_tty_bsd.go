//go:build darwin || freebsd

package sms

import "golang.org/x/sys/unix"

// The termios requests of the BSDs and macOS.
const (
	getTermios = unix.TIOCGETA
	setTermios = unix.TIOCSETA
)

// setSpeed sets 115200 baud, which the BSDs keep in the speed fields
// alone, as the number itself.
func setSpeed(t *unix.Termios) {
	t.Ispeed, t.Ospeed = unix.B115200, unix.B115200
}
