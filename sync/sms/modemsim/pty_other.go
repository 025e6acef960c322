//go:build !unix

package modemsim

import (
	"fmt"
	"runtime"
)

// openPTY has no pseudo-terminal to open on this system.
func openPTY() (*pty, error) {
	return nil, fmt.Errorf("pseudo-terminals are not supported on %s", runtime.GOOS)
}
