package mesh_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

func delivery(t testing.TB, st *store.Store, id incident.ID) store.Delivery {
	t.Helper()
	d, err := st.DeliveryOf(id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// An observer's report goes local only → sent to 1 (after a sync with the
// coordinator) → held by a coordinator (after the coordinator's receipt
// syncs back).
func TestDeliveryStatus(t *testing.T) {
	m := newMission(t, 2) // 0: coordinator, 1: observer
	id := report(t, m.stores[1], "observer report")
	if d := delivery(t, m.stores[1], id); d.Peers != 0 || d.Coordinator || d.String() != "local only" {
		t.Fatalf("before any sync: %+v %q", d, d)
	}
	coord := m.start(0, noReceipts)
	obs := m.start(1, noReceipts)
	connect(t, obs, coord)
	eventually(t, 15*time.Second, "the report never reached the coordinator", func() bool { return has(m.stores[0], id) })
	eventually(t, 10*time.Second, "the observer never saw the report as sent", func() bool {
		return delivery(t, m.stores[1], id).Peers >= 1
	})
	if d := delivery(t, m.stores[1], id); d.Coordinator || d.String() != fmt.Sprintf("sent to %d", d.Peers) {
		t.Fatalf("after sync, before a receipt: %+v %q", d, d)
	}
	if err := coord.IssueReceipt(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the coordinator's receipt never made the report held by a coordinator", func() bool {
		return delivery(t, m.stores[1], id).Coordinator
	})
	if d := delivery(t, m.stores[1], id); d.String() != "held by a coordinator" {
		t.Fatalf("after the receipt: %q", d)
	}
	// Nothing is left for the coordinator to confirm.
	if left, err := m.stores[0].Unreceipted(10); err != nil || len(left) != 0 {
		t.Fatalf("after the receipt, unreceipted %v (%v)", left, err)
	}
}

// With a short ReceiptInterval the coordinator's node confirms on its own,
// and a report relayed through an observer (never meeting the coordinator
// directly) becomes held by a coordinator too.
func TestReceiptIntervalConfirmsRelayed(t *testing.T) {
	m := newMission(t, 3) // 0: coordinator, 1 and 2: observers
	id := report(t, m.stores[2], "relayed report")
	coord := m.start(0, func(c *mesh.Config) { c.ReceiptInterval = 300 * time.Millisecond })
	relay := m.start(1)
	author := m.start(2)
	connect(t, author, relay)
	connect(t, relay, coord)
	eventually(t, 20*time.Second, "the relayed report never became held by a coordinator", func() bool {
		return delivery(t, m.stores[2], id).Coordinator
	})
	if d := delivery(t, m.stores[2], id); d.Peers < 1 {
		t.Fatalf("held by a coordinator but sent to %d peers", d.Peers)
	}
	if connected(author, coord.Node().ID()) {
		t.Fatal("the author met the coordinator directly")
	}
}

// snapHook runs after once the first time the engine snapshots the store
// for reconciliation.
type snapHook struct {
	*store.Store
	once  sync.Once
	after func()
}

func (s *snapHook) ForEachKey(fn func(int64, incident.ID) error) error {
	err := s.Store.ForEachKey(fn)
	s.once.Do(s.after)
	return err
}

func (s *snapHook) ForEachLiveKey(fn func(int64, incident.ID) error) error {
	err := s.Store.ForEachLiveKey(fn)
	s.once.Do(s.after)
	return err
}

// A reconciliation tells about the records in its snapshot, not about
// records stored while it ran: a report of this device's that the peer
// never received must not show as sent to it.
func TestDeliveryNotClaimedBeyondSnapshot(t *testing.T) {
	m := newMission(t, 2)
	ms := mustMission(t, m.stores[1])
	late := freshReport(t, m.stores[1].Signer(), ms.ID, "written during a reconciliation")
	hook := &snapHook{Store: m.stores[1], after: func() {
		// Stored while the session runs (not through Put, so nothing
		// gossips it).
		if r := m.stores[1].Add(late.Raw, "local"); r.Outcome != store.Accepted {
			t.Errorf("late report: %s %v", r.Outcome, r.Err)
		}
	}}
	coord := m.start(0, noReceipts, slowPeriodic)
	obs := m.startWith(hook, noReceipts, slowPeriodic)
	connect(t, obs, coord)
	select {
	case r := <-obs.Results():
		t.Logf("first sync: %+v", r)
	case <-time.After(15 * time.Second):
		t.Fatal("no reconciliation finished")
	}
	if has(m.stores[0], late.ID) {
		t.Skip("the late report reached the coordinator after all; the premise does not hold")
	}
	if d := delivery(t, m.stores[1], late.ID); d.Peers != 0 {
		t.Errorf("BUG: a report the coordinator never received shows as %q: recon.go session calls "+
			"store.MarkHeldAll after the session, which marks every record of this device held by the peer, "+
			"including those stored after the snapshot was taken", d)
	}
}

// Per-author quotas depend on arrival order, so honest peers can hold
// different subsets of a flooding author's records. Reconciling them
// rejects the surplus at each side; that is no misbehaviour of the
// relaying peer and must not earn it strikes or a ban.
func TestQuotaRejectionIsNoStrike(t *testing.T) {
	m := newMission(t, 2) // 0: coordinator, 1: observer who floods
	// A small quota keeps the flood small; both devices know the config.
	const quota = 200
	setObserverQuota(t, m.stores[0], quota, m.stores[1])
	ms := mustMission(t, m.stores[1])
	signer := m.stores[1].Signer()
	day := time.Now().UTC().Truncate(24 * time.Hour).Add(-36 * time.Hour)
	var raws [][]byte
	for i := 0; i < quota+10; i++ {
		p, err := incident.Marshal(incident.ReportPayload{
			Category: "polling.late_opening", Severity: 1, Occurred: day.UnixMilli(), Title: fmt.Sprintf("flood %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		a := signer.Author()
		raws = append(raws, craft(t, signer, incident.Record{Version: incident.SchemaVersion, Mission: ms.ID.Bytes(),
			Author: a[:], Kind: incident.KindReport, Created: day.Add(time.Duration(i) * time.Second).UnixMilli(), Payload: p}))
	}
	// The author's own device holds the first 200; the coordinator got
	// the author's enrollment and the last 10 first.
	mustAccept := func(st *store.Store, rs [][]byte) {
		res, err := st.AddMany(rs, "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Outcome != store.Accepted {
				t.Fatalf("setup: %s %v", r.Outcome, r.Err)
			}
		}
	}
	mustAccept(m.stores[1], raws[:quota])
	member, _ := ms.Member(m.stores[1].Author())
	mrec, err := m.stores[1].Get(member.Record)
	if err != nil || mrec == nil {
		t.Fatalf("member record: %v", err)
	}
	mustAccept(m.stores[0], append([][]byte{mrec.Raw}, raws[quota:]...))
	over := m.stores[1].Add(raws[len(raws)-1], "test")
	if over.Outcome != store.Rejected {
		t.Fatalf("setup: the 201st record was %s", over.Outcome)
	}
	if !errors.Is(over.Err, store.ErrQuota) {
		t.Errorf("a quota rejection does not wrap store.ErrQuota (%v): the mesh cannot tell it from an invalid record", over.Err)
	}

	coord := m.start(0, noReceipts, slowPeriodic, maxStrikes(5))
	obs := m.start(1, noReceipts, slowPeriodic, maxStrikes(5))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := obs.Node().Connect(ctx, infoOf(coord)); err != nil {
		t.Fatal(err)
	}
	// Wait for both ends of the reconciliation on connect to finish (each
	// publishes its result once it has stored, and judged, all it
	// received), or for a strike.
	struck := func() bool {
		return mesh.StrikesOf(coord, m.stores[1].Author()) > 0 || mesh.StrikesOf(obs, m.stores[0].Author()) > 0
	}
	var obsDone, coordDone bool
	eventually(t, 40*time.Second, "the reconciliation on connect did not finish at both ends", func() bool {
		select {
		case r := <-obs.Results():
			t.Logf("sync: %+v", r)
			obsDone = true
		case r := <-coord.Results():
			t.Logf("sync: %+v", r)
			coordDone = true
		default:
		}
		return obsDone && coordDone || struck()
	})
	cs, ob := mesh.StrikesOf(coord, m.stores[1].Author()), mesh.StrikesOf(obs, m.stores[0].Author())
	if cs != 0 || ob != 0 || !coord.Node().Admitted(obs.Node().ID()) || !obs.Node().Admitted(coord.Node().ID()) {
		t.Errorf("BUG: honest peers struck each other for over-quota records (coordinator→observer %d, observer→coordinator %d strikes; "+
			"admitted %v/%v): recon.go transfer and engine.go validate strike every store.Rejected, quota rejections included",
			cs, ob, coord.Node().Admitted(obs.Node().ID()), obs.Node().Admitted(coord.Node().ID()))
	}
}
