package app

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
)

// button finds a button by its exact text, enabled or not.
func button(t *testing.T, ui *UI, text string) *widget.Button {
	t.Helper()
	b, ok := find(ui, func(b *widget.Button) bool { return b.Text == text })
	if !ok {
		t.Fatalf("no button %q on screen; screen shows:\n%s", text, allText(ui))
	}
	return b
}

// relatedOf lists the records of kind k that target id.
func relatedOf(t *testing.T, ui *UI, id incident.ID, k incident.Kind) []*incident.Signed {
	t.Helper()
	rel, err := storeOf(ui).Related(id)
	if err != nil {
		t.Fatal(err)
	}
	var out []*incident.Signed
	for _, r := range rel {
		if r.Kind == k {
			out = append(out, r)
		}
	}
	return out
}

func TestAmendAndRetractMyReport(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	ui := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	fillReport(t, ui, "polling", "polling.late_opening", SeverityLabel(2))
	mine, _ := ui.be.MyReports()
	id := mine[0].View.ID
	first := CategoryLabelOf("polling.late_opening")

	// The detail of my report offers amend and retract.
	tap(t, ui, first)
	tap(t, ui, T("amend.button"))
	f := ui.form
	if f == nil || f.amend == nil || f.amend.ID != id {
		t.Fatalf("amend form not open:\n%s", allText(ui))
	}
	// Prefilled with the current values, category first.
	if f.title.Text != first || f.desc.Text != "Seen at the gate" || f.station.Text != "PS-0001" || !f.severity[2].selected {
		t.Fatalf("form not prefilled: title %q desc %q station %q", f.title.Text, f.desc.Text, f.station.Text)
	}
	if strings.Contains(allText(ui), T("form.seal")) {
		t.Fatal("the amend form offers to change sealing")
	}
	// Change the category through the category-first steps, the severity
	// and the title.
	tap(t, ui, T("form.change_category"))
	tap(t, ui, FamilyLabel("polling"))
	tap(t, ui, CategoryLabelOf("polling.materials_missing"))
	tap(t, ui, SeverityLabel(4))
	ui.form.title.SetText("")
	test.Type(ui.form.title, "No ballots until 09:00")
	tap(t, ui, T("amend.save"))
	if top := toastText(ui); !strings.Contains(top, T("amend.saved")) {
		t.Fatalf("after amend, dialog shows %q", top)
	}
	dismissAll(ui)

	// The store keeps the signed amendment and the original.
	v, err := storeOf(ui).Report(id)
	if err != nil {
		t.Fatal(err)
	}
	if v.Amendments != 1 || v.Report.Severity != 4 || v.Report.Category != "polling.materials_missing" ||
		v.Report.Title != "No ballots until 09:00" || v.Report.Station != "PS-0001" || v.Report.Description != "Seen at the gate" {
		t.Fatalf("after amend: %+v", v)
	}
	// The mission seals by default, and an amendment is sealed as its
	// report is.
	amends := relatedOf(t, ui, id, incident.KindAmend)
	if len(amends) != 1 || amends[0].AuthorKey() != storeOf(ui).Author() || (len(amends[0].Sealed) != 0) != mine[0].View.Sealed {
		t.Fatalf("amend records: %+v (report sealed %v)", amends, mine[0].View.Sealed)
	}
	if orig, _ := ui.be.Versions(id); orig[id].Severity != 2 {
		t.Fatalf("original changed: %+v", orig[id])
	}
	// The detail shows the new values and a history with both records.
	screen := allText(ui)
	for _, want := range []string{"No ballots until 09:00", T("history.filed", map[string]any{"Who": T("report.you")}),
		T("history.amended", map[string]any{"Who": T("report.you")}),
		T("history.changed", map[string]any{"Fields": T("field.category") + ", " + T("field.severity") + ", " + T("field.title")})} {
		if !strings.Contains(screen, want) {
			t.Fatalf("detail lacks %q:\n%s", want, screen)
		}
	}
	// The list shows the new title.
	tap(t, ui, T("nav.back"))
	if screen := allText(ui); !strings.Contains(screen, "No ballots until 09:00") || strings.Contains(screen, first+"\n") {
		t.Fatalf("home list not updated:\n%s", screen)
	}

	// Unsaved changes of an amendment are kept, and Back returns to the
	// report.
	tap(t, ui, "No ballots until 09:00")
	tap(t, ui, T("amend.button"))
	ui.form.title.SetText("No ballots until 09:30")
	tap(t, ui, T("nav.back"))
	if ui.form != nil || !strings.Contains(allText(ui), T("amend.actions")) {
		t.Fatalf("back from the amend form did not return to the report:\n%s", allText(ui))
	}
	if b, _ := ui.be.Setting(AmendDraftSetting(id)); !strings.Contains(string(b), "09:30") {
		t.Fatalf("amend draft not kept: %q", b)
	}
	tap(t, ui, T("amend.button"))
	if ui.form.title.Text != "No ballots until 09:30" || !strings.Contains(allText(ui), T("amend.discard")) {
		t.Fatalf("amend draft not restored: %q", ui.form.title.Text)
	}
	tap(t, ui, T("nav.back"))

	// Retract: the reason is required; cancel stores nothing.
	tap(t, ui, T("retract.button"))
	if !button(t, ui, T("retract.confirm")).Disabled() {
		t.Fatal("retract possible without a reason")
	}
	tap(t, ui, T("action.cancel"))
	if n := len(relatedOf(t, ui, id, incident.KindRetract)); n != 0 {
		t.Fatalf("cancel stored %d retractions", n)
	}
	tap(t, ui, T("retract.button"))
	test.Type(entry(t, ui, T("retract.reason")), "   ")
	if !button(t, ui, T("retract.confirm")).Disabled() {
		t.Fatal("retract possible with a blank reason")
	}
	entry(t, ui, T("retract.reason")).SetText("")
	test.Type(entry(t, ui, T("retract.reason")), "Wrong station: this was PS-0002")
	tap(t, ui, T("retract.confirm"))
	if top := toastText(ui); !strings.Contains(top, T("retract.done")) {
		t.Fatalf("after retract, dialog shows %q", top)
	}
	dismissAll(ui)
	v, _ = storeOf(ui).Report(id)
	if !v.Retracted || v.RetractReason != "Wrong station: this was PS-0002" {
		t.Fatalf("after retract: %+v", v)
	}
	if b, _ := ui.be.Setting(AmendDraftSetting(id)); len(b) != 0 {
		t.Fatalf("a retracted report keeps an amend draft: %q", b)
	}
	screen = allText(ui)
	for _, want := range []string{T("report.retracted_explain"), "Wrong station: this was PS-0002",
		T("history.retracted", map[string]any{"Who": T("report.you")})} {
		if !strings.Contains(screen, want) {
			t.Fatalf("detail lacks %q:\n%s", want, screen)
		}
	}
	if _, ok := find(ui, func(b *widget.Button) bool { return b.Text == T("amend.button") || b.Text == T("retract.button") }); ok {
		t.Fatal("a retracted report still offers amend or retract")
	}
	// A retracted report cannot be amended through the backend either.
	if _, err := ui.be.Amend(id, v.Report, nil); err == nil {
		t.Fatal("amended a retracted report")
	}
	tap(t, ui, T("nav.back"))
	if !strings.Contains(allText(ui), T("report.retracted")) {
		t.Fatalf("home list does not mark the retraction:\n%s", allText(ui))
	}
}

// Amendments and retractions of a sealed report are sealed to the
// coordinators, as the CLI does; the observer still reads its own copy.
func TestAmendSealedReportStaysSealed(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	ui := newTestUI(t, a, joinedObserver(t, code), false, testPass)
	id, err := ui.be.Submit(incident.ReportPayload{Category: "polling.intimidation", Severity: 3,
		Title: "Men at the gate", Station: "PS-0001"}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	ui.showMyReport(id)
	tap(t, ui, T("amend.button"))
	if !strings.Contains(allText(ui), T("amend.sealed_note")) {
		t.Fatalf("amend form does not say the amendment is sealed:\n%s", allText(ui))
	}
	tap(t, ui, SeverityLabel(4))
	tap(t, ui, T("amend.save"))
	dismissAll(ui)
	amends := relatedOf(t, ui, id, incident.KindAmend)
	if len(amends) != 1 || len(amends[0].Sealed) == 0 {
		t.Fatalf("amend of a sealed report is not sealed: %+v", amends)
	}
	v, _ := storeOf(ui).Report(id)
	if !v.Sealed || !v.Opened || v.Report.Severity != 4 {
		t.Fatalf("observer's view after a sealed amend: %+v", v)
	}

	tap(t, ui, T("retract.button"))
	test.Type(entry(t, ui, T("retract.reason")), "Duplicate of my earlier report")
	tap(t, ui, T("retract.confirm"))
	dismissAll(ui)
	rets := relatedOf(t, ui, id, incident.KindRetract)
	if len(rets) != 1 || len(rets[0].Sealed) == 0 {
		t.Fatalf("retraction of a sealed report is not sealed: %+v", rets)
	}

	// The coordinator opens both.
	cb, err := coordHome.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	coord := cb.(*StoreBackend).Store()
	carry(t, storeOf(ui), coord)
	cv, err := coord.Report(id)
	if err != nil {
		t.Fatal(err)
	}
	if !cv.Opened || cv.Report.Severity != 4 || !cv.Retracted || cv.RetractReason != "Duplicate of my earlier report" {
		t.Fatalf("coordinator's view: %+v", cv)
	}
}

// Another device's report offers neither amend nor retract, and the
// backend refuses both.
func TestCannotAmendOthersReports(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obs := newTestUI(t, a, joinedObserver(t, code), false, testPass)
	id, err := obs.be.Submit(incident.ReportPayload{Category: "polling.closure", Severity: 2, Title: "Closed at noon"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	co := newTestUI(t, a, coordHome, false, testPass)
	carry(t, storeOf(obs), storeOf(co))
	co.showReport(id, nil)
	if _, ok := find(co, func(b *widget.Button) bool { return b.Text == T("amend.button") || b.Text == T("retract.button") }); ok {
		t.Fatalf("a coordinator may amend an observer's report:\n%s", allText(co))
	}
	v, _ := co.be.Report(id)
	if _, err := co.be.Amend(id, v.Report, nil); !errors.Is(err, ErrNotMine) {
		t.Fatalf("amend of another's report: %v", err)
	}
	if _, err := co.be.Retract(id, "no"); !errors.Is(err, ErrNotMine) {
		t.Fatalf("retract of another's report: %v", err)
	}
	if _, err := obs.be.Retract(id, ""); err == nil {
		t.Fatal("retract without a reason accepted")
	}
}

// A second retraction through the app writes nothing and succeeds with
// the retraction in force, as the command line's does.
func TestRetractTwiceWritesNothing(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	obs := newTestUI(t, a, joinedObserver(t, code), false, testPass)
	id, err := obs.be.Submit(incident.ReportPayload{Category: "polling.closure", Severity: 2, Title: "Closed at noon"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	first, err := obs.be.Retract(id, "wrong station")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := storeOf(obs).Counts()
	again, err := obs.be.Retract(id, "again")
	if err != nil || again != first {
		t.Fatalf("second retract: %v, %v; want the first retraction %v", again, err, first)
	}
	if after, _ := storeOf(obs).Counts(); after[incident.KindRetract] != before[incident.KindRetract] {
		t.Errorf("second retract stored a record: %d retractions, before %d", after[incident.KindRetract], before[incident.KindRetract])
	}
}
