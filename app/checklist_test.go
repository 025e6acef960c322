package app

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/app/internal/scene"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// onQuestion fails unless the checklist on screen shows question id.
func onQuestion(t *testing.T, ui *UI, id string) *checklistForm {
	t.Helper()
	f := ui.checklist
	if f == nil {
		t.Fatalf("no checklist open; screen shows:\n%s", allText(ui))
	}
	if f.at >= len(f.questions()) {
		t.Fatalf("on the review, want question %s; screen shows:\n%s", id, allText(ui))
	}
	if q := f.questions()[f.at]; q.ID != id || !strings.Contains(allText(ui), q.Label) {
		t.Fatalf("on question %s, want %s; screen shows:\n%s", q.ID, id, allText(ui))
	}
	return f
}

// iconButton finds the button that shows icon and no text (− and +).
func iconButton(t *testing.T, ui *UI, icon fyne.Resource) *widget.Button {
	t.Helper()
	b, ok := find(ui, func(b *widget.Button) bool { return b.Text == "" && b.Icon != nil && b.Icon.Name() == icon.Name() })
	if !ok {
		t.Fatalf("no %s button; screen shows:\n%s", icon.Name(), allText(ui))
	}
	return b
}

// screenLines is allText with each text once where a widget and its
// renderer both show it: the screen's lines in their order.
func screenLines(ui *UI) string {
	var out []string
	for _, l := range strings.Split(allText(ui), "\n") {
		if len(out) == 0 || out[len(out)-1] != l {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// progressText is the progress line of question code, n of total.
func progressText(code string, n, total int, station string) string {
	return code + " · " + T("checklist.progress", map[string]any{"N": n, "Total": total}) + " · " + station
}

// An observer answers the practice mission's opening checklist one
// question per screen: Next says why a required question cannot be
// skipped, a follow-up is asked only when an earlier answer calls for
// it, a number out of bounds is named as it is typed, N/A is an answer
// of its own (never 0), and a flagged answer is marked as it is chosen.
// Left half-way and opened again in a new UI over the same home, the
// checklist is on the same question with the answers kept: the draft
// came from the store. Sent, the confirmation lists the flagged answers,
// the draft is gone, and the coordinator reads the response, finds first
// the station where two observers disagree (their answers side by side),
// and sees coverage count the checklist.
//
// Filing the opening checklist when all is well takes 16 taps on a phone,
// two of them digits: Checklists, the checklist, then a choice (or a
// digit) and Next for each of the four yes/no questions and the two
// counts asked, Next past the remarks, and Send (and OK to close the
// confirmation).
func TestChecklistOneQuestionPerScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the practice mission")
	}
	a := test.NewTempApp(t)
	homes, err := scene.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	size := fyne.NewSize(phoneWidth, 820)
	ob := openScene(a, homes.Observer, true, size)
	defer func() { ob.Close() }()
	st := homes.Station

	tap(t, ob, T("checklist.open"))
	// The observer said "all quiet" at midday: the voting checklist
	// comes first, the others in the day's order.
	var order []string
	var states []string
	walk(ob.win.Canvas().Content(), func(o fyne.CanvasObject) {
		if tl, ok := o.(*tile); ok {
			order = append(order, tl.text)
			states = append(states, tl.icon)
		}
	})
	want := []string{"Voting checklist (midday)", "Opening checklist", "Closing checklist", "Counting checklist"}
	if strings.Join(order, "|") != strings.Join(want, "|") || states[1] != checklistIcons[checklistToDo] {
		t.Fatalf("the checklists listed: %q %q", order, states)
	}
	if !strings.Contains(allText(ob), T("checklist.now")) || !strings.Contains(allText(ob), st) {
		t.Fatalf("the list does not mark the current phase or name the station:\n%s", allText(ob))
	}
	tap(t, ob, "Opening checklist")

	f := onQuestion(t, ob, "opened_on_time")
	if got := f.progress.Text(); got != progressText("A1", 1, 7, st) {
		t.Fatalf("the progress line: %q", got)
	}
	// Required: Next says why and stays.
	tap(t, ob, T("checklist.next"))
	f = onQuestion(t, ob, "opened_on_time")
	if !strings.Contains(f.problem.Text, T("checklist.need_answer")) {
		t.Fatalf("Next on a required question says %q", f.problem.Text)
	}
	// On time: the follow-up (how late) is not asked.
	tap(t, ob, "Yes")
	if f.problem.Text != "" || f.flag.Text != "" {
		t.Fatalf("answered: problem %q, flag %q", f.problem.Text, f.flag.Text)
	}
	tap(t, ob, T("checklist.next"))
	f = onQuestion(t, ob, "materials")
	if got := f.progress.Text(); got != progressText("A3", 2, 7, st) {
		t.Fatalf("the progress line after skipping the follow-up: %q", got)
	}
	// Back, and late after all: flagged as it is chosen, and now the
	// follow-up is asked.
	tap(t, ob, T("checklist.previous"))
	f = onQuestion(t, ob, "opened_on_time")
	tap(t, ob, "No")
	if !strings.Contains(f.flag.Text, T("checklist.flagged")) {
		t.Fatalf("a flagged answer is not marked: %q", f.flag.Text)
	}
	if b := f.choices[1]; !b.selected || !b.flagged || f.choices[0].selected {
		t.Fatalf("the chosen button: %+v", f.choices)
	}
	tap(t, ob, T("checklist.next"))
	f = onQuestion(t, ob, "minutes_late")
	if got := f.progress.Text(); got != progressText("A2", 2, 8, st) {
		t.Fatalf("the progress line of the follow-up: %q", got)
	}
	// Out of bounds: named as it is typed, and Next does not move.
	typeNumber(f.number, "900")
	above := "⚠ " + problemText("900 is above the maximum 600")
	if f.problem.Text != above || !strings.Contains(above, "600") {
		t.Fatalf("900 minutes late: %q", f.problem.Text)
	}
	tap(t, ob, T("checklist.next"))
	f = onQuestion(t, ob, "minutes_late")
	typeNumber(f.number, "75")
	if f.problem.Text != "" || !strings.Contains(f.flag.Text, T("checklist.flagged")) {
		t.Fatalf("75 minutes late: problem %q, flag %q", f.problem.Text, f.flag.Text)
	}
	tap(t, ob, T("checklist.next"))
	onQuestion(t, ob, "materials")
	tap(t, ob, "Yes")
	tap(t, ob, T("checklist.next"))
	onQuestion(t, ob, "box_shown_empty") // what was missing: not asked
	tap(t, ob, "Yes")
	tap(t, ob, T("checklist.next"))
	f = onQuestion(t, ob, "staff")
	// + and − step within the bounds.
	plus := iconButton(t, ob, theme.ContentAddIcon())
	test.Tap(plus)
	test.Tap(plus)
	if f.number.Text != "2" || !strings.Contains(f.flag.Text, T("checklist.flagged")) {
		t.Fatalf("two taps on +: %q, flag %q", f.number.Text, f.flag.Text)
	}
	typeNumber(f.number, "5")

	// Interrupted: back to the list, the app closed.
	tap(t, ob, T("nav.back"))
	if !strings.Contains(allText(ob), strings.Split(T("checklist.state_draft", map[string]any{"Time": "X"}), "X")[0]) {
		t.Fatalf("the list does not show the draft:\n%s", allText(ob))
	}
	ob.Close()
	ob = openScene(a, homes.Observer, true, size)
	tap(t, ob, T("checklist.open"))
	tap(t, ob, "Opening checklist")
	f = onQuestion(t, ob, "staff")
	if f.number.Text != "5" || !strings.Contains(allText(ob), T("checklist.restored")) {
		t.Fatalf("reopened: %q\n%s", f.number.Text, allText(ob))
	}
	for id, v := range map[string]string{"opened_on_time": "no", "minutes_late": "75", "materials": "yes", "box_shown_empty": "yes"} {
		if f.answers[id] != v {
			t.Fatalf("reopened, %s is %q, want %q", id, f.answers[id], v)
		}
	}
	tap(t, ob, T("checklist.next"))
	onQuestion(t, ob, "observers_allowed")
	tap(t, ob, "Yes")
	tap(t, ob, T("checklist.next"))
	// N/A is an answer apart, never 0.
	f = onQuestion(t, ob, "agents")
	typeNumber(f.number, "3")
	tap(t, ob, T("checklist.na"))
	if f.answers["agents"] != incident.AnswerNA || f.number.Text != "" || !f.na.selected {
		t.Fatalf("N/A: answer %q, entry %q", f.answers["agents"], f.number.Text)
	}
	tap(t, ob, T("checklist.next"))
	onQuestion(t, ob, "remarks") // optional: Next goes on
	tap(t, ob, T("checklist.next"))

	// The review: every answer; tap one to change it.
	if f = ob.checklist; f.at != len(f.questions()) || !strings.Contains(allText(ob), T("checklist.review")) {
		t.Fatalf("not on the review:\n%s", allText(ob))
	}
	screen := allText(ob)
	for _, w := range []string{"A8 · How many party agents were present?", T("checklist.na"), "A2 · How many minutes late did it open?", "75",
		TN("checklist.flagged_count", 2)} {
		if !strings.Contains(screen, w) {
			t.Fatalf("the review lacks %q:\n%s", w, screen)
		}
	}
	if strings.Contains(screen, "What was missing?") {
		t.Fatalf("the review lists a question not asked:\n%s", screen)
	}
	tap(t, ob, "A6 · How many polling staff")
	f = onQuestion(t, ob, "staff")
	typeNumber(f.number, "6")
	tap(t, ob, T("checklist.to_review"))
	if f.at != len(f.questions()) {
		t.Fatalf("not back on the review:\n%s", allText(ob))
	}
	tap(t, ob, T("checklist.send"))
	got := topText(ob)
	for _, w := range []string{T("checklist.sent_title"), TN("checklist.flagged_count", 2),
		"A1 · Did the station open at 07:00? — No", "A2 · How many minutes late did it open? — 75"} {
		if !strings.Contains(got, w) {
			t.Fatalf("the confirmation lacks %q:\n%s", w, got)
		}
	}
	dismissAll(ob)
	if ob.checklist != nil {
		t.Fatal("the checklist is still open after sending")
	}
	forms, _ := ob.be.Forms()
	var opening incident.FormView
	for _, fv := range forms {
		if fv.Current && fv.Form.Name == "opening" {
			opening = fv
		}
	}
	if _, ok, err := ob.be.ChecklistDraft(opening.ID, st); ok || err != nil {
		t.Fatalf("the draft outlives the response (%v)", err)
	}
	if !strings.Contains(allText(ob), strings.Split(T("checklist.state_done", map[string]any{"Time": "X"}), "X")[0]) {
		t.Fatalf("the list does not show the checklist sent:\n%s", allText(ob))
	}

	// The coordinator reads it, flagged answers first, N/A as N/A.
	co := openScene(a, homes.Coordinator, false, fyne.NewSize(1280, 800))
	defer co.Close()
	before, err := co.be.Coverage(act.CoverageQuery{Level: CoverageLevel})
	if err != nil {
		t.Fatal(err)
	}
	carry(t, storeOf(ob), storeOf(co))
	list, err := co.be.Checklists(act.ChecklistQuery{Form: "opening", Station: st})
	if err != nil || len(list.Groups) != 1 {
		t.Fatalf("the coordinator's checklists at %s: %+v %v", st, list, err)
	}
	var mine act.ChecklistResponse
	for _, r := range list.Groups[0].Responses {
		if r.Author == ob.id.Author {
			mine = r
		}
	}
	if a := incident.Answers(mine.Answers); a["agents"] != incident.AnswerNA || a["staff"] != "6" || a["minutes_late"] != "75" ||
		strings.Join(mine.Flagged, " ") != "opened_on_time minutes_late" || mine.Misfit != "" {
		t.Fatalf("the response stored: %+v", mine)
	}
	co.refreshAll()
	co.wait()
	tap(t, co, T("checklists.button"))
	entry(t, co, T("checklists.search")).SetText(strings.ToLower(st))
	screen = allText(co)
	if !strings.Contains(screen, groupTitle(&list.Groups[0])) || !strings.Contains(screen, "Lapwing") {
		t.Fatalf("the search does not find %s:\n%s", st, screen)
	}
	tap(t, co, groupTitle(&list.Groups[0]))
	screen = allText(co)
	for _, w := range []string{"A8 · How many party agents were present?", T("checklist.na"), "🚩 No", "🚩 75"} {
		if !strings.Contains(screen, w) {
			t.Fatalf("the station's responses lack %q:\n%s", w, screen)
		}
	}
	if i, j := strings.Index(screen, "A2 · How many minutes late"), strings.Index(screen, "A3 · Were all essential"); i < 0 || j < 0 || i > j {
		t.Fatalf("flagged answers are not first:\n%s", screen)
	}

	co.pop()

	// Where two observers' counting checklists disagree (the practice
	// mission has one such station), the station comes first, and its
	// answers are side by side, the disagreeing questions marked.
	entry(t, co, T("checklists.search")).SetText("")
	all, err := co.be.Checklists(act.ChecklistQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var g act.ChecklistGroup
	for _, x := range all.Groups {
		if x.Disagree {
			g = x
		}
	}
	first, ok := find(co, func(tl *tile) bool { return true })
	if len(g.Responses) != 2 || !ok || first.text != groupTitle(&g) || first.icon != groupIcons[0] {
		t.Fatalf("the disagreement is not listed first: %+v\n%s", g, allText(co))
	}
	tap(t, co, groupTitle(&g))
	screen = screenLines(co)
	var sides []string
	for _, q := range g.Questions {
		if q.Question == "disputes" {
			for _, a := range q.Answers {
				sides = append(sides, shortWho(a)+"\n"+a.Value+"\n")
			}
		}
	}
	want = []string{"D2 · How many ballots were disputed?\n⚖ " + T("checklists.differ") + "\n" + strings.Join(sides, ""),
		"⚖ " + TN("checklists.disagree_count", 3), "D4 · Was the result sheet posted publicly at the station?"}
	for _, w := range want {
		if !strings.Contains(screen, w) {
			t.Fatalf("the station's answers side by side lack %q:\n%s", w, screen)
		}
	}
	co.popAll()

	// Coverage counts it: one more opening checklist received, and the
	// station no longer owes it (its later ones it still does).
	cov, err := co.be.Coverage(act.CoverageQuery{Level: CoverageLevel})
	if err != nil {
		t.Fatal(err)
	}
	if b, c := before.Total.Checklists[act.PhaseOpening], cov.Total.Checklists[act.PhaseOpening]; c.Received != b.Received+1 || c.Expected != b.Expected {
		t.Fatalf("opening checklists before %+v, after %+v", b, c)
	}
	var owed act.MissingChecklists
	for _, m := range cov.MissingChecklists {
		if m.Code == st {
			owed = m
		}
	}
	if len(owed.Missing[act.PhaseOpening]) != 0 || len(owed.Missing[act.PhaseVoting]) != 1 {
		t.Fatalf("%s still owes %+v", st, owed.Missing)
	}
	screen = allText(co)
	c := cov.Total.Checklists[cov.Phase]
	if w := "📋 " + T("cov.checklists", map[string]any{"N": c.Received, "Total": c.Expected, "Status": PhaseLabel(cov.Phase)}); !strings.Contains(screen, w) {
		t.Fatalf("the coverage panel lacks %q:\n%s", w, screen)
	}
	for _, u := range cov.Units {
		if u.Unit == owed.Unit {
			tap(t, co, fmt.Sprintf("%s — %d / %d", u.Unit, u.Heard[cov.Phase], u.Expected))
		}
	}
	tl, ok := find(co, func(tl *tile) bool { return strings.HasPrefix(tl.text, st+" · ") && tl.icon == "📋" })
	if !ok || strings.Contains(tl.sub, "Opening checklist") || !strings.Contains(tl.sub, "Voting checklist (midday)") ||
		!strings.Contains(allText(co), T("cov.missing_title")) {
		t.Fatalf("the missing checklists of %s:\n%s", owed.Unit, allText(co))
	}
}

// What the act layer refuses names the question, and the checklist opens
// on it saying why, in the user's words; a response that does not fit
// its form reads the same way on the coordinators' screens.
func TestChecklistRefusalNamesTheQuestion(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, _ := missionHomes(t)
	ui := newTestUI(t, a, coordHome, true, testPass)
	lo, hi := int64(0), int64(20)
	form := incident.FormPayload{Name: "opening", Title: "Opening checklist", Phase: incident.PhaseOpening, Questions: []incident.Question{
		{ID: "open", Code: "A1", Type: incident.QuestionSelectOne, Label: "Open on time?", Required: true,
			Choices: []incident.Choice{{Name: "yes", Label: "Yes"}, {Name: "no", Label: "No"}}},
		{ID: "staff", Code: "A2", Type: incident.QuestionInteger, Label: "Staff present", Min: &lo, Max: &hi},
	}}
	if _, err := storeOf(ui).Put(incident.KindForm, form); err != nil {
		t.Fatal(err)
	}
	forms, err := ui.be.Forms()
	if err != nil || len(forms) != 1 {
		t.Fatalf("forms: %+v %v", forms, err)
	}
	_, err = ui.be.SubmitChecklist(act.ChecklistRequest{Form: "opening", Station: "PS-0001",
		Answers: []incident.Answer{{Question: "open", Value: "yes"}, {Question: "staff", Value: "25"}}})
	if id, problem, ok := refusedQuestion(err); !ok || id != "staff" || problem != "25 is above the maximum 20" {
		t.Fatalf("the refusal %v reads as %q %q %v", err, id, problem, ok)
	}
	ui.openChecklist(forms[0], "PS-0001", nil)
	ui.checklist.showRefusal(err)
	f := onQuestion(t, ui, "staff")
	if want := "⚠ A2 · Staff present — " + problemText("25 is above the maximum 20"); f.problem.Text != want || !f.problem.Visible() {
		t.Fatalf("the refusal on its question: %q, want %q", f.problem.Text, want)
	}
	misfit := act.ChecklistResponse{Form: forms[0].ID, Misfit: "question staff: 25 is above the maximum 20"}
	if got := misfitText(misfit, formsByID(forms)); got != "A2 · Staff present — "+problemText("25 is above the maximum 20") {
		t.Fatalf("a misfit reads %q", got)
	}
	if got := misfitText(act.ChecklistResponse{Misfit: "this device holds no form x"}, formsByID(forms)); got != T("checklists.no_form") {
		t.Fatalf("a response to a form not held reads %q", got)
	}
}
