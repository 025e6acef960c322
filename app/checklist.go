package app

import (
	"errors"
	"image/color"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// The observer's checklists: the mission's current forms, the one of the
// phase the observer is in first, each answered one question a screen
// with the buttons at the bottom, in reach of the thumb of the hand that
// holds the phone. Which questions are asked (incident.FormPayload.Relevant)
// and whether an answer fits (incident.CheckAnswers) are the form's rules,
// run here as the act layer runs them when it stores the response; the
// draft goes to the encrypted store after every answer, so a checklist
// left half-way (a call, a flat battery) opens again on the same question.

// The states of a checklist in the observer's list.
const (
	checklistToDo  = "todo"
	checklistDraft = "draft"
	checklistDone  = "done"
)

var checklistIcons = map[string]string{checklistToDo: "⏳", checklistDraft: "📝", checklistDone: "✅"}

// colorFlag marks a flagged answer: orange, apart from the red of a
// problem or a disagreement.
var colorFlag = color.NRGBA{R: 0xe6, G: 0x7e, B: 0x22, A: 0xff}

// answerHeight is the least height of an answer's target: a thumb's.
const answerHeight = 56

// checklistItem is a current form as the observer's list shows it.
type checklistItem struct {
	form  incident.FormView
	state string
	// sent is when this device last sent a response to the form at the
	// station (Unix ms; 0: never), whatever the state.
	sent int64
	// draft is the draft kept of this version at the station (state
	// draft).
	draft act.ChecklistDraft
	// now: the form is of the phase the observer is in.
	now bool
}

// checklistItems lists the current forms for station: those of phase
// (the observer's current phase, opening when none) first, then the
// others in the day's order, those with no phase last. mine is what
// Checklists reads at the station; drafts every draft kept.
func checklistItems(forms []incident.FormView, phase, station string, self incident.Author, mine act.ChecklistList, drafts []act.ChecklistDraft) []checklistItem {
	if phase == "" {
		phase = act.PhaseOpening
	}
	sent := map[string]int64{}
	for _, g := range mine.Groups {
		if g.Station != station {
			continue
		}
		for _, r := range g.Responses {
			if r.Author == self {
				sent[g.Form] = max(sent[g.Form], r.Created)
			}
		}
	}
	var out []checklistItem
	for _, f := range forms {
		if !f.Current {
			continue
		}
		it := checklistItem{form: f, state: checklistToDo, sent: sent[f.Form.Name], now: f.Form.Phase == phase}
		if it.sent > 0 {
			it.state = checklistDone
		}
		for _, d := range drafts {
			if d.Form == f.ID && d.Station == station {
				it.state, it.draft = checklistDraft, d
			}
		}
		out = append(out, it)
	}
	slices.SortStableFunc(out, func(a, b checklistItem) int {
		if a.now != b.now {
			if a.now {
				return -1
			}
			return 1
		}
		if pa, pb := phaseRank(a.form.Form.Phase), phaseRank(b.form.Form.Phase); pa != pb {
			return pa - pb
		}
		return strings.Compare(a.form.Form.Title, b.form.Form.Title)
	})
	return out
}

// phaseRank sorts phases in the day's order, none last.
func phaseRank(p string) int {
	if i := slices.Index(act.Phases, p); i >= 0 {
		return i
	}
	return len(act.Phases)
}

// checklistList is the observer's list of checklists for one station.
type checklistList struct {
	ui       *UI
	station  string // normal form; "" none chosen
	stations map[string]Station
	label    *widget.Label
	list     *fyne.Container
	items    []checklistItem
}

// showChecklists opens the list on the device's station (an observer's
// assignment, adopted by the home), as the tally form does.
func (ui *UI) showChecklists() {
	l := &checklistList{ui: ui, station: ui.station(), stations: map[string]Station{}, list: container.NewVBox()}
	stations, _ := ui.be.Stations()
	for _, s := range stations {
		l.stations[s.Code] = s
	}
	l.label = wrapLabel("")
	l.label.TextStyle.Bold = true
	change := widget.NewButtonWithIcon(T("home.change_station"), theme.SearchIcon(), func() {
		ui.pickStation(l.station, func(c string) {
			l.station = c
			l.fill()
		})
	})
	change.Importance = widget.LowImportance
	ui.push("📋 "+T("checklist.list_title"), column(
		note(T("checklist.list_note")),
		heading(T("field.station")),
		container.NewBorder(nil, nil, nil, change, l.label),
		widget.NewSeparator(),
		l.list,
	), nil)
	l.fill()
}

// fill reads the forms, this device's responses and drafts, and lists
// the forms with their state at the station.
func (l *checklistList) fill() {
	ui := l.ui
	l.label.SetText(stationLabel(l.station, l.stations))
	l.list.RemoveAll()
	forms, err := ui.be.Forms()
	if err != nil {
		l.list.Add(wrapLabel("⚠ " + errorText(err)))
		l.list.Refresh()
		return
	}
	phase, _ := ui.be.MyPhase()
	var mine act.ChecklistList
	if l.station != "" {
		mine, _ = ui.be.Checklists(act.ChecklistQuery{Station: l.station})
	}
	drafts, _ := ui.be.ChecklistDrafts()
	l.items = checklistItems(forms, phase, l.station, ui.id.Author, mine, drafts)
	if len(l.items) == 0 {
		l.list.Add(note(T("checklist.none")))
	}
	for _, it := range l.items {
		it := it
		accent := colorMuted
		switch it.state {
		case checklistDone:
			accent = colorOK
		case checklistDraft:
			accent = colorPrimary
		}
		t := newTile(checklistIcons[it.state], it.form.Form.Title, accent, false, func() { l.open(it) })
		t.sub = strings.Join(l.itemLines(it), "\n")
		t.selected = it.now
		l.list.Add(t)
	}
	l.list.Refresh()
}

// itemLines say a form's phase, whether it is required, and its state.
func (l *checklistList) itemLines(it checklistItem) []string {
	var head []string
	if it.now {
		head = append(head, T("checklist.now"))
	}
	if p := it.form.Form.Phase; p != "" {
		head = append(head, PhaseLabel(p))
	}
	if it.form.Form.Required {
		head = append(head, T("checklist.required"))
	}
	head = append(head, TN("checklist.questions", len(it.form.Form.Questions)))
	lines := []string{upperFirst(strings.Join(head, " · "))}
	switch it.state {
	case checklistDraft:
		lines = append(lines, T("checklist.state_draft", map[string]any{"Time": l.ui.timeText(it.draft.Saved)}))
	case checklistDone:
		lines = append(lines, T("checklist.state_done", map[string]any{"Time": l.ui.timeText(it.sent)}))
	default:
		lines = append(lines, T("checklist.state_todo"))
	}
	if it.state == checklistDraft && it.sent > 0 {
		lines = append(lines, T("checklist.state_done", map[string]any{"Time": l.ui.timeText(it.sent)}))
	}
	return lines
}

// open answers a form at the list's station, asking for a station
// first when none is chosen.
func (l *checklistList) open(it checklistItem) {
	ui := l.ui
	if l.station == "" {
		ui.pickStation("", func(c string) {
			l.station = c
			l.fill()
			ui.openChecklist(it.form, c, l.fill)
		})
		return
	}
	ui.openChecklist(it.form, l.station, l.fill)
}

// upperFirst writes s with a capital first letter (a phase's name
// starting a line).
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// stationLabel names a station, from the registry when it is there.
func stationLabel(code string, stations map[string]Station) string {
	switch s, ok := stations[code]; {
	case code == "":
		return "📍 " + T("home.no_station")
	case ok:
		return "📍 " + stationText(s)
	case len(stations) > 0:
		return "📍 " + code + "\n⚠ " + T("station.not_in_registry", map[string]any{"Code": code})
	}
	return "📍 " + code
}

// answerSaver writes a checklist's draft to the store: at once after a
// tap, shortly after typing stops (each save is a synced write), and at
// once on flush. Safe for concurrent use.
type answerSaver struct {
	write   func(act.ChecklistDraft) error
	mu      sync.Mutex
	pending *act.ChecklistDraft
	changes uint64 // drafts saved so far: the idle check sees answers given
	timer   *time.Timer
	writeMu sync.Mutex
}

// changeCount is how many drafts were saved since the checklist opened.
func (s *answerSaver) changeCount() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changes
}

// later saves d once typing has paused for DraftDelay.
func (s *answerSaver) later(d act.ChecklistDraft) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = &d
	s.changes++
	if s.timer == nil {
		s.timer = time.AfterFunc(DraftDelay, s.flush)
	}
}

// now saves d at once.
func (s *answerSaver) now(d act.ChecklistDraft) {
	s.later(d)
	s.flush()
}

// flush writes a pending draft now.
func (s *answerSaver) flush() {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	d := s.pending
	s.pending = nil
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.mu.Unlock()
	if d != nil {
		// A draft that cannot be kept (a full disk) leaves the answers
		// on screen: the checklist can still be sent.
		_ = s.write(*d)
	}
}

// cancel drops a pending draft without saving it (sent, or a panic
// wipe).
func (s *answerSaver) cancel() {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = nil
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// checklistForm is one checklist being answered.
type checklistForm struct {
	ui      *UI
	form    incident.FormView
	station string
	// answers holds every answer given, by question ID, as typed: one to
	// a question an earlier answer no longer asks is kept (the person may
	// change that answer back) and left out of what is sent.
	answers map[string]string
	// at is the question on screen, an index in the form's questions;
	// len(questions) is the review.
	at int
	// fromReview: the question was opened from the review, and Next goes
	// back to it.
	fromReview bool
	restored   bool
	saver      *answerSaver
	leave      func() // refreshes the list under the form
	body       *fyne.Container

	// The question on screen (tests reach them).
	choices  []*answerButton
	na       *answerButton
	number   *numberEntry
	text     *widget.Entry
	problem  *widget.Label
	flag     *widget.Label
	progress *noteLabel
	next     *widget.Button
}

// openChecklist answers form at station, from its draft when there is
// one (on the screen the person was on). leave runs when the form closes.
func (ui *UI) openChecklist(form incident.FormView, station string, leave func()) {
	f := &checklistForm{ui: ui, form: form, station: station, answers: map[string]string{}, leave: leave,
		saver: &answerSaver{write: ui.be.SaveChecklistDraft}, body: container.NewStack()}
	if d, ok, err := ui.be.ChecklistDraft(form.ID, station); err == nil && ok {
		for _, a := range d.Answers {
			f.answers[a.Question] = a.Value
		}
		f.at = min(max(d.Question, 0), len(form.Form.Questions))
		f.restored = true
	}
	if f.at < len(form.Form.Questions) && !f.asked(f.at) {
		f.at = f.nextFrom(f.at)
	}
	ui.checklist = f
	ui.push("📋 "+T("checklist.title"), f.body, f.close)
	f.render()
}

// close leaves the form, keeping the draft.
func (f *checklistForm) close() {
	f.saver.flush()
	if f.ui.checklist == f {
		f.ui.checklist = nil
	}
	if f.leave != nil {
		f.leave()
	}
}

func (f *checklistForm) questions() []incident.Question { return f.form.Form.Questions }

// value is the answer to question q as it would be sent: trimmed, an
// integer in its plain decimal form; "" when there is none.
func (f *checklistForm) value(q *incident.Question) string {
	v := strings.TrimSpace(f.answers[q.ID])
	if q.Type == incident.QuestionInteger {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			v = strconv.FormatInt(n, 10)
		}
	}
	return v
}

// given is the answers that count: those to questions asked given the
// earlier answers that count, in the form's order.
func (f *checklistForm) given() (map[string]string, []incident.Answer) {
	m := map[string]string{}
	var list []incident.Answer
	for i := range f.questions() {
		q := &f.questions()[i]
		if !q.Answerable() || !f.form.Form.Relevant(q, m) {
			continue
		}
		if v := f.value(q); v != "" {
			m[q.ID] = v
			list = append(list, incident.Answer{Question: q.ID, Value: v})
		}
	}
	return m, list
}

// asked reports whether question i is asked given the answers so far.
func (f *checklistForm) asked(i int) bool {
	m, _ := f.given()
	return f.form.Form.Relevant(&f.questions()[i], m)
}

// nextFrom is the first question after i that is asked, or the review.
func (f *checklistForm) nextFrom(i int) int {
	for j := i + 1; j < len(f.questions()); j++ {
		if f.asked(j) {
			return j
		}
	}
	return len(f.questions())
}

// prevFrom is the last question before i that is asked, or -1.
func (f *checklistForm) prevFrom(i int) int {
	for j := min(i, len(f.questions())) - 1; j >= 0; j-- {
		if f.asked(j) {
			return j
		}
	}
	return -1
}

// position is question i's place among the questions asked, and how many
// are asked, given the answers so far.
func (f *checklistForm) position(i int) (n, total int) {
	for j := range f.questions() {
		if f.asked(j) {
			total++
			if j <= i {
				n++
			}
		}
	}
	return n, total
}

// draft is what the store keeps of the checklist now.
func (f *checklistForm) draft() act.ChecklistDraft {
	var list []incident.Answer
	for _, q := range f.questions() {
		if v, ok := f.answers[q.ID]; ok && strings.TrimSpace(v) != "" {
			list = append(list, incident.Answer{Question: q.ID, Value: v})
		}
	}
	return act.ChecklistDraft{Form: f.form.ID, Station: f.station, Answers: list, Question: f.at}
}

// checkQuestion runs the form's rules on one question's answer (v; ""
// none): whether it fits its type and bounds, and is given when
// required. It asks incident.CheckAnswers of a form of that question
// alone, asked whatever the other answers say (relevance is the whole
// form's business, answered by Relevant).
func checkQuestion(q *incident.Question, v string) *incident.AnswerError {
	one := *q
	one.Relevant = nil
	var answers []incident.Answer
	if v != "" {
		answers = []incident.Answer{{Question: q.ID, Value: v}}
	}
	if err := incident.CheckAnswers(&incident.FormPayload{Questions: []incident.Question{one}}, answers); err != nil {
		var ae *incident.AnswerError
		if errors.As(err, &ae) {
			return ae
		}
		return &incident.AnswerError{Question: q.ID, Problem: err.Error()}
	}
	return nil
}

// setProblem says what is wrong under the question (nothing: the line
// goes, leaving its room to the buttons).
func setProblem(l *widget.Label, text string) {
	l.SetText(text)
	if text == "" {
		l.Hide()
		return
	}
	l.Show()
}

// answerProblem says why an answer does not fit, in the user's words.
func answerProblem(ae *incident.AnswerError) string {
	if ae.Problem == "is required" {
		return T("checklist.need_answer")
	}
	return problemText(ae.Problem)
}

// render draws the screen the form is on.
func (f *checklistForm) render() {
	if f.at >= len(f.questions()) {
		f.renderReview()
		return
	}
	f.renderQuestion()
}

// screen lays a checklist screen out: what it is and where on top, the
// question (or the review) scrolling in the middle, and what to do at the
// bottom, where the thumb reaches on a phone held in one hand.
func (f *checklistForm) screen(top []fyne.CanvasObject, middle []fyne.CanvasObject, bottom []fyne.CanvasObject) {
	title := wrapLabel(f.form.Form.Title)
	title.TextStyle.Bold = true
	head := container.NewVBox(append([]fyne.CanvasObject{title}, top...)...)
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameHeaderBackground))
	bar := container.NewStack(bg, container.NewVBox(widget.NewSeparator(),
		container.New(&columnLayout{w: 560}, container.NewPadded(container.NewVBox(bottom...)))))
	body := container.NewBorder(container.New(&columnLayout{w: 560}, container.NewPadded(head)), bar, nil, nil, column(middle...))
	f.body.Objects = []fyne.CanvasObject{body}
	f.body.Refresh()
}

// navButtons are Previous and Next (or what stands for Next), side by
// side, Next on the right under the thumb.
func (f *checklistForm) navButtons(next *widget.Button) fyne.CanvasObject {
	prev := widget.NewButtonWithIcon(T("checklist.previous"), theme.NavigateBackIcon(), f.goBack)
	if f.prevFrom(f.at) < 0 {
		prev.Disable()
	}
	next.Importance = widget.HighImportance
	return tall(container.NewGridWithColumns(2, prev, next), answerHeight)
}

func (f *checklistForm) renderQuestion() {
	q := &f.questions()[f.at]
	f.choices, f.na, f.number, f.text = nil, nil, nil, nil
	n, total := f.position(f.at)
	f.progress = note(q.Code + " · " + T("checklist.progress", map[string]any{"N": n, "Total": total}) + " · " + f.station)
	top := []fyne.CanvasObject{f.progress, tall(progressBar(n, total), 6)}
	if f.restored {
		top = append(top, note("📝 "+T("checklist.restored")))
		f.restored = false
	}

	label := wrapLabel(q.Label)
	label.TextStyle.Bold = true
	label.SizeName = theme.SizeNameSubHeadingText
	middle := []fyne.CanvasObject{label}
	if q.Hint != "" {
		middle = append(middle, note(q.Hint))
	}
	f.flag = wrapLabel("")
	f.flag.Importance = widget.DangerImportance
	f.problem = wrapLabel("")
	f.problem.Importance = widget.DangerImportance
	middle = append(middle, f.answerBox(q)...)
	middle = append(middle, f.flag)

	label2 := T("checklist.next")
	if f.fromReview {
		label2 = T("checklist.to_review")
	}
	f.next = widget.NewButtonWithIcon(label2, theme.NavigateNextIcon(), f.goNext)
	f.next.IconPlacement = widget.ButtonIconTrailingText
	f.screen(top, middle, []fyne.CanvasObject{f.problem, f.navButtons(f.next)})
	f.showState(false)
}

// answerBox is the question's answer: a big button per choice, toggles
// for several, a number with − and +, or a text; N/A apart, never 0.
func (f *checklistForm) answerBox(q *incident.Question) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	naApart := func(label string, multi bool) {
		f.na = newAnswerButton(label, multi, func() { f.toggleNA(q) })
		out = append(out, widget.NewSeparator(), note(T("checklist.or")), f.na)
	}
	switch q.Type {
	case incident.QuestionSelectOne, incident.QuestionSelectMultiple:
		multi := q.Type == incident.QuestionSelectMultiple
		if multi {
			out = append(out, note(T("checklist.several")))
		}
		for _, c := range q.Choices {
			if c.Name == incident.AnswerNA {
				continue
			}
			c := c
			b := newAnswerButton(c.Label, multi, func() { f.choose(q, c.Name) })
			b.name = c.Name
			f.choices = append(f.choices, b)
			out = append(out, b)
		}
		if c, ok := q.Choice(incident.AnswerNA); ok {
			naApart(c.Label, multi)
		}
	case incident.QuestionInteger:
		f.number = newNumberEntry()
		f.number.SetText(f.answers[q.ID])
		if f.answers[q.ID] == incident.AnswerNA {
			f.number.SetText("")
		}
		f.number.SetPlaceHolder(T("checklist.number"))
		f.number.OnChanged = func(s string) { f.typed(q, s) }
		minus := widget.NewButtonWithIcon("", theme.ContentRemoveIcon(), func() { f.step(q, -1) })
		plus := widget.NewButtonWithIcon("", theme.ContentAddIcon(), func() { f.step(q, 1) })
		wide := func(b *widget.Button) fyne.CanvasObject {
			return container.NewGridWrap(fyne.NewSize(answerHeight+16, answerHeight), b)
		}
		out = append(out, container.NewBorder(nil, nil, wide(minus), wide(plus), tall(f.number, answerHeight)))
		if b := boundsText(q); b != "" {
			out = append(out, note(b))
		}
		if q.NA {
			naApart(T("checklist.na"), false)
		}
	case incident.QuestionText:
		f.text = widget.NewMultiLineEntry()
		f.text.Wrapping = fyne.TextWrapWord
		f.text.SetMinRowsVisible(4)
		f.text.SetPlaceHolder(T("checklist.text"))
		if v := f.answers[q.ID]; v != incident.AnswerNA {
			f.text.SetText(v)
		}
		f.text.OnChanged = func(s string) { f.typed(q, s) }
		out = append(out, f.text)
		if q.NA {
			naApart(T("checklist.na"), false)
		}
	case incident.QuestionNote:
		out = append(out, note(T("checklist.note_only")))
	}
	return out
}

// progressBar is n of total as a bar.
func progressBar(n, total int) fyne.CanvasObject {
	frac := float32(0)
	if total > 0 {
		frac = float32(n) / float32(total)
	}
	return container.New(&fractionLayout{frac: frac}, canvas.NewRectangle(withAlpha(colorMuted, 0x40)), canvas.NewRectangle(colorPrimary))
}

// boundsText says an integer's bounds, if it has any.
func boundsText(q *incident.Question) string {
	switch {
	case q.Min != nil && q.Max != nil:
		return T("checklist.bounds", map[string]any{"Min": *q.Min, "Max": *q.Max})
	case q.Min != nil:
		return T("checklist.bound_min", map[string]any{"Min": *q.Min})
	case q.Max != nil:
		return T("checklist.bound_max", map[string]any{"Max": *q.Max})
	}
	return ""
}

// choose answers a select with a choice: the one for a select_one
// (tapped again, it is taken back), toggled for a select_multiple,
// where N/A goes alone.
func (f *checklistForm) choose(q *incident.Question, name string) {
	cur := f.answers[q.ID]
	switch {
	case q.Type == incident.QuestionSelectOne && cur == name:
		delete(f.answers, q.ID)
	case q.Type == incident.QuestionSelectOne:
		f.answers[q.ID] = name
	default:
		picked := map[string]bool{}
		for _, p := range strings.Fields(cur) {
			picked[p] = p != incident.AnswerNA
		}
		picked[name] = !picked[name]
		var list []string
		for _, c := range q.Choices { // the form's order: one set, one answer
			if picked[c.Name] {
				list = append(list, c.Name)
			}
		}
		f.setOrDelete(q, strings.Join(list, " "))
	}
	f.saver.now(f.draft())
	f.showState(false)
}

// toggleNA answers N/A, or takes it back.
func (f *checklistForm) toggleNA(q *incident.Question) {
	if f.answers[q.ID] == incident.AnswerNA {
		delete(f.answers, q.ID)
	} else {
		f.answers[q.ID] = incident.AnswerNA
	}
	// The number or text goes: N/A is not a number, not 0.
	switch {
	case f.number != nil:
		f.number.OnChanged = nil
		f.number.SetText("")
		f.number.OnChanged = func(s string) { f.typed(q, s) }
	case f.text != nil:
		f.text.OnChanged = nil
		f.text.SetText("")
		f.text.OnChanged = func(s string) { f.typed(q, s) }
	}
	f.saver.now(f.draft())
	f.showState(false)
}

// typed takes a number or a text as it is typed; the draft is saved once
// typing pauses.
func (f *checklistForm) typed(q *incident.Question, s string) {
	f.setOrDelete(q, s)
	f.saver.later(f.draft())
	f.showState(false)
}

func (f *checklistForm) setOrDelete(q *incident.Question, v string) {
	if strings.TrimSpace(v) == "" {
		delete(f.answers, q.ID)
		return
	}
	f.answers[q.ID] = v
}

// step adds d to the number, within the question's bounds.
func (f *checklistForm) step(q *incident.Question, d int64) {
	// An empty entry counts as 0: + gives 1, or the least the question
	// takes.
	n, err := strconv.ParseInt(strings.TrimSpace(f.number.Text), 10, 64)
	if err != nil {
		n = 0
	}
	n += d
	if q.Min != nil {
		n = max(n, *q.Min)
	}
	if q.Max != nil {
		n = min(n, *q.Max)
	}
	f.number.SetText(strconv.FormatInt(n, 10)) // OnChanged saves and checks
}

// showState marks the choices chosen and says whether the answer is
// flagged and, at once, whether it fits the form (a number out of
// bounds); moving (Next pressed) also says that a required question is
// unanswered.
func (f *checklistForm) showState(moving bool) {
	q := &f.questions()[f.at]
	v := f.value(q)
	// An answer that does not fit (a number out of bounds) is not
	// flagged: it is not an answer yet.
	fits := checkQuestion(q, v) == nil
	flagged := v != "" && fits && q.Flagged(v)
	picked := strings.Fields(v)
	for _, b := range f.choices {
		// Of several choices, the flag marks those that flag the answer
		// on their own ("the register" among what was missing).
		mark := flagged
		if q.Type == incident.QuestionSelectMultiple {
			mark = flagged && q.Flagged(b.name)
		}
		b.set(slices.Contains(picked, b.name), mark)
	}
	if f.na != nil {
		f.na.set(v == incident.AnswerNA, flagged)
	}
	f.flag.SetText("")
	if flagged {
		f.flag.SetText("🚩 " + T("checklist.flagged"))
	}
	problem := ""
	if ae := checkQuestion(q, v); ae != nil && (moving || v != "") {
		problem = "⚠ " + answerProblem(ae)
	}
	setProblem(f.problem, problem)
}

// goNext moves on when the answer fits (and is there when required), or
// says why it does not.
func (f *checklistForm) goNext() {
	q := &f.questions()[f.at]
	if ae := checkQuestion(q, f.value(q)); ae != nil {
		f.showState(true)
		return
	}
	if f.fromReview {
		f.at = len(f.questions())
	} else {
		f.at = f.nextFrom(f.at)
	}
	f.saver.now(f.draft())
	f.render()
}

// goBack shows the question asked before this one.
func (f *checklistForm) goBack() {
	if p := f.prevFrom(f.at); p >= 0 {
		f.at, f.fromReview = p, false
		f.saver.now(f.draft())
		f.render()
	}
}

// goTo shows question i from the review.
func (f *checklistForm) goTo(i int) {
	f.at, f.fromReview = i, true
	f.saver.now(f.draft())
	f.render()
}

// answerText is an answer as a person reads it: a choice's label, N/A in
// words, a number or a text as given.
func answerText(q *incident.Question, v string) string {
	if q != nil && (q.Type == incident.QuestionSelectOne || q.Type == incident.QuestionSelectMultiple) {
		var labels []string
		for _, p := range strings.Fields(v) {
			if c, ok := q.Choice(p); ok {
				labels = append(labels, c.Label)
			} else {
				labels = append(labels, p)
			}
		}
		return strings.Join(labels, ", ")
	}
	if v == incident.AnswerNA {
		return T("checklist.na")
	}
	return v
}

// questionTitle is a question's code and label.
func questionTitle(q *incident.Question) string { return q.Code + " · " + q.Label }

func (f *checklistForm) renderReview() {
	m, list := f.given()
	f.choices, f.na, f.number, f.text = nil, nil, nil, nil
	top := []fyne.CanvasObject{note(stationLabel(f.station, nil))}
	middle := []fyne.CanvasObject{heading(T("checklist.review")), note(T("checklist.review_note"))}
	flagged := 0
	for i := range f.questions() {
		q := &f.questions()[i]
		if !q.Answerable() || !f.form.Form.Relevant(q, m) {
			continue
		}
		i := i
		v, ok := m[q.ID]
		icon, accent, sub := "✅", colorOK, answerText(q, v)
		switch {
		case !ok:
			icon, accent, sub = "⏳", colorMuted, T("checklist.not_answered")
		case q.Flagged(v):
			icon, accent = "🚩", colorFlag
			flagged++
		}
		t := newTile(icon, questionTitle(q), accent, false, func() { f.goTo(i) })
		t.sub = sub
		middle = append(middle, t)
	}
	f.problem = wrapLabel("")
	f.problem.Importance = widget.DangerImportance
	problem := ""
	if err := incident.CheckAnswers(&f.form.Form, list); err != nil {
		problem = "⚠ " + f.refusalText(err)
	}
	setProblem(f.problem, problem)
	bottom := []fyne.CanvasObject{f.problem}
	if flagged > 0 {
		bottom = append(bottom, note("🚩 "+TN("checklist.flagged_count", flagged)))
	}
	f.next = widget.NewButtonWithIcon(T("checklist.send"), theme.ConfirmIcon(), f.submit)
	f.progress = nil
	f.screen(top, middle, append(bottom, f.navButtons(f.next)))
}

// refusalText names the question an answer error is about, and says what
// is wrong with it.
func (f *checklistForm) refusalText(err error) string {
	id, problem, ok := refusedQuestion(err)
	if !ok {
		return errorText(err)
	}
	name := id
	if q, ok := f.form.Form.Question(id); ok {
		name = questionTitle(q)
	}
	return name + " — " + answerProblem(&incident.AnswerError{Question: id, Problem: problem})
}

// answerRefusal reads the question and the problem out of an answer's
// refusal, as CheckAnswers writes it and SubmitChecklist passes it on.
var answerRefusal = regexp.MustCompile(`(?:^|: )question ([A-Za-z_][A-Za-z0-9_.-]*): (.+)$`)

func refusedQuestion(err error) (id, problem string, ok bool) {
	var ae *incident.AnswerError
	if errors.As(err, &ae) {
		return ae.Question, ae.Problem, true
	}
	return questionProblem(err.Error())
}

// questionProblem reads the question and the problem out of a message
// that names them ("question staff: 25 is above the maximum 20").
func questionProblem(msg string) (id, problem string, ok bool) {
	m := answerRefusal.FindStringSubmatch(msg)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// submit checks the answers with the form's rules, then sends them. A
// problem (or a refusal) opens the question it is about, saying why.
func (f *checklistForm) submit() {
	ui := f.ui
	_, list := f.given()
	if err := incident.CheckAnswers(&f.form.Form, list); err != nil {
		f.showRefusal(err)
		return
	}
	res, err := ui.be.SubmitChecklist(act.ChecklistRequest{Form: f.form.ID.String(), Station: f.station, Answers: list})
	if err != nil {
		f.showRefusal(err)
		return
	}
	// Sent: SubmitChecklist discarded the draft, and nothing may write
	// it again.
	f.saver.cancel()
	if ui.checklist == f {
		ui.checklist = nil
	}
	ui.pop()
	if f.leave != nil {
		f.leave()
	}
	f.showSent(res, list)
}

// showRefusal opens the question a refusal names with the problem under
// it; a refusal of something else is shown as an error.
func (f *checklistForm) showRefusal(err error) {
	id, _, ok := refusedQuestion(err)
	at := -1
	if ok {
		at = slices.IndexFunc(f.questions(), func(q incident.Question) bool { return q.ID == id })
	}
	if at < 0 {
		f.ui.showError(err)
		return
	}
	f.at, f.fromReview = at, true
	f.render()
	setProblem(f.problem, "⚠ "+f.refusalText(err))
}

// showSent confirms a sent checklist: sealed when it is, and the answers
// flagged for the coordinators.
func (f *checklistForm) showSent(res act.ChecklistSubmitted, answers []incident.Answer) {
	ui := f.ui
	box := container.NewVBox(wrapLabel(T("checklist.sent", map[string]any{"Name": f.form.Form.Title, "Code": res.Station, "ID": shortID(res.ID.String())})))
	if res.Sealed {
		box.Add(note("🔒 " + T("checklist.sealed")))
	}
	given := incident.Answers(answers)
	if len(res.Flagged) == 0 {
		box.Add(note(T("checklist.none_flagged")))
	} else {
		head := wrapLabel("🚩 " + TN("checklist.flagged_count", len(res.Flagged)))
		head.TextStyle.Bold = true
		box.Add(head)
	}
	for _, id := range res.Flagged {
		if q, ok := f.form.Form.Question(id); ok {
			l := wrapLabel(questionTitle(q) + " — " + answerText(q, given[id]))
			l.Importance = widget.DangerImportance
			box.Add(l)
		}
	}
	if res.NotInRegistry {
		box.Add(note("⚠ " + T("station.not_in_registry", map[string]any{"Code": res.Station})))
	}
	d := dialog.NewCustom(T("checklist.sent_title"), T("action.ok"), box, ui.win)
	d.Resize(fyne.NewSize(360, 0).Max(d.MinSize()))
	d.Show()
}

// answerButton is one choice of a select: a target as wide as the screen
// and a thumb high, a radio (a check box for several choices) beside a
// label that wraps, the chosen one filled with the primary colour and,
// when the answer is flagged, a small flag.
type answerButton struct {
	widget.BaseWidget
	text     string
	name     string // the choice's name
	multi    bool
	selected bool
	flagged  bool
	onTap    func()
}

func newAnswerButton(text string, multi bool, tap func()) *answerButton {
	b := &answerButton{text: text, multi: multi, onTap: tap}
	b.ExtendBaseWidget(b)
	return b
}

// Tapped chooses (or takes back) the answer.
func (b *answerButton) Tapped(*fyne.PointEvent) {
	if b.onTap != nil {
		b.onTap()
	}
}

// set shows whether the choice is chosen, and the answer flagged.
func (b *answerButton) set(selected, flagged bool) {
	if b.selected == selected && b.flagged == flagged {
		return
	}
	b.selected, b.flagged = selected, flagged
	b.Refresh()
}

func (b *answerButton) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameButton))
	bg.CornerRadius = theme.InputRadiusSize() * 2
	icon := widget.NewIcon(nil)
	label := wrapLabel(b.text)
	flag := canvas.NewText("🚩", theme.Color(theme.ColorNameForeground))
	flag.TextSize = 20
	r := &answerRenderer{b: b, bg: bg, icon: icon, label: label, flag: flag,
		box: container.NewPadded(container.NewBorder(nil, nil, container.NewCenter(icon), container.NewCenter(flag), label))}
	r.Refresh()
	return r
}

type answerRenderer struct {
	b     *answerButton
	bg    *canvas.Rectangle
	icon  *widget.Icon
	label *widget.Label
	flag  *canvas.Text
	box   *fyne.Container
}

func (r *answerRenderer) Layout(s fyne.Size) {
	r.bg.Resize(s)
	r.box.Resize(s)
}

// MinSize is a thumb high, and never narrower than the label's longest
// word (a wrapping label alone would let a narrow screen break a word).
func (r *answerRenderer) MinSize() fyne.Size {
	word := float32(0)
	for _, w := range strings.Fields(r.b.text) {
		word = max(word, fyne.MeasureText(w, theme.TextSize(), fyne.TextStyle{Bold: true}).Width)
	}
	extra := 2*theme.InnerPadding() + 4*theme.Padding() + theme.IconInlineSize() + 28
	return r.box.MinSize().Max(fyne.NewSize(word+extra, answerHeight))
}

func (r *answerRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.box} }
func (r *answerRenderer) Destroy()                     {}
func (r *answerRenderer) Refresh() {
	b := r.b
	if b.selected {
		r.bg.FillColor = withAlpha(theme.Color(theme.ColorNamePrimary), 0x60)
		r.bg.StrokeColor = theme.Color(theme.ColorNamePrimary)
		r.bg.StrokeWidth = 3
	} else {
		r.bg.FillColor = theme.Color(theme.ColorNameButton)
		r.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
		r.bg.StrokeWidth = 1
	}
	switch {
	case b.multi && b.selected:
		r.icon.SetResource(theme.CheckButtonCheckedIcon())
	case b.multi:
		r.icon.SetResource(theme.CheckButtonIcon())
	case b.selected:
		r.icon.SetResource(theme.RadioButtonCheckedIcon())
	default:
		r.icon.SetResource(theme.RadioButtonIcon())
	}
	r.label.TextStyle.Bold = b.selected
	r.label.Refresh()
	r.flag.Hidden = !(b.selected && b.flagged)
	r.flag.Refresh()
	r.bg.Refresh()
}
