package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

// signForm stores form in a coordinator's home, signed by its device, as
// `form import` will: the test process opens the home with its
// passphrase while no command holds it.
func signForm(t *testing.T, home string, form incident.FormPayload) incident.ID {
	t.Helper()
	st, err := store.Open(home, []byte(defaultPass), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec, err := st.Put(incident.KindForm, form)
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}

// openingChecklist is the opening form: materials present (flags "no"),
// what was missing (asked after "no"), staff present (0 to 20), party
// agents (N/A allowed) and remarks.
func openingChecklist() incident.FormPayload {
	zero, twenty := int64(0), int64(20)
	return incident.FormPayload{Name: "opening", Version: "2024.1", Title: "Opening checklist", Phase: incident.PhaseOpening, Required: true,
		Questions: []incident.Question{
			{ID: "materials", Code: "A1", Type: incident.QuestionSelectOne, Label: "Were all materials present?", Required: true,
				Choices: []incident.Choice{{Name: "yes", Label: "Yes"}, {Name: "no", Label: "No"}, {Name: "na", Label: "N/A"}},
				Flag:    &incident.Condition{Terms: []incident.Term{{Op: "=", Value: "no"}}}},
			{ID: "missing", Code: "A2", Type: incident.QuestionSelectMultiple, Label: "What was missing?", Required: true,
				Choices:  []incident.Choice{{Name: "ink", Label: "Ink"}, {Name: "seals", Label: "Seals"}},
				Relevant: &incident.Condition{Terms: []incident.Term{{Question: "materials", Op: "=", Value: "no"}}}},
			{ID: "staff", Code: "A3", Type: incident.QuestionInteger, Label: "Staff present", Required: true, Min: &zero, Max: &twenty},
			{ID: "agents", Code: "A4", Type: incident.QuestionInteger, Label: "Party agents present", NA: true, Min: &zero},
			{ID: "remarks", Code: "A5", Type: incident.QuestionText, Label: "Remarks"},
		}}
}

// Two observers in a sealed mission answer the opening checklist at the
// same station and disagree on the staff count; their responses reach
// the coordinator by bundles, whose `checklist list` shows both answers
// side by side, and whose `coverage` counts the station heard at opening
// and lists the required checklist missing at the other posted station.
// Answers that do not fit are refused naming the question.
func TestChecklistsAcrossHomes(t *testing.T) {
	t.Parallel()
	coord, coordKey, _ := sealedMission(t, "coordinator")
	csv := filepath.Join(t.TempDir(), "stations.csv")
	if err := os.WriteFile(csv, []byte("code,name,admin,registered,lat,lon,tags\n"+
		"PS-1,North School,North/Town,900,,,\n"+
		"PS-2,South Hall,South/Port,800,,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustID(t, coord, nil, "station", "import", csv)
	form := signForm(t, coord, openingChecklist())
	heron, _, _ := member(t, "heron", invite(t, coord, "--role", "observer", "--label", "Heron"))
	kite, _, _ := member(t, "kite", invite(t, coord, "--role", "observer", "--label", "Kite"))
	carry(t, heron, coord)
	carry(t, kite, coord)
	mustID(t, coord, nil, "assign", "Heron", "--station", "PS-1")
	mustID(t, coord, nil, "assign", "Kite", "--station", "PS-1")
	mustID(t, coord, nil, "assign", coordKey, "--station", "PS-2")
	carry(t, coord, heron)
	carry(t, coord, kite)

	stdout, stderr, code := runVigil(t, heron, nil, "checklist", "submit", "--form", "opening", "--station", "ps 1",
		"--answer", "materials=no", "--answer", "missing=ink seals", "--answer", "staff=5", "--answer", "remarks=Queue calm, doors 07:02")
	if code != exitOK || !idLine.MatchString(strings.TrimSpace(stdout)) || !strings.Contains(stderr, "Checklist opening (version 2024.1) for PS-1 stored, sealed to the coordinators") ||
		!strings.Contains(stderr, "materials (A1): Were all materials present?") {
		t.Fatalf("checklist submit: %q %q %d", stdout, stderr, code)
	}
	answers := filepath.Join(t.TempDir(), "answers.json")
	os.WriteFile(answers, []byte(`{"materials": "no", "missing": "ink seals", "staff": 6, "agents": "na"}`), 0o600)
	prefix := strings.TrimPrefix(form.String(), act.IDHead)[:act.IDPrefixMin]
	mustID(t, kite, nil, "checklist", "submit", "--form", prefix, "--station", "PS-1", "--answers", answers)

	for _, bad := range []struct {
		args  []string
		code  int
		names []string
	}{
		{[]string{"--answer", "materials=yes", "--answer", "staff=21"}, exitError, []string{"staff", "above the maximum 20"}},
		{[]string{"--answer", "materials=yes", "--answer", "staff=3", "--answer", "weather=sunny"}, exitError, []string{"weather"}},
		{[]string{"--answer", "materials=yes", "--answer", "staff=na"}, exitError, []string{"staff", "N/A"}},
		{[]string{"--answer", "materials"}, exitUsage, []string{"QID=VALUE"}},
		{[]string{"--answer", "materials=yes", "--answers", answers}, exitUsage, []string{"not both"}},
		{nil, exitUsage, []string{"--answer"}},
	} {
		args := append([]string{"checklist", "submit", "--form", "opening", "--station", "PS-1"}, bad.args...)
		stdout, stderr, code := runVigil(t, heron, nil, args...)
		wantFailure(t, strings.Join(bad.args, " "), stdout, stderr, code, bad.code, bad.names...)
	}
	for i, body := range []string{`{"staff": true}`, `[{"question": "staff"}]`, `"staff=5"`} {
		bad := filepath.Join(t.TempDir(), fmt.Sprintf("bad%d.json", i))
		os.WriteFile(bad, []byte(body), 0o600)
		stdout, stderr, code := runVigil(t, heron, nil, "checklist", "submit", "--form", "opening", "--station", "PS-1", "--answers", bad)
		wantFailure(t, body, stdout, stderr, code, exitUsage, "--answers")
	}

	carry(t, heron, coord)
	carry(t, kite, coord)
	list := decodeJSON[act.ChecklistList](t, mustRun(t, coord, nil, "checklist", "list", "--json"))
	if len(list.Groups) != 1 || list.Responses != 2 || list.Disagreements != 1 || list.Flagged != 2 {
		t.Fatalf("checklist list --json: %+v", list)
	}
	var staff act.QuestionAnswers
	for _, q := range list.Groups[0].Questions {
		if q.Question == "staff" {
			staff = q
		}
	}
	if !staff.Disagree || len(staff.Answers) != 2 || staff.Answers[0].Value == staff.Answers[1].Value {
		t.Fatalf("staff side by side: %+v", staff)
	}
	out := mustRun(t, coord, nil, "checklist", "list", "--station", "PS-1")
	for _, want := range []string{"2 responses at 1 station", "PS-1  North School  opening (Opening checklist), opening", "HERON", "KITE",
		"A3 staff", "≠ disagree", "no !", "A4 agents", "na", "Queue calm, doors 07:02"} {
		if !strings.Contains(out, want) {
			t.Fatalf("checklist list lacks %q:\n%s", want, out)
		}
	}
	// The staff row holds both counts, never one merged number.
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "A3 staff") && (!strings.Contains(l, "5") || !strings.Contains(l, "6") || !strings.Contains(l, "≠")) {
			t.Fatalf("the staff row: %q", l)
		}
	}
	// Heron's phone reads its own response only.
	carry(t, kite, heron)
	mine := decodeJSON[act.ChecklistList](t, mustRun(t, heron, nil, "checklist", "list", "--json"))
	if mine.Responses != 1 || mine.Groups[0].Responses[0].Label != "Heron" {
		t.Fatalf("Heron's list: %+v", mine)
	}

	// Coverage: PS-1 heard from at opening by its checklists; PS-2,
	// posted to, misses the required opening checklist.
	cov := decodeJSON[act.Coverage](t, mustRun(t, coord, nil, "coverage", "--level", "0", "--json"))
	if cov.Total.Expected != 2 || cov.Total.Heard[act.PhaseOpening] != 1 || cov.Total.Checklists[act.PhaseOpening] != (act.ChecklistCount{Expected: 3, Received: 2}) ||
		len(cov.MissingChecklists) != 1 || cov.MissingChecklists[0].Code != "PS-2" || strings.Join(cov.MissingChecklists[0].Missing[act.PhaseOpening], ",") != "opening" {
		t.Fatalf("coverage: %+v", cov)
	}
	out = mustRun(t, coord, nil, "coverage")
	for _, want := range []string{"a checklist: its form's phase", "Required checklists, received of expected", "opening: opening", "2/3 (66%)",
		"Missing checklists by station, up to opening (1):", "PS-2  South Hall", "opening: opening"} {
		if !strings.Contains(out, want) {
			t.Fatalf("coverage lacks %q:\n%s", want, out)
		}
	}
}
