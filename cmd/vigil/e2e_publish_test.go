package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestReviewPublish: `review --publish` approves a report's text for
// public exports. Every public format then carries it, and no other text;
// an approved text naming a station the file hides stays out; an
// amendment withdraws the approval; observers cannot approve; the export
// says how many texts it withheld.
func TestReviewPublish(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "coordinator")
	obs, _, _ := member(t, "observer", invite(t, coord, "--role", "observer"))
	const approved, unapproved, named = "Envelopes handed out at the gate", "Queue calm all morning", "Ballots missing at PS-0012"
	add := func(title string) string {
		return mustID(t, obs, nil, "report", "add", "--category", "polling.vote_buying", "--severity", "3",
			"--title", title, "--description", title+", seen twice", "--station", "PS-0012", "--lat", "-1.287654", "--lon", "36.823456")
	}
	a, b, c := add(approved), add(unapproved), add(named)
	carry(t, obs, coord)

	out, errOut, code := runVigil(t, obs, nil, "review", a, "--status", "verified", "--publish")
	wantFailure(t, "observer approves", out, errOut, code, 1, "observer may not sign review records")
	out, errOut, code = runVigil(t, coord, nil, "review", a, "--status", "rejected", "--publish")
	wantFailure(t, "rejected and published", out, errOut, code, exitUsage, "--publish", "rejected")

	_, errOut, _ = runVigil(t, coord, nil, "review", a, "--status", "verified", "--publish")
	if !strings.Contains(errOut, "approved for public exports") {
		t.Errorf("review --publish does not say what it did: %s", errOut)
	}
	mustID(t, coord, nil, "review", b, "--status", "verified")
	mustID(t, coord, nil, "review", c, "--status", "corroborated", "--publish")

	dir := t.TempDir()
	export := func(format string) (text, stderr string) {
		t.Helper()
		p := filepath.Join(dir, "public."+format)
		_, stderr, code := runVigil(t, coord, nil, "export", "--public", "--format", format, "--out", p)
		if code != 0 {
			t.Fatalf("export %s: exit %d: %s", format, code, stderr)
		}
		switch format {
		case "xlsx":
			f, err := excelize.OpenFile(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var cells strings.Builder
			for _, sheet := range f.GetSheetList() {
				rows, _ := f.GetRows(sheet)
				for _, row := range rows {
					cells.WriteString(strings.Join(row, "\t") + "\n")
				}
			}
			return cells.String(), stderr
		case "pdf":
			pdftotext, err := exec.LookPath("pdftotext")
			if err != nil {
				return "", stderr // the other formats still run
			}
			b, err := exec.Command(pdftotext, "-layout", p, "-").Output()
			if err != nil {
				t.Fatal(err)
			}
			return strings.Join(strings.Fields(string(b)), " "), stderr
		}
		return string(mustRead(t, p)), stderr
	}
	for _, f := range []string{"csv", "jsonl", "geojson", "xlsx", "pdf"} {
		text, stderr := export(f)
		if text == "" {
			continue // no pdftotext
		}
		if !strings.Contains(text, approved) || !strings.Contains(text, approved+", seen twice") {
			t.Errorf("public %s lacks the approved text:\n%s", f, text)
		}
		for _, s := range []string{unapproved, "Ballots missing", "PS-0012"} {
			if strings.Contains(text, s) {
				t.Errorf("public %s holds %q", f, s)
			}
		}
		if !strings.Contains(text, "withheld from 1 reports for lack of approval, and from 1 whose approved text names a station") {
			t.Errorf("public %s: the notice does not count the withheld texts:\n%s", f, text)
		}
		if !strings.Contains(stderr, "Withheld the text of 1 report no coordinator approved") ||
			!strings.Contains(stderr, "Withheld the approved text of 1 report: it names a station") {
			t.Errorf("export %s does not say what it withheld:\n%s", f, stderr)
		}
	}

	// An amendment withdraws the approval: neither version goes out.
	mustID(t, obs, nil, "report", "amend", a, "--title", "Envelopes and phones handed out")
	carry(t, obs, coord)
	var res map[string]any
	p := filepath.Join(dir, "after.csv")
	if err := json.Unmarshal([]byte(mustRun(t, coord, nil, "--json", "export", "--public", "--format", "csv", "--out", p)), &res); err != nil {
		t.Fatal(err)
	}
	if text := string(mustRead(t, p)); strings.Contains(text, "Envelopes") || res["text_withheld"] != 2.0 {
		t.Errorf("after the amendment: %v texts withheld; the file:\n%s", res["text_withheld"], text)
	}
	mustID(t, coord, nil, "review", a, "--status", "verified", "--publish")
	mustRun(t, coord, nil, "export", "--public", "--format", "csv", "--out", p)
	if !strings.Contains(string(mustRead(t, p)), "Envelopes and phones handed out") {
		t.Error("the amendment, approved, is not published")
	}
}
