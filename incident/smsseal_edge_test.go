package incident

import (
	"reflect"
	"testing"
)

func TestCompactSealEdgeValues(t *testing.T) {
	f := newFixture(t, "compactedge")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	inbox, _ := InboxKeyFromBytes(testInbox)
	zero := int64(0)
	r1 := goodReport()
	r1.Lat, r1.Lon = &zero, &zero
	r1.Title = "Urne déplacée — 投票箱 😀"
	r1.Description = "Ñandú\u00a0é"
	r1.Occurred = f.next().UnixMilli() + 3_600_000 // in the future: negative Before
	r2 := goodReport()
	r2.Occurred = 0
	r2.Severity = 4
	r2.Reach = 0
	cases := []struct {
		name    string
		kind    Kind
		payload any
	}{
		{"unicode lat0", KindReport, r1},
		{"occurred 0", KindReport, r2},
		{"empty alert", KindAlert, AlertPayload{}},
		{"alert lat0", KindAlert, AlertPayload{Lat: &zero, Lon: &zero}},
		{"tally zeros", KindTally, TallyPayload{Station: "KE-1", Contest: "p", Votes: []VoteCount{{Choice: "A", Votes: 0}, {Choice: "B", Votes: 0}}}},
		{"checkin no station", KindCheckin, CheckinPayload{Status: "closed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := f.next()
			ct, err := SealCompact(c.kind, c.payload, obs.Author(), at.UnixMilli(), inbox.PublicKey())
			if err != nil {
				t.Fatalf("seal: %v", err)
			}
			rec, err := obs.SignSealed(f.ms.ID, c.kind, at, SealedEnvelope{}, ct)
			if err != nil {
				t.Fatal(err)
			}
			_, p, err := OpenCompact(rec, inbox)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			want := reflect.New(reflect.TypeOf(c.payload))
			want.Elem().Set(reflect.ValueOf(c.payload))
			if !reflect.DeepEqual(p, want.Interface()) {
				t.Fatalf("opened %+v, want %+v", p, want.Interface())
			}
		})
	}
}

// A later build that appends a category to compactCategories still opens
// an older phone's report that named that category as text.
func TestCompactCategoryDictionaryMayGrow(t *testing.T) {
	f := newFixture(t, "compactfwd")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	inbox, _ := InboxKeyFromBytes(testInbox)
	r := goodReport()
	r.Category = "polling.queue_jumping"
	at := f.next()
	ct, _ := SealCompact(KindReport, r, obs.Author(), at.UnixMilli(), inbox.PublicKey())
	rec, _ := obs.SignSealed(f.ms.ID, KindReport, at, SealedEnvelope{}, ct)
	old := compactCategories
	compactCategories = append(append([]string(nil), old...), "polling.queue_jumping")
	defer func() { compactCategories = old }()
	if _, _, err := OpenCompact(rec, inbox); err != nil {
		t.Errorf("a newer dictionary cannot open an older phone's report: %v", err)
	}
}
