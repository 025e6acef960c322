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

const backupPass = "the backup phrase, kept apart"

var backupEnv = []string{"VIGIL_BACKUP_PASSPHRASE=" + backupPass}

// A coordinator's laptop is lost: its backup, restored on a fresh home,
// reads every sealed report the coordinator could, signs as it, and the
// backup file says nothing to whoever finds it. Backups are also taken
// through a running node, into the caller's folder.
func TestBackupRestoreCoordinator(t *testing.T) {
	t.Parallel()
	coord, coordAuthor, mission := newMission(t, "Backup")
	obs, _, _ := member(t, "kestrel", invite(t, coord, "--role", "observer", "--label", "Kestrel-Label"))
	carry(t, coord, obs)
	photo := filepath.Join(t.TempDir(), "box.jpg")
	if err := os.WriteFile(photo, bytes.Repeat([]byte("JPEG-ish NEEDLE-PHOTO "), 300), 0o600); err != nil {
		t.Fatal(err)
	}
	titles := []string{"Ballot box opened before count NEEDLE-ONE", "Observer turned away at gate NEEDLE-TWO"}
	var ids []string
	for i, title := range titles {
		args := []string{"report", "add", "--sealed", "--category", "polling.late_opening", "--severity", "2", "--title", title, "--station", "PS-7731"}
		if i == 0 {
			args = append(args, "--attach", photo)
		}
		ids = append(ids, mustID(t, obs, nil, args...))
	}
	carry(t, obs, coord)
	for i, id := range ids {
		if r := showReport(t, coord, id); !r.Sealed || str(r.Title) != titles[i] {
			t.Fatalf("the coordinator does not read sealed report %d: %+v", i, r)
		}
	}

	// Through a running node, a relative --out lands in the caller's folder.
	nodeDir, callerDir := t.TempDir(), t.TempDir()
	startNodeIn(t, coord, nodeDir)
	if !status(t, coord).Running {
		t.Fatal("no node holds the home")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := vigilCmd(ctx, t, coord, backupEnv, "backup", "--out", "laptop.vbk")
	cmd.Dir = callerDir
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if out, err := cmd.Output(); err != nil || len(out) != 0 {
		t.Fatalf("backup through the node: %v, stdout %q\n%s", err, out, errb.String())
	}
	file := filepath.Join(callerDir, "laptop.vbk")
	info, err := os.Stat(file)
	if err != nil {
		t.Fatalf("the backup is not in the caller's folder: %v", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("the backup has mode %v: readable by others", perm)
	}
	if entries, _ := os.ReadDir(nodeDir); len(entries) != 0 {
		t.Errorf("the node wrote in its own folder: %v", entries)
	}
	if entries, _ := os.ReadDir(callerDir); len(entries) != 1 {
		t.Errorf("the backup left files beside it: %v", entries)
	}

	// What a finder of the file learns: nothing.
	data := mustRead(t, file)
	for _, needle := range append([]string{"NEEDLE", "Kestrel-Label", "Mission Backup", "PS-7731", "polling", "vigil", coordAuthor, mission}, ids...) {
		if bytes.Contains(bytes.ToLower(data), bytes.ToLower([]byte(needle))) {
			t.Errorf("the backup file holds %q in clear", needle)
		}
	}

	// Refusals leave no home behind.
	fresh := newHome(t, "restored")
	out, errs, code := runVigil(t, fresh, []string{"VIGIL_BACKUP_PASSPHRASE=not the right phrase"}, "restore", file)
	wantFailure(t, "restore with a wrong passphrase", out, errs, code, exitError, "passphrase", "nothing was restored")
	cut := filepath.Join(t.TempDir(), "cut.vbk")
	if err := os.WriteFile(cut, data[:len(data)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, code = runVigil(t, fresh, backupEnv, "restore", cut)
	wantFailure(t, "restore of a truncated file", out, errs, code, exitError, "backup", "nothing was restored")
	out, errs, code = runVigil(t, fresh, backupEnv, "restore", photo)
	wantFailure(t, "restore of a file that is no backup", out, errs, code, exitError, "backup", "nothing was restored")
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Fatalf("failed restores left %s behind", fresh)
	}
	other, _ := initHome(t, "other")
	keyBefore := mustRead(t, filepath.Join(other, "key.json"))
	out, errs, code = runVigil(t, other, backupEnv, "restore", file)
	wantFailure(t, "restore over a home", out, errs, code, exitError, "already holds", "nothing was changed")
	if !bytes.Equal(keyBefore, mustRead(t, filepath.Join(other, "key.json"))) {
		t.Fatal("the refused restore touched the home")
	}
	out, errs, code = runVigil(t, coord, backupEnv, "restore", file)
	wantFailure(t, "restore over the running node's home", out, errs, code, exitError, "already holds")

	// The restore, with a new store passphrase.
	newPass := []string{"VIGIL_BACKUP_PASSPHRASE=" + backupPass, "VIGIL_PASSPHRASE=a new laptop passphrase"}
	out, errs, code = runVigil(t, fresh, newPass, "restore", file)
	if code != 0 || strings.TrimSpace(out) != coordAuthor {
		t.Fatalf("restore: exit %d, stdout %q (want the author %s)\n%s", code, out, coordAuthor, errs)
	}
	if !strings.Contains(errs, "Do not use the original again") {
		t.Errorf("restore does not warn about the original device: %q", errs)
	}
	st := decodeJSON[statusOut](t, mustRun(t, fresh, newPass, "status", "--json"))
	if st.Author != coordAuthor || st.Mission == nil || *st.Mission != mission || str(st.Role) != "coordinator" {
		t.Fatalf("restored status: %+v", st)
	}
	for i, id := range ids {
		r := decodeJSON[reportOut](t, mustRun(t, fresh, newPass, "report", "show", id, "--json"))
		if str(r.Title) != titles[i] || str(r.Station) != "PS-7731" {
			t.Fatalf("the restored home does not read sealed report %d: %+v", i, r)
		}
	}
	// And it goes on as the coordinator: a review, exported as evidence.
	mustID(t, fresh, newPass, "review", ids[0], "--status", "verified")
	if entries, _ := os.ReadDir(fresh); len(entries) == 0 {
		t.Fatal("empty home")
	} else {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".restore-") {
				t.Errorf("staging folder %s left behind", e.Name())
			}
		}
	}
}

// The backup passphrase is chosen like any new one, and given apart from
// the store's.
func TestBackupPassphraseRules(t *testing.T) {
	t.Parallel()
	home, _ := initHome(t, "rules")
	dir := t.TempDir()
	out, errs, code := runVigil(t, home, []string{"VIGIL_BACKUP_PASSPHRASE=short"}, "backup", "--out", filepath.Join(dir, "b.vbk"))
	wantFailure(t, "a short backup passphrase", out, errs, code, exitError, "backup passphrase", "no backup was written")
	out, errs, code = runVigil(t, home, nil, "backup", "--out", filepath.Join(dir, "b.vbk"))
	wantFailure(t, "no backup passphrase", out, errs, code, exitError, "VIGIL_BACKUP_PASSPHRASE")
	out, errs, code = runVigil(t, home, backupEnv, "backup")
	wantFailure(t, "no --out", out, errs, code, exitUsage, "--out")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("refused backups wrote %v", entries)
	}
	// A passphrase file works, and the JSON names what was written.
	pf := filepath.Join(dir, "pass")
	if err := os.WriteFile(pf, []byte(backupPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := decodeJSON[map[string]any](t, mustRun(t, home, nil, "--json", "backup", "--out", filepath.Join(dir, "b.vbk"), "--backup-passphrase-file", pf))
	if got["mission"] != nil || got["author"] == "" {
		t.Fatalf("backup --json: %v", got)
	}
	restored := newHome(t, "restored")
	mustRun(t, restored, nil, "restore", filepath.Join(dir, "b.vbk"), "--backup-passphrase-file", pf)
}
