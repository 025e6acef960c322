package app

import (
	"testing"

	"fyne.io/fyne/v2"

	"github.com/vigil-mesh/vigil/app/internal/scene"
	"github.com/vigil-mesh/vigil/incident"
)

// scriptTitles are report titles in the scripts observers write in: Fyne
// draws Amharic, Burmese and Chinese with the system's fonts (fontscan;
// Debian: fonts-noto-core and fonts-droid-fallback, Android: its own), and
// Arabic and Persian left to right, which the settings screen says.
var scriptTitles = []string{
	"የምርጫ ጣቢያው ተዘግቷል",
	"မဲရုံ ပိတ်ထားသည်",
	"投票站提前关闭",
	"مركز الاقتراع مغلق",
	"مركز PS-0043 مغلق منذ 12",
}

// TestScreenshotsScripts writes the observer's home listing reports
// titled in Amharic, Burmese, Chinese and Arabic, and the settings screen
// with its note on right-to-left scripts.
//
//	VIGIL_SCREENSHOTS=$PWD/docs/screenshots go test -run ScreenshotsScripts ./app
func TestScreenshotsScripts(t *testing.T) {
	forEachShotLayout(t, func(p *shotPass) {
		ob := p.open(p.homes.Observer)
		for i, title := range scriptTitles {
			if _, err := ob.be.Submit(incident.ReportPayload{Category: "polling.closure", Severity: 2, Title: title,
				Occurred: scene.Now.UnixMilli() - int64(i)*60_000}, nil, false); err != nil {
				t.Fatal(err)
			}
		}
		ob.refreshAll()
		ob.wait()
		scrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == scriptTitles[0] })
		p.shot(ob, "scripts-home")
		ob.selectTab(T("tab.settings"))
		ob.wait()
		scrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == T("settings.scripts_note") })
		p.shot(ob, "scripts-settings")
		ob.Close()
	})
}
