package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGrammar: counts of one are singular ("1 report", never "1 reports")
// and roles take the right article ("an observer").
func TestGrammar(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "grammar")
	obsHome, _, _ := member(t, "grammar-obs", invite(t, coord, "--role", "observer"))
	out, errs, code := runVigil(t, obsHome, nil, "mission", "join", invite(t, coord, "--role", "observer"))
	wantFailure(t, "a second join", out, errs, code, exitError, "already an observer")

	mustID(t, coord, nil, "report", "add", "--category", "other", "--severity", "1", "--title", "One report")
	_, errs, code = runVigil(t, coord, nil, "export", "--format", "csv", "--out", filepath.Join(t.TempDir(), "one.csv"))
	if code != 0 || !strings.Contains(errs, "Wrote 1 report to") {
		t.Errorf("export of one report: exit %d, stderr %q", code, errs)
	}
	bad := regexp.MustCompile(`\b1 [a-z]+s\b|\ba [aeiou]`)
	for _, args := range [][]string{{"status"}, {"checkpoint"}, {"mission", "members"}} {
		out, errs, _ := runVigil(t, coord, nil, args...)
		if m := bad.FindString(out + errs); m != "" {
			t.Errorf("vigil %s says %q:\n%s%s", strings.Join(args, " "), m, out, errs)
		}
	}
}
