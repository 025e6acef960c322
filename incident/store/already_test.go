package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// TestRetractIdempotent: Retract writes one retract record; a second
// retract of the same report writes nothing and answers
// *AlreadyRetractedError naming the first; only the author may retract.
func TestRetractIdempotent(t *testing.T) {
	clk := newClock(t0)
	o := store.Options{Now: clk.Now}
	f := openBadger(t, o)
	createMission(t, f)
	obs := openBadger(t, o)
	enroll(t, f, obs, incident.RoleObserver, "observer")
	clk.Advance(time.Minute)
	rep := mustPut(t, obs, incident.KindReport, report("polling.late_opening", "S1", at(0, 30), "Opened late"))
	mustAdd(t, obs, f, rep.ID)

	if _, err := f.Retract(rep.ID, "not mine"); !errors.Is(err, store.ErrNotMine) {
		t.Fatalf("Retract of another's report: %v, want ErrNotMine", err)
	}
	if _, err := obs.Retract(incident.ID{1}, "none"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Retract of an unknown report: %v, want ErrNotFound", err)
	}
	first, err := obs.Retract(rep.ID, "duplicate")
	if err != nil || first.Kind != incident.KindRetract {
		t.Fatalf("Retract: %v %v", first, err)
	}
	before := mustCounts(t, obs)
	again, err := obs.Retract(rep.ID, "duplicate again")
	var already *store.AlreadyRetractedError
	if again != nil || !errors.As(err, &already) || already.Retraction != first.ID || already.Report != rep.ID || !errors.Is(err, store.ErrRetracted) {
		t.Fatalf("second Retract = %v, %v; want *AlreadyRetractedError naming %s", again, err, first.ID)
	}
	if got := mustCounts(t, obs); !mapsEqual(got, before) {
		t.Errorf("a second retraction stored records: %v, before %v", got, before)
	}
}

// TestRevokeIdempotent: revoking a revoked member writes nothing (no
// revoke, no epoch) and answers *AlreadyRevokedError naming the first.
func TestRevokeIdempotent(t *testing.T) {
	clk := newClock(t0)
	o := store.Options{Now: clk.Now}
	f := openBadger(t, o)
	createMission(t, f)
	obs := openBadger(t, o)
	enroll(t, f, obs, incident.RoleObserver, "observer")
	clk.Advance(time.Minute)
	rv, err := f.Revoke(obs.Author(), "phone lost", false)
	if err != nil {
		t.Fatal(err)
	}
	before := mustCounts(t, f)
	for _, acceptNone := range []bool{false, true} {
		again, err := f.Revoke(obs.Author(), "again", acceptNone)
		var already *store.AlreadyRevokedError
		if again.Record != nil || again.Epoch != nil || !errors.As(err, &already) || already.Revocation != rv.Record.ID ||
			already.Member != obs.Author() || !errors.Is(err, store.ErrRevoked) {
			t.Fatalf("second Revoke = %+v, %v; want *AlreadyRevokedError naming %s", again, err, rv.Record.ID)
		}
	}
	if got := mustCounts(t, f); !mapsEqual(got, before) {
		t.Errorf("a second revocation stored records: %v, before %v", got, before)
	}
}

// A revocation whose epoch never started (written without one, or the
// first call failed between the two records) gets its epoch from the next
// Revoke of the same member, and only then is the member "already
// revoked".
func TestRevokeCompletesMissingEpoch(t *testing.T) {
	clk := newClock(t0)
	o := store.Options{Now: clk.Now}
	f := openBadger(t, o)
	createMission(t, f)
	obs := openBadger(t, o)
	enroll(t, f, obs, incident.RoleObserver, "observer")
	clk.Advance(time.Minute)
	a := obs.Author()
	rev, err := f.Put(incident.KindRevoke, incident.RevokePayload{Member: a[:], Reason: "by hand"})
	if err != nil {
		t.Fatal(err)
	}
	ms := mustMission(t, f)
	if n := ms.EpochNumber(); n != 1 {
		t.Fatalf("epoch %d before, want 1", n)
	}
	got, err := f.Revoke(a, "again", false)
	if err != nil || got.Epoch == nil || got.Record == nil || got.Record.ID != rev.ID {
		t.Fatalf("Revoke of a revoked member with no epoch = %+v, %v; want the missing epoch", got, err)
	}
	if n := mustMission(t, f).EpochNumber(); n != 2 {
		t.Fatalf("epoch %d after, want 2", n)
	}
	if _, err := f.Revoke(a, "third", false); !errors.Is(err, store.ErrRevoked) {
		t.Fatalf("third Revoke: %v, want already revoked", err)
	}
}
