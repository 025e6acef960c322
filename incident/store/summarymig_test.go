package store

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// toLayout4 makes s's keys what layout 4 wrote: no summary counters or
// heard times, tuples without the fields layout 5 added and no entries
// in the index of located reports.
func toLayout4(t *testing.T, s *Store) {
	t.Helper()
	err := s.update(func(txn *badger.Txn) error {
		var dels [][]byte
		for _, table := range []byte{tSummary, tHeard} {
			if err := scanPrefix(txn, key(table), false, func(k []byte) error { dels = append(dels, k); return nil }); err != nil {
				return err
			}
		}
		if err := scanPrefix(txn, indexPrefix(idxLocated, ""), false, func(k []byte) error { dels = append(dels, k); return nil }); err != nil {
			return err
		}
		for _, k := range dels {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		var tuples [][]byte
		if err := scanPrefix(txn, key(tView), false, func(k []byte) error { tuples = append(tuples, k); return nil }); err != nil {
			return err
		}
		for _, k := range tuples {
			raw, err := getValue(txn, k)
			if err != nil {
				return err
			}
			tu, err := decodeTuple(raw)
			if err != nil {
				return err
			}
			tu.Created, tu.Flags, tu.When, tu.Lat, tu.Lon = 0, 0, 0, nil, nil
			v, err := cbor.Marshal(tu)
			if err != nil {
				return err
			}
			if err := txn.Set(k, v); err != nil {
				return err
			}
		}
		return txn.Set(metaKey("layout"), []byte{4})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A layout 4 store is counted once on open: its counters and heard times
// are those the store kept as the records arrived, and a migration
// killed midway resumes without counting a report twice.
func TestMigrationCountsSummary(t *testing.T) {
	home := t.TempDir()
	opts := Options{KDF: &vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}}
	s, err := Init(home, []byte("pass"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMission("m", "HQ", false); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-3 * time.Hour)
	var reps []*incident.Signed
	for i := range 7 {
		lat, lon := int64(i*1000), int64(i*2000)
		p := incident.ReportPayload{Category: "polling.violence", Severity: uint64(1 + i%4), Station: []string{"PS-1", "PS-2", ""}[i%3],
			Area: []string{"", "North"}[i%2], Occurred: at.Add(time.Duration(i) * 20 * time.Minute).UnixMilli(), Title: "t", Lat: &lat, Lon: &lon}
		r, err := s.Put(incident.KindReport, p)
		if err != nil {
			t.Fatal(err)
		}
		reps = append(reps, r)
	}
	moved := incident.ReportPayload{Category: "polling.closure", Severity: 3, Station: "PS-9", Occurred: at.UnixMilli(), Title: "moved"}
	steps := []struct {
		kind incident.Kind
		p    any
	}{
		{incident.KindAmend, incident.AmendPayload{Target: reps[0].ID.Bytes(), Report: moved}},
		{incident.KindRetract, incident.RetractPayload{Target: reps[1].ID.Bytes(), Reason: "twice"}},
		{incident.KindCheckin, incident.CheckinPayload{Status: "closed", Station: "PS-2"}},
		{incident.KindAlert, incident.AlertPayload{Note: "help", Station: "PS-7"}},
	}
	for _, st := range steps {
		if _, err := s.Put(st.kind, st.p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Review(reps[2].ID, "rejected", "not an incident"); err != nil {
		t.Fatal(err)
	}
	want, err := s.Summary(0)
	if err != nil {
		t.Fatal(err)
	}
	wantStations, wantAuthors, err := s.Heard()
	if err != nil {
		t.Fatal(err)
	}
	if want.Retracted != 1 || want.ByStatus["rejected"] != 1 || len(wantStations) != 4 {
		t.Fatalf("before: %+v, stations heard %v", want, wantStations)
	}
	toLayout4(t, s)
	s.Close()

	migrateChunk = 2
	defer func() { migrateChunk = 250; migrateHook = nil }()
	killed := errors.New("killed")
	migrateHook = func(done int) error { return killed }
	if _, err := Open(home, []byte("pass"), opts); !errors.Is(err, killed) {
		t.Fatalf("Open killed midway: %v", err)
	}
	counted := 0
	migrateHook = func(done int) error { counted = done; return nil }
	s, err = Open(home, []byte("pass"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if counted != len(reps)-2 {
		t.Errorf("the resumed migration counted %d reports, want the %d left", counted, len(reps)-2)
	}
	got, err := s.Summary(0)
	if err != nil {
		t.Fatal(err)
	}
	re, err := s.Recount()
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) || !re.Equal(want) {
		t.Errorf("migrated counters %+v\nrecount %+v\nwant %+v", got, re, want)
	}
	stations, authors, err := s.Heard()
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(stations, wantStations) || !maps.Equal(authors, wantAuthors) {
		t.Errorf("migrated heard %v %v, want %v %v", stations, authors, wantStations, wantAuthors)
	}
	located, err := s.Located(100)
	if err != nil {
		t.Fatal(err)
	}
	if len(located) != len(reps)-3 { // the moved, retracted and rejected ones aside
		t.Errorf("%d located reports after the migration, want %d", len(located), len(reps)-3)
	}
}
