package export

import (
	"bufio"
	"bytes"
	"io"
	"sync"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// csvFromStore writes the CSV of the reports req selects (an export that
// is not public): what writeViews writes with a CSVWriter, byte for
// byte, made differently. Each report's row is printed on the core that
// folded it (store.ScanEach), into memory of that core's own, and the
// rows are then written out in the order of the reports. An export of a
// million reports so prints its rows on every core, and holds its rows
// until it writes them, not the reports' views.
func csvFromStore(st *store.Store, ms *incident.MissionState, w io.Writer, req Request, notice string) (Result, error) {
	var res Result
	labels := map[incident.Author]string{}
	for _, m := range ms.Members() {
		labels[m.Author] = m.Label
	}
	var mu sync.Mutex
	var parts []*csvPart
	n, err := st.ScanEach(req.Filter, func() func(int, *incident.ReportView) error {
		p := &csvPart{csvRows: newCSVRows(), labels: labels}
		mu.Lock()
		parts = append(parts, p)
		mu.Unlock()
		return p.add
	})
	if err != nil {
		return res, err
	}
	rows := make([][]byte, n)
	for _, p := range parts {
		for _, r := range p.placed {
			rows[r.pos] = r.row
		}
		p.placed = nil
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	cw, err := NewNoticeCSV(bw, req.HXL, notice)
	if err != nil {
		return res, err
	}
	if err := cw.Close(); err != nil { // the header
		return res, err
	}
	for i, row := range rows {
		if _, err := bw.Write(row); err != nil {
			return res, err
		}
		rows[i] = nil
		res.Reports++
		if req.Progress != nil {
			req.Progress(i+1, n)
		}
	}
	return res, bw.Flush()
}

// csvPart is the rows one core printed: each with its place in the
// export, in chunks of memory it fills one after another.
type csvPart struct {
	csvRows
	labels map[incident.Author]string // read only, shared
	chunk  []byte
	placed []placedRow
}

type placedRow struct {
	pos int
	row []byte
}

// csvChunk is the size of a csvPart's chunks, and csvRowRoom the room
// left below which a row goes to the next one: rows are a few hundred
// bytes, and one that outgrows its chunk is copied out (bytes.Clone).
const (
	csvChunk   = 1 << 20
	csvRowRoom = 64 << 10
)

// add prints the row of report v, the report at pos, as writeViews has
// the CSVWriter print it.
func (p *csvPart) add(pos int, v *incident.ReportView) error {
	if cap(p.chunk)-len(p.chunk) < csvRowRoom {
		p.chunk = make([]byte, 0, csvChunk)
	}
	it := Item{View: *v, Observer: p.labels[v.Author], ReviewNote: ReviewNoteOf(v)}
	start := len(p.chunk)
	b := p.appendView(p.chunk, &it)
	row := b[start:len(b):len(b)]
	if cap(b) != cap(p.chunk) {
		row = bytes.Clone(row) // outgrew the chunk: b is a copy of it
	} else {
		p.chunk = b
	}
	p.placed = append(p.placed, placedRow{pos, row})
	return nil
}
