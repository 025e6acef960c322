// Package node runs a mission device's libp2p host: transports, the
// resource manager, discovery (mDNS under names derived from the mission
// secret, peers from invites and --peer), circuit relay and hole punching,
// and the hello protocol that admits members before anything else.
//
// node knows nothing of records: it asks its owner (Owner: the sync
// engine) through callbacks and reports admitted peers to it. A node is
// built before its owner and admits nobody until the owner is attached
// (Attach); whoever built the node closes it, after its owner has stopped.
package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// Config configures a Node. Zero values are documented per field.
type Config struct {
	// Key is the transport identity. It is never the signing key: network
	// presence must not link to authored records. Required.
	Key crypto.PrivKey
	// Secret is the mission secret. Required.
	Secret []byte
	// Listen addresses. Default: TCP and QUIC on all interfaces, random
	// ports.
	Listen []ma.Multiaddr
	// MDNS turns on LAN discovery.
	MDNS bool
	// RelayService lets this node relay for others (headless members).
	RelayService bool
	// Relays are peers used as circuit relays only: they are never asked
	// to say hello and never get records.
	Relays []peer.AddrInfo
	// Phone picks phone-sized resource limits.
	Phone bool
	// HelloTimeout bounds how long a connection may stay without a
	// successful hello. Default 15 s.
	HelloTimeout time.Duration
	// BanFor is how long a banned peer ID is refused (Ban; a peer that
	// failed hello). Default DefaultBanFor.
	BanFor time.Duration
	// Logger, default discard.
	Logger *slog.Logger
	// Now is the clock for mDNS name rotation, bans and the clock offsets
	// measured in hello. Default time.Now.
	Now func() time.Time
	// Owner, when the owner exists before the node (a test, a bare node
	// with callbacks of its own), is attached by New. Left zero, the node
	// waits for Attach: that is how the daemon builds one, and the engine
	// attaches itself.
	Owner
}

// Node is a running host. Methods are safe for concurrent use.
type Node struct {
	cfg   Config
	host  host.Host
	log   *slog.Logger
	hello protocol.ID
	gate  *gater
	owner ownerSlot

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// pauseMu serialises Pause, Resume and Close (each starts or stops
	// the mDNS rotator); it is never taken by a callback.
	pauseMu sync.Mutex

	// mu guards what follows. It may be held while taking gate.mu (admit
	// asks the gate), never the reverse.
	mu       sync.Mutex
	admitted map[peer.ID]time.Time     // peers whose hello we verified
	clock    map[peer.ID]time.Duration // their clock minus ours, from hello
	level    map[peer.ID]uint8         // their format level, from hello (absent: 0)
	relays   map[peer.ID]bool
	mdns     *mdnsRotator
	lan      map[peer.ID]*lanPeer  // peers found by mDNS, redialled after a link drops
	known    map[peer.ID]knownPeer // peers admitted before a Pause, redialled by Resume
	paused   bool
	closed   bool
}

// New starts a host: it listens (and looks for peers on the LAN with
// MDNS) at once, and admits nobody until an owner is attached (Attach, or
// Config.Owner). The caller must Close it.
func New(cfg Config) (*Node, error) {
	if cfg.Key == nil || len(cfg.Secret) == 0 {
		return nil, errors.New("node: Key and Secret are required")
	}
	owner := cfg.Owner
	cfg.Owner = Owner{} // the node reads its owner from the slot only
	if owner.given() && (owner.Credential == nil || owner.CheckCredential == nil) {
		return nil, errors.New("node: the owner's Credential and CheckCredential are required")
	}
	if cfg.HelloTimeout == 0 {
		cfg.HelloTimeout = 15 * time.Second
	}
	if cfg.BanFor == 0 {
		cfg.BanFor = DefaultBanFor
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.Listen) == 0 {
		for _, s := range []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1", "/ip6/::/tcp/0", "/ip6/::/udp/0/quic-v1"} {
			cfg.Listen = append(cfg.Listen, ma.StringCast(s))
		}
	}
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	var concrete rcmgr.ConcreteLimitConfig
	if cfg.Phone {
		concrete = limits.Scale(96<<20, 256)
	} else {
		concrete = limits.AutoScale()
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(concrete))
	if err != nil {
		return nil, fmt.Errorf("node: resource manager: %w", err)
	}
	g := &gater{banned: map[peer.ID]time.Time{}, now: cfg.Now}
	opts := []libp2p.Option{
		libp2p.Identity(cfg.Key),
		libp2p.ListenAddrs(cfg.Listen...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionGater(g),
		// Identify tells any peer our agent string: say nothing.
		libp2p.UserAgent("p2p"),
		libp2p.EnableRelay(),
		libp2p.EnableHolePunching(),
		libp2p.NATPortMap(),
		libp2p.Muxer(yamux.ID, slowLinkYamux()),
	}
	if cfg.RelayService {
		opts = append(opts, libp2p.EnableRelayService())
	}
	if len(cfg.Relays) > 0 {
		opts = append(opts, libp2p.EnableAutoRelayWithStaticRelays(cfg.Relays))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		rm.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{cfg: cfg, host: h, log: cfg.Logger, hello: ProtocolID(cfg.Secret, "hello/2", h.ID()), gate: g,
		owner: newOwnerSlot(), ctx: ctx, cancel: cancel, admitted: map[peer.ID]time.Time{}, clock: map[peer.ID]time.Duration{}, level: map[peer.ID]uint8{},
		relays: map[peer.ID]bool{}, known: map[peer.ID]knownPeer{}}
	for _, r := range cfg.Relays {
		n.relays[r.ID] = true
	}
	if owner.given() {
		_ = n.owner.attach(&owner) // a fresh slot: cannot fail
	}
	h.SetStreamHandler(n.hello, n.handleHello)
	h.Network().Notify(&network.NotifyBundle{
		ConnectedF:    func(_ network.Network, c network.Conn) { n.onConnected(c) },
		DisconnectedF: func(_ network.Network, c network.Conn) { n.onDisconnected(c) },
	})
	if cfg.MDNS {
		n.mdns = newMDNSRotator(n)
		n.mdns.start()
	}
	return n, nil
}

// Now is the node's clock (Config.Now): the one its bans run on.
func (n *Node) Now() time.Time { return n.cfg.Now() }

// Protocol is the ID of stream protocol name on the listener with peer ID
// listener, under this node's mission secret (ProtocolID).
func (n *Node) Protocol(name string, listener peer.ID) protocol.ID {
	return ProtocolID(n.cfg.Secret, name, listener)
}

// Topic is the mission's gossip topic for records that builds of format
// level or above can store (LevelTopicName; level 0 is TopicName).
func (n *Node) Topic(level int) string { return LevelTopicName(n.cfg.Secret, level) }

// Host returns the libp2p host (for protocol handlers and pubsub).
func (n *Node) Host() host.Host { return n.host }

// ID returns this node's transport peer ID.
func (n *Node) ID() peer.ID { return n.host.ID() }

// Addrs returns full listen multiaddrs ending in /p2p/<id>.
func (n *Node) Addrs() []ma.Multiaddr {
	info := peer.AddrInfo{ID: n.host.ID(), Addrs: n.host.Addrs()}
	out, _ := peer.AddrInfoToP2pAddrs(&info)
	return out
}

// Admitted reports whether p passed hello on a live connection.
func (n *Node) Admitted(p peer.ID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.admitted[p]
	return ok
}

// AdmittedAt returns when p was admitted (zero if it is not).
func (n *Node) AdmittedAt(p peer.ID) time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.admitted[p]
}

// Peers returns the admitted peers.
func (n *Node) Peers() []peer.ID {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]peer.ID, 0, len(n.admitted))
	for p := range n.admitted {
		out = append(out, p)
	}
	return out
}

// Connect dials a peer; hello runs on the new connection. It fails with
// ErrPaused while the node is paused.
func (n *Node) Connect(ctx context.Context, info peer.AddrInfo) error {
	if info.ID == n.host.ID() {
		return nil
	}
	if n.gate.isPaused() {
		return ErrPaused
	}
	return n.host.Connect(ctx, info)
}

// ConnectAddr dials a full multiaddr ending in /p2p/<id>.
func (n *Node) ConnectAddr(ctx context.Context, addr ma.Multiaddr) (peer.ID, error) {
	info, err := peer.AddrInfoFromP2pAddr(addr)
	if err != nil {
		return "", fmt.Errorf("%s: %w (want a full address ending in /p2p/<peer id>)", addr, err)
	}
	return info.ID, n.Connect(ctx, *info)
}

// WaitAdmitted blocks until p is admitted or ctx ends.
func (n *Node) WaitAdmitted(ctx context.Context, p peer.ID) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !n.Admitted(p) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("peer %s did not complete hello: %w", p, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// DefaultBanFor is how long a ban lasts when Config.BanFor is zero.
const DefaultBanFor = 10 * time.Minute

// BanFor is how long a ban lasts on this node (Config.BanFor).
func (n *Node) BanFor() time.Duration { return n.cfg.BanFor }

// Ban disconnects p and refuses its transport peer ID for BanFor; reason
// goes to the log. p stops being admitted before Ban closes its
// connections, so Admitted (the gossip peer filter, protocol guards)
// refuses it from the moment Ban is called, and a hello still running
// on one of its connections does not admit it.
//
// A peer ID is only the transport key, which a device can replace at
// will: the mesh bans members by author key (sync/mesh refuses a banned
// or revoked author at hello, whatever its transport key) and calls Ban
// to cut their connections. The node bans peer IDs itself only for hello
// failures, where no author is known.
func (n *Node) Ban(p peer.ID, reason string) {
	n.log.Info("banning peer", "peer", p, "reason", reason)
	n.gate.ban(p, n.cfg.BanFor)
	n.mu.Lock()
	_, was := n.admitted[p]
	delete(n.admitted, p)
	delete(n.clock, p)
	delete(n.level, p)
	delete(n.known, p)
	n.mu.Unlock()
	_ = n.host.Network().ClosePeer(p)
	if was {
		n.notify(p, false)
	}
}

// Close stops discovery and the host, and waits for every goroutine. The
// owner is not called after Close returns; whoever built the node closes
// it, after stopping the owner (the engine's Close detaches it).
func (n *Node) Close() error {
	n.owner.end()
	n.pauseMu.Lock()
	n.mu.Lock()
	n.closed = true
	m := n.mdns
	n.mdns = nil
	n.mu.Unlock()
	n.cancel()
	if m != nil {
		m.stop()
	}
	n.pauseMu.Unlock()
	err := n.host.Close()
	n.wg.Wait()
	return err
}

func (n *Node) goFn(fn func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		fn()
	}()
}

// slowLinkYamux gives each muxer write a minute instead of yamux's 10 s: at
// 32 kbit/s a 64 KiB write takes 16 s, and the default closed the
// connection mid-sync again and again (measured in the shaped-link test).
// A dead connection is noticed later (about 90 s instead of 40 s).
func slowLinkYamux() *yamux.Transport {
	t := *yamux.DefaultTransport
	t.ConnectionWriteTimeout = time.Minute
	return &t
}
