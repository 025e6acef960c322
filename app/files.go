package app

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// fileList shows a report's files: each with its name and size, a view
// of photos, and a save to a file the person picks. A file not here yet,
// or sealed to others, says so instead.
// Under each file, a line of its capture record, where this device reads
// one: when and where the file says it was taken, and how the
// observer's clock stood against its peers'.
func (ui *UI) fileList(id incident.ID, r *incident.ReportPayload) fyne.CanvasObject {
	files := ui.be.Files(r)
	box := ui.fileRows(files, func(i int) ([]byte, error) { return ui.be.FileContent(r, files[i]) })
	caps := ui.be.Captures(id)
	if len(caps) == 0 {
		return box
	}
	rows := box.(*fyne.Container)
	for i, f := range files {
		if c, ok := act.CaptureFor(caps, act.PlainHash(r, f)); ok && i < len(rows.Objects) {
			if row, ok := rows.Objects[i].(*fyne.Container); ok {
				row.Add(note("📷 " + captureText(c.Capture)))
			}
		}
	}
	return box
}

// captureText is a capture record in one short line, in the person's
// language: the file's time and place (as the file says), its camera,
// and the device clock against the median of its peers'.
func captureText(c incident.CapturePayload) string {
	parts := []string{T("capture.no_time")}
	if c.Taken != "" {
		parts[0] = c.Taken + c.TakenZone
	}
	if c.Lat != nil && c.Lon != nil {
		parts = append(parts, incident.FormatMicro(*c.Lat)+", "+incident.FormatMicro(*c.Lon))
	} else {
		parts = append(parts, T("capture.no_place"))
	}
	if cam := strings.TrimSpace(c.Make + " " + c.Model); cam != "" {
		parts = append(parts, cam)
	}
	if c.Offset == nil {
		parts = append(parts, T("capture.no_peers"))
	} else {
		d := (time.Duration(*c.Offset) * time.Millisecond).Round(time.Second)
		data := map[string]any{"N": c.Peers, "D": d.Abs().String()}
		switch {
		case d == 0:
			parts = append(parts, T("capture.clock_even", data))
		case d > 0: // the peers are ahead
			parts = append(parts, T("capture.clock_behind", data))
		default:
			parts = append(parts, T("capture.clock_ahead", data))
		}
	}
	return strings.Join(parts, " · ")
}

// fileRows lists files, content(i) opening file i: the one way the app
// shows a record's files (a report's, a tally's photos).
func (ui *UI) fileRows(files []File, content func(i int) ([]byte, error)) fyne.CanvasObject {
	box := container.NewVBox()
	for i, f := range files {
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
		open := func() []byte {
			data, err := content(i)
			if err != nil {
				ui.showError(err)
				return nil
			}
			return data
		}
		save := widget.NewButtonWithIcon(T("file.save"), theme.DocumentSaveIcon(), func() {
			if data := open(); data != nil {
				ui.saveFile(f.Name, data)
			}
		})
		row := container.NewHBox(save)
		if strings.HasPrefix(f.Mime, "image/") {
			row.Add(widget.NewButtonWithIcon(T("file.view"), theme.VisibilityIcon(), func() {
				if data := open(); data != nil {
					ui.viewFile(f.Name, data)
				}
			}))
		}
		rows := container.NewVBox(label, row)
		if f.Mime == "image/jpeg" || f.Mime == "image/png" {
			// The copy to publish: the photo without its EXIF (time, GPS,
			// camera serial) and other metadata (act.PublicCopy).
			rows.Add(widget.NewButtonWithIcon(T("file.save_public"), theme.UploadIcon(), func() {
				data := open()
				if data == nil {
					return
				}
				pub, err := act.PublicCopy(f.Name, data)
				if err != nil {
					ui.showError(err)
					return
				}
				ui.saveFile(f.Name, pub)
			}))
			// What the copy lacks, below: in the button's label it made
			// the button wider than a phone (a button's label never wraps).
			rows.Add(note(T("file.save_public_note")))
		}
		box.Add(rows)
	}
	return box
}

// viewFile shows a photo in a dialog.
func (ui *UI) viewFile(name string, data []byte) {
	img := canvas.NewImageFromReader(bytes.NewReader(data), name)
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSize(320, 320))
	dialog.NewCustom(name, T("action.close"), img, ui.win).Show()
}

// saveFile writes a file where the person chooses.
func (ui *UI) saveFile(name string, data []byte) {
	ui.saveTo(name, nil, func(wc fyne.URIWriteCloser) {
		_, werr := wc.Write(data)
		if cerr := wc.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			ui.showError(werr)
		}
	})
}
