package incident

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The station registry as a file: the CSV a coordinator imports
// (`station import`), one row a station, with the header
// code,name,admin,registered,lat,lon,tags in any order. admin is the
// administrative path, widest first, its levels split on "/"
// ("Region/District/Ward"); registered the voters on the station's
// register (empty: not given); lat and lon decimal degrees (both or
// neither); tags words split on spaces ("pvt stratum=urban").

// StationsCSVHeader is the registry file's columns, in the order a
// written file gives them.
var StationsCSVHeader = []string{"code", "name", "admin", "registered", "lat", "lon", "tags"}

// MaxStationsCSVBytes bounds a registry file: 200,000 stations at about
// 300 bytes a row.
const MaxStationsCSVBytes = 64 << 20

// FlagUnknownStation marks a report, check-in or alert naming a station
// code that the registry in force does not list. It is never a reason to
// refuse: an observer at a station missing from the register is exactly
// what must be reported.
const FlagUnknownStation = "unknown_station"

// maxRowErrors is how many bad rows a StationsCSVError keeps (it counts
// them all).
const maxRowErrors = 100

// maxShownErrors is how many of them its message gives.
const maxShownErrors = 20

// RowError is one thing wrong with a registry file, at its line.
type RowError struct {
	Line    int    `json:"line"`
	Column  string `json:"column,omitempty"`
	Problem string `json:"problem"`
}

func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Problem)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Column, e.Problem)
}

// StationsCSVError is every problem found in a registry file (the first
// maxRowErrors of them, and how many there were).
type StationsCSVError struct {
	Rows  []RowError
	Total int
}

func (e *StationsCSVError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nothing imported, %s: ", Plural(e.Total, "problem"))
	shown := min(len(e.Rows), maxShownErrors)
	for i, r := range e.Rows[:shown] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(r.Error())
	}
	if e.Total > shown {
		fmt.Fprintf(&b, "; and %d more", e.Total-shown)
	}
	return b.String()
}

func (e *StationsCSVError) add(line int, column, format string, args ...any) {
	e.Total++
	if len(e.Rows) < maxRowErrors {
		e.Rows = append(e.Rows, RowError{Line: line, Column: column, Problem: fmt.Sprintf(format, args...)})
	}
}

// ParseStationsCSV reads a registry file into station payloads, codes in
// their normal form (NormalizeCode), in the file's order. Any problem
// (a missing or unknown column, a duplicate code, an unparsable number, a
// coordinate out of range, a field over its limit) makes it return no
// stations and a *StationsCSVError naming each bad line. A UTF-8 byte
// order mark and CRLF line ends are accepted. A file over
// MaxStationsCSVBytes or MaxRegistryStations rows is refused as soon as
// the reading gets there, never read whole.
func ParseStationsCSV(r io.Reader) ([]StationPayload, error) {
	lim := &limitedReader{r: r, left: MaxStationsCSVBytes}
	br := bufio.NewReaderSize(lim, 64<<10)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	errs := &StationsCSVError{}
	// fail ends the reading: its problem comes first, before the rows'.
	fail := func(line int, format string, args ...any) ([]StationPayload, error) {
		errs.Total++
		errs.Rows = append([]RowError{{Line: line, Problem: fmt.Sprintf(format, args...)}}, errs.Rows...)
		return nil, errs
	}
	header, err := cr.Read()
	switch {
	case lim.over:
		return fail(1, "the file is over %d MiB", MaxStationsCSVBytes>>20)
	case errors.Is(err, io.EOF):
		return fail(1, "the file is empty: want the header %s", strings.Join(StationsCSVHeader, ","))
	case err != nil:
		return fail(1, "%v", csvProblem(err))
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case name == "":
			errs.add(1, "", "column %d has no name", i+1)
		case !contains(StationsCSVHeader, name):
			errs.add(1, "", "unknown column %q (the columns are %s)", h, strings.Join(StationsCSVHeader, ","))
		case col[name] != 0:
			errs.add(1, "", "column %q twice", name)
		default:
			col[name] = i + 1 // 0: absent
		}
	}
	for _, name := range StationsCSVHeader {
		if col[name] == 0 {
			errs.add(1, "", "missing column %q", name)
		}
	}
	if errs.Total > 0 {
		return nil, errs
	}
	var (
		out   []StationPayload
		first = map[string]int{} // code → its line
		last  = 1                // the line of the last row read
		rows  int                // data rows read
	)
	for {
		rec, err := cr.Read()
		if lim.over {
			return fail(last+1, "the file is over %d MiB", MaxStationsCSVBytes>>20)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		line := lineOf(cr)
		if line == 0 {
			line = last + 1
		}
		last = line
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			// The reader cannot be trusted past a broken quote.
			return fail(line, "%v", csvProblem(err))
		}
		if rows++; rows > MaxRegistryStations {
			return fail(line, "more than %d stations: one registry holds at most that many", MaxRegistryStations)
		}
		if len(rec) != len(header) {
			errs.add(line, "", "%d fields, the header has %d", len(rec), len(header))
			continue
		}
		field := func(name string) string { return strings.TrimSpace(rec[col[name]-1]) }
		p, ok := parseStationRow(errs, line, field)
		if !ok {
			continue
		}
		if prev, dup := first[p.Code]; dup {
			errs.add(line, "code", "%s is the code of line %d too", p.Code, prev)
			continue
		}
		first[p.Code] = line
		out = append(out, p)
	}
	if errs.Total > 0 {
		return nil, errs
	}
	if len(out) == 0 {
		return fail(2, "no stations: the file holds its header alone")
	}
	return out, nil
}

// parseStationRow reads one row; each problem is added to errs.
func parseStationRow(errs *StationsCSVError, line int, field func(string) string) (StationPayload, bool) {
	n := errs.Total
	var p StationPayload
	raw := field("code")
	p.Code = NormalizeCode(raw)
	switch {
	case raw == "":
		errs.add(line, "code", "is empty")
	case !utf8.ValidString(raw):
		errs.add(line, "code", "is not valid UTF-8")
	case len(p.Code) > MaxCodeLen:
		errs.add(line, "code", "%q is %d bytes, limit %d", p.Code, len(p.Code), MaxCodeLen)
	}
	p.Name = field("name")
	if len(p.Name) > MaxNameLen {
		errs.add(line, "name", "is %d bytes, limit %d", len(p.Name), MaxNameLen)
	}
	if admin := field("admin"); admin != "" {
		for _, level := range strings.Split(admin, "/") {
			level = strings.TrimSpace(level)
			switch {
			case level == "":
				errs.add(line, "admin", "%q has an empty level", admin)
			case len(level) > MaxAreaLen:
				errs.add(line, "admin", "a level is %d bytes, limit %d", len(level), MaxAreaLen)
			}
			p.Admin = append(p.Admin, level)
		}
		if len(p.Admin) > MaxAdminLevels {
			errs.add(line, "admin", "%d levels, limit %d", len(p.Admin), MaxAdminLevels)
		}
	}
	// Older builds show Area: the district in Region/District/Ward.
	switch {
	case len(p.Admin) >= 2:
		p.Area = p.Admin[1]
	case len(p.Admin) == 1:
		p.Area = p.Admin[0]
	}
	if s := field("registered"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		switch {
		case err != nil:
			errs.add(line, "registered", "%q is not a whole number of voters", s)
		case v > MaxRegistered:
			errs.add(line, "registered", "%d voters on one station, limit %d", v, MaxRegistered)
		default:
			p.Registered = v
		}
	}
	lat, lon := field("lat"), field("lon")
	switch {
	case lat != "" && lon == "":
		errs.add(line, "lon", "is empty: lat without lon")
	case lat == "" && lon != "":
		errs.add(line, "lat", "is empty: lon without lat")
	case lat != "":
		p.Lat = csvDegrees(errs, line, "lat", lat, 90)
		p.Lon = csvDegrees(errs, line, "lon", lon, 180)
	}
	if tags := strings.Fields(field("tags")); len(tags) > 0 {
		strata := 0
		for _, t := range tags {
			switch {
			case len(t) > MaxTagLen:
				errs.add(line, "tags", "%q is longer than %d bytes", t, MaxTagLen)
			case t == TagStratum:
				errs.add(line, "tags", "%q names no stratum", t)
			case strings.HasPrefix(t, TagStratum):
				strata++
			}
			if !contains(p.Tags, t) {
				p.Tags = append(p.Tags, t)
			}
		}
		if strata > 1 {
			errs.add(line, "tags", "%d strata: a station is in one", strata)
		}
		if len(p.Tags) > MaxTags {
			errs.add(line, "tags", "%d tags, limit %d", len(p.Tags), MaxTags)
		}
	}
	if errs.Total > n {
		return p, false
	}
	// What the record's own rules say (control characters, invalid
	// UTF-8): the same check every device makes.
	if err := validatePayload(&p); err != nil {
		var fe *FieldError
		column := ""
		if errors.As(err, &fe) {
			column = strings.TrimPrefix(fe.Field, "payload.")
			errs.add(line, column, "%s", fe.Problem)
		} else {
			errs.add(line, "", "%v", err)
		}
		return p, false
	}
	return p, true
}

// csvDegrees parses a coordinate in decimal degrees within ±limit.
func csvDegrees(errs *StationsCSVError, line int, column, s string, limit float64) *int64 {
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		errs.add(line, column, "%q is not a number of decimal degrees", s)
		return nil
	case v < -limit || v > limit:
		errs.add(line, column, "%s is out of range (-%g to %g)", s, limit, limit)
		return nil
	}
	return Micro(v)
}

// lineOf is the line the reader's last record started on (0 when its
// last read returned no record).
func lineOf(cr *csv.Reader) (line int) {
	defer func() {
		if recover() != nil {
			line = 0
		}
	}()
	line, _ = cr.FieldPos(0)
	return line
}

// csvProblem words a CSV syntax error without its position (the caller
// gives the line).
func csvProblem(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// limitedReader reads at most left bytes, and says when r held more.
type limitedReader struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a file of exactly the limit from a longer one.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			l.over = true
			return 0, errors.New("over the limit")
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// ValidateStation checks a station payload as every device does when
// the record arrives.
func ValidateStation(p *StationPayload) error { return validatePayload(p) }

// WriteStationsCSV writes stations as a registry file
// (StationsCSVHeader), which ParseStationsCSV reads back.
func WriteStationsCSV(w io.Writer, stations []StationPayload) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(StationsCSVHeader); err != nil {
		return err
	}
	for _, s := range stations {
		row := []string{s.Code, s.Name, strings.Join(s.Admin, "/"), "", "", "", strings.Join(s.Tags, " ")}
		if s.Registered > 0 {
			row[3] = strconv.FormatUint(s.Registered, 10)
		}
		if s.Lat != nil && s.Lon != nil {
			row[4], row[5] = FormatMicro(*s.Lat), FormatMicro(*s.Lon)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
