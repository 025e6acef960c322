package app

import (
	"fmt"
	"testing"

	"fyne.io/fyne/v2"

	"github.com/vigil-mesh/vigil/incident/act"
)

// TestScreenshotsChecklists writes the screenshots of the checklists,
// phone-sized and laptop-sized, over the practice mission: the way to
// them on the observer's home, the observer's list, a question of each
// kind (a yes/no with a flagged answer, a number out of its bounds,
// several choices), the review and the confirmation; the coordinator's
// responses, a station where two observers disagree side by side, and
// the coverage panel with the checklists received and those missing.
//
//	VIGIL_SCREENSHOTS=$PWD/docs/screenshots go test -run ScreenshotsChecklists ./app
func TestScreenshotsChecklists(t *testing.T) {
	forEachShotLayout(t, func(p *shotPass) {
		shot := p.shot
		// Set, not typed: typing leaves every entry drawn focused.

		ob := p.open(p.homes.Observer)
		scrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == T("home.checkin") })
		shot(ob, "observer-home-checklists")
		tap(t, ob, T("checklist.open"))
		shot(ob, "checklists-observer")
		tap(t, ob, "Opening checklist")
		tap(t, ob, "No")
		shot(ob, "checklist-question-select")
		tap(t, ob, T("checklist.next"))
		f := ob.checklist
		f.number.SetText("900")
		shot(ob, "checklist-question-integer")
		f.number.SetText("75")
		tap(t, ob, T("checklist.next"))
		tap(t, ob, "No")
		tap(t, ob, T("checklist.next"))
		tap(t, ob, "Indelible ink")
		tap(t, ob, "Voter register")
		shot(ob, "checklist-question-multiple")
		tap(t, ob, T("checklist.next"))
		tap(t, ob, "Yes")
		tap(t, ob, T("checklist.next"))
		f.number.SetText("5")
		tap(t, ob, T("checklist.next"))
		tap(t, ob, "Yes")
		tap(t, ob, T("checklist.next"))
		tap(t, ob, T("checklist.na"))
		tap(t, ob, T("checklist.next"))
		f.text.SetText("Doors opened at 08:15: the ballot papers came with the police escort at 08:05.")
		tap(t, ob, T("checklist.next"))
		shot(ob, "checklist-review")
		tap(t, ob, T("checklist.send"))
		shot(ob, "checklist-sent")
		dismissAll(ob)
		ob.Close()

		co := p.open(p.homes.Coordinator)
		scrollTo(co, func(o fyne.CanvasObject) bool { return textOf(o) == "📋 "+T("dash.coverage") })
		shot(co, "dashboard-coverage-checklists")
		cov, err := co.be.Coverage(act.CoverageQuery{Level: CoverageLevel})
		if err != nil || len(cov.MissingChecklists) == 0 {
			t.Fatalf("no missing checklist in the practice mission: %v", err)
		}
		m := cov.MissingChecklists[0]
		for _, u := range cov.Units {
			if u.Unit == m.Unit {
				tap(t, co, fmt.Sprintf("%s — %d / %d", u.Unit, u.Heard[cov.Phase], u.Expected))
			}
		}
		scrollTo(co, func(o fyne.CanvasObject) bool { return textOf(o) == "📋 "+T("cov.missing_title") })
		shot(co, "coverage-missing-checklists")
		co.popAll()
		scrollTo(co, func(fyne.CanvasObject) bool { return false })
		tap(t, co, T("checklists.button"))
		shot(co, "checklists-coordinator")
		list, err := co.be.Checklists(act.ChecklistQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range list.Groups {
			if g.Disagree {
				tap(t, co, groupTitle(&g))
				shot(co, "checklists-side-by-side")
				break
			}
		}
		co.popAll()
		co.Close()
	})
}
