package export

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// The columns of the observation tables, for CSV and XLSX (JSON Lines
// writes the rows themselves, lists nested). A column's name is stable:
// tools read by it. Columns that depend on the data come last (the
// admin levels after the station, the votes per choice at the end of a
// tally row), so the fixed ones keep their positions. HXL hashtags are
// from the HXL 1.1 core dictionary (#adm1…#adm5, #loc, #geo,
// #population, #indicator, #status, #meta, #date, #contributor, #group)
// with attributes of our own where it has none.

// TableColumn names one column of an observation table.
type TableColumn struct {
	Name string
	HXL  string
	// Private columns identify an observer or a record: public exports
	// leave them out.
	Private bool
	Width   float64 // in XLSX, in characters; 0: the default
}

type cellKind uint8

const (
	cellEmpty cellKind = iota
	cellText
	cellUint
	cellFloat
	cellBool
	cellTime // Unix milliseconds
)

// cell is one typed value: CSV prints it, XLSX stores it typed.
type cell struct {
	kind cellKind
	s    string
	u    uint64
	i    int64
	f    float64
	b    bool
}

func textCell(s string) cell {
	if s == "" {
		return cell{}
	}
	return cell{kind: cellText, s: s}
}

func listCell(list []string) cell { return textCell(strings.Join(list, ";")) }

func uintCellOf(p *uint64) cell {
	if p == nil {
		return cell{}
	}
	return cell{kind: cellUint, u: *p}
}

func nonZeroCell(v uint64) cell {
	if v == 0 {
		return cell{}
	}
	return cell{kind: cellUint, u: v}
}

func floatCellOf(p *float64) cell {
	if p == nil {
		return cell{}
	}
	return cell{kind: cellFloat, f: *p}
}

func boolCell(b bool) cell { return cell{kind: cellBool, b: b} }

func timeCell(ms int64) cell { return cell{kind: cellTime, i: ms} }

// appendCell appends c as CSV prints it.
func appendCell(b []byte, c cell) []byte {
	switch c.kind {
	case cellText:
		return appendCSVField(b, c.s)
	case cellUint:
		return strconv.AppendUint(b, c.u, 10)
	case cellFloat:
		return strconv.AppendFloat(b, c.f, 'f', -1, 64)
	case cellBool:
		return strconv.AppendBool(b, c.b)
	case cellTime:
		return appendTime(b, c.i)
	}
	return b
}

// maxXLSXCell is the most characters a spreadsheet cell holds (Excel's
// limit): longer text is cut, marked, rather than refused.
const maxXLSXCell = 32767

// xlsxValue is c as an XLSX cell value (nil: empty).
func xlsxValue(c cell) any {
	switch c.kind {
	case cellText:
		if len(c.s) > maxXLSXCell { // bytes ≥ characters: a cheap first test
			if r := []rune(c.s); len(r) > maxXLSXCell {
				return string(r[:maxXLSXCell-1]) + "…"
			}
		}
		return c.s
	case cellUint:
		return c.u
	case cellFloat:
		return c.f
	case cellBool:
		return c.b
	case cellTime:
		return time.UnixMilli(c.i).UTC()
	}
	return nil
}

// tableCol is a column and how to print it from a row of type R.
type tableCol[R any] struct {
	TableColumn
	get func(r *R) cell
}

// visible drops the private columns of a public export.
func visible[R any](cols []tableCol[R], public bool) []tableCol[R] {
	if !public {
		return cols
	}
	var out []tableCol[R]
	for _, c := range cols {
		if !c.Private {
			out = append(out, c)
		}
	}
	return out
}

// adminHXL is the hashtag of admin level i (1-based): HXL names five.
func adminHXL(i int) string {
	if i <= 5 {
		return "#adm" + strconv.Itoa(i) + "+name"
	}
	return "#loc+name+adm" + strconv.Itoa(i)
}

func adminCols[R any](levels int, admin func(r *R) []string) []tableCol[R] {
	out := make([]tableCol[R], levels)
	for i := range out {
		out[i] = tableCol[R]{TableColumn{Name: "admin" + strconv.Itoa(i+1), HXL: adminHXL(i + 1), Width: 16}, func(r *R) cell {
			if a := admin(r); i < len(a) {
				return textCell(a[i])
			}
			return cell{}
		}}
	}
	return out
}

func stationCols(levels int) []tableCol[StationRow] {
	cols := []tableCol[StationRow]{
		{TableColumn{Name: "code", HXL: "#loc+code", Width: 14}, func(r *StationRow) cell { return textCell(r.Code) }},
		{TableColumn{Name: "name", HXL: "#loc+name", Width: 30}, func(r *StationRow) cell { return textCell(r.Name) }},
	}
	cols = append(cols, adminCols(levels, func(r *StationRow) []string { return r.Admin })...)
	return append(cols, []tableCol[StationRow]{
		{TableColumn{Name: "registered", HXL: "#population+registered", Width: 11}, func(r *StationRow) cell { return nonZeroCell(r.Registered) }},
		{TableColumn{Name: "lat", HXL: "#geo+lat", Width: 11}, func(r *StationRow) cell { return floatCellOf(r.Lat) }},
		{TableColumn{Name: "lon", HXL: "#geo+lon", Width: 11}, func(r *StationRow) cell { return floatCellOf(r.Lon) }},
		{TableColumn{Name: "tags", HXL: "#meta+tags", Private: true, Width: 22}, func(r *StationRow) cell { return listCell(r.Tags) }},
		{TableColumn{Name: "pvt", HXL: "#indicator+pvt", Private: true, Width: 6}, func(r *StationRow) cell { return boolCell(r.PVT) }},
		{TableColumn{Name: "stratum", HXL: "#group+stratum", Width: 14}, func(r *StationRow) cell { return textCell(r.Stratum) }},
		{TableColumn{Name: "id", HXL: "#meta+id", Private: true, Width: 24}, func(r *StationRow) cell { return textCell(r.ID) }},
	}...)
}

// checkCell is the verdict of the check named name ("" when the tally
// was not read).
func checkCell(r *TallyRow, name string) cell {
	for _, c := range r.Checks {
		if c.Name == name {
			return textCell(c.Verdict)
		}
	}
	return cell{}
}

// VotePrefix begins the name of a tally table's column for one choice's
// votes ("votes:Amara"): a choice may be named like any other column.
const VotePrefix = "votes:"

func tallyCols(levels int, choices []string) []tableCol[TallyRow] {
	cols := []tableCol[TallyRow]{
		{TableColumn{Name: "id", HXL: "#meta+id", Private: true, Width: 24}, func(r *TallyRow) cell { return textCell(r.ID) }},
		{TableColumn{Name: "station", HXL: "#loc+code", Width: 14}, func(r *TallyRow) cell { return textCell(r.Station) }},
	}
	cols = append(cols, adminCols(levels, func(r *TallyRow) []string { return r.Admin })...)
	cols = append(cols, []tableCol[TallyRow]{
		{TableColumn{Name: "contest", HXL: "#group+contest", Width: 16}, func(r *TallyRow) cell { return textCell(r.Contest) }},
		{TableColumn{Name: "registered", HXL: "#population+registered", Width: 11}, func(r *TallyRow) cell { return uintCellOf(r.Registered) }},
		{TableColumn{Name: "issued", HXL: "#indicator+num+issued", Width: 9}, func(r *TallyRow) cell { return uintCellOf(r.Issued) }},
		{TableColumn{Name: "cast", HXL: "#indicator+num+cast", Width: 9}, func(r *TallyRow) cell { return uintCellOf(r.Cast) }},
		{TableColumn{Name: "invalid", HXL: "#indicator+num+invalid", Width: 9}, func(r *TallyRow) cell { return uintCellOf(r.Invalid) }},
		{TableColumn{Name: "blank", HXL: "#indicator+num+blank", Width: 9}, func(r *TallyRow) cell { return uintCellOf(r.Blank) }},
	}...)
	for _, name := range []string{incident.CheckSum, incident.CheckCastIssued, incident.CheckIssuedReg, incident.CheckTurnout, incident.CheckRegistry} {
		cols = append(cols, tableCol[TallyRow]{TableColumn{Name: "check_" + name, HXL: "#status+check+" + name, Width: 10},
			func(r *TallyRow) cell { return checkCell(r, name) }})
	}
	cols = append(cols, []tableCol[TallyRow]{
		{TableColumn{Name: "flags", HXL: "#meta+flags", Width: 22}, func(r *TallyRow) cell { return listCell(r.Flags) }},
		{TableColumn{Name: "station_status", HXL: "#status+station", Width: 13}, func(r *TallyRow) cell { return textCell(r.StationStatus) }},
		{TableColumn{Name: "superseded", HXL: "#status+superseded", Private: true, Width: 11}, func(r *TallyRow) cell { return boolCell(r.Superseded) }},
		{TableColumn{Name: "sealed", HXL: "#meta+sealed", Private: true, Width: 8}, func(r *TallyRow) cell { return boolCell(r.Sealed) }},
		{TableColumn{Name: "author", HXL: "#meta+author", Private: true, Width: 24}, func(r *TallyRow) cell { return textCell(r.Author) }},
		{TableColumn{Name: "observer", HXL: "#contributor+name", Private: true, Width: 18}, func(r *TallyRow) cell { return textCell(r.Observer) }},
		{TableColumn{Name: "created", HXL: "#date+reported", Private: true, Width: 19}, func(r *TallyRow) cell {
			if r.Created == "" {
				return cell{}
			}
			return timeCell(r.created)
		}},
		{TableColumn{Name: "photos", HXL: "#meta+photos", Private: true, Width: 30}, func(r *TallyRow) cell { return listCell(r.Photos) }},
	}...)
	for _, choice := range choices {
		cols = append(cols, tableCol[TallyRow]{TableColumn{Name: VotePrefix + choice, HXL: "#indicator+num+votes", Width: 12},
			func(r *TallyRow) cell {
				for _, v := range r.Votes {
					if v.Choice == choice {
						return cell{kind: cellUint, u: v.Votes}
					}
				}
				return cell{}
			}})
	}
	return cols
}

// answerLine is one line of the checklists' long table: a response and
// one of its answers (nil for a response without answers, or one this
// device cannot read).
type answerLine struct {
	r *ResponseRow
	a *AnswerRow
}

func responseCols(levels int) []tableCol[answerLine] {
	cols := []tableCol[answerLine]{
		{TableColumn{Name: "response_id", HXL: "#meta+id", Private: true, Width: 24}, func(l *answerLine) cell { return textCell(l.r.ID) }},
		{TableColumn{Name: "form", HXL: "#meta+form+name", Width: 14}, func(l *answerLine) cell { return textCell(l.r.Form) }},
		{TableColumn{Name: "form_id", HXL: "#meta+form+id", Private: true, Width: 24}, func(l *answerLine) cell { return textCell(l.r.FormID) }},
		{TableColumn{Name: "version", HXL: "#meta+form+version", Width: 10}, func(l *answerLine) cell { return textCell(l.r.Version) }},
		{TableColumn{Name: "station", HXL: "#loc+code", Width: 14}, func(l *answerLine) cell { return textCell(l.r.Station) }},
	}
	cols = append(cols, adminCols(levels, func(l *answerLine) []string { return l.r.Admin })...)
	return append(cols, []tableCol[answerLine]{
		{TableColumn{Name: "author", HXL: "#meta+author", Private: true, Width: 24}, func(l *answerLine) cell { return textCell(l.r.Author) }},
		{TableColumn{Name: "observer", HXL: "#contributor+name", Private: true, Width: 18}, func(l *answerLine) cell { return textCell(l.r.Observer) }},
		{TableColumn{Name: "created", HXL: "#date+reported", Width: 19}, func(l *answerLine) cell { return createdCell(l.r.Created) }},
		{TableColumn{Name: "sealed", HXL: "#meta+sealed", Private: true, Width: 8}, func(l *answerLine) cell { return boolCell(l.r.Sealed) }},
		{TableColumn{Name: "flagged", HXL: "#meta+flagged", Width: 18}, func(l *answerLine) cell { return listCell(l.r.Flagged) }},
		{TableColumn{Name: "misfit", HXL: "#meta+misfit", Private: true, Width: 30}, func(l *answerLine) cell { return textCell(l.r.Misfit) }},
		{TableColumn{Name: "flags", HXL: "#meta+flags", Width: 16}, func(l *answerLine) cell { return listCell(l.r.Flags) }},
		{TableColumn{Name: "question_id", HXL: "#indicator+id", Width: 16}, func(l *answerLine) cell { return answerField(l, func(a *AnswerRow) string { return a.Question }) }},
		{TableColumn{Name: "code", HXL: "#indicator+code", Width: 8}, func(l *answerLine) cell { return answerField(l, func(a *AnswerRow) string { return a.Code }) }},
		{TableColumn{Name: "question", HXL: "#indicator+name", Width: 40}, func(l *answerLine) cell { return answerField(l, func(a *AnswerRow) string { return a.Label }) }},
		{TableColumn{Name: "answer", HXL: "#indicator+value", Width: 20}, func(l *answerLine) cell { return answerField(l, func(a *AnswerRow) string { return a.Answer }) }},
		{TableColumn{Name: "answer_label", HXL: "#indicator+value+label", Width: 24}, func(l *answerLine) cell { return answerField(l, func(a *AnswerRow) string { return a.AnswerLabel }) }},
		{TableColumn{Name: "answer_flagged", HXL: "#indicator+flagged", Width: 10}, func(l *answerLine) cell {
			if l.a == nil {
				return cell{}
			}
			return boolCell(l.a.Flagged)
		}},
	}...)
}

func answerField(l *answerLine, f func(*AnswerRow) string) cell {
	if l.a == nil {
		return cell{}
	}
	return textCell(f(l.a))
}

// createdCell is an RFC 3339 time as a time cell.
func createdCell(s string) cell {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return textCell(s)
	}
	return timeCell(t.UnixMilli())
}

// tableCSV writes one observation table as CSV, as CSVWriter writes
// reports: RFC 4180, CRLF, a "#" notice line first when there is one,
// the HXL row after the header when asked for. Output is buffered;
// close flushes it.
type tableCSV[R any] struct {
	w    io.Writer
	buf  []byte
	cols []tableCol[R]
	err  error
}

func newTableCSV[R any](w io.Writer, cols []tableCol[R], hxl bool, notice string) *tableCSV[R] {
	t := &tableCSV[R]{w: w, cols: cols, buf: make([]byte, 0, csvFlushAt+4<<10)}
	if notice != "" {
		t.buf = append(t.buf, "# "+strings.ReplaceAll(notice, "\n", " ")+"\r\n"...)
	}
	t.buf = appendCSVHeader(t.buf, len(cols), func(i int) (string, string) { return cols[i].Name, cols[i].HXL }, hxl)
	return t
}

func (t *tableCSV[R]) write(r *R) error {
	if t.err != nil {
		return t.err
	}
	for i := range t.cols {
		if i > 0 {
			t.buf = append(t.buf, ',')
		}
		t.buf = appendCell(t.buf, t.cols[i].get(r))
	}
	t.buf = append(t.buf, '\r', '\n')
	if len(t.buf) >= csvFlushAt {
		t.flush()
	}
	return t.err
}

func (t *tableCSV[R]) flush() {
	if t.err == nil && len(t.buf) > 0 {
		_, t.err = t.w.Write(t.buf)
	}
	t.buf = t.buf[:0]
}

func (t *tableCSV[R]) close() error {
	t.flush()
	return t.err
}

// JSON Lines of the observation tables: the mission records first (as
// for reports; a public export has none), then, for checklists, the form
// versions and, for stations, the registry record in force, as
// dependency lines; a notice line; then one line per row with its signed
// record (none in a public export).
type (
	// StationLine is one station.
	StationLine struct {
		Kind string `json:"kind"` // "station"
		StationRow
		Record string `json:"record,omitempty"`
	}
	// TallyLine is one tally (or, public, one station's result).
	TallyLine struct {
		Kind string `json:"kind"` // "tally"
		TallyRow
		Record string `json:"record,omitempty"`
	}
	// ResponseLine is one checklist response with its answers.
	ResponseLine struct {
		Kind string `json:"kind"` // "response"
		ResponseRow
		Record string `json:"record,omitempty"`
	}
)

func recordText(rec *incident.Signed) string {
	if rec == nil {
		return ""
	}
	return b64(rec.Raw)
}
