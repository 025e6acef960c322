package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// setQuota signs a config that sets role's record quota in the mission.
func setQuota(t testing.TB, coord *store.Store, role string, records int) {
	t.Helper()
	ms := mustMission(t, coord)
	mustPut(t, coord, incident.KindConfig, ms.NewConfig(map[string]string{
		incident.SettingQuota(role, "records"): fmt.Sprint(records)}))
}

// observerReports signs n reports by obs, one claimed day apart (days do
// not matter to quotas).
func observerReports(t testing.TB, obs *incident.Signer, mission incident.ID, n int) []*incident.Signed {
	t.Helper()
	out := make([]*incident.Signed, n)
	for i := range out {
		when := t0.Add(time.Duration(i) * 24 * time.Hour)
		out[i] = mustSign(t, obs, mission, incident.KindReport, when, report("polling.closure", "S1", when, fmt.Sprintf("report %d", i)))
	}
	return out
}

// Quotas follow the role: observers stop at theirs, while a coordinator,
// who reviews and receipts everyone's reports, writes far more than an
// observer's quota without a refusal.
func TestQuotaByRole(t *testing.T) {
	c := newClock(t0)
	f := openBadger(t, store.Options{Now: c.Now})
	mid := createMission(t, f)
	obs := openBadger(t, store.Options{Now: c.Now})
	enroll(t, f, obs, incident.RoleObserver, "obs")
	const quota = 10
	setQuota(t, f, incident.RoleObserver, quota)
	reps := observerReports(t, obs.Signer(), mid, quota+3)
	for _, r := range reps[:quota] {
		wantOutcome(t, f, r, "peer", store.Accepted)
	}
	for _, r := range reps[quota:] {
		res := wantOutcome(t, f, r, "peer", store.Rejected)
		if !errors.Is(res.Err, store.ErrQuota) {
			t.Fatalf("over quota: %v", res.Err)
		}
		if !f.Declined(r.ID) {
			t.Errorf("a record refused for quota is not declined: reconciliation would ask for it again")
		}
	}
	if f.Declined(reps[0].ID) {
		t.Error("a stored record is declined")
	}
	// The coordinator reviews each report five times and receipts them:
	// many times the observer quota, none refused.
	var ids [][]byte
	for i := range 5 * quota {
		c.Advance(time.Minute)
		target := reps[i%quota]
		mustPut(t, f, incident.KindReview, incident.ReviewPayload{Target: target.ID.Bytes(), Status: "verified", Note: fmt.Sprint(i)})
		ids = append(ids, target.ID.Bytes())
		mustPut(t, f, incident.KindReceipt, incident.ReceiptPayload{IDs: ids[len(ids)-1:]})
	}
	if q := mustMission(t, f).Quota(incident.RoleCoordinator); q.Records != incident.QuotaCoordinatorRecords {
		t.Errorf("coordinator quota %+v, want the default %d records", q, incident.QuotaCoordinatorRecords)
	}
}

// A config that raises a quota makes the refused records askable and
// storable again; one that lowers it refuses the next.
func TestQuotaConfigChanges(t *testing.T) {
	c := newClock(t0)
	f := openBadger(t, store.Options{Now: c.Now})
	mid := createMission(t, f)
	obs := openBadger(t, store.Options{Now: c.Now})
	enroll(t, f, obs, incident.RoleObserver, "obs")
	setQuota(t, f, incident.RoleObserver, 4)
	reps := observerReports(t, obs.Signer(), mid, 12)
	for i, r := range reps[:6] {
		if res := f.Add(r.Raw, "peer"); (res.Outcome == store.Accepted) != (i < 4) {
			t.Fatalf("report %d with a quota of 4: %s %v", i, res.Outcome, res.Err)
		}
	}
	if !f.Declined(reps[4].ID) || !f.Declined(reps[5].ID) {
		t.Fatal("refused records not declined")
	}
	c.Advance(time.Minute) // the latest config by claimed time wins
	setQuota(t, f, incident.RoleObserver, 8)
	if f.Declined(reps[4].ID) || f.Declined(reps[5].ID) {
		t.Fatal("after the quota was raised, the refused records are still declined: no peer would be asked for them")
	}
	for i, r := range reps[4:10] {
		if res := f.Add(r.Raw, "peer"); (res.Outcome == store.Accepted) != (i < 4) {
			t.Fatalf("report %d with a quota of 8: %s %v", 4+i, res.Outcome, res.Err)
		}
	}
	c.Advance(time.Minute)
	setQuota(t, f, incident.RoleObserver, 5)
	if res := f.Add(reps[10].Raw, "peer"); !errors.Is(res.Err, store.ErrQuota) {
		t.Fatalf("with the quota lowered below the stored count: %s %v", res.Outcome, res.Err)
	}
	// A setting this build cannot read has no effect: the last readable
	// value stands.
	c.Advance(time.Minute)
	mustPut(t, f, incident.KindConfig, mustMission(t, f).NewConfig(map[string]string{
		incident.SettingQuota(incident.RoleObserver, "records"): "0"}))
	if q := mustMission(t, f).Quota(incident.RoleObserver); q.Records != 5 {
		t.Errorf("after an unreadable value, quota %+v; want 5 records", q)
	}
}

// A store written when quotas were per claimed day holds no usage per
// author: the author is counted from its records when it next writes, the
// old entries go, and the count holds.
func TestQuotaCountedForOldStores(t *testing.T) {
	c := newClock(t0)
	home := t.TempDir()
	f, _ := initHome(t, home, store.Options{Now: c.Now})
	mid := createMission(t, f)
	obs := openBadger(t, store.Options{Now: c.Now})
	enroll(t, f, obs, incident.RoleObserver, "obs")
	setQuota(t, f, incident.RoleObserver, 6)
	reps := observerReports(t, obs.Signer(), mid, 8)
	for _, r := range reps[:5] {
		wantOutcome(t, f, r, "peer", store.Accepted)
	}
	if err := store.SetLegacyQuota(f, obs.Author(), 20000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	f = reopen(t, home, passphrase, store.Options{Now: c.Now})
	if n, _ := store.LegacyQuotaKeys(f); n != 1 {
		t.Fatalf("setup: %d legacy quota entries", n)
	}
	wantOutcome(t, f, reps[5], "peer", store.Accepted)
	if res := wantOutcome(t, f, reps[6], "peer", store.Rejected); !errors.Is(res.Err, store.ErrQuota) {
		t.Fatalf("7th report with a quota of 6: %v", res.Err)
	}
	if n, _ := store.LegacyQuotaKeys(f); n != 0 {
		t.Errorf("%d legacy quota entries left after the author was counted", n)
	}
}

// unknownReports signs one report each by n keys the mission never
// enrolled: each waits in the quarantine for a member record that never
// comes, and each is its own author.
func unknownReports(t testing.TB, mission incident.ID, n int, seed byte) []*incident.Signed {
	t.Helper()
	out := make([]*incident.Signed, n)
	for i := range out {
		s, err := incident.NewSigner(append(make([]byte, 30), seed, byte(i)))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = mustSign(t, s, mission, incident.KindReport, t0, report("polling.closure", "S1", t0, fmt.Sprintf("unknown %d", i)))
	}
	return out
}

// The quarantine as a whole is capped: records of ever new unknown
// authors (each under its own per-author bound) make room by evicting
// the oldest waiting records, which are then askable again.
func TestQuarantineGlobalCapEvictsOldest(t *testing.T) {
	c := newClock(t0)
	f := openBadger(t, store.Options{Now: c.Now, QuarantineRecords: 5})
	mid := createMission(t, f)
	flood := unknownReports(t, mid, 12, 1)
	for _, r := range flood {
		c.Advance(time.Second)
		wantOutcome(t, f, r, "peer", store.Quarantined)
	}
	if n := mustQuarantine(t, f); n != 5 {
		t.Fatalf("QuarantineCount = %d, want the cap of 5", n)
	}
	for i, r := range flood {
		if want := i >= len(flood)-5; f.Declined(r.ID) != want {
			t.Errorf("record %d: declined (waiting) %v, want %v: the oldest go first", i, !want, want)
		}
	}
	r, b := mustUsage(t, f)
	var want int64
	for _, x := range flood[len(flood)-5:] {
		want += int64(len(x.Raw))
	}
	if r != 5 || b != want {
		t.Errorf("usage %d records, %d bytes; want 5 and %d", r, b, want)
	}

	// The byte cap works the same way.
	g := openBadger(t, store.Options{Now: c.Now, QuarantineBytes: 3 * int64(len(flood[0].Raw)+8)})
	enroll(t, f, g, incident.RoleCarrier, "relay")
	for _, r := range flood {
		c.Advance(time.Second)
		wantOutcome(t, g, r, "peer", store.Quarantined)
	}
	if n := mustQuarantine(t, g); n != 3 {
		t.Errorf("QuarantineCount = %d under a byte cap of about three records", n)
	}
}

// Records waiting longer than QuarantineMaxAge are dropped: when the
// quarantine takes another record, and when the store opens.
func TestQuarantineAgeLimit(t *testing.T) {
	c := newClock(t0)
	home := t.TempDir()
	o := store.Options{Now: c.Now, QuarantineMaxAge: 48 * time.Hour}
	f, _ := initHome(t, home, o)
	mid := createMission(t, f)
	flood := unknownReports(t, mid, 4, 2)
	wantOutcome(t, f, flood[0], "peer", store.Quarantined)
	c.Advance(24 * time.Hour)
	wantOutcome(t, f, flood[1], "peer", store.Quarantined)
	c.Advance(25 * time.Hour)
	wantOutcome(t, f, flood[2], "peer", store.Quarantined)
	if n := mustQuarantine(t, f); n != 2 || f.Declined(flood[0].ID) {
		t.Fatalf("after 49 hours: %d waiting (want 2), the oldest still waiting: %v", n, f.Declined(flood[0].ID))
	}
	f.Close()
	c.Advance(24 * time.Hour)
	f = reopen(t, home, passphrase, o)
	if n := mustQuarantine(t, f); n != 1 || !f.Declined(flood[2].ID) {
		t.Errorf("reopened a day later: %d waiting, want only the youngest", n)
	}
	if r, _ := mustUsage(t, f); r != 1 {
		t.Errorf("usage %d records after reopening, want 1", r)
	}
	// Dropped is not refused: offered again, it waits again.
	wantOutcome(t, f, flood[0], "peer", store.Quarantined)
}

// Quarantine entries written before arrival times were kept are dated
// when the store opens, counted under their author, and released as
// before; the usage per source goes.
func TestQuarantineLegacyEntriesDated(t *testing.T) {
	c := newClock(t0)
	home := t.TempDir()
	f, _ := initHome(t, home, store.Options{Now: c.Now})
	createMission(t, f)
	obs := openBadger(t, store.Options{Now: c.Now})
	member := joinOnly(t, f, obs, incident.RoleObserver)
	rep := mustPut(t, obs, incident.KindReport, report("polling.closure", "S1", t0, "waits"))
	a := obs.Author()
	if err := store.PutLegacyQuarantine(f, rep.Raw, a[:], "sync:peer"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	f = reopen(t, home, passphrase, store.Options{Now: c.Now})
	if r, b := mustUsage(t, f); r != 1 || b != int64(len(rep.Raw)) {
		t.Errorf("usage of a dated legacy entry: %d records, %d bytes", r, b)
	}
	if tables, _ := store.KeyTables(f); tables['n'] != 0 || tables['W'] != 1 || tables['N'] != 1 {
		t.Errorf("tables after dating: n %d, W %d, N %d; want 0, 1, 1", tables['n'], tables['W'], tables['N'])
	}
	mrec, _ := obs.Get(member)
	wantReleased(t, wantOutcome(t, f, mrec, "peer", store.Accepted), rep.ID)
	if r, b := mustUsage(t, f); r != 0 || b != 0 {
		t.Errorf("after release: %d records, %d bytes", r, b)
	}
	if tables, _ := store.KeyTables(f); tables['W'] != 0 || tables['N'] != 0 || tables['Q'] != 0 || tables['q'] != 0 {
		t.Errorf("quarantine keys left after release: %v", tables)
	}
}

// A phone off for longer than the age limit may find its whole quarantine
// expired: opening drops it all, in transactions of bounded size.
func TestQuarantineExpiresWhole(t *testing.T) {
	c := newClock(t0)
	home := t.TempDir()
	f, _ := initHome(t, home, store.Options{Now: c.Now})
	mid := createMission(t, f)
	const n = 1500 // more than one transaction's evictions
	var raws [][]byte
	for _, r := range unknownReports(t, mid, n/250, 3) {
		raws = append(raws, r.Raw)
	}
	// Several records per unknown author: distinct titles, same keys.
	for i := range n - len(raws) {
		s, err := incident.NewSigner(append(make([]byte, 30), 4, byte(i%200)))
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, mustSign(t, s, mid, incident.KindReport, t0, report("polling.closure", "S1", t0, fmt.Sprintf("waits %d", i))).Raw)
	}
	out, err := f.AddMany(raws, "peer", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range out {
		if r.Outcome != store.Quarantined {
			t.Fatalf("record %d: %s %v", i, r.Outcome, r.Err)
		}
	}
	f.Close()
	c.Advance(8 * 24 * time.Hour)
	f = reopen(t, home, passphrase, store.Options{Now: c.Now})
	if q := mustQuarantine(t, f); q != 0 {
		t.Errorf("%d of %d records still wait after 8 days", q, n)
	}
	if r, b := mustUsage(t, f); r != 0 || b != 0 {
		t.Errorf("usage after expiry: %d records, %d bytes", r, b)
	}
	if tables, _ := store.KeyTables(f); tables['W'] != 0 || tables['N'] != 0 || tables['q'] != 0 {
		t.Errorf("quarantine keys left after expiry: W %d, N %d, q %d", tables['W'], tables['N'], tables['q'])
	}
}
