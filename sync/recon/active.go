package recon

import "math/bits"

// activeView is a session's view of its Set with some regions excluded.
//
// Once a range's difference has been learned (an IdList for it was
// processed), both sides exclude their items in that range from every
// later fingerprint, count and IdList. This keeps a range that is already
// settled, but still differs, from being reported again when a later
// range covers it (which happens when a side defers the rest of a message
// as one [cut, +∞) range under MaxMessageBytes). Both sides exclude exactly
// the same regions before comparing any fingerprint; see Session.settle.
//
// Until the first exclusion every query is O(1) on the Set's prefix sums;
// afterwards Fenwick trees over the excluded items make them O(log n).
type activeView struct {
	s *Set
	n int
	// All nil until the first exclusion.
	cnt []int32 // Fenwick tree (1-based) of excluded counts
	sum []u256  // Fenwick tree (1-based) of excluded ID sums
	nxt []int32 // union-find: nxt[i] leads to the first active index >= i
	top int     // highest power of two <= n
}

func newActiveView(s *Set) activeView {
	return activeView{s: s, n: len(s.items)}
}

// exPrefix returns the count and sum of excluded items among [0, i).
func (v *activeView) exPrefix(i int) (int, u256) {
	var c int
	var s u256
	for ; i > 0; i &= i - 1 {
		c += int(v.cnt[i])
		s = s.add(v.sum[i])
	}
	return c, s
}

// count returns the number of active items among indices [i, j).
func (v *activeView) count(i, j int) int {
	if v.nxt == nil {
		return j - i
	}
	ci, _ := v.exPrefix(i)
	cj, _ := v.exPrefix(j)
	return (j - i) - (cj - ci)
}

// fingerprint returns the fingerprint of the active items among [i, j).
func (v *activeView) fingerprint(i, j int) [fpSize]byte {
	sum := v.s.pre[j].sub(v.s.pre[i])
	n := j - i
	if v.nxt != nil {
		ci, si := v.exPrefix(i)
		cj, sj := v.exPrefix(j)
		sum = sum.sub(sj.sub(si))
		n -= cj - ci
	}
	return fingerprint(sum, n)
}

// rank returns the number of active items before index i.
func (v *activeView) rank(i int) int {
	if v.nxt == nil {
		return i
	}
	c, _ := v.exPrefix(i)
	return i - c
}

// selectRank returns the index of the active item of rank r (0-based).
// r must be below the number of active items.
func (v *activeView) selectRank(r int) int {
	if v.nxt == nil {
		return r
	}
	// Largest pos with (active items among [0, pos)) <= r.
	pos := 0
	for step := v.top; step > 0; step >>= 1 {
		if p := pos + step; p <= v.n {
			if a := step - int(v.cnt[p]); a <= r {
				pos = p
				r -= a
			}
		}
	}
	return pos
}

// next returns the first active index >= i, or n.
func (v *activeView) next(i int) int {
	if v.nxt == nil || i >= v.n {
		return i
	}
	root := i
	for int(v.nxt[root]) != root {
		root = int(v.nxt[root])
	}
	for i != root { // path compression
		n := int(v.nxt[i])
		v.nxt[i] = int32(root)
		i = n
	}
	return root
}

// exclude removes the active items among [i, j) from the view.
func (v *activeView) exclude(i, j int) {
	if i >= j {
		return
	}
	if v.nxt == nil {
		v.cnt = make([]int32, v.n+1)
		v.sum = make([]u256, v.n+1)
		v.nxt = make([]int32, v.n+1)
		for k := range v.nxt {
			v.nxt[k] = int32(k)
		}
		if v.n > 0 {
			v.top = 1 << (bits.Len(uint(v.n)) - 1)
		}
	}
	for k := v.next(i); k < j; k = v.next(k + 1) {
		v.nxt[k] = int32(k + 1)
		val := idValue(&v.s.items[k].ID)
		for p := k + 1; p <= v.n; p += p & -p {
			v.cnt[p]++
			v.sum[p] = v.sum[p].add(val)
		}
	}
}
