package mesh_test

import (
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/sync/mesh"
)

// Two members converge on exactly the union of what they held: the
// genesis, the first epoch, the observer's enrollment and a report each
// (no receipts, so nothing is written meanwhile).
func TestTwoNodesConverge(t *testing.T) {
	m := newMission(t, 2)
	report(t, m.stores[0], "from the desk")
	report(t, m.stores[1], "from the field")
	want := union(t, m.stores...)
	if len(want) != 5 {
		t.Fatalf("the mission holds %d records before syncing, want 5", len(want))
	}
	a, b := m.start(0, noReceipts), m.start(1, noReceipts)
	connect(t, a, b)
	waitConverged(t, 20*time.Second, len(want), m.stores...)
	for i, st := range m.stores {
		if got := ids(t, st); !equal(got, want) {
			t.Fatalf("store %d holds %d records, want exactly the union of %d", i, len(got), len(want))
		}
	}
}

// A record written right after two peers meet, before the gossip mesh
// forms, still arrives: reconciliation covers it.
func TestPublishRightAfterConnect(t *testing.T) {
	m := newMission(t, 2)
	a, b := m.start(0, noReceipts, slowPeriodic), m.start(1, noReceipts, slowPeriodic, mesh.DropPublish)
	connect(t, a, b)
	id := report(t, m.stores[1], "written at once")
	eventually(t, 15*time.Second, "the report written right after connecting never arrived", func() bool {
		return has(m.stores[0], id)
	})
}
