package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

// dashboardRefresh measures what the app's dashboard calls on each
// refresh (act.Desk.Dashboard: the store's counters, heard times and the
// latest located incidents), median of reps, against the walk of every
// report's tuple that counting used to take (store.Recount, timed once,
// the same counts), and checks that the counters equal the recount.
func dashboardRefresh(rs *Results, o benchOptions, name string, st *store.Store, reports int, logf func(string, ...any)) error {
	desk := act.New(st)
	q := act.DashboardQuery{Now: time.Now(), SilentAfter: time.Hour, Loc: time.UTC}
	reps := 9
	if o.quick {
		reps = 1
	}
	var d act.Dashboard
	var ds []time.Duration
	err := profile(o, "dashboard-refresh", func() error {
		for range reps {
			t := time.Now()
			var err error
			if d, err = desk.Dashboard(q); err != nil {
				return err
			}
			ds = append(ds, time.Since(t))
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	v := ds[len(ds)/2]
	t := time.Now()
	re, err := st.Recount()
	if err != nil {
		return err
	}
	walk := time.Since(t)
	sum, err := st.Summary(0)
	if err != nil {
		return err
	}
	if !sum.Equal(re) {
		return fmt.Errorf("%s: the store's counters differ from a recount of its tuples (%d and %d incidents)", name, sum.Incidents(), re.Incidents())
	}
	if d.Total != re.Incidents() {
		return fmt.Errorf("%s: the dashboard shows %d incidents, the recount %d", name, d.Total, re.Incidents())
	}
	r := Result{Name: name, Params: map[string]any{"reports": reports, "points": len(d.Points)}, Value: v.Seconds(), Unit: "s",
		Target: "≤ 0.1 s",
		Note: fmt.Sprintf("act.Desk.Dashboard, what the app's dashboard calls on each refresh: summary counters, heard times, the latest %d located incidents, registry and members (%d incidents, %d sealed unread); median of %d; vs. store.Recount, a walk of every report's index entry and tuple (the least the old refresh did: it listed and folded every report), timed once, the same counts",
			len(d.Points), d.Total, re.Sealed, reps)}
	r = r.withBaseline("store.Recount (walk of every tuple)", walk.Seconds())
	r.Met = boolp(v <= 100*time.Millisecond)
	rs.add(r)
	logf("%s: %.4fs (walk of every tuple %.2fs)", name, v.Seconds(), walk.Seconds())
	return nil
}
