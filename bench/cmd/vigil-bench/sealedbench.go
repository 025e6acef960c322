package main

import (
	"fmt"
	"time"

	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// sealedStore measures the dashboard and the export on a coordinator's
// store of sealed reports, beside the same measurements on the clear store
// f (same payloads, from the same spec), alternated in this run: the ratio
// is what sealing costs a coordinator. The sealed store is a second
// mission's founder, and every report is sealed to it.
func sealedStore(rs *Results, o benchOptions, f *store.Store, sp gen.Spec, observers int, home string, logf func(string, ...any)) error {
	m, err := gen.NewMission(home, observers, o.seed)
	if err != nil {
		return err
	}
	s := m.Founder
	defer func() { s.Close() }()
	if err := gen.AddAll(s, m.Members, "roster"); err != nil {
		return err
	}
	// An observer's device of the same mission: it holds the same sealed
	// reports (it carries them) and can open none of them.
	obsHome := home + "-observer"
	obs, err := m.JoinStore(obsHome, keepAll(gen.StoreOptions()))
	if err != nil {
		return err
	}
	defer func() { obs.Close() }()
	rcp, err := m.Recipients()
	if err != nil {
		return err
	}
	t := time.Now()
	raws, err := m.SignSealed(sp, rcp)
	if err != nil {
		return err
	}
	_, mean := gen.Sizes(raws)
	logf("sealed %d reports to the coordinator in %.1fs: mean %.0f B", len(raws), time.Since(t).Seconds(), mean)
	t = time.Now()
	if err := gen.AddAll(s, raws, "bench"); err != nil {
		return err
	}
	took := time.Since(t)
	n := float64(len(raws))
	// Closed and opened again, as the clear store was before its
	// measurements: nothing of the ingest stays in Badger's caches.
	if err := s.Close(); err != nil {
		return err
	}
	var bare bareRate
	if o.part("export") {
		if bare, err = bareRecords(home, o); err != nil {
			return err
		}
	}
	disk, err := measureDisk(store.DataDir(home))
	if err != nil {
		return err
	}
	tables, err := tableBytes(home)
	if err != nil {
		return err
	}
	rs.add(Result{Name: "ingest.sealed", Params: map[string]any{"records": len(raws), "cores": "all", "profile": "phone", "batch": 500},
		Value: n / took.Seconds(), Unit: "records/s",
		Note: fmt.Sprintf("store.AddMany of sealed reports (mean %.0f B) into the coordinator's store, which opens each one (age, X25519) to index it; %.1f s; data folder after close %d B (value log %d, SST %d); logical bytes by key table: %s",
			mean, took.Seconds(), disk.total(), disk.VLog, disk.SST, describeTables(tables))})
	logf("sealed ingest: %.0f records/s (%.1fs); %d B on disk; tables %s", n/took.Seconds(), took.Seconds(), disk.total(), describeTables(tables))
	t = time.Now()
	if err := gen.AddAll(obs, raws, "bench"); err != nil {
		return err
	}
	took = time.Since(t)
	if err := obs.Close(); err != nil {
		return err
	}
	if tables, err = tableBytes(obsHome); err != nil {
		return err
	}
	rs.add(Result{Name: "ingest.sealed_observer", Params: map[string]any{"records": len(raws), "cores": "all", "profile": "phone", "batch": 500},
		Value: n / took.Seconds(), Unit: "records/s",
		Note: fmt.Sprintf("store.AddMany of the same sealed reports into an observer's store, which is not among their recipients; %.1f s; logical bytes by key table: %s",
			took.Seconds(), describeTables(tables))})
	logf("sealed ingest, observer: %.0f records/s (%.1fs); tables %s", n/took.Seconds(), took.Seconds(), describeTables(tables))
	if s, err = store.Open(home, gen.Passphrase, gen.StoreOptions()); err != nil {
		return err
	}
	reps := 5
	if o.quick {
		reps = 1
	}
	if o.part("export") {
		// The first read of every report after the open, then the clear
		// store's read of its reports (both measured once, one after
		// the other).
		t := time.Now()
		items, err := loadItems(s)
		if err != nil {
			return err
		}
		first := time.Since(t)
		t = time.Now()
		clear, err := loadItems(f)
		if err != nil {
			return err
		}
		firstClear := time.Since(t)
		if len(items) != len(clear) {
			return fmt.Errorf("sealed export: %d reports, the clear store has %d", len(items), len(clear))
		}
		for _, it := range items {
			if !it.View.Sealed || !it.View.Opened {
				return fmt.Errorf("sealed export: report %s sealed %v opened %v", it.View.ID, it.View.Sealed, it.View.Opened)
			}
		}
		rn := float64(len(items))
		r := Result{Name: "export.scan_sealed_first", Params: map[string]any{"reports": len(items)}, Value: rn / first.Seconds(), Unit: "reports/s",
			Note: fmt.Sprintf("the first store.Scan of every sealed report after the store was opened (%.2f s) vs. the same on the clear store (%.2f s)", first.Seconds(), firstClear.Seconds())}
		rs.add(r.withBaseline("store.Scan, clear store", rn/firstClear.Seconds()))
		if err := csvFromStore(rs, o, "export.csv_from_store_sealed", s, len(items), bare, logf); err != nil {
			return err
		}
		if s, err = observerScan(rs, o, s, home, obsHome, logf); err != nil {
			return err
		}
	}
	if o.part("dashboard") {
		const family = "polling"
		var sc, cc map[countKey]int
		ds, err := timeAlternating(reps,
			func() error { var err error; sc, err = vigilDashboard(s, family); return err },
			func() error { var err error; cc, err = vigilDashboard(f, family); return err })
		if err != nil {
			return err
		}
		if !sameCounts(sc, cc) {
			return fmt.Errorf("sealed dashboard: the sealed and the clear store count differently (%d and %d groups)", len(sc), len(cc))
		}
		r := Result{Name: "dashboard.query_sealed", Params: map[string]any{"reports": len(raws), "filter": "category family " + family, "group_by": "category,area"},
			Value: ds[0].Seconds(), Unit: "s", Target: "ratio ≤ 1.5",
			Note: fmt.Sprintf("store.CountReports on the coordinator's sealed store vs. the same query on the clear store (same reports, same counts); alternated, median of %d", reps)}
		r = r.withBaseline("dashboard.query, clear store", ds[1].Seconds())
		r.Met = boolp(*r.Ratio <= 1.5)
		rs.add(r)
		logf("sealed dashboard: %.3fs (clear %.3fs)", ds[0].Seconds(), ds[1].Seconds())
		if err := dashboardRefresh(rs, o, "dashboard.refresh_sealed", s, len(raws), logf); err != nil {
			return err
		}
	}
	return nil
}

// observerScan measures store.Scan of every sealed report on the
// observer's store (no record is addressed to it) beside the same on the
// coordinator's store coord, in this run: both stores are opened afresh,
// read once each (the first read after the open), then read alternately.
// It returns the coordinator's store, opened again.
func observerScan(rs *Results, o benchOptions, coord *store.Store, home, obsHome string, logf func(string, ...any)) (*store.Store, error) {
	if err := coord.Close(); err != nil {
		return coord, err
	}
	closed := coord
	coord, err := store.Open(home, gen.Passphrase, gen.StoreOptions())
	if err != nil {
		return closed, err // closed again by the caller: a no-op
	}
	obs, err := store.Open(obsHome, gen.Passphrase, keepAll(gen.StoreOptions()))
	if err != nil {
		return coord, err
	}
	defer obs.Close()
	scan := func(st *store.Store, opened bool) (int, error) {
		n := 0
		err := st.Scan(store.Filter{}, func(v incident.ReportView) error {
			if !v.Sealed || v.Opened != opened {
				return fmt.Errorf("report %s sealed %v opened %v on the %s's store", v.ID, v.Sealed, v.Opened, map[bool]string{true: "coordinator", false: "observer"}[opened])
			}
			n++
			return nil
		})
		return n, err
	}
	t := time.Now()
	n, err := scan(obs, false)
	if err != nil {
		return coord, err
	}
	first := time.Since(t)
	t = time.Now()
	nc, err := scan(coord, true)
	if err != nil {
		return coord, err
	}
	firstCoord := time.Since(t)
	if n != nc {
		return coord, fmt.Errorf("observer scan: %d reports, the coordinator's store has %d", n, nc)
	}
	rn := float64(n)
	r := Result{Name: "export.scan_sealed_observer_first", Params: map[string]any{"reports": n}, Value: rn / first.Seconds(), Unit: "reports/s",
		Note: fmt.Sprintf("the first store.Scan of every sealed report after the store was opened, on an observer's store that can open none of them (%.2f s), vs. the same on the coordinator's store, right after (%.2f s)", first.Seconds(), firstCoord.Seconds())}
	rs.add(r.withBaseline("store.Scan, coordinator's sealed store", rn/firstCoord.Seconds()))
	reps := 5
	if o.quick {
		reps = 1
	}
	var ds []time.Duration
	err = profile(o, "scan-sealed-observer", func() error {
		var err error
		ds, err = timeAlternating(reps,
			func() error { _, err := scan(obs, false); return err },
			func() error { _, err := scan(coord, true); return err })
		return err
	})
	if err != nil {
		return coord, err
	}
	r = Result{Name: "export.scan_sealed_observer", Params: map[string]any{"reports": n}, Value: rn / ds[0].Seconds(), Unit: "reports/s",
		Note: fmt.Sprintf("store.Scan of every sealed report on the observer's store, after a first read (%.2f s), vs. the same on the coordinator's store (%.2f s); alternated, median of %d", ds[0].Seconds(), ds[1].Seconds(), reps)}
	rs.add(r.withBaseline("store.Scan, coordinator's sealed store", rn/ds[1].Seconds()))
	logf("observer scan: first %.2fs (coordinator %.2fs); after %.2fs (coordinator %.2fs)", first.Seconds(), firstCoord.Seconds(), ds[0].Seconds(), ds[1].Seconds())
	return coord, nil
}
