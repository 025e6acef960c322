//go:build unix

package store

import (
	"io/fs"
	"syscall"
)

// diskSize is the space fi takes on disk (its allocated blocks).
func diskSize(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Blocks) * 512
	}
	return uint64(fi.Size())
}
