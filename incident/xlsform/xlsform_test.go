package xlsform

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"

	"github.com/xuri/excelize/v2"
)

func readTestForm(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "forms", name))
	if err != nil {
		tb.Fatalf("%v (run go test ./incident/xlsform -run TestXLSFormTestdata -update to write it)", err)
	}
	return data
}

// sheetRows reads every sheet of a workbook as text, raw values.
func sheetRows(tb testing.TB, data []byte) map[string][][]string {
	tb.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	out := map[string][][]string{}
	for _, s := range f.GetSheetList() {
		rows, err := f.GetRows(s, excelize.Options{RawCellValue: true})
		if err != nil {
			tb.Fatal(err)
		}
		out[s] = rows
	}
	return out
}

// The workbooks under testdata/forms say what their generators write
// (cell by cell: the zip's bytes may differ from one Go release to the
// next); -update rewrites them.
func TestXLSFormTestdata(t *testing.T) {
	names := make([]string, 0, len(xlsformTestdata))
	for name := range xlsformTestdata {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		data := xlsformTestdata[name]().bytes(t)
		path := filepath.Join("testdata", "forms", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, want := sheetRows(t, readTestForm(t, name)), sheetRows(t, data); !reflect.DeepEqual(got, want) {
			t.Errorf("%s is stale (run with -update to rewrite it)", path)
		}
		if order := sheetOrder(t, readTestForm(t, name)); !slices.Equal(order, []string{"survey", "choices", "settings"}) {
			t.Errorf("%s has the sheets %q, want survey, choices, settings", name, order)
		}
	}
}

func sheetOrder(tb testing.TB, data []byte) []string {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	return f.GetSheetList()
}

func readForm(tb testing.TB, name string) *incident.FormPayload {
	tb.Helper()
	f, err := Read(readTestForm(tb, name), Options{FileName: name})
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return f
}

func questionIDs(f *incident.FormPayload) []string {
	var out []string
	for _, q := range f.Questions {
		out = append(out, q.ID)
	}
	return out
}

func question(tb testing.TB, f *incident.FormPayload, id string) *incident.Question {
	tb.Helper()
	q, ok := f.Question(id)
	if !ok {
		tb.Fatalf("form %s has no question %s (it has %q)", f.Name, id, questionIDs(f))
	}
	return q
}

func i64(n int64) *int64 { return &n }

func cond(any bool, terms ...incident.Term) *incident.Condition {
	return &incident.Condition{Any: any, Terms: terms}
}

func TestReadOpening(t *testing.T) {
	f := readForm(t, "opening.xlsx")
	if f.Name != "opening" || f.Version != "2026.1" || f.Title != "Opening checklist" || f.Phase != incident.PhaseOpening || !f.Required {
		t.Fatalf("form: %q %q %q %q %v", f.Name, f.Version, f.Title, f.Phase, f.Required)
	}
	// start and end are metadata, groups are flattened.
	want := []string{"intro", "materials_present", "missing_materials", "boxes_shown_empty", "staff_present", "presiding_officer",
		"opened_on_time", "minutes_late", "late_reason", "late_reason_other", "observers_admitted", "party_agents", "secrecy", "remarks"}
	if got := questionIDs(f); !slices.Equal(got, want) {
		t.Fatalf("questions %q, want %q", got, want)
	}
	var codes []string
	for _, q := range f.Questions {
		codes = append(codes, q.Code)
	}
	if want := []string{"INT", "MP", "MM", "BSE", "SP", "PO", "OOT", "ML", "LR", "LRO", "OA", "PA", "SEC", "REM"}; !slices.Equal(codes, want) {
		t.Fatalf("generated codes %q, want %q", codes, want)
	}
	for _, c := range []struct {
		id   string
		want incident.Question
	}{
		{"intro", incident.Question{Type: incident.QuestionNote, Label: "Answer at the polling station, before the first voter casts a ballot."}},
		{"materials_present", incident.Question{Type: incident.QuestionSelectOne, Required: true,
			Label:   "Were all essential materials present (ballot papers, ballot boxes, indelible ink, voter register, seals)?",
			Hint:    "Answer no if even one is missing.",
			Choices: []incident.Choice{{Name: "yes", Label: "Yes"}, {Name: "no", Label: "No"}, {Name: incident.AnswerNA, Label: "Not applicable"}},
			Flag:    cond(false, incident.Term{Op: "=", Value: "no"})}},
		{"missing_materials", incident.Question{Type: incident.QuestionSelectMultiple, Required: true, Label: "Which materials were missing?",
			Hint: "Tick every one that was missing.",
			Choices: []incident.Choice{{Name: "ballots", Label: "Ballot papers"}, {Name: "boxes", Label: "Ballot boxes"}, {Name: "ink", Label: "Indelible ink"}, {Name: "register", Label: "Voter register"},
				{Name: "seals", Label: "Seals"}, {Name: "screens", Label: "Voting screens"}, {Name: "result_forms", Label: "Result forms"}},
			Relevant: cond(false, incident.Term{Question: "materials_present", Op: "=", Value: "no"}),
			Flag:     cond(true, incident.Term{Op: "selected", Value: "register"}, incident.Term{Op: "selected", Value: "ballots"})}},
		{"staff_present", incident.Question{Type: incident.QuestionInteger, Required: true, Label: "How many polling officials were present at opening?",
			Hint: "Count everyone on duty, including the presiding officer.", Min: i64(0), Max: i64(30),
			Flag: cond(false, incident.Term{Op: "<", Value: "3"})}},
		// The group late's relevant is and-ed into its questions'.
		{"minutes_late", incident.Question{Type: incident.QuestionInteger, Required: true, Label: "How many minutes late did it open?", Min: i64(1), Max: i64(600),
			Relevant: cond(false, incident.Term{Question: "opened_on_time", Op: "=", Value: "no"}), Flag: cond(false, incident.Term{Op: ">", Value: "60"})}},
		{"late_reason_other", incident.Question{Type: incident.QuestionText, Label: "What was the other reason?",
			Relevant: cond(false, incident.Term{Question: "opened_on_time", Op: "=", Value: "no"}, incident.Term{Question: "late_reason", Op: "=", Value: "other"})}},
		{"party_agents", incident.Question{Type: incident.QuestionInteger, Label: "How many party agents were present at opening?",
			Hint: "Count the agents of every party. Answer na where the law admits no agents.", Min: i64(0), NA: true}},
	} {
		got := *question(t, f, c.id)
		c.want.ID, c.want.Code = got.ID, got.Code
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.id, got, c.want)
		}
	}

	// The form works: a station that opened late with a missing register.
	answers := []incident.Answer{{Question: "materials_present", Value: "no"}, {Question: "missing_materials", Value: "register ink"}, {Question: "boxes_shown_empty", Value: "yes"},
		{Question: "staff_present", Value: "2"}, {Question: "presiding_officer", Value: "yes"}, {Question: "opened_on_time", Value: "no"}, {Question: "minutes_late", Value: "95"},
		{Question: "late_reason", Value: "materials_late"}, {Question: "observers_admitted", Value: "yes"}, {Question: "party_agents", Value: incident.AnswerNA}, {Question: "secrecy", Value: "yes"}}
	if err := incident.CheckAnswers(f, answers); err != nil {
		t.Fatalf("CheckAnswers: %v", err)
	}
	if got := f.FlaggedAnswers(answers); !slices.Equal(got, []string{"materials_present", "missing_materials", "staff_present", "opened_on_time", "minutes_late"}) {
		t.Fatalf("flagged %q", got)
	}
	if err := incident.CheckAnswers(f, append(answers, incident.Answer{Question: "late_reason_other", Value: "rain"})); err == nil {
		t.Fatal("late_reason_other answered although the reason is not other")
	}
}

func TestReadVoting(t *testing.T) {
	f := readForm(t, "voting.xlsx")
	// The version was typed as a number; required as TRUE(), and
	// vigil_required as a TRUE cell.
	if f.Name != "voting" || f.Version != "2026061401" || f.Title != "Voting checklist" || f.Phase != incident.PhaseVoting || !f.Required || len(f.Questions) != 9 {
		t.Fatalf("form: %q %q %q %q %v, %d questions", f.Name, f.Version, f.Title, f.Phase, f.Required, len(f.Questions))
	}
	// English is read, though French follows it.
	q := question(t, f, "queue_length")
	if q.Label != "About how many people were waiting in the queue?" || q.Hint != "A rough count is enough." || !q.Required ||
		q.Code != "V1" || *q.Min != 0 || *q.Max != 5000 {
		t.Fatalf("queue_length: %+v", q)
	}
	if c, _ := question(t, f, "incidents").Choice("assisted"); c.Label != `Voters "assisted" against their wish` {
		t.Fatalf("choice label %q", c.Label)
	}
	d := question(t, f, "incident_details")
	if d.Relevant.String() != "selected(${incidents}, 'intimidation') or selected(${incidents}, 'vote_buying') or selected(${incidents}, 'violence')" {
		t.Fatalf("incident_details relevant: %s", d.Relevant)
	}
	if w := question(t, f, "when"); w.Type != incident.QuestionNote || w.Code != "V0" || w.Required {
		t.Fatalf("when: %+v", w)
	}
}

func TestReadClosingAndCounting(t *testing.T) {
	c := readForm(t, "closing.xlsx")
	if c.Name != "closing" || c.Phase != "" || c.Required || len(c.Questions) != 7 {
		t.Fatalf("closing: %q %q %v, %d questions", c.Name, c.Phase, c.Required, len(c.Questions))
	}
	if q := question(t, c, "queue_allowed"); q.Relevant.String() != "${queue_at_close} = 'yes'" || q.Flag.String() != ". = 'no'" {
		t.Fatalf("queue_allowed: %s / %s", q.Relevant, q.Flag)
	}

	f := readForm(t, "counting.xlsx")
	if f.Name != "counting" || f.Title != "Counting and result sheet" || f.Phase != incident.PhaseCounting || !f.Required {
		t.Fatalf("counting: %+v", f)
	}
	var codes []string
	for _, q := range f.Questions {
		codes = append(codes, q.Code)
	}
	if want := []string{"N", "REG", "ISS", "CAST", "INV", "BLK", "PUB", "SIG", "REF", "POST", "COPY", "DIFF"}; !slices.Equal(codes, want) {
		t.Fatalf("codes %q, want %q", codes, want)
	}
	if q := question(t, f, "blank_ballots"); !q.NA || !q.Required || *q.Min != 0 || q.Max != nil {
		t.Fatalf("blank_ballots: %+v", q)
	}
	if q := question(t, f, "agents_refused"); q.Relevant.String() != "${agents_signed} = 'no'" || *q.Min != 1 {
		t.Fatalf("agents_refused: %+v", q)
	}
	// A result sheet without a blank-ballots line, copied at a station
	// whose agents all signed.
	answers := []incident.Answer{{Question: "registered", Value: "812"}, {Question: "ballots_issued", Value: "540"}, {Question: "ballots_cast", Value: "538"}, {Question: "invalid_ballots", Value: "11"},
		{Question: "blank_ballots", Value: incident.AnswerNA}, {Question: "count_public", Value: "yes"}, {Question: "agents_signed", Value: "yes"}, {Question: "sheet_posted", Value: "no"}}
	if err := incident.CheckAnswers(f, answers); err != nil {
		t.Fatal(err)
	}
	if got := f.FlaggedAnswers(answers); !slices.Equal(got, []string{"sheet_posted"}) {
		t.Fatalf("flagged %q", got)
	}
}

// Reading is deterministic: the same workbook gives the same payload,
// byte for byte, so a repeated import is recognised.
func TestReadDeterministic(t *testing.T) {
	for name := range xlsformTestdata {
		a, b := readForm(t, name), readForm(t, name)
		ea, _ := incident.Marshal(a)
		eb, _ := incident.Marshal(b)
		if !bytes.Equal(ea, eb) {
			t.Fatalf("%s reads differently twice", name)
		}
		if len(ea) > MaxFormPayloadBytes/4 {
			t.Errorf("%s encodes to %d bytes", name, len(ea))
		}
	}
}

// smallBook is a valid form the bad forms below break, one row at a
// time: row 2 a select, row 3 an integer, row 4 a text, row 5 a note.
func smallBook() xlsBook {
	return xlsBook{
		survey: [][]any{
			{"type", "name", "label", "hint", "required", "relevant", "constraint", "calculation", "vigil_code", "vigil_flag", "vigil_na"},
			{"select_one yes_no", "materials", "Materials present?", "", "yes", "", "", "", "", ". = 'no'", ""},
			{"integer", "staff", "Staff present", "", "yes", "", ". >= 0", "", "", "", ""},
			{"text", "remarks", "Remarks", "", "", "", "", "", "", "", ""},
			{"note", "thanks", "Thank you.", "", "", "", "", "", "", "", ""},
		},
		choices:  [][]any{{"list_name", "name", "label"}, {"yes_no", "yes", "Yes"}, {"yes_no", "no", "No"}},
		settings: [][]any{{"form_title", "form_id"}, {"Test form", "test"}},
	}
}

// set sets a cell of a sheet's rows: column by header name.
func set(rows [][]any, row int, col string, v any) {
	i := slices.Index(rows[0], any(col))
	if i < 0 {
		panic("no column " + col)
	}
	r := rows[row-1]
	for len(r) <= i {
		r = append(r, "")
	}
	r[i] = v
	rows[row-1] = r
}

func TestReadSmall(t *testing.T) {
	f, err := Read(smallBook().bytes(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "test" || len(f.Questions) != 4 || f.Questions[0].Code != "MAT" || f.Questions[1].Code != "STA" {
		t.Fatalf("%+v", f)
	}
}

func TestReadBad(t *testing.T) {
	type badCase struct {
		name   string
		edit   func(b *xlsBook)
		sheet  string
		row    int
		column string
		words  string
	}
	typeCase := func(typ string) badCase {
		return badCase{"type " + typ, func(b *xlsBook) { set(b.survey, 3, "type", typ) }, "survey", 3, "type",
			fmt.Sprintf(`survey row 3: type %q is not supported (supported: select_one, select_multiple, integer, text, note, begin/end group)`, typ)}
	}
	cases := []badCase{
		typeCase("geopoint"), typeCase("calculate"), typeCase("date"), typeCase("decimal"), typeCase("range"), typeCase("image"),
		typeCase("rank yes_no"), typeCase("begin repeat"), typeCase("select_one_from_file stations.csv"), typeCase("acknowledge"),
		{"or_other", func(b *xlsBook) { set(b.survey, 2, "type", "select_one yes_no or_other") }, "survey", 2, "type", "or_other is not supported"},
		{"unknown list", func(b *xlsBook) { set(b.survey, 2, "type", "select_one colours") }, "survey", 2, "type", `list "colours" is not on the choices sheet`},
		{"two list names", func(b *xlsBook) { set(b.survey, 2, "type", "select_one yes_no colours") }, "survey", 2, "type", "one list name"},
		{"no type", func(b *xlsBook) { set(b.survey, 3, "type", "") }, "survey", 3, "type", "type is empty"},
		{"no name", func(b *xlsBook) { set(b.survey, 3, "name", "") }, "survey", 3, "name", "name is empty"},
		{"bad name", func(b *xlsBook) { set(b.survey, 3, "name", "staff present") }, "survey", 3, "name", `"staff present" is not a name`},
		{"duplicate name", func(b *xlsBook) { set(b.survey, 4, "name", "staff") }, "survey", 4, "name", `name "staff" is used at row 3 too`},
		{"no label", func(b *xlsBook) { set(b.survey, 4, "label", "") }, "survey", 4, "label", "label is empty"},
		{"long label", func(b *xlsBook) { set(b.survey, 4, "label", strings.Repeat("x", 600)) }, "survey", 4, "label", "label: is 600 bytes, limit 500"},
		{"calculation", func(b *xlsBook) { set(b.survey, 3, "calculation", "${staff} * 2") }, "survey", 3, "calculation", "calculation is not supported"},
		{"required expression", func(b *xlsBook) { set(b.survey, 4, "required", "${materials} = 'no'") }, "survey", 4, "required", "only yes or no"},
		{"required note", func(b *xlsBook) { set(b.survey, 5, "required", "yes") }, "survey", 5, "required", "a note is never required"},
		{"relevant later", func(b *xlsBook) { set(b.survey, 2, "relevant", "${staff} > 1") }, "survey", 2, "relevant", "${staff} comes later in the form (row 3)"},
		{"relevant itself", func(b *xlsBook) { set(b.survey, 3, "relevant", "${staff} > 1") }, "survey", 3, "relevant", "${staff} is this question"},
		{"relevant unknown", func(b *xlsBook) { set(b.survey, 4, "relevant", "${weather} = 'rain'") }, "survey", 4, "relevant", "${weather} is not a question of this form"},
		{"relevant note", func(b *xlsBook) {
			b.survey = append(b.survey, []any{"text", "after", "After", "", "", "${thanks} = 'x'"})
		}, "survey", 6, "relevant", "${thanks} is a note"},
		{"relevant mixed", func(b *xlsBook) {
			set(b.survey, 4, "relevant", "${materials} = 'no' and ${staff} > 2 or ${staff} = 0")
		}, "survey", 4, "relevant", "mixes and with or"},
		{"relevant parentheses", func(b *xlsBook) { set(b.survey, 4, "relevant", "(${materials} = 'no')") }, "survey", 4, "relevant", "parentheses are not supported"},
		{"relevant not", func(b *xlsBook) { set(b.survey, 4, "relevant", "not(${materials} = 'no')") }, "survey", 4, "relevant", "not() is not supported"},
		{"relevant order on a select", func(b *xlsBook) { set(b.survey, 4, "relevant", "${materials} > 'no'") }, "survey", 4, "relevant", "compared with = or != or selected()"},
		{"relevant not a choice", func(b *xlsBook) { set(b.survey, 4, "relevant", "${materials} = 'maybe'") }, "survey", 4, "relevant", `"maybe" is not a choice of ${materials} (yes, no)`},
		{"relevant text to a number", func(b *xlsBook) { set(b.survey, 4, "relevant", "${staff} >= 'many'") }, "survey", 4, "relevant", "${staff} is a whole number"},
		{"relevant decimal", func(b *xlsBook) { set(b.survey, 4, "relevant", "${staff} >= 1.5") }, "survey", 4, "relevant", "1.5 is not a whole number"},
		{"relevant unanswered", func(b *xlsBook) { set(b.survey, 4, "relevant", "${staff} = ''") }, "survey", 4, "relevant", "only != '' (answered)"},
		{"relevant unterminated", func(b *xlsBook) { set(b.survey, 4, "relevant", "${materials} = 'no") }, "survey", 4, "relevant", "without its end"},
		{"relevant dangling and", func(b *xlsBook) { set(b.survey, 4, "relevant", "${materials} = 'no' and") }, "survey", 4, "relevant", "ends with and"},
		{"relevant too long", func(b *xlsBook) {
			set(b.survey, 4, "relevant", strings.TrimSuffix(strings.Repeat("${staff} > 1 and ", 9), " and "))
		}, "survey", 4, "relevant", "9 comparisons, limit 8"},
		{"constraint greater", func(b *xlsBook) { set(b.survey, 3, "constraint", ". > 0") }, "survey", 3, "constraint", "only . >= N, . <= N and the two joined by and"},
		{"constraint or", func(b *xlsBook) { set(b.survey, 3, "constraint", ". >= 0 or . <= 9") }, "survey", 3, "constraint", "only . >= N"},
		{"constraint regex", func(b *xlsBook) { set(b.survey, 3, "constraint", "regex(., '^[0-9]+$')") }, "survey", 3, "constraint", "only . >= N"},
		{"constraint on text", func(b *xlsBook) { set(b.survey, 4, "constraint", ". >= 1") }, "survey", 4, "constraint", "only integer questions"},
		{"constraint upside down", func(b *xlsBook) { set(b.survey, 3, "constraint", ". >= 10 and . <= 2") }, "survey", 3, "constraint", "the minimum 10 is above the maximum 2"},
		{"code twice", func(b *xlsBook) { set(b.survey, 2, "vigil_code", "q1"); set(b.survey, 4, "vigil_code", "Q1") }, "survey", 4, "vigil_code", `vigil_code "Q1" is used at row 2 too`},
		{"code malformed", func(b *xlsBook) { set(b.survey, 3, "vigil_code", "ST-1") }, "survey", 3, "vigil_code", "want 1 to 8 letters A-Z or digits"},
		{"flag names a question", func(b *xlsBook) { set(b.survey, 3, "vigil_flag", "${materials} = 'no'") }, "survey", 3, "vigil_flag", "a flag looks at the question's own answer"},
		{"flag on a note", func(b *xlsBook) { set(b.survey, 5, "vigil_flag", ". = 'x'") }, "survey", 5, "vigil_flag", "never flagged"},
		{"flag not a choice", func(b *xlsBook) { set(b.survey, 2, "vigil_flag", ". = 'nope'") }, "survey", 2, "vigil_flag", `"nope" is not a choice`},
		{"na on a select", func(b *xlsBook) { set(b.survey, 2, "vigil_na", "yes") }, "survey", 2, "vigil_na", "a choice named na"},
		{"na on a note", func(b *xlsBook) { set(b.survey, 5, "vigil_na", "yes") }, "survey", 5, "vigil_na", "no N/A"},
		{"group or and-ed", func(b *xlsBook) {
			b.survey = slices.Insert(b.survey, 3, []any{"begin group", "g", "G", "", "", "${materials} = 'yes' or ${materials} = 'no'"})
			b.survey = append(b.survey, []any{"end group"})
			set(b.survey, 5, "relevant", "${staff} > 1")
		}, "survey", 5, "relevant", `cannot be joined with the relevant of group "g" (row 4)`},
		{"group names itself", func(b *xlsBook) {
			b.survey = slices.Insert(b.survey, 3, []any{"begin group", "g", "G", "", "", "${g} = 'yes'"})
			b.survey = append(b.survey, []any{"end group"})
		}, "survey", 4, "relevant", "${g} is a group"},
		{"end without begin", func(b *xlsBook) { b.survey = append(b.survey, []any{"end group"}) }, "survey", 6, "type", "end group without a begin group"},
		{"group not closed", func(b *xlsBook) { b.survey = slices.Insert(b.survey, 2, []any{"begin_group", "g", "G"}) }, "survey", 3, "type", `group "g" is never closed`},
		{"choice twice", func(b *xlsBook) { b.choices = append(b.choices, []any{"yes_no", "yes", "Yes again"}) }, "choices", 4, "name", `choice "yes" is in list "yes_no" twice (row 2 too)`},
		{"choice without a label", func(b *xlsBook) { set(b.choices, 3, "label", "") }, "choices", 3, "label", "label is empty"},
		{"choice label too long", func(b *xlsBook) { set(b.choices, 3, "label", strings.Repeat("n", 501)) }, "choices", 3, "label", "is 501 bytes, limit 500"},
		{"choice without a list", func(b *xlsBook) { set(b.choices, 3, "list_name", "") }, "choices", 3, "list_name", "belongs to no list"},
		{"no choices sheet", func(b *xlsBook) { b.choices = nil }, "", 0, "", "the workbook has no choices sheet (its sheets: survey, settings)"},
		{"no survey sheet", func(b *xlsBook) { b.survey = nil }, "", 0, "", "the workbook has no survey sheet"},
		{"survey without type", func(b *xlsBook) { b.survey[0][0] = "kind" }, "survey", 0, "type", "the header row needs type and name columns"},
		{"phase", func(b *xlsBook) { b.settings = [][]any{{"form_id", "vigil_phase"}, {"test", "lunch"}} }, "settings", 2, "vigil_phase", `"lunch" is not a phase`},
		{"form_id", func(b *xlsBook) { b.settings = [][]any{{"form_id"}, {"my form"}} }, "settings", 2, "form_id", `form_id "my form" is not a name`},
		{"no form_id", func(b *xlsBook) { b.settings = [][]any{{"form_title"}, {"A form"}} }, "settings", 2, "form_id", "form_id is empty"},
		{"long title", func(b *xlsBook) { b.settings = [][]any{{"form_id", "form_title"}, {"test", strings.Repeat("t", 201)}} }, "settings", 2, "form_title", "form_title: is 201 bytes, limit 200"},
		{"long version", func(b *xlsBook) { b.settings = [][]any{{"form_id", "version"}, {"test", strings.Repeat("1", 65)}} }, "settings", 2, "version", "version: is 65 bytes"},
		{"only metadata", func(b *xlsBook) { b.survey = [][]any{{"type", "name", "label"}, {"start", "start"}, {"end", "end"}} }, "survey", 0, "", "no questions"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := smallBook()
			b.survey = slices.Clone(b.survey)
			for i := range b.survey {
				b.survey[i] = slices.Clone(b.survey[i])
			}
			c.edit(&b)
			f, err := Read(b.bytes(t), Options{})
			var xe *Error
			if !errors.As(err, &xe) || f != nil {
				t.Fatalf("got %v, %v: want an Error", f, err)
			}
			p := xe.Problems[0]
			if p.Sheet != c.sheet || p.Row != c.row || p.Column != c.column || !strings.Contains(err.Error(), c.words) {
				t.Fatalf("got %s (sheet %q row %d column %q), want %s row %d column %q saying %q", err, p.Sheet, p.Row, p.Column, c.sheet, c.row, c.column, c.words)
			}
			if !strings.HasPrefix(err.Error(), "nothing imported") {
				t.Fatalf("%q does not say nothing was imported", err)
			}
		})
	}
}

// Every problem is named, not only the first; a question whose row was
// refused does not make the conditions naming it refused too.
func TestReadEveryProblem(t *testing.T) {
	b := smallBook()
	set(b.survey, 2, "type", "geopoint")
	set(b.survey, 3, "constraint", ". > 3")
	set(b.survey, 4, "relevant", "${materials} = 'no'")
	_, err := Read(b.bytes(t), Options{})
	var xe *Error
	if !errors.As(err, &xe) || xe.Total != 2 || xe.Problems[0].Row != 2 || xe.Problems[1].Row != 3 {
		t.Fatalf("got %v", err)
	}
	if !strings.HasPrefix(err.Error(), "nothing imported, 2 problems: survey row 2: type \"geopoint\"") {
		t.Fatalf("message %q", err)
	}
}

// Conditions that read: spacing, double quotes, unquoted numbers, na.
func TestReadConditions(t *testing.T) {
	for _, c := range []struct{ relevant, want string }{
		{"${materials}='no'", "${materials} = 'no'"},
		{`${materials} != "yes"`, "${materials} != 'yes'"},
		{"${staff}>=3 and ${staff}<=10", "${staff} >= 3 and ${staff} <= 10"},
		{"${staff} < -1 or ${staff} > 07", "${staff} < -1 or ${staff} > 7"},
		{"selected( ${materials} , 'yes' )", "selected(${materials}, 'yes')"},
		{"${staff} != ''", "${staff} != ''"},
	} {
		b := smallBook()
		set(b.survey, 4, "relevant", c.relevant)
		f, err := Read(b.bytes(t), Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.relevant, err)
		}
		if got := f.Questions[2].Relevant.String(); got != c.want {
			t.Errorf("%s reads as %s, want %s", c.relevant, got, c.want)
		}
	}
	b := smallBook()
	set(b.survey, 3, "vigil_na", "yes")
	set(b.survey, 4, "relevant", "${staff} = 'na'")
	if _, err := Read(b.bytes(t), Options{}); err != nil {
		t.Fatalf("na compared on an integer that allows it: %v", err)
	}
	set(b.survey, 3, "vigil_na", "")
	if _, err := Read(b.bytes(t), Options{}); err == nil || !strings.Contains(err.Error(), "never na") {
		t.Fatalf("na compared on an integer that does not allow it: %v", err)
	}
}

// Without form_id, the form is named after its file, as pyxform names it.
func TestReadNamedAfterFile(t *testing.T) {
	b := smallBook()
	b.settings = nil
	f, err := Read(b.bytes(t), Options{FileName: "/tmp/forms/opening_v2.xlsx"})
	if err != nil || f.Name != "opening_v2" || f.Title != "opening_v2" {
		t.Fatalf("%+v, %v", f, err)
	}
	_, err = Read(b.bytes(t), Options{FileName: "Opening checklist (final).xlsx"})
	var xe *Error
	if !errors.As(err, &xe) || xe.Problems[0].Sheet != "settings" || xe.Problems[0].Column != "form_id" {
		t.Fatalf("a file name that is no form name: %v", err)
	}
}

func TestGeneratedCode(t *testing.T) {
	taken := map[string]int{"MAT": 1}
	var got []string
	for _, name := range []string{"materials", "materials_2", "material", "mat", "opened_on_time", "agents_2", "_x", "a_b_c_d_e_f_g_h", "materiel"} {
		code := generatedCode(name, taken)
		if _, dup := taken[code]; dup || incident.CheckQuestionCode("", code) != nil {
			t.Fatalf("%s: %q is taken or not a code", name, code)
		}
		taken[code] = 1
		got = append(got, code)
	}
	if want := []string{"MAT2", "M2", "MAT3", "MAT4", "OOT", "A2", "X", "ABCDEF", "MAT5"}; !slices.Equal(got, want) {
		t.Fatalf("codes %q, want %q", got, want)
	}
	taken = map[string]int{"ABCDEF": 1}
	for i := 2; i <= 120; i++ {
		taken[generatedCode("a_b_c_d_e_f", taken)] = 1
	}
	if _, ok := taken["ABCDE120"]; !ok {
		t.Fatalf("long codes are cut to leave room for the number: %v", taken)
	}
}

// Hostile and damaged files are refused plainly, and cheaply.
func TestReadHostile(t *testing.T) {
	opening := readTestForm(t, "opening.xlsx")
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	for _, name := range []string{"[Content_Types].xml", "xl/worksheets/sheet1.xml"} {
		w, _ := zw.Create(name)
		w.Write(bytes.Repeat([]byte(" "), 5<<20))
	}
	zw.Close()
	many := smallBook()
	for i := 0; len(many.survey) <= maxXLSFormRows+1; i++ {
		many.survey = append(many.survey, []any{"note", fmt.Sprintf("n%d", i), "Note"})
	}
	questions := smallBook()
	for i := 0; len(questions.survey) <= incident.MaxFormQuestions+1; i++ {
		questions.survey = append(questions.survey, []any{"note", fmt.Sprintf("n%d", i), "Note"})
	}
	long := smallBook()
	for i := 0; i < 140; i++ {
		long.survey = append(long.survey, []any{"note", fmt.Sprintf("n%d", i), strings.Repeat("A long note. ", 38)})
	}
	for _, c := range []struct {
		name  string
		data  []byte
		words string
	}{
		{"too big", make([]byte, MaxBytes+1), "over the 4 MiB a form may be"},
		{"empty", nil, "the file is empty"},
		{"text", []byte("type,name,label\ninteger,staff,Staff\n"), "not an .xlsx workbook"},
		{"xls", append([]byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}, make([]byte, 512)...), "old .xls workbook or a password-protected one"},
		{"truncated", opening[:len(opening)/2], "the workbook cannot be read"},
		{"zip bomb", bomb.Bytes(), "unzips to more than 8 MiB"},
		{"too many rows", many.bytes(t), "survey row 5001: more than 5000 rows"},
		{"too many questions", questions.bytes(t), "201 questions, limit 200"},
		{"too large a record", long.bytes(t), "split it into smaller forms"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Read(c.data, Options{})
			var xe *Error
			if f != nil || !errors.As(err, &xe) || !strings.Contains(err.Error(), c.words) {
				t.Fatalf("got %v, want an Error saying %q", err, c.words)
			}
		})
	}
}

// FuzzRead: whatever the bytes, Read returns a form that
// validates and fits in a record, or an Error naming at least one
// problem; it never panics. Seeded with the testdata workbooks and the
// small form (its bad variants are a mutation away).
func FuzzRead(f *testing.F) {
	names := make([]string, 0, len(xlsformTestdata))
	for name := range xlsformTestdata {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f.Add(readTestForm(f, name))
	}
	f.Add(smallBook().bytes(f))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		form, err := Read(data, Options{FileName: "fuzz.xlsx"})
		if err != nil {
			var xe *Error
			if !errors.As(err, &xe) || form != nil || xe.Total == 0 || len(xe.Problems) == 0 {
				t.Fatalf("%T %v: not an Error naming a problem", err, err)
			}
			return
		}
		if err := incident.ValidateForm(form); err != nil {
			t.Fatalf("a form that does not validate: %v", err)
		}
		if enc, err := incident.Marshal(form); err != nil || len(enc) > MaxFormPayloadBytes {
			t.Fatalf("encoding: %d bytes, %v", len(enc), err)
		}
	})
}

// FuzzXLSFormCondition: the condition grammar never panics, and what it
// reads writes back (Condition.String) to text that reads the same.
func FuzzXLSFormCondition(f *testing.F) {
	for _, s := range []string{"${a} = 'x'", "selected(., 'ink') or . < 3", ". >= 0 and . <= 20", "${a}!=\"\" and ${b} > -4",
		"not(${a})", "(${a} = 'b')", "${a} = 'b' and ${c} = 'd' or ${e} = 'f'", "${", "'", "..", "${a} = 1.5"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, expr string, self bool) {
		c, err := parseCondition(expr, self)
		if err != nil {
			if c != nil {
				t.Fatal("a condition and an error")
			}
			return
		}
		if len(c.Terms) == 0 || len(c.Terms) > incident.MaxConditionTerms {
			t.Fatalf("%d terms", len(c.Terms))
		}
		for _, term := range c.Terms {
			if strings.Contains(term.Value, "'") || strings.Contains(term.Question, "}") {
				return // String quotes with ' and cannot write these back
			}
		}
		again, err := parseCondition(c.String(), self)
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("%q reads as %q, which reads as %+v (%v)", expr, c.String(), again, err)
		}
	})
}

// Groups nest: each one's relevant is and-ed into the questions inside
// it, at every level; a group joined by or passes to a question that has
// no relevant of its own.
func TestReadNestedGroups(t *testing.T) {
	b := smallBook()
	b.survey = append(b.survey,
		[]any{"begin group", "outer", "Outer", "", "", "${materials} = 'yes'"},
		[]any{"begin_group", "inner", "Inner", "", "", "${staff} > 2"},
		[]any{"integer", "deep", "Deep", "", "", "${staff} < 10"},
		[]any{"end_group"},
		[]any{"text", "shallow", "Shallow"},
		[]any{"end group"},
		[]any{"begin group", "either", "Either", "", "", "${materials} = 'no' or ${staff} = 0"},
		[]any{"text", "why", "Why?"},
		[]any{"end group"},
		[]any{"text", "after", "After the groups"},
	)
	f, err := Read(b.bytes(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		"deep":    "${materials} = 'yes' and ${staff} > 2 and ${staff} < 10",
		"shallow": "${materials} = 'yes'",
		"why":     "${materials} = 'no' or ${staff} = 0",
		"after":   "",
	} {
		if got := question(t, f, id).Relevant.String(); got != want {
			t.Errorf("%s: relevant %q, want %q", id, got, want)
		}
	}
}
