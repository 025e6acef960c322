package export

// Text in the PDF log: each line is split into runs by direction, script
// and font (github.com/go-text/typesetting's Segmenter, with
// golang.org/x/text/unicode/bidi for the directions), each run is shaped
// with the same HarfBuzz port Fyne uses, and the runs are put in visual
// order. Lines wholly in the Go fonts' scripts (Latin, Greek, Cyrillic)
// skip the shaper: a glyph a character, as before, and fast.

import (
	"slices"
	"unicode"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/harfbuzz"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/bidi"
)

type fontGID = font.GID

// advance is a glyph's advance in font units.
func (f *pdfFont) advance(g fontGID) float64 { return float64(f.src.face.HorizontalAdvance(g)) }

// textRun is a run of glyphs of one font, positions in ems from the run's
// start.
type textRun struct {
	src    *fontSource
	glyphs []runGlyph
	width  float64 // ems
	text   string  // the run's characters in logical order
	rtl    bool    // right to left: glyphs in visual order
}

type runGlyph struct {
	gid     fontGID
	x, y    float64 // ems; y up
	text    string  // the character this glyph stands for, when it is one glyph for one character
	span    string  // on a cluster's first glyph, when not one for one: the cluster's characters
	spanEnd bool    // the last glyph of such a cluster
	mute    bool    // a mark of such a cluster: its text is in the span
}

// clusterText is the text a cluster of glyphs carries as ActualText. Text
// extractors (poppler's pdftotext, pdf.js) read a line in drawing order and
// turn right-to-left stretches around character by character, as they must
// for glyphs mapped one to one; a cluster drawn right to left (لا, a letter
// with its vowel marks) therefore carries its characters reversed, so that
// they come out in the order they were typed.
func clusterText(cluster []rune, rtl bool) string {
	if !rtl {
		return string(cluster)
	}
	r := slices.Clone(cluster)
	slices.Reverse(r)
	return string(r)
}

// textLine is a line of text ready to draw: its runs in visual order.
type textLine struct {
	runs  []textRun
	width float64 // ems
	rtl   bool    // the paragraph direction is right to left
}

// textShaper lays out the lines of one log. Not safe for concurrent use;
// line and width hold shapeMu, since the faces are shared.
type textShaper struct {
	lib   *fontLibrary
	hb    shaping.HarfbuzzShaper
	seg   shaping.Segmenter
	lines map[lineKey]*textLine
	cover map[*fontSource]map[rune]fontGID // 0: not in the font
	bySrc map[*font.Face]*fontSource
}

type lineKey struct {
	style fontStyle
	text  string
}

func newTextShaper(lib *fontLibrary) *textShaper {
	s := &textShaper{lib: lib, lines: map[lineKey]*textLine{}, cover: map[*fontSource]map[rune]fontGID{},
		bySrc: map[*font.Face]*fontSource{}}
	for _, src := range append(lib.styles[:], lib.fallbacks...) {
		s.bySrc[src.face] = src
	}
	return s
}

// glyph is r's glyph in src, 0 when src lacks it.
func (s *textShaper) glyph(src *fontSource, r rune) fontGID {
	m := s.cover[src]
	if m == nil {
		m = map[rune]fontGID{}
		s.cover[src] = m
	}
	g, ok := m[r]
	if !ok {
		g, _ = src.face.NominalGlyph(r)
		m[r] = g
	}
	return g
}

// simple reports whether the style's own font draws all of text a glyph
// a character, left to right.
func (s *textShaper) simple(style fontStyle, text string) bool {
	src := s.lib.styles[style]
	for _, r := range text {
		if r < 0x80 {
			continue
		}
		if s.glyph(src, r) == 0 || unicode.Is(unicode.Mn, r) {
			return false
		}
		if p, _ := bidi.LookupRune(r); p.Class() == bidi.R || p.Class() == bidi.AL || p.Class() == bidi.AN {
			return false
		}
	}
	return true
}

// width is text's width in ems.
func (s *textShaper) width(style fontStyle, text string) float64 {
	shapeMu.Lock()
	defer shapeMu.Unlock()
	if s.simple(style, text) {
		src := s.lib.styles[style]
		w := 0.0
		for _, r := range text {
			w += float64(src.face.HorizontalAdvance(s.glyph(src, r)))
		}
		return w / src.upem
	}
	return s.layout(style, text).width
}

// line lays text out.
func (s *textShaper) line(style fontStyle, text string) *textLine {
	shapeMu.Lock()
	defer shapeMu.Unlock()
	return s.layout(style, text)
}

// layout is line without the lock.
func (s *textShaper) layout(style fontStyle, text string) *textLine {
	k := lineKey{style, text}
	if l := s.lines[k]; l != nil {
		return l
	}
	var l *textLine
	if s.simple(style, text) {
		l = s.simpleLine(style, text)
	} else {
		l = s.shapedLine(style, text)
	}
	s.lines[k] = l
	return l
}

func (s *textShaper) simpleLine(style fontStyle, text string) *textLine {
	src := s.lib.styles[style]
	run := textRun{src: src, text: text}
	x := 0.0
	for _, r := range text {
		g := s.glyph(src, r)
		run.glyphs = append(run.glyphs, runGlyph{gid: g, x: x, text: string(r)})
		x += float64(src.face.HorizontalAdvance(g)) / src.upem
	}
	run.width = x
	return &textLine{runs: []textRun{run}, width: x}
}

// fontmap picks a run's font: the style's, then the regular Go font, then
// the fallbacks in order.
type fontmap struct {
	s     *textShaper
	style fontStyle
}

func (m fontmap) ResolveFace(r rune) *font.Face {
	if src := m.s.fontFor(m.style, r); src != nil {
		return src.face
	}
	return m.s.lib.styles[m.style].face
}

func (s *textShaper) fontFor(style fontStyle, r rune) *fontSource {
	if src := s.lib.styles[style]; s.glyph(src, r) != 0 {
		return src
	}
	for _, src := range s.lib.chain {
		if s.glyph(src, r) != 0 {
			return src
		}
	}
	return nil
}

// baseDirection is the paragraph direction of text: that of its first
// strong character (rules P2 and P3 of the bidi algorithm).
func baseDirection(runes []rune) di.Direction {
	for _, r := range runes {
		p, _ := bidi.LookupRune(r)
		switch p.Class() {
		case bidi.L:
			return di.DirectionLTR
		case bidi.R, bidi.AL:
			return di.DirectionRTL
		}
	}
	return di.DirectionLTR
}

func (s *textShaper) shapedLine(style fontStyle, text string) *textLine {
	runes := []rune(text)
	base := baseDirection(runes)
	in := shaping.Input{Text: runes, RunEnd: len(runes), Direction: base, Face: s.lib.styles[style].face}
	split := s.seg.Split(in, fontmap{s, style})
	line := &textLine{rtl: base == di.DirectionRTL}
	levels := make([]int, len(split))
	for i, r := range split {
		src := s.bySrc[r.Face]
		r.Size = fixed.I(int(src.upem)) // positions in font units
		out := s.hb.Shape(r)
		run := textRun{src: src, text: string(runes[r.RunStart:r.RunEnd]), rtl: r.Direction.Progression() == di.TowardTopLeft}
		pen := 0.0
		xs := make([]float64, len(out.Glyphs))
		for i, g := range out.Glyphs {
			xs[i] = pen
			pen += float64(g.XAdvance) / 64
		}
		for i := 0; i < len(out.Glyphs); {
			j := i + 1
			for j < len(out.Glyphs) && out.Glyphs[j].ClusterIndex == out.Glyphs[i].ClusterIndex {
				j++
			}
			run.glyphs = append(run.glyphs, clusterGlyphs(out.Glyphs[i:j], xs[i:j], runes, run.rtl, src.upem)...)
			i = j
		}
		run.width = pen / src.upem
		line.width += run.width
		line.runs = append(line.runs, run)
		levels[i] = runLevel(split, i, base)
	}
	reorder(line.runs, levels)
	return line
}

// clusterGlyphs places the glyphs of one cluster (the characters the
// shaper turned into glyphs together) and says which text they stand for:
// a glyph for a character through the ToUnicode map; otherwise the
// cluster's text as ActualText over its spacing glyphs, drawn first, with
// its marks (glyphs that take no width) after it, muted. A span covers the
// width its glyphs advance, and text extractors put the text along it: a
// mark inside would end the span short of its base and read as a space.
func clusterGlyphs(gs []shaping.Glyph, xs []float64, runes []rune, rtl bool, upem float64) []runGlyph {
	place := func(k int) runGlyph {
		g := gs[k]
		return runGlyph{gid: g.GlyphID, x: (xs[k] + float64(g.XOffset)/64) / upem, y: float64(g.YOffset) / 64 / upem}
	}
	start, end := gs[0].ClusterIndex, min(gs[0].ClusterIndex+gs[0].RuneCount, len(runes))
	if start < 0 || start >= end {
		out := make([]runGlyph, len(gs))
		for k := range gs {
			out[k] = place(k)
		}
		return out
	}
	cluster := runes[start:end]
	if len(gs) == 1 && len(cluster) == 1 && harfbuzz.IsDefaultIgnorable(cluster[0]) {
		// A joiner or direction mark, drawn as an invisible space glyph:
		// mapping that glyph to it would turn the spaces into joiners.
		g := place(0)
		g.mute = true
		return []runGlyph{g}
	}
	if len(gs) == 1 && len(cluster) == 1 {
		g := place(0)
		g.text = string(cluster)
		return []runGlyph{g}
	}
	var spacing, marks []runGlyph
	for k, g := range gs {
		if g.XAdvance == 0 {
			marks = append(marks, place(k))
		} else {
			spacing = append(spacing, place(k))
		}
	}
	if len(spacing) == 0 {
		spacing, marks = marks, nil
	}
	spacing[0].span = clusterText(cluster, rtl)
	spacing[len(spacing)-1].spanEnd = true
	for k := range marks {
		marks[k].mute = true
	}
	return append(spacing, marks...)
}

// runLevel is the bidi embedding level of run i. x/text's bidi gives each
// run's direction but not its level, which the visual order needs when a
// left-to-right run sits inside right-to-left text: the number in "قرار
// 12 اليوم" (level 2) keeps its place while the words around it swap. A
// left-to-right run with no strong left-to-right character (digits and
// punctuation) that follows a right-to-left run is taken as such a number.
func runLevel(runs []shaping.Input, i int, base di.Direction) int {
	rtl := runs[i].Direction.Progression() == di.TowardTopLeft
	if base == di.DirectionRTL {
		if rtl {
			return 1
		}
		return 2
	}
	if rtl {
		return 1
	}
	if i > 0 && runs[i-1].Direction.Progression() == di.TowardTopLeft {
		for _, r := range runs[i].Text[runs[i].RunStart:runs[i].RunEnd] {
			if p, _ := bidi.LookupRune(r); p.Class() == bidi.L {
				return 0
			}
		}
		return 2
	}
	return 0
}

// reorder puts runs in visual order (rule L2): from the highest level down
// to the lowest odd one, reverse every sequence of runs at that level or
// above.
func reorder(runs []textRun, levels []int) {
	high, lowOdd := 0, 1<<30
	for _, l := range levels {
		high = max(high, l)
		if l%2 == 1 {
			lowOdd = min(lowOdd, l)
		}
	}
	for lvl := high; lvl >= lowOdd && lvl > 0; lvl-- {
		for i := 0; i < len(runs); {
			if levels[i] < lvl {
				i++
				continue
			}
			j := i
			for j < len(runs) && levels[j] >= lvl {
				j++
			}
			for a, b := i, j-1; a < b; a, b = a+1, b-1 {
				runs[a], runs[b] = runs[b], runs[a]
				levels[a], levels[b] = levels[b], levels[a]
			}
			i = j
		}
	}
}

// breakable reports whether a line may break before runes[i] inside a
// word: not before a combining mark, nor after a joiner or the Myanmar
// sign that stacks the next consonant (U+1039), so a syllable stays whole.
func breakable(runes []rune, i int) bool {
	if i <= 0 || i >= len(runes) {
		return true
	}
	r, prev := runes[i], runes[i-1]
	if unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me) || r == 0x200c || r == 0x200d {
		return false
	}
	return prev != 0x1039 && prev != 0x200d && prev != 0x200c
}
