package store_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// custodyWorld: two coordinators, the phone under test (an observer) and
// another observer whose records the phone carries.
type custodyWorld struct {
	c1, c2, phone, other *store.Store
}

func newCustodyWorld(t *testing.T) *custodyWorld {
	t.Helper()
	w := &custodyWorld{}
	w.c1, _ = initHome(t, t.TempDir(), store.Options{})
	w.c2, _ = initHome(t, t.TempDir(), store.Options{})
	w.phone, _ = initHome(t, t.TempDir(), store.Options{})
	w.other, _ = initHome(t, t.TempDir(), store.Options{})
	createMission(t, w.c1)
	enroll(t, w.c1, w.c2, incident.RoleCoordinator, "desk two")
	enroll(t, w.c1, w.phone, incident.RoleObserver, "kestrel")
	enroll(t, w.c1, w.other, incident.RoleObserver, "heron")
	for _, s := range []*store.Store{w.c2, w.phone, w.other} {
		syncAll(t, w.c1, s)
	}
	return w
}

// receipt has coordinator c receipt ids and returns the receipt.
func receiptOf(t *testing.T, c *store.Store, ids ...incident.ID) *incident.Signed {
	t.Helper()
	list := make([][]byte, len(ids))
	for i, id := range ids {
		list[i] = id.Bytes()
	}
	return mustPut(t, c, incident.KindReceipt, incident.ReceiptPayload{IDs: list})
}

func liveSet(t *testing.T, s *store.Store) map[incident.ID]bool {
	t.Helper()
	out := map[incident.ID]bool{}
	if err := s.ForEachLiveKey(func(_ int64, id incident.ID) error { out[id] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func prune(t *testing.T, s *store.Store) store.PruneResult {
	t.Helper()
	res, err := s.Prune()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A record the phone carries stays until two distinct coordinators in
// good standing hold it; then it is dropped, with what targets it, and
// never taken back. The phone's own records and the mission's stay.
func TestCustodyDropsWhatTwoCoordinatorsHold(t *testing.T) {
	w := newCustodyWorld(t)
	at := time.Now().Add(-time.Hour)
	carried := mustPut(t, w.other, incident.KindReport, report("polling.violence", "PS-1", at, "shots near the school"))
	amend := mustPut(t, w.other, incident.KindAmend, incident.AmendPayload{Target: carried.ID.Bytes(),
		Report: report("polling.violence", "PS-1", at, "shots near the school gate")})
	own := mustPut(t, w.phone, incident.KindReport, report("polling.materials", "PS-2", at, "no ink"))
	mustAdd(t, w.other, w.phone, carried.ID, amend.ID)
	if !w.phone.Bounded() || w.c1.Bounded() {
		t.Fatalf("Bounded: phone %v, coordinator %v", w.phone.Bounded(), w.c1.Bounded())
	}

	live := liveSet(t, w.phone)
	for _, id := range []incident.ID{carried.ID, amend.ID, own.ID} {
		if !live[id] {
			t.Errorf("%s not live before any receipt", id)
		}
	}
	mission, _ := w.phone.IDsOfKind(incident.KindMember)
	for _, id := range mission {
		if !live[id] {
			t.Errorf("member record %s not live", id)
		}
	}

	// One coordinator is not enough.
	mustAdd(t, w.other, w.c1, carried.ID, amend.ID)
	mustAdd(t, w.phone, w.c1, own.ID)
	r1 := receiptOf(t, w.c1, carried.ID, amend.ID, own.ID)
	mustAdd(t, w.c1, w.phone, r1.ID)
	if got := prune(t, w.phone); got.Dropped != 0 {
		t.Fatalf("dropped %d with one coordinator's receipt", got.Dropped)
	}
	wantHas(t, w.phone, carried.ID, true)

	// A second, distinct coordinator covers them.
	mustAdd(t, w.c1, w.c2, carried.ID, amend.ID, own.ID)
	r2 := receiptOf(t, w.c2, carried.ID, amend.ID, own.ID)
	mustAdd(t, w.c2, w.phone, r2.ID)
	live = liveSet(t, w.phone)
	if live[carried.ID] || live[amend.ID] || live[own.ID] {
		t.Fatalf("covered records still live")
	}
	got := prune(t, w.phone)
	if got.Dropped != 2 {
		t.Fatalf("dropped %d, want the report and its amendment", got.Dropped)
	}
	wantHas(t, w.phone, carried.ID, false)
	wantHas(t, w.phone, amend.ID, false)
	wantHas(t, w.phone, own.ID, true)
	// The dashboard's counters count what is held, as a recount does.
	if sum, err := w.phone.Summary(0); err != nil {
		t.Fatal(err)
	} else if re, err := w.phone.Recount(); err != nil || !sum.Equal(re) {
		t.Errorf("counters after the prune %+v, recount %+v (%v)", sum, re, err)
	} else if n := sum.ByCategory["polling.violence"]; n != 0 {
		t.Errorf("the dropped report still counts: %d", n)
	}
	for _, id := range mission {
		wantHas(t, w.phone, id, true)
	}
	// Receipts listing the own report stay (its delivery status).
	if d, _ := w.phone.DeliveryOf(own.ID); !d.Coordinator {
		t.Errorf("own report's delivery lost: %+v", d)
	}

	// Never taken back, nor what targets it.
	wantOutcome(t, w.phone, carried, "sync", store.Duplicate)
	late := mustPut(t, w.other, incident.KindRetract, incident.RetractPayload{Target: carried.ID.Bytes(), Reason: "duplicate"})
	wantOutcome(t, w.phone, late, "sync", store.Duplicate)
	wantHas(t, w.phone, late.ID, false)

	sp, err := w.phone.Space()
	if err != nil {
		t.Fatal(err)
	}
	if !sp.Bounded || sp.Dropped != 2 || sp.Own != 1 || sp.Carried != 0 || sp.Receipts != 2 || sp.Budget != incident.DefaultStorageBudget {
		t.Errorf("Space = %+v", sp)
	}

	// A coordinator keeps everything.
	mustAdd(t, w.other, w.c1, late.ID)
	if got := prune(t, w.c1); got.Dropped != 0 {
		t.Errorf("coordinator dropped %d", got.Dropped)
	}
	wantHas(t, w.c1, carried.ID, true)
}

// Receipts count by distinct coordinator in good standing: two receipts of
// one coordinator are one, and a revoked coordinator's count for nothing,
// even when they were counted before the revocation.
func TestCustodyCountsDistinctCoordinatorsInStanding(t *testing.T) {
	w := newCustodyWorld(t)
	carried := mustPut(t, w.other, incident.KindReport, report("polling.violence", "PS-1", time.Now(), "crowd at the gate"))
	mustAdd(t, w.other, w.phone, carried.ID)
	mustAdd(t, w.other, w.c1, carried.ID)
	mustAdd(t, w.other, w.c2, carried.ID)

	a := receiptOf(t, w.c1, carried.ID)
	b := receiptOf(t, w.c1, carried.ID)
	mustAdd(t, w.c1, w.phone, a.ID, b.ID)
	if !liveSet(t, w.phone)[carried.ID] {
		t.Fatal("two receipts of one coordinator covered the record")
	}
	c := receiptOf(t, w.c2, carried.ID)
	mustAdd(t, w.c2, w.phone, c.ID)
	if liveSet(t, w.phone)[carried.ID] {
		t.Fatal("two coordinators' receipts did not cover the record")
	}

	// c2 is revoked (its laptop was seized): its receipt no longer counts.
	rev, err := w.c1.Revoke(w.c2.Author(), "laptop seized", true)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, w.c1, w.phone, rev.Record.ID)
	if !liveSet(t, w.phone)[carried.ID] {
		t.Fatal("a revoked coordinator's receipt still covers the record")
	}
	if got := prune(t, w.phone); got.Dropped != 0 {
		t.Fatalf("dropped %d on a revoked coordinator's word", got.Dropped)
	}
	wantHas(t, w.phone, carried.ID, true)
}

// custody_receipts set to 1 makes one coordinator enough; the setting is
// checked when typed.
func TestCustodyReceiptsSetting(t *testing.T) {
	w := newCustodyWorld(t)
	for _, bad := range []string{"0", "17", "two", "-1"} {
		if _, err := incident.ParseSettings([]string{incident.SettingCustodyReceipts + "=" + bad}); err == nil {
			t.Errorf("custody_receipts=%q accepted", bad)
		}
	}
	if _, err := incident.ParseSettings([]string{incident.SettingStorageBudget + "=1MiB"}); err == nil {
		t.Error("a 1 MiB storage budget accepted")
	}
	carried := mustPut(t, w.other, incident.KindReport, report("polling.violence", "PS-1", time.Now(), "crowd"))
	mustAdd(t, w.other, w.phone, carried.ID)
	mustAdd(t, w.other, w.c1, carried.ID)
	r := receiptOf(t, w.c1, carried.ID)
	mustAdd(t, w.c1, w.phone, r.ID)
	if !liveSet(t, w.phone)[carried.ID] {
		t.Fatal("covered by one with the default of two")
	}
	ms, _ := w.c1.Mission()
	cfg := mustPut(t, w.c1, incident.KindConfig, ms.NewConfig(map[string]string{incident.SettingCustodyReceipts: "1"}))
	mustAdd(t, w.c1, w.phone, cfg.ID)
	if liveSet(t, w.phone)[carried.ID] {
		t.Fatal("custody_receipts=1: still live")
	}
	if got := prune(t, w.phone); got.Dropped != 1 {
		t.Fatalf("dropped %d", got.Dropped)
	}
}

// A coordinator receipts each record itself, even one another
// coordinator receipted: custody counts distinct coordinators.
func TestUnreceiptedIsPerCoordinator(t *testing.T) {
	w := newCustodyWorld(t)
	rec := mustPut(t, w.other, incident.KindReport, report("polling.violence", "PS-1", time.Now(), "crowd"))
	mustAdd(t, w.other, w.c1, rec.ID)
	mustAdd(t, w.other, w.c2, rec.ID)
	r := receiptOf(t, w.c1, rec.ID)
	mustAdd(t, w.c1, w.c2, r.ID)
	for _, c := range []*store.Store{w.c1, w.c2} {
		ids, err := c.Unreceipted(100)
		if err != nil {
			t.Fatal(err)
		}
		want := c == w.c2
		if slices.Contains(ids, rec.ID) != want {
			t.Errorf("coordinator %s: Unreceipted has the report = %v, want %v", c.Author(), !want, want)
		}
	}
}

// Receipts the phone holds are handed to a peer for the records it names.
func TestCoveringReceipts(t *testing.T) {
	w := newCustodyWorld(t)
	rec := mustPut(t, w.other, incident.KindReport, report("polling.violence", "PS-1", time.Now(), "crowd"))
	mustAdd(t, w.other, w.c1, rec.ID)
	r := receiptOf(t, w.c1, rec.ID)
	got, err := w.c1.Covering([]incident.ID{rec.ID, r.ID}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != r.ID {
		t.Fatalf("Covering = %v, want the receipt", got)
	}
}

// Quick delete: the phone deletes its own records that two coordinators
// hold, sealed ones with their readable copy, and never takes them back;
// what no coordinator holds yet stays, and a coordinator's laptop refuses.
func TestForgetHeld(t *testing.T) {
	w := newCustodyWorld(t)
	at := time.Now().Add(-time.Hour)
	held, err := w.phone.PutSealed(incident.KindReport, nil, report("polling.violence", "PS-1", at, "NEEDLE shots at the gate"))
	if err != nil {
		t.Fatal(err)
	}
	fresh := mustPut(t, w.phone, incident.KindReport, report("polling.materials", "PS-2", at, "no ink"))
	for _, c := range []*store.Store{w.c1, w.c2} {
		mustAdd(t, w.phone, c, held.ID)
		r := receiptOf(t, c, held.ID)
		mustAdd(t, c, w.phone, r.ID)
	}
	n, err := w.phone.ForgetHeld()
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("deleted %d, want the held report", n)
	}
	wantHas(t, w.phone, held.ID, false)
	wantHas(t, w.phone, fresh.ID, true)
	if v, err := w.phone.List(store.Filter{}); err != nil || len(v) != 1 || v[0].ID != fresh.ID {
		t.Fatalf("reports after quick delete: %v %v", v, err)
	}
	wantOutcome(t, w.phone, held, "sync", store.Duplicate)
	wantHas(t, w.phone, held.ID, false)
	if _, err := w.c1.ForgetHeld(); !errors.Is(err, store.ErrKeepsAll) {
		t.Errorf("coordinator's ForgetHeld: %v", err)
	}
}

// A phone stays within its storage budget while a session brings records,
// not only after the next prune: once what it stored since it last
// measured would take it over, records carried for others are refused
// (ErrBudget, a quota: no peer is blamed), while its own records and
// receipts are still taken; a prune that makes room takes them again.
func TestBudgetHoldsBetweenPrunes(t *testing.T) {
	w := newCustodyWorld(t)
	at := time.Now().Add(-time.Hour)
	var carried []*incident.Signed
	for i := range 3 {
		carried = append(carried, mustPut(t, w.other, incident.KindReport, report("polling.violence", "PS-1", at.Add(time.Duration(i)*time.Minute), "crowd at the gate")))
	}
	mustAdd(t, w.other, w.phone, carried[0].ID)

	sp, err := w.phone.Space()
	if err != nil {
		t.Fatal(err)
	}
	// Full but for one small record's worth.
	store.FillSpace(w.phone, sp.Budget-uint64(len(carried[1].Raw))*3-1)
	wantOutcome(t, w.phone, carried[1], "sync", store.Accepted)
	res := w.phone.Add(carried[2].Raw, "sync")
	if res.Outcome != store.Rejected || !errors.Is(res.Err, store.ErrBudget) || !errors.Is(res.Err, store.ErrQuota) {
		t.Fatalf("a carried record past the budget: %s (%v), want refused for the budget", res.Outcome, res.Err)
	}
	if sp, _ := w.phone.Space(); !sp.Over {
		t.Errorf("Space does not say the budget is full: %+v", sp)
	}
	own := mustPut(t, w.phone, incident.KindReport, report("polling.materials", "PS-2", at, "no ink"))
	wantHas(t, w.phone, own.ID, true)
	r := receiptOf(t, w.c1, carried[0].ID)
	wantOutcome(t, w.phone, r, "sync", store.Accepted)

	// The prune measures the folder again: room, and the refused record
	// is welcome.
	if got := prune(t, w.phone); got.Over {
		t.Fatalf("still over after a prune of a nearly empty store: %+v", got)
	}
	wantOutcome(t, w.phone, carried[2], "sync", store.Accepted)
}

// A store written before dropped records' marks were cut keeps them
// through the migration: the dropped record is still refused.
func TestGoneMarksMigrate(t *testing.T) {
	w := newCustodyWorld(t)
	dropped := mustPut(t, w.other, incident.KindReport, report("polling.violence", "PS-1", time.Now(), "crowd"))
	if err := store.SetLongGone(w.phone, dropped.ID); err != nil {
		t.Fatal(err)
	}
	home := w.phone.Home()
	if err := w.phone.Close(); err != nil {
		t.Fatal(err)
	}
	w.phone = reopen(t, home, passphrase, store.Options{})
	if !w.phone.Gone(dropped.ID) {
		t.Fatal("the dropped record's mark did not survive the migration")
	}
	wantOutcome(t, w.phone, dropped, "sync", store.Duplicate)
	if sp, err := w.phone.Space(); err != nil || sp.Dropped != 1 {
		t.Errorf("Space after the migration: %+v (%v), want one dropped", sp, err)
	}
}
