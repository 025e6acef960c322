// Package mbtilestest writes small MBTiles files for tests and for the
// synthetic demo basemap: a SQLite file in the format SQLite itself
// writes (checked against the sqlite3 tool by the package's test), with
// the tables metadata and tiles and no index. It is no general SQLite
// writer: every table is written once, whole.
package mbtilestest

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
)

// Tile is one tile in XYZ numbering (row 0 at the north); Write stores it
// in MBTiles' TMS numbering.
type Tile struct {
	Z, X, Y int
	Data    []byte
}

// Options shape the file: PageSize (default 4096) lets a test make
// overflow chains and deep b-trees with few bytes.
type Options struct {
	PageSize int
	// NoIndex leaves out the index on the tiles' coordinates, as some
	// writers do: a reader then lists the tiles from their table.
	NoIndex bool
}

// Write writes an MBTiles file holding meta and tiles to w.
func Write(w io.Writer, meta map[string]string, tiles []Tile, o Options) error {
	ps := o.PageSize
	if ps == 0 {
		ps = 4096
	}
	if ps < 512 || ps > 32768 || ps&(ps-1) != 0 {
		return fmt.Errorf("page size %d: want a power of two from 512 to 32768", ps)
	}
	f := &file{ps: ps, pages: [][]byte{nil}} // page 1 is written last
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var metaRows [][]any
	for _, k := range keys {
		metaRows = append(metaRows, []any{k, meta[k]})
	}
	metaRoot := f.table(metaRows)
	var tileRows [][]any
	for _, t := range tiles {
		tileRows = append(tileRows, []any{int64(t.Z), int64(t.X), int64((1 << t.Z) - 1 - t.Y), t.Data})
	}
	tilesRoot := f.table(tileRows)
	schema := [][]any{
		{"table", "metadata", "metadata", int64(metaRoot), "CREATE TABLE metadata (name text, value text)"},
		{"table", "tiles", "tiles", int64(tilesRoot), "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob)"},
	}
	if !o.NoIndex && len(tileRows) > 0 {
		// The index QGIS and the MBTiles spec create: the tiles'
		// coordinates, then their rowid, in order.
		keys := make([][3]int64, len(tileRows))
		for i, r := range tileRows {
			keys[i] = [3]int64{r[0].(int64), r[1].(int64), r[2].(int64)}
		}
		order := make([]int, len(keys))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool {
			ka, kb := keys[order[a]], keys[order[b]]
			for j := range ka {
				if ka[j] != kb[j] {
					return ka[j] < kb[j]
				}
			}
			return false
		})
		entries := make([][]byte, len(order))
		for i, k := range order {
			entries[i] = record([]any{keys[k][0], keys[k][1], keys[k][2], int64(k + 1)})
		}
		schema = append(schema, []any{"index", "tile_index", "tiles", int64(f.index(entries)),
			"CREATE UNIQUE INDEX tile_index on tiles (zoom_level, tile_column, tile_row)"})
	}
	leaves := f.leaves(schema, 100)
	if len(leaves) != 1 {
		return fmt.Errorf("the schema does not fit page 1")
	}
	f.pages[0] = leaves[0]
	f.header()
	for _, p := range f.pages {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

type file struct {
	ps    int
	pages [][]byte
}

func (f *file) add(p []byte) uint32 {
	f.pages = append(f.pages, p)
	return uint32(len(f.pages))
}

// header fills page 1's first 100 bytes as SQLite 3.40 does.
func (f *file) header() {
	h := f.pages[0][:100]
	copy(h, "SQLite format 3\x00")
	ps := uint16(f.ps)
	binary.BigEndian.PutUint16(h[16:], ps)
	h[18], h[19], h[20], h[21], h[22], h[23] = 1, 1, 0, 64, 32, 32
	binary.BigEndian.PutUint32(h[24:], 1)                    // change counter
	binary.BigEndian.PutUint32(h[28:], uint32(len(f.pages))) // pages
	binary.BigEndian.PutUint32(h[40:], 1)                    // schema cookie
	binary.BigEndian.PutUint32(h[44:], 4)                    // schema format
	binary.BigEndian.PutUint32(h[56:], 1)                    // UTF-8
	binary.BigEndian.PutUint32(h[68:], 0x4d504258)           // MBTiles' application id
	binary.BigEndian.PutUint32(h[92:], 1)                    // version-valid-for
	binary.BigEndian.PutUint32(h[96:], 3040001)
}

// table writes rows (rowids from 1) as a table b-tree and returns its
// root page.
func (f *file) table(rows [][]any) uint32 {
	type ref struct {
		page   uint32
		maxRow int64
	}
	var level []ref
	leaves := f.leaves(rows, 0)
	row := int64(0)
	for _, p := range leaves {
		row += int64(binary.BigEndian.Uint16(p[3:]))
		level = append(level, ref{f.add(p), row})
	}
	for len(level) > 1 {
		var next []ref
		for len(level) > 0 {
			p := make([]byte, f.ps)
			p[0] = 5
			end, n := f.ps, 0
			// Children while their cells fit, the last one as the right
			// pointer.
			for len(level) > 1 && 12+2*(n+1)+(f.ps-end)+13 < f.ps-12 {
				c := binary.BigEndian.AppendUint32(nil, level[0].page)
				c = appendVarint(c, uint64(level[0].maxRow))
				end -= len(c)
				copy(p[end:], c)
				binary.BigEndian.PutUint16(p[12+2*n:], uint16(end))
				n++
				level = level[1:]
			}
			binary.BigEndian.PutUint16(p[3:], uint16(n))
			binary.BigEndian.PutUint16(p[5:], uint16(end))
			binary.BigEndian.PutUint32(p[8:], level[0].page)
			next = append(next, ref{f.add(p), level[0].maxRow})
			level = level[1:]
		}
		level = next
	}
	if len(level) == 0 { // an empty table is one empty leaf
		p := make([]byte, f.ps)
		p[0] = 13
		binary.BigEndian.PutUint16(p[5:], uint16(f.ps))
		return f.add(p)
	}
	return level[0].page
}

// index writes sorted index entries (records) as an index b-tree and
// returns its root page: leaves of entries, and above them interior
// pages whose cells each hold an entry of their own between two
// children, as SQLite's index b-trees do. Entries are small (no
// overflow), and each level is split into pages of even size.
func (f *file) index(entries [][]byte) uint32 {
	widest := 0
	for _, e := range entries {
		widest = max(widest, len(e))
	}
	// A leaf cell: the payload's size and the payload; an interior one
	// has a child page number before them. Each takes a pointer too.
	leafCap := (f.ps - 8) / (2 + 1 + widest)
	innerCap := (f.ps - 12) / (2 + 4 + 1 + widest)
	// Leaves: n entries in L leaves and L-1 separators between them.
	n := len(entries)
	leaves := (n + 1 + leafCap) / (leafCap + 1)
	var children []uint32
	var seps [][]byte
	rest := entries
	for i := 0; i < leaves; i++ {
		take := (len(rest) - (leaves - 1 - i)) / (leaves - i) // entries left less the separators to come, evenly
		p := make([]byte, f.ps)
		p[0] = 10
		end := f.ps
		for j, e := range rest[:take] {
			c := append(appendVarint(nil, uint64(len(e))), e...)
			end -= len(c)
			copy(p[end:], c)
			binary.BigEndian.PutUint16(p[8+2*j:], uint16(end))
		}
		binary.BigEndian.PutUint16(p[3:], uint16(take))
		binary.BigEndian.PutUint16(p[5:], uint16(end))
		children = append(children, f.add(p))
		rest = rest[take:]
		if i < leaves-1 {
			seps = append(seps, rest[0])
			rest = rest[1:]
		}
	}
	// Interior levels until one page is left: a page of m cells holds
	// m+1 children and m separators; one separator between pages goes
	// up a level.
	for len(children) > 1 {
		pages := (len(children) + innerCap) / (innerCap + 1)
		var upChildren []uint32
		var upSeps [][]byte
		for i := 0; i < pages; i++ {
			take := (len(children)) / (pages - i) // children for this page
			p := make([]byte, f.ps)
			p[0] = 2
			end := f.ps
			for j := 0; j < take-1; j++ {
				c := binary.BigEndian.AppendUint32(nil, children[j])
				c = append(appendVarint(c, uint64(len(seps[j]))), seps[j]...)
				end -= len(c)
				copy(p[end:], c)
				binary.BigEndian.PutUint16(p[12+2*j:], uint16(end))
			}
			binary.BigEndian.PutUint16(p[3:], uint16(take-1))
			binary.BigEndian.PutUint16(p[5:], uint16(end))
			binary.BigEndian.PutUint32(p[8:], children[take-1])
			upChildren = append(upChildren, f.add(p))
			children, seps = children[take:], seps[take-1:]
			if i < pages-1 {
				upSeps = append(upSeps, seps[0])
				seps = seps[1:]
			}
		}
		children, seps = upChildren, upSeps
	}
	return children[0]
}

// leaves packs rows into table leaf pages, the first with its b-tree
// header at base (100 on page 1); overflow pages are added as needed.
func (f *file) leaves(rows [][]any, base int) [][]byte {
	var out [][]byte
	var p []byte
	var end, n int
	flush := func() {
		if p != nil {
			binary.BigEndian.PutUint16(p[base+3:], uint16(n))
			binary.BigEndian.PutUint16(p[base+5:], uint16(end))
			out = append(out, p)
			base = 0
		}
		p = make([]byte, f.ps)
		p[base] = 13
		end, n = f.ps, 0
	}
	flush()
	for i, r := range rows {
		c := f.cell(int64(i+1), record(r))
		if base+8+2*(n+1) > end-len(c) {
			flush()
		}
		end -= len(c)
		copy(p[end:], c)
		binary.BigEndian.PutUint16(p[base+8+2*n:], uint16(end))
		n++
	}
	flush()
	return out
}

// cell is a table leaf cell, its payload's tail written to overflow
// pages.
func (f *file) cell(rowid int64, payload []byte) []byte {
	c := appendVarint(nil, uint64(len(payload)))
	c = appendVarint(c, uint64(rowid))
	u := f.ps
	x := u - 35
	local := len(payload)
	if local > x {
		m := ((u-12)*32)/255 - 23
		k := m + (len(payload)-m)%(u-4)
		local = m
		if k <= x {
			local = k
		}
	}
	c = append(c, payload[:local]...)
	if local == len(payload) {
		return c
	}
	// Overflow pages, in order: each starts with the next one's number.
	rest := payload[local:]
	first := uint32(len(f.pages) + 1)
	for len(rest) > 0 {
		p := make([]byte, f.ps)
		n := copy(p[4:], rest)
		rest = rest[n:]
		if len(rest) > 0 {
			binary.BigEndian.PutUint32(p, uint32(len(f.pages)+2))
		}
		f.add(p)
	}
	return binary.BigEndian.AppendUint32(c, first)
}

// record encodes values (string, int64, []byte) as a SQLite record.
func record(vals []any) []byte {
	var types, body []byte
	for _, v := range vals {
		switch v := v.(type) {
		case string:
			types = appendVarint(types, uint64(13+2*len(v)))
			body = append(body, v...)
		case []byte:
			types = appendVarint(types, uint64(12+2*len(v)))
			body = append(body, v...)
		case int64:
			switch {
			case v == 0:
				types = append(types, 8)
			case v == 1:
				types = append(types, 9)
			case v >= -128 && v < 128:
				types = append(types, 1)
				body = append(body, byte(v))
			case v >= -1<<31 && v < 1<<31:
				types = append(types, 4)
				body = binary.BigEndian.AppendUint32(body, uint32(v))
			default:
				types = append(types, 6)
				body = binary.BigEndian.AppendUint64(body, uint64(v))
			}
		}
	}
	// The header's size counts its own varint (one byte for any header
	// these records have).
	out := appendVarint(nil, uint64(len(types)+1))
	return append(append(out, types...), body...)
}

// appendVarint appends v as a SQLite varint.
func appendVarint(b []byte, v uint64) []byte {
	if v > 1<<56-1 {
		var buf [9]byte
		buf[8] = byte(v)
		v >>= 8
		for i := 7; i >= 0; i-- {
			buf[i] = byte(v&0x7f) | 0x80
			v >>= 7
		}
		return append(b, buf[:]...)
	}
	var buf [8]byte
	i := 7
	buf[i] = byte(v & 0x7f)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		buf[i] = byte(v&0x7f) | 0x80
	}
	return append(b, buf[i:]...)
}
