package app

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident/vault"
)

// Auto-lock returns the app to the passphrase screen (or the cover) after
// a while without use. It is a screen lock: the store stays open, its key
// in memory, and the node keeps syncing; what it takes away is the
// screens, so that a phone picked up unlocked asks for the passphrase
// again.
//
// Fyne has no hook that sees every tap, so activity is what the app can
// observe:
//   - a screen shown (every navigation, back, a tab chosen),
//   - an action started (anything that saves or reads in the background),
//   - a key typed outside a text field (the window's key handlers),
//   - at each idle check, a change since the last check in the focused
//     text field (its text or cursor), in a form's draft (an answer
//     chosen), in the scroll position of the screen, or in the dialogs
//     open.
//
// A tap that changes none of these (on a label, on a button that does
// nothing) is not seen; the check runs often enough (idleCheckEvery) that
// typing or scrolling keeps the app unlocked.

// autoLockChoices are the delays offered in Settings, in minutes (0: off).
var autoLockChoices = []int{0, 1, 5, 15, 30}

// idleCheckEvery is how often the app looks for activity and locks.
const idleCheckEvery = 15 * time.Second

// autoLockDefault is 5 minutes on a phone, off on a laptop.
func (ui *UI) autoLockDefault() int {
	if ui.opts.Phone {
		return 5
	}
	return 0
}

// autoLockMinutes is the delay in force (0: off).
func (ui *UI) autoLockMinutes() int {
	if m := ui.device.AutoLockMinutes; m != nil {
		return *m
	}
	return ui.autoLockDefault()
}

// setAutoLock changes the delay and saves it with the device settings.
func (ui *UI) setAutoLock(min int) error {
	ui.device.AutoLockMinutes = &min
	ui.touch()
	return ui.saveDevice()
}

// touch notes activity now.
func (ui *UI) touch() { ui.lastActive = ui.now() }

// watchKeys notes keys typed outside a text field as activity (in a
// field, the idle check sees the text change), and passes them to the
// cover's calculator while it shows.
func (ui *UI) watchKeys() {
	c := ui.win.Canvas()
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		ui.touch()
		if ui.cover != nil {
			ui.cover.typedKey(ev.Name)
		}
	})
	c.SetOnTypedRune(func(r rune) {
		ui.touch()
		if ui.cover != nil {
			ui.cover.typedRune(r)
		}
	})
	if dc, ok := c.(desktop.Canvas); ok {
		dc.SetOnKeyDown(func(*fyne.KeyEvent) { ui.touch() })
	}
}

// idleLoop checks for idleness until the app closes (tests call
// checkIdle themselves, with their own clock).
func (ui *UI) idleLoop() {
	t := time.NewTicker(idleCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ui.stop:
			return
		case <-t.C:
			fyne.Do(ui.checkIdle)
		}
	}
}

// checkIdle locks the app when nothing was seen for the auto-lock delay.
func (ui *UI) checkIdle() {
	if ui.be == nil || ui.locked {
		return
	}
	if sig := ui.activitySig(); sig != ui.lastSig {
		ui.lastSig = sig
		ui.touch()
		return
	}
	min := ui.autoLockMinutes()
	if min <= 0 {
		return
	}
	if ui.now().Sub(ui.lastActive) >= time.Duration(min)*time.Minute {
		ui.lock()
	}
}

// activitySig sums up what the user changes without the app being told:
// the focused field and its text, the drafts, the scroll positions of the
// screen and the dialogs open.
func (ui *UI) activitySig() uint64 {
	h := fnv.New64a()
	c := ui.win.Canvas()
	if f := c.Focused(); f != nil {
		fmt.Fprintf(h, "%p;", f)
		if e, ok := f.(*widget.Entry); ok {
			fmt.Fprintf(h, "%d:%d:%d:%s;", e.CursorRow, e.CursorColumn, len(e.Text), e.Text)
		}
	}
	if ui.form != nil {
		fmt.Fprintf(h, "form:%d;", ui.form.saver.changeCount())
	}
	if ui.checklist != nil {
		fmt.Fprintf(h, "checklist:%d;", ui.checklist.saver.changeCount())
	}
	overlays := c.Overlays().List()
	fmt.Fprintf(h, "overlays:%d;", len(overlays))
	for _, o := range overlays {
		fmt.Fprintf(h, "%p;", o)
		scrollSig(h, o)
	}
	scrollSig(h, c.Content())
	return h.Sum64()
}

// scrollSig writes the scroll offsets found under o, through containers,
// scrollers and tabs (widgets' insides are not reachable, and need not
// be: the app's screens scroll in containers).
func scrollSig(h io.Writer, o fyne.CanvasObject) {
	if o == nil || !o.Visible() {
		return
	}
	switch c := o.(type) {
	case *fyne.Container:
		for _, ch := range c.Objects {
			scrollSig(h, ch)
		}
	case *container.Scroll:
		fmt.Fprintf(h, "s%.0f,%.0f;", c.Offset.X, c.Offset.Y)
		scrollSig(h, c.Content)
	case *container.AppTabs:
		if it := c.Selected(); it != nil {
			scrollSig(h, it.Content)
		}
	case *widget.List:
		fmt.Fprintf(h, "l%.0f;", c.GetScrollOffset())
	}
}

// lock hides everything and shows the cover, or the passphrase screen.
// Drafts are saved first.
func (ui *UI) lock() {
	if ui.be == nil || ui.locked {
		return
	}
	ui.flushDraft()
	if ui.form != nil {
		ui.form.saver.cancel()
	}
	if ui.checklist != nil {
		ui.checklist.saver.cancel()
	}
	ui.locked = true
	ui.form, ui.checklist, ui.tally = nil, nil, nil
	ui.main, ui.stack, ui.refresh = nil, nil, nil
	ui.observer, ui.dash, ui.table = nil, nil, nil
	ui.id = Identity{}
	ov := ui.win.Canvas().Overlays()
	for ov.Top() != nil {
		ov.Remove(ov.Top())
	}
	if ui.toastBar != nil {
		ui.toastBar.Hide()
	}
	ui.showStart()
}

// resume checks the passphrase typed on the lock screen. The real one
// brings back the home, the store having stayed open. Any other is tried
// as at start, the store closed first: the duress passphrase must destroy
// the store as it does there; a wrong one leaves the app locked as at
// start (the store closed, the node stopped) until the right one.
func (ui *UI) resume(p []byte, after func()) {
	be := ui.be
	var fresh Backend
	closed := false
	ui.background(func() error {
		err := be.CheckPassphrase(p)
		if !errors.Is(err, vault.ErrWrongPassphrase) {
			return err
		}
		closed = true
		_ = be.Close()
		fresh, err = ui.home.Unlock(p)
		return err
	}, func(err error) {
		after()
		if closed {
			ui.be, ui.locked = fresh, false
		}
		if err != nil {
			ui.showError(err)
			return
		}
		ui.locked = false
		ui.signedIn()
	})
}
