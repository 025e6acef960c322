package store

import (
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// FuzzSummaryValues: the values the summary, the heard times and the
// map's entries are read from, and the counter keys a recount adds
// (written by this device into its encrypted store, but a damaged disk
// writes anything), decode without a panic, or fail with an error.
func FuzzSummaryValues(f *testing.F) {
	h, _ := cbor.Marshal(heard{Last: 5, Activity: 4, Checkin: 4, CheckinID: make([]byte, 32), Status: "closed"})
	lat := int64(1)
	tu := tuple{ID: make([]byte, 32), Lat: &lat, Lon: &lat}
	p, _ := cbor.Marshal(tu.point())
	tb, _ := cbor.Marshal(tu)
	for _, seed := range [][]byte{h, p, tb, {0xa1}, nil, make([]byte, 8)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var hd heard
		_ = cbor.Unmarshal(data, &hd)
		var pt point
		_ = cbor.Unmarshal(data, &pt)
		if tu, err := decodeTuple(data); err == nil {
			_ = tu.counters()
			_ = tu.located()
			if tu.located() {
				_ = tu.point()
			}
		}
		sum := Summary{ByStatus: map[string]int{}, ByCategory: map[string]int{}, BySeverity: map[uint64]int{},
			ByStation: map[string]int{}, ByArea: map[string]int{}, NoArea: map[string]int{}, ByHour: map[time.Time]int{}}
		sum.add(append([]byte{tSummary, '/'}, data...))
	})
}
