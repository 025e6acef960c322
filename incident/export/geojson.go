package export

import (
	"encoding/json"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-mesh/vigil/incident"
)

// GeoJSON: a FeatureCollection (RFC 7946) in WGS 84 with [lon, lat]
// points; the properties are the CSV columns. Reports without a location
// are skipped and counted.
//
// Each feature is what json.Marshal writes for
//
//	{"type": "Feature", "id": …, "geometry": {"type": "Point", "coordinates": [lon, lat]},
//	 "properties": map[string]any{column name: value}}
//
// (keys sorted, HTML characters escaped), printed directly instead of
// through a map and reflection; the golden files and TestGeoJSONLikeMarshal
// hold the two equal. The properties are the columns' text, except
// severity, lat, lon, amendments (numbers), conflict, retracted, sealed
// (booleans) and flags (an array of strings).
//
// Not safe for concurrent use.
type GeoJSONWriter struct {
	w       io.Writer
	n       int
	buf     []byte
	Skipped int
}

// NewGeoJSON starts the collection. With NewNoticeGeoJSON, a notice
// (public exports) becomes a top-level "notice" member, which RFC 7946
// readers ignore.
func NewGeoJSON(w io.Writer) (*GeoJSONWriter, error) { return NewNoticeGeoJSON(w, "") }

// NewNoticeGeoJSON is NewGeoJSON with a notice member.
func NewNoticeGeoJSON(w io.Writer, notice string) (*GeoJSONWriter, error) {
	head := `{"type":"FeatureCollection",`
	if notice != "" {
		b, _ := json.Marshal(notice)
		head += `"notice":` + string(b) + `,`
	}
	_, err := io.WriteString(w, head+`"features":[`)
	return &GeoJSONWriter{w: w}, err
}

// Write adds a report if it has a location.
func (g *GeoJSONWriter) Write(it *Item) error {
	j := it.Row()
	if j.Lat == nil || j.Lon == nil {
		g.Skipped++
		return nil
	}
	for _, f := range []float64{*j.Lon, *j.Lat} {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			_, err := json.Marshal(f) // json's UnsupportedValueError, as before
			return err
		}
	}
	b := g.buf[:0]
	if g.n > 0 {
		b = append(b, ",\n"...)
	} else {
		b = append(b, '\n')
	}
	b = append(b, `{"type":"Feature","id":`...)
	b = appendJSONString(b, j.ID)
	b = append(b, `,"geometry":{"type":"Point","coordinates":[`...)
	b = appendJSONFloat(b, *j.Lon)
	b = append(b, ',')
	b = appendJSONFloat(b, *j.Lat)
	b = append(b, `]},"properties":{`...)
	for i, p := range geoProps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p.key...)
		if p.item != nil {
			b = appendJSONString(b, p.item(it))
			continue
		}
		b = p.value(b, &j)
	}
	b = append(b, "}}"...)
	g.buf = b
	g.n++
	_, err := g.w.Write(b)
	return err
}

// Close ends the collection.
func (g *GeoJSONWriter) Close() error {
	_, err := io.WriteString(g.w, "\n]}\n")
	return err
}

// Count is how many features were written.
func (g *GeoJSONWriter) Count() int { return g.n }

// geoProp is one feature property: its key (quoted, with the colon) and
// how to print its value.
type geoProp struct {
	name  string
	key   string
	value func([]byte, *incident.ReportJSON) []byte
	item  func(*Item) string // a column from the item (Column.item)
}

// geoProps are the Columns as properties, in json.Marshal's map order
// (sorted by key).
var geoProps = func() []geoProp {
	typed := map[string]func([]byte, *incident.ReportJSON) []byte{
		"severity": func(b []byte, j *incident.ReportJSON) []byte {
			if j.Severity == nil {
				return append(b, "null"...)
			}
			return strconv.AppendUint(b, *j.Severity, 10)
		},
		"lat":        func(b []byte, j *incident.ReportJSON) []byte { return appendJSONFloat(b, *j.Lat) },
		"lon":        func(b []byte, j *incident.ReportJSON) []byte { return appendJSONFloat(b, *j.Lon) },
		"conflict":   func(b []byte, j *incident.ReportJSON) []byte { return strconv.AppendBool(b, j.Conflict) },
		"retracted":  func(b []byte, j *incident.ReportJSON) []byte { return strconv.AppendBool(b, j.Retracted) },
		"sealed":     func(b []byte, j *incident.ReportJSON) []byte { return strconv.AppendBool(b, j.Sealed) },
		"amendments": func(b []byte, j *incident.ReportJSON) []byte { return strconv.AppendInt(b, int64(j.Amendments), 10) },
		"flags": func(b []byte, j *incident.ReportJSON) []byte {
			if j.Flags == nil {
				return append(b, "null"...)
			}
			b = append(b, '[')
			for i, f := range j.Flags {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, f)
			}
			return append(b, ']')
		},
		// Text columns whose text is built: printed without building it.
		"precision_m": func(b []byte, j *incident.ReportJSON) []byte { return appendQuotedNum(b, j.Precision) },
		"reach":       func(b []byte, j *incident.ReportJSON) []byte { return appendQuotedNum(b, j.Reach) },
		"attachments": func(b []byte, j *incident.ReportJSON) []byte {
			b = append(b, '"')
			for i, a := range j.Attachments {
				if i > 0 {
					b = append(b, ';')
				}
				b = appendJSONStringBody(b, a)
			}
			return append(b, '"')
		},
	}
	var ps []geoProp
	for _, c := range Columns {
		v := typed[c.Name]
		if v == nil && c.get != nil {
			get := c.get
			v = func(b []byte, j *incident.ReportJSON) []byte { return appendJSONString(b, get(j)) }
		}
		ps = append(ps, geoProp{name: c.Name, key: string(appendJSONString(nil, c.Name)) + ":", value: v, item: c.item})
	}
	slices.SortFunc(ps, func(a, b geoProp) int { return strings.Compare(a.name, b.name) })
	return ps
}()

// appendQuotedNum appends num(p) as a JSON string.
func appendQuotedNum(b []byte, p *uint64) []byte {
	b = append(b, '"')
	if p != nil {
		b = strconv.AppendUint(b, *p, 10)
	}
	return append(b, '"')
}

// appendJSONFloat appends f as encoding/json writes a float64 (finite
// only): like %g, with the exponent cutoffs of ES6 and an unpadded
// exponent.
func appendJSONFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString appends s as json.Marshal writes a string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONStringBody(b, s)
	return append(b, '"')
}

// jsonSafe marks the ASCII bytes json.Marshal writes as they are: not a
// control character, quote, backslash or HTML's <, > and &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONStringBody appends the inside of s's JSON string, escaped as
// encoding/json's appendString escapes it with HTML escaping on: invalid
// UTF-8 becomes \ufffd, U+2028 and U+2029 are escaped.
func appendJSONStringBody(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
