package mesh_test

import (
	"testing"
	"time"
)

// Records a reconciliation stores are news for the node's other peers:
// it reconciles with them at once. In a—b—c, c can get a's records only
// that way: they were written to a's store directly (never gossiped), no
// periodic round runs, and b and c reconciled before b had them.
func TestReconciledRecordsNudgeOnwards(t *testing.T) {
	m := newMission(t, 3)
	a := m.start(0, noReceipts, slowPeriodic)
	b := m.start(1, noReceipts, slowPeriodic)
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
