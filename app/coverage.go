package app

import (
	"image/color"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"

	"github.com/vigil-mesh/vigil/incident/act"
)

// Coverage on the dashboard, and the observer's post on its home.

// CoverageLevel is the admin level the dashboard groups coverage by: the
// top one (a region).
const CoverageLevel = 1

// MaxCoverageUnits is how many units the dashboard's panel lists; the
// rest are summed in one line.
const MaxCoverageUnits = 12

// PhaseLabel is a polling-day phase in words.
func PhaseLabel(p string) string { return T("cov.phase." + p) }

// coveragePanel is expected versus heard from for the current phase, one
// bar per top admin unit; tapping a unit lists its silent stations.
func (ui *UI) coveragePanel(cov *act.Coverage) fyne.CanvasObject {
	box := container.NewVBox()
	if cov == nil {
		return box
	}
	if cov.NoAssignments {
		box.Add(note(T("cov.no_assignments")))
		return box
	}
	t := cov.Total
	summary := wrapLabel(T("cov.summary", map[string]any{"N": t.Heard[cov.Phase], "Total": t.Expected, "Status": PhaseLabel(cov.Phase)}))
	summary.TextStyle.Bold = true
	box.Add(summary)
	box.Add(coverageBar(t.Heard[cov.Phase], t.Expected))
	for i, u := range cov.Units {
		if i == MaxCoverageUnits {
			box.Add(note(TN("dash.more", len(cov.Units)-MaxCoverageUnits)))
			break
		}
		u := u
		name := u.Unit
		if name == "" {
			name = T("cov.no_area")
		}
		text := name + " — " + strconv.Itoa(u.Heard[cov.Phase]) + " / " + strconv.Itoa(u.Expected)
		accent := colorOK
		if u.Silent > 0 {
			accent = colorAlert
		}
		tile := newTile("📍", text, accent, false, func() { ui.showSilent(cov, u.Unit) })
		if u.Silent > 0 {
			tile.sub = TN("cov.silent_count", u.Silent)
		} else {
			tile.sub = T("cov.all_heard")
		}
		if ui.opts.Phone {
			// No room beside the tile on a phone: the bar goes under it,
			// the tile's full width.
			box.Add(container.NewVBox(tile, coverageBar(u.Heard[cov.Phase], u.Expected)))
			continue
		}
		bar := container.NewGridWrap(fyne.NewSize(96, 12), coverageBar(u.Heard[cov.Phase], u.Expected))
		box.Add(container.NewBorder(nil, nil, nil, container.NewCenter(bar), tile))
	}
	box.Add(note(T("cov.tap")))
	if n := len(cov.Unknown); n > 0 {
		box.Add(note(TN("cov.unknown", n)))
	}
	return box
}

// coverageBar is heard out of expected as a bar: green for the part
// heard from, red for the rest.
func coverageBar(heard, expected int) fyne.CanvasObject {
	frac := float32(0)
	if expected > 0 {
		frac = float32(heard) / float32(expected)
	}
	return container.New(&fractionLayout{frac: frac}, canvas.NewRectangle(color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0x60}), canvas.NewRectangle(colorOK))
}

// fractionLayout sizes its second object to a fraction of the first's
// width.
type fractionLayout struct{ frac float32 }

func (l *fractionLayout) Layout(objs []fyne.CanvasObject, s fyne.Size) {
	objs[0].Resize(s)
	objs[0].Move(fyne.NewPos(0, 0))
	objs[1].Resize(fyne.NewSize(s.Width*l.frac, s.Height))
	objs[1].Move(fyne.NewPos(0, 0))
}

func (l *fractionLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(40, 10) }

// showSilent lists the stations of unit not heard from in the coverage's
// phase: code, name, area and who is posted there.
func (ui *UI) showSilent(cov *act.Coverage, unit string) {
	name := unit
	if name == "" {
		name = T("cov.no_area")
	}
	list := container.NewVBox()
	for _, s := range cov.Silent {
		if s.Unit != unit {
			continue
		}
		title := s.Code
		if s.Name != "" {
			title += " · " + s.Name
		}
		lines := []string{strings.Join(s.Admin, " / "), T("cov.posted", map[string]any{"Who": strings.Join(s.Members, ", ")})}
		if s.Last == 0 {
			lines = append(lines, T("cov.never"))
		} else {
			heard := make([]string, len(s.Heard))
			for i, p := range s.Heard {
				heard[i] = PhaseLabel(p)
			}
			lines = append(lines, T("cov.heard_in", map[string]any{"Value": strings.Join(heard, ", "), "Ago": Ago(ui.now(), time.UnixMilli(s.Last))}))
		}
		t := newTile("🔇", title, colorAlert, false, nil)
		t.sub = strings.Join(nonEmpty(lines), "\n")
		list.Add(t)
	}
	if len(list.Objects) == 0 {
		list.Add(note(T("cov.none_silent")))
	}
	title := T("cov.silent_title", map[string]any{"Name": name, "Status": PhaseLabel(cov.Phase)})
	ui.push(title, container.NewVScroll(container.NewPadded(list)), nil)
}

func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// adoptAssignment makes the device's station its assignment in force the
// first time the home sees that assignment: a coordinator who moves an
// observer moves its phone too, and the observer can still choose
// another station afterwards (which stays until the next assignment).
// It returns the assignment, if any.
func (ui *UI) adoptAssignment() (act.AssignmentItem, bool) {
	if ui.be == nil {
		return act.AssignmentItem{}, false
	}
	a, ok, err := ui.be.MyAssignment()
	if err != nil || !ok {
		return act.AssignmentItem{}, false
	}
	seen, _ := ui.be.Setting("assignment_seen")
	if string(seen) != a.ID.String() {
		_ = ui.be.SetSetting("station", []byte(a.Station))
		_ = ui.be.SetSetting("assignment_seen", []byte(a.ID.String()))
	}
	return a, true
}

// stationLine is the observer home's station line: the station in use,
// marked as assigned when it is the assignment, or with the assignment
// beside it when the observer chose another.
func (ui *UI) stationLine() string {
	a, posted := ui.adoptAssignment()
	s := ui.station()
	switch {
	case s == "":
		return "📍 " + T("home.no_station")
	case posted && a.Station == s:
		line := T("home.station_assigned", map[string]any{"Code": s})
		if a.StationName != "" {
			line += "\n" + a.StationName
		}
		return "📍 " + line
	case posted:
		return "📍 " + T("home.station_other", map[string]any{"Code": s, "Value": a.Station})
	}
	return "📍 " + T("home.station", map[string]any{"Code": s})
}
