package export

// The fonts of the PDF log. Latin, Greek and Cyrillic print in the Go
// fonts (golang.org/x/image, BSD licensed). Arabic and Persian, Amharic
// (Ethiopic) and Burmese (Myanmar) print in Noto Sans, bundled here from
// Debian's fonts-noto-core (SIL Open Font License, fonts/OFL.txt): about
// 780 KB for the three. Chinese, Japanese and Korean need a font of tens
// of thousands of glyphs (Noto Sans CJK is 16 MB and more), too large to
// bundle in a phone's binary, so the log uses one found on the machine
// (cjkFontPaths, then fontconfig) and says on its cover when there is none.

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"

	"github.com/go-text/typesetting/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
)

var (
	//go:embed fonts/NotoSansArabic-Regular.ttf
	notoArabic []byte
	//go:embed fonts/NotoSansEthiopic-Regular.ttf
	notoEthiopic []byte
	//go:embed fonts/NotoSansMyanmar-Regular.ttf
	notoMyanmar []byte
)

// cjkFontPaths are where Linux distributions and old Android versions keep
// CJK fonts with TrueType outlines, which the log can subset and embed
// (fonts with CFF outlines, such as Noto Sans CJK, would have to be
// embedded whole: 16 MB in every log). Debian: apt-get install
// fonts-droid-fallback (scripts/deps.sh tools).
var cjkFontPaths = []string{
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/google-droid-sans-fonts/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
	"/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
	"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
	"/system/fonts/DroidSansFallback.ttf",
}

// cjkProbe is a character every CJK font has (中).
const cjkProbe = '\u4e2d'

// fontSource is one parsed font file, shared by every log the process
// writes. Its face caches glyph data and is not safe for concurrent use:
// shaping holds shapeMu.
type fontSource struct {
	name   string // PostScript name, for /BaseFont
	data   []byte // the whole file (a TrueType collection for some CJK fonts)
	offset int    // of this face's table directory in data
	face   *font.Face
	upem   float64
	ascent float64 // in font units
	desc   float64 // negative, in font units
	bbox   [4]int16
}

// Styles of text in the log.
type fontStyle int

const (
	styleRegular fontStyle = iota
	styleBold
	styleMono
	nStyles
)

// fontLibrary holds the Go fonts (one a style) and the fallbacks tried in
// order for characters the style's font lacks. cjk is empty when the
// machine has no usable CJK font.
type fontLibrary struct {
	styles    [nStyles]*fontSource
	fallbacks []*fontSource
	chain     []*fontSource // the regular Go font, then the fallbacks
	cjk       string        // the CJK font's file, or ""
	cjkWhy    string        // why there is none
}

var (
	libOnce sync.Once
	lib     *fontLibrary
	libErr  error
	// shapeMu guards the faces' caches and the shaper.
	shapeMu sync.Mutex
)

// fonts returns the library, loading it on first use.
func fonts() (*fontLibrary, error) {
	libOnce.Do(func() { lib, libErr = loadFonts() })
	return lib, libErr
}

func loadFonts() (*fontLibrary, error) {
	l := &fontLibrary{}
	for i, f := range []struct {
		name string
		data []byte
	}{{"GoRegular", goregular.TTF}, {"GoBold", gobold.TTF}, {"GoMono", gomono.TTF}} {
		s, err := parseFontSource(f.name, f.data, 0)
		if err != nil {
			return nil, fmt.Errorf("pdf: font %s: %w", f.name, err)
		}
		l.styles[i] = s
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"NotoSansArabic", notoArabic}, {"NotoSansEthiopic", notoEthiopic}, {"NotoSansMyanmar", notoMyanmar}} {
		s, err := parseFontSource(f.name, f.data, 0)
		if err != nil {
			return nil, fmt.Errorf("pdf: font %s: %w", f.name, err)
		}
		l.fallbacks = append(l.fallbacks, s)
	}
	if s, path, why := findCJKFont(); s != nil {
		l.fallbacks = append(l.fallbacks, s)
		l.cjk = path
	} else {
		l.cjkWhy = why
	}
	l.chain = append([]*fontSource{l.styles[styleRegular]}, l.fallbacks...)
	return l, nil
}

// findCJKFont looks for a CJK font with TrueType outlines: the known paths
// first, then what fontconfig matches. why says what was tried when none
// is found.
func findCJKFont() (src *fontSource, path, why string) {
	var tried []string
	if src, path := tryCJKFonts(cjkFontPaths, &tried); src != nil {
		return src, path, ""
	}
	if src, path := tryCJKFonts(fontconfigCJK(), &tried); src != nil {
		return src, path, ""
	}
	why = "no CJK font with TrueType outlines was found (Debian: apt-get install fonts-droid-fallback)"
	if len(tried) > 0 {
		why += "; tried " + strings.Join(tried, "; ")
	}
	return nil, "", why
}

// fontconfigCJK is what fontconfig matches for Chinese, Japanese and
// Korean, as FILE#INDEX; nothing where there is no fc-match (Android).
func fontconfigCJK() []string {
	fc, err := exec.LookPath("fc-match")
	if err != nil {
		return nil
	}
	var out []string
	for _, lang := range []string{"zh-cn", "ja", "ko"} {
		b, err := exec.Command(fc, "-f", "%{file}\n%{index}\n", "sans-serif:lang="+lang).Output()
		if f := strings.SplitN(string(b), "\n", 3); err == nil && len(f) >= 2 && f[0] != "" {
			out = append(out, f[0]+"#"+f[1])
		}
	}
	return out
}

// tryCJKFonts returns the first of candidates (paths, FILE#INDEX for a
// font in a collection) that parses and has CJK characters, adding why
// each other one failed to tried.
func tryCJKFonts(candidates []string, tried *[]string) (*fontSource, string) {
	for _, c := range candidates {
		file, index := c, 0
		if i := strings.LastIndexByte(c, '#'); i > 0 {
			file = c[:i]
			index, _ = strconv.Atoi(c[i+1:])
		}
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		s, err := parseFontSource("", data, index)
		if err != nil {
			*tried = append(*tried, file+": "+err.Error())
			continue
		}
		if _, ok := s.face.NominalGlyph(cjkProbe); !ok {
			*tried = append(*tried, file+": no CJK characters")
			continue
		}
		return s, file
	}
	return nil, ""
}

// parseFontSource parses face index of data (0 for a plain TrueType
// file). It refuses fonts without TrueType outlines, which sfntSubset
// cannot subset, and fonts whose licence forbids embedding.
func parseFontSource(name string, data []byte, index int) (*fontSource, error) {
	offset, err := sfntFaceOffset(data, index)
	if err != nil {
		return nil, err
	}
	tables, err := sfntTables(data, offset)
	if err != nil {
		return nil, err
	}
	for _, tag := range []string{"head", "hhea", "hmtx", "maxp", "loca", "glyf"} {
		if _, ok := tables[tag]; !ok {
			return nil, fmt.Errorf("font has no %s table (not TrueType outlines)", tag)
		}
	}
	if os2, ok := tables["OS/2"]; ok && len(os2) >= 10 {
		// fsType bit 1: restricted licence embedding.
		if fs := binary.BigEndian.Uint16(os2[8:]); fs&0x000f == 0x0002 {
			return nil, errors.New("the font's licence forbids embedding it")
		}
	}
	var face *font.Face
	if bytes.HasPrefix(data, []byte("ttcf")) {
		faces, err := font.ParseTTC(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		if index >= len(faces) {
			return nil, fmt.Errorf("collection has %d fonts, not %d", len(faces), index+1)
		}
		face = faces[index]
	} else if face, err = font.ParseTTF(bytes.NewReader(data)); err != nil {
		return nil, err
	}
	head := tables["head"]
	if len(head) < 54 {
		return nil, errors.New("head table too short")
	}
	s := &fontSource{name: name, data: data, offset: offset, face: face, upem: float64(face.Upem())}
	for i := range s.bbox {
		s.bbox[i] = int16(binary.BigEndian.Uint16(head[36+2*i:]))
	}
	if ext, ok := face.FontHExtents(); ok {
		s.ascent, s.desc = float64(ext.Ascender), float64(ext.Descender)
	} else {
		s.ascent, s.desc = 0.8*s.upem, -0.2*s.upem
	}
	if s.name == "" {
		s.name = psName(tables["name"])
	}
	return s, nil
}

// psName is the font's PostScript name (name ID 6), with characters PDF
// names cannot hold dropped; "Font" when it has none.
func psName(t []byte) string {
	if len(t) >= 6 {
		count, strOff := int(binary.BigEndian.Uint16(t[2:])), int(binary.BigEndian.Uint16(t[4:]))
		for i := range count {
			r := 6 + 12*i
			if r+12 > len(t) {
				break
			}
			platform, id := binary.BigEndian.Uint16(t[r:]), binary.BigEndian.Uint16(t[r+6:])
			n, off := int(binary.BigEndian.Uint16(t[r+8:])), strOff+int(binary.BigEndian.Uint16(t[r+10:]))
			if id != 6 || off+n > len(t) {
				continue
			}
			raw := t[off : off+n]
			var s string
			if platform == 3 || platform == 0 {
				u := make([]uint16, len(raw)/2)
				for j := range u {
					u[j] = binary.BigEndian.Uint16(raw[2*j:])
				}
				s = string(utf16.Decode(u))
			} else {
				s = string(raw)
			}
			s = strings.Map(func(r rune) rune {
				if r > 0x20 && r < 0x7f && !strings.ContainsRune("()<>[]{}/%#", r) {
					return r
				}
				return -1
			}, s)
			if s != "" {
				return s
			}
		}
	}
	return "Font"
}

// sfntFaceOffset is where face index's table directory starts.
func sfntFaceOffset(data []byte, index int) (int, error) {
	if !bytes.HasPrefix(data, []byte("ttcf")) {
		if index != 0 {
			return 0, errors.New("not a font collection")
		}
		return 0, nil
	}
	if len(data) < 12 {
		return 0, errors.New("font collection header cut short")
	}
	n := int(binary.BigEndian.Uint32(data[8:]))
	if index < 0 || index >= n || 12+4*index+4 > len(data) {
		return 0, fmt.Errorf("font collection has no font %d", index)
	}
	return int(binary.BigEndian.Uint32(data[12+4*index:])), nil
}

// sfntTables maps each table's tag to its bytes.
func sfntTables(data []byte, offset int) (map[string][]byte, error) {
	if offset < 0 || offset+12 > len(data) {
		return nil, errors.New("font header cut short")
	}
	n := int(binary.BigEndian.Uint16(data[offset+4:]))
	if offset+12+16*n > len(data) {
		return nil, errors.New("font table directory cut short")
	}
	out := make(map[string][]byte, n)
	for i := range n {
		r := data[offset+12+16*i:]
		off, length := uint64(binary.BigEndian.Uint32(r[8:])), uint64(binary.BigEndian.Uint32(r[12:]))
		if off+length > uint64(len(data)) {
			return nil, fmt.Errorf("font table %q runs past the file", r[:4])
		}
		out[string(r[:4])] = data[off : off+length]
	}
	return out, nil
}

// sfntSubset returns a standalone TrueType font holding the glyphs in
// keep (and the glyphs their composites use, and glyph 0) with every
// other glyph emptied. Glyph IDs do not change, so a PDF can show the
// shaper's glyph IDs through an Identity CIDToGIDMap. Only the tables a
// PDF viewer reads for a CIDFontType2 font are kept (no cmap, no layout
// tables: the shaping is done).
//
// Hand-written (about a hundred lines) because the one pure-Go subsetter,
// github.com/tdewolff/font, renumbers the glyphs and has no releases; the
// zeroed glyphs cost 4 bytes each in loca and hmtx, a few KB for most fonts.
func sfntSubset(src *fontSource, keep map[font.GID]bool) ([]byte, error) {
	t, err := sfntTables(src.data, src.offset)
	if err != nil {
		return nil, err
	}
	head, maxp, loca, glyf := t["head"], t["maxp"], t["loca"], t["glyf"]
	if len(head) < 54 || len(maxp) < 6 {
		return nil, errors.New("font head or maxp table too short")
	}
	n := int(binary.BigEndian.Uint16(maxp[4:]))
	long := binary.BigEndian.Uint16(head[50:]) == 1
	at := func(g int) (int, int, bool) {
		if g < 0 || g >= n {
			return 0, 0, false
		}
		var a, b int
		if long {
			if 4*g+8 > len(loca) {
				return 0, 0, false
			}
			a, b = int(binary.BigEndian.Uint32(loca[4*g:])), int(binary.BigEndian.Uint32(loca[4*g+4:]))
		} else {
			if 2*g+4 > len(loca) {
				return 0, 0, false
			}
			a, b = 2*int(binary.BigEndian.Uint16(loca[2*g:])), 2*int(binary.BigEndian.Uint16(loca[2*g+2:]))
		}
		if a > b || b > len(glyf) {
			return 0, 0, false
		}
		return a, b, true
	}
	// Close keep over composite glyphs' components.
	want := map[int]bool{0: true}
	queue := []int{0}
	for g := range keep {
		if !want[int(g)] {
			want[int(g)] = true
			queue = append(queue, int(g))
		}
	}
	for len(queue) > 0 {
		g := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		a, b, ok := at(g)
		if !ok || b-a < 10 || int16(binary.BigEndian.Uint16(glyf[a:])) >= 0 {
			continue
		}
		for p := a + 10; p+4 <= b; {
			flags, c := binary.BigEndian.Uint16(glyf[p:]), int(binary.BigEndian.Uint16(glyf[p+2:]))
			if !want[c] {
				want[c] = true
				queue = append(queue, c)
			}
			p += 4 + 2
			if flags&0x0001 != 0 { // ARG_1_AND_2_ARE_WORDS
				p += 2
			}
			switch {
			case flags&0x0008 != 0: // WE_HAVE_A_SCALE
				p += 2
			case flags&0x0040 != 0: // WE_HAVE_AN_X_AND_Y_SCALE
				p += 4
			case flags&0x0080 != 0: // WE_HAVE_A_TWO_BY_TWO
				p += 8
			}
			if flags&0x0020 == 0 { // MORE_COMPONENTS
				break
			}
		}
	}
	var newGlyf bytes.Buffer
	newLoca := make([]byte, 4*(n+1))
	for g := range n {
		binary.BigEndian.PutUint32(newLoca[4*g:], uint32(newGlyf.Len()))
		if a, b, ok := at(g); ok && want[g] {
			newGlyf.Write(glyf[a:b])
			for newGlyf.Len()%4 != 0 {
				newGlyf.WriteByte(0)
			}
		}
	}
	binary.BigEndian.PutUint32(newLoca[4*n:], uint32(newGlyf.Len()))
	newHead := slices.Clone(head)
	binary.BigEndian.PutUint32(newHead[8:], 0)  // checkSumAdjustment: not needed by PDF viewers
	binary.BigEndian.PutUint16(newHead[50:], 1) // long loca
	out := map[string][]byte{"head": newHead, "hhea": t["hhea"], "hmtx": t["hmtx"], "maxp": maxp,
		"loca": newLoca, "glyf": newGlyf.Bytes()}
	for _, tag := range []string{"cvt ", "fpgm", "prep"} { // hinting programs, small
		if b, ok := t[tag]; ok {
			out[tag] = b
		}
	}
	return writeSfnt(out), nil
}

// writeSfnt lays tables out as a TrueType file.
func writeSfnt(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for tag := range tables {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	n := len(tags)
	es := 0
	for 1<<(es+1) <= n {
		es++
	}
	hdr := make([]byte, 12+16*n)
	binary.BigEndian.PutUint32(hdr, 0x00010000)
	binary.BigEndian.PutUint16(hdr[4:], uint16(n))
	binary.BigEndian.PutUint16(hdr[6:], uint16(16<<es))
	binary.BigEndian.PutUint16(hdr[8:], uint16(es))
	binary.BigEndian.PutUint16(hdr[10:], uint16(16*n-16<<es))
	body := bytes.Buffer{}
	for i, tag := range tags {
		b := tables[tag]
		r := hdr[12+16*i:]
		copy(r, tag)
		binary.BigEndian.PutUint32(r[4:], sfntChecksum(b))
		binary.BigEndian.PutUint32(r[8:], uint32(len(hdr)+body.Len()))
		binary.BigEndian.PutUint32(r[12:], uint32(len(b)))
		body.Write(b)
		for body.Len()%4 != 0 {
			body.WriteByte(0)
		}
	}
	return append(hdr, body.Bytes()...)
}

func sfntChecksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}

// pdfFont is a font as one log uses it: the glyphs it drew and the text
// each stands for (for the ToUnicode map, so the text can be copied and
// searched).
type pdfFont struct {
	src  *fontSource
	res  string              // resource name: F1, F2…
	text map[font.GID]string // glyph → the characters it was first drawn for
}

func (f *pdfFont) use(g font.GID, text string) {
	if _, ok := f.text[g]; !ok || f.text[g] == "" {
		f.text[g] = text
	}
}

// subsetTag is six capital letters from the glyph set, as PDF asks of an
// embedded subset's name; derived, so the same log is the same file.
func (f *pdfFont) subsetTag() string {
	h := sha256.New()
	for _, g := range f.glyphs() {
		h.Write([]byte{byte(g >> 8), byte(g)})
	}
	sum := h.Sum(nil)
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + sum[i]%26
	}
	return string(tag)
}

func (f *pdfFont) glyphs() []font.GID {
	gs := make([]font.GID, 0, len(f.text))
	for g := range f.text {
		gs = append(gs, g)
	}
	slices.Sort(gs)
	return gs
}

// toUnicode is the font's ToUnicode CMap: glyph ID to UTF-16 text.
func (f *pdfFont) toUnicode() []byte {
	var entries []string
	for _, g := range f.glyphs() {
		if f.text[g] == "" {
			continue
		}
		entries = append(entries, fmt.Sprintf("<%04X> <%s>", uint16(g), utf16Hex(f.text[g])))
	}
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for len(entries) > 0 {
		k := min(len(entries), 100) // at most 100 a block
		fmt.Fprintf(&b, "%d beginbfchar\n%s\nendbfchar\n", k, strings.Join(entries[:k], "\n"))
		entries = entries[k:]
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}

func utf16Hex(s string) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	return b.String()
}
