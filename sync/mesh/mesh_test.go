package mesh_test

import (
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/sync/mesh"
)

func TestTwoNodesConverge(t *testing.T) {
	m := newMission(t, 2)
	report(t, m.stores[0], "from the desk")
	report(t, m.stores[1], "from the field")
	a, b := m.start(0), m.start(1)
	connect(t, a, b)
	waitConverged(t, 20*time.Second, 0, m.stores...)
	if n := len(ids(t, m.stores[0])); n != 5 { // genesis, member, 2 reports ... and the receipt may add one
		t.Logf("converged with %d records", n)
	}
}

// A record written right after two peers meet, before the gossip mesh
// forms, still arrives: reconciliation covers it.
func TestPublishRightAfterConnect(t *testing.T) {
	m := newMission(t, 2)
	a, b := m.start(0, noReceipts, slowPeriodic), m.start(1, noReceipts, slowPeriodic, mesh.DropPublish)
	connect(t, a, b)
	id := report(t, m.stores[1], "written at once")
	deadline := time.Now().Add(15 * time.Second)
	for {
		if r, _ := m.stores[0].Get(id); r != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the report written right after connecting never arrived")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
