package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// runStoreSuite runs the behaviour every store must have against stores
// that open makes (STYLE.md, "One suite, many implementations"). Each
// implementation's test is one call; see TestBadgerStore.
//
// Everything here goes through the public API only, and devices talk the
// way bundles and sync will: one store's Get(id).Raw or ByKind output fed
// to another store's Add.
func runStoreSuite(t *testing.T, open opener) {
	cases := []struct {
		name string
		run  func(*testing.T, opener)
	}{
		{"Empty", testEmpty},
		{"MissionFlow", testMissionFlow},
		{"ListFilters", testListFilters},
		{"Permissions", testPermissions},
		{"JoinChecks", testJoinChecks},
		{"InviteLimits", testInviteLimits},
		{"QuarantineMember", testQuarantineMember},
		{"QuarantineAmendBeforeReport", testQuarantineAmendBeforeReport},
		{"QuarantineChain", testQuarantineChain},
		{"QuarantineBoundPerAuthor", testQuarantineBoundPerAuthor},
		{"QuarantineBytesPerAuthor", testQuarantineBytesPerAuthor},
		{"QuarantineJudgedLater", testQuarantinedInvalid},
		{"Duplicate", testDuplicate},
		{"InvalidChangesNothing", testInvalidChangesNothing},
		{"Quota", testQuota},
		{"QuotaBytes", testQuotaBytes},
		{"OrderIndependence", testOrderIndependence},
		{"RoleUpgradeOrderFree", testRoleUpgradeOrderFree},
		{"OtherFamilyFilter", testOtherFamilyFilter},
		{"ConcurrentUse", testConcurrentUse},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Every case uses its own stores; running two at once keeps the
			// suite's wall time down while fsyncs wait.
			t.Parallel()
			c.run(t, open)
		})
	}
}

// mesh is a mission of four devices sharing one fake clock: a founding
// coordinator, a second coordinator, an observer and a carrier, each
// enrolled and known to the founder.
type mesh struct {
	clock                      *clock
	founder, coord, obs, carry *store.Store
	mission                    incident.ID
	coordMember, obsMember     incident.ID
	carryMember                incident.ID
}

func newMesh(t *testing.T, open opener) *mesh {
	t.Helper()
	m := &mesh{clock: newClock(t0)}
	o := store.Options{Now: m.clock.Now}
	m.founder = open(t, o)
	m.mission = createMission(t, m.founder)
	m.coord, m.obs, m.carry = open(t, o), open(t, o), open(t, o)
	m.coordMember = enroll(t, m.founder, m.coord, incident.RoleCoordinator, "desk 2")
	m.obsMember = enroll(t, m.founder, m.obs, incident.RoleObserver, "observer 17")
	m.carryMember = enroll(t, m.founder, m.carry, incident.RoleCarrier, "bus driver")
	// Every device hears of every member, as the first sync would do.
	for _, s := range []*store.Store{m.coord, m.obs, m.carry} {
		syncAll(t, m.founder, s)
	}
	// Reports are written a few hours into the day, about events before.
	m.clock.Set(t0.Add(12 * time.Hour))
	return m
}

// at is a time on election day.
func at(h, min int) time.Time {
	return t0.Add(time.Duration(h)*time.Hour + time.Duration(min)*time.Minute)
}

func testEmpty(t *testing.T, open opener) {
	s := open(t, store.Options{Now: newClock(t0).Now})
	for k, n := range mustCounts(t, s) {
		if n != 0 {
			t.Errorf("fresh store holds %d %s records", n, k)
		}
	}
	if _, err := s.Mission(); !errors.Is(err, store.ErrNoMission) {
		t.Errorf("Mission() on a fresh store: %v, want ErrNoMission", err)
	}
	if _, err := s.List(store.Filter{}); !errors.Is(err, store.ErrNoMission) {
		t.Errorf("List on a fresh store: %v, want ErrNoMission", err)
	}
	if _, err := s.Put(incident.KindCheckin, incident.CheckinPayload{Status: "arrived"}); !errors.Is(err, store.ErrNoMission) {
		t.Errorf("Put on a fresh store: %v, want ErrNoMission", err)
	}
	var missing incident.ID
	missing[0] = 1
	if r, err := s.Get(missing); r != nil || err != nil {
		t.Errorf("Get(missing) = %v, %v; want nil, nil", r, err)
	}
	if ok, err := s.Has(missing); ok || err != nil {
		t.Errorf("Has(missing) = %v, %v", ok, err)
	}
	if n := mustQuarantine(t, s); n != 0 {
		t.Errorf("QuarantineCount = %d", n)
	}
	if s.Author().IsZero() {
		t.Error("a fresh store has no device key")
	}
}

// testMissionFlow: an observer reports, coordinators review, the
// observer amends; records travel between four devices and every device's
// indexes follow.
func testMissionFlow(t *testing.T, open opener) {
	m := newMesh(t, open)
	f, obs := m.founder, m.obs

	ms, err := f.Mission()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		who  *store.Store
		role string
	}{{f, incident.RoleCoordinator}, {m.coord, incident.RoleCoordinator}, {obs, incident.RoleObserver}, {m.carry, incident.RoleCarrier}} {
		if role, ok := ms.Role(c.who.Author()); !ok || role != c.role {
			t.Errorf("founder sees %s as %q, want %q", c.who.Author().Short(), role, c.role)
		}
	}
	if ms.ID != m.mission || ms.Founder != f.Author() {
		t.Errorf("mission state %s founded by %s, want %s by %s", ms.ID, ms.Founder.Short(), m.mission, f.Author().Short())
	}
	for _, s := range []*store.Store{m.coord, obs, m.carry} {
		if !bytes.Equal(s.Secret(), f.Secret()) || len(f.Secret()) != 32 {
			t.Errorf("joined device has secret %x, founder %x", s.Secret(), f.Secret())
		}
	}

	r1 := mustPut(t, obs, incident.KindReport, report("polling.intimidation", "S1", at(1, 0), "Crowd blocks entrance"))
	r2 := mustPut(t, obs, incident.KindReport, report("registration.name_missing", "S2", at(2, 0), "Names missing"))
	r3 := mustPut(t, obs, incident.KindReport, report("polling.late_opening", "S1", at(3, 0), "Opened late"))
	mustAdd(t, obs, f, r1.ID, r2.ID, r3.ID)

	wantList(t, f, store.Filter{}, r1.ID, r2.ID, r3.ID)
	wantList(t, f, store.Filter{Status: incident.StatusUnreviewed}, r1.ID, r2.ID, r3.ID)
	wantList(t, f, store.Filter{Status: "verified"})

	// The founder verifies r1: the status index moves.
	rv1 := mustPut(t, f, incident.KindReview, incident.ReviewPayload{Target: r1.ID.Bytes(), Status: "verified", Note: "confirmed by phone"})
	wantList(t, f, store.Filter{Status: "verified"}, r1.ID)
	wantList(t, f, store.Filter{Status: incident.StatusUnreviewed}, r2.ID, r3.ID)
	if v, err := f.Report(r1.ID); err != nil || v.Status != "verified" {
		t.Errorf("Report(r1) status %q, %v; want verified", v.Status, err)
	}

	// The review reaches the observer, whose index follows too.
	mustAdd(t, f, obs, rv1.ID)
	wantList(t, obs, store.Filter{Status: "verified"}, r1.ID)
	wantList(t, obs, store.Filter{Status: incident.StatusUnreviewed}, r2.ID, r3.ID)

	// The second coordinator gets everything, escalates after the
	// founder's review; the founder's index moves again.
	syncAll(t, f, m.coord)
	rv2 := mustPut(t, m.coord, incident.KindReview, incident.ReviewPayload{Target: r1.ID.Bytes(), Status: "escalated",
		Prev: [][]byte{rv1.ID.Bytes()}})
	mustAdd(t, m.coord, f, rv2.ID)
	wantList(t, f, store.Filter{Status: "verified"})
	wantList(t, f, store.Filter{Status: "escalated"}, r1.ID)
	v, err := f.Report(r1.ID)
	if err != nil || v.Status != "escalated" || v.Conflict {
		t.Errorf("Report(r1) = status %q conflict %v, %v; want escalated without conflict", v.Status, v.Conflict, err)
	}
	if len(v.History) != 3 {
		t.Errorf("r1 history has %d events, want 3 (report and two reviews)", len(v.History))
	}
	rel, err := f.Related(r1.ID)
	if err != nil || len(rel) != 2 {
		t.Errorf("Related(r1) = %d records, %v; want 2", len(rel), err)
	}

	// The observer amends r3, moving it to station S3.
	a3 := mustPut(t, obs, incident.KindAmend, incident.AmendPayload{Target: r3.ID.Bytes(),
		Report: report("polling.late_opening", "S3", at(3, 0), "Opened late (station corrected)")})
	mustAdd(t, obs, f, a3.ID)
	wantList(t, f, store.Filter{Station: "S1"}, r1.ID)
	wantList(t, f, store.Filter{Station: "S3"}, r3.ID)
	v, err = f.Report(r3.ID)
	if err != nil || v.Amendments != 1 || v.Report.Station != "S3" || v.Report.Title != "Opened late (station corrected)" {
		t.Errorf("Report(r3) = %d amendments, station %q, title %q, %v", v.Amendments, v.Report.Station, v.Report.Title, err)
	}

	// Every device that receives the same records lists them the same.
	syncAll(t, f, m.carry)
	syncAll(t, f, obs)
	syncAll(t, f, m.coord)
	want := listJSON(t, f, store.Filter{})
	for name, s := range map[string]*store.Store{"carrier": m.carry, "observer": obs, "coordinator 2": m.coord} {
		if got := listJSON(t, s, store.Filter{}); got != want {
			t.Errorf("%s lists\n%s\nfounder lists\n%s", name, got, want)
		}
		if got, want := mustCounts(t, s), mustCounts(t, f); !mapsEqual(got, want) {
			t.Errorf("%s counts %v, founder %v", name, got, want)
		}
	}
	// A new mission starts at secret epoch 1: the founder's epoch record
	// is held besides the genesis.
	wantCounts(t, f, map[incident.Kind]int{incident.KindMission: 1, incident.KindEpoch: 1, incident.KindMember: 3,
		incident.KindReport: 3, incident.KindReview: 2, incident.KindAmend: 1})
	got, err := f.ByAuthor(obs.Author())
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []incident.ID
	for _, r := range got {
		gotIDs = append(gotIDs, r.ID)
	}
	if wantIDs := []incident.ID{m.obsMember, r1.ID, r2.ID, r3.ID, a3.ID}; !sameSet(gotIDs, wantIDs) {
		t.Errorf("ByAuthor(observer) = %s, want %s", idStrings(gotIDs), idStrings(wantIDs))
	}
	reports, err := f.ByKind(incident.KindReport)
	if err != nil || len(reports) != 3 {
		t.Errorf("ByKind(report) = %d, %v", len(reports), err)
	}
	if _, err := f.Report(m.obsMember); err == nil {
		t.Error("Report of a member record succeeded")
	}
	var missing incident.ID
	missing[5] = 9
	if _, err := f.Report(missing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Report of a missing record: %v, want ErrNotFound", err)
	}
}

// testListFilters checks every filter against hand-computed answers.
func testListFilters(t *testing.T, open opener) {
	m := newMesh(t, open)
	f, obs := m.founder, m.obs
	put := func(s *store.Store, cat, station string, occ time.Time) incident.ID {
		r := mustPut(t, s, incident.KindReport, report(cat, station, occ, "t "+cat))
		if s != f {
			mustAdd(t, s, f, r.ID)
		}
		return r.ID
	}
	r1 := put(obs, "polling.intimidation", "S1", at(1, 0))
	r2 := put(obs, "registration.name_missing", "S2", at(2, 0))
	r3 := put(obs, "polling.late_opening", "S1", at(3, 0))
	r4 := put(f, "other", "", at(4, 0))
	r5 := put(f, "infrastructure.power_outage", "S2", at(5, 0))
	mustPut(t, f, incident.KindReview, incident.ReviewPayload{Target: r3.Bytes(), Status: "corroborated"})

	wantList(t, f, store.Filter{}, r1, r2, r3, r4, r5)
	wantList(t, f, store.Filter{Category: "polling"}, r1, r3)
	wantList(t, f, store.Filter{Category: "registration"}, r2)
	wantList(t, f, store.Filter{Category: "disinformation"})
	wantList(t, f, store.Filter{Category: "polling.intimidation"}, r1)
	wantList(t, f, store.Filter{Category: "other"}, r4)
	wantList(t, f, store.Filter{Station: "S1"}, r1, r3)
	wantList(t, f, store.Filter{Station: "S2"}, r2, r5)
	wantList(t, f, store.Filter{Station: "S9"})
	wantList(t, f, store.Filter{Author: obs.Author()}, r1, r2, r3)
	wantList(t, f, store.Filter{Author: f.Author()}, r4, r5)
	wantList(t, f, store.Filter{Author: m.carry.Author()})
	wantList(t, f, store.Filter{Status: "corroborated"}, r3)
	wantList(t, f, store.Filter{Status: incident.StatusUnreviewed}, r1, r2, r4, r5)
	wantList(t, f, store.Filter{Since: at(2, 0)}, r2, r3, r4, r5)
	wantList(t, f, store.Filter{Since: at(2, 1)}, r3, r4, r5)
	wantList(t, f, store.Filter{Until: at(2, 0)}, r1, r2)
	wantList(t, f, store.Filter{Since: at(2, 0), Until: at(3, 0)}, r2, r3)
	wantList(t, f, store.Filter{Limit: 2}, r1, r2)
	wantList(t, f, store.Filter{Limit: 10}, r1, r2, r3, r4, r5)
	wantList(t, f, store.Filter{Category: "polling", Limit: 1}, r1)
	wantList(t, f, store.Filter{Category: "polling", Station: "S1", Status: incident.StatusUnreviewed}, r1)
	wantList(t, f, store.Filter{Author: obs.Author(), Station: "S2"}, r2)
	wantList(t, f, store.Filter{Author: obs.Author(), Since: at(2, 0), Limit: 1}, r2)
	wantList(t, f, store.Filter{Status: incident.StatusUnreviewed, Since: at(3, 0)}, r4, r5)
	wantList(t, f, store.Filter{Category: "polling.late_opening", Status: "corroborated"}, r3)
	wantList(t, f, store.Filter{Category: "polling.late_opening", Status: "verified"})

	// An amendment that changes category and time re-indexes both.
	a2 := mustPut(t, obs, incident.KindAmend, incident.AmendPayload{Target: r2.Bytes(),
		Report: report("polling.materials_missing", "S2", at(6, 0), "Ballots missing")})
	mustAdd(t, obs, f, a2.ID)
	wantList(t, f, store.Filter{}, r1, r3, r4, r5, r2)
	wantList(t, f, store.Filter{Category: "registration"})
	wantList(t, f, store.Filter{Category: "registration.name_missing"})
	wantList(t, f, store.Filter{Category: "polling"}, r1, r3, r2)
	wantList(t, f, store.Filter{Category: "polling.materials_missing"}, r2)
	wantList(t, f, store.Filter{Until: at(2, 30)}, r1)
	wantList(t, f, store.Filter{Since: at(5, 30)}, r2)
	wantList(t, f, store.Filter{Station: "S2"}, r5, r2)

	// Scan stops when its callback says so, and passes the error on.
	stop := errors.New("enough")
	n := 0
	err := f.Scan(store.Filter{}, func(incident.ReportView) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Scan with a stopping callback: %d calls, %v", n, err)
	}
}

// testPermissions: a carrier may not report, an observer may not review;
// a refused record is not stored anywhere.
func testPermissions(t *testing.T, open opener) {
	m := newMesh(t, open)
	f, obs, car := m.founder, m.obs, m.carry
	r := mustPut(t, obs, incident.KindReport, report("polling.closure", "S1", at(1, 0), "Closed at noon"))
	mustAdd(t, obs, f, r.ID)
	mustAdd(t, obs, car, r.ID)

	// refuse checks that Put refuses, says why (want is in the message),
	// and stores nothing, not even in quarantine.
	refuse := func(s *store.Store, who string, kind incident.Kind, payload any, want string) {
		t.Helper()
		before := mustCounts(t, s)
		beforeList := listJSON(t, s, store.Filter{})
		rec, err := s.Put(kind, payload)
		if err == nil {
			t.Errorf("%s could Put a %s record (%s)", who, kind, rec.ID)
			return
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s Put %s: %v; want an error saying %q", who, kind, err, want)
		}
		if after := mustCounts(t, s); !mapsEqual(before, after) {
			t.Errorf("%s's refused %s changed counts %v → %v", who, kind, before, after)
		}
		if listJSON(t, s, store.Filter{}) != beforeList {
			t.Errorf("%s's refused %s changed the listing", who, kind)
		}
		if n := mustQuarantine(t, s); n != 0 {
			t.Errorf("%s's refused %s is waiting in quarantine", who, kind)
		}
	}
	refuse(car, "carrier", incident.KindReport, report("polling.closure", "S1", at(1, 0), "Carrier report"), "may not sign")
	refuse(car, "carrier", incident.KindCheckin, incident.CheckinPayload{Status: "arrived"}, "may not sign")
	refuse(car, "carrier", incident.KindAlert, incident.AlertPayload{Note: "help"}, "may not sign")
	refuse(car, "carrier", incident.KindReview, incident.ReviewPayload{Target: r.ID.Bytes(), Status: "verified"}, "may not sign")
	refuse(obs, "observer", incident.KindReview, incident.ReviewPayload{Target: r.ID.Bytes(), Status: "verified"}, "may not sign")
	refuse(obs, "observer", incident.KindStation, incident.StationPayload{Code: "S1", Name: "School"}, "may not sign")
	refuse(obs, "observer", incident.KindRevoke, incident.RevokePayload{Member: ab(car.Author())}, "may not sign")
	refuse(obs, "observer", incident.KindConfig, incident.ConfigPayload{}, "may not sign")
	refuse(obs, "observer", incident.KindCheckpoint, incident.CheckpointPayload{Root: make([]byte, 32), Count: 1}, "may not sign")
	// Invalid payloads by a permitted author are refused the same way.
	refuse(obs, "observer", incident.KindReport, report("polling.closure", "S1", at(1, 0), ""), "title")
	refuse(obs, "observer", incident.KindReport, incident.ReportPayload{Category: "polling.closure", Severity: 5, Title: "x"}, "severity")
	refuse(obs, "observer", incident.KindReport, report("weather.rain", "S1", at(1, 0), "Rain"), "category")
	refuse(f, "founder", incident.KindReview, incident.ReviewPayload{Target: r.ID.Bytes(), Status: "maybe"}, "payload.status")

	// Put never parks a record in quarantine: amending a report this device
	// does not hold is refused and stores nothing.
	other := mustPut(t, m.coord, incident.KindReport, report("other", "", at(1, 0), "Coordinator's own"))
	before := mustCounts(t, obs)
	if _, err := obs.Put(incident.KindAmend, incident.AmendPayload{Target: other.ID.Bytes(),
		Report: report("other", "", at(1, 0), "x")}); err == nil {
		t.Error("observer amended a report it does not hold")
	}
	if after := mustCounts(t, obs); !mapsEqual(before, after) || mustQuarantine(t, obs) != 0 {
		t.Errorf("refused amend changed the store: %v → %v, quarantine %d", before, after, mustQuarantine(t, obs))
	}
	// Amending someone else's report is refused, even when held.
	mustAdd(t, m.coord, obs, other.ID)
	if _, err := obs.Put(incident.KindAmend, incident.AmendPayload{Target: other.ID.Bytes(),
		Report: report("other", "", at(1, 0), "hijack")}); !incident.IsRejected(err) {
		t.Errorf("observer amending the coordinator's report: %v, want a FieldError", err)
	}

	// The same records signed elsewhere and carried in are not stored: the
	// receiving store judges, not the sender. They may wait for an
	// enrollment with a stronger role (see RoleUpgradeOrderFree), but they
	// never count, list or index.
	forged := []struct {
		name string
		rec  *incident.Signed
	}{
		{"carrier report", mustSign(t, car.Signer(), m.mission, incident.KindReport, at(1, 0), report("polling.closure", "S1", at(1, 0), "relay report"))},
		{"observer review", mustSign(t, obs.Signer(), m.mission, incident.KindReview, at(1, 0), incident.ReviewPayload{Target: r.ID.Bytes(), Status: "verified"})},
		{"observer revoke", mustSign(t, obs.Signer(), m.mission, incident.KindRevoke, at(1, 0), incident.RevokePayload{Member: ab(car.Author())})},
	}
	beforeF, beforeList := mustCounts(t, f), listJSON(t, f, store.Filter{})
	for _, c := range forged {
		res := f.Add(c.rec.Raw, "peer")
		if (res.Outcome != store.Rejected && res.Outcome != store.Quarantined) || !strings.Contains(fmt.Sprint(res.Err), "may not sign") {
			t.Errorf("Add(%s) = %s, %v; want it refused or held because the role may not sign it", c.name, res.Outcome, res.Err)
		}
		if res.ID != c.rec.ID {
			t.Errorf("Add(%s) reports ID %s, want %s", c.name, res.ID, c.rec.ID)
		}
		if ok, _ := f.Has(c.rec.ID); ok {
			t.Errorf("%s was stored", c.name)
		}
	}
	if after := mustCounts(t, f); !mapsEqual(beforeF, after) || listJSON(t, f, store.Filter{}) != beforeList {
		t.Errorf("rejected records changed the founder's store: %v → %v", beforeF, after)
	}

	// Only coordinators invite; coordinator invites must name a device.
	for name, s := range map[string]*store.Store{"observer": obs, "carrier": car} {
		if _, err := s.Invite(store.InviteRequest{Role: incident.RoleObserver}); err == nil {
			t.Errorf("%s could invite", name)
		}
	}
	if _, err := f.Invite(store.InviteRequest{Role: incident.RoleCoordinator}); err == nil {
		t.Error("founder made a bearer coordinator invite")
	}
	if _, err := f.Invite(store.InviteRequest{Role: "admin"}); err == nil {
		t.Error("founder invited to role admin")
	}
	if _, err := f.CreateMission("again", "", false); !errors.Is(err, store.ErrHasMission) {
		t.Errorf("second CreateMission: %v, want ErrHasMission", err)
	}
}

// testJoinChecks: expiry by the joiner's clock, device binding, one
// mission per device, one enrollment per role.
func testJoinChecks(t *testing.T, open opener) {
	c := newClock(t0)
	f := open(t, store.Options{Now: c.Now})
	createMission(t, f)
	joinerClock := newClock(t0)
	joiner := open(t, store.Options{Now: joinerClock.Now})
	stranger := open(t, store.Options{Now: c.Now})

	code, err := f.Invite(store.InviteRequest{Role: incident.RoleObserver, Expires: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	joinerClock.Set(t0.Add(2 * time.Hour))
	if _, err := joiner.Join(code); !errors.Is(err, incident.ErrInvite) {
		t.Errorf("Join of an expired invite: %v, want ErrInvite", err)
	}
	if _, err := joiner.Mission(); !errors.Is(err, store.ErrNoMission) {
		t.Errorf("a refused Join left the device in a mission: %v", err)
	}
	joinerClock.Set(t0.Add(30 * time.Minute))
	if _, err := joiner.Join(code); err != nil {
		t.Errorf("Join before expiry: %v", err)
	}
	if _, err := joiner.Join(code); err == nil {
		t.Error("the same device joined twice with the same role")
	}

	a := joiner.Author()
	bound, err := f.Invite(store.InviteRequest{Role: incident.RoleCoordinator, For: &a})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stranger.Join(bound); !errors.Is(err, incident.ErrInvite) {
		t.Errorf("a coordinator invite bound to another device: %v, want ErrInvite", err)
	}
	if _, err := stranger.Mission(); !errors.Is(err, store.ErrNoMission) {
		t.Errorf("a refused Join left the stranger in a mission: %v", err)
	}
	if _, err := joiner.Join(bound); err != nil {
		t.Errorf("bound coordinator invite for the right device: %v", err)
	}
	ms, _ := joiner.Mission()
	if role, _ := ms.Role(a); role != incident.RoleCoordinator {
		t.Errorf("after the coordinator invite the joiner is %q", role)
	}

	// An invite to another mission is refused.
	g := open(t, store.Options{Now: c.Now})
	createMission(t, g)
	code2, err := g.Invite(store.InviteRequest{Role: incident.RoleObserver})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := joiner.Join(code2); err == nil {
		t.Error("a device joined a second mission")
	}
	if _, err := joiner.Join("NOT-AN-INVITE"); !errors.Is(err, incident.ErrInvite) {
		t.Errorf("Join of garbage: %v, want ErrInvite", err)
	}
}

// testInviteLimits: an invite the network or Join would refuse must not be
// made, and a Join that fails must leave the device outside the mission.
func testInviteLimits(t *testing.T, open opener) {
	c := newClock(t0)
	f := open(t, store.Options{Now: c.Now})
	createMission(t, f)
	bootstrap := make([]string, 17)
	for i := range bootstrap {
		bootstrap[i] = fmt.Sprintf("/ip4/192.168.1.%d/udp/4001/quic-v1", i+1)
	}
	for _, c2 := range []struct {
		name string
		req  store.InviteRequest
	}{
		// 60 characters but 120 bytes: the record limit is in bytes.
		{"120-byte label", store.InviteRequest{Role: incident.RoleObserver, Label: strings.Repeat("é", 60)}},
		{"label with NUL", store.InviteRequest{Role: incident.RoleObserver, Label: "van\x00 2"}},
		{"17 bootstrap addresses", store.InviteRequest{Role: incident.RoleObserver, Bootstrap: bootstrap}},
	} {
		code, err := f.Invite(c2.req)
		if err != nil {
			continue // refused up front: good
		}
		joiner := open(t, store.Options{Now: c.Now})
		if _, jerr := joiner.Join(code); jerr != nil {
			t.Errorf("BUG: Invite made a code (%s) that Join cannot redeem: %v", c2.name, jerr)
			if _, err := joiner.Mission(); err == nil {
				t.Errorf("BUG: the failed Join (%s) left the device holding the mission: it adopts the genesis before its member record is judged", c2.name)
			}
		}
	}
	if _, err := f.Invite(store.InviteRequest{Role: incident.RoleObserver, Label: strings.Repeat("a", incident.MaxLabelLen+1)}); err == nil {
		t.Error("Invite accepted a label over the limit")
	}
	if _, err := f.Invite(store.InviteRequest{Role: incident.RoleObserver, Label: strings.Repeat("a", incident.MaxLabelLen)}); err != nil {
		t.Errorf("Invite refused a label at the limit: %v", err)
	}
}

func testDuplicate(t *testing.T, open opener) {
	m := newMesh(t, open)
	r := mustPut(t, m.obs, incident.KindReport, report("polling.closure", "S1", at(1, 0), "Closed"))
	mustAdd(t, m.obs, m.founder, r.ID)
	before, beforeList := mustCounts(t, m.founder), listJSON(t, m.founder, store.Filter{})
	for _, s := range []*store.Store{m.founder, m.obs} {
		res := s.Add(r.Raw, "again")
		if res.Outcome != store.Duplicate || res.Err != nil || res.ID != r.ID || len(res.Released) != 0 {
			t.Errorf("second Add = %+v, want Duplicate of %s", res, r.ID)
		}
	}
	// The genesis and member records are duplicates too.
	g, _ := m.founder.Get(m.mission)
	if res := m.obs.Add(g.Raw, "again"); res.Outcome != store.Duplicate {
		t.Errorf("Add(genesis) to a joined device = %s, %v", res.Outcome, res.Err)
	}
	if after := mustCounts(t, m.founder); !mapsEqual(before, after) || listJSON(t, m.founder, store.Filter{}) != beforeList {
		t.Errorf("duplicate changed the store: %v → %v", before, after)
	}
}

// testInvalidChangesNothing: corrupted, foreign and forged records are
// rejected and leave no trace.
func testInvalidChangesNothing(t *testing.T, open opener) {
	m := newMesh(t, open)
	f := m.founder
	r := mustPut(t, m.obs, incident.KindReport, report("polling.closure", "S1", at(1, 0), "Closed"))
	mustAdd(t, m.obs, f, r.ID)

	foreign := open(t, store.Options{Now: m.clock.Now})
	fm := createMission(t, foreign)
	foreignGenesis, _ := foreign.Get(fm)
	foreignReport := mustPut(t, foreign, incident.KindReport, report("polling.closure", "S1", at(1, 0), "Elsewhere"))

	// Another key signs, then the record claims the observer as author.
	attacker := mustSigner(t, 0xa7)
	swapped := mustSign(t, attacker, m.mission, incident.KindReport, at(1, 0), report("polling.violence", "S1", at(1, 0), "Fake"))
	swapped.Record.Author = ab(m.obs.Author())
	swappedRaw, err := incident.Marshal(swapped.Record)
	if err != nil {
		t.Fatal(err)
	}
	// The observer's signature over another payload.
	edited := r.Record
	edited.Payload, _ = incident.Marshal(report("polling.closure", "S1", at(1, 0), "Closed (edited)"))
	editedRaw, err := incident.Marshal(edited)
	if err != nil {
		t.Fatal(err)
	}
	// Signed by a member but invalid in content.
	longTitle := mustSign(t, m.obs.Signer(), m.mission, incident.KindReport, at(1, 0),
		report("polling.closure", "S1", at(1, 0), strings.Repeat("x", incident.MaxTitleLen+1)))
	badSeverity := mustSign(t, m.obs.Signer(), m.mission, incident.KindReport, at(1, 0),
		incident.ReportPayload{Category: "polling.closure", Severity: 9, Title: "x"})
	coordAmend := mustSign(t, m.coord.Signer(), m.mission, incident.KindAmend, at(1, 0),
		incident.AmendPayload{Target: r.ID.Bytes(), Report: report("polling.closure", "S1", at(1, 0), "not mine")})
	reviewOfMember := mustSign(t, f.Signer(), m.mission, incident.KindReview, at(1, 0),
		incident.ReviewPayload{Target: m.obsMember.Bytes(), Status: "verified"})
	// A well-formed coordinator token that is not bound to a device.
	tok := f.Signer().SignToken(incident.Token{Mission: m.mission.Bytes(), Role: incident.RoleCoordinator, Nonce: make([]byte, 16)})
	unboundCoord := mustSign(t, attacker, m.mission, incident.KindMember, at(1, 0), incident.MemberPayload{Token: tok})
	// A token the observer (not a coordinator) signed.
	obsTok := m.obs.Signer().SignToken(incident.Token{Mission: m.mission.Bytes(), Role: incident.RoleObserver, Nonce: make([]byte, 16)})
	obsIssued := mustSign(t, attacker, m.mission, incident.KindMember, at(1, 0), incident.MemberPayload{Token: obsTok})

	before := mustCounts(t, f)
	beforeList := listJSON(t, f, store.Filter{})
	beforeMembers := len(mustMission(t, f).Members())

	cases := []struct {
		name     string
		raw      []byte
		field    string // the FieldError's field, when the record decodes
		decoding bool   // rejected before validation
	}{
		{"empty", nil, "", true},
		{"garbage", []byte("not a record at all"), "", true},
		{"oversized", make([]byte, incident.MaxRecordBytes+1), "", true},
		{"foreign genesis", foreignGenesis.Raw, "mission", false},
		{"foreign report", foreignReport.Raw, "mission", false},
		{"author swapped", swappedRaw, "signature", true},
		{"payload edited", editedRaw, "signature", true},
		{"title too long", longTitle.Raw, "title", false},
		{"severity 9", badSeverity.Raw, "severity", false},
		{"amend of another's report", coordAmend.Raw, "author", false},
		{"review of a member record", reviewOfMember.Raw, "payload.target", false},
		{"unbound coordinator token", unboundCoord.Raw, "token.for", false},
	}
	for _, c := range cases {
		res := f.Add(c.raw, "peer")
		if res.Outcome != store.Rejected || !incident.IsRejected(res.Err) {
			t.Errorf("%s: Add = %s, %v; want rejected as invalid", c.name, res.Outcome, res.Err)
			continue
		}
		var fe *incident.FieldError
		if c.field != "" && (!errors.As(res.Err, &fe) || fe.Field != c.field) {
			t.Errorf("%s: error %v; want it to name field %q", c.name, res.Err, c.field)
		}
		if len(res.Released) != 0 {
			t.Errorf("%s released %d records", c.name, len(res.Released))
		}
		if ok, _ := f.Has(incident.IDOf(c.raw)); ok {
			t.Errorf("%s was stored", c.name)
		}
	}
	// A member record whose token an observer issued is not valid now, but
	// may be once the observer is made a coordinator: it is held or
	// refused, never stored.
	held := 0
	if res := f.Add(obsIssued.Raw, "peer"); res.Outcome == store.Quarantined {
		held++
	} else if res.Outcome != store.Rejected {
		t.Errorf("token by an observer: Add = %s, %v; want it held or refused", res.Outcome, res.Err)
	}
	wantHas(t, f, obsIssued.ID, false)
	// Every single-bit flip of a valid record is rejected.
	for i := range r.Raw {
		for _, bit := range []byte{0x01, 0x80} {
			bad := append([]byte(nil), r.Raw...)
			bad[i] ^= bit
			res := f.Add(bad, "peer")
			if res.Outcome != store.Rejected {
				t.Fatalf("flipping bit %#x of byte %d: %s, %v", bit, i, res.Outcome, res.Err)
			}
			if res.ID != incident.IDOf(bad) {
				t.Fatalf("flipped record's result names %s, want its own ID", res.ID)
			}
		}
	}
	if after := mustCounts(t, f); !mapsEqual(before, after) {
		t.Errorf("invalid records changed counts: %v → %v", before, after)
	}
	if got := listJSON(t, f, store.Filter{}); got != beforeList {
		t.Errorf("invalid records changed the listing:\n%s\nwas\n%s", got, beforeList)
	}
	if n := mustQuarantine(t, f); n != held {
		t.Errorf("%d records wait in quarantine, want %d", n, held)
	}
	if n := len(mustMission(t, f).Members()); n != beforeMembers {
		t.Errorf("invalid member records changed the mission: %d members, was %d", n, beforeMembers)
	}
	// A device without a mission rejects everything.
	lone := open(t, store.Options{Now: m.clock.Now})
	if res := lone.Add(r.Raw, "peer"); res.Outcome != store.Rejected || !errors.Is(res.Err, store.ErrNoMission) {
		t.Errorf("Add to a device without a mission: %s, %v", res.Outcome, res.Err)
	}
}

// testQuota: an observer's records in the mission are bounded, whatever
// days they claim; a new claimed day is no new allowance. The bulk goes in
// through AddMany (one sync), the records at the limit through Put.
func testQuota(t *testing.T, open opener) {
	if testing.Short() {
		t.Skip("writes QuotaObserverRecords records")
	}
	c := newClock(t0)
	o := store.Options{Now: c.Now}
	f := open(t, o)
	mid := createMission(t, f)
	obs := open(t, o)
	// The observer's member record is a mission record and must not use
	// its allowance.
	enroll(t, f, obs, incident.RoleObserver, "busy")

	bulk := make([][]byte, incident.QuotaObserverRecords-1)
	for i := range bulk {
		// Distinct claimed times over several days: identical records
		// would be one record, and days must not matter.
		c.Advance(time.Minute)
		bulk[i] = mustSign(t, obs.Signer(), mid, incident.KindCheckin, c.Now(), incident.CheckinPayload{Status: "all_quiet"}).Raw
	}
	res, err := obs.AddMany(bulk, "local", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Outcome != store.Accepted {
			t.Fatalf("record %d: %s %v", i+1, r.Outcome, r.Err)
		}
	}
	c.Advance(time.Second)
	if _, err := obs.Put(incident.KindCheckin, incident.CheckinPayload{Status: "all_quiet"}); err != nil {
		if !isQuota(err) {
			t.Fatal(err)
		}
		t.Errorf("BUG: record %d of %d refused as over quota (the author's member record counted against it): %v",
			incident.QuotaObserverRecords, incident.QuotaObserverRecords, err)
	}
	before := mustCounts(t, obs)
	c.Advance(time.Second)
	_, err = obs.Put(incident.KindCheckin, incident.CheckinPayload{Status: "all_quiet"})
	switch {
	case err == nil:
		t.Fatalf("record %d was accepted; quota is %d", incident.QuotaObserverRecords+1, incident.QuotaObserverRecords)
	case !isQuota(err):
		t.Fatalf("over-quota record: %v; want a quota rejection", err)
	}
	if !errors.Is(err, store.ErrQuota) {
		t.Errorf("BUG: over-quota error %q does not wrap store.ErrQuota (its doc says rejections wrap it)", err)
	}
	if !incident.IsRejected(err) {
		t.Errorf("over-quota error %v is not a FieldError naming the field and limit", err)
	}
	if after := mustCounts(t, obs); !mapsEqual(before, after) {
		t.Errorf("the refused record changed counts: %v → %v", before, after)
	}
	// Another author's allowance is separate.
	mustPut(t, f, incident.KindCheckin, incident.CheckinPayload{Status: "all_quiet"})
	// A later claimed day, or an earlier one, is no new allowance.
	for _, when := range []time.Time{t0.Add(30 * 24 * time.Hour), t0.Add(-30 * 24 * time.Hour)} {
		c.Set(when)
		if _, err := obs.Put(incident.KindCheckin, incident.CheckinPayload{Status: "opened"}); !isQuota(err) {
			t.Errorf("a record claiming %s: %v; want a quota rejection", when, err)
		}
	}
}

// testQuotaBytes: an author's bytes in the mission are bounded too.
func testQuotaBytes(t *testing.T, open opener) {
	c := newClock(t0)
	f := open(t, store.Options{Now: c.Now})
	mid := createMission(t, f)
	const limit = 1 << 20
	mustPut(t, f, incident.KindConfig, incident.ConfigPayload{Settings: map[string]string{
		incident.SettingQuota(incident.RoleCoordinator, "bytes"): fmt.Sprint(limit)}})
	// Reports near the text limits are about 11 KB: the byte quota is
	// reached long before the record quota.
	big := report("disinformation.false_voting_info", "S1", at(1, 0), strings.Repeat("t", incident.MaxTitleLen))
	big.Description = strings.Repeat("d", incident.MaxDescriptionLen)
	big.Area = strings.Repeat("a", incident.MaxAreaLen)
	big.Source = strings.Repeat("s", incident.MaxSourceLen)
	n := limit/(incident.MaxDescriptionLen+incident.MaxTitleLen) + 10
	raws := make([][]byte, n)
	for i := range raws {
		c.Advance(time.Hour) // over several claimed days
		raws[i] = mustSign(t, f.Signer(), mid, incident.KindReport, c.Now(), big).Raw
	}
	res, err := f.AddMany(raws, "local", nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, first := 0, -1
	for i, r := range res {
		switch {
		case r.Outcome == store.Accepted && first < 0:
			sum += len(raws[i])
		case r.Outcome == store.Rejected && isQuota(r.Err):
			if first < 0 {
				first = i
			}
		default:
			t.Fatalf("record %d: %s %v (after the first refusal at %d)", i, r.Outcome, r.Err, first)
		}
	}
	if first < 0 {
		t.Fatalf("%d reports of %d bytes all accepted", n, sum)
	}
	if sum > limit || sum+len(raws[first]) <= limit {
		t.Errorf("refused after %d bytes, the next record has %d; the quota is %d bytes", sum, len(raws[first]), limit)
	}
	if got := mustCounts(t, f)[incident.KindReport]; got != first {
		t.Errorf("%d reports stored, %d accepted", got, first)
	}
	c.Advance(24 * time.Hour)
	if _, err := f.Put(incident.KindReport, big); !isQuota(err) {
		t.Errorf("the next day: %v; want a quota rejection", err)
	}
}

func mustMission(t testing.TB, s *store.Store) *incident.MissionState {
	t.Helper()
	ms, err := s.Mission()
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func wantCounts(t testing.TB, s *store.Store, want map[incident.Kind]int) {
	t.Helper()
	got := mustCounts(t, s)
	for _, k := range incident.Kinds {
		if got[k] != want[k] {
			t.Errorf("%d %s records, want %d (all counts %v)", got[k], k, want[k], got)
		}
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func sameSet(a, b []incident.ID) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	cmp := func(p, q incident.ID) int { return bytes.Compare(p[:], q[:]) }
	slices.SortFunc(x, cmp)
	slices.SortFunc(y, cmp)
	return slices.Equal(x, y)
}
