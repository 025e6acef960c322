package app

import (
	"io"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// showExport asks for a format and a file, then exports with progress.
func (ui *UI) showExport() {
	var names []string
	for _, f := range ExportFormats {
		names = append(names, T("export.format."+f))
	}
	choice := widget.NewRadioGroup(names, nil)
	explain := note("")
	hxl := widget.NewCheck(T("export.hxl"), nil)
	public := widget.NewCheck(T("export.public"), nil)
	// Disclosing opens the sealed reports and their photos to whoever
	// holds the package: asked for each export, never remembered.
	disclose := widget.NewCheck(T("export.disclose_keys"), nil)
	disclose.Disable()
	format := func() string {
		for i, n := range names {
			if n == choice.Selected {
				return ExportFormats[i]
			}
		}
		return ""
	}
	choice.OnChanged = func(string) {
		f := format()
		explain.SetText(T("export.about." + f))
		if f == "csv" {
			hxl.Enable()
		} else {
			hxl.SetChecked(false)
			hxl.Disable()
		}
		if f == "evidence" {
			public.SetChecked(false)
			public.Disable()
			disclose.Enable()
		} else {
			public.Enable()
			disclose.SetChecked(false)
			disclose.Disable()
		}
	}
	choice.SetSelected(names[0])
	progress := widget.NewProgressBar()
	progress.Hide()
	status := note("")
	var start *widget.Button
	start = widget.NewButtonWithIcon(T("export.choose_file"), theme.DocumentSaveIcon(), func() {
		req := ExportRequest{Format: format(), HXL: hxl.Checked, Public: public.Checked, DiscloseKeys: disclose.Checked}
		if req.Format == "" {
			return
		}
		save := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
			if err != nil {
				ui.showError(err)
				return
			}
			if wc == nil {
				return
			}
			start.Disable()
			progress.SetValue(0)
			progress.Show()
			status.SetText("")
			ui.exportTo(req, wc, func(done, total int) {
				if total > 0 {
					progress.SetValue(float64(done) / float64(total))
				}
			}, func(n int, err error) {
				start.Enable()
				if err != nil {
					progress.Hide()
					ui.showError(err)
					return
				}
				progress.SetValue(1)
				status.SetText(TN("export.done", n, map[string]any{"File": wc.URI().Name()}))
			})
		}, ui.win)
		name := strings.ReplaceAll(strings.ToLower(ui.id.MissionName), " ", "-")
		if name == "" || req.Public {
			name = "vigil"
		}
		if req.Public {
			name += "-public"
		}
		save.SetFileName(name + "-" + ui.now().Format("2006-01-02-1504") + ExportExtension(req.Format))
		save.SetFilter(storage.NewExtensionFileFilter([]string{ExportExtension(req.Format)}))
		save.Show()
	})
	start.Importance = widget.HighImportance
	body := container.NewVBox(note(T("export.note")), choice, explain, hxl, public, disclose, start, progress, status)
	d := dialog.NewCustom(T("export.title"), T("action.close"), body, ui.win)
	d.Resize(fyne.NewSize(480, 0).Max(d.MinSize()))
	d.Show()
}

// exportTo writes the export in the background; progress and done run on
// the Fyne goroutine. w is closed when done.
func (ui *UI) exportTo(req ExportRequest, w io.WriteCloser, progress func(done, total int), done func(int, error)) {
	var n int
	last := time.Time{}
	ui.background(func() error {
		var err error
		n, err = ui.be.Export(req, w, func(d, t int) {
			// Progress at most ten times a second: the UI need not see
			// every report go by.
			if now := time.Now(); now.Sub(last) > 100*time.Millisecond || d == t {
				last = now
				fyne.Do(func() { progress(d, t) })
			}
		})
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		return err
	}, func(err error) { done(n, err) })
}
