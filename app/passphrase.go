package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident/vault"
)

// passphraseBox is the settings section for the passphrase and the duress
// passphrase.
func (ui *UI) passphraseBox() fyne.CanvasObject {
	change := widget.NewButton(T("pass.change"), ui.showChangePassphrase)
	duress := widget.NewButtonWithIcon(T("duress.set"), theme.WarningIcon(), ui.showSetDuress)
	return container.NewVBox(
		heading("🔑 "+T("pass.title")),
		note(T("pass.note")),
		change,
		widget.NewSeparator(),
		heading("🎭 "+T("duress.title")),
		note(T("duress.note")),
		duress,
	)
}

// passEntry is a password entry with a placeholder.
func passEntry(placeholder string) *widget.Entry {
	e := widget.NewPasswordEntry()
	e.SetPlaceHolder(placeholder)
	return e
}

// checkNewPassphrase checks a passphrase being chosen and typed twice: a
// new store's, a changed one, a duress one, a bundle's. The rule is
// vault.CheckNewPassphrase, the one the command line applies; its
// *vault.PassphraseError is returned as it is (errorText words it through
// passphraseText). Passphrases typed to unlock or to open a bundle are
// never checked: a store made by an older build with a shorter one must
// keep opening.
func checkNewPassphrase(p, again string) error {
	if err := vault.CheckNewPassphrase([]byte(p)); err != nil {
		return err
	}
	if p != again {
		return errorf(T("welcome.differ"))
	}
	return nil
}

// passphraseText words a refused new passphrase in the user's language.
func passphraseText(pe *vault.PassphraseError) string {
	switch pe.Fault {
	case vault.OnlySpaces:
		return T("welcome.only_spaces")
	case vault.OneCharRepeated:
		return T("welcome.one_char")
	}
	return T("welcome.too_short", map[string]any{"N": pe.Min})
}

// keyDialog shows a dialog whose confirm button runs work in the
// background (key derivation takes a second or two on a phone) with a
// progress bar; check runs first and its error keeps the dialog open.
func (ui *UI) keyDialog(title, confirmText string, body fyne.CanvasObject, ready func() bool,
	check func() error, work func() error, done string) (*dialog.CustomDialog, *widget.Button) {
	progress := widget.NewProgressBarInfinite()
	progress.Hide()
	var d *dialog.CustomDialog
	cancel := widget.NewButton(T("action.cancel"), func() { d.Hide() })
	var confirm *widget.Button
	confirm = widget.NewButtonWithIcon(confirmText, theme.ConfirmIcon(), func() {
		if err := check(); err != nil {
			ui.showError(err)
			return
		}
		confirm.Disable()
		cancel.Disable()
		progress.Show()
		ui.background(work, func(err error) {
			progress.Hide()
			confirm.Enable()
			cancel.Enable()
			if err != nil {
				ui.showError(err)
				return
			}
			d.Hide()
			ui.toast(done)
		})
	})
	confirm.Importance = widget.HighImportance
	if ready != nil && !ready() {
		confirm.Disable()
	}
	d = dialog.NewCustomWithoutButtons(title, container.NewVBox(body, progress), ui.win)
	d.SetButtons([]fyne.CanvasObject{cancel, confirm})
	fitDialog(d, 420)
	d.Show()
	return d, confirm
}

// showChangePassphrase asks for the current passphrase and a new one
// twice. A wrong current passphrase is an error and changes nothing.
func (ui *UI) showChangePassphrase() {
	cur := passEntry(T("pass.current"))
	next := passEntry(T("pass.new"))
	again := passEntry(T("pass.again"))
	body := container.NewVBox(note(T("pass.change_note")), cur, next, again)
	ui.keyDialog(T("pass.change_title"), T("pass.change_button"), body, nil,
		func() error {
			if cur.Text == "" {
				return errorf(T("pass.need_current"))
			}
			return checkNewPassphrase(next.Text, again.Text)
		},
		func() error { return ui.be.ChangePassphrase([]byte(cur.Text), []byte(next.Text)) },
		T("pass.changed"))
	ui.win.Canvas().Focus(cur)
}

// showSetDuress explains what a duress passphrase does (the behaviour of
// `vigil passphrase change --duress` and vault.Open) and sets one. The
// confirm button waits for the user to say they understand.
func (ui *UI) showSetDuress() {
	cur := passEntry(T("pass.current"))
	duress := passEntry(T("duress.new"))
	again := passEntry(T("duress.again"))
	var confirm *widget.Button
	understood := widget.NewCheck(T("duress.understand"), func(on bool) {
		if confirm == nil {
			return
		}
		if on {
			confirm.Enable()
		} else {
			confirm.Disable()
		}
	})
	explain := container.NewVBox(
		wrapLabel(T("duress.what")),
		wrapLabel("⚠️ "+T("duress.warning")),
		note(T("duress.replace")),
	)
	body := container.NewVBox(explain, cur, duress, again, understood)
	_, confirm = ui.keyDialog(T("duress.title"), T("duress.button"), body, func() bool { return understood.Checked },
		func() error {
			if cur.Text == "" {
				return errorf(T("pass.need_current"))
			}
			if err := checkNewPassphrase(duress.Text, again.Text); err != nil {
				return err
			}
			if duress.Text == cur.Text {
				return errorf(T("duress.same"))
			}
			return nil
		},
		func() error { return ui.be.SetDuress([]byte(cur.Text), []byte(duress.Text)) },
		T("duress.done"))
}
