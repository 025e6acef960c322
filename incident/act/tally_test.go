package act

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
)

// tallyMission is a mission (sealed unless noSeal) with a coordinator
// and observers on stepping clocks, so that an observer's correction is
// always later than its first tally.
func tallyMission(t *testing.T, noSeal bool, labels ...string) (coord *Desk, obs map[string]*Desk) {
	t.Helper()
	coord = steppingDesk(t, "coord")
	if _, err := coord.CreateMission(store.MissionSpec{Name: "Count", Label: "Desk", NoSeal: noSeal}); err != nil {
		t.Fatal(err)
	}
	obs = map[string]*Desk{}
	for _, l := range labels {
		d := steppingDesk(t, l)
		join(t, coord, d, incident.RoleObserver, l)
		obs[l] = d
	}
	for _, d := range obs {
		copyRecords(t, coord, d)
	}
	return coord, obs
}

// registryOf signs stations as one registry snapshot on d.
func registryOf(t *testing.T, d *Desk, rows ...incident.StationPayload) {
	t.Helper()
	snap := make([]byte, 32)
	rand.Read(snap)
	var ids []incident.ID
	for _, r := range rows {
		r.Snapshot = snap
		rec, err := d.st.Put(incident.KindStation, r)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.ID)
	}
	if _, err := d.st.Put(incident.KindRegistry, incident.RegistryPayload{Snapshot: snap, Count: uint64(len(rows)), Root: incident.RegistryRoot(ids)}); err != nil {
		t.Fatal(err)
	}
}

func pvtStation(code string, registered uint64, stratum string, pvt bool) incident.StationPayload {
	s := incident.StationPayload{Code: code, Name: "School " + code, Admin: []string{"Region", "District"}, Registered: registered}
	if stratum != "" {
		s.Tags = append(s.Tags, incident.TagStratum+stratum)
	}
	if pvt {
		s.Tags = append(s.Tags, incident.TagPVT)
	}
	return s
}

// sheet is a sound tally at station with registered voters: turnout 70 %.
func sheet(station string, registered uint64, a, b uint64) TallyRequest {
	return TallyRequest{Station: station, Contest: "presidential", Registered: registered, Issued: a + b + 20, Cast: a + b + 10,
		Invalid: 6, Blank: 4, Votes: []incident.VoteCount{{Choice: "Amara", Votes: a}, {Choice: "Bello", Votes: b}}}
}

func mustTally(t *testing.T, d *Desk, r TallyRequest) TallySubmitted {
	t.Helper()
	s, err := d.SubmitTally(r)
	if err != nil {
		t.Fatalf("SubmitTally(%+v): %v", r, err)
	}
	return s
}

// Results on a sealed mission whose truth is known:
//
//	A-1 (pvt, north): O1 and O2 agree             → consolidated
//	A-2 (pvt, north): O1 and O2 differ on Bello   → flagged, side by side
//	A-3 (pvt, north): O3's sheet does not add up, then its correction → ok
//	B-1 (pvt, south): O3                           → ok
//	B-2 (pvt, south): O1, typed "b_2"              → ok
//	B-3 (south), C-1 (no stratum): nobody          → missing
//	ZZ-9: O2, off the registry                      → counted apart
//
// The quick count uses, B-1 and B-2, excludes A-2 and equals
// incident.QuickCount on those four.
func TestResultsKnownTruth(t *testing.T) {
	coord, obs := tallyMission(t, false, "O1", "O2", "O3")
	registryOf(t, coord, pvtStation("A-1", 900, "north", true), pvtStation("A-2", 800, "north", true), pvtStation("A-3", 700, "north", true),
		pvtStation("B-1", 600, "south", true), pvtStation("B-2", 500, "south", true), pvtStation("B-3", 400, "south", false),
		pvtStation("C-1", 300, "", false))
	for _, d := range obs {
		copyRecords(t, coord, d)
	}

	s := mustTally(t, obs["O1"], sheet("a 1", 900, 400, 220))
	if !s.Sealed || s.Station != "A-1" || len(s.Flagged) != 0 || len(s.Checks) != 5 || s.NotInRegistry {
		t.Fatalf("a sound tally: %+v", s)
	}
	mustTally(t, obs["O2"], sheet("A-1", 900, 400, 220))
	mustTally(t, obs["O1"], sheet("A-2", 800, 300, 250))
	mustTally(t, obs["O2"], sheet("A-2", 800, 300, 251))
	bad := sheet("A-3", 700, 250, 200)
	bad.Cast = 465 // 450 + 6 + 4 = 460
	s = mustTally(t, obs["O3"], bad)
	if len(s.Flagged) != 1 || s.Flagged[0].Name != incident.CheckSum || s.Flagged[0].Detail != "votes 450 + invalid 6 + blank 4 = 460 ≠ cast 465" {
		t.Fatalf("a tally that does not add up is stored and flagged: %+v", s)
	}
	mustTally(t, obs["O3"], sheet("A-3", 700, 250, 200)) // the correction
	mustTally(t, obs["O3"], sheet("B-1", 600, 200, 220))
	mustTally(t, obs["O1"], sheet("b_2", 500, 150, 180))
	if s := mustTally(t, obs["O2"], sheet("zz-9", 100, 10, 20)); !s.NotInRegistry {
		t.Fatalf("a station off the registry: %+v", s)
	}
	for _, d := range obs {
		copyRecords(t, d, coord)
	}

	r, err := coord.Results(ResultsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	// The tallies are sealed: coverage, the coordinators' view, opens
	// them and counts the count where an observer is posted.
	for l, code := range map[string]string{"O1": "A-1", "O3": "A-3"} {
		if _, err := coord.Assign(AssignRequest{Member: l, Station: code}); err != nil {
			t.Fatal(err)
		}
	}
	if cov, err := coord.Coverage(CoverageQuery{}); err != nil || cov.Total.Expected != 2 || cov.Total.Heard[PhaseCounting] != 2 {
		t.Fatalf("coverage of sealed tallies: %+v, %v", cov.Total, err)
	}
	status := map[string]string{}
	byCode := map[string]StationResult{}
	for _, st := range r.Stations {
		status[st.Code] = st.Status
		byCode[st.Code] = st
	}
	want := map[string]string{"A-1": StatusConsolidated, "A-2": StatusFlagged, "A-3": StatusOK, "B-1": StatusOK, "B-2": StatusOK, "B-3": StatusMissing, "C-1": StatusMissing}
	if r.Contest != "presidential" || r.Registry != 7 || len(status) != 7 {
		t.Fatalf("results: %+v", r)
	}
	for code, w := range want {
		if status[code] != w {
			t.Errorf("%s: %s, want %s (%q)", code, status[code], w, byCode[code].Flags)
		}
	}
	if c := r.Counts; c[StatusConsolidated] != 1 || c[StatusFlagged] != 1 || c[StatusOK] != 3 || c[StatusMissing] != 2 {
		t.Errorf("counts: %v", c)
	}
	a2 := byCode["A-2"]
	if len(a2.Tallies) != 2 || len(a2.Flags) != 1 || a2.Flags[0] != "disagree: O1 and O2: issued 570 vs 571, cast 560 vs 561, Bello 250 vs 251" ||
		a2.Tallies[0].Tally.Votes[1].Votes == a2.Tallies[1].Tally.Votes[1].Votes {
		t.Errorf("A-2 side by side: %+v", a2)
	}
	if a3 := byCode["A-3"]; len(a3.Tallies) != 1 || a3.Tallies[0].Tally.Cast != 460 {
		t.Errorf("A-3: the correction replaces O3's first tally: %+v", a3)
	}
	if len(r.Unknown) != 1 || r.Unknown[0].Code != "ZZ-9" || r.Unknown[0].Status != StatusOK {
		t.Errorf("unknown: %+v", r.Unknown)
	}

	qc := r.QuickCount
	if qc == nil || qc.Sample != 5 || qc.Used != 4 || qc.Excluded != 1 || !slices.Equal(qc.Flagged, []string{"A-2"}) || len(qc.Missing) != 0 {
		t.Fatalf("quick count: %+v", qc)
	}
	direct := incident.QuickCount(map[string]int{"north": 3, "south": 3, "": 1}, []incident.PVTStation{
		{Stratum: "north", Votes: sheet("", 0, 400, 220).Votes}, {Stratum: "north", Votes: sheet("", 0, 250, 200).Votes},
		{Stratum: "south", Votes: sheet("", 0, 200, 220).Votes}, {Stratum: "south", Votes: sheet("", 0, 150, 180).Votes}})
	if len(qc.Shares) != 2 || qc.Shares[0] != direct.Shares[0] || qc.Shares[1] != direct.Shares[1] {
		t.Fatalf("quick count shares %+v, want %+v", qc.Shares, direct.Shares)
	}
	if sum := qc.Shares[0].Share + qc.Shares[1].Share; sum < 0.999999 || sum > 1.000001 || qc.Shares[0].Margin <= 0 {
		t.Fatalf("shares: %+v", qc.Shares)
	}

	// The observers' phones: results are the coordinators'.
	if _, err := obs["O1"].Results(ResultsQuery{}); CodeOf(err) != Forbidden {
		t.Errorf("an observer's results: %v", err)
	}
	// Another contest: unnamed, the choice is the caller's; an unknown
	// one is refused with the list.
	mustTally(t, obs["O1"], TallyRequest{Station: "A-1", Contest: "senate", Cast: 10, Votes: []incident.VoteCount{{Choice: "X", Votes: 10}}})
	copyRecords(t, obs["O1"], coord)
	if _, err := coord.Results(ResultsQuery{}); CodeOf(err) != Invalid || !strings.Contains(err.Error(), "presidential, senate") {
		t.Errorf("two contests, none named: %v", err)
	}
	if _, err := coord.Results(ResultsQuery{Contest: "mayor"}); CodeOf(err) != Invalid || !strings.Contains(err.Error(), "contest") {
		t.Errorf("an unknown contest: %v", err)
	}
	if r, err := coord.Results(ResultsQuery{Contest: "senate"}); err != nil || r.Counts[StatusOK] != 1 || r.Counts[StatusMissing] != 6 {
		t.Errorf("senate: %+v %v", r.Counts, err)
	}
}

// SubmitTally's refusals name the field; photos travel sealed with a
// sealed tally, in the clear with a clear one.
func TestSubmitTallyRefusalsAndPhotos(t *testing.T) {
	coord, obs := tallyMission(t, false, "O1")
	o := obs["O1"]
	for _, c := range []struct {
		field string
		r     TallyRequest
	}{
		{"station", TallyRequest{Contest: "p", Votes: []incident.VoteCount{{Choice: "A", Votes: 1}}}},
		{"contest", TallyRequest{Station: "A-1", Votes: []incident.VoteCount{{Choice: "A", Votes: 1}}}},
		{"votes", TallyRequest{Station: "A-1", Contest: "p"}},
		{"votes", TallyRequest{Station: "A-1", Contest: "p", Votes: []incident.VoteCount{{Choice: "A", Votes: 1}, {Choice: " A", Votes: 2}}}},
		{"votes", TallyRequest{Station: "A-1", Contest: "p", Votes: []incident.VoteCount{{Choice: "A", Votes: incident.MaxTallyVotes + 1}}}},
		{"cast", TallyRequest{Station: "A-1", Contest: "p", Cast: incident.MaxTallyVotes + 1, Votes: []incident.VoteCount{{Choice: "A", Votes: 1}}}},
	} {
		_, err := o.SubmitTally(c.r)
		var e *Error
		if CodeOf(err) != Invalid || !asError(err, &e) || e.Field != c.field {
			t.Errorf("%+v: %v, want invalid %s", c.r, err, c.field)
		}
	}
	photo, err := o.AttachFile("sheet.jpg", []byte("\xff\xd8\xff\xe0 a result sheet"))
	if err != nil {
		t.Fatal(err)
	}
	r := sheet("A-1", 900, 400, 220)
	r.Photos = []Attachment{photo}
	// Sealed: the photo travels encrypted, its key inside the sealed
	// tally; the coordinator opens it, nobody else can.
	st, err := o.SubmitTally(r)
	if err != nil || !st.Sealed {
		t.Fatalf("a sealed tally with its photo: %+v %v", st, err)
	}
	if o.st.HasBlob(photo.Hash) {
		t.Error("the photo's plaintext stays on the observer's phone after sealing")
	}
	copyRecords(t, o, coord)
	rec, _ := o.st.Get(st.ID)
	op, _ := o.st.Open(rec)
	for _, k := range op.(*incident.TallyPayload).Files {
		var h [32]byte
		copy(h[:], k.Cipher)
		ct, err := o.st.Blob(h)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(ct, []byte("a result sheet")) {
			t.Fatal("the stored photo is not encrypted")
		}
		if err := coord.st.PutBlob(h, ct); err != nil {
			t.Fatal(err)
		}
	}
	res, err := coord.Results(ResultsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var item *TallyItem
	for _, sr := range res.Unknown {
		for i := range sr.Tallies {
			if sr.Tallies[i].ID == st.ID {
				item = &sr.Tallies[i]
			}
		}
	}
	if item == nil || len(item.Photos) != 1 || !item.Photos[0].Sealed || !item.Photos[0].Readable || item.Photos[0].Name != "sheet.jpg" {
		t.Fatalf("the coordinator's results list the photo: %+v", item)
	}
	if item.Tally.Files != nil {
		t.Error("Results hands out the photos' keys")
	}
	got, err := coord.ReadFile(st.ID.String(), 0)
	if err != nil || string(got.Data) != "\xff\xd8\xff\xe0 a result sheet" {
		t.Fatalf("the coordinator opens the photo: %q %v", got.Data, err)
	}
	// The photo's capture record is sealed with the tally, read by the
	// coordinator, and goes into an evidence package with it.
	if caps, err := coord.Captures(st.ID.String()); err != nil || len(caps) != 1 || !caps[0].Sealed {
		t.Fatalf("the tally photo's capture: %+v, %v", caps, err)
	}
	var pkg bytes.Buffer
	if _, err := coord.Export(ExportRequest{Format: "evidence", DiscloseKeys: true}, &pkg); err != nil {
		t.Fatal(err)
	}
	if rep, err := export.Verify(bytes.NewReader(pkg.Bytes()), nil); err != nil || rep.Bad() > 0 || !strings.Contains(fmt.Sprint(rep.Verdicts), "capture of file") {
		t.Fatalf("the evidence package's capture of the tally photo: %+v, %v", rep, err)
	}
	stranger := newDesk(t, "stranger")
	join(t, coord, stranger, incident.RoleObserver, "O2")
	copyRecords(t, coord, stranger)
	if _, err := stranger.ReadFile(st.ID.String(), 0); CodeOf(err) != Forbidden {
		t.Errorf("another observer opens the photo: %v", err)
	}

	clear, cobs := tallyMission(t, true, "O1")
	co := cobs["O1"]
	photo, _ = co.AttachFile("sheet.jpg", []byte("\xff\xd8\xff\xe0 a result sheet"))
	s, err := co.SubmitTally(r)
	if err != nil || s.Sealed {
		t.Fatalf("a tally with its photo in the clear: %+v %v", s, err)
	}
	rec, _ = co.st.Get(s.ID)
	p, _ := rec.DecodePayload()
	if tp := p.(*incident.TallyPayload); len(tp.Photos) != 1 || string(tp.Photos[0]) != string(photo.Hash[:]) {
		t.Fatalf("the tally's photo hashes: %+v", tp.Photos)
	}
	if recs, err := co.st.AttachmentsOf(photo.Hash); err != nil || len(recs) != 1 || recs[0].Name != "sheet.jpg" {
		t.Fatalf("the photo's attachment record: %+v %v", recs, err)
	}
	// A carrier may not sign a tally.
	mule := newDesk(t, "mule")
	join(t, clear, mule, incident.RoleCarrier, "Mule")
	if _, err := mule.SubmitTally(sheet("A-1", 900, 1, 1)); CodeOf(err) != Forbidden {
		t.Errorf("a carrier's tally: %v", err)
	}
	_ = coord
}

// A tally is heard from in the counting phase.
func TestHeardInTally(t *testing.T) {
	if phase, station, ok := HeardIn(incident.KindTally, &incident.TallyPayload{Station: "PS-1"}, nil); !ok || phase != PhaseCounting || station != "PS-1" {
		t.Fatalf("%s %s %v", phase, station, ok)
	}
}

func asError(err error, e **Error) bool { return errors.As(err, e) }
