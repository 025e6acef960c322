package main

import (
	"strings"
	"testing"
)

// TestReportIDPrefixes: report show, amend, review and retract take a
// unique prefix of at least 8 characters after bafkrei (with or without
// bafkrei); a short, unknown or malformed one is refused in one line.
func TestReportIDPrefixes(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "prefix")
	id := mustID(t, coord, nil, "report", "add", "--category", "other", "--severity", "2", "--title", "Queue blocked")
	long, short := id[:len(idHead)+idPrefixMin], id[len(idHead):len(idHead)+idPrefixMin+2]
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

	out, errs, code := runVigil(t, coord, nil, "report", "show", id[:len(idHead)+3])
	wantFailure(t, "a prefix too short", out, errs, code, exitUsage, "too short", "8 characters")
	out, errs, code = runVigil(t, coord, nil, "report", "show", "not-an-id")
	wantFailure(t, "a malformed ID", out, errs, code, exitUsage, "not a report ID")
	miss := idHead + "aaaaaaaa"
	if strings.HasPrefix(id, miss) {
		miss = idHead + "bbbbbbbb"
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

	mustID(t, coord, nil, "mission", "revoke", "amina ps-12", "--reason", "phone lost")
	ms := members(t, coord)
	if ms[amina].Standing != "revoked" || ms[twin1].Standing != "ok" || ms[twin2].Standing != "ok" {
		t.Errorf("revoke by label: %+v", ms)
	}
}
