package app

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/daemon"
)

// The check: an alert raised with the observer's alert button
// reaches the coordinator over a real mesh on loopback, is acknowledged
// through the dashboard's alert detail, and the observer's home then
// shows who acknowledged it and their note.
func TestAlertAcknowledgedOverTheMesh(t *testing.T) {
	if testing.Short() {
		t.Skip("starts libp2p hosts")
	}
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obsHome := joinedObserver(t, code)
	loopback := daemon.Options{NoMDNS: true, Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}, Interval: time.Second}
	for _, h := range []*Home{coordHome, obsHome} {
		h.NoNetwork, h.Daemon = false, loopback
	}
	coord := newTestUI(t, a, coordHome, false, testPass)
	obs := newTestUI(t, a, obsHome, true, testPass)
	cn, on := coord.be.Network(), obs.be.Network()
	if cn == nil || on == nil {
		t.Fatal("the mesh did not start")
	}
	if err := on.Connect(cn.Addresses()[0]); err != nil {
		t.Fatal(err)
	}
	waitLong(t, "both sides admitted", func() bool { return len(on.Peers()) == 1 && len(cn.Peers()) == 1 })

	// The observer presses the alert button and confirms.
	if strings.Contains(allText(obs), T("home.my_alerts")) {
		t.Fatalf("alerts listed before any was raised:\n%s", allText(obs))
	}
	tap(t, obs, T("home.alert"))
	test.Type(entry(t, obs, T("alert.note")), "Men with sticks at the gate")
	tap(t, obs, T("alert.send"))
	if toastText(obs) != "✅  "+T("alert.sent") {
		t.Fatalf("alert: confirmation %q", toastText(obs))
	}
	// It leaves a trace on the home: the alert, waiting for an answer.
	screen := allText(obs)
	for _, want := range []string{T("home.my_alerts"), "Men with sticks at the gate", "📍 PS-0001"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the observer's home lacks %q after the alert:\n%s", want, screen)
		}
	}
	if !strings.Contains(screen, T("alertstate.sent")) && !strings.Contains(screen, T("alertstate.held")) {
		t.Fatalf("the alert shows no state:\n%s", screen)
	}

	// It reaches the coordinator's dashboard over the mesh, unanswered.
	waitLong(t, "the alert at the coordinator", func() bool { l, _ := coord.be.Alerts(); return len(l) == 1 })
	coord.refreshAll()
	coord.wait()
	screen = allText(coord)
	if !strings.Contains(screen, "Men with sticks at the gate") || !strings.Contains(screen, "Amani") ||
		!strings.Contains(screen, T("alertstate.sent")) {
		t.Fatalf("the dashboard does not show the alert, unanswered:\n%s", screen)
	}
	if strings.Index(screen, "Men with sticks") > strings.Index(screen, T("dash.by_family")) {
		t.Fatalf("the alert is not first on the dashboard:\n%s", screen)
	}

	// Its detail: who, where, when, the note; no answer yet.
	tap(t, coord, "Men with sticks at the gate")
	screen = allText(coord)
	for _, want := range []string{T("alert.from", map[string]any{"Who": "Amani"}), "PS-0001 · Central school",
		"Men with sticks at the gate", T("alert.no_answer"), T("alertstate.badge_sent")} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the alert's detail lacks %q:\n%s", want, screen)
		}
	}
	tap(t, coord, T("alert.acknowledge"))
	note := entry(t, coord, T("alert.answer_placeholder"))
	if note.Text != T("alert.ack_prefill") {
		t.Fatalf("the answer is not prefilled: %q", note.Text)
	}
	note.SetText("Seen. Calling you now; police on the way")
	tap(t, coord, T("alert.acknowledge")) // the dialog's button
	if toastText(coord) != "✅  "+T("alert.acknowledged") {
		t.Fatalf("acknowledge: confirmation %q", toastText(coord))
	}
	screen = allText(coord)
	for _, want := range []string{T("alert.step_acknowledged", map[string]any{"Who": T("report.you")}),
		"“Seen. Calling you now; police on the way”", T("alertstate.badge_acknowledged")} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the detail lacks %q after acknowledging:\n%s", want, screen)
		}
	}

	// The acknowledgement reaches the observer, who sees who and the note.
	waitLong(t, "the acknowledgement at the observer", func() bool {
		l, _ := obs.be.Alerts()
		return len(l) == 1 && l[0].State == incident.AlertAcknowledged
	})
	obs.refreshAll()
	obs.wait()
	mine, _ := obs.be.Alerts()
	want := T("alertstate.acknowledged", map[string]any{"Who": "HQ", "Time": obs.timeText(mine[0].Last.Created)})
	screen = allText(obs)
	if !strings.Contains(screen, want) || !strings.Contains(screen, "“Seen. Calling you now; police on the way”") {
		t.Fatalf("the observer's home does not show the acknowledgement %q:\n%s", want, screen)
	}
	// The answer is no notice to the field: it shows on the alert only.
	if strings.Contains(screen, "📢 Seen.") {
		t.Fatalf("the answer shows as a notice:\n%s", screen)
	}
}

// A notice forged by an observer (it waits in quarantine) and the notice
// of a coordinator revoked since are never shown as instructions, on any
// home or list; a coordinator's notice is.
func TestForgedNoticesAreNeverShown(t *testing.T) {
	a := test.NewTempApp(t)
	lead, code := missionHomes(t)
	obsHome := joinedObserver(t, code)
	ls, err := store.Open(lead.Dir, []byte(testPass), lead.Store)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := store.Open(obsHome.Dir, []byte(testPass), obsHome.Store)
	if err != nil {
		t.Fatal(err)
	}
	deputy := testHome(t)
	ds, err := store.Init(deputy.Dir, []byte(testPass), deputy.Store)
	if err != nil {
		t.Fatal(err)
	}
	da := ds.Author()
	inv, err := ls.Invite(store.InviteRequest{Role: incident.RoleCoordinator, Label: "Desk", For: &da})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Join(inv); err != nil {
		t.Fatal(err)
	}
	carry(t, ls, obs)
	carry(t, ds, obs)
	carry(t, obs, ls)
	hello(t, ls, ds)

	// The observer's key signs a notice: nobody takes it as one.
	ms, _ := obs.Mission()
	forged, err := obs.Signer().Sign(ms.ID, incident.KindNotice, time.Now(),
		incident.NoticePayload{Text: "FORGED: stop reporting from PS-0002", Severity: 4, Station: "PS-0002"})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*store.Store{ls, obs} {
		res, err := st.AddMany([][]byte{forged.Raw}, "test", nil)
		if err != nil || res[0].Outcome != store.Quarantined {
			t.Fatalf("an observer's notice: %+v, %v; want it quarantined", res, err)
		}
	}
	// The deputy's notice, then the deputy is revoked, accepting none of
	// their records.
	if _, err := act.New(ds).Notice(act.NoticeRequest{Text: "REVOKED: voting extended to 22:00", Severity: 3}); err != nil {
		t.Fatal(err)
	}
	carry(t, ds, obs)
	carry(t, ds, ls)
	if _, err := act.New(ls).Revoke(da.String(), "laptop seized", true); err != nil {
		t.Fatal(err)
	}
	if _, err := act.New(ls).Notice(act.NoticeRequest{Text: "PS-0003 moved to the church hall", Severity: 3, Station: "PS-0003"}); err != nil {
		t.Fatal(err)
	}
	hello(t, ls, obs)
	// Both devices hold the revoked coordinator's notice (act lists it on
	// request, marked untrusted): the screens must leave it out.
	for _, st := range []*store.Store{ls, obs} {
		all, err := act.New(st).Notices(act.NoticeQuery{Untrusted: true, Expired: true})
		if err != nil || len(all) != 2 {
			t.Fatalf("notices held: %+v, %v", all, err)
		}
	}
	for _, c := range []interface{ Close() error }{ls, obs, ds} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}

	check := func(ui *UI, where string) {
		t.Helper()
		screen := allText(ui)
		if !strings.Contains(screen, "📢 PS-0003 moved to the church hall") {
			t.Errorf("%s: the coordinator's notice is not shown:\n%s", where, screen)
		}
		if !strings.Contains(screen, T("notice.from", map[string]any{"Who": "HQ"})) ||
			!strings.Contains(screen, T("notice.to_station", map[string]any{"Code": "PS-0003"})) {
			t.Errorf("%s: the notice does not say who sent it to whom:\n%s", where, screen)
		}
		for _, bad := range []string{"FORGED", "REVOKED"} {
			if strings.Contains(screen, bad) {
				t.Errorf("%s shows the %s notice:\n%s", where, bad, screen)
			}
		}
	}
	ob := newTestUI(t, a, obsHome, true, testPass)
	check(ob, "the observer's home")
	if !strings.Contains(allText(ob), TN("notice.list_button", 1)) {
		t.Errorf("the home does not count one notice:\n%s", allText(ob))
	}
	tap(t, ob, TN("notice.list_button", 1))
	showExpired, ok := find(ob, func(c *widget.Check) bool { return c.Text == T("notice.show_expired") })
	if !ok {
		t.Fatalf("no switch for expired notices:\n%s", allText(ob))
	}
	showExpired.SetChecked(true)
	check(ob, "the observer's list of notices")
	ob.Close()

	co := newTestUI(t, a, lead, false, testPass)
	tap(t, co, TN("notice.list_button", 1))
	check(co, "the coordinator's list of notices")
}

// The notice form refuses empty text and bad input with a problem in the
// user's language, and stores nothing then; a good notice is signed with
// what the form says.
func TestNoticeFormRefusesBadInput(t *testing.T) {
	a := test.NewTempApp(t)
	lead, _ := missionHomes(t)
	co := newTestUI(t, a, lead, false, testPass)
	held := func() int {
		t.Helper()
		l, err := co.be.Notices(act.NoticeQuery{Expired: true, Untrusted: true})
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	tap(t, co, T("notice.send_button"))
	text := entry(t, co, T("notice.text"))
	radio := func(option string) {
		t.Helper()
		g, ok := find(co, func(g *widget.RadioGroup) bool {
			for _, o := range g.Options {
				if o == option {
					return true
				}
			}
			return false
		})
		if !ok {
			t.Fatalf("no choice %q:\n%s", option, allText(co))
		}
		g.SetSelected(option)
	}
	sendLabel := T("notice.send") // the form was built in English
	refused := func(field, problem string) {
		t.Helper()
		tap(t, co, sendLabel)
		msg := topText(co)
		if !strings.Contains(msg, T("err.field", map[string]any{"Field": FieldLabel(field)})) || !strings.Contains(msg, problem) {
			t.Fatalf("refusal %q, want the field %s and %q", msg, field, problem)
		}
		if n := held(); n != 0 {
			t.Fatalf("a refused notice stored %d records", n)
		}
		dismissAll(co)
	}

	// Empty (spaces only), in French.
	text.SetText("   ")
	SetLanguage("fr")
	refused("text", "Ce champ est obligatoire.")
	SetLanguage("en")

	text.SetText("Station moved to the church hall")
	radio(T("notice.audience_station"))
	refused("station", T("problem.required"))
	to := entry(t, co, T("notice.station_code"))
	long := strings.Repeat("P", incident.MaxCodeLen+1)
	to.SetText(long)
	refused("station", T("problem.too_long", map[string]any{"Value": len(long), "Limit": incident.MaxCodeLen}))
	to.SetText("ps 0003") // typed as people type it: signed as PS-0003
	text.SetText(strings.Repeat("x", incident.MaxNoteLen+1))
	refused("text", T("problem.too_long", map[string]any{"Value": incident.MaxNoteLen + 1, "Limit": incident.MaxNoteLen}))

	// A good one: what the form says is what is signed.
	text.SetText("  Station moved to the church hall  ")
	radio(severityIcons[4] + " " + SeverityLabel(4))
	exp, _ := find(co, func(s *widget.Select) bool { return len(s.Options) == len(NoticeExpiries) })
	exp.SetSelectedIndex(2)
	tap(t, co, T("notice.send"))
	if toastText(co) != "✅  "+T("notice.sent") {
		t.Fatalf("send: confirmation %q; screen:\n%s", toastText(co), allText(co))
	}
	l, _ := co.be.Notices(act.NoticeQuery{})
	if len(l) != 1 {
		t.Fatalf("notices %+v", l)
	}
	n := l[0]
	if n.Notice.Text != "Station moved to the church hall" || n.Notice.Severity != 4 || n.Notice.Station != "PS-0003" ||
		n.Audience != incident.AudienceStation || !n.Trusted {
		t.Fatalf("stored %+v", n)
	}
	if d := time.Duration(n.Notice.Expires-n.Created) * time.Millisecond; d < 3*time.Hour-time.Second || d > 3*time.Hour+time.Second {
		t.Fatalf("stored %+v", n)
	}
	// Back on the dashboard, which counts it.
	if !strings.Contains(allText(co), TN("notice.list_button", 1)) {
		t.Fatalf("the dashboard does not count the notice:\n%s", allText(co))
	}
}
