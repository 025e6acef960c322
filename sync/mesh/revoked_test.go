package mesh_test

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// A revoked member's records that no revocation accepts do not cross the
// mesh: a relay that holds one (it came by bundle, flagged) syncs with a
// peer, which gets the accepted record of the same author and not the
// unaccepted one. Two layers keep it put: the relay does not offer it
// (Unconfirmed), and a receiver refuses it (RevokedUnaccepted, refusedBy);
// the test fails only when both are gone, which was checked by hand.
func TestRevokedMembersRecordsStayPut(t *testing.T) {
	m := newMission(t, 4) // 0 coordinator; 1 relay; 2 the member to revoke; 3 receiver
	coord, relay, gone, recv := m.stores[0], m.stores[1], m.stores[2], m.stores[3]
	copyAll := func(from, to *store.Store, kind incident.Kind) {
		t.Helper()
		recs, err := from.ByKind(kind)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if res := to.Add(r.Raw, "usb"); res.Outcome != store.Accepted && res.Outcome != store.Duplicate {
				t.Fatalf("%s into the store: %s %v", kind, res.Outcome, res.Err)
			}
		}
	}
	for _, to := range []*store.Store{coord, relay, recv} {
		copyAll(gone, to, incident.KindMember)
	}
	early := report(t, gone, "Before the phone was seized")
	for _, to := range []*store.Store{coord, relay} {
		copyAll(gone, to, incident.KindReport)
	}
	member, err := gone.ByKind(incident.KindMember)
	if err != nil || len(member) == 0 {
		t.Fatalf("the member record: %v", err)
	}
	goneKey := gone.Author()
	if _, err := coord.Put(incident.KindRevoke, incident.RevokePayload{Member: goneKey[:],
		Accepted: [][]byte{early.Bytes(), member[0].ID.Bytes()}, Reason: "phone seized"}); err != nil {
		t.Fatal(err)
	}
	for _, to := range []*store.Store{relay, recv} {
		copyAll(coord, to, incident.KindRevoke)
	}
	late := report(t, gone, "Written on the seized phone")
	lateRec, err := gone.Get(late)
	if err != nil {
		t.Fatal(err)
	}
	if res := relay.Add(lateRec.Raw, "usb"); res.Outcome != store.Accepted {
		t.Fatalf("the relay's bundle copy of the late report: %s %v", res.Outcome, res.Err)
	}
	if !relay.RevokedUnaccepted(lateRec.Raw) {
		t.Fatal("the late report is not a revoked member's unaccepted record")
	}

	a := m.start(1, noReceipts, slowPeriodic)
	b := m.start(3, noReceipts, slowPeriodic)
	connect(t, a, b)
	eventually(t, slow(20*time.Second), "the receiver holds the accepted report", func() bool { return has(recv, early) })
	// Two more rounds, one started from each side, each run to its end:
	// had either path let the report through, it is stored by now (and
	// gossip cannot carry it: it reached the relay's store before the
	// relay's engine ran).
	ctx, cancel := context.WithTimeout(context.Background(), slow(20*time.Second))
	defer cancel()
	for _, round := range []struct {
		from *mesh.Engine
		to   peer.ID
	}{{b, a.Node().ID()}, {a, b.Node().ID()}} {
		if _, err := round.from.SyncPeer(ctx, round.to); err != nil {
			t.Fatal(err)
		}
	}
	if has(recv, late) {
		t.Fatal("the revoked member's unaccepted report crossed the mesh")
	}
}
