package main

import (
	"strings"
	"testing"
)

// TestRetractAndRevokeIdempotent: a second retract of a retracted report
// and a second revoke of a revoked member say so, exit 0, print no new ID
// and store nothing.
func TestRetractAndRevokeIdempotent(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "idem")
	obsHome, obs, _ := member(t, "idem-obs", invite(t, coord, "--role", "observer", "--label", "Musa"))
	carry(t, obsHome, coord)

	id := mustID(t, obsHome, nil, "report", "add", "--category", "other", "--severity", "1", "--title", "Wrong station")
	mustID(t, obsHome, nil, "report", "retract", id, "--reason", "wrong station")
	before := status(t, obsHome).Records
	out, errs, code := runVigil(t, obsHome, nil, "report", "retract", id, "--reason", "again")
	if code != 0 || out != "" || !strings.Contains(errs, "already retracted") || !strings.Contains(errs, "nothing was written") {
		t.Errorf("second retract: exit %d\nstdout: %q\nstderr: %s", code, out, errs)
	}
	if got := status(t, obsHome).Records; got["retract"] != before["retract"] || got["retract"] != 1 {
		t.Errorf("second retract: retract records %d, before %d", got["retract"], before["retract"])
	}
	// The coordinator may not retract the observer's report.
	carry(t, obsHome, coord)
	out, errs, code = runVigil(t, coord, nil, "report", "retract", id, "--reason", "mine now")
	wantFailure(t, "retract of another's report", out, errs, code, exitError, "only its author")

	mustID(t, coord, nil, "mission", "revoke", "Musa", "--reason", "phone lost")
	before = status(t, coord).Records
	for _, who := range []string{"Musa", obs} {
		out, errs, code = runVigil(t, coord, nil, "mission", "revoke", who, "--reason", "again")
		if code != 0 || out != "" || !strings.Contains(errs, "already revoked") || !strings.Contains(errs, obs) {
			t.Errorf("second revoke of %s: exit %d\nstdout: %q\nstderr: %s", who, code, out, errs)
		}
	}
	out = mustRun(t, coord, nil, "--json", "mission", "revoke", obs)
	if !strings.Contains(out, `"already_revoked":true`) {
		t.Errorf("second revoke --json: %s", out)
	}
	if got := status(t, coord).Records; got["revoke"] != 1 || got["epoch"] != before["epoch"] {
		t.Errorf("second revokes stored records: %v, before %v", got, before)
	}
}
