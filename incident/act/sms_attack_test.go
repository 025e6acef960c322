package act

import (
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

var smsAlphabet = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.").WithPadding(base64.NoPadding).Strict()

// An operator replays one genuine text from numbers of its own: the
// author's next text is still stored, and the mission texts back a few
// receipts, not one per replay.
func TestSMSReplaysDoNotBlockTheAuthor(t *testing.T) {
	coord, obs := smsMission(t)
	c, _ := obs.Checkin(incident.CheckinPayload{Status: "arrived"})
	text, _ := obs.SMSText(c.ID.String())
	replies := 0
	for i := range smsBurst {
		r, err := coord.ReceiveSMS(SMSMessage{From: fmt.Sprintf("+25479900%04d", i), Text: text.Text})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Replies) > 0 {
			replies++
		}
	}
	if replies > 1+smsResends {
		t.Errorf("%d receipts sent back for one record replayed", replies)
	}
	c2, _ := obs.Checkin(incident.CheckinPayload{Status: "opened"})
	text2, _ := obs.SMSText(c2.ID.String())
	r, err := coord.ReceiveSMS(SMSMessage{From: "+254711000001", Text: text2.Text})
	if err != nil || r.Outcome != SMSStored || len(r.Replies) != 1 {
		t.Errorf("the author's next text after the replays: %+v, %v", r, err)
	}
}

// Texts kept for an unknown author are all stored once the member record
// arrives: the number's rate was charged when they came, not again.
func TestSMSKeptTextsAllStoredOnRetry(t *testing.T) {
	coord, _ := smsMission(t)
	late := newDesk(t, "late")
	inv, _ := coord.Invite(InviteRequest{Role: incident.RoleObserver, Label: "Late"})
	if _, err := late.Join(inv.Code); err != nil {
		t.Fatal(err)
	}
	copyRecords(t, coord, late)
	for i := range smsPendingPer {
		c, err := late.Checkin(incident.CheckinPayload{Status: "all_quiet", Station: fmt.Sprintf("KE-%03d", i)})
		if err != nil {
			t.Fatal(err)
		}
		text, _ := late.SMSText(c.ID.String())
		r, _ := coord.ReceiveSMS(SMSMessage{From: "+254733000003", Text: text.Text})
		if r.Outcome != SMSPending {
			t.Fatalf("%d: %+v", i, r)
		}
	}
	members, _ := late.st.ByKind(incident.KindMember)
	for _, m := range members {
		coord.st.Add(m.Raw, "test")
	}
	later, err := coord.RetryPendingSMS()
	if err != nil {
		t.Fatal(err)
	}
	stored, refused := 0, 0
	for _, l := range later {
		if l.Outcome == SMSStored {
			stored++
		} else if l.Outcome == SMSRefused {
			refused++
		}
	}
	left, _ := coord.pendingSMS()
	if stored != smsPendingPer || refused != 0 || len(left) != 0 {
		t.Errorf("retried %d: stored %d, refused %d, still kept %d", len(later), stored, refused, len(left))
	}
}

// Anyone who knows the mission's 2-byte prefix can send texts that wait
// for an unknown author (nothing verifies them yet): filling the list
// from many numbers does not keep out a real late observer's text.
func TestSMSJunkCannotFillThePendingList(t *testing.T) {
	lowerSMSBounds(t)
	coord, obs := smsMission(t)
	c, _ := obs.Checkin(incident.CheckinPayload{Status: "arrived"})
	text, _ := obs.SMSText(c.ID.String())
	raw, err := smsAlphabet.DecodeString(text.Text)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for num := 0; num < smsPendingTotal/smsPendingPer; num++ {
		for j := range smsPendingPer {
			b := append([]byte(nil), raw...)
			// author prefix is at bytes 1+1+2 .. +4 (version uvarint is one byte)
			b[4], b[5], b[6], b[7] = 0xEE, byte(num), byte(j), 0x77
			r, err := coord.ReceiveSMS(SMSMessage{From: fmt.Sprintf("+2547980%05d", num), Text: smsAlphabet.EncodeToString(b)})
			if err != nil {
				t.Fatal(err)
			}
			if r.Outcome == SMSPending {
				n++
			}
		}
	}
	if n != smsPendingTotal {
		t.Fatalf("%d junk texts kept, want the list full (%d)", n, smsPendingTotal)
	}
	late := newDesk(t, "late")
	inv, _ := coord.Invite(InviteRequest{Role: incident.RoleObserver, Label: "Late"})
	if _, err := late.Join(inv.Code); err != nil {
		t.Fatal(err)
	}
	copyRecords(t, coord, late)
	lc, _ := late.Checkin(incident.CheckinPayload{Status: "opened"})
	lt, _ := late.SMSText(lc.ID.String())
	r, err := coord.ReceiveSMS(SMSMessage{From: "+254733000003", Text: lt.Text})
	if err != nil || r.Outcome != SMSPending {
		t.Fatalf("the late observer's text: %+v, %v", r, err)
	}
	members, _ := late.st.ByKind(incident.KindMember)
	for _, m := range members {
		coord.st.Add(m.Raw, "test")
	}
	later, err := coord.RetryPendingSMS()
	if err != nil || len(later) != 1 || later[0].Outcome != SMSStored {
		t.Fatalf("after its member record: %+v, %v", later, err)
	}
}

// The same record received by several texts at once gets one receipt
// record.
func TestSMSOneReceiptForConcurrentRepeats(t *testing.T) {
	coord, obs := smsMission(t)
	c, _ := obs.Checkin(incident.CheckinPayload{Status: "arrived"})
	text, _ := obs.SMSText(c.ID.String())
	copyRecords(t, obs, coord) // arrived by the mesh already: every text is a duplicate
	before, _ := coord.st.IDsOfKind(incident.KindReceipt)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			coord.ReceiveSMS(SMSMessage{From: fmt.Sprintf("+2547110000%02d", i), Text: text.Text})
		}()
	}
	wg.Wait()
	after, _ := coord.st.IDsOfKind(incident.KindReceipt)
	if len(after)-len(before) != 1 {
		t.Errorf("%d receipt records for one record", len(after)-len(before))
	}
}

// The counts per sender stay bounded however many numbers text.
func TestSMSSenderCountsBounded(t *testing.T) {
	lowerSMSBounds(t)
	coord, _ := smsMission(t)
	for i := range maxSenders + 50 {
		coord.ReceiveSMS(SMSMessage{From: fmt.Sprintf("+2547%08d", i), Text: "hello " + strings.Repeat("x", 10)})
	}
	senders, err := coord.SMSSenders()
	if err != nil || len(senders) > maxSenders+1 {
		t.Fatalf("%d senders counted, %v", len(senders), err)
	}
}

// lowerSMSBounds makes the bounds on kept texts and counted numbers small
// for one test, so that reaching them takes a few texts, not hundreds.
func lowerSMSBounds(t *testing.T) {
	per, total, senders := smsPendingPer, smsPendingTotal, maxSenders
	smsPendingPer, smsPendingTotal, maxSenders = 4, 16, 20
	t.Cleanup(func() { smsPendingPer, smsPendingTotal, maxSenders = per, total, senders })
}
