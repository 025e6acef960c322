//go:build linux

package sms

import "golang.org/x/sys/unix"

// The termios requests of Linux.
const (
	getTermios = unix.TCGETS
	setTermios = unix.TCSETS
)

// setSpeed sets 115200 baud, which Linux keeps in c_cflag's CBAUD bits
// as well as in the speed fields.
func setSpeed(t *unix.Termios) {
	t.Cflag &^= unix.CBAUD
	t.Cflag |= unix.B115200
	t.Ispeed, t.Ospeed = unix.B115200, unix.B115200
}
