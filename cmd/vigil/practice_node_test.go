package main

import (
	"os"
	"path/filepath"
	"testing"
)

// node --practice-if-no-mission (what `make run` runs with no display):
// a home with a mission runs its own node; a home with a store but no
// mission, or none at all, runs the practice mission beside it; with no
// passphrase and no terminal it says so instead of waiting.
func TestNodePracticeIfNoMission(t *testing.T) {
	t.Parallel()
	real, _, _ := newMission(t, "real")
	startNode(t, real, "--practice-if-no-mission")
	if !status(t, real).Running {
		t.Error("a home with a mission: its own node is not running")
	}
	if _, err := os.Stat(practiceBeside(real)); err == nil {
		t.Error("a home with a mission got a practice home beside it")
	}

	joinedNone, _ := initHome(t, "joined-none")
	startNode(t, joinedNone, "--practice-if-no-mission")
	practice := joinedNone + "-practice"
	st := status(t, practice)
	if !st.Running || st.Mission == nil || !st.Practice {
		t.Errorf("a store with no mission: the practice home's status %+v; want a practice mission running", st)
	}
	if st := status(t, joinedNone); st.Running || st.Mission != nil {
		t.Errorf("a store with no mission: its own status %+v; want it left as it was", st)
	}

	fresh := newHome(t, "fresh")
	_, errOut, code := runVigil(t, fresh, []string{"VIGIL_PASSPHRASE="}, "node", "--practice-if-no-mission")
	wantFailure(t, "no passphrase, no terminal", "", errOut, code, 1, "VIGIL_PASSPHRASE")
	for _, h := range []string{fresh, fresh + "-practice"} {
		if _, err := os.Stat(filepath.Join(h, "key.json")); err == nil {
			t.Errorf("a refused start made a store in %s", h)
		}
	}
}

// demo --print-home names the practice home and makes nothing: beside the
// default home, or the --home given.
func TestDemoPrintHome(t *testing.T) {
	t.Parallel()
	if got, want := mustRun(t, "", nil, "demo", "--print-home"), filepath.Join(sandbox, "xdg", "vigil-practice"); got != want {
		t.Errorf("demo --print-home = %q, want %q", got, want)
	}
	h := newHome(t, "p")
	if got := mustRun(t, h, nil, "demo", "--print-home"); got != h {
		t.Errorf("demo --home %s --print-home = %q", h, got)
	}
	if _, err := os.Stat(h); err == nil {
		t.Error("demo --print-home made the home")
	}
}
