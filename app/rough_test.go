package app

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/vigil-mesh/vigil/app/internal/scene"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/xuri/excelize/v2"
)

// The rough edges of issue 20, one test each.

// An action's confirmation is a line over the screen, not a dialog to
// dismiss: it says what happened, blocks nothing and goes when tapped.
func TestConfirmationIsACompactLine(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	for _, phone := range []bool{true, false} {
		ui := newTestUI(t, a, joinedObserver(t, code), phone, testPass)
		tap(t, ui, CheckinLabel("opened"))
		if top := ui.win.Canvas().Overlays().Top(); top != nil {
			t.Fatalf("phone %v: a check-in opens a dialog:\n%s", phone, topText(ui))
		}
		want := T("home.checkin_saved", map[string]any{"Status": CheckinLabel("opened")})
		if got := toastText(ui); !strings.Contains(got, want) {
			t.Fatalf("phone %v: confirmation %q, want %q", phone, got, want)
		}
		if !strings.Contains(allText(ui), want) {
			t.Fatalf("phone %v: the confirmation is not on screen:\n%s", phone, allText(ui))
		}
		// Proportionate: one or two lines high, well under a fifth of the window.
		if h, wh := ui.toastBar.Size().Height, ui.win.Canvas().Size().Height; h <= 0 || h > wh/5 {
			t.Fatalf("phone %v: confirmation %v high in a %v window", phone, h, wh)
		}
		// The screen under it still works: a second check-in replaces it.
		tap(t, ui, CheckinLabel("closed"))
		if got := toastText(ui); !strings.Contains(got, CheckinLabel("closed")) {
			t.Fatalf("phone %v: second confirmation %q", phone, got)
		}
		test.Tap(ui.toastBar)
		if got := toastText(ui); got != "" {
			t.Fatalf("phone %v: tapped confirmation still shows %q", phone, got)
		}
		ui.Close()
	}
}

// coordWithReports is a coordinator's app holding reports an observer
// ("Amani") filed: a long title, and a short one the observer retracted.
func coordWithReports(t *testing.T, a fyne.App, phone bool) (*UI, incident.ID, incident.ID) {
	t.Helper()
	coordHome, code := missionHomes(t)
	ob, err := joinedObserver(t, code).Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	long, err := ob.Submit(incident.ReportPayload{Category: "polling.intimidation", Severity: 4,
		Title: longTitle, Station: "PS-0001", Occurred: 1_790_000_000_000}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := ob.Submit(incident.ReportPayload{Category: "polling.late_opening", Severity: 2,
		Title: "Late opening", Station: "PS-0002", Occurred: 1_790_000_100_000}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Retract(gone, "Wrong station"); err != nil {
		t.Fatal(err)
	}
	co := newTestUI(t, a, coordHome, phone, testPass)
	carry(t, ob.(*StoreBackend).Store(), storeOf(co))
	ob.Close()
	co.refreshAll()
	co.wait()
	return co, long, gone
}

const longTitle = "Men in uniform stopped voters at the gate and took their cards"

// tableTexts is the text the report table draws, cell by cell.
func tableTexts(ui *UI) []string {
	var out []string
	walk(ui.table.table, func(o fyne.CanvasObject) {
		if tx, ok := o.(*canvas.Text); ok && tx.Text != "" {
			out = append(out, tx.Text)
		}
	})
	return out
}

// The reports table shows whole times and titles (a long title on two
// lines), who filed each report, and a retracted report as retracted.
func TestReportsTableShowsWholeCellsObserverAndRetraction(t *testing.T) {
	a := test.NewTempApp(t)
	for _, phone := range []bool{false, true} {
		co, long, gone := coordWithReports(t, a, phone)
		co.selectTab(T("tab.reports"))
		co.wait()
		rt := co.table
		if len(rt.rows) != 2 {
			t.Fatalf("phone %v: %d rows", phone, len(rt.rows))
		}
		texts := tableTexts(co)
		drawn := strings.Join(texts, " ")
		for _, s := range texts {
			if strings.Contains(s, "…") {
				t.Errorf("phone %v: a cell is cut: %q (table draws %q)", phone, s, texts)
			}
		}
		for _, v := range rt.rows {
			if tm := co.timeText(occurredOf(&v)); !strings.Contains(drawn, tm) {
				t.Errorf("phone %v: time %q not drawn whole in %q", phone, tm, texts)
			}
		}
		for _, w := range strings.Fields(longTitle) {
			if !strings.Contains(drawn, w) {
				t.Errorf("phone %v: title word %q not drawn in %q", phone, w, texts)
			}
		}
		var hasObserver bool
		for i, c := range rt.cols {
			if c.key == "col.observer" {
				hasObserver = true
				for _, v := range rt.rows {
					if got := rt.cell(&v, c.key); got != "Amani" {
						t.Errorf("phone %v: observer of %s is %q", phone, v.ID, got)
					}
				}
				if !phone && !strings.Contains(drawn, "Amani") {
					t.Errorf("desktop: observer column (%d) not drawn: %q", i, texts)
				}
			}
		}
		if !hasObserver {
			t.Errorf("phone %v: no observer column", phone)
		}
		for _, v := range rt.rows {
			got := rt.cell(&v, "col.status")
			switch v.ID {
			case gone:
				if got != T("report.retracted") {
					t.Errorf("phone %v: retracted report's status %q", phone, got)
				}
			case long:
				if got != StatusLabel(incident.StatusUnreviewed) {
					t.Errorf("phone %v: open report's status %q", phone, got)
				}
			}
		}
		if !phone && !strings.Contains(drawn, T("report.retracted")) { // the phone's status column is off to the side
			t.Errorf("phone %v: 'retracted' not drawn: %q", phone, texts)
		}
		co.Close()
	}
}

// The review panel starts on the report's current verdict.
func TestReviewPanelPreselectsCurrentStatus(t *testing.T) {
	a := test.NewTempApp(t)
	co, long, _ := coordWithReports(t, a, false)
	radio := func() *widget.RadioGroup {
		r, ok := find(co, func(r *widget.RadioGroup) bool { return len(r.Options) == len(incident.ReviewStatuses) })
		if !ok {
			t.Fatalf("no review choice:\n%s", allText(co))
		}
		return r
	}
	co.showReport(long, nil)
	if got := radio().Selected; got != "" {
		t.Fatalf("an unreviewed report starts on %q", got)
	}
	for _, status := range []string{"verified", "rejected"} {
		radio().SetSelected(StatusLabel(status))
		tap(t, co, T("review.save"))
		co.popAll()
		co.showReport(long, nil)
		if got := radio().Selected; got != StatusLabel(status) {
			t.Fatalf("after %s the panel starts on %q", status, got)
		}
		pub, ok := find(co, func(c *widget.Check) bool { return c.Text == T("review.publish") })
		if !ok || pub.Disabled() != (status == "rejected") {
			t.Fatalf("after %s, publish box found %v, disabled %v", status, ok, ok && pub.Disabled())
		}
	}
}

// Check-in labels wrap between words, never inside one, on a narrow phone
// in every language.
func TestCheckinLabelsDoNotBreakWords(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	ui := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	t.Cleanup(func() { SetLanguage("en") })
	for _, l := range Languages {
		lang := l.Code
		SetLanguage(lang)
		ui.signedIn()
		// A phone's screen is as wide as it is, whatever the content's
		// minimum (a window on the desktop would grow to it): lay the
		// home out at the screen's width.
		for _, w := range []float32{400, 360, 320, 280, 240} {
			ui.observer.content.Resize(fyne.NewSize(w, 1600))
			for s, tl := range ui.observer.checkins {
				var label *widget.Label
				walk(tl, func(o fyne.CanvasObject) {
					if l, ok := o.(*widget.Label); ok && l.Text == CheckinLabel(s) {
						label = l
					}
				})
				if label == nil {
					t.Fatalf("%s: no label on the %s tile", lang, s)
				}
				room := label.Size().Width - 2*theme.InnerPadding()
				for _, word := range strings.Fields(label.Text) {
					ww := fyne.MeasureText(word, theme.TextSize(), label.TextStyle).Width
					if ww > room {
						t.Errorf("%s, %v wide: %q breaks inside %q (%.0f > %.0f)", lang, w, label.Text, word, ww, room)
					}
					// The tile asks for room for its longest word, so no
					// layout squeezes it narrower.
					if m := tl.MinSize().Width - 2*theme.InnerPadding() - 2*theme.Padding(); ww > m {
						t.Errorf("%s: the %q tile asks for %.0f, its word %q needs %.0f", lang, label.Text, m, word, ww)
					}
				}
			}
		}
	}
}

// A field's problem reads in the user's language, all of it, in every
// language the app has.
func TestValidationMessagesAreTranslated(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	ui := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	t.Cleanup(func() { SetLanguage("en") })
	// The errors as the form and the act layer return them.
	cases := []struct {
		err     error
		english string
	}{
		{&FieldProblem{"title", &incident.FieldError{Field: "title", Problem: "is required"}}, "is required"},
		{&incident.FieldError{Field: "title", Problem: "is 300 bytes, limit 200"}, "bytes, limit"},
		{&FieldProblem{"lon", errors.New("latitude and longitude go together")}, "go together"},
		{&FieldProblem{"lat", errors.New(`"abc" is not a number`)}, "is not a number"},
		{&incident.FieldError{Field: "lat", Problem: "is 95.000000, must be -90 to 90"}, "must be"},
		{&act.Error{Code: act.Invalid, Field: "reason", Msg: "reason: is required"}, "is required"},
		{&act.Error{Code: act.Invalid, Field: "attachments", Msg: "attachments: photo.jpg is 30000000 bytes, limit 25000000"}, "bytes, limit"},
		{&act.Error{Code: act.Invalid, Field: "attachments", Msg: "attachments: 9 files, limit 8"}, "files, limit"},
	}
	for _, l := range Languages {
		SetLanguage(l.Code)
		for _, c := range cases {
			got := errorText(c.err)
			if l.Code != "en" && strings.Contains(got, c.english) {
				t.Errorf("%s: %v reads %q", l.Code, c.err, got)
			}
			if strings.Contains(got, "{{") || strings.Contains(got, "<no value>") {
				t.Errorf("%s: %v renders %q", l.Code, c.err, got)
			}
		}
	}
	// On screen, as the form shows it.
	SetLanguage("fr")
	ui.showError(cases[0].err)
	top := topText(ui)
	if !strings.Contains(top, T("problem.required")) || strings.Contains(top, "is required") {
		t.Fatalf("fr: a missing title reads:\n%s", top)
	}
}

// "Use the station's location" is offered only where the registry has a
// station with a location.
func TestStationLocationNeedsARegistry(t *testing.T) {
	a := test.NewTempApp(t)
	// A mission without a registry.
	bare := testHome(t)
	be, err := bare.Create([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	if err := be.CreateMission("No registry", "HQ"); err != nil {
		t.Fatal(err)
	}
	bareCode, err := be.Invite(InviteRequest{Role: incident.RoleObserver, Label: "Amani"})
	if err != nil {
		t.Fatal(err)
	}
	be.Close()
	coordHome, code := missionHomes(t)
	for _, c := range []struct {
		code  string
		offer bool
	}{{bareCode, false}, {code, true}} {
		obs := joinedObserver(t, c.code)
		if c.offer { // the registry reaches the observer
			co, err := coordHome.Unlock([]byte(testPass))
			if err != nil {
				t.Fatal(err)
			}
			ob, err := obs.Unlock([]byte(testPass))
			if err != nil {
				t.Fatal(err)
			}
			carry(t, co.(*StoreBackend).Store(), ob.(*StoreBackend).Store())
			co.Close()
			ob.Close()
		}
		ui := newTestUI(t, a, obs, true, testPass)
		tap(t, ui, T("home.new_report"))
		tap(t, ui, FamilyLabel("polling"))
		tap(t, ui, CategoryLabelOf("polling.late_opening"))
		acc, ok := find(ui, func(a *widget.Accordion) bool {
			return len(a.Items) == 1 && strings.Contains(a.Items[0].Title, T("form.location_optional"))
		})
		if !ok {
			t.Fatalf("no location section:\n%s", allText(ui))
		}
		acc.Open(0)
		if got := strings.Contains(allText(ui), T("form.use_station_location")); got != c.offer {
			t.Errorf("registry %v: offers the station's location: %v", c.offer, got)
		}
		ui.form.close()
		ui.Close()
	}
}

// The revoke dialog tells apart two members with the same label.
func TestRevokeDialogTellsSameLabelsApart(t *testing.T) {
	ui, first, second := duplicateMission(t)
	var texts []string
	for _, k := range []incident.Author{first, second} {
		m := memberByAuthor(t, ui, k)
		if m.Label != "Amani" {
			t.Fatalf("member %s labelled %q", k, m.Label)
		}
		revokeDialog(ui, m)
		top := topText(ui)
		if !strings.Contains(top, k.Short()) || !strings.Contains(top, ui.timeText(m.Created)) {
			t.Errorf("the dialog for %s does not name its key or join time:\n%s", k, top)
		}
		texts = append(texts, top)
		dismissAll(ui)
	}
	if texts[0] == texts[1] {
		t.Fatalf("the two Amanis' dialogs read the same:\n%s", texts[0])
	}
}

// A coordinator's export names each report's observer (their member
// label) and carries the standing review's note, in CSV, JSONL and XLSX;
// a public export carries neither.
func TestExportCarriesObserverAndReviewNote(t *testing.T) {
	a := test.NewTempApp(t)
	co, long, _ := coordWithReports(t, a, false)
	const reviewNote = "Confirmed by phone with the presiding officer"
	if err := co.be.Review(act.Verdict{Report: long.String(), Status: "verified", Note: reviewNote}); err != nil {
		t.Fatal(err)
	}
	export := func(format string, public bool) []byte {
		var b bytes.Buffer
		if _, err := co.be.Export(ExportRequest{Format: format, Public: public}, &b, nil); err != nil {
			t.Fatalf("%s public=%v: %v", format, public, err)
		}
		return b.Bytes()
	}
	xlsxText := func(data []byte) string {
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var out strings.Builder
		for _, sh := range f.GetSheetList() {
			rows, _ := f.GetRows(sh)
			for _, r := range rows {
				out.WriteString(strings.Join(r, "\t") + "\n")
			}
		}
		return out.String()
	}
	for _, format := range []string{"csv", "jsonl", "xlsx"} {
		text := func(public bool) string {
			b := export(format, public)
			if format == "xlsx" {
				return xlsxText(b)
			}
			return string(b)
		}
		full := text(false)
		for _, want := range []string{"observer", "review_note", "Amani", reviewNote} {
			if !strings.Contains(full, want) {
				t.Errorf("%s export lacks %q", format, want)
			}
		}
		pub := text(true)
		if !strings.Contains(pub, "Men in uniform") && format != "xlsx" && !strings.Contains(pub, "polling.intimidation") {
			t.Errorf("%s: the public export lost the verified report:\n%s", format, pub)
		}
		for _, leak := range []string{"Amani", reviewNote} {
			if strings.Contains(pub, leak) {
				t.Errorf("%s: the public export carries %q", format, leak)
			}
		}
	}
}

// Two coordinators' concurrent verdicts are a choice to make: the review
// panel of a conflicted report picks neither (the practice mission has
// such reports).
func TestReviewPanelPicksNothingOnAConflict(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the practice mission")
	}
	a := test.NewTempApp(t)
	homes, err := scene.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	co := openScene(a, homes.Coordinator, false, fyne.NewSize(1280, 800))
	t.Cleanup(co.Close)
	co.selectTab(T("tab.reports"))
	co.wait()
	var conflicted []incident.ReportView
	for _, v := range co.table.all {
		if v.Conflict {
			conflicted = append(conflicted, v)
		}
	}
	if len(conflicted) == 0 {
		t.Fatal("the practice mission has no conflicted report")
	}
	for _, v := range conflicted {
		co.showReport(v.ID, nil)
		r, ok := find(co, func(r *widget.RadioGroup) bool { return len(r.Options) == len(incident.ReviewStatuses) })
		if !ok {
			t.Fatalf("no review choice for %s", v.ID)
		}
		if r.Selected != "" {
			t.Fatalf("conflicted report %s (status %s) starts on %q", v.ID, v.Status, r.Selected)
		}
		co.popAll()
	}
}
