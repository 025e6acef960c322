package export

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// The exports must open in the tools analysts use. These tests hand our
// files to Gnumeric's spreadsheet importer (ssconvert) and to GDAL, the
// library under QGIS and most GIS software, and check what they read.

func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not found (Debian package %s; `make deps` installs it)", name, pkg)
	}
	return p
}

func toolItems(t *testing.T) []Item {
	m := newPaperMission(t, "Tools mission").standard()
	tricky := m.report(incident.ReportPayload{Category: "polling.vote_buying", Severity: 3,
		Title:       `Agent said "vote for us, get 500", then left`,
		Description: "Line one, with a comma\nLine two; «guillemets» and ελληνικά\r\nLine three: 日本語 and العربية",
		Lat:         incident.Micro(-33.918861), Lon: incident.Micro(18.4233), Station: "ZA-001"})
	m.add(tricky)
	return m.items
}

func TestCSVOpensInASpreadsheet(t *testing.T) {
	ssconvert := needTool(t, "ssconvert", "gnumeric")
	items := toolItems(t)
	dir := t.TempDir()
	var buf bytes.Buffer
	cw, err := NewCSV(&buf, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		if err := cw.Write(&items[i]); err != nil {
			t.Fatal(err)
		}
	}
	cw.Close()
	in, out := filepath.Join(dir, "reports.csv"), filepath.Join(dir, "reports.xlsx")
	os.WriteFile(in, buf.Bytes(), 0o600)
	cmd := exec.Command(ssconvert, in, out)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssconvert: %v\n%s", err, b)
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(items)+1 {
		t.Fatalf("the spreadsheet read %d rows, want %d (a quote, comma or newline split a row)", len(rows), len(items)+1)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for i, it := range items {
		j := it.View.JSON(false)
		row := rows[i+1]
		get := func(name string) string {
			if c := col[name]; c < len(row) {
				return row[c]
			}
			return ""
		}
		if get("id") != j.ID {
			t.Errorf("row %d: id %q, want %q", i+1, get("id"), j.ID)
		}
		if j.Title != nil && get("title") != *j.Title {
			t.Errorf("row %d: title %q, want %q", i+1, get("title"), *j.Title)
		}
		if j.Description != nil {
			// Spreadsheets keep line breaks as \n.
			want := strings.ReplaceAll(*j.Description, "\r\n", "\n")
			if got := strings.ReplaceAll(get("description"), "\r\n", "\n"); got != want {
				t.Errorf("row %d: description %q, want %q", i+1, got, want)
			}
		}
	}
}

func TestGeoJSONOpensInGIS(t *testing.T) {
	ogr := needTool(t, "ogr2ogr", "gdal-bin")
	items := toolItems(t)
	dir := t.TempDir()
	var buf bytes.Buffer
	gw, err := NewGeoJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]float64{}
	for i := range items {
		if err := gw.Write(&items[i]); err != nil {
			t.Fatal(err)
		}
		if j := items[i].View.JSON(false); j.Lat != nil {
			want[j.ID] = [2]float64{*j.Lon, *j.Lat}
		}
	}
	gw.Close()
	in := filepath.Join(dir, "reports.geojson")
	os.WriteFile(in, buf.Bytes(), 0o600)
	out, err := exec.Command(ogr, "-f", "CSV", "/vsistdout/", in, "-lco", "GEOMETRY=AS_XY").Output()
	if err != nil {
		t.Fatalf("ogr2ogr: %v", err)
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != len(want) {
		t.Fatalf("GDAL read %d features, want %d", len(rows)-1, len(want))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, row := range rows[1:] {
		id := row[col["id"]]
		x, _ := strconv.ParseFloat(row[col["X"]], 64)
		y, _ := strconv.ParseFloat(row[col["Y"]], 64)
		w, ok := want[id]
		if !ok {
			t.Errorf("GDAL read an unknown feature %q", id)
			continue
		}
		if x != w[0] || y != w[1] {
			t.Errorf("%s: GDAL reads X=%v Y=%v, want lon %v lat %v (coordinate order)", id, x, y, w[0], w[1])
		}
	}
}
