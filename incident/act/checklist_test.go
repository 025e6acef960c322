package act

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// checklistForm is a small opening checklist named name: a yes/no/N/A
// that flags "no", a follow-up asked only after "no", a bounded count, a
// count that allows N/A, free text and a note.
func checklistForm(name, phase string, required bool) incident.FormPayload {
	zero, twenty := int64(0), int64(20)
	return incident.FormPayload{Name: name, Version: "1", Title: "Checklist " + name, Phase: phase, Required: required,
		Questions: []incident.Question{
			{ID: "intro", Code: "I", Type: incident.QuestionNote, Label: "Answer at the station."},
			{ID: "materials", Code: "A1", Type: incident.QuestionSelectOne, Label: "Were all materials present?", Required: true,
				Choices: []incident.Choice{{Name: "yes", Label: "Yes"}, {Name: "no", Label: "No"}, {Name: incident.AnswerNA, Label: "N/A"}},
				Flag:    &incident.Condition{Terms: []incident.Term{{Op: "=", Value: "no"}}}},
			{ID: "missing", Code: "A2", Type: incident.QuestionSelectMultiple, Label: "What was missing?", Required: true,
				Choices:  []incident.Choice{{Name: "ink", Label: "Ink"}, {Name: "seals", Label: "Seals"}},
				Relevant: &incident.Condition{Terms: []incident.Term{{Question: "materials", Op: "=", Value: "no"}}}},
			{ID: "staff", Code: "A3", Type: incident.QuestionInteger, Label: "Staff present", Required: true, Min: &zero, Max: &twenty},
			{ID: "agents", Code: "A4", Type: incident.QuestionInteger, Label: "Party agents present", NA: true, Min: &zero},
			{ID: "remarks", Code: "A5", Type: incident.QuestionText, Label: "Remarks"},
		}}
}

// putForm signs form on d (a coordinator's desk), as form import does.
func putForm(t testing.TB, d *Desk, f incident.FormPayload) incident.ID {
	t.Helper()
	rec, err := d.st.Put(incident.KindForm, f)
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}

// ans is answers from question, value pairs.
func ans(kv ...string) []incident.Answer {
	var out []incident.Answer
	for i := 0; i < len(kv); i += 2 {
		out = append(out, incident.Answer{Question: kv[i], Value: kv[i+1]})
	}
	return out
}

// copyKind stores in to's store the records of kind k from holds.
func copyKind(t testing.TB, from, to *Desk, k incident.Kind) {
	t.Helper()
	recs, err := from.st.ByKind(k)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if res := to.st.Add(r.Raw, "test"); res.Outcome == store.Rejected {
			t.Fatalf("%s %s rejected: %v", k, r.ID, res.Err)
		}
	}
}

func mustChecklist(t testing.TB, d *Desk, r ChecklistRequest) ChecklistSubmitted {
	t.Helper()
	s, err := d.SubmitChecklist(r)
	if err != nil {
		t.Fatalf("SubmitChecklist(%+v): %v", r, err)
	}
	return s
}

// storedAnswers is the answers of response id as d reads them.
func storedAnswers(t testing.TB, d *Desk, id incident.ID) []incident.Answer {
	t.Helper()
	rec, err := d.st.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := d.st.Open(rec)
	if !ok {
		t.Fatalf("%s: this device cannot read it", id)
	}
	return p.(*incident.ResponsePayload).Answers
}

// A response that fits its form is stored in the form's order, its
// flags returned; one that does not is refused as invalid answers, the
// message naming the question; N/A is an answer of its own, not 0.
func TestSubmitChecklist(t *testing.T) {
	coord, obs := tallyMission(t, true, "O1")
	o := obs["O1"]
	registryOf(t, coord, pvtStation("A-1", 900, "", false))
	formID := putForm(t, coord, checklistForm("opening", PhaseOpening, true))
	copyRecords(t, coord, o)

	// Given out of order, padded, by name and by ID prefix: stored
	// trimmed, in the form's order.
	s := mustChecklist(t, o, ChecklistRequest{Form: "opening", Station: "a 1",
		Answers: ans(" staff ", " 7 ", "materials", "no ", "missing", "ink seals")})
	if s.Sealed || s.Station != "A-1" || s.Form != formID || s.NotInRegistry || !slices.Equal(s.Flagged, []string{"materials"}) {
		t.Fatalf("a fitting response: %+v", s)
	}
	if got := storedAnswers(t, o, s.ID); !slices.Equal(got, ans("materials", "no", "missing", "ink seals", "staff", "7")) {
		t.Fatalf("stored answers %v", got)
	}
	prefix := strings.TrimPrefix(formID.String(), IDHead)[:IDPrefixMin]
	if s := mustChecklist(t, o, ChecklistRequest{Form: prefix, Station: "ZZ-9", Answers: ans("materials", "yes", "staff", "3")}); !s.NotInRegistry || len(s.Flagged) != 0 {
		t.Fatalf("off the registry, by ID prefix: %+v", s)
	}

	// N/A and 0 are different answers, both stored as given; N/A where
	// the question does not allow it is refused.
	na := mustChecklist(t, o, ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "na", "staff", "0", "agents", "na")})
	zero := mustChecklist(t, o, ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "yes", "staff", "0", "agents", "0")})
	if a, b := storedAnswers(t, o, na.ID), storedAnswers(t, o, zero.ID); a[2].Value != "na" || b[2].Value != "0" {
		t.Fatalf("N/A %v, zero %v", a, b)
	}

	for _, c := range []struct {
		name     string
		r        ChecklistRequest
		field    string
		question string // named in the message
	}{
		{"out of range", ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "yes", "staff", "21")}, "answers", "staff"},
		{"negative", ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "yes", "staff", "-1")}, "answers", "staff"},
		{"unknown question", ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "yes", "staff", "2", "weather", "sunny")}, "answers", "weather"},
		{"not a choice", ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "maybe", "staff", "2")}, "answers", "materials"},
		{"N/A not allowed", ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "yes", "staff", "na")}, "answers", "staff"},
		{"not asked given the others", ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "yes", "missing", "ink", "staff", "2")}, "answers", "missing"},
		{"follow-up required", ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "no", "staff", "2")}, "answers", "missing"},
		{"required left out", ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("staff", "2")}, "answers", "materials"},
		{"a note answered", ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("intro", "ok", "materials", "yes", "staff", "2")}, "answers", "intro"},
		{"answered twice", ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "yes", " materials", "no", "staff", "2")}, "answers", "materials"},
		{"empty answer", ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "yes", "staff", " ")}, "answers", "staff"},
		{"no station", ChecklistRequest{Form: "opening", Answers: ans("materials", "yes", "staff", "2")}, "station", ""},
	} {
		_, err := o.SubmitChecklist(c.r)
		var e *Error
		if CodeOf(err) != Invalid || !asError(err, &e) || e.Field != c.field || !strings.Contains(err.Error(), c.question) {
			t.Errorf("%s: %v, want invalid %s naming %q", c.name, err, c.field, c.question)
		}
	}
	if _, err := o.SubmitChecklist(ChecklistRequest{Form: "closing", Station: "A-1"}); CodeOf(err) != NotFound {
		t.Errorf("a form not held: %v", err)
	}
	mule := newDesk(t, "mule")
	join(t, coord, mule, incident.RoleCarrier, "Mule")
	copyRecords(t, coord, mule)
	if _, err := mule.SubmitChecklist(ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "yes", "staff", "2")}); CodeOf(err) != Forbidden {
		t.Errorf("a carrier's response: %v", err)
	}
}

// In a sealed mission two observers answer the same form at one station
// and disagree on one question: the coordinator reads both side by side,
// the disagreement marked, never merged; each observer reads its own
// response and nothing of the other's. A correction supersedes its
// author's earlier response; a revoked observer's later response does
// not count.
func TestChecklistsSideBySide(t *testing.T) {
	coord, obs := tallyMission(t, false, "O1", "O2", "O3")
	registryOf(t, coord, pvtStation("A-1", 900, "", false))
	putForm(t, coord, checklistForm("opening", PhaseOpening, true))
	for _, d := range obs {
		copyRecords(t, coord, d)
	}
	s1 := mustChecklist(t, obs["O1"], ChecklistRequest{Form: "opening", Station: "A-1",
		Answers: ans("materials", "yes", "staff", "5", "remarks", "Queue calm at the gate")})
	if !s1.Sealed {
		t.Fatalf("not sealed: %+v", s1)
	}
	mustChecklist(t, obs["O2"], ChecklistRequest{Form: "opening", Station: "A-1",
		Answers: ans("materials", "yes", "staff", "4", "remarks", "Two agents outside")})
	// O2 corrects: staff 6. Its first response is superseded.
	mustChecklist(t, obs["O2"], ChecklistRequest{Form: "opening", Station: "A-1",
		Answers: ans("materials", "yes", "staff", "6", "agents", "na", "remarks", "Two agents outside")})
	mustChecklist(t, obs["O3"], ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "yes", "staff", "5")})
	for _, d := range obs {
		copyRecords(t, d, coord)
	}
	// O3 is revoked, accepting what the coordinator holds; its later
	// response, signed before it learns of it, does not count.
	if _, err := coord.Revoke("O3", "phone lost", false); err != nil {
		t.Fatal(err)
	}
	mustChecklist(t, obs["O3"], ChecklistRequest{Form: "opening", Station: "A-1", Answers: ans("materials", "no", "missing", "ink", "staff", "1")})
	copyRecords(t, obs["O3"], coord)

	list, err := coord.Checklists(ChecklistQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Groups) != 1 || list.Responses != 3 || list.Superseded != 1 || list.Disagreements != 1 || list.Misfits != 0 || list.Flagged != 0 {
		t.Fatalf("the coordinator's list: %+v", list)
	}
	g := list.Groups[0]
	if g.Station != "A-1" || g.StationName != "School A-1" || g.Form != "opening" || g.Phase != PhaseOpening || g.Title != "Checklist opening" ||
		!g.Disagree || g.Superseded != 1 || len(g.Responses) != 3 {
		t.Fatalf("the group: %+v", g)
	}
	var labels []string
	for _, r := range g.Responses {
		labels = append(labels, r.Label)
		if r.Version != "1" || !r.Sealed || r.Misfit != "" {
			t.Errorf("response %+v", r)
		}
	}
	if slices.Sort(labels); !slices.Equal(labels, []string{"O1", "O2", "O3"}) {
		t.Fatalf("responses by %v", labels)
	}
	byQ := map[string]QuestionAnswers{}
	var order []string
	for _, q := range g.Questions {
		byQ[q.Question] = q
		order = append(order, q.Question)
	}
	if !slices.Equal(order, []string{"materials", "staff", "agents", "remarks"}) {
		t.Fatalf("questions %v", order)
	}
	values := func(q string) map[string]string {
		m := map[string]string{}
		for _, a := range byQ[q].Answers {
			if a.Answered {
				m[a.Label] = a.Value
			}
		}
		return m
	}
	if st := byQ["staff"]; !st.Disagree || len(st.Answers) != 3 || st.Code != "A3" || st.Label != "Staff present" ||
		fmt.Sprint(values("staff")) != "map[O1:5 O2:6 O3:5]" {
		t.Fatalf("staff side by side: %+v", st)
	}
	if m := byQ["materials"]; m.Disagree {
		t.Fatalf("materials agree: %+v", m)
	}
	if a := byQ["agents"]; a.Disagree || fmt.Sprint(values("agents")) != "map[O2:na]" {
		t.Fatalf("a question only one answered is no disagreement: %+v", a)
	}
	if r := byQ["remarks"]; r.Disagree || len(values("remarks")) != 2 {
		t.Fatalf("free text side by side, no disagreement: %+v", r)
	}

	// Filters.
	if l, err := coord.Checklists(ChecklistQuery{Station: "a_1", Form: "opening"}); err != nil || len(l.Groups) != 1 {
		t.Fatalf("filtered: %+v %v", l, err)
	}
	if l, err := coord.Checklists(ChecklistQuery{Station: "B-9"}); err != nil || len(l.Groups) != 0 {
		t.Fatalf("another station: %+v %v", l, err)
	}
	if _, err := coord.Checklists(ChecklistQuery{Form: "closing"}); CodeOf(err) != NotFound {
		t.Fatalf("an unknown form: %v", err)
	}

	// An observer's phone holding everyone's responses reads its own
	// only; the others' answers are nowhere in its records.
	copyRecords(t, coord, obs["O1"])
	mine, err := obs["O1"].Checklists(ChecklistQuery{})
	if err != nil || len(mine.Groups) != 1 || len(mine.Groups[0].Responses) != 1 || mine.Groups[0].Responses[0].Label != "O1" ||
		mine.Groups[0].Disagree {
		t.Fatalf("O1's own list: %+v %v", mine, err)
	}
	noPlaintext(t, obs["O1"], "Two agents outside", "Queue calm at the gate")
	// A carrier holds them all and reads none.
	mule := newDesk(t, "mule")
	join(t, coord, mule, incident.RoleCarrier, "Mule")
	copyRecords(t, coord, mule)
	if l, err := mule.Checklists(ChecklistQuery{}); err != nil || len(l.Groups) != 0 {
		t.Fatalf("a carrier's list: %+v %v", l, err)
	}
}

// A response to a form this device does not hold, or whose answers do
// not fit it, is shown with why, never dropped.
func TestChecklistsMisfits(t *testing.T) {
	coord, obs := tallyMission(t, true, "O1")
	deputy := steppingDesk(t, "deputy")
	join(t, coord, deputy, incident.RoleCoordinator, "Deputy")
	copyRecords(t, coord, obs["O1"])
	copyRecords(t, deputy, obs["O1"])
	// The deputy's form reaches the observer, not the coordinator.
	putForm(t, deputy, checklistForm("voting", PhaseVoting, false))
	copyRecords(t, deputy, obs["O1"])
	mustChecklist(t, obs["O1"], ChecklistRequest{Form: "voting", Station: "A-1", Answers: ans("materials", "no", "missing", "seals", "staff", "4")})
	copyKind(t, obs["O1"], coord, incident.KindResponse)
	list, err := coord.Checklists(ChecklistQuery{})
	if err != nil || len(list.Groups) != 1 || list.Misfits != 1 {
		t.Fatalf("a form not held: %+v %v", list, err)
	}
	g := list.Groups[0]
	if r := g.Responses[0]; !strings.Contains(r.Misfit, "holds no form") || g.Form != r.Form.String() || len(g.Questions) != 3 {
		t.Fatalf("the response to a form not held: %+v", g)
	}

	// Once the form arrives, the response reads against it, flags and
	// all.
	copyRecords(t, deputy, coord)
	list, _ = coord.Checklists(ChecklistQuery{})
	if g := list.Groups[0]; g.Form != "voting" || g.Responses[0].Misfit != "" || !slices.Equal(g.Responses[0].Flagged, []string{"materials"}) ||
		!g.Questions[0].Answers[0].Flagged || list.Flagged != 1 || list.Misfits != 0 {
		t.Fatalf("once the form arrives: %+v", list)
	}

	// Answers that do not fit their form (signed by a build that did
	// not check them, or come by another channel) are shown with the
	// question at fault.
	form, err := coord.Form("voting")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obs["O1"].st.Put(incident.KindResponse, incident.ResponsePayload{Form: form.ID.Bytes(), Station: "A-2",
		Answers: ans("materials", "yes", "staff", "99")}); err != nil {
		t.Fatal(err)
	}
	copyRecords(t, obs["O1"], coord)
	list, _ = coord.Checklists(ChecklistQuery{Station: "A-2"})
	if len(list.Groups) != 1 || list.Misfits != 1 || !strings.Contains(list.Groups[0].Responses[0].Misfit, "question staff: 99 is above the maximum 20") {
		t.Fatalf("a misfit: %+v", list)
	}
}

// Drafts are kept in the store, one per form version and station,
// survive the store's closing, are bounded in number (the oldest goes)
// and in size, and go when the response is submitted.
func TestChecklistDrafts(t *testing.T) {
	home := filepath.Join(t.TempDir(), "obs")
	pass := []byte("correct horse battery")
	// A clock that steps: the oldest draft is one saved earlier.
	base := time.Now()
	var n atomic.Int64
	opts := store.Options{KDF: &cheapKDF, Now: func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Millisecond) }}
	st, err := store.Init(home, pass, opts)
	if err != nil {
		t.Fatal(err)
	}
	d := New(st)
	form := incident.IDOf([]byte("a form version"))
	if err := d.SaveChecklistDraft(ChecklistDraft{Form: form, Station: "ps 1", Answers: ans("materials", "no"), Question: 2}); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveChecklistDraft(ChecklistDraft{Form: form, Station: "PS-1", Answers: ans("materials", "no", "missing", "ink"), Question: 3}); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveChecklistDraft(ChecklistDraft{Form: form, Station: "PS-2", Question: 0}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []ChecklistDraft{{Station: "PS-1"}, {Form: form}, {Form: form, Station: "PS-1", Question: -1},
		{Form: form, Station: "PS-1", Answers: ans("remarks", strings.Repeat("x", MaxChecklistDraftBytes))}} {
		if err := d.SaveChecklistDraft(bad); CodeOf(err) != Invalid {
			t.Errorf("SaveChecklistDraft(%.80v): %v, want invalid", bad, err)
		}
	}
	st.Close()

	st, err = store.Open(home, pass, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d = New(st)
	dr, ok, err := d.ChecklistDraft(form, "ps-1")
	if err != nil || !ok || dr.Station != "PS-1" || dr.Question != 3 || !slices.Equal(dr.Answers, ans("materials", "no", "missing", "ink")) || dr.Saved == 0 {
		t.Fatalf("the draft after reopening: %+v %v %v", dr, ok, err)
	}
	all, err := d.ChecklistDrafts()
	if err != nil || len(all) != 2 {
		t.Fatalf("drafts: %+v %v", all, err)
	}
	if err := d.DiscardChecklistDraft(form, "PS-2"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := d.ChecklistDraft(form, "PS-2"); ok {
		t.Fatal("a discarded draft is still there")
	}
	if err := d.DiscardChecklistDraft(form, "PS-2"); err != nil {
		t.Fatalf("discarding nothing: %v", err)
	}

	// Bounded: the oldest goes.
	for i := range MaxChecklistDrafts {
		if err := d.SaveChecklistDraft(ChecklistDraft{Form: form, Station: fmt.Sprintf("B-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	all, _ = d.ChecklistDrafts()
	if len(all) != MaxChecklistDrafts {
		t.Fatalf("%d drafts kept, want %d", len(all), MaxChecklistDrafts)
	}
	if _, ok, _ := d.ChecklistDraft(form, "PS-1"); ok {
		t.Fatal("the oldest draft was kept past the bound")
	}
	if _, ok, _ := d.ChecklistDraft(form, fmt.Sprintf("B-%d", MaxChecklistDrafts-1)); !ok {
		t.Fatal("the newest draft was dropped")
	}
}

// Submitting a response discards its draft.
func TestSubmitDiscardsDraft(t *testing.T) {
	coord, obs := tallyMission(t, true, "O1")
	o := obs["O1"]
	id := putForm(t, coord, checklistForm("opening", PhaseOpening, true))
	copyRecords(t, coord, o)
	for _, station := range []string{"A-1", "A-2"} {
		if err := o.SaveChecklistDraft(ChecklistDraft{Form: id, Station: station, Answers: ans("materials", "yes"), Question: 1}); err != nil {
			t.Fatal(err)
		}
	}
	mustChecklist(t, o, ChecklistRequest{Form: "opening", Station: "a-1", Answers: ans("materials", "yes", "staff", "3")})
	all, err := o.ChecklistDrafts()
	if err != nil || len(all) != 1 || all[0].Station != "A-2" {
		t.Fatalf("drafts after submitting A-1: %+v %v", all, err)
	}
	// A refused response keeps its draft.
	if _, err := o.SubmitChecklist(ChecklistRequest{Form: "opening", Station: "A-2", Answers: ans("materials", "yes")}); err == nil {
		t.Fatal("an incomplete response was stored")
	}
	if _, ok, _ := o.ChecklistDraft(id, "A-2"); !ok {
		t.Fatal("a refused response discarded its draft")
	}
}

// A response is heard from in its form's phase.
func TestHeardInResponse(t *testing.T) {
	form := incident.IDOf([]byte("form"))
	phaseOf := func(id incident.ID) string {
		if id == form {
			return PhaseClosing
		}
		return ""
	}
	r := &incident.ResponsePayload{Form: form.Bytes(), Station: "PS-1"}
	if phase, station, ok := HeardIn(incident.KindResponse, r, phaseOf); !ok || phase != PhaseClosing || station != "PS-1" {
		t.Fatalf("%s %s %v", phase, station, ok)
	}
	other := &incident.ResponsePayload{Form: incident.IDOf([]byte("other")).Bytes(), Station: "PS-1"}
	if _, _, ok := HeardIn(incident.KindResponse, other, phaseOf); ok {
		t.Fatal("a response to a form not held (or with no phase) is placed in a phase")
	}
}

// Coverage by checklists: a response counts its station heard from in
// its form's phase, and each expected station owes a response to every
// required form of each phase. Stations missing one are listed for the
// phases up to the query's; a response whose form arrives later counts
// once it does (the per-kind cache asks the forms at every call).
func TestCoverageByChecklists(t *testing.T) {
	coord, obs := postMission(t, "O1", "O2", "O3")
	importStations(t, coord,
		station{"A-1", "Ayany School", []string{"Nairobi", "Dagoretti"}},
		station{"A-2", "Amboseli Hall", []string{"Nairobi", "Dagoretti"}},
		station{"B-1", "Bamburi Primary", []string{"Mombasa", "Likoni"}})
	for l, code := range map[string]string{"O1": "A-1", "O2": "A-2", "O3": "B-1"} {
		mustAssign(t, coord, AssignRequest{Member: l, Station: code})
	}
	putForm(t, coord, checklistForm("opening", PhaseOpening, true))
	putForm(t, coord, checklistForm("setup", PhaseOpening, true))
	putForm(t, coord, checklistForm("closing", PhaseClosing, true))
	putForm(t, coord, checklistForm("queue", PhaseVoting, false)) // optional
	putForm(t, coord, checklistForm("general", "", true))         // no phase: expected nowhere
	for _, d := range obs {
		copyRecords(t, coord, d)
	}
	fits := ans("materials", "yes", "staff", "4")
	mustChecklist(t, obs["O1"], ChecklistRequest{Form: "opening", Station: "A-1", Answers: fits})
	mustChecklist(t, obs["O1"], ChecklistRequest{Form: "setup", Station: "A-1", Answers: fits})
	mustChecklist(t, obs["O2"], ChecklistRequest{Form: "queue", Station: "A-2", Answers: fits})
	mustChecklist(t, obs["O2"], ChecklistRequest{Form: "general", Station: "A-2", Answers: fits})
	for _, d := range obs {
		copyRecords(t, d, coord)
	}

	cov, err := coord.Coverage(CoverageQuery{Level: 1, Phase: PhaseOpening})
	if err != nil {
		t.Fatal(err)
	}
	if heardOf(cov.Total) != [4]int{1, 1, 0, 0} || cov.Current != PhaseVoting {
		t.Fatalf("heard %v, current %s", heardOf(cov.Total), cov.Current)
	}
	if fmt.Sprint(cov.Required) != "map[closing:[closing] opening:[opening setup]]" {
		t.Fatalf("required: %v", cov.Required)
	}
	if c := cov.Total.Checklists; c[PhaseOpening] != (ChecklistCount{6, 2}) || c[PhaseClosing] != (ChecklistCount{3, 0}) || c[PhaseVoting] != (ChecklistCount{}) {
		t.Fatalf("total checklists: %+v", c)
	}
	units := map[string]map[string]ChecklistCount{}
	for _, u := range cov.Units {
		units[u.Unit] = u.Checklists
	}
	if units["Nairobi"][PhaseOpening] != (ChecklistCount{4, 2}) || units["Mombasa"][PhaseOpening] != (ChecklistCount{2, 0}) {
		t.Fatalf("units: %+v", units)
	}
	// At opening: A-2 and B-1 miss both opening forms; closing is not
	// missing yet.
	var got []string
	for _, m := range cov.MissingChecklists {
		got = append(got, fmt.Sprintf("%s %v %v", m.Code, m.Missing, m.Members))
	}
	if want := []string{"B-1 map[opening:[opening setup]] [O3]", "A-2 map[opening:[opening setup]] [O2]"}; !slices.Equal(got, want) {
		t.Fatalf("missing at opening: %q, want %q", got, want)
	}
	cov, _ = coord.Coverage(CoverageQuery{Level: 0, Phase: PhaseClosing})
	got = nil
	for _, m := range cov.MissingChecklists {
		got = append(got, fmt.Sprintf("%s %v", m.Code, m.Missing))
	}
	if want := []string{"A-1 map[closing:[closing]]", "A-2 map[closing:[closing] opening:[opening setup]]",
		"B-1 map[closing:[closing] opening:[opening setup]]"}; !slices.Equal(got, want) {
		t.Fatalf("missing at closing: %q", got)
	}

	// A deputy's closing form reaches the observer before the
	// coordinator: B-1's response to it is not placed in a phase until
	// the form arrives, then is (the cached response is asked again).
	deputy := steppingDesk(t, "deputy")
	join(t, coord, deputy, incident.RoleCoordinator, "Deputy")
	copyRecords(t, coord, deputy)
	f := checklistForm("closing", PhaseClosing, true)
	f.Version = "2"
	putForm(t, deputy, f)
	copyRecords(t, deputy, obs["O3"])
	mustChecklist(t, obs["O3"], ChecklistRequest{Form: "closing", Station: "B-1", Answers: fits})
	copyKind(t, obs["O3"], coord, incident.KindResponse)
	if cov, _ := coord.Coverage(CoverageQuery{}); cov.Total.Heard[PhaseClosing] != 0 {
		t.Fatalf("a response to a form not held is heard: %v", heardOf(cov.Total))
	}
	copyRecords(t, deputy, coord)
	cov, _ = coord.Coverage(CoverageQuery{Phase: PhaseClosing})
	if cov.Total.Heard[PhaseClosing] != 1 || cov.Total.Checklists[PhaseClosing] != (ChecklistCount{3, 1}) || len(cov.MissingChecklists) != 3 ||
		fmt.Sprint(cov.MissingChecklists[2].Missing) != "map[opening:[opening setup]]" {
		t.Fatalf("once the form arrives: heard %v, checklists %+v, missing %+v", heardOf(cov.Total), cov.Total.Checklists, cov.MissingChecklists)
	}

	// Expected submissions are per assignment: O2 posted to A-1 beside
	// O1 owes its own opening checklists, and A-1 misses them until it
	// sends them.
	mustAssign(t, coord, AssignRequest{Member: "O2", Station: "A-1"})
	cov, _ = coord.Coverage(CoverageQuery{Phase: PhaseOpening})
	if cov.Total.Checklists[PhaseOpening] != (ChecklistCount{6, 2}) || !slices.ContainsFunc(cov.MissingChecklists, func(m MissingChecklists) bool {
		return m.Code == "A-1" && fmt.Sprint(m.Missing) == "map[opening:[opening setup]]" && slices.Equal(m.Members, []string{"O1", "O2"})
	}) {
		t.Fatalf("two observers at A-1, one answered: %+v, missing %+v", cov.Total.Checklists, cov.MissingChecklists)
	}
	copyRecords(t, coord, obs["O2"])
	mustChecklist(t, obs["O2"], ChecklistRequest{Form: "opening", Station: "A-1", Answers: fits})
	copyKind(t, obs["O2"], coord, incident.KindResponse)
	if cov, _ = coord.Coverage(CoverageQuery{Phase: PhaseOpening}); cov.Total.Checklists[PhaseOpening] != (ChecklistCount{6, 3}) {
		t.Fatalf("O2's opening checklist at A-1: %+v", cov.Total.Checklists)
	}
	mustAssign(t, coord, AssignRequest{Member: "O2", Station: "A-2"})

	// A revoked observer's response, accepted by no revocation, is not
	// evidence.
	if _, err := coord.Revoke("O1", "phone lost", true); err != nil {
		t.Fatal(err)
	}
	cov, _ = coord.Coverage(CoverageQuery{Phase: PhaseOpening})
	if cov.Total.Expected != 2 || cov.Total.Heard[PhaseOpening] != 0 || cov.Total.Checklists[PhaseOpening] != (ChecklistCount{4, 0}) {
		t.Fatalf("after revoking O1: %+v", cov.Total)
	}
}
