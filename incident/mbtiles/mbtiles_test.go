package mbtiles_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident/mbtiles"
	"github.com/vigil-mesh/vigil/incident/mbtiles/mbtilestest"
)

// solid is a size×size PNG of one colour.
func solid(t testing.TB, size int, c color.Color) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for i := 0; i < size*size; i++ {
		img.Set(i%size, i/size, c)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// noisy is a PNG that does not compress: its tile spills to overflow
// pages.
func noisy(t testing.TB, size int, seed byte) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	s := uint32(seed) + 1
	for i := range img.Pix {
		s = s*1664525 + 1013904223
		img.Pix[i] = byte(s >> 24)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func write(t testing.TB, meta map[string]string, tiles []mbtilestest.Tile, o mbtilestest.Options) []byte {
	var b bytes.Buffer
	if err := mbtilestest.Write(&b, meta, tiles, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func open(t testing.TB, b []byte) (*mbtiles.Map, error) {
	return mbtiles.Open(bytes.NewReader(b), int64(len(b)))
}

// pyramid is every tile from zoom 0 to maxZ over the area around
// (lat, lon), each a distinct noisy PNG.
func pyramid(t testing.TB, lat, lon float64, maxZ, size int) []mbtilestest.Tile {
	var out []mbtilestest.Tile
	for z := 0; z <= maxZ; z++ {
		x, y := int(mbtiles.TileX(lon, z)), int(mbtiles.TileY(lat, z))
		for dx := -1; dx <= 1; dx++ {
			for dy := -1; dy <= 1; dy++ {
				tx, ty := x+dx, y+dy
				if tx < 0 || ty < 0 || tx >= 1<<z || ty >= 1<<z {
					continue
				}
				out = append(out, mbtilestest.Tile{Z: z, X: tx, Y: ty, Data: noisy(t, size, byte(z*16+tx+ty))})
			}
		}
	}
	return out
}

func TestOpenReadsWhatWasWritten(t *testing.T) {
	for _, ps := range []int{512, 1024, 4096} {
		tiles := pyramid(t, 10.5, -66.9, 6, 16)
		meta := map[string]string{"name": "Test", "attribution": "© OpenStreetMap contributors", "format": "png", "bounds": "-67.5,10,-66,11"}
		b := write(t, meta, tiles, mbtilestest.Options{PageSize: ps})
		m, err := open(t, b)
		if err != nil {
			t.Fatalf("page size %d: %v", ps, err)
		}
		in := m.Info()
		if in.Name != "Test" || in.Attribution != meta["attribution"] || in.Tiles != len(tiles) || len(in.Zooms) != 7 || in.Bounds.West != -67.5 {
			t.Fatalf("page size %d: info %+v", ps, in)
		}
		for _, tl := range tiles {
			got, err := m.Tile(tl.Z, tl.X, tl.Y)
			if err != nil || !bytes.Equal(got, tl.Data) {
				t.Fatalf("page size %d: tile %d/%d/%d: %v (%d bytes, want %d)", ps, tl.Z, tl.X, tl.Y, err, len(got), len(tl.Data))
			}
		}
		if _, err := m.Tile(6, 0, 0); !errors.Is(err, mbtiles.ErrNoTile) {
			t.Fatalf("a missing tile: %v", err)
		}
		if _, err := m.Image(0, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// sqliteFixture is a small MBTiles file written by SQLite 3.40 itself
// (sqlite3 testdata/sqlite-index.mbtiles < testdata/seed.sql): 512-byte
// pages, an index on the tiles' coordinates, a tile in overflow pages.
const sqliteFixture = "testdata/sqlite-index.mbtiles"

func TestSQLiteFixture(t *testing.T) {
	b, err := os.ReadFile(sqliteFixture)
	if err != nil {
		t.Fatal(err)
	}
	m, err := open(t, b)
	if err != nil {
		t.Fatal(err)
	}
	if used, _ := mbtiles.ListedFromIndex(m); !used || m.Info().Tiles != 86 || m.Info().Name != "seed" || len(m.Info().Zooms) != 5 {
		t.Fatalf("index used %v, info %+v", used, m.Info())
	}
	if tile, err := m.Tile(4, 0, 15); err != nil || len(tile) != 700 {
		t.Fatalf("the tile in overflow pages: %d bytes, %v", len(tile), err)
	}
}

// TestSQLiteAgrees checks the writer's files with SQLite itself, and the
// reader on a file SQLite wrote (with an index, a deleted row and
// tiles in a second b-tree level), when the sqlite3 tool is installed.
func TestSQLiteAgrees(t *testing.T) {
	sq, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("no sqlite3 tool")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "w.mbtiles")
	// Enough tiles for an index of three levels in 512-byte pages.
	wt := pyramid(t, 0, 0, 5, 24)
	for i := range 3000 {
		wt = append(wt, mbtilestest.Tile{Z: 13, X: 3000 + i%60, Y: 100 + i/60, Data: []byte{byte(i)}})
	}
	wf := write(t, map[string]string{"name": "w"}, wt, mbtilestest.Options{PageSize: 512})
	if err := os.WriteFile(path, wf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sq, path, "PRAGMA integrity_check; SELECT count(*) FROM tiles INDEXED BY tile_index WHERE zoom_level=13 AND tile_column=3001;").CombinedOutput()
	if err != nil || string(out) != "ok\n50\n" {
		t.Fatalf("sqlite3 on the writer's file: %v\n%s", err, out)
	}
	wm, err := open(t, wf)
	if err != nil || wm.Info().Tiles != len(wt) {
		t.Fatalf("the writer's file: %v", err)
	}
	if used, _ := mbtiles.ListedFromIndex(wm); !used {
		t.Fatal("the writer's index was not used")
	}
	// SQLite's own file, its tiles written as hex literals.
	var sql strings.Builder
	sql.WriteString("PRAGMA page_size=1024; BEGIN; CREATE TABLE metadata (name text, value text); CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob); CREATE UNIQUE INDEX tile_index on tiles (zoom_level, tile_column, tile_row);")
	sql.WriteString("INSERT INTO metadata VALUES ('name','real'),('format','png'),('attribution','Synthetic');")
	tiles := pyramid(t, 50, 8, 5, 20)
	for _, tl := range tiles {
		sql.WriteString("INSERT INTO tiles VALUES (" + itoa(tl.Z) + "," + itoa(tl.X) + "," + itoa((1<<tl.Z)-1-tl.Y) + ",x'" + hexOf(tl.Data) + "');")
	}
	// Enough small tiles at zoom 12 for an index of several levels.
	for i := range 600 {
		tl := mbtilestest.Tile{Z: 12, X: 1000 + i%30, Y: 2000 + i/30, Data: []byte{byte(i), byte(i >> 8)}}
		tiles = append(tiles, tl)
		sql.WriteString("INSERT INTO tiles VALUES (12," + itoa(tl.X) + "," + itoa((1<<12)-1-tl.Y) + ",x'" + hexOf(tl.Data) + "');")
	}
	sql.WriteString("INSERT INTO tiles VALUES (9,0,0,x'00'); DELETE FROM tiles WHERE zoom_level=9; COMMIT;")
	real := filepath.Join(dir, "real.mbtiles")
	cmd := exec.Command(sq, real)
	cmd.Stdin = strings.NewReader(sql.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	m, err := open(t, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Info().Tiles != len(tiles) || m.Info().Name != "real" {
		t.Fatalf("info %+v", m.Info())
	}
	used, root := mbtiles.ListedFromIndex(m)
	if !used {
		t.Fatal("the tiles were not listed from the file's index")
	}
	for _, tl := range tiles {
		if got, err := m.Tile(tl.Z, tl.X, tl.Y); err != nil || !bytes.Equal(got, tl.Data) {
			t.Fatalf("tile %d/%d/%d: %v", tl.Z, tl.X, tl.Y, err)
		}
	}
	// A damaged index: the table lists the tiles instead.
	bad := bytes.Clone(b)
	bad[(int(root)-1)*1024] = 0x55
	m, err = open(t, bad)
	if err != nil || m.Info().Tiles != len(tiles) {
		t.Fatalf("with a damaged index: %v", err)
	}
	if used, _ := mbtiles.ListedFromIndex(m); used {
		t.Fatal("a damaged index was used")
	}

}

// TestDeduplicatedFile: a deduplicated MBTiles (tiles a view over map
// and images, as mbutil and GDAL write) is refused naming the sqlite3
// line that rewrites it, and that line works.
func TestDeduplicatedFile(t *testing.T) {
	sq, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("no sqlite3 tool")
	}
	path := filepath.Join(t.TempDir(), "dedup.mbtiles")
	tile := hexOf(solid(t, 4, color.White))
	sql := "CREATE TABLE metadata (name text, value text); CREATE TABLE map (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_id TEXT);" +
		"CREATE TABLE images (tile_data blob, tile_id text); CREATE VIEW tiles AS SELECT map.zoom_level AS zoom_level, map.tile_column AS tile_column," +
		" map.tile_row AS tile_row, images.tile_data AS tile_data FROM map JOIN images ON images.tile_id = map.tile_id;" +
		"INSERT INTO images VALUES (x'" + tile + "', 'a'); INSERT INTO map VALUES (0,0,0,'a'),(1,0,0,'a'),(1,1,1,'a');"
	if out, err := exec.Command(sq, path, sql).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b, _ := os.ReadFile(path)
	_, err = open(t, b)
	if !errors.Is(err, mbtiles.ErrNotBasemap) || !strings.Contains(err.Error(), "sqlite3 FILE") {
		t.Fatalf("a deduplicated file: %v", err)
	}
	line := err.Error()[strings.Index(err.Error(), "sqlite3 FILE \"")+len("sqlite3 FILE \""):]
	line = line[:strings.Index(line, "\"")]
	if out, err := exec.Command(sq, path, line).CombinedOutput(); err != nil {
		t.Fatalf("the line %q: %v: %s", line, err, out)
	}
	b, _ = os.ReadFile(path)
	m, err := open(t, b)
	if err != nil || m.Info().Tiles != 3 || !m.Has(1, 1, 0) {
		t.Fatalf("after the rewrite: %v", err)
	}
}

// TestIndexThatLies: an index whose entries send a tile's coordinates to
// another tile's row (a forged file: an index built over another table,
// then renamed to the tiles') lists the tiles it names, and reading one
// is an error, never another place's tile.
func TestIndexThatLies(t *testing.T) {
	sq, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("no sqlite3 tool")
	}
	path := filepath.Join(t.TempDir(), "lies.mbtiles")
	sql := "BEGIN; CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob);" +
		"CREATE TABLE other (zoom_level integer, tile_column integer, tile_row integer, tile_data blob);" +
		"INSERT INTO tiles VALUES (1,0,0,x'01'),(1,1,0,x'02');" +
		"INSERT INTO other VALUES (1,1,0,x'01'),(1,0,0,x'02');" +
		"CREATE UNIQUE INDEX tile_index ON other (zoom_level, tile_column, tile_row); COMMIT;" +
		"PRAGMA writable_schema=ON; UPDATE sqlite_master SET tbl_name='tiles', sql=replace(sql,'other','tiles') WHERE name='tile_index';"
	if out, err := exec.Command(sq, path, sql).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	b, _ := os.ReadFile(path)
	m, err := open(t, b)
	if err != nil {
		t.Fatal(err)
	}
	if used, _ := mbtiles.ListedFromIndex(m); !used {
		t.Fatal("the index was not used")
	}
	if _, err := m.Tile(1, 0, 1); !errors.Is(err, mbtiles.ErrCorrupt) {
		t.Fatalf("a tile the index misplaces: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// TestHostileFiles: each damage is an error wrapping ErrCorrupt or
// ErrNotBasemap, never a panic or a hang.
func TestHostileFiles(t *testing.T) {
	good := write(t, map[string]string{"name": "x"}, pyramid(t, 0, 0, 4, 24), mbtilestest.Options{PageSize: 512})
	set := func(off int, v ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[off:], v)
		return b
	}
	// The tiles table's root: the second row of the schema on page 1.
	cases := []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, mbtiles.ErrCorrupt},
		{"not sqlite", bytes.Repeat([]byte("PK"), 512), mbtiles.ErrCorrupt},
		{"cut short", good[:len(good)-100], mbtiles.ErrCorrupt},
		{"page size 3", set(16, 0, 3), mbtiles.ErrCorrupt},
		{"utf-16", set(56, 0, 0, 0, 2), mbtiles.ErrCorrupt},
		{"page 1 not a b-tree", set(100, 7), mbtiles.ErrCorrupt},
		{"page 1 claims 9999 cells", set(103, 0x27, 0x0f), mbtiles.ErrCorrupt},
		{"no tiles table", write(t, map[string]string{"name": "x"}, nil, mbtilestest.Options{}), mbtiles.ErrNotBasemap},
		{"vector tiles", write(t, map[string]string{"format": "pbf"}, pyramid(t, 0, 0, 0, 4), mbtilestest.Options{}), mbtiles.ErrNotBasemap},
	}
	for _, c := range cases {
		_, err := open(t, c.file)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// Every single-byte damage of the first pages opens or fails cleanly,
	// and a tile read afterwards does too.
	for off := 0; off < 4*512 && off < len(good); off += 3 {
		b := bytes.Clone(good)
		b[off] ^= 0xa5
		if m, err := open(t, b); err == nil {
			_, _ = m.Image(0, 0, 0)
		}
	}
}

func TestTileLimits(t *testing.T) {
	big := bytes.Repeat([]byte{1}, mbtiles.MaxTileBytes+1)
	m, err := open(t, write(t, nil, []mbtilestest.Tile{{Z: 0, Data: big}, {Z: 1, Data: []byte("not an image")}}, mbtilestest.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Tile(0, 0, 0); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("a tile over the limit: %v", err)
	}
	if _, err := m.Image(1, 0, 0); err == nil {
		t.Fatal("a tile that is no image decoded")
	}
	// A PNG header declaring 100000×100000 pixels is refused before its
	// pixels are allocated.
	huge := solid(t, 1, color.White)
	binary.BigEndian.PutUint32(huge[16:], 100000)
	binary.BigEndian.PutUint32(huge[20:], 100000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	if _, err := mbtiles.DecodeTile(huge); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("a huge tile: %v", err)
	}
}

func TestFitZoom(t *testing.T) {
	m, err := open(t, write(t, nil, pyramid(t, 10.5, -66.9, 14, 4), mbtilestest.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	// A city of about 0.1° on a 400-pixel view: zoom 11 or 12 shows
	// 256-pixel tiles near their own size.
	w := mbtiles.TileX(-66.85, 0) - mbtiles.TileX(-66.95, 0)
	h := mbtiles.TileY(10.45, 0) - mbtiles.TileY(10.55, 0)
	z, ok := m.FitZoom(w, h, 400, 400, 256, 64)
	if !ok || z < 11 || z > 12 {
		t.Fatalf("zoom %d %v", z, ok)
	}
	// The whole world wants zoom 0 or 1.
	if z, ok := m.FitZoom(1, 1, 400, 400, 256, 64); !ok || z > 1 {
		t.Fatalf("world: zoom %d %v", z, ok)
	}
	// A file of zoom 14 alone cannot show the world in 64 tiles.
	only, err := open(t, write(t, nil, []mbtilestest.Tile{{Z: 14, X: 1, Y: 1, Data: solid(t, 4, color.White)}}, mbtilestest.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := only.FitZoom(1, 1, 400, 400, 256, 64); ok {
		t.Fatal("zoom 14 fitted the world")
	}
}

func TestMercator(t *testing.T) {
	for _, c := range []struct{ lat, lon float64 }{{0, 0}, {10.5, -66.9}, {-33.9, 151.2}, {60, 25}} {
		for z := 0; z < 18; z += 5 {
			lat, lon := mbtiles.TileLat(mbtiles.TileY(c.lat, z), z), mbtiles.TileLon(mbtiles.TileX(c.lon, z), z)
			if math.Abs(lat-c.lat) > 1e-9 || math.Abs(lon-c.lon) > 1e-9 {
				t.Fatalf("%v at zoom %d came back as %v,%v", c, z, lat, lon)
			}
		}
	}
	if y := mbtiles.TileY(0, 1); y != 1 {
		t.Fatalf("the equator at zoom 1 is row %v", y)
	}
}

// FuzzOpen: whatever the file, Open and tile reads end, with an error
// or without, in bounded time and memory. Tiles are read, not decoded:
// decoding is the standard library's (its size limit is TestTileLimits').
func FuzzOpen(f *testing.F) {
	if b, err := os.ReadFile(sqliteFixture); err == nil {
		f.Add(b)
	}
	f.Add(write(f, map[string]string{"name": "x", "bounds": "-1,-1,1,1"}, pyramid(f, 0, 0, 2, 8), mbtilestest.Options{PageSize: 512}))
	f.Add(write(f, nil, []mbtilestest.Tile{{Z: 0, Data: noisy(f, 40, 1)}}, mbtilestest.Options{PageSize: 512}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := open(t, b)
		if err != nil {
			return
		}
		for _, z := range m.Info().Zooms {
			if x, y, ok := m.AnyTile(z); ok {
				_, _ = m.Tile(z, x, y)
			}
		}
	})
}
