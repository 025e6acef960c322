package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// While a node holds a home, commands run inside it through the control
// socket; files they name on the command line are still the caller's:
// relative paths resolve in the caller's folder, not the node's, and what
// they create is owner-only. Run from one folder while the node runs in
// another: export --out, mission invite --qr, bundle export --out and
// bundle import, all with relative paths.
func TestControlSocketPathsAreTheCallers(t *testing.T) {
	t.Parallel()
	home, _, _ := newMission(t, "paths")
	nodeDir, callerDir := t.TempDir(), t.TempDir()
	startNodeIn(t, home, nodeDir)
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := vigilCmd(ctx, t, home, nil, args...)
		cmd.Dir = callerDir
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("vigil %s (in %s): %v\n%s", strings.Join(args, " "), callerDir, err, errb.String())
		}
		return out.String()
	}
	if !strings.Contains(run("--json", "status"), `"running":true`) {
		t.Fatal("no node holds the home: the commands would not go through the control socket")
	}
	run("report", "add", "--category", "polling.late_opening", "--severity", "2", "--title", "Opened at 09:40")
	run("export", "--format", "csv", "--out", "reports.csv")
	run("mission", "invite", "--role", "observer", "--label", "Heron", "--qr", filepath.Join("qr", "..", "invite.png"))
	run("bundle", "export", "--out", "stick.vgb", "--passphrase-file", writePassFile(t, callerDir))
	run("bundle", "import", "stick.vgb", "--passphrase-file", writePassFile(t, callerDir))
	for _, name := range []string{"reports.csv", "invite.png", "stick.vgb"} {
		info, err := os.Stat(filepath.Join(callerDir, name))
		if err != nil {
			t.Errorf("%s is not in the caller's folder: %v", name, err)
			continue
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v: readable by others", name, perm)
		}
		if _, err := os.Stat(filepath.Join(nodeDir, name)); err == nil {
			t.Errorf("%s was written in the node's folder", name)
		}
	}
}

// writePassFile writes a bundle passphrase file in dir (owner-only) and
// returns its name relative to dir.
func writePassFile(t testing.TB, dir string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "bundle.pass"), []byte("a bundle passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return "bundle.pass"
}
