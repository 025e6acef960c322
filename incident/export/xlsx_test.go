package export

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// writeXLSX exports m's items and opens the result with excelize. With
// VIGIL_EXPORT_SAMPLES set to a folder, the file is kept there to look at.
func writeXLSX(t *testing.T, m *paperMission) *excelize.File {
	t.Helper()
	w := NewXLSX(m.name)
	w.MissionID = m.ms.ID
	w.Exported = paperT0.Add(36 * time.Hour)
	w.Filter = "category=all"
	for i := range m.items {
		if err := w.Write(&m.items[i]); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := w.Close(&buf); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(&buf); err == nil {
		t.Fatal("second Close: want an error")
	}
	if dir := os.Getenv("VIGIL_EXPORT_SAMPLES"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "sample.xlsx"), buf.Bytes(), 0o644)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatalf("excelize cannot read the workbook back: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// rowByID finds the row (1-based) holding report id on sheet.
func rowByID(t *testing.T, f *excelize.File, sheet, id string) int {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if len(r) > 0 && r[0] == id {
			return i + 1
		}
	}
	t.Fatalf("report %s not on sheet %s", id, sheet)
	return 0
}

func colRef(t *testing.T, name string, row int) string {
	t.Helper()
	for i, c := range Columns {
		if c.Name == name {
			ref, err := excelize.CoordinatesToCellName(i+1, row)
			if err != nil {
				t.Fatal(err)
			}
			return ref
		}
	}
	t.Fatalf("no column %q", name)
	return ""
}

func TestXLSXRoundTrip(t *testing.T) {
	m := newPaperMission(t, "Kenya general election 2026").standard()
	f := writeXLSX(t, m)

	want := []string{SheetSummary, "polling", "registration", "infrastructure", "disinformation", "other", SheetSealed}
	if got := f.GetSheetList(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("sheets %v, want %v", got, want)
	}
	if f.GetActiveSheetIndex() != 0 {
		t.Errorf("active sheet %d, want the Summary (0)", f.GetActiveSheetIndex())
	}

	counts := map[string]int{"polling": 2, "registration": 1, "infrastructure": 1, "disinformation": 1, "other": 1, SheetSealed: 1}
	for sheet, n := range counts {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != n+1 {
			t.Errorf("sheet %s: %d rows, want a header and %d reports", sheet, len(rows), n)
		}
		for i, c := range Columns {
			if i >= len(rows[0]) || rows[0][i] != c.Name {
				t.Fatalf("sheet %s header %v, want the CSV column names", sheet, rows[0])
			}
		}
		panes, err := f.GetPanes(sheet)
		if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
			t.Errorf("sheet %s panes %+v (%v), want the header row frozen", sheet, panes, err)
		}
		last, _ := excelize.CoordinatesToCellName(len(Columns), n+1)
		if !hasAutoFilter(f, sheet, "$A$1:$"+strings.TrimRight(last, "0123456789")+"$"+strconv.Itoa(n+1)) {
			t.Errorf("sheet %s: no autofilter over A1:%s", sheet, last)
		}
	}

	// Typed cells.
	late := m.byTitle[titleLate]
	row := rowByID(t, f, "polling", late.View.ID.String())
	sev := colRef(t, "severity", row)
	if v, _ := f.GetCellValue("polling", sev); v != "2" {
		t.Errorf("severity %q, want 2", v)
	}
	if typ, _ := f.GetCellType("polling", sev); typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString {
		t.Errorf("severity is a string cell (%v), want a number", typ)
	}
	occ := colRef(t, "occurred", row)
	raw, _ := f.GetCellValue("polling", occ, excelize.Options{RawCellValue: true})
	serial, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		t.Fatalf("occurred raw value %q is not an Excel date number", raw)
	}
	when, err := excelize.ExcelDateToTime(serial, false)
	if wantT := time.UnixMilli(late.View.Report.Occurred).UTC(); err != nil || !when.Round(time.Second).Equal(wantT) {
		t.Errorf("occurred %v (%v), want %v", when, err, wantT)
	}
	if v, _ := f.GetCellValue("polling", occ); v != "2026-05-17 06:30:00" {
		t.Errorf("occurred shows as %q, want a date format", v)
	}
	if v, _ := f.GetCellValue("polling", colRef(t, "lat", row)); v != "-1.3133" {
		t.Errorf("lat %q", v)
	}
	if v, _ := f.GetCellValue("polling", colRef(t, "status", row)); v != "verified" {
		t.Errorf("status %q", v)
	}
	conflict := colRef(t, "conflict", row)
	if typ, _ := f.GetCellType("polling", conflict); typ != excelize.CellTypeBool {
		t.Errorf("conflict cell type %v, want a boolean", typ)
	}
	if v, _ := f.GetCellValue("polling", conflict); v != "FALSE" {
		t.Errorf("conflict %q, want FALSE", v)
	}
	rumour := m.byTitle[titleRumour]
	row = rowByID(t, f, "disinformation", rumour.View.ID.String())
	if v, _ := f.GetCellValue("disinformation", colRef(t, "conflict", row)); v != "TRUE" {
		t.Errorf("conflicting reviews: conflict %q, want TRUE", v)
	}
	if v, _ := f.GetCellValue("disinformation", colRef(t, "reach", row)); v != "12000" {
		t.Errorf("reach %q", v)
	}
	shut := m.byTitle[titleShutdown]
	row = rowByID(t, f, "infrastructure", shut.View.ID.String())
	if v, _ := f.GetCellValue("infrastructure", colRef(t, "retracted", row)); v != "TRUE" {
		t.Errorf("retracted %q", v)
	}
	if v, _ := f.GetCellValue("infrastructure", colRef(t, "amendments", row)); v != "1" {
		t.Errorf("amendments %q", v)
	}

	// Non-Latin text comes back byte for byte.
	ru := m.byTitle[titleRussian]
	row = rowByID(t, f, "registration", ru.View.ID.String())
	if v, _ := f.GetCellValue("registration", colRef(t, "title", row)); v != titleRussian {
		t.Errorf("title %q, want %q", v, titleRussian)
	}
	if v, _ := f.GetCellValue("registration", colRef(t, "description", row)); v != ru.View.Report.Description {
		t.Errorf("description %q", v)
	}

	// Sealed: no category, no date, but the flags and the author.
	sealedRows, _ := f.GetRows(SheetSealed)
	if got := sealedRows[1][colIndex("sealed")]; got != "TRUE" {
		t.Errorf("sealed report: sealed = %q", got)
	}

	// Summary.
	sum := summaryMap(t, f)
	for k, v := range map[string]string{
		"Mission": m.name, "Mission ID": m.ms.ID.String(), "Reports": "7", "Exported (UTC)": "2026-05-18 18:00:00",
		"polling": "2", "disinformation": "1", "sealed": "1", "verified": "1", "escalated": "1", "unreviewed": "5",
		"retracted": "1", "conflicting reviews": "1", "4": "1", "unknown (sealed)": "1", "Filters": "category=all",
	} {
		if sum[k] != v {
			t.Errorf("Summary %q = %q, want %q", k, sum[k], v)
		}
	}
}

func colIndex(name string) int {
	for i, c := range Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// summaryMap reads the Summary sheet's label/value pairs (the last value
// wins for a repeated label).
func summaryMap(t *testing.T, f *excelize.File) map[string]string {
	t.Helper()
	rows, err := f.GetRows(SheetSummary)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		if len(r) >= 2 {
			out[r[0]] = r[1]
		}
	}
	return out
}

func hasAutoFilter(f *excelize.File, sheet, ref string) bool {
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm._FilterDatabase" && d.Scope == sheet && strings.HasSuffix(d.RefersTo, ref) {
			return true
		}
	}
	return false
}

func TestXLSXEmpty(t *testing.T) {
	m := newPaperMission(t, "Empty")
	f := writeXLSX(t, m)
	want := append([]string{SheetSummary}, incident.Families...)
	if got := f.GetSheetList(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("sheets %v, want %v (no sealed sheet)", got, want)
	}
	rows, _ := f.GetRows("polling")
	if len(rows) != 1 {
		t.Fatalf("empty polling sheet has %d rows, want the header", len(rows))
	}
	if s := summaryMap(t, f); s["Reports"] != "0" {
		t.Fatalf("Reports = %q", s["Reports"])
	}
}

func BenchmarkXLSX10000(b *testing.B) {
	m := newPaperMission(b, "Benchmark mission").standard()
	items := make([]Item, 0, 10000)
	for len(items) < 10000 {
		items = append(items, m.items[len(items)%len(m.items)])
	}
	b.ResetTimer()
	for b.Loop() {
		w := NewXLSX(m.name)
		for i := range items {
			if err := w.Write(&items[i]); err != nil {
				b.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := w.Close(&buf); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(buf.Len())/1e6, "MB/file")
	}
}
