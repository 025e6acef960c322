package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// clockUI builds the app on h with a clock the test moves, unlocking
// with pass if given.
func clockUI(t *testing.T, a fyne.App, h Unlocker, phone bool, pass string) (*UI, *time.Time) {
	t.Helper()
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	o := Options{Phone: phone, RefreshEvery: -1, inline: true, Now: func() time.Time { return clock }}
	if pass != "" {
		o.Passphrase = []byte(pass)
	}
	ui := New(a, h, o)
	ui.wait()
	if phone {
		ui.win.Resize(fyne.NewSize(phoneWidth, 800))
	}
	t.Cleanup(ui.Close)
	return ui, &clock
}

// onUnlock reports whether the unlock screen shows (and not the home).
func onUnlock(ui *UI) bool {
	_, ok := find(ui, func(e *widget.Entry) bool { return e.PlaceHolder == T("unlock.passphrase") })
	return ok && ui.main == nil
}

// unlockWithUI types p on the unlock screen.
func unlockWithUI(t *testing.T, ui *UI, p string) {
	t.Helper()
	test.Type(entry(t, ui, T("unlock.passphrase")), p)
	tap(t, ui, T("unlock.button"))
}

func TestAutoLock(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	h := joinedObserver(t, code)
	ui, clock := clockUI(t, a, h, true, testPass)
	if ui.main == nil {
		t.Fatalf("not unlocked:\n%s", allText(ui))
	}
	if got := ui.autoLockMinutes(); got != 5 {
		t.Fatalf("a phone's default auto-lock is %d min, want 5", got)
	}
	be := ui.be

	// Idle 4 minutes: still open. A key typed resets the timer, so 4
	// more minutes (8 since unlock) do not lock either.
	ui.checkIdle()
	*clock = clock.Add(4 * time.Minute)
	ui.checkIdle()
	if ui.locked || ui.main == nil {
		t.Fatal("locked before the delay")
	}
	test.TypeOnCanvas(ui.win.Canvas(), "a")
	*clock = clock.Add(4 * time.Minute)
	ui.checkIdle()
	if ui.locked {
		t.Fatal("a key typed did not count as activity")
	}
	// Typing in a text field counts too: the idle check sees its text.
	ui.selectTab(T("tab.settings"))
	tap(t, ui, T("pass.change"))
	cur := entry(t, ui, T("pass.current"))
	ui.win.Canvas().Focus(cur)
	*clock = clock.Add(4 * time.Minute)
	test.Type(cur, "typing slowly")
	ui.checkIdle()
	*clock = clock.Add(4 * time.Minute)
	ui.checkIdle()
	if ui.locked {
		t.Fatal("typing in a field did not count as activity")
	}

	// Five minutes of nothing: the unlock screen, not the home, and no
	// dialog left over it.
	*clock = clock.Add(5 * time.Minute)
	ui.checkIdle()
	if !ui.locked || !onUnlock(ui) {
		t.Fatalf("idle past the delay: not on the unlock screen:\n%s", allText(ui))
	}
	if strings.Contains(allText(ui), T("tab.home")) || ui.win.Canvas().Overlays().Top() != nil {
		t.Fatalf("the home or a dialog shows while locked:\n%s", allText(ui))
	}
	if ui.be != be {
		t.Fatal("locking closed the store: it must stay open (sync goes on)")
	}

	// A wrong passphrase: still locked.
	unlockWithUI(t, ui, "not my passphrase")
	if !strings.Contains(topText(ui), T("err.wrong_passphrase")) {
		t.Fatalf("wrong passphrase: no error:\n%s", allText(ui))
	}
	dismissAll(ui)
	if ui.main != nil {
		t.Fatal("a wrong passphrase unlocked")
	}

	// The passphrase: the home again.
	unlockWithUI(t, ui, testPass)
	if ui.locked || ui.main == nil || !strings.Contains(allText(ui), T("tab.home")) {
		t.Fatalf("after unlock: not on the home:\n%s", allText(ui))
	}
	if _, err := ui.be.Identity(); err != nil {
		t.Fatalf("the store after unlock: %v", err)
	}
}

func TestAutoLockSetting(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	h := joinedObserver(t, code)
	ui, clock := clockUI(t, a, h, false, testPass)
	if got := ui.autoLockMinutes(); got != 0 {
		t.Fatalf("a laptop's default auto-lock is %d min, want off", got)
	}
	*clock = clock.Add(time.Hour)
	ui.checkIdle()
	ui.checkIdle()
	if ui.locked {
		t.Fatal("a laptop locked with auto-lock off")
	}
	ui.selectTab(T("tab.settings"))
	for _, want := range []string{T("lock.title"), T("lock.note"), T("cover.note")} {
		if !strings.Contains(allText(ui), want) {
			t.Fatalf("settings lack %q", want)
		}
	}
	sel, ok := find(ui, func(s *widget.Select) bool { return s.Selected == T("lock.off") })
	if !ok {
		t.Fatalf("no auto-lock choice showing %q", T("lock.off"))
	}
	sel.SetSelected(T("duration.minutes", map[string]any{"N": 1}))
	ui.Close()

	// It persists, in the device file, for the next start.
	ui2, clock2 := clockUI(t, a, h, false, testPass)
	if got := ui2.autoLockMinutes(); got != 1 {
		t.Fatalf("after a restart auto-lock is %d min, want 1", got)
	}
	ui2.checkIdle()
	*clock2 = clock2.Add(61 * time.Second)
	ui2.checkIdle()
	if !onUnlock(ui2) {
		t.Fatalf("1 min set: not locked after 61 s:\n%s", allText(ui2))
	}
}

// pressCalc taps the calculator's keys, one label per character.
func pressCalc(t *testing.T, ui *UI, keys string) {
	t.Helper()
	for _, k := range keys {
		label := string(k)
		switch k {
		case '*':
			label = "×"
		case '/':
			label = "÷"
		case '-':
			label = "−"
		}
		b, ok := find(ui, func(b *widget.Button) bool { return b.Text == label })
		if !ok {
			t.Fatalf("no calculator key %q:\n%s", label, allText(ui))
		}
		test.Tap(b)
		ui.wait()
	}
}

// calcDisplay is what the calculator shows.
func calcDisplay(ui *UI) string {
	if ui.cover == nil {
		return ""
	}
	return ui.cover.display.Text
}

func TestCalculator(t *testing.T) {
	for _, c := range []struct{ keys, want string }{
		{"12+30=", "42"},
		{"7-10=", "-3"},
		{"6*7=", "42"},
		{"1/4=", "0.25"},
		{"12+30*2=", "84"},
		{"0.1+0.2=", "0.3"},
		{"5/0=", T("cover.error")},
		{"5/0=C3+4=", "7"},
		{"9=+1=", "10"},
		{"2580=", "2580"},
	} {
		var k calc
		for _, r := range c.keys {
			k.press(r)
		}
		if got := k.display(); got != c.want {
			t.Errorf("%s shows %q, want %q", c.keys, got, c.want)
		}
	}
	var k calc
	for _, r := range "12+3" {
		k.press(r)
	}
	if code := k.press('='); code != "" {
		t.Errorf("12+3= offered %q as a cover code", code)
	}
	for _, r := range "2580" {
		k.press(r)
	}
	if code := k.press('='); code != "2580" {
		t.Errorf("2580= after a result offered %q as a cover code, want 2580", code)
	}
}

func TestCoverScreen(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	h := joinedObserver(t, code)
	ui, clock := clockUI(t, a, h, true, testPass)

	// Turn the cover on in Settings: the code must be digits, typed twice.
	ui.selectTab(T("tab.settings"))
	tap(t, ui, T("cover.set"))
	entry(t, ui, T("cover.code")).SetText("25a0")
	entry(t, ui, T("cover.code_again")).SetText("25a0")
	tap(t, ui, T("cover.set_button"))
	if !strings.Contains(topText(ui), T("cover.code_rule", map[string]any{"Min": coverMinDigits, "Max": coverMaxDigits})) {
		t.Fatalf("a code with a letter: no error:\n%s", topText(ui))
	}
	closeDialog(t, ui, T("action.ok"))
	entry(t, ui, T("cover.code")).SetText("2580")
	entry(t, ui, T("cover.code_again")).SetText("2580")
	tap(t, ui, T("cover.set_button"))
	if !strings.Contains(toastText(ui), T("cover.turned_on")) || !strings.Contains(allText(ui), T("cover.is_on")) {
		t.Fatalf("cover not on:\n%s", allText(ui))
	}

	// The file a seized phone holds says a cover is set, never the code.
	raw, err := os.ReadFile(filepath.Join(h.Dir, "device.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "2580") || !strings.Contains(string(raw), `"cover"`) {
		t.Fatalf("device.json:\n%s", raw)
	}

	// Locking returns to the calculator, titled as one.
	ui.checkIdle()
	*clock = clock.Add(6 * time.Minute)
	ui.checkIdle()
	if ui.cover == nil || ui.win.Title() != T("cover.title") {
		t.Fatalf("locked with a cover: not on the calculator (title %q):\n%s", ui.win.Title(), allText(ui))
	}
	if ui.be == nil {
		t.Fatal("locking closed the store")
	}
	ui.Close()

	// A fresh start opens on the calculator, which calculates.
	ui, _ = clockUI(t, a, h, true, "")
	if ui.cover == nil || ui.win.Title() != T("cover.title") {
		t.Fatalf("start with a cover: not on the calculator:\n%s", allText(ui))
	}
	for _, s := range []string{"Vigil", T("unlock.title")} {
		if strings.Contains(allText(ui), s) {
			t.Fatalf("the cover shows %q:\n%s", s, allText(ui))
		}
	}
	pressCalc(t, ui, "12+30=")
	if got := calcDisplay(ui); got != "42" {
		t.Fatalf("12+30= shows %q", got)
	}
	// A wrong code just calculates.
	pressCalc(t, ui, "2581=")
	if ui.cover == nil || calcDisplay(ui) != "2581" {
		t.Fatalf("a wrong code left the calculator (shows %q):\n%s", calcDisplay(ui), allText(ui))
	}
	// The code leads to the unlock screen, and the passphrase home.
	pressCalc(t, ui, "2580=")
	if ui.cover != nil || !onUnlock(ui) {
		t.Fatalf("the code did not reach the unlock screen:\n%s", allText(ui))
	}
	unlockWithUI(t, ui, testPass)
	if ui.main == nil || !strings.Contains(allText(ui), T("tab.home")) {
		t.Fatalf("after unlock: not on the home:\n%s", allText(ui))
	}

	// Turned off, the app opens on the unlock screen again.
	ui.selectTab(T("tab.settings"))
	tap(t, ui, T("cover.turn_off"))
	ui.Close()
	ui, _ = clockUI(t, a, h, true, "")
	if ui.cover != nil || !onUnlock(ui) {
		t.Fatalf("cover off: not on the unlock screen:\n%s", allText(ui))
	}
}

// The duress passphrase typed on the lock screen does what it does at
// start: the real store is destroyed and an empty app opens.
func TestAutoLockDuress(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	h := joinedObserver(t, code)
	ui, clock := clockUI(t, a, h, true, testPass)
	if err := ui.be.SetDuress([]byte(testPass), []byte("the red door opens")); err != nil {
		t.Fatal(err)
	}
	ui.checkIdle()
	*clock = clock.Add(5 * time.Minute)
	ui.checkIdle()
	if !onUnlock(ui) {
		t.Fatalf("not locked:\n%s", allText(ui))
	}
	unlockWithUI(t, ui, "the red door opens")
	if ui.be == nil || ui.locked {
		t.Fatalf("the duress passphrase did not unlock:\n%s", allText(ui))
	}
	if id, _ := ui.be.Identity(); id.HasMission {
		t.Fatal("the duress passphrase on the lock screen opened the real store")
	}
	if !strings.Contains(allText(ui), T("join.title")) {
		t.Fatalf("after duress, not on the join screen:\n%s", allText(ui))
	}
}
