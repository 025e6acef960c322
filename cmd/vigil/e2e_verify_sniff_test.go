package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyNamesTheFileType: verify FILE says in one line what it got
// when the file is not a bundle, JSONL export or evidence package (a PDF
// points to --qr), exits 1 and prints nothing on stdout; the three it
// reads still verify.
func TestVerifyNamesTheFileType(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "sniff")
	mustID(t, coord, nil, "report", "add", "--category", "other", "--severity", "2", "--title", "Ballot box moved")
	dir := t.TempDir()
	file := func(name string) string { return filepath.Join(dir, name) }
	for _, f := range []string{"pdf", "xlsx", "geojson", "csv", "jsonl", "evidence"} {
		mustRun(t, coord, nil, "export", "--format", f, "--out", file("x."+f))
	}
	st := decodeJSON[struct {
		Recipient string `json:"recipient"`
	}](t, mustRun(t, coord, nil, "status", "--json"))
	mustRun(t, coord, nil, "bundle", "export", "--out", file("enc.vgb"), "--to", st.Recipient)
	var pngBuf bytes.Buffer
	png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 4, 4)))
	os.WriteFile(file("code.png"), pngBuf.Bytes(), 0o600)
	os.WriteFile(file("random.bin"), []byte("\x00\x01\x02\x03\xfe\xff binary junk \x00"), 0o600)
	os.WriteFile(file("notes.txt"), []byte("polling station 12 opened late\nmore text\n"), 0o600)
	os.WriteFile(file("pretty.json"), []byte("{\n  \"a\": 1\n}\n"), 0o600)

	for _, tc := range []struct {
		file  string
		names []string
	}{
		{"x.pdf", []string{"is a PDF", "vigil verify --qr IMAGE"}},
		{"x.xlsx", []string{"XLSX", "bundle", "JSONL", "evidence package"}},
		{"x.geojson", []string{"GeoJSON", "JSONL"}},
		{"x.csv", []string{"not a JSONL export", "CSV"}},
		{"enc.vgb", []string{"encrypted bundle", "bundle import"}},
		{"code.png", []string{"PNG image", "--qr " + file("code.png")}},
		{"random.bin", []string{"binary", "bundle", "JSONL", "evidence package", "--qr"}},
		{"notes.txt", []string{"not a JSONL export"}},
		{"pretty.json", []string{"JSON document", "JSON Lines"}},
	} {
		out, errs, code := runVigil(t, t.TempDir(), nil, "verify", file(tc.file))
		wantFailure(t, "verify "+tc.file, out, errs, code, exitError, append(tc.names, file(tc.file))...)
		if strings.Contains(errs, "not valid JSON") {
			t.Errorf("verify %s parsed the file: %s", tc.file, errs)
		}
	}

	// --qr on the PDF itself says to give an image of the code.
	out, errs, code := runVigil(t, t.TempDir(), nil, "verify", "--qr", file("x.pdf"))
	wantFailure(t, "verify --qr on a PDF", out, errs, code, exitError, "is a PDF", "PNG or JPEG image")

	// What verify reads still verifies.
	for _, f := range []string{"x.jsonl", "x.evidence"} {
		if out, errs, code := runVigil(t, t.TempDir(), nil, "verify", file(f)); code != 0 || !strings.Contains(out, " OK") {
			t.Errorf("verify %s: exit %d\nstdout: %s\nstderr: %s", f, code, out, errs)
		}
	}
	if out, errs, code := runVigil(t, t.TempDir(), nil, "verify", exportBundle(t, coord)); code != 0 || !strings.Contains(out, " OK") {
		t.Errorf("verify bundle: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
}
