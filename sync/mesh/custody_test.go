package mesh_test

import (
	"context"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

func syncPeer(t *testing.T, a, b *mesh.Engine) mesh.SyncResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := a.SyncPeer(ctx, b.Node().ID())
	if err != nil {
		t.Fatalf("SyncPeer: %v", err)
	}
	return res
}

func holds(t *testing.T, st *store.Store, id incident.ID) bool {
	t.Helper()
	ok, err := st.Has(id)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// A phone carries another observer's reports to the coordinators, drops
// them once two coordinators hold them (learning so from receipts handed
// over in the covering step), keeps its own, and is never handed the
// dropped ones again: not by a coordinator that holds everything, not by
// the observer who still thinks they are undelivered.
func TestPhoneCarriesUntilTwoCoordinatorsHold(t *testing.T) {
	m := newMission(t, 4, incident.RoleCoordinator, incident.RoleObserver, incident.RoleObserver)
	rosterAtFounder(t, m)
	c1st, c2st, phoneSt, otherSt := m.stores[0], m.stores[1], m.stores[2], m.stores[3]
	c1 := m.start(0, noReceipts)
	founderToAll(t, m)
	c2 := m.start(1, noReceipts)
	phone, other := m.start(2, noReceipts), m.start(3, noReceipts)

	// The desks meet; both observers meet one once (the mission's records
	// and secret epochs), then the other observer leaves its reach.
	connect(t, c2, c1)
	connect(t, phone, c1)
	connect(t, other, c1)
	syncPeer(t, other, c1)
	syncPeer(t, phone, c1)
	disconnect(other, c1)

	var carried []incident.ID
	for _, title := range []string{"ballot box seal broken", "agents turned away", "queue of 300"} {
		carried = append(carried, report(t, otherSt, title))
	}
	own := report(t, phoneSt, "no indelible ink")

	// The other observer meets only the phone; the phone meets the desks.
	connect(t, other, phone)
	syncPeer(t, other, phone)
	for _, id := range carried {
		if !holds(t, phoneSt, id) {
			t.Fatalf("phone does not carry %s", id)
		}
	}
	connect(t, phone, c2)
	syncPeer(t, phone, c1)
	syncPeer(t, phone, c2)
	if err := c1.IssueReceipt(); err != nil {
		t.Fatal(err)
	}
	// One coordinator's receipts: still carried.
	syncPeer(t, phone, c1)
	for _, id := range carried {
		if !holds(t, phoneSt, id) {
			t.Fatalf("phone dropped %s on one coordinator's receipt", id)
		}
	}
	// The second desk receipts; the desks reconcile full sets; the phone
	// learns of both receipts from the first desk.
	if err := c2.IssueReceipt(); err != nil {
		t.Fatal(err)
	}
	syncPeer(t, c1, c2)
	syncPeer(t, phone, c1)
	for _, id := range carried {
		if holds(t, phoneSt, id) {
			t.Errorf("phone still holds %s that two coordinators hold", id)
		}
		if !holds(t, c1st, id) || !holds(t, c2st, id) {
			t.Errorf("%s is not at both desks", id)
		}
	}
	if !holds(t, phoneSt, own) {
		t.Fatal("phone dropped its own report")
	}
	if d, _ := phoneSt.DeliveryOf(own); !d.Coordinator {
		t.Errorf("own report's delivery: %+v", d)
	}

	// The coordinator starts a session: it speaks the live protocol and
	// offers nothing the phone dropped.
	res := syncPeer(t, c1, phone)
	if res.Sent != 0 {
		t.Errorf("coordinator sent %d records to the phone, want none: %+v", res.Sent, res)
	}
	// The other observer still thinks its reports are undelivered: the
	// phone hands it the receipts, and neither side sends a report.
	res = syncPeer(t, other, phone)
	for _, id := range carried {
		if holds(t, phoneSt, id) {
			t.Errorf("phone took %s back from the other observer", id)
		}
	}
	if res.Sent != 0 {
		t.Errorf("other observer pushed %d records: %+v", res.Sent, res)
	}
	live := 0
	if err := otherSt.ForEachLiveKey(func(int64, incident.ID) error { live++; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, id := range carried {
		if d, _ := otherSt.DeliveryOf(id); !d.Coordinator {
			t.Errorf("the other observer does not see %s held: %+v", id, d)
		}
	}
}

// Between coordinators nothing is dropped and the full sets are
// reconciled: a desk that joins late gets every record, covered or not.
// The second and third desks start their nodes before they ever met the
// founder's: they start no epoch of their own, and meet it.
func TestCoordinatorsReconcileFullSets(t *testing.T) {
	m := newMission(t, 4, incident.RoleCoordinator, incident.RoleCoordinator, incident.RoleObserver)
	rosterAtFounder(t, m)
	c2, c3 := m.start(1, noReceipts), m.start(2, noReceipts)
	c1 := m.start(0, noReceipts)
	obs := m.start(3, noReceipts)
	connect(t, c2, c1)
	connect(t, c3, c1)
	disconnect(c3, c1)
	var recs []incident.ID
	for _, title := range []string{"a", "b"} {
		recs = append(recs, report(t, m.stores[3], title))
	}
	connect(t, obs, c1)
	syncPeer(t, obs, c1)
	syncPeer(t, c1, c2)
	if err := c1.IssueReceipt(); err != nil {
		t.Fatal(err)
	}
	if err := c2.IssueReceipt(); err != nil {
		t.Fatal(err)
	}
	syncPeer(t, c1, c2)
	connect(t, c3, c1)
	syncPeer(t, c3, c1)
	for _, id := range recs {
		if !holds(t, m.stores[2], id) {
			t.Errorf("late desk lacks covered record %s", id)
		}
	}
}

// disconnect closes every connection between a and b.
func disconnect(a, b *mesh.Engine) {
	_ = a.Node().Host().Network().ClosePeer(b.Node().ID())
	_ = b.Node().Host().Network().ClosePeer(a.Node().ID())
}

// rosterAtFounder gives the founder every member record, as a desk that
// enrolled its coordinators in person holds them: a coordinator's
// credential is bound to its device, and the founder checks it against
// the member record it holds.
func rosterAtFounder(t *testing.T, m *mission) {
	t.Helper()
	for _, st := range m.stores[1:] {
		recs, err := st.ByKind(incident.KindMember)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if res := m.stores[0].Add(r.Raw, "bundle"); res.Outcome == store.Rejected {
				t.Fatalf("member record: %v", res.Err)
			}
		}
	}
}

// founderToAll hands every member the founder's records (its first
// secret epoch among them), as a bundle would.
func founderToAll(t *testing.T, m *mission) {
	t.Helper()
	for _, k := range incident.Kinds {
		recs, err := m.stores[0].ByKind(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			for _, st := range m.stores[1:] {
				if res := st.Add(r.Raw, "bundle"); res.Outcome == store.Rejected {
					t.Fatalf("%s: %v", k, res.Err)
				}
			}
		}
	}
}

// A member that hands a phone anything but receipts in the covering step
// gets a strike (the session ends there).
func TestCoveringStepTakesOnlyReceipts(t *testing.T) {
	m := newMission(t, 3)
	phone := m.start(1, noReceipts, slowPeriodic)
	attacker := m.start(2, noReceipts, slowPeriodic)
	connect(t, attacker, phone)
	forged := report(t, m.stores[2], "not a receipt")
	rec, err := m.stores[2].Get(forged)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := attacker.Node().Host().NewStream(ctx, phone.Node().ID(), mesh.LiveProtocol(phone))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	body := append(binary.AppendUvarint(nil, uint64(len(rec.Raw))), rec.Raw...)
	// Ask about nothing ('E'), then, after the phone's answer and its own
	// question, hand over a report as if it were a receipt.
	if err := writeRaw(s, []byte{'E'}, append([]byte{'R'}, body...), []byte{'D'}); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, s)
	eventually(t, 5*time.Second, "no strike for a record that is not a receipt", func() bool {
		return mesh.StrikesOf(phone, m.stores[2].Author()) == 1
	})
}
