package main

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident/act"
)

// Two observers copy result sheets in a mission that does not seal; the
// coordinator's `results` shows a consolidated station, a disagreement
// side by side, a sheet that does not add up, the missing ones and the
// quick count; `coverage` counts the counting phase. Bad flags are named.
func TestTallyAndResultsAcrossHomes(t *testing.T) {
	t.Parallel()
	coord, _, _ := sealedMission(t, "coordinator")
	csv := filepath.Join(t.TempDir(), "stations.csv")
	if err := os.WriteFile(csv, []byte("code,name,admin,registered,lat,lon,tags\n"+
		"PS-1,North School,North/Town,900,,,pvt stratum=north\n"+
		"PS-2,North Hall,North/Town,800,,,pvt stratum=north\n"+
		"PS-3,South School,South/Port,700,,,pvt stratum=south\n"+
		"PS-4,South Hall,South/Port,600,,,pvt stratum=south\n"+
		"PS-5,South Church,South/Port,500,,,stratum=south\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustID(t, coord, nil, "station", "import", csv)
	heron, _, _ := member(t, "heron", invite(t, coord, "--role", "observer", "--label", "Heron"))
	kite, _, _ := member(t, "kite", invite(t, coord, "--role", "observer", "--label", "Kite"))
	carry(t, heron, coord)
	carry(t, kite, coord)
	carry(t, coord, heron)
	carry(t, coord, kite)
	mustID(t, coord, nil, "assign", "Heron", "--station", "PS-1")
	mustID(t, coord, nil, "assign", "Kite", "--station", "PS-2")

	sheet := func(station string, a, b int, more ...string) []string {
		cast := a + b + 10
		return append([]string{"tally", "submit", "--station", station, "--contest", "presidential", "--registered", map[string]string{
			"ps 1": "900", "PS-1": "900", "PS-2": "800", "PS-3": "700", "PS-4": "600"}[station],
			"--issued", itoa(cast + 5), "--cast", itoa(cast), "--invalid", "6", "--blank", "4",
			"--votes", "Amara=" + itoa(a), "--votes", "Bello=" + itoa(b)}, more...)
	}
	photo := filepath.Join(t.TempDir(), "sheet.jpg")
	os.WriteFile(photo, []byte("\xff\xd8\xff\xe0 a result sheet"), 0o600)
	stdout, stderr, code := runVigil(t, heron, nil, sheet("ps 1", 400, 220, "--photo", photo)...)
	firstStdout := stdout
	if code != exitOK || !idLine.MatchString(strings.TrimSpace(stdout)) || !strings.Contains(stderr, "Tally for PS-1") || !strings.Contains(stderr, "Every check passes") {
		t.Fatalf("tally submit: %q %q %d", stdout, stderr, code)
	}
	mustID(t, kite, nil, sheet("PS-1", 400, 220)...)
	mustID(t, heron, nil, sheet("PS-2", 300, 250)...)
	mustID(t, kite, nil, sheet("PS-2", 300, 251)...)
	// A sheet that does not add up: stored, the failing check printed.
	args := sheet("PS-3", 250, 200)
	args[11] = "470" // --cast: 450 + 6 + 4 = 460
	stdout, stderr, code = runVigil(t, kite, nil, args...)
	if code != exitOK || !idLine.MatchString(strings.TrimSpace(stdout)) || !strings.Contains(stderr, "sum: votes 450 + invalid 6 + blank 4 = 460 ≠ cast 470") {
		t.Fatalf("a sheet that does not add up: %q %q %d", stdout, stderr, code)
	}
	mustID(t, heron, nil, sheet("PS-4", 200, 220)...)

	for _, bad := range []struct {
		args []string
		flag string
	}{
		{[]string{"--cast", "-3"}, "cast"},
		{[]string{"--registered", "many"}, "registered"},
		{[]string{"--votes", "Amara"}, "votes"},
		{[]string{"--votes", "Amara=1", "--votes", "Amara=2"}, "twice"},
		{[]string{"--votes", "Amara=x"}, "Amara"},
	} {
		a := append([]string{"tally", "submit", "--station", "PS-1", "--contest", "presidential", "--cast", "10", "--votes", "Bello=10"}, bad.args...)
		stdout, stderr, code := runVigil(t, heron, nil, a...)
		wantFailure(t, strings.Join(bad.args, " "), stdout, stderr, code, exitUsage, bad.flag)
	}
	stdout, stderr, code = runVigil(t, heron, nil, "tally", "submit", "--station", "PS-1", "--contest", "presidential", "--votes", "A=1")
	wantFailure(t, "no --cast", stdout, stderr, code, exitUsage, "--cast")

	carry(t, heron, coord)
	carry(t, kite, coord)
	// The sheet's photo travelled sealed inside the tally: the
	// coordinator saves it under its name; the other observer cannot.
	sheetID := strings.TrimSpace(firstStdout)
	saved := t.TempDir()
	path := strings.TrimSpace(mustRun(t, coord, nil, "attachment", "save", sheetID, "--out", saved))
	if b, err := os.ReadFile(path); err != nil || string(b) != "\xff\xd8\xff\xe0 a result sheet" || filepath.Base(path) != "sheet.jpg" {
		t.Fatalf("the coordinator saves the sheet's photo: %q %q %v", path, b, err)
	}
	carry(t, heron, kite)
	stdout, stderr, code = runVigil(t, kite, nil, "attachment", "save", sheetID, "--out", t.TempDir())
	wantFailure(t, "another observer saves the photo", stdout, stderr, code, exitError, "sealed")
	// An evidence package that discloses the keys carries the sheet's
	// photo opened, and a third party verifies it.
	pkg := filepath.Join(t.TempDir(), "evidence.zip")
	mustRun(t, coord, nil, "export", "--format", "evidence", "--disclose-keys", "--out", pkg)
	zr, err := zip.OpenReader(pkg)
	if err != nil {
		t.Fatal(err)
	}
	opened := false
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, "files/") {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			opened = opened || string(b) == "\xff\xd8\xff\xe0 a result sheet"
		}
	}
	zr.Close()
	if !opened {
		t.Fatal("the evidence package does not carry the sheet's photo opened")
	}
	if out, errOut, code := runVigil(t, t.TempDir(), nil, "verify", pkg); code != exitOK {
		t.Fatalf("verify the package: %q %q %d", out, errOut, code)
	}
	r := decodeJSON[act.Results](t, mustRun(t, coord, nil, "results", "--json"))
	status := map[string]string{}
	for _, s := range r.Stations {
		status[s.Code] = s.Status
	}
	if r.Contest != "presidential" || status["PS-1"] != "consolidated" || status["PS-2"] != "flagged" || status["PS-3"] != "flagged" ||
		status["PS-4"] != "ok" || status["PS-5"] != "missing" {
		t.Fatalf("results: %v", status)
	}
	if q := r.QuickCount; q == nil || q.Sample != 4 || q.Used != 2 || q.Excluded != 2 || len(q.Shares) != 2 || len(q.Notes) != 1 || !strings.Contains(q.Notes[0], "pooled") {
		t.Fatalf("quick count: %+v", r.QuickCount)
	}
	out := mustRun(t, coord, nil, "results")
	for _, want := range []string{"Results, presidential: 5 stations", "1 consolidated, 1 ok, 2 flagged, 1 missing", "PS-1", "consolidated",
		"disagree: Heron and Kite: issued 565 vs 566, cast 560 vs 561, Bello 250 vs 251", "Heron", "Bello 250", "Bello 251",
		"Quick count over the pvt sample (4 stations): 2 used, 2 excluded as flagged, 0 missing", "Amara", "±", "Excluded (flagged): PS-2, PS-3"} {
		if !strings.Contains(out, want) {
			t.Fatalf("results lacks %q:\n%s", want, out)
		}
	}
	stdout, stderr, code = runVigil(t, coord, nil, "results", "--contest", "senate")
	wantFailure(t, "an unknown contest", stdout, stderr, code, exitError, "contest", "senate", "presidential")
	stdout, stderr, code = runVigil(t, heron, nil, "results")
	wantFailure(t, "an observer's results", stdout, stderr, code, exitError, "coordinators")

	// Coverage: both posted stations heard from at the count.
	cov := decodeJSON[act.Coverage](t, mustRun(t, coord, nil, "coverage", "--level", "0", "--json"))
	if cov.Total.Heard[act.PhaseCounting] != 2 || cov.Current != act.PhaseCounting {
		t.Fatalf("coverage of the count: %+v", cov)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
