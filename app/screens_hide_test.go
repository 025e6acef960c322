package app

import (
	"testing"

	"fyne.io/fyne/v2"
)

// TestScreenshotsHide writes the calculator cover (after 12+30=) and the
// settings section for auto-lock and the cover, phone-sized and
// laptop-sized:
//
//	VIGIL_SCREENSHOTS=$PWD/docs/screenshots go test -run ScreenshotsHide ./app
func TestScreenshotsHide(t *testing.T) {
	forEachShotLayout(t, func(p *shotPass) {
		ui := p.open(p.homes.Observer)
		ui.selectTab(T("tab.settings"))
		ui.wait()
		scrollTo(ui, func(o fyne.CanvasObject) bool { return textOf(o) == "🔒 "+T("lock.title") })
		p.shot(ui, "settings-hide")

		ui.device.Cover = newCoverSecret("2580")
		ui.lock()
		pressCalc(t, ui, "12+30=")
		p.shot(ui, "cover-calculator")
	})
}
