package mesh_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/node"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// The engine runs on a node it was given and leaves it open at Close: it
// detaches, so its peers see it go at once and a peer that comes back is
// not admitted, while the node still listens until its builder closes it.
// No second engine can take that node over.
func TestCloseLeavesNodeToItsBuilder(t *testing.T) {
	m := newMission(t, 2)
	a := m.start(0, noReceipts, slowPeriodic)
	b := m.start(1, noReceipts, slowPeriodic, helloTimeout(2*time.Second))
	connect(t, a, b)
	n := a.Node()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the peer still sees the closed engine", func() bool { return !connected(b, n.ID()) })
	if len(n.Host().Addrs()) == 0 {
		t.Fatal("the engine's Close closed the node's listeners")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.Node().ForgetDialBackoff(n.ID())
	if err := b.Node().Connect(ctx, peer.AddrInfo{ID: n.ID(), Addrs: n.Host().Addrs()}); err != nil {
		t.Fatalf("the node stopped listening: %v", err)
	}
	eventually(t, 10*time.Second, "a node whose engine closed kept a connection past the hello timeout", func() bool {
		return !connected(b, n.ID())
	})
	if n.Admitted(b.Node().ID()) || b.Node().Admitted(n.ID()) {
		t.Fatal("admitted by a node whose engine closed")
	}
	if _, err := mesh.New(n, mesh.Config{Store: m.stores[0]}); !errors.Is(err, node.ErrClosed) {
		t.Fatalf("a second engine on the node: %v, want node.ErrClosed", err)
	}
}

// An engine refuses a node that already has an owner, and leaves it and
// its owner as they were.
func TestNewRefusesOwnedNode(t *testing.T) {
	m := newMission(t, 1)
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.New(node.Config{Key: key, Secret: m.secret,
		Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")},
		Owner: node.Owner{
			Credential:      func([]byte) []byte { return nil },
			CheckCredential: func(peer.ID, []byte, []byte) error { return nil },
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := mesh.New(n, mesh.Config{Store: m.stores[0]}); !errors.Is(err, node.ErrOwned) {
		t.Fatalf("an engine on an owned node: %v, want node.ErrOwned", err)
	}
	if err := n.Attach(node.Owner{Credential: func([]byte) []byte { return nil },
		CheckCredential: func(peer.ID, []byte, []byte) error { return nil }}); !errors.Is(err, node.ErrOwned) {
		t.Fatalf("the failed engine detached the node's owner: Attach gave %v", err)
	}
}
