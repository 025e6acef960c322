package main

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The observation tables through the command line: a registry, two
// observers' tallies carried to the coordinator, then `export --records`
// in CSV with HXL, JSONL that `verify` checks, a public export that names
// no observer, the formats a table does not take refused (exit 2), and an
// evidence package whose tables verify until a byte changes.
func TestExportTables(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "coordinator")
	dir := t.TempDir()
	registry := filepath.Join(dir, "stations.csv")
	if err := os.WriteFile(registry, []byte("code,name,admin,registered,lat,lon,tags\n"+
		"PS-1,North School,North/Town,900,-1.3,36.8,pvt stratum=north\n"+
		"PS-2,\"North Hall, annex\",North/Town,800,,,stratum=north\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustID(t, coord, nil, "station", "import", registry)
	heron, heronKey, _ := member(t, "heron", invite(t, coord, "--role", "observer", "--label", "Heron"))
	kite, kiteKey, _ := member(t, "kite", invite(t, coord, "--role", "observer", "--label", "Kite"))
	carry(t, coord, heron)
	carry(t, coord, kite)
	tally := func(home, station, amara string) string {
		return mustID(t, home, nil, "tally", "submit", "--station", station, "--contest", "presidential", "--registered", "900",
			"--issued", "700", "--cast", "610", "--invalid", "10", "--votes", "Amara="+amara, "--votes", "Bello=200")
	}
	first := tally(heron, "PS-1", "390")
	tally(heron, "PS-1", "400") // a correction: supersedes the first
	tally(kite, "PS-1", "400")
	tally(kite, "PS-2", "400")
	carry(t, heron, coord)
	carry(t, kite, coord)

	path := func(name string) string { return filepath.Join(dir, name) }
	mustRun(t, coord, nil, "export", "--records", "tallies", "--format", "csv", "--hxl", "--out", path("tallies.csv"))
	rows := readCSV(t, path("tallies.csv"))
	if len(rows) != 6 || rows[1][0] != "#meta+id" {
		t.Fatalf("tallies.csv: %d rows, HXL row %v", len(rows), rows[1])
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, r := range rows[2:] {
		switch {
		case r[col["id"]] == first && r[col["superseded"]] != "true":
			t.Errorf("the corrected tally is not marked superseded: %v", r)
		case r[col["station"]] == "PS-1" && r[col["station_status"]] != "consolidated":
			t.Errorf("PS-1: %v", r)
		case r[col["admin2"]] != "Town" || r[col["votes:Bello"]] != "200":
			t.Errorf("row %v", r)
		}
	}

	// JSONL: verify checks every line against its record.
	for _, table := range []string{"tallies", "stations", "checklists"} {
		out := path(table + ".jsonl")
		mustRun(t, coord, nil, "export", "--records", table, "--format", "jsonl", "--out", out)
		mustRun(t, coord, nil, "verify", out)
	}
	_, stderr, _ := runVigil(t, coord, nil, "export", "--records", "stations", "--format", "xlsx", "--out", path("stations.xlsx"))
	if !strings.Contains(stderr, "Wrote 2 stations") {
		t.Errorf("stations workbook: %q", stderr)
	}

	// Public: one row per station, no observer.
	mustRun(t, coord, nil, "export", "--records", "tallies", "--public", "--format", "csv", "--out", path("public.csv"))
	pub, _ := os.ReadFile(path("public.csv"))
	for _, secret := range []string{heronKey, kiteKey, "Heron", "Kite", first} {
		if bytes.Contains(pub, []byte(secret)) {
			t.Errorf("the public tallies hold %q:\n%s", secret, pub)
		}
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--records", "tallies", "--format", "geojson"}, "not available for --records tallies"},
		{[]string{"--records", "stations", "--format", "pdf"}, "not available for --records stations"},
		{[]string{"--records", "tallies", "--format", "evidence"}, "leave out --records"},
		{[]string{"--records", "tallies", "--format", "csv", "--category", "polling"}, "category"},
		{[]string{"--records", "ballots", "--format", "csv"}, "--records"},
	} {
		stdout, stderr, code := runVigil(t, coord, nil, append([]string{"export", "--out", path("x")}, bad.args...)...)
		wantFailure(t, strings.Join(bad.args, " "), stdout, stderr, code, exitUsage, bad.want)
	}

	// The evidence package holds the tables; a changed byte fails, named.
	mustRun(t, coord, nil, "export", "--format", "evidence", "--out", path("case.zip"))
	mustRun(t, coord, nil, "verify", path("case.zip"))
	pkg, _ := os.ReadFile(path("case.zip"))
	tampered := rewriteEntry(t, pkg, "tables/tallies.csv", func(b []byte) []byte { return bytes.Replace(b, []byte("610"), []byte("611"), 1) })
	os.WriteFile(path("tampered.zip"), tampered, 0o600)
	stdout, stderr, code := runVigil(t, coord, nil, "verify", path("tampered.zip"))
	if code != exitError || !strings.Contains(stderr, "1 of") || !strings.Contains(stdout, "tables/tallies.csv BAD") {
		t.Fatalf("verify of a changed tallies.csv: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// rewriteEntry returns the ZIP archive pkg with entry name changed by
// edit, the others as they were.
func rewriteEntry(t *testing.T, pkg []byte, name string, edit func([]byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	found := false
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == name {
			b, found = edit(b), true
		}
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		w.Write(b)
	}
	zw.Close()
	if !found {
		t.Fatalf("no %s in the package", name)
	}
	return buf.Bytes()
}
