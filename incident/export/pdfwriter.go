package export

// A small PDF writer for the incident log: pages of rectangles, lines and
// text, fonts embedded as subsets, compressed streams. The log used
// github.com/signintech/gopdf until it had to print Arabic, Burmese and
// the other scripts whose characters become other glyphs once shaped
// (joined Arabic letters, reordered Burmese vowels, ligatures). gopdf
// only draws text a character at a time through the font's character map:
// it has no way to place the glyph IDs a shaper returns, nor to say which
// text they stand for. This writer places shaped glyphs by ID through a
// CID font with an Identity encoding, maps each glyph back to its
// characters in a ToUnicode CMap, and marks each shaped run with its
// logical text (ActualText), so that copying or searching a log gives the
// text as typed, right to left scripts included. What it draws is what
// pdf.go needs, and nothing else.

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// pdfInfo is the document information dictionary.
type pdfInfo struct {
	Title, Author, Subject, Creator, Producer string
	Created                                   time.Time
}

type pdfFile struct {
	pageW, pageH float64
	pages        []*bytes.Buffer
	cur          *bytes.Buffer
	fonts        []*pdfFont
	byFont       map[*fontSource]*pdfFont
	info         pdfInfo
}

func newPDFFile(w, h float64) *pdfFile {
	return &pdfFile{pageW: w, pageH: h, byFont: map[*fontSource]*pdfFont{}}
}

func (f *pdfFile) addPage() {
	f.cur = &bytes.Buffer{}
	f.pages = append(f.pages, f.cur)
}

// setPage makes page i (from 1) the one drawn on.
func (f *pdfFile) setPage(i int) { f.cur = f.pages[i-1] }

func (f *pdfFile) numPages() int { return len(f.pages) }

// font returns the log's use of src, adding it on first use.
func (f *pdfFile) font(src *fontSource) *pdfFont {
	pf := f.byFont[src]
	if pf == nil {
		pf = &pdfFont{src: src, res: "F" + strconv.Itoa(len(f.fonts)+1), text: map[fontGID]string{}}
		f.fonts = append(f.fonts, pf)
		f.byFont[src] = pf
	}
	return pf
}

// pnum formats a coordinate: two decimals are a hundredth of a point.
func pnum(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

func colour(c rgb) string {
	return pnum(float64(c.r)/255) + " " + pnum(float64(c.g)/255) + " " + pnum(float64(c.b)/255)
}

// fillRect fills a rectangle given by its top-left corner (y down).
func (f *pdfFile) fillRect(c rgb, x, y, w, h float64) {
	fmt.Fprintf(f.cur, "%s rg %s %s %s %s re f\n", colour(c), pnum(x), pnum(f.pageH-y-h), pnum(w), pnum(h))
}

// line strokes a line (y down).
func (f *pdfFile) line(c rgb, x1, y1, x2, y2, width float64) {
	fmt.Fprintf(f.cur, "%s RG %s w %s %s m %s %s l S\n", colour(c), pnum(width), pnum(x1), pnum(f.pageH-y1), pnum(x2), pnum(f.pageH-y2))
}

// placed is one glyph at a position on the baseline, in points from the
// run's origin; span and spanEnd mark a cluster drawn with ActualText.
type placed struct {
	gid     fontGID
	x, y    float64 // y up
	span    string
	spanEnd bool
	mute    bool // drawn in an empty ActualText: its text is in its cluster's span
}

// glyphRun draws glyphs of one font at size from (x, baseline) (y down).
// bold draws the outline too, for bold text in fonts that have no bold.
func (f *pdfFile) glyphRun(pf *pdfFont, size float64, c rgb, x, baseline float64, gs []placed, bold bool, charSpacing float64) {
	if len(gs) == 0 {
		return
	}
	w := f.cur
	fmt.Fprintf(w, "BT /%s %s Tf %s rg", pf.res, pnum(size), colour(c))
	if bold {
		fmt.Fprintf(w, " %s RG 2 Tr %s w", colour(c), pnum(size*0.03))
	}
	if charSpacing != 0 {
		fmt.Fprintf(w, " %s Tc", pnum(charSpacing))
	}
	y := f.pageH - baseline
	// Glyphs that sit where their advances put them go in one Tj; a glyph
	// moved by the shaper (a mark, a kerned pair) starts a new one, and so
	// does a cluster with ActualText, which is marked content of its own.
	open, next := false, 0.0
	for i, g := range gs {
		if g.span != "" {
			if open {
				w.WriteString("> Tj")
				open = false
			}
			fmt.Fprintf(w, "\n/Span <</ActualText <FEFF%s>>> BDC", utf16Hex(g.span))
		}
		if g.mute {
			if open {
				w.WriteString("> Tj")
				open = false
			}
			w.WriteString("\n/Span <</ActualText ()>> BDC")
		}
		if !open || abs(g.x-next) > 0.01 || g.y != 0 || (i > 0 && gs[i-1].y != 0) {
			if open {
				w.WriteString("> Tj")
			}
			fmt.Fprintf(w, "\n1 0 0 1 %s %s Tm <", pnum(x+g.x), pnum(y+g.y))
			open = true
		}
		fmt.Fprintf(w, "%04X", uint16(g.gid))
		next = g.x + pf.advance(g.gid)*size/pf.src.upem + charSpacing
		if g.spanEnd || g.mute {
			w.WriteString("> Tj EMC")
			open = false
		}
	}
	if open {
		w.WriteString("> Tj")
	}
	w.WriteString(" ET")
	if bold {
		w.WriteString(" 0 Tr")
	}
	if charSpacing != 0 {
		w.WriteString(" 0 Tc")
	}
	w.WriteString("\n")
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// pdfString is a text string: literal when ASCII, UTF-16 otherwise.
func pdfString(s string) string {
	ascii := true
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		r := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`)
		return "(" + r.Replace(s) + ")"
	}
	return "<FEFF" + utf16Hex(s) + ">"
}

// objWriter numbers objects and records where each starts.
type objWriter struct {
	w       *countWriter
	offsets []int64
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// reserve returns the number of a new object, written later with put.
func (o *objWriter) reserve() int {
	o.offsets = append(o.offsets, -1)
	return len(o.offsets)
}

func (o *objWriter) put(id int, dict string) {
	o.offsets[id-1] = o.w.n
	fmt.Fprintf(o.w, "%d 0 obj\n%s\nendobj\n", id, dict)
}

// stream writes a compressed stream object; extra goes in its dictionary.
func (o *objWriter) stream(id int, data []byte, extra string) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(data)
	_ = zw.Close()
	o.offsets[id-1] = o.w.n
	fmt.Fprintf(o.w, "%d 0 obj\n<< /Length %d /Filter /FlateDecode%s >>\nstream\n", id, z.Len(), extra)
	_, _ = o.w.Write(z.Bytes())
	io.WriteString(o.w, "\nendstream\nendobj\n")
}

func ref(id int) string { return strconv.Itoa(id) + " 0 R" }

// write lays the document out: catalog, pages, fonts, information, cross
// references.
func (f *pdfFile) write(w io.Writer) error {
	cw := &countWriter{w: w}
	o := &objWriter{w: cw}
	io.WriteString(cw, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	catalog, pagesID, resID, infoID := o.reserve(), o.reserve(), o.reserve(), o.reserve()
	pageIDs := make([]int, len(f.pages))
	var kids []string
	for i := range f.pages {
		pageIDs[i] = o.reserve()
		kids = append(kids, ref(pageIDs[i]))
	}
	o.put(catalog, "<< /Type /Catalog /Pages "+ref(pagesID)+" >>")
	o.put(pagesID, fmt.Sprintf("<< /Type /Pages /Count %d /Kids [%s] >>", len(f.pages), strings.Join(kids, " ")))
	for i, content := range f.pages {
		cid := o.reserve()
		o.put(pageIDs[i], fmt.Sprintf("<< /Type /Page /Parent %s /MediaBox [0 0 %s %s] /Resources %s /Contents %s >>",
			ref(pagesID), pnum(f.pageW), pnum(f.pageH), ref(resID), ref(cid)))
		o.stream(cid, content.Bytes(), "")
	}
	var fontRefs []string
	for _, pf := range f.fonts {
		id, err := f.writeFont(o, pf)
		if err != nil {
			return fmt.Errorf("pdf: font %s: %w", pf.src.name, err)
		}
		fontRefs = append(fontRefs, "/"+pf.res+" "+ref(id))
	}
	o.put(resID, "<< /ProcSet [/PDF /Text] /Font << "+strings.Join(fontRefs, " ")+" >> >>")
	in := f.info
	date := "D:" + in.Created.UTC().Format("20060102150405") + "Z"
	o.put(infoID, fmt.Sprintf("<< /Title %s /Author %s /Subject %s /Creator %s /Producer %s /CreationDate (%s) >>",
		pdfString(in.Title), pdfString(in.Author), pdfString(in.Subject), pdfString(in.Creator), pdfString(in.Producer), date))
	xref := cw.n
	fmt.Fprintf(cw, "xref\n0 %d\n0000000000 65535 f \n", len(o.offsets)+1)
	for _, off := range o.offsets {
		fmt.Fprintf(cw, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(cw, "trailer\n<< /Size %d /Root %s /Info %s >>\nstartxref\n%d\n%%%%EOF\n", len(o.offsets)+1, ref(catalog), ref(infoID), xref)
	return cw.err
}

// writeFont writes a font as Type 0 with a CIDFontType2 descendant whose
// CIDs are glyph IDs, and returns the Type 0 font's object number.
func (f *pdfFile) writeFont(o *objWriter, pf *pdfFont) (int, error) {
	src := pf.src
	keep := map[fontGID]bool{}
	for g := range pf.text {
		keep[g] = true
	}
	sub, err := sfntSubset(src, keep)
	if err != nil {
		return 0, err
	}
	type0, cidFont, desc, file, toUni := o.reserve(), o.reserve(), o.reserve(), o.reserve(), o.reserve()
	base := pf.subsetTag() + "+" + src.name
	scale := 1000 / src.upem
	o.put(type0, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%s] /ToUnicode %s >>",
		base, ref(cidFont), ref(toUni)))
	var widths []string
	gs := pf.glyphs()
	sort.Slice(gs, func(i, j int) bool { return gs[i] < gs[j] })
	for _, g := range gs {
		widths = append(widths, fmt.Sprintf("%d [%s]", g, pnum(pf.advance(g)*scale)))
	}
	o.put(cidFont, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s "+
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "+
		"/FontDescriptor %s /DW 1000 /W [%s] /CIDToGIDMap /Identity >>", base, ref(desc), strings.Join(widths, " ")))
	b := src.bbox
	o.put(desc, fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags 4 /FontBBox [%s %s %s %s] /ItalicAngle 0 "+
		"/Ascent %s /Descent %s /CapHeight %s /StemV 80 /FontFile2 %s >>", base,
		pnum(float64(b[0])*scale), pnum(float64(b[1])*scale), pnum(float64(b[2])*scale), pnum(float64(b[3])*scale),
		pnum(src.ascent*scale), pnum(src.desc*scale), pnum(src.ascent*scale), ref(file)))
	o.stream(file, sub, fmt.Sprintf(" /Length1 %d", len(sub)))
	o.stream(toUni, pf.toUnicode(), "")
	return type0, nil
}
