package main

import (
	"path/filepath"
	"strings"
	"testing"
)

const stationsCSV = "../../incident/act/testdata/stations.csv"

// A coordinator imports the registry; a bad file names its line and
// imports nothing; an observer may not import; station list filters as
// its flags say, in lines or JSON Lines; an observer lists it once the
// records reach it.
func TestStationImportAndList(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "stations")
	out, errs, code := runVigil(t, coord, nil, "station", "list")
	if code != 0 || out != "" || !strings.Contains(errs, "No stations") {
		t.Fatalf("before an import: exit %d %q %q", code, out, errs)
	}
	bad, _ := filepath.Abs("../../incident/act/testdata/bad/duplicate-code.csv")
	out, errs, code = runVigil(t, coord, nil, "station", "import", bad)
	wantFailure(t, "a duplicate code", out, errs, code, exitError, "line 4: code: PS-0001 is the code of line 2 too", "nothing imported")
	if out, _, _ := runVigil(t, coord, nil, "station", "list"); out != "" {
		t.Fatalf("a refused file listed stations: %q", out)
	}

	file, _ := filepath.Abs(stationsCSV)
	_, errs, code = runVigil(t, coord, nil, "station", "import", file)
	if code != 0 || !strings.Contains(errs, "Imported 30 stations as one registry snapshot (24 with coordinates, 10 in the pvt sample, 4 regions") {
		t.Fatalf("import: exit %d, %q", code, errs)
	}
	mustID(t, coord, nil, "station", "import", file) // a repeat is a new snapshot
	_, errs, _ = runVigil(t, coord, nil, "station", "import", file)
	if !strings.Contains(errs, "identical to the registry in force before") {
		t.Fatalf("a repeat does not say it is identical: %q", errs)
	}

	lines := strings.Split(strings.TrimSpace(mustRun(t, coord, nil, "station", "list", "--area", "ros tamin")), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[1], "PS-0007     Belmar Secondary School  (Calvera/Ros Tamin/Belmar)  636 voters  [pvt stratum=rural]") {
		t.Fatalf("station list --area: %q", lines)
	}
	type row struct {
		Code  string   `json:"code"`
		Admin []string `json:"admin"`
		Lat   *float64 `json:"lat"`
		Tags  []string `json:"tags"`
	}
	pvt := decodeLines[row](t, mustRun(t, coord, nil, "--json", "station", "list", "--tag", "pvt"))
	if len(pvt) != 10 || pvt[0].Code != "PS-0001" || len(pvt[0].Admin) != 3 || pvt[0].Lat == nil || *pvt[0].Lat != 12.244325 {
		t.Fatalf("station list --tag pvt --json: %+v", pvt)
	}
	_, errs, _ = runVigil(t, coord, nil, "station", "list", "--search", "nowhere")
	if !strings.Contains(errs, "No stations match (the registry holds 30)") {
		t.Fatalf("no match: %q", errs)
	}

	obs, _, _ := member(t, "stations-obs", invite(t, coord, "--role", "observer"))
	out, errs, code = runVigil(t, obs, nil, "station", "import", file)
	wantFailure(t, "an observer's import", out, errs, code, exitError, "an observer may not sign station records")
	mustRun(t, obs, nil, "bundle", "import", exportBundle(t, coord))
	if out := mustRun(t, obs, nil, "station", "list", "--search", "ps 0007"); !strings.HasPrefix(out, "PS-0007 ") {
		t.Fatalf("the observer's registry: %q", out)
	}
	mustID(t, obs, nil, "checkin", "--status", "arrived", "--station", "ps 0007")
	// A report's code as typed is signed, and found, in its normal form.
	rep := mustID(t, obs, nil, "report", "add", "--category", "polling.late_opening", "--severity", "2",
		"--title", "Doors shut at 07:10", "--station", "ps_0007")
	if out := mustRun(t, obs, nil, "report", "list", "--station", "Ps 0007"); !strings.Contains(out, rep[:12]) {
		t.Fatalf("report list --station as typed: %q, want %s", out, rep)
	}

	out, _, code = runVigil(t, coord, nil, "station", "--help")
	if code != 0 || !strings.Contains(out, "vigil station import") || !strings.Contains(out, "--area") {
		t.Fatalf("station --help: %q", out)
	}
}
