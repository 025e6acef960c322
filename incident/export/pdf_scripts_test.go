package export

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

// scriptReports are reports titled in the scripts the log must shape:
// joined right-to-left Arabic and Persian, Ethiopic syllables, Burmese with
// its vowel drawn before the consonant it follows, and Chinese.
var scriptReports = []struct{ script, title, desc string }{
	{"Arabic", "مركز الاقتراع مغلق", "أغلق المركز قبل الموعد وبقي الناخبون في الطابور."},
	{"Amharic", "የምርጫ ጣቢያው ተዘግቷል", "ጣቢያው ቀድሞ ተዘግቷል።"},
	{"Burmese", "မဲရုံ ပိတ်ထားသည်", "မဲဆန္ဒရှင်များ တန်းစီနေဆဲ ဖြစ်သည်။"},
	{"Chinese", "投票站提前关闭", "选民仍在排队。"},
	{"Persian", "مرکز رأی‌گیری بسته شد", "رأی‌دهندگان هنوز در صف بودند."},
}

func scriptsMission(t *testing.T) *paperMission {
	m := newPaperMission(t, "Election day 2026")
	for _, s := range scriptReports {
		m.add(m.report(incident.ReportPayload{Category: "polling.late_opening", Severity: 2, Station: "KE-047-112",
			Title: s.title, Description: s.desc}))
	}
	return m
}

// extracted is text as pdftotext gives it, compared by words: without the
// direction marks it adds around right-to-left lines, and without the
// zero-width non-joiner, which Persian uses inside words and the shaper
// draws as an invisible glyph that extractors read as nothing.
func extracted(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 0x202a && r <= 0x202e || r == 0x200c {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// TestPDFScriptsText exports reports titled in five scripts and reads
// the text back: each title and description comes out as typed, in
// logical order, right to left scripts included.
func TestPDFScriptsText(t *testing.T) {
	m := scriptsMission(t)
	path := writePDF(t, "scripts.pdf", m, m.items)
	pdftotext := needPoppler(t, "pdftotext")
	out, err := exec.Command(pdftotext, path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := extracted(string(out))
	lib, err := fonts()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scriptReports {
		if s.script == "Chinese" && lib.cjk == "" {
			// Without a CJK font the log prints boxes and says why.
			if !strings.Contains(text, "No Chinese, Japanese and Korean font was found") {
				t.Errorf("no CJK font (%s), and the cover does not say so", lib.cjkWhy)
			}
			continue
		}
		// pdftotext reads each line in the page's main direction (left to
		// right here), so the full stop that ends a right-to-left sentence,
		// shown at the line's left end, comes out first: compared without.
		for _, want := range []string{s.title, strings.TrimRight(s.desc, ".")} {
			if !strings.Contains(text, extracted(want)) {
				t.Errorf("%s: the PDF text lacks %q", s.script, want)
			}
		}
	}
	if t.Failed() {
		t.Logf("pdftotext:\n%s", out)
	}
}

// TestPDFScriptsDrawn renders each title as the log draws it and as it
// would print with no font for its script (the Go font's missing-glyph
// box): the two must differ, so the title is drawn in glyphs, not boxes.
// And no glyph of a title is a font's missing glyph (ID 0).
func TestPDFScriptsDrawn(t *testing.T) {
	pdftoppm := needPoppler(t, "pdftoppm")
	lib, err := fonts()
	if err != nil {
		t.Fatal(err)
	}
	noFallback := &fontLibrary{styles: lib.styles, chain: lib.chain[:1]}
	for _, s := range scriptReports {
		if s.script == "Chinese" && lib.cjk == "" {
			t.Logf("Chinese: no CJK font here (%s)", lib.cjkWhy)
			continue
		}
		d := newPDFDocWith(lib)
		for _, run := range d.sh.line(styleBold, s.title).runs {
			for _, g := range run.glyphs {
				if g.gid == 0 {
					t.Errorf("%s: a glyph of %q is missing from %s", s.script, s.title, run.src.name)
				}
			}
		}
		drawn := renderLine(t, pdftoppm, lib, s.title)
		tofu := renderLine(t, pdftoppm, noFallback, s.title)
		ink, diff := compareInk(drawn, tofu)
		if ink < 200 {
			t.Errorf("%s: the title draws %d dark pixels; want the glyphs", s.script, ink)
		}
		if diff < ink/3 {
			t.Errorf("%s: the title differs from its missing-glyph rendering in %d of %d dark pixels; it looks like boxes", s.script, diff, ink)
		}
	}
}

// renderLine draws text in bold at 20 points in a PDF of its own and
// renders the strip it sits in.
func renderLine(t *testing.T, pdftoppm string, lib *fontLibrary, text string) image.Image {
	t.Helper()
	d := newPDFDocWith(lib)
	d.f.info.Created = paperT0
	d.newPage()
	d.setFont(fontSans, "B", 20)
	d.textColour(colBlack)
	d.text(20, 20, 555, text, alignLeft)
	var buf bytes.Buffer
	if err := d.f.write(&buf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "line.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pdftoppm, "-r", "72", "-png", "-singlefile", "-x", "0", "-y", "10", "-W", "595", "-H", "40",
		path, filepath.Join(dir, "line")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "line.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// compareInk counts a's dark pixels, and the pixels dark in only one of a
// and b.
func compareInk(a, b image.Image) (ink, diff int) {
	dark := func(img image.Image, x, y int) bool {
		r, g, bl, _ := img.At(x, y).RGBA()
		return r+g+bl < 3*0x8000
	}
	bounds := a.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			da, db := dark(a, x, y), dark(b, x, y)
			if da {
				ink++
			}
			if da != db {
				diff++
			}
		}
	}
	return ink, diff
}

// TestPDFConcurrent writes two logs at once: the fonts and their caches
// are shared (run with -race).
func TestPDFConcurrent(t *testing.T) {
	m := scriptsMission(t)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			w := NewPDF(m.name)
			for i := range m.items {
				if err := w.Write(&m.items[i]); err != nil {
					errs <- err
					return
				}
			}
			var buf bytes.Buffer
			errs <- w.Close(&buf)
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
