package store_test

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// A scan that reads the records in key order and folds them on every
// core gives what looking each report up gives, in the same order:
// sealed reports (opened, and not), amended, retracted and reviewed
// ones, clear ones, with and without a filter or limit.
func TestBulkScanSameAsLookup(t *testing.T) {
	w, other, at := newScanWorld(t)
	filters := []store.Filter{{}, {Limit: 5}, {Station: "PS-0009"}, {Category: "polling"}, {Since: at.Add(2 * time.Minute)}}
	for name, s := range map[string]*store.Store{"coordinator": w.coord, "author": w.obs, "another observer": other} {
		for _, f := range filters {
			restore := store.SetBulkMin(1 << 30)
			lookup := mustList(t, s, f)
			restore()
			restore = store.SetBulkMin(1)
			bulk := mustList(t, s, f)
			restore()
			if !reflect.DeepEqual(bulk, lookup) || len(bulk) == 0 {
				t.Errorf("%s, %s: read in key order\n%+v\nlooked up\n%+v", name, describe(f), bulk, lookup)
			}
		}
		var n int
		restore := store.SetBulkMin(1)
		err := s.Scan(store.Filter{}, func(incident.ReportView) error { n++; return nil })
		restore()
		if err != nil || n != 15 {
			t.Errorf("%s: scanned %d reports, %v", name, n, err)
		}
	}
}

// ScanEach, which folds on every core and hands each view to the
// goroutine's own function with its place in the order, gives every
// report Scan gives, each once, at its place, the same view: whether it
// reads the records in key order (in runs of one report each, so every
// goroutine seeks and reads several) or looks them up, with a filter or
// a limit, on a coordinator's store (sealed reports opened), the
// author's and another observer's.
func TestScanEachSameAsScan(t *testing.T) {
	w, other, at := newScanWorld(t)
	defer store.SetBulkRunMin(1)()
	filters := []store.Filter{{}, {Limit: 5}, {Station: "PS-0009"}, {Category: "polling"}, {Since: at.Add(2 * time.Minute)}}
	for name, s := range map[string]*store.Store{"coordinator": w.coord, "author": w.obs, "another observer": other} {
		for _, f := range filters {
			want := mustList(t, s, f)
			for _, bulk := range []int{1, 1 << 30} {
				restore := store.SetBulkMin(bulk)
				var mu sync.Mutex
				got := map[int]incident.ReportView{}
				fns := 0
				n, err := s.ScanEach(f, func() func(int, *incident.ReportView) error {
					mu.Lock()
					fns++
					mu.Unlock()
					return func(i int, v *incident.ReportView) error {
						mu.Lock()
						defer mu.Unlock()
						if _, dup := got[i]; dup {
							t.Errorf("%s, %s: report %d given twice", name, describe(f), i)
						}
						got[i] = *v
						return nil
					}
				})
				restore()
				if err != nil || n != len(want) || len(got) != n || fns == 0 {
					t.Fatalf("%s, %s, bulk from %d: %d reports in %d views from %d functions, %v; want %d", name, describe(f), bulk, n, len(got), fns, err, len(want))
				}
				for i := range want {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Errorf("%s, %s, bulk from %d: report %d\n%+v\nwant\n%+v", name, describe(f), bulk, i, got[i], want[i])
					}
				}
			}
		}
	}
	// fn's error stops the scan and is ScanEach's.
	stop := errors.New("enough")
	for _, bulk := range []int{1, 1 << 30} {
		restore := store.SetBulkMin(bulk)
		_, err := w.coord.ScanEach(store.Filter{}, func() func(int, *incident.ReportView) error {
			return func(int, *incident.ReportView) error { return stop }
		})
		restore()
		if !errors.Is(err, stop) {
			t.Errorf("bulk from %d: ScanEach = %v, want fn's error", bulk, err)
		}
	}
}

// newScanWorld: twelve clear reports (every fourth amended) at the
// author, synced to the coordinator and to another observer; at is
// the first one's occurred time.
func newScanWorld(t *testing.T) (w *sealedWorld, other *store.Store, at time.Time) {
	t.Helper()
	w = newSealedWorld(t)
	at = time.Now().Add(-2 * time.Hour)
	for i := range 12 {
		r := mustPut(t, w.obs, incident.KindReport, report("polling.late_opening", "PS-0009", at.Add(time.Duration(i%5)*time.Minute), "clear"))
		if i%4 == 0 {
			p := report("polling.closure", "PS-0010", at, "clear, amended")
			mustPut(t, w.obs, incident.KindAmend, incident.AmendPayload{Target: r.ID.Bytes(), Report: p})
		}
	}
	syncAll(t, w.obs, w.coord)
	other, _ = initHome(t, t.TempDir(), store.Options{})
	enroll(t, w.coord, other, incident.RoleObserver, "heron")
	syncAll(t, w.coord, other)
	return w, other, at
}
