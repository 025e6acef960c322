package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// newSettingsScreen holds the language, this device's key, the mission,
// the passphrase and duress passphrase, the panic wipe and, for
// coordinators, the mission configuration.
func newSettingsScreen(ui *UI) fyne.CanvasObject {
	key := widget.NewLabel("")
	key.Selectable = true
	key.Wrapping = fyne.TextWrapBreak
	key.TextStyle.Monospace = true
	copyKey := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
		ui.app.Clipboard().SetContent(ui.id.Author.String())
	})
	mission := wrapLabel("")
	refresh := func() {
		key.SetText(ui.id.Author.String())
		text := T("settings.mission_line", map[string]any{"Mission": ui.id.MissionName, "Role": RoleLabel(ui.id.Role)})
		if ui.id.Label != "" {
			text += " · " + ui.id.Label
		}
		if ui.id.Practice {
			text += "\n🎓 " + T("practice.banner")
		}
		mission.SetText(text)
	}
	ui.refresh = append(ui.refresh, refresh)

	wipe := widget.NewButtonWithIcon(T("wipe.button"), theme.DeleteIcon(), ui.panicWipe)
	wipe.Importance = widget.DangerImportance
	return column(
		heading(T("settings.title")),
		ui.languagePicker(func() { ui.signedIn(); ui.selectTab(T("tab.settings")) }),
		widget.NewSeparator(),
		heading(T("settings.mission")),
		mission,
		heading(T("settings.device_key")),
		note(T("settings.device_key_note")),
		container.NewBorder(nil, nil, nil, copyKey, key),
		widget.NewSeparator(),
		// The wipe before the passphrases: in a hurry, it must not be
		// below the fold.
		heading("⚠ "+T("wipe.title")),
		note(T("wipe.note")),
		tall(wipe, 52),
		widget.NewSeparator(),
		ui.passphraseBox(),
		widget.NewSeparator(),
		ui.hideBox(),
		widget.NewSeparator(),
		ui.backupBox(),
		widget.NewSeparator(),
		// Fyne 2.7 shapes each right-to-left run but lays a line's runs
		// out left to right: say so, below the wipe, which must stay in
		// reach at the top.
		note(T("settings.scripts_note")),
		// Last: coordinators read it at a desk; the wipe stays near the top.
		newConfigSection(ui),
	)
}

// panicWipe destroys the store's key after one confirmation: it must be
// quick, but never one tap from an accident.
func (ui *UI) panicWipe() {
	ui.confirm(T("wipe.confirm_title"), T("wipe.confirm_message"), T("wipe.confirm_button"), func() {
		if ui.form != nil {
			ui.form.saver.cancel()
			ui.form = nil
		}
		if ui.checklist != nil {
			ui.checklist.saver.cancel()
			ui.checklist = nil
		}
		be := ui.be
		ui.be = nil
		ui.main, ui.stack, ui.refresh = nil, nil, nil
		ui.id = Identity{}
		if be != nil {
			if err := be.Wipe(); err != nil {
				ui.showError(err)
			}
		}
		if ui.opts.OnWiped != nil {
			ui.opts.OnWiped()
		}
		ui.showWelcome()
		ui.toast(T("wipe.done"))
	})
}
