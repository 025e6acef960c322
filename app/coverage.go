package app

import (
	"cmp"
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

// coveragePanel is expected versus heard from for the current phase, and
// the required checklists received of those expected; one bar per top
// admin unit, and the expected stations on a map, heard or silent;
// tapping a unit lists its silent stations and those missing a
// checklist.
func (ui *UI) coveragePanel(cov *act.Coverage, cm coverageMap) fyne.CanvasObject {
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
	// The required checklists of the phase: one per station posted to
	// and required form.
	if c := t.Checklists[cov.Phase]; c.Expected > 0 {
		l := wrapLabel("📋 " + T("cov.checklists", map[string]any{"N": c.Received, "Total": c.Expected, "Status": PhaseLabel(cov.Phase)}))
		l.TextStyle.Bold = true
		box.Add(l)
		box.Add(coverageBar(c.Received, c.Expected))
	}
	missing := map[string]int{}
	for _, m := range cov.MissingChecklists {
		missing[m.Unit]++
	}
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
		switch {
		case u.Silent > 0:
			accent = colorAlert
		case missing[u.Unit] > 0:
			accent = colorFlag
		}
		tile := newTile("📍", text, accent, false, func() { ui.showSilent(cov, u.Unit) })
		if u.Silent > 0 {
			tile.sub = TN("cov.silent_count", u.Silent)
		} else {
			tile.sub = T("cov.all_heard")
		}
		if c := u.Checklists[cov.Phase]; c.Expected > 0 {
			tile.sub += "\n" + T("cov.unit_checklists", map[string]any{"N": c.Received, "Total": c.Expected})
		}
		if n := missing[u.Unit]; n > 0 {
			tile.sub += "\n" + TN("cov.missing_count", n)
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
	box.Add(ui.coverageMapView(cov, cm))
	return box
}

// coverageMap is the expected stations placed on the coverage map.
type coverageMap struct {
	points        []Point // silent ones last, drawn over the heard
	heard, silent int     // of the points
	unplaced      int     // expected stations without coordinates
}

// coverageMapOf places the expected stations of cov (those of the
// registry a member in good standing is posted to, as act.Coverage
// counts them) from the assignments in force, and colours each heard or
// silent in the coverage's phase.
func coverageMapOf(cov *act.Coverage, posts []act.AssignmentItem, stations []Station) coverageMap {
	var cm coverageMap
	if cov == nil {
		return cm
	}
	silent := make(map[string]bool, len(cov.Silent))
	for _, s := range cov.Silent {
		silent[s.Code] = true
	}
	byCode := make(map[string]Station, len(stations))
	for _, s := range stations {
		byCode[s.Code] = s
	}
	seen := map[string]bool{}
	var heardPts, silentPts []Point
	for _, a := range posts {
		if a.Station == "" || a.Revoked || a.NotInRegistry || seen[a.Station] {
			continue
		}
		seen[a.Station] = true
		st, ok := byCode[a.Station]
		if !ok || st.Lat == nil || st.Lon == nil {
			cm.unplaced++
			continue
		}
		p := Point{Lat: float64(*st.Lat) / 1e6, Lon: float64(*st.Lon) / 1e6}
		if silent[a.Station] {
			p.Color, p.Severity = colorAlert, 1
			silentPts = append(silentPts, p)
			continue
		}
		p.Color = colorOK
		heardPts = append(heardPts, p)
	}
	cm.heard, cm.silent = len(heardPts), len(silentPts)
	cm.points = append(heardPts, silentPts...)
	return cm
}

// coverageMapView is the map, its legend and the stations it cannot
// place.
func (ui *UI) coverageMapView(cov *act.Coverage, cm coverageMap) fyne.CanvasObject {
	m := ui.newMap(cm.points, nil, nil)
	m.emptyText = T("cov.map_empty")
	h := float32(320)
	if ui.opts.Phone {
		h = 260
	}
	legend := container.NewHBox(
		container.NewCenter(badge(T("cov.map_heard"), colorOK)),
		container.NewCenter(badge(T("cov.map_silent"), colorAlert)),
	)
	box := container.NewVBox(heading("🗺️ "+T("cov.map_title", map[string]any{"Status": PhaseLabel(cov.Phase)})), tall(m, h), legend,
		note(T("cov.map_count", map[string]any{"N": cm.heard, "Total": cm.silent})))
	if cm.unplaced > 0 {
		box.Add(note(TN("cov.map_unplaced", cm.unplaced)))
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
// phase (code, name, area and who is posted there), then those missing a
// required checklist.
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
		title := stationTitle(s.Code, s.Name)
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
	ui.addMissingChecklists(list, cov, unit)
	// The unit alone above (a heading does not wrap, and "silent at
	// counting" is wider than a phone in French); the rest wraps below.
	title := wrapLabel(T("cov.silent_title", map[string]any{"Name": name, "Status": PhaseLabel(cov.Phase)}))
	title.TextStyle.Bold = true
	ui.push(name, container.NewVScroll(container.NewPadded(container.NewVBox(title, list))), nil)
}

// addMissingChecklists lists the stations of unit missing a required
// checklist of a phase up to the coverage's, with the checklists each
// still owes, by phase.
func (ui *UI) addMissingChecklists(list *fyne.Container, cov *act.Coverage, unit string) {
	titles := map[string]string{}
	if forms, err := ui.be.Forms(); err == nil {
		for _, f := range forms {
			if f.Current {
				titles[f.Form.Name] = f.Form.Title
			}
		}
	}
	var tiles []fyne.CanvasObject
	for _, m := range cov.MissingChecklists {
		if m.Unit != unit {
			continue
		}
		title := stationTitle(m.Code, m.Name)
		lines := []string{T("cov.posted", map[string]any{"Who": strings.Join(m.Members, ", ")})}
		for _, p := range act.Phases {
			for _, n := range m.Missing[p] {
				lines = append(lines, "· "+titleWithPhase(cmp.Or(titles[n], n), p))
			}
		}
		t := newTile("📋", title, colorFlag, false, nil)
		t.sub = strings.Join(lines, "\n")
		tiles = append(tiles, t)
	}
	if len(cov.Required) == 0 {
		return
	}
	list.Add(heading("📋 " + T("cov.missing_title")))
	if len(tiles) == 0 {
		list.Add(note(T("cov.none_missing")))
	}
	for _, t := range tiles {
		list.Add(t)
	}
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
