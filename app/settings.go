package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/vigil-mesh/vigil/incident"
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
	space := wrapLabel("")
	refresh := func() {
		space.SetText(ui.spaceText())
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
		heading(T("space.title")),
		space,
		ui.forgetHeldButton(refresh),
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

// spaceText says how much room Vigil uses and what it keeps (act.Desk.Space).
func (ui *UI) spaceText() string {
	if ui.be == nil {
		return ""
	}
	sp, err := ui.be.Space()
	if err != nil {
		return err.Error()
	}
	if !sp.Bounded {
		return T("space.all", map[string]any{"Used": incident.FormatSize(sp.Bytes), "Total": sp.Own + sp.Mission + sp.Carried + sp.Held})
	}
	text := T("space.bounded", map[string]any{"Used": incident.FormatSize(sp.Bytes), "Budget": incident.FormatSize(sp.Budget),
		"Own": sp.Own, "Mission": sp.Mission, "Carried": sp.Carried, "Receipts": sp.Receipts, "Dropped": sp.Dropped})
	if sp.Over {
		text += "\n⚠ " + T("space.full")
	}
	return text
}

// forgetHeldButton is the quick delete, on a phone only (a coordinator's
// laptop keeps every record): one confirmation, then this device's
// records that coordinators hold are deleted.
func (ui *UI) forgetHeldButton(after func()) fyne.CanvasObject {
	if ui.be == nil || (ui.id.Role != incident.RoleObserver && ui.id.Role != incident.RoleCarrier) {
		return layout.NewSpacer()
	}
	b := widget.NewButtonWithIcon(T("forget.button"), theme.DeleteIcon(), func() {
		ui.confirm(T("forget.confirm_title"), T("forget.confirm_message"), T("forget.confirm_button"), func() {
			deleted, kept, err := ui.be.ForgetHeld()
			if err != nil {
				ui.showError(err)
				return
			}
			after()
			ui.toast(T("forget.done", map[string]any{"Deleted": deleted, "Kept": kept}))
		})
	})
	// A plain box: column is a scroller, and one inside the settings'
	// scroller is a line high, the button out of sight.
	return container.NewVBox(note(T("forget.note")), b)
}
