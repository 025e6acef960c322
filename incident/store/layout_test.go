package store_test

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// testdata/v1-home is a home made by the vigil binary of commit a356562
// (store layout 1: index keys ending in the 32-byte ID, tuples under
// v/<id> without area): `vigil init`, `mission create`, five reports (one
// sealed), an amendment that moves a report's station and area, a review,
// a retraction and a check-in. testdata/v1-home.list.jsonl is what that
// binary's `vigil --json report list` printed for it.
const v1Passphrase = "fixture-passphrase"

// copyHome copies a fixture home into a temporary folder (Open writes).
func copyHome(t *testing.T, from string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "home")
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return to
}

// listed is the part of a listed report that the indexes decide.
type listed struct {
	ID         string `json:"id"`
	Category   string `json:"category"`
	Severity   int    `json:"severity"`
	Title      string `json:"title"`
	Station    string `json:"station"`
	Area       string `json:"area"`
	Status     string `json:"status"`
	Retracted  bool   `json:"retracted"`
	Amendments int    `json:"amendments"`
	Sealed     bool   `json:"sealed"`
}

func golden(t *testing.T) []listed {
	t.Helper()
	f, err := os.Open("testdata/v1-home.list.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []listed
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l listed
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func listedOf(t *testing.T, s *store.Store) []listed {
	t.Helper()
	var out []listed
	for _, v := range mustList(t, s, store.Filter{}) {
		b, err := json.Marshal(v.JSON(false))
		if err != nil {
			t.Fatal(err)
		}
		var l listed
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

// A layout 1 store opens with this code: it is migrated, and every
// record, list, filter and count is what the old code gave.
func TestOpenLayout1Store(t *testing.T) {
	home := copyHome(t, "testdata/v1-home")
	s, err := store.Open(home, []byte(v1Passphrase), store.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() { s.Close() }()
	want := map[incident.Kind]int{incident.KindMission: 1, incident.KindReport: 5, incident.KindAmend: 1,
		incident.KindReview: 1, incident.KindRetract: 1, incident.KindCheckin: 1}
	got := mustCounts(t, s)
	for _, k := range incident.Kinds {
		if got[k] != want[k] {
			t.Errorf("%d %s records, want %d", got[k], k, want[k])
		}
	}
	byKind := map[incident.Kind][]*incident.Signed{}
	for k := range want {
		recs, err := s.ByKind(k)
		if err != nil || len(recs) != want[k] {
			t.Fatalf("ByKind(%s): %d, %v", k, len(recs), err)
		}
		byKind[k] = recs
		for _, r := range recs {
			if g, err := s.Get(r.ID); err != nil || g == nil || string(g.Raw) != string(r.Raw) {
				t.Errorf("Get(%s): %v", r.ID, err)
			}
		}
	}
	check := func(s *store.Store) {
		t.Helper()
		g := golden(t)
		l := listedOf(t, s)
		if len(l) != len(g) {
			t.Fatalf("List: %d reports, the old binary listed %d", len(l), len(g))
		}
		for i := range g {
			if l[i] != g[i] {
				t.Errorf("report %d: %+v, the old binary listed %+v", i, l[i], g[i])
			}
		}
		checkIndexes(t, s, []store.Filter{{}, {Category: "polling"}, {Category: "polling.late_opening"},
			{Station: "S005"}, {Station: "S002"}, {Status: "verified"}, {Status: incident.StatusUnreviewed},
			{Author: s.Author()}, {Author: s.Author(), Station: "S001"}, {Limit: 2},
			{Since: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Until: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)}})
		areas, err := s.CountReports(store.Filter{}, store.ByArea)
		if err != nil {
			t.Fatal(err)
		}
		wantAreas := map[store.Group]int{{Area: "North"}: 2, {Area: "West"}: 1, {Area: ""}: 1, {Area: "East"}: 1}
		if !mapsEqual(areas, wantAreas) {
			t.Errorf("reports by area %v, want %v", areas, wantAreas)
		}
	}
	check(s)

	// It stays migrated, and the migrated indexes take new writes: a new
	// report, and an amendment and a review of migrated ones.
	s.Close()
	s = reopen(t, home, []byte(v1Passphrase), store.Options{})
	check(s)
	old := mustList(t, s, store.Filter{Station: "S005"})
	if len(old) != 1 {
		t.Fatalf("station S005: %d reports", len(old))
	}
	p := old[0].Report
	p.Station, p.Area = "S006", "Centre"
	amend := mustPut(t, s, incident.KindAmend, incident.AmendPayload{Target: old[0].ID.Bytes(), Report: p})
	if _, err := s.Review(old[0].ID, "escalated", "call the team"); err != nil {
		t.Fatal(err)
	}
	fresh := mustPut(t, s, incident.KindReport, report("polling.violence", "S001", time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC), "new"))
	wantList(t, s, store.Filter{Station: "S005"})
	wantList(t, s, store.Filter{Station: "S006"}, old[0].ID)
	wantList(t, s, store.Filter{Status: "escalated"}, old[0].ID)
	wantList(t, s, store.Filter{Category: "polling.violence"}, fresh.ID)
	checkIndexes(t, s, []store.Filter{{}, {Category: "polling"}, {Station: "S001"}, {Status: "verified"}, {Author: s.Author()}})
	wantHas(t, s, amend.ID, true)
}

// storeTables are the key tables a store writes (incident/store/keys.go
// and the files that declare the others). A new table must be added here
// and to the layout described in keys.go; a letter two tables share
// would mix their keys.
var storeTables = map[byte]string{
	'm': "meta", 'r': "records", 'k': "by kind", 'a': "by author", 't': "by target",
	'i': "report indexes", 'v': "report tuples", 'q': "quarantine", 'Q': "quarantine members",
	'n': "quarantine usage", 'u': "quotas", 'd': "drafts", 'f': "unreadable at a level",
	'b': "blobs held whole (layout 3)", 'P': "blob chunks", 'B': "complete blobs", 'K': "checkpoint coverage", 'h': "holders",
	'c': "receipted by a coordinator", 'C': "receipted", 'L': "kept copies of own sealed records",
	'O': "opened sealed bodies (the coordinator's cache)",
	'X': "sealed records this device cannot open",
	'A': "attachment records by content hash",
	'W': "quarantine by arrival", 'N': "quarantine usage per author key",
	'R': "custodians", 'l': "live set", 'U': "awaiting this device's receipt", 'G': "dropped once coordinators held them",
	'S': "report summary counters", 'H': "when last heard from",
}

// Every key a coordinator's store holds after sealed reports arrive,
// including the opened-plaintext cache (O/), is in a known table, and a
// layout 1 store migrated and read holds none elsewhere either.
func TestKeyTablesKnown(t *testing.T) {
	w := newSealedWorld(t)
	mustList(t, w.coord, store.Filter{})
	syncAll(t, w.coord, w.obs) // the coordinator's sealed review, which the observer cannot open
	check := func(name string, s *store.Store, want ...byte) {
		t.Helper()
		tables, err := store.KeyTables(s)
		if err != nil {
			t.Fatal(err)
		}
		for b, n := range tables {
			if _, ok := storeTables[b]; !ok {
				t.Errorf("%s: %d keys in table %q, which the layout does not know", name, n, b)
			}
		}
		for _, b := range want {
			if tables[b] == 0 {
				t.Errorf("%s: no key in table %q (%s)", name, b, storeTables[b])
			}
		}
	}
	check("coordinator", w.coord, 'O', 'r', 'v')
	check("observer", w.obs, 'L', 'X')

	home := copyHome(t, "testdata/v1-home")
	s, err := store.Open(home, []byte(v1Passphrase), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustList(t, s, store.Filter{})
	check("layout 1, migrated", s, 'r', 'v')
}
