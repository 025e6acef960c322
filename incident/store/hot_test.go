package store

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// checkHot fails unless every hot key the cache holds has the value the
// database holds.
func checkHot(t *testing.T, s *Store) {
	t.Helper()
	s.hot.mu.Lock()
	defer s.hot.mu.Unlock()
	if len(s.hot.m) == 0 {
		t.Fatal("the hot cache is empty: nothing was checked")
	}
	err := s.db.View(func(txn *badger.Txn) error {
		for k, c := range s.hot.m {
			v, err := getValue(txn, []byte(k))
			switch {
			case errors.Is(err, badger.ErrKeyNotFound):
				if !c.absent {
					t.Errorf("cache holds %q = %x; the database holds nothing", k, c.v)
				}
			case err != nil:
				return err
			case c.absent || !bytes.Equal(v, c.v):
				t.Errorf("cache holds %q = %x (absent %v); the database %x", k, c.v, c.absent, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A batch dropped after it wrote hot keys (a report's author heard time,
// then a failed write of its station's) leaves the cache as committed:
// the records written again without the failed one count once, and the
// counters and heard times the store keeps equal a recount.
func TestHotCacheSurvivesDroppedBatch(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	s, err := Init(t.TempDir(), []byte("pass"), Options{Now: func() time.Time { return t0.Add(time.Hour) }, KDF: &vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mid, err := s.CreateMission("m", "HQ", false)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := incident.NewSigner(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Signer().SignToken(incident.Token{Mission: mid.Bytes(), Role: incident.RoleObserver, Label: "o", Nonce: []byte("nonce-0123456789")})
	member, err := obs.Sign(mid, incident.KindMember, t0, incident.MemberPayload{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	report := func(i int) *incident.Signed {
		at := t0.Add(time.Duration(i) * time.Minute)
		r, err := obs.Sign(mid, incident.KindReport, at, incident.ReportPayload{
			Category: "other", Severity: 1, Station: fmt.Sprintf("PS-%d", i%2), Occurred: at.UnixMilli(), Title: fmt.Sprintf("r%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// A first batch fills the cache.
	raws := [][]byte{member.Raw}
	for i := range 4 {
		raws = append(raws, report(i).Raw)
	}
	if _, err := s.AddMany(raws, "peer", nil); err != nil {
		t.Fatal(err)
	}
	checkHot(t, s)
	raws = nil
	var bad *incident.Signed
	for i := 4; i < 10; i++ {
		r := report(i)
		if i == 9 {
			bad = r
		}
		raws = append(raws, r.Raw)
	}
	boom := errors.New("disk on fire")
	badStation := heardStationKey("PS-1")
	failWrite = func(k, v []byte) error {
		var h heard
		if bytes.Equal(k, badStation) && cbor.Unmarshal(v, &h) == nil && h.Last == bad.Created {
			return boom
		}
		return nil
	}
	defer func() { failWrite = nil }()
	out, err := s.AddMany(raws, "peer", nil)
	failWrite = nil
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out {
		if want := map[bool]Outcome{true: Rejected, false: Accepted}[r.ID == bad.ID]; r.Outcome != want {
			t.Errorf("%s: %s %v, want %s", r.ID, r.Outcome, r.Err, want)
		}
	}
	checkHot(t, s)
	// The author and station were last heard at the latest reports
	// stored, not at the failed one's time; the counters count 9 reports.
	sum, err := s.Summary(0)
	if err != nil {
		t.Fatal(err)
	}
	re, err := s.Recount()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Incidents() != 9 {
		t.Errorf("summary counts %+v, want 9 reports", sum)
	}
	if sum.ByStation["PS-1"] != re.ByStation["PS-1"] || sum.ByStation["PS-0"] != re.ByStation["PS-0"] || sum.Incidents() != re.Incidents() {
		t.Errorf("summary %+v, recount %+v", sum, re)
	}
	stations, authors, err := s.Heard()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := authors[obs.Author()].Last, report(8).Created; got != want {
		t.Errorf("author heard at %d, want %d", got, want)
	}
	if got, want := stations["PS-1"].Last, report(7).Created; got != want {
		t.Errorf("PS-1 heard at %d, want %d", got, want)
	}
	// Once the disk recovers the failed report counts too, once.
	if r := s.Add(bad.Raw, "peer"); r.Outcome != Accepted {
		t.Fatalf("retry: %s %v", r.Outcome, r.Err)
	}
	checkHot(t, s)
	if sum, _ = s.Summary(0); sum.Incidents() != 10 || sum.ByStation["PS-1"] != 5 {
		t.Errorf("after the retry: %+v", sum)
	}
}
