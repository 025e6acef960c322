package app

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
)

// BundleExtension names bundle files (the CLI's examples use it too).
const BundleExtension = ".vgb"

// bundleSizes are the export's size limits in MB (0: none). A phone
// builds the bundle in memory before it writes it, so it starts at 50 MB.
var bundleSizes = []int64{0, 10, 50, 200, 1000}

// bundleSince are the export's time windows (0: every record).
var bundleSince = []time.Duration{0, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// bundle protections, in the order the export dialog offers them.
const (
	protectMembers = iota
	protectCoordinators
	protectPassphrase
	protectNone
)

// fileSaveDialog is Fyne's save dialog.
func (ui *UI) fileSaveDialog(name string, exts []string, got func(fyne.URIWriteCloser, error)) {
	d := dialog.NewFileSave(got, ui.win)
	d.SetFileName(name)
	if len(exts) > 0 {
		d.SetFilter(storage.NewExtensionFileFilter(exts))
	}
	d.Show()
}

// fileOpenDialog is Fyne's open dialog.
func (ui *UI) fileOpenDialog(exts []string, got func(fyne.URIReadCloser, error)) {
	d := dialog.NewFileOpen(got, ui.win)
	if len(exts) > 0 {
		d.SetFilter(storage.NewExtensionFileFilter(exts))
	}
	d.Show()
}

// bundleBox is the sync screen's section for carrying records by hand.
func (ui *UI) bundleBox() fyne.CanvasObject {
	exp := widget.NewButtonWithIcon(T("bundle.export"), theme.DocumentSaveIcon(), ui.showBundleExport)
	imp := widget.NewButtonWithIcon(T("bundle.import"), theme.FolderOpenIcon(), ui.importBundle)
	exp.Importance = widget.HighImportance
	// Side by side on a laptop; one above the other on a phone, where
	// the two labels do not fit one row in every language.
	var buttons fyne.CanvasObject = container.NewGridWithColumns(2, exp, imp)
	if ui.opts.Phone {
		buttons = container.NewVBox(exp, imp)
	}
	return container.NewVBox(
		widget.NewSeparator(),
		heading("💾 "+T("bundle.title")),
		note(T("bundle.note")),
		buttons,
	)
}

// showBundleExport asks which records and how to protect them, then a
// file, and writes the bundle.
func (ui *UI) showBundleExport() {
	var sinceNames []string
	for _, d := range bundleSince {
		if d == 0 {
			sinceNames = append(sinceNames, T("bundle.since_all"))
		} else {
			sinceNames = append(sinceNames, TN("bundle.since_hours", int(d/time.Hour)))
		}
	}
	since := widget.NewSelect(sinceNames, nil)
	since.SetSelectedIndex(0)
	var sizeNames []string
	for _, mb := range bundleSizes {
		if mb == 0 {
			sizeNames = append(sizeNames, T("bundle.size_any"))
		} else {
			sizeNames = append(sizeNames, T("bundle.size_mb", map[string]any{"Limit": mb}))
		}
	}
	size := widget.NewSelect(sizeNames, nil)
	size.SetSelectedIndex(0)
	if ui.opts.Phone {
		size.SetSelectedIndex(2)
	}

	protectNames := []string{"👥 " + T("bundle.protect_members"), "🔒 " + T("bundle.protect_coordinators"), "🔑 " + T("bundle.protect_passphrase"), "🔓 " + T("bundle.protect_none")}
	protectNotes := []string{T("bundle.protect_members_note"), T("bundle.protect_coordinators_note"), T("bundle.protect_passphrase_note"), T("bundle.protect_none_note")}
	protect := widget.NewRadioGroup(protectNames, nil)
	explain := note("")
	pass := widget.NewPasswordEntry()
	pass.SetPlaceHolder(T("bundle.passphrase"))
	again := widget.NewPasswordEntry()
	again.SetPlaceHolder(T("bundle.passphrase_again"))
	passBox := container.NewVBox(pass, again)
	choice := func() int {
		for i, n := range protectNames {
			if n == protect.Selected {
				return i
			}
		}
		return protectNone
	}
	var d *dialog.CustomDialog
	protect.OnChanged = func(string) {
		explain.SetText(protectNotes[choice()])
		if choice() == protectPassphrase {
			passBox.Show()
		} else {
			passBox.Hide()
		}
		if d != nil {
			// The passphrase fields come and go: fit the dialog to them.
			fitDialog(d, 480)
		}
	}
	protect.SetSelected(protectNames[protectMembers])

	progress := widget.NewProgressBarInfinite()
	progress.Hide()
	status := note("")
	var start *widget.Button
	start = widget.NewButtonWithIcon(T("export.choose_file"), theme.DocumentSaveIcon(), func() {
		req := BundleRequest{}
		if d := bundleSince[max(since.SelectedIndex(), 0)]; d > 0 {
			req.Since = ui.now().Add(-d)
		}
		req.MaxBytes = bundleSizes[max(size.SelectedIndex(), 0)] * 1_000_000
		switch choice() {
		case protectCoordinators:
			req.ForCoordinators = true
		case protectNone:
			req.Plain = true
		case protectPassphrase:
			if err := checkNewPassphrase(pass.Text, again.Text); err != nil {
				ui.showError(err)
				return
			}
			req.Passphrase = []byte(pass.Text)
		}
		name := strings.ReplaceAll(strings.ToLower(ui.id.MissionName), " ", "-")
		if name == "" {
			name = "vigil"
		}
		name += "-" + ui.now().Format("2006-01-02-1504") + BundleExtension
		ui.saveTo(name, []string{BundleExtension}, func(wc fyne.URIWriteCloser) {
			start.Disable()
			progress.Show()
			status.SetText("")
			ui.exportBundleTo(req, wc, func(n Bundled, err error) {
				start.Enable()
				progress.Hide()
				if err != nil {
					ui.showError(err)
					return
				}
				text := "✅ " + TN("bundle.exported", n.Records, map[string]any{"File": wc.URI().Name()})
				if n.Files > 0 {
					text += " " + TN("bundle.exported_files", n.Files)
				}
				if n.LeftOut > 0 {
					text += "\n⚠️ " + TN("bundle.left_out", n.LeftOut)
				}
				status.SetText(text)
			})
		})
	})
	start.Importance = widget.HighImportance
	body := container.NewVBox(
		note(T("bundle.export_note")),
		boldLabel(T("bundle.which")), since,
		boldLabel(T("bundle.size")), size,
		boldLabel(T("bundle.protect")), protect, explain, passBox,
		start, progress, status)
	d = dialog.NewCustom(T("bundle.export_title"), T("action.close"), body, ui.win)
	fitDialog(d, 480)
	d.Show()
}

// exportBundleTo builds the bundle in memory, then writes it to w in one
// go (so a stick pulled early holds a short file, which import rejects as
// a whole) and closes w. done runs on the Fyne goroutine.
func (ui *UI) exportBundleTo(req BundleRequest, w io.WriteCloser, done func(Bundled, error)) {
	var n Bundled
	ui.background(func() error {
		var buf bytes.Buffer
		var err error
		n, err = ui.be.ExportBundle(req, &buf)
		if err == nil {
			_, err = w.Write(buf.Bytes())
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		return err
	}, func(err error) { done(n, err) })
}

// importBundle asks for a bundle file and imports it.
func (ui *UI) importBundle() {
	ui.chooseOpen([]string{BundleExtension}, func(rc fyne.URIReadCloser, err error) {
		if name, data, ok := ui.readPicked(rc, err, MaxBundleBytes); ok {
			ui.importBundleData(name, data, nil)
		}
	})
}

// importBundleData imports a bundle with progress, asks for the
// passphrase of a passphrase bundle, and shows what was added.
func (ui *UI) importBundleData(name string, data, passphrase []byte) {
	bar := widget.NewProgressBar()
	wait := dialog.NewCustomWithoutButtons(T("bundle.importing"), container.NewVBox(wrapLabel(name), bar), ui.win)
	wait.Resize(fyne.NewSize(360, 0).Max(wait.MinSize()))
	wait.Show()
	var sum ImportSummary
	var last time.Time
	ui.background(func() (err error) {
		sum, err = ui.be.ImportBundle(name, data, passphrase, func(done, total int) {
			if now := time.Now(); now.Sub(last) > 100*time.Millisecond || done == total {
				last = now
				if ui.opts.inline {
					bar.SetValue(float64(done) / float64(total))
				} else {
					fyne.Do(func() { bar.SetValue(float64(done) / float64(total)) })
				}
			}
		})
		return err
	}, func(err error) {
		wait.Hide()
		switch {
		case errors.Is(err, ErrBundlePassphrase) && passphrase == nil:
			ui.askBundlePassphrase(name, data)
		case err != nil:
			ui.showError(err)
		default:
			ui.refreshAll()
			ui.showImportSummary(name, sum)
		}
	})
}

// askBundlePassphrase asks for the passphrase a bundle was encrypted with.
func (ui *UI) askBundlePassphrase(name string, data []byte) {
	pass := widget.NewPasswordEntry()
	pass.SetPlaceHolder(T("bundle.passphrase"))
	body := container.NewVBox(wrapLabel(T("bundle.needs_passphrase", map[string]any{"File": name})), pass)
	d := dialog.NewCustomConfirm(T("bundle.import_title"), T("bundle.open"), T("action.cancel"), body, func(ok bool) {
		if ok && pass.Text != "" {
			ui.importBundleData(name, data, []byte(pass.Text))
		}
	}, ui.win)
	fitDialog(d, 380)
	d.Show()
	ui.win.Canvas().Focus(pass)
}

// MaxRejectionsShown bounds the rejections an import summary lists.
const MaxRejectionsShown = 20

// showImportSummary says how many records were added (and how many of
// them need a newer Vigil to show), already held, waiting and rejected,
// with each rejection's reason.
func (ui *UI) showImportSummary(name string, s ImportSummary) {
	line := func(icon, text string) fyne.CanvasObject { return wrapLabel(icon + "  " + text) }
	box := container.NewVBox(note(TN("bundle.in_file", s.Records, map[string]any{"File": name})),
		line("➕", TN("bundle.added", s.Accepted)))
	if s.Newer > 0 {
		box.Add(line("🆕", TN("bundle.newer", s.Newer)))
	}
	box.Add(line("✔️", TN("bundle.duplicate", s.Duplicate)))
	if s.Quarantined > 0 {
		box.Add(line("⏳", TN("bundle.waiting", s.Quarantined)))
	}
	if s.Released > 0 {
		box.Add(line("🔓", TN("bundle.released", s.Released)))
	}
	box.Add(line("⛔", TN("bundle.rejected", s.Rejected)))
	if len(s.Rejections) > 0 {
		list := container.NewVBox()
		for i, r := range s.Rejections {
			if i == MaxRejectionsShown {
				list.Add(note(TN("bundle.more_rejected", len(s.Rejections)-MaxRejectionsShown)))
				break
			}
			id := widget.NewLabel("⛔ " + shortID(r.ID.String()))
			id.TextStyle.Monospace = true
			why := r.Err.Error()
			if incident.IsNewer(r.Err) {
				why = T("bundle.rejected_newer")
			}
			list.Add(card(container.NewVBox(id, wrapLabel(why))))
		}
		box.Add(heading(T("bundle.why_rejected")))
		box.Add(list)
		box.Add(note(T("bundle.rejected_note")))
	}
	title := T("bundle.imported")
	if s.Rejected > 0 {
		title = T("bundle.imported_partly")
	}
	d := dialog.NewCustom(title, T("action.ok"), box, ui.win)
	fitDialog(d, 440)
	d.Show()
}

// bundleErrorText explains a failed import, or "" when err is not one.
func bundleErrorText(err error) string {
	switch {
	case errors.Is(err, ErrBundlePassphrase):
		return T("bundle.err_passphrase")
	case errors.Is(err, ErrNoCoordinatorKey):
		return T("bundle.err_no_coordinator_key")
	case errors.Is(err, ErrBundleMission):
		return T("bundle.err_mission") + "\n\n" + bundleCause(err)
	case errors.Is(err, bundle.ErrCorrupt):
		return T("bundle.err_corrupt") + "\n\n" + bundleCause(err)
	}
	return ""
}

// bundleCause is the library's account of a failed import, without the
// "nothing was stored" the translated text already says.
func bundleCause(err error) string { return strings.TrimSuffix(err.Error(), nothingStored) }

// boldLabel is a bold field label.
func boldLabel(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// fitDialog sizes a dialog w wide and as tall as its content then needs:
// wrapped labels are measured narrow before the first layout, which would
// leave a tall dialog with a gap at the bottom.
func fitDialog(d dialog.Dialog, w float32) {
	d.Resize(fyne.NewSize(w, 0).Max(d.MinSize()))
	d.Resize(fyne.NewSize(w, d.MinSize().Height))
}
