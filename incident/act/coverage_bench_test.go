package act

import (
	"fmt"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident"
)

// The national-mission sizes BenchmarkCoverage runs at.
const (
	benchStations    = 20_000
	benchAssignments = 10_000 // one per observer, each to its own station
	benchCheckins    = 40_000 // four per observer
)

// BenchmarkCoverage measures Desk.Coverage (by district, level 2) on a
// coordinator's store holding a registry of benchStations stations in 10
// regions of 20 districts, benchAssignments observers each posted by a
// sealed assignment, and benchCheckins check-ins: every tenth observer
// checks in at a code off the registry, every seventh names no station
// (its post counts), every third never says "closed". It reports the
// time and allocations of a call with the opened assignments cached (as
// on a coordinator's laptop after the first view) and, once, of the
// first call, which opens every sealed assignment; and prints a line
// "BENCHJSON {...}" with both.
func BenchmarkCoverage(b *testing.B) {
	w := newBenchWorld(b, benchAssignments, 7)
	m, ms, signer, at, code := w.m, w.ms, w.signer, w.at, benchCode
	w.registry(b, benchStations, func(i int) incident.StationPayload {
		return incident.StationPayload{Name: fmt.Sprintf("School %d", i),
			Admin: []string{fmt.Sprintf("Region %d", i%10), fmt.Sprintf("District %d", i/10%20), fmt.Sprintf("Ward %d", i/200)}}
	})
	var raws [][]byte

	// Sealed assignments, to the coordinator and the observer (the
	// generated observers hold no age key: one stands for theirs, so each
	// assignment has its two stanzas); observer i to station 2i.
	obsKey, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	coords, err := ms.SealRecipients()
	if err != nil {
		b.Fatal(err)
	}
	to := append(coords, obsKey.Recipient())
	for i, o := range m.Observers {
		a := o.Author()
		ct, err := incident.Seal(incident.KindAssignment, incident.AssignmentPayload{Member: a[:], Station: code(2 * i)}, to)
		if err != nil {
			b.Fatal(err)
		}
		rec, err := signer.SignSealed(m.ID, incident.KindAssignment, at.Add(time.Minute+time.Duration(i)*time.Millisecond), incident.SealedEnvelope{}, ct)
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, rec.Raw)
	}
	// Check-ins through the day.
	statuses := []string{"arrived", "opened", "all_quiet", "closed"}
	for i, o := range m.Observers {
		for j, s := range statuses {
			if s == "closed" && i%3 == 0 {
				s = "all_quiet"
			}
			where := code(2 * i)
			switch {
			case i%10 == 0:
				where = fmt.Sprintf("XX-%d", i)
			case i%7 == 0:
				where = ""
			}
			rec, err := o.Sign(m.ID, incident.KindCheckin, at.Add(time.Duration(j+1)*3*time.Hour+time.Duration(i)*time.Millisecond),
				incident.CheckinPayload{Status: s, Station: where})
			if err != nil {
				b.Fatal(err)
			}
			raws = append(raws, rec.Raw)
		}
	}
	d := w.desk(b, raws)
	q := CoverageQuery{Level: 2}

	check := func(c Coverage) {
		// Every observer but every tenth is heard at its post at opening;
		// a third of those never closes. Posts are at even stations: 5
		// regions of 20 districts.
		want := benchAssignments - benchAssignments/10
		if c.Total.Expected != benchAssignments || c.Total.Heard[PhaseOpening] != want || len(c.Unknown) != benchAssignments/10 || len(c.Units) != 100 {
			b.Fatalf("expected %d, heard at opening %d, unknown %d, units %d", c.Total.Expected, c.Total.Heard[PhaseOpening], len(c.Unknown), len(c.Units))
		}
	}
	last, perOp, cold := benchView(b, func() (Coverage, error) { return d.Coverage(q) }, check)
	printBenchJSON(map[string]any{
		"name":   "BenchmarkCoverage",
		"params": map[string]int{"stations": benchStations, "assignments": benchAssignments, "checkins": benchCheckins, "level": q.Level},
		"value":  float64(perOp.Microseconds()) / 1000, "unit": "ms",
		"cold_ms": float64(cold.Microseconds()) / 1000,
		"silent":  len(last.Silent),
	})
}
