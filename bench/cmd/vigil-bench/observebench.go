package main

import (
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// observeGroup: the coordinators' observation views at a national
// mission's size. A coordinator's store holds a registry of 20,000
// stations, an observer posted to each by a sealed assignment, four
// sealed checklist responses per station and 5,000 sealed tallies
// (gen.Observation); coverage (by district) and results (with the quick
// count) are timed as the CLI and the app call them: the first call,
// which opens every sealed record, and then a warm one (the opened
// bodies cached in the store). The baseline is reading the records each
// view reads from the same store (Store.ByKind, no opening); memory is
// what one warm call allocates.
func observeGroup(rs *Results, o benchOptions, work string, logf func(string, ...any)) error {
	stations, tallies := 20_000, 5_000
	if o.quick {
		stations, tallies = 400, 100
	}
	t := time.Now()
	m, err := gen.NewMission(filepath.Join(work, "observe"), stations, o.seed)
	if err != nil {
		return err
	}
	defer m.Founder.Close()
	if err := gen.AddAll(m.Founder, m.Members, "bench"); err != nil {
		return err
	}
	to, err := m.Recipients()
	if err != nil {
		return err
	}
	raws, err := m.Observation(gen.Observation{Stations: stations, Tallies: tallies}, to)
	if err != nil {
		return err
	}
	if err := gen.AddAll(m.Founder, raws, "bench"); err != nil {
		return err
	}
	logf("observation store: %d stations, %d records in %.1fs", stations, len(raws)+len(m.Members), time.Since(t).Seconds())
	d := act.New(m.Founder)
	params := map[string]any{"stations": stations, "checklists": 4 * stations, "tallies": tallies, "assignments": stations}
	reps := 5
	if o.quick {
		reps = 1
	}

	type view struct {
		name  string
		kinds []incident.Kind
		call  func() error
		check func() error
	}
	var cov act.Coverage
	var res act.Results
	views := []view{
		{"coverage", []incident.Kind{incident.KindStation, incident.KindRegistry, incident.KindAssignment, incident.KindForm,
			incident.KindCheckin, incident.KindTally, incident.KindResponse},
			func() error { var err error; cov, err = d.Coverage(act.CoverageQuery{Level: 2}); return err },
			func() error {
				if cov.Total.Expected != stations || cov.Total.Heard[act.PhaseCounting] < tallies {
					return fmt.Errorf("coverage: %d expected, %d heard at the count", cov.Total.Expected, cov.Total.Heard[act.PhaseCounting])
				}
				return nil
			}},
		{"results", []incident.Kind{incident.KindStation, incident.KindRegistry, incident.KindTally},
			func() error { var err error; res, err = d.Results(act.ResultsQuery{}); return err },
			func() error {
				if res.Registry != stations || res.Counts[act.StatusFlagged] != (tallies+19)/20 || res.QuickCount == nil || res.QuickCount.Used == 0 {
					return fmt.Errorf("results: registry %d, counts %v", res.Registry, res.Counts)
				}
				return nil
			}},
	}
	for _, v := range views {
		start := time.Now()
		if err := v.call(); err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
		cold := time.Since(start)
		if err := v.check(); err != nil {
			return err
		}
		read := func() error {
			for _, k := range v.kinds {
				if _, err := m.Founder.ByKind(k); err != nil {
					return err
				}
			}
			return nil
		}
		var ds []time.Duration
		if err := profile(o, "observe-"+v.name, func() error {
			var err error
			ds, err = timeAlternating(reps, v.call, read)
			return err
		}); err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
		alloc := allocated(v.call)
		note := fmt.Sprintf("Desk.%s as the CLI and the app call it, warm (opened bodies cached in the store), median of %d; the first call, which opens every sealed record it reads, took %.2f s",
			map[string]string{"coverage": "Coverage(level 2)", "results": "Results"}[v.name], reps, cold.Seconds())
		r := Result{Name: "observe." + v.name, Params: params, Value: ds[0].Seconds(), Unit: "s", Note: note}
		rs.add(r.withBaseline("Store.ByKind of the kinds it reads", ds[1].Seconds()))
		rs.add(Result{Name: "observe." + v.name + "_cold", Params: params, Value: cold.Seconds(), Unit: "s",
			Note: "the first call on a fresh desk: opens every sealed record it reads and caches the bodies"})
		rs.add(Result{Name: "observe." + v.name + "_alloc", Params: params, Value: mib(int64(alloc)), Unit: "MiB",
			Note: "bytes one warm call allocates (runtime.MemStats.TotalAlloc)"})
		logf("%s: warm %.3fs (read %.3fs), cold %.2fs, %.0f MiB allocated", v.name, ds[0].Seconds(), ds[1].Seconds(), cold.Seconds(), mib(int64(alloc)))
	}
	return nil
}

// allocated runs fn once and returns the bytes it allocated.
func allocated(fn func() error) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_ = fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
