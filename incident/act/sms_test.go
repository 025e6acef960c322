package act

import (
	"errors"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/sms"
)

// smsMission is a mission that takes SMS: the coordinator set
// sms_number (which made the inbox key), and the observer holds the
// config.
func smsMission(t *testing.T) (coord, obs *Desk) {
	t.Helper()
	coord, obs = mission(t)
	if _, err := coord.Configure([]string{"sms_number=+254 700 111 222"}); err != nil {
		t.Fatal(err)
	}
	copyRecords(t, coord, obs)
	ms, _ := obs.st.Mission()
	if ms.SMSNumber() != "+254700111222" {
		t.Fatalf("sms_number %q", ms.SMSNumber())
	}
	if _, ok := ms.SMSInbox(); !ok {
		t.Fatal("setting sms_number made no inbox key")
	}
	return coord, obs
}

func TestSMSRecordArrivesWholeAndOnce(t *testing.T) {
	coord, obs := smsMission(t)
	r := report("Presiding officer turned observers away")
	r.Station = "KE-047-0123"
	c, err := obs.Submit(Submission{Report: r})
	if err != nil {
		t.Fatal(err)
	}
	text, err := obs.SMSText(c.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if text.Number != "+254700111222" || text.Segments > 2 {
		t.Fatalf("text to %q in %d segments, want the mission number in at most 2", text.Number, text.Segments)
	}
	if strings.Contains(text.Text, "observers") || strings.Contains(text.Text, "KE-047") {
		t.Fatal("the SMS text shows the report in the clear")
	}
	if err := obs.MarkSMSSent(c.ID.String()); err != nil {
		t.Fatal(err)
	}

	got, err := coord.ReceiveSMS(SMSMessage{From: "+254711000001", Text: text.Text})
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcome != SMSStored || got.ID == nil || *got.ID != c.ID || len(got.Replies) != 1 {
		t.Fatalf("received %+v", got)
	}
	v, err := coord.Report(c.ID.String())
	if err != nil || !v.Opened || v.Report.Title != r.Title {
		t.Fatalf("the coordinator reads %+v, %v", v, err)
	}

	// The same record by the mesh is the same record; a replayed text
	// gets the same receipt and makes no new record.
	copyRecords(t, obs, coord)
	n := countRecords(t, coord)
	again, err := coord.ReceiveSMS(SMSMessage{From: "+254711000001", Text: text.Text})
	if err != nil || again.Outcome != SMSDuplicate || again.Replies[0] != got.Replies[0] {
		t.Fatalf("replayed: %+v, %v", again, err)
	}
	if countRecords(t, coord) != n {
		t.Fatal("a replayed text made a new record")
	}

	// The observer pastes the receipt: the report is held by a coordinator.
	back, err := obs.ReceiveSMS(SMSMessage{Text: got.Replies[0]})
	if err != nil || back.Kind != incident.KindReceipt {
		t.Fatalf("pasted receipt: %+v, %v", back, err)
	}
	d, err := obs.st.DeliveryOf(c.ID)
	if err != nil || !d.Coordinator {
		t.Fatalf("delivery after the receipt: %+v, %v", d, err)
	}
}

func countRecords(t *testing.T, d *Desk) int {
	t.Helper()
	n := 0
	kinds, _ := d.st.Kinds()
	for _, k := range kinds {
		ids, _ := d.st.IDsOfKind(k)
		n += len(ids)
	}
	return n
}

// A carrier stores and forwards a sealed SMS record and reads nothing.
func TestSMSSealedOpaqueToCarrier(t *testing.T) {
	coord, obs := smsMission(t)
	carrier := newDesk(t, "carrier")
	join(t, coord, carrier, incident.RoleCarrier, "Bus")
	c, err := obs.Checkin(incident.CheckinPayload{Status: "arrived", Station: "KE-047-0123"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sealed {
		t.Fatal("a check-in in a mission that takes SMS is not sealed")
	}
	copyRecords(t, obs, carrier)
	rec, err := carrier.st.Get(c.ID)
	if err != nil || rec == nil {
		t.Fatalf("the carrier does not hold the check-in: %v", err)
	}
	if !incident.IsCompactSeal(rec.Sealed) {
		t.Fatal("not compactly sealed")
	}
	if _, ok := carrier.st.Open(rec); ok {
		t.Fatal("the carrier opened a sealed check-in")
	}
	if _, ok := coord.st.Open(rec); !ok {
		copyRecords(t, obs, coord)
		if _, ok := coord.st.Open(rec); !ok {
			t.Fatal("the coordinator cannot open the check-in")
		}
	}
}

func TestSMSBadTexts(t *testing.T) {
	coord, obs := smsMission(t)
	c, err := obs.Alert(incident.AlertPayload{Note: "Crowd at the gate"})
	if err != nil {
		t.Fatal(err)
	}
	text, err := obs.SMSText(c.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	before := countRecords(t, coord)
	mangled := []byte(text.Text)
	mangled[len(mangled)/2] ^= 1
	half := len(text.Text) / 2
	for name, body := range map[string]string{
		"human":     "Polling station 12 closed, police outside",
		"truncated": text.Text[:len(text.Text)-10],
		"mangled":   string(mangled),
		"reordered": text.Text[half:] + text.Text[:half],
		"empty":     "",
	} {
		got, err := coord.ReceiveSMS(SMSMessage{From: "+254722000002", Text: body})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Outcome != SMSRefused || got.Reason == "" {
			t.Errorf("%s: %+v, want refused with a reason", name, got)
		}
	}
	if countRecords(t, coord) != before {
		t.Fatal("a bad text stored something")
	}
	senders, err := coord.SMSSenders()
	if err != nil || len(senders) != 1 || senders[0].Refused != 5 || senders[0].Sender != "…0002" {
		t.Fatalf("counts %+v, %v", senders, err)
	}
}

// A text from an observer whose enrollment the coordinator has not seen
// waits, and is stored when the member record arrives.
func TestSMSPendingUntilTheMemberArrives(t *testing.T) {
	coord, _ := smsMission(t)
	late := newDesk(t, "late")
	inv, err := coord.Invite(InviteRequest{Role: incident.RoleObserver, Label: "Late"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := late.Join(inv.Code); err != nil {
		t.Fatal(err)
	}
	copyRecords(t, coord, late)
	c, err := late.Checkin(incident.CheckinPayload{Status: "opened"})
	if err != nil {
		t.Fatal(err)
	}
	text, err := late.SMSText(c.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	got, err := coord.ReceiveSMS(SMSMessage{From: "+254733000003", Text: text.Text})
	if err != nil || got.Outcome != SMSPending {
		t.Fatalf("before the member record: %+v, %v", got, err)
	}
	members, err := late.st.ByKind(incident.KindMember)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members { // the enrollment alone, not the check-in
		coord.st.Add(m.Raw, "test")
	}
	later, err := coord.RetryPendingSMS()
	if err != nil || len(later) != 1 || later[0].Outcome != SMSStored || *later[0].ID != c.ID {
		t.Fatalf("after the member record: %+v, %v", later, err)
	}
}

// One number flooding is cut off; others still get through.
func TestSMSFloodIsRateLimited(t *testing.T) {
	coord, obs := smsMission(t)
	var refused int
	for i := range smsBurst + 5 {
		c, err := obs.Checkin(incident.CheckinPayload{Status: "all_quiet", Station: "KE-" + string(rune('A'+i))})
		if err != nil {
			t.Fatal(err)
		}
		text, _ := obs.SMSText(c.ID.String())
		got, err := coord.ReceiveSMS(SMSMessage{From: "+254744000004", Text: text.Text})
		if err != nil {
			t.Fatal(err)
		}
		if got.Outcome == SMSRefused && strings.Contains(got.Reason, "rate limited") {
			refused++
		}
	}
	if refused != 5 {
		t.Fatalf("%d refused for rate, want 5", refused)
	}
}

// What SMS cannot carry is refused for SMS, saying why.
func TestSMSRefusesWhatItCannotCarry(t *testing.T) {
	_, obs := smsMission(t)
	long := report("Ballot boxes moved before the count")
	long.Description = strings.Repeat("Party agents were asked to leave while the boxes were moved. ", 12)
	c, err := obs.Submit(Submission{Report: long})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obs.SMSText(c.ID.String()); CodeOf(err) != Refused || !errors.Is(err, sms.ErrNotForSMS) || !strings.Contains(err.Error(), "SMS") {
		t.Fatalf("a long report (sealed for the mesh): %v", err)
	}
	no := false
	plain, err := obs.Submit(Submission{Report: report("Queue of 300"), Sealed: &no})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obs.SMSText(plain.ID.String()); CodeOf(err) != Refused || !errors.Is(err, ErrSMSInClear) || !strings.Contains(err.Error(), "operator") {
		t.Fatalf("a report in the clear: %v", err)
	}
}

// A revoked coordinator's inbox key seals nothing new.
func TestRevokingACoordinatorRotatesTheInbox(t *testing.T) {
	coord, obs := smsMission(t)
	second := newDesk(t, "coord2")
	join(t, coord, second, incident.RoleCoordinator, "Second desk")
	ms, _ := coord.st.Mission()
	old, _ := ms.SMSInbox()
	if inForce, held := second.SMSInboxHeld(); !inForce || held {
		t.Fatalf("a coordinator enrolled after the key was made: in force %v, held %v", inForce, held)
	}
	if _, err := coord.SMSKey(false); err != nil { // share
		t.Fatal(err)
	}
	copyRecords(t, coord, second)
	if _, held := second.SMSInboxHeld(); !held {
		t.Fatal("sms key share did not hand the key to the second coordinator")
	}
	rev, err := coord.Revoke("Second desk", "laptop seized", false)
	if err != nil || rev.SMSInbox == "" || rev.SMSInbox == incident.FormatInbox(old) {
		t.Fatalf("revoke: %+v, %v", rev, err)
	}
	copyRecords(t, coord, obs)
	c, err := obs.Checkin(incident.CheckinPayload{Status: "closed"})
	if err != nil {
		t.Fatal(err)
	}
	copyRecords(t, obs, second)
	rec, _ := second.st.Get(c.ID)
	if _, ok := second.st.Open(rec); ok {
		t.Fatal("the revoked coordinator opened a check-in sealed after the revocation")
	}
	copyRecords(t, obs, coord)
	if _, ok := coord.st.Open(rec); !ok {
		t.Fatal("the remaining coordinator cannot open it")
	}
}

// An alert sealed for SMS is listed, opened, for its author and for the
// coordinator it reached by text.
func TestSMSSealedAlertListed(t *testing.T) {
	coord, obs := smsMission(t)
	c, err := obs.Alert(incident.AlertPayload{Note: "Men with machetes at the gate", Station: "KE-047-0123"})
	if err != nil || !c.Sealed {
		t.Fatalf("alert: %+v, %v", c, err)
	}
	text, err := obs.SMSText(c.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := coord.ReceiveSMS(SMSMessage{From: "+254755000005", Text: text.Text}); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]*Desk{"observer": obs, "coordinator": coord} {
		items, err := d.Alerts()
		if err != nil || len(items) != 1 || items[0].Alert.Note != "Men with machetes at the gate" {
			t.Fatalf("%s lists %+v, %v", name, items, err)
		}
	}
}

// An observer's alert sealed for SMS stays in its list, held by a
// coordinator, once the coordinator's receipt comes back (by SMS or by
// the mesh): the receipt drops the author's readable copy (store's
// L/<id>), and Alerts skipped an alert it could not open.

func TestSMSSealedAlertListedAfterReceipt(t *testing.T) {
	coord, obs := smsMission(t)
	c, err := obs.Alert(incident.AlertPayload{Note: "Men with machetes at the gate"})
	if err != nil || !c.Sealed {
		t.Fatalf("alert: %+v, %v", c, err)
	}
	text, err := obs.SMSText(c.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	got, err := coord.ReceiveSMS(SMSMessage{From: "+254755000005", Text: text.Text})
	if err != nil || len(got.Replies) != 1 {
		t.Fatalf("received %+v, %v", got, err)
	}
	if _, err := obs.ReceiveSMS(SMSMessage{Text: got.Replies[0]}); err != nil {
		t.Fatal(err)
	}
	items, err := obs.Alerts()
	if err != nil || len(items) != 1 || items[0].ID != c.ID || !items[0].Held {
		t.Fatalf("the observer lists %+v, %v after the receipt; want its alert, held", items, err)
	}
}
