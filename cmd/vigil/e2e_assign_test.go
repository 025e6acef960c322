package main

import (
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident/act"
)

// A coordinator posts two observers in a sealed mission; the records
// travel by members' bundles. Each observer's `assign list` shows its own
// post only; `coverage` on the coordinator counts the check-in of one
// and lists the other as silent. Repeats and refusals say what they did.
func TestAssignAndCoverageAcrossHomes(t *testing.T) {
	t.Parallel()
	coord, _, _ := sealedMission(t, "coordinator")
	heron, heronKey, _ := member(t, "heron", invite(t, coord, "--role", "observer", "--label", "Heron"))
	kite, _, _ := member(t, "kite", invite(t, coord, "--role", "observer", "--label", "Kite"))
	carry(t, heron, coord)
	carry(t, kite, coord)

	// Nobody posted: coverage says so rather than inventing stations.
	if out := mustRun(t, coord, nil, "coverage"); !strings.Contains(out, "Nobody is posted") {
		t.Fatalf("coverage with no assignments: %s", out)
	}
	stdout, stderr, code := runVigil(t, coord, nil, "assign", "Heron", "--station", "ps 0042", "--note", "morning shift")
	if code != exitOK || !idLine.MatchString(strings.TrimSpace(stdout)) || !strings.Contains(stderr, "Assigned Heron") ||
		!strings.Contains(stderr, "PS-0042") || !strings.Contains(stderr, "sealed to the coordinators and the member") {
		t.Fatalf("assign: %q %q %d", stdout, stderr, code)
	}
	stdout, stderr, code = runVigil(t, coord, nil, "assign", "heron", "--station", "PS-0042")
	if code != exitOK || stdout != "" || !strings.Contains(stderr, "already assigned to PS-0042") {
		t.Fatalf("the same assignment again: %q %q %d", stdout, stderr, code)
	}
	mustID(t, coord, nil, "assign", "Kite", "--station", "PS-0107")
	for _, bad := range [][]string{{"assign", "Heron"}, {"assign", "Heron", "--station", "PS-1", "--none"}, {"assign", "--station", "PS-1"}} {
		_, _, code := runVigil(t, coord, nil, bad...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d", bad, code, exitUsage)
		}
	}
	list := decodeLines[assignmentOut](t, mustRun(t, coord, nil, "assign", "list", "--json"))
	if len(list) != 2 || list[0].Label != "Heron" || list[0].Station != "PS-0042" || list[0].Note != "morning shift" || list[1].Station != "PS-0107" {
		t.Fatalf("the coordinator's assign list: %+v", list)
	}

	carryMembers(t, coord, heron)
	carryMembers(t, coord, kite)
	mine := decodeLines[assignmentOut](t, mustRun(t, heron, nil, "assign", "list", "--json"))
	if len(mine) != 1 || mine[0].Member.String() != heronKey || mine[0].Station != "PS-0042" {
		t.Fatalf("Heron's assign list: %+v", mine)
	}
	stdout, stderr, code = runVigil(t, heron, nil, "assign", "Kite", "--station", "PS-0042")
	wantFailure(t, "an observer's assignment", stdout, stderr, code, exitError, "observer", "assignment")
	stdout, stderr, code = runVigil(t, heron, nil, "coverage")
	wantFailure(t, "an observer's coverage", stdout, stderr, code, exitError, "coordinators")

	mustID(t, heron, nil, "checkin", "--status", "arrived", "--station", "PS-0042")
	carryMembers(t, heron, coord)
	cov := decodeJSON[act.Coverage](t, mustRun(t, coord, nil, "coverage", "--level", "0", "--json"))
	if cov.Total.Expected != 2 || cov.Total.Heard[act.PhaseOpening] != 1 || cov.Phase != act.PhaseOpening ||
		len(cov.Silent) != 1 || cov.Silent[0].Code != "PS-0107" || cov.Silent[0].Members[0] != "Kite" {
		t.Fatalf("coverage: %+v", cov)
	}
	out := mustRun(t, coord, nil, "coverage")
	for _, want := range []string{"2 stations expected", "OPENING", "TOTAL", "Silent in opening (1)", "PS-0107", "posted: Kite", "never heard from"} {
		if !strings.Contains(out, want) {
			t.Fatalf("coverage lacks %q:\n%s", want, out)
		}
	}
	// Unassigning ends the post.
	mustID(t, coord, nil, "assign", "Kite", "--none")
	if cov := decodeJSON[act.Coverage](t, mustRun(t, coord, nil, "coverage", "--json")); cov.Total.Expected != 1 || len(cov.Silent) != 0 {
		t.Fatalf("coverage after unassigning Kite: %+v", cov)
	}
}
