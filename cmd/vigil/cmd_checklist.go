package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// maxAnswersFile bounds --answers: a form has at most
// incident.MaxFormQuestions answers of incident.MaxNoteLen bytes.
const maxAnswersFile = 1 << 20

// vigil checklist submit: an observer answers a form at a station.
// vigil checklist list: the responses this device reads, by station and
// form, co-observers' answers side by side.
func (c *cli) cmdChecklist(args []string) error {
	if len(args) == 0 {
		return usagef("checklist: want submit or list")
	}
	switch args[0] {
	case "submit":
		return c.checklistSubmit(args[1:])
	case "list":
		return c.checklistList(args[1:])
	}
	return usagef("checklist: unknown subcommand %q (submit, list)", args[0])
}

func (c *cli) checklistSubmit(args []string) error {
	fs := newFlags("checklist submit")
	form := fs.String("form", "", "the form: its name (its current version), record ID or a unique prefix (`vigil form list`)")
	station := fs.String("station", "", "the polling station's code (any case; spaces and _ read as -)")
	var answers multi
	fs.Var(&answers, "answer", "QID=VALUE: a question's answer (its ID as the form names it; a choice's name, names separated by spaces, a whole number, text, or na for N/A); repeat for each question")
	file := fs.String("answers", "", "a JSON file of the answers instead: {\"QID\": \"VALUE\", …} or [{\"question\": \"QID\", \"value\": \"VALUE\"}, …] (whole numbers may be JSON numbers)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("checklist submit: unexpected %q", pos[0])
	case *form == "":
		return usagef("checklist submit: --form ID is required (a form's name or ID: see `vigil form list`)")
	case *station == "":
		return usagef("checklist submit: --station CODE is required")
	case len(answers) > 0 && *file != "":
		return usagef("checklist submit: give the answers with --answer or with --answers FILE.json, not both")
	case len(answers) == 0 && *file == "":
		return usagef("checklist submit: --answer QID=VALUE (once per question) or --answers FILE.json is required")
	case len(answers) > incident.MaxFormQuestions:
		return usagef("checklist submit: --answer: %d answers, limit %d", len(answers), incident.MaxFormQuestions)
	}
	if err := checkUTF8(map[string]string{"form": *form, "station": *station, "answer": strings.Join(answers, "\n")}); err != nil {
		return err
	}
	req := act.ChecklistRequest{Form: *form, Station: *station}
	if *file != "" {
		if req.Answers, err = c.readAnswers(*file); err != nil {
			return err
		}
	}
	for _, a := range answers {
		q, v, ok := strings.Cut(a, "=")
		if q = strings.TrimSpace(q); !ok || q == "" {
			return usagef("checklist submit: --answer %q: want QID=VALUE (the question's ID, =, the answer)", a)
		}
		req.Answers = append(req.Answers, incident.Answer{Question: q, Value: v})
	}
	return c.withDesk(func(d *act.Desk) error {
		s, err := d.SubmitChecklist(req)
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(s)
		}
		fmt.Fprintln(c.stdout, s.ID)
		name := s.Form.String()
		var fv *incident.FormView
		if f, err := d.Form(s.Form.String()); err == nil {
			fv = &f
			name = f.Form.Name
			if f.Form.Version != "" {
				name += " (version " + f.Form.Version + ")"
			}
		}
		how := "in the clear: this mission does not seal"
		if s.Sealed {
			how = "sealed to the coordinators"
		}
		fmt.Fprintf(c.stderr, "Checklist %s for %s stored, %s.\n", name, s.Station, how)
		if s.NotInRegistry {
			fmt.Fprintf(c.stderr, "Note: %s is not in the station registry (`vigil station list`); coverage counts it apart.\n", s.Station)
		}
		if len(s.Flagged) > 0 {
			fmt.Fprintln(c.stderr, "Flagged for the coordinators:")
			for _, q := range s.Flagged {
				fmt.Fprintf(c.stderr, "  %s\n", describeQuestion(fv, q))
			}
		}
		return nil
	})
}

// describeQuestion names question id of form f (nil: not held) with its
// code and label.
func describeQuestion(f *incident.FormView, id string) string {
	if f == nil {
		return id
	}
	q, ok := f.Form.Question(id)
	if !ok {
		return id
	}
	return fmt.Sprintf("%s (%s): %s", id, q.Code, q.Label)
}

// readAnswers reads an answers file: a JSON object of question IDs to
// answers, or a list of {"question", "value"}; an answer is a string, or
// a number written as the form expects a whole number.
func (c *cli) readAnswers(path string) ([]incident.Answer, error) {
	f, err := os.Open(c.path(path))
	if err != nil {
		return nil, fmt.Errorf("--answers: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxAnswersFile+1))
	if err != nil {
		return nil, fmt.Errorf("--answers: %w", err)
	}
	if len(data) > maxAnswersFile {
		return nil, usagef("--answers: %s is over %d KiB", path, maxAnswersFile>>10)
	}
	bad := func(format string, args ...any) error {
		return usagef("--answers: %s: "+format, append([]any{path}, args...)...)
	}
	value := func(q string, raw json.RawMessage) (string, error) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return "", bad("question %s: %v", q, err)
		}
		switch v := v.(type) {
		case string:
			return v, nil
		case json.Number:
			// The number as written: the form checks it is a whole
			// number (5.0 is not).
			return v.String(), nil
		}
		return "", bad("question %s: the answer must be a string or a number, not %s", q, strings.TrimSpace(string(raw)))
	}
	var out []incident.Answer
	switch data = bytes.TrimSpace(data); {
	case bytes.HasPrefix(data, []byte("{")):
		dec := json.NewDecoder(bytes.NewReader(data))
		if _, err := dec.Token(); err != nil {
			return nil, bad("%v", err)
		}
		// Read in the file's order (a map would lose it; duplicates are
		// refused by the desk, naming the question).
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, bad("%v", err)
			}
			q, _ := tok.(string)
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, bad("%v", err)
			}
			v, err := value(q, raw)
			if err != nil {
				return nil, err
			}
			out = append(out, incident.Answer{Question: q, Value: v})
		}
		if _, err := dec.Token(); err != nil {
			return nil, bad("%v", err)
		}
	case bytes.HasPrefix(data, []byte("[")):
		var list []struct {
			Question string          `json:"question"`
			Value    json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, bad("%v", err)
		}
		for i, a := range list {
			if a.Question == "" || len(a.Value) == 0 {
				return nil, bad("entry %d: want {\"question\": \"QID\", \"value\": \"VALUE\"}", i+1)
			}
			v, err := value(a.Question, a.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, incident.Answer{Question: a.Question, Value: v})
		}
	default:
		return nil, bad("want a JSON object {\"QID\": \"VALUE\", …} or a list [{\"question\": \"QID\", \"value\": \"VALUE\"}, …]")
	}
	if len(out) > incident.MaxFormQuestions {
		return nil, bad("%d answers, limit %d", len(out), incident.MaxFormQuestions)
	}
	return out, nil
}

func (c *cli) checklistList(args []string) error {
	fs := newFlags("checklist list")
	form := fs.String("form", "", "one form: its name, record ID or a unique prefix (every version of its name)")
	station := fs.String("station", "", "one station's code")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("checklist list: unexpected %q", pos[0])
	}
	if err := checkUTF8(map[string]string{"form": *form, "station": *station}); err != nil {
		return err
	}
	return c.withDesk(func(d *act.Desk) error {
		list, err := d.Checklists(act.ChecklistQuery{Form: *form, Station: *station})
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(list)
		}
		printChecklists(c.stdout, list)
		return nil
	})
}

// printChecklists writes each station's responses to a form with the
// authors' answers in columns, side by side: a disagreement is marked
// on its row, never resolved.
func printChecklists(w io.Writer, l act.ChecklistList) {
	if len(l.Groups) == 0 {
		fmt.Fprintln(w, "No checklist response on this device (observers answer with `vigil checklist submit`).")
		return
	}
	stations := map[string]bool{}
	for _, g := range l.Groups {
		stations[g.Station] = true
	}
	line := fmt.Sprintf("%s at %s", incident.Plural(l.Responses, "response"), incident.Plural(len(stations), "station"))
	if l.Superseded > 0 {
		line += fmt.Sprintf(" (%d superseded by a later one of the same author)", l.Superseded)
	}
	fmt.Fprintf(w, "Checklists: %s; %s with a disagreement; %s with a flagged answer; %d not fitting their form.\n",
		line, incident.Plural(l.Disagreements, "form"), incident.Plural(l.Flagged, "response"), l.Misfits)
	fmt.Fprintln(w, "Each author's latest response counts; co-observers' answers are side by side (≠: they disagree; !: flagged).")
	for _, g := range l.Groups {
		fmt.Fprintln(w)
		head := g.Station
		if g.StationName != "" {
			head += "  " + g.StationName
		}
		if g.NotInRegistry {
			head += "  (not in the registry)"
		}
		head += "  " + g.Form
		if g.Title != "" {
			head += " (" + g.Title + ")"
		}
		if g.Phase != "" {
			head += ", " + g.Phase
		}
		fmt.Fprintln(w, head)
		var by []string
		for _, r := range g.Responses {
			s := fmt.Sprintf("%s at %s", who(r.Label, r.Author), incident.FormatTime(r.Created))
			if r.Version != "" {
				s += ", version " + r.Version
			}
			by = append(by, s)
		}
		fmt.Fprintf(w, "  by %s", strings.Join(by, "; "))
		if g.Superseded > 0 {
			fmt.Fprintf(w, " (%d superseded)", g.Superseded)
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		cells := []string{"  QUESTION"}
		for _, r := range g.Responses {
			cells = append(cells, strings.ToUpper(who(r.Label, r.Author)))
		}
		fmt.Fprintln(tw, strings.Join(append(cells, ""), "\t"))
		for _, q := range g.Questions {
			name := q.Question
			if q.Code != "" {
				name = q.Code + " " + name
			}
			cells := []string{"  " + name}
			for _, a := range q.Answers {
				v := "-"
				if a.Answered {
					v = a.Value
				}
				if a.Flagged {
					v += " !"
				}
				cells = append(cells, v)
			}
			mark := ""
			if q.Disagree {
				mark = "≠ disagree"
			}
			fmt.Fprintln(tw, strings.Join(append(cells, mark), "\t"))
		}
		tw.Flush()
		for _, r := range g.Responses {
			if r.Misfit != "" {
				fmt.Fprintf(w, "  does not fit: %s: %s\n", who(r.Label, r.Author), r.Misfit)
			}
		}
	}
}

// who names an author by label, else by its key's short form.
func who(label string, a incident.Author) string {
	if label != "" {
		return label
	}
	return a.Short()
}

// sortedPhases are the phases of m in the day's order.
func sortedPhases[V any](m map[string]V) []string {
	var out []string
	for _, p := range act.Phases {
		if _, ok := m[p]; ok {
			out = append(out, p)
		}
	}
	return slices.Clip(out)
}
