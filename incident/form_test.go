package incident

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// openingForm is a small opening checklist: a yes/no with N/A that flags
// "no", a follow-up shown only after "no", a bounded count that allows
// N/A, a required count, free text and a note.
func openingForm() *FormPayload {
	zero, twenty := int64(0), int64(20)
	return &FormPayload{Name: "opening", Version: "1", Title: "Opening checklist", Phase: PhaseOpening, Required: true,
		Questions: []Question{
			{ID: "intro", Code: "I", Type: QuestionNote, Label: "Answer at the station, before voting starts."},
			{ID: "materials", Code: "A1", Type: QuestionSelectOne, Label: "Were all materials present?", Required: true,
				Choices: []Choice{{"yes", "Yes"}, {"no", "No"}, {AnswerNA, "N/A"}},
				Flag:    &Condition{Terms: []Term{{Op: "=", Value: "no"}}}},
			{ID: "missing", Code: "A2", Type: QuestionSelectMultiple, Label: "What was missing?", Required: true,
				Choices:  []Choice{{"ink", "Indelible ink"}, {"seals", "Seals"}, {"register", "Register"}},
				Relevant: &Condition{Terms: []Term{{Question: "materials", Op: "=", Value: "no"}}},
				Flag:     &Condition{Terms: []Term{{Op: "selected", Value: "register"}}}},
			{ID: "staff", Code: "A3", Type: QuestionInteger, Label: "Staff present", Required: true, Min: &zero, Max: &twenty,
				Flag: &Condition{Any: true, Terms: []Term{{Op: "<", Value: "3"}, {Op: ">", Value: "12"}}}},
			{ID: "agents", Code: "A4", Type: QuestionInteger, Label: "Party agents present", NA: true, Min: &zero},
			{ID: "late", Code: "A5", Type: QuestionInteger, Label: "Minutes late", Min: &zero,
				Relevant: &Condition{Terms: []Term{{Question: "staff", Op: ">=", Value: "1"}, {Question: "materials", Op: "!=", Value: AnswerNA}}}},
			{ID: "remarks", Code: "A6", Type: QuestionText, Label: "Remarks"},
		}}
}

func TestValidateForm(t *testing.T) {
	if err := validateForm(openingForm()); err != nil {
		t.Fatalf("the opening form: %v", err)
	}
	kobo := openingForm()
	kobo.Questions[1].Choices = []Choice{{"1", "Yes"}, {"0", "No"}}
	if err := validateForm(kobo); err != nil {
		t.Fatalf("choices named 1 and 0, as Kobo names yes and no: %v", err)
	}
	for _, c := range []struct {
		name, field string
		edit        func(f *FormPayload)
	}{
		{"no name", "payload.name", func(f *FormPayload) { f.Name = "" }},
		{"name with a space", "payload.name", func(f *FormPayload) { f.Name = "opening form" }},
		{"unknown phase", "payload.phase", func(f *FormPayload) { f.Phase = "lunch" }},
		{"no title", "payload.title", func(f *FormPayload) { f.Title = "" }},
		{"no questions", "payload.questions", func(f *FormPayload) { f.Questions = nil }},
		{"too many questions", "payload.questions", func(f *FormPayload) {
			f.Questions = make([]Question, MaxFormQuestions+1)
		}},
		{"duplicate ID", "payload.questions[2].id", func(f *FormPayload) { f.Questions[2].ID = "materials" }},
		{"duplicate code", "payload.questions[2].code", func(f *FormPayload) { f.Questions[2].Code = "A1" }},
		{"lower-case code", "payload.questions[1].code", func(f *FormPayload) { f.Questions[1].Code = "a1" }},
		{"long code", "payload.questions[1].code", func(f *FormPayload) { f.Questions[1].Code = "ABCDEFGHI" }},
		{"unknown type", "payload.questions[1].type", func(f *FormPayload) { f.Questions[1].Type = "geopoint" }},
		{"select without choices", "payload.questions[1].choices", func(f *FormPayload) { f.Questions[1].Choices = nil }},
		{"choices on an integer", "payload.questions[3].choices", func(f *FormPayload) {
			f.Questions[3].Choices = []Choice{{"a", "A"}}
		}},
		{"duplicate choice", "payload.questions[1].choices[1].name", func(f *FormPayload) { f.Questions[1].Choices[1].Name = "yes" }},
		{"bounds on text", "payload.questions[6].min", func(f *FormPayload) { f.Questions[6].Min = new(int64) }},
		{"min above max", "payload.questions[3].min", func(f *FormPayload) { *f.Questions[3].Min = 50 }},
		{"NA on a select", "payload.questions[1].na", func(f *FormPayload) { f.Questions[1].NA = true }},
		{"required note", "payload.questions[0].type", func(f *FormPayload) { f.Questions[0].Required = true }},
		{"relevant looks ahead", "payload.questions[2].relevant.terms[0].question", func(f *FormPayload) {
			f.Questions[2].Relevant.Terms[0].Question = "staff"
		}},
		{"relevant names itself", "payload.questions[2].relevant.terms[0].question", func(f *FormPayload) {
			f.Questions[2].Relevant.Terms[0].Question = "missing"
		}},
		{"relevant names nothing", "payload.questions[2].relevant.terms[0].question", func(f *FormPayload) {
			f.Questions[2].Relevant.Terms[0].Question = "nothing"
		}},
		{"bad operator", "payload.questions[2].relevant.terms[0].op", func(f *FormPayload) { f.Questions[2].Relevant.Terms[0].Op = "~" }},
		{"empty condition", "payload.questions[2].relevant.terms", func(f *FormPayload) { f.Questions[2].Relevant.Terms = nil }},
		{"flag names another question", "payload.questions[1].flag.terms[0].question", func(f *FormPayload) {
			f.Questions[1].Flag.Terms[0].Question = "intro"
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := openingForm()
			c.edit(f)
			err := validateForm(f)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Fatalf("err = %v, want a problem with %s", err, c.field)
			}
		})
	}
}

func TestCheckAnswers(t *testing.T) {
	f := openingForm()
	a := func(kv ...string) []Answer {
		var out []Answer
		for i := 0; i < len(kv); i += 2 {
			out = append(out, Answer{kv[i], kv[i+1]})
		}
		return out
	}
	for _, c := range []struct {
		name     string
		answers  []Answer
		question string // "" when the answers fit
		problem  string
	}{
		{"all well", a("materials", "yes", "staff", "7", "late", "0"), "", ""},
		{"missing materials named", a("materials", "no", "missing", "ink seals", "staff", "5"), "", ""},
		{"N/A on an integer that allows it", a("materials", "yes", "staff", "5", "agents", "na"), "", ""},
		{"N/A as a choice", a("materials", "na", "staff", "5"), "", ""},
		{"zero is an answer", a("materials", "yes", "staff", "0", "agents", "0"), "", ""},
		{"unknown question", a("materials", "yes", "staff", "5", "weather", "sunny"), "weather", "no such question"},
		{"a note answered", a("intro", "ok", "materials", "yes", "staff", "5"), "intro", "note"},
		{"not a choice", a("materials", "maybe", "staff", "5"), "materials", `"maybe" is not one of its choices`},
		{"required missing", a("staff", "5"), "materials", "is required"},
		{"required follow-up missing", a("materials", "no", "staff", "5"), "missing", "is required"},
		{"follow-up not asked", a("materials", "yes", "missing", "ink", "staff", "5"), "missing", "not asked"},
		{"picked twice", a("materials", "no", "missing", "ink ink", "staff", "5"), "missing", "twice"},
		{"badly spaced", a("materials", "no", "missing", "ink  seals", "staff", "5"), "missing", "one space"},
		{"below the minimum", a("materials", "yes", "staff", "-1"), "staff", "below the minimum 0"},
		{"above the maximum", a("materials", "yes", "staff", "21"), "staff", "above the maximum 20"},
		{"not a number", a("materials", "yes", "staff", "five"), "staff", "not a whole number"},
		{"leading zero", a("materials", "yes", "staff", "05"), "staff", "not a whole number"},
		{"N/A where not allowed", a("materials", "yes", "staff", "na"), "staff", "N/A is not an answer"},
		{"text N/A not allowed", a("materials", "yes", "staff", "4", "remarks", "na"), "remarks", "N/A"},
		{"relevance over N/A", a("materials", "na", "staff", "5", "late", "3"), "late", "not asked"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckAnswers(f, c.answers)
			if c.question == "" {
				if err != nil {
					t.Fatalf("CheckAnswers = %v, want the answers to fit", err)
				}
				return
			}
			var ae *AnswerError
			if !errors.As(err, &ae) || ae.Question != c.question || !strings.Contains(ae.Problem, c.problem) {
				t.Fatalf("CheckAnswers = %v, want question %s: …%s…", err, c.question, c.problem)
			}
		})
	}
}

func TestFlaggedAnswers(t *testing.T) {
	f := openingForm()
	for _, c := range []struct {
		answers []Answer
		want    string
	}{
		{[]Answer{{"materials", "yes"}, {"staff", "7"}}, ""},
		{[]Answer{{"materials", "no"}, {"missing", "ink"}, {"staff", "7"}}, "materials"},
		{[]Answer{{"materials", "no"}, {"missing", "ink register"}, {"staff", "2"}}, "materials missing staff"},
		{[]Answer{{"materials", "yes"}, {"staff", "13"}}, "staff"},
		{[]Answer{{"materials", "na"}, {"staff", "3"}}, ""},
	} {
		if got := strings.Join(f.FlaggedAnswers(c.answers), " "); got != c.want {
			t.Errorf("FlaggedAnswers(%v) = %q, want %q", c.answers, got, c.want)
		}
	}
}

func TestSortAnswersFollowsTheForm(t *testing.T) {
	f := openingForm()
	got := f.SortAnswers([]Answer{{"remarks", "x"}, {"zzz", "?"}, {"staff", "4"}, {"materials", "yes"}})
	var ids []string
	for _, a := range got {
		ids = append(ids, a.Question)
	}
	if strings.Join(ids, " ") != "materials staff remarks zzz" {
		t.Fatalf("SortAnswers = %v", ids)
	}
}

func TestValidateResponse(t *testing.T) {
	ok := ResponsePayload{Form: ID{1}.Bytes(), Station: "PS-0042", Answers: []Answer{{"materials", "yes"}}}
	if err := validateResponse(&ok); err != nil {
		t.Fatalf("a response: %v", err)
	}
	for _, c := range []struct {
		name, field string
		edit        func(r *ResponsePayload)
	}{
		{"no form", "payload.form", func(r *ResponsePayload) { r.Form = nil }},
		{"station not normal", "payload.station", func(r *ResponsePayload) { r.Station = "ps-0042" }},
		{"no station", "payload.station", func(r *ResponsePayload) { r.Station = "" }},
		{"answered twice", "payload.answers[1].question", func(r *ResponsePayload) {
			r.Answers = append(r.Answers, Answer{"materials", "no"})
		}},
		{"empty answer", "payload.answers[0].value", func(r *ResponsePayload) { r.Answers[0].Value = "" }},
		{"huge answer", "payload.answers[0].value", func(r *ResponsePayload) { r.Answers[0].Value = strings.Repeat("x", MaxNoteLen+1) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := ok
			r.Answers = append([]Answer(nil), ok.Answers...)
			c.edit(&r)
			var fe *FieldError
			if err := validateResponse(&r); !errors.As(err, &fe) || fe.Field != c.field {
				t.Fatalf("err = %v, want a problem with %s", err, c.field)
			}
		})
	}
}

// Forms count only from coordinators in good standing; the newest
// version of a name is current, older ones stay listed.
func TestFoldForms(t *testing.T) {
	f := newFixture(t, "forms")
	obs := f.enroll(f.founder, "observer", RoleObserver)
	v1 := openingForm()
	v2 := openingForm()
	v2.Version = "2"
	r1 := f.accept(f.signAt(f.founder, KindForm, f.clock, v1))
	r2 := f.accept(f.signAt(f.founder, KindForm, f.clock.Add(time.Second), v2))
	forged := f.signAt(obs, KindForm, f.clock.Add(2*time.Second), v1) // refused by Validate; folds must skip it too
	views := FoldForms([]*Signed{r1, forged, r2}, f.ms)
	if len(views) != 2 || views[0].ID != r2.ID || !views[0].Current || views[1].ID != r1.ID || views[1].Current {
		t.Fatalf("FoldForms = %+v", views)
	}
}
