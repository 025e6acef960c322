package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
)

func init() { SetLanguage("en") }

// joinedObserver makes an observer home that has joined code's mission,
// closed again.
func joinedObserver(t *testing.T, code string) *Home {
	t.Helper()
	h := testHome(t)
	be, err := h.Create([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := be.Join(code); err != nil {
		t.Fatal(err)
	}
	if err := be.SetSetting("station", []byte("PS-0001")); err != nil {
		t.Fatal(err)
	}
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	return h
}

// fillReport walks the category-first form for one category and saves.
func fillReport(t *testing.T, ui *UI, family, category, severity string) {
	t.Helper()
	tap(t, ui, T("home.new_report"))
	tap(t, ui, FamilyLabel(family))
	if category != "other" {
		tap(t, ui, CategoryLabelOf(category))
	}
	if ui.form == nil || ui.form.d.Category != category {
		t.Fatalf("form category = %+v, want %s", ui.form, category)
	}
	tap(t, ui, severity)
	test.Type(ui.form.desc, "Seen at the gate")
	if family == "disinformation" {
		ch, ok := find(ui, func(s *widget.Select) bool { return s.PlaceHolder == T("form.pick_channel") })
		if !ok {
			t.Fatal("no channel picker on a disinformation report")
		}
		ch.SetSelectedIndex(0)
		harm, ok := find(ui, func(r *widget.RadioGroup) bool { return len(r.Options) == 4 })
		if !ok {
			t.Fatal("no harm levels on a disinformation report")
		}
		harm.SetSelected(HarmLabel("high"))
		test.Type(ui.form.source, "+000 555 0101")
	} else if ui.form.source != nil {
		t.Fatalf("%s report shows disinformation fields", category)
	}
	tap(t, ui, T("form.save"))
	if top := toastText(ui); !strings.Contains(top, "Report saved") {
		t.Fatalf("after save, dialog shows %q; screen:\n%s", top, allText(ui))
	}
	dismissAll(ui)
}

func TestObserverFirstRunAndReportsPerFamily(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	h := testHome(t)
	ui := newTestUI(t, a, h, true, "")

	// First run: choose a passphrase.
	if !strings.Contains(allText(ui), T("welcome.choose")) {
		t.Fatalf("first screen is not the welcome screen:\n%s", allText(ui))
	}
	test.Type(entry(t, ui, T("welcome.passphrase")), testPass)
	test.Type(entry(t, ui, T("welcome.again")), testPass+"x")
	tap(t, ui, T("welcome.create"))
	if !strings.Contains(topText(ui), T("welcome.differ")) {
		t.Fatalf("differing passphrases: dialog %q", topText(ui))
	}
	dismissAll(ui)
	if store.Initialised(h.Dir) {
		t.Fatal("a store was created with differing passphrases")
	}
	entry(t, ui, T("welcome.again")).SetText(testPass)
	tap(t, ui, T("welcome.create"))
	if ui.be == nil {
		t.Fatalf("no store after create; screen:\n%s", allText(ui))
	}

	// Join: a bad code first, then the real one.
	codeEntry := entry(t, ui, T("join.placeholder"))
	test.Type(codeEntry, code[:len(code)/2])
	tap(t, ui, T("join.button"))
	if !strings.Contains(topText(ui), T("err.bad_invite")) {
		t.Fatalf("truncated code: dialog %q", topText(ui))
	}
	dismissAll(ui)
	codeEntry.SetText(code)
	tap(t, ui, T("join.button"))
	dismissAll(ui)

	// Station: the observer's store has no registry yet; type the code.
	test.Type(entry(t, ui, T("station.code")), "PS-0001")
	tap(t, ui, T("station.use"))
	if got := ui.station(); got != "PS-0001" {
		t.Fatalf("station = %q", got)
	}
	if ui.observer == nil {
		t.Fatalf("not on the observer's home:\n%s", allText(ui))
	}

	// One report per family, each listed with its delivery status.
	for _, c := range []struct{ family, category string }{
		{"polling", "polling.late_opening"},
		{"registration", "registration.name_missing"},
		{"infrastructure", "infrastructure.power_outage"},
		{"disinformation", "disinformation.false_voting_info"},
		{"other", "other"},
	} {
		fillReport(t, ui, c.family, c.category, SeverityLabel(3))
		screen := allText(ui)
		if !strings.Contains(screen, CategoryLabelOf(c.category)) {
			t.Fatalf("%s: report not listed:\n%s", c.category, screen)
		}
	}
	mine, err := ui.be.MyReports()
	if err != nil || len(mine) != 5 {
		t.Fatalf("my reports: %d, %v", len(mine), err)
	}
	for _, r := range mine {
		if r.View.Report.Station != "PS-0001" || r.View.Report.Severity != 3 {
			t.Errorf("report %s: station %q severity %d", r.View.Report.Category, r.View.Report.Station, r.View.Report.Severity)
		}
		if r.View.Report.Category == "disinformation.false_voting_info" &&
			(r.View.Report.Channel != "whatsapp" || r.View.Report.Harm != "high" || r.View.Report.Source == "") {
			t.Errorf("disinformation fields lost: %+v", r.View.Report)
		}
	}
	if n := countTiles(ui, T("delivery.local")); n != 5 {
		t.Fatalf("%d reports say %q, want 5:\n%s", n, T("delivery.local"), allText(ui))
	}

	// A peer confirms one report; a coordinator's receipt covers another.
	obs := storeOf(ui)
	if err := obs.MarkHeld("peer-a", []incident.ID{mine[0].View.ID}, 1); err != nil {
		t.Fatal(err)
	}
	cb, err := coordHome.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	coord := cb.(*StoreBackend).Store()
	carry(t, obs, coord)
	if _, err := coord.Put(incident.KindReceipt, incident.ReceiptPayload{IDs: [][]byte{mine[1].View.ID.Bytes()}}); err != nil {
		t.Fatal(err)
	}
	carry(t, coord, obs)
	ui.refreshAll()
	ui.wait()
	screen := allText(ui)
	for _, want := range []string{TN("delivery.sent", 1), T("delivery.coordinator"), T("delivery.local")} {
		if !strings.Contains(screen, want) {
			t.Errorf("home does not show %q:\n%s", want, screen)
		}
	}
}

func TestDraftSurvivesClosingAndReopening(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	h := joinedObserver(t, code)

	ui := newTestUI(t, a, h, true, testPass)
	tap(t, ui, T("home.new_report"))
	tap(t, ui, FamilyLabel("polling"))
	tap(t, ui, CategoryLabelOf("polling.materials_missing"))
	tap(t, ui, SeverityLabel(4))
	test.Type(ui.form.desc, "No ink and no seals at 06:50")
	// Saved as you type: the draft reaches the store without any close.
	waitFor(t, "draft saved", func() bool {
		b, _ := ui.be.Setting(DraftSetting)
		return strings.Contains(string(b), "No ink")
	})
	ui.Close()

	ui2 := newTestUI(t, a, h, true, testPass)
	tap(t, ui2, T("home.new_report"))
	if ui2.form == nil || ui2.form.desc == nil {
		t.Fatalf("form did not open on the draft:\n%s", allText(ui2))
	}
	if got := ui2.form.desc.Text; got != "No ink and no seals at 06:50" {
		t.Fatalf("restored description %q", got)
	}
	if ui2.form.d.Category != "polling.materials_missing" || !ui2.form.severity[4].selected {
		t.Fatalf("restored draft %+v", ui2.form.d)
	}
	if !strings.Contains(allText(ui2), "Your draft from") {
		t.Fatalf("no restored-draft note:\n%s", allText(ui2))
	}
	tap(t, ui2, T("form.save"))
	dismissAll(ui2)
	if b, _ := ui2.be.Setting(DraftSetting); len(DecodeDraft(b).Category) != 0 {
		t.Fatalf("draft kept after saving: %s", b)
	}
	mine, _ := ui2.be.MyReports()
	if len(mine) != 1 || mine[0].View.Report.Description != "No ink and no seals at 06:50" {
		t.Fatalf("saved reports %+v", mine)
	}
}

func TestCheckinAndAlertReachTheDashboard(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obsHome := joinedObserver(t, code)

	obs := newTestUI(t, a, obsHome, true, testPass)
	tap(t, obs, CheckinLabel("opened"))
	if !strings.Contains(toastText(obs), "Check-in saved") {
		t.Fatalf("check-in: confirmation %q", toastText(obs))
	}
	dismissAll(obs)
	tap(t, obs, T("home.alert"))
	if !strings.Contains(topText(obs), T("alert.explain")) {
		t.Fatalf("alert asks no confirmation: %q", topText(obs))
	}
	test.Type(entry(t, obs, T("alert.note")), "Men with sticks at the gate")
	tap(t, obs, T("alert.send"))
	dismissAll(obs)

	coord := newTestUI(t, a, coordHome, false, testPass)
	if coord.dash == nil {
		t.Fatalf("coordinator is not on the dashboard:\n%s", allText(coord))
	}
	if n := len(coord.dash.last.Alerts); n != 0 {
		t.Fatalf("%d alerts before sync", n)
	}
	carry(t, storeOf(obs), storeOf(coord))
	coord.refreshAll()
	coord.wait()
	d := coord.dash.last
	if len(d.Alerts) != 1 || d.Alerts[0].Note != "Men with sticks at the gate" || d.Alerts[0].Label != "Amani" {
		t.Fatalf("alerts %+v", d.Alerts)
	}
	screen := allText(coord)
	if !strings.Contains(screen, "Men with sticks at the gate") || !strings.Contains(screen, "Amani") {
		t.Fatalf("dashboard does not show the alert:\n%s", screen)
	}
	// The alert comes before every count on the dashboard.
	if strings.Index(screen, "Men with sticks") > strings.Index(screen, T("dash.by_family")) {
		t.Fatalf("alert is not first:\n%s", screen)
	}
	// The observer checked in: not silent; their station neither.
	for _, s := range append(d.SilentObservers, d.SilentStations...) {
		t.Errorf("silent after a check-in: %+v", s)
	}
	acts, _ := coord.be.Activity()
	var checkin *Activity
	for i := range acts {
		if acts[i].Kind == incident.KindCheckin {
			checkin = &acts[i]
		}
	}
	if checkin == nil || checkin.Status != "opened" || checkin.Station != "PS-0001" {
		t.Fatalf("check-in did not arrive: %+v", acts)
	}
}

func TestCoordinatorReviewChangesCounts(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obsHome := joinedObserver(t, code)
	ob, err := obsHome.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	p := incident.ReportPayload{Category: "polling.vote_buying", Severity: 3, Title: "Cash at the queue",
		Station: "PS-0002", Occurred: 1_790_000_000_000, Lat: incident.Micro(-1.3), Lon: incident.Micro(36.84)}
	id, err := ob.Submit(p, nil, false)
	if err != nil {
		t.Fatal(err)
	}

	coord := newTestUI(t, a, coordHome, false, testPass)
	carry(t, ob.(*StoreBackend).Store(), storeOf(coord))
	ob.Close()
	coord.refreshAll()
	coord.wait()
	before := coord.dash.last
	if before.Total != 1 || before.Unreviewed != 1 || len(before.Points) != 1 {
		t.Fatalf("before review: %+v", before)
	}

	// The table lists it; selecting the row opens the detail.
	coord.selectTab(T("tab.reports"))
	coord.wait()
	if len(coord.table.rows) != 1 {
		t.Fatalf("table rows %d", len(coord.table.rows))
	}
	coord.table.table.Select(widget.TableCellID{Row: 0, Col: 3})
	screen := allText(coord)
	if !strings.Contains(screen, "Cash at the queue") || !strings.Contains(screen, T("report.history")) {
		t.Fatalf("detail view:\n%s", screen)
	}
	radio, ok := find(coord, func(r *widget.RadioGroup) bool { return len(r.Options) == len(incident.ReviewStatuses) })
	if !ok {
		t.Fatal("no review choices")
	}
	radio.SetSelected(StatusLabel("verified"))
	test.Type(entry(t, coord, T("review.note")), "Confirmed by phone with the station chair")
	tap(t, coord, T("review.save"))
	dismissAll(coord)
	if !strings.Contains(allText(coord), "reviewed by") || !strings.Contains(allText(coord), "Confirmed by phone") {
		t.Fatalf("history lacks the review:\n%s", allText(coord))
	}
	v, _ := coord.be.Report(id)
	if v.Status != "verified" {
		t.Fatalf("status %q", v.Status)
	}
	tap(t, coord, T("nav.back"))
	coord.selectTab(T("tab.dashboard"))
	coord.wait()
	after := coord.dash.last
	if after.Unreviewed != 0 {
		t.Fatalf("unreviewed after review: %d", after.Unreviewed)
	}
	got := map[string]int{}
	for _, c := range after.ByStatus {
		got[c.Key] = c.N
	}
	if got["verified"] != 1 || got[incident.StatusUnreviewed] != 0 {
		t.Fatalf("status counts after review: %v", after.ByStatus)
	}

	// Rejecting it takes it out of the incident counts.
	if err := coord.be.Review(act.Verdict{Report: id.String(), Status: "rejected", Note: "staged"}); err != nil {
		t.Fatal(err)
	}
	coord.refreshAll()
	coord.wait()
	if d := coord.dash.last; d.Total != 0 || d.Rejected != 1 || len(d.ByCategory) != 0 {
		t.Fatalf("after rejection: total %d rejected %d categories %v", d.Total, d.Rejected, d.ByCategory)
	}
}

func TestWrongPassphraseShowsErrorAndChangesNothing(t *testing.T) {
	a := test.NewTempApp(t)
	h, _ := missionHomes(t)
	keyFile := filepath.Join(h.Dir, "key.json")
	before, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ui := newTestUI(t, a, h, false, "")
	test.Type(entry(t, ui, T("unlock.passphrase")), "not the passphrase")
	tap(t, ui, T("unlock.button"))
	if !strings.Contains(topText(ui), T("err.wrong_passphrase")) {
		t.Fatalf("wrong passphrase: dialog %q", topText(ui))
	}
	if ui.be != nil {
		t.Fatal("unlocked with a wrong passphrase")
	}
	after, _ := os.ReadFile(keyFile)
	if !bytes.Equal(before, after) {
		t.Fatal("the key file changed")
	}
	dismissAll(ui)
	test.Type(entry(t, ui, T("unlock.passphrase")), testPass)
	tap(t, ui, T("unlock.button"))
	if ui.be == nil || ui.dash == nil {
		t.Fatalf("right passphrase did not open the dashboard:\n%s", allText(ui))
	}
}

func TestBadInviteCodeShowsErrorAndChangesNothing(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	h := testHome(t)
	be, err := h.Create([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	be.Close()
	ui := newTestUI(t, a, h, true, testPass)
	counts := func() map[incident.Kind]int {
		c, err := storeOf(ui).Counts()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, bad := range []string{"HELLO-THIS-IS-NOT-AN-INVITE", code[:len(code)-3] + "AAA", strings.ToLower(code[:20])} {
		e := entry(t, ui, T("join.placeholder"))
		e.SetText(bad)
		tap(t, ui, T("join.button"))
		if !strings.Contains(topText(ui), T("err.bad_invite")) {
			t.Fatalf("code %q: dialog %q", bad, topText(ui))
		}
		dismissAll(ui)
		id, _ := ui.be.Identity()
		if id.HasMission {
			t.Fatalf("code %q: joined a mission", bad)
		}
		for k, n := range counts() {
			if n != 0 {
				t.Fatalf("code %q: %d %s records stored", bad, n, k)
			}
		}
	}
}

func TestPanicWipeAfterConfirmation(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	h := joinedObserver(t, code)
	ui := newTestUI(t, a, h, true, testPass)
	wiped := false
	ui.opts.OnWiped = func() { wiped = true }
	ui.selectTab(T("tab.settings"))
	ui.wait()
	tap(t, ui, T("wipe.button"))
	if !strings.Contains(topText(ui), T("wipe.confirm_message")) {
		t.Fatalf("wipe asks no confirmation: %q", topText(ui))
	}
	tap(t, ui, T("action.cancel"))
	if !store.Initialised(h.Dir) || store.Wiped(h.Dir) {
		t.Fatal("cancel wiped the store")
	}
	tap(t, ui, T("wipe.button"))
	tap(t, ui, T("wipe.confirm_button"))
	if !wiped || store.Initialised(h.Dir) {
		t.Fatalf("not wiped (callback %v, key left %v)", wiped, store.Initialised(h.Dir))
	}
	if _, err := store.Open(h.Dir, []byte(testPass), h.Store); err == nil {
		t.Fatal("the wiped store still opens")
	}
	if _, err := os.Stat(store.DataDir(h.Dir)); !os.IsNotExist(err) {
		t.Fatalf("data folder left behind: %v", err)
	}
	if !strings.Contains(allText(ui), T("welcome.choose")) {
		t.Fatalf("after wipe the app does not start over:\n%s", allText(ui))
	}
}

func TestMembersInviteAndRevoke(t *testing.T) {
	a := test.NewTempApp(t)
	h, code := missionHomes(t)
	obsHome := joinedObserver(t, code)
	ob, _ := obsHome.Unlock([]byte(testPass))
	ui := newTestUI(t, a, h, false, testPass)
	carry(t, ob.(*StoreBackend).Store(), storeOf(ui))
	ob.Close()
	ui.selectTab(T("tab.members"))
	ui.wait()
	if !strings.Contains(allText(ui), "Amani") {
		t.Fatalf("members do not list the observer:\n%s", allText(ui))
	}
	test.Type(entry(t, ui, T("invite.label")), "Bisi")
	tap(t, ui, T("invite.create"))
	codeEntry, ok := find(ui, func(e *widget.Entry) bool { return e.MultiLine && len(e.Text) > 100 })
	if !ok {
		t.Fatalf("no invite code shown:\n%s", topText(ui))
	}
	if _, err := incident.DecodeInvite(codeEntry.Text); err != nil {
		t.Fatalf("shown code does not decode: %v", err)
	}
	dismissAll(ui)

	tap(t, ui, T("members.revoke"))
	test.Type(entry(t, ui, T("members.reason")), "phone seized")
	tap(t, ui, T("members.revoke"))
	ms, _ := ui.be.Members()
	revoked := 0
	for _, m := range ms {
		if m.Revoked {
			revoked++
		}
	}
	if revoked != 1 {
		t.Fatalf("%d members revoked, want 1", revoked)
	}
}

func TestExportEveryFormat(t *testing.T) {
	a := test.NewTempApp(t)
	h, _ := missionHomes(t)
	ui := newTestUI(t, a, h, false, testPass)
	for _, s := range []string{"PS-0001", "PS-0002"} {
		id, err := ui.be.Submit(incident.ReportPayload{Category: "polling.closure", Severity: 2, Title: "Shut at " + s,
			Station: s, Occurred: 1_790_000_000_000, Lat: incident.Micro(-1.3), Lon: incident.Micro(36.8)}, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		// Verified, so that public exports publish them too.
		if err := ui.be.Review(act.Verdict{Report: id.String(), Status: "verified"}); err != nil {
			t.Fatal(err)
		}
	}
	var reqs []ExportRequest
	for _, f := range ExportFormats {
		reqs = append(reqs, ExportRequest{Format: f})
		if f != "evidence" {
			reqs = append(reqs, ExportRequest{Format: f, Public: true})
		}
	}
	reqs = append(reqs, ExportRequest{Format: "csv", HXL: true})
	for _, req := range reqs {
		var buf closingBuffer
		var n int
		var gotErr error
		var progressed bool
		ui.exportTo(req, &buf, func(d, total int) { progressed = true }, func(k int, err error) { n, gotErr = k, err })
		ui.wait()
		if gotErr != nil || n != 2 || !buf.closed || !progressed {
			t.Fatalf("%+v: n=%d err=%v closed=%v progress=%v", req, n, gotErr, buf.closed, progressed)
		}
		out := buf.String()
		switch req.Format {
		case "csv", "jsonl", "geojson":
			// A public export publishes no free text.
			if !strings.Contains(out, "polling.closure") || strings.Contains(out, "Shut at PS-0002") == req.Public {
				t.Fatalf("%+v export lacks a report, or has the title = %v:\n%s", req, req.Public, out)
			}
			if req.Public == strings.Contains(out, storeOf(ui).Author().String()) {
				t.Fatalf("%+v: author key present = %v", req, !req.Public)
			}
		case "xlsx", "evidence":
			if !strings.HasPrefix(out, "PK") {
				t.Fatalf("%+v: not a ZIP container", req)
			}
		case "pdf":
			if !strings.HasPrefix(out, "%PDF") {
				t.Fatalf("%+v: not a PDF", req)
			}
		}
		if req.HXL && !strings.Contains(out, "#event+type+code") {
			t.Fatalf("HXL row missing")
		}
		if req.Format == "evidence" || (req.Format == "jsonl" && !req.Public) {
			rep, err := export.Verify(bytes.NewReader(buf.Bytes()), nil)
			if err != nil || rep.Bad() != 0 {
				t.Fatalf("%s export does not verify: %v %+v", req.Format, err, rep)
			}
		}
	}
	// What the CLI refuses, the app refuses too.
	for _, bad := range []ExportRequest{{Format: "evidence", Public: true}, {Format: "pdf", HXL: true}, {Format: "docx"}} {
		if _, err := ui.be.Export(bad, &closingBuffer{}, nil); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

type closingBuffer struct {
	bytes.Buffer
	closed bool
}

func (c *closingBuffer) Close() error { c.closed = true; return nil }

// countTiles counts the tiles whose text mentions s.
func countTiles(ui *UI, s string) int {
	n := 0
	for _, r := range roots(ui) {
		walk(r, func(o fyne.CanvasObject) {
			if t, ok := o.(*tile); ok && strings.Contains(t.text+"\n"+t.sub, s) {
				n++
			}
		})
	}
	return n
}

type recordingLifecycle struct{ calls []string }

func (r *recordingLifecycle) Background() { r.calls = append(r.calls, "background") }
func (r *recordingLifecycle) Foreground() { r.calls = append(r.calls, "foreground") }

// Going to the background saves the draft at once (the phone may kill the
// app there) and pauses the mesh; coming back resumes it.
func TestLifecycleSavesDraftAndPausesMesh(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	h := joinedObserver(t, code)
	lc := &recordingLifecycle{}
	ui := New(a, h, Options{Phone: true, RefreshEvery: -1, Lifecycle: lc, Passphrase: []byte(testPass), inline: true})
	ui.wait()
	t.Cleanup(ui.Close)
	tap(t, ui, T("home.new_report"))
	tap(t, ui, FamilyLabel("registration"))
	tap(t, ui, CategoryLabelOf("registration.wrong_station"))
	ui.form.desc.SetText("Sent to PS-0009 though registered here")
	hooks := a.Lifecycle().(interface {
		OnExitedForeground() func()
		OnEnteredForeground() func()
	})
	hooks.OnExitedForeground()()
	// No waiting: the save happened before the hook returned.
	if b, _ := ui.be.Setting(DraftSetting); !strings.Contains(string(b), "PS-0009") {
		t.Fatalf("draft not saved on going to the background: %s", b)
	}
	hooks.OnEnteredForeground()()
	if strings.Join(lc.calls, ",") != "background,foreground" {
		t.Fatalf("lifecycle calls %v", lc.calls)
	}
}

// In a mission that seals by default the form seals the report; the
// observer still reads their kept copy, the coordinator reads and reviews
// it (the review sealed too), and carriers see only ciphertext.
func TestSealedReportsFromTheForm(t *testing.T) {
	a := test.NewTempApp(t)
	ch := testHome(t)
	st, err := store.Init(ch.Dir, []byte(testPass), ch.Store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateMission("Sealed mission", "HQ", true); err != nil {
		t.Fatal(err)
	}
	code, err := st.Invite(store.InviteRequest{Role: incident.RoleObserver, Label: "Amani"})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	oh := joinedObserver(t, code)
	ui := newTestUI(t, a, oh, true, testPass)
	tap(t, ui, T("home.new_report"))
	tap(t, ui, FamilyLabel("polling"))
	tap(t, ui, CategoryLabelOf("polling.secrecy_breach"))
	if !ui.form.d.Sealed {
		t.Fatal("the form does not seal in a mission that seals by default")
	}
	tap(t, ui, SeverityLabel(2))
	tap(t, ui, T("form.save"))
	dismissAll(ui)
	mine, _ := ui.be.MyReports()
	if len(mine) != 1 || !mine[0].View.Sealed || !Readable(&mine[0].View) || mine[0].View.Report.Category != "polling.secrecy_breach" {
		t.Fatalf("my sealed report: %+v", mine)
	}
	raw, _ := storeOf(ui).Get(mine[0].View.ID)
	if len(raw.Sealed) == 0 {
		t.Fatal("the stored record is not sealed")
	}
	coord := newTestUI(t, a, ch, false, testPass)
	carry(t, storeOf(ui), storeOf(coord))
	coord.refreshAll()
	coord.wait()
	if err := coord.be.Review(act.Verdict{Report: mine[0].View.ID.String(), Status: "verified", Note: "seen"}); err != nil {
		t.Fatal(err)
	}
	v, _ := coord.be.Report(mine[0].View.ID)
	if !Readable(&v) || v.Status != "verified" {
		t.Fatalf("coordinator's view %+v", v)
	}
	for _, e := range v.History {
		if e.Kind == incident.KindReview {
			r, _ := storeOf(coord).Get(e.ID)
			if len(r.Sealed) == 0 {
				t.Fatal("the review of a sealed report is in the clear")
			}
		}
	}
}

// A file attached through the form is kept in the store and goes with
// the report; a station changed on the form becomes the observer's.
func TestAttachmentAndStationSwitch(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	h := joinedObserver(t, code)
	ui := newTestUI(t, a, h, true, testPass)
	tap(t, ui, T("home.new_report"))
	tap(t, ui, FamilyLabel("infrastructure"))
	tap(t, ui, CategoryLabelOf("infrastructure.voting_machine_failure"))
	tap(t, ui, SeverityLabel(3))
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0}, 1000)
	ui.form.attachData("kit.jpg", photo)
	if !strings.Contains(allText(ui), "kit.jpg") {
		t.Fatalf("attachment not listed:\n%s", allText(ui))
	}
	ui.form.attachData("huge.bin", make([]byte, incident.MaxAttachmentSize+1))
	if !strings.Contains(topText(ui), "huge.bin") {
		t.Fatalf("oversized file: dialog %q", topText(ui))
	}
	dismissAll(ui)
	ui.form.station.SetText("PS-0002")
	tap(t, ui, T("form.save"))
	dismissAll(ui)
	mine, _ := ui.be.MyReports()
	if len(mine) != 1 || len(mine[0].View.Report.Attachments) != 1 || mine[0].View.Report.Station != "PS-0002" {
		t.Fatalf("report %+v", mine)
	}
	// The mission seals by default: the store holds the photo's
	// ciphertext, opened with the key the sealed report carries.
	r := &mine[0].View.Report
	files := ui.be.Files(r)
	if len(files) != 1 || !files[0].Sealed || files[0].Name != "kit.jpg" {
		t.Fatalf("files %+v", files)
	}
	if got, err := ui.be.FileContent(r, files[0]); err != nil || !bytes.Equal(got, photo) {
		t.Fatalf("attachment content: %v", err)
	}
	if ui.station() != "PS-0002" {
		t.Fatalf("station %q after reporting from PS-0002", ui.station())
	}
	if !strings.Contains(allText(ui), T("home.station", map[string]any{"Code": "PS-0002"})) {
		t.Fatalf("home does not show the new station:\n%s", allText(ui))
	}
}
