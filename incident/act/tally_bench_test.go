package act

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// BenchmarkResults measures Desk.Results on a coordinator's store with a
// registry of 20,000 stations in 10 strata (every eighth station pvt)
// and 5,000 sealed tallies from 2,500 observers (two each, at stations
// 4k; every twentieth does not add up). Under -short it runs a tenth of
// that (2,000 stations, 500 tallies): the full setup signs, seals and
// stores 25,000 records, about 10 s on 2 cores. It prints a line
// "BENCHJSON {...}" with the time per call and the first call's.
func BenchmarkResults(b *testing.B) {
	stations, observers := 20_000, 2_500
	if testing.Short() {
		stations, observers = 2_000, 250
	}
	tallies := 2 * observers
	w := newBenchWorld(b, observers, 11)
	m, ms, at, code := w.m, w.ms, w.at, benchCode
	w.registry(b, stations, func(i int) incident.StationPayload {
		p := incident.StationPayload{Name: fmt.Sprintf("School %d", i), Registered: 900,
			Admin: []string{fmt.Sprintf("Region %d", i%10), fmt.Sprintf("District %d", i/10%20)},
			Tags:  []string{incident.TagStratum + fmt.Sprintf("r%d", i%10)}}
		if i%8 == 0 {
			p.Tags = append(p.Tags, incident.TagPVT)
		}
		return p
	})
	var raws [][]byte
	to, err := ms.SealRecipients()
	if err != nil {
		b.Fatal(err)
	}
	for k := range tallies {
		a := uint64(200 + k%97)
		p := incident.TallyPayload{Station: code(4 * k), Contest: "presidential", Registered: 900, Issued: a + 320, Cast: a + 310, Invalid: 6, Blank: 4,
			Votes: []incident.VoteCount{{Choice: "A", Votes: a}, {Choice: "B", Votes: 300}}}
		if k%20 == 0 {
			p.Cast++
		}
		ct, err := incident.Seal(incident.KindTally, p, to)
		if err != nil {
			b.Fatal(err)
		}
		rec, err := m.Observers[k/2].SignSealed(m.ID, incident.KindTally, at.Add(time.Hour+time.Duration(k)*time.Millisecond), incident.SealedEnvelope{}, ct)
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, rec.Raw)
	}
	d := w.desk(b, raws)
	check := func(r Results) {
		if r.Registry != stations || r.Counts[StatusOK] != tallies-tallies/20 || r.Counts[StatusFlagged] != tallies/20 || r.QuickCount == nil || r.QuickCount.Used == 0 {
			b.Fatalf("registry %d, counts %v", r.Registry, r.Counts)
		}
	}
	last, perOp, cold := benchView(b, func() (Results, error) { return d.Results(ResultsQuery{}) }, check)
	printBenchJSON(map[string]any{
		"name":   "BenchmarkResults",
		"params": map[string]int{"stations": stations, "tallies": tallies, "pvt_used": last.QuickCount.Used},
		"value":  float64(perOp.Microseconds()) / 1000, "unit": "ms",
		"cold_ms": float64(cold.Microseconds()) / 1000,
	})
}
