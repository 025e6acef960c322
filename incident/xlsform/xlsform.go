package xlsform

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-mesh/vigil/incident"

	"github.com/xuri/excelize/v2"
)

// XLSForm: coordinators write checklists as ODK and Kobo users do, in a
// workbook with a survey sheet (one row a question), a choices sheet (the
// options of the select questions, by list) and an optional settings
// sheet (form_id, version, form_title). Read reads the part of
// XLSForm a checklist needs and names, by sheet, row and column, every
// thing it does not support: a form is only imported when every row of it
// means exactly what it meant in the spreadsheet.
//
// The subset:
//   - types select_one LIST, select_multiple LIST, integer, text, note,
//     and begin group / end group, flattened (a group's relevant is
//     and-ed into its questions'); the metadata types ODK adds (start,
//     end, today, deviceid, …) record nothing an observer answers, and
//     are skipped;
//   - required yes or no; a label (label, or label::Language (xx), English
//     preferred) and a hint;
//   - constraint on integers: . >= N, . <= N, or the two joined by and;
//   - relevant: comparisons ${q} = 'v', !=, <, <=, >, >= (numbers
//     unquoted) and selected(${q}, 'v'), joined all by and or all by or,
//     over questions before this one;
//   - Vigil's own columns: vigil_code (the question's short code for SMS;
//     generated from the name when absent), vigil_flag (a condition over
//     the question's own answer, ".", that coordinators must look at) and
//     vigil_na (yes: an integer or text question may be answered na); in
//     settings, vigil_phase and vigil_required.
//
// A select offers "not applicable" as a choice named na.

// XLSForm limits.
const (
	// MaxBytes bounds a form workbook. Checklists are a few dozen
	// kilobytes; the bound keeps a hostile file from costing much.
	MaxBytes = 4 << 20
	// MaxFormPayloadBytes is the largest form payload encoding: a record
	// holds it and its envelope within MaxRecordBytes.
	MaxFormPayloadBytes = incident.MaxRecordBytes - 1<<10
	// maxXLSFormUnzipped bounds what a workbook unzips to, all parts
	// together (a zip bomb is refused as it is read).
	maxXLSFormUnzipped = 8 << 20
	// maxXLSFormRows bounds the non-empty rows read from one sheet: a
	// form holds at most MaxFormQuestions questions, and a choices sheet
	// may keep lists the form does not use.
	maxXLSFormRows = 5000
	// maxProblems is how many problems an Error keeps (it
	// counts them all); maxShownProblems how many its message gives.
	maxProblems      = 100
	maxShownProblems = 10
)

// Supported lists the survey types Read reads, for messages.
const Supported = "select_one, select_multiple, integer, text, note, begin/end group"

// Options are Read's options; the zero value is usable.
type Options struct {
	// FileName is the workbook's file name. A form whose settings sheet
	// names no form_id is named after it, as pyxform does ("opening.xlsx"
	// is the form opening).
	FileName string
}

// Problem is one thing wrong with a form workbook, where a
// spreadsheet shows it.
type Problem struct {
	Sheet   string `json:"sheet,omitempty"`  // "" for the workbook as a whole
	Row     int    `json:"row,omitempty"`    // 1-based, as the spreadsheet numbers it; 0 for the sheet
	Column  string `json:"column,omitempty"` // the column's header ("type", "relevant")
	Problem string `json:"problem"`          // names the column where it helps
}

func (p Problem) Error() string {
	switch {
	case p.Sheet == "":
		return p.Problem
	case p.Row == 0:
		return p.Sheet + ": " + p.Problem
	}
	return fmt.Sprintf("%s row %d: %s", p.Sheet, p.Row, p.Problem)
}

// Error is every problem found in a form workbook (the first
// maxProblems of them, and how many there were). Read
// returns no other error.
type Error struct {
	Problems []Problem
	Total    int
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Total == 1 {
		b.WriteString("nothing imported: ")
	} else {
		fmt.Fprintf(&b, "nothing imported, %s: ", incident.Plural(e.Total, "problem"))
	}
	shown := min(len(e.Problems), maxShownProblems)
	for i, p := range e.Problems[:shown] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	if e.Total > shown {
		fmt.Fprintf(&b, "; and %d more", e.Total-shown)
	}
	return b.String()
}

func (e *Error) add(p Problem) {
	e.Total++
	if len(e.Problems) < maxProblems {
		e.Problems = append(e.Problems, p)
	}
}

func (e *Error) orNil() error {
	if e.Total == 0 {
		return nil
	}
	return e
}

func xlsProblem(sheet string, row int, column, format string, args ...any) *Error {
	e := &Error{}
	e.add(Problem{Sheet: sheet, Row: row, Column: column, Problem: fmt.Sprintf(format, args...)})
	return e
}

// Read reads an XLSForm workbook (.xlsx) into a form payload that
// validates, with its questions in the survey's order, ready to sign. A
// workbook over MaxBytes, one that unzips to too much, a damaged
// file, anything outside the subset above, and a form whose encoding
// would not fit in a record give an *Error naming each problem by
// sheet, row and column. It never panics, whatever the bytes.
func Read(data []byte, opt Options) (f *incident.FormPayload, err error) {
	// excelize parses hostile XML; a panic in it is a damaged file here.
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, xlsProblem("", 0, "", "the workbook is damaged (%v)", r)
		}
	}()
	book, err := openXLSForm(data)
	if err != nil {
		return nil, err
	}
	defer book.Close()
	r := &xlsformReader{errs: &Error{}}
	if err := r.readSheets(book); err != nil {
		return nil, err
	}
	form := r.build(opt)
	if err := r.errs.orNil(); err != nil {
		return nil, err
	}
	if err := r.validate(form); err != nil {
		return nil, err
	}
	return form, nil
}

func openXLSForm(data []byte) (*excelize.File, error) {
	switch {
	case len(data) > MaxBytes:
		return nil, xlsProblem("", 0, "", "the workbook is %d KiB, over the %d MiB a form may be", len(data)>>10, MaxBytes>>20)
	case len(data) == 0:
		return nil, xlsProblem("", 0, "", "the file is empty")
	case bytes.HasPrefix(data, []byte{0xd0, 0xcf, 0x11, 0xe0}):
		// An OLE file: the old .xls format, or an .xlsx with a password.
		return nil, xlsProblem("", 0, "", "this is an old .xls workbook or a password-protected one: save it as .xlsx, without a password")
	case !bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return nil, xlsProblem("", 0, "", "this is not an .xlsx workbook (save the form from Excel, LibreOffice or Google Sheets as .xlsx)")
	}
	book, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		// Both limits alike: every part is read in memory, within the
		// bound, and nothing is unzipped to a temporary file.
		UnzipSizeLimit: maxXLSFormUnzipped, UnzipXMLSizeLimit: maxXLSFormUnzipped})
	if err != nil {
		if book != nil {
			book.Close()
		}
		if strings.Contains(err.Error(), "unzip size") {
			return nil, xlsProblem("", 0, "", "the workbook unzips to more than %d MiB: a form is far smaller", maxXLSFormUnzipped>>20)
		}
		return nil, xlsProblem("", 0, "", "the workbook cannot be read (%v): is it an .xlsx file?", err)
	}
	return book, nil
}

// sheet is one sheet of the workbook as read: its header and its
// non-empty rows.
type sheet struct {
	name   string         // as the workbook spells it
	cols   map[string]int // header, lower case, trimmed → column index
	header []string       // as normalised, by index
	rows   []sheetRow
}

type sheetRow struct {
	n     int // as the spreadsheet numbers it
	cells []string
}

// cell is row's cell in column col ("" when the sheet has no such column).
func (s *sheet) cell(r sheetRow, col string) string {
	i, ok := s.cols[col]
	if !ok || i >= len(r.cells) {
		return ""
	}
	return strings.TrimSpace(r.cells[i])
}

func (s *sheet) has(col string) bool {
	_, ok := s.cols[col]
	return ok
}

// headerAliases are the other spellings of columns that XLSForm tools
// accept.
var headerAliases = map[string]string{
	"list name": "list_name", "bind::required": "required", "bind::relevant": "relevant",
	"bind::constraint": "constraint", "bind::calculate": "calculation", "form id": "form_id", "form title": "form_title",
}

// readSheet reads sheet name whole: the first non-empty row is the
// header; the rows after it are kept when they hold anything.
func readSheet(book *excelize.File, name, as string) (*sheet, error) {
	rows, err := book.Rows(name)
	if err != nil {
		return nil, xlsProblem(as, 0, "", "cannot be read (%v)", err)
	}
	defer rows.Close()
	s := &sheet{name: as, cols: map[string]int{}}
	n, kept := 0, 0
	for rows.Next() {
		n++
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, xlsProblem(as, n, "", "cannot be read (%v)", err)
		}
		if !slices.ContainsFunc(cells, func(c string) bool { return strings.TrimSpace(c) != "" }) {
			continue
		}
		if kept++; kept > maxXLSFormRows {
			return nil, xlsProblem(as, n, "", "more than %d rows: a form is far smaller", maxXLSFormRows)
		}
		if s.header == nil {
			s.header = make([]string, len(cells))
			for i, h := range cells {
				h = strings.ToLower(strings.Join(strings.Fields(h), " "))
				if a, ok := headerAliases[h]; ok {
					h = a
				}
				s.header[i] = h
				if _, dup := s.cols[h]; !dup && h != "" {
					s.cols[h] = i
				}
			}
			continue
		}
		s.rows = append(s.rows, sheetRow{n: n, cells: cells})
	}
	if err := rows.Error(); err != nil {
		return nil, xlsProblem(as, n, "", "cannot be read (%v)", err)
	}
	return s, nil
}

// xlsformReader turns the sheets into a form.
type xlsformReader struct {
	errs                      *Error
	survey, choices, settings *sheet

	lists map[string]*choiceList
	qs    []*xlsQuestion
	names map[string]*xlsName // the names of the survey read so far: questions and groups
	rowOf map[string]int      // every name of the survey, at its first row
}

type choiceList struct {
	choices []incident.Choice
	rows    []int // each choice's row
	row     int   // the list's first row
}

// xlsQuestion is a question as read, with the rows it came from.
type xlsQuestion struct {
	incident.Question
	row        int
	codeGiven  bool
	choiceRows []int
}

// xlsName is a name of the survey: a question's, or a group's; broken
// when its row had a problem (conditions naming it then say nothing
// more).
type xlsName struct {
	row    int
	q      *xlsQuestion // nil for a group or a type not read
	group  bool
	broken bool
}

func (r *xlsformReader) problem(sheet string, row int, column, format string, args ...any) {
	r.errs.add(Problem{Sheet: sheet, Row: row, Column: column, Problem: fmt.Sprintf(format, args...)})
}

func (r *xlsformReader) readSheets(book *excelize.File) error {
	found := map[string]string{}
	var names []string
	for _, name := range book.GetSheetList() {
		names = append(names, name)
		key := strings.ToLower(strings.TrimSpace(name))
		if _, ok := found[key]; !ok {
			found[key] = name
		}
	}
	for _, want := range []string{"survey", "choices"} {
		if _, ok := found[want]; !ok {
			return xlsProblem("", 0, "", "the workbook has no %s sheet (its sheets: %s): an XLSForm has a survey sheet, and a choices sheet for its select questions",
				want, strings.Join(names, ", "))
		}
	}
	var err error
	if r.survey, err = readSheet(book, found["survey"], "survey"); err != nil {
		return err
	}
	if r.choices, err = readSheet(book, found["choices"], "choices"); err != nil {
		return err
	}
	if name, ok := found["settings"]; ok {
		if r.settings, err = readSheet(book, name, "settings"); err != nil {
			return err
		}
	}
	return nil
}

// build reads the sheets into a form, adding each problem to r.errs.
func (r *xlsformReader) build(opt Options) *incident.FormPayload {
	form := &incident.FormPayload{}
	r.readSettings(form, opt)
	r.readChoices()
	r.readSurvey()
	r.assignCodes()
	for _, q := range r.qs {
		form.Questions = append(form.Questions, q.Question)
	}
	if len(form.Questions) > incident.MaxFormQuestions {
		r.problem("survey", 0, "", "%d questions, limit %d: split the form (one per phase, say)", len(form.Questions), incident.MaxFormQuestions)
	} else if len(form.Questions) == 0 && r.errs.Total == 0 {
		r.problem("survey", 0, "", "no questions")
	}
	return form
}

// The settings sheet: form_id, version, form_title, and Vigil's
// vigil_phase and vigil_required, on the first row under the header.
func (r *xlsformReader) readSettings(form *incident.FormPayload, opt Options) {
	s := r.settings
	row := sheetRow{n: 2}
	if s != nil && len(s.rows) > 0 {
		row = s.rows[0]
	}
	get := func(col string) string {
		if s == nil {
			return ""
		}
		return s.cell(row, col)
	}
	form.Name, form.Version, form.Title = get("form_id"), get("version"), get("form_title")
	if form.Name == "" {
		base := filepath.Base(strings.ReplaceAll(opt.FileName, `\`, "/"))
		base = strings.TrimSuffix(base, filepath.Ext(base))
		if base == "" || base == "." || incident.CheckQuestionName("", base) != nil {
			if s == nil {
				row.n = 0
			}
			why := "form_id is empty"
			if base != "" && base != "." {
				why = fmt.Sprintf("form_id is empty, and the file name %q is no form name", base)
			}
			r.problem("settings", row.n, "form_id", "%s: name the form in the settings sheet (form_id, a name such as opening_checklist)", why)
		} else {
			form.Name = base
		}
	} else if err := incident.CheckQuestionName("", form.Name); err != nil {
		r.problem("settings", row.n, "form_id", "form_id %q is not a name (a letter or _, then letters, digits, _ . or -)", form.Name)
	}
	if form.Title == "" {
		form.Title = form.Name
	}
	if p := strings.ToLower(get("vigil_phase")); p != "" {
		if !slices.Contains(incident.Phases, p) {
			r.problem("settings", row.n, "vigil_phase", "vigil_phase %q is not a phase (%s)", p, strings.Join(incident.Phases, ", "))
		}
		form.Phase = p
	}
	if v := get("vigil_required"); v != "" {
		req, ok := yesNo(v)
		if !ok {
			r.problem("settings", row.n, "vigil_required", "vigil_required %q: want yes or no", v)
		}
		form.Required = req
	}
}

// yesNo reads an XLSForm yes/no cell: yes, true, 1 or true() (any case),
// or no, false, 0, false() or nothing.
func yesNo(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "true", "1", "true()":
		return true, true
	case "", "no", "false", "0", "false()":
		return false, true
	}
	return false, false
}

// The choices sheet: list_name, name and label (or label::Language),
// one row a choice.
func (r *xlsformReader) readChoices() {
	s := r.choices
	r.lists = map[string]*choiceList{}
	if len(s.rows) == 0 {
		return // a form without selects needs no choices
	}
	for _, col := range []string{"list_name", "name"} {
		if !s.has(col) {
			r.problem(s.name, 0, col, "no %s column (the header row has %s)", col, listCols(s.header))
			return
		}
	}
	label := pickLanguage(s.header, "label", "")
	if label.cols == nil {
		r.problem(s.name, 0, "label", "no label column (label, or label::English (en))")
		return
	}
	for _, row := range s.rows {
		list, name := s.cell(row, "list_name"), s.cell(row, "name")
		switch {
		case list == "" && name == "":
			continue
		case list == "":
			r.problem(s.name, row.n, "list_name", "list_name is empty (choice %q belongs to no list)", name)
			continue
		case name == "":
			r.problem(s.name, row.n, "name", "name is empty (a choice of list %q)", list)
			continue
		}
		l, ok := r.lists[list]
		if !ok {
			l = &choiceList{row: row.n}
			r.lists[list] = l
		}
		if err := incident.CheckChoiceName("", name); err != nil {
			r.problem(s.name, row.n, "name", "name %q is not a choice name (letters, digits, _ . or -): na, yes, no, 1, ink_missing…", name)
			continue
		}
		if i := slices.IndexFunc(l.choices, func(c incident.Choice) bool { return c.Name == name }); i >= 0 {
			r.problem(s.name, row.n, "name", "choice %q is in list %q twice (row %d too)", name, list, l.rows[i])
			continue
		}
		text := label.value(s, row)
		if text == "" {
			r.problem(s.name, row.n, "label", "label is empty (choice %q of list %q)", name, list)
			continue
		}
		l.choices = append(l.choices, incident.Choice{Name: name, Label: text})
		l.rows = append(l.rows, row.n)
	}
}

func listCols(header []string) string {
	var out []string
	for _, h := range header {
		if h != "" {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return "no names"
	}
	return strings.Join(out, ", ")
}

// language is the columns a text is read from, in order of preference:
// the bare column (label), or the language columns (label::English (en)),
// English first. A row whose first column is empty takes the next.
type language struct {
	cols []string
}

func (l language) value(s *sheet, r sheetRow) string {
	for _, c := range l.cols {
		if v := s.cell(r, c); v != "" {
			return v
		}
	}
	return ""
}

// pickLanguage chooses the columns of base ("label", "hint"): the bare
// one first, then the language like want (the label's language, for the
// hint), then English, then the others in the sheet's order.
func pickLanguage(header []string, base, want string) language {
	var bare bool
	var langs []string
	for _, h := range header {
		switch {
		case h == base:
			bare = true
		case strings.HasPrefix(h, base+"::") && !slices.Contains(langs, h):
			langs = append(langs, h)
		}
	}
	rank := func(h string) int {
		lang := strings.TrimPrefix(h, base+"::")
		switch {
		case want != "" && lang == want:
			return 0
		case strings.HasPrefix(lang, "english") || strings.Contains(lang, "(en)") || lang == "en":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(langs, func(a, b string) int { return rank(a) - rank(b) })
	var l language
	if bare {
		l.cols = append(l.cols, base)
	}
	l.cols = append(l.cols, langs...)
	return l
}

// metadataTypes are survey types that record something about the device
// or the time, never an answer: ODK and Kobo add them to most forms.
// Vigil's records carry their author and time already, so these rows are
// skipped.
var metadataTypes = []string{"start", "end", "today", "deviceid", "imei", "subscriberid", "simserial",
	"phonenumber", "username", "email", "audit", "start-geopoint", "background-audio", "uri:deviceid",
	"uri:subscriberid", "uri:simserial", "uri:phonenumber", "uri:username", "uri:email"}

// unsupportedColumns change what a question means in ways Vigil does not
// follow; a question using one is refused rather than read wrong.
var unsupportedColumns = []string{"calculation", "choice_filter", "repeat_count", "trigger"}

type openGroup struct {
	name string
	row  int
	cond *incident.Condition // the group's relevant and-ed with its parents'
	ok   bool                // false when that could not be read (its row says why)
}

// The survey sheet.
func (r *xlsformReader) readSurvey() {
	s := r.survey
	r.names = map[string]*xlsName{}
	if !s.has("type") || !s.has("name") {
		r.problem(s.name, 0, "type", "the header row needs type and name columns (it has %s)", listCols(s.header))
		return
	}
	label := pickLanguage(s.header, "label", "")
	if label.cols == nil {
		r.problem(s.name, 0, "label", "no label column (label, or label::English (en))")
		return
	}
	_, lang, _ := strings.Cut(label.cols[0], "::")
	hint := pickLanguage(s.header, "hint", lang)
	r.rowOf = map[string]int{}
	for _, row := range s.rows {
		if name := s.cell(row, "name"); name != "" {
			if _, ok := r.rowOf[name]; !ok {
				r.rowOf[name] = row.n
			}
		}
	}
	var groups []openGroup
	for _, row := range s.rows {
		typ := strings.Join(strings.Fields(s.cell(row, "type")), " ")
		name := s.cell(row, "name")
		lower := strings.ToLower(typ)
		if typ == "" {
			if name != "" || label.value(s, row) != "" {
				r.problem(s.name, row.n, "type", "type is empty (%s)", Supported)
			}
			continue
		}
		switch {
		case slices.Contains(metadataTypes, lower):
			continue
		case lower == "begin group" || lower == "begin_group":
			r.claimName(row, name, "group", true)
			g := openGroup{name: name, row: row.n, ok: true}
			var parent *incident.Condition
			if len(groups) > 0 {
				parent, g.ok = groups[len(groups)-1].cond, groups[len(groups)-1].ok
			}
			own, ok := r.relevant(row, nil)
			g.ok = g.ok && ok
			if ok {
				cond, err := andConditions(parent, own)
				if err != nil {
					r.problem(s.name, row.n, "relevant", "relevant cannot be joined with the relevant of the group around it: %v", err)
					g.ok = false
				}
				g.cond = cond
			}
			groups = append(groups, g)
			continue
		case lower == "end group" || lower == "end_group":
			if len(groups) == 0 {
				r.problem(s.name, row.n, "type", "end group without a begin group above it")
				continue
			}
			groups = groups[:len(groups)-1]
			continue
		}
		var group *openGroup
		if len(groups) > 0 {
			group = &groups[len(groups)-1]
		}
		r.readQuestion(row, typ, label, hint, group)
	}
	for _, g := range groups {
		r.problem(s.name, g.row, "type", "group %q is never closed (no end group for it)", g.name)
	}
}

// readQuestion reads the question on row, of type typ, inside group
// (nil: none); a question that reads is added to r.qs.
func (r *xlsformReader) readQuestion(row sheetRow, typ string, label, hint language, group *openGroup) {
	s := r.survey
	name := s.cell(row, "name")
	lower := strings.ToLower(typ)
	q := &xlsQuestion{Question: incident.Question{ID: name}, row: row.n}
	ok := true
	switch {
	case lower == "integer" || lower == "int":
		q.Type = incident.QuestionInteger
	case lower == "text" || lower == "string":
		q.Type = incident.QuestionText
	case lower == "note":
		q.Type = incident.QuestionNote
	default:
		kind, list, found := selectType(typ)
		if !found {
			r.problem(s.name, row.n, "type", "type %q is not supported (supported: %s)", typ, Supported)
			if r.claimName(row, name, "question", false) {
				r.names[name].broken = true
			}
			return
		}
		q.Type = kind
		switch l := strings.Fields(list); {
		case len(l) == 2 && strings.EqualFold(l[1], "or_other"):
			r.problem(s.name, row.n, "type", "type %q: or_other is not supported (add a choice named other and a text question shown when it is selected)", typ)
			ok = false
		case len(l) != 1:
			r.problem(s.name, row.n, "type", "type %q: want %s LIST, one list name", typ, kind)
			ok = false
		case r.lists[l[0]] == nil:
			r.problem(s.name, row.n, "type", "list %q is not on the choices sheet", l[0])
			ok = false
		default:
			cl := r.lists[l[0]]
			q.Choices, q.choiceRows = slices.Clone(cl.choices), cl.rows
			if len(q.Choices) > incident.MaxFormChoices {
				r.problem(s.name, row.n, "type", "list %q has %d choices, limit %d", l[0], len(q.Choices), incident.MaxFormChoices)
				ok = false
			}
		}
	}
	if !r.claimName(row, name, "question", false) {
		ok = false
	}
	q.Label, q.Hint = label.value(s, row), hint.value(s, row)
	if q.Label == "" {
		r.problem(s.name, row.n, "label", "label is empty (question %q)", name)
		ok = false
	}
	for _, col := range unsupportedColumns {
		if v := s.cell(row, col); v != "" {
			r.problem(s.name, row.n, col, "%s is not supported (%q)", col, v)
			ok = false
		}
	}
	ok = r.readAnswerRules(row, q) && ok
	own, rok := r.relevant(row, q)
	ok = ok && rok
	if rok && group != nil {
		cond, err := andConditions(group.cond, own)
		switch {
		case !group.ok:
			ok = false // the group's row says why
		case err != nil:
			r.problem(s.name, row.n, "relevant", "relevant cannot be joined with the relevant of group %q (row %d): %v", group.name, group.row, err)
			ok = false
		default:
			own = cond
		}
	}
	q.Relevant = own
	if ok {
		r.qs = append(r.qs, q)
		r.names[name].q = q
	} else if n := r.names[name]; n != nil && n.row == row.n {
		n.broken = true
	}
}

// selectType reads "select_one LIST" and its spellings.
func selectType(typ string) (kind, list string, ok bool) {
	lower := strings.ToLower(typ)
	for _, p := range []struct{ prefix, kind string }{
		{"select_one ", incident.QuestionSelectOne}, {"select one ", incident.QuestionSelectOne},
		{"select_multiple ", incident.QuestionSelectMultiple}, {"select multiple ", incident.QuestionSelectMultiple},
		{"select all that apply ", incident.QuestionSelectMultiple},
	} {
		if strings.HasPrefix(lower, p.prefix) {
			return p.kind, strings.TrimSpace(typ[len(p.prefix):]), true
		}
	}
	return "", "", false
}

// claimName records name at row, refusing a missing, malformed or
// repeated one. A question whose type is not read still claims its name
// (broken), so that conditions naming it say nothing more.
func (r *xlsformReader) claimName(row sheetRow, name, what string, group bool) bool {
	s := r.survey
	switch {
	case name == "":
		r.problem(s.name, row.n, "name", "name is empty (every %s has a name)", what)
		return false
	case incident.CheckQuestionName("", name) != nil:
		r.problem(s.name, row.n, "name", "name %q is not a name (a letter or _, then letters, digits, _ . or -)", name)
		return false
	}
	if prev, dup := r.names[name]; dup {
		r.problem(s.name, row.n, "name", "name %q is used at row %d too", name, prev.row)
		return false
	}
	r.names[name] = &xlsName{row: row.n, group: group}
	return true
}

// readAnswerRules reads required, constraint, vigil_code, vigil_na and
// vigil_flag into q.
func (r *xlsformReader) readAnswerRules(row sheetRow, q *xlsQuestion) bool {
	s, ok := r.survey, true
	if v := s.cell(row, "required"); v != "" {
		req, yes := yesNo(v)
		switch {
		case !yes:
			r.problem(s.name, row.n, "required", "required %q: only yes or no is supported", v)
			ok = false
		case req && q.Type == incident.QuestionNote:
			r.problem(s.name, row.n, "required", "a note is never required: it takes no answer")
			ok = false
		}
		q.Required = req
	}
	if v := s.cell(row, "constraint"); v != "" {
		if q.Type != incident.QuestionInteger {
			r.problem(s.name, row.n, "constraint", "constraint %q: only integer questions take a constraint", v)
			ok = false
		} else if lo, hi, err := parseBounds(v); err != nil {
			r.problem(s.name, row.n, "constraint", "constraint %q: %v", v, err)
			ok = false
		} else {
			q.Min, q.Max = lo, hi
		}
	}
	if v := s.cell(row, "vigil_code"); v != "" {
		code := strings.ToUpper(v)
		if err := incident.CheckQuestionCode("", code); err != nil {
			r.problem(s.name, row.n, "vigil_code", "vigil_code %q: want 1 to %d letters A-Z or digits", v, incident.MaxQuestionCode)
			ok = false
		} else {
			q.Code, q.codeGiven = code, true
		}
	}
	if v := s.cell(row, "vigil_na"); v != "" {
		na, yes := yesNo(v)
		switch {
		case !yes:
			r.problem(s.name, row.n, "vigil_na", "vigil_na %q: want yes or no", v)
			ok = false
		case na && (q.Type == incident.QuestionSelectOne || q.Type == incident.QuestionSelectMultiple):
			r.problem(s.name, row.n, "vigil_na", "a select offers N/A as a choice named na in its list, not with vigil_na")
			ok = false
		case na && q.Type == incident.QuestionNote:
			r.problem(s.name, row.n, "vigil_na", "a note takes no answer, so it has no N/A")
			ok = false
		}
		q.NA = na
	}
	if v := s.cell(row, "vigil_flag"); v != "" {
		if q.Type == incident.QuestionNote {
			r.problem(s.name, row.n, "vigil_flag", "a note takes no answer, so it is never flagged")
			return false
		}
		c, err := parseCondition(v, true)
		if err == nil {
			err = checkTerms(c, func(string) (*incident.Question, error) { return &q.Question, nil })
		}
		if err != nil {
			r.problem(s.name, row.n, "vigil_flag", "vigil_flag %q: %v", v, err)
			return false
		}
		q.Flag = c
	}
	return ok
}

// relevant reads row's relevant column: over the questions before it
// (q is the row's question, nil for a group). ok is false when it was
// refused (the problem is added).
func (r *xlsformReader) relevant(row sheetRow, q *xlsQuestion) (*incident.Condition, bool) {
	s := r.survey
	v := s.cell(row, "relevant")
	if v == "" {
		return nil, true
	}
	c, err := parseCondition(v, false)
	if err == nil {
		err = checkTerms(c, func(name string) (*incident.Question, error) {
			n, ok := r.names[name]
			switch {
			case !ok && r.rowOf[name] > row.n:
				return nil, fmt.Errorf("${%s} comes later in the form (row %d): relevant looks at the answers before it", name, r.rowOf[name])
			case !ok:
				return nil, fmt.Errorf("${%s} is not a question of this form", name)
			case q != nil && name == q.ID && n.row == row.n:
				return nil, fmt.Errorf("${%s} is this question: relevant looks at the answers before it", name)
			case n.group:
				return nil, fmt.Errorf("${%s} is a group, not a question", name)
			case n.broken:
				return nil, errQuiet
			case n.q == nil:
				return nil, fmt.Errorf("${%s} comes later in the form (row %d): relevant looks at the answers before it", name, n.row)
			case n.q.Type == incident.QuestionNote:
				return nil, fmt.Errorf("${%s} is a note, which takes no answer", name)
			}
			return &n.q.Question, nil
		})
	}
	if err != nil {
		if err != errQuiet {
			r.problem(s.name, row.n, "relevant", "relevant %q: %v", v, err)
		}
		return nil, false
	}
	return c, true
}

// errQuiet refuses a condition naming a question whose own row was
// refused: that row's problem says it all.
var errQuiet = errors.New("names a question refused above")

// assignCodes gives every question without a vigil_code one made from
// its name (generatedCode), after refusing a code given twice.
func (r *xlsformReader) assignCodes() {
	taken := map[string]int{}
	for _, q := range r.qs {
		if !q.codeGiven {
			continue
		}
		if prev, dup := taken[q.Code]; dup {
			r.problem("survey", q.row, "vigil_code", "vigil_code %q is used at row %d too", q.Code, prev)
			continue
		}
		taken[q.Code] = q.row
	}
	for _, q := range r.qs {
		if !q.codeGiven {
			q.Code = generatedCode(q.ID, taken)
			taken[q.Code] = q.row
		}
	}
}

// generatedCode makes a short code from a question's name, not in taken:
// the initials of its words (opened_on_time: OOT), or the first three
// letters of a one-word name (materials: MAT), a word of digits kept
// whole (agents_2: A2); then, if that is taken, a number after it (MAT2,
// MAT3…), within MaxQuestionCode characters. It depends only on the
// names and codes before it, so the same sheet always gives the same
// codes.
func generatedCode(name string, taken map[string]int) string {
	words := strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	var base string
	switch {
	case len(words) == 1:
		base = words[0][:min(3, len(words[0]))]
	default:
		for _, w := range words {
			if w[0] >= '0' && w[0] <= '9' {
				base += w
			} else {
				base += w[:1]
			}
		}
	}
	if len(base) > 6 {
		base = base[:6]
	}
	if base == "" {
		base = "Q"
	}
	if _, ok := taken[base]; !ok {
		return base
	}
	for n := 2; ; n++ {
		num := strconv.Itoa(n)
		code := base[:min(len(base), incident.MaxQuestionCode-len(num))] + num
		if _, ok := taken[code]; !ok {
			return code
		}
	}
}

// validate runs the record's own checks on form, naming the row of a
// problem, and checks that its encoding fits in a record.
func (r *xlsformReader) validate(form *incident.FormPayload) error {
	if err := incident.ValidateForm(form); err != nil {
		var fe *incident.FieldError
		if !errors.As(err, &fe) {
			return xlsProblem("", 0, "", "%v", err)
		}
		return &Error{Problems: []Problem{r.locate(fe)}, Total: 1}
	}
	enc, err := incident.Marshal(form)
	if err != nil {
		return xlsProblem("", 0, "", "%v", err)
	}
	if len(enc) > MaxFormPayloadBytes {
		return xlsProblem("", 0, "", "the form is %d KiB once encoded, over the %d KiB a record holds: split it into smaller forms, or shorten its labels and hints",
			(len(enc)+1023)>>10, MaxFormPayloadBytes>>10)
	}
	return nil
}

var questionField = regexp.MustCompile(`^payload\.questions\[(\d+)\]\.([a-z]+)(?:\[(\d+)\]\.([a-z]+))?`)

// locate names the sheet, row and column a FieldError of validateForm
// comes from.
func (r *xlsformReader) locate(fe *incident.FieldError) Problem {
	settings := "settings"
	row := 0
	if r.settings != nil && len(r.settings.rows) > 0 {
		row = r.settings.rows[0].n
	}
	switch fe.Field {
	case "payload.name":
		return Problem{Sheet: settings, Row: row, Column: "form_id", Problem: "form_id: " + fe.Problem}
	case "payload.version":
		return Problem{Sheet: settings, Row: row, Column: "version", Problem: "version: " + fe.Problem}
	case "payload.title":
		return Problem{Sheet: settings, Row: row, Column: "form_title", Problem: "form_title: " + fe.Problem}
	}
	m := questionField.FindStringSubmatch(fe.Field)
	if m == nil {
		return Problem{Sheet: "survey", Problem: fe.Error()}
	}
	i, _ := strconv.Atoi(m[1])
	if i >= len(r.qs) {
		return Problem{Sheet: "survey", Problem: fe.Error()}
	}
	q := r.qs[i]
	if m[2] == "choices" && m[3] != "" {
		j, _ := strconv.Atoi(m[3])
		if j < len(q.choiceRows) {
			col := "label"
			if m[4] == "name" {
				col = "name"
			}
			return Problem{Sheet: "choices", Row: q.choiceRows[j], Column: col, Problem: col + ": " + fe.Problem}
		}
	}
	col := map[string]string{"id": "name", "code": "vigil_code", "type": "type", "label": "label", "hint": "hint",
		"choices": "type", "min": "constraint", "max": "constraint", "na": "vigil_na", "relevant": "relevant", "flag": "vigil_flag"}[m[2]]
	if col == "" {
		col = m[2]
	}
	return Problem{Sheet: "survey", Row: q.row, Column: col, Problem: col + ": " + fe.Problem}
}
