package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

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
	failWrite = func(k, v []byte) error {
		// The report's last write: its tuple, which carries its ID.
		if bytes.HasPrefix(k, key(tView)) && bytes.Contains(v, bad.ID[:]) {
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

// A migration stopped midway (as by a killed process) resumes where its
// last committed chunk ended: no report is indexed twice or lost, and no
// layout 1 entry is left.
func TestMigrationResumes(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	if err := os.CopyFS(home, os.DirFS("testdata/v1-home")); err != nil {
		t.Fatal(err)
	}
	migrateChunk = 2
	defer func() { migrateChunk = 250; migrateHook = nil }()
	killed := errors.New("killed")
	// Two runs each migrate one chunk (two reports) and are killed.
	migrateHook = func(done int) error { return killed }
	for run := range 2 {
		if _, err := Open(home, []byte("fixture-passphrase"), Options{}); !errors.Is(err, killed) {
			t.Fatalf("Open %d: %v", run, err)
		}
	}
	migrated := 0
	migrateHook = func(done int) error { migrated = done; return nil }
	s, err := Open(home, []byte("fixture-passphrase"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if migrated != 1 {
		t.Errorf("the resumed migration did %d reports, want the 1 left", migrated)
	}
	list, err := s.List(Filter{})
	if err != nil || len(list) != 5 {
		t.Fatalf("List: %d reports, %v", len(list), err)
	}
	seen := map[incident.ID]bool{}
	for _, v := range list {
		if seen[v.ID] {
			t.Errorf("%s listed twice", v.ID)
		}
		seen[v.ID] = true
	}
	// Every index entry and tuple has the layout 2 form, and the numbers
	// are 0–4, each once.
	seqs := map[uint32]bool{}
	err = s.view(func(txn *badger.Txn) error {
		if err := scanPrefix(txn, key(tIndex), false, func(k []byte) error {
			if !bytes.Contains(k, []byte{0}) || len(k) < indexSuffix {
				t.Errorf("odd index key %q", k)
			}
			return nil
		}); err != nil {
			return err
		}
		return scanPrefix(txn, key(tView), false, func(k []byte) error {
			if len(k) != 2+4 {
				t.Errorf("layout 1 tuple key left: %x", k)
				return nil
			}
			seqs[binary.BigEndian.Uint32(k[2:])] = true
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 5 || !seqs[0] || !seqs[4] || s.seq != 5 {
		t.Errorf("tuples under %v, next number %d", seqs, s.seq)
	}
	n := 0
	for _, idx := range []string{idxTime, idxStatus} {
		_ = s.view(func(txn *badger.Txn) error {
			return scanPrefix(txn, key(tIndex, []byte(idx), []byte{0}), false, func(k []byte) error {
				n++
				return nil
			})
		})
	}
	if n != 10 {
		t.Errorf("%d time and status entries, want 5 each (layout 1 entries left?)", n)
	}
}

// When writes keep failing (the disk, not a record), AddMany stops
// retrying after a few records and refuses the rest with the error;
// nothing of the batch is stored.
func TestAddManyFailingDisk(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	s, err := Init(t.TempDir(), []byte("pass"), Options{Now: func() time.Time { return t0 }, KDF: &vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mid, err := s.CreateMission("m", "HQ", false)
	if err != nil {
		t.Fatal(err)
	}
	var raws [][]byte
	for i := range 40 {
		r, err := s.Signer().Sign(mid, incident.KindReport, t0.Add(time.Duration(i)*time.Minute), incident.ReportPayload{
			Category: "other", Severity: 1, Occurred: t0.Add(time.Duration(i) * time.Minute).UnixMilli(), Title: fmt.Sprintf("r%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, r.Raw)
	}
	boom := errors.New("disk gone")
	failWrite = func(k, _ []byte) error {
		if bytes.HasPrefix(k, key(tView)) {
			return boom
		}
		return nil
	}
	defer func() { failWrite = nil }()
	out, err := s.AddMany(raws, "peer", nil)
	if !errors.Is(err, boom) {
		t.Fatalf("AddMany: %v, want the write error", err)
	}
	for i, r := range out {
		if r.Outcome != Rejected || !errors.Is(r.Err, boom) {
			t.Errorf("record %d: %s %v", i, r.Outcome, r.Err)
		}
	}
	failWrite = nil
	if c, _ := s.Counts(); c[incident.KindReport] != 0 {
		t.Errorf("%d reports stored", c[incident.KindReport])
	}
}
