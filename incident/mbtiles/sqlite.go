package mbtiles

// A read-only reader of the SQLite file format, just enough for MBTiles:
// the schema table, table b-trees walked in order, records with their
// overflow chains. It is hand-written rather than a library because the
// two pure-Go SQLite engines each cost about 45 CPU-seconds of cold
// compile on the project's 2-core machines (measured for modernc.org/sqlite
// v1.62.0 and github.com/ncruces/go-sqlite3 v0.37.0, session 11) and add
// 6.7 and 9.5 MB to every binary that links them, the phone's included,
// for a file read only to list and fetch tiles. What it reads is hostile:
// every page number, offset and length is checked against the file before
// use, b-tree walks are bounded in depth and visit a page at most once,
// overflow chains are as long as their payload says and no longer, and
// nothing is read past a caller's limit. The format is
// https://www.sqlite.org/fileformat2.html.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// ErrCorrupt is wrapped by every error about a file that is not a
// well-formed SQLite database (or not the part of one MBTiles needs).
var ErrCorrupt = errors.New("not a well-formed SQLite file")

func corrupt(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, a...))
}

const (
	headerMagic = "SQLite format 3\x00"
	// maxDepth bounds a b-tree's depth. SQLite's own cursors stop at 20;
	// a table of a billion rows in 512-byte pages is shallower.
	maxDepth = 20
	// maxRecordHeader bounds a record's header: MBTiles rows have a
	// handful of columns.
	maxRecordHeader = 1024
)

// db is an open SQLite file.
type db struct {
	r        io.ReaderAt
	pageSize int // bytes in a page
	usable   int // the page size less the reserved bytes at each page's end
	pages    uint32
}

// openDB checks the file header.
func openDB(r io.ReaderAt, size int64) (*db, error) {
	var h [100]byte
	if size < int64(len(h)) {
		return nil, corrupt("%d bytes is shorter than a SQLite header", size)
	}
	if n, err := r.ReadAt(h[:], 0); n < len(h) {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	if string(h[:16]) != headerMagic {
		return nil, corrupt("the file does not start with %q", headerMagic[:15])
	}
	ps := int(binary.BigEndian.Uint16(h[16:18]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps > 65536 || ps&(ps-1) != 0 {
		return nil, corrupt("page size %d is not a power of two from 512 to 65536", ps)
	}
	reserved := int(h[20])
	usable := ps - reserved
	if usable < 480 {
		return nil, corrupt("%d usable bytes a page is under SQLite's minimum of 480", usable)
	}
	if enc := binary.BigEndian.Uint32(h[56:60]); enc != 0 && enc != 1 {
		return nil, corrupt("text encoding %d: only UTF-8 (1) is read; convert the file with sqlite3 (PRAGMA encoding='UTF-8' on a new file, then .clone)", enc)
	}
	if size%int64(ps) != 0 {
		return nil, corrupt("its size, %d bytes, is not a whole number of %d-byte pages: the file is cut short", size, ps)
	}
	n := size / int64(ps)
	if n > math.MaxUint32 {
		return nil, corrupt("%d pages is more than SQLite allows", n)
	}
	return &db{r: r, pageSize: ps, usable: usable, pages: uint32(n)}, nil
}

// page reads page number no (from 1) whole.
func (d *db) page(no uint32) ([]byte, error) {
	if no < 1 || no > d.pages {
		return nil, corrupt("page %d is outside the file's %d pages", no, d.pages)
	}
	buf := make([]byte, d.pageSize)
	// A ReaderAt may return io.EOF with the last page read whole.
	if n, err := d.r.ReadAt(buf, int64(no-1)*int64(d.pageSize)); n < len(buf) {
		return nil, fmt.Errorf("reading page %d: %w", no, err)
	}
	return buf, nil
}

// Page types of a b-tree page's first byte.
const (
	indexInterior = 2
	tableInterior = 5
	indexLeaf     = 10
	tableLeaf     = 13
)

// btreePage is one parsed b-tree page of a table.
type btreePage struct {
	no    uint32
	data  []byte
	base  int // where the b-tree header starts (100 on page 1)
	kind  byte
	cells []int // offsets of the cells, in key order
	right uint32
}

func (d *db) btree(no uint32) (*btreePage, error) {
	data, err := d.page(no)
	if err != nil {
		return nil, err
	}
	p := &btreePage{no: no, data: data}
	if no == 1 {
		p.base = 100
	}
	p.kind = data[p.base]
	hdr := 8
	switch p.kind {
	case tableLeaf, indexLeaf:
	case tableInterior, indexInterior:
		hdr = 12
		p.right = binary.BigEndian.Uint32(data[p.base+8:])
	default:
		return nil, corrupt("page %d is of type %d, not a b-tree page", no, p.kind)
	}
	n := int(binary.BigEndian.Uint16(data[p.base+3:]))
	ptrs := p.base + hdr
	if ptrs+2*n > d.usable {
		return nil, corrupt("page %d says it holds %d cells, more than fit", no, n)
	}
	p.cells = make([]int, n)
	for i := range n {
		off := int(binary.BigEndian.Uint16(data[ptrs+2*i:]))
		if off < ptrs+2*n || off >= d.usable {
			return nil, corrupt("page %d: cell %d at offset %d is outside the page's cell area", no, i, off)
		}
		p.cells[i] = off
	}
	return p, nil
}

// varint reads a SQLite varint from b: its value and length, 0 when b
// ends inside it.
func varint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 9; i++ {
		if i >= len(b) {
			return 0, 0
		}
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return v, 9
}

// interiorCell is an interior table cell: the child holding rowids up to
// key.
func (d *db) interiorCell(p *btreePage, i int) (child uint32, key int64, err error) {
	off := p.cells[i]
	b := p.data[off:d.usable]
	if len(b) < 5 {
		return 0, 0, corrupt("page %d: cell %d is cut short", p.no, i)
	}
	child = binary.BigEndian.Uint32(b)
	k, n := varint(b[4:])
	if n == 0 {
		return 0, 0, corrupt("page %d: cell %d is cut short", p.no, i)
	}
	return child, int64(k), nil
}

// cell is a table leaf cell: its rowid, its payload's length and the part
// of it on the leaf page, and the first overflow page holding the rest.
type cell struct {
	rowid    int64
	size     int64
	local    []byte
	overflow uint32
}

func (d *db) leafCell(p *btreePage, i int) (cell, error) {
	off := p.cells[i]
	b := p.data[off:d.usable]
	size, n := varint(b)
	if n == 0 {
		return cell{}, corrupt("page %d: cell %d is cut short", p.no, i)
	}
	rowid, m := varint(b[n:])
	if m == 0 {
		return cell{}, corrupt("page %d: cell %d is cut short", p.no, i)
	}
	b = b[n+m:]
	if size > 1<<40 {
		return cell{}, corrupt("page %d: cell %d says its payload is %d bytes", p.no, i, size)
	}
	c := cell{rowid: int64(rowid), size: int64(size)}
	local := d.localSize(int64(size), false)
	if int64(len(b)) < local {
		return cell{}, corrupt("page %d: cell %d's payload runs past the page", p.no, i)
	}
	c.local = b[:local]
	if local < int64(size) {
		if len(b) < int(local)+4 {
			return cell{}, corrupt("page %d: cell %d's overflow pointer runs past the page", p.no, i)
		}
		c.overflow = binary.BigEndian.Uint32(b[local:])
	}
	return c, nil
}

// localSize is how much of a payload of size bytes stays on its page
// (the rest goes to overflow pages), by the format's rule: a table leaf's,
// or an index page's.
func (d *db) localSize(size int64, index bool) int64 {
	u := int64(d.usable)
	x := u - 35
	if index {
		x = ((u-12)*64)/255 - 23
	}
	if size <= x {
		return size
	}
	m := ((u-12)*32)/255 - 23
	k := m + (size-m)%(u-4)
	if k <= x {
		return k
	}
	return m
}

// payload returns up to limit bytes of c's payload, following its
// overflow chain as far as needed. The chain is exactly as long as the
// payload says; a loop or a short chain is corruption.
func (d *db) payload(c cell, limit int64) ([]byte, error) {
	want := min(c.size, limit)
	if int64(len(c.local)) >= want {
		return c.local[:want], nil
	}
	out := make([]byte, 0, want)
	out = append(out, c.local...)
	next := c.overflow
	for int64(len(out)) < want {
		if next == 0 {
			return nil, corrupt("an overflow chain ends %d bytes short of its payload", want-int64(len(out)))
		}
		pg, err := d.page(next)
		if err != nil {
			return nil, err
		}
		next = binary.BigEndian.Uint32(pg)
		chunk := pg[4:d.usable]
		if rest := want - int64(len(out)); int64(len(chunk)) > rest {
			chunk = chunk[:rest]
		}
		out = append(out, chunk...)
	}
	return out, nil
}

// walk visits every row of the table rooted at root in rowid order, and
// stops at the first error fn returns. Each page is visited at most once,
// so a b-tree that points back into itself ends in an error rather than
// a loop.
func (d *db) walk(root uint32, fn func(p *btreePage, i int, c cell) error) error {
	seen := make(map[uint32]bool)
	var visit func(no uint32, depth int) error
	visit = func(no uint32, depth int) error {
		if depth > maxDepth {
			return corrupt("a table b-tree is deeper than %d levels", maxDepth)
		}
		if seen[no] {
			return corrupt("page %d is reached twice in one table", no)
		}
		seen[no] = true
		p, err := d.btree(no)
		if err != nil {
			return err
		}
		if p.kind != tableLeaf && p.kind != tableInterior {
			return corrupt("page %d of a table is an index page", no)
		}
		if p.kind == tableLeaf {
			for i := range p.cells {
				c, err := d.leafCell(p, i)
				if err != nil {
					return err
				}
				if err := fn(p, i, c); err != nil {
					return err
				}
			}
			return nil
		}
		for i := range p.cells {
			child, _, err := d.interiorCell(p, i)
			if err != nil {
				return err
			}
			if err := visit(child, depth+1); err != nil {
				return err
			}
		}
		return visit(p.right, depth+1)
	}
	return visit(root, 0)
}

// indexCell is an index page's cell: its payload (a record of the
// indexed columns, then the rowid), and for an interior page the child
// holding the entries before it.
func (d *db) indexCell(p *btreePage, i int) (child uint32, c cell, err error) {
	b := p.data[p.cells[i]:d.usable]
	if p.kind == indexInterior {
		if len(b) < 4 {
			return 0, cell{}, corrupt("page %d: cell %d is cut short", p.no, i)
		}
		child = binary.BigEndian.Uint32(b)
		b = b[4:]
	}
	size, n := varint(b)
	if n == 0 || size > 1<<40 {
		return 0, cell{}, corrupt("page %d: cell %d is cut short", p.no, i)
	}
	b = b[n:]
	c = cell{size: int64(size)}
	local := d.localSize(int64(size), true)
	if int64(len(b)) < local {
		return 0, cell{}, corrupt("page %d: cell %d's payload runs past the page", p.no, i)
	}
	c.local = b[:local]
	if local < int64(size) {
		if len(b) < int(local)+4 {
			return 0, cell{}, corrupt("page %d: cell %d's overflow pointer runs past the page", p.no, i)
		}
		c.overflow = binary.BigEndian.Uint32(b[local:])
	}
	return child, c, nil
}

// walkIndex visits every entry of the index rooted at root in key order,
// each page at most once, as walk does for tables.
func (d *db) walkIndex(root uint32, fn func(c cell) error) error {
	seen := make(map[uint32]bool)
	var visit func(no uint32, depth int) error
	visit = func(no uint32, depth int) error {
		if depth > maxDepth {
			return corrupt("an index b-tree is deeper than %d levels", maxDepth)
		}
		if seen[no] {
			return corrupt("page %d is reached twice in one index", no)
		}
		seen[no] = true
		p, err := d.btree(no)
		if err != nil {
			return err
		}
		if p.kind != indexLeaf && p.kind != indexInterior {
			return corrupt("page %d of an index is a table page", no)
		}
		for i := range p.cells {
			child, c, err := d.indexCell(p, i)
			if err != nil {
				return err
			}
			if p.kind == indexInterior {
				if err := visit(child, depth+1); err != nil {
					return err
				}
			}
			if err := fn(c); err != nil {
				return err
			}
		}
		if p.kind == indexInterior {
			return visit(p.right, depth+1)
		}
		return nil
	}
	return visit(root, 0)
}

// value is one column of a record: nil (NULL), int64, float64, string
// (TEXT) or []byte (BLOB).
type value any

// record decodes a record header from the first bytes of its payload
// (prefix): the columns' serial types and where their bodies start.
func record(prefix []byte) (types []uint64, bodyStart int, err error) {
	hsize, n := varint(prefix)
	if n == 0 || hsize < uint64(n) || hsize > maxRecordHeader {
		return nil, 0, corrupt("a record header of %d bytes", hsize)
	}
	if hsize > uint64(len(prefix)) {
		return nil, 0, corrupt("a record header of %d bytes runs past its payload", hsize)
	}
	h := prefix[n:hsize]
	for len(h) > 0 {
		t, m := varint(h)
		if m == 0 {
			return nil, 0, corrupt("a record header ends inside a column type")
		}
		if t == 10 || t == 11 {
			return nil, 0, corrupt("a record uses the reserved column type %d", t)
		}
		types = append(types, t)
		h = h[m:]
	}
	return types, int(hsize), nil
}

// typeSize is the body size of a column of serial type t.
func typeSize(t uint64) int64 {
	switch {
	case t <= 4:
		return [...]int64{0, 1, 2, 3, 4}[t]
	case t == 5:
		return 6
	case t == 6 || t == 7:
		return 8
	case t < 12:
		return 0
	default:
		return int64((t - 12) / 2)
	}
}

// column decodes the column of type t from b (exactly its body).
func column(t uint64, b []byte) value {
	switch {
	case t == 0:
		return nil
	case t >= 1 && t <= 6:
		v := int64(int8(b[0])) // sign from the first byte
		for _, c := range b[1:] {
			v = v<<8 | int64(c)
		}
		return v
	case t == 7:
		return math.Float64frombits(binary.BigEndian.Uint64(b))
	case t == 8:
		return int64(0)
	case t == 9:
		return int64(1)
	case t%2 == 0:
		return b
	default:
		return string(b)
	}
}

// row is a record's columns located in its payload.
type row struct {
	c     cell
	types []uint64
	offs  []int64 // where each column's body starts in the payload
}

// parseRow reads a cell's record header (which must lie in the first
// maxRecordHeader bytes of its payload).
func (d *db) parseRow(c cell) (row, error) {
	// The header is read from the leaf page when it lies there, as a
	// tile's does: listing tiles then never touches an overflow page.
	prefix := c.local
	if hsize, n := varint(prefix); n == 0 || hsize > uint64(len(prefix)) {
		var err error
		if prefix, err = d.payload(c, maxRecordHeader); err != nil {
			return row{}, err
		}
	}
	types, start, err := record(prefix)
	if err != nil {
		return row{}, err
	}
	r := row{c: c, types: types, offs: make([]int64, len(types))}
	off := int64(start)
	for i, t := range types {
		r.offs[i] = off
		off += typeSize(t)
	}
	if off > c.size {
		return row{}, corrupt("a record's columns add up to %d bytes, more than its payload's %d", off, c.size)
	}
	return r, nil
}

// errTooLarge is a column wider than the caller's limit.
var errTooLarge = errors.New("too large")

// col returns column i (NULL when the record has fewer columns, as after
// ALTER TABLE ADD COLUMN), reading at most limit bytes of the payload.
func (d *db) col(r row, i int, limit int64) (value, error) {
	if i < 0 || i >= len(r.types) {
		return nil, nil
	}
	t := r.types[i]
	sz := typeSize(t)
	if sz > limit {
		return nil, fmt.Errorf("a column of %d bytes: %w (the limit is %d)", sz, errTooLarge, limit)
	}
	end := r.offs[i] + sz
	var b []byte
	if end <= int64(len(r.c.local)) {
		b = r.c.local[r.offs[i]:end]
	} else {
		all, err := d.payload(r.c, end)
		if err != nil {
			return nil, err
		}
		b = all[r.offs[i]:end]
	}
	return column(t, b), nil
}

// findRow descends the table rooted at root to the row with rowid.
func (d *db) findRow(root uint32, rowid int64) (cell, error) {
	no := root
	for depth := 0; depth <= maxDepth; depth++ {
		p, err := d.btree(no)
		if err != nil {
			return cell{}, err
		}
		if p.kind == tableLeaf {
			lo, hi := 0, len(p.cells)
			for lo < hi {
				mid := (lo + hi) / 2
				c, err := d.leafCell(p, mid)
				if err != nil {
					return cell{}, err
				}
				switch {
				case c.rowid == rowid:
					return c, nil
				case c.rowid < rowid:
					lo = mid + 1
				default:
					hi = mid
				}
			}
			return cell{}, corrupt("row %d is missing from its table", rowid)
		}
		next := p.right
		lo, hi := 0, len(p.cells)
		for lo < hi {
			mid := (lo + hi) / 2
			_, key, err := d.interiorCell(p, mid)
			if err != nil {
				return cell{}, err
			}
			if key >= rowid {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		if lo < len(p.cells) {
			if next, _, err = d.interiorCell(p, lo); err != nil {
				return cell{}, err
			}
		}
		no = next
	}
	return cell{}, corrupt("a table b-tree is deeper than %d levels", maxDepth)
}
