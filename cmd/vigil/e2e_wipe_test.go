package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/internal/testkit"
)

// TestWipeNeedsYesWithoutTerminal: with standard input not a terminal,
// wipe without --yes exits 1 with one line and destroys nothing; with
// --yes it wipes.
func TestWipeNeedsYesWithoutTerminal(t *testing.T) {
	t.Parallel()
	home, _, mission := newMission(t, "wipe-yes")
	out, errs, code := runVigilIn(t, home, []string{"VIGIL_PASSPHRASE="}, "WIPE\n", "wipe")
	wantFailure(t, "wipe without --yes and no terminal", out, errs, code, exitError, "--yes", "nothing was destroyed")
	if st := status(t, home); str(st.Mission) != mission {
		t.Fatalf("a refused wipe changed the store: %+v", st)
	}
	mustRun(t, home, []string{"VIGIL_PASSPHRASE="}, "wipe", "--yes")
	if _, err := os.Stat(filepath.Join(home, "data")); !os.IsNotExist(err) {
		t.Errorf("wipe --yes left the data folder: %v", err)
	}
	out, errs, code = runVigil(t, home, nil, "status")
	// A wiped home reads as one never used: no mark of the wipe.
	wantFailure(t, "status after wipe --yes", out, errs, code, exitError, "no Vigil store here", "vigil init")
}

// TestWipeAsksOnTerminal: on a terminal, wipe says what it destroys and
// goes ahead only on the word WIPE.
func TestWipeAsksOnTerminal(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	c, _, errb := demoCLI(home)
	if err := c.cmdInit(nil); err != nil {
		t.Fatal(err)
	}
	c.terminal = func() bool { return true }
	for _, answer := range []string{"", "y\n", "yes\n", "wipe\n"} {
		errb.Reset()
		c.stdin = strings.NewReader(answer)
		err := c.cmdWipe(nil)
		if err == nil || !strings.Contains(err.Error(), "nothing was destroyed") {
			t.Fatalf("answer %q: err %v, want a refusal", answer, err)
		}
		if !strings.Contains(errb.String(), "Type WIPE") || !strings.Contains(errb.String(), home) {
			t.Errorf("answer %q: the question %q should name the home and the word to type", answer, errb)
		}
		if store.Wiped(home) || !store.Initialised(home) {
			t.Fatalf("answer %q wiped the store", answer)
		}
	}
	c.stdin = strings.NewReader("WIPE\n")
	if err := c.cmdWipe(nil); err != nil {
		t.Fatalf("answer WIPE: %v", err)
	}
	if store.Initialised(home) {
		t.Fatal("answer WIPE left the store")
	}
	if _, err := os.Stat(home); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the wiped home is still there (%v): it should look never used", err)
	}
}

// TestWipeThroughNode: with a node holding the home, wipe without --yes
// (no terminal) is refused by the caller before it reaches the node, which
// keeps running on an intact store; wipe --yes goes through.
func TestWipeThroughNode(t *testing.T) {
	t.Parallel()
	home, _, mission := newMission(t, "wipe-node")
	startNode(t, home)
	out, errs, code := runVigil(t, home, nil, "wipe")
	wantFailure(t, "wipe through a node without --yes", out, errs, code, exitError, "--yes", "nothing was destroyed")
	if st := status(t, home); !st.Running || str(st.Mission) != mission {
		t.Fatalf("a refused wipe stopped the node or changed the store: %+v", st)
	}
	mustRun(t, home, nil, "wipe", "--yes")
	if store.Initialised(home) {
		t.Error("wipe --yes through the node left the store's key")
	}
	// The node stops, and once it has let go the unreadable data and the
	// home itself go: nothing tells it from a home never used.
	testkit.Eventually(t, 30*time.Second, "the wiped home is still there after the node stopped", func() bool {
		_, err := os.Stat(home)
		return errors.Is(err, fs.ErrNotExist)
	})
}
