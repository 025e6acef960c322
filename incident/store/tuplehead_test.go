package store

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// tupleHead.read, which picks a tuple's head out by hand for the scans,
// reads what cbor.Unmarshal reads from every tuple putTuple writes
// (layout 1's too, with its author), and from those bytes cut, damaged
// or changed at random it gives what cbor.Unmarshal gives, or its error.
func TestTupleHeadAsUnmarshal(t *testing.T) {
	lat, lon := int64(-33_918_861), int64(18_423_300)
	big := int64(math.MaxInt64)
	tuples := []tuple{
		{Occurred: 1, Category: "polling.late_opening", Station: "PS-1", Status: "unreviewed", ID: bytes.Repeat([]byte{7}, 32)},
		{Occurred: -5, Category: "x", Status: "verified", Area: "Área 5", Severity: 4, ID: bytes.Repeat([]byte{9}, 32),
			Created: 1_700_000_000_000, Flags: flagTargeted | flagSealed | flagOpened, When: 3, Lat: &lat, Lon: &lon},
		{Occurred: 2, Author: bytes.Repeat([]byte{1}, 32), Status: "rejected", ID: bytes.Repeat([]byte{3}, 32), Created: -big, Flags: 255},
		{ID: []byte{1, 2}, Created: big},
		{},
	}
	var encs [][]byte
	for _, tp := range tuples {
		b, err := cbor.Marshal(tp)
		if err != nil {
			t.Fatal(err)
		}
		encs = append(encs, b)
	}
	for i, b := range encs[:4] { // the last has no ID: nil, encoded as null
		var h tupleHead
		if !h.readFast(b) {
			t.Fatalf("tuple %d (%+v) not read by hand", i, tuples[i])
		}
	}
	// A tuple of a future layout, with a field of a type this one never wrote.
	future, _ := cbor.Marshal(map[uint64]any{9: bytes.Repeat([]byte{5}, 32), 10: 8, 20: []any{1, "a"}, 21: map[uint64]any{1: 2}, 22: 1.5})
	encs = append(encs, future, []byte{}, []byte{0xa0}, []byte{0xa1, 0x09, 0x41}, []byte{0xa1, 0x0b, 0x19, 0x01, 0x00})
	check := func(b []byte) {
		t.Helper()
		var want tupleHead
		werr := cbor.Unmarshal(b, &want)
		var got tupleHead
		gerr := got.read(b)
		if (gerr == nil) != (werr == nil) || (werr != nil && gerr.Error() != werr.Error()) {
			t.Fatalf("% x: read %v, cbor.Unmarshal %v", b, gerr, werr)
		}
		if werr == nil && (!bytes.Equal(got.ID, want.ID) || (got.ID == nil) != (want.ID == nil) && len(want.ID) > 0 ||
			got.Created != want.Created || got.Flags != want.Flags) {
			t.Fatalf("% x: read %+v, cbor.Unmarshal %+v", b, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, b := range encs {
		check(b)
		for range 2000 {
			m := append([]byte(nil), b...)
			switch rng.IntN(3) {
			case 0:
				if len(m) > 0 {
					m = m[:rng.IntN(len(m))]
				}
			case 1:
				if len(m) > 0 {
					m[rng.IntN(len(m))] = byte(rng.Uint32())
				}
			case 2:
				m = append(m, byte(rng.Uint32()))
			}
			check(m)
		}
	}
}
