package app

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
	"github.com/vigil-mesh/vigil/internal/testkit"
)

// The tests drive the real widgets on Fyne's test driver, against real
// stores in temporary homes (cheap key derivation, no networking).

const testPass = "correct horse battery"

func testHome(t *testing.T) *Home {
	t.Helper()
	return &Home{Dir: t.TempDir(), Store: store.Options{KDF: &vault.KDFParams{Time: 1, MemoryKiB: 8, Threads: 1}},
		NoNetwork: true}
}

// missionHomes makes a coordinator's home with a mission and a few
// stations, closed again, and an observer invite code for it.
func missionHomes(t *testing.T) (*Home, string) {
	t.Helper()
	h := testHome(t)
	be, err := h.Create([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	if err := be.CreateMission("Test mission", "HQ"); err != nil {
		t.Fatal(err)
	}
	st := be.(*StoreBackend).Store()
	for i, s := range []incident.StationPayload{
		{Code: "PS-0001", Name: "Central school", Area: "North", Lat: incident.Micro(-1.28), Lon: incident.Micro(36.82)},
		{Code: "PS-0002", Name: "Market hall", Area: "South", Lat: incident.Micro(-1.31), Lon: incident.Micro(36.85)},
		{Code: "PS-0003", Name: "Clinic", Area: "South"},
	} {
		if _, err := st.Put(incident.KindStation, s); err != nil {
			t.Fatalf("station %d: %v", i, err)
		}
	}
	code, err := be.Invite(InviteRequest{Role: incident.RoleObserver, Label: "Amani"})
	if err != nil {
		t.Fatal(err)
	}
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	return h, code
}

// newTestUI builds the app on a test app, unlocking with pass if given.
func newTestUI(t *testing.T, a fyne.App, h Unlocker, phone bool, pass string) *UI {
	t.Helper()
	o := Options{Phone: phone, RefreshEvery: -1, inline: true}
	if pass != "" {
		o.Passphrase = []byte(pass)
	}
	ui := New(a, h, o)
	ui.wait()
	ui.win.Resize(fyne.NewSize(1180, 900))
	if phone {
		ui.win.Resize(fyne.NewSize(400, 800))
	}
	t.Cleanup(ui.Close)
	return ui
}

// walk visits every visible object under o, through widget renderers.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	fn(o)
	switch c := o.(type) {
	case *fyne.Container:
		for _, ch := range c.Objects {
			walk(ch, fn)
		}
	case fyne.Widget:
		for _, ch := range test.WidgetRenderer(c).Objects() {
			walk(ch, fn)
		}
	}
}

// roots are the window content and its overlays (dialogs), top last.
func roots(ui *UI) []fyne.CanvasObject {
	c := ui.win.Canvas()
	out := []fyne.CanvasObject{c.Content()}
	return append(out, c.Overlays().List()...)
}

// textOf is the text an object shows, if any.
func textOf(o fyne.CanvasObject) string {
	switch w := o.(type) {
	case *widget.Label:
		return w.Text
	case *widget.Button:
		return w.Text
	case *canvas.Text:
		return w.Text
	case *noteLabel:
		return w.Text()
	case *widget.RichText:
		return w.String()
	case *widget.Check:
		return w.Text
	}
	return ""
}

// allText is every text on screen (dialogs included), one per line.
func allText(ui *UI) string {
	var b strings.Builder
	for _, r := range roots(ui) {
		walk(r, func(o fyne.CanvasObject) {
			if s := textOf(o); s != "" {
				b.WriteString(s + "\n")
			}
		})
	}
	return b.String()
}

// topText is the text of the top overlay (the open dialog), or "".
func topText(ui *UI) string {
	top := ui.win.Canvas().Overlays().Top()
	if top == nil {
		return ""
	}
	var b strings.Builder
	walk(top, func(o fyne.CanvasObject) {
		if s := textOf(o); s != "" {
			b.WriteString(s + "\n")
		}
	})
	return b.String()
}

// tappable finds the button or tile whose text contains text, preferring
// the top dialog.
func tappable(t *testing.T, ui *UI, text string) fyne.Tappable {
	t.Helper()
	rs := roots(ui)
	for i := len(rs) - 1; i >= 0; i-- {
		var found fyne.Tappable
		walk(rs[i], func(o fyne.CanvasObject) {
			if found != nil {
				return
			}
			switch w := o.(type) {
			case *widget.Button:
				if strings.Contains(w.Text, text) && !w.Disabled() {
					found = w
				}
			case *tile:
				if strings.Contains(w.text, text) {
					found = w
				}
			case *answerButton:
				if w.text == text {
					found = w
				}
			}
		})
		if found != nil {
			return found
		}
	}
	t.Fatalf("no button %q on screen; screen shows:\n%s", text, allText(ui))
	return nil
}

// tap taps the button or tile labelled text and waits for background
// work.
func tap(t *testing.T, ui *UI, text string) {
	t.Helper()
	test.Tap(tappable(t, ui, text))
	ui.wait()
}

// find returns the first visible object of type W under the window and
// dialogs for which ok holds.
func find[W fyne.CanvasObject](ui *UI, ok func(W) bool) (W, bool) {
	var zero W
	rs := roots(ui)
	for i := len(rs) - 1; i >= 0; i-- {
		var found W
		var got bool
		walk(rs[i], func(o fyne.CanvasObject) {
			if w, is := o.(W); is && !got && ok(w) {
				found, got = w, true
			}
		})
		if got {
			return found, true
		}
	}
	return zero, false
}

// entry finds an entry by placeholder.
func entry(t *testing.T, ui *UI, placeholder string) *widget.Entry {
	t.Helper()
	e, ok := find(ui, func(e *widget.Entry) bool { return e.PlaceHolder == placeholder })
	if !ok {
		t.Fatalf("no entry %q on screen; screen shows:\n%s", placeholder, allText(ui))
	}
	return e
}

// closeDialog dismisses the top dialog with its button.
func closeDialog(t *testing.T, ui *UI, button string) {
	t.Helper()
	if ui.win.Canvas().Overlays().Top() == nil {
		t.Fatalf("no dialog open")
	}
	tap(t, ui, button)
}

// dismissAll closes every dialog.
func dismissAll(ui *UI) {
	for ui.win.Canvas().Overlays().Top() != nil {
		ui.win.Canvas().Overlays().Remove(ui.win.Canvas().Overlays().Top())
	}
}

// waitFor polls cond for a while (records arriving through the draft
// saver's timer).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, 2*time.Second, what, cond)
}

// carry copies every record of from that to lacks into to, as a sync
// would (tests move records between devices without a network).
func carry(t *testing.T, from, to *store.Store) {
	t.Helper()
	var raws [][]byte
	err := from.ForEachKey(func(_ int64, id incident.ID) error {
		if ok, _ := to.Has(id); ok {
			return nil
		}
		r, err := from.Get(id)
		if err != nil || r == nil {
			return err
		}
		raws = append(raws, r.Raw)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := to.AddMany(raws, "test", nil); err != nil {
		t.Fatal(err)
	}
}

func storeOf(ui *UI) *store.Store {
	if nb, ok := ui.be.(*netBackend); ok { // a scene's (openScene)
		return nb.Backend.(*StoreBackend).Store()
	}
	return ui.be.(*StoreBackend).Store()
}

// toastText is the confirmation showing over the screen, or "".
func toastText(ui *UI) string {
	if ui.toastBar == nil {
		return ""
	}
	return ui.toastBar.text()
}

// hello carries from's records to to, and the epoch secrets from holds,
// as a hello and the reconciliation after it do: what opens the notices
// sealed to the mission's members.
func hello(t *testing.T, from, to *store.Store) {
	t.Helper()
	carry(t, from, to)
	secrets, err := from.EpochSecrets()
	if err != nil {
		t.Fatal(err)
	}
	for id, secret := range secrets {
		if _, err := to.AddEpochSecret(id, secret); err != nil {
			t.Fatal(err)
		}
	}
}
