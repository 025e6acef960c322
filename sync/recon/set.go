// Package recon reconciles two sets of items for Vigil's anti-entropy:
// range-based reconciliation in the style of Negentropy (NIP-77),
// preceded by a coded phase built on a rateless invertible Bloom lookup
// table (Yang, Gilad and Alizadeh, "Practical Rateless Set
// Reconciliation", 2024).
//
// Two peers each hold a set of items ordered by (Time, ID).
//
// The coded phase. The initiator opens with its item count, a 16-byte
// fingerprint of its whole set and its first 6 coded symbols (see
// riblt.go). The responder subtracts its own symbols and peels; a
// difference of 0, 1 or (mostly) 2 items decodes at once. Otherwise it
// answers with a sketch of its set, from which the initiator estimates
// the size d of the difference (sketch.go), and with probes: bounds below
// its newest 16, 22, 32, 45, ... items, each with a short fingerprint of
// the items below it. The initiator then sends whichever costs least:
// its IDs above the highest probe whose fingerprint it matches (a Tail,
// when the difference is all among the newest items), or about 1.6·d
// more coded symbols, which the responder decodes, asking for more if
// they fall short. Before it accepts a decoded difference or a Tail, the
// responder checks that its own set corrected by it has the initiator's
// whole-set fingerprint, so a false "pure" symbol or a colliding probe
// does not lose or invent a difference (barring a collision of that
// fingerprint): the responder falls back to ranges instead.
// A difference of d items costs about 60·d bytes plus 1 KB in two round
// trips, wherever the items are; a difference among the newest items costs
// about 32 bytes per item on the initiator's side.
//
// The range phase, which either side may start instead of continuing
// the coded phase (the initiator starts with it when it holds at most
// IDListThreshold items, or with Config.RangeOnly; either side falls back
// to it when the difference is too large for coding to pay or cannot be
// decoded). Peers exchange messages made of contiguous ranges over the
// order. Each range is sent as Skip (nothing to do), Fingerprint (a
// 16-byte digest of the sender's items in the range) or IdList (the
// sender's IDs in the range, sent when it holds few of them). A receiver
// that finds a fingerprint different from its own splits the range into
// Branch sub-ranges, or answers with its IdList when its count is at most
// IDListThreshold. A receiver of an IdList computes the difference for
// that range in both directions and answers Skip.
//
// The package is pure computation over sorted IDs: it does no I/O, keeps no
// clocks and imports only the standard library, so the stream protocol in
// sync/mesh wraps it and tests and fuzzes it on its own.
//
// # Who learns what
//
// Each part of the difference is learned by exactly one side, which
// learns it both ways: Have gets its own IDs the peer lacks, Need gets
// the peer's IDs it lacks. In the coded phase that side is the responder,
// for the whole set: it decodes the symbols, or compares the initiator's
// Tail with its own items. In the range phase it is, for each range, the
// side that receives (and processes) the peer's IdList for that range;
// the side that sent the IdList learns nothing about that range. Across
// both sessions of one reconciliation, therefore,
//
//	initiator.Have() ∪ responder.Need() = initiator's set \ responder's set
//	initiator.Need() ∪ responder.Have() = responder's set \ initiator's set
//
// and the two operands of each union are disjoint. Either side may end up
// with empty lists (the initiator does whenever the coded phase settles
// the difference). For both peers to end with the union of the two sets,
// the protocol layer on EACH side must push the records named by its own
// Have to the peer and request the records named by its own Need from the
// peer, and must serve the peer's requests and accept the peer's pushes.
// Neither side may rely on the other side's lists alone.
//
// IDs are assumed to determine their timestamps (Vigil's record ID commits
// to the claimed time): fingerprints, coded symbols and IdLists compare
// IDs. If one side holds an ID under a timestamp different from the
// peer's, that difference may go unreported, or the ID may show in Need
// although this side holds it under the other timestamp.
package recon

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"slices"
	"sort"
)

// Item is one element of a reconciled set: a record's claimed time and its
// 32-byte ID. Items are ordered by Time, then by ID bytes.
type Item struct {
	Time uint64
	ID   [32]byte
}

func compareItems(a, b Item) int {
	switch {
	case a.Time < b.Time:
		return -1
	case a.Time > b.Time:
		return 1
	}
	return bytes.Compare(a.ID[:], b.ID[:])
}

// u256 is an unsigned 256-bit integer as four little-endian 64-bit limbs.
type u256 [4]uint64

func (a u256) add(b u256) u256 {
	var c uint64
	a[0], c = bits.Add64(a[0], b[0], 0)
	a[1], c = bits.Add64(a[1], b[1], c)
	a[2], c = bits.Add64(a[2], b[2], c)
	a[3], _ = bits.Add64(a[3], b[3], c)
	return a
}

func (a u256) sub(b u256) u256 {
	var c uint64
	a[0], c = bits.Sub64(a[0], b[0], 0)
	a[1], c = bits.Sub64(a[1], b[1], c)
	a[2], c = bits.Sub64(a[2], b[2], c)
	a[3], _ = bits.Sub64(a[3], b[3], c)
	return a
}

// idValue reads an ID as a little-endian 256-bit integer.
func idValue(id *[32]byte) u256 {
	return u256{
		binary.LittleEndian.Uint64(id[0:]),
		binary.LittleEndian.Uint64(id[8:]),
		binary.LittleEndian.Uint64(id[16:]),
		binary.LittleEndian.Uint64(id[24:]),
	}
}

// fingerprint is SHA-256(sum as 32 little-endian bytes || uvarint(count))
// truncated to 16 bytes; sum is the sum of the IDs mod 2^256.
func fingerprint(sum u256, count int) [fpSize]byte {
	var buf [32 + binary.MaxVarintLen64]byte
	for k := range 4 {
		binary.LittleEndian.PutUint64(buf[8*k:], sum[k])
	}
	n := binary.PutUvarint(buf[32:], uint64(count))
	h := sha256.Sum256(buf[:32+n])
	var fp [fpSize]byte
	copy(fp[:], h[:fpSize])
	return fp
}

// Set is an immutable, sorted snapshot of items (by Time, then ID bytes)
// with prefix sums of the IDs, so that the fingerprint of any contiguous run
// of items costs O(1) after O(n) setup. A Set is safe for concurrent use by
// any number of sessions.
type Set struct {
	items []Item
	pre   []u256 // pre[i] is the sum of items[:i]'s IDs mod 2^256
}

// NewSet sorts a copy of items and drops exact duplicates (same Time and
// ID). The caller keeps ownership of items. Items with the same ID and
// different times are kept as distinct items.
func NewSet(items []Item) *Set { return NewSetOwned(slices.Clone(items)) }

// NewSetOwned is NewSet for a slice the caller hands over: it is sorted
// and kept, not copied (a snapshot of a million records is 40 MB an
// item slice; the caller must not use it afterwards).
func NewSetOwned(its []Item) *Set {
	slices.SortFunc(its, compareItems)
	its = slices.Compact(its)
	pre := make([]u256, len(its)+1)
	for i := range its {
		pre[i+1] = pre[i].add(idValue(&its[i].ID))
	}
	return &Set{items: its, pre: pre}
}

// At returns the i-th item in the set's order (by Time, then ID bytes),
// for 0 <= i < Len(): the protocol layer walks the set it offered, in that
// order, to send records without a second copy of it.
func (s *Set) At(i int) Item { return s.items[i] }

// Len returns the number of distinct items. A nil Set is empty.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.items)
}

// lowerIndex returns the index of the first item >= b, searching from.
func (s *Set) lowerIndex(b *bound, from int) int {
	if b.inf {
		return len(s.items)
	}
	return from + sort.Search(len(s.items)-from, func(k int) bool {
		return !itemBefore(&s.items[from+k], b)
	})
}
