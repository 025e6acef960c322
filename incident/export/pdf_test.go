package export

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// writePDF exports items as a PDF file in a temporary folder and returns
// its path. With VIGIL_EXPORT_SAMPLES set to a folder, a copy is kept there.
func writePDF(t *testing.T, name string, m *paperMission, items []Item) string {
	t.Helper()
	w := NewPDF(m.name)
	w.MissionID = m.ms.ID
	w.Exported = paperT0.Add(36 * time.Hour)
	for i := range items {
		if err := w.Write(&items[i]); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := w.Close(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) || !bytes.Contains(buf.Bytes()[buf.Len()-32:], []byte("%%EOF")) {
		t.Fatalf("not a PDF file: %q…", buf.Bytes()[:min(16, buf.Len())])
	}
	if err := w.Write(&Item{}); err == nil {
		t.Fatal("Write after Close: want an error")
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("VIGIL_EXPORT_SAMPLES"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644)
	}
	return path
}

func needPoppler(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s is not installed (Debian: apt-get install poppler-utils); the PDF is not rendered", tool)
	}
	return p
}

// TestPDFPaperTrail closes the loop a mission relies on: export a log,
// render it as a printer would, read the QR code off the rendered report
// page and check that it is the exported record, signature and all.
func TestPDFPaperTrail(t *testing.T) {
	m := newPaperMission(t, "Kenya general election 2026").standard()
	path := writePDF(t, "log.pdf", m, m.items)
	pdftoppm := needPoppler(t, "pdftoppm")

	dir := t.TempDir()
	out, err := exec.Command(pdftoppm, "-r", "150", "-f", "1", "-l", "2", "-png", path, filepath.Join(dir, "page")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if len(pages) != 2 {
		t.Fatalf("rendered %v, want pages 1 and 2", pages)
	}
	f, err := os.Open(pages[1])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	texts, err := ScanQR(img)
	if err != nil {
		t.Fatalf("no QR code read from the rendered report page: %v", err)
	}
	records := map[string][]byte{}
	for _, it := range m.items {
		records[it.View.ID.String()] = it.Record
	}
	first := m.items[0].View.ID.String()
	found := false
	for _, text := range texts {
		v, rec, err := VerifyQRText(text)
		if err != nil {
			t.Fatalf("code %q…: %v", clip(text, 20), err)
		}
		if !v.OK {
			t.Fatalf("code on the page: %s", v)
		}
		if want, ok := records[v.ID]; !ok || !bytes.Equal(rec.Raw, want) {
			t.Fatalf("code on the page holds %s, which is not an exported record", v.ID)
		}
		found = found || v.ID == first
	}
	if !found {
		t.Fatalf("page 2 codes %d, none is the first report %s", len(texts), first)
	}
	t.Logf("read %d QR codes from page 2", len(texts))

	// The text layer is searchable: IDs, names and page numbers.
	if pdftotext, err := exec.LookPath("pdftotext"); err == nil {
		out, err := exec.Command(pdftotext, "-layout", path, "-").CombinedOutput()
		if err != nil {
			t.Fatalf("pdftotext: %v\n%s", err, out)
		}
		text := string(out)
		for _, want := range []string{m.name, m.ms.ID.String(), first, titleLate, "Page 1 of", "polling", "Имя избирателя", "Confirmed by phone"} {
			if !strings.Contains(text, want) {
				t.Errorf("PDF text lacks %q", want)
			}
		}
		// The description's Chinese prints when the machine has a CJK
		// font; otherwise the cover says why it is boxes.
		lib, err := fonts()
		if err != nil {
			t.Fatal(err)
		}
		if lib.cjk != "" && (strings.Contains(text, "outside the fonts") || !strings.Contains(text, "五名选民未在名单上找到自己")) {
			t.Errorf("with the CJK font %s, the Chinese text should print and the cover should not warn", lib.cjk)
		}
		if lib.cjk == "" && !strings.Contains(text, "outside the fonts") {
			t.Error("the cover does not say that some characters could not be drawn")
		}
		cover, err := exec.Command(pdftotext, "-f", "1", "-l", "1", path, "-").CombinedOutput()
		if err != nil {
			t.Fatalf("pdftotext: %v\n%s", err, cover)
		}
		if strings.Contains(string(cover), first) || !strings.Contains(string(cover), "Reports by category family") {
			t.Error("page 1 should be the cover alone, with the reports from page 2")
		}
	}
}

func TestPDFWithoutQR(t *testing.T) {
	m := newPaperMission(t, "Edge cases").standard()
	noRecord := m.items[0]
	noRecord.Record = nil
	tooLarge := m.items[1]
	tooLarge.Record = bytes.Repeat([]byte{1}, 5000)
	path := writePDF(t, "noqr.pdf", m, []Item{noRecord, tooLarge})
	if pdftotext, err := exec.LookPath("pdftotext"); err == nil {
		out, err := exec.Command(pdftotext, path, "-").CombinedOutput()
		if err != nil {
			t.Fatalf("pdftotext: %v\n%s", err, out)
		}
		text := strings.Join(strings.Fields(string(out)), " ")
		for _, want := range []string{"no QR code", "too large for one QR code"} {
			if !strings.Contains(text, want) {
				t.Errorf("PDF text lacks %q", want)
			}
		}
	}
}

func TestPDFEmpty(t *testing.T) {
	m := newPaperMission(t, "Empty")
	path := writePDF(t, "empty.pdf", m, nil)
	if pdfinfo, err := exec.LookPath("pdfinfo"); err == nil {
		out, err := exec.Command(pdfinfo, path).CombinedOutput()
		if err != nil || !regexp.MustCompile(`(?m)^Pages:\s+1$`).Match(out) {
			t.Fatalf("pdfinfo: %v\n%s", err, out)
		}
	}
}

// paperMany returns n reports like the standard ones, for benchmarks.
func paperMany(b *testing.B, n int) (*paperMission, []Item) {
	m := newPaperMission(b, "Benchmark mission").standard()
	items := make([]Item, 0, n)
	for len(items) < n {
		items = append(items, m.items[len(items)%len(m.items)])
	}
	return m, items
}

func BenchmarkPDF1000(b *testing.B) {
	m, items := paperMany(b, 1000)
	b.ResetTimer()
	for b.Loop() {
		w := NewPDF(m.name)
		for i := range items {
			if err := w.Write(&items[i]); err != nil {
				b.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := w.Close(&buf); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(buf.Len())/1e6, "MB/file")
	}
}
