package app

import (
	"bytes"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
)

// fileList shows a report's files: each with its name and size, a view
// of photos, and a save to a file the person picks. A file not here yet,
// or sealed to others, says so instead.
func (ui *UI) fileList(r *incident.ReportPayload) fyne.CanvasObject {
	box := container.NewVBox()
	for _, f := range ui.be.Files(r) {
		label := widget.NewLabel(fmt.Sprintf("📎 %s (%s)", f.Name, humanSize(f.Size)))
		label.Wrapping = fyne.TextWrapWord
		switch {
		case !f.Held:
			box.Add(container.NewVBox(label, note(T("file.not_here"))))
			continue
		case !f.Readable:
			box.Add(container.NewVBox(label, note(T("file.sealed"))))
			continue
		}
		save := widget.NewButtonWithIcon(T("file.save"), theme.DocumentSaveIcon(), func() { ui.saveFile(r, f) })
		row := container.NewHBox(save)
		if strings.HasPrefix(f.Mime, "image/") {
			row.Add(widget.NewButtonWithIcon(T("file.view"), theme.VisibilityIcon(), func() { ui.viewFile(r, f) }))
		}
		box.Add(container.NewVBox(label, row))
	}
	return box
}

// viewFile shows a photo in a dialog.
func (ui *UI) viewFile(r *incident.ReportPayload, f File) {
	data, err := ui.be.FileContent(r, f)
	if err != nil {
		ui.showError(err)
		return
	}
	img := canvas.NewImageFromReader(bytes.NewReader(data), f.Name)
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSize(320, 320))
	dialog.NewCustom(f.Name, T("action.close"), img, ui.win).Show()
}

// saveFile writes a file where the person chooses.
func (ui *UI) saveFile(r *incident.ReportPayload, f File) {
	data, err := ui.be.FileContent(r, f)
	if err != nil {
		ui.showError(err)
		return
	}
	ui.saveTo(f.Name, nil, func(wc fyne.URIWriteCloser) {
		_, werr := wc.Write(data)
		if cerr := wc.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			ui.showError(werr)
		}
	})
}
