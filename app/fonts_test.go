package app

import (
	"bytes"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
)

// TestMyanmarThemeFont checks the theme's text fonts: they map Burmese and
// nothing Fyne's own font draws differently, and Burmese shaped in them
// stays inside the line Fyne draws it in (no vowel sign cut off).
func TestMyanmarThemeFont(t *testing.T) {
	th := &vigilTheme{}
	for _, bold := range []bool{false, true} {
		res := th.Font(fyne.TextStyle{Bold: bold})
		if res == theme.DefaultTheme().Font(fyne.TextStyle{Bold: bold}) {
			t.Fatalf("bold %v: the theme font is Fyne's own; the Myanmar font could not be built", bold)
		}
		f, err := font.ParseTTF(bytes.NewReader(res.Content()))
		if err != nil {
			t.Fatalf("bold %v: %v", bold, err)
		}
		fyneFont, err := font.ParseTTF(bytes.NewReader(theme.DefaultTheme().Font(fyne.TextStyle{Bold: bold}).Content()))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range "A1?“”…é" {
			if _, ok := f.NominalGlyph(r); ok {
				t.Errorf("bold %v: the Myanmar font maps %q, which Fyne's font should draw", bold, r)
			}
		}
		space, _ := f.NominalGlyph(' ')
		fyneSpace, _ := fyneFont.NominalGlyph(' ')
		if a, b := f.HorizontalAdvance(space), fyneFont.HorizontalAdvance(fyneSpace); a != b {
			t.Errorf("bold %v: a space is %v wide in the Myanmar font, %v in Fyne's", bold, a, b)
		}
		line, _ := fyneFont.FontHExtents()
		text := []rune("မဲရုံ ပိတ်ထားသည် ကျွန်ုပ်တို့")
		var hb shaping.HarfbuzzShaper
		out := hb.Shape(shaping.Input{Text: text, RunEnd: len(text), Direction: di.DirectionLTR, Face: f,
			Size: fixed.I(int(f.Upem())), Script: language.Myanmar})
		for _, g := range out.Glyphs {
			if g.GlyphID == 0 {
				t.Errorf("bold %v: a missing glyph in %q", bold, string(text))
			}
			if bottom := float32(g.YOffset+g.YBearing+g.Height) / 64; bottom < line.Descender {
				t.Errorf("bold %v: glyph %d of %q reaches %v below the baseline; Fyne's line stops at %v",
					bold, g.GlyphID, string(text[g.ClusterIndex:g.ClusterIndex+g.RuneCount]), bottom, line.Descender)
			}
		}
	}
}
