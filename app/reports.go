package app

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// memberLabels maps authors to their labels, for history lines.
func (ui *UI) memberLabels() map[incident.Author]string {
	out := map[incident.Author]string{}
	if ms, err := ui.be.Members(); err == nil {
		for _, m := range ms {
			out[m.Author] = memberName(m.Member)
		}
	}
	return out
}

func (ui *UI) authorName(labels map[incident.Author]string, a incident.Author) string {
	if a == ui.id.Author {
		return T("report.you")
	}
	if l, ok := labels[a]; ok {
		return l
	}
	return a.Short()
}

// showReport opens a report's detail: every field, flags, the full history
// (amendments, reviews and who reviewed, conflicts) and, for coordinators,
// the review actions. mine carries the delivery status of the device's own
// reports.
func (ui *UI) showReport(id incident.ID, mine *MyReport) {
	v, err := ui.be.Report(id)
	if err != nil {
		ui.showError(err)
		return
	}
	labels := ui.memberLabels()
	r := v.Report
	var parts []fyne.CanvasObject

	title := r.Title
	readable := Readable(&v)
	if !readable {
		title = T("report.sealed")
	}
	head := wrapLabel(CategoryIcon(r.Category) + "  " + title)
	head.TextStyle.Bold = true
	head.SizeName = theme.SizeNameSubHeadingText
	parts = append(parts, head)

	badges := container.NewHBox()
	badges.Add(badge(StatusLabel(v.Status), statusColor(v.Status)))
	if readable {
		badges.Add(badge(SeverityLabel(int(r.Severity)), severityColor(int(r.Severity))))
	}
	if v.Sealed {
		badges.Add(badge("🔒 "+T("report.sealed_badge"), colorPrimary))
	}
	if v.Conflict {
		badges.Add(badge("⚠ "+T("report.conflict"), colorAlert))
	}
	if v.Retracted {
		badges.Add(badge(T("report.retracted"), colorMuted))
	}
	if ui.id.Practice {
		badges.Add(badge(T("practice.title"), colorPractice))
	}
	parts = append(parts, badges)

	for _, f := range v.Flags {
		icon := "⚠ "
		if f == incident.FlagNewerFields {
			icon = "🆕 " // nothing wrong: this version shows what it can read
		}
		parts = append(parts, card(wrapLabel(icon+FlagLabel(f))))
	}
	if v.Conflict {
		parts = append(parts, card(wrapLabel("⚠ "+T("report.conflict_explain"))))
	}
	if v.Retracted {
		text := "↩️ " + T("report.retracted_explain")
		if v.RetractReason != "" {
			text += "\n“" + v.RetractReason + "”"
		}
		parts = append(parts, card(wrapLabel(text)))
	}

	form := widget.NewForm()
	add := func(label, value string) {
		if value == "" {
			return
		}
		l := widget.NewLabel(value)
		l.Wrapping = fyne.TextWrapWord
		form.Append(label, l)
	}
	if readable {
		add(T("field.category"), CategoryLabelOf(r.Category)+" ("+r.Category+")")
		add(T("field.severity"), strconv.Itoa(int(r.Severity))+" — "+SeverityLabel(int(r.Severity)))
		add(T("field.occurred"), ui.timeText(r.Occurred))
	}
	add(T("field.created"), ui.timeText(v.Created))
	add(T("field.author"), ui.authorName(labels, v.Author))
	add(T("field.station"), r.Station)
	add(T("field.area"), r.Area)
	if r.Lat != nil && r.Lon != nil {
		loc := incident.FormatMicro(*r.Lat) + ", " + incident.FormatMicro(*r.Lon)
		if r.Precision > 0 {
			loc += fmt.Sprintf(" (±%d m)", r.Precision)
		}
		add(T("field.location"), loc)
	}
	if r.Channel != "" {
		add(T("field.channel"), channelIcons[r.Channel]+" "+ChannelLabel(r.Channel))
	}
	if r.Harm != "" {
		add(T("field.harm"), HarmLabel(r.Harm))
	}
	if r.Reach > 0 {
		add(T("field.reach"), formatReach(r.Reach))
	}
	add(T("field.source"), r.Source)
	add(T("field.description"), r.Description)
	var files fyne.CanvasObject
	if n := len(r.Attachments); n > 0 {
		add(T("field.attachments"), TN("count.attachments", n))
		files = ui.fileList(v.ID, &r)
	}
	if mine != nil {
		add(T("field.delivery"), deliveryText(*mine))
	}
	if v.Amendments > 0 {
		add(T("field.amendments"), strconv.Itoa(v.Amendments))
	}
	add(T("field.id"), v.ID.String())
	parts = append(parts, form)
	if files != nil {
		parts = append(parts, files)
	}
	if v.Author == ui.id.Author && !v.Retracted {
		// Its delivery line above says "sent by SMS" and "held by a
		// coordinator": the detail is shown again when either changes.
		if a := ui.smsAction(v.ID, false, func() { ui.pop(); ui.showMyReport(v.ID) }); a != nil {
			parts = append(parts, a)
		}
		parts = append(parts, widget.NewSeparator(), ui.myReportActions(v))
	}

	parts = append(parts, heading(T("report.history")))
	versions, _ := ui.be.Versions(v.ID)
	var prev *incident.ReportPayload
	for _, e := range v.History {
		extra := ""
		if e.Kind == incident.KindReport || e.Kind == incident.KindAmend {
			cur, ok := versions[e.ID]
			if e.Kind == incident.KindAmend && ok && prev != nil {
				var names []string
				for _, f := range ChangedFields(prev, &cur) {
					names = append(names, FieldLabel(f))
				}
				if len(names) == 0 {
					extra = T("history.unchanged")
				} else {
					extra = T("history.changed", map[string]any{"Fields": strings.Join(names, ", ")})
				}
			}
			prev = nil
			if ok {
				prev = &cur
			}
		}
		parts = append(parts, ui.historyLine(labels, e, v.Conflict, extra))
	}

	if ui.id.Role == incident.RoleCoordinator && readable {
		parts = append(parts, widget.NewSeparator(), ui.reviewPanel(v))
	}
	ui.push(T("report.title"), columnW(820, parts...), nil)
}

// statusColor tells review statuses apart.
func statusColor(s string) color.Color {
	switch s {
	case "verified":
		return colorOK
	case "corroborated":
		return color.NRGBA{R: 0x00, G: 0x79, B: 0x6b, A: 0xff}
	case "rejected":
		return color.NRGBA{R: 0x5d, G: 0x40, B: 0x37, A: 0xff}
	case "escalated":
		return color.NRGBA{R: 0x8e, G: 0x24, B: 0xaa, A: 0xff}
	}
	return colorMuted
}

// historyLine is one event of a report's history.
// extra, when set, is a line under it (what an amendment changed).
func (ui *UI) historyLine(labels map[incident.Author]string, e incident.Event, conflict bool, extra string) fyne.CanvasObject {
	who := ui.authorName(labels, e.Author)
	var text string
	switch e.Kind {
	case incident.KindReport:
		text = "📝 " + T("history.filed", map[string]any{"Who": who})
	case incident.KindAmend:
		text = "✏️ " + T("history.amended", map[string]any{"Who": who})
	case incident.KindRetract:
		text = "↩️ " + T("history.retracted", map[string]any{"Who": who})
	case incident.KindReview:
		text = "🔎 " + T("history.reviewed", map[string]any{"Who": who, "Status": StatusLabel(e.Status)})
		if e.Head && conflict {
			text += "  ⚠ " + T("history.disputed")
		}
		if e.Publish != nil {
			text += "\n📢 " + T("history.publish")
		}
	default:
		text = string(e.Kind) + " · " + who
	}
	if extra != "" {
		text += "\n" + extra
	}
	if e.Note != "" {
		text += "\n“" + e.Note + "”"
	}
	when := widget.NewLabel(ui.timeText(e.Created))
	when.TextStyle.Monospace = true
	return container.NewBorder(nil, nil, when, nil, wrapLabel(text))
}

// reviewPanel lets a coordinator record a verdict with a note.
func (ui *UI) reviewPanel(v incident.ReportView) fyne.CanvasObject {
	var names []string
	for _, s := range incident.ReviewStatuses {
		names = append(names, StatusLabel(s))
	}
	choice := widget.NewRadioGroup(names, nil)
	choice.Horizontal = !ui.opts.Phone
	noteEntry := widget.NewMultiLineEntry()
	noteEntry.SetPlaceHolder(T("review.note"))
	noteEntry.SetMinRowsVisible(2)
	noteEntry.Wrapping = fyne.TextWrapWord
	// The approval is the review's: a review saved unticked withdraws
	// it, so the box starts as the approval stands for this version.
	publish := widget.NewCheck(T("review.publish"), nil)
	publish.SetChecked(v.TextApproved)
	choice.OnChanged = func(sel string) {
		if sel == StatusLabel("rejected") {
			publish.SetChecked(false) // a rejected report is never published
			publish.Disable()
		} else {
			publish.Enable()
		}
	}
	// The verdict standing now is the choice to keep or change. Two
	// coordinators' concurrent verdicts (a conflict) are a choice to
	// make: nothing is picked, so saving one of them is deliberate.
	if v.Status != incident.StatusUnreviewed && !v.Conflict {
		choice.SetSelected(StatusLabel(v.Status))
	}
	save := widget.NewButtonWithIcon(T("review.save"), theme.ConfirmIcon(), func() {
		status := ""
		for i, n := range names {
			if n == choice.Selected {
				status = incident.ReviewStatuses[i]
			}
		}
		if status == "" {
			ui.showError(errorf(T("review.pick")))
			return
		}
		r := act.Verdict{Report: v.ID.String(), Status: status, Note: strings.TrimSpace(noteEntry.Text)}
		if publish.Checked {
			// The text shown on this screen, not an amendment that
			// arrived since.
			r.Publish, r.Seen = true, v.Version.String()
		}
		if err := ui.be.Review(r); err != nil {
			ui.showError(err)
			return
		}
		ui.pop()
		ui.showReport(v.ID, nil)
		ui.toast(T("review.saved", map[string]any{"Status": StatusLabel(status)}))
	})
	save.Importance = widget.HighImportance
	return container.NewVBox(heading(T("review.title")), choice, noteEntry, publish, note(T("review.publish_note")), save)
}

// reportTable is the coordinator's filterable, sortable table of reports.
type reportTable struct {
	ui      *UI
	content fyne.CanvasObject
	table   *widget.Table
	count   *noteLabel
	cols    []tableColumn
	width   float32 // the table's width on screen (0 before its first layout)

	all    []incident.ReportView
	rows   []incident.ReportView
	labels map[incident.Author]string // members' labels, for the observer column
	filter TableFilter
	sort   SortKey
	desc   bool
	// busy: a load is running; again: load once more after it (Fyne
	// goroutine only).
	busy, again bool
}

// tableColumn is one column of the report table. Its width is what its
// widest cell needs, between min and max; only the title wraps (on two
// lines) past max.
type tableColumn struct {
	key      string
	sort     SortKey
	min, max float32
}

var tableColumns = []tableColumn{
	{"col.time", SortOccurred, 60, 220},
	{"col.severity", SortSeverity, 60, 90},
	{"col.category", SortCategory, 140, 300},
	{"col.title", SortTitle, 200, 380},
	{"col.observer", SortObserver, 80, 170},
	{"col.station", SortStation, 70, 120},
	{"col.status", SortStatus, 90, 180},
	{"col.flags", SortFlags, 100, 260},
}

// phoneColumns are the columns a phone shows: time, severity, what,
// status, who (the table scrolls sideways to the last).
var phoneColumns = []tableColumn{
	{"col.time", SortOccurred, 50, 180},
	{"col.severity", SortSeverity, 50, 70},
	{"col.title", SortTitle, 160, 220},
	{"col.status", SortStatus, 90, 160},
	{"col.observer", SortObserver, 80, 160},
}

func newReportTable(ui *UI) *reportTable {
	rt := &reportTable{ui: ui, desc: true, cols: tableColumns}
	if ui.opts.Phone {
		rt.cols = phoneColumns
	}
	search := widget.NewEntry()
	search.SetPlaceHolder(T("table.search"))
	search.OnChanged = func(s string) { rt.filter.Text = s; rt.apply() }

	famNames := []string{T("table.all_families")}
	for _, f := range incident.Families {
		famNames = append(famNames, FamilyIcon(f)+" "+FamilyLabel(f))
	}
	fam := widget.NewSelect(famNames, nil)
	fam.SetSelectedIndex(0)
	fam.OnChanged = func(string) {
		rt.filter.Family = ""
		if i := fam.SelectedIndex(); i > 0 {
			rt.filter.Family = incident.Families[i-1]
		}
		rt.apply()
	}
	statuses := append([]string{incident.StatusUnreviewed}, incident.ReviewStatuses...)
	stNames := []string{T("table.all_statuses")}
	for _, s := range statuses {
		stNames = append(stNames, StatusLabel(s))
	}
	st := widget.NewSelect(stNames, nil)
	st.SetSelectedIndex(0)
	st.OnChanged = func(string) {
		rt.filter.Status = ""
		if i := st.SelectedIndex(); i > 0 {
			rt.filter.Status = statuses[i-1]
		}
		rt.apply()
	}
	sevNames := []string{T("table.any_severity")}
	for n := 2; n <= 4; n++ {
		sevNames = append(sevNames, T("table.severity_at_least", map[string]any{"N": n}))
	}
	sev := widget.NewSelect(sevNames, nil)
	sev.SetSelectedIndex(0)
	sev.OnChanged = func(string) {
		rt.filter.MinSeverity = 0
		if i := sev.SelectedIndex(); i > 0 {
			rt.filter.MinSeverity = i + 1
		}
		rt.apply()
	}
	flagged := widget.NewCheck(T("table.flagged"), func(on bool) { rt.filter.Flagged = on; rt.apply() })
	exportBtn := widget.NewButtonWithIcon(T("export.button"), theme.DownloadIcon(), ui.showExport)

	rt.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(rt.rows), len(rt.cols) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("template text")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row >= len(rt.rows) {
				return
			}
			l := o.(*widget.Label)
			// Titles and labels wrap onto as many lines as their row was given;
			// the other cells are sized to fit. (Fyne cannot wrap and
			// truncate one label: it panics when the lines do not fit.)
			l.Wrapping, l.Truncation = fyne.TextWrapOff, fyne.TextTruncateEllipsis
			if wrapColumns[rt.cols[id.Col].key] {
				l.Wrapping, l.Truncation = fyne.TextWrapWord, fyne.TextTruncateOff
			}
			l.SetText(rt.cell(&rt.rows[id.Row], rt.cols[id.Col].key))
		})
	rt.table.ShowHeaderColumn = false
	rt.table.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("", nil)
		b.Importance = widget.LowImportance
		b.Alignment = widget.ButtonAlignLeading
		return b
	}
	rt.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		b := o.(*widget.Button)
		if id.Col < 0 || id.Col >= len(rt.cols) {
			b.SetText("")
			return
		}
		c := rt.cols[id.Col]
		text := T(c.key)
		if rt.sort == c.sort {
			if rt.desc {
				text += " ▼"
			} else {
				text += " ▲"
			}
		}
		b.SetText(text)
		b.OnTapped = func() { rt.sortBy(c.sort) }
	}
	rt.fitColumns()
	rt.table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(rt.rows) {
			rid := rt.rows[id.Row].ID
			rt.table.UnselectAll()
			ui.showReport(rid, nil)
		}
	}
	rt.count = note("")
	var filters fyne.CanvasObject
	if ui.opts.Phone {
		more := widget.NewAccordion(widget.NewAccordionItem(T("table.filters"), container.NewVBox(fam, st, sev, flagged, exportBtn)))
		filters = container.NewVBox(search, more)
	} else {
		filters = container.NewVBox(
			container.NewBorder(nil, nil, nil, exportBtn, search),
			container.NewGridWithColumns(4, fam, st, sev, flagged))
	}
	fit := container.New(&widthWatch{onWidth: func(w float32) { rt.width = w; rt.fitColumns(); rt.table.Refresh() }}, rt.table)
	rt.content = container.NewBorder(container.NewPadded(container.NewVBox(heading(T("table.title")), filters, rt.count)), nil, nil, nil, fit)
	ui.refresh = append(ui.refresh, rt.refresh)
	return rt
}

// refresh reloads the reports off the Fyne goroutine.
func (rt *reportTable) refresh() {
	if rt.busy {
		rt.again = true
		return
	}
	rt.busy = true
	var all []incident.ReportView
	labels := map[incident.Author]string{}
	rt.ui.background(func() (err error) {
		if ms, err := rt.ui.be.Members(); err == nil {
			for _, m := range ms {
				labels[m.Author] = memberName(m.Member)
			}
		}
		all, err = rt.ui.be.Reports()
		return err
	}, func(err error) {
		rt.busy = false
		if err == nil {
			rt.all, rt.labels = all, labels
			rt.apply()
		}
		if rt.again {
			rt.again = false
			rt.refresh()
		}
	})
}

func (rt *reportTable) sortBy(k SortKey) {
	if rt.sort == k {
		rt.desc = !rt.desc
	} else {
		rt.sort, rt.desc = k, k == SortOccurred || k == SortSeverity || k == SortFlags
	}
	rt.apply()
}

func (rt *reportTable) apply() {
	rt.rows = FilterSort(rt.all, rt.filter, rt.sort, rt.desc)
	rt.count.SetText(T("table.showing", map[string]any{"N": len(rt.rows), "Total": len(rt.all)}))
	rt.fitColumns()
	rt.table.Refresh()
}

// fitColumns sizes each column to its widest cell (header included)
// within the column's bounds, and gives a row the lines its title and
// observer need: no time, status, title or label is cut.
func (rt *reportTable) fitColumns() {
	size, pad := theme.TextSize(), 2*theme.InnerPadding()
	// A label as the cells are, so a width is what a cell needs; the
	// table draws a divider between cells.
	scratch := widget.NewLabel("")
	measure := func(s string) float32 {
		scratch.SetText(s)
		return scratch.MinSize().Width + theme.Padding()
	}
	widths := make([]float32, len(rt.cols))
	var total float32
	for i, c := range rt.cols {
		w := measure(T(c.key)+" ▼") + theme.Padding()*2   // the header is a button
		for r := range rt.rows[:min(len(rt.rows), 500)] { // enough to size a column
			w = max(w, measure(rt.cell(&rt.rows[r], c.key)))
		}
		widths[i] = min(max(w, c.min), c.max)
		total += widths[i]
	}
	// Wider than the screen: the wrapping columns give way, in order, down
	// to their least, so that the short columns after them (station,
	// status) stay whole on a laptop. A phone's table scrolls sideways.
	if over := total - (rt.width - theme.ScrollBarSize() - theme.Padding()); rt.width > 0 && !rt.ui.opts.Phone && over > 0 {
		for _, key := range shrinkOrder {
			for i, c := range rt.cols {
				if c.key == key && over > 0 {
					give := min(over, widths[i]-c.min)
					widths[i] -= give
					over -= give
				}
			}
		}
	}
	wrapW := map[string]float32{} // the wrapping columns' widths
	for i, c := range rt.cols {
		rt.table.SetColumnWidth(i, widths[i])
		if wrapColumns[c.key] {
			wrapW[c.key] = widths[i]
		}
	}
	one := widget.NewLabel("X").MinSize().Height
	line := fyne.MeasureText("X", size, fyne.TextStyle{}).Height + theme.LineSpacing()
	for r := range rt.rows {
		n := 1
		for key, w := range wrapW {
			n = max(n, wrappedLines(rt.cell(&rt.rows[r], key), w-pad-theme.Padding(), size))
		}
		rt.table.SetRowHeight(r, one+float32(n-1)*line)
	}
}

// wrapColumns are the columns whose text wraps onto more lines rather
// than widen the table past the screen: titles, and observers' labels
// (a mission may label a member "Crane — observer, Vellmouth (PS-0240)").
var wrapColumns = map[string]bool{"col.title": true, "col.observer": true, "col.category": true}

// shrinkOrder is the order in which the wrapping columns narrow when the
// table is wider than the screen.
var shrinkOrder = []string{"col.title", "col.category", "col.observer"}

// widthWatch lays out its objects over the whole space it gets, and calls
// onWidth when that width changes: the report table fits its columns to
// the window as it is resized.
type widthWatch struct {
	last    float32
	onWidth func(float32)
}

func (l *widthWatch) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objects {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
	if size.Width != l.last {
		l.last = size.Width
		l.onWidth(size.Width)
	}
}

func (l *widthWatch) MinSize(objects []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objects {
		s = s.Max(o.MinSize())
	}
	return s
}

// wrappedLines is how many lines text takes wrapped by word at width
// (as a label wraps it; a word wider than the line breaks mid-word there
// too, which this counts as the lines it fills).
func wrappedLines(text string, width, size float32) int {
	space := fyne.MeasureText(" ", size, fyne.TextStyle{}).Width
	lines, used := 1, float32(0)
	for _, w := range strings.Fields(text) {
		ww := fyne.MeasureText(w, size, fyne.TextStyle{}).Width
		switch {
		case used == 0:
			used = ww
		case used+space+ww <= width:
			used += space + ww
		default:
			lines++
			used = ww
		}
		for used > width && width > 0 {
			lines++
			used -= width
		}
	}
	return lines
}

func (rt *reportTable) cell(v *incident.ReportView, col string) string {
	r := &v.Report
	switch col {
	case "col.time":
		return rt.ui.timeText(occurredOf(v))
	case "col.severity":
		if !Readable(v) {
			return "—"
		}
		return severityIcons[int(r.Severity)] + " " + strconv.Itoa(int(r.Severity))
	case "col.category":
		if !Readable(v) {
			return "🔒 " + T("report.sealed")
		}
		return CategoryIcon(r.Category) + " " + CategoryLabelOf(r.Category)
	case "col.title":
		t := r.Title
		if !Readable(v) {
			t = "🔒 " + T("report.sealed")
		} else if len(rt.cols) < len(tableColumns) {
			t = CategoryIcon(r.Category) + " " + t // the phone has no category column
		}
		if v.Retracted {
			t = "↩️ " + t
		}
		return t
	case "col.station":
		return r.Station
	case "col.observer":
		if l, ok := rt.labels[v.Author]; ok {
			return l
		}
		return v.Author.Short()
	case "col.status":
		s := StatusLabel(v.Status)
		if v.Retracted {
			// Withdrawn by its author: there is nothing left to review.
			s = T("report.retracted")
		}
		if v.Conflict {
			s = "⚠ " + s
		}
		return s
	case "col.flags":
		var fl []string
		for _, f := range v.Flags {
			fl = append(fl, FlagLabel(f))
		}
		if v.Conflict {
			fl = append([]string{T("report.conflict")}, fl...)
		}
		return strings.Join(fl, ", ")
	}
	return ""
}
