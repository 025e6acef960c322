package app

import (
	"net/url"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

const testSMSNumber = "+254700111222"

// smsHomes is a mission that takes SMS: the coordinator set sms_number
// (which made the inbox key), and an observer joined and synced once
// (the coordinator knows the observer's member record, the observer
// holds the config). It returns the coordinator's home and the
// observer's.
func smsHomes(t *testing.T) (coord, obs *Home) {
	t.Helper()
	coord, code := missionHomes(t)
	obs = joinedObserver(t, code)
	cb, err := coord.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	if _, err := cb.(*StoreBackend).Desk().Configure([]string{"sms_number=" + testSMSNumber}); err != nil {
		t.Fatal(err)
	}
	ob, err := obs.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	carry(t, ob.(*StoreBackend).Store(), cb.(*StoreBackend).Store())
	carry(t, cb.(*StoreBackend).Store(), ob.(*StoreBackend).Store())
	return coord, obs
}

// captureURLs makes ui hand the URLs it opens to the returned list.
func captureURLs(ui *UI) *[]*url.URL {
	var got []*url.URL
	ui.openURL = func(u *url.URL) error {
		got = append(got, u)
		return nil
	}
	return &got
}

// An observer sends a report by SMS: the sheet says what traces a text
// leaves, the messaging app gets the number and the very text act makes,
// the report shows "sent by SMS", and the coordinator's receipt pasted
// back makes it "held by a coordinator".
func TestSendReportBySMS(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, obsHome := smsHomes(t)
	ui := newTestUI(t, a, obsHome, true, testPass)
	opened := captureURLs(ui)
	id, err := ui.be.Submit(incident.ReportPayload{Category: "polling.intimidation", Severity: 3,
		Title: "Presiding officer turned observers away", Station: "PS-0001"}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ui.be.SMSText(id)
	if err != nil {
		t.Fatalf("the report does not go by SMS: %v", err)
	}

	ui.showMyReport(id)
	tap(t, ui, T("sms.send"))
	sheet := topText(ui)
	for _, k := range []string{"sms.trace_sent_folder", "sms.trace_operator", "sms.trace_sealed"} {
		if !strings.Contains(sheet, T(k)) {
			t.Errorf("the sheet does not say %q:\n%s", T(k), sheet)
		}
	}
	if s := TN("sms.segments", want.Segments, map[string]any{"Number": testSMSNumber}); !strings.Contains(sheet, s) {
		t.Errorf("the sheet does not say %q:\n%s", s, sheet)
	}

	tap(t, ui, T("sms.open"))
	if len(*opened) != 1 {
		t.Fatalf("opened %d URLs, want the sms: URI", len(*opened))
	}
	u := (*opened)[0]
	if u.Scheme != "sms" || u.Opaque != testSMSNumber || u.Query().Get("body") != want.Text {
		t.Fatalf("opened %s, want sms:%s with act's text as body", u, testSMSNumber)
	}
	if !strings.Contains(u.String(), "sms:"+testSMSNumber+"?body=") || strings.Contains(u.RawQuery, "+") {
		t.Fatalf("the URI %s is not sms:NUMBER?body=… percent-encoded", u)
	}
	if !strings.Contains(allText(ui), T("delivery.sms")) {
		t.Fatalf("the report does not show sent by SMS:\n%s", allText(ui))
	}

	// The coordinator's laptop receives the text and answers with a
	// receipt; the observer pastes it.
	cb, err := coordHome.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	got, err := cb.(*StoreBackend).Desk().ReceiveSMS(act.SMSMessage{From: "+254711000001", Text: u.Query().Get("body")})
	if err != nil || got.Outcome != act.SMSStored || len(got.Replies) != 1 {
		t.Fatalf("the coordinator received %+v, %v", got, err)
	}
	entry(t, ui, T("sms.reply_placeholder")).SetText("not a receipt")
	tap(t, ui, T("sms.reply_button"))
	if top := topText(ui); !strings.Contains(top, "⚠") || strings.Contains(top, "✅ "+T("delivery.coordinator")) {
		t.Fatalf("a pasted message that is no receipt is not refused:\n%s", top)
	}
	entry(t, ui, T("sms.reply_placeholder")).SetText(got.Replies[0])
	tap(t, ui, T("sms.reply_button"))
	if top := topText(ui); !strings.Contains(top, "✅ "+T("delivery.coordinator")) {
		t.Fatalf("the sheet does not say held by a coordinator:\n%s", top)
	}
	closeDialog(t, ui, T("action.close"))
	if s := allText(ui); !strings.Contains(s, T("delivery.coordinator")) || strings.Contains(s, T("sms.send")) {
		t.Fatalf("the report is not held by a coordinator, or still offers SMS:\n%s", s)
	}
}

// The last check-in goes by SMS from the observer's home.
func TestSendCheckinBySMS(t *testing.T) {
	a := test.NewTempApp(t)
	_, obsHome := smsHomes(t)
	ui := newTestUI(t, a, obsHome, true, testPass)
	opened := captureURLs(ui)

	tap(t, ui, CheckinLabel("arrived"))
	tap(t, ui, T("sms.send"))
	tap(t, ui, T("sms.open"))
	mine, _ := ui.be.MyActivity()
	want, err := ui.be.SMSText(mine[0].ID)
	if err != nil || len(*opened) != 1 || (*opened)[0].Query().Get("body") != want.Text {
		t.Fatalf("the check-in went as %v (%v)", *opened, err)
	}
	dismissAll(ui)
	if !strings.Contains(allText(ui), T("delivery.sms")) {
		t.Fatalf("the home does not show the check-in sent by SMS:\n%s", allText(ui))
	}

}

// A report too large for a text is sealed for the mesh: its detail says
// so instead of offering SMS.
func TestTooLargeForSMS(t *testing.T) {
	a := test.NewTempApp(t)
	_, obsHome := smsHomes(t)
	ui := newTestUI(t, a, obsHome, true, testPass)
	id, err := ui.be.Submit(incident.ReportPayload{Category: "polling.intimidation", Severity: 3, Title: "Ballot boxes moved",
		Description: strings.Repeat("Party agents were asked to leave while the boxes were moved. ", 12)}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	ui.showMyReport(id)
	if s := allText(ui); !strings.Contains(s, T("sms.refused_mesh")) || strings.Contains(s, T("sms.send")) {
		t.Fatalf("the too-large report does not say why it cannot go by SMS:\n%s", s)
	}
}

// Without sms_number, nothing offers SMS.
func TestNoSMSWithoutNumber(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	ui := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	tap(t, ui, CheckinLabel("arrived"))
	id, err := ui.be.Submit(incident.ReportPayload{Category: "polling.intimidation", Severity: 3, Title: "Men at the gate"}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(allText(ui), T("sms.send")) {
		t.Fatalf("the home offers SMS in a mission without an SMS number:\n%s", allText(ui))
	}
	ui.showMyReport(id)
	if s := allText(ui); strings.Contains(s, T("sms.send")) || strings.Contains(s, "📵") {
		t.Fatalf("the report mentions SMS in a mission without an SMS number:\n%s", s)
	}
}

func TestSMSURIEncodesTheBody(t *testing.T) {
	u := SMSURI(testSMSNumber, "V1 a+b/c d&e=f?")
	if got := u.String(); got != "sms:+254700111222?body=V1%20a%2Bb%2Fc%20d%26e%3Df%3F" {
		t.Fatalf("got %s", got)
	}
	if u.Query().Get("body") != "V1 a+b/c d&e=f?" {
		t.Fatalf("body %q", u.Query().Get("body"))
	}
}

// A saved tally goes by SMS from the dialog that confirms it.
func TestSendTallyBySMS(t *testing.T) {
	a := test.NewTempApp(t)
	_, obsHome := smsHomes(t)
	ui := newTestUI(t, a, obsHome, true, testPass)
	opened := captureURLs(ui)
	res, err := ui.be.SubmitTally(act.TallyRequest{Station: "PS-0001", Contest: "President", Registered: 500, Issued: 300,
		Cast: 300, Votes: []incident.VoteCount{{Choice: "Asha", Votes: 180}, {Choice: "Baraka", Votes: 120}}})
	if err != nil {
		t.Fatal(err)
	}
	ui.showTallySaved("President", res)
	tap(t, ui, T("sms.send"))
	tap(t, ui, T("sms.open"))
	want, err := ui.be.SMSText(res.ID)
	if err != nil || len(*opened) != 1 || (*opened)[0].Query().Get("body") != want.Text {
		t.Fatalf("the tally went as %v (%v)", *opened, err)
	}
}

// raiseAlert presses the observer's alert button and sends an alert
// with note; it returns the alert, as the observer's list has it.
func raiseAlert(t *testing.T, ui *UI, note string) act.AlertItem {
	t.Helper()
	tap(t, ui, T("home.alert"))
	test.Type(entry(t, ui, T("alert.note")), note)
	tap(t, ui, T("alert.send"))
	list, err := ui.be.Alerts()
	if err != nil || len(list) != 1 || list[0].Alert.Note != note {
		t.Fatalf("the observer's alerts after raising one: %+v, %v", list, err)
	}
	return list[0]
}

// An observer's alert goes by SMS from its detail, opened from the
// home's alert list: the messaging app gets sms:NUMBER?body= with the
// text act makes of the alert, and the coordinator's receipt pasted
// back makes it "held by a coordinator".
func TestSendAlertBySMSFromItsDetail(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, obsHome := smsHomes(t)
	ui := newTestUI(t, a, obsHome, true, testPass)
	opened := captureURLs(ui)
	alert := raiseAlert(t, ui, "Men with sticks at the gate")
	want, err := ui.be.(*StoreBackend).Desk().SMSText(alert.ID.String())
	if err != nil {
		t.Fatalf("the alert does not go by SMS: %v", err)
	}
	closeDialog(t, ui, T("action.close")) // the offer after raising: TestAlertOffersSMSAtOnce

	tap(t, ui, "Men with sticks at the gate") // its tile among the home's alerts
	if s := allText(ui); !strings.Contains(s, T("alert.mine")) || !strings.Contains(s, alert.ID.String()) {
		t.Fatalf("the alert's detail is not open:\n%s", s)
	}
	tap(t, ui, T("sms.send"))
	tap(t, ui, T("sms.open"))
	if len(*opened) != 1 {
		t.Fatalf("opened %d URLs, want the sms: URI", len(*opened))
	}
	u := (*opened)[0]
	if got, wantURI := u.String(), SMSURI(testSMSNumber, want.Text).String(); got != wantURI ||
		!strings.HasPrefix(got, "sms:"+testSMSNumber+"?body=") || u.Query().Get("body") != want.Text {
		t.Fatalf("opened %s, want sms:%s?body= with act's text for the alert (%s)", got, testSMSNumber, wantURI)
	}

	cb, err := coordHome.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	got, err := cb.(*StoreBackend).Desk().ReceiveSMS(act.SMSMessage{From: "+254711000001", Text: want.Text})
	if err != nil || got.Outcome != act.SMSStored || len(got.Replies) != 1 {
		t.Fatalf("the coordinator received %+v, %v", got, err)
	}
	entry(t, ui, T("sms.reply_placeholder")).SetText(got.Replies[0])
	tap(t, ui, T("sms.reply_button"))
	if top := topText(ui); !strings.Contains(top, "✅ "+T("delivery.coordinator")) {
		t.Fatalf("the sheet does not say held by a coordinator:\n%s", top)
	}
	closeDialog(t, ui, T("action.close"))
	s := allText(ui)
	if !strings.Contains(s, T("delivery.coordinator")) || !strings.Contains(s, T("alertstate.held")) ||
		strings.Contains(s, T("sms.send")) {
		t.Fatalf("the alert's detail does not show it held by a coordinator, or still offers SMS:\n%s", s)
	}
}

// Right after an alert is raised in a mission that takes SMS, the
// observer is offered it by SMS at once: the mesh may reach nobody
// when data is cut. The offer opens the same sheet; the alert then
// shows "sent by SMS".
func TestAlertOffersSMSAtOnce(t *testing.T) {
	a := test.NewTempApp(t)
	_, obsHome := smsHomes(t)
	ui := newTestUI(t, a, obsHome, true, testPass)
	opened := captureURLs(ui)
	alert := raiseAlert(t, ui, "Ballot boxes taken")
	if toastText(ui) != "✅  "+T("alert.sent") {
		t.Fatalf("alert: confirmation %q", toastText(ui))
	}
	if top := topText(ui); !strings.Contains(top, T("sms.alert_offer")) || !strings.Contains(top, T("sms.also_send")) {
		t.Fatalf("raising the alert does not offer it by SMS:\n%s", top)
	}
	tap(t, ui, T("sms.also_send"))
	sheet := topText(ui)
	if !strings.Contains(sheet, T("sms.trace_operator")) || !strings.Contains(sheet, T("sms.open")) {
		t.Fatalf("the offer does not open the SMS sheet:\n%s", sheet)
	}
	tap(t, ui, T("sms.open"))
	want, err := ui.be.SMSText(alert.ID)
	if err != nil || len(*opened) != 1 || (*opened)[0].String() != SMSURI(testSMSNumber, want.Text).String() {
		t.Fatalf("the alert went as %v (%v)", *opened, err)
	}
	if want.Sent == nil {
		t.Fatal("the alert is not marked sent by SMS")
	}
	dismissAll(ui)
	tap(t, ui, "Ballot boxes taken")
	if s := allText(ui); !strings.Contains(s, deliveryIcons["sms"]+" "+T("sms.sent_at", map[string]any{"Time": ui.timeText(want.Sent.UnixMilli())})) {
		t.Fatalf("the alert's detail does not show it sent by SMS:\n%s", s)
	}
}

// Without sms_number, raising an alert offers no SMS: the confirmation
// is the same as ever.
func TestAlertWithoutSMSNumberOffersNoSMS(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	ui := newTestUI(t, a, joinedObserver(t, code), true, testPass)
	raiseAlert(t, ui, "Men at the gate")
	if toastText(ui) != "✅  "+T("alert.sent") {
		t.Fatalf("alert: confirmation %q", toastText(ui))
	}
	if top := ui.win.Canvas().Overlays().Top(); top != nil {
		t.Fatalf("a dialog follows the alert in a mission without an SMS number:\n%s", topText(ui))
	}
	if s := allText(ui); strings.Contains(s, T("sms.also_send")) || strings.Contains(s, T("sms.send")) {
		t.Fatalf("the home offers SMS in a mission without an SMS number:\n%s", s)
	}
}
