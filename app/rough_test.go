package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

// The rough edges of issue 20, one test each.

// An action's confirmation is a line over the screen, not a dialog to
// dismiss: it says what happened, blocks nothing and goes when tapped.
func TestConfirmationIsACompactLine(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	for _, phone := range []bool{true, false} {
		ui := newTestUI(t, a, joinedObserver(t, code), phone, testPass)
		tap(t, ui, CheckinLabel("opened"))
		if top := ui.win.Canvas().Overlays().Top(); top != nil {
			t.Fatalf("phone %v: a check-in opens a dialog:\n%s", phone, topText(ui))
		}
		want := T("home.checkin_saved", map[string]any{"Status": CheckinLabel("opened")})
		if got := toastText(ui); !strings.Contains(got, want) {
			t.Fatalf("phone %v: confirmation %q, want %q", phone, got, want)
		}
		if !strings.Contains(allText(ui), want) {
			t.Fatalf("phone %v: the confirmation is not on screen:\n%s", phone, allText(ui))
		}
		// Proportionate: one or two lines high, well under a fifth of the window.
		if h, wh := ui.toastBar.Size().Height, ui.win.Canvas().Size().Height; h <= 0 || h > wh/5 {
			t.Fatalf("phone %v: confirmation %v high in a %v window", phone, h, wh)
		}
		// The screen under it still works: a second check-in replaces it.
		tap(t, ui, CheckinLabel("closed"))
		if got := toastText(ui); !strings.Contains(got, CheckinLabel("closed")) {
			t.Fatalf("phone %v: second confirmation %q", phone, got)
		}
		test.Tap(ui.toastBar)
		if got := toastText(ui); got != "" {
			t.Fatalf("phone %v: tapped confirmation still shows %q", phone, got)
		}
		ui.Close()
	}
}
