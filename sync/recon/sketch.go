package recon

import "math"

// The difference estimator. When the first coded symbols do not decode,
// the responder sends a sketch of its set and the initiator compares it
// with the same sketch of its own set to estimate the size d of the
// symmetric difference, and so how many coded symbols to send next.
//
// A sketch has 2^logm buckets of `levels` one-byte cells. An item's
// auxiliary hash picks its bucket, its level (level j with probability
// 2^-(j+1); the last level takes the tail) and the byte it XORs into that
// cell. A cell differs between two sketches (up to a 2^-8 collision) iff
// some item of the difference falls into it: with d differences that
// happens with probability 1 - exp(-d·q) for the cell's share q of the
// items. The estimate is the maximum-likelihood d given which cells
// differ. With 32 buckets it is within about ±12% (one standard
// deviation) of d for any d from 1 to about 2^levels·32.

const (
	sketchLogBuckets = 5 // 32 buckets
	maxSketchLog     = 6
	sketchCollision  = 1.0 / 256
)

// sketchLevels is the number of levels used for sets of na and nb items:
// enough that the last level holds a difference of na+nb items in about
// one cell per bucket.
func sketchLevels(logm, na, nb int) int {
	per := (na + nb) >> logm
	l := 2
	for per > 1 && l < 24-logm+1 {
		per >>= 1
		l++
	}
	return l
}

// sketchCell returns the cell index and byte of an item.
func sketchCell(id *[32]byte, logm, levels int) (int, byte) {
	a := uint32(hashID(id, keyAux) >> 32)
	b := int(a) & (1<<logm - 1)
	rest := a>>logm | 1<<(24-logm)
	lvl := 0
	for rest&1 == 0 {
		rest >>= 1
		lvl++
	}
	lvl = min(lvl, levels-1)
	return b*levels + lvl, byte(a >> 24)
}

// sketch computes the set's sketch.
func (s *Set) sketch(logm, levels int) []byte {
	out := make([]byte, levels<<logm)
	for i := range s.items {
		k, v := sketchCell(&s.items[i].ID, logm, levels)
		out[k] ^= v
	}
	return out
}

// estimateDiff returns the maximum-likelihood size of the symmetric
// difference given two sketches with the same shape, between lo and hi.
func estimateDiff(a, b []byte, logm, levels int, lo, hi float64) float64 {
	m := 1 << logm
	diff := make([]int, levels) // differing cells per level
	for k := range a {
		if a[k] != b[k] {
			diff[k%levels]++
		}
	}
	share := func(j int) float64 { // an item's probability of a given cell at level j
		if j == levels-1 {
			return math.Ldexp(1, -j) / float64(m)
		}
		return math.Ldexp(1, -(j+1)) / float64(m)
	}
	ll := func(d float64) float64 {
		var s float64
		for j := range levels {
			p0 := math.Exp(-d * share(j)) // no difference in the cell
			eq := p0 + sketchCollision*(1-p0)
			s += float64(m-diff[j])*math.Log(eq) + float64(diff[j])*math.Log(1-eq)
		}
		return s
	}
	return maximize(ll, lo, hi)
}

// maximize returns the d in [lo, hi] that maximizes ll, to about 0.1%:
// a grid in log space, then a finer grid around the best point.
func maximize(ll func(float64) float64, lo, hi float64) float64 {
	if hi <= lo {
		return lo
	}
	const steps = 128
	best, bestLL := lo, math.Inf(-1)
	for range 2 {
		step := math.Pow(hi/lo, 1.0/steps)
		for k := 0; k <= steps; k++ {
			d := lo * math.Pow(step, float64(k))
			if v := ll(d); v > bestLL {
				best, bestLL = d, v
			}
		}
		lo, hi = max(lo, best/step), min(hi, best*step)
	}
	return best
}

// estimateFromSymbols returns the maximum-likelihood size of a difference
// given which of its first coded symbols are empty (symbol j >= 1 holds
// each item with probability 2/(j+2)), and the number of empty symbols it
// rests on. With few empty symbols the estimate means little.
func estimateFromSymbols(empty []bool) (float64, int) {
	type bin struct {
		q        float64 // mean log(1 - 2/(j+2)) over the bin
		n, empty float64
	}
	const width = 32
	var bins []bin
	total := 0
	for j := 1; j < len(empty); j += width {
		var b bin
		for k := j; k < min(j+width, len(empty)); k++ {
			b.q += math.Log1p(-2 / float64(k+2))
			b.n++
			if empty[k] {
				b.empty++
				total++
			}
		}
		b.q /= b.n
		bins = append(bins, b)
	}
	ll := func(d float64) float64 {
		var s float64
		for _, b := range bins {
			s += b.empty*d*b.q + (b.n-b.empty)*math.Log(-math.Expm1(d*b.q))
		}
		return s
	}
	return maximize(ll, 1, 4*float64(len(empty)+1)), total
}
