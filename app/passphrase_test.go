package app

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/vault"
)

const newPass = "a brand new passphrase"

func TestChangePassphrase(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	h := joinedObserver(t, code)
	ui := newTestUI(t, a, h, true, testPass)
	ui.selectTab(T("tab.settings"))

	// A wrong current passphrase: an error, and nothing changes.
	tap(t, ui, T("pass.change"))
	test.Type(entry(t, ui, T("pass.current")), "not my passphrase")
	test.Type(entry(t, ui, T("pass.new")), newPass)
	test.Type(entry(t, ui, T("pass.again")), newPass)
	tap(t, ui, T("pass.change_button"))
	if top := topText(ui); !strings.Contains(top, T("err.wrong_passphrase")) {
		t.Fatalf("wrong current passphrase: dialog\n%s", top)
	}
	closeDialog(t, ui, T("action.ok"))
	if _, err := vault.Unlock(h.Dir, []byte(testPass)); err != nil {
		t.Fatalf("the old passphrase no longer unlocks after a failed change: %v", err)
	}
	if _, err := vault.Unlock(h.Dir, []byte(newPass)); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("the new passphrase unlocks after a failed change: %v", err)
	}

	// New passphrases that differ, or are too short: refused before
	// anything is tried.
	entry(t, ui, T("pass.current")).SetText(testPass)
	entry(t, ui, T("pass.again")).SetText(newPass + "!")
	tap(t, ui, T("pass.change_button"))
	if top := topText(ui); !strings.Contains(top, T("welcome.differ")) {
		t.Fatalf("differing new passphrases: dialog\n%s", top)
	}
	closeDialog(t, ui, T("action.ok"))
	entry(t, ui, T("pass.new")).SetText("short")
	entry(t, ui, T("pass.again")).SetText("short")
	tap(t, ui, T("pass.change_button"))
	if top := topText(ui); !strings.Contains(top, T("welcome.too_short", map[string]any{"N": vault.MinPassphraseChars})) {
		t.Fatalf("short new passphrase: dialog\n%s", top)
	}
	closeDialog(t, ui, T("action.ok"))

	// The real change.
	entry(t, ui, T("pass.new")).SetText(newPass)
	entry(t, ui, T("pass.again")).SetText(newPass)
	tap(t, ui, T("pass.change_button"))
	if top := toastText(ui); !strings.Contains(top, T("pass.changed")) {
		t.Fatalf("after change: dialog\n%s", top)
	}
	ui.Close()
	if _, err := h.Unlock([]byte(testPass)); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("the old passphrase still unlocks: %v", err)
	}
	be, err := h.Unlock([]byte(newPass))
	if err != nil {
		t.Fatalf("the new passphrase does not unlock: %v", err)
	}
	if id, _ := be.Identity(); !id.HasMission {
		t.Fatal("the store lost its mission")
	}
	be.Close()
}

func TestDuressPassphrase(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	h := joinedObserver(t, code)
	ui := newTestUI(t, a, h, true, testPass)
	if _, err := ui.be.Submit(incident.ReportPayload{Category: "polling.intimidation", Severity: 4, Title: "Threats at the gate"}, nil, false); err != nil {
		t.Fatal(err)
	}
	ui.selectTab(T("tab.settings"))
	if !strings.Contains(allText(ui), T("duress.note")) {
		t.Fatalf("settings do not explain the duress passphrase:\n%s", allText(ui))
	}
	keyFile := filepath.Join(h.Dir, "key.json")
	before, _ := os.ReadFile(keyFile)

	tap(t, ui, T("duress.set"))
	for _, want := range []string{T("duress.what"), T("duress.warning")} {
		if !strings.Contains(topText(ui), want) {
			t.Fatalf("duress dialog lacks %q:\n%s", want, topText(ui))
		}
	}
	// Nothing happens until the user says they understand.
	if !button(t, ui, T("duress.button")).Disabled() {
		t.Fatal("duress passphrase can be set without the warning ticked")
	}
	test.Type(entry(t, ui, T("pass.current")), "not my passphrase")
	test.Type(entry(t, ui, T("duress.new")), "the red door opens")
	test.Type(entry(t, ui, T("duress.again")), "the red door opens")
	test.Tap(findCheck(t, ui, T("duress.understand")))
	tap(t, ui, T("duress.button"))
	if top := topText(ui); !strings.Contains(top, T("err.wrong_passphrase")) {
		t.Fatalf("wrong current passphrase: dialog\n%s", top)
	}
	closeDialog(t, ui, T("action.ok"))
	if after, _ := os.ReadFile(keyFile); !bytes.Equal(before, after) {
		t.Fatal("a wrong current passphrase changed the key file")
	}
	// The duress passphrase must differ from the real one.
	entry(t, ui, T("pass.current")).SetText(testPass)
	entry(t, ui, T("duress.new")).SetText(testPass)
	entry(t, ui, T("duress.again")).SetText(testPass)
	tap(t, ui, T("duress.button"))
	if top := topText(ui); !strings.Contains(top, T("duress.same")) {
		t.Fatalf("duress = real: dialog\n%s", top)
	}
	closeDialog(t, ui, T("action.ok"))
	entry(t, ui, T("duress.new")).SetText("the red door opens")
	entry(t, ui, T("duress.again")).SetText("the red door opens")
	tap(t, ui, T("duress.button"))
	if top := toastText(ui); !strings.Contains(top, T("duress.done")) {
		t.Fatalf("after setting duress: dialog\n%s", top)
	}
	if _, err := vault.Unlock(h.Dir, []byte(testPass)); err != nil {
		t.Fatalf("the real passphrase no longer unlocks: %v", err)
	}
	ui.Close()

	// Unlocking with it opens an empty app; the real passphrase is gone.
	ui2 := newTestUI(t, a, h, true, "the red door opens")
	if ui2.be == nil {
		t.Fatalf("the duress passphrase did not unlock:\n%s", allText(ui2))
	}
	if id, _ := ui2.be.Identity(); id.HasMission {
		t.Fatal("the duress passphrase opened the real store")
	}
	if !strings.Contains(allText(ui2), T("join.title")) {
		t.Fatalf("after duress, not on the join screen:\n%s", allText(ui2))
	}
	if _, err := vault.Unlock(h.Dir, []byte(testPass)); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("the real passphrase survives a duress unlock: %v", err)
	}
}

// findCheck finds a check box by its text.
func findCheck(t *testing.T, ui *UI, text string) *widget.Check {
	t.Helper()
	c, ok := find(ui, func(c *widget.Check) bool { return c.Text == text })
	if !ok {
		t.Fatalf("no check box %q on screen:\n%s", text, allText(ui))
	}
	return c
}
