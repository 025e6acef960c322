package app

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
)

// openAmendForm opens the category-first form on one of my reports,
// prefilled with its current values (or with the unsaved changes of an
// earlier try, kept like a new report's draft). Saving stores a signed
// amendment; the report and its history keep the original.
func (ui *UI) openAmendForm(v incident.ReportView) {
	key := AmendDraftSetting(v.ID)
	b, _ := ui.be.Setting(key)
	d := DecodeDraft(b)
	restored := !d.Empty()
	if !restored {
		var files []Attachment
		for _, f := range ui.be.Files(&v.Report) {
			files = append(files, f.Attachment)
		}
		d = DraftOf(&v, files)
	}
	f := &reportForm{ui: ui, d: d, saver: &draftSaver{s: ui.be, key: key}, now: ui.now, amend: &v, base: len(ui.stack)}
	ui.form = f
	f.showDetails(restored)
}

// resetStack drops the form's earlier steps, keeping what lies under the
// form.
func (f *reportForm) resetStack() {
	if f.base <= len(f.ui.stack) {
		f.ui.stack = f.ui.stack[:f.base]
	}
}

// screenTitle is the form's title: a new report, or an amendment.
func (f *reportForm) screenTitle() string {
	if f.amend != nil {
		return T("amend.title")
	}
	return T("form.title")
}

// restoredText says a draft was brought back.
func (f *reportForm) restoredText(when string) string {
	if f.amend != nil {
		return T("amend.restored", map[string]any{"Time": when})
	}
	return T("form.restored", map[string]any{"Time": when})
}

// discardText labels the discard button: a draft, or changes.
func (f *reportForm) discardText() string {
	if f.amend != nil {
		return T("amend.discard")
	}
	return T("form.discard")
}

// submitAmend stores the amendment, then shows the report again with its
// new values and history.
func (f *reportForm) submitAmend(p incident.ReportPayload) {
	ui := f.ui
	id := f.amend.ID
	if _, err := ui.be.Amend(id, p, f.d.Attachments); err != nil {
		ui.showError(err)
		return
	}
	f.saver.cancel()
	_ = ui.be.SetSetting(f.saver.key, nil)
	if ui.form == f {
		ui.form = nil
	}
	ui.popAll()
	ui.showMyReport(id)
	ui.toast(T("amend.saved"))
}

// showMyReport opens one of my reports with its delivery status.
func (ui *UI) showMyReport(id incident.ID) {
	if mine, err := ui.be.MyReports(); err == nil {
		for i := range mine {
			if mine[i].View.ID == id {
				ui.showReport(id, &mine[i])
				return
			}
		}
	}
	ui.showReport(id, nil)
}

// myReportActions are the amend and retract buttons on one of my own
// reports' detail.
func (ui *UI) myReportActions(v incident.ReportView) fyne.CanvasObject {
	amend := widget.NewButtonWithIcon(T("amend.button"), theme.DocumentCreateIcon(), func() { ui.openAmendForm(v) })
	retract := widget.NewButtonWithIcon(T("retract.button"), theme.ContentUndoIcon(), func() { ui.retract(v) })
	retract.Importance = widget.DangerImportance
	box := container.NewVBox(heading(T("amend.actions")))
	if !Readable(&v) {
		// The kept copy went once a coordinator confirmed the report: the
		// observer can no longer see what they would change.
		amend.Disable()
		box.Add(note(T("amend.sealed_gone")))
	}
	box.Add(container.NewGridWithColumns(2, amend, retract))
	box.Add(note(T("amend.actions_note")))
	return box
}

// retract withdraws one of my reports, behind a dialog that explains what
// retracting does and asks for the reason, which is required.
func (ui *UI) retract(v incident.ReportView) {
	reason := widget.NewMultiLineEntry()
	reason.Wrapping = fyne.TextWrapWord
	reason.SetMinRowsVisible(3)
	reason.SetPlaceHolder(T("retract.reason"))
	var d *dialog.CustomDialog
	cancel := widget.NewButton(T("action.cancel"), func() { d.Hide() })
	confirm := widget.NewButtonWithIcon(T("retract.confirm"), theme.ContentUndoIcon(), func() {
		why := strings.TrimSpace(reason.Text)
		if why == "" {
			return
		}
		d.Hide()
		if _, err := ui.be.Retract(v.ID, why); err != nil {
			ui.showError(err)
			return
		}
		// Unsaved changes of an amendment can no longer be saved.
		_ = ui.be.SetSetting(AmendDraftSetting(v.ID), nil)
		ui.popAll()
		ui.showMyReport(v.ID)
		ui.toast(T("retract.done"))
	})
	confirm.Importance = widget.DangerImportance
	confirm.Disable()
	reason.OnChanged = func(s string) {
		if strings.TrimSpace(s) == "" {
			confirm.Disable()
		} else {
			confirm.Enable()
		}
	}
	title := v.Report.Title
	if !Readable(&v) {
		title = T("report.sealed")
	}
	head := wrapLabel("↩️ " + title)
	head.TextStyle.Bold = true
	body := container.NewVBox(head, wrapLabel(T("retract.explain")), reason, note(T("retract.reason_note")))
	d = dialog.NewCustomWithoutButtons(T("retract.title"), body, ui.win)
	d.SetButtons([]fyne.CanvasObject{cancel, confirm})
	fitDialog(d, 420)
	d.Show()
	ui.win.Canvas().Focus(reason)
}
