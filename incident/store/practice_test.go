package store_test

import (
	"testing"

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
