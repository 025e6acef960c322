package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// joinOnly enrolls newcomer through coordinator's invite but keeps its
// member record on the newcomer's device, so other devices have not heard
// of it yet.
func joinOnly(t testing.TB, coordinator, newcomer *store.Store, role string) incident.ID {
	t.Helper()
	req := store.InviteRequest{Role: role, Label: role}
	if role == incident.RoleCoordinator {
		a := newcomer.Author()
		req.For = &a
	}
	code, err := coordinator.Invite(req)
	if err != nil {
		t.Fatalf("Invite(%s): %v", role, err)
	}
	id, err := newcomer.Join(code)
	if err != nil {
		t.Fatalf("Join(%s): %v", role, err)
	}
	return id
}

// wantOutcome adds rec to s from source and checks the outcome.
func wantOutcome(t testing.TB, s *store.Store, rec *incident.Signed, source string, want store.Outcome) store.Result {
	t.Helper()
	res := s.Add(rec.Raw, source)
	if res.Outcome != want {
		t.Fatalf("Add(%s %s) from %s = %s (%v), want %s", rec.Kind, rec.ID, source, res.Outcome, res.Err, want)
	}
	if res.ID != rec.ID {
		t.Errorf("Add(%s) names %s", rec.ID, res.ID)
	}
	return res
}

func wantReleased(t testing.TB, res store.Result, want ...incident.ID) {
	t.Helper()
	if !sameSet(res.Released, want) || len(res.Released) != len(want) {
		t.Errorf("Released = %s, want %s", idStrings(res.Released), idStrings(want))
	}
}

func wantHas(t testing.TB, s *store.Store, id incident.ID, want bool) {
	t.Helper()
	ok, err := s.Has(id)
	if err != nil || ok != want {
		t.Errorf("Has(%s) = %v, %v; want %v", id, ok, err, want)
	}
}

// testQuarantineMember: a report that arrives before its author's member
// record waits, then gets in when the member record arrives.
func testQuarantineMember(t *testing.T, open opener) {
	c := newClock(t0)
	o := store.Options{Now: c.Now}
	f := open(t, o)
	createMission(t, f)
	obs := open(t, o)
	member := joinOnly(t, f, obs, incident.RoleObserver)
	memberRec, _ := obs.Get(member)
	c.Set(at(12, 0))

	r := mustPut(t, obs, incident.KindReport, report("polling.violence", "S4", at(9, 0), "Fight at the gate"))
	a := mustPut(t, obs, incident.KindAmend, incident.AmendPayload{Target: r.ID.Bytes(),
		Report: report("polling.violence", "S5", at(9, 0), "Fight at the gate (S5)")})
	before := mustCounts(t, f)

	res := wantOutcome(t, f, r, "usb", store.Quarantined)
	var me *incident.MissingError
	if !errors.As(res.Err, &me) || me.Author != obs.Author() {
		t.Errorf("quarantine error %v; want a MissingError naming the author", res.Err)
	}
	if n := mustQuarantine(t, f); n != 1 {
		t.Errorf("QuarantineCount = %d, want 1", n)
	}
	wantHas(t, f, r.ID, false)
	wantList(t, f, store.Filter{})
	if got, _ := f.Get(r.ID); got != nil {
		t.Error("a quarantined record is visible through Get")
	}
	// Arriving again (another source) keeps one copy waiting.
	wantOutcome(t, f, r, "wifi", store.Quarantined)
	wantOutcome(t, f, a, "usb", store.Quarantined)
	if n := mustQuarantine(t, f); n != 2 {
		t.Errorf("QuarantineCount = %d, want 2", n)
	}
	if after := mustCounts(t, f); !mapsEqual(before, after) {
		t.Errorf("quarantined records were counted: %v → %v", before, after)
	}

	res = wantOutcome(t, f, memberRec, "usb", store.Accepted)
	wantReleased(t, res, r.ID, a.ID)
	if n := mustQuarantine(t, f); n != 0 {
		t.Errorf("QuarantineCount = %d after release, want 0", n)
	}
	wantHas(t, f, r.ID, true)
	wantHas(t, f, a.ID, true)
	wantList(t, f, store.Filter{Station: "S5"}, r.ID)
	wantList(t, f, store.Filter{Station: "S4"})
	if role, _ := mustMission(t, f).Role(obs.Author()); role != incident.RoleObserver {
		t.Errorf("observer's role at the founder: %q", role)
	}
	// Released records are ordinary records now: a second copy is a
	// duplicate.
	wantOutcome(t, f, r, "wifi", store.Duplicate)
}

// testQuarantineAmendBeforeReport: amends and reviews that arrive before
// their report wait for it.
func testQuarantineAmendBeforeReport(t *testing.T, open opener) {
	m := newMesh(t, open)
	f := m.founder
	r := mustPut(t, m.obs, incident.KindReport, report("polling.closure", "S1", at(8, 0), "Closed"))
	a := mustPut(t, m.obs, incident.KindAmend, incident.AmendPayload{Target: r.ID.Bytes(),
		Report: report("polling.closure", "S2", at(8, 0), "Closed (S2)")})
	mustAdd(t, m.obs, m.coord, r.ID)
	rv := mustPut(t, m.coord, incident.KindReview, incident.ReviewPayload{Target: r.ID.Bytes(), Status: "verified"})
	ret := mustPut(t, m.obs, incident.KindRetract, incident.RetractPayload{Target: r.ID.Bytes(), Reason: "wrong station"})

	for _, rec := range []*incident.Signed{a, rv, ret} {
		res := wantOutcome(t, f, rec, "peer", store.Quarantined)
		var me *incident.MissingError
		if !errors.As(res.Err, &me) || me.Record != r.ID {
			t.Errorf("%s waits with %v; want a MissingError naming report %s", rec.Kind, res.Err, r.ID)
		}
	}
	if n := mustQuarantine(t, f); n != 3 {
		t.Errorf("QuarantineCount = %d, want 3", n)
	}
	res := wantOutcome(t, f, r, "peer", store.Accepted)
	wantReleased(t, res, a.ID, rv.ID, ret.ID)
	if n := mustQuarantine(t, f); n != 0 {
		t.Errorf("QuarantineCount = %d, want 0", n)
	}
	v, err := f.Report(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Amendments != 1 || v.Report.Station != "S2" || v.Status != "verified" || !v.Retracted || v.RetractReason != "wrong station" {
		t.Errorf("view after release: %d amendments, station %q, status %q, retracted %v (%q)",
			v.Amendments, v.Report.Station, v.Status, v.Retracted, v.RetractReason)
	}
	wantList(t, f, store.Filter{Station: "S2"}, r.ID)
	wantList(t, f, store.Filter{Station: "S1"})
	wantList(t, f, store.Filter{Status: "verified"}, r.ID)
	wantList(t, f, store.Filter{Status: incident.StatusUnreviewed})
}

// testQuarantineChain: an observer enrolled by a second coordinator, whose
// own member record arrives last; everything waiting gets in at once.
func testQuarantineChain(t *testing.T, open opener) {
	c := newClock(t0)
	o := store.Options{Now: c.Now}
	f := open(t, o)
	createMission(t, f)
	coord2 := open(t, o)
	coordMember := joinOnly(t, f, coord2, incident.RoleCoordinator)
	obs2 := open(t, o)
	obsMember := joinOnly(t, coord2, obs2, incident.RoleObserver)
	carrier := open(t, o)
	enroll(t, f, carrier, incident.RoleCarrier, "relay")
	c.Set(at(12, 0))

	r := mustPut(t, obs2, incident.KindReport, report("polling.vote_buying", "S7", at(10, 0), "Cash for votes"))
	mustAdd(t, obs2, coord2, obsMember, r.ID)
	rv := mustPut(t, coord2, incident.KindReview, incident.ReviewPayload{Target: r.ID.Bytes(), Status: "corroborated"})
	obsRec, _ := obs2.Get(obsMember)
	coordRec, _ := coord2.Get(coordMember)

	// The carrier knows only the founder and itself.
	wantOutcome(t, carrier, rv, "usb", store.Quarantined)
	wantOutcome(t, carrier, r, "usb", store.Quarantined)
	res := wantOutcome(t, carrier, obsRec, "usb", store.Quarantined)
	var me *incident.MissingError
	if !errors.As(res.Err, &me) || me.Author != coord2.Author() {
		t.Errorf("member record waits with %v; want it to wait for its issuer", res.Err)
	}
	if n := mustQuarantine(t, carrier); n != 3 {
		t.Errorf("QuarantineCount = %d, want 3", n)
	}
	res = wantOutcome(t, carrier, coordRec, "usb", store.Accepted)
	wantReleased(t, res, obsMember, r.ID, rv.ID)
	if n := mustQuarantine(t, carrier); n != 0 {
		t.Errorf("QuarantineCount = %d, want 0", n)
	}
	ms := mustMission(t, carrier)
	if role, _ := ms.Role(coord2.Author()); role != incident.RoleCoordinator {
		t.Errorf("coordinator 2 is %q at the carrier", role)
	}
	if role, _ := ms.Role(obs2.Author()); role != incident.RoleObserver {
		t.Errorf("observer 2 is %q at the carrier", role)
	}
	wantList(t, carrier, store.Filter{Status: "corroborated"}, r.ID)
	for _, id := range []incident.ID{coordMember, obsMember, r.ID, rv.ID} {
		wantHas(t, carrier, id, true)
	}
}

// testQuarantineBoundPerAuthor: one author key cannot fill the quarantine
// for everyone, whichever peers or files its records come from, and
// released records free its allowance.
func testQuarantineBoundPerAuthor(t *testing.T, open opener) {
	c := newClock(t0)
	o := store.Options{Now: c.Now}
	f := open(t, o)
	createMission(t, f)
	obs := open(t, o)
	member := joinOnly(t, f, obs, incident.RoleObserver)
	obs2 := open(t, o)
	member2 := joinOnly(t, f, obs2, incident.RoleObserver)
	c.Set(at(12, 0))
	var reps, reps2 []*incident.Signed
	for i := 0; i < 5; i++ {
		reps = append(reps, mustPut(t, obs, incident.KindReport, report("polling.closure", "S1", at(i, 0), "closure")))
		reps2 = append(reps2, mustPut(t, obs2, incident.KindReport, report("polling.closure", "S2", at(i, 0), "closure")))
	}
	relay := open(t, store.Options{Now: c.Now, QuarantineAuthorRecords: 3})
	enroll(t, f, relay, incident.RoleCarrier, "relay")

	for i := 0; i < 3; i++ {
		wantOutcome(t, relay, reps[i], fmt.Sprintf("peer%d", i), store.Quarantined)
	}
	// Another source changes nothing: the author is the unit.
	for _, source := range []string{"peerA", "peerZ", "usb.vigil"} {
		res := wantOutcome(t, relay, reps[3], source, store.Rejected)
		if !errors.Is(res.Err, store.ErrQuarantineFull) {
			t.Errorf("4th record of one author from %s: %v, want ErrQuarantineFull", source, res.Err)
		}
	}
	// Already waiting: not a new record, not refused.
	wantOutcome(t, relay, reps[0], "peerA", store.Quarantined)
	// Other authors are unaffected.
	wantOutcome(t, relay, reps2[0], "peerA", store.Quarantined)
	if n := mustQuarantine(t, relay); n != 4 {
		t.Errorf("QuarantineCount = %d, want 4", n)
	}

	mrec, _ := obs.Get(member)
	res := wantOutcome(t, relay, mrec, "peerA", store.Accepted)
	wantReleased(t, res, reps[0].ID, reps[1].ID, reps[2].ID)
	wantOutcome(t, relay, reps[3], "peerA", store.Accepted)
	if n := mustQuarantine(t, relay); n != 1 {
		t.Errorf("QuarantineCount = %d, want 1", n)
	}
	for i := 1; i < 3; i++ {
		wantOutcome(t, relay, reps2[i], "peerA", store.Quarantined)
	}
	res = wantOutcome(t, relay, reps2[3], "peerB", store.Rejected)
	if !errors.Is(res.Err, store.ErrQuarantineFull) {
		t.Errorf("the second author over its bound: %v", res.Err)
	}
	m2, _ := obs2.Get(member2)
	res = wantOutcome(t, relay, m2, "peerC", store.Accepted)
	wantReleased(t, res, reps2[0].ID, reps2[1].ID, reps2[2].ID)
	if n := mustQuarantine(t, relay); n != 0 {
		t.Errorf("QuarantineCount = %d, want 0", n)
	}
	if r, b := mustUsage(t, relay); r != 0 || b != 0 {
		t.Errorf("empty quarantine counts %d records, %d bytes", r, b)
	}
}

// testQuarantineBytesPerAuthor: the byte bound works like the record bound.
func testQuarantineBytesPerAuthor(t *testing.T, open opener) {
	c := newClock(t0)
	o := store.Options{Now: c.Now}
	f := open(t, o)
	createMission(t, f)
	obs := open(t, o)
	joinOnly(t, f, obs, incident.RoleObserver)
	obs2 := open(t, o)
	joinOnly(t, f, obs2, incident.RoleObserver)
	c.Set(at(12, 0))
	var reps []*incident.Signed
	for i := 0; i < 3; i++ {
		reps = append(reps, mustPut(t, obs, incident.KindReport, report("polling.closure", "S1", at(i, 0), "closure")))
	}
	other := mustPut(t, obs2, incident.KindReport, report("polling.closure", "S2", at(1, 0), "closure"))
	limit := int64(len(reps[0].Raw) + len(reps[1].Raw))
	relay := open(t, store.Options{Now: c.Now, QuarantineAuthorBytes: limit})
	enroll(t, f, relay, incident.RoleCarrier, "relay")
	wantOutcome(t, relay, reps[0], "peerA", store.Quarantined)
	wantOutcome(t, relay, reps[1], "peerA", store.Quarantined)
	res := wantOutcome(t, relay, reps[2], "peerB", store.Rejected)
	if !errors.Is(res.Err, store.ErrQuarantineFull) {
		t.Errorf("over the byte bound: %v, want ErrQuarantineFull", res.Err)
	}
	wantOutcome(t, relay, other, "peerA", store.Quarantined)
	if r, b := mustUsage(t, relay); r != 3 || b != limit+int64(len(other.Raw)) {
		t.Errorf("quarantine usage %d records, %d bytes; want 3 and %d", r, b, limit+int64(len(other.Raw)))
	}
}

func mustUsage(t testing.TB, s *store.Store) (int, int64) {
	t.Helper()
	r, b, err := s.QuarantineUsage()
	if err != nil {
		t.Fatal(err)
	}
	return r, b
}

// testQuarantinedInvalid: records judged only once their author is known
// are then stored, rejected, or (when the author's role is too weak) held
// until an enrollment with a stronger role arrives.
func testQuarantinedInvalid(t *testing.T, open opener) {
	c := newClock(t0)
	o := store.Options{Now: c.Now}
	f := open(t, o)
	createMission(t, f)
	obs := open(t, o)
	member := joinOnly(t, f, obs, incident.RoleObserver)
	c.Set(at(12, 0))
	good := mustPut(t, obs, incident.KindReport, report("polling.closure", "S1", at(1, 0), "fine"))
	bad := mustSign(t, obs.Signer(), mustMission(t, obs).ID, incident.KindReport, at(1, 0),
		incident.ReportPayload{Category: "polling.closure", Severity: 0, Title: "severity zero"})
	review := mustSign(t, obs.Signer(), mustMission(t, obs).ID, incident.KindReview, at(1, 0),
		incident.ReviewPayload{Target: good.ID.Bytes(), Status: "verified"})
	for _, r := range []*incident.Signed{good, bad, review} {
		wantOutcome(t, f, r, "peer", store.Quarantined)
	}
	mrec, _ := obs.Get(member)
	res := wantOutcome(t, f, mrec, "peer", store.Accepted)
	wantReleased(t, res, good.ID)
	wantHas(t, f, bad.ID, false)
	wantHas(t, f, review.ID, false)
	// The epoch record is the founder's secret epoch 1, written with the mission.
	wantCounts(t, f, map[incident.Kind]int{incident.KindMission: 1, incident.KindEpoch: 1, incident.KindMember: 1, incident.KindReport: 1})
	// The invalid report is gone for good; the observer's review waits:
	// an observer may not review, but this device may become a coordinator.
	if n := mustQuarantine(t, f); n != 1 {
		t.Fatalf("QuarantineCount = %d; want 1 (the observer's review)", n)
	}
	wantOutcome(t, f, bad, "peer", store.Rejected)
	upgrade := joinOnly(t, f, obs, incident.RoleCoordinator)
	urec, _ := obs.Get(upgrade)
	res = wantOutcome(t, f, urec, "peer", store.Accepted)
	wantReleased(t, res, review.ID)
	wantList(t, f, store.Filter{Status: "verified"}, good.ID)
	if n := mustQuarantine(t, f); n != 0 {
		t.Errorf("QuarantineCount = %d after the upgrade", n)
	}
}

// A flood of unknown authors in large batches keeps the quarantine at its
// cap, evicting the oldest first (a sixteenth of the cap at a time, so a
// flood at the cap does not walk the waiting records for each new one),
// across batches, a reopen, and a device clock that goes back.
func TestQuarantineFloodInBatches(t *testing.T) {
	c := newClock(t0)
	home := t.TempDir()
	o := store.Options{Now: c.Now, QuarantineRecords: 160}
	f, _ := initHome(t, home, o)
	mid := createMission(t, f)
	var flood []*incident.Signed
	for seed := byte(1); seed <= 4; seed++ {
		flood = append(flood, unknownReports(t, mid, 250, seed)...)
	}
	add := func(st *store.Store, recs []*incident.Signed) {
		t.Helper()
		for i := 0; i < len(recs); i += 64 {
			var raws [][]byte
			for _, r := range recs[i:min(i+64, len(recs))] {
				raws = append(raws, r.Raw)
			}
			c.Advance(time.Second)
			res, err := st.AddMany(raws, "peer", nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, x := range res {
				if x.Outcome != store.Quarantined {
					t.Fatalf("record %d: %s (%v), want quarantined", i+k, x.Outcome, x.Err)
				}
			}
		}
	}
	check := func(st *store.Store, recs []*incident.Signed, what string) {
		t.Helper()
		n := mustQuarantine(t, st)
		if n > 160 || n < 160-160/16 {
			t.Fatalf("%s: %d waiting, want between %d and the cap of 160", what, n, 160-160/16)
		}
		// The newest are the ones waiting. A batch arrives within one
		// second, so within a batch the order is the IDs': the batch at
		// the boundary may be partly evicted.
		for i, r := range recs {
			switch waiting := st.Declined(r.ID); {
			case i < len(recs)-n-64 && waiting:
				t.Fatalf("%s: record %d of %d still waits, but %d newer ones do: the oldest go first", what, i, len(recs), n)
			case i >= len(recs)-n+64 && !waiting:
				t.Fatalf("%s: record %d of %d was evicted, before older ones", what, i, len(recs))
			}
		}
	}
	add(f, flood[:600])
	check(f, flood[:600], "after 600")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	o.KDF = &cheapKDF
	g, err := store.Open(home, passphrase, o)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	add(g, flood[600:800])
	check(g, flood[:800], "after a reopen")
	// The clock goes back an hour: records now arrive "before" those
	// waiting, so they count as the oldest (and go first); the cap holds
	// and every record is still taken.
	c.Advance(-time.Hour)
	add(g, flood[800:])
	if n := mustQuarantine(t, g); n > 160 || n < 160-160/16 {
		t.Fatalf("after the clock went back: %d waiting, cap 160", n)
	}
}
