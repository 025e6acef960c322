package mesh_test

import (
	"context"
	"testing"
	"time"
)

// SyncResult.Bytes counts both phases, both ways.
func TestSyncResultCountsTransferBytes(t *testing.T) {
	m := newMission(t, 2)
	a := m.start(0, noReceipts, slowPeriodic)
	b := m.start(1, noReceipts, slowPeriodic)
	connect(t, a, b)
	waitConverged(t, slow(20*time.Second), 0, m.stores...)
	_, size := bulkDays(t, m.stores[0], 200, 200)
	ctx, cancel := context.WithTimeout(context.Background(), slow(30*time.Second))
	defer cancel()
	res, err := b.SyncPeer(ctx, a.Node().ID())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v (records: %d bytes)", res, size)
	if res.Received != 200 {
		t.Fatalf("received %d records, want 200", res.Received)
	}
	if res.Bytes != res.BytesSent+res.BytesReceived {
		t.Errorf("Bytes %d is not BytesSent %d + BytesReceived %d", res.Bytes, res.BytesSent, res.BytesReceived)
	}
	if res.BytesReceived < size {
		t.Errorf("received %d bytes, less than the %d bytes of records that arrived", res.BytesReceived, size)
	}
	if res.ReconBytes <= 0 || res.ReconBytes >= res.Bytes {
		t.Errorf("ReconBytes %d, want a part of Bytes %d", res.ReconBytes, res.Bytes)
	}
	if res.BytesSent <= 0 {
		t.Errorf("BytesSent %d", res.BytesSent)
	}
}
