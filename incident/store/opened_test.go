package store_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// sealedWorld is a coordinator holding an observer's sealed reports, a
// sealed amendment and retraction of them, and its own sealed review.
type sealedWorld struct {
	coord, obs *store.Store
	reports    []*incident.Signed
	sealed     []incident.ID // every sealed record the observer wrote
}

func newSealedWorld(t *testing.T) *sealedWorld {
	t.Helper()
	w := &sealedWorld{}
	w.coord, _ = initHome(t, t.TempDir(), store.Options{})
	w.obs, _ = initHome(t, t.TempDir(), store.Options{})
	createMission(t, w.coord)
	enroll(t, w.coord, w.obs, incident.RoleObserver, "kestrel")
	syncAll(t, w.coord, w.obs)
	at := time.Now().Add(-time.Hour)
	for i, title := range []string{"ballot boxes stuffed at dawn", "officer turned voters away", "queue of 400 at noon"} {
		rec, err := w.obs.PutSealed(incident.KindReport, nil, report("polling.violence", "PS-0007", at.Add(time.Duration(i)*time.Minute), title))
		if err != nil {
			t.Fatal(err)
		}
		w.reports = append(w.reports, rec)
		w.sealed = append(w.sealed, rec.ID)
	}
	amended := report("polling.intimidation", "PS-0008", at, "officer turned voters away, then came back")
	am, err := w.obs.PutSealed(incident.KindAmend, &w.reports[1].ID, incident.AmendPayload{Target: w.reports[1].ID.Bytes(), Report: amended})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := w.obs.PutSealed(incident.KindRetract, &w.reports[2].ID, incident.RetractPayload{Target: w.reports[2].ID.Bytes(), Reason: "duplicate"})
	if err != nil {
		t.Fatal(err)
	}
	w.sealed = append(w.sealed, am.ID, rt.ID)
	syncAll(t, w.obs, w.coord)
	if _, err := w.coord.Review(w.reports[0].ID, "verified", "called the presiding officer"); err != nil {
		t.Fatal(err)
	}
	return w
}

// views is everything a coordinator's screens read: the list, each
// report's view, and the counts.
func views(t *testing.T, s *store.Store, ids []*incident.Signed) []any {
	t.Helper()
	out := []any{mustList(t, s, store.Filter{})}
	for _, r := range ids {
		v, err := s.Report(r.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	c, err := s.CountReports(store.Filter{}, store.ByCategory, store.ByStation, store.ByStatus)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, c)
}

// A coordinator caches what it opens when the records arrive; reading
// from the cache gives the views a fresh open gives, and so does reading
// with no cache at all.
func TestOpenedCacheGivesTheSameViews(t *testing.T) {
	w := newSealedWorld(t)
	for _, id := range w.sealed {
		if _, ok := store.OpenedBody(w.coord, id); !ok {
			t.Fatalf("sealed record %s was opened on arrival but not cached", id)
		}
	}
	cached := views(t, w.coord, w.reports)
	if v := cached[1].(incident.ReportView); !v.Opened || v.Status != "verified" {
		t.Fatalf("the coordinator's view: %+v", v)
	}
	if v := cached[2].(incident.ReportView); v.Report.Station != "PS-0008" || v.Report.Category != "polling.intimidation" {
		t.Fatalf("the amendment was not folded: %+v", v.Report)
	}
	if v := cached[3].(incident.ReportView); !v.Retracted {
		t.Fatal("the retraction was not folded")
	}

	// No cache: every record is opened again, and the cache filled by
	// the reads.
	if err := store.DropOpened(w.coord); err != nil {
		t.Fatal(err)
	}
	fresh := views(t, w.coord, w.reports)
	if !reflect.DeepEqual(cached, fresh) {
		t.Fatalf("views from the cache differ from a fresh open:\n%+v\n%+v", cached, fresh)
	}
	for _, id := range w.sealed {
		if _, ok := store.OpenedBody(w.coord, id); !ok {
			t.Fatalf("sealed record %s was opened by a read but not cached", id)
		}
	}
	// The cache alone (the identity forgotten) gives the same views.
	store.ForgetAgeIdentity(w.coord)
	if only := views(t, w.coord, w.reports); !reflect.DeepEqual(cached, only) {
		t.Fatalf("views from the cache alone differ:\n%+v\n%+v", cached, only)
	}
}

// The cache holds bodies without their padding, and a damaged entry is
// ignored: the record is opened again and the entry replaced.
func TestOpenedCacheDamagedEntryIgnored(t *testing.T) {
	w := newSealedWorld(t)
	id := w.reports[0].ID
	good, ok := store.OpenedBody(w.coord, id)
	if !ok {
		t.Fatal("not cached")
	}
	if len(good) >= 512 {
		t.Errorf("the cached body is %d bytes: still padded to its bucket?", len(good))
	}
	want, err := w.coord.Report(id)
	if err != nil {
		t.Fatal(err)
	}
	amend, _ := store.OpenedBody(w.coord, w.sealed[3])
	for name, bad := range map[string][]byte{
		"garbage":      []byte("not a sealed body"),
		"truncated":    good[:len(good)/2],
		"empty":        {},
		"another kind": amend, // an amend's body under a report
		"bit flipped":  append(append([]byte(nil), good[:len(good)-1]...), good[len(good)-1]^0x20),
	} {
		if err := store.SetOpened(w.coord, id, bad); err != nil {
			t.Fatal(err)
		}
		got, err := w.coord.Report(id)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: view %+v, want %+v", name, got, want)
		}
		if b, _ := store.OpenedBody(w.coord, id); !bytes.Equal(b, good) {
			t.Fatalf("%s: the damaged entry was not replaced", name)
		}
	}
	// With the identity forgotten, a damaged entry leaves the report
	// unread rather than misread.
	store.ForgetAgeIdentity(w.coord)
	if err := store.SetOpened(w.coord, id, good[:len(good)-3]); err != nil {
		t.Fatal(err)
	}
	if v, err := w.coord.Report(id); err != nil || v.Opened || v.Report.Title != "" {
		t.Fatalf("a damaged entry was read: %+v, %v", v, err)
	}
}

// An observer reads its own sealed reports from the copies it keeps
// until a coordinator's receipt lists them, and never caches them: after
// the receipt, its device holds no readable copy.
func TestObserverKeepsNoCopyAfterReceipt(t *testing.T) {
	w := newSealedWorld(t)
	title := []byte("ballot boxes stuffed at dawn")
	// The observer reads everything the ways a device does.
	if v, err := w.obs.Report(w.reports[0].ID); err != nil || !v.Opened || v.Report.Title != string(title) {
		t.Fatalf("the author's view: %+v, %v", v, err)
	}
	if l := mustList(t, w.obs, store.Filter{}); len(l) != 3 || !l[0].Opened {
		t.Fatalf("the author's list: %+v", l)
	}
	tables, err := store.KeyTables(w.obs)
	if err != nil {
		t.Fatal(err)
	}
	if tables['O'] != 0 {
		t.Fatalf("the observer cached %d opened bodies", tables['O'])
	}
	if where, _ := store.TablesHolding(w.obs, title); string(where) != "L" {
		t.Fatalf("before the receipt the title is held in tables %q, want the kept copies (L) only", where)
	}

	var listed [][]byte
	for _, id := range w.sealed {
		listed = append(listed, id.Bytes())
	}
	rc := mustPut(t, w.coord, incident.KindReceipt, incident.ReceiptPayload{IDs: listed})
	mustAdd(t, w.coord, w.obs, rc.ID)
	for _, r := range w.reports {
		if v, _ := w.obs.Report(r.ID); v.Opened || v.Report.Title != "" {
			t.Fatalf("the author still reads %s after the receipt", r.ID)
		}
	}
	mustList(t, w.obs, store.Filter{})
	tables, err = store.KeyTables(w.obs)
	if err != nil {
		t.Fatal(err)
	}
	if tables['O'] != 0 || tables['L'] != 0 {
		t.Fatalf("after the receipt the observer holds %d cached and %d kept bodies", tables['O'], tables['L'])
	}
	for _, s := range []string{string(title), "officer turned voters away", "duplicate"} {
		if where, _ := store.TablesHolding(w.obs, []byte(s)); len(where) != 0 {
			t.Fatalf("after the receipt %q is still in tables %q", s, where)
		}
	}
}
