package export

import (
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-mesh/vigil/incident"
)

// CSVWriter writes reports as RFC 4180 CSV (CRLF line ends, UTF-8 without
// a byte-order mark).
//
// It writes exactly what encoding/csv (UseCRLF, comma) writes for the
// columns of Item.Row, but prints each column straight from the view into
// a reused buffer: a large export does not build a ReportJSON per report,
// re-encode the same authors' keys, or hand the collector a string per
// field. Quoting follows encoding/csv's rules (appendCSVField); the golden
// files in testdata/golden pin the bytes. There is no spreadsheet formula
// guard: a field that starts with "=" is written as it is (the XLSX export
// is the one for spreadsheets).
//
// Output is buffered; Close flushes it. Not safe for concurrent use.
type CSVWriter struct {
	w   io.Writer
	buf []byte // rows not yet written to w
	csvRows
	err error
}

// csvRows prints reports' rows: what CSVWriter writes, without the
// writer, so that an export prints rows on every core (csvFromStore),
// each with a csvRows of its own.
type csvRows struct {
	authors map[incident.Author]string
}

func newCSVRows() csvRows { return csvRows{authors: map[incident.Author]string{}} }

// csvFlushAt is the buffered size at which Write passes rows on to w.
const csvFlushAt = 32 << 10

// NewCSV writes the header (and, with hxl, the HXL hashtag row). With
// NewNoticeCSV, a notice (public exports) goes first, as a "#" comment
// line, which pandas, R and spreadsheets show or skip.
func NewCSV(w io.Writer, hxl bool) (*CSVWriter, error) { return NewNoticeCSV(w, hxl, "") }

// NewNoticeCSV is NewCSV with a notice line first.
func NewNoticeCSV(w io.Writer, hxl bool, notice string) (*CSVWriter, error) {
	if notice != "" {
		if _, err := io.WriteString(w, "# "+strings.ReplaceAll(notice, "\n", " ")+"\r\n"); err != nil {
			return nil, err
		}
	}
	cw := &CSVWriter{w: w, buf: make([]byte, 0, csvFlushAt+4<<10), csvRows: newCSVRows()}
	cw.buf = appendCSVHeader(cw.buf, len(Columns), func(i int) (string, string) { return Columns[i].Name, Columns[i].HXL }, hxl)
	return cw, nil
}

// Write adds one report. An error writing to the underlying writer is
// returned by this or a later Write, and by Close.
func (cw *CSVWriter) Write(it *Item) error {
	if cw.err != nil {
		return cw.err
	}
	cw.buf = cw.appendRow(cw.buf, it)
	if len(cw.buf) >= csvFlushAt {
		cw.flush()
	}
	return cw.err
}

func (cw *CSVWriter) flush() {
	if cw.err == nil && len(cw.buf) > 0 {
		_, cw.err = cw.w.Write(cw.buf)
	}
	cw.buf = cw.buf[:0]
}

// Close flushes.
func (cw *CSVWriter) Close() error {
	cw.flush()
	return cw.err
}

// appendRow appends it's row.
func (c *csvRows) appendRow(b []byte, it *Item) []byte {
	if it.Public != nil {
		return appendCSVRow(b, it, it.Public)
	}
	return c.appendView(b, it)
}

// appendCSVRow appends a row from a printable form (public exports).
func appendCSVRow(b []byte, it *Item, j *incident.ReportJSON) []byte {
	for i := range Columns {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, Columns[i].value(it, j))
	}
	return append(b, '\r', '\n')
}

// appendView appends v's row: the Columns, in their order, printed as
// v.JSON(false) prints them (absent fields empty). IDs, times, numbers and
// author keys never need quoting, so they are appended as they are.
func (c *csvRows) appendView(b []byte, it *Item) []byte {
	v := &it.View
	r := &v.Report
	open := !v.Sealed || v.Opened // a sealed report nobody here can read shows its envelope only
	b, _ = v.ID.AppendText(b)
	b = append(b, ',')
	if open {
		b = appendTime(b, r.Occurred)
	}
	b = append(b, ',')
	b = appendTime(b, v.Created)
	b = append(b, ',')
	if open {
		b = appendCSVField(b, r.Category)
		b = append(b, ',')
		b = appendCSVField(b, incident.FamilyOf(r.Category))
		b = append(b, ',')
		b = strconv.AppendUint(b, r.Severity, 10)
		b = append(b, ',')
		b = appendCSVField(b, r.Title)
		b = append(b, ',')
		b = appendCSVField(b, r.Description)
		b = append(b, ',')
		b = appendCSVField(b, r.Station)
		b = append(b, ',')
		b = appendCSVField(b, r.Area)
		b = append(b, ',')
		b = appendMicro(b, r.Lat)
		b = append(b, ',')
		b = appendMicro(b, r.Lon)
		b = append(b, ',')
		b = appendNonZero(b, r.Precision)
		b = append(b, ',')
		b = appendCSVField(b, r.Channel)
		b = append(b, ',')
		b = appendCSVField(b, r.Harm)
		b = append(b, ',')
		b = appendNonZero(b, r.Reach)
		b = append(b, ',')
		b = appendCSVField(b, r.Source)
		b = append(b, ',')
	} else {
		b = append(b, ",,,,,,,,,,,,,,"...) // category … source
	}
	b = appendCSVField(b, v.Status)
	b = append(b, ',')
	b = strconv.AppendBool(b, v.Conflict)
	b = append(b, ',')
	b = strconv.AppendBool(b, v.Retracted)
	b = append(b, ',')
	b = appendCSVField(b, v.RetractReason)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(v.Amendments), 10)
	b = append(b, ',')
	b = appendCSVJoined(b, v.Flags)
	b = append(b, ',')
	b = strconv.AppendBool(b, v.Sealed)
	b = append(b, ',')
	b = append(b, c.author(&v.Author)...)
	b = append(b, ',')
	if open {
		for i, h := range r.Attachments {
			if i > 0 {
				b = append(b, ';')
			}
			var id incident.ID
			copy(id[:], h) // as ReportView.JSON does: a short hash is zero-padded, a long one cut
			b, _ = id.AppendText(b)
		}
	}
	b = append(b, ',')
	b = appendCSVField(b, it.Observer)
	b = append(b, ',')
	b = appendCSVField(b, it.ReviewNote)
	return append(b, '\r', '\n')
}

// author returns a's text form, encoded once per author and writer (a
// mission has far fewer authors than reports).
func (c *csvRows) author(a *incident.Author) string {
	if s, ok := c.authors[*a]; ok {
		return s
	}
	s := a.String()
	c.authors[*a] = s
	return s
}

// appendMicro appends microdegrees as deg(incident.Degrees(m)) prints
// them: strconv's shortest 'f' form of float64(m)/1e6. Below 1e15 that is
// the exact decimal m/10⁶ without trailing zeros (the nearest float to it
// is what the division gives, and a shorter decimal would lie at least
// 10⁻⁶ away, far beyond half a float step), so it is printed from the
// integer; TestAppendMicro checks the two agree.
func appendMicro(b []byte, m *int64) []byte {
	if m == nil {
		return b
	}
	v := *m
	if v <= -1e15 || v >= 1e15 {
		return strconv.AppendFloat(b, float64(v)/1e6, 'f', -1, 64)
	}
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/1e6, 10)
	frac := v % 1e6
	if frac == 0 {
		return b
	}
	digits := 6
	for frac%10 == 0 {
		frac /= 10
		digits--
	}
	var d [6]byte
	for i := digits - 1; i >= 0; i-- {
		d[i] = byte('0' + frac%10)
		frac /= 10
	}
	b = append(b, '.')
	return append(b, d[:digits]...)
}

func appendNonZero(b []byte, v uint64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendUint(b, v, 10)
}

// csvScan reports whether f holds the comma, and whether it holds a
// character that changes inside quotes (a quote, CR or LF). Long fields
// (descriptions) are searched with strings.IndexByte, which scans many
// bytes at a time.
func csvScan(f string) (comma, escape bool) {
	if len(f) < 32 {
		for i := 0; i < len(f); i++ {
			switch f[i] {
			case ',':
				comma = true
			case '"', '\r', '\n':
				return comma, true
			}
		}
		return comma, false
	}
	escape = strings.IndexByte(f, '"') >= 0 || strings.IndexByte(f, '\n') >= 0 || strings.IndexByte(f, '\r') >= 0
	return !escape && strings.IndexByte(f, ',') >= 0, escape
}

// csvSpaceFirst reports whether f starts with a space (unicode.IsSpace),
// which encoding/csv quotes.
func csvSpaceFirst(f string) bool {
	if f == "" {
		return false
	}
	if c := f[0]; c < utf8.RuneSelf {
		return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
	}
	r, _ := utf8.DecodeRuneInString(f)
	return unicode.IsSpace(r)
}

// appendCSVHeader appends a CSV file's header line: n column names and,
// with hxl, the line of their HXL hashtags under it (col gives column
// i's name and hashtag).
func appendCSVHeader(b []byte, n int, col func(i int) (name, hxl string), hxl bool) []byte {
	lines := []func(int) string{func(i int) string { name, _ := col(i); return name }}
	if hxl {
		lines = append(lines, func(i int) string { _, tag := col(i); return tag })
	}
	for _, field := range lines {
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCSVField(b, field(i))
		}
		b = append(b, '\r', '\n')
	}
	return b
}

// appendCSVField appends one field as encoding/csv's Writer (comma,
// UseCRLF) writes it: quoted when it holds a comma, quote, CR or LF,
// starts with a space or is `\.` (fieldNeedsQuotes); inside quotes a
// quote is doubled, LF becomes CRLF and CR is dropped.
func appendCSVField(b []byte, f string) []byte {
	comma, escape := csvScan(f)
	if !comma && !escape && !csvSpaceFirst(f) && f != `\.` { // `\.` ends data in Postgres
		return append(b, f...)
	}
	b = append(b, '"')
	if escape {
		b = appendCSVEscaped(b, f)
	} else {
		b = append(b, f...)
	}
	return append(b, '"')
}

// appendCSVEscaped appends the inside of a quoted field.
func appendCSVEscaped(b []byte, f string) []byte {
	for {
		i := strings.IndexAny(f, "\"\r\n")
		if i < 0 {
			return append(b, f...)
		}
		b = append(b, f[:i]...)
		switch f[i] {
		case '"':
			b = append(b, '"', '"')
		case '\n':
			b = append(b, '\r', '\n')
		}
		f = f[i+1:]
	}
}

// appendCSVJoined appends the field strings.Join(fs, ";") without joining
// them first.
func appendCSVJoined(b []byte, fs []string) []byte {
	if len(fs) <= 1 {
		if len(fs) == 0 {
			return b
		}
		return appendCSVField(b, fs[0])
	}
	// The joined field holds a ';', so it is not `\.`, and its first rune
	// is fs[0]'s, or ';' when fs[0] is empty.
	quote, escape := csvSpaceFirst(fs[0]), false
	for _, f := range fs {
		c, e := csvScan(f)
		quote = quote || c || e
		escape = escape || e
	}
	if quote {
		b = append(b, '"')
	}
	for i, f := range fs {
		if i > 0 {
			b = append(b, ';')
		}
		if escape {
			b = appendCSVEscaped(b, f)
		} else {
			b = append(b, f...)
		}
	}
	if quote {
		b = append(b, '"')
	}
	return b
}
