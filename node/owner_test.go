package node_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vigil-mesh/vigil/internal/testkit"
	"github.com/vigil-mesh/vigil/node"
)

// ownerless builds a node as the daemon does, before its owner: the owner
// newNode made for it is handed back for the test to attach.
func ownerless(t *testing.T, sec []byte, hello time.Duration) (*tnode, node.Owner) {
	t.Helper()
	var owner node.Owner
	n := newNode(t, sec, nil, func(c *node.Config) {
		owner, c.Owner = c.Owner, node.Owner{}
		c.HelloTimeout = hello
	})
	return n, owner
}

// A node built before its owner takes connections, but nobody is admitted
// and no credential leaves either side until the owner is attached; the
// hellos that waited then go on, on the same connection, and both sides
// admit each other.
func TestOwnerAttachedLater(t *testing.T) {
	sec := secret(t)
	a, owner := ownerless(t, sec, 10*time.Second)
	b := newNode(t, sec, nil)
	if err := dial(t, b.Node, info(a.Node)); err != nil {
		t.Fatal(err)
	}
	if a.Admitted(b.ID()) || b.Admitted(a.ID()) || b.credsFrom(a.ID()) > 0 || a.credsFrom(b.ID()) > 0 {
		t.Fatal("a hello went through on a node with no owner")
	}
	if up, _ := a.ev.count(b.ID()); up != 0 {
		t.Fatal("OnPeer(up) on a node with no owner")
	}
	if err := a.Attach(owner); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.WaitAdmitted(ctx, b.ID()); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitAdmitted(ctx, a.ID()); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 2*time.Second, "the attached owner was not told of the peer", func() bool {
		up, _ := a.ev.count(b.ID())
		return up == 1
	})
	if err := a.Attach(owner); !errors.Is(err, node.ErrOwned) {
		t.Fatalf("a second Attach: %v, want ErrOwned", err)
	}
}

// A hello that finds no owner within the hello timeout ends with the
// connection closed, nobody admitted and nobody banned: once an owner is
// attached, the same peer connects and is admitted.
func TestHelloWithoutOwnerRefusedNotBanned(t *testing.T) {
	sec := secret(t)
	a, owner := ownerless(t, sec, time.Second)
	b := newNode(t, sec, nil)
	if err := dial(t, b.Node, info(a.Node)); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, "the connection outlived the hello timeout with no owner", func() bool {
		return !isConnected(a.Node, b.ID()) && !isConnected(b.Node, a.ID())
	})
	if a.Admitted(b.ID()) || b.Admitted(a.ID()) {
		t.Fatal("admitted with no owner")
	}
	if err := a.Attach(node.Owner{}); err == nil {
		t.Fatal("an owner without callbacks was attached")
	}
	if err := a.Attach(owner); err != nil {
		t.Fatal(err)
	}
	b.ForgetDialBackoff(a.ID())
	if err := dial(t, b.Node, info(a.Node)); err != nil {
		t.Fatalf("the peer was refused after the owner came: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.WaitAdmitted(ctx, b.ID()); err != nil {
		t.Fatal(err)
	}
}

// Detach takes the node off the mesh while it keeps listening: its peers
// are forgotten and disconnected at once, a peer that comes back is never
// admitted, and no owner can be attached again.
func TestDetach(t *testing.T) {
	sec := secret(t)
	a := newNode(t, sec, nil, func(c *node.Config) { c.HelloTimeout = time.Second })
	b := newNode(t, sec, nil)
	if err := dial(t, b.Node, info(a.Node)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.WaitAdmitted(ctx, b.ID()); err != nil {
		t.Fatal(err)
	}
	a.Detach()
	if len(a.Peers()) != 0 || a.Admitted(b.ID()) {
		t.Fatalf("still lists %v after Detach", a.Peers())
	}
	testkit.Eventually(t, 5*time.Second, "the peer still sees the detached node", func() bool {
		return !isConnected(b.Node, a.ID()) && !b.Admitted(a.ID())
	})
	b.ForgetDialBackoff(a.ID())
	if err := dial(t, b.Node, info(a.Node)); err != nil {
		t.Fatalf("the detached node stopped listening: %v", err)
	}
	testkit.Eventually(t, 5*time.Second, "a detached node kept a connection past the hello timeout", func() bool {
		return !isConnected(b.Node, a.ID())
	})
	if a.Admitted(b.ID()) || b.Admitted(a.ID()) {
		t.Fatal("admitted after Detach")
	}
	if err := a.Attach(node.Owner{Credential: func([]byte) []byte { return nil }, CheckCredential: nil}); err == nil {
		t.Fatal("an owner without CheckCredential was attached")
	}
	if err := a.Attach(node.Owner{Credential: func([]byte) []byte { return nil },
		CheckCredential: func(_ peer.ID, _, _ []byte) error { return nil }}); !errors.Is(err, node.ErrClosed) {
		t.Fatalf("Attach after Detach: %v, want ErrClosed", err)
	}
}
