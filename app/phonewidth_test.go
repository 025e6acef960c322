package app

import (
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/vigil-mesh/vigil/app/internal/scene"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/demo"
)

// phoneWidth is the narrowest phone screen the app is laid out for, in
// Fyne's units (a 360–400 dp Android screen).
const phoneWidth = 400

// Every tab of the phone layout, and the screens of the count and the
// checklists pushed over them, fit a phone's width in every language, for an observer and
// a coordinator on the practice mission (with an invite redeemed twice): no line
// that does not wrap (a summary, a station and its name, a heading
// beside a button, a tab's title) may push the screen sideways. Fyne
// sizes a window to its content's least width, so one such line makes
// every tab scroll sideways.
func TestPhoneScreensFitTheWidth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the practice mission")
	}
	a := test.NewTempApp(t)
	homes, err := scene.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// An invite redeemed by two devices: the members tab then shows the
	// longest badges (a flag beside Confirm and Revoke).
	duplicateScene(t, homes.Coordinator)
	defer SetLanguage("en")
	for _, l := range Languages {
		lang := l.Code
		SetLanguage(lang)
		for role, dir := range map[string]string{"observer": homes.Observer, "coordinator": homes.Coordinator} {
			ui := openScene(a, dir, true, fyne.NewSize(phoneWidth, 820))
			for i := range ui.main.items {
				ui.main.selectIndex(i)
				ui.wait()
				tab := ui.main.items[i].title
				// The window grows to what its content needs: wider than
				// the phone, and the screen scrolls sideways.
				if w := screenWidth(ui); w > phoneWidth {
					t.Errorf("%s, %s, tab %q: the screen is %.0f wide, more than a phone's %d", lang, role, tab, w, phoneWidth)
				}
			}
			// The screens of the count, pushed over the tabs: the tally
			// form (with a failing check), the results and a station's
			// copies side by side.
			pushed := func(name string) {
				t.Helper()
				ui.wait()
				if w := screenWidth(ui); w > phoneWidth {
					t.Errorf("%s, %s, %s: the screen is %.0f wide, more than a phone's %d", lang, role, name, w, phoneWidth)
				}
			}
			ui.openTallyForm()
			typeNumber(ui.tally.numbers["cast"], "1234567")
			pushed("tally form")
			ui.pickStation(ui.tally.station, func(string) {})
			pushed("tally station picker")
			ui.popAll()
			if role == "observer" {
				// The checklists: the list, every question of every
				// checklist (a choice made, so that its flag shows), and
				// the review.
				ui.showChecklists()
				pushed("checklists")
				forms, err := ui.be.Forms()
				if err != nil {
					t.Fatal(err)
				}
				for _, fv := range forms {
					if !fv.Current {
						continue
					}
					ui.openChecklist(fv, homes.Station, nil)
					f := ui.checklist
					for i, q := range fv.Form.Questions {
						f.at = i
						f.render()
						if len(f.choices) > 0 {
							test.Tap(f.choices[len(f.choices)-1])
						}
						pushed(fv.Form.Name + " checklist, " + q.ID)
					}
					f.at = len(fv.Form.Questions)
					f.render()
					pushed(fv.Form.Name + " checklist, the review")
					ui.pop()
				}
				ui.popAll()
			}
			if role == "observer" {
				// The calculator cover, and the dialog that sets its code.
				ui.showCover()
				pushed("the calculator cover")
				ui.popAll()
				ui.showSetCover(func() {})
				pushed("the cover code dialog")
				dismissAll(ui)
			}
			if role == "coordinator" {
				// The responses, a station where two observers disagree,
				// and the stations of a region missing a checklist.
				ui.showChecklistsDesk()
				pushed("checklists")
				list, err := ui.be.Checklists(act.ChecklistQuery{})
				if err != nil {
					t.Fatal(err)
				}
				forms, err := ui.be.Forms()
				if err != nil {
					t.Fatal(err)
				}
				for _, g := range list.Groups {
					if g.Disagree {
						ui.showChecklistGroup(g, formsByID(forms))
						pushed("a station's checklists side by side")
						break
					}
				}
				ui.popAll()
				cov, err := ui.be.Coverage(act.CoverageQuery{Level: CoverageLevel})
				if err != nil || len(cov.MissingChecklists) == 0 {
					t.Fatalf("no checklist missing: %v", err)
				}
				ui.showSilent(&cov, cov.MissingChecklists[0].Unit)
				pushed("a region's silent stations and missing checklists")
				ui.popAll()
				ui.showResults()
				pushed("results")
				res, err := ui.be.Results(act.ResultsQuery{Contest: demo.Contest})
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range res.Stations {
					if len(st.Tallies) > 1 && st.Status == act.StatusFlagged {
						ui.showStationResult(st)
						pushed("a station's copies")
						break
					}
				}
				ui.popAll()
			}
			ui.Close()
		}
	}
}

// screenWidth is how wide the window is, or would be once it follows its
// content: the test driver grows the window on some changes only (a
// refresh of every screen), so a row that became wider without one is
// measured by its content's least width.
func screenWidth(ui *UI) float32 {
	w := ui.win.Canvas().Size().Width
	if c := ui.win.Content(); c != nil {
		if m := c.MinSize().Width; m > w {
			w = m
		}
	}
	return w
}

// The screens before the mission — the first run, joining, unlocking and
// picking the station — fit a phone's width in every language too.
func TestPhoneOnboardingFitsTheWidth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the practice mission")
	}
	a := test.NewTempApp(t)
	homes, err := scene.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer SetLanguage("en")
	size := fyne.NewSize(phoneWidth, 820)
	for _, l := range Languages {
		lang := l.Code
		SetLanguage(lang)
		check := func(ui *UI, name string) {
			t.Helper()
			ui.wait()
			if w := screenWidth(ui); w > phoneWidth {
				t.Errorf("%s, %s: the screen is %.0f wide, more than a phone's %d", lang, name, w, phoneWidth)
			}
		}
		fresh := newScene(a, filepath.Join(t.TempDir(), "new"), true, size)
		check(fresh, "first run")
		test.Type(entry(t, fresh, T("welcome.passphrase")), "a long passphrase")
		test.Type(entry(t, fresh, T("welcome.again")), "a long passphrase")
		test.Tap(tappable(t, fresh, T("welcome.create")))
		check(fresh, "join")
		fresh.Close()

		locked := newScene(a, homes.Observer, true, size)
		check(locked, "unlock")
		locked.unlock([]byte(scene.Passphrase))
		locked.wait()
		locked.showStationPicker(true)
		check(locked, "station picker")
		locked.Close()
	}
}
