package store_test

import (
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// A practice mission is marked in its signed genesis, so a device that
// joins it by invite knows it is practice without any setting of its own;
// a real mission is not practice anywhere.
func TestPracticeMissionReachesJoiners(t *testing.T) {
	for _, practice := range []bool{true, false} {
		coord := openBadger(t, store.Options{})
		if _, err := coord.CreateMissionWith(store.MissionSpec{Name: "Marenta drill", Label: "HQ", Practice: practice}); err != nil {
			t.Fatal(err)
		}
		obs := openBadger(t, store.Options{})
		enroll(t, coord, obs, incident.RoleObserver, "obs-1")
		for name, s := range map[string]*store.Store{"founder": coord, "joiner": obs} {
			if got := s.Practice(); got != practice {
				t.Errorf("practice mission %v: %s Practice() = %v", practice, name, got)
			}
			ms, err := s.Mission()
			if err != nil {
				t.Fatal(err)
			}
			if ms.Mission.Practice != practice {
				t.Errorf("%s genesis Practice = %v, want %v", name, ms.Mission.Practice, practice)
			}
		}
	}
}

// The device-local mark still works for practice stores made before the
// genesis carried it.
func TestPracticeMetaMark(t *testing.T) {
	s := openBadger(t, store.Options{})
	createMission(t, s)
	if s.Practice() {
		t.Fatal("a new real mission reads as practice")
	}
	if err := s.SetMeta(store.MetaPractice, []byte("1")); err != nil {
		t.Fatal(err)
	}
	if !s.Practice() {
		t.Fatal("the practice meta mark is ignored")
	}
}

// RevokedUnaccepted picks out the records of a revoked member that no
// revocation accepts, as Mission().Revocations and Confirmed would.
func TestRevokedUnaccepted(t *testing.T) {
	coord := openBadger(t, store.Options{})
	createMission(t, coord)
	obs := openBadger(t, store.Options{})
	enroll(t, coord, obs, incident.RoleObserver, "obs")
	gone := openBadger(t, store.Options{})
	enroll(t, coord, gone, incident.RoleObserver, "gone")
	kept := mustPut(t, gone, incident.KindReport, report("polling.late_opening", "S1", time.Now().Add(-time.Hour), "Before the loss"))
	later := mustPut(t, gone, incident.KindReport, report("polling.intimidation", "S1", time.Now(), "After the loss"))
	honest := mustPut(t, obs, incident.KindReport, report("polling.late_opening", "S2", time.Now(), "Honest"))
	for _, r := range []*incident.Signed{kept, later, honest} {
		if coord.RevokedUnaccepted(r.Raw) {
			t.Fatalf("%q refused before any revocation", r.ID)
		}
	}
	mustPut(t, coord, incident.KindRevoke, incident.RevokePayload{Member: ab(gone.Author()), Accepted: [][]byte{kept.ID.Bytes()}, Reason: "phone lost"})
	for r, want := range map[*incident.Signed]bool{kept: false, later: true, honest: false} {
		if got := coord.RevokedUnaccepted(r.Raw); got != want {
			t.Errorf("%s: RevokedUnaccepted = %v, want %v", r.ID, got, want)
		}
	}
	if coord.RevokedUnaccepted([]byte("not a record")) {
		t.Error("garbage counts as a revoked member's record")
	}
}
