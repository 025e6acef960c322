package app

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// weakPassphrase is a passphrase vault's rule refuses, and what the app
// says. The command line refuses the same ones
// (cmd/vigil/e2e_passphrase_test.go).
type weakPassphrase struct{ name, pass, says string }

// weakPassphrases is a function: T needs the language set first.
func weakPassphrases() []weakPassphrase {
	short := T("welcome.too_short", map[string]any{"N": vault.MinPassphraseChars})
	return []weakPassphrase{
		{"three letters", "abc", short},
		{"seven multibyte runes (14 bytes)", "çàéîõüñ", short},
		{"only spaces", "          ", T("welcome.only_spaces")},
		{"one character repeated", "zzzzzzzzzz", T("welcome.one_char")},
	}
}

// Eight characters of two bytes each: long enough.
const (
	eightRunes      = "çàéîõüñø"
	otherEightRunes = "ñøüõîéàç"
)

// refused taps button with the entries holding pass (typed twice) and
// checks the error dialog says w.says; it closes that dialog.
func refused(t *testing.T, ui *UI, w weakPassphrase, button string, entries ...string) {
	t.Helper()
	for _, e := range entries {
		entry(t, ui, e).SetText(w.pass)
	}
	tap(t, ui, button)
	if top := topText(ui); !strings.Contains(top, w.says) {
		t.Fatalf("%s: dialog\n%s\nwant %q", w.name, top, w.says)
	}
	closeDialog(t, ui, T("action.ok"))
}

// The first run holds the new store's passphrase to vault's rule: each
// weak one is refused with its own message and creates no store; eight
// two-byte characters are enough.
func TestFirstRunPassphraseRule(t *testing.T) {
	a := test.NewTempApp(t)
	h := testHome(t)
	ui := newTestUI(t, a, h, true, "")
	for _, w := range weakPassphrases() {
		refused(t, ui, w, T("welcome.create"), T("welcome.passphrase"), T("welcome.again"))
		if store.Initialised(h.Dir) {
			t.Fatalf("%s: a store was created", w.name)
		}
	}
	entry(t, ui, T("welcome.passphrase")).SetText(eightRunes)
	entry(t, ui, T("welcome.again")).SetText(eightRunes)
	tap(t, ui, T("welcome.create"))
	if ui.be == nil {
		t.Fatalf("eight two-byte characters refused:\n%s\n%s", topText(ui), allText(ui))
	}
	ui.Close()
	if _, err := vault.Unlock(h.Dir, []byte(eightRunes)); err != nil {
		t.Fatalf("the store does not open with its passphrase: %v", err)
	}
}

// Changing the passphrase and setting a duress one follow the same rule:
// weak ones leave the key file as it was, eight two-byte characters do.
func TestSettingsPassphraseRule(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	h := joinedObserver(t, code)
	ui := newTestUI(t, a, h, true, testPass)
	ui.selectTab(T("tab.settings"))
	keyFile := filepath.Join(h.Dir, "key.json")
	before, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	unchanged := func(what string) {
		t.Helper()
		if after, _ := os.ReadFile(keyFile); !bytes.Equal(before, after) {
			t.Fatalf("%s: the key file changed", what)
		}
	}

	tap(t, ui, T("pass.change"))
	entry(t, ui, T("pass.current")).SetText(testPass)
	for _, w := range weakPassphrases() {
		refused(t, ui, w, T("pass.change_button"), T("pass.new"), T("pass.again"))
		unchanged("new passphrase " + w.name)
	}
	entry(t, ui, T("pass.new")).SetText(eightRunes)
	entry(t, ui, T("pass.again")).SetText(eightRunes)
	tap(t, ui, T("pass.change_button"))
	if top := toastText(ui); !strings.Contains(top, T("pass.changed")) {
		t.Fatalf("eight two-byte characters as the new passphrase:\n%s", top)
	}
	dismissAll(ui)
	if before, err = os.ReadFile(keyFile); err != nil {
		t.Fatal(err)
	}

	tap(t, ui, T("duress.set"))
	test.Tap(findCheck(t, ui, T("duress.understand")))
	entry(t, ui, T("pass.current")).SetText(eightRunes)
	for _, w := range weakPassphrases() {
		refused(t, ui, w, T("duress.button"), T("duress.new"), T("duress.again"))
		unchanged("duress passphrase " + w.name)
	}
	entry(t, ui, T("duress.new")).SetText(otherEightRunes)
	entry(t, ui, T("duress.again")).SetText(otherEightRunes)
	tap(t, ui, T("duress.button"))
	if top := toastText(ui); !strings.Contains(top, T("duress.done")) {
		t.Fatalf("eight two-byte characters as the duress passphrase:\n%s", top)
	}
	ui.Close()
	if _, err := vault.Unlock(h.Dir, []byte(eightRunes)); err != nil {
		t.Fatalf("the changed passphrase does not open the store: %v", err)
	}
}

// A bundle's passphrase follows the same rule: a weak one writes no file.
func TestBundlePassphraseRule(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	obs := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	dir := t.TempDir()
	never := filepath.Join(dir, "never.vgb")
	useFiles(obs, never)
	obs.selectTab(T("tab.sync"))
	tap(t, obs, T("bundle.export"))
	protect := "🔑 " + T("bundle.protect_passphrase")
	r, ok := find(obs, func(r *widget.RadioGroup) bool { return slices.Contains(r.Options, protect) })
	if !ok {
		t.Fatalf("no passphrase protection offered:\n%s", topText(obs))
	}
	r.SetSelected(protect)
	for _, w := range weakPassphrases() {
		refused(t, obs, w, T("export.choose_file"), T("bundle.passphrase"), T("bundle.passphrase_again"))
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Fatalf("%s: a bundle was written", w.name)
		}
	}
	dismissAll(obs)
	exportBundleUI(t, obs, filepath.Join(dir, "ok.vgb"), protect, eightRunes)
	if data, err := os.ReadFile(filepath.Join(dir, "ok.vgb")); err != nil || !bytes.HasPrefix(data, []byte("age-encryption.org/v1\n")) {
		t.Fatalf("the bundle with eight two-byte characters: %v", err)
	}
}

// A store whose passphrase was chosen before the rule (made here straight
// through the store, as an older build made it) still unlocks in the app.
func TestShortPassphraseFromOlderBuildUnlocks(t *testing.T) {
	a := test.NewTempApp(t)
	h := testHome(t)
	s, err := store.Init(h.Dir, []byte("abc"), h.Store)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ui := newTestUI(t, a, h, true, "")
	test.Type(entry(t, ui, T("unlock.passphrase")), "abc")
	tap(t, ui, T("unlock.button"))
	if ui.be == nil {
		t.Fatalf("the older store's short passphrase did not unlock:\n%s\n%s", topText(ui), allText(ui))
	}
}
