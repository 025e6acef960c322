package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// TestScreenshotsAlerts writes the screenshots of notices and alerts,
// phone-sized (dark, drawn at twice the size) and laptop-sized (light,
// 1280 × 800), from the real widgets over the practice mission: the
// observer's acknowledged alert on their home, the list of notices, a
// coordinator's alert detail with its history and answer, and the form
// that sends a notice.
//
//	VIGIL_SCREENSHOTS=$PWD/docs/screenshots go test -run ScreenshotsAlerts ./app
func TestScreenshotsAlerts(t *testing.T) {
	forEachShotLayout(t, func(p *shotPass) {
		homes, open, shot := p.homes, p.open, p.shot

		ob := open(homes.Observer)
		scrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == "🆘 "+T("home.my_alerts") })
		shot(ob, "observer-home-alert")
		scrollTo(ob, func(o fyne.CanvasObject) bool { return false })
		tap(t, ob, TN("notice.list_button", 3))
		if c, ok := find(ob, func(c *widget.Check) bool { return c.Text == T("notice.show_expired") }); ok {
			c.SetChecked(true)
		}
		shot(ob, "notices")
		if p.phone {
			scrollTo(ob, func(o fyne.CanvasObject) bool { return strings.HasPrefix(textOf(o), "📢 Stations close") })
			shot(ob, "notices-expired")
		}
		ob.popAll()
		ob.Close()

		co := open(homes.Coordinator)
		tap(t, co, "Men with sticks at the gate")
		shot(co, "alert-detail")
		if p.phone { // a laptop shows the whole detail at once
			scrollTo(co, func(o fyne.CanvasObject) bool { return textOf(o) == T("report.history") })
			shot(co, "alert-detail-history")
		}
		tap(t, co, T("alert.acknowledge"))
		shot(co, "alert-answer")
		dismissAll(co)
		co.popAll()

		tap(t, co, T("notice.send_button"))
		entry(t, co, T("notice.text")).SetText("PS-0107 has moved to the church hall across the square: report from there and check in when you arrive.")
		for _, g := range []struct{ from, pick string }{
			{SeverityLabel(1), severityIcons[3] + " " + SeverityLabel(3)},
			{T("notice.audience_everyone"), T("notice.audience_area")},
		} {
			if r, ok := find(co, func(r *widget.RadioGroup) bool { return len(r.Options) > 0 && containsText(r.Options, g.from) }); ok {
				r.SetSelected(g.pick)
			}
		}
		entry(t, co, T("notice.area_name")).SetText("Calvera City")
		if s, ok := find(co, func(s *widget.Select) bool { return len(s.Options) == len(NoticeExpiries) }); ok {
			s.SetSelectedIndex(3)
		}
		shot(co, "notice-form")
		if p.phone {
			scrollTo(co, func(o fyne.CanvasObject) bool { return textOf(o) == T("notice.audience") })
			shot(co, "notice-form-send")
		}
		co.popAll()
		co.Close()
	})
}

// containsText reports whether one of list contains s.
func containsText(list []string, s string) bool {
	for _, x := range list {
		if len(x) >= len(s) && (x == s || len(x) > len(s) && x[len(x)-len(s):] == s) {
			return true
		}
	}
	return false
}
