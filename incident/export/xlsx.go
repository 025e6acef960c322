package export

// XLSX workbooks through excelize (github.com/xuri/excelize/v2): the
// maintained pure-Go library for Office Open XML spreadsheets, released
// several times a year and used widely. It writes typed cells, number
// formats, frozen panes and autofilters that Excel, LibreOffice and Google
// Sheets all read, and its stream writer keeps large sheets out of its cell
// tree. Cell text goes in as typed strings, never formulas, so a title that
// starts with "=" stays text (no formula injection, unlike CSV opened in a
// spreadsheet).

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// SheetSummary is the name of the workbook's first sheet. The other sheets
// are named after the category families (incident.Families), in that
// order, then SheetSealed when the export holds sealed reports.
const SheetSummary = "Summary"

// SheetSealed holds reports whose content is sealed to the coordinators and
// cannot be read here, so their family is unknown.
const SheetSealed = "sealed"

// XLSXWriter writes a workbook: a Summary sheet, then one sheet per
// category family with the CSV columns (Columns, same names and order) as
// typed cells: numbers as numbers, times as Excel dates (UTC), flags as
// booleans. Each sheet's header row is frozen and carries an autofilter.
//
// Rows are held in memory until Close, which needs the counts for the
// Summary sheet and each sheet's filter range. Not safe for concurrent use.
type XLSXWriter struct {
	// MissionID, when set, is printed on the Summary sheet.
	MissionID incident.ID
	// Exported is the export time on the Summary sheet and in the document
	// properties; Close uses the current time when it is zero.
	Exported time.Time
	// Filter, when set, describes the filters the export applied.
	Filter string
	// Notice, when set (public exports), says what was removed and that
	// the file cannot be verified.
	Notice string

	mission string
	rows    map[string][][]any
	tally   tally
	closed  bool
	// reports: the workbook holds the report sheets (NewXLSX); grids are
	// the observation tables' sheets after them (AddSheets).
	reports bool
	grids   []*gridSheet
}

// NewXLSX starts a workbook of reports for the mission called
// missionName.
func NewXLSX(missionName string) *XLSXWriter {
	return &XLSXWriter{mission: missionName, rows: map[string][][]any{}, tally: newTally(), reports: true}
}

// NewTablesXLSX starts a workbook of observation tables only (no report
// sheets): AddSheets adds them.
func NewTablesXLSX(missionName string) *XLSXWriter {
	x := NewXLSX(missionName)
	x.reports = false
	return x
}

// reportSheetNames are the sheet names a reports workbook may use.
func reportSheetNames() map[string]bool {
	used := map[string]bool{strings.ToLower(SheetSummary): true, SheetSealed: true, "other": true}
	for _, f := range incident.Families {
		used[strings.ToLower(f)] = true
	}
	return used
}

// AddTables adds the sheets of o's tables named (RecordsStations,
// RecordsTallies, RecordsChecklists) that the mission has rows for,
// after the report sheets.
func (x *XLSXWriter) AddTables(o *Observations, tables []string) {
	used := reportSheetNames()
	for _, g := range x.grids {
		used[strings.ToLower(g.name)] = true
	}
	x.grids = append(x.grids, o.Sheets(tables, used)...)
}

// Write adds one report.
func (x *XLSXWriter) Write(it *Item) error {
	if x.closed {
		return errors.New("xlsx: write after close")
	}
	j := it.Row()
	row := make([]any, len(Columns))
	for i := range Columns {
		row[i] = xlsxCell(&Columns[i], it, &j)
	}
	sheet := sheetFor(&j)
	x.rows[sheet] = append(x.rows[sheet], row)
	x.tally.add(&j)
	return nil
}

// sheetFor is the family sheet a report goes on.
func sheetFor(j *incident.ReportJSON) string {
	if j.Family == nil {
		return SheetSealed
	}
	for _, f := range incident.Families {
		if f == *j.Family {
			return f
		}
	}
	// Validation only admits known families; keep anything else visible.
	return "other"
}

// xlsxCell is the typed value of column c: nil for an empty cell.
func xlsxCell(c *Column, it *Item, j *incident.ReportJSON) any {
	if c.item != nil {
		if s := c.item(it); s != "" {
			return s
		}
		return nil
	}
	switch c.Name {
	case "occurred", "created":
		if s := c.get(j); s != "" {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return t.UTC()
			}
			return s
		}
		return nil
	case "severity":
		return uintCell(j.Severity)
	case "precision_m":
		return uintCell(j.Precision)
	case "reach":
		return uintCell(j.Reach)
	case "lat":
		return floatCell(j.Lat)
	case "lon":
		return floatCell(j.Lon)
	case "conflict":
		return j.Conflict
	case "retracted":
		return j.Retracted
	case "sealed":
		return j.Sealed
	case "amendments":
		return j.Amendments
	}
	if s := c.get(j); s != "" {
		return s
	}
	return nil
}

func uintCell(p *uint64) any {
	if p == nil {
		return nil
	}
	return *p
}

func floatCell(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// xlsxWidths are column widths in characters; columns not listed get 14.
var xlsxWidths = map[string]float64{
	"id": 24, "occurred": 19, "created": 19, "category": 30, "family": 14,
	"severity": 9, "title": 40, "description": 60, "area": 22, "lat": 11,
	"lon": 11, "precision_m": 12, "reach": 12, "source": 30, "status": 13,
	"conflict": 10, "retracted": 10, "retract_reason": 30, "amendments": 12,
	"flags": 22, "sealed": 8, "author": 24, "attachments": 30,
	"observer": 18, "review_note": 40,
}

// xlsxDateFormat shows times to the second; Excel dates carry no zone and
// these are UTC (the Summary sheet says so).
const xlsxDateFormat = "yyyy-mm-dd hh:mm:ss"

// Close builds the workbook and writes it to w. The writer cannot be used
// afterwards.
func (x *XLSXWriter) Close(w io.Writer) (err error) {
	if x.closed {
		return errors.New("xlsx: already closed")
	}
	x.closed = true
	exported := x.Exported
	if exported.IsZero() {
		exported = time.Now()
	}
	exported = exported.UTC()

	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	st, err := newXLSXStyles(f)
	if err != nil {
		return err
	}
	if err := f.SetSheetName("Sheet1", SheetSummary); err != nil {
		return err
	}
	var sheets []string
	if x.reports {
		sheets = append(sheets, incident.Families...)
		if len(x.rows[SheetSealed]) > 0 {
			sheets = append(sheets, SheetSealed)
		}
	}
	for _, name := range sheets {
		if err := x.writeSheet(f, st, name); err != nil {
			return fmt.Errorf("xlsx: sheet %s: %w", name, err)
		}
	}
	for _, g := range x.grids {
		if err := writeGrid(f, st, g.name, g.header, g.widths, g.notes, g.rows); err != nil {
			return fmt.Errorf("xlsx: sheet %s: %w", g.name, err)
		}
	}
	if err := x.writeSummary(f, st, sheets, exported); err != nil {
		return fmt.Errorf("xlsx: summary: %w", err)
	}
	f.SetActiveSheet(0)
	title, desc := "Vigil incident export", "Incident reports exported from a Vigil mission"
	if !x.reports {
		title, desc = "Vigil observation export", "Observation records exported from a Vigil mission"
	}
	if x.mission != "" {
		title += ": " + x.mission
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title: title, Creator: "Vigil", Created: exported.Format(time.RFC3339),
		Modified: exported.Format(time.RFC3339), Description: desc,
	}); err != nil {
		return err
	}
	return f.Write(w)
}

type xlsxStyles struct {
	header, date, title, bold, label, total int
}

func newXLSXStyles(f *excelize.File) (*xlsxStyles, error) {
	var st xlsxStyles
	date := xlsxDateFormat
	specs := []struct {
		dst *int
		s   *excelize.Style
	}{
		{&st.header, &excelize.Style{
			Font:      &excelize.Font{Bold: true},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E8EBEF"}},
			Border:    []excelize.Border{{Type: "bottom", Color: "9AA5B1", Style: 1}},
			Alignment: &excelize.Alignment{Vertical: "center"},
		}},
		{&st.date, &excelize.Style{CustomNumFmt: &date}},
		{&st.title, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}}},
		{&st.bold, &excelize.Style{Font: &excelize.Font{Bold: true}}},
		{&st.label, &excelize.Style{Font: &excelize.Font{Color: "5F6B7A"}}},
		{&st.total, &excelize.Style{Font: &excelize.Font{Bold: true},
			Border: []excelize.Border{{Type: "top", Color: "9AA5B1", Style: 1}}}},
	}
	for _, sp := range specs {
		id, err := f.NewStyle(sp.s)
		if err != nil {
			return nil, err
		}
		*sp.dst = id
	}
	return &st, nil
}

// writeSheet writes one family's sheet.
func (x *XLSXWriter) writeSheet(f *excelize.File, st *xlsxStyles, name string) error {
	header := make([]string, len(Columns))
	widths := make([]float64, len(Columns))
	for i, c := range Columns {
		header[i] = c.Name
		widths[i] = xlsxWidths[c.Name]
	}
	return writeGrid(f, st, name, header, widths, nil, x.rows[name])
}

// writeGrid writes a sheet with the stream writer: a frozen header row
// with an autofilter (and, where notes has one, a note on the header
// cell), then rows, times as dates. A width of 0 is 14 characters. The
// autofilter and notes are set first: the stream writer copies them from
// the worksheet when it finishes.
func writeGrid(f *excelize.File, st *xlsxStyles, name string, header []string, widths []float64, notes []string, rows [][]any) error {
	if _, err := f.NewSheet(name); err != nil {
		return err
	}
	last, err := excelize.CoordinatesToCellName(len(header), len(rows)+1)
	if err != nil {
		return err
	}
	if err := f.AutoFilter(name, "A1:"+last, nil); err != nil {
		return err
	}
	for i, note := range notes {
		if note == "" {
			continue
		}
		ref, err := excelize.CoordinatesToCellName(i+1, 1)
		if err != nil {
			return err
		}
		if err := f.AddComment(name, excelize.Comment{Cell: ref, Author: "Vigil", Text: note}); err != nil {
			return err
		}
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	// Last column first: the stream writer puts each new column ahead of
	// those set before, and Excel wants them in ascending order.
	for i := len(header) - 1; i >= 0; i-- {
		width := 14.0
		if i < len(widths) && widths[i] > 0 {
			width = widths[i]
		}
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	head := make([]any, len(header))
	for i, h := range header {
		head[i] = excelize.Cell{StyleID: st.header, Value: h}
	}
	if err := sw.SetRow("A1", head, excelize.RowOpts{Height: 18}); err != nil {
		return err
	}
	for r, row := range rows {
		for i, v := range row {
			if t, ok := v.(time.Time); ok {
				row[i] = excelize.Cell{StyleID: st.date, Value: t}
			}
		}
		cell, err := excelize.CoordinatesToCellName(1, r+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// writeSummary fills the Summary sheet: who, when, and the counts.
func (x *XLSXWriter) writeSummary(f *excelize.File, st *xlsxStyles, sheets []string, exported time.Time) error {
	const s = SheetSummary
	t := &x.tally
	row := 1
	set := func(col string, v any, style int) error {
		ref := col + strconv.Itoa(row)
		if err := f.SetCellValue(s, ref, v); err != nil {
			return err
		}
		if style != 0 {
			return f.SetCellStyle(s, ref, ref, style)
		}
		return nil
	}
	pair := func(label string, v any, style int) error {
		if err := set("A", label, st.label); err != nil {
			return err
		}
		if err := set("B", v, style); err != nil {
			return err
		}
		row++
		return nil
	}
	title := "Vigil incident export"
	if !x.reports {
		title = "Vigil observation export"
	}
	if err := set("A", title, st.title); err != nil {
		return err
	}
	if err := f.SetRowHeight(s, 1, 24); err != nil {
		return err
	}
	row += 2
	if err := pair("Mission", x.mission, st.bold); err != nil {
		return err
	}
	if !x.MissionID.IsZero() {
		if err := pair("Mission ID", x.MissionID.String(), 0); err != nil {
			return err
		}
	}
	if err := pair("Exported (UTC)", exported, st.date); err != nil {
		return err
	}
	if x.Notice != "" {
		if err := pair("Notice", x.Notice, 0); err != nil {
			return err
		}
	}
	if x.Filter != "" {
		if err := pair("Filters", x.Filter, 0); err != nil {
			return err
		}
	}
	if x.reports {
		if err := pair("Reports", t.total, st.bold); err != nil {
			return err
		}
	}
	for _, g := range x.grids {
		if err := pair(g.name, fmt.Sprintf("%d %s", g.count, g.records), 0); err != nil {
			return err
		}
	}
	if err := pair("Note", "All times are UTC. The signed records behind these rows are in the JSONL export.", 0); err != nil {
		return err
	}
	if !x.reports {
		return x.summaryWidths(f)
	}

	table := func(title string, keys []string, count func(string) int) error {
		row++
		if err := set("A", title, st.header); err != nil {
			return err
		}
		if err := set("B", "reports", st.header); err != nil {
			return err
		}
		row++
		for _, k := range keys {
			if err := pair(k, count(k), 0); err != nil {
				return err
			}
		}
		if err := set("A", "total", st.total); err != nil {
			return err
		}
		if err := set("B", t.total, st.total); err != nil {
			return err
		}
		row++
		return nil
	}
	if err := table("category family", sheets, func(k string) int { return t.family[k] }); err != nil {
		return err
	}
	sevKeys := []string{"1", "2", "3", "4"}
	if t.severity[0] > 0 {
		sevKeys = append(sevKeys, "unknown (sealed)")
	}
	if err := table("severity", sevKeys, func(k string) int {
		n, err := strconv.Atoi(k)
		if err != nil {
			return t.severity[0]
		}
		return t.severity[n]
	}); err != nil {
		return err
	}
	if err := table("review status", reportStatuses, func(k string) int { return t.status[k] }); err != nil {
		return err
	}
	row++
	if err := pair("retracted", t.retracted, 0); err != nil {
		return err
	}
	if err := pair("conflicting reviews", t.conflict, 0); err != nil {
		return err
	}
	return x.summaryWidths(f)
}

func (x *XLSXWriter) summaryWidths(f *excelize.File) error {
	if err := f.SetColWidth(SheetSummary, "A", "A", 22); err != nil {
		return err
	}
	return f.SetColWidth(SheetSummary, "B", "B", 64)
}

// reportStatuses are the review statuses in display order.
var reportStatuses = append([]string{incident.StatusUnreviewed}, incident.ReviewStatuses...)

// tally counts reports for the XLSX and PDF summaries.
type tally struct {
	total     int
	family    map[string]int
	famStatus map[string]map[string]int
	severity  [5]int // [0]: unknown (sealed)
	status    map[string]int
	retracted int
	conflict  int
	sealed    int
}

func newTally() tally {
	return tally{family: map[string]int{}, famStatus: map[string]map[string]int{}, status: map[string]int{}}
}

func (t *tally) add(j *incident.ReportJSON) {
	t.total++
	fam := sheetFor(j)
	t.family[fam]++
	if t.famStatus[fam] == nil {
		t.famStatus[fam] = map[string]int{}
	}
	t.famStatus[fam][j.Status]++
	if j.Severity != nil && *j.Severity >= 1 && *j.Severity <= 4 {
		t.severity[*j.Severity]++
	} else {
		t.severity[0]++
	}
	t.status[j.Status]++
	if j.Retracted {
		t.retracted++
	}
	if j.Conflict {
		t.conflict++
	}
	if j.Sealed {
		t.sealed++
	}
}
