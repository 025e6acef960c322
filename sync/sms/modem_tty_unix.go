//go:build linux || darwin || freebsd

package sms

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// openSerial opens a serial device raw at 115200 8N1. O_NONBLOCK keeps
// the open from waiting for a carrier the modem never raises, and puts
// the file under Go's poller, so that closing it ends a pending read;
// O_NOCTTY keeps the device from becoming our controlling terminal.
func openSerial(path string) (io.ReadWriteCloser, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open modem: %w", err)
	}
	if err := makeRaw(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("set modem %s raw at 115200 8N1: %w", path, err)
	}
	return f, nil
}

// makeRaw sets the terminal raw (as cfmakeraw does), 8 data bits, no
// parity, one stop bit, no flow control, modem control lines ignored,
// 115200 baud; a read returns as soon as one octet is there.
func makeRaw(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ioErr error
	if err := rc.Control(func(fd uintptr) {
		t, err := unix.IoctlGetTermios(int(fd), getTermios)
		if err != nil {
			ioErr = err
			return
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR |
			unix.ICRNL | unix.IXON | unix.IXOFF
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CSTOPB | unix.CRTSCTS
		t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
		setSpeed(t)
		ioErr = unix.IoctlSetTermios(int(fd), setTermios, t)
	}); err != nil {
		return err
	}
	return ioErr
}
