//go:build !linux && !darwin && !freebsd

package sms

import (
	"fmt"
	"io"
	"runtime"
)

// openSerial is not written for this system: a modem still works through
// NewModem over a port opened by other means.
func openSerial(path string) (io.ReadWriteCloser, error) {
	return nil, fmt.Errorf("open modem %s: serial devices are not supported on %s; use the SMS-gateway app instead", path, runtime.GOOS)
}
