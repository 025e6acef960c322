package gen

import (
	"path/filepath"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

// An Observation's records are all accepted by the founder's store, and
// the founder opens every sealed answer, which fits its form.
func TestObservationIsValid(t *testing.T) {
	m, err := NewMission(filepath.Join(t.TempDir(), "desk"), 40, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Founder.Close()
	if err := AddAll(m.Founder, m.Members, "test"); err != nil {
		t.Fatal(err)
	}
	to, err := m.Recipients()
	if err != nil {
		t.Fatal(err)
	}
	raws, err := m.Observation(Observation{Stations: 40, Tallies: 10}, to)
	if err != nil {
		t.Fatal(err)
	}
	if err := AddAll(m.Founder, raws, "test"); err != nil {
		t.Fatal(err)
	}
	for _, f := range PhaseForms() {
		if err := incident.CheckAnswers(&f, PhaseAnswers(7)); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
	}
	recs, opened, err := m.Founder.Readable(incident.KindResponse)
	if err != nil || len(recs) != 160 || len(opened) != 160 {
		t.Fatalf("%d responses, %d opened: %v", len(recs), len(opened), err)
	}
	counts, err := m.Founder.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if counts[incident.KindTally] != 10 || counts[incident.KindAssignment] != 40 || counts[incident.KindForm] != 4 || counts[incident.KindStation] != 40 {
		t.Fatalf("counts: %v", counts)
	}
}
