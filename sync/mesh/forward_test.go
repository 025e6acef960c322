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

// Records a reconciliation stores are gossiped onwards. In a—b—c, c can
// get a's records only by gossip from b: b does not nudge reconciliation
// with its other peers, no periodic round runs, and b and c reconciled
// before b had them.
func TestReconciledRecordsForwarded(t *testing.T) {
	m := newMission(t, 3)
	a := m.start(0, noReceipts, slowPeriodic)
	b := m.start(1, noReceipts, slowPeriodic, mesh.NoNudge)
	c := m.start(2, noReceipts, slowPeriodic)
	connect(t, b, c)
	waitConverged(t, slow(20*time.Second), 0, m.stores[1], m.stores[2])
	gossipReady(t, b, m.stores[1], m.stores[2])
	want, _ := bulkDays(t, m.stores[0], 50, 50)
	connect(t, a, b)
	eventually(t, slow(20*time.Second), "c holds the records b fetched from a", func() bool {
		for _, id := range want {
			if !has(m.stores[2], id) {
				return false
			}
		}
		return true
	})
	checkStoreSound(t, m.stores[2])
}

// A record queued for forwarding whose author is revoked before it is
// published is not gossiped on: the forwarder checks revocations again at
// the last moment. b stores x's record from a session (x is not revoked
// yet, so the record is valid and queued), then learns of x's revocation
// (written to its store directly, so that it is not forwarded), then
// forwards: c, which does not know of the revocation and would accept the
// record, gets only the other record of the batch.
func TestRevokedRecordNotForwarded(t *testing.T) {
	m := newMission(t, 5) // founder, x (to be revoked), b, pusher, c
	x, c := m.stores[1], m.stores[4]
	rec, err := x.Put(incident.KindReport, incident.ReportPayload{Category: "polling.late_opening", Severity: 2,
		Occurred: time.Now().UnixMilli(), Title: "by a member about to be revoked", Station: "PS-0001"})
	if err != nil {
		t.Fatal(err)
	}
	// Signed by the pusher's device and stored nowhere: only the batch
	// brings it.
	other := freshReport(t, m.stores[3].Signer(), mustMission(t, m.stores[3]).ID, "by a member in good standing")
	xa := x.Author()
	revoke, err := m.stores[0].Put(incident.KindRevoke, incident.RevokePayload{Member: xa[:], Reason: "lost phone"})
	if err != nil {
		t.Fatal(err)
	}
	// b and c know every member from the start (a mission's roster).
	var roster [][]byte
	for _, st := range m.stores {
		recs, err := st.ByKind(incident.KindMember)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			roster = append(roster, r.Raw)
		}
	}
	for _, st := range []*store.Store{m.stores[2], c} {
		if _, err := st.AddMany(roster, "roster", nil); err != nil {
			t.Fatal(err)
		}
	}
	gate := make(chan struct{}) // b forwards nothing until it is closed
	b := m.start(2, noReceipts, slowPeriodic, mesh.NoNudge, mesh.ForwardGate(gate))
	ce := m.start(4, noReceipts, slowPeriodic)
	pusher := m.start(3, noReceipts, slowPeriodic)
	connect(t, b, ce)
	gossipReady(t, b, m.stores[2], c)
	connect(t, pusher, b)
	waitConverged(t, slow(20*time.Second), 0, m.stores[2], m.stores[3])

	ctx, cancel := context.WithTimeout(context.Background(), slow(20*time.Second))
	defer cancel()
	s, err := pusher.Node().Host().NewStream(ctx, b.Node().ID(), mesh.ReconProtocol(b))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	go io.Copy(io.Discard, s)
	var body []byte
	for _, raw := range [][]byte{rec.Raw, other.Raw} {
		body = binary.AppendUvarint(body, uint64(len(raw)))
		body = append(body, raw...)
	}
	// End of reconciliation, end of wants, the batch, done.
	if err := writeRaw(s, nil, []byte{'E'}, append([]byte{'R'}, body...), []byte{'D'}); err != nil {
		t.Fatal(err)
	}
	eventually(t, slow(20*time.Second), "b stores the batch", func() bool { return has(m.stores[2], rec.ID) && has(m.stores[2], other.ID) })
	if r := m.stores[2].Add(revoke.Raw, "test"); r.Outcome != store.Accepted {
		t.Fatalf("revocation: %s %v", r.Outcome, r.Err)
	}
	close(gate)
	// The forwarder takes the queue in order: once the record after x's
	// has reached c, x's would have been published too.
	eventually(t, slow(20*time.Second), "the other record reaches c by gossip", func() bool { return has(c, other.ID) })
	time.Sleep(500 * time.Millisecond)
	if has(c, rec.ID) {
		t.Fatal("b gossiped a revoked member's unaccepted record on")
	}
}
