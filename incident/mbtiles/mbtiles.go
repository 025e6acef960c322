// Package mbtiles reads MBTiles files: raster map tiles in a SQLite file
// (https://github.com/mapbox/mbtiles-spec), the offline basemap format
// ODK Collect, QGIS ("Generate XYZ tiles (MBTiles)") and most tile
// downloaders use. A mission loads one so that its map shows streets and
// places under the reports' dots without any network.
//
// The file is hostile until read: Open checks the SQLite structure it
// walks (sqlite.go), lists at most MaxTiles tiles, and every tile read
// later is bounded by MaxTileBytes and decoded only when its dimensions
// are at most MaxTilePixels a side. A malformed file is an error wrapping
// ErrCorrupt; a well-formed one that is not a usable basemap wraps
// ErrNotBasemap. Open reads from an io.ReaderAt, so the file can stay
// encrypted at rest and be decrypted a chunk at a time (incident/act).
package mbtiles

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // JPEG tiles
	_ "image/png"  // PNG tiles
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	_ "golang.org/x/image/webp" // WebP tiles
)

// Limits on what a file may hold.
const (
	// MaxTiles bounds the tiles listed; the list costs 16 bytes a tile
	// (8 MiB at the limit), and a city to zoom 17 or a country to zoom 12
	// is far below it.
	MaxTiles = 1 << 19
	// MaxTileBytes bounds one tile's encoded size (a 512-pixel JPEG is
	// under 100 KiB).
	MaxTileBytes = 1 << 20
	// MaxTilePixels bounds a tile's width and height: decoding allocates
	// their product, four bytes a pixel.
	MaxTilePixels = 1024
	// MaxZoom is the deepest zoom level read (about 2 cm a pixel).
	MaxZoom = 24
	// maxMetadata bounds the metadata rows read, and maxMetaValue each
	// value kept (a long description is cut, never refused).
	maxMetadata  = 1000
	maxMetaValue = 4096
)

// ErrNotBasemap is wrapped by errors about a well-formed SQLite file
// that is not a usable MBTiles basemap (no tiles table, no tiles, a
// vector tileset).
var ErrNotBasemap = errors.New("not a raster MBTiles basemap")

// ErrNoTile is returned for a tile the file does not hold.
var ErrNoTile = errors.New("no such tile in the basemap")

// Bounds is an extent in degrees (WGS 84).
type Bounds struct {
	West, South, East, North float64
}

// Contains reports whether the point lies inside b.
func (b Bounds) Contains(lat, lon float64) bool {
	return lat >= b.South && lat <= b.North && lon >= b.West && lon <= b.East
}

// String is the bounds as MBTiles writes them: west,south,east,north.
func (b Bounds) String() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	return f(b.West) + "," + f(b.South) + "," + f(b.East) + "," + f(b.North)
}

// Info describes a basemap: its metadata and the tiles it actually holds.
type Info struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Attribution is shown under the map: tile licences (OpenStreetMap's
	// ODbL among them) require it.
	Attribution string `json:"attribution,omitempty"`
	// Format is the metadata's (png, jpg, webp); tiles are decoded by
	// their content whatever it says.
	Format string `json:"format,omitempty"`
	// Bounds are the metadata's when it has valid ones, else the extent
	// of the tiles at the lowest zoom.
	Bounds Bounds `json:"bounds"`
	// Zooms are the zoom levels holding tiles, ascending.
	Zooms []int `json:"zooms"`
	Tiles int   `json:"tiles"`
}

// entry locates one tile: key packs zoom, column and XYZ row.
type entry struct {
	key   uint64
	rowid int64
}

func tileKey(z, x, y int) uint64 { return uint64(z)<<50 | uint64(x)<<25 | uint64(y) }

// Map is an open MBTiles file. Its methods may be called from several
// goroutines only if its io.ReaderAt allows it (files and age's
// decrypting reader do).
type Map struct {
	db   *db
	root uint32 // the tiles table's root page
	cols [4]int // zoom_level, tile_column, tile_row, tile_data
	// indexes are the tiles table's indexes on its coordinates, read to
	// list the tiles when there is one.
	indexes   []uint32
	fromIndex bool // the tiles were listed from indexes[0]
	index     []entry
	info      Info
}

// Info describes the open basemap.
func (m *Map) Info() Info { return m.info }

// Open reads a basemap's schema, metadata and list of tiles from r,
// size bytes long. Tile data is read later, a tile at a time.
func Open(r io.ReaderAt, size int64) (*Map, error) {
	d, err := openDB(r, size)
	if err != nil {
		return nil, err
	}
	tables, err := d.schema()
	if err != nil {
		return nil, err
	}
	tiles, ok := tables["tiles"]
	if !ok {
		return nil, fmt.Errorf("%w: the file has no table \"tiles\"", ErrNotBasemap)
	}
	if tiles.kind != "table" {
		return nil, fmt.Errorf("%w: \"tiles\" is a %s, as in a deduplicated MBTiles (mbutil, GDAL); export it again with plain tiles (QGIS: Generate XYZ tiles (MBTiles)), or rewrite it: sqlite3 FILE \"create table t as select * from tiles; drop view tiles; alter table t rename to tiles; vacuum\"", ErrNotBasemap, tiles.kind)
	}
	m := &Map{db: d, root: tiles.root, indexes: tiles.indexes}
	for i, name := range []string{"zoom_level", "tile_column", "tile_row", "tile_data"} {
		m.cols[i] = slices.Index(tiles.columns, name)
		if m.cols[i] < 0 {
			return nil, fmt.Errorf("%w: the table \"tiles\" has no column %q", ErrNotBasemap, name)
		}
	}
	meta := map[string]string{}
	if t, ok := tables["metadata"]; ok && t.kind == "table" {
		if meta, err = d.metadata(t); err != nil {
			return nil, err
		}
	}
	if f := strings.ToLower(meta["format"]); f == "pbf" || f == "mvt" {
		return nil, fmt.Errorf("%w: its tiles are vector tiles (format %q); Vigil draws raster tiles (png, jpg, webp)", ErrNotBasemap, f)
	}
	if err := m.list(); err != nil {
		return nil, err
	}
	if len(m.index) == 0 {
		return nil, fmt.Errorf("%w: its table \"tiles\" holds no tile", ErrNotBasemap)
	}
	m.info = m.describe(meta)
	return m, nil
}

// table is a schema entry.
type table struct {
	kind    string // table, view, index
	root    uint32
	columns []string
	// indexes are the roots of the table's indexes whose leading
	// columns are zoom_level, tile_column, tile_row (written as SQL:
	// SQLite's automatic indexes are not used).
	indexes []uint32
}

// schema reads sqlite_master (page 1): the tables and views by lower-case
// name, with their columns.
func (d *db) schema() (map[string]table, error) {
	out := map[string]table{}
	var indexes []uint32
	err := d.walk(1, func(_ *btreePage, _ int, c cell) error {
		if len(out) > 1000 {
			return corrupt("the schema lists over 1000 objects")
		}
		r, err := d.parseRow(c)
		if err != nil {
			return err
		}
		var v [5]value
		for i := range v {
			if v[i], err = d.col(r, i, 64<<10); err != nil {
				return err
			}
		}
		kind, _ := v[0].(string)
		name, _ := v[1].(string)
		tbl, _ := v[2].(string)
		root, _ := v[3].(int64)
		sql, _ := v[4].(string)
		if kind == "index" && strings.EqualFold(tbl, "tiles") && root >= 1 && root <= int64(d.pages) {
			if c := columns(sql); len(c) >= 3 && slices.Equal(c[:3], []string{"zoom_level", "tile_column", "tile_row"}) {
				indexes = append(indexes, uint32(root))
			}
			return nil
		}
		if kind != "table" && kind != "view" {
			return nil
		}
		t := table{kind: kind}
		if kind == "table" {
			if root < 1 || root > int64(d.pages) {
				return corrupt("table %q has its root at page %d, outside the file", name, root)
			}
			t.root = uint32(root)
			t.columns = columns(sql)
		}
		out[strings.ToLower(name)] = t
		return nil
	})
	if t, ok := out["tiles"]; ok && err == nil {
		t.indexes = indexes
		out["tiles"] = t
	}
	return out, err
}

// columns lists the column names of a CREATE TABLE statement, lower-case,
// in order (table constraints are not columns).
func columns(sql string) []string {
	open := strings.IndexByte(sql, '(')
	if open < 0 {
		return nil
	}
	var out []string
	depth, start := 0, open+1
	for i := open; i < len(sql); i++ {
		switch sql[i] {
		case '(':
			depth++
		case ')', ',':
			if sql[i] == ')' {
				depth--
			}
			if (sql[i] == ',' && depth == 1) || (sql[i] == ')' && depth == 0) {
				if name := columnName(sql[start:i]); name != "" {
					out = append(out, name)
				}
				start = i + 1
			}
			if depth == 0 {
				return out
			}
		}
	}
	return out
}

// columnName is the name a column definition starts with, "" for a
// table constraint.
func columnName(def string) string {
	f := strings.Fields(def)
	if len(f) == 0 {
		return ""
	}
	switch strings.ToLower(f[0]) {
	case "constraint", "primary", "unique", "check", "foreign":
		return ""
	}
	return strings.ToLower(strings.Trim(f[0], "\"'`[]"))
}

// metadata reads the metadata table's name/value rows.
func (d *db) metadata(t table) (map[string]string, error) {
	name, value := slices.Index(t.columns, "name"), slices.Index(t.columns, "value")
	if name < 0 || value < 0 {
		return nil, fmt.Errorf("%w: the table \"metadata\" has no columns name and value", ErrNotBasemap)
	}
	out := map[string]string{}
	n := 0
	err := d.walk(t.root, func(_ *btreePage, _ int, c cell) error {
		if n++; n > maxMetadata {
			return fmt.Errorf("%w: over %d metadata rows", ErrNotBasemap, maxMetadata)
		}
		r, err := d.parseRow(c)
		if err != nil {
			return err
		}
		k, err := d.col(r, name, 256)
		if err != nil {
			return nil // a name that long is no key MBTiles defines
		}
		v, err := d.col(r, value, maxMetaValue)
		if errors.Is(err, errTooLarge) {
			return nil
		} else if err != nil {
			return err
		}
		ks, _ := k.(string)
		switch vv := v.(type) {
		case string:
			out[strings.ToLower(ks)] = vv
		case int64:
			out[strings.ToLower(ks)] = strconv.FormatInt(vv, 10)
		case float64:
			out[strings.ToLower(ks)] = strconv.FormatFloat(vv, 'f', -1, 64)
		}
		return nil
	})
	return out, err
}

// list reads every tile's coordinates (not its data) into the sorted
// index: from an index on them when the file has one (its pages hold
// coordinates and rowids alone, a few hundred pages for 100,000 tiles),
// else from the tiles table itself (whose leaf pages also hold the start
// of every tile).
func (m *Map) list() error {
	if len(m.indexes) > 0 {
		m.index = m.index[:0]
		err := m.db.walkIndex(m.indexes[0], func(c cell) error {
			r, err := m.db.parseRow(c)
			if err != nil {
				return err
			}
			if len(r.types) < 4 {
				return corrupt("an index entry of %d columns", len(r.types))
			}
			var zxy [3]int64
			for i := range zxy {
				if zxy[i], err = m.intCol(r, i, c); err != nil {
					return err
				}
			}
			v, err := m.db.col(r, len(r.types)-1, 8)
			if err != nil {
				return err
			}
			rowid, ok := v.(int64)
			if !ok {
				return corrupt("an index entry without a rowid")
			}
			return m.add(zxy, rowid)
		})
		if err == nil {
			m.sortIndex()
			m.fromIndex = true
			return nil
		}
		// A damaged index: the table itself says which tiles there are.
		m.index = nil
	}
	err := m.db.walk(m.root, func(_ *btreePage, _ int, c cell) error {
		r, err := m.db.parseRow(c)
		if err != nil {
			return err
		}
		var zxy [3]int64
		for i := range zxy {
			if zxy[i], err = m.intCol(r, m.cols[i], c); err != nil {
				return err
			}
		}
		return m.add(zxy, c.rowid)
	})
	if err != nil {
		return err
	}
	m.sortIndex()
	return nil
}

// intCol reads one of a tile's coordinates.
func (m *Map) intCol(r row, i int, c cell) (int64, error) {
	v, err := m.db.col(r, i, 8)
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, corrupt("tile row %d: a coordinate that is not an integer", c.rowid)
	}
	return n, nil
}

// add lists a tile given its MBTiles coordinates (zoom, column, TMS row).
func (m *Map) add(zxy [3]int64, rowid int64) error {
	if len(m.index) >= MaxTiles {
		return fmt.Errorf("%w: over %d tiles; export a smaller area or fewer zoom levels", ErrNotBasemap, MaxTiles)
	}
	z, x, tms := zxy[0], zxy[1], zxy[2]
	if z < 0 || z > MaxZoom || x < 0 || x >= 1<<z || tms < 0 || tms >= 1<<z {
		return corrupt("tile row %d: zoom %d column %d row %d is not a tile of the world", rowid, z, x, tms)
	}
	// MBTiles numbers rows from the south (TMS); XYZ, from the north.
	y := (1 << z) - 1 - tms
	m.index = append(m.index, entry{key: tileKey(int(z), int(x), int(y)), rowid: rowid})
	return nil
}

func (m *Map) sortIndex() {
	slices.SortStableFunc(m.index, func(a, b entry) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	m.index = slices.CompactFunc(m.index, func(a, b entry) bool { return a.key == b.key })
}

// describe makes the Info from the metadata and the tiles listed.
func (m *Map) describe(meta map[string]string) Info {
	in := Info{Name: meta["name"], Description: meta["description"], Attribution: meta["attribution"],
		Format: strings.ToLower(meta["format"]), Tiles: len(m.index)}
	for _, e := range m.index {
		z := int(e.key >> 50)
		if len(in.Zooms) == 0 || in.Zooms[len(in.Zooms)-1] != z {
			in.Zooms = append(in.Zooms, z)
		}
	}
	if b, ok := parseBounds(meta["bounds"]); ok {
		in.Bounds = b
		return in
	}
	// The extent of the lowest zoom's tiles.
	z := in.Zooms[0]
	minX, minY, maxX, maxY := math.MaxInt, math.MaxInt, -1, -1
	for _, e := range m.index {
		if int(e.key>>50) != z {
			break
		}
		x, y := int(e.key>>25&(1<<25-1)), int(e.key&(1<<25-1))
		minX, maxX = min(minX, x), max(maxX, x)
		minY, maxY = min(minY, y), max(maxY, y)
	}
	in.Bounds = Bounds{West: TileLon(float64(minX), z), East: TileLon(float64(maxX+1), z),
		North: TileLat(float64(minY), z), South: TileLat(float64(maxY+1), z)}
	return in
}

// parseBounds reads "west,south,east,north".
func parseBounds(s string) (Bounds, bool) {
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return Bounds{}, false
	}
	var v [4]float64
	for i, p := range f {
		n, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return Bounds{}, false
		}
		v[i] = n
	}
	b := Bounds{West: v[0], South: v[1], East: v[2], North: v[3]}
	if b.West < -180 || b.East > 180 || b.South < -90 || b.North > 90 || b.West >= b.East || b.South >= b.North {
		return Bounds{}, false
	}
	return b, true
}

// Has reports whether the file holds tile z/x/y (XYZ numbering: row 0 at
// the north).
func (m *Map) Has(z, x, y int) bool {
	_, ok := m.find(z, x, y)
	return ok
}

func (m *Map) find(z, x, y int) (int64, bool) {
	if z < 0 || z > MaxZoom || x < 0 || y < 0 || x >= 1<<z || y >= 1<<z {
		return 0, false
	}
	k := tileKey(z, x, y)
	i, ok := slices.BinarySearchFunc(m.index, k, func(e entry, k uint64) int {
		switch {
		case e.key < k:
			return -1
		case e.key > k:
			return 1
		}
		return 0
	})
	if !ok {
		return 0, false
	}
	return m.index[i].rowid, true
}

// AnyTile is the first tile of zoom z (by column, then row); ok is false
// when the zoom holds none.
func (m *Map) AnyTile(z int) (x, y int, ok bool) {
	i, _ := slices.BinarySearchFunc(m.index, tileKey(z, 0, 0), func(e entry, k uint64) int {
		switch {
		case e.key < k:
			return -1
		case e.key > k:
			return 1
		}
		return 0
	})
	if i == len(m.index) || int(m.index[i].key>>50) != z {
		return 0, 0, false
	}
	k := m.index[i].key
	return int(k >> 25 & (1<<25 - 1)), int(k & (1<<25 - 1)), true
}

// Tile returns tile z/x/y's encoded image (XYZ numbering), ErrNoTile when
// the file holds none.
func (m *Map) Tile(z, x, y int) ([]byte, error) {
	rowid, ok := m.find(z, x, y)
	if !ok {
		return nil, ErrNoTile
	}
	c, err := m.db.findRow(m.root, rowid)
	if err != nil {
		return nil, err
	}
	r, err := m.db.parseRow(c)
	if err != nil {
		return nil, err
	}
	// The row must be the tile asked for: an index that points
	// elsewhere would put one place's tile at another.
	var zxy [3]int64
	for i := range zxy {
		if zxy[i], err = m.intCol(r, m.cols[i], c); err != nil {
			return nil, err
		}
	}
	if zxy != [3]int64{int64(z), int64(x), int64((1 << z) - 1 - y)} {
		return nil, corrupt("the index sends tile %d/%d/%d to the row of another", z, x, y)
	}
	v, err := m.db.col(r, m.cols[3], MaxTileBytes)
	if err != nil {
		return nil, fmt.Errorf("tile %d/%d/%d: %w", z, x, y, err)
	}
	b, ok := v.([]byte)
	if !ok {
		return nil, corrupt("tile %d/%d/%d holds no blob", z, x, y)
	}
	return b, nil
}

// Image returns tile z/x/y decoded. A tile whose header declares more
// than MaxTilePixels a side is refused before its pixels are allocated.
func (m *Map) Image(z, x, y int) (image.Image, error) {
	b, err := m.Tile(z, x, y)
	if err != nil {
		return nil, err
	}
	return DecodeTile(b)
}

// DecodeTile decodes a PNG, JPEG or WebP tile, refusing one larger than
// MaxTilePixels a side before decoding it.
func DecodeTile(b []byte) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("a tile that is no PNG, JPEG or WebP image: %w", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxTilePixels || cfg.Height > MaxTilePixels {
		return nil, fmt.Errorf("a %s tile of %dx%d pixels: the limit is %d a side", format, cfg.Width, cfg.Height, MaxTilePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("a %s tile that does not decode: %w", format, err)
	}
	return img, nil
}
