package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// A coordinator backs up from the settings screen; a fresh device restores
// the file from the welcome screen and reads the observer's sealed report.
func TestBackupFromSettingsRestoreAtWelcome(t *testing.T) {
	backupWorkFactor = 10
	defer func() { backupWorkFactor = 0 }()
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obs := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	id, err := obs.be.Submit(incident.ReportPayload{Category: "polling.late_opening", Severity: 2, Title: "Sealed NEEDLE title", Occurred: 1}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	co := newTestUI(t, a, coordHome, false, testPass)
	carry(t, storeOf(co), storeOf(obs))
	carry(t, storeOf(obs), storeOf(co))
	if v, err := storeOf(co).Report(id); err != nil || !v.Opened {
		t.Fatalf("the coordinator cannot open the sealed report: %+v %v", v, err)
	}

	file := filepath.Join(t.TempDir(), "laptop"+BackupExtension)
	useFiles(co, file)
	co.selectTab(T("tab.settings"))
	co.wait()
	tap(t, co, T("backup.button"))
	test.Type(entry(t, co, T("backup.passphrase")), "short")
	test.Type(entry(t, co, T("backup.passphrase_again")), "short")
	tap(t, co, T("export.choose_file"))
	if _, err := os.Stat(file); err == nil {
		t.Fatal("a refused passphrase wrote a backup")
	}
	dismissAll(co)
	const phrase = "the backup phrase for the laptop"
	tap(t, co, T("backup.button"))
	test.Type(entry(t, co, T("backup.passphrase")), phrase)
	test.Type(entry(t, co, T("backup.passphrase_again")), phrase)
	tap(t, co, T("export.choose_file"))
	if !strings.Contains(topText(co), "✅") {
		t.Fatalf("the backup did not finish:\n%s", allText(co))
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, needle := range []string{"NEEDLE", "Test mission", "Amani", "PS-0001"} {
		if bytes.Contains(data, []byte(needle)) {
			t.Errorf("the backup file holds %q in clear", needle)
		}
	}

	fresh := testHome(t)
	ui := newTestUI(t, a, fresh, false, "")
	useFiles(ui, file)
	restoreWith := func(backupPass string) {
		t.Helper()
		tap(t, ui, T("restore.button"))
		test.Type(entry(t, ui, T("restore.backup_passphrase")), backupPass)
		test.Type(entry(t, ui, T("welcome.passphrase")), "a new passphrase here")
		test.Type(entry(t, ui, T("welcome.again")), "a new passphrase here")
		tap(t, ui, T("restore.restore"))
	}
	restoreWith("not the backup phrase")
	if !strings.Contains(topText(ui), T("restore.wrong_passphrase")) {
		t.Fatalf("a wrong passphrase shows:\n%s", topText(ui))
	}
	if fresh.Initialised() {
		t.Fatal("a refused restore left a store")
	}
	dismissAll(ui)
	restoreWith(phrase)
	if !strings.Contains(topText(ui), T("restore.caution")) {
		t.Fatalf("no caution after the restore:\n%s", allText(ui))
	}
	if ui.id.Author != co.id.Author || ui.id.MissionName != "Test mission" || ui.id.Role != incident.RoleCoordinator {
		t.Fatalf("restored as %+v, want %+v", ui.id, co.id)
	}
	v, err := storeOf(ui).Report(id)
	if err != nil || !v.Opened || v.Report.Title != "Sealed NEEDLE title" {
		t.Fatalf("the restored device does not open the sealed report: %+v %v", v, err)
	}
	// Closed and opened again with the new passphrase.
	ui.Close()
	st, err := store.Open(fresh.Dir, []byte("a new passphrase here"), fresh.Store)
	if err != nil {
		t.Fatal(err)
	}
	if st.Author() != co.id.Author {
		t.Fatal("reopened as another author")
	}
	st.Close()
}
