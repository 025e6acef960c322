package export

// The PDF incident log, written by pdfwriter.go with its text shaped by
// pdftext.go in the fonts of pdffont.go: Latin, Greek and Cyrillic in the
// Go fonts; Arabic and Persian (right to left), Amharic and Burmese in
// bundled Noto fonts; Chinese, Japanese and Korean in a font found on the
// machine. Characters no font has print as a box, and the log says so on
// its cover, since the exact text is always in each report's signed record
// (its QR code).

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/go-text/typesetting/di"
	"github.com/vigil-mesh/vigil/incident"
)

// PDFWriter writes an incident log: a cover page with the counts by
// category family and review status, then every report with its fields,
// its history and a QR code of its signed record (QRText), which `vigil
// verify --qr` checks from a photo or scan of the page. A record too large
// for one QR code gets a note instead.
//
// Reports are held in memory until Close, which lays out the document.
// Not safe for concurrent use.
type PDFWriter struct {
	// MissionID, when set, is printed on the cover.
	MissionID incident.ID
	// Exported is the export time on the cover and in the document
	// information; Close uses the current time when it is zero.
	Exported time.Time
	// Filter, when set, describes the filters the export applied.
	Filter string
	// Notice, when set (public exports), says what was removed and that
	// the file cannot be verified.
	Notice string

	mission string
	items   []pdfItem
	tally   tally
	closed  bool
}

type pdfItem struct {
	view   incident.ReportView
	j      incident.ReportJSON
	record []byte
	id     string // the ID printed: a pseudonym in public logs
}

// publicView rebuilds a view from an anonymised row, so the log draws
// nothing the row does not hold.
func publicView(j incident.ReportJSON) incident.ReportView {
	v := incident.ReportView{Status: j.Status, Conflict: j.Conflict, Retracted: j.Retracted,
		Amendments: j.Amendments, Flags: j.Flags}
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	r := &v.Report
	r.Category, r.Title, r.Description = s(j.Category), s(j.Title), s(j.Description)
	r.Station, r.Area, r.Channel, r.Harm, r.Source = s(j.Station), s(j.Area), s(j.Channel), s(j.Harm), s(j.Source)
	v.RetractReason = s(j.RetractReason)
	if j.Severity != nil {
		r.Severity = *j.Severity
	}
	if j.Reach != nil {
		r.Reach = *j.Reach
	}
	if j.Precision != nil {
		r.Precision = *j.Precision
	}
	if j.Lat != nil && j.Lon != nil {
		r.Lat, r.Lon = incident.Micro(*j.Lat), incident.Micro(*j.Lon)
	}
	if t, err := time.Parse(time.RFC3339, s(j.Occurred)); err == nil {
		r.Occurred = t.UnixMilli()
	}
	if t, err := time.Parse(time.RFC3339, j.Created); err == nil {
		v.Created = t.UnixMilli()
	}
	return v
}

// NewPDF starts an incident log for the mission called missionName.
func NewPDF(missionName string) *PDFWriter {
	return &PDFWriter{mission: missionName, tally: newTally()}
}

// Write adds one report. Item.Record should hold the report's signed
// record: without it the report prints with a note instead of a QR code.
func (p *PDFWriter) Write(it *Item) error {
	if p.closed {
		return errors.New("pdf: write after close")
	}
	j := it.Row()
	v := it.View
	if it.Public != nil {
		// A public log prints only the anonymised row: a view rebuilt
		// from it, with no history, no record, no real ID.
		v = publicView(j)
	}
	p.items = append(p.items, pdfItem{view: v, j: j, record: it.Record, id: j.ID})
	p.tally.add(&j)
	return nil
}

// Close lays out the document and writes it to w. The writer cannot be
// used afterwards.
func (p *PDFWriter) Close(w io.Writer) error {
	if p.closed {
		return errors.New("pdf: already closed")
	}
	p.closed = true
	exported := p.Exported
	if exported.IsZero() {
		exported = time.Now()
	}
	d, err := newPDFDoc()
	if err != nil {
		return err
	}
	d.f.info = pdfInfo{
		Title: "Incident log: " + p.mission, Author: "Vigil", Subject: "Incident reports with their signed records",
		Creator: "Vigil", Producer: "Vigil", Created: exported.UTC(),
	}
	d.missing = p.missingGlyphs()
	d.cover(p, exported.UTC())
	if d.err != nil {
		return fmt.Errorf("pdf: cover: %w", d.err)
	}
	codes := recordQRs(p.items)
	for i := range p.items {
		if d.report(i+1, &p.items[i], codes[i]); d.err != nil {
			return fmt.Errorf("pdf: report %s: %w", p.items[i].view.ID, d.err)
		}
	}
	if d.footers(p.mission); d.err != nil {
		return fmt.Errorf("pdf: footers: %w", d.err)
	}
	return d.f.write(w)
}

// missingGlyphs reports whether any text in the log is outside the fonts.
func (p *PDFWriter) missingGlyphs() bool {
	texts := []string{p.mission, p.Filter}
	for i := range p.items {
		r := &p.items[i].view.Report
		texts = append(texts, r.Title, r.Description, r.Station, r.Area, r.Source, p.items[i].view.RetractReason)
		for _, e := range p.items[i].view.History {
			texts = append(texts, e.Note)
		}
	}
	for _, s := range texts {
		for _, r := range s {
			if !unicode.IsControl(r) && !hasGlyph(r) {
				return true
			}
		}
	}
	return false
}

// Fonts: families.
const (
	fontSans = "sans"
	fontMono = "mono"
)

var glyphs struct {
	sync.Mutex
	covered map[rune]bool
}

// hasGlyph reports whether a font of the log draws r: the regular Go font
// or a fallback (a style's own font may lack it: the fallbacks stand in).
// Safe for concurrent use.
func hasGlyph(r rune) bool {
	if r >= 0x20 && r < 0x7f {
		return true
	}
	lib, err := fonts()
	if err != nil {
		return false
	}
	glyphs.Lock()
	defer glyphs.Unlock()
	if glyphs.covered == nil {
		glyphs.covered = map[rune]bool{}
	}
	ok, seen := glyphs.covered[r]
	if !seen {
		shapeMu.Lock()
		for _, src := range lib.chain {
			if g, in := src.face.NominalGlyph(r); in && g != 0 {
				ok = true
				break
			}
		}
		shapeMu.Unlock()
		glyphs.covered[r] = ok
	}
	return ok
}

// missingMark stands for a character the fonts lack.
const missingMark = '□'

// Page geometry in points (A4).
const (
	pageW    = 595.0
	pageH    = 842.0
	marginX  = 44.0
	marginT  = 48.0
	bodyEnd  = pageH - 58.0 // content stops here; the footer is below
	contentW = pageW - 2*marginX
)

type rgb struct{ r, g, b uint8 }

// Colours: near-black text, muted labels, light rules and fills. They
// print well in grey too.
var (
	colText   = rgb{33, 37, 41}
	colMuted  = rgb{96, 106, 118}
	colRule   = rgb{206, 212, 218}
	colBand   = rgb{236, 239, 243}
	colZebra  = rgb{247, 248, 250}
	colWarn   = rgb{176, 58, 46}
	colAccent = rgb{33, 77, 128}
	colWhite  = rgb{255, 255, 255}
	colBlack  = rgb{0, 0, 0}
	sevColour = [5]rgb{{120, 130, 140}, {67, 140, 72}, {201, 150, 20}, {222, 110, 40}, {196, 40, 40}}
)

// Text alignment within a box.
const (
	alignLeft = iota
	alignRight
	alignCenter
)

type pdfDoc struct {
	f           *pdfFile
	sh          *textShaper
	y           float64
	style       fontStyle
	size        float64
	colour      rgb
	charSpacing float64
	missing     bool
	cont        string // printed at the top of a page a report runs onto
	err         error  // the first drawing error
}

func newPDFDoc() (*pdfDoc, error) {
	lib, err := fonts()
	if err != nil {
		return nil, err
	}
	return newPDFDocWith(lib), nil
}

// newPDFDocWith lays out with the fonts of lib.
func newPDFDocWith(lib *fontLibrary) *pdfDoc {
	d := &pdfDoc{f: newPDFFile(pageW, pageH), sh: newTextShaper(lib)}
	d.setFont(fontSans, "", 9)
	return d
}

// setFont selects a font: family fontSans or fontMono, style "" or "B".
func (d *pdfDoc) setFont(family, style string, size float64) {
	d.style, d.size = styleRegular, size
	switch {
	case family == fontMono:
		d.style = styleMono
	case style == "B":
		d.style = styleBold
	}
}

func (d *pdfDoc) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *pdfDoc) textColour(c rgb) { d.colour = c }

func (d *pdfDoc) fill(c rgb, x, y, w, h float64) { d.f.fillRect(c, x, y, w, h) }

func (d *pdfDoc) rule(c rgb, x1, y, x2 float64, width float64) { d.f.line(c, x1, y, x2, y, width) }

// clean makes s printable: tabs become spaces, other control characters
// go, characters the fonts lack become missingMark.
func clean(s string) string {
	var b strings.Builder
	for _, r := range strings.ReplaceAll(s, "\r\n", "\n") {
		switch {
		case r == '\t':
			b.WriteByte(' ')
		case r == '\n':
			b.WriteByte('\n')
		case unicode.IsControl(r):
		case unicode.Is(unicode.Cf, r): // joiners and direction marks: the shaper uses them
			b.WriteRune(r)
		case !hasGlyph(r):
			b.WriteRune(missingMark)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// width measures s in the current font, shaped.
func (d *pdfDoc) width(s string) float64 { return d.sh.width(d.style, s) * d.size }

// wrap breaks cleaned text into lines no wider than width, at spaces where
// it can and inside a word that is wider than a line, between syllables.
func (d *pdfDoc) wrap(text string, width float64) []string {
	var out []string
	space := d.width(" ")
	for _, para := range strings.Split(clean(text), "\n") {
		start := len(out)
		line, lw := "", 0.0
		for _, word := range strings.Split(para, " ") {
			ww := d.width(word)
			if line != "" && lw+space+ww <= width {
				line, lw = line+" "+word, lw+space+ww
				continue
			}
			if line != "" {
				out = append(out, line)
			}
			for ww > width {
				runes := []rune(word)
				k := d.fits(runes, "", width)
				out = append(out, string(runes[:k]))
				word = string(runes[k:])
				ww = d.width(word)
			}
			line, lw = word, ww
		}
		out = append(out, line)
		// A line of a right-to-left paragraph stays right to left when
		// it starts with a Latin word: a right-to-left mark leads it.
		if baseDirection([]rune(para)) == di.DirectionRTL {
			for i := start; i < len(out); i++ {
				if baseDirection([]rune(out[i])) != di.DirectionRTL {
					out[i] = "\u200f" + out[i]
				}
			}
		}
	}
	return out
}

// fits is how many of runes (at least one) fit in width followed by tail,
// cut where a line may break. Widths are measured shaped, so the search
// halves the length rather than adding characters up.
func (d *pdfDoc) fits(runes []rune, tail string, width float64) int {
	k := sort.Search(len(runes), func(k int) bool { return d.width(string(runes[:k+1])+tail) > width })
	for k > 1 && !breakable(runes, k) {
		k--
	}
	return max(k, 1)
}

// fit shortens a single line of text to width with an ellipsis.
func (d *pdfDoc) fit(s string, width float64) string {
	s = strings.ReplaceAll(clean(s), "\n", " ")
	if d.width(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:d.fits(r, "…", width)]) + "…"
}

// text draws one line with its top at y, aligned within w; a right-to-left
// paragraph asked to align left aligns right, where its lines begin.
func (d *pdfDoc) text(x, y, w float64, s string, align int) {
	s = strings.ReplaceAll(clean(s), "\n", " ")
	if s == "" {
		return
	}
	line := d.sh.line(d.style, s)
	size, cs := d.size, d.charSpacing
	n := 0
	for _, run := range line.runs {
		n += len(run.glyphs)
	}
	width := line.width*size + cs*float64(n)
	if align == alignLeft && line.rtl {
		align = alignRight
	}
	switch align {
	case alignRight:
		x += w - width
	case alignCenter:
		x += (w - width) / 2
	}
	primary := d.sh.lib.styles[d.style]
	baseline := y + primary.ascent/primary.upem*size
	for _, run := range line.runs {
		pf := d.f.font(run.src)
		gs := make([]placed, len(run.glyphs))
		for i, g := range run.glyphs {
			pf.use(g.gid, g.text)
			gs[i] = placed{gid: g.gid, x: g.x*size + float64(i)*cs, y: g.y * size, span: g.span, spanEnd: g.spanEnd, mute: g.mute}
		}
		// A bold line in a font without bold (the fallbacks) is drawn
		// outlined as well as filled.
		bold := d.style == styleBold && run.src != primary
		d.f.glyphRun(pf, size, d.colour, x, baseline, gs, bold, cs)
		x += run.width*size + cs*float64(len(run.glyphs))
	}
}

// newPage starts a page; a report that runs over gets a line saying so.
func (d *pdfDoc) newPage() {
	d.f.addPage()
	d.y = marginT
	if d.cont != "" {
		d.setFont(fontMono, "", 7)
		d.textColour(colMuted)
		d.text(marginX, d.y, contentW, d.cont+" (continued)", alignLeft)
		d.y += 14
	}
}

// need starts a new page unless h points fit below y.
func (d *pdfDoc) need(h float64) {
	if d.y+h > bodyEnd {
		d.newPage()
	}
}

func fmtTime(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04 UTC") }

// cover draws page 1: the mission, the counts and how to check the log.
func (d *pdfDoc) cover(p *PDFWriter, exported time.Time) {
	d.newPage()
	d.fill(colAccent, 0, 0, pageW, 8)
	y := 64.0
	d.setFont(fontSans, "B", 9)
	d.textColour(colAccent)
	d.charSpacing = 1.6
	d.text(marginX, y, contentW, "VIGIL  ·  INCIDENT LOG", alignLeft)
	d.charSpacing = 0
	y += 22
	d.setFont(fontSans, "B", 24)
	d.textColour(colText)
	name := p.mission
	if name == "" {
		name = "Unnamed mission"
	}
	for _, line := range d.wrap(name, contentW) {
		d.text(marginX, y, contentW, line, alignLeft)
		y += 30
	}
	y += 4
	meta := [][2]string{}
	if !p.MissionID.IsZero() {
		meta = append(meta, [2]string{"Mission ID", p.MissionID.String()})
	}
	meta = append(meta, [2]string{"Exported", exported.Format("2006-01-02 15:04:05 UTC")})
	meta = append(meta, [2]string{"Reports", strconv.Itoa(p.tally.total)})
	if p.Filter != "" {
		meta = append(meta, [2]string{"Filters", p.Filter})
	}
	if p.Notice != "" {
		meta = append(meta, [2]string{"Notice", p.Notice})
	}
	for _, m := range meta {
		d.setFont(fontSans, "", 8.5)
		d.textColour(colMuted)
		d.text(marginX, y, 80, m[0], alignLeft)
		family := fontSans
		if m[0] == "Mission ID" {
			family = fontMono
		}
		d.setFont(family, "", 8.5)
		d.textColour(colText)
		for _, line := range d.wrap(m[1], contentW-80) {
			d.text(marginX+80, y, contentW-80, line, alignLeft)
			y += 12
		}
	}
	y += 18

	// Family × status.
	y = d.heading(y, "Reports by category family and review status")
	fams := append([]string(nil), incident.Families...)
	if p.tally.family[SheetSealed] > 0 {
		fams = append(fams, SheetSealed)
	}
	cols := append([]string{"family"}, reportStatuses...)
	cols = append(cols, "total")
	rows := [][]string{}
	for _, f := range fams {
		row := []string{f}
		for _, s := range reportStatuses {
			row = append(row, count(p.tally.famStatus[f][s]))
		}
		rows = append(rows, append(row, count(p.tally.family[f])))
	}
	total := []string{"total"}
	for _, s := range reportStatuses {
		total = append(total, count(p.tally.status[s]))
	}
	rows = append(rows, append(total, count(p.tally.total)))
	y = d.table(y, cols, rows, 96)
	y += 22

	y = d.heading(y, "Severity and state")
	sevCols := []string{"severity 1", "severity 2", "severity 3", "severity 4"}
	sevRow := []string{count(p.tally.severity[1]), count(p.tally.severity[2]), count(p.tally.severity[3]), count(p.tally.severity[4])}
	if p.tally.severity[0] > 0 {
		sevCols, sevRow = append(sevCols, "sealed"), append(sevRow, count(p.tally.severity[0]))
	}
	sevCols = append(sevCols, "retracted", "conflicting")
	sevRow = append(sevRow, count(p.tally.retracted), count(p.tally.conflict))
	y = d.table(y, sevCols, [][]string{sevRow}, 0)
	y += 26

	y = d.heading(y, "Checking this log")
	type note struct {
		text string
		warn bool
	}
	notes := []note{
		{"Each report carries a QR code holding its signed record: the exact bytes the observer's device signed. " +
			"Photograph or scan a code and run \u201cvigil verify --qr PHOTO\u201d: it prints the record's ID and OK when the signature holds; " +
			"the ID must be the one printed above the code. Any change to a report changes its ID and breaks its signature.", false},
		{"Add --mission-file FILE (a bundle or JSONL export of this mission) to check that the author was a member of the mission as well. " +
			"Review status, amendments and history come from further signed records, which the JSONL export holds.", false},
		{"All times are UTC. Observation and report times are the device's claims; phones in a shutdown often have wrong clocks.", false},
	}
	if d.missing {
		text := fmt.Sprintf("Some characters in this log are outside the fonts it embeds (Latin, Greek, Cyrillic, Arabic, Ethiopic, Myanmar and, "+
			"when the computer that made it has one, Chinese, Japanese and Korean) and print as %c.", missingMark)
		if lib, _ := fonts(); lib != nil && lib.cjk == "" {
			text += " No Chinese, Japanese and Korean font was found here (Debian: apt-get install fonts-droid-fallback)."
		}
		notes = append(notes, note{text + " The exact text is in each report's signed record (its QR code) and in the JSONL and XLSX exports.", true})
	}
	if p.tally.total == 0 {
		notes = append(notes, note{"No reports matched this export.", true})
	}
	d.setFont(fontSans, "", 9)
	for _, n := range notes {
		d.textColour(colText)
		if n.warn {
			d.textColour(colWarn)
		}
		for _, line := range d.wrap(n.text, contentW) {
			d.text(marginX, y, contentW, line, alignLeft)
			y += 12.5
		}
		y += 6
	}
	d.y = bodyEnd // reports start on a page of their own
}

func count(n int) string { return strconv.Itoa(n) }

// heading draws a section title with a rule under it and returns the y
// below.
func (d *pdfDoc) heading(y float64, title string) float64 {
	d.setFont(fontSans, "B", 11)
	d.textColour(colText)
	d.text(marginX, y, contentW, title, alignLeft)
	d.rule(colRule, marginX, y+17, marginX+contentW, 0.8)
	return y + 24
}

// table draws a header row and rows over the content width; the first
// column is firstW wide and left-aligned when firstW > 0, the rest share
// what is left and are right-aligned. A last row whose first cell is
// "total" is drawn bold over a rule.
func (d *pdfDoc) table(y float64, cols []string, rows [][]string, firstW float64) float64 {
	const rowH, pad = 17.0, 6.0
	restW := (contentW - firstW) / float64(len(cols)-boolInt(firstW > 0))
	colX := func(i int) (float64, float64) {
		if firstW > 0 {
			if i == 0 {
				return marginX, firstW
			}
			return marginX + firstW + float64(i-1)*restW, restW
		}
		return marginX + float64(i)*restW, restW
	}
	d.fill(colBand, marginX, y, contentW, rowH)
	d.setFont(fontSans, "B", 8)
	d.textColour(colMuted)
	for i, c := range cols {
		x, w := colX(i)
		align := alignRight
		if i == 0 && firstW > 0 {
			align = alignLeft
		}
		d.text(x+pad, y+5, w-2*pad, c, align)
	}
	y += rowH
	for r, row := range rows {
		isTotal := len(row) > 0 && row[0] == "total" && r == len(rows)-1
		style := ""
		if isTotal {
			style = "B"
			d.rule(colMuted, marginX, y, marginX+contentW, 0.6)
		} else if r%2 == 1 {
			d.fill(colZebra, marginX, y, contentW, rowH)
		}
		d.setFont(fontSans, style, 9)
		for i, c := range row {
			x, w := colX(i)
			align := alignRight
			d.textColour(colText)
			if i == 0 && firstW > 0 {
				align = alignLeft
			} else if c == "0" {
				d.textColour(colRule)
			}
			d.text(x+pad, y+4.5, w-2*pad, c, align)
		}
		y += rowH
	}
	d.rule(colRule, marginX, y, marginX+contentW, 0.6)
	return y
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// qrCode is a report's QR code: its modules, quiet zone included; nil
// when the report has no record or its record is too large.
type qrCode struct{ bitmap [][]bool }

// recordQRs encodes the items' records as QR codes on all cores: encoding
// is most of the time a log takes.
func recordQRs(items []pdfItem) []qrCode {
	out := make([]qrCode, len(items))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if len(items[i].record) == 0 {
					continue
				}
				if q, err := RecordQR(items[i].record); err == nil {
					out[i].bitmap = q.Bitmap()
				}
			}
		}()
	}
	for i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// Report layout.
const (
	bandPad   = 8.0
	labelW    = 66.0
	qrGap     = 16.0
	qrModule  = 1.45  // points a module (about 0.5 mm) while the code fits
	qrMaxSide = 200.0 // points (about 70 mm)
	qrMinSide = 110.0
	lineH     = 11.5
)

// report draws one report: a band with its number, title, ID and badges;
// its fields beside the QR code of its record; its description; its
// history.
func (d *pdfDoc) report(n int, it *pdfItem, code qrCode) {
	j, v := &it.j, &it.view
	id := it.id

	// The QR code (or why there is none) sets the right column.
	bitmap := code.bitmap
	qrNote := ""
	switch {
	case len(it.record) == 0:
		qrNote = "The signed record was not included in this export, so there is no QR code."
	case bitmap == nil:
		qrNote = fmt.Sprintf("This record is %s, too large for one QR code. Check it with the JSONL export or a bundle: vigil verify FILE.", sizeText(len(it.record)))
	}
	side, module := qrMinSide, 0.0
	if bitmap != nil {
		module = qrModule
		if float64(len(bitmap))*module > qrMaxSide {
			module = qrMaxSide / float64(len(bitmap))
		}
		if float64(len(bitmap))*module < qrMinSide {
			module = qrMinSide / float64(len(bitmap))
		}
		side = float64(len(bitmap)) * module
	}
	leftW := contentW - side - qrGap

	// Band: number and title, ID, badges.
	d.setFont(fontSans, "B", 8)
	badges := reportBadges(j)
	badgesW := 0.0
	for _, b := range badges {
		badgesW += d.width(b.text) + 12 + 4
	}
	title := "Sealed report"
	if !v.Sealed {
		title = v.Report.Title
	}
	// The number hangs in a column of its own, so that a right-to-left
	// title is a paragraph of its own (aligned right, read from there).
	d.setFont(fontSans, "B", 11.5)
	number := strconv.Itoa(n) + "."
	numberW := d.width(number) + d.width("  ")
	titleW := contentW - 2*bandPad - badgesW - 8 - numberW
	titleLines := d.wrap(title, titleW)
	if len(titleLines) > 3 {
		titleLines = append(titleLines[:2], d.fit(strings.Join(titleLines[2:], " "), titleW))
	}
	bandH := bandPad + float64(len(titleLines))*15 + 13 + bandPad - 2

	fields := reportFields(j, v)
	d.setFont(fontSans, "", 8.5)
	type fieldLines struct {
		label string
		lines []string
		mono  bool
		warn  bool
	}
	var fl []fieldLines
	fieldsH := 0.0
	for _, f := range fields {
		font := fontSans
		if f.mono {
			font = fontMono
		}
		d.setFont(font, "", 8.5)
		lines := d.wrap(f.value, leftW-labelW)
		fl = append(fl, fieldLines{f.label, lines, f.mono, f.warn})
		fieldsH += float64(len(lines))*lineH + 3
	}
	qrH := side + 26
	if bitmap == nil {
		qrH = 90
	}
	bodyH := max(fieldsH, qrH)

	d.cont = ""
	d.need(bandH + 10 + bodyH)
	d.cont = fmt.Sprintf("%d.  %s", n, id)
	y := d.y

	d.fill(colBand, marginX, y, contentW, bandH)
	d.fill(sevColour[sevIndex(j)], marginX, y, 3, bandH)
	d.setFont(fontSans, "B", 11.5)
	d.textColour(colText)
	ty := y + bandPad
	d.text(marginX+bandPad+2, ty, numberW, number, alignLeft)
	for _, line := range titleLines {
		d.text(marginX+bandPad+2+numberW, ty, titleW, line, alignLeft)
		ty += 15
	}
	d.setFont(fontMono, "", 7.5)
	d.textColour(colMuted)
	d.text(marginX+bandPad+2, ty+1, contentW, "ID "+id, alignLeft)
	d.setFont(fontSans, "B", 7.5)
	bx := marginX + contentW - bandPad
	for _, b := range badges {
		w := d.width(b.text) + 12
		bx -= w
		d.fill(b.bg, bx, y+bandPad, w, 14)
		d.textColour(b.fg)
		d.text(bx, y+bandPad+3.5, w, b.text, alignCenter)
		bx -= 4
	}
	y += bandH + 10

	// Fields on the left.
	fy := y
	for _, f := range fl {
		d.setFont(fontSans, "", 7.5)
		d.textColour(colMuted)
		d.text(marginX, fy+1, labelW, f.label, alignLeft)
		font := fontSans
		if f.mono {
			font = fontMono
		}
		d.setFont(font, "", 8.5)
		d.textColour(colText)
		if f.warn {
			d.textColour(colWarn)
		}
		for _, line := range f.lines {
			d.text(marginX+labelW, fy, leftW-labelW, line, alignLeft)
			fy += lineH
		}
		fy += 3
	}

	// The QR code on the right, drawn as filled rectangles so it stays
	// sharp at any print or scan resolution.
	qx := marginX + contentW - side
	if bitmap != nil {
		for _, r := range qrRects(bitmap) {
			// A hair of overlap hides seams between rectangles in
			// renderers that anti-alias each one.
			d.fill(colBlack, qx+float64(r.x)*module, y+float64(r.y)*module,
				float64(r.w)*module+0.15, float64(r.h)*module+0.15)
		}
		d.setFont(fontSans, "", 6.5)
		d.textColour(colMuted)
		d.text(qx, y+side+2, side, "Signed record, "+sizeText(len(it.record)), alignCenter)
		d.text(qx, y+side+11, side, "check: vigil verify --qr PHOTO", alignCenter)
	} else {
		d.fill(colZebra, qx, y, side, 80)
		d.setFont(fontSans, "", 7.5)
		d.textColour(colMuted)
		ny := y + 8
		for _, line := range d.wrap(qrNote, side-16) {
			d.text(qx+8, ny, side-16, line, alignLeft)
			ny += 10
		}
	}
	d.y = y + bodyH + 6

	// Description, which may run over pages.
	if !v.Sealed && v.Report.Description != "" {
		d.block("Description", v.Report.Description)
	}
	d.history(v)
	d.cont = ""
	d.y += 6
	d.rule(colRule, marginX, d.y, marginX+contentW, 0.6)
	d.y += 18
}

type moduleRect struct{ x, y, w, h int }

// qrRects covers the dark modules of a QR code with few rectangles: runs
// along each row, each run merged with the identical runs below it.
func qrRects(bitmap [][]bool) []moduleRect {
	type run struct{ x, w int }
	var out []moduleRect
	open := map[run]int{} // run → index in out of its rectangle, still growing
	for y, bits := range bitmap {
		next := map[run]int{}
		for x := 0; x < len(bits); {
			if !bits[x] {
				x++
				continue
			}
			end := x
			for end < len(bits) && bits[end] {
				end++
			}
			r := run{x, end - x}
			if i, ok := open[r]; ok {
				out[i].h++
				next[r] = i
			} else {
				out = append(out, moduleRect{x, y, end - x, 1})
				next[r] = len(out) - 1
			}
			x = end
		}
		open = next
	}
	return out
}

func sizeText(n int) string {
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f KB", float64(n)/1024)
}

func sevIndex(j *incident.ReportJSON) int {
	if j.Severity == nil || *j.Severity < 1 || *j.Severity > 4 {
		return 0
	}
	return int(*j.Severity)
}

type badge struct {
	text   string
	fg, bg rgb
}

// reportBadges are drawn right to left in the band.
func reportBadges(j *incident.ReportJSON) []badge {
	var out []badge
	if j.Severity != nil {
		s := sevIndex(j)
		fg := colWhite
		if s == 2 {
			fg = colText
		}
		out = append(out, badge{"SEVERITY " + strconv.FormatUint(*j.Severity, 10), fg, sevColour[s]})
	}
	out = append(out, badge{strings.ToUpper(j.Status), colText, colWhite})
	if j.Conflict {
		out = append(out, badge{"CONFLICTING REVIEWS", colWhite, colWarn})
	}
	if j.Retracted {
		out = append(out, badge{"RETRACTED", colWhite, colWarn})
	}
	return out
}

type field struct {
	label, value string
	mono, warn   bool
}

// reportFields are the label/value pairs beside the QR code.
func reportFields(j *incident.ReportJSON, v *incident.ReportView) []field {
	var out []field
	add := func(label, value string) {
		if value != "" {
			out = append(out, field{label: label, value: value})
		}
	}
	r := &v.Report
	if !v.Sealed {
		cat := r.Category
		if c, ok := incident.BaseCategory(r.Category); ok {
			cat = c.Label + " (" + r.Category + ")"
		}
		add("Category", cat)
		add("Occurred", fmtTime(r.Occurred))
	}
	add("Reported", fmtTime(v.Created))
	if !v.Sealed {
		add("Station", r.Station)
		add("Area", r.Area)
		if j.Lat != nil && j.Lon != nil {
			loc := incident.FormatMicro(*r.Lat) + ", " + incident.FormatMicro(*r.Lon)
			if r.Precision > 0 {
				loc += fmt.Sprintf("  (±%s m)", thousands(r.Precision))
			}
			add("Location", loc)
		}
		var dis []string
		if r.Channel != "" {
			dis = append(dis, "channel "+r.Channel)
		}
		if r.Harm != "" {
			dis = append(dis, "harm "+r.Harm)
		}
		if r.Reach > 0 {
			dis = append(dis, "reach "+thousands(r.Reach))
		}
		add("Spread", strings.Join(dis, " · "))
		add("Source", r.Source)
		if n := len(j.Attachments); n > 0 {
			add("Attachments", strings.Join(j.Attachments, "\n"))
			out[len(out)-1].mono = true
		}
	} else {
		add("Content", "Sealed to the mission's coordinators; not readable on the device that made this log.")
	}
	out = append(out, field{label: "Author", value: j.Author, mono: true})
	state := []string{j.Status}
	if j.Amendments == 1 {
		state = append(state, "1 amendment")
	} else if j.Amendments > 1 {
		state = append(state, fmt.Sprintf("%d amendments", j.Amendments))
	}
	if j.Conflict {
		state = append(state, "coordinators' reviews disagree")
	}
	add("Status", strings.Join(state, " · "))
	if j.Retracted {
		reason := "retracted by the author"
		if v.RetractReason != "" {
			reason += ": " + v.RetractReason
		}
		out = append(out, field{label: "Retracted", value: reason, warn: true})
	}
	if len(j.Flags) > 0 {
		out = append(out, field{label: "Flags", value: strings.Join(j.Flags, ", "), warn: true})
	}
	return out
}

func thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// block draws a titled paragraph over the full width, page by page.
func (d *pdfDoc) block(title, text string) {
	d.setFont(fontSans, "", 9)
	lines := d.wrap(text, contentW)
	d.need(14 + 2*lineH)
	d.setFont(fontSans, "B", 8)
	d.textColour(colMuted)
	d.text(marginX, d.y, contentW, title, alignLeft)
	d.y += 13
	d.setFont(fontSans, "", 9)
	for _, line := range lines {
		d.need(12.5)
		d.setFont(fontSans, "", 9)
		d.textColour(colText)
		d.text(marginX, d.y, contentW, line, alignLeft)
		d.y += 12.5
	}
	d.y += 6
}

// history draws the report's events, oldest first.
func (d *pdfDoc) history(v *incident.ReportView) {
	d.need(14 + 2*lineH)
	d.setFont(fontSans, "B", 8)
	d.textColour(colMuted)
	d.text(marginX, d.y, contentW, "History", alignLeft)
	d.y += 13
	const whenW, whatW, byW = 96.0, 150.0, 110.0
	for _, e := range v.History {
		what := string(e.Kind)
		switch e.Kind {
		case incident.KindReport:
			what = "reported"
		case incident.KindAmend:
			what = "amended"
		case incident.KindRetract:
			what = "retracted"
		case incident.KindReview:
			what = "reviewed"
			if e.Status != "" {
				what += ": " + e.Status
			}
			if e.Head {
				what += " (current)"
			}
		}
		var noteLines []string
		if e.Note != "" {
			d.setFont(fontSans, "", 8)
			noteLines = d.wrap("“"+e.Note+"”", contentW-whenW)
		}
		d.need(lineH + float64(min(len(noteLines), 2))*lineH)
		d.setFont(fontSans, "", 8)
		d.textColour(colText)
		d.text(marginX, d.y, whenW, fmtTime(e.Created), alignLeft)
		d.text(marginX+whenW, d.y, whatW, what, alignLeft)
		d.setFont(fontMono, "", 7)
		d.textColour(colMuted)
		d.text(marginX+whenW+whatW, d.y+1, byW, "by …"+e.Author.Short(), alignLeft)
		rid := e.ID.String()
		d.text(marginX+whenW+whatW+byW, d.y+1, contentW-whenW-whatW-byW, "record …"+rid[len(rid)-16:], alignRight)
		d.y += lineH
		for _, line := range noteLines {
			d.need(lineH)
			d.setFont(fontSans, "", 8)
			d.textColour(colMuted)
			d.text(marginX+whenW, d.y, contentW-whenW, line, alignLeft)
			d.y += lineH
		}
	}
}

// footers writes "Vigil incident log · mission" and "Page i of n" on every
// page, now that n is known.
func (d *pdfDoc) footers(mission string) {
	n := d.f.numPages()
	for i := 1; i <= n; i++ {
		d.f.setPage(i)
		y := pageH - 40
		d.rule(colRule, marginX, y, marginX+contentW, 0.5)
		d.setFont(fontSans, "", 7)
		d.textColour(colMuted)
		left := "Vigil incident log"
		if mission != "" {
			left += "  ·  " + mission
		}
		d.text(marginX, y+6, contentW-80, d.fit(left, contentW-90), alignLeft)
		d.text(marginX+contentW-80, y+6, 80, fmt.Sprintf("Page %d of %d", i, n), alignRight)
	}
}
