package app

// Burmese in Fyne 2.7. Fyne draws each line of text into an image as tall
// as its theme font's line (ascent plus descent), and finds fonts for other
// scripts on the system (go-text's fontscan: /usr/share/fonts, Android's
// /system/fonts). Amharic and Chinese fit that line; Burmese does not:
// the Noto Sans Myanmar that fontscan picks hangs its vowel signs and
// stacked consonants up to 0.86 em below the baseline, where Fyne cuts them
// off (the ု of ရုံ vanishes). Noto Sans Myanmar UI is drawn to fit Noto
// Sans's line, so the theme's text font is Noto Sans Myanmar UI with only
// its Myanmar characters mapped: Fyne looks a character up in the theme
// font first and falls back to its own Noto Sans for everything else, so
// other text is drawn exactly as before. The two files cost 400 KB.

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"fyne.io/fyne/v2"
	"github.com/go-text/typesetting/font"
)

var (
	//go:embed fonts/NotoSansMyanmarUI-Regular.ttf
	myanmarUIRegular []byte
	//go:embed fonts/NotoSansMyanmarUI-Bold.ttf
	myanmarUIBold []byte
)

var myanmarFonts struct {
	once          sync.Once
	regular, bold fyne.Resource
}

// myanmarFont is the theme's text font for regular or bold text: Noto
// Sans Myanmar UI mapping only Myanmar; nil if it cannot be built (then
// Fyne's own font serves, and Burmese may be cut off).
func myanmarFont(bold bool) fyne.Resource {
	m := &myanmarFonts
	m.once.Do(func() {
		if b, err := myanmarOnly(myanmarUIRegular); err == nil {
			m.regular = fyne.NewStaticResource("NotoSansMyanmarUI-Regular.ttf", b)
		}
		if b, err := myanmarOnly(myanmarUIBold); err == nil {
			m.bold = fyne.NewStaticResource("NotoSansMyanmarUI-Bold.ttf", b)
		}
	})
	if bold {
		return m.bold
	}
	return m.regular
}

// keepInMyanmarFont reports whether the theme's Myanmar font maps r: the
// Myanmar blocks, and the spaces, joiners and dotted circle its shaping
// uses (the spaces have Noto Sans's width, so lines measure the same).
func keepInMyanmarFont(r rune) bool {
	switch {
	case r >= 0x1000 && r <= 0x109f, r >= 0xa9e0 && r <= 0xa9ff, r >= 0xaa60 && r <= 0xaa7f:
		return true
	}
	return r == ' ' || r == 0xa0 || r >= 0x200b && r <= 0x200d || r == 0x25cc
}

// myanmarOnly returns the font data with its character map cut down to
// the characters keepInMyanmarFont keeps; every other table is unchanged.
func myanmarOnly(data []byte) ([]byte, error) {
	f, err := font.ParseTTF(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	type pair struct {
		r   rune
		gid font.GID
	}
	var keep []pair
	for it := f.Cmap.Iter(); it.Next(); {
		if r, g := it.Char(); keepInMyanmarFont(r) && r <= 0xffff {
			keep = append(keep, pair{r, g})
		}
	}
	if len(keep) == 0 {
		return nil, errors.New("font maps no Myanmar characters")
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].r < keep[j].r })
	// A format 4 subtable, one segment a character and the closing 0xFFFF.
	seg := len(keep) + 1
	sub := make([]byte, 16+8*seg)
	binary.BigEndian.PutUint16(sub[0:], 4)
	binary.BigEndian.PutUint16(sub[2:], uint16(len(sub)))
	binary.BigEndian.PutUint16(sub[6:], uint16(2*seg))
	es := 0
	for 1<<(es+1) <= seg {
		es++
	}
	binary.BigEndian.PutUint16(sub[8:], uint16(2<<es))
	binary.BigEndian.PutUint16(sub[10:], uint16(es))
	binary.BigEndian.PutUint16(sub[12:], uint16(2*seg-2<<es))
	ends, starts, deltas := 14, 16+2*seg, 16+4*seg // idRangeOffsets stay 0
	for i := range seg {
		code, delta := uint16(0xffff), uint16(1)
		if i < len(keep) {
			code, delta = uint16(keep[i].r), uint16(keep[i].gid)-uint16(keep[i].r)
		}
		binary.BigEndian.PutUint16(sub[ends+2*i:], code)
		binary.BigEndian.PutUint16(sub[starts+2*i:], code)
		binary.BigEndian.PutUint16(sub[deltas+2*i:], delta)
	}
	cmap := append([]byte{0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 12}, sub...) // version 0, one Windows Unicode BMP subtable
	return replaceTable(data, "cmap", cmap)
}

// replaceTable returns a TrueType file with table tag replaced by b.
func replaceTable(data []byte, tag string, b []byte) ([]byte, error) {
	if len(data) < 12 {
		return nil, errors.New("font header cut short")
	}
	n := int(binary.BigEndian.Uint16(data[4:]))
	if 12+16*n > len(data) {
		return nil, errors.New("font table directory cut short")
	}
	out := slices.Clone(data[:12+16*n])
	var body bytes.Buffer
	for i := range n {
		r := out[12+16*i:]
		off, length := uint64(binary.BigEndian.Uint32(r[8:])), uint64(binary.BigEndian.Uint32(r[12:]))
		if off+length > uint64(len(data)) {
			return nil, fmt.Errorf("font table %q runs past the file", r[:4])
		}
		t := data[off : off+length]
		if string(r[:4]) == tag {
			t = b
		}
		var sum uint32
		for j := 0; j < len(t); j += 4 {
			var w [4]byte
			copy(w[:], t[j:])
			sum += binary.BigEndian.Uint32(w[:])
		}
		binary.BigEndian.PutUint32(r[4:], sum)
		binary.BigEndian.PutUint32(r[8:], uint32(len(out)+body.Len()))
		binary.BigEndian.PutUint32(r[12:], uint32(len(t)))
		body.Write(t)
		for body.Len()%4 != 0 {
			body.WriteByte(0)
		}
	}
	return append(out, body.Bytes()...), nil
}
