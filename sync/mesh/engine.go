// Package mesh spreads a mission's records between admitted peers: gossip
// for fresh records, set reconciliation on every new connection and
// periodically for everything else (what a reconciliation brings is news
// for the rest of the mesh too, and starts reconciliations with the other
// peers at once: nudgeOthers), and
// delivery tracking (which peers hold this device's records, which a
// coordinator has receipted).
//
// The engine runs on a node it is given (New): it attaches itself as the
// node's owner (node.Owner), so the node admits peers on its judgement,
// and detaches at Close. It does not close the node: whoever built the
// node (sync/daemon, a test harness) closes it after the engine.
//
// Peers of other versions. Every peer announces in its hello the record
// format level it stores (node.Owner.FormatLevel; this build
// incident.FormatLevel); a peer of the previous release announces none and
// is at level 0: it rejects records of kinds and payload fields it does
// not know, and counts each against the sender until it bans it. Such a
// peer never gets a record it cannot store (incident.Signed.ReadableAt):
// gossip carries those on a second topic that level-0 builds never join,
// and reconciliation with a level-0 peer runs over the set without them,
// so it never learns their IDs; what is pushed or served to it is checked
// again. A record of a newer schema version (incident.NewerError), or of
// a kind or field this build does not know, is never held against the
// peer that sent it.
//
// Bans and revocations follow the member, not the transport key. The
// credential check in hello names the peer's author key (PeerInfo.Author);
// invalid records count as strikes against that author, whatever
// transport key carried them, and at MaxStrikes the author is banned for
// the node's ban time (node.Config.BanFor, on the node's clock): its
// connections are closed and its hello is refused under any transport
// key until the ban ends (ErrBanned). A revoked member is refused at hello (ErrRevoked), and
// when a revocation is stored while the member is connected, the engine
// closes its connections at once (CutRevoked): it stops being admitted
// before the close, so neither gossip nor reconciliation sends it
// anything more. The store tells the engine of every revocation it
// stores, by any path (Store.OnRevocation: gossip, reconciliation,
// credential chains, a bundle imported by the CLI or the app, this device
// revoking); as second lines, the engine also cuts before this device
// gossips anything it signs, before every reconciliation and on every
// periodic round.
package mesh

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/node"
)

// Store is what the mesh needs from a store. *store.Store implements it.
type Store interface {
	Add(raw []byte, source string) store.Result
	AddMany(raws [][]byte, source string, progress func(int)) ([]store.Result, error)
	Get(id incident.ID) (*incident.Signed, error)
	ForEachKey(fn func(created int64, id incident.ID) error) error
	MarkHeldIn(peer string, at int64, in func(incident.ID) bool) error
	Mission() (*incident.MissionState, error)
	RevokedUnaccepted(raw []byte) bool
	Signer() *incident.Signer
	Unreceipted(limit int) ([]incident.ID, error)
	Unconfirmed() (map[incident.ID]bool, error)
	Unreadable(level int) (map[incident.ID]bool, error)
	MissingAttachments(limit int) ([]incident.AttachmentPayload, error)
	Put(kind incident.Kind, payload any) (*incident.Signed, error)
	OnPut(fn func(*incident.Signed))
	OnRevocation(fn func())
	EpochSecrets() (map[incident.ID][]byte, error)
	HeldEpochs() ([]incident.Epoch, map[incident.ID][]byte, error)
	AddEpochSecret(id incident.ID, secret []byte) (bool, error)
	EnsureEpoch() (bool, error)
}

// Config configures an Engine.
type Config struct {
	Store Store
	// Interval between periodic reconciliations with each peer. Default
	// one minute (with jitter). Zero after Backoff is set by mobile glue.
	Interval time.Duration
	// ReceiptInterval: how often a coordinator's node confirms what it
	// holds. Default 30 s.
	ReceiptInterval time.Duration
	// SessionTimeout bounds one reconciliation. Default 5 minutes.
	SessionTimeout time.Duration
	// SessionBytes bounds what one reconciliation may receive (both
	// phases): past it the session ends (ErrSessionBudget), keeping what
	// arrived, and the next one goes on from there. Default 64 MiB; -1
	// for none.
	SessionBytes int64
	// MaxStrikes: invalid records a member may send (counted per author
	// key, over all its transport keys) before it is banned for the
	// node's ban time (node.Config.BanFor), on the node's clock
	// (node.Node.Now), as the node bans peer IDs. Default 10.
	MaxStrikes int
	Logger     *slog.Logger
	// Now is the engine's wall clock: when a peer was last synced, how
	// long a session took, whether a peer was admitted recently. Default
	// time.Now.
	Now func() time.Time

	// dropPublish makes publishLocal skip gossip (tests: the message lost
	// before the mesh forms).
	dropPublish bool
	// level0 makes the engine a build of format level 0 (tests: the
	// previous release): its hello announces no level and it joins only
	// the first gossip topic.
	level0 bool
	// ignoreLevels switches off what keeps records from peers that cannot
	// store them (tests: proof that the filter is what saves them).
	ignoreLevels bool
	// tracer, when set, receives GossipSub's trace events (tests: where a
	// gossiped record went).
	tracer pubsub.EventTracer
}

// PeerInfo is what the engine knows about a connected peer.
type PeerInfo struct {
	ID       peer.ID
	Author   incident.Author
	Role     string
	Addrs    []string
	LastSync time.Time
}

// SyncResult describes one finished reconciliation.
type SyncResult struct {
	Peer     peer.ID
	Sent     int // records pushed or served
	Received int // records received and stored
	Rejected int
	Rounds   int
	// Bytes is what the session moved over its stream, both phases
	// (reconciliation and the transfer of records) and both directions:
	// BytesSent + BytesReceived. Frame headers count; the encryption and
	// multiplexing below the stream do not, nor do attachments (their own
	// protocol) or gossip.
	Bytes         int
	BytesSent     int // written to the peer
	BytesReceived int // read from the peer
	// ReconBytes is the part of Bytes that set reconciliation took (its
	// messages, both ways, without framing).
	ReconBytes int
	Duration   time.Duration
}

// ErrClosed is returned by work asked of an engine after Close began.
var ErrClosed = errors.New("mesh: engine closed")

// Engine runs the mesh for one store. Create with New, stop with Close.
type Engine struct {
	cfg    Config
	store  Store
	node   *node.Node
	log    *slog.Logger
	signer *incident.Signer
	self   incident.Author
	chain  [][]byte

	level int // the format level this engine announces

	ps    *pubsub.PubSub
	topic *pubsub.Topic // records every peer can store (ReadableAt(0))
	sub   *pubsub.Subscription
	// newer carries the records a level-0 peer cannot store; nil at level 0.
	newer    *pubsub.Topic
	newerSub *pubsub.Subscription

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	closeMu   sync.Mutex
	closing   bool // Close has begun: no new goroutines
	closeOnce sync.Once
	attached  bool // New attached the engine to the node (set before New returns)

	chunksFetched atomic.Int64 // attachment chunks received (stats, tests)
	newerRefused  atomic.Int64 // records of a newer schema version refused (stats, tests)
	fetchMu       sync.Mutex   // one attachment fetch at a time
	serving       blobServes   // attachment requests being answered, by peer

	// mu guards what follows. It is never held while calling into the
	// node or the store (node.Ban, Store.Mission), so it sits below their
	// locks: nothing is taken while it is held.
	mu    sync.Mutex
	peers map[peer.ID]*PeerInfo // from the credential check on, until the peer leaves
	// strikes counts invalid records per author key; only admitted
	// members strike, so it holds no more authors than the mission has
	// members.
	strikes map[incident.Author]*strikeCount
	bans    *authorBans                 // authors banned for strikes
	active  map[peer.ID]bool            // a reconciliation this side started is running
	waiters map[peer.ID][]chan syncDone // callers waiting for the next round
	inbound map[peer.ID]int             // reconciliations peers started here
	paused  bool
	// servesFull: the full-set reconciliation protocol is served (not
	// while this device is bounded: custody.go, followCustody).
	servesFull bool
	subs       subscribers
	results    <-chan SyncResult // the default subscription (Results)

	adds groupAdd // the gossip validator's writes
}

// New starts the engine on n, a node built for the mission of cfg.Store
// (its secret) that has no owner yet: the engine joins the gossip topics,
// serves its protocols on n's host and attaches itself as n's owner, so
// that n admits peers from then on. The caller keeps owning n: it closes
// n after the engine's Close (which detaches the engine from it). When
// New fails, n is left with no owner and still open.
func New(n *node.Node, cfg Config) (*Engine, error) {
	if n == nil {
		return nil, errors.New("mesh: a node is required")
	}
	if cfg.Store == nil {
		return nil, errors.New("mesh: Store is required")
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Minute
	}
	if cfg.ReceiptInterval == 0 {
		cfg.ReceiptInterval = 30 * time.Second
	}
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = 5 * time.Minute
	}
	if cfg.SessionBytes == 0 {
		cfg.SessionBytes = 64 << 20
	}
	if cfg.MaxStrikes == 0 {
		cfg.MaxStrikes = 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ms, err := cfg.Store.Mission()
	if err != nil {
		return nil, err
	}
	signer := cfg.Store.Signer()
	self := signer.Author()
	if _, ok := ms.Role(self); !ok {
		return nil, fmt.Errorf("mesh: this device is not a member of mission %q yet", ms.Mission.Name)
	}
	// A mission from before secret epochs gets its first one from the
	// first coordinator that runs this build.
	if started, err := cfg.Store.EnsureEpoch(); err != nil {
		return nil, fmt.Errorf("mesh: first secret epoch: %w", err)
	} else if started {
		cfg.Logger.Info("started the mission's first secret epoch")
	}
	chain, err := memberChain(cfg.Store, ms, self)
	if err != nil {
		return nil, fmt.Errorf("mesh: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{cfg: cfg, store: cfg.Store, node: n, log: cfg.Logger, signer: signer, self: self, chain: chain,
		level: incident.FormatLevel, ctx: ctx, cancel: cancel, peers: map[peer.ID]*PeerInfo{}, strikes: map[incident.Author]*strikeCount{},
		bans:   newAuthorBans(n.Now, maxAuthorBans),
		active: map[peer.ID]bool{}, waiters: map[peer.ID][]chan syncDone{}, inbound: map[peer.ID]int{}}
	e.results, _ = e.subs.subscribe(64)
	if cfg.level0 {
		e.level = 0
	}
	if err := e.startGossip(); err != nil {
		e.stop()
		return nil, err
	}
	e.followCustody()
	if _, ok := e.store.(custodyStore); ok {
		e.node.Host().SetStreamHandler(e.proto(liveName, e.node.ID()), func(s network.Stream) { e.handleRecon(s, true) })
	}
	e.node.Host().SetStreamHandler(e.proto(blobName, e.node.ID()), e.handleBlob)
	// Gossip and the protocols are ready: peers may be admitted now.
	if err := n.Attach(e.owner()); err != nil {
		e.stop()
		return nil, fmt.Errorf("mesh: %w", err)
	}
	e.attached = true
	e.store.OnPut(e.onPut)
	e.store.OnRevocation(e.CutRevoked) // a revocation stored by any path, a bundle import included
	e.goFn(e.periodic)
	if role, _ := ms.Role(self); role == incident.RoleCoordinator {
		e.goFn(e.receipts)
	}
	return e, nil
}

// Node returns the libp2p node.
func (e *Engine) Node() *node.Node { return e.node }

// Results is the engine's default subscription to finished
// reconciliations (Subscribe, 64 deep): for one reader that only wants
// recent results. A second reader subscribes on its own.
func (e *Engine) Results() <-chan SyncResult { return e.results }

// Subscribe returns a channel that gets every reconciliation that
// finishes from now on, and a function that ends the subscription (and
// closes the channel). Each
// subscriber has its own buffer of depth results: one that falls behind
// loses its own oldest-undelivered results (counted by Dropped), never
// another subscriber's, and never slows the engine.
func (e *Engine) Subscribe(depth int) (<-chan SyncResult, func()) { return e.subs.subscribe(depth) }

// Dropped is how many results subscribers that fell behind have lost.
func (e *Engine) Dropped() uint64 { return e.subs.dropped.Load() }

// Close stops everything the engine started and waits for it: the store
// hooks are cleared, gossip and the periodic rounds stop, the engine's
// protocols leave the node's host, and the engine detaches from the node
// (node.Node.Detach), which closes every connection, so sessions in
// progress end and peers see this device leave. It does not close the
// node: its builder does that next. A second Close does nothing.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.store.OnPut(nil)
		e.store.OnRevocation(nil)
		e.stop()
	})
	return nil
}

// stop ends the engine: the node detached first (if the engine attached
// to it), so no hello starts on the engine's behalf any more and every
// connection, a hello under way on it included, is closed before the
// engine's callbacks start refusing (a closed engine shows no credential);
// then no new work, gossip left, protocols removed, and every goroutine
// waited for.
func (e *Engine) stop() {
	if e.attached {
		e.node.Detach()
	}
	e.closeMu.Lock()
	e.closing = true
	e.closeMu.Unlock()
	e.cancel()
	for _, sub := range []*pubsub.Subscription{e.sub, e.newerSub} {
		if sub != nil {
			sub.Cancel()
		}
	}
	for _, t := range []*pubsub.Topic{e.topic, e.newer} {
		if t != nil {
			_ = t.Close()
		}
	}
	h := e.node.Host()
	h.RemoveStreamHandler(e.proto(reconName, e.node.ID()))
	h.RemoveStreamHandler(e.proto(liveName, e.node.ID()))
	h.RemoveStreamHandler(e.proto(blobName, e.node.ID()))
	e.wg.Wait()
}

func (e *Engine) goFn(fn func()) {
	if !e.track() {
		return
	}
	go func() {
		defer e.wg.Done()
		fn()
	}()
}

// track counts a goroutine Close must wait for; false once Close began.
func (e *Engine) track() bool {
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	if e.closing {
		return false
	}
	e.wg.Add(1)
	return true
}

// nudgeOthers starts a reconciliation with every admitted peer but except
// (records a session stored are news for them too), so that after a
// partition heals the records cross the mesh one reconciliation per hop
// instead of one periodic round per hop. SyncPeer runs at most one round
// per peer at a time and folds the requests that arrive meanwhile into one
// more round, so a burst of sessions does not become a storm. Gossiping
// the stored records on instead was measured (bench: mesh.convergence):
// on the 50-node heal it sent 75 % more bytes and took twice as long,
// since each record was also pushed back to the peer it came from and to
// peers reconciling it anyway, and every copy costs a verify.
func (e *Engine) nudgeOthers(except peer.ID) {
	for _, q := range e.node.Peers() {
		if q == except {
			continue
		}
		q := q
		e.goFn(func() { _, _ = e.SyncPeer(e.ctx, q) })
	}
}

// Pause stops periodic work (a phone going to the background; the daemon
// also closes the connections and stops discovery); Resume reconciles
// with every connected peer at once.
func (e *Engine) Pause() {
	e.mu.Lock()
	e.paused = true
	e.mu.Unlock()
}

// Resume undoes Pause and reconciles with every connected peer at once.
func (e *Engine) Resume() {
	e.mu.Lock()
	e.paused = false
	e.mu.Unlock()
	e.SyncAll()
}

// Peers returns the admitted peers.
func (e *Engine) Peers() []PeerInfo {
	var out []PeerInfo
	for _, p := range e.node.Peers() {
		e.mu.Lock()
		info := PeerInfo{ID: p}
		if pi, ok := e.peers[p]; ok {
			info = *pi
		}
		e.mu.Unlock()
		for _, c := range e.node.Host().Network().ConnsToPeer(p) {
			info.Addrs = append(info.Addrs, c.RemoteMultiaddr().String())
		}
		out = append(out, info)
	}
	return out
}

func (e *Engine) onPeer(p peer.ID, up bool) {
	if !up {
		// Phones rotate peer IDs: keep no state for gone peers. A peer
		// that is connected again has said hello anew, and its PeerInfo
		// is that hello's.
		if e.node.Host().Network().Connectedness(p) == network.Connected {
			return
		}
		e.mu.Lock()
		delete(e.peers, p)
		e.mu.Unlock()
		return
	}
	// On a new connection the lower peer ID starts; the other side
	// answers. Periodic rounds may start from either side.
	if e.node.ID() < p {
		e.goFn(func() {
			if _, err := e.SyncPeer(e.ctx, p); err != nil {
				e.log.Debug("reconciliation on connect failed", "peer", p, "err", err)
			}
		})
	}
}

// SyncAll reconciles with every admitted peer now, in parallel.
func (e *Engine) SyncAll() {
	for _, p := range e.node.Peers() {
		p := p
		e.goFn(func() { _, _ = e.SyncPeer(e.ctx, p) })
	}
}

func (e *Engine) periodic() {
	for {
		jitter := time.Duration(rand.Int64N(int64(e.cfg.Interval) / 4))
		t := time.NewTimer(e.cfg.Interval - e.cfg.Interval/8 + jitter)
		select {
		case <-e.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		e.CutRevoked()
		// What gossip brought since may be held by coordinators now; a
		// role that changed changes the protocols served.
		e.followCustody()
		e.prune()
		e.mu.Lock()
		paused := e.paused
		e.mu.Unlock()
		if paused {
			continue
		}
		now := e.cfg.Now()
		for _, p := range e.node.Peers() {
			e.mu.Lock()
			last := time.Time{}
			if pi := e.peers[p]; pi != nil {
				last = pi.LastSync
			}
			e.mu.Unlock()
			if now.Sub(last) >= e.cfg.Interval/2 {
				p := p
				e.goFn(func() { _, _ = e.SyncPeer(e.ctx, p) })
			}
		}
	}
}

// strikable reports whether a rejection is the sender's fault: an invalid
// record. A full quarantine, an author over quota (an honest peer forwards
// a flooder's records), a record of a newer schema version than this
// build reads (incident.NewerError: perhaps valid, only not checkable
// here) or a local storage error is not. Records of kinds and payload
// fields this build does not know are not rejected at all.
func strikable(err error) bool {
	return incident.IsRejected(err) && !incident.IsNewer(err) && !errors.Is(err, store.ErrQuota)
}

// noteNewer counts a record refused as a newer schema version's.
func (e *Engine) noteNewer(err error) {
	if incident.IsNewer(err) {
		e.newerRefused.Add(1)
	}
}

// strikeCount is one author's strikes, and whether they earned a ban.
type strikeCount struct {
	n      int
	banned bool // the count reached MaxStrikes and the author was banned
}

// senderOf is the store source for records p handed over (via: "sync"
// or "gossip"): its member's author key, so that what the quarantine
// keeps per sender follows the member, not the transport key it chose.
func (e *Engine) senderOf(p peer.ID, via string) string {
	e.mu.Lock()
	pi := e.peers[p]
	e.mu.Unlock()
	if pi == nil {
		return via + ":" + p.String()
	}
	return store.SenderSource(pi.Author)
}

// strike counts an invalid record from p against p's author key and, at
// MaxStrikes, bans the author: its connections, under every transport
// key, are closed, and its hello is refused until the ban ends. A
// member whose ban has ended starts again from no strikes.
//
// Protocols are served only to admitted peers, whose author the
// credential check has named, so every strike has an author, except for a
// record judged after its sender left (its PeerInfo is gone): that strike
// is logged and not counted. The node still bans peer IDs for hello
// failures (a wrong mission proof, a refused credential), where no
// author is known or the author cannot be trusted.
func (e *Engine) strike(p peer.ID, why error) {
	e.mu.Lock()
	pi := e.peers[p]
	if pi == nil {
		e.mu.Unlock()
		e.log.Debug("invalid record from a peer that has left", "peer", p, "err", why)
		return
	}
	a := pi.Author
	sc := e.strikes[a]
	if sc == nil {
		sc = &strikeCount{}
		e.strikes[a] = sc
	}
	if _, still := e.bans.banned(a); sc.banned && !still {
		*sc = strikeCount{} // the ban has ended
	}
	sc.n++
	n := sc.n
	var until time.Time
	var cut []peer.ID
	if n >= e.cfg.MaxStrikes && !sc.banned {
		sc.banned = true
		until = e.bans.ban(a, e.node.BanFor())
		cut = e.peersOfLocked(a)
	}
	e.mu.Unlock()
	e.log.Debug("invalid record from peer", "peer", p, "err", why, "strikes", n)
	if len(cut) > 0 {
		reason := fmt.Sprintf("%d invalid records, the last: %v", n, why)
		e.log.Info("banning member", "author", a, "reason", reason, "until", until)
		for _, q := range cut {
			e.node.Ban(q, "member banned: "+reason)
		}
	}
}

// peersOfLocked lists the peers whose credential named a, and forgets
// them (their connections are about to close). The caller holds e.mu.
func (e *Engine) peersOfLocked(a incident.Author) []peer.ID {
	var out []peer.ID
	for p, pi := range e.peers {
		if pi.Author == a {
			out = append(out, p)
			delete(e.peers, p)
		}
	}
	return out
}

// CutRevoked closes the connections of every peer whose author the
// mission state revokes. A peer it cuts stops being admitted before its
// connections close (node.Ban), so from the moment CutRevoked is called
// neither the gossip peer filter nor a reconciliation lets anything more
// go to it; what GossipSub had queued for it dies with the connection,
// which is closed before CutRevoked returns. Its transport peer ID is
// banned too, and its hello under any other key is refused (checkPeer).
//
// The engine calls it whenever it may matter (see the package comment).
// A component that stores records behind the engine's back (a bundle
// import) calls it afterwards, so that a revocation it brought in takes
// effect at once rather than at the next reconciliation or local record.
// It costs one copy of the mission state (Store.Mission). Safe for
// concurrent use.
func (e *Engine) CutRevoked() {
	ms, err := e.store.Mission()
	if err != nil {
		return
	}
	type gone struct {
		p   peer.ID
		a   incident.Author
		why error
	}
	var cut []gone
	e.mu.Lock()
	for p, pi := range e.peers {
		// Revoked, or its invite void (revoked with another redeemer,
		// cancelled, confirmed for another key). A duplicate that waits
		// for a coordinator's choice is refused at its next hello, not
		// cut: a copied old-form token must not let anyone disconnect
		// the member who redeemed it first. And a peer whose hello is
		// still running may not be a member here yet (its chain is
		// stored once judged): that is the hello's to decide.
		err := ms.Standing(pi.Author)
		if errors.Is(err, incident.ErrRevoked) || errors.Is(err, incident.ErrInviteVoid) {
			cut = append(cut, gone{p, pi.Author, err})
			delete(e.peers, p)
		}
	}
	e.mu.Unlock()
	for _, g := range cut {
		e.log.Info("closing the connections of a member no longer in good standing", "peer", g.p, "author", g.a, "why", g.why)
		e.node.Ban(g.p, g.why.Error())
	}
}

// mayRevoke reports whether storing raw (with result r) may have revoked
// a member: raw is a revocation, or it let records out of quarantine (a
// revocation may have waited for the member record it names).
func mayRevoke(raw []byte, r store.Result) bool {
	if r.Outcome != store.Accepted {
		return false
	}
	if len(r.Released) > 0 {
		return true
	}
	// The kind is a CBOR text string in the clear: a record without those
	// bytes is no revocation, and costs no decode.
	if !bytes.Contains(raw, []byte(incident.KindRevoke)) && !bytes.Contains(raw, []byte(incident.KindConfirm)) {
		return false
	}
	rec, err := incident.DecodeStored(raw)
	return err == nil && (rec.Kind == incident.KindRevoke || rec.Kind == incident.KindConfirm)
}

// onPut is the store's hook for records this device signs: before one is
// gossiped, no revoked member stays connected (the record may be the
// revocation itself, or a revocation may have come into the store by a
// path the engine does not see, such as an imported bundle).
func (e *Engine) onPut(r *incident.Signed) {
	e.CutRevoked()
	e.publishLocal(r)
	if r.Kind == incident.KindEpoch {
		// A new secret epoch: connected members get its secret at the
		// end of a fresh hello (its handover).
		e.node.Rehello()
	}
}

// peerLevel is the format level p announced (0 for none).
func (e *Engine) peerLevel(p peer.ID) int {
	if e.cfg.ignoreLevels {
		return incident.FormatLevel
	}
	return e.node.FormatLevel(p)
}

// readableAt reports whether a peer at format level can store r.
func (e *Engine) readableAt(r *incident.Signed, level int) bool {
	return e.cfg.ignoreLevels || r.ReadableAt(level)
}

// startGossip joins the mission topics: message ID = record ID, no author
// or signature on the pubsub envelope (records are signed themselves, and
// a transport ID must not be linked to authored records), and a validator
// that stores a record before it is forwarded. The first topic carries
// the records every member's build can store (incident.Signed.ReadableAt
// level 0), the second the others; a level-0 build knows only the first.
// Each record is published on one of them.
func (e *Engine) startGossip() error {
	name, newerName := e.node.Topic(0), e.node.Topic(1)
	// libp2p's standard gossipsub protocols: a protocol of the mission's
	// own would be one that every member shows to identify. The peer
	// filter keeps peers that are not admitted out of the topics' meshes
	// and their messages out; it does not stop gossipsub's first message
	// to a new connection, which lists this node's topics (pubsub's
	// getHelloPacket applies no filter). The topic names derive from the
	// mission secret, so a connected outsider learns them: docs/security.md,
	// What is not covered.
	opts := []pubsub.Option{
		pubsub.WithMessageIdFn(func(m *pb.Message) string {
			id := sha256.Sum256(m.Data)
			return string(id[:])
		}),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithPeerFilter(func(p peer.ID, topic string) bool {
			// A level-0 peer never joins the second topic; were one to
			// subscribe anyway, it is sent nothing there.
			return e.node.Admitted(p) && (topic != newerName || e.peerLevel(p) >= 1)
		}),
		pubsub.WithMaxMessageSize(incident.MaxRecordBytes + 1024),
		pubsub.WithPeerOutboundQueueSize(peerQueue),
	}
	if e.cfg.tracer != nil {
		opts = append(opts, pubsub.WithEventTracer(e.cfg.tracer))
	}
	ps, err := pubsub.NewGossipSub(e.ctx, e.node.Host(), opts...)
	if err != nil {
		return fmt.Errorf("mesh: gossip: %w", err)
	}
	e.ps = ps
	if e.topic, e.sub, err = e.join(name, 0); err != nil {
		return err
	}
	if e.level >= 1 {
		if e.newer, e.newerSub, err = e.join(newerName, 1); err != nil {
			return err
		}
	}
	return nil
}

// join joins the gossip topic for records a peer at format level can
// store, with its validator.
func (e *Engine) join(name string, level int) (*pubsub.Topic, *pubsub.Subscription, error) {
	validate := func(ctx context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		return e.validate(ctx, from, m, level)
	}
	if err := e.ps.RegisterTopicValidator(name, validate); err != nil {
		return nil, nil, err
	}
	topic, err := e.ps.Join(name)
	if err != nil {
		return nil, nil, err
	}
	sub, err := topic.Subscribe()
	if err != nil {
		_ = topic.Close()
		return nil, nil, err
	}
	// The validator has stored what arrives; reading the subscription only
	// keeps it from filling up.
	e.goFn(func() {
		for {
			if _, err := sub.Next(e.ctx); err != nil {
				return
			}
		}
	})
	return topic, sub, nil
}

// validate judges a gossiped record on the topic for peers at format
// level: stored if valid, and forwarded only if valid and storable at
// that level. A record that topic should not carry (a newer build's, on
// the first topic) is stored all the same and goes no further there,
// without blame: reconciliation takes it on to the peers that can store
// it.
func (e *Engine) validate(_ context.Context, from peer.ID, m *pubsub.Message, level int) pubsub.ValidationResult {
	if from == e.node.ID() {
		return pubsub.ValidationAccept
	}
	// GossipSub runs validators on goroutines of its own: Close waits for
	// those in progress, so no gossiped record reaches the store after it.
	if !e.track() {
		return pubsub.ValidationIgnore
	}
	defer e.wg.Done()
	if !e.node.Admitted(from) {
		return pubsub.ValidationReject
	}
	// A record already held (fetched by reconciliation, say, while its
	// gossip was on the way) is ignored, as Add would, without Add's
	// decode and signature check. The record ID is the hash of the bytes.
	if e.holds(incident.IDOf(m.Data)) {
		return pubsub.ValidationIgnore
	}
	if e.refused(m.Data) {
		return pubsub.ValidationIgnore
	}
	r := e.adds.add(e.store, m.Data, e.senderOf(from, "gossip"))
	switch r.Outcome {
	case store.Accepted:
		if mayRevoke(m.Data, r) {
			// Before the record is forwarded: the revoked member is no
			// longer connected to get it, nor anything after it.
			e.CutRevoked()
		}
		if level < incident.FormatLevel && !e.cfg.ignoreLevels {
			// Stored, so verified: no signature check again.
			if rec, err := incident.DecodeStored(m.Data); err != nil || !rec.ReadableAt(level) {
				return pubsub.ValidationIgnore
			}
		}
		return pubsub.ValidationAccept
	case store.Duplicate, store.Quarantined:
		return pubsub.ValidationIgnore
	}
	e.noteNewer(r.Err)
	if !strikable(r.Err) {
		return pubsub.ValidationIgnore
	}
	e.strike(from, r.Err)
	return pubsub.ValidationReject
}

// refused reports whether raw is a record the mesh must not store or
// forward: one signed by a revoked member that no revocation accepts. (It
// can still reach a coordinator deliberately, by bundle, flagged.)
func (e *Engine) refused(raw []byte) bool { return e.store.RevokedUnaccepted(raw) }

// refusedBy is refused against a mission state the caller already holds
// (a batch of records: one Mission copy for all of them).
func refusedBy(ms *incident.MissionState, raw []byte) bool {
	a, ok := incident.PeekAuthor(raw)
	if !ok || len(ms.Revocations(a)) == 0 {
		return false
	}
	return !ms.Confirmed(a, incident.IDOf(raw))
}

// publishLocal gossips a record this device just signed, on the topic
// for the lowest format level that can store it. GossipSub can drop a
// message published before the topic mesh with a new peer forms, so every
// peer admitted in the last freshPeer, or that the topic does not list
// yet, gets a reconciliation shortly after: the record reaches it either
// way (unless the peer cannot store it).
func (e *Engine) publishLocal(r *incident.Signed) {
	e.goFn(func() {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		topic := e.topicFor(r)
		if !e.cfg.dropPublish {
			if err := topic.Publish(ctx, r.Raw); err != nil {
				e.log.Debug("publish failed", "id", r.ID, "err", err)
			}
		}
		inTopic := map[peer.ID]bool{}
		for _, p := range topic.ListPeers() {
			inTopic[p] = true
		}
		now := e.cfg.Now()
		for _, p := range e.node.Peers() {
			if (inTopic[p] && now.Sub(e.node.AdmittedAt(p)) > freshPeer) || !e.readableAt(r, e.peerLevel(p)) {
				continue
			}
			p := p
			e.goFn(func() {
				select {
				case <-e.ctx.Done():
					return
				case <-time.After(time.Second):
				}
				_, _ = e.SyncPeer(e.ctx, p)
			})
		}
	})
}

// topicFor is the gossip topic that carries r: the first unless a level-0
// peer cannot store r (and this engine has the second).
func (e *Engine) topicFor(r *incident.Signed) *pubsub.Topic {
	if e.newer != nil && !e.readableAt(r, 0) {
		return e.newer
	}
	return e.topic
}

// peerQueue is how many messages GossipSub queues for one peer before it
// drops (its default is 32). The group-committed validations
// (groupadd.go) pass records on in bursts; what is dropped waits for
// reconciliation. The queue holds pointers to messages shared by all
// peers, each at most a record: 128 of the mean 0.7 KiB record is 90 KiB.
const peerQueue = 128

// freshPeer is how long after admission a peer's gossip mesh may not be
// formed yet.
const freshPeer = 30 * time.Second

// Publish gossips a stored record (the CLI's control socket uses it),
// after closing the connections of any member a stored revocation names.
func (e *Engine) Publish(r *incident.Signed) { e.onPut(r) }

// receipts makes a coordinator's node confirm, in batches, the records it
// holds from others, so their authors see "held by a coordinator".
func (e *Engine) receipts() {
	t := time.NewTicker(e.cfg.ReceiptInterval)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
		if err := e.IssueReceipt(); err != nil {
			e.log.Debug("receipt failed", "err", err)
		}
	}
}

// Receipt batches: IDs in one receipt, receipts in one round. A national
// mission's coordinator takes in tens of thousands of records at once
// after a partition heals; phones keep what they carry until it is
// receipted (custody), so receipts must keep up.
const (
	receiptIDs    = 1000
	receiptsRound = 32
)

// IssueReceipt signs receipts, receiptIDs records each, for the records
// this device has not receipted yet, up to receiptsRound of them.
func (e *Engine) IssueReceipt() error {
	for range receiptsRound {
		ids, err := e.store.Unreceipted(receiptIDs)
		if err != nil || len(ids) == 0 {
			return err
		}
		list := make([][]byte, len(ids))
		for i, id := range ids {
			list[i] = id.Bytes()
		}
		if _, err := e.store.Put(incident.KindReceipt, incident.ReceiptPayload{IDs: list}); err != nil {
			return err
		}
		if len(ids) < receiptIDs {
			return nil
		}
	}
	return nil
}
