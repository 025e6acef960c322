package app

import (
	"cmp"
	"image/color"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// The coordinators' checklists: every station's responses to each form
// (act.Desk.Checklists), what needs a look first (co-observers who
// disagree, a response that does not fit its form, a flagged answer),
// and a station's responses to a form side by side: two observers who
// disagree are both shown, never merged into one answer.

// MaxChecklistGroups is how many stations' responses the screen lists;
// the rest are counted (the search narrows them).
const MaxChecklistGroups = 40

// MaxGroupLines is how many answers a station's line names under it.
const MaxGroupLines = 3

// groupRank orders the responses by what needs a look: co-observers who
// disagree, then a response that does not fit, then a flagged answer.
func groupRank(g *act.ChecklistGroup) int {
	misfit, flagged := false, false
	for _, r := range g.Responses {
		misfit = misfit || r.Misfit != ""
		flagged = flagged || len(r.Flagged) > 0
	}
	switch {
	case g.Disagree:
		return 0
	case misfit:
		return 1
	case flagged:
		return 2
	}
	return 3
}

var groupIcons = []string{"⚖️", "⚠️", "🚩", "✅"}

func groupColor(rank int) color.Color {
	switch rank {
	case 0, 1:
		return colorAlert
	case 2:
		return colorFlag
	}
	return colorOK
}

// checklistGroups keeps the groups whose station's code or name holds
// search (any case), those that need a look first, each rank in act's
// order (station, phase, form).
func checklistGroups(list act.ChecklistList, search string) []act.ChecklistGroup {
	search = strings.ToLower(strings.TrimSpace(search))
	code := strings.ToLower(incident.NormalizeCode(search))
	var out []act.ChecklistGroup
	for _, g := range list.Groups {
		if search == "" || strings.Contains(strings.ToLower(g.Station), code) || strings.Contains(strings.ToLower(g.StationName), search) {
			out = append(out, g)
		}
	}
	slices.SortStableFunc(out, func(a, b act.ChecklistGroup) int { return groupRank(&a) - groupRank(&b) })
	return out
}

// checklistsScreen is the coordinators' view of the responses.
type checklistsScreen struct {
	ui     *UI
	form   string // a form's name; "": every form
	search *widget.Entry
	pick   *widget.Select
	names  []string // the filter's forms, by name ("": every form)
	counts *fyne.Container
	list   *fyne.Container
	res    act.ChecklistList
	byID   map[incident.ID]*incident.FormView
}

// showChecklistsDesk opens the responses from the dashboard.
func (ui *UI) showChecklistsDesk() {
	s := &checklistsScreen{ui: ui, counts: container.NewVBox(), list: container.NewVBox(note(T("checklists.loading")))}
	s.pick = widget.NewSelect(nil, nil)
	s.search = widget.NewEntry()
	s.search.SetPlaceHolder(T("checklists.search"))
	s.search.OnChanged = func(string) { s.fill() }
	ui.push("📋 "+T("checklists.title"), columnW(900,
		note(T("checklists.note")),
		heading(T("checklists.form")), s.pick, s.search,
		s.counts,
		s.list,
	), nil)
	s.load()
}

// load reads the forms and the responses off the Fyne goroutine (a
// national mission's take a moment) and draws them.
func (s *checklistsScreen) load() {
	ui := s.ui
	var forms []incident.FormView
	var res act.ChecklistList
	ui.background(func() error {
		var err error
		if forms, err = ui.be.Forms(); err != nil {
			return err
		}
		res, err = ui.be.Checklists(act.ChecklistQuery{Form: s.form})
		return err
	}, func(err error) {
		if err != nil {
			s.list.RemoveAll()
			s.list.Add(wrapLabel("⚠ " + errorText(err)))
			s.list.Refresh()
			return
		}
		s.res, s.byID = res, formsByID(forms)
		s.setForms(forms)
		s.fill()
	})
}

// formsByID maps form versions by record ID.
func formsByID(forms []incident.FormView) map[incident.ID]*incident.FormView {
	out := make(map[incident.ID]*incident.FormView, len(forms))
	for i := range forms {
		out[forms[i].ID] = &forms[i]
	}
	return out
}

// setForms offers every form, then each current form in the day's order.
func (s *checklistsScreen) setForms(forms []incident.FormView) {
	var cur []incident.FormView
	for _, f := range forms {
		if f.Current {
			cur = append(cur, f)
		}
	}
	slices.SortStableFunc(cur, func(a, b incident.FormView) int { return phaseRank(a.Form.Phase) - phaseRank(b.Form.Phase) })
	s.names = []string{""}
	options := []string{T("checklists.all_forms")}
	at := 0
	for _, f := range cur {
		if f.Form.Name == s.form {
			at = len(s.names)
		}
		s.names = append(s.names, f.Form.Name)
		options = append(options, f.Form.Title)
	}
	s.pick.OnChanged = nil
	s.pick.Options = options
	s.pick.SetSelectedIndex(at)
	s.pick.OnChanged = func(string) {
		if i := s.pick.SelectedIndex(); i >= 0 && s.names[i] != s.form {
			s.form = s.names[i]
			s.load()
		}
	}
}

// fill counts and lists the responses the search keeps.
func (s *checklistsScreen) fill() {
	ui := s.ui
	groups := checklistGroups(s.res, s.search.Text)
	responses, flagged, disagree, misfits := 0, 0, 0, 0
	for _, g := range groups {
		responses += len(g.Responses)
		if g.Disagree {
			disagree++
		}
		for _, r := range g.Responses {
			if len(r.Flagged) > 0 {
				flagged++
			}
			if r.Misfit != "" {
				misfits++
			}
		}
	}
	cols := 4
	if ui.opts.Phone {
		cols = 2
	}
	s.counts.RemoveAll()
	s.counts.Add(container.NewGridWithColumns(cols,
		stat(responses, T("checklists.responses"), colorPrimary),
		stat(disagree, "⚖️ "+T("checklists.disagreements"), colorAlert),
		stat(misfits, "⚠️ "+T("checklists.misfits"), colorAlert),
		stat(flagged, "🚩 "+T("checklists.flagged"), colorFlag),
	))
	s.counts.Add(note(T("checklists.order")))
	s.counts.Refresh()

	s.list.RemoveAll()
	if len(groups) == 0 {
		s.list.Add(note(T("checklists.none")))
	}
	for i, g := range groups {
		if i == MaxChecklistGroups {
			s.list.Add(note(TN("dash.more", len(groups)-MaxChecklistGroups)))
			break
		}
		g := g
		rank := groupRank(&g)
		t := newTile(groupIcons[rank], groupTitle(&g), groupColor(rank), false, func() { ui.showChecklistGroup(g, s.byID) })
		t.sub = strings.Join(s.groupLines(&g), "\n")
		s.list.Add(t)
	}
	s.list.Refresh()
}

// groupTitle is a station's code and name.
func groupTitle(g *act.ChecklistGroup) string {
	if g.StationName != "" {
		return g.Station + " · " + g.StationName
	}
	return g.Station
}

// formTitle is a group's form, by its title and phase.
func formTitle(g *act.ChecklistGroup) string { return titleWithPhase(cmp.Or(g.Title, g.Form), g.Phase) }

// titleWithPhase is a form's title and its phase, unless the title says
// it already ("Opening checklist").
func titleWithPhase(title, phase string) string {
	if phase == "" || strings.Contains(strings.ToLower(title), strings.ToLower(PhaseLabel(phase))) {
		return title
	}
	return title + " · " + PhaseLabel(phase)
}

// who is a response's author, by label.
func who(r act.ChecklistResponse) string {
	if r.Label != "" {
		return r.Label
	}
	return r.Author.Short()
}

// groupLines say a station's form, who answered, and the first of what
// needs a look: questions the observers disagree on, flagged answers,
// responses that do not fit.
func (s *checklistsScreen) groupLines(g *act.ChecklistGroup) []string {
	var names []string
	for _, r := range g.Responses {
		names = append(names, shortLabel(r.Label, r.Author))
	}
	out := []string{formTitle(g), T("checklists.answered_by", map[string]any{"Value": strings.Join(names, ", ")})}
	var needs []string
	for _, q := range g.Questions {
		if q.Disagree {
			needs = append(needs, "⚖ "+T("checklists.disagree_on", map[string]any{"Name": q.Code + " · " + q.Label}))
		}
	}
	for _, r := range g.Responses {
		if r.Misfit != "" {
			needs = append(needs, "⚠ "+who(r)+": "+s.misfitText(r))
		}
	}
	for _, q := range g.Questions {
		for _, a := range q.Answers {
			if a.Flagged {
				needs = append(needs, "🚩 "+q.Code+" · "+q.Label+" — "+answerText(s.question(g, a.Author, q.Question), a.Value)+" ("+shortWho(a)+")")
			}
		}
	}
	if len(needs) > MaxGroupLines {
		needs = append(needs[:MaxGroupLines], TN("dash.more", len(needs)-MaxGroupLines))
	}
	return append(out, needs...)
}

// shortWho is an answer's author, by a short label.
func shortWho(a act.AuthorAnswer) string { return shortLabel(a.Label, a.Author) }

// shortLabel is a member's label up to its first dash, "Swift" of
// "Swift — observer, Calvera City (PS-0024)": enough beside an answer.
func shortLabel(label string, a incident.Author) string {
	if label == "" {
		return a.Short()
	}
	name, _, _ := strings.Cut(label, " — ")
	return name
}

// question is question id as the version author answered asks it (nil
// when this device does not hold that version, or it lacks the
// question).
func (s *checklistsScreen) question(g *act.ChecklistGroup, author incident.Author, id string) *incident.Question {
	return groupQuestion(g, s.byID, author, id)
}

func groupQuestion(g *act.ChecklistGroup, byID map[incident.ID]*incident.FormView, author incident.Author, id string) *incident.Question {
	for _, r := range g.Responses {
		if r.Author != author {
			continue
		}
		if f := byID[r.Form]; f != nil {
			if q, ok := f.Form.Question(id); ok {
				return q
			}
		}
	}
	return nil
}

func (s *checklistsScreen) misfitText(r act.ChecklistResponse) string {
	return misfitText(r, s.byID)
}

// misfitText says why a response does not fit its form: the question and
// the problem, in the user's words where it can.
func misfitText(r act.ChecklistResponse, byID map[incident.ID]*incident.FormView) string {
	f := byID[r.Form]
	if f == nil {
		return T("checklists.no_form")
	}
	id, problem, ok := questionProblem(r.Misfit)
	if !ok {
		return r.Misfit
	}
	name := id
	if q, ok := f.Form.Question(id); ok {
		name = questionTitle(q)
	}
	return name + " — " + answerProblem(&incident.AnswerError{Question: id, Problem: problem})
}

// showChecklistGroup shows one station's responses to one form: who
// answered, then each question with every author's answer side by side
// (on a phone, one above the other), those the observers disagree on
// and the flagged ones first.
func (ui *UI) showChecklistGroup(g act.ChecklistGroup, byID map[incident.ID]*incident.FormView) {
	title := wrapLabel(groupTitle(&g))
	title.TextStyle.Bold = true
	parts := []fyne.CanvasObject{title, note(formTitle(&g))}
	if g.NotInRegistry {
		parts = append(parts, note("⚠ "+T("station.not_in_registry", map[string]any{"Code": g.Station})))
	}
	n := 0
	for _, q := range g.Questions {
		if q.Disagree {
			n++
		}
	}
	if n > 0 {
		l := wrapLabel("⚖ " + TN("checklists.disagree_count", n))
		l.Importance = widget.DangerImportance
		l.TextStyle.Bold = true
		parts = append(parts, l, note(T("checklists.never_merged")))
	}
	parts = append(parts, heading(TN("checklists.response_count", len(g.Responses))))
	for _, r := range g.Responses {
		line := "👤 " + who(r) + " · " + ui.timeText(r.Created)
		if r.Version != "" {
			line += " · " + T("checklists.version", map[string]any{"Value": r.Version})
		}
		if r.Sealed {
			line = "🔒 " + line
		}
		parts = append(parts, wrapLabel(line))
		if r.Misfit != "" {
			l := wrapLabel("⚠ " + T("checklists.misfit", map[string]any{"Value": misfitText(r, byID)}))
			l.Importance = widget.DangerImportance
			parts = append(parts, l)
		}
		if g.Superseded > 0 && r.ID == g.Responses[len(g.Responses)-1].ID {
			parts = append(parts, note(TN("checklists.superseded", g.Superseded)))
		}
	}
	parts = append(parts, heading(T("checklists.answers")))
	// What needs a look first, then the form's order.
	qs := slices.Clone(g.Questions)
	rank := func(q act.QuestionAnswers) int {
		if q.Disagree {
			return 0
		}
		for _, a := range q.Answers {
			if a.Flagged {
				return 1
			}
		}
		return 2
	}
	slices.SortStableFunc(qs, func(a, b act.QuestionAnswers) int { return rank(a) - rank(b) })
	cols := 1
	if !ui.opts.Phone && len(g.Responses) > 1 {
		cols = min(len(g.Responses), 3)
	}
	for _, q := range qs {
		parts = append(parts, questionCard(&g, byID, q, cols))
	}
	// The code alone above: a station's name can be wider than a phone.
	ui.push(g.Station, columnW(900, parts...), nil)
}

// questionCard is one question with each author's answer side by side;
// a question the authors disagree on is marked, and a flagged answer.
func questionCard(g *act.ChecklistGroup, byID map[incident.ID]*incident.FormView, q act.QuestionAnswers, cols int) fyne.CanvasObject {
	name := q.Question
	if q.Label != "" {
		name = q.Code + " · " + q.Label
	}
	title := wrapLabel(name)
	title.TextStyle.Bold = true
	box := container.NewVBox(title)
	if q.Disagree {
		l := wrapLabel("⚖ " + T("checklists.differ"))
		l.Importance = widget.DangerImportance
		l.TextStyle.Bold = true
		box.Add(l)
	}
	grid := container.NewGridWithColumns(cols)
	for _, a := range q.Answers {
		var value *widget.Label
		switch {
		case !a.Answered:
			value = wrapLabel("— " + T("checklists.not_answered"))
		case a.Flagged:
			value = wrapLabel("🚩 " + answerText(groupQuestion(g, byID, a.Author, q.Question), a.Value))
			value.Importance = widget.DangerImportance
		default:
			value = wrapLabel(answerText(groupQuestion(g, byID, a.Author, q.Question), a.Value))
		}
		value.TextStyle.Bold = a.Answered
		if q.Disagree && a.Answered {
			value.Importance = widget.DangerImportance
		}
		who := note(shortWho(a))
		grid.Add(card(container.NewVBox(who, value)))
	}
	box.Add(grid)
	if q.Disagree {
		return container.NewStack(borderFrame(colorAlert), container.NewPadded(box))
	}
	return container.NewPadded(box)
}

// borderFrame is a rounded outline in c, drawn behind what it frames.
func borderFrame(c color.Color) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.StrokeColor, r.StrokeWidth = c, 2
	r.CornerRadius = theme.InputRadiusSize() * 2
	return r
}
