package incident

import (
	"bytes"
	"crypto/sha256"
	"sort"
)

// SetRoot is the Merkle root of a set of record IDs, as checkpoints sign
// it: the IDs sorted bytewise, leaves SHA-256(0x00 || id), inner nodes
// SHA-256(0x01 || left || right), an odd node carried up unchanged; the
// empty set's root is SHA-256 of nothing. docs/evidence-format.md states
// the same rule for third parties.
func SetRoot(ids []ID) [32]byte {
	if len(ids) == 0 {
		return sha256.Sum256(nil)
	}
	sorted := append([]ID(nil), ids...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i][:], sorted[j][:]) < 0 })
	level := make([][32]byte, 0, len(sorted))
	for i, id := range sorted {
		if i > 0 && id == sorted[i-1] {
			continue // a set: duplicates count once
		}
		level = append(level, sha256.Sum256(append([]byte{0}, id[:]...)))
	}
	for len(level) > 1 {
		next := make([][32]byte, 0, (len(level)+1)/2)
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			buf := make([]byte, 0, 65)
			buf = append(buf, 1)
			buf = append(buf, level[i][:]...)
			buf = append(buf, level[i+1][:]...)
			next = append(next, sha256.Sum256(buf))
		}
		level = next
	}
	return level[0]
}
