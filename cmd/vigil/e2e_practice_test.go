package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mission create --practice marks the genesis, so the founder, a member
// who joined by invite, and their plain status all say practice; a real
// mission says nothing of the kind.
func TestPracticeMissionMarkedForMembers(t *testing.T) {
	home := newHome(t, "trainer")
	mustRun(t, home, nil, "init")
	mustID(t, home, nil, "mission", "create", "--name", "Marenta drill", "--practice")
	code := invite(t, home, "--role", "observer", "--label", "trainee-1")
	trainee, _, _ := member(t, "trainee", code)
	for name, h := range map[string]string{"trainer": home, "trainee": trainee} {
		if !status(t, h).Practice {
			t.Errorf("%s: status --json practice = false", name)
		}
		if out := mustRun(t, h, nil, "status"); !strings.Contains(out, "PRACTICE") {
			t.Errorf("%s: status does not say PRACTICE:\n%s", name, out)
		}
	}
	// The trainee's own exports carry the practice notice.
	out := filepath.Join(t.TempDir(), "trainee.geojson")
	mustRun(t, trainee, nil, "export", "--format", "geojson", "--out", out)
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), "PRACTICE DATA") {
		t.Errorf("the trainee's export has no practice notice (%v):\n%.300s", err, b)
	}
	real, _, _ := newMission(t, "real")
	if status(t, real).Practice {
		t.Error("a mission created without --practice reads as practice")
	}
	if out := mustRun(t, real, nil, "status"); strings.Contains(out, "PRACTICE") {
		t.Errorf("a real mission's status says PRACTICE:\n%s", out)
	}
}
