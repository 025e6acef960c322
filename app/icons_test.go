package app

import (
	"bytes"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/font"

	"github.com/vigil-mesh/vigil/incident"
)

// pictograms are every emoji the app draws: the icon tables and those
// written into the code.
func pictograms(t *testing.T) map[string]string {
	t.Helper()
	all := map[string]string{}
	for _, m := range []map[string]string{familyIcons, categoryIcons, checkinIcons, channelIcons, deliveryIcons, roleIcons} {
		for k, v := range m {
			all[k] = v
		}
	}
	for n, v := range severityIcons {
		all["severity "+string(rune('0'+n))] = v
	}
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range string(src) {
			if r >= 0x1F000 || (r >= 0x2600 && r <= 0x27BF) {
				all[f+" "+string(r)] = string(r)
			}
		}
	}
	return all
}

// Every pictogram is in the emoji font Fyne bundles and draws as a
// visible, coloured picture: a missing one shows as a box or nothing, and
// some present ones (🚶, ⚡, ❗, 📱) draw empty or tiny.
func TestPictogramsDraw(t *testing.T) {
	f, err := font.ParseTTF(bytes.NewReader(theme.DefaultEmojiFont().Content()))
	if err != nil {
		t.Fatal(err)
	}
	test.NewTempApp(t)
	for name, s := range pictograms(t) {
		for _, r := range s {
			if r == 0xFE0F || r == 0x200D {
				continue
			}
			if _, ok := f.NominalGlyph(r); !ok {
				t.Errorf("%s: %q (U+%04X) is not in the bundled emoji font", name, s, r)
			}
		}
		tx := canvas.NewText(s, color.Black)
		tx.TextSize = 40
		c := software.NewTransparentCanvas()
		c.SetContent(tx)
		c.Resize(fyne.NewSize(60, 60))
		img := c.Capture()
		ink := 0
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if _, _, _, a := img.At(x, y).RGBA(); a > 0x8000 {
					ink++
				}
			}
		}
		if ink < 150 {
			t.Errorf("%s: %q draws only %d pixels at 40 points", name, s, ink)
		}
	}
	for _, c := range incident.BaseTaxonomy {
		if _, ok := categoryIcons[c.Code]; !ok {
			t.Errorf("category %s has no pictogram", c.Code)
		}
	}
	for _, l := range [][]string{incident.Channels, incident.CheckinStatuses} {
		for _, k := range l {
			if _, ok := channelIcons[k]; !ok {
				if _, ok := checkinIcons[k]; !ok {
					t.Errorf("%s has no pictogram", k)
				}
			}
		}
	}
}
