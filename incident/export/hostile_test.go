package export_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/internal/testrec"
)

func allocated(f func()) (total uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A bundle of a million one-byte frames (4.8 MiB) is one BAD verdict
// naming its first frame, too short to hold a record; verifying it costs
// the file and a buffer, not an entry per frame (it cost 690 MiB).
func TestVerifyMillionTinyFrames(t *testing.T) {
	data := testrec.Frames(incident.ID{}, 1_000_000, 1)
	var rep *export.Report
	var err error
	total := allocated(func() { rep, err = export.VerifyAt(bytes.NewReader(data), int64(len(data)), nil) })
	if err != nil || len(rep.Verdicts) != 1 || rep.Verdicts[0].OK || !strings.Contains(rep.Verdicts[0].Reason, "frame 0: 1 bytes, too short to hold a record") {
		t.Fatalf("%v: %+v", err, rep)
	}
	t.Logf("%.1f MiB of tiny frames: %s; allocated %d KiB", float64(len(data))/(1<<20), rep.Verdicts[0], total>>10)
	if total > 16<<20 {
		t.Errorf("allocated %d MiB", total>>20)
	}
	total = allocated(func() { rep, err = export.Verify(bytes.NewReader(data), nil) })
	t.Logf("the same through Verify (which reads the file into memory): allocated %d MiB", total>>20)
	if err != nil || len(rep.Verdicts) != 1 {
		t.Fatalf("%v: %d verdicts", err, len(rep.Verdicts))
	}
}

// Frames long enough to be records but holding none cost a verdict each
// up to export.MaxUndecodable, then one verdict that stops the file.
func TestVerifyGarbageFrames(t *testing.T) {
	const n = 50_000
	data := testrec.Frames(incident.ID{}, n, bundle.MinRecordBytes)
	var rep *export.Report
	var err error
	total := allocated(func() { rep, err = export.VerifyAt(bytes.NewReader(data), int64(len(data)), nil) })
	if err != nil || len(rep.Verdicts) != export.MaxUndecodable+1 || rep.Bad() != len(rep.Verdicts) {
		t.Fatalf("%v: %d verdicts, %d bad", err, len(rep.Verdicts), rep.Bad())
	}
	last := rep.Verdicts[len(rep.Verdicts)-1]
	if last.ID != "bundle" || !strings.Contains(last.Reason, "hold no readable record") {
		t.Fatalf("last verdict %s", last)
	}
	t.Logf("%d garbage frames (%.1f MiB): %d verdicts, the last %s; allocated %d KiB", n, float64(len(data))/(1<<20), len(rep.Verdicts), last, total>>10)
}

// unpack writes a package's entries under dir, as a person unzipping it.
func unpack(t *testing.T, pkg []byte, dir string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		rc, _ := f.Open()
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// A clean package unpacked and zipped again by Info-ZIP's `zip -r` (folder
// entries, deflate) and by Python's zipfile still verifies; Python writing
// one name twice makes a package that does not.
func TestEvidenceRezippedByTools(t *testing.T) {
	w := newEvWorld(t)
	dir := t.TempDir()
	unpack(t, w.pkg, dir)
	t.Run("zip -r", func(t *testing.T) {
		if _, err := exec.LookPath("zip"); err != nil {
			t.Skip("no zip tool (apt-get install zip):", err)
		}
		out := filepath.Join(t.TempDir(), "rezipped.zip")
		cmd := exec.Command("zip", "-r", "-q", out, ".")
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("zip: %v: %s", err, b)
		}
		pkg, _ := os.ReadFile(out)
		if rep := verify(t, pkg); rep.Bad() != 0 || rep.Format != "evidence" {
			t.Fatalf("re-zipped by zip -r: %+v", rep.Verdicts)
		}
	})
	python := func(t *testing.T, script string, args ...string) []byte {
		t.Helper()
		if _, err := exec.LookPath("python3"); err != nil {
			t.Skip("no python3:", err)
		}
		out := filepath.Join(t.TempDir(), "rezipped.zip")
		cmd := exec.Command("python3", append([]string{"-c", script, dir, out}, args...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("python3: %v: %s", err, b)
		}
		pkg, _ := os.ReadFile(out)
		return pkg
	}
	// Folders first, as zipfile users write them, then every file.
	const rezip = `import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for root, dirs, files in os.walk(src):
        for d in sorted(dirs):
            z.write(os.path.join(root, d), os.path.relpath(os.path.join(root, d), src))
        for f in sorted(files):
            z.write(os.path.join(root, f), os.path.relpath(os.path.join(root, f), src))
    if len(sys.argv) > 3:
        z.writestr(sys.argv[3], b"a second copy")
`
	t.Run("python zipfile", func(t *testing.T) {
		if rep := verify(t, python(t, rezip)); rep.Bad() != 0 || rep.Format != "evidence" {
			t.Fatalf("re-zipped by Python's zipfile: %+v", rep.Verdicts)
		}
	})
	t.Run("python zipfile, a name twice", func(t *testing.T) {
		pkg := python(t, rezip, "records/"+w.before.String()+".cbor")
		if _, err := export.Verify(bytes.NewReader(pkg), nil); err == nil || !strings.Contains(err.Error(), "appears twice") {
			t.Fatalf("a duplicated entry: %v", err)
		}
	})
}

// An entry that declares its true size and CRC but whose deflate stream
// goes on inflating (256 MiB of zeros after the content) is cut off at the
// declared size: its verdict is BAD, and verifying costs a few MiB.
func TestEvidenceEntryLiesAboutSize(t *testing.T) {
	w := newEvWorld(t)
	zr, err := zip.NewReader(bytes.NewReader(w.pkg), int64(len(w.pkg)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	liar := ""
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if !strings.HasPrefix(f.Name, "attachments/") {
			fw, _ := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate})
			fw.Write(b)
			continue
		}
		liar = f.Name
		var z bytes.Buffer
		fl, _ := flate.NewWriter(&z, flate.BestCompression)
		fl.Write(b)
		zeros := make([]byte, 1<<20)
		for range 256 {
			fl.Write(zeros)
		}
		fl.Close()
		fw, err := zw.CreateRaw(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(b),
			CompressedSize64: uint64(z.Len()), UncompressedSize64: uint64(len(b))})
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(z.Bytes())
	}
	zw.Close()
	var rep *export.Report
	total := allocated(func() { rep = verify(t, buf.Bytes()) })
	v := verdictOf(rep, liar)
	if v == nil || v.OK || !strings.Contains(v.Reason, "inflates past its declared size") {
		t.Fatalf("the entry that inflates past its size: %+v", rep.Verdicts)
	}
	t.Logf("%d-byte package whose %s inflates 256 MiB past its declared size: %s; allocated %d KiB", buf.Len(), liar, v, total>>10)
	if total > 32<<20 {
		t.Errorf("allocated %d MiB", total>>20)
	}
}
