package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/xlsform"
)

// vigil form import FILE.xlsx: a coordinator signs an XLSForm checklist
// as a new version of its form. vigil form list: the versions this
// device holds. vigil form show ID: one version, question by question.
func (c *cli) cmdForm(args []string) error {
	if len(args) == 0 {
		return usagef("form: want import, list or show")
	}
	switch args[0] {
	case "import":
		return c.formImport(args[1:])
	case "list":
		return c.formList(args[1:])
	case "show":
		return c.formShow(args[1:])
	}
	return usagef("form: unknown subcommand %q (import, list, show)", args[0])
}

func (c *cli) formImport(args []string) error {
	fs := newFlags("form import")
	phase := fs.String("phase", "", "the phase it is answered in: opening, voting, closing or counting (over the settings sheet's vigil_phase)")
	required := fs.Bool("required", false, "every assigned station answers it in its phase (over the settings sheet's vigil_required)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("form import: want one FILE.xlsx (an XLSForm: survey, choices and settings sheets)")
	}
	if err := checkUTF8(map[string]string{"phase": *phase}); err != nil {
		return err
	}
	// Refused before it is read whole: a form workbook has a size.
	f, err := os.Open(c.path(pos[0]))
	if err != nil {
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return err
	} else if st.Size() > xlsform.MaxBytes {
		return fmt.Errorf("%s is over %d MiB: nothing imported", pos[0], xlsform.MaxBytes>>20)
	}
	data, err := io.ReadAll(io.LimitReader(f, xlsform.MaxBytes+1))
	if err != nil {
		return err
	}
	req := act.FormImport{Name: filepath.Base(pos[0]), Data: data, Phase: *phase, Required: *required}
	return c.withActions(func(a act.Actions) error {
		res, err := a.ImportForm(req)
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(res)
		}
		fmt.Fprintln(c.stdout, res.ID)
		what := res.Name
		if res.Version != "" {
			what += " version " + res.Version
		}
		if res.Unchanged {
			fmt.Fprintf(c.stderr, "Form %s is unchanged: the workbook says what its current version says; nothing was written.\n", what)
			return nil
		}
		msg := fmt.Sprintf("Imported form %s (%s): %s", what, res.Title, incident.Plural(res.Questions, "question"))
		switch {
		case res.Phase != "" && res.Required:
			msg += ", answered at every assigned station in the " + res.Phase + " phase"
		case res.Phase != "":
			msg += ", for the " + res.Phase + " phase"
		case res.Required:
			msg += ", answered at every assigned station"
		}
		fmt.Fprintln(c.stderr, msg+". It is the form's current version; members hold it once the record reaches them.")
		return nil
	})
}

func (c *cli) formList(args []string) error {
	pos, err := parse(newFlags("form list"), args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("form list: unexpected %q", pos[0])
	}
	return c.withActions(func(a act.Actions) error {
		forms, err := a.Forms()
		if err != nil {
			return err
		}
		return printEach(c, forms, func(v incident.FormView) any { return formJSON(v, false) }, formLine,
			"No forms: the mission has none on this device yet (a coordinator runs `vigil form import FILE.xlsx`).")
	})
}

func (c *cli) formShow(args []string) error {
	pos, err := parse(newFlags("form show"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("form show: want one form: its name, ID or a unique prefix of its ID (form list shows them)")
	}
	if err := checkUTF8(map[string]string{"form": pos[0]}); err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		v, err := a.Form(pos[0])
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(formJSON(v, true))
		}
		c.printForm(v)
		return nil
	})
}

// formOut is a form version in `form list --json` and `form show --json`
// (its questions only there).
type formOut struct {
	ID        incident.ID     `json:"id"`
	Name      string          `json:"name"`
	Version   string          `json:"version,omitempty"`
	Title     string          `json:"title"`
	Phase     string          `json:"phase,omitempty"`
	Required  bool            `json:"required"`
	Current   bool            `json:"current"`
	By        incident.Author `json:"by"`
	Time      string          `json:"time"`
	Count     int             `json:"question_count"`
	Questions []questionOut   `json:"questions,omitempty"`
}

type choiceOut struct {
	Name  string `json:"name"`
	Label string `json:"label"`
}

// questionOut is a question in `form show --json`; its conditions as
// XLSForm writes them.
type questionOut struct {
	ID       string      `json:"id"`
	Code     string      `json:"code"`
	Type     string      `json:"type"`
	Label    string      `json:"label"`
	Hint     string      `json:"hint,omitempty"`
	Required bool        `json:"required,omitempty"`
	Choices  []choiceOut `json:"choices,omitempty"`
	Min      *int64      `json:"min,omitempty"`
	Max      *int64      `json:"max,omitempty"`
	NA       bool        `json:"na,omitempty"`
	ShowIf   string      `json:"show_if,omitempty"`
	Flag     string      `json:"flag,omitempty"`
}

func formJSON(v incident.FormView, questions bool) formOut {
	f := v.Form
	out := formOut{ID: v.ID, Name: f.Name, Version: f.Version, Title: f.Title, Phase: f.Phase, Required: f.Required,
		Current: v.Current, By: v.By, Time: incident.FormatTime(v.Created), Count: len(f.Questions)}
	if !questions {
		return out
	}
	out.Questions = []questionOut{}
	for _, q := range f.Questions {
		qo := questionOut{ID: q.ID, Code: q.Code, Type: q.Type, Label: q.Label, Hint: q.Hint,
			Required: q.Required, Min: q.Min, Max: q.Max, NA: q.NA, ShowIf: q.Relevant.String(), Flag: q.Flag.String()}
		for _, ch := range q.Choices {
			qo.Choices = append(qo.Choices, choiceOut(ch))
		}
		out.Questions = append(out.Questions, qo)
	}
	return out
}

func formLine(v incident.FormView) string {
	f := v.Form
	version := f.Version
	if version == "" {
		version = "-"
	}
	phase := f.Phase
	if phase == "" {
		phase = "any phase"
	}
	line := fmt.Sprintf("%s  %-12s %-12s %-10s %s", v.ID, f.Name, version, phase, incident.Plural(len(f.Questions), "question"))
	if f.Required {
		line += ", required"
	}
	line += "  " + f.Title
	if !v.Current {
		line += "  (an older version)"
	}
	return line
}

// printForm writes a form version and its questions, one block each: the
// number, ID and code, the type and rules, the label, then the hint,
// choices, show-if and flag, each on its own line.
func (c *cli) printForm(v incident.FormView) {
	w := c.stdout
	f := v.Form
	kv := func(k, val string) {
		if val != "" {
			fmt.Fprintf(w, "%-10s %s\n", k, val)
		}
	}
	kv("id", v.ID.String())
	kv("name", f.Name)
	kv("title", f.Title)
	kv("version", f.Version)
	kv("phase", f.Phase)
	if f.Required {
		kv("required", "yes: every assigned station answers it")
	}
	kv("signed", incident.FormatTime(v.Created)+" by "+v.By.Short())
	if v.Current {
		kv("current", "yes")
	} else {
		kv("current", "no: a newer version of "+f.Name+" supersedes it")
	}
	for i, q := range f.Questions {
		fmt.Fprintf(w, "\n%2d. %s [%s] %s\n", i+1, q.ID, q.Code, questionRules(&q))
		fmt.Fprintf(w, "    %s\n", q.Label)
		sub := func(k, val string) {
			if val != "" {
				fmt.Fprintf(w, "    %-9s %s\n", k+":", val)
			}
		}
		sub("hint", q.Hint)
		if len(q.Choices) > 0 {
			var cs []string
			for _, ch := range q.Choices {
				cs = append(cs, ch.Name+" ("+ch.Label+")")
			}
			sub("choices", strings.Join(cs, ", "))
		}
		sub("show if", q.Relevant.String())
		sub("flag if", q.Flag.String())
	}
}

// questionRules is a question's type, whether it is required, its bounds
// and whether N/A is an answer: "integer, required, 0 to 30, or na".
func questionRules(q *incident.Question) string {
	parts := []string{q.Type}
	if q.Required {
		parts = append(parts, "required")
	}
	switch {
	case q.Min != nil && q.Max != nil:
		parts = append(parts, fmt.Sprintf("%d to %d", *q.Min, *q.Max))
	case q.Min != nil:
		parts = append(parts, fmt.Sprintf("%d or more", *q.Min))
	case q.Max != nil:
		parts = append(parts, fmt.Sprintf("at most %d", *q.Max))
	}
	if q.NA {
		parts = append(parts, "or na")
	}
	return strings.Join(parts, ", ")
}
