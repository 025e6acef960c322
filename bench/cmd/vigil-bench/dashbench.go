package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
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

// bareRate is a bare Badger iteration of a store's records: how many,
// and the median time of a pass.
type bareRate struct {
	records int
	took    time.Duration
}

func (b bareRate) rate() float64 { return float64(b.records) / b.took.Seconds() }

// bareRecords iterates the r/ records of the store in home with Badger
// directly (its folder, its key, the phone profile's options), reading
// every value: the rate an export that reads every record is held to.
// The store must be closed (Badger locks its folder). Median of reps.
func bareRecords(home string, o benchOptions) (bareRate, error) {
	key, err := vault.Unlock(home, gen.Passphrase)
	if err != nil {
		return bareRate{}, err
	}
	db, err := badger.Open(phoneBadger(store.DataDir(home), key).WithReadOnly(true))
	if err != nil {
		return bareRate{}, err
	}
	defer db.Close()
	reps := 3
	if o.quick {
		reps = 1
	}
	var out bareRate
	var ds []time.Duration
	for range reps {
		t := time.Now()
		n, sum := 0, 0
		err := db.View(func(txn *badger.Txn) error {
			opts := badger.DefaultIteratorOptions
			opts.Prefix = []byte("r/")
			it := txn.NewIterator(opts)
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				if err := it.Item().Value(func(v []byte) error { sum += len(v); return nil }); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return bareRate{}, err
		}
		ds = append(ds, time.Since(t))
		out.records = n
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	out.took = ds[len(ds)/2]
	return out, nil
}

// csvFromStore measures what `vigil export --format csv` does
// (export.FromStore into a sink) against the bare iteration of the same
// store's records, measured while it was closed.
func csvFromStore(rs *Results, o benchOptions, name string, st *store.Store, reports int, bare bareRate, logf func(string, ...any)) error {
	reps := 3
	if o.quick {
		reps = 1
	}
	var ds []time.Duration
	var res export.Result
	err := profile(o, strings.ReplaceAll(name, ".", "-"), func() error {
		for range reps {
			var s sink
			t := time.Now()
			var err error
			if res, err = export.FromStore(st, &s, export.Request{Format: "csv"}); err != nil {
				return err
			}
			ds = append(ds, time.Since(t))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if res.Reports != reports {
		return fmt.Errorf("%s: %d reports exported, want %d", name, res.Reports, reports)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	v := ds[len(ds)/2]
	r := Result{Name: name, Params: map[string]any{"reports": reports}, Value: float64(reports) / v.Seconds(), Unit: "reports/s",
		Target: "ratio ≥ 0.50",
		Note: fmt.Sprintf("export.FromStore(csv), what `vigil export --format csv` does (read and fold every report, write the CSV), %.2f s, median of %d; vs. a bare Badger iteration of the same store's %d r/ records reading every value (its folder and key, the store closed), %.2f s",
			v.Seconds(), reps, bare.records, bare.took.Seconds())}
	r = r.withBaseline("bare Badger iteration of r/ (records/s)", bare.rate())
	r.Met = boolp(*r.Ratio >= 0.5)
	rs.add(r)
	logf("%s: %.2fs (bare iteration %.2fs)", name, v.Seconds(), bare.took.Seconds())
	return nil
}
