package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident/media"
	"github.com/vigil-mesh/vigil/incident/media/mediatest"
)

// A mission whose photos carry EXIF GPS and a device serial, on the
// command line: an observer attaches them to a sealed report and to one
// in the clear; the coordinator verifies both for publication. Every
// public export holds neither the position nor the serial (nor anything
// else of the EXIF), the copies `attachment save --public` writes carry
// none of it, and the evidence package keeps the originals byte for byte
// with their capture records, which `vigil verify` checks and prints.
func TestPhotoProvenance(t *testing.T) {
	t.Parallel()
	coord, _, mission := sealedMission(t, "Provenance")
	obs, _, _ := member(t, "heron", invite(t, coord, "--role", "observer"))
	p := mediatest.Default
	photo := mediatest.JPEG(t, p)
	p.PixelSeed = 9
	clearPhoto := mediatest.JPEG(t, p)
	dir := t.TempDir()
	sealedPath, clearPath := filepath.Join(dir, "box.jpg"), filepath.Join(dir, "queue.jpg")
	if err := os.WriteFile(sealedPath, photo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(clearPath, clearPhoto, 0o600); err != nil {
		t.Fatal(err)
	}
	sealedID := mustID(t, obs, nil, "report", "add", "--category", "polling.late_opening", "--severity", "2",
		"--title", "Box sealed with tape", "--lat", "-1.2921", "--lon", "36.8219", "--attach", sealedPath)
	clearID := mustID(t, obs, nil, "report", "add", "--category", "polling.late_opening", "--severity", "2",
		"--title", "Queue at the gate", "--lat", "-1.2921", "--lon", "36.8219", "--attach", clearPath, "--sealed=false")
	carry(t, obs, coord)
	for _, id := range []string{sealedID, clearID} {
		mustRun(t, coord, nil, "review", id, "--status", "verified", "--publish")
	}
	if shown := mustRun(t, coord, nil, "report", "show", sealedID); !strings.Contains(shown, "capture    taken 2026:12:06 07:41:09+03:00 at -1.3131, 36.7879 (1712 m); camera Tecno Spark 10") {
		t.Fatalf("report show does not print the photo's capture:\n%s", shown)
	}

	// Public exports: nothing of the EXIF, in any format.
	secrets := []string{p.Serial, "Tecno", "Spark 10", "2026:12:06", "1.3131", "36.7879", "1712", "Exif"}
	for _, format := range []string{"jsonl", "csv", "geojson"} {
		out := filepath.Join(dir, "public."+format)
		mustRun(t, coord, nil, "export", "--format", format, "--public", "--include-unverified", "--out", out)
		data := mustRead(t, out)
		if !bytes.Contains(data, []byte("late_opening")) {
			t.Fatalf("the public %s holds no report:\n%s", format, data)
		}
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("the public %s export holds %q", format, s)
			}
		}
	}

	// The copies to publish.
	pub := filepath.Join(dir, "publish")
	for _, id := range []string{sealedID, clearID} {
		path := mustRun(t, coord, nil, "attachment", "save", id, "--out", pub, "--public")
		data := mustRead(t, path)
		for _, s := range secrets[:len(secrets)-1] {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("the published copy %s holds %q", filepath.Base(path), s)
			}
		}
		// Its EXIF is the orientation alone, so that it shows upright.
		if m, err := media.ReadMeta(data); err != nil || m != (media.Meta{Orientation: p.Orientation}) {
			t.Errorf("the published copy's EXIF reads %+v, %v", m, err)
		}
	}

	// The evidence package: the originals, their capture records,
	// verified.
	ev := filepath.Join(dir, "evidence.zip")
	mustRun(t, coord, nil, "export", "--format", "evidence", "--disclose-keys", "--out", ev)
	entries := readZip(t, ev)
	for _, orig := range [][]byte{photo, clearPhoto} {
		sum := sha256.Sum256(orig)
		name := hex.EncodeToString(sum[:])
		if !bytes.Equal(entries["files/"+name+".jpg"], orig) && !bytes.Equal(entries["attachments/"+name], orig) {
			t.Fatalf("the evidence package does not keep the original %s…", name[:12])
		}
	}
	out, errOut, code := runVigil(t, t.TempDir(), nil, "verify", ev, "--mission", mission)
	if code != 0 || strings.Contains(out, "BAD") {
		t.Fatalf("verify: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := strings.Count(out, "capture of file"); n != 2 || !strings.Contains(out, "taken 2026:12:06 07:41:09+03:00 at -1.3131, 36.7879") {
		t.Fatalf("verify shows %d captures:\n%s", n, out)
	}
}
