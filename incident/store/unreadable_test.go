package store_test

import (
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// reportMap is a report payload as a newer build might write it: the
// fields this build knows, plus extra (keys it does not know).
func reportMap(title string, at time.Time, extra map[uint64]any) map[uint64]any {
	m := map[uint64]any{1: "polling.late_opening", 2: uint64(2), 3: at.UnixMilli(), 9: title}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// The store indexes, as it stores them, the records a device at format
// level 0 cannot store, and Unreadable(0) lists exactly those: records of
// unknown kinds, payloads with fields a newer build added (nested ones
// too), configs with settings; records released from quarantine are
// indexed as well. No level from incident.FormatLevel on has any, and the
// index survives a reopen.
func TestUnreadableIndex(t *testing.T) {
	clk := newClock(t0)
	s, home := initHome(t, t.TempDir(), store.Options{Now: clk.Now})
	mission := createMission(t, s)
	obs, _ := initHome(t, t.TempDir(), store.Options{Now: clk.Now})
	obsMember := enroll(t, s, obs, incident.RoleObserver, "observer")
	late, _ := initHome(t, t.TempDir(), store.Options{Now: clk.Now})
	lateMember := joinOnly(t, s, late, incident.RoleObserver)

	coord, observer := s.Signer(), obs.Signer()
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	legacyReport := mustPut(t, s, incident.KindReport, report("polling.late_opening", "PS-0001", at(0), "legacy"))
	type rec struct {
		name     string
		rec      *incident.Signed
		readable bool // at level 0
	}
	recs := []rec{
		{"legacy report", legacyReport, true},
		{"legacy config", mustSign(t, coord, mission, incident.KindConfig, at(1), incident.ConfigPayload{AttachmentBudget: 1 << 20}), true},
		{"legacy amend", mustSign(t, coord, mission, incident.KindAmend, at(2), incident.AmendPayload{
			Target: legacyReport.ID.Bytes(), Report: report("polling.late_opening", "PS-0002", at(0), "moved")}), true},
		{"unknown kind by the coordinator", mustSign(t, coord, mission, "bulletin", at(3), map[uint64]any{1: "Road to PS-0042 unsafe"}), false},
		{"unknown kind by an observer", mustSign(t, observer, mission, "petition", at(4), map[uint64]any{1: "PS-0042", 2: uint64(7)}), false},
		{"report with key 16", mustSign(t, observer, mission, incident.KindReport, at(5), reportMap("newer", at(5), map[uint64]any{16: "form-7"})), false},
		{"amend with key 16 in its report", mustSign(t, coord, mission, incident.KindAmend, at(6), map[uint64]any{
			1: legacyReport.ID.Bytes(), 2: reportMap("amended", at(0), map[uint64]any{16: "form-7"})}), false},
		{"config with settings", mustSign(t, coord, mission, incident.KindConfig, at(7), incident.ConfigPayload{
			Settings: map[string]string{"future.setting": "on"}}), false},
	}
	want := map[incident.ID]bool{}
	for _, r := range recs[1:] {
		if res := s.Add(r.rec.Raw, "peer"); res.Outcome != store.Accepted {
			t.Fatalf("%s: %s %v", r.name, res.Outcome, res.Err)
		}
	}
	// Records of this build that level 0 cannot store either: the
	// mission's first epoch record (a kind level 0 does not know) and the
	// observer's member record (its token names an invite key, which a
	// level-0 build refuses).
	epochs, err := s.ByKind(incident.KindEpoch)
	if err != nil || len(epochs) != 1 {
		t.Fatalf("ByKind(epoch) = %d records, %v; want the mission's epoch 1", len(epochs), err)
	}
	obsRec, err := s.Get(obsMember)
	if err != nil || obsRec == nil {
		t.Fatalf("Get(observer's member record) = %v, %v", obsRec, err)
	}
	recs = append(recs, rec{"epoch 1", epochs[0], false}, rec{"member record with an invite key", obsRec, false})
	for _, r := range recs {
		if r.rec.ReadableAt(0) != r.readable {
			t.Fatalf("%s: ReadableAt(0) = %v, the test expects %v", r.name, r.rec.ReadableAt(0), r.readable)
		}
		if !r.readable {
			want[r.rec.ID] = true
		}
	}
	// An unknown kind by a member this store has not heard of waits in
	// quarantine, unindexed; the member record releases and indexes it.
	waiting := mustSign(t, late.Signer(), mission, "bulletin", at(8), map[uint64]any{1: "late"})
	wantOutcome(t, s, waiting, "peer", store.Quarantined)
	check := func(s *store.Store, want map[incident.ID]bool) {
		t.Helper()
		got, err := s.Unreadable(0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("Unreadable(0) has %d records, want %d", len(got), len(want))
		}
		for _, r := range append(recs, rec{"released", waiting, false}) {
			if got[r.rec.ID] != want[r.rec.ID] {
				t.Errorf("%s: in Unreadable(0) = %v, want %v", r.name, got[r.rec.ID], want[r.rec.ID])
			}
		}
		// Every record stored is listed exactly when level 0 cannot read it.
		err = s.ForEachKey(func(_ int64, id incident.ID) error {
			r, err := s.Get(id)
			if err != nil {
				return err
			}
			if r.ReadableAt(0) == got[id] {
				t.Errorf("%s %s: ReadableAt(0) = %v, listed = %v", r.Kind, id, r.ReadableAt(0), got[id])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, level := range []int{incident.FormatLevel, incident.FormatLevel + 1} {
			if got, err := s.Unreadable(level); err != nil || len(got) != 0 {
				t.Errorf("Unreadable(%d) = %d records, %v; want none", level, len(got), err)
			}
		}
	}
	check(s, want)
	res := transfer(t, late, s, lateMember)
	if res.Outcome != store.Accepted || len(res.Released) != 1 {
		t.Fatalf("member record: %s, released %d", res.Outcome, len(res.Released))
	}
	want[waiting.ID] = true
	want[lateMember] = true // its token names an invite key too
	check(s, want)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(reopen(t, home, passphrase, store.Options{Now: clk.Now}), want)
}
