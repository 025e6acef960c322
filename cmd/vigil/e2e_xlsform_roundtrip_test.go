package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident/act"
)

// The observation round trip a mission runs, from the checklists as an
// observer mission writes them in XLSForm: the coordinator imports the
// four phase workbooks of the repository's testdata (`form import`);
// two observers posted to one station answer the opening and counting
// checklists on their own phones and copy the result sheet (`checklist
// submit`, `tally submit`); the records reach the coordinator by USB
// bundles; there `checklist list` shows where the two disagree side by
// side, `coverage` counts the station heard from and lists the
// checklists still missing, and `results` consolidates the two agreeing
// tallies. The mission seals, so every response and tally travels
// encrypted to the coordinators.
func TestXLSFormChecklistRoundTrip(t *testing.T) {
	t.Parallel()
	coord, _, _ := sealedMission(t, "coordinator")
	csv := filepath.Join(t.TempDir(), "stations.csv")
	mustWrite(t, csv, "code,name,admin,registered,lat,lon,tags\n"+
		"KB-001,Kibra Primary,Nairobi/Kibra/Lindi,812,-1.3136,36.7823,pvt stratum=urban\n"+
		"KB-002,Olympic Hall,Nairobi/Kibra/Laini Saba,640,-1.3110,36.7790,stratum=urban\n")
	mustID(t, coord, nil, "station", "import", csv)
	for _, name := range []string{"opening", "voting", "closing", "counting"} {
		mustID(t, coord, nil, "form", "import", filepath.Join(xlsformDir, name+".xlsx"))
	}
	forms := mustRun(t, coord, nil, "form", "list")
	for _, want := range []string{"opening", "voting", "closing", "counting", "Opening checklist"} {
		if !strings.Contains(forms, want) {
			t.Fatalf("form list lacks %q:\n%s", want, forms)
		}
	}
	heron, _, _ := member(t, "heron", invite(t, coord, "--role", "observer", "--label", "Heron"))
	kite, _, _ := member(t, "kite", invite(t, coord, "--role", "observer", "--label", "Kite"))
	carry(t, heron, coord)
	carry(t, kite, coord)
	mustID(t, coord, nil, "assign", "Heron", "--station", "KB-001")
	mustID(t, coord, nil, "assign", "Kite", "--station", "KB-001")
	carry(t, coord, heron)
	carry(t, coord, kite)

	opening := func(staff, late string) []string {
		a := []string{"checklist", "submit", "--form", "opening", "--station", "kb 001",
			"--answer", "materials_present=yes", "--answer", "boxes_shown_empty=yes", "--answer", "staff_present=" + staff,
			"--answer", "presiding_officer=yes", "--answer", "observers_admitted=yes", "--answer", "secrecy=yes"}
		if late == "" {
			return append(a, "--answer", "opened_on_time=yes")
		}
		return append(a, "--answer", "opened_on_time=no", "--answer", "minutes_late="+late, "--answer", "late_reason=materials_late")
	}
	counting := []string{"checklist", "submit", "--form", "counting", "--station", "KB-001",
		"--answer", "registered=812", "--answer", "ballots_issued=530", "--answer", "ballots_cast=527", "--answer", "invalid_ballots=9",
		"--answer", "blank_ballots=3", "--answer", "count_public=yes", "--answer", "agents_signed=yes", "--answer", "sheet_posted=yes"}
	tally := []string{"tally", "submit", "--station", "KB-001", "--contest", "presidential", "--registered", "812", "--issued", "530",
		"--cast", "527", "--invalid", "9", "--blank", "3", "--votes", "Amani=301", "--votes", "Baraka=214"}

	// Heron saw a prompt opening with five staff; Kite, who arrived
	// later, counts four and an opening 25 minutes late.
	mustID(t, heron, nil, opening("5", "")...)
	mustID(t, kite, nil, opening("4", "25")...)
	mustID(t, heron, nil, counting...)
	mustID(t, kite, nil, counting...)
	mustID(t, heron, nil, tally...)
	mustID(t, kite, nil, tally...)
	// An answer the form refuses names its question.
	stdout, stderr, code := runVigil(t, heron, nil, opening("31", "")...)
	wantFailure(t, "staff out of range", stdout, stderr, code, exitError, "staff_present", "above the maximum 30")

	carry(t, heron, coord)
	carry(t, kite, coord)
	list := decodeJSON[act.ChecklistList](t, mustRun(t, coord, nil, "checklist", "list", "--json"))
	if len(list.Groups) != 2 || list.Responses != 4 || list.Disagreements != 1 {
		t.Fatalf("checklist list: %d groups, %d responses, %d disagreements", len(list.Groups), list.Responses, list.Disagreements)
	}
	disagree := map[string]bool{}
	for _, g := range list.Groups {
		for _, q := range g.Questions {
			if q.Disagree {
				disagree[g.Form+"."+q.Question] = true
				if len(q.Answers) != 2 || q.Answers[0].Value == q.Answers[1].Value {
					t.Fatalf("%s is not side by side: %+v", q.Question, q.Answers)
				}
			}
		}
	}
	if !disagree["opening.staff_present"] || !disagree["opening.opened_on_time"] || len(disagree) < 2 {
		t.Fatalf("disagreements: %v", disagree)
	}

	cov := decodeJSON[act.Coverage](t, mustRun(t, coord, nil, "coverage", "--level", "0", "--json"))
	if cov.Total.Expected != 1 || cov.Total.Heard[act.PhaseOpening] != 1 || cov.Total.Heard[act.PhaseCounting] != 1 ||
		cov.Total.Checklists[act.PhaseOpening] != (act.ChecklistCount{Expected: 2, Received: 2}) {
		t.Fatalf("coverage: %+v", cov.Total)
	}
	r := decodeJSON[act.Results](t, mustRun(t, coord, nil, "results", "--json"))
	status := map[string]string{}
	for _, s := range r.Stations {
		status[s.Code] = s.Status
	}
	if status["KB-001"] != act.StatusConsolidated || status["KB-002"] != act.StatusMissing {
		t.Fatalf("results: %v", status)
	}
}

func mustWrite(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}
