package node

import (
	"context"
	"errors"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"
)

// ErrPaused is returned by Connect while the node is paused.
var ErrPaused = errors.New("node: paused (the app is in the background)")

// knownPeer is a peer that was admitted when the node paused: Resume
// dials it again, since nothing else may (a peer met through an invite
// address or a QR code is neither found by mDNS nor named by --peer).
type knownPeer struct {
	info peer.AddrInfo
	seen time.Time
}

// Pause takes the node off the network until Resume: mDNS stops
// announcing and browsing, the LAN peers are no longer redialled, every
// connection (relays included) is closed, and the connection gater
// refuses new connections in both directions, so peers see this node go
// and cannot reconnect. Listeners stay open; a connection that arrives is
// closed at accept, before any handshake. When Pause returns the node
// lists no peers (OnPeer has been told, or will be, once per peer); the
// admitted peers are remembered for Resume. Pause on a paused or closed
// node does nothing.
//
// A record the owner stores while paused is not lost: the owner's
// reconciliation sends it after Resume.
func (n *Node) Pause() {
	n.pauseMu.Lock()
	defer n.pauseMu.Unlock()
	n.mu.Lock()
	if n.paused || n.closed {
		n.mu.Unlock()
		return
	}
	n.paused = true
	n.gate.setPaused(true)
	m := n.mdns
	n.mdns = nil
	now := n.cfg.Now()
	for p := range n.admitted {
		if n.relays[p] {
			continue
		}
		if addrs := n.dialableAddrs(p); len(addrs) > 0 {
			n.known[p] = knownPeer{info: peer.AddrInfo{ID: p, Addrs: addrs}, seen: now}
		}
	}
	n.mu.Unlock()
	if m != nil {
		m.stop()
	}
	for _, c := range n.host.Network().Conns() {
		_ = c.Close()
	}
	// The disconnect notifications come later, from libp2p's goroutines:
	// forget the peers now, so the node lists none once Pause returns.
	// Whichever of this and onDisconnected deletes a peer reports it down.
	n.mu.Lock()
	var gone []peer.ID
	for p := range n.admitted {
		gone = append(gone, p)
		delete(n.admitted, p)
		delete(n.clock, p)
		delete(n.level, p)
	}
	n.mu.Unlock()
	for _, p := range gone {
		n.notify(p, false)
	}
	n.log.Debug("node paused")
}

// dialableAddrs are the addresses to dial p at again: those it announced
// (identify), else the remote ends of this node's outbound connections
// (an inbound connection's remote port is the peer's ephemeral one).
func (n *Node) dialableAddrs(p peer.ID) []ma.Multiaddr {
	if addrs := n.host.Peerstore().Addrs(p); len(addrs) > 0 {
		return addrs
	}
	var out []ma.Multiaddr
	for _, c := range n.host.Network().ConnsToPeer(p) {
		if c.Stat().Direction == network.DirOutbound {
			out = append(out, c.RemoteMultiaddr())
		}
	}
	return out
}

// Resume undoes Pause: connections are allowed again, mDNS starts
// afresh (it asks the LAN at once), and the LAN peers found before and
// the peers admitted when the node paused are dialled now, their dial
// backoff forgotten. Peers not seen for an mDNS epoch are forgotten.
// Resume on a running or closed node does nothing.
func (n *Node) Resume() {
	n.pauseMu.Lock()
	defer n.pauseMu.Unlock()
	n.mu.Lock()
	if !n.paused || n.closed {
		n.mu.Unlock()
		return
	}
	n.paused = false
	n.gate.setPaused(false)
	now := n.cfg.Now()
	var dial []peer.AddrInfo
	for id, k := range n.known {
		if now.Sub(k.seen) > MDNSEpoch {
			delete(n.known, id)
			continue
		}
		dial = append(dial, k.info)
	}
	var forget []peer.ID
	for id, lp := range n.lan {
		lp.backoff, lp.next = 0, time.Time{}
		forget = append(forget, id)
	}
	var m *mdnsRotator
	if n.cfg.MDNS {
		m = newMDNSRotator(n)
		n.mdns = m
	}
	n.mu.Unlock()
	n.log.Debug("node resumed", "redial", len(dial), "lan", len(forget))
	for _, info := range dial {
		forget = append(forget, info.ID)
	}
	n.ForgetDialBackoff(forget...)
	if m != nil {
		m.start()
	}
	n.redialLAN()
	for _, info := range dial {
		n.goFn(func() {
			ctx, cancel := context.WithTimeout(n.ctx, 20*time.Second)
			defer cancel()
			if err := n.Connect(ctx, info); err != nil {
				n.log.Debug("redial after resume failed", "peer", info.ID, "err", err)
			}
		})
	}
}

// Paused reports whether the node is paused.
func (n *Node) Paused() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paused
}

// ForgetDialBackoff clears libp2p's dial backoff for the given peers, so
// the next dial tries at once (after a network comes back, say).
func (n *Node) ForgetDialBackoff(ps ...peer.ID) {
	sw, ok := n.host.Network().(*swarm.Swarm)
	if !ok {
		return
	}
	for _, p := range ps {
		sw.Backoff().Clear(p)
	}
}
