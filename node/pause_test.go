package node_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/internal/testkit"
	"github.com/vigil-mesh/vigil/node"
)

func admitted(t testing.TB, a, b *tnode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.WaitAdmitted(ctx, b.ID()); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitAdmitted(ctx, a.ID()); err != nil {
		t.Fatal(err)
	}
}

// Pause closes every connection (the peer hears its peer go) and refuses
// new ones in both directions; Resume dials the peers admitted before
// the pause at once, whichever side dialled first.
func TestPauseClosesAndRefusesResumeRedials(t *testing.T) {
	sec := secret(t)
	a, b := newNode(t, sec, nil), newNode(t, sec, nil)
	// b dialled a: a's connection is inbound, and Resume must still find
	// b's listen address (identify) to dial it back.
	if err := dial(t, b.Node, info(a.Node)); err != nil {
		t.Fatal(err)
	}
	admitted(t, a, b)

	a.Pause()
	if !a.Paused() {
		t.Fatal("not paused")
	}
	testkit.Eventually(t, 5*time.Second, "the peer still sees the connection after Pause", func() bool {
		return !isConnected(b.Node, a.ID()) && !b.Admitted(a.ID())
	})
	testkit.Eventually(t, 2*time.Second, "OnPeer(down) not called on the peer", func() bool { _, d := b.ev.count(a.ID()); return d == 1 })
	if a.Admitted(b.ID()) || len(a.Peers()) != 0 {
		t.Fatal("a paused node still lists peers")
	}
	testkit.Eventually(t, 2*time.Second, "OnPeer(down) not called on the paused node", func() bool { _, d := a.ev.count(b.ID()); return d == 1 })
	// The peer cannot come back in (refused at accept, before any
	// handshake), and the paused node dials nobody. The refusal is
	// synchronous: b's dial fails because a closed the connection at
	// accept, so there is nothing to wait for before looking.
	if err := dial(t, b.Node, info(a.Node)); err == nil {
		t.Fatal("a paused node accepted a connection")
	}
	if isConnected(b.Node, a.ID()) || isConnected(a.Node, b.ID()) || b.Admitted(a.ID()) {
		t.Fatal("a peer reconnected to a paused node")
	}
	if err := dial(t, a.Node, info(b.Node)); !errors.Is(err, node.ErrPaused) {
		t.Fatalf("dial while paused: %v, want ErrPaused", err)
	}
	a.Pause() // twice: nothing more

	a.Resume()
	if a.Paused() {
		t.Fatal("still paused")
	}
	admitted(t, a, b) // a redialled b on its own
	a.Resume()        // twice: nothing more
	if _, d := a.ev.count(b.ID()); d != 1 {
		t.Fatalf("OnPeer(down) called %d times for one pause", d)
	}
}

// A closed node ignores Pause and Resume.
func TestPauseResumeAfterClose(t *testing.T) {
	n := newNode(t, secret(t), nil, func(c *node.Config) { c.MDNS = true })
	n.Pause()
	n.Resume() // restarts mDNS
	n.Pause()
	n.Close()
	n.Resume()
	if !n.Paused() {
		t.Fatal("Resume after Close did something")
	}
}
