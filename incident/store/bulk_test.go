package store_test

import (
	"reflect"
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
	w := newSealedWorld(t)
	at := time.Now().Add(-2 * time.Hour)
	for i := range 12 {
		r := mustPut(t, w.obs, incident.KindReport, report("polling.late_opening", "PS-0009", at.Add(time.Duration(i%5)*time.Minute), "clear"))
		if i%4 == 0 {
			p := report("polling.closure", "PS-0010", at, "clear, amended")
			mustPut(t, w.obs, incident.KindAmend, incident.AmendPayload{Target: r.ID.Bytes(), Report: p})
		}
	}
	syncAll(t, w.obs, w.coord)
	other, _ := initHome(t, t.TempDir(), store.Options{})
	enroll(t, w.coord, other, incident.RoleObserver, "heron")
	syncAll(t, w.coord, other)
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
