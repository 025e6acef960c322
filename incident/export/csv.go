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
// field. Quoting follows encoding/csv's rules (csvNeedsQuotes); the golden
// files in testdata/golden pin the bytes. There is no spreadsheet formula
// guard: a field that starts with "=" is written as it is (the XLSX export
// is the one for spreadsheets).
//
// Output is buffered; Close flushes it. Not safe for concurrent use.
type CSVWriter struct {
	w       io.Writer
	buf     []byte // rows not yet written to w
	scratch []byte // one field being assembled (the flags)
	authors map[incident.Author]string
	err     error
}

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
	cw := &CSVWriter{w: w, buf: make([]byte, 0, csvFlushAt+4<<10), authors: map[incident.Author]string{}}
	for i, c := range Columns {
		if i > 0 {
			cw.buf = append(cw.buf, ',')
		}
		cw.buf = appendCSVField(cw.buf, c.Name)
	}
	cw.buf = append(cw.buf, '\r', '\n')
	if hxl {
		for i, c := range Columns {
			if i > 0 {
				cw.buf = append(cw.buf, ',')
			}
			cw.buf = appendCSVField(cw.buf, c.HXL)
		}
		cw.buf = append(cw.buf, '\r', '\n')
	}
	return cw, nil
}

// Write adds one report. An error writing to the underlying writer is
// returned by this or a later Write, and by Close.
func (cw *CSVWriter) Write(it *Item) error {
	if cw.err != nil {
		return cw.err
	}
	if it.Public != nil {
		cw.buf = appendCSVRow(cw.buf, it.Public)
	} else {
		cw.appendView(&it.View)
	}
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

// appendCSVRow appends a row from a printable form (public exports).
func appendCSVRow(b []byte, j *incident.ReportJSON) []byte {
	for i := range Columns {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, Columns[i].get(j))
	}
	return append(b, '\r', '\n')
}

// appendView appends v's row: the Columns, in their order, printed as
// v.JSON(false) prints them (absent fields empty). IDs, times, numbers and
// author keys never need quoting, so they are appended as they are.
func (cw *CSVWriter) appendView(v *incident.ReportView) {
	b := cw.buf
	r := &v.Report
	open := !v.Sealed || v.Opened // a sealed report nobody here can read shows its envelope only
	b = appendID(b, &v.ID)
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
	if len(v.Flags) == 1 {
		b = appendCSVField(b, v.Flags[0])
	} else if len(v.Flags) > 1 {
		s := cw.scratch[:0]
		for i, f := range v.Flags {
			if i > 0 {
				s = append(s, ';')
			}
			s = append(s, f...)
		}
		b = appendCSVField(b, s)
		cw.scratch = s
	}
	b = append(b, ',')
	b = strconv.AppendBool(b, v.Sealed)
	b = append(b, ',')
	b = append(b, cw.author(&v.Author)...)
	b = append(b, ',')
	if open {
		for i, h := range r.Attachments {
			if i > 0 {
				b = append(b, ';')
			}
			var id incident.ID
			copy(id[:], h) // as ReportView.JSON does: a short hash is zero-padded, a long one cut
			b = appendID(b, &id)
		}
	}
	cw.buf = append(b, '\r', '\n')
}

// author returns a's text form, encoded once per author and writer (a
// mission has far fewer authors than reports).
func (cw *CSVWriter) author(a *incident.Author) string {
	if s, ok := cw.authors[*a]; ok {
		return s
	}
	s := a.String()
	cw.authors[*a] = s
	return s
}

func appendMicro(b []byte, m *int64) []byte {
	if m == nil {
		return b
	}
	return strconv.AppendFloat(b, float64(*m)/1e6, 'f', -1, 64) // as incident.Degrees and deg print it
}

func appendNonZero(b []byte, v uint64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendUint(b, v, 10)
}

// csvSpecial marks the bytes that make a field quoted: the comma, the
// quote, CR and LF.
var csvSpecial = [256]bool{',': true, '"': true, '\r': true, '\n': true}

// csvNeedsQuotes is encoding/csv's Writer.fieldNeedsQuotes with the comma
// as delimiter: a field is quoted when it holds a comma, a quote, CR or
// LF, starts with a space (unicode.IsSpace), or is exactly `\.`.
func csvNeedsQuotes[T ~string | ~[]byte](f T) bool {
	if len(f) == 0 {
		return false
	}
	if len(f) == 2 && f[0] == '\\' && f[1] == '.' {
		return true
	}
	for i := 0; i < len(f); i++ {
		if csvSpecial[f[i]] {
			return true
		}
	}
	if c := f[0]; c < utf8.RuneSelf {
		return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
	}
	var p [utf8.UTFMax]byte
	r, _ := utf8.DecodeRune(p[:copy(p[:], f)])
	return unicode.IsSpace(r)
}

// appendCSVField appends one field as encoding/csv writes it with UseCRLF:
// quoted when csvNeedsQuotes says so, with quotes doubled, LF written as
// CRLF and a CR on its own dropped.
func appendCSVField[T ~string | ~[]byte](b []byte, f T) []byte {
	if !csvNeedsQuotes(f) {
		return append(b, f...)
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '"' && c != '\r' && c != '\n' {
			continue
		}
		b = append(b, f[start:i]...)
		start = i + 1
		switch c {
		case '"':
			b = append(b, '"', '"')
		case '\n':
			b = append(b, '\r', '\n')
		}
	}
	b = append(b, f[start:]...)
	return append(b, '"')
}
