package app

import (
	"bytes"
	"container/list"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"github.com/vigil-mesh/vigil/app/internal/scene"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/mbtiles"
	"github.com/vigil-mesh/vigil/incident/mbtiles/mbtilestest"
)

// tileColour is the fixture basemap's one colour: no theme colour is
// near it.
var tileColour = color.NRGBA{0xd0, 0x30, 0xc0, 0xff}

// testBasemapFile is an MBTiles file of solid tileColour tiles over
// Nairobi (the test mission's stations), zoom 8 to 14.
func testBasemapFile(t testing.TB) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 256, 256))
	for i := 0; i < 256*256; i++ {
		img.SetNRGBA(i%256, i/256, tileColour)
	}
	var pngb bytes.Buffer
	if err := png.Encode(&pngb, img); err != nil {
		t.Fatal(err)
	}
	b := mbtiles.Bounds{West: 36.6, South: -1.5, East: 37.1, North: -1.1}
	var tiles []mbtilestest.Tile
	for z := 8; z <= 14; z++ {
		for x := int(mbtiles.TileX(b.West, z)); x <= int(mbtiles.TileX(b.East, z)); x++ {
			for y := int(mbtiles.TileY(b.North, z)); y <= int(mbtiles.TileY(b.South, z)); y++ {
				tiles = append(tiles, mbtilestest.Tile{Z: z, X: x, Y: y, Data: pngb.Bytes()})
			}
		}
	}
	var f bytes.Buffer
	meta := map[string]string{"name": "Nairobi test", "format": "png", "bounds": b.String(),
		"attribution": `<a href="https://example.org">© Test tiles</a>`}
	if err := mbtilestest.Write(&f, meta, tiles, mbtilestest.Options{}); err != nil {
		t.Fatal(err)
	}
	return f.Bytes()
}

func openTestBasemap(t testing.TB) *mbtiles.Map {
	t.Helper()
	f := testBasemapFile(t)
	m, err := mbtiles.Open(bytes.NewReader(f), int64(len(f)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// render draws m alone, 400×300, with Fyne's software painter.
func render(t *testing.T, m *mapPlot) image.Image {
	t.Helper()
	test.NewTempApp(t)
	w := test.NewTempWindow(t, m)
	w.SetPadded(false)
	w.Resize(fyne.NewSize(400, 300))
	return w.Canvas().Capture()
}

func near(c color.Color, want color.NRGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, b uint8) int { return max(int(a>>8)-int(b), int(b)-int(a>>8)) }
	return d(r, want.R) < 12 && d(g, want.G) < 12 && d(b, want.B) < 12
}

func TestMapDrawsTheBasemapUnderTheDots(t *testing.T) {
	pts := []Point{{ID: incident.ID{1}, Lat: -1.28, Lon: 36.82, Severity: 4}, {ID: incident.ID{2}, Lat: -1.31, Lon: 36.85, Severity: 1}}
	m := newMapPlot(pts, nil, nil)
	m.base = openTestBasemap(t)
	img := render(t, m)
	// The tiles fill the map: a corner is the tiles' colour.
	if c := img.At(20, 20); !near(c, tileColour) {
		t.Fatalf("the map's corner is %v, not the tiles' %v", c, tileColour)
	}
	// Each dot is drawn over them, where Web Mercator puts it.
	proj, _ := m.projection(m.Size())
	for _, p := range pts {
		pos := proj(p.Lat, p.Lon)
		want := severityColor(p.Severity).(color.NRGBA)
		if c := img.At(int(pos.X), int(pos.Y)); near(c, tileColour) || !near(c, blend(want, tileColour, 0xc0)) {
			t.Fatalf("the dot at %v is %v", pos, c)
		}
	}
	if !strings.Contains(visibleText(m), "© Test tiles") || strings.Contains(visibleText(m), "href") {
		t.Fatalf("attribution: %q", visibleText(m))
	}
}

func TestMapFallsBackToTheGrid(t *testing.T) {
	far := []Point{{ID: incident.ID{1}, Lat: 10.5, Lon: -66.9, Severity: 2}, {ID: incident.ID{2}, Lat: 10.6, Lon: -66.8, Severity: 2}}
	for name, c := range map[string]struct {
		base    tileSource
		outside bool
	}{
		"no basemap":     {nil, false},
		"points outside": {openTestBasemap(t), true},
	} {
		m := newMapPlot(far, nil, nil)
		m.base = c.base
		img := render(t, m)
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y += 7 {
			for x := b.Min.X; x < b.Max.X; x += 7 {
				if near(img.At(x, y), tileColour) {
					t.Fatalf("%s: a tile pixel at %d,%d", name, x, y)
				}
			}
		}
		text := visibleText(m)
		if strings.Contains(text, "°") == false {
			t.Fatalf("%s: no graticule: %q", name, text)
		}
		if got := strings.Contains(text, T("map.outside")); got != c.outside {
			t.Fatalf("%s: says it is outside: %v: %q", name, got, text)
		}
	}
	// With no point at all, the basemap shows itself, the empty text over it.
	m := newMapPlot(nil, nil, nil)
	m.base = openTestBasemap(t)
	if img := render(t, m); !near(img.At(20, 20), tileColour) || !strings.Contains(visibleText(m), T("dash.map_empty")) {
		t.Fatal("an empty map over a basemap")
	}
}

// blend is fg at alpha a over bg.
func blend(fg, bg color.NRGBA, a uint8) color.NRGBA {
	mix := func(f, b uint8) uint8 { return uint8((int(f)*int(a) + int(b)*(255-int(a))) / 255) }
	return color.NRGBA{mix(fg.R, bg.R), mix(fg.G, bg.G), mix(fg.B, bg.B), 0xff}
}

// visibleText is the text objects a map shows.
func visibleText(m *mapPlot) string {
	var b strings.Builder
	walk(m, func(o fyne.CanvasObject) {
		if s := textOf(o); s != "" {
			b.WriteString(s + "\n")
		}
	})
	return b.String()
}

// TestLoadBasemapFromTheDashboard: a coordinator loads a basemap from
// the map panel (the file dialog answered by the test), the map draws
// it; a damaged file is refused in words; remove asks, then the map is
// the grid again.
func TestLoadBasemapFromTheDashboard(t *testing.T) {
	a := test.NewTempApp(t)
	h, _ := missionHomes(t)
	ui := newTestUI(t, a, h, false, testPass)
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "nairobi.mbtiles"), filepath.Join(dir, "bad.mbtiles")
	f := testBasemapFile(t)
	if err := os.WriteFile(good, f, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, append([]byte("not sqlite"), f[10:]...), 0o600); err != nil {
		t.Fatal(err)
	}
	pick := func(path string) {
		ui.chooseOpen = func(exts []string, got func(fyne.URIReadCloser, error)) {
			if len(exts) != 1 || exts[0] != ".mbtiles" {
				t.Errorf("the dialog offers %v", exts)
			}
			got(storage.Reader(storage.NewFileURI(path)))
		}
	}
	dashMap := func() *mapPlot {
		t.Helper()
		ui.wait()
		m, ok := find(ui, func(m *mapPlot) bool { return m.emptyText == T("dash.map_empty") })
		if !ok {
			t.Fatalf("no map on the dashboard:\n%s", allText(ui))
		}
		return m
	}
	if m := dashMap(); m.base != nil || !strings.Contains(allText(ui), T("map.none")) {
		t.Fatal("a new device has a basemap")
	}
	pick(bad)
	tap(t, ui, T("map.load"))
	ui.wait()
	if !strings.Contains(allText(ui), T("map.load_bad")) {
		t.Fatalf("a damaged file:\n%s", allText(ui))
	}
	dismissAll(ui)
	pick(good)
	tap(t, ui, T("map.load"))
	ui.wait()
	if got := toastText(ui); !strings.Contains(got, "Nairobi test") {
		t.Fatalf("toast %q", got)
	}
	if m := dashMap(); m.base == nil || !m.covered() {
		t.Fatal("the dashboard map has no basemap after loading one")
	}
	if !strings.Contains(allText(ui), T("map.loaded", map[string]any{"Name": "Nairobi test", "Min": 8, "Max": 14})) {
		t.Fatalf("the panel does not name the basemap:\n%s", allText(ui))
	}
	tap(t, ui, T("map.remove"))
	closeDialog(t, ui, T("map.remove"))
	ui.wait()
	if m := dashMap(); m.base != nil {
		t.Fatal("the map kept a removed basemap")
	}
}

// TestBasemapScreenshots writes the phone screenshot of the dashboard's
// map over the practice mission's synthetic basemap (scene.Basemap) to
// the folder named by VIGIL_SCREENSHOTS, as TestScreenshots does.
func TestBasemapScreenshots(t *testing.T) {
	out := os.Getenv("VIGIL_SCREENSHOTS")
	if out == "" {
		t.Skip("set VIGIL_SCREENSHOTS to a folder to write screenshots")
	}
	homes, err := scene.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := scene.LoadBasemap(homes.Coordinator); err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	ui := New(a, &fakeNetHome{&Home{Dir: homes.Coordinator, Store: scene.StoreOptions(), NoNetwork: true}},
		Options{Phone: true, RefreshEvery: -1, Now: func() time.Time { return scene.Now }, inline: true})
	ui.win.Resize(fyne.NewSize(400, 820))
	ui.unlock([]byte(scene.Passphrase))
	ui.wait()
	t.Cleanup(ui.Close)
	scrollTo(ui, func(o fyne.CanvasObject) bool { return textOf(o) == T("dash.map") })
	if m, ok := find(ui, func(m *mapPlot) bool { return m.emptyText == T("dash.map_empty") }); !ok || m.base == nil || !m.covered() {
		t.Fatal("the dashboard map does not draw the basemap")
	}
	saveShot(t, ui, filepath.Join(out, "phone-dashboard-basemap.png"))
}

// countingSource counts the tiles decoded.
type countingSource struct {
	tileSource
	decoded map[[3]int]int
}

func (c *countingSource) Image(z, x, y int) (image.Image, error) {
	c.decoded[[3]int{z, x, y}]++
	return c.tileSource.Image(z, x, y)
}

// TestMapDecodesOnlyTheTilesInView: a map decodes the tiles of one zoom
// under its view, once each however often it is drawn, and the cache of
// decoded tiles stays within its bound.
func TestMapDecodesOnlyTheTilesInView(t *testing.T) {
	src := &countingSource{tileSource: openTestBasemap(t), decoded: map[[3]int]int{}}
	m := newMapPlot([]Point{{ID: incident.ID{1}, Lat: -1.28, Lon: 36.82}, {ID: incident.ID{2}, Lat: -1.31, Lon: 36.85}}, nil, nil)
	m.base = src
	render(t, m)
	m.Refresh()
	zooms := map[int]bool{}
	for k, n := range src.decoded {
		zooms[k[0]] = true
		if n != 1 {
			t.Fatalf("tile %v decoded %d times", k, n)
		}
	}
	if len(zooms) != 1 || len(src.decoded) == 0 || len(src.decoded) > 12 {
		t.Fatalf("decoded %d tiles of zooms %v for a 400×300 view", len(src.decoded), zooms)
	}
	c := &tileCache{max: 3, order: list.New(), items: map[tileKey]*list.Element{}, imgs: map[tileKey]image.Image{}}
	for x := range 5 {
		c.get(src, 14, x, 0)
	}
	if c.order.Len() != 3 || len(c.imgs) != 3 {
		t.Fatalf("the cache holds %d tiles, over its bound of 3", c.order.Len())
	}
	c.drop(src)
	if c.order.Len() != 0 || len(c.items) != 0 {
		t.Fatal("drop left tiles")
	}
}
