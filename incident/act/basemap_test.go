package act

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident/mbtiles"
	"github.com/vigil-mesh/vigil/incident/mbtiles/mbtilestest"
	"github.com/vigil-mesh/vigil/incident/store"
)

// testBasemap is a small MBTiles file: zoom 0 to 3, one colour a zoom.
func testBasemap(t testing.TB) []byte {
	var tiles []mbtilestest.Tile
	for z := 0; z <= 3; z++ {
		img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
		for i := 0; i < 64; i++ {
			img.Set(i%8, i/8, color.NRGBA{R: uint8(60 * z), G: 100, B: 50, A: 255})
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		for x := 0; x < 1<<z; x++ {
			for y := 0; y < 1<<z; y++ {
				tiles = append(tiles, mbtilestest.Tile{Z: z, X: x, Y: y, Data: b.Bytes()})
			}
		}
	}
	var f bytes.Buffer
	meta := map[string]string{"name": "Calvera", "attribution": "Synthetic tiles", "format": "png", "bounds": "-10,-10,10,10"}
	if err := mbtilestest.Write(&f, meta, tiles, mbtilestest.Options{}); err != nil {
		t.Fatal(err)
	}
	return f.Bytes()
}

func TestBasemapLoadShowRemove(t *testing.T) {
	d := newDesk(t, "b")
	if b, err := d.OpenBasemap(); b != nil || err != nil {
		t.Fatalf("a new home has a basemap: %v %v", b, err)
	}
	file := testBasemap(t)
	in, err := d.LoadBasemap(BasemapLoad{Name: "calvera.mbtiles", From: bytes.NewReader(file)})
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "Calvera" || in.Tiles != 85 || in.Bytes != int64(len(file)) || len(in.Zooms) != 4 {
		t.Fatalf("loaded %+v", in)
	}
	// Kept encrypted: the file in the home is not the MBTiles file, and
	// holds none of its text.
	kept, err := os.ReadFile(filepath.Join(store.MapsDir(d.st.Home()), basemapFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(kept, []byte("SQLite format")) || bytes.Contains(kept, []byte("Calvera")) {
		t.Fatal("the basemap is kept in the clear")
	}
	b, err := d.OpenBasemap()
	if err != nil || b == nil {
		t.Fatal(b, err)
	}
	defer b.Close()
	if img, err := b.Image(3, 5, 5); err != nil || img.Bounds().Dx() != 8 {
		t.Fatalf("tile: %v", err)
	}
	// A damaged file is refused and the basemap held stays.
	bad := bytes.Clone(file)
	copy(bad[100:], "garbage!")
	_, err = d.LoadBasemap(BasemapLoad{Name: "bad.mbtiles", From: bytes.NewReader(bad)})
	if !errors.Is(err, BadFile) || !errors.Is(err, mbtiles.ErrCorrupt) || !strings.Contains(err.Error(), "bad.mbtiles") {
		t.Fatalf("a damaged file: %v", err)
	}
	if in, err := d.BasemapInfo(); err != nil || in == nil || in.Name != "Calvera" {
		t.Fatalf("after a refused load: %+v %v", in, err)
	}
	entries, _ := os.ReadDir(store.MapsDir(d.st.Home()))
	if len(entries) != 1 {
		t.Fatalf("a refused load left %d files", len(entries))
	}
	if gone, err := d.RemoveBasemap(); !gone || err != nil {
		t.Fatal(gone, err)
	}
	if gone, err := d.RemoveBasemap(); gone || err != nil {
		t.Fatal("second remove", gone, err)
	}
	if in, err := d.BasemapInfo(); in != nil || err != nil {
		t.Fatal(in, err)
	}
}

func TestBasemapRefusals(t *testing.T) {
	d := newDesk(t, "r")
	for name, file := range map[string][]byte{
		"empty": nil,
		"text":  []byte("name,lat,lon\n"),
		"no tiles": func() []byte {
			var b bytes.Buffer
			_ = mbtilestest.Write(&b, nil, nil, mbtilestest.Options{})
			return b.Bytes()
		}(),
		"not images": func() []byte {
			var b bytes.Buffer
			_ = mbtilestest.Write(&b, nil, []mbtilestest.Tile{{Z: 0, Data: []byte("<svg/>")}}, mbtilestest.Options{})
			return b.Bytes()
		}(),
	} {
		if _, err := d.LoadBasemap(BasemapLoad{Name: name, From: bytes.NewReader(file)}); !errors.Is(err, BadFile) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := os.Stat(store.MapsDir(d.st.Home())); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("refused files left the maps folder: %v", err)
	}
}

// TestWipeTakesTheBasemap: a wiped home keeps no basemap (nor the maps
// folder, which would show the home was used).
func TestWipeTakesTheBasemap(t *testing.T) {
	d := newDesk(t, "w")
	if _, err := d.LoadBasemap(BasemapLoad{Name: "m", From: bytes.NewReader(testBasemap(t))}); err != nil {
		t.Fatal(err)
	}
	home := d.st.Home()
	if err := d.st.Close(); err != nil {
		t.Fatal(err)
	}
	if removed, err := store.Wipe(home); !removed || err != nil {
		t.Fatal(removed, err)
	}
	if _, err := os.Stat(store.MapsDir(home)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the maps folder outlived the wipe: %v", err)
	}
}
