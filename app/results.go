package app

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// The coordinators' results: one contest's tallies per station of the
// registry (act.Desk.Results), the stations whose tallies fail a check
// or disagree, and the quick count over the pvt sample. Tallies are
// shown side by side, never merged.

// MaxResultStations is how many stations of one status the screen
// lists; the rest are counted.
const MaxResultStations = 40

// MaxExcludedCodes is how many excluded stations the quick count names.
const MaxExcludedCodes = 12

// resultStatuses are act.Results' statuses, in the order the screen
// shows them: what needs a look first.
var resultStatuses = []string{act.StatusFlagged, act.StatusConsolidated, act.StatusOK, act.StatusMissing}

var resultIcons = map[string]string{act.StatusFlagged: "⚠️", act.StatusConsolidated: "🤝", act.StatusOK: "✅", act.StatusMissing: "⏳"}

// ResultStatusLabel names a station's result status.
func ResultStatusLabel(s string) string { return TOr("results.status."+s, s) }

func resultColor(s string) color.Color {
	switch s {
	case act.StatusFlagged:
		return colorAlert
	case act.StatusConsolidated:
		return colorPrimary
	case act.StatusOK:
		return colorOK
	}
	return colorMuted
}

// resultsScreen is the results of one contest.
type resultsScreen struct {
	ui      *UI
	contest string // "": the contest the most tallies name
	status  string // the status whose stations are listed
	body    *fyne.Container
	list    *fyne.Container
	res     act.Results
}

// showResults opens the results from the dashboard.
func (ui *UI) showResults() {
	s := &resultsScreen{ui: ui, body: container.NewVBox(note(T("results.loading")))}
	ui.push("📊 "+T("results.title"), columnW(760, s.body), nil)
	s.load()
}

// load computes the results off the Fyne goroutine (a national
// registry takes a moment) and draws them.
func (s *resultsScreen) load() {
	ui := s.ui
	var res act.Results
	ui.background(func() error {
		contest := s.contest
		if contest == "" {
			cs, err := ui.be.TallyContests()
			if err != nil {
				return err
			}
			if len(cs) > 0 {
				contest = cs[0].Name
			}
		}
		var err error
		res, err = ui.be.Results(act.ResultsQuery{Contest: contest})
		return err
	}, func(err error) {
		if err != nil {
			s.body.RemoveAll()
			s.body.Add(wrapLabel("⚠ " + errorText(err)))
			s.body.Refresh()
			return
		}
		s.res, s.contest = res, res.Contest
		if s.status == "" {
			s.status = act.StatusFlagged
			for _, st := range resultStatuses {
				if res.Counts[st] > 0 {
					s.status = st
					break
				}
			}
		}
		s.render()
	})
}

func (s *resultsScreen) render() {
	ui, res, b := s.ui, s.res, s.body
	b.RemoveAll()
	if len(res.Contests) > 1 {
		sel := widget.NewSelect(res.Contests, nil)
		sel.SetSelected(res.Contest)
		sel.OnChanged = func(c string) {
			if c != s.contest {
				s.contest, s.status = c, ""
				s.load()
			}
		}
		b.Add(heading(T("field.contest")))
		b.Add(sel)
	} else if res.Contest != "" {
		b.Add(heading(T("results.contest", map[string]any{"Name": res.Contest})))
	}
	if res.Contest == "" {
		b.Add(note(T("results.none")))
		b.Refresh()
		return
	}

	cols := 4
	if ui.opts.Phone {
		cols = 2
	}
	counts := container.NewGridWithColumns(cols)
	for _, st := range resultStatuses {
		counts.Add(stat(res.Counts[st], resultIcons[st]+" "+ResultStatusLabel(st), resultColor(st)))
	}
	b.Add(heading(TN("results.registry", res.Registry)))
	b.Add(counts)
	b.Add(note(T("results.status_note")))
	b.Add(card(s.quickCount()))

	var names []string
	at := 0
	for i, st := range resultStatuses {
		names = append(names, ResultStatusLabel(st)+" ("+strconv.Itoa(res.Counts[st]+s.unknownCount(st))+")")
		if st == s.status {
			at = i
		}
	}
	sel := widget.NewSelect(names, nil)
	sel.SetSelectedIndex(at)
	sel.OnChanged = func(string) {
		if i := sel.SelectedIndex(); i >= 0 {
			s.status = resultStatuses[i]
			s.fillList()
		}
	}
	s.list = container.NewVBox()
	s.fillList()
	b.Add(heading(T("results.stations")))
	b.Add(sel)
	b.Add(s.list)
	if n := len(res.Unknown); n > 0 {
		b.Add(note(TN("results.unknown", n)))
	}
	b.Refresh()
}

// unknownCount counts the stations outside the registry with status st
// (listed with the registry's, counted apart by Results).
func (s *resultsScreen) unknownCount(st string) int {
	n := 0
	for _, u := range s.res.Unknown {
		if u.Status == st {
			n++
		}
	}
	return n
}

// quickCount is each choice's share with its 95 % margin, the sample
// and what was left out of it.
func (s *resultsScreen) quickCount() fyne.CanvasObject {
	q := s.res.QuickCount
	box := container.NewVBox(heading("📈 " + T("results.quick_count")))
	if q == nil {
		box.Add(note(T("results.no_sample")))
		return box
	}
	sample := wrapLabel(T("results.sample", map[string]any{"N": q.Used, "Total": q.Sample}))
	sample.TextStyle.Bold = true
	box.Add(sample)
	box.Add(note(TN("results.excluded", q.Excluded) + " · " + TN("results.sample_missing", len(q.Missing))))
	if len(q.Shares) == 0 {
		box.Add(note(T("results.no_usable")))
	}
	for _, sh := range q.Shares {
		box.Add(shareRow(sh))
	}
	box.Add(note(T("results.method")))
	for _, n := range q.Notes {
		box.Add(note("📌 " + n))
	}
	if len(q.Flagged) > 0 {
		codes := q.Flagged
		more := ""
		if len(codes) > MaxExcludedCodes {
			codes, more = codes[:MaxExcludedCodes], " …"
		}
		box.Add(note(T("results.excluded_codes", map[string]any{"Value": strings.Join(codes, ", ") + more})))
	}
	return box
}

// ShareText is a share and its margin as the screen prints them:
// "45.2 % ± 1.8".
func ShareText(sh incident.ChoiceShare) string {
	return fmt.Sprintf("%.1f %% ± %.1f", sh.Share*100, sh.Margin*100)
}

// shareRow is one choice: its name, then its share as a bar with the
// margin drawn across it, and the numbers.
func shareRow(sh incident.ChoiceShare) fyne.CanvasObject {
	name := wrapLabel(sh.Choice)
	name.TextStyle.Bold = true
	num := widget.NewLabel(ShareText(sh))
	num.TextStyle.Monospace = true
	track := canvas.NewRectangle(withAlpha(colorMuted, 0x40))
	track.CornerRadius = 3
	bar := canvas.NewRectangle(colorPrimary)
	bar.CornerRadius = 3
	span := canvas.NewRectangle(theme.Color(theme.ColorNameForeground))
	bars := container.New(&shareLayout{share: float32(sh.Share), margin: float32(sh.Margin)}, track, bar, span)
	return container.NewVBox(name, container.NewBorder(nil, nil, nil, num, bars))
}

// shareLayout draws a share out of 100 %: the track, the bar, and the
// 95 % interval as a line across the bar's end.
type shareLayout struct{ share, margin float32 }

func (l *shareLayout) Layout(objs []fyne.CanvasObject, s fyne.Size) {
	h := s.Height * 0.6
	y := (s.Height - h) / 2
	objs[0].Resize(fyne.NewSize(s.Width, h))
	objs[0].Move(fyne.NewPos(0, y))
	objs[1].Resize(fyne.NewSize(max(2, s.Width*l.share), h))
	objs[1].Move(fyne.NewPos(0, y))
	lo, hi := max(0, l.share-l.margin), min(1, l.share+l.margin)
	objs[2].Resize(fyne.NewSize(max(2, s.Width*(hi-lo)), 3))
	objs[2].Move(fyne.NewPos(s.Width*lo, s.Height/2-1.5))
}

func (l *shareLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(80, 22) }

// fillList lists the stations of the chosen status: the registry's,
// then those it does not list.
func (s *resultsScreen) fillList() {
	ui := s.ui
	s.list.RemoveAll()
	shown, total := 0, 0
	add := func(list []act.StationResult, known bool) {
		for _, sr := range list {
			if sr.Status != s.status {
				continue
			}
			total++
			if shown == MaxResultStations {
				continue
			}
			shown++
			sr := sr
			t := newTile(resultIcons[sr.Status], stationTitle(sr.Code, sr.Name), resultColor(sr.Status), false, func() { ui.showStationResult(sr) })
			t.sub = strings.Join(stationLines(sr, known), "\n")
			s.list.Add(t)
		}
	}
	add(s.res.Stations, true)
	add(s.res.Unknown, false)
	if total == 0 {
		s.list.Add(note(T("results.no_station")))
	}
	if total > shown {
		s.list.Add(note(TN("dash.more", total-shown)))
	}
	s.list.Refresh()
}

// stationTitle is a station as a title names it: "PS-0042 · Kibra Hall",
// or the code alone when the station has no name.
func stationTitle(code, name string) string {
	if name != "" {
		return code + " · " + name
	}
	return code
}

// stationLines say where a station is (known: the registry lists it),
// how many copies of its sheet came in and, when flagged, why.
func stationLines(sr act.StationResult, known bool) []string {
	var out []string
	where := strings.ReplaceAll(sr.Unit, "/", " / ")
	if sr.PVT {
		where = strings.TrimPrefix(where+" · "+T("results.pvt"), " · ")
	}
	if !known {
		where = T("results.not_in_registry")
	}
	if where != "" {
		out = append(out, where)
	}
	if len(sr.Tallies) > 1 {
		out = append(out, TN("results.copies", len(sr.Tallies)))
	}
	return append(out, flagLines(sr)...)
}

// flagLines say why a station is flagged: each copy's failing checks,
// and copies whose numbers differ.
func flagLines(sr act.StationResult) []string {
	var out []string
	for _, it := range sr.Tallies {
		for _, c := range incident.FlaggedChecks(it.Checks) {
			out = append(out, "⚠ "+tallyWho(it)+": "+checkWords(c))
		}
	}
	for _, it := range sr.Tallies[min(1, len(sr.Tallies)):] {
		if !incident.SameNumbers(&sr.Tallies[0].Tally, &it.Tally) {
			out = append(out, "⚖ "+T("results.disagree", map[string]any{"Who": tallyWho(sr.Tallies[0]), "Name": tallyWho(it)}))
		}
	}
	return out
}

func tallyWho(it act.TallyItem) string {
	if it.Label != "" {
		return it.Label
	}
	return it.Author.Short()
}

// showStationResult shows a station's tallies side by side (on a phone,
// one above the other), each with its own checks: copies are compared,
// never merged.
func (ui *UI) showStationResult(sr act.StationResult) {
	title := wrapLabel(stationTitle(sr.Code, sr.Name))
	title.TextStyle.Bold = true
	status := wrapLabel(resultIcons[sr.Status] + " " + ResultStatusLabel(sr.Status))
	status.TextStyle.Bold = true
	parts := []fyne.CanvasObject{title, status}
	if sr.Unit != "" {
		parts = append(parts, note(strings.ReplaceAll(sr.Unit, "/", " / ")))
	}
	for _, l := range flagLines(sr) {
		w := wrapLabel(l)
		w.Importance = widget.DangerImportance
		parts = append(parts, w)
	}
	if len(sr.Tallies) == 0 {
		parts = append(parts, note(T("results.no_tally")))
	}
	cols := 1
	if !ui.opts.Phone && len(sr.Tallies) > 1 {
		cols = min(len(sr.Tallies), 3)
	}
	grid := container.NewGridWithColumns(cols)
	for _, it := range sr.Tallies {
		grid.Add(ui.tallyCard(it, &sr.Tallies[0].Tally))
	}
	parts = append(parts, grid)
	// The code alone above: a station's name can be wider than a phone.
	ui.push(sr.Code, columnW(900, parts...), nil)
}

// tallyCard is one copy of a sheet as its author typed it; the numbers
// that differ from first's (the station's first copy) are in red.
func (ui *UI) tallyCard(it act.TallyItem, first *incident.TallyPayload) fyne.CanvasObject {
	who := heading(tallyWho(it))
	who.Wrapping = fyne.TextWrapWord
	if it.Sealed {
		who.SetText("🔒 " + who.Text)
	}
	box := container.NewVBox(who, note(ui.timeText(it.Created)))
	p := it.Tally
	for _, f := range []struct {
		name  string
		n, at uint64
	}{{"registered", p.Registered, first.Registered}, {"issued", p.Issued, first.Issued}, {"cast", p.Cast, first.Cast},
		{"invalid", p.Invalid, first.Invalid}, {"blank", p.Blank, first.Blank}} {
		box.Add(numberLine(FieldLabel(f.name), f.n, f.n != f.at))
	}
	box.Add(widget.NewSeparator())
	firstVotes := map[string]uint64{}
	for _, v := range first.Votes {
		firstVotes[v.Choice] = v.Votes
	}
	for _, v := range p.Votes {
		at, ok := firstVotes[v.Choice]
		box.Add(numberLine(v.Choice, v.Votes, !ok || at != v.Votes))
	}
	box.Add(widget.NewSeparator())
	for _, o := range checkLines(it.Checks, "results.flagged") {
		box.Add(o)
	}
	if len(it.Photos) > 0 {
		box.Add(ui.fileRows(it.Photos, func(i int) ([]byte, error) { return ui.be.RecordFile(it.ID, i) }))
	}
	return card(box)
}

// numberLine is a name and its number, the number right-aligned; in red
// where it differs from another copy's.
func numberLine(name string, n uint64, differs bool) fyne.CanvasObject {
	num := widget.NewLabel(strconv.FormatUint(n, 10))
	num.TextStyle.Monospace = true
	label := wrapLabel(name)
	if differs {
		num.Importance, label.Importance = widget.DangerImportance, widget.DangerImportance
		num.TextStyle.Bold = true
	}
	return container.NewBorder(nil, nil, nil, num, label)
}
