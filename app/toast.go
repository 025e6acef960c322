package app

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// toastFor is how long a confirmation stays on screen.
const toastFor = 4 * time.Second

// toastBar is a one-line confirmation over the bottom of the window (a
// "snackbar"): it says what happened without a dialog to dismiss, leaves
// the rest of the screen usable, and goes by itself or when tapped.
type toastBar struct {
	widget.BaseWidget
	label *widget.Label
	layer *fyne.Container // the layer it shows in, laid out again on each toast
	gen   int             // bumped by each toast, so an older timer does not hide a newer one
}

func newToastBar() *toastBar {
	t := &toastBar{label: wrapLabel("")}
	t.label.TextStyle.Bold = true
	t.ExtendBaseWidget(t)
	t.Hide()
	return t
}

// Tapped dismisses the confirmation.
func (t *toastBar) Tapped(*fyne.PointEvent) { t.Hide() }

func (t *toastBar) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameOverlayBackground))
	bg.CornerRadius = theme.InputRadiusSize() * 2
	bg.StrokeColor = colorOK
	bg.StrokeWidth = 2
	return widget.NewSimpleRenderer(container.NewStack(bg, container.NewPadded(t.label)))
}

// text is what the confirmation says ("" when hidden).
func (t *toastBar) text() string {
	if !t.Visible() {
		return ""
	}
	return t.label.Text
}

// toastLayer lays the bar at the bottom of the screen, above the content;
// the spacer above it takes no taps, so the screen stays usable.
func (ui *UI) toastLayer() fyne.CanvasObject {
	if ui.toastBar == nil {
		ui.toastBar = newToastBar()
	}
	bottom := float32(theme.Padding() * 2)
	if ui.opts.Phone {
		bottom += 64 // clear of the tab bar
	}
	ui.toastBar.layer = container.New(layout.NewCustomPaddedLayout(0, bottom, theme.Padding()*2, theme.Padding()*2),
		container.NewVBox(layout.NewSpacer(), ui.toastBar))
	return ui.toastBar.layer
}

// toast shows a short confirmation of what just happened.
func (ui *UI) toast(msg string) {
	if ui.toastBar == nil {
		ui.toastBar = newToastBar()
	}
	t := ui.toastBar
	t.gen++
	t.label.SetText("✅  " + msg)
	t.Show()
	if t.layer != nil {
		t.layer.Refresh()
	}
	if ui.opts.inline {
		return // tests read it, then it stays until the next screen's check
	}
	gen := t.gen
	time.AfterFunc(toastFor, func() {
		fyne.Do(func() {
			if t.gen == gen {
				t.Hide()
			}
		})
	})
}
