package app

import (
	"testing"
)

// TestScreenshotsSwahili writes phone screenshots in Swahili, the
// language whose words run longest on the screens that matter most: the
// coordinator's dashboard, the observer's checklists and a question, and
// the tally form (the observer's home in every language is in
// TestScreenshots).
//
//	VIGIL_SCREENSHOTS=$PWD/docs/screenshots go test -run ScreenshotsSwahili ./app
func TestScreenshotsSwahili(t *testing.T) {
	forEachShotLayout(t, func(p *shotPass) {
		if !p.phone {
			return
		}
		SetLanguage("sw")
		defer SetLanguage("en")
		co := p.open(p.homes.Coordinator)
		p.shot(co, "dashboard-sw")
		co.Close()

		ob := p.open(p.homes.Observer)
		tap(t, ob, T("checklist.open"))
		p.shot(ob, "checklists-observer-sw")
		ob.popAll()
		tap(t, ob, T("tally.open"))
		p.shot(ob, "tally-form-sw")
		ob.popAll()
		ob.Close()
	})
}
