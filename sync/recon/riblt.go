package recon

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// Coded reconciliation: a rateless invertible Bloom lookup table (Yang,
// Gilad and Alizadeh, "Practical Rateless Set Reconciliation", SIGCOMM
// 2024).
//
// Each item is mapped to an infinite, pseudo-random, increasing sequence
// of coded-symbol indices: index 0 always, and every later index i with
// probability 2/(i+2), independently. A coded symbol is the XOR of the IDs
// of the items mapped to it, the XOR of their 32-bit checksums and their
// count mod 256. Subtracting the peer's symbols from one's own (XOR, and
// count difference mod 256) leaves the symbols of the symmetric
// difference, which peeling decodes once there are about 1.35 to 2 times
// as many symbols as differences: a symbol whose count is ±1 and whose
// checksum is that of its key holds exactly one item; removing that item
// from every symbol it is mapped to exposes more such symbols. Symbols
// form a prefix code, so the encoder streams more of them until the
// decoder succeeds.
//
// Everything here is integer arithmetic on fixed keys (math.Sqrt only
// seeds an exact integer search), so both peers, on any architecture,
// compute the same symbols. Floating point appears only in the
// estimates of sketch.go, which one side computes for itself.

const (
	// symbolSize is a coded symbol on the wire: key (32 bytes), checksum
	// (4, little-endian) and count mod 256 (1).
	symbolSize = 32 + 4 + 1

	// maxSymbols bounds every coded-symbol index (and symbolCap).
	maxSymbols = 1 << 24

	// Hash keys: arbitrary odd constants, fixed by the wire format.
	keySeed = 0x6a09e667f3bcc909 // item → mapping seed
	keyAux  = 0xbb67ae8584caa73b // item → checksum (low 32 bits), sketch (high 32)

	noIndex = math.MaxUint64
)

// fmix64 is the SplitMix64 finalizer, a bijection on uint64.
func fmix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// hashID is a keyed 64-bit hash of an ID: fmix64 chained over its four
// little-endian 64-bit limbs. IDs that differ in one limb never collide.
func hashID(id *[32]byte, key uint64) uint64 {
	h := key
	h = fmix64(h ^ binary.LittleEndian.Uint64(id[0:]))
	h = fmix64(h ^ binary.LittleEndian.Uint64(id[8:]))
	h = fmix64(h ^ binary.LittleEndian.Uint64(id[16:]))
	h = fmix64(h ^ binary.LittleEndian.Uint64(id[24:]))
	return h
}

// checksum is an item's 32-bit checksum in coded symbols.
func checksum(id *[32]byte) uint32 { return uint32(hashID(id, keyAux)) }

// mapping walks one item's coded-symbol indices.
type mapping struct {
	rng uint64 // SplitMix64 state
	idx uint64 // current index; noIndex when past maxSymbols
}

func newMapping(id *[32]byte) mapping { return mapping{rng: hashID(id, keySeed)} }

// next advances to the item's next index and returns it (noIndex when it
// would reach maxSymbols). Given the current index i, the next index is
// the smallest j > i with (j+1)(j+2) > (i+1)(i+2)·2^64/r for a uniform
// 64-bit r, so P(next > j) = (i+1)(i+2)/((j+1)(j+2)): each index j is
// included with probability 2/(j+2), independently.
func (m *mapping) next() uint64 {
	if m.idx >= maxSymbols {
		m.idx = noIndex
		return noIndex
	}
	m.rng += 0x9e3779b97f4a7c15
	r := fmix64(m.rng)
	i := m.idx
	p := (i + 1) * (i + 2) // i < 2^24: no overflow
	if p >= r {
		m.idx = noIndex // the next index is at least 2^32
		return noIndex
	}
	q, _ := bits.Div64(p, 0, r) // floor(p·2^64 / r)
	j := i + 1
	// math.Sqrt is exact to half an ulp, so s-3 lies below the answer;
	// the loop then finds it with exact integer comparisons.
	if s := uint64(math.Sqrt(float64(q))); s > j+3 {
		j = s - 3
	}
	for {
		hi, lo := bits.Mul64(j+1, j+2)
		if hi > 0 || lo > q {
			break
		}
		j++
	}
	if j >= maxSymbols {
		j = noIndex
	}
	m.idx = j
	return j
}

// symbol is one coded symbol.
type symbol struct {
	key [4]uint64 // XOR of IDs, as little-endian limbs
	chk uint32    // XOR of checksums
	cnt uint8     // item count mod 256 (a difference: sender's minus receiver's)
}

func (s *symbol) isZero() bool {
	return s.cnt == 0 && s.chk == 0 && s.key == [4]uint64{}
}

// toggle XORs an item (ID limbs k, checksum c) into s and adds sign to
// its count.
func (s *symbol) toggle(k *[4]uint64, c uint32, sign uint8) {
	s.key[0] ^= k[0]
	s.key[1] ^= k[1]
	s.key[2] ^= k[2]
	s.key[3] ^= k[3]
	s.chk ^= c
	s.cnt += sign
}

func limbs(id *[32]byte) [4]uint64 {
	return [4]uint64{
		binary.LittleEndian.Uint64(id[0:]),
		binary.LittleEndian.Uint64(id[8:]),
		binary.LittleEndian.Uint64(id[16:]),
		binary.LittleEndian.Uint64(id[24:]),
	}
}

func limbsID(k *[4]uint64) (id [32]byte) {
	binary.LittleEndian.PutUint64(id[0:], k[0])
	binary.LittleEndian.PutUint64(id[8:], k[1])
	binary.LittleEndian.PutUint64(id[16:], k[2])
	binary.LittleEndian.PutUint64(id[24:], k[3])
	return id
}

// symbolStream produces a set's coded symbols batch after batch,
// keeping each item's position in its mapping so that a batch costs only
// the indices in it: O(n (1 + log(hi/lo))) time for [lo, hi), and 12
// bytes per item of memory from the first batch on.
type symbolStream struct {
	set  *Set
	m    []mapping
	chk  []uint32
	next uint64 // first symbol of the next batch
}

// symbols returns the symbols [next, hi) and advances next to hi.
func (st *symbolStream) symbols(hi uint64) []symbol {
	items := st.set.items
	if st.m == nil {
		st.m = make([]mapping, len(items))
		st.chk = make([]uint32, len(items))
		for i := range items {
			st.m[i] = newMapping(&items[i].ID)
			st.chk[i] = checksum(&items[i].ID)
		}
	}
	lo := st.next
	out := make([]symbol, hi-lo)
	for i := range items {
		m := &st.m[i]
		if m.idx >= hi {
			continue
		}
		k := limbs(&items[i].ID)
		for j := m.idx; j < hi; j = m.next() {
			out[j-lo].toggle(&k, st.chk[i], 1)
		}
	}
	st.next = hi
	return out
}

// symbolCap is the most coded symbols a session exchanges for sets of na
// and nb items. Peeling decodes a difference of d items from well under
// 2d+64 symbols, so an honest decoder that has not succeeded by then
// gives up and falls back to ranges.
func symbolCap(na, nb int) uint64 {
	return min(2*(uint64(na)+uint64(nb))+64, maxSymbols)
}

// decItem is an item peeled out of the difference.
type decItem struct {
	key  [4]uint64
	chk  uint32
	sign uint8   // 1: only in the encoder's set; 255 (-1): only in the decoder's
	m    mapping // positioned at the item's first index >= len(decoder.sym)
}

// decoder peels the symbols of a difference as they arrive.
type decoder struct {
	sym     []symbol // difference symbols [0, len), decoded items removed
	empty   []bool   // whether each difference symbol arrived empty
	nonzero int      // symbols in sym that are not zero
	items   []decItem
	seen    map[[4]uint64]struct{}
	queue   []uint64
	failed  bool // inconsistent: decoding cannot succeed
}

// done reports whether the whole difference is decoded.
func (d *decoder) done() bool { return !d.failed && d.nonzero == 0 }

// add appends the difference symbols [len(sym), len(sym)+len(diff)),
// removes the items already decoded from them, and peels.
func (d *decoder) add(diff []symbol) {
	if d.failed {
		return
	}
	lo := uint64(len(d.sym))
	d.sym = append(d.sym, diff...)
	for k := range diff {
		d.empty = append(d.empty, diff[k].isZero())
	}
	hi := uint64(len(d.sym))
	for k := range d.items {
		it := &d.items[k]
		for j := it.m.idx; j < hi; j = it.m.next() {
			d.sym[j].toggle(&it.key, it.chk, -it.sign)
		}
	}
	for j := lo; j < hi; j++ {
		if !d.sym[j].isZero() {
			d.nonzero++
			d.queue = append(d.queue, j)
		}
	}
	d.peel()
}

// pure reports whether symbol j holds exactly one item: count ±1, the
// checksum of its key, and j among that key's indices.
func (d *decoder) pure(j uint64) bool {
	s := &d.sym[j]
	if s.cnt != 1 && s.cnt != 255 {
		return false
	}
	id := limbsID(&s.key)
	if checksum(&id) != s.chk {
		return false
	}
	if j == 0 {
		return true
	}
	m := newMapping(&id)
	for m.idx < j {
		m.next()
	}
	return m.idx == j
}

func (d *decoder) peel() {
	n := uint64(len(d.sym))
	for len(d.queue) > 0 && !d.failed {
		j := d.queue[len(d.queue)-1]
		d.queue = d.queue[:len(d.queue)-1]
		if !d.pure(j) {
			continue
		}
		s := d.sym[j]
		if _, dup := d.seen[s.key]; dup || uint64(len(d.items)) >= n {
			// An item cannot be in the difference twice, nor can honest
			// symbols yield more items than there are symbols.
			d.failed = true
			return
		}
		if d.seen == nil {
			d.seen = map[[4]uint64]struct{}{}
		}
		d.seen[s.key] = struct{}{}
		id := limbsID(&s.key)
		it := decItem{key: s.key, chk: s.chk, sign: s.cnt, m: newMapping(&id)}
		for i := uint64(0); i < n; i = it.m.next() {
			t := &d.sym[i]
			was := !t.isZero()
			t.toggle(&it.key, it.chk, -it.sign)
			switch now := !t.isZero(); {
			case was && !now:
				d.nonzero--
			case !was && now:
				d.nonzero++
			}
			if i != j && (t.cnt == 1 || t.cnt == 255) {
				d.queue = append(d.queue, i)
			}
		}
		d.items = append(d.items, it)
	}
}
