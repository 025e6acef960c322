package store

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// A write that fails halfway through a record (after its record and
// order keys are in the transaction, before its index tuple) drops that
// record whole and keeps every other record of the batch: the batch's
// transaction is discarded and the others are written again without it.
func TestAddManyFailedWriteDropsOnlyThatRecord(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	home := t.TempDir()
	s, err := Init(home, []byte("pass"), Options{Now: func() time.Time { return t0 }, KDF: &vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
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
	raws := [][]byte{member.Raw}
	var reports []*incident.Signed
	for i := range 6 {
		r, err := obs.Sign(mid, incident.KindReport, t0.Add(time.Duration(i)*time.Minute), incident.ReportPayload{
			Category: "other", Severity: 1, Occurred: t0.Add(time.Duration(i) * time.Minute).UnixMilli(), Title: fmt.Sprintf("r%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, r)
		raws = append(raws, r.Raw)
	}
	bad := reports[3]
	boom := errors.New("disk on fire")
	failWrite = func(k []byte) error {
		if bytes.Equal(k, key(tView, bad.ID[:])) {
			return boom
		}
		return nil
	}
	defer func() { failWrite = nil }()
	out, err := s.AddMany(raws, "peer", nil)
	if err != nil {
		t.Fatal(err)
	}
	failWrite = nil
	for i, r := range out {
		want := Accepted
		if r.ID == bad.ID {
			want = Rejected
			if !errors.Is(r.Err, boom) {
				t.Errorf("failed record's error: %v", r.Err)
			}
		}
		if r.Outcome != want {
			t.Errorf("record %d: %s %v, want %s", i, r.Outcome, r.Err, want)
		}
	}
	if has, _ := s.Has(bad.ID); has {
		t.Error("the failed record is stored")
	}
	// Nothing of it is left in any table: its order key, its author order
	// key and its index entries went with its transaction.
	counts, err := s.Counts()
	if err != nil || counts[incident.KindReport] != len(reports)-1 {
		t.Errorf("%d reports in the kind order, want %d (%v)", counts[incident.KindReport], len(reports)-1, err)
	}
	byAuthor, err := s.ByAuthor(obs.Author())
	if err != nil || len(byAuthor) != len(reports) { // the member record and five reports
		t.Errorf("%d records in the author order, want %d (%v)", len(byAuthor), len(reports), err)
	}
	list, err := s.List(Filter{})
	if err != nil || len(list) != len(reports)-1 {
		t.Errorf("List: %d reports, want %d (%v)", len(list), len(reports)-1, err)
	}
	// The replay applied the member record to the mission state again.
	ms, _ := s.Mission()
	if role, _ := ms.Role(obs.Author()); role != incident.RoleObserver {
		t.Errorf("observer role %q", role)
	}
	// The record can be added again once the disk recovers.
	if r := s.Add(bad.Raw, "peer"); r.Outcome != Accepted {
		t.Errorf("retry: %s %v", r.Outcome, r.Err)
	}
}
