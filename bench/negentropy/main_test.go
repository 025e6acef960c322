package main

import (
	"testing"

	"github.com/vigil-mesh/vigil/bench/reconsets"
)

// go-nostr's Negentropy finds exactly the planted differences on the
// benchmark's sets, and the counts add up.
func TestRunFindsDifferences(t *testing.T) {
	for _, newest := range []bool{false, true} {
		for _, d := range []int{0, 1, 7, 100} {
			c := reconsets.Case{N: 2000, D: d, Newest: newest}
			o, err := run(c, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !o.Exact || o.Found != d {
				t.Errorf("%s d=%d: exact=%v, found %d", c.Pattern(), d, o.Exact, o.Found)
			}
			if o.RoundTrips < 1 || o.Messages != 2*o.RoundTrips || o.Bytes != o.BytesClient+o.BytesServer || o.BytesServer <= 0 {
				t.Errorf("%s d=%d: %+v", c.Pattern(), d, o)
			}
		}
	}
}

// A set that differs from the other by an ID the other holds is caught:
// the check is not vacuous.
func TestSameIDs(t *testing.T) {
	var a, b reconsets.Item
	a.ID[0], b.ID[0] = 1, 2
	want := []reconsets.Item{a}
	if !sameIDs([]string{hexID(a)}, want) {
		t.Error("same IDs not recognised")
	}
	if sameIDs([]string{hexID(b)}, want) || sameIDs(nil, want) || sameIDs([]string{hexID(a), hexID(a)}, []reconsets.Item{a, b}) {
		t.Error("different IDs taken as the same")
	}
}
