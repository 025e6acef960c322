package node_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/transport"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/internal/testkit"
	"github.com/vigil-mesh/vigil/node"
)

func secret(t testing.TB) []byte {
	t.Helper()
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// events records OnPeer calls.
type events struct {
	mu  sync.Mutex
	ups map[peer.ID]int
	dns map[peer.ID]int
}

func (e *events) on(p peer.ID, up bool) {
	defer changed.fire()
	e.mu.Lock()
	defer e.mu.Unlock()
	if up {
		e.ups[p]++
	} else {
		e.dns[p]++
	}
}

func (e *events) count(p peer.ID) (up, down int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ups[p], e.dns[p]
}

type tnode struct {
	*node.Node
	ev  *events
	log *logCapture // everything the node logged
	// bindings given to Credential and to CheckCredential, by peer.
	mu      sync.Mutex
	proved  map[peer.ID][]byte
	checked map[peer.ID][]byte
	// creds holds every credential that reached CheckCredential, by
	// peer; revealedAt and checkedAt order (seq) the first Credential
	// call for a verifier and the first CheckCredential call for a
	// prover, across all nodes of a test.
	creds      map[peer.ID][][]byte
	revealedAt map[peer.ID]int64
	checkedAt  map[peer.ID]int64
}

// credsFrom returns how many credentials of p reached n's CheckCredential.
func (n *tnode) credsFrom(p peer.ID) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.creds[p])
}

// order returns when n first revealed its credential to p and first
// checked p's (0: never), on the test's sequence.
func (n *tnode) order(p peer.ID) (revealed, checked int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.revealedAt[p], n.checkedAt[p]
}

const credMarker = "MEMBER-CREDENTIAL:"

// newNode starts a node on loopback. Its credential is credMarker plus its
// peer ID; check judges peers' credentials (nil: accept all).
func newNode(t testing.TB, sec []byte, check func(p peer.ID, cred []byte) error, opts ...func(*node.Config)) *tnode {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := peer.IDFromPrivateKey(key)
	tn := &tnode{ev: &events{ups: map[peer.ID]int{}, dns: map[peer.ID]int{}}, log: &logCapture{},
		proved: map[peer.ID][]byte{}, checked: map[peer.ID][]byte{},
		creds: map[peer.ID][][]byte{}, revealedAt: map[peer.ID]int64{}, checkedAt: map[peer.ID]int64{}}
	cfg := node.Config{
		Key: key, Secret: sec, HelloTimeout: 2 * time.Second,
		Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")},
		Logger: slog.New(tn.log),
	}
	cfg.Owner = node.Owner{
		Credential: func(binding []byte) []byte {
			v := verifierOf(binding, id)
			tn.mu.Lock()
			tn.proved[v] = append([]byte(nil), binding...)
			if tn.revealedAt[v] == 0 {
				tn.revealedAt[v] = seq.Add(1)
			}
			tn.mu.Unlock()
			changed.fire()
			return []byte(credMarker + id.String())
		},
		CheckCredential: func(p peer.ID, cred, binding []byte) error {
			tn.mu.Lock()
			tn.checked[p] = append([]byte(nil), binding...)
			tn.creds[p] = append(tn.creds[p], append([]byte(nil), cred...))
			if tn.checkedAt[p] == 0 {
				tn.checkedAt[p] = seq.Add(1)
			}
			tn.mu.Unlock()
			changed.fire()
			if !bytes.Equal(cred, []byte(credMarker+p.String())) {
				return errors.New("credential is not the peer's")
			}
			if check != nil {
				return check(p, cred)
			}
			return nil
		},
		OnPeer: tn.ev.on,
	}
	for _, o := range opts {
		o(&cfg)
	}
	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tn.Node = n
	t.Cleanup(func() {
		n.Close()
		if t.Failed() {
			tn.log.dump(t, id)
		}
	})
	return tn
}

// verifierOf extracts the verifier's peer ID from a hello binding
// (domain || prover || verifier || nonce): everything between the prover
// ID and the 32-byte nonce.
func verifierOf(binding []byte, prover peer.ID) peer.ID {
	rest := bytes.TrimPrefix(binding, []byte(helloDomain))
	rest = bytes.TrimPrefix(rest, []byte(prover))
	if len(rest) < 32 {
		return ""
	}
	return peer.ID(rest[:len(rest)-32])
}

func info(n *node.Node) peer.AddrInfo { return peer.AddrInfo{ID: n.ID(), Addrs: n.Host().Addrs()} }

func dial(t testing.TB, a *node.Node, b peer.AddrInfo) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return a.Connect(ctx, b)
}

// transportConn opens a connection from a to b at a's transport, upgraded
// (secured and multiplexed) but not registered with a's swarm: a second
// connection to a peer that Connect would not open.
func transportConn(t testing.TB, a, b *node.Node) transport.CapableConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr := b.Host().Addrs()[0]
	tpt := a.Host().Network().(*swarm.Swarm).TransportForDialing(addr)
	if tpt == nil {
		t.Fatalf("no transport dials %s", addr)
	}
	c, err := tpt.Dial(ctx, addr, b.ID())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// answers reports whether p answers a ping from h over a connection h
// already holds (it dials nothing). p answers only on a connection it
// accepted and upgraded, so this is a barrier ordered after p's verdict
// on that connection: a refused redial fails it, where a look at p's
// connections a moment after the dial might come too early.
func answers(h host.Host, p peer.ID) bool {
	ctx, cancel := context.WithTimeout(network.WithNoDial(context.Background(), "barrier"), 5*time.Second)
	defer cancel()
	return (<-ping.Ping(ctx, h, p)).Error == nil
}

func isConnected(a *node.Node, p peer.ID) bool {
	return a.Host().Network().Connectedness(p) == network.Connected
}

// peerID returns a fresh transport peer ID.
func peerID(t testing.TB) peer.ID {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestDerivedNamesStable(t *testing.T) {
	s1, s2 := secret(t), secret(t)
	l1, l2 := peerID(t), peerID(t)
	for _, name := range []string{"hello/2", "recon/2", "blob"} {
		id := node.ProtocolID(s1, name, l1)
		if id != node.ProtocolID(append([]byte(nil), s1...), name, l1) {
			t.Fatalf("ProtocolID(%q) is not stable", name)
		}
		if id == node.ProtocolID(s2, name, l1) {
			t.Fatalf("ProtocolID(%q) is the same under two secrets", name)
		}
		if id == node.ProtocolID(s1, name, l2) {
			t.Fatalf("ProtocolID(%q) is the same on two listeners", name)
		}
		if id == node.ProtocolID(s2, name, l2) {
			t.Fatalf("ProtocolID(%q) is the same under another secret on another listener", name)
		}
		if !strings.HasPrefix(string(id), "/") {
			t.Fatalf("ProtocolID %q is not a protocol path", id)
		}
		if strings.Contains(string(id), l1.String()) || strings.Contains(string(id), string(l1)) {
			t.Fatalf("ProtocolID %q names its listener", id)
		}
	}
	if node.ProtocolID(s1, "hello/2", l1) == node.ProtocolID(s1, "recon/2", l1) {
		t.Fatal("two protocols share a name")
	}
	if node.TopicName(s1) != node.TopicName(append([]byte(nil), s1...)) || node.TopicName(s1) == node.TopicName(s2) {
		t.Fatal("TopicName is unstable or shared between secrets")
	}
	if node.MDNSService(s1, 7) != node.MDNSService(s1, 7) {
		t.Fatal("MDNSService is not stable")
	}
	if node.MDNSService(s1, 7) == node.MDNSService(s1, 8) || node.MDNSService(s1, 7) == node.MDNSService(s2, 7) {
		t.Fatal("MDNSService does not change with the epoch or the secret")
	}
	// mDNS service names must be valid DNS-SD labels: _label._udp, the
	// label at most 15 characters of letters, digits and hyphens.
	svc := node.MDNSService(s1, 7)
	label := strings.TrimSuffix(strings.TrimPrefix(svc, "_"), "._udp")
	if len(label) == 0 || len(label) > 15 || strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		t.Fatalf("mDNS service %q is not a valid service label", svc)
	}
}

func TestDerivedNamesRevealNothing(t *testing.T) {
	for i := 0; i < 50; i++ {
		s := secret(t)
		names := []string{node.TopicName(s), node.MDNSService(s, int64(i)), node.Derive(s, "x", 64)}
		for _, p := range []string{"hello/2", "recon/2", "blob"} {
			names = append(names, string(node.ProtocolID(s, p, peerID(t))))
		}
		for _, n := range names {
			if strings.Contains(strings.ToLower(n), "vigil") {
				t.Fatalf("derived name %q says vigil", n)
			}
		}
	}
	// What a connected outsider learns from identify says nothing either.
	sec := secret(t)
	n := newNode(t, sec, nil)
	n.Host().SetStreamHandler(node.ProtocolID(sec, "recon/2", n.ID()), func(s network.Stream) { s.Reset() })
	h := plainHost(t)
	if err := h.Connect(context.Background(), info(n.Node)); err != nil {
		t.Fatal(err)
	}
	var protos []protocol.ID
	testkit.Eventually(t, 5*time.Second, "identify never completed", func() bool {
		protos, _ = h.Peerstore().GetProtocols(n.ID())
		return len(protos) > 0
	})
	agent, _ := h.Peerstore().Get(n.ID(), "AgentVersion")
	t.Logf("an outsider sees agent %v and protocols %v", agent, protos)
	if a, _ := agent.(string); strings.Contains(strings.ToLower(a), "vigil") || a != "p2p" {
		t.Fatalf("agent version %q", a)
	}
	for _, p := range protos {
		if strings.Contains(strings.ToLower(string(p)), "vigil") {
			t.Fatalf("protocol %q says vigil", p)
		}
	}
}

func plainHost(t testing.TB) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// Two nodes with one secret admit each other, call OnPeer(up) once each,
// bind the credential to the connection, and report the peer down when
// the last connection closes.
func TestHelloAdmitsSameSecret(t *testing.T) {
	sec := secret(t)
	a, b := newNode(t, sec, nil), newNode(t, sec, nil)
	if err := dial(t, a.Node, info(b.Node)); err != nil {
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
	testkit.Eventually(t, 2*time.Second, "OnPeer(up) not called on both sides", func() bool {
		ua, _ := a.ev.count(b.ID())
		ub, _ := b.ev.count(a.ID())
		return ua == 1 && ub == 1
	})
	if a.AdmittedAt(b.ID()).IsZero() || len(a.Peers()) != 1 || a.Peers()[0] != b.ID() {
		t.Fatalf("Peers %v, AdmittedAt %v", a.Peers(), a.AdmittedAt(b.ID()))
	}
	// The credential a proved with is bound to this connection: its
	// binding names both peers, and b checked that very binding.
	a.mu.Lock()
	proved := a.proved[b.ID()]
	a.mu.Unlock()
	b.mu.Lock()
	checked := b.checked[a.ID()]
	b.mu.Unlock()
	if proved == nil || !bytes.Equal(proved, checked) {
		t.Fatalf("binding proved %x, checked %x", proved, checked)
	}
	if !bytes.Contains(proved, []byte(a.ID())) || !bytes.Contains(proved, []byte(b.ID())) {
		t.Fatal("the binding does not name both peers")
	}
	// A second connection does not say hello again. libp2p's Connect
	// reuses the connection there is, so b opens the second one at its
	// transport: a's swarm registers it (and runs a's connection
	// notification), b's does not. a's disconnect notification for it
	// runs only once its connect notification has returned, so when the
	// second connection is seen gone, a has made its decision.
	secondGone := make(chan struct{})
	var once sync.Once
	nb := &network.NotifyBundle{DisconnectedF: func(_ network.Network, c network.Conn) {
		if c.RemotePeer() == b.ID() {
			once.Do(func() { close(secondGone) })
		}
	}}
	a.Host().Network().Notify(nb)
	second := transportConn(t, b.Node, a.Node)
	testkit.Eventually(t, 5*time.Second, "a never saw the second connection", func() bool {
		return len(a.Host().Network().ConnsToPeer(b.ID())) == 2
	})
	second.Close()
	select {
	case <-secondGone:
	case <-time.After(5 * time.Second):
		t.Fatal("a never saw the second connection close")
	}
	a.Host().Network().StopNotify(nb)

	bid, aid := b.ID(), a.ID()
	b.Close()
	testkit.Eventually(t, 5*time.Second, "OnPeer(down) not called after the peer left", func() bool {
		_, d := a.ev.count(bid)
		return d == 1
	})
	if a.Admitted(bid) {
		t.Fatal("a departed peer is still admitted")
	}
	// Close waits for every goroutine a node started: each hello either
	// side began has ended (checked, or logged as failed) and every
	// OnPeer call has returned.
	a.Close()
	if ua, _ := a.ev.count(bid); ua != 1 {
		t.Fatalf("OnPeer(up) called %d times", ua)
	}
	if na, nb := a.credsFrom(bid), b.credsFrom(aid); na != 1 || nb != 1 {
		t.Fatalf("credentials checked %d and %d times, want one hello each way", na, nb)
	}
	for _, n := range []*tnode{a, b} {
		for _, p := range []peer.ID{aid, bid} {
			if _, failed := n.log.find("hello to peer failed", p); failed {
				t.Fatalf("a second hello was started (and failed) on the second connection")
			}
		}
	}
}

// Nodes of different missions never admit each other, and the connection
// is closed within the hello timeout.
func TestHelloDifferentSecretsNeverAdmit(t *testing.T) {
	a, b := newNode(t, secret(t), nil), newNode(t, secret(t), nil)
	start := time.Now()
	if err := dial(t, a.Node, info(b.Node)); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 4*time.Second, "still connected, hello timeout 2s", func() bool {
		if a.Admitted(b.ID()) || b.Admitted(a.ID()) {
			t.Fatal("admitted across missions")
		}
		return !isConnected(a.Node, b.ID()) && !isConnected(b.Node, a.ID())
	})
	if a.Admitted(b.ID()) || b.Admitted(a.ID()) {
		t.Fatal("admitted across missions")
	}
	if u, _ := a.ev.count(b.ID()); u != 0 {
		t.Fatal("OnPeer(up) for a peer of another mission")
	}
	t.Logf("closed after %v", time.Since(start))
}

// helloAsOutsider opens the hello stream to n (its protocol ID known, the
// secret not) and answers the nonce with a made-up proof; it returns the
// verdict byte (or -1).
func helloAsOutsider(t testing.TB, h host.Host, n *node.Node, proto protocol.ID) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := h.NewStream(ctx, n.ID(), proto)
	if err != nil {
		return -1
	}
	defer s.Close()
	nonce := make([]byte, 32)
	if _, err := io.ReadFull(s, nonce); err != nil {
		return -1
	}
	msg := make([]byte, 32)
	rand.Read(msg)
	msg = binary.AppendUvarint(msg, 4)
	msg = append(msg, "fake"...)
	if _, err := s.Write(msg); err != nil {
		return -1
	}
	var v [1]byte
	if _, err := io.ReadFull(s, v[:]); err != nil {
		return -1
	}
	return int(v[0])
}

// A peer that speaks hello with a wrong proof is refused, disconnected at
// once and banned: it cannot dial back in.
func TestHelloWrongProofBanned(t *testing.T) {
	sec := secret(t)
	n := newNode(t, sec, nil, func(c *node.Config) { c.HelloTimeout = 10 * time.Second })
	h := plainHost(t)
	if err := h.Connect(context.Background(), info(n.Node)); err != nil {
		t.Fatal(err)
	}
	if v := helloAsOutsider(t, h, n.Node, node.ProtocolID(sec, "hello/2", n.ID())); v == 1 {
		t.Fatal("a wrong proof was accepted")
	}
	testkit.Eventually(t, 3*time.Second, "wrong proof not disconnected well before the hello timeout", func() bool {
		return !isConnected(n.Node, h.ID())
	})
	if n.Admitted(h.ID()) {
		t.Fatal("admitted with a wrong proof")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := h.Connect(ctx, info(n.Node)); err == nil && answers(h, n.ID()) {
		t.Fatal("a banned peer dialled back in")
	}
	if err := n.Connect(ctx, peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}); err == nil {
		t.Fatal("the node dialled a peer it banned")
	}
}

// CheckCredential's error refuses and bans the peer: never admitted,
// disconnected, not dialable, and OnPeer never reports it up.
func TestCheckCredentialErrorBans(t *testing.T) {
	sec := secret(t)
	var refused peer.ID
	var mu sync.Mutex
	a := newNode(t, sec, func(p peer.ID, _ []byte) error {
		mu.Lock()
		defer mu.Unlock()
		refused = p
		return errors.New("revoked")
	}, func(c *node.Config) { c.HelloTimeout = 10 * time.Second })
	b := newNode(t, sec, nil)
	if err := dial(t, b.Node, info(a.Node)); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 3*time.Second, "refused peer not disconnected well before the hello timeout", func() bool {
		return !isConnected(a.Node, b.ID())
	})
	mu.Lock()
	if refused != b.ID() {
		t.Fatalf("CheckCredential judged %s, want %s", refused, b.ID())
	}
	mu.Unlock()
	if a.Admitted(b.ID()) {
		t.Fatal("refused peer admitted")
	}
	if u, _ := a.ev.count(b.ID()); u != 0 {
		t.Fatal("OnPeer(up) for a refused peer")
	}
	if err := dial(t, b.Node, info(a.Node)); err == nil && answers(b.Host(), a.ID()) {
		t.Fatal("a banned peer dialled back in")
	}
	if a.Admitted(b.ID()) {
		t.Fatal("a banned peer was admitted on redial")
	}
}

// Guard lets admitted peers' streams through at once and resets those of
// peers that never pass hello, after the hello timeout.
func TestGuardRejectsUnadmitted(t *testing.T) {
	sec := secret(t)
	a := newNode(t, sec, nil)
	b := newNode(t, sec, nil)
	proto := protocol.ID("/guard-test/1")
	type verdict struct {
		p  peer.ID
		ok bool
	}
	verdicts := make(chan verdict, 4)
	a.Host().SetStreamHandler(proto, func(s network.Stream) {
		ok := a.Guard(s)
		verdicts <- verdict{s.Conn().RemotePeer(), ok}
		if ok {
			s.Write([]byte("secret records"))
			s.Close()
		}
	})
	read := func(h host.Host) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, err := h.NewStream(ctx, a.ID(), proto)
		if err != nil {
			return nil, err
		}
		s.Write([]byte("hi"))
		return io.ReadAll(s)
	}

	outsider := plainHost(t)
	if err := outsider.Connect(context.Background(), info(a.Node)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, _ := read(outsider)
	if len(got) != 0 {
		t.Fatalf("an unadmitted peer read %q", got)
	}
	v := <-verdicts
	if v.ok || v.p != outsider.ID() {
		t.Fatalf("Guard let an unadmitted peer through: %+v", v)
	}
	t.Logf("unadmitted stream refused after %v", time.Since(start))

	if err := dial(t, b.Node, info(a.Node)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.WaitAdmitted(ctx, b.ID()); err != nil {
		t.Fatal(err)
	}
	got, err := read(b.Host())
	if err != nil || string(got) != "secret records" {
		t.Fatalf("admitted peer read %q, %v", got, err)
	}
	if v := <-verdicts; !v.ok {
		t.Fatal("Guard refused an admitted peer")
	}
}

// Ban disconnects a peer and refuses it both ways until BanFor passes on
// the node's clock; then it may come back and pass hello again.
func TestBanBlocksRedialUntilExpiry(t *testing.T) {
	sec := secret(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	a := newNode(t, sec, nil, func(c *node.Config) { c.Now = clock; c.BanFor = time.Hour })
	b := newNode(t, sec, nil)
	if err := dial(t, a.Node, info(b.Node)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.WaitAdmitted(ctx, b.ID()); err != nil {
		t.Fatal(err)
	}
	a.Ban(b.ID(), "test")
	if a.Admitted(b.ID()) {
		t.Fatal("still admitted after Ban")
	}
	testkit.Eventually(t, 2*time.Second, "banned peer still connected", func() bool { return !isConnected(a.Node, b.ID()) })
	if err := dial(t, a.Node, info(b.Node)); err == nil {
		t.Fatal("the node dialled a banned peer")
	}
	if err := dial(t, b.Node, info(a.Node)); err == nil && answers(b.Host(), a.ID()) {
		t.Fatal("a banned peer dialled in")
	}

	mu.Lock()
	now = now.Add(time.Hour + time.Second)
	mu.Unlock()
	// Once the ban expired, b gets back in. The first connection after
	// the refused ones sometimes ends without a hello ("closing connection
	// without hello", seen twice in make test runs, not understood yet);
	// b dials again until a admits it.
	testkit.Eventually(t, 20*time.Second, "ban did not expire: b is never admitted again", func() bool {
		if a.Admitted(b.ID()) {
			return true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = dial(t, b.Node, info(a.Node))
		return a.WaitAdmitted(ctx, b.ID()) == nil
	})
}

// OnPeer promises up=false when an admitted peer's last connection
// closes. A ban closes it too; the owner must hear of it (the mesh keeps
// per-peer state keyed on it).
func TestOnPeerDownAfterBan(t *testing.T) {
	sec := secret(t)
	a, b := newNode(t, sec, nil), newNode(t, sec, nil)
	if err := dial(t, a.Node, info(b.Node)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.WaitAdmitted(ctx, b.ID()); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 2*time.Second, "OnPeer(up) not called", func() bool { u, _ := a.ev.count(b.ID()); return u == 1 })
	a.Ban(b.ID(), "test")
	testkit.Eventually(t, 2*time.Second, "banned peer still connected", func() bool { return !isConnected(a.Node, b.ID()) })
	// Close waits for every OnPeer call the node started.
	a.Close()
	if _, d := a.ev.count(b.ID()); d != 1 {
		t.Errorf("BUG: OnPeer(up=false) called %d times after Ban closed the peer's last connection, want 1 (node.go Ban deletes the peer from admitted before ClosePeer, so onDisconnected sees was=false)", d)
	}
}

// Hello must not hand this device's member credential (which names its
// author key) to a peer that has not proven it knows the mission secret:
// an outsider that accepts any protocol on a connection must learn
// nothing that links the transport identity to an author.
func TestHelloCredentialNotSentToUnproven(t *testing.T) {
	sec := secret(t)
	n := newNode(t, sec, nil, func(c *node.Config) { c.HelloTimeout = 3 * time.Second })
	h := plainHost(t)
	got := make(chan []byte, 4)
	h.SetStreamHandlerMatch("/", func(protocol.ID) bool { return true }, func(s network.Stream) {
		defer s.Reset()
		nonce := make([]byte, 32)
		rand.Read(nonce)
		if _, err := s.Write(nonce); err != nil {
			return
		}
		_ = s.SetReadDeadline(time.Now().Add(2 * time.Second))
		b, _ := io.ReadAll(bufio.NewReader(io.LimitReader(s, 64<<10)))
		got <- b
	})
	if err := h.Connect(context.Background(), info(n.Node)); err != nil {
		t.Fatal(err)
	}
	var b []byte
	select {
	case b = <-got:
	case <-time.After(3 * time.Second):
		return // the node never spoke first: nothing leaked
	}
	if n.Admitted(h.ID()) {
		t.Fatal("outsider admitted")
	}
	if bytes.Contains(b, []byte(credMarker)) {
		t.Errorf("BUG: the node sent its member credential (%d bytes) to an outsider that never proved the mission secret "+
			"(hello.go sayHello writes proof and credential right after reading the verifier's nonce)", len(b))
	}
}
