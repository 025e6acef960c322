package mesh_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// slowSyncStore makes reconciliation's writes slow once armed, and counts
// those in progress.
type slowSyncStore struct {
	*store.Store
	armed    atomic.Bool
	inflight atomic.Int32
	entered  chan struct{} // closed by the first slow write
	once     sync.Once
}

func (s *slowSyncStore) AddMany(raws [][]byte, source string, progress func(int)) ([]store.Result, error) {
	if !s.armed.Load() || !strings.HasPrefix(source, "member:") {
		return s.Store.AddMany(raws, source, progress)
	}
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	s.once.Do(func() { close(s.entered) })
	// The slow disk the test is about: Close must wait this write out.
	// Nothing here waits for an outcome; a gate the test opened would
	// have to be opened after Close returns, which it must not do first.
	time.Sleep(500 * time.Millisecond)
	return s.Store.AddMany(raws, source, progress)
}

// Closing an engine while a reconciliation stores what it fetched: Close
// ends and waits for the session, even one a caller started with SyncPeer
// (as vigil sync does), so the store can be closed right after Close
// returns. Before, a batch could still be on its way into the store after
// Close, and Badger panics on a write to a closed database. Meant for
// -race as well.
func TestCloseDuringTransfer(t *testing.T) {
	m := newMission(t, 2)
	slowStore := &slowSyncStore{Store: m.stores[0], entered: make(chan struct{})}
	a := m.start(0, noReceipts, slowPeriodic, func(c *mesh.Config) { c.Store = slowStore })
	b := m.start(1, noReceipts, slowPeriodic)
	connect(t, a, b)
	waitConverged(t, slow(20*time.Second), 0, m.stores...)
	// Records a lacks and only a reconciliation a starts will bring
	// (stored in one batch, they are not gossiped).
	bulkDays(t, m.stores[1], 500, 500)
	slowStore.armed.Store(true)
	done := make(chan error, 1)
	go func() {
		_, err := a.SyncPeer(context.Background(), b.Node().ID())
		done <- err
	}()
	select {
	case <-slowStore.entered:
	case <-time.After(slow(30 * time.Second)):
		t.Fatal("the transfer never reached the store")
	}
	if err := a.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	if n := slowStore.inflight.Load(); n > 0 {
		t.Fatalf("Close returned with %d writes of a transfer still on their way to the store", n)
	}
	if err := m.stores[0].Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Logf("SyncPeer returned %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("SyncPeer still runs after Close returned")
	}
	if _, err := a.SyncPeer(context.Background(), b.Node().ID()); !errors.Is(err, mesh.ErrClosed) {
		t.Errorf("SyncPeer after Close: %v, want ErrClosed", err)
	}
}
