package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident/act"
)

// TestReportIDPrefixes: report show, amend, review and retract take a
// unique prefix of at least 8 characters after bafkrei (with or without
// bafkrei); a short, unknown or malformed one is refused in one line.
func TestReportIDPrefixes(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "prefix")
	id := mustID(t, coord, nil, "report", "add", "--category", "other", "--severity", "2", "--title", "Queue blocked")
	long, short := id[:len(act.IDHead)+act.IDPrefixMin], id[len(act.IDHead):len(act.IDHead)+act.IDPrefixMin+2]
	for _, p := range []string{long, short, id} {
		if got := showReport(t, coord, p); got.ID != id {
			t.Errorf("report show %s: got %s, want %s", p, got.ID, id)
		}
	}
	mustID(t, coord, nil, "report", "amend", long, "--severity", "3")
	mustID(t, coord, nil, "review", short, "--status", "verified")
	if got := showReport(t, coord, id); got.Severity == nil || *got.Severity != 3 || got.Status != "verified" {
		t.Errorf("amend and review by prefix: %+v", got)
	}

	out, errs, code := runVigil(t, coord, nil, "report", "show", id[:len(act.IDHead)+3])
	wantFailure(t, "a prefix too short", out, errs, code, exitUsage, "too short", "8 characters")
	out, errs, code = runVigil(t, coord, nil, "report", "show", "not-an-id")
	wantFailure(t, "a malformed ID", out, errs, code, exitUsage, "not a report ID")
	miss := act.IDHead + "aaaaaaaa"
	if strings.HasPrefix(id, miss) {
		miss = act.IDHead + "bbbbbbbb"
	}
	out, errs, code = runVigil(t, coord, nil, "review", miss, "--status", "verified")
	wantFailure(t, "a prefix that matches nothing", out, errs, code, exitError, "no report", miss)

	mustID(t, coord, nil, "report", "retract", short, "--reason", "duplicate")
	if got := showReport(t, coord, id); !got.Retracted {
		t.Errorf("retract by prefix: %+v", got)
	}
}

// TestMemberByLabel: mission revoke takes a unique label; a label two
// members share is refused with both listed; an unknown one names it.
func TestMemberByLabel(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "labels")
	aminaHome, amina, _ := member(t, "amina", invite(t, coord, "--role", "observer", "--label", "Amina PS-12"))
	twin1Home, twin1, _ := member(t, "twin1", invite(t, coord, "--role", "observer", "--label", "twin"))
	twin2Home, twin2, _ := member(t, "twin2", invite(t, coord, "--role", "observer", "--label", "twin"))
	// The coordinator learns of the redemptions from the members' bundles.
	for _, h := range []string{aminaHome, twin1Home, twin2Home} {
		carry(t, h, coord)
	}

	out, errs, code := runVigil(t, coord, nil, "mission", "revoke", "twin", "--reason", "test")
	wantFailure(t, "revoke by a shared label", out, errs, code, exitError, "twin", "2 members", twin1, twin2)
	out, errs, code = runVigil(t, coord, nil, "mission", "revoke", "Nobody", "--reason", "test")
	wantFailure(t, "revoke by an unknown label", out, errs, code, exitError, "no member", "Nobody")
	for a, m := range members(t, coord) {
		if m.Standing != "ok" {
			t.Errorf("a refused revoke changed %s: %+v", a, m)
		}
	}

	// report list and export --author, and a coordinator invite --for,
	// take a member by label as revoke does.
	mustID(t, aminaHome, nil, "report", "add", "--category", "other", "--severity", "2", "--title", "Ballots short")
	carry(t, aminaHome, coord)
	if byAmina, _ := listReports(t, coord, "--author", "Amina PS-12"); len(byAmina) != 1 {
		t.Errorf("report list --author LABEL: %d reports, want Amina's one", len(byAmina))
	}
	csvPath := filepath.Join(t.TempDir(), "amina.csv")
	mustRun(t, coord, nil, "export", "--format", "csv", "--author", amina, "--out", csvPath)
	if csv, err := os.ReadFile(csvPath); err != nil || !strings.Contains(string(csv), "Ballots short") {
		t.Errorf("export --author KEY left out Amina's report: %v\n%s", err, csv)
	}
	out, errs, code = runVigil(t, coord, nil, "report", "list", "--author", "twin")
	wantFailure(t, "report list by a shared label", out, errs, code, exitError, "--author", "2 members")
	out, errs, code = runVigil(t, coord, nil, "mission", "invite", "--role", "coordinator", "--for", "Nobody")
	wantFailure(t, "a coordinator invite for an unknown label", out, errs, code, exitError, "no member", "Nobody")
	invite(t, coord, "--role", "coordinator", "--for", "Amina PS-12")
	mustID(t, coord, nil, "mission", "revoke", "amina ps-12", "--reason", "phone lost")
	ms := members(t, coord)
	if ms[amina].Standing != "revoked" || ms[twin1].Standing != "ok" || ms[twin2].Standing != "ok" {
		t.Errorf("revoke by label: %+v", ms)
	}
}
