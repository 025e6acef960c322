package app

import (
	"image/color"
	"sort"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// SilenceChoices are the thresholds the dashboard offers for "gone
// silent".
var SilenceChoices = []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour}

// dashboard is the coordinator's overview: alerts first, counts,
// timeline, map, and who has gone silent.
type dashboard struct {
	ui      *UI
	content fyne.CanvasObject
	body    *fyne.Container
	last    Dashboard
	// busy: a computation is running; again: refresh once more after it.
	// Both are touched on the Fyne goroutine only.
	busy, again bool
}

func newDashboard(ui *UI) *dashboard {
	d := &dashboard{ui: ui, body: container.NewVBox()}
	d.content = container.NewVScroll(container.NewPadded(d.body))
	ui.refresh = append(ui.refresh, d.refresh)
	return d
}

// silentAfter is the chosen silence threshold (default one hour).
func (d *dashboard) silentAfter() time.Duration {
	if b, _ := d.ui.be.Setting("silent_after"); b != nil {
		if v, err := time.ParseDuration(string(b)); err == nil && v > 0 {
			return v
		}
	}
	return time.Hour
}

// dashData is what the dashboard draws: the summary, the registry, the
// alerts with their state (act's order: unanswered first) and how many
// notices are in force.
type dashData struct {
	sum      Dashboard
	stations []Station
	alerts   []act.AlertItem
	notices  int
	// coverage is nil where the device cannot compute it (not a
	// coordinator); covMap places its expected stations.
	coverage *act.Coverage
	covMap   coverageMap
}

// compute reads the store's counters and the alerts.
func (d *dashboard) compute() (dashData, error) {
	alerts, err := d.ui.be.Alerts()
	if err != nil {
		return dashData{}, err
	}
	sum, stations, err := d.summarize(alerts)
	if err != nil {
		return dashData{}, err
	}
	notices, err := d.ui.fieldNotices(false)
	if err != nil {
		return dashData{}, err
	}
	data := dashData{sum: sum, stations: stations, alerts: alerts, notices: len(notices)}
	if cov, err := d.ui.be.Coverage(act.CoverageQuery{Level: CoverageLevel}); err == nil {
		data.coverage = &cov
		if posts, err := d.ui.be.Assignments(); err == nil {
			data.covMap = coverageMapOf(&cov, posts, stations)
		}
	}
	return data, nil
}

// summarize reads the dashboard's counts (act.Desk.Dashboard: the
// store's counters, never every report) and the registry.
func (d *dashboard) summarize(alerts []act.AlertItem) (Dashboard, []Station, error) {
	be := d.ui.be
	v, err := be.Dashboard(act.DashboardQuery{Now: d.ui.now(), SilentAfter: d.silentAfter(), Loc: time.Local})
	if err != nil {
		return Dashboard{}, nil, err
	}
	stations, _ := be.Stations()
	return dashboardOf(v, alertActivity(alerts)), stations, nil
}

// alertActivity lists alerts as activity items, newest first.
func alertActivity(alerts []act.AlertItem) []Activity {
	out := make([]Activity, 0, len(alerts))
	for _, a := range alerts {
		out = append(out, Activity{ID: a.ID, Kind: incident.KindAlert, Author: a.Author, Label: a.Label, Note: a.Alert.Note,
			Station: a.Alert.Station, Lat: a.Alert.Lat, Lon: a.Alert.Lon, Created: a.Created, Sealed: a.Sealed})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Created != out[j].Created {
			return out[i].Created > out[j].Created
		}
		return out[i].ID.String() > out[j].ID.String()
	})
	return out
}

// stat is one big number with its caption.
func stat(n int, caption string, c color.Color) fyne.CanvasObject {
	num := canvas.NewText(strconv.Itoa(n), c)
	num.TextSize = 30
	num.TextStyle.Bold = true
	num.Alignment = fyne.TextAlignCenter
	l := widget.NewLabel(caption)
	l.Alignment = fyne.TextAlignCenter
	l.Wrapping = fyne.TextWrapWord
	return card(container.NewVBox(num, l))
}

// refresh recomputes the dashboard off the Fyne goroutine (a large
// mission's counts take a while) and draws it when done.
func (d *dashboard) refresh() {
	if d.busy {
		d.again = true
		return
	}
	d.busy = true
	var data dashData
	d.ui.background(func() (err error) {
		data, err = d.compute()
		return err
	}, func(err error) {
		d.busy = false
		if err == nil {
			d.render(data)
		}
		if d.again {
			d.again = false
			d.refresh()
		}
	})
}

func (d *dashboard) render(data dashData) {
	ui := d.ui
	sum, stations := data.sum, data.stations
	d.last = sum
	b := d.body
	b.RemoveAll()

	exportBtn := widget.NewButtonWithIcon(T("export.button"), theme.DownloadIcon(), ui.showExport)
	b.Add(container.NewBorder(nil, nil, nil, exportBtn, heading(T("dash.title"))))
	send := widget.NewButtonWithIcon(T("notice.send_button"), theme.MailSendIcon(), ui.showNoticeForm)
	send.Importance = widget.HighImportance
	list := ui.noticesButton(data.notices)
	list.Importance = widget.MediumImportance
	b.Add(container.NewGridWithColumns(2, send, list))
	// The count: every station's result and the quick count, and a sheet
	// a coordinator copies (read out over the phone, say).
	results := widget.NewButtonWithIcon(T("results.button"), theme.GridIcon(), ui.showResults)
	tally := widget.NewButtonWithIcon(T("tally.enter"), theme.DocumentIcon(), ui.openTallyForm)
	// The checklists every station answers, co-observers side by side.
	checklists := widget.NewButtonWithIcon(T("checklists.button"), theme.ListIcon(), ui.showChecklistsDesk)
	row := 3
	if ui.opts.Phone {
		row = 2
	}
	b.Add(container.NewGridWithColumns(row, results, checklists, tally))

	// Alerts first: an observer in danger matters more than any count,
	// and the stat counts those nobody has answered.
	open := Unanswered(data.alerts)
	alertColor := theme.Color(theme.ColorNameForeground)
	if open > 0 {
		alertColor = colorAlert
	}
	silent := len(sum.SilentStations) + len(sum.SilentObservers)
	cols := 4
	if ui.opts.Phone {
		cols = 2
	}
	b.Add(container.NewGridWithColumns(cols,
		stat(open, T("dash.alerts_unanswered"), alertColor),
		stat(sum.Total, T("dash.reports"), theme.Color(theme.ColorNamePrimary)),
		stat(sum.Unreviewed, T("dash.unreviewed"), theme.Color(theme.ColorNameForeground)),
		stat(silent, T("dash.silent"), theme.Color(theme.ColorNameForeground)),
	))

	panel := func(title string, content fyne.CanvasObject) fyne.CanvasObject {
		return card(container.NewBorder(heading(title), nil, nil, nil, content))
	}
	narrow := ui.opts.Phone

	alerts := container.NewVBox()
	if len(data.alerts) == 0 {
		alerts.Add(note(T("dash.no_alerts")))
	}
	for i, a := range data.alerts {
		if i == 20 {
			alerts.Add(note(TN("dash.more_alerts", len(data.alerts)-20)))
			break
		}
		alerts.Add(ui.alertTile(a))
	}
	alertsPanel := panel("🆘 "+T("dash.alerts"), alerts)
	silentPanel := panel("🔇 "+T("dash.silent_title"), d.silencePanel(sum))
	// Coverage: which of the stations members are posted to were heard
	// from in the current phase, by region.
	coveragePanel := panel("📋 "+T("dash.coverage"), ui.coveragePanel(data.coverage, data.covMap))

	family := panel(T("dash.by_family"), bars(sum.ByFamily, func(k string) string { return FamilyIcon(k) + " " + FamilyLabel(k) }, familyColor, narrow))
	sev := make([]Count, 4)
	for i := range sev {
		sev[i] = Count{Key: strconv.Itoa(i + 1), N: sum.BySeverity[i]}
	}
	severity := panel(T("dash.by_severity"), bars(sev, func(k string) string {
		n, _ := strconv.Atoi(k)
		return severityIcons[n] + " " + SeverityLabel(n)
	}, func(k string) color.Color {
		n, _ := strconv.Atoi(k)
		return severityColor(n)
	}, narrow))
	top := sum.ByCategory
	if len(top) > 8 {
		top = top[:8]
	}
	category := panel(T("dash.by_category"), bars(top, func(k string) string { return CategoryIcon(k) + " " + CategoryLabelOf(k) },
		func(k string) color.Color { return familyColor(incident.FamilyOf(k)) }, narrow))
	areas := sum.ByArea
	if len(areas) > 8 {
		areas = areas[:8]
	}
	area := panel(T("dash.by_area"), bars(areas, func(k string) string {
		if k == "?" {
			return T("dash.unknown_area")
		}
		return k
	}, func(string) color.Color { return theme.Color(theme.ColorNamePrimary) }, narrow))
	status := panel(T("dash.by_status"), bars(sum.ByStatus, StatusLabel, statusColor, narrow))

	var tl fyne.CanvasObject = note(T("dash.nothing_yet"))
	if len(sum.Timeline) > 0 {
		tl = newTimelineChart(sum.Timeline)
	}
	timeline := panel(T("dash.timeline"), tl)

	m := ui.newMap(sum.Points, stations, func(p Point) { ui.showReport(p.ID, nil) })
	keys := container.NewHBox(widget.NewLabel(T("dash.map_legend")))
	for n := 1; n <= 4; n++ {
		keys.Add(container.NewCenter(badge(SeverityLabel(n), severityColor(n))))
	}
	keys.Add(layout.NewSpacer())
	legend := container.NewVBox(keys, note(TN("dash.map_count", len(sum.Points))+" · "+T("dash.map_note")), ui.basemapTools())
	mapPanel := panel(T("dash.map"), container.NewBorder(nil, legend, nil, nil, tall(m, 400)))

	// Alerts first, then who has gone silent: both are about people's
	// safety. On a laptop they sit left of the counts; the day's rhythm
	// and the map follow.
	if narrow {
		for _, o := range []fyne.CanvasObject{alertsPanel, coveragePanel, silentPanel, family, severity, category, area, status, timeline, mapPanel} {
			b.Add(o)
		}
	} else {
		b.Add(container.NewGridWithColumns(2, container.NewVBox(alertsPanel, coveragePanel, silentPanel), container.NewVBox(family, severity, status)))
		b.Add(timeline)
		b.Add(container.NewGridWithColumns(2, mapPanel, container.NewVBox(category, area)))
	}
	b.Refresh()
}

// silencePanel lists stations and observers not heard from for longer
// than the chosen threshold.
func (d *dashboard) silencePanel(sum Dashboard) fyne.CanvasObject {
	ui := d.ui
	var names []string
	cur := d.silentAfter()
	idx := 1
	for i, c := range SilenceChoices {
		names = append(names, T("dash.silent_for", map[string]any{"For": shortDuration(c)}))
		if c == cur {
			idx = i
		}
	}
	sel := widget.NewSelect(names, nil)
	sel.SetSelectedIndex(idx)
	sel.OnChanged = func(string) {
		i := sel.SelectedIndex()
		if i < 0 {
			return
		}
		_ = ui.be.SetSetting("silent_after", []byte(SilenceChoices[i].String()))
		d.refresh()
	}
	list := container.NewVBox(sel)
	line := func(icon string, s Silence) fyne.CanvasObject {
		when := T("dash.never")
		if !s.Last.IsZero() {
			when = T("dash.last_heard", map[string]any{"Ago": Ago(ui.now(), s.Last)})
		}
		return wrapLabel(icon + " " + s.Label + " — " + when)
	}
	if len(sum.SilentStations)+len(sum.SilentObservers) == 0 {
		list.Add(note(T("dash.none_silent")))
	}
	const shown = 6
	if n := len(sum.SilentStations); n > 0 {
		list.Add(widget.NewLabelWithStyle(TN("dash.silent_stations", n), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	}
	for i, s := range sum.SilentStations {
		if i == shown {
			list.Add(note(TN("dash.more", len(sum.SilentStations)-shown)))
			break
		}
		list.Add(line("📍", s))
	}
	if n := len(sum.SilentObservers); n > 0 {
		list.Add(widget.NewLabelWithStyle(TN("dash.silent_observers", n), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	}
	for i, s := range sum.SilentObservers {
		if i == shown {
			list.Add(note(TN("dash.more", len(sum.SilentObservers)-shown)))
			break
		}
		list.Add(line("👤", s))
	}
	if sum.NeverHeard > 0 {
		list.Add(note(TN("dash.never_heard", sum.NeverHeard)))
	}
	return list
}

// shortDuration prints 30 min, 1 h, 2 h, in the user's language (saa 2
// in Swahili, where "h" means nothing).
func shortDuration(d time.Duration) string {
	if d < time.Hour {
		return T("duration.minutes", map[string]any{"N": int(d / time.Minute)})
	}
	return T("duration.hours", map[string]any{"N": int(d / time.Hour)})
}
