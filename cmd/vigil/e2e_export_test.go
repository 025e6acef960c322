package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Two homes joined only by bundle files: the coordinator exports every
// format, and each export, parsed back, agrees with `report list --json`.
func TestExportsMatchReportList(t *testing.T) {
	t.Parallel()
	coord, _, mission := newMission(t, "coordinator")
	obs, _, _ := member(t, "observer", invite(t, coord, "--role", "observer"))
	ids := []string{
		mustID(t, obs, nil, "report", "add", "--category", "polling.late_opening", "--severity", "2",
			"--title", `Opened late, "very" late, at 9`, "--station", "PS-0042", "--description", "line one\nline two, ελληνικά"),
		mustID(t, obs, nil, "report", "add", "--category", "registration.name_missing", "--severity", "3",
			"--title", "Names missing", "--lat", "-1.2921", "--lon", "36.8219"),
		mustID(t, obs, nil, "report", "add", "--category", "infrastructure.internet_shutdown", "--severity", "4", "--title", "Data cut"),
		mustID(t, obs, nil, "report", "add", "--category", "disinformation.false_voting_info", "--severity", "3",
			"--title", "SMS says vote Thursday", "--channel", "sms", "--harm", "high", "--reach", "5000", "--source", "+000 555"),
		mustID(t, obs, nil, "report", "add", "--category", "other", "--severity", "1", "--title", "日本語の報告"),
	}
	mustRun(t, obs, nil, "checkin", "--status", "arrived", "--station", "PS-0042")
	carry(t, obs, coord)
	mustID(t, coord, nil, "review", ids[0], "--status", "verified", "--note", "called the officer")
	want, _ := listReports(t, coord)
	if len(want) != len(ids) {
		t.Fatalf("coordinator lists %d reports, want %d", len(want), len(ids))
	}
	dir := t.TempDir()
	path := func(f string) string { return filepath.Join(dir, "out."+f) }
	for _, f := range []string{"csv", "jsonl", "geojson"} {
		mustRun(t, coord, nil, "export", "--format", f, "--out", path(f))
	}

	// CSV: one row per report, same fields.
	b, _ := os.ReadFile(path("csv"))
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want)+1 {
		t.Fatalf("csv has %d rows, want %d", len(rows), len(want)+1)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, row := range rows[1:] {
		r, ok := want[row[col["id"]]]
		if !ok {
			t.Fatalf("csv row for unknown report %s", row[col["id"]])
		}
		if row[col["title"]] != orEmpty(r.Title) || row[col["description"]] != orEmpty(r.Description) ||
			row[col["status"]] != r.Status || row[col["category"]] != str(r.Category) ||
			row[col["severity"]] != strconv.Itoa(*r.Severity) || row[col["author"]] != r.Author {
			t.Errorf("csv row %v differs from report list %+v", row, r)
		}
	}

	// JSONL: dependency records first, then one line per report whose
	// decoded fields equal report list's, each with its signed record.
	f, _ := os.Open(path("jsonl"))
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	seenReport, deps := 0, 0
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if line["kind"] != "report" {
			if seenReport > 0 {
				t.Fatal("a dependency record comes after a report line")
			}
			deps++
			continue
		}
		seenReport++
		r := want[line["id"].(string)]
		if title, _ := line["title"].(string); title != orEmpty(r.Title) || line["status"] != r.Status || line["record"] == "" {
			t.Errorf("jsonl line %v differs from %+v", line, r)
		}
	}
	if seenReport != len(want) || deps < 2 { // genesis and the observer's enrollment at least
		t.Fatalf("jsonl: %d reports, %d dependency records", seenReport, deps)
	}

	// GeoJSON: only the report with coordinates, as [lon, lat].
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			ID       string `json:"id"`
			Geometry struct {
				Type        string    `json:"type"`
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	gb, _ := os.ReadFile(path("geojson"))
	if err := json.Unmarshal(gb, &fc); err != nil {
		t.Fatal(err)
	}
	if fc.Type != "FeatureCollection" || len(fc.Features) != 1 || fc.Features[0].ID != ids[1] {
		t.Fatalf("geojson: %+v", fc)
	}
	if c := fc.Features[0].Geometry.Coordinates; c[0] != 36.8219 || c[1] != -1.2921 {
		t.Fatalf("geojson coordinates %v, want [36.8219 -1.2921]", c)
	}

	// verify, offline, with no home: every record OK, and the mission ID
	// printed for the user to compare.
	out, errOut, code := runVigil(t, t.TempDir(), nil, "verify", path("jsonl"), "--mission", mission)
	if code != 0 || strings.Contains(out, "BAD") || !strings.Contains(errOut, mission) {
		t.Fatalf("verify jsonl: exit %d\n%s\n%s", code, out, errOut)
	}

	// Tampering: a flipped byte in any report line makes verify fail and
	// name that record.
	lines := strings.Split(strings.TrimSpace(string(mustRead(t, path("jsonl")))), "\n")
	for i, line := range lines {
		if !strings.Contains(line, `"kind":"report"`) {
			continue
		}
		var probe struct{ ID string }
		json.Unmarshal([]byte(line), &probe)
		for _, pos := range []int{len(line) / 3, len(line) / 2, len(line) - 30} {
			bad := []byte(line)
			bad[pos] ^= 0x02
			tampered := append(append(append([]string{}, lines[:i]...), string(bad)), lines[i+1:]...)
			p := filepath.Join(t.TempDir(), "t.jsonl")
			os.WriteFile(p, []byte(strings.Join(tampered, "\n")+"\n"), 0o600)
			out, _, code := runVigil(t, t.TempDir(), nil, "verify", p)
			if code != 1 || !strings.Contains(out, "BAD") {
				t.Fatalf("flip at %d of line %d: exit %d, output %s", pos, i, code, out)
			}
			if !strings.Contains(out, probe.ID+" BAD") && !strings.Contains(out, "line ") {
				t.Errorf("flip at %d of line %d does not name the record %s:\n%s", pos, i, probe.ID, out)
			}
		}
	}

	// A flipped byte in a bundle frame names the damaged record.
	bpath := exportBundle(t, obs)
	data := mustRead(t, bpath)
	for _, pos := range []int{100, len(data) / 2, len(data) - 40} {
		bad := append([]byte(nil), data...)
		bad[pos] ^= 0x01
		p := filepath.Join(t.TempDir(), "t.vgb")
		os.WriteFile(p, bad, 0o600)
		out, _, code := runVigil(t, t.TempDir(), nil, "verify", p)
		if code != 1 || !strings.Contains(out, "BAD") {
			t.Fatalf("bundle flip at %d: exit %d: %s", pos, code, out)
		}
	}
}

// orEmpty is how CSV and JSON text show an absent text field.
func orEmpty(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
