package mesh_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// Ten members, each with a few reports of its own, in a random connected
// topology: every store ends with exactly the union of what all held, each
// record once, each valid.
func TestTenNodesRandomTopology(t *testing.T) {
	if testing.Short() {
		t.Skip("ten hosts; skipped in -short")
	}
	r := seeded(t)
	m := newMission(t, 10)
	for i, st := range m.stores {
		for k := 0; k < 1+r.IntN(3); k++ {
			report(t, st, fmt.Sprintf("node %d report %d", i, k))
		}
	}
	want := union(t, m.stores...)
	es := make([]*mesh.Engine, len(m.stores))
	for i := range m.stores {
		es[i] = m.start(i, noReceipts)
	}
	edges := randomTree(t, r, es, 3)
	t.Logf("edges %v", edges)
	start := time.Now()
	waitConverged(t, slow(60*time.Second), len(want), m.stores...)
	t.Logf("10 nodes converged on %d records in %v", len(want), time.Since(start))
	if got := ids(t, m.stores[0]); !equal(got, want) {
		t.Fatalf("converged on %d records, want the union of %d", len(got), len(want))
	}
	for _, st := range m.stores {
		checkStoreSound(t, st)
	}
}

// Two halves of six, each connected inside, write on both sides; one bridge
// connection later every store holds the union, and records written after
// the heal cross too.
func TestPartitionHeal(t *testing.T) {
	if testing.Short() {
		t.Skip("twelve hosts; skipped in -short")
	}
	r := seeded(t)
	m := newMission(t, 12)
	es := make([]*mesh.Engine, len(m.stores))
	for i := range m.stores {
		es[i] = m.start(i, noReceipts)
	}
	left, right := es[:6], es[6:]
	randomTree(t, r, left, 1)
	randomTree(t, r, right, 1)
	var leftIDs, rightIDs []incident.ID
	for i := 0; i < 6; i++ {
		leftIDs = append(leftIDs, report(t, m.stores[i], fmt.Sprintf("left %d", i)))
		rightIDs = append(rightIDs, report(t, m.stores[6+i], fmt.Sprintf("right %d", i)))
	}
	waitConverged(t, slow(30*time.Second), len(union(t, m.stores[:6]...)), m.stores[:6]...)
	waitConverged(t, slow(30*time.Second), len(union(t, m.stores[6:]...)), m.stores[6:]...)
	// The partition held: no report crossed.
	for _, id := range rightIDs {
		if has(m.stores[0], id) {
			t.Fatal("a right-side report reached the left before the bridge")
		}
	}
	for _, id := range leftIDs {
		if has(m.stores[6], id) {
			t.Fatal("a left-side report reached the right before the bridge")
		}
	}
	want := union(t, m.stores...)
	start := time.Now()
	connect(t, left[r.IntN(6)], right[r.IntN(6)])
	waitConverged(t, slow(60*time.Second), len(want), m.stores...)
	t.Logf("12 nodes converged on %d records %v after the bridge", len(want), time.Since(start))
	if got := ids(t, m.stores[11]); !equal(got, want) {
		t.Fatalf("converged on %d records, want the union of %d", len(got), len(want))
	}
	// Fresh records cross the bridge both ways.
	a := report(t, m.stores[2], "after heal, left")
	b := report(t, m.stores[9], "after heal, right")
	eventually(t, slow(30*time.Second), "reports written after the heal did not reach every store", func() bool {
		for _, st := range m.stores {
			if !has(st, a) || !has(st, b) {
				return false
			}
		}
		return true
	})
	for _, st := range m.stores {
		checkStoreSound(t, st)
	}
}

// A device that joins late catches up on 10,000 records in one
// reconciliation.
func TestLateJoinerCatchesUp(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 records; skipped in -short")
	}
	const n = 10_000
	m := newMission(t, 2)
	setup := time.Now()
	_, size := bulkDays(t, m.stores[0], n, 1500)
	t.Logf("%d records (%d bytes encoded) made and stored in %v", n, size, time.Since(setup))
	old := m.start(0, noReceipts, slowPeriodic)
	joiner := m.start(1, noReceipts, slowPeriodic)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan mesh.SyncResult, 64)
	go drainResults(ctx, joiner, results)
	start := time.Now()
	connect(t, old, joiner)
	limit := 60 * time.Second
	if raceEnabled {
		limit = 240 * time.Second
	}
	waitConverged(t, limit, n, m.stores...)
	took := time.Since(start)
	var received, bytes, rounds int
	deadline := time.After(10 * time.Second)
	for received < n {
		select {
		case r := <-results:
			received += r.Received
			bytes += r.ReconBytes
			rounds += r.Rounds
			t.Logf("sync result: %+v", r)
		case <-deadline:
			t.Fatalf("the joiner's results account for %d received records, want at least %d", received, n)
		}
	}
	t.Logf("late joiner caught up on %d records (%.1f MB of records, %.0f records/s) in %v: %d reconciliation bytes in %d rounds",
		n, float64(size)/1e6, float64(n)/took.Seconds(), took, bytes, rounds)
	checkStoreSound(t, m.stores[1])
}

// A carrier syncs with group A, goes away (its engine stops and starts
// again on the same store), then meets group B, which never met A: B ends
// up with A's records, and A with nothing of B's.
func TestCarrierBridgesGroups(t *testing.T) {
	m := newMission(t, 6, incident.RoleCarrier)
	const carrier = 1
	groupA, groupB := []int{2, 3}, []int{4, 5}
	var fromA, fromB []incident.ID
	for _, i := range groupA {
		fromA = append(fromA, report(t, m.stores[i], fmt.Sprintf("A %d first", i)), report(t, m.stores[i], fmt.Sprintf("A %d second", i)))
	}
	for _, i := range groupB {
		fromB = append(fromB, report(t, m.stores[i], fmt.Sprintf("B %d", i)))
	}
	a2, a3 := m.start(2, noReceipts), m.start(3, noReceipts)
	b4, b5 := m.start(4, noReceipts), m.start(5, noReceipts)
	connect(t, a2, a3)
	connect(t, b4, b5)

	c := m.start(carrier, noReceipts)
	connect(t, c, a2)
	connect(t, c, a3)
	waitConverged(t, slow(30*time.Second), 0, m.stores[carrier], m.stores[2], m.stores[3])
	for _, id := range fromA {
		if !has(m.stores[carrier], id) {
			t.Fatalf("the carrier left group A without report %s", id)
		}
	}
	cid := c.Node().ID()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, slow(10*time.Second), "group A still connected to the stopped carrier", func() bool {
		return !connected(a2, cid) && !connected(a3, cid)
	})

	c2 := m.start(carrier, noReceipts)
	connect(t, c2, b4)
	stores := []*store.Store{m.stores[carrier], m.stores[4], m.stores[5]}
	waitConverged(t, slow(30*time.Second), 0, stores...)
	for _, st := range stores[1:] {
		for _, id := range fromA {
			if !has(st, id) {
				t.Fatalf("group B lacks A's report %s", id)
			}
		}
	}
	for _, a := range []*mesh.Engine{a2, a3} {
		for _, b := range []*mesh.Engine{b4, b5} {
			if connected(a, b.Node().ID()) {
				t.Fatal("groups A and B met directly")
			}
		}
	}
	for _, id := range fromB {
		if has(m.stores[2], id) || has(m.stores[3], id) {
			t.Fatal("a report of group B reached group A without a carrier")
		}
	}
	for _, st := range stores {
		checkStoreSound(t, st)
	}
}
