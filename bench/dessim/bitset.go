package dessim

import (
	"iter"
	"math/bits"
)

// bitset marks records by index. Bytes rather than words, so a node's
// held records convert to a map key (string(b)) without a copy for the
// lookup: nodes holding the same records share one recon.Set.
type bitset []byte

func bitsetLen(n int) int { return (n + 7) / 8 }

func (b bitset) has(i int32) bool { return b[i/8]&(1<<(i%8)) != 0 }

// set marks i and reports whether it was unmarked.
func (b bitset) set(i int32) bool {
	if b.has(i) {
		return false
	}
	b[i/8] |= 1 << (i % 8)
	return true
}

// all yields the marked indexes in increasing order.
func (b bitset) all() iter.Seq[int32] {
	return func(yield func(int32) bool) {
		for w, x := range b {
			for x != 0 {
				k := bits.TrailingZeros8(x)
				x &= x - 1
				if !yield(int32(8*w + k)) {
					return
				}
			}
		}
	}
}
