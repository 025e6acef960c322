// Package reconsets builds the pairs of item sets the reconciliation
// benchmarks run on: vigil-bench's recon group (Vigil's sync/recon) and
// bench/negentropy (go-nostr's reference Negentropy). Both take their
// sets and their list of cases from here, so the two cannot drift apart.
//
// The package is standard library only, so that the benchmark-only
// module in bench/negentropy can import it without pulling in Vigil's
// dependencies.
package reconsets

import (
	"math/rand/v2"
)

// T0 is the earliest claimed time of an item, in Unix milliseconds.
const T0 = 1_700_000_000_000

const (
	day  = 24 * 3600 * 1000 // ms
	span = 30 * day         // claimed times of shared and scattered items
)

// Item is one element of a set: a claimed time in Unix milliseconds and
// a 32-byte ID. It has the layout of sync/recon.Item, so a
// recon.Item(it) conversion takes it over.
type Item struct {
	Time uint64
	ID   [32]byte
}

// Pair is two sets that differ by D items: A holds N items and B holds
// N − D mod 2 (the odd difference is A's).
type Pair struct {
	// A and B in the order the generator drew them (not sorted): the
	// shared items first, then each side's own.
	A, B []Item
	// OnlyA and OnlyB are the differences: (D+1)/2 items only in A and
	// D/2 only in B.
	OnlyA, OnlyB []Item
}

// Case is one measured case: sets of N items differing by D, the
// differences scattered or all among the newest.
type Case struct {
	N, D   int
	Newest bool
}

// Pattern names where the differences lie: "scattered" or "newest".
func (c Case) Pattern() string {
	if c.Newest {
		return "newest"
	}
	return "scattered"
}

// Cases lists every case for the given sizes and difference counts, in
// the order the benchmarks run them: by N, then d, scattered before
// newest. A d above N/2 is left out.
func Cases(ns, ds []int) []Case {
	var cs []Case
	for _, n := range ns {
		for _, d := range ds {
			if d > n/2 {
				continue
			}
			cs = append(cs, Case{n, d, false}, Case{n, d, true})
		}
	}
	return cs
}

// Make builds the pair for c from seed: N − ⌈D/2⌉ shared items, then the
// D differences, alternately only in A and only in B (A first).
// Scattered differences have random claimed times over 30 days, as the
// shared items do; newest ones are newer than every shared item (recent
// reports not yet synced). IDs are random, as record hashes are. The
// same (c, seed) always gives the same pair.
func Make(c Case, seed uint64) Pair {
	n, d := c.N, c.D
	rng := rand.New(rand.NewPCG(seed^uint64(n), uint64(d)))
	item := func(newer bool) Item {
		var it Item
		for k := 0; k < 32; k += 8 {
			v := rng.Uint64()
			for j := range 8 {
				it.ID[k+j] = byte(v >> (8 * j))
			}
		}
		it.Time = T0 + uint64(rng.IntN(span))
		if newer {
			it.Time += span + day
		}
		return it
	}
	shared := n - (d+1)/2
	p := Pair{A: make([]Item, 0, n), B: make([]Item, 0, n)}
	for range shared {
		it := item(false)
		p.A, p.B = append(p.A, it), append(p.B, it)
	}
	for k := range d {
		it := item(c.Newest)
		if k%2 == 0 {
			p.A, p.OnlyA = append(p.A, it), append(p.OnlyA, it)
		} else {
			p.B, p.OnlyB = append(p.B, it), append(p.OnlyB, it)
		}
	}
	return p
}

// Sizes returns the set sizes and difference counts the benchmarks use:
// N = 10k and 100k (and 1M when large) with d = 1, 10, 100, 1000; quick
// mode (tiny sizes, for make test) N = 1k and 10k with d = 1, 10, 100.
func Sizes(quick, large bool) (ns, ds []int) {
	if quick {
		return []int{1000, 10_000}, []int{1, 10, 100}
	}
	ns, ds = []int{10_000, 100_000}, []int{1, 10, 100, 1000}
	if large {
		ns = append(ns, 1_000_000)
	}
	return ns, ds
}

// NegentropyOutcome is what bench/negentropy prints for one case, one JSON
// line each: go-nostr's Negentropy reconciling the case's two sets.
type NegentropyOutcome struct {
	N           int    `json:"N"`
	D           int    `json:"d"`
	Pattern     string `json:"pattern"`
	BytesClient int    `json:"bytes_client"`
	BytesServer int    `json:"bytes_server"`
	Bytes       int    `json:"bytes"`
	RoundTrips  int    `json:"round_trips"`
	Messages    int    `json:"messages"`
	// MaxMessage is the largest single message, to compare with the
	// frame size limit.
	MaxMessage int  `json:"max_message"`
	Found      int  `json:"found"`
	Exact      bool `json:"exact"`
	FrameLimit int  `json:"frame_size_limit"`
	// Impl names the module and version that ran, from the build info.
	Impl string `json:"impl"`
}
