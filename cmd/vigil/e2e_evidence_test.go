package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A sealed report with a photo goes from an observer to the coordinator
// by USB bundle. The coordinator's evidence package, by default, holds
// nothing of it a stranger reads; with --disclose-keys, a third party with
// no home verifies the report's content and the photo, and a photo
// changed in the package is caught.
func TestEvidenceDisclosedKeys(t *testing.T) {
	t.Parallel()
	coord, _, mission := sealedMission(t, "Evidence")
	obs, _, _ := member(t, "heron", invite(t, coord, "--role", "observer"))
	photo := append([]byte("\xff\xd8\xff\xe0JFIF "), bytes.Repeat([]byte("NEEDLE-PIXELS "), 400)...)
	photoPath := filepath.Join(t.TempDir(), "box.jpg")
	if err := os.WriteFile(photoPath, photo, 0o600); err != nil {
		t.Fatal(err)
	}
	const title = "Box sealed with tape NEEDLE-TITLE"
	id := mustID(t, obs, nil, "report", "add", "--category", "polling.late_opening", "--severity", "2",
		"--title", title, "--attach", photoPath)
	carry(t, obs, coord)
	if r := showReport(t, coord, id); !r.Sealed || str(r.Title) != title {
		t.Fatalf("the coordinator does not read the sealed report: %+v", r)
	}

	dir := t.TempDir()
	plain, open := filepath.Join(dir, "plain.zip"), filepath.Join(dir, "open.zip")
	_, errOut, code := runVigil(t, coord, nil, "export", "--format", "evidence", "--out", plain)
	if code != 0 || !strings.Contains(errOut, "without a key") {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	data := mustRead(t, plain)
	for _, needle := range []string{"NEEDLE", "box.jpg"} {
		if bytes.Contains(data, []byte(needle)) {
			t.Fatalf("a package without --disclose-keys holds %q in clear", needle)
		}
	}
	out, errOut, code := runVigil(t, t.TempDir(), nil, "verify", plain, "--mission", mission)
	if code != 0 || !strings.Contains(out, id+" OK (") || !strings.Contains(out, "content not checked") {
		t.Fatalf("verify without keys: exit %d\n%s\n%s", code, out, errOut)
	}

	_, errOut, code = runVigil(t, coord, nil, "export", "--format", "evidence", "--disclose-keys", "--out", open)
	if code != 0 || !strings.Contains(errOut, "whoever holds it can read them") {
		t.Fatalf("export --disclose-keys: exit %d\n%s", code, errOut)
	}
	sum := sha256.Sum256(photo)
	entry := "files/" + hex.EncodeToString(sum[:]) + ".jpg"
	entries := readZip(t, open)
	if !bytes.Equal(entries[entry], photo) {
		t.Fatalf("the package does not carry the opened photo at %s", entry)
	}
	out, errOut, code = runVigil(t, t.TempDir(), nil, "verify", open, "--mission", mission)
	if code != 0 || strings.Contains(out, "BAD") || !strings.Contains(out, id+" OK (") || !strings.Contains(out, "sealed content checked") ||
		!strings.Contains(errOut, "opened with the disclosed keys") {
		t.Fatalf("verify with keys: exit %d\n%s\n%s", code, out, errOut)
	}

	// The photo changed inside the package: BAD, exit 1.
	entries[entry] = append([]byte(nil), photo...)
	entries[entry][200] ^= 0x20
	tampered := filepath.Join(dir, "tampered.zip")
	writeZip(t, tampered, entries)
	out, errOut, code = runVigil(t, t.TempDir(), nil, "verify", tampered, "--mission", mission)
	if code != 1 || !strings.Contains(out, entry+" BAD") {
		t.Fatalf("verify of a changed photo: exit %d\n%s\n%s", code, out, errOut)
	}

	// --disclose-keys goes with evidence only.
	_, errOut, code = runVigil(t, coord, nil, "export", "--format", "csv", "--disclose-keys", "--out", filepath.Join(dir, "x.csv"))
	if code != 2 || !strings.Contains(errOut, "--disclose-keys goes with --format evidence") {
		t.Fatalf("--disclose-keys with csv: exit %d\n%s", code, errOut)
	}
}

func readZip(t *testing.T, path string) map[string][]byte {
	t.Helper()
	data := mustRead(t, path)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

// writeZip writes entries as a package would be (stored), CRCs right:
// only the manifest's hashes can tell what changed.
func writeZip(t *testing.T, path string, entries map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}
