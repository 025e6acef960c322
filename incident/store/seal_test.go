package store_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// rawContains reports whether any stored record's signed bytes contain s.
func rawContains(t *testing.T, st *store.Store, s string) bool {
	t.Helper()
	for _, k := range incident.Kinds {
		recs, err := st.ByKind(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if bytes.Contains(r.Raw, []byte(s)) {
				return true
			}
		}
	}
	return false
}

func TestSealedReportCarrierCannotRead(t *testing.T) {
	coord, _ := initHome(t, t.TempDir(), store.Options{})
	obs, _ := initHome(t, t.TempDir(), store.Options{})
	carrier, _ := initHome(t, t.TempDir(), store.Options{})
	createMission(t, coord)
	enroll(t, coord, obs, incident.RoleObserver, "kestrel")
	enroll(t, coord, carrier, incident.RoleCarrier, "mule")
	syncAll(t, coord, obs)
	syncAll(t, coord, carrier)

	const secret = "Commander Ochieng's men beat the presiding officer"
	rep := report("polling.violence", "PS-0099", time.Now(), secret)
	rec, err := obs.PutSealed(incident.KindReport, nil, rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Sealed) == 0 || bytes.Contains(rec.Raw, []byte(secret)) {
		t.Fatal("the sealed record carries its text in the clear")
	}
	// The author still reads its own copy.
	if v, err := obs.Report(rec.ID); err != nil || !v.Opened || v.Report.Title != secret {
		t.Fatalf("author's view: %+v, %v", v, err)
	}
	// The carrier stores and forwards ciphertext it cannot read.
	syncAll(t, obs, carrier)
	v, err := carrier.Report(rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Sealed || v.Opened || v.Report.Title != "" {
		t.Fatalf("carrier reads the sealed report: %+v", v)
	}
	if rawContains(t, carrier, secret) {
		t.Fatal("the carrier's records contain the text")
	}
	if got := mustList(t, carrier, store.Filter{Category: "polling.violence"}); len(got) != 0 {
		t.Fatal("the carrier indexed the sealed report by its category")
	}
	// The coordinator reads the original, and finds it by category.
	syncAll(t, carrier, coord)
	v, err = coord.Report(rec.ID)
	if err != nil || !v.Opened || v.Report.Title != secret || v.Report.Station != "PS-0099" {
		t.Fatalf("coordinator's view: %+v, %v", v, err)
	}
	wantList(t, coord, store.Filter{Category: "polling.violence"}, rec.ID)

	// A sealed review by the coordinator: the carrier sees a review but not
	// its status; the observer's status comes from what it can read.
	rv, err := coord.PutSealed(incident.KindReview, &rec.ID, incident.ReviewPayload{Target: rec.ID.Bytes(), Status: "verified", Note: "called the officer"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(rv.Raw, []byte("called the officer")) {
		t.Fatal("the sealed review carries its note in the clear")
	}
	if v, _ := coord.Report(rec.ID); v.Status != "verified" {
		t.Fatalf("coordinator's status %q, want verified", v.Status)
	}

	// A receipt from the coordinator ends the author's readable copy.
	rc := mustPut(t, coord, incident.KindReceipt, incident.ReceiptPayload{IDs: [][]byte{rec.ID.Bytes()}})
	mustAdd(t, coord, obs, rc.ID)
	if v, _ := obs.Report(rec.ID); v.Opened || v.Report.Title != "" {
		t.Fatal("the author still reads its sealed report after a coordinator's receipt")
	}
}

// A coordinator enrolled later reads what is sealed after its enrollment,
// not what was sealed before.
func TestLaterCoordinatorReadsLaterSeals(t *testing.T) {
	founder, _ := initHome(t, t.TempDir(), store.Options{})
	obs, _ := initHome(t, t.TempDir(), store.Options{})
	late, _ := initHome(t, t.TempDir(), store.Options{})
	createMission(t, founder)
	enroll(t, founder, obs, incident.RoleObserver, "kestrel")
	syncAll(t, founder, obs)
	before, err := obs.PutSealed(incident.KindReport, nil, report("polling.vote_buying", "PS-0001", time.Now(), "before"))
	if err != nil {
		t.Fatal(err)
	}
	enroll(t, founder, late, incident.RoleCoordinator, "second desk")
	syncAll(t, founder, obs)
	after, err := obs.PutSealed(incident.KindReport, nil, report("polling.vote_buying", "PS-0001", time.Now(), "after"))
	if err != nil {
		t.Fatal(err)
	}
	syncAll(t, founder, late)
	syncAll(t, obs, late)
	if v, _ := late.Report(after.ID); !v.Opened || v.Report.Title != "after" {
		t.Fatalf("later coordinator cannot read a report sealed after its enrollment: %+v", v)
	}
	if v, _ := late.Report(before.ID); v.Opened {
		t.Fatal("later coordinator reads a report sealed before its enrollment")
	}
	syncAll(t, obs, founder)
	if v, _ := founder.Report(before.ID); !v.Opened {
		t.Fatal("the founder cannot read a sealed report")
	}
}
