package reconsets

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// The pairs have the sizes and differences the doc comments promise, and
// newest differences are newer than every shared item.
func TestMake(t *testing.T) {
	for _, c := range Cases([]int{10, 1000}, []int{0, 1, 5, 100}) {
		p := Make(c, 7)
		if len(p.A) != c.N || len(p.B) != c.N-c.D%2 || len(p.OnlyA) != (c.D+1)/2 || len(p.OnlyB) != c.D/2 {
			t.Fatalf("%+v: |A|=%d |B|=%d |A\\B|=%d |B\\A|=%d", c, len(p.A), len(p.B), len(p.OnlyA), len(p.OnlyB))
		}
		inB := map[Item]bool{}
		for _, it := range p.B {
			inB[it] = true
		}
		shared := 0
		for _, it := range p.A {
			if inB[it] {
				shared++
			}
		}
		if shared != c.N-(c.D+1)/2 {
			t.Errorf("%+v: %d shared items", c, shared)
		}
		if c.Newest {
			for _, it := range append(p.OnlyA, p.OnlyB...) {
				if it.Time < T0+span {
					t.Errorf("%+v: a newest difference at %d", c, it.Time)
				}
			}
		}
	}
	if cs := Cases([]int{10}, []int{1, 6}); len(cs) != 2 {
		t.Errorf("d > N/2 not left out: %v", cs)
	}
}

// The generator draws the same sets as when the benchmark's published
// numbers were measured: a change here makes old and new results
// incomparable, so it has to be deliberate.
func TestMakeUnchanged(t *testing.T) {
	h := sha256.New()
	for _, c := range []Case{{1000, 10, false}, {1000, 10, true}} {
		p := Make(c, 20261125)
		for _, side := range [][]Item{p.A, p.B} {
			for _, it := range side {
				h.Write(binary.BigEndian.AppendUint64(nil, it.Time))
				h.Write(it.ID[:])
			}
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != "6fe8c395d3c1b5daecc9c921ee9cd631ceec04042537f2e6940e79e281910de4" {
		t.Errorf("generator output changed: %s", got)
	}
}
