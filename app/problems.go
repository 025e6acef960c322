package app

import (
	"errors"
	"regexp"

	"github.com/vigil-mesh/vigil/incident"
)

// The record rules (incident's validation, the act layer) state a field's
// problem in English text only. The app says it in the user's language:
// each problem the form can meet is matched here, whole, to a message
// with its numbers; one not listed shows as it is.
var problemPatterns = []struct {
	re    *regexp.Regexp
	key   string
	names []string // the template's names for the submatches, in order
}{
	{regexp.MustCompile(`^is required(?: \(.*\))?$`), "problem.required", nil},
	{regexp.MustCompile(`^is not valid UTF-8$`), "problem.utf8", nil},
	{regexp.MustCompile(`^is (\d+) bytes, limit (\d+)$`), "problem.too_long", []string{"Value", "Limit"}},
	{regexp.MustCompile(`^contains a NUL character$`), "problem.nul", nil},
	{regexp.MustCompile(`^latitude and longitude go together$`), "problem.lat_lon", nil},
	{regexp.MustCompile(`^is (\S+), must be (-?[\d.]+) to (-?[\d.]+)$`), "problem.range", []string{"Value", "Min", "Max"}},
	{regexp.MustCompile(`^is (\d+) m, limit (\d+) m$`), "problem.precision", []string{"Value", "Limit"}},
	{regexp.MustCompile(`^is set without a location$`), "problem.no_location", nil},
	{regexp.MustCompile(`^"(.*)" is not a number$`), "problem.not_number", []string{"Value"}},
	{regexp.MustCompile(`^(\d+) attachments, limit (\d+)$`), "problem.attachments", []string{"Value", "Limit"}},
	{regexp.MustCompile(`^is (\d+), limit (\d+)$`), "problem.limit", []string{"Value", "Limit"}},
	{regexp.MustCompile(`^(.+) is (\d+) bytes, limit (\d+)$`), "problem.file_too_big", []string{"Name", "Value", "Limit"}},
	{regexp.MustCompile(`^(\d+) files, limit (\d+)$`), "problem.attachments", []string{"Value", "Limit"}},
	{regexp.MustCompile(`^a rejected report is never published$`), "problem.rejected_published", nil},
	{regexp.MustCompile(`^"(.*)" contains spaces or control characters$`), "problem.code_spaces", []string{"Value"}},
	// A checklist's answers (incident.CheckAnswers).
	{regexp.MustCompile(`^(-?\d+) is below the minimum (-?\d+)$`), "problem.below_min", []string{"Value", "Min"}},
	{regexp.MustCompile(`^(-?\d+) is above the maximum (-?\d+)$`), "problem.above_max", []string{"Value", "Max"}},
	{regexp.MustCompile(`^"(.*)" is not a whole number$`), "problem.not_whole", []string{"Value"}},
	{regexp.MustCompile(`^N/A is not an answer to this question$`), "problem.na_refused", nil},
	{regexp.MustCompile(`^"(.*)" is not one of its choices \((.*)\)$`), "problem.not_a_choice", []string{"Value", "Name"}},
	{regexp.MustCompile(`^no choice picked$`), "problem.no_choice", nil},
	{regexp.MustCompile(`^"(.*)" is picked twice$`), "problem.picked_twice", []string{"Value"}},
	{regexp.MustCompile(`^na goes alone$`), "problem.na_alone", nil},
	{regexp.MustCompile(`^is not asked given the other answers \((.*)\)$`), "problem.not_asked", []string{"Value"}},
	{regexp.MustCompile(`^the form has no such question$`), "problem.no_question", nil},
	{regexp.MustCompile(`^is a note, and takes no answer$`), "problem.note_answer", nil},
}

// problemText says a field's problem in the user's language.
func problemText(problem string) string {
	for _, p := range problemPatterns {
		m := p.re.FindStringSubmatch(problem)
		if m == nil {
			continue
		}
		data := map[string]any{}
		for i, n := range p.names {
			data[n] = m[i+1]
		}
		return T(p.key, data)
	}
	return problem
}

// fieldProblemText is the problem of a form field's error, without the
// field's name (the message names the field already).
func fieldProblemText(err error) string {
	var fe *incident.FieldError
	if errors.As(err, &fe) {
		return problemText(fe.Problem)
	}
	return problemText(err.Error())
}
