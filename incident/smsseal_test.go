package incident

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// sealCompactRecord seals payload compactly to the inbox and signs it as
// s in fixture f.
func (f *fixture) sealCompactRecord(tb testing.TB, s *Signer, kind Kind, payload any, inbox []byte) *Signed {
	tb.Helper()
	key, err := InboxKeyFromBytes(inbox)
	if err != nil {
		tb.Fatal(err)
	}
	at := f.next()
	ct, err := SealCompact(kind, payload, s.Author(), at.UnixMilli(), key.PublicKey())
	if err != nil {
		tb.Fatalf("SealCompact(%s): %v", kind, err)
	}
	rec, err := s.SignSealed(f.ms.ID, kind, at, SealedEnvelope{}, ct)
	if err != nil {
		tb.Fatal(err)
	}
	return rec
}

var testInbox = bytes.Repeat([]byte{7}, 32)

func TestCompactSealRoundTrip(t *testing.T) {
	f := newFixture(t, "compact")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	inbox, _ := InboxKeyFromBytes(testInbox)
	lat, lon := int64(-1292066), int64(36821945)
	report := goodReport()
	report.Station = "KE-047-0123"
	report.Lat, report.Lon = &lat, &lon
	custom := goodReport()
	custom.Category = "polling.queue_jumping" // a mission's own category goes as text
	disinfo := goodReport()
	disinfo.Category, disinfo.Channel, disinfo.Harm, disinfo.Reach = "disinformation.false_voting_info", "whatsapp", "high", 4000
	cases := []struct {
		name    string
		kind    Kind
		payload any
	}{
		{"report", KindReport, report},
		{"custom category", KindReport, custom},
		{"disinformation", KindReport, disinfo},
		{"checkin", KindCheckin, CheckinPayload{Status: "opened", Station: "KE-047-0123"}},
		{"alert", KindAlert, AlertPayload{Note: "Crowd blocking the gate", Station: "KE-047-0123"}},
		{"tally ending in zero", KindTally, TallyPayload{Station: "KE-047-0123", Contest: "presidential",
			Registered: 700, Issued: 512, Cast: 510, Invalid: 4, Blank: 0,
			Votes: []VoteCount{{Choice: "Achieng", Votes: 300}, {Choice: "Otieno", Votes: 206}, {Choice: "Wafula", Votes: 0}}}},
		{"response", KindResponse, ResponsePayload{Form: bytes.Repeat([]byte{1}, 32), Station: "KE-047-0123",
			Answers: []Answer{{Question: "opened_on_time", Value: "yes"}, {Question: "queue", Value: "120"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := f.sealCompactRecord(t, obs, c.kind, c.payload, testInbox)
			if !IsCompactSeal(rec.Sealed) {
				t.Fatal("not a compact seal")
			}
			if _, ok := c.payload.(ResponsePayload); !ok {
				if err := f.validate(rec); err != nil {
					t.Fatalf("Validate: %v", err)
				}
			}
			plain, p, err := OpenCompact(rec, inbox)
			if err != nil {
				t.Fatalf("OpenCompact: %v", err)
			}
			want := reflect.New(reflect.TypeOf(c.payload))
			want.Elem().Set(reflect.ValueOf(c.payload))
			if !reflect.DeepEqual(p, want.Interface()) {
				t.Fatalf("opened %+v, want %+v", p, want.Interface())
			}
			if _, err := OpenPlain(rec, plain); err != nil {
				t.Fatalf("the plain body does not read back: %v", err)
			}
			k, _, err := CompactKeyOf(rec, inbox)
			if err != nil {
				t.Fatal(err)
			}
			if _, p2, err := OpenCompactWithKey(rec, k); err != nil || !reflect.DeepEqual(p2, p) {
				t.Fatalf("disclosed key: %v", err)
			}
		})
	}
}

func TestCompactSealRefusals(t *testing.T) {
	f := newFixture(t, "compact-bad")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	inbox, _ := InboxKeyFromBytes(testInbox)
	other, _ := NewInboxKey()
	rec := f.sealCompactRecord(t, obs, KindCheckin, CheckinPayload{Status: "arrived"}, testInbox)

	if _, _, err := OpenCompact(rec, other); !errors.Is(err, ErrCannotOpen) {
		t.Errorf("another inbox key: %v, want ErrCannotOpen", err)
	}
	k, _, _ := CompactKeyOf(rec, inbox)
	wrong := slices.Clone(k)
	wrong[0] ^= 1
	if _, _, err := OpenCompactWithKey(rec, wrong); !errors.Is(err, ErrCannotOpen) {
		t.Errorf("a wrong disclosed key: %v, want ErrCannotOpen", err)
	}
	for i := range []int{0, 1, 40, len(rec.Sealed) - 1} {
		bad := *rec
		bad.Sealed = slices.Clone(rec.Sealed)
		bad.Sealed[i] ^= 0x10
		if _, _, err := OpenCompact(&bad, inbox); err == nil {
			t.Errorf("a flipped byte %d opened", i)
		}
	}

	files := goodReport()
	files.Attachments = [][]byte{bytes.Repeat([]byte{2}, 32)}
	long := goodReport()
	long.Description = strings.Repeat("The presiding officer refused entry. ", 20)
	for name, c := range map[string]struct {
		kind Kind
		p    any
	}{
		"files":  {KindReport, files},
		"photos": {KindTally, TallyPayload{Station: "X", Contest: "p", Photos: [][]byte{bytes.Repeat([]byte{3}, 32)}}},
		"long":   {KindReport, long},
		"kind":   {KindReview, ReviewPayload{Status: "verified"}},
	} {
		if _, err := SealCompact(c.kind, c.p, obs.Author(), 0, inbox.PublicKey()); !errors.Is(err, ErrNotCompact) {
			t.Errorf("%s: %v, want ErrNotCompact", name, err)
		}
	}

	// A compact seal on a kind that cannot carry it, or unpadded, is
	// rejected by validation.
	ct, _ := SealCompact(KindCheckin, CheckinPayload{Status: "arrived"}, obs.Author(), 0, inbox.PublicKey())
	review, _ := f.founder.SignSealed(f.ms.ID, KindReceipt, f.next(), SealedEnvelope{}, ct)
	if err := f.validate(review); err == nil || !IsRejected(err) {
		t.Errorf("a compactly sealed receipt: %v", err)
	}
	short, _ := obs.SignSealed(f.ms.ID, KindCheckin, f.next(), SealedEnvelope{}, ct[:len(ct)-1])
	if err := f.validate(short); err == nil || !IsRejected(err) {
		t.Errorf("an unpadded compact seal: %v", err)
	}
}

// A check-in or alert sealed for SMS is a record a format-level-1 build
// rejects: it is never offered to one.
func TestCompactSealedCheckinNeedsLevel2(t *testing.T) {
	f := newFixture(t, "compact-level")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	rec := f.sealCompactRecord(t, obs, KindCheckin, CheckinPayload{Status: "arrived"}, testInbox)
	if rec.ReadableAt(1) || rec.ReadableAt(0) || !rec.ReadableAt(2) {
		t.Fatalf("readable at 0, 1, 2: %v %v %v", rec.ReadableAt(0), rec.ReadableAt(1), rec.ReadableAt(2))
	}
	rep := f.sealCompactRecord(t, obs, KindReport, goodReport(), testInbox)
	if !rep.ReadableAt(1) {
		t.Fatal("a compactly sealed report is a sealed report to a level-1 build")
	}
}

// The category dictionary is part of the format: never reordered.
func TestCompactCategoriesFrozen(t *testing.T) {
	for i, c := range BaseTaxonomy {
		if i < len(compactCategories) && compactCategories[i] != c.Code {
			t.Fatalf("compactCategories[%d] = %q, taxonomy has %q: append new codes, never reorder", i, compactCategories[i], c.Code)
		}
	}
}

func TestInboxRecordAlwaysSealed(t *testing.T) {
	f := newFixture(t, "inbox")
	rec := f.sign(f.founder, KindInbox, InboxPayload{Key: testInbox})
	if err := f.validate(rec); err == nil || !IsRejected(err) {
		t.Fatalf("an inbox key in the clear: %v", err)
	}
}

// A member who copies another's compact seal into a record of their own
// gets a record nobody opens: the tag binds author, kind and time.
func TestCompactSealBoundToItsRecord(t *testing.T) {
	f := newFixture(t, "compact-bound")
	victim := f.enroll(f.founder, "victim", RoleObserver)
	thief := f.enroll(f.founder, "thief", RoleObserver)
	inbox, _ := InboxKeyFromBytes(testInbox)
	rec := f.sealCompactRecord(t, victim, KindReport, goodReport(), testInbox)
	copied, err := thief.SignSealed(f.ms.ID, KindReport, rec.CreatedTime(), SealedEnvelope{}, rec.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenCompact(copied, inbox); !errors.Is(err, ErrCannotOpen) {
		t.Fatalf("a copied seal opened under another author: %v", err)
	}
	later, _ := victim.SignSealed(f.ms.ID, KindReport, rec.CreatedTime().Add(time.Hour), SealedEnvelope{}, rec.Sealed)
	if _, _, err := OpenCompact(later, inbox); !errors.Is(err, ErrCannotOpen) {
		t.Fatalf("a seal re-signed at another time opened: %v", err)
	}
}

// A category the dictionary knows, written as text (by a phone whose
// dictionary was shorter), still opens.
func TestCompactCategoryAsText(t *testing.T) {
	body := compactReport{CategoryText: "polling.closure", Severity: 2, Title: "Closed at noon"}
	plain, err := Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	p, err := payloadOf(KindReport, append(plain, 0, 0, 0), 1000)
	if err != nil || p.(*ReportPayload).Category != "polling.closure" {
		t.Fatalf("%+v, %v", p, err)
	}
}
