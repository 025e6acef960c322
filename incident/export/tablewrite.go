package export

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-mesh/vigil/incident"
)

// Writing the observation tables: CSV and JSON Lines one table per file,
// XLSX as sheets of a workbook (gridSheet).

// WriteCSV writes table (RecordsStations, RecordsTallies or
// RecordsChecklists) as CSV: with hxl, the HXL hashtag row after the
// header; notice, when set, as a "#" line first. It returns the records
// written (stations, tallies or responses; a checklist's long table has
// a line per answer).
func (o *Observations) WriteCSV(table string, w io.Writer, hxl bool, notice string) (int, error) {
	n := 0
	switch table {
	case RecordsStations:
		cw := newTableCSV(w, visible(stationCols(o.levels), o.public), hxl, notice)
		for _, row := range o.StationRows() {
			if err := cw.write(&row); err != nil {
				return n, err
			}
			n++
		}
		return n, cw.close()
	case RecordsTallies:
		cw := newTableCSV(w, visible(tallyCols(o.levels, o.voteChoices()), o.public), hxl, notice)
		err := o.EachTally(func(row *TallyRow, _ *incident.Signed) error {
			n++
			return cw.write(row)
		})
		if err != nil {
			return n, err
		}
		return n, cw.close()
	case RecordsChecklists:
		cw := newTableCSV(w, visible(responseCols(o.levels), o.public), hxl, notice)
		err := o.EachResponse(func(row *ResponseRow, _ *incident.Signed) error {
			n++
			if len(row.Answers) == 0 {
				return cw.write(&answerLine{r: row})
			}
			for i := range row.Answers {
				if err := cw.write(&answerLine{r: row, a: &row.Answers[i]}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		return n, cw.close()
	}
	return 0, fmt.Errorf("%q is not an observation table", table)
}

// WriteJSONL writes table as JSON Lines: deps (the mission records) and
// the records the table's rows need to be read (the form versions for
// checklists, the registry record in force for stations) as dependency
// lines, the notice, then a line per row, each with its signed record
// when records is set. A public export passes no deps and no records.
func (o *Observations) WriteJSONL(table string, w io.Writer, deps []*incident.Signed, notice string, records bool) (int, error) {
	if records {
		switch table {
		case RecordsChecklists:
			deps = slices.Concat(deps, o.formRecs)
		case RecordsStations:
			for _, r := range o.registryRecs {
				if r.Kind == incident.KindRegistry {
					deps = append(deps, r)
				}
			}
		}
	}
	jw, err := NewJSONL(w, deps)
	if err != nil {
		return 0, err
	}
	if notice != "" {
		if err := jw.Notice(notice); err != nil {
			return 0, err
		}
	}
	enc := jw.enc
	rec := func(r *incident.Signed) string {
		if !records {
			return ""
		}
		return recordText(r)
	}
	n := 0
	switch table {
	case RecordsStations:
		byID := map[string]*incident.Signed{}
		for _, r := range o.registryRecs {
			byID[r.ID.String()] = r
		}
		for _, row := range o.StationRows() {
			if err := enc.Encode(StationLine{Kind: string(incident.KindStation), StationRow: row, Record: rec(byID[row.ID])}); err != nil {
				return n, err
			}
			n++
		}
	case RecordsTallies:
		err = o.EachTally(func(row *TallyRow, r *incident.Signed) error {
			n++
			return enc.Encode(TallyLine{Kind: string(incident.KindTally), TallyRow: *row, Record: rec(r)})
		})
	case RecordsChecklists:
		err = o.EachResponse(func(row *ResponseRow, r *incident.Signed) error {
			n++
			return enc.Encode(ResponseLine{Kind: string(incident.KindResponse), ResponseRow: *row, Record: rec(r)})
		})
	default:
		return 0, fmt.Errorf("%q is not an observation table", table)
	}
	return n, err
}

// gridSheet is one sheet of an XLSX workbook other than the report
// sheets: a header row (with a note on the cells that have one), typed
// rows.
type gridSheet struct {
	name   string
	header []string
	notes  []string // per column, "" for none
	widths []float64
	rows   [][]any
	// records: what the sheet's rows are, for the Summary ("tallies",
	// "checklist responses", …); count: how many.
	records string
	count   int
}

func sheetOf[R any](name string, cols []tableCol[R]) *gridSheet {
	s := &gridSheet{name: name}
	for _, c := range cols {
		s.header = append(s.header, c.Name)
		s.widths = append(s.widths, c.Width)
	}
	s.notes = make([]string, len(cols))
	return s
}

func rowOf[R any](cols []tableCol[R], r *R) []any {
	row := make([]any, len(cols))
	for i := range cols {
		row[i] = xlsxValue(cols[i].get(r))
	}
	return row
}

// XLSX sheet names of the observation tables. Checklists take a sheet
// per form name: SheetFormPrefix and the name.
const (
	SheetStations   = "stations"
	SheetTallies    = "tallies"
	SheetFormPrefix = "form "
	// SheetFormNotHeld holds the responses to form versions this device
	// does not hold; SheetFormSealed the sealed ones it cannot open.
	SheetFormNotHeld = "form (not held)"
	SheetFormSealed  = "form (sealed)"
)

// Sheets are the workbook sheets of the tables named (in the order
// stations, tallies, checklists), leaving out a table the mission has no
// rows for. used holds the sheet names already taken.
func (o *Observations) Sheets(tables []string, used map[string]bool) []*gridSheet {
	var out []*gridSheet
	name := func(want string) string {
		// Excel: at most 31 characters, unique without regard to case.
		want = truncRunes(want, 31)
		n := want
		for i := 2; used[strings.ToLower(n)]; i++ {
			suffix := "~" + strconv.Itoa(i)
			n = truncRunes(want, 31-len(suffix)) + suffix
		}
		used[strings.ToLower(n)] = true
		return n
	}
	for _, t := range []string{RecordsStations, RecordsTallies, RecordsChecklists} {
		if !slices.Contains(tables, t) || !o.Has(t) {
			continue
		}
		switch t {
		case RecordsStations:
			cols := visible(stationCols(o.levels), o.public)
			s := sheetOf(name(SheetStations), cols)
			for _, row := range o.StationRows() {
				s.rows = append(s.rows, rowOf(cols, &row))
			}
			s.records, s.count = "stations", len(s.rows)
			out = append(out, s)
		case RecordsTallies:
			cols := visible(tallyCols(o.levels, o.voteChoices()), o.public)
			s := sheetOf(name(SheetTallies), cols)
			_ = o.EachTally(func(row *TallyRow, _ *incident.Signed) error {
				s.rows = append(s.rows, rowOf(cols, row))
				return nil
			})
			s.records, s.count = "tallies", len(s.rows)
			if o.public {
				s.records = "station results"
			}
			out = append(out, s)
		case RecordsChecklists:
			out = append(out, o.formSheets(name)...)
		}
	}
	return out
}

func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// formSheets are the checklists as one wide sheet per form name: a row
// per response, a column per question (every version's, the current
// version's order first), headed by the question's ID with its code and
// label as the cell's note. Integer answers are numbers; N/A stays "na".
func (o *Observations) formSheets(name func(string) string) []*gridSheet {
	type group struct {
		key   string
		rows  []ResponseRow
		qids  []string
		types map[string]string
		notes map[string]string
	}
	groups := map[string]*group{}
	var order []string
	_ = o.EachResponse(func(row *ResponseRow, _ *incident.Signed) error {
		key := row.Form
		switch {
		case row.Sealed && !row.Opened:
			key = SheetFormSealed
		case row.Misfit == MisfitFormNotHeld:
			key = SheetFormNotHeld
		default:
			key = SheetFormPrefix + key
		}
		g := groups[key]
		if g == nil {
			g = &group{key: key, types: map[string]string{}, notes: map[string]string{}}
			groups[key] = g
			order = append(order, key)
			// The form's questions, every version, newest first.
			for _, f := range o.formOrder {
				if SheetFormPrefix+f.Form.Name != key {
					continue
				}
				for _, q := range f.Form.Questions {
					if !q.Answerable() || g.types[q.ID] != "" || (o.public && q.Type == incident.QuestionText) {
						continue
					}
					g.qids = append(g.qids, q.ID)
					g.types[q.ID] = q.Type
					g.notes[q.ID] = q.Code + ": " + q.Label
				}
			}
		}
		for _, a := range row.Answers {
			if _, ok := g.types[a.Question]; !ok {
				g.qids = append(g.qids, a.Question)
				g.types[a.Question] = a.qtype
				if a.Label != "" {
					g.notes[a.Question] = a.Code + ": " + a.Label
				}
			}
		}
		g.rows = append(g.rows, *row)
		return nil
	})
	// The forms by name, then the responses to forms not held, then the
	// sealed ones.
	rank := func(k string) int {
		switch k {
		case SheetFormNotHeld:
			return 1
		case SheetFormSealed:
			return 2
		}
		return 0
	}
	slices.SortStableFunc(order, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	cols := visible(formCols(o.levels), o.public)
	var out []*gridSheet
	for _, key := range order {
		g := groups[key]
		s := sheetOf(name(key), cols)
		for _, q := range g.qids {
			s.header = append(s.header, q)
			s.notes = append(s.notes, g.notes[q])
			s.widths = append(s.widths, 12)
		}
		for i := range g.rows {
			r := &g.rows[i]
			row := rowOf(cols, r)
			answers := make(map[string]string, len(r.Answers))
			for _, a := range r.Answers {
				answers[a.Question] = a.Answer
			}
			for _, q := range g.qids {
				v, ok := answers[q]
				switch {
				case !ok:
					row = append(row, nil)
				case g.types[q] == incident.QuestionInteger:
					if n, err := strconv.ParseInt(v, 10, 64); err == nil {
						row = append(row, n)
					} else {
						row = append(row, xlsxValue(textCell(v)))
					}
				default:
					row = append(row, xlsxValue(textCell(v)))
				}
			}
			s.rows = append(s.rows, row)
		}
		s.records, s.count = "checklist responses", len(s.rows)
		out = append(out, s)
	}
	return out
}

// formCols are the columns before the questions on a form's sheet.
func formCols(levels int) []tableCol[ResponseRow] {
	cols := []tableCol[ResponseRow]{
		{TableColumn{Name: "response_id", HXL: "#meta+id", Private: true, Width: 24}, func(r *ResponseRow) cell { return textCell(r.ID) }},
		{TableColumn{Name: "form_id", HXL: "#meta+form+id", Private: true, Width: 24}, func(r *ResponseRow) cell { return textCell(r.FormID) }},
		{TableColumn{Name: "version", Width: 10}, func(r *ResponseRow) cell { return textCell(r.Version) }},
		{TableColumn{Name: "station", Width: 14}, func(r *ResponseRow) cell { return textCell(r.Station) }},
	}
	cols = append(cols, adminCols(levels, func(r *ResponseRow) []string { return r.Admin })...)
	return append(cols, []tableCol[ResponseRow]{
		{TableColumn{Name: "author", Private: true, Width: 24}, func(r *ResponseRow) cell { return textCell(r.Author) }},
		{TableColumn{Name: "observer", Private: true, Width: 18}, func(r *ResponseRow) cell { return textCell(r.Observer) }},
		{TableColumn{Name: "created", Width: 19}, func(r *ResponseRow) cell { return createdCell(r.Created) }},
		{TableColumn{Name: "sealed", Private: true, Width: 8}, func(r *ResponseRow) cell { return boolCell(r.Sealed) }},
		{TableColumn{Name: "flagged", Width: 16}, func(r *ResponseRow) cell { return listCell(r.Flagged) }},
		{TableColumn{Name: "misfit", Private: true, Width: 30}, func(r *ResponseRow) cell { return textCell(r.Misfit) }},
		{TableColumn{Name: "flags", Width: 16}, func(r *ResponseRow) cell { return listCell(r.Flags) }},
	}...)
}
