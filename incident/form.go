package incident

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Forms and responses: the systematic half of observation. A form is a
// checklist every assigned observer answers at one phase of polling day
// (opening, voting, closing, counting). Each version is its own signed
// record, named by its record ID, so a response always says exactly
// which questions it answered; versions of one form share its Name, and
// its questions keep their IDs from version to version, so answers can
// be compared across versions.
//
// A response answers one version for one station. Answers are text, as
// XLSForm writes them: a choice's name, several names separated by
// spaces, an integer in decimal, or free text. "Not applicable" is the
// answer "na", never 0: a station with no ballot boxes left is not a
// station with zero of them.
//
// Checking a response against its form (CheckAnswers) is the submitter's
// job and the reader's: record validation cannot do it, because a
// response may arrive before its form. Readers show a response that does
// not fit its form as such, and never drop it.

// Form limits.
const (
	MaxFormQuestions  = 200
	MaxFormChoices    = 100 // per question
	MaxQuestionIDLen  = 64
	MaxQuestionLen    = 500 // a question's label or hint
	MaxQuestionCode   = 8   // the short code SMS uses
	MaxConditionTerms = 8
	MaxFormVersionLen = 64
)

// Question types, as XLSForm names them.
const (
	QuestionSelectOne      = "select_one"
	QuestionSelectMultiple = "select_multiple"
	QuestionInteger        = "integer"
	QuestionText           = "text"
	QuestionNote           = "note" // shown, never answered
)

// QuestionTypes lists them.
var QuestionTypes = []string{QuestionSelectOne, QuestionSelectMultiple, QuestionInteger, QuestionText, QuestionNote}

// AnswerNA is the answer that means "not applicable": a choice named na in
// a select's list, or the word na for an integer or text question that
// allows it.
const AnswerNA = "na"

// The phases of polling day, in order. A form names the one it is
// answered in; coverage counts stations heard from per phase.
const (
	PhaseOpening  = "opening"
	PhaseVoting   = "voting"
	PhaseClosing  = "closing"
	PhaseCounting = "counting"
)

// Phases lists them in order.
var Phases = []string{PhaseOpening, PhaseVoting, PhaseClosing, PhaseCounting}

// FormPayload is one version of a checklist.
type FormPayload struct {
	Name      string     `cbor:"1,keyasint"` // stable across versions: XLSForm's form_id ("opening")
	Version   string     `cbor:"2,keyasint,omitempty"`
	Title     string     `cbor:"3,keyasint"`
	Phase     string     `cbor:"4,keyasint,omitempty"` // one of Phases, or none
	Required  bool       `cbor:"5,keyasint,omitempty"` // every assigned station answers it in its phase
	Questions []Question `cbor:"6,keyasint"`
}

// Question is one question of a form.
type Question struct {
	ID       string   `cbor:"1,keyasint"` // XLSForm's name: stable across versions
	Code     string   `cbor:"2,keyasint"` // short, upper case: how SMS names it
	Type     string   `cbor:"3,keyasint"`
	Label    string   `cbor:"4,keyasint"`
	Hint     string   `cbor:"5,keyasint,omitempty"`
	Required bool     `cbor:"6,keyasint,omitempty"`
	Choices  []Choice `cbor:"7,keyasint,omitempty"` // selects only, in the sheet's order
	Min      *int64   `cbor:"8,keyasint,omitempty"` // integers only
	Max      *int64   `cbor:"9,keyasint,omitempty"`
	// NA lets an integer or text question be answered "na"; a select
	// offers it as a choice named na instead.
	NA bool `cbor:"10,keyasint,omitempty"`
	// Relevant shows the question only when it holds over earlier
	// answers; an irrelevant question is not answered.
	Relevant *Condition `cbor:"11,keyasint,omitempty"`
	// Flag marks an answer coordinators must look at ("materials
	// present: no"): its terms name no question, they test this
	// question's own answer.
	Flag *Condition `cbor:"12,keyasint,omitempty"`
}

// Choice is one option of a select question.
type Choice struct {
	Name  string `cbor:"1,keyasint"`
	Label string `cbor:"2,keyasint"`
}

// Condition is a few comparisons joined by and (or by or, with Any).
type Condition struct {
	Any   bool   `cbor:"1,keyasint,omitempty"`
	Terms []Term `cbor:"2,keyasint"`
}

// Term compares one answer with a value: Question's answer, or, in a
// flag, the question's own ("").
type Term struct {
	Question string `cbor:"1,keyasint,omitempty"`
	Op       string `cbor:"2,keyasint"`
	Value    string `cbor:"3,keyasint"`
}

// The comparisons a term makes. "selected" holds when a select's answer
// includes the choice named by Value.
var TermOps = []string{"=", "!=", "<", "<=", ">", ">=", "selected"}

// ResponsePayload answers one form version at one station.
type ResponsePayload struct {
	Form    []byte   `cbor:"1,keyasint"` // the form version's record ID
	Station string   `cbor:"2,keyasint"` // in its normal form
	Answers []Answer `cbor:"3,keyasint,omitempty"`
}

// Answer is one question's answer, as text.
type Answer struct {
	Question string `cbor:"1,keyasint"`
	Value    string `cbor:"2,keyasint"`
}

// Question returns the question with ID id.
func (f *FormPayload) Question(id string) (*Question, bool) {
	for i := range f.Questions {
		if f.Questions[i].ID == id {
			return &f.Questions[i], true
		}
	}
	return nil, false
}

// Choice returns the choice named name.
func (q *Question) Choice(name string) (Choice, bool) {
	for _, c := range q.Choices {
		if c.Name == name {
			return c, true
		}
	}
	return Choice{}, false
}

// Answerable reports whether the question takes an answer (a note does not).
func (q *Question) Answerable() bool { return q.Type != QuestionNote }

func validateForm(v *FormPayload) error {
	if err := checkQuestionID("payload.name", v.Name); err != nil {
		return err
	}
	if err := checkText("payload.version", v.Version, MaxFormVersionLen, false); err != nil {
		return err
	}
	if err := checkText("payload.title", v.Title, MaxNameLen, true); err != nil {
		return err
	}
	if v.Phase != "" && !slices.Contains(Phases, v.Phase) {
		return fieldErr("payload.phase", "%q is not a phase (want %s)", v.Phase, strings.Join(Phases, ", "))
	}
	if len(v.Questions) == 0 || len(v.Questions) > MaxFormQuestions {
		return fieldErr("payload.questions", "%d questions, want 1 to %d", len(v.Questions), MaxFormQuestions)
	}
	ids, codes := map[string]int{}, map[string]bool{}
	for i := range v.Questions {
		q := &v.Questions[i]
		field := fmt.Sprintf("payload.questions[%d]", i)
		if err := validateQuestion(field, q, ids); err != nil {
			return err
		}
		if codes[q.Code] {
			return fieldErr(field+".code", "%q is used twice", q.Code)
		}
		ids[q.ID], codes[q.Code] = i, true
	}
	return nil
}

// validateQuestion checks one question; earlier maps the IDs of the
// questions before it (a condition may only look back).
func validateQuestion(field string, q *Question, earlier map[string]int) error {
	if err := checkQuestionID(field+".id", q.ID); err != nil {
		return err
	}
	if _, dup := earlier[q.ID]; dup {
		return fieldErr(field+".id", "%q is used twice", q.ID)
	}
	if err := checkQuestionCode(field+".code", q.Code); err != nil {
		return err
	}
	if !slices.Contains(QuestionTypes, q.Type) {
		return fieldErr(field+".type", "%q is not a question type (want %s)", q.Type, strings.Join(QuestionTypes, ", "))
	}
	if err := checkText(field+".label", q.Label, MaxQuestionLen, true); err != nil {
		return err
	}
	if err := checkText(field+".hint", q.Hint, MaxQuestionLen, false); err != nil {
		return err
	}
	selects := q.Type == QuestionSelectOne || q.Type == QuestionSelectMultiple
	switch {
	case selects && (len(q.Choices) == 0 || len(q.Choices) > MaxFormChoices):
		return fieldErr(field+".choices", "%d choices, want 1 to %d", len(q.Choices), MaxFormChoices)
	case !selects && len(q.Choices) > 0:
		return fieldErr(field+".choices", "only select questions have choices")
	case q.Type != QuestionInteger && (q.Min != nil || q.Max != nil):
		return fieldErr(field+".min", "only integer questions have bounds")
	case q.Min != nil && q.Max != nil && *q.Min > *q.Max:
		return fieldErr(field+".min", "%d is above the maximum %d", *q.Min, *q.Max)
	case q.NA && (selects || q.Type == QuestionNote):
		return fieldErr(field+".na", "a select offers N/A as a choice named na; a note takes no answer")
	case q.Type == QuestionNote && (q.Required || q.Flag != nil):
		return fieldErr(field+".type", "a note takes no answer, so it is neither required nor flagged")
	}
	names := map[string]bool{}
	for j, c := range q.Choices {
		cf := fmt.Sprintf("%s.choices[%d]", field, j)
		if err := checkChoiceName(cf+".name", c.Name); err != nil {
			return err
		}
		if names[c.Name] {
			return fieldErr(cf+".name", "%q is listed twice", c.Name)
		}
		names[c.Name] = true
		if err := checkText(cf+".label", c.Label, MaxQuestionLen, true); err != nil {
			return err
		}
	}
	if q.Relevant != nil {
		if err := checkCondition(field+".relevant", q.Relevant, func(t Term) error {
			if _, ok := earlier[t.Question]; !ok {
				return fmt.Errorf("names %q, which is not a question before this one", t.Question)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if q.Flag != nil {
		if err := checkCondition(field+".flag", q.Flag, func(t Term) error {
			if t.Question != "" {
				return fmt.Errorf("names %q: a flag tests the question's own answer", t.Question)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

func checkCondition(field string, c *Condition, subject func(Term) error) error {
	if len(c.Terms) == 0 || len(c.Terms) > MaxConditionTerms {
		return fieldErr(field+".terms", "%d terms, want 1 to %d", len(c.Terms), MaxConditionTerms)
	}
	for i, t := range c.Terms {
		tf := fmt.Sprintf("%s.terms[%d]", field, i)
		if err := subject(t); err != nil {
			return fieldErr(tf+".question", "%v", err)
		}
		if !slices.Contains(TermOps, t.Op) {
			return fieldErr(tf+".op", "%q is not a comparison (want %s)", t.Op, strings.Join(TermOps, " "))
		}
		if err := checkText(tf+".value", t.Value, MaxNameLen, false); err != nil {
			return err
		}
	}
	return nil
}

// ValidateForm checks a form payload as record validation does.
func ValidateForm(v *FormPayload) error { return validateForm(v) }

// CheckQuestionName checks a question's, a choice's or a form's name
// (field names the problem).
func CheckQuestionName(field, s string) error { return checkQuestionID(field, s) }

// CheckChoiceName checks a choice's name.
func CheckChoiceName(field, s string) error { return checkChoiceName(field, s) }

// CheckQuestionCode checks a question's short code.
func CheckQuestionCode(field, s string) error { return checkQuestionCode(field, s) }

// checkQuestionID: a question's or a choice's name is an XLSForm name:
// a letter or underscore, then letters, digits, _ . or -.
func checkQuestionID(field, s string) error {
	if err := checkText(field, s, MaxQuestionIDLen, true); err != nil {
		return err
	}
	for i, r := range s {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '.' || r == '-')) {
			return fieldErr(field, "%q is not a name (a letter or _, then letters, digits, _ . or -)", s)
		}
	}
	return nil
}

// checkChoiceName: a choice's name is a name that may also start with a
// digit, as Kobo's 1 and 0 for yes and no do.
func checkChoiceName(field, s string) error {
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		if checkQuestionID(field, "_"+s) != nil {
			return fieldErr(field, "%q is not a choice name (letters, digits, _ . or -)", s)
		}
		return nil
	}
	return checkQuestionID(field, s)
}

// checkQuestionCode: a short code is 1 to 8 upper-case letters or digits,
// safe in any SMS alphabet.
func checkQuestionCode(field, s string) error {
	if s == "" || len(s) > MaxQuestionCode {
		return fieldErr(field, "%q: want 1 to %d letters or digits", s, MaxQuestionCode)
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fieldErr(field, "%q: want upper-case letters and digits only", s)
		}
	}
	return nil
}

func validateResponse(v *ResponsePayload) error {
	if _, err := idFromBytes("payload.form", v.Form); err != nil {
		return err
	}
	if err := checkCode("payload.station", v.Station, true); err != nil {
		return err
	}
	if NormalizeCode(v.Station) != v.Station {
		return fieldErr("payload.station", "%q is not in its normal form %q", v.Station, NormalizeCode(v.Station))
	}
	if len(v.Answers) > MaxFormQuestions {
		return fieldErr("payload.answers", "%d answers, limit %d", len(v.Answers), MaxFormQuestions)
	}
	seen := map[string]bool{}
	for i, a := range v.Answers {
		field := fmt.Sprintf("payload.answers[%d]", i)
		if err := checkQuestionID(field+".question", a.Question); err != nil {
			return err
		}
		if seen[a.Question] {
			return fieldErr(field+".question", "%q is answered twice", a.Question)
		}
		seen[a.Question] = true
		if err := checkText(field+".value", a.Value, MaxNoteLen, true); err != nil {
			return err
		}
	}
	return nil
}

// AnswerError says why an answer does not fit its form, naming the
// question.
type AnswerError struct {
	Question string
	Problem  string
}

func (e *AnswerError) Error() string { return "question " + e.Question + ": " + e.Problem }

// CheckAnswers checks answers against form f: every answer is to a
// question of the form that takes one and is relevant given the others,
// and fits its type and bounds; every required relevant question is
// answered. The first problem comes back as an *AnswerError.
func CheckAnswers(f *FormPayload, answers []Answer) error {
	given := Answers(answers)
	for _, a := range answers {
		q, ok := f.Question(a.Question)
		if !ok {
			return &AnswerError{a.Question, "the form has no such question"}
		}
		if !q.Answerable() {
			return &AnswerError{a.Question, "is a note, and takes no answer"}
		}
		if err := checkValue(q, a.Value); err != nil {
			return &AnswerError{a.Question, err.Error()}
		}
	}
	for i := range f.Questions {
		q := &f.Questions[i]
		_, answered := given[q.ID]
		relevant := f.Relevant(q, given)
		switch {
		case answered && !relevant:
			return &AnswerError{q.ID, "is not asked given the other answers (" + describeCondition(q.Relevant) + ")"}
		case !answered && relevant && q.Required:
			return &AnswerError{q.ID, "is required"}
		}
	}
	return nil
}

func checkValue(q *Question, v string) error {
	switch q.Type {
	case QuestionSelectOne:
		if _, ok := q.Choice(v); !ok {
			return fmt.Errorf("%q is not one of its choices (%s)", v, choiceNames(q))
		}
	case QuestionSelectMultiple:
		picked := strings.Fields(v)
		if len(picked) == 0 {
			return fmt.Errorf("no choice picked")
		}
		seen := map[string]bool{}
		for _, p := range picked {
			if _, ok := q.Choice(p); !ok {
				return fmt.Errorf("%q is not one of its choices (%s)", p, choiceNames(q))
			}
			if seen[p] {
				return fmt.Errorf("%q is picked twice", p)
			}
			seen[p] = true
		}
		if seen[AnswerNA] && len(picked) > 1 {
			return fmt.Errorf("na goes alone")
		}
		if strings.Join(picked, " ") != v {
			return fmt.Errorf("%q: choices are separated by one space", v)
		}
	case QuestionInteger:
		if v == AnswerNA {
			if !q.NA {
				return fmt.Errorf("N/A is not an answer to this question")
			}
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || strconv.FormatInt(n, 10) != v {
			return fmt.Errorf("%q is not a whole number", v)
		}
		if q.Min != nil && n < *q.Min {
			return fmt.Errorf("%d is below the minimum %d", n, *q.Min)
		}
		if q.Max != nil && n > *q.Max {
			return fmt.Errorf("%d is above the maximum %d", n, *q.Max)
		}
	case QuestionText:
		if v == AnswerNA && !q.NA {
			return fmt.Errorf("N/A is not an answer to this question")
		}
	}
	return nil
}

// ChoiceNames lists q's choice names, separated by commas.
func ChoiceNames(q *Question) string { return choiceNames(q) }

func choiceNames(q *Question) string {
	names := make([]string, len(q.Choices))
	for i, c := range q.Choices {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// Answers maps answers by question ID.
func Answers(list []Answer) map[string]string {
	m := make(map[string]string, len(list))
	for _, a := range list {
		m[a.Question] = a.Value
	}
	return m
}

// Relevant reports whether q is asked given the answers so far. A
// condition on a question left unanswered does not hold.
func (f *FormPayload) Relevant(q *Question, given map[string]string) bool {
	if q.Relevant == nil {
		return true
	}
	return q.Relevant.holds(func(t Term) (*Question, string, bool) {
		ref, ok := f.Question(t.Question)
		v, answered := given[t.Question]
		return ref, v, ok && answered
	})
}

// Flagged reports whether answer v to q is one coordinators must look at.
func (q *Question) Flagged(v string) bool {
	if q.Flag == nil {
		return false
	}
	return q.Flag.holds(func(Term) (*Question, string, bool) { return q, v, true })
}

// FlaggedAnswers lists the IDs of the questions whose answers are
// flagged, in the form's order.
func (f *FormPayload) FlaggedAnswers(answers []Answer) []string {
	given := Answers(answers)
	var out []string
	for i := range f.Questions {
		q := &f.Questions[i]
		if v, ok := given[q.ID]; ok && q.Flagged(v) {
			out = append(out, q.ID)
		}
	}
	return out
}

// SortAnswers puts answers in the form's question order, so that one set
// of answers has one encoding; answers to questions the form lacks go
// last, in the order given (CheckAnswers refuses them).
func (f *FormPayload) SortAnswers(answers []Answer) []Answer {
	order := make(map[string]int, len(f.Questions))
	for i, q := range f.Questions {
		order[q.ID] = i
	}
	out := slices.Clone(answers)
	slices.SortStableFunc(out, func(a, b Answer) int {
		ia, oka := order[a.Question]
		ib, okb := order[b.Question]
		switch {
		case oka && okb:
			return ia - ib
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0
	})
	return out
}

// holds evaluates c; answer gives each term's question, its answer, and
// whether there is one.
func (c *Condition) holds(answer func(Term) (*Question, string, bool)) bool {
	for _, t := range c.Terms {
		q, v, ok := answer(t)
		r := ok && t.holds(q, v)
		if c.Any && r {
			return true
		}
		if !c.Any && !r {
			return false
		}
	}
	return !c.Any
}

func (t Term) holds(q *Question, v string) bool {
	if t.Op == "selected" {
		return slices.Contains(strings.Fields(v), t.Value)
	}
	if q.Type == QuestionInteger && v != AnswerNA {
		a, err1 := strconv.ParseInt(v, 10, 64)
		b, err2 := strconv.ParseInt(t.Value, 10, 64)
		if err1 == nil && err2 == nil {
			return compare(t.Op, cmp.Compare(a, b))
		}
	}
	switch t.Op {
	case "=":
		return v == t.Value
	case "!=":
		return v != t.Value
	}
	return false // an order between texts, or N/A, holds for nobody
}

func compare(op string, c int) bool {
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// describeCondition writes c as XLSForm would.
func describeCondition(c *Condition) string {
	if c == nil {
		return ""
	}
	parts := make([]string, len(c.Terms))
	for i, t := range c.Terms {
		subject := "."
		if t.Question != "" {
			subject = "${" + t.Question + "}"
		}
		if t.Op == "selected" {
			parts[i] = "selected(" + subject + ", '" + t.Value + "')"
			continue
		}
		value := "'" + t.Value + "'"
		if _, err := strconv.ParseInt(t.Value, 10, 64); err == nil {
			value = t.Value
		}
		parts[i] = subject + " " + t.Op + " " + value
	}
	join := " and "
	if c.Any {
		join = " or "
	}
	return strings.Join(parts, join)
}

// String writes c as XLSForm would.
func (c *Condition) String() string { return describeCondition(c) }

// FormView is one form version a device holds, signed by a coordinator
// in good standing.
type FormView struct {
	ID      ID          `json:"id"`
	Form    FormPayload `json:"form"`
	By      Author      `json:"by"`
	Created int64       `json:"created"` // Unix ms
	// Current: the newest version of its name, by claimed time then ID.
	// Older versions stay readable: responses name the version they
	// answered.
	Current bool `json:"current"`
}

// FoldForms lists the form versions among recs that count (signed by a
// coordinator whose standing accepts them), newest first, marking the
// current version of each name. It is a pure function of the records and
// the mission state.
func FoldForms(recs []*Signed, ms *MissionState) []FormView {
	var out []FormView
	for _, s := range recs {
		if s.Kind != KindForm || len(s.Sealed) > 0 || !CoordinatorCounts(s, ms) {
			continue
		}
		p, err := s.DecodePayload()
		f, ok := p.(*FormPayload)
		if err != nil || !ok {
			continue
		}
		out = append(out, FormView{ID: s.ID, Form: *f, By: s.AuthorKey(), Created: s.Created})
	}
	slices.SortFunc(out, func(a, b FormView) int {
		if a.Created != b.Created {
			return cmp.Compare(b.Created, a.Created)
		}
		return -strings.Compare(a.ID.String(), b.ID.String())
	})
	seen := map[string]bool{}
	for i := range out {
		if !seen[out[i].Form.Name] {
			out[i].Current, seen[out[i].Form.Name] = true, true
		}
	}
	return out
}

// FormID is the form version the response answers (false when the
// payload names no well-formed ID: Validate refuses those).
func (p *ResponsePayload) FormID() (ID, bool) {
	id, err := idFromBytes("payload.form", p.Form)
	return id, err == nil
}
