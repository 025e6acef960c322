package demo

import (
	"slices"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

// The practice mission's stations are one registry import, in force:
// PS-0001…PS-0300 with their region, district and town, registered
// voters, and a quick-count sample of about a third, each in its
// region's stratum.
func TestPracticeRegistry(t *testing.T) {
	_, home := practice(t, 0)
	st := openHome(t, home)
	ms, err := st.Mission()
	if err != nil {
		t.Fatal(err)
	}
	stations, _ := st.ByKind(incident.KindStation)
	regs, _ := st.ByKind(incident.KindRegistry)
	reg := incident.FoldRegistry(stations, regs, ms)
	if reg.Snapshot == nil || len(regs) != 1 || *reg.Snapshot != regs[0].ID || len(reg.Pending) != 0 {
		t.Fatalf("the practice registry is not in force: %v, %d registry records, pending %+v", reg.Snapshot, len(regs), reg.Pending)
	}
	codes := reg.Codes()
	if len(codes) != 300 || codes[0] != "PS-0001" || codes[299] != "PS-0300" {
		t.Fatalf("codes: %d, %v…", len(codes), codes[:3])
	}
	sample, strata := 0, map[string]int{}
	for _, c := range codes {
		s := reg.Stations[c].Station
		if len(s.Admin) != 3 || s.Admin[1] != s.Area || s.Registered < 400 || s.Registered > 1600 {
			t.Fatalf("%s: admin %v, area %q, %d registered", c, s.Admin, s.Area, s.Registered)
		}
		if s.HasTag(incident.TagPVT) {
			sample++
			strata[s.Stratum()]++
		}
	}
	if sample < 80 || sample > 120 || len(strata) != 4 || strata["dunmore-coast"] == 0 {
		t.Fatalf("the pvt sample: %d stations, strata %v", sample, strata)
	}

	// The same seed gives the same registry (its records' IDs differ:
	// the founder is each home's own device key).
	_, again := practice(t, 0)
	st2 := openHome(t, again)
	ms2, _ := st2.Mission()
	stations2, _ := st2.ByKind(incident.KindStation)
	regs2, _ := st2.ByKind(incident.KindRegistry)
	reg2 := incident.FoldRegistry(stations2, regs2, ms2)
	for _, c := range codes {
		a, b := reg.Stations[c].Station, reg2.Stations[c].Station
		if a.Name != b.Name || a.Registered != b.Registered || !slices.Equal(a.Tags, b.Tags) || !slices.Equal(a.Snapshot, b.Snapshot) {
			t.Fatalf("%s differs between two runs of one seed: %+v %+v", c, a, b)
		}
	}
}
