package export

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-text/typesetting/font"
	"golang.org/x/image/font/gofont/goregular"
)

// TestVisualOrder lays out lines mixing directions and checks the words
// come left to right as a reader of each script expects (the bidi
// algorithm's rules L1 and L2): a right-to-left stretch reversed, a
// number inside it kept in its place and read left to right.
func TestVisualOrder(t *testing.T) {
	lib, err := fonts()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text string
		want []string // the words, left to right on the page
		rtl  bool
	}{
		{"Station closed", []string{"Station", "closed"}, false},
		{"Station مركز مغلق today", []string{"Station", "مغلق", "مركز", "today"}, false},
		{"مركز مغلق", []string{"مغلق", "مركز"}, true},
		{"مركز 12 مغلق", []string{"مغلق", "12", "مركز"}, true},
		{"مركز PS-12 مغلق", []string{"مغلق", "PS-12", "مركز"}, true},
		{"Box 7 مركز 12 مغلق", []string{"Box", "7", "مغلق", "12", "مركز"}, false},
		{"ကော်မတီ မဲရုံ", []string{"ကော်မတီ", "မဲရုံ"}, false},
	} {
		sh := newTextShaper(lib)
		line := sh.line(styleRegular, c.text)
		var got []string // a right-to-left run's words reversed: as on the page
		for _, run := range line.runs {
			words := strings.Fields(run.text)
			if run.rtl {
				for i, j := 0, len(words)-1; i < j; i, j = i+1, j-1 {
					words[i], words[j] = words[j], words[i]
				}
			}
			got = append(got, words...)
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q: left to right %q, want %q", c.text, got, c.want)
		}
		if line.rtl != c.rtl {
			t.Errorf("%q: right to left %v, want %v", c.text, line.rtl, c.rtl)
		}
		if line.width <= 0 {
			t.Errorf("%q: width %v", c.text, line.width)
		}
	}
}

// TestBreakable keeps Burmese syllables whole when a long word is cut.
func TestBreakable(t *testing.T) {
	for _, c := range []struct {
		text string
		at   int
		want bool
	}{
		{"ab", 1, true},
		{"ကျွန်", 1, false}, // before a medial sign
		{"က္က", 2, false},   // after the stacking sign U+1039
		{"ကက", 1, true},
		{"e\u0301", 1, false}, // before a combining acute
	} {
		if got := breakable([]rune(c.text), c.at); got != c.want {
			t.Errorf("breakable(%q, %d) = %v, want %v", c.text, c.at, got, c.want)
		}
	}
}

// TestSfntSubsetKeepsGlyphs subsets the Go font and checks the kept
// glyphs survive with their IDs and the rest are emptied.
func TestSfntSubsetKeepsGlyphs(t *testing.T) {
	src, err := parseFontSource("GoRegular", goregular.TTF, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := src.face.NominalGlyph('A')
	sub, err := sfntSubset(src, map[font.GID]bool{a: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(sub) >= len(goregular.TTF)/2 {
		t.Errorf("subset of one glyph is %d bytes of %d", len(sub), len(goregular.TTF))
	}
	tables, err := sfntTables(sub, 0)
	if err != nil {
		t.Fatalf("the subset does not parse: %v", err)
	}
	loca := tables["loca"] // long offsets
	size := func(g font.GID) uint32 {
		return binary.BigEndian.Uint32(loca[4*int(g)+4:]) - binary.BigEndian.Uint32(loca[4*int(g):])
	}
	b, _ := src.face.NominalGlyph('B')
	if size(a) == 0 || size(b) != 0 || size(0) == 0 {
		t.Errorf("glyph sizes: A %d, B %d, .notdef %d; want A and .notdef kept, B emptied", size(a), size(b), size(0))
	}
}

// FuzzSfntSubset feeds font files to the parser and subsetter, which read
// whatever font the machine offers as its CJK font: errors, no panics.
func FuzzSfntSubset(f *testing.F) {
	f.Add(goregular.TTF[:4096])
	f.Add(notoMyanmar[:2048])
	f.Add([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := parseFontSource("", data, 0)
		if err != nil {
			return
		}
		_, _ = sfntSubset(src, map[font.GID]bool{0: true, 1: true, 3: true})
	})
}

// TestJoinersKeepSpaces checks that joiners and direction marks (the
// right-to-left mark wrap puts before a Latin word that starts a line of
// an Arabic paragraph, Persian's non-joiner) give no glyph their text: the
// shaper draws them with the font's space glyph, which would then extract
// as a mark instead of a space.
func TestJoinersKeepSpaces(t *testing.T) {
	lib, err := fonts()
	if err != nil {
		t.Fatal(err)
	}
	d := newPDFDocWith(lib)
	d.newPage()
	d.text(0, 0, 500, "\u200fPS-0043", alignLeft) // the mark before any space
	d.text(0, 20, 500, "PS-0043 منذ الظهر", alignLeft)
	d.text(0, 40, 500, "می\u200cخواهم بروم", alignLeft)
	for _, pf := range d.f.fonts {
		for g, text := range pf.text {
			if strings.ContainsAny(text, "\u200c\u200f") {
				t.Errorf("%s: glyph %d stands for %q", pf.src.name, g, text)
			}
		}
	}
}

// TestWrapKeepsDirection wraps a right-to-left paragraph whose second
// line starts with a Latin word: that line stays right to left.
func TestWrapKeepsDirection(t *testing.T) {
	lib, err := fonts()
	if err != nil {
		t.Fatal(err)
	}
	d := newPDFDocWith(lib)
	lines := d.wrap("مركز الاقتراع مغلق PS-0043 منذ الظهر", d.width("مركز الاقتراع مغلق"))
	if len(lines) < 2 {
		t.Fatalf("lines %q: want the paragraph wrapped", lines)
	}
	for _, l := range lines {
		if !d.sh.line(d.style, l).rtl {
			t.Errorf("line %q of a right-to-left paragraph is laid out left to right", l)
		}
	}
}

// TestTryCJKFonts refuses candidates that are missing, not fonts, or have
// no CJK characters, and says why.
func TestTryCJKFonts(t *testing.T) {
	dir := t.TempDir()
	latin, junk := filepath.Join(dir, "go.ttf"), filepath.Join(dir, "junk.ttf")
	if err := os.WriteFile(latin, goregular.TTF, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(junk, []byte("not a font"), 0o644); err != nil {
		t.Fatal(err)
	}
	var tried []string
	src, path := tryCJKFonts([]string{filepath.Join(dir, "none.ttf"), junk, latin + "#0", latin + "#3"}, &tried)
	if src != nil || path != "" {
		t.Fatalf("found %s", path)
	}
	why := strings.Join(tried, "\n")
	for _, want := range []string{"junk.ttf: ", "go.ttf: no CJK characters", "go.ttf: not a font collection"} {
		if !strings.Contains(why, want) {
			t.Errorf("tried %q: want %q", tried, want)
		}
	}
}
