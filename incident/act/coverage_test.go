package act

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

// heard is a unit's heard-from counts in phase order.
func heardOf(u CoverageUnit) [4]int {
	var out [4]int
	for i, p := range Phases {
		out[i] = u.Heard[p]
	}
	return out
}

// Coverage on a mission whose truth is known: seven observers, two
// regions, check-ins in every phase, a station off the registry, an
// unassigned station heard from, a revoked observer.
//
//	Nairobi/Dagoretti: A-1 (O1, O2: arrived; all_quiet without a station), A-2 (O3: opened, typed "a_2")
//	Nairobi/Kibra:     A-4 (O4: silent)
//	Mombasa/Likoni:    B-1 (O5: closed), B-2 (O7, revoked: its check-in does not count, nor its post)
//	not in the registry: ZZ-9 (O6: arrived); C-1 in the registry, nobody posted (O1 checks in there too)
func TestCoverageKnownTruth(t *testing.T) {
	labels := []string{"O1", "O2", "O3", "O4", "O5", "O6", "O7"}
	coord, obs := postMission(t, labels...)
	importStations(t, coord,
		station{"A-1", "Ayany School", []string{"Nairobi", "Dagoretti", "Kilimani"}},
		station{"A-2", "Amboseli Hall", []string{"Nairobi", "Dagoretti", "Riruta"}},
		station{"A-3", "Athi Church", []string{"Nairobi", "Dagoretti", "Riruta"}},
		station{"A-4", "Adams Arcade", []string{"Nairobi", "Kibra"}},
		station{"B-1", "Bamburi Primary", []string{"Mombasa", "Likoni", "Shika Adabu"}},
		station{"B-2", "Bofu Secondary", []string{"Mombasa", "Likoni", "Timbwani"}},
		station{"C-1", "Central Library", []string{"Mombasa", "Mvita"}})

	// Before anyone is posted, nothing is expected, and it says so.
	cov, err := coord.Coverage(CoverageQuery{Level: 1})
	if err != nil || !cov.NoAssignments || cov.Total.Expected != 0 || len(cov.Units) != 0 || len(cov.Silent) != 0 || cov.Registry != 7 {
		t.Fatalf("before assignments: %+v, %v", cov, err)
	}

	for l, code := range map[string]string{"O1": "A-1", "O2": "A-1", "O3": "A-2", "O4": "A-4", "O5": "B-1", "O6": "ZZ-9", "O7": "B-2"} {
		mustAssign(t, coord, AssignRequest{Member: l, Station: code})
	}
	for _, d := range obs {
		copyRecords(t, coord, d)
	}
	checkin := func(l, status, station string) {
		t.Helper()
		if _, err := obs[l].Checkin(incident.CheckinPayload{Status: status, Station: station}); err != nil {
			t.Fatal(err)
		}
	}
	checkin("O1", "arrived", "A-1")
	checkin("O1", "arrived", "C-1")
	checkin("O2", "all_quiet", "") // from its post
	checkin("O3", "opened", "a_2")
	checkin("O5", "closed", "B-1")
	checkin("O6", "arrived", "zz_9")
	checkin("O7", "all_quiet", "B-1")
	if _, err := coord.Revoke("O7", "phone lost", true); err != nil {
		t.Fatal(err)
	}
	for _, d := range obs {
		copyRecords(t, d, coord)
	}

	for _, c := range []struct {
		level int
		units map[string][4]int // unit → heard per phase
		exp   map[string]int
	}{
		{0, map[string][4]int{"": {2, 1, 1, 0}}, map[string]int{"": 4}},
		{1, map[string][4]int{"Nairobi": {2, 1, 0, 0}, "Mombasa": {0, 0, 1, 0}}, map[string]int{"Nairobi": 3, "Mombasa": 1}},
		{2, map[string][4]int{"Nairobi/Dagoretti": {2, 1, 0, 0}, "Nairobi/Kibra": {0, 0, 0, 0}, "Mombasa/Likoni": {0, 0, 1, 0}},
			map[string]int{"Nairobi/Dagoretti": 2, "Nairobi/Kibra": 1, "Mombasa/Likoni": 1}},
		{3, map[string][4]int{"Nairobi/Dagoretti/Kilimani": {1, 1, 0, 0}, "Nairobi/Dagoretti/Riruta": {1, 0, 0, 0},
			"Nairobi/Kibra": {0, 0, 0, 0}, "Mombasa/Likoni/Shika Adabu": {0, 0, 1, 0}},
			map[string]int{"Nairobi/Dagoretti/Kilimani": 1, "Nairobi/Dagoretti/Riruta": 1, "Nairobi/Kibra": 1, "Mombasa/Likoni/Shika Adabu": 1}},
	} {
		cov, err := coord.Coverage(CoverageQuery{Level: c.level})
		if err != nil {
			t.Fatal(err)
		}
		got, exp := map[string][4]int{}, map[string]int{}
		for _, u := range cov.Units {
			got[u.Unit], exp[u.Unit] = heardOf(u), u.Expected
		}
		if !maps.Equal(got, c.units) || !maps.Equal(exp, c.exp) {
			t.Errorf("level %d: heard %v expected %v; want %v %v", c.level, got, exp, c.units, c.exp)
		}
		if cov.Total.Expected != 4 || heardOf(cov.Total) != [4]int{2, 1, 1, 0} || cov.Assigned != 6 || cov.NoAssignments {
			t.Errorf("level %d: total %+v, assigned %d", c.level, cov.Total, cov.Assigned)
		}
	}

	// The current phase is the latest heard anywhere (closing, at B-1):
	// the stations silent in it are the Nairobi ones, by unit then code.
	cov, err = coord.Coverage(CoverageQuery{Level: 2})
	if err != nil {
		t.Fatal(err)
	}
	if cov.Current != PhaseClosing || cov.Phase != PhaseClosing || cov.Total.Silent != 3 {
		t.Fatalf("phase %s/%s, silent %d", cov.Current, cov.Phase, cov.Total.Silent)
	}
	var codes []string
	for _, s := range cov.Silent {
		codes = append(codes, s.Code)
	}
	if !slices.Equal(codes, []string{"A-1", "A-2", "A-4"}) {
		t.Fatalf("silent in closing: %v", codes)
	}
	a1 := cov.Silent[0]
	if a1.Name != "Ayany School" || a1.Unit != "Nairobi/Dagoretti" || !slices.Equal(a1.Members, []string{"O1", "O2"}) ||
		!slices.Equal(a1.Heard, []string{PhaseOpening, PhaseVoting}) || a1.Last == 0 {
		t.Fatalf("A-1 silent: %+v", a1)
	}
	if a4 := cov.Silent[2]; a4.Last != 0 || len(a4.Heard) != 0 || !slices.Equal(a4.Members, []string{"O4"}) {
		t.Fatalf("A-4 never heard from: %+v", a4)
	}

	// Asked for opening: A-4 and B-1 are silent.
	cov, err = coord.Coverage(CoverageQuery{Level: 1, Phase: PhaseOpening})
	if err != nil {
		t.Fatal(err)
	}
	codes = nil
	for _, s := range cov.Silent {
		codes = append(codes, s.Code)
	}
	if !slices.Equal(codes, []string{"B-1", "A-4"}) || cov.Units[0].Unit != "Mombasa" || cov.Units[0].Silent != 1 || cov.Units[1].Silent != 1 {
		t.Fatalf("silent at opening: %v, units %+v", codes, cov.Units)
	}
	// Off the registry, counted apart; an unposted station heard from.
	if len(cov.Unknown) != 1 || cov.Unknown[0].Code != "ZZ-9" || cov.Unknown[0].Heard[PhaseOpening] != 1 ||
		!slices.Equal(cov.Unknown[0].Members, []string{"O6"}) || cov.HeardUnassigned != 1 {
		t.Fatalf("unknown %+v, heard unassigned %d", cov.Unknown, cov.HeardUnassigned)
	}
	for _, q := range []CoverageQuery{{Level: 4}, {Level: -1}, {Phase: "lunch"}} {
		if _, err := coord.Coverage(q); !errors.Is(err, Invalid) {
			t.Errorf("Coverage(%+v): %v, want invalid", q, err)
		}
	}
}

// With no registry at all, the assigned codes are the expected stations
// (with no admin area).
func TestCoverageWithoutRegistry(t *testing.T) {
	coord, obs := postMission(t, "Heron", "Kite")
	mustAssign(t, coord, AssignRequest{Member: "Heron", Station: "PS-1"})
	mustAssign(t, coord, AssignRequest{Member: "Kite", Station: "PS-2"})
	copyRecords(t, coord, obs["Heron"])
	if _, err := obs["Heron"].Checkin(incident.CheckinPayload{Status: "opened"}); err != nil {
		t.Fatal(err)
	}
	copyRecords(t, obs["Heron"], coord)
	cov, err := coord.Coverage(CoverageQuery{Level: 1})
	if err != nil {
		t.Fatal(err)
	}
	if cov.Registry != 0 || cov.Total.Expected != 2 || len(cov.Units) != 1 || cov.Units[0].Unit != "" ||
		heardOf(cov.Total) != [4]int{1, 0, 0, 0} || len(cov.Silent) != 1 || cov.Silent[0].Code != "PS-2" || len(cov.Unknown) != 0 {
		t.Fatalf("%+v", cov)
	}
}

// HeardIn is the one mapping of records to phases.
func TestHeardIn(t *testing.T) {
	for status, want := range map[string]string{"arrived": PhaseOpening, "opened": PhaseOpening, "all_quiet": PhaseVoting, "closed": PhaseClosing} {
		if got, station, ok := HeardIn(incident.KindCheckin, &incident.CheckinPayload{Status: status, Station: "PS-1"}, nil); !ok || got != want || station != "PS-1" {
			t.Errorf("%s: %s %s %v", status, got, station, ok)
		}
	}
	for _, k := range []incident.Kind{incident.KindReport, incident.KindAlert} {
		if _, _, ok := HeardIn(k, &incident.AlertPayload{Station: "PS-1"}, nil); ok {
			t.Errorf("%s counted", k)
		}
	}
}

// The practice mission's coverage is populated: every observer posted to
// their station, opening heard from nearly everywhere, and the stations
// whose observer never said "closed" silent at closing.
func TestPracticeCoverage(t *testing.T) {
	d := New(practiceStore(t))
	all, err := d.Assignments()
	if err != nil || len(all) != 40 {
		t.Fatalf("the practice assignments: %d, %v", len(all), err)
	}
	c, err := d.Coverage(CoverageQuery{Level: 1, Phase: PhaseClosing})
	if err != nil {
		t.Fatal(err)
	}
	if c.NoAssignments || c.Registry != 300 || c.Assigned != 40 || c.Total.Expected != 40 || len(c.Units) != 4 {
		t.Fatalf("coverage: registry %d, assigned %d, expected %d, %d regions", c.Registry, c.Assigned, c.Total.Expected, len(c.Units))
	}
	if h := c.Total.Heard[PhaseOpening]; h < 30 {
		t.Fatalf("opening heard from %d of 40 stations", h)
	}
	if closed := c.Total.Heard[PhaseClosing]; closed == 0 || len(c.Silent) != c.Total.Expected-closed {
		t.Fatalf("closing: %d heard, %d silent of %d", closed, len(c.Silent), c.Total.Expected)
	}
}
