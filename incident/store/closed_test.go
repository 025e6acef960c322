package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// allSealed is every sealed record of the world: the observer's, and the
// coordinator's sealed review.
func allSealed(t *testing.T, w *sealedWorld) []incident.ID {
	t.Helper()
	out := append([]incident.ID(nil), w.sealed...)
	reviews, err := w.coord.ByKind(incident.KindReview)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reviews {
		if len(r.Sealed) > 0 {
			out = append(out, r.ID)
		}
	}
	if len(out) != len(w.sealed)+1 {
		t.Fatalf("%d sealed records, want %d", len(out), len(w.sealed)+1)
	}
	return out
}

// wantClosed fails unless s marks exactly the records of want (among
// all) as sealed for others.
func wantClosed(t *testing.T, s *store.Store, all, want []incident.ID) {
	t.Helper()
	in := map[incident.ID]bool{}
	for _, id := range want {
		in[id] = true
	}
	for _, id := range all {
		if _, ok := store.Closed(s, id); ok != in[id] {
			t.Errorf("record %s marked as sealed for others: %v, want %v", id, ok, in[id])
		}
	}
}

// A carrier notes, as the records arrive, which sealed records its age
// identity cannot open, and its reads then try none of them; the views
// are the ones it gets by trying, and a read with no markers writes them.
func TestCarrierMarksWhatItCannotOpen(t *testing.T) {
	w := newSealedWorld(t)
	sealed := allSealed(t, w)
	carrier, home := initHome(t, t.TempDir(), store.Options{})
	enroll(t, w.coord, carrier, incident.RoleCarrier, "heron")
	syncAll(t, w.coord, carrier)
	wantClosed(t, carrier, sealed, sealed)
	if n := store.Decrypts(carrier); n > int64(len(sealed)) {
		t.Errorf("the carrier tried %d decryptions to store %d sealed records", n, len(sealed))
	}

	before := store.Decrypts(carrier)
	marked := views(t, carrier, w.reports)
	if n := store.Decrypts(carrier) - before; n != 0 {
		t.Fatalf("the carrier's reads tried %d decryptions of records it is known not to open", n)
	}
	for _, v := range marked[1:4] {
		if v := v.(incident.ReportView); !v.Sealed || v.Opened || v.Report.Title != "" {
			t.Fatalf("the carrier's view of a sealed report: %+v", v)
		}
	}

	// With no markers, every read tries again, gets the same views, and
	// writes the markers back.
	if err := store.DropClosed(carrier); err != nil {
		t.Fatal(err)
	}
	before = store.Decrypts(carrier)
	if tried := views(t, carrier, w.reports); !reflect.DeepEqual(marked, tried) {
		t.Fatalf("views with markers differ from views that try:\n%+v\n%+v", marked, tried)
	}
	if store.Decrypts(carrier) == before {
		t.Fatal("no marker, yet no decryption tried")
	}
	wantClosed(t, carrier, sealed, sealed)

	// A marker with another identity's value is not trusted: the record
	// is tried again and the marker replaced.
	id := w.reports[0].ID
	good, _ := store.Closed(carrier, id)
	if err := store.SetClosed(carrier, id, []byte("someone else")); err != nil {
		t.Fatal(err)
	}
	before = store.Decrypts(carrier)
	if v, err := carrier.Report(id); err != nil || v.Opened {
		t.Fatalf("%+v, %v", v, err)
	}
	if store.Decrypts(carrier) == before {
		t.Fatal("a marker of another identity was trusted")
	}
	if b, _ := store.Closed(carrier, id); string(b) != string(good) {
		t.Fatalf("marker %x, want %x", b, good)
	}

	// Reopened, the markers hold.
	if err := carrier.Close(); err != nil {
		t.Fatal(err)
	}
	carrier = reopen(t, home, passphrase, store.Options{})
	before = store.Decrypts(carrier)
	if again := views(t, carrier, w.reports); !reflect.DeepEqual(marked, again) {
		t.Fatal("views changed")
	}
	if n := store.Decrypts(carrier) - before; n != 0 {
		t.Fatalf("%d decryptions", n)
	}
}

// A coordinator, which opens every sealed record, marks none; and it
// never writes a marker for a record its identity opens.
func TestCoordinatorMarksNothing(t *testing.T) {
	w := newSealedWorld(t)
	sealed := allSealed(t, w)
	views(t, w.coord, w.reports)
	wantClosed(t, w.coord, sealed, nil)
	// A stray marker with the wrong value does not hide a record.
	if err := store.SetClosed(w.coord, w.reports[0].ID, []byte("stray")); err != nil {
		t.Fatal(err)
	}
	if err := store.DropOpened(w.coord); err != nil {
		t.Fatal(err)
	}
	if v, err := w.coord.Report(w.reports[0].ID); err != nil || !v.Opened {
		t.Fatalf("the coordinator cannot read its report past a stray marker: %+v, %v", v, err)
	}
}

// The author reads its own sealed records from its kept copies (L/)
// first: before a coordinator's receipt, no marker hides them, even one
// written by mistake; after the receipt the copies go, and the markers
// the next read writes are right, since the author can no longer read
// them.
func TestAuthorKeptCopyBeforeMarker(t *testing.T) {
	w := newSealedWorld(t)
	sealed := allSealed(t, w)
	review := sealed[len(sealed)-1]
	syncAll(t, w.coord, w.obs) // the coordinator's sealed review
	mustList(t, w.obs, store.Filter{})
	wantClosed(t, w.obs, sealed, []incident.ID{review})
	for _, id := range w.sealed {
		if err := store.SetClosed(w.obs, id, mustClosedMark(t, w.obs, review)); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range w.reports {
		if v, err := w.obs.Report(r.ID); err != nil || !v.Opened || v.Report.Title == "" {
			t.Fatalf("a marker hid the author's kept copy of %s: %+v, %v", r.ID, v, err)
		}
	}
	if err := store.DropClosed(w.obs); err != nil {
		t.Fatal(err)
	}

	var listed [][]byte
	for _, id := range w.sealed {
		listed = append(listed, id.Bytes())
	}
	rc := mustPut(t, w.coord, incident.KindReceipt, incident.ReceiptPayload{IDs: listed})
	mustAdd(t, w.coord, w.obs, rc.ID)
	first := views(t, w.obs, w.reports)
	wantClosed(t, w.obs, sealed, sealed)
	before := store.Decrypts(w.obs)
	if again := views(t, w.obs, w.reports); !reflect.DeepEqual(first, again) {
		t.Fatal("views changed")
	}
	if n := store.Decrypts(w.obs) - before; n != 0 {
		t.Fatalf("%d decryptions after the markers", n)
	}
	for _, r := range w.reports {
		if v, _ := w.obs.Report(r.ID); v.Opened {
			t.Fatalf("the author still reads %s after the receipt", r.ID)
		}
	}
}

func mustClosedMark(t *testing.T, s *store.Store, id incident.ID) []byte {
	t.Helper()
	b, ok := store.Closed(s, id)
	if !ok {
		t.Fatalf("no marker for %s", id)
	}
	return b
}

// A device enrolled as a coordinator after records were sealed is a
// recipient of what is sealed from then on, and of nothing before: its
// markers on the older records stay right, and the newer ones it opens.
func TestLaterCoordinatorOpensOnlyNewRecords(t *testing.T) {
	w := newSealedWorld(t)
	sealed := allSealed(t, w)
	dev := openBadger(t, store.Options{})
	enroll(t, w.coord, dev, incident.RoleObserver, "osprey")
	syncAll(t, w.coord, dev)
	wantClosed(t, dev, sealed, sealed)
	old := views(t, dev, w.reports)

	enroll(t, w.coord, dev, incident.RoleCoordinator, "osprey")
	syncAll(t, w.coord, w.obs) // the observer learns of the new coordinator
	rec, err := w.obs.PutSealed(incident.KindReport, nil, report("polling.violence", "PS-0009", time.Now().Add(-time.Minute), "ballots burned behind the school"))
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, w.obs, dev, rec.ID)
	if v, err := dev.Report(rec.ID); err != nil || !v.Opened || v.Report.Title != "ballots burned behind the school" {
		t.Fatalf("the new coordinator cannot read a report sealed after its enrollment: %+v, %v", v, err)
	}
	if _, ok := store.Closed(dev, rec.ID); ok {
		t.Fatal("a record the device opens is marked")
	}

	// The older records: tried again without markers, still closed.
	if err := store.DropClosed(dev); err != nil {
		t.Fatal(err)
	}
	if again := views(t, dev, w.reports); !reflect.DeepEqual(old[1:4], again[1:4]) {
		t.Fatalf("the older records read differently once the device is a coordinator:\n%+v\n%+v", old[1:4], again[1:4])
	}
	wantClosed(t, dev, sealed, sealed)
}

// Readable decrypts a kind's sealed records on every core the first
// time and opens exactly what one by one would; then it reads them from
// the cache, decrypting nothing.
func TestReadableDecryptsOnceInParallel(t *testing.T) {
	w := newSealedWorld(t)
	if err := store.DropOpened(w.coord); err != nil {
		t.Fatal(err)
	}
	one := map[incident.ID]any{}
	for _, id := range w.sealed {
		r, err := w.coord.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != incident.KindReport {
			continue
		}
		p, ok := w.coord.Open(r)
		if !ok {
			t.Fatalf("the coordinator cannot open %s", id)
		}
		one[id] = p
	}
	if err := store.DropOpened(w.coord); err != nil {
		t.Fatal(err)
	}
	before := store.Decrypts(w.coord)
	_, opened, err := w.coord.Readable(incident.KindReport)
	if err != nil {
		t.Fatal(err)
	}
	for id, p := range one {
		if !reflect.DeepEqual(opened[id], p) {
			t.Fatalf("%s: Readable opened %+v, one by one %+v", id, opened[id], p)
		}
	}
	if n := store.Decrypts(w.coord) - before; n != int64(len(one)) {
		t.Fatalf("%d decryptions for %d sealed reports", n, len(one))
	}
	before = store.Decrypts(w.coord)
	if _, again, err := w.coord.Readable(incident.KindReport); err != nil || !reflect.DeepEqual(again, opened) {
		t.Fatalf("the second read: %v", err)
	}
	if n := store.Decrypts(w.coord) - before; n != 0 {
		t.Fatalf("the second read decrypted %d records", n)
	}
}
