package store_test

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Records a newer build wrote (a kind this build does not know, a field it
// does not know) are stored like any valid record: held after a reopen,
// listed by Kinds, offered by ForEachKey (so reconciliation offers them),
// counted; and a flood of them runs into the same per-author quota as
// known kinds.
func TestNewerRecordsStoredAndBounded(t *testing.T) {
	home := t.TempDir()
	coord, _ := initHome(t, home, store.Options{Now: func() time.Time { return t0 }})
	mission := createMission(t, coord)
	obsHome := t.TempDir()
	obs, _ := initHome(t, obsHome, store.Options{Now: func() time.Time { return t0 }})
	enroll(t, coord, obs, incident.RoleObserver, "Kibra 1")
	signer := obs.Signer()

	bulletin := mustSign(t, coord.Signer(), mission, "bulletin", t0.Add(time.Minute), map[uint64]any{1: "Road to PS-0042 unsafe"})
	tally := mustSign(t, signer, mission, "petition", t0.Add(2*time.Minute), map[uint64]any{1: "PS-0042", 2: map[string]any{"A": uint64(120)}})
	newerReport := mustSign(t, signer, mission, incident.KindReport, t0.Add(3*time.Minute), map[uint64]any{
		1: "polling.late_opening", 2: uint64(2), 3: t0.UnixMilli(), 9: "Opened late", 16: "form-7"})
	for _, r := range []*incident.Signed{bulletin, tally, newerReport} {
		if res := coord.Add(r.Raw, "peer"); res.Outcome != store.Accepted {
			t.Fatalf("%s %s: %s %v", r.Kind, r.ID, res.Outcome, res.Err)
		}
	}
	kinds, err := coord.Kinds()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(kinds); !slices.Equal(kinds[n-2:], []incident.Kind{"bulletin", "petition"}) {
		t.Fatalf("Kinds() = %v, want the known kinds then bulletin, petition", kinds)
	}
	offered := map[incident.ID]bool{}
	if err := coord.ForEachKey(func(_ int64, id incident.ID) error { offered[id] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*incident.Signed{bulletin, tally, newerReport} {
		if !offered[r.ID] {
			t.Errorf("ForEachKey does not offer the %s record", r.Kind)
		}
	}
	counts := mustCounts(t, coord)
	if counts["bulletin"] != 1 || counts["petition"] != 1 {
		t.Fatalf("Counts() = %v", counts)
	}
	if newer, err := coord.CountNewer(); err != nil || !maps.Equal(newer, map[incident.Kind]int{"bulletin": 1, "petition": 1}) {
		t.Fatalf("CountNewer() = %v, %v", newer, err)
	}
	// The report with a newer field lists like any report, flagged.
	views := mustList(t, coord, store.Filter{})
	var got *incident.ReportView
	for i := range views {
		if views[i].ID == newerReport.ID {
			got = &views[i]
		}
	}
	if got == nil || got.Report.Title != "Opened late" || !got.HasFlag(incident.FlagNewerFields) {
		t.Fatalf("the report with a newer field lists as %+v", got)
	}
	// A coordinator receipts them like observers' records, so their
	// authors see "held by a coordinator".
	un, err := coord.Unreceipted(100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(un, tally.ID) || !slices.Contains(un, newerReport.ID) || slices.Contains(un, bulletin.ID) {
		t.Fatalf("Unreceipted = %v: want the observer's petition and report, not the coordinator's own bulletin", un)
	}
	coord.Close()
	again := reopen(t, home, passphrase, store.Options{Now: func() time.Time { return t0 }})
	if r, err := again.Get(tally.ID); err != nil || r == nil || string(r.Raw) != string(tally.Raw) {
		t.Fatalf("after reopen, the tally record is %v, %v", r, err)
	}

	// A flood of unknown-kind records by one observer stops at the same
	// quota as reports.
	var flood [][]byte
	for i := range incident.QuotaObserverRecords + 10 {
		flood = append(flood, mustSign(t, signer, mission, "petition", t0.Add(time.Duration(i)*time.Second),
			map[uint64]any{1: "PS-0042", 2: uint64(i)}).Raw)
	}
	out, err := again.AddMany(flood, "peer", nil)
	if err != nil {
		t.Fatal(err)
	}
	accepted, quota := 0, 0
	for _, r := range out {
		switch {
		case r.Outcome == store.Accepted:
			accepted++
		case errors.Is(r.Err, store.ErrQuota):
			quota++
		}
	}
	// The observer had signed a tally and a report already.
	if accepted != incident.QuotaObserverRecords-2 || quota != 12 {
		t.Fatalf("flood: %d accepted, %d over quota; want %d and 12", accepted, quota, incident.QuotaObserverRecords-2)
	}
}

// A record of a newer schema version is refused as unreadable, not as
// invalid, and leaves the store as it was.
func TestNewerVersionRefusedWithoutBlame(t *testing.T) {
	s, _ := initHome(t, t.TempDir(), store.Options{Now: func() time.Time { return t0 }})
	mission := createMission(t, s)
	r := mustSign(t, s.Signer(), mission, incident.KindCheckin, t0, incident.CheckinPayload{Status: "arrived"})
	rec := r.Record
	rec.Version = 2
	raw, err := incident.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	before := mustCounts(t, s)
	res := s.Add(raw, "peer")
	if res.Outcome != store.Rejected || !incident.IsNewer(res.Err) || incident.IsRejected(res.Err) {
		t.Fatalf("Add(version 2) = %s %v, want refused as newer, not rejected as invalid", res.Outcome, res.Err)
	}
	if after := mustCounts(t, s); !maps.Equal(before, after) {
		t.Fatalf("counts changed: %v → %v", before, after)
	}
}
