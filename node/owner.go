package node

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Owner is the device a node speaks for (the sync engine): the node asks
// it for this device's credential, has it judge the peers' credentials and
// hold the secret epochs, and tells it who is admitted. node knows nothing
// of records; everything it needs of them goes through here.
//
// A node may be built before its owner exists: New listens and takes
// connections, but a hello on them waits (up to the hello timeout) for an
// owner to be attached (Attach), and nobody is admitted before. A node
// serves one owner in its life: Detach ends it, and the node then admits
// nobody until it is closed.
type Owner struct {
	// Credential returns this device's member credential for a hello,
	// bound to binding. Required.
	Credential func(binding []byte) []byte
	// CheckCredential judges a peer's credential; an error disconnects and
	// bans the peer (its transport peer ID, for BanFor). Required.
	CheckCredential func(p peer.ID, cred, binding []byte) error
	// Keyring holds the mission's member secrets for the hello (nil:
	// none, so this device shows its credential first, to any peer that
	// proves the mission secret).
	Keyring Keyring
	// OnPeer is called (in its own goroutine) when a peer has been admitted
	// (up=true) and when its last connection closes (up=false).
	OnPeer func(p peer.ID, up bool)
	// FormatLevel is the record format level this device announces in
	// hello: which records it can store (the sync engine sets it). 0
	// announces nothing, as the versions before the level did.
	FormatLevel uint8
}

// given reports whether any of the owner's callbacks is set (an owner in
// Config).
func (o *Owner) given() bool {
	return o.Credential != nil || o.CheckCredential != nil || o.Keyring != nil || o.OnPeer != nil
}

// Errors of Attach.
var (
	ErrOwned  = errors.New("node: an owner is attached already (a node serves one owner in its life)")
	ErrClosed = errors.New("node: closed, or its owner has left")
)

// Attach makes o the node's owner: from now on hellos are answered and
// peers admitted on its behalf, and hellos that were waiting for an owner
// go on. Credential and CheckCredential are required. It fails with
// ErrOwned when an owner is attached already, and with ErrClosed after
// Detach or Close.
func (n *Node) Attach(o Owner) error {
	if o.Credential == nil || o.CheckCredential == nil {
		return errors.New("node: the owner's Credential and CheckCredential are required")
	}
	return n.owner.attach(&o)
}

// Detach ends the owner's service: the node admits nobody from now on,
// forgets its admitted peers (without telling the owner) and closes every
// connection, so that peers see this device leave and whatever the owner
// was doing over a stream ends. Hellos in progress may still call the
// owner once; an owner that stops refuses them itself. The node keeps
// listening until Close. Detach on a node with no owner makes it refuse
// one.
func (n *Node) Detach() {
	n.owner.end()
	n.mu.Lock()
	clear(n.admitted)
	clear(n.clock)
	clear(n.level)
	clear(n.known)
	n.mu.Unlock()
	for _, c := range n.host.Network().Conns() {
		_ = c.Close()
	}
}

// ownerSlot holds a node's owner. mu is a leaf: nothing else is taken
// while it is held, and it is taken under the node's mu (admit).
type ownerSlot struct {
	mu    sync.Mutex
	o     *Owner
	ended bool          // Detach or Close: no owner any more
	ready chan struct{} // closed at Attach or at the end
}

func newOwnerSlot() ownerSlot { return ownerSlot{ready: make(chan struct{})} }

func (s *ownerSlot) attach(o *Owner) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.ended:
		return ErrClosed
	case s.o != nil:
		return ErrOwned
	}
	s.o = o
	close(s.ready)
	return nil
}

func (s *ownerSlot) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	if s.o == nil {
		close(s.ready)
	}
	s.o, s.ended = nil, true
}

// get returns the owner, or nil when none is attached.
func (s *ownerSlot) get() *Owner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.o
}

// await returns the owner once one is attached, or nil when ctx ends or
// the node will have none.
func (s *ownerSlot) await(ctx context.Context) *Owner {
	select {
	case <-s.ready:
	case <-ctx.Done():
		return nil
	}
	return s.get()
}

// awaitOwner is the owner, waited for up to d (nil: none came).
func (n *Node) awaitOwner(d time.Duration) *Owner {
	if o := n.owner.get(); o != nil {
		return o
	}
	ctx, cancel := context.WithTimeout(n.ctx, d)
	defer cancel()
	return n.owner.await(ctx)
}

// notify tells the owner, in its own goroutine, that p came up or went
// down.
func (n *Node) notify(p peer.ID, up bool) {
	if o := n.owner.get(); o != nil && o.OnPeer != nil {
		n.goFn(func() { o.OnPeer(p, up) })
	}
}

func (o *Owner) refs() []EpochRef {
	if o.Keyring == nil {
		return nil
	}
	r := o.Keyring.Refs()
	if len(r) > maxRefs {
		r = r[:maxRefs]
	}
	return r
}

func (o *Owner) secret(id [32]byte) ([]byte, bool) {
	if o.Keyring == nil {
		return nil, false
	}
	return o.Keyring.Secret(id)
}
