// Package dessim is a discrete-event simulation of a Vigil mesh at a
// scale no machine can run for real (200 to 10,000 nodes and more): a
// simulated clock, simulated links with latency and bandwidth, GossipSub
// modelled, and anti-entropy between neighbours run with the real
// reconciliation code (sync/recon, the configuration sync/mesh uses), so
// the bytes and round trips of every session are the protocol's own.
//
// What is real and what is modelled:
//
//   - Reconciliation: every session runs recon.NewInitiator/NewResponder
//     and Reply over each side's set at the moment the side starts, the
//     messages travel the simulated link (their real sizes plus the
//     stream's uvarint frame header), and Have/Need decide what moves.
//   - The session's schedule follows sync/mesh (recon.go session and
//     transfer, engine.go): a new link's lower-numbered end starts a
//     session once the link is up; the initiator ends the reconciliation
//     phase with an empty frame; each side then sends its wants (those it
//     does not hold by then) and 'E', pushes its Have, serves the peer's
//     wants once the peer's 'E' arrives, and sends 'D'; records go in
//     frames of at most 256 records or 16 KiB; a side that received
//     records starts a session with each of its other neighbours
//     (nudgeOthers); a session asked for while one with the same peer
//     runs becomes one more round after it (SyncPeer); every node
//     reconciles with each neighbour it has not synced with for half an
//     interval, every interval (7/8 to 9/8 of it, jittered).
//   - Modelled: record transfer (wants of 32 bytes an ID, records of a
//     fixed size, frame headers), connection set-up on a healed link
//     (ConnectRTTs round trips, no bytes counted), and gossip: GossipSub's
//     eager push only, each record forwarded once, on first receipt, to
//     the node's mesh peers (D = 6 targeted, symmetric, up to 12) but the
//     one it came from, each copy lost with probability Loss; no IHAVE or
//     IWANT, no CPU time but RecordCPU for each record a node receives
//     (checked one after another on the node's own processor), no
//     transport framing (Noise, yamux) in the byte counts.
//
// A node's set is the shared base (records every node held before the
// scenario) plus the written records it holds, kept as a bitset; a
// recon.Set is built from them when a session needs one and shared by
// nodes that hold the same records. Everything random comes from the
// seed: a run is reproducible.
package dessim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/vigil-mesh/vigil/sync/recon"
)

// Config describes the simulated mesh. Zero fields take the documented
// defaults.
type Config struct {
	// Latency is each link's one-way delay. Default 50 ms.
	Latency time.Duration
	// Jitter spreads the links' latencies uniformly over
	// Latency × [1-Jitter, 1+Jitter] (fixed per link). Default 0.
	Jitter float64
	// Bandwidth is each link's rate in bytes per second, each direction;
	// messages queue behind each other. Default 250,000 (2 Mbit/s);
	// negative for unlimited.
	Bandwidth float64
	// Loss is the probability that one gossip copy on one link is lost.
	// Reconciliation runs on a reliable stream and loses nothing.
	// Default 0.
	Loss float64
	// D is the gossip mesh degree GossipSub aims for. Default 6.
	D int
	// Interval is the periodic reconciliation interval. Default one
	// minute, the engine's default; negative for no periodic rounds.
	Interval time.Duration
	// ConnectRTTs is how many round trips a healed link takes to come up
	// and admit its ends (TCP, multistream, Noise, yamux, identify,
	// hello). Default 8.5: with 50 ms each way, the real nodes of
	// bench/meshsim start their first session over a healed link 0.82 to
	// 0.92 s after it comes back (vigil-sim -latency 50ms -trace, two
	// nodes and fifty). Negative means none.
	ConnectRTTs float64
	// Base is how many records every node holds from the start. Default
	// 100. Reconciliation's bytes hardly depend on it (the coded phase
	// costs about 60 bytes a difference and 1 KB), its CPU time does:
	// each session maps every item of both sets into coded symbols.
	Base int
	// Records is how many records the scenario may write (Write's
	// indexes). Default 100.
	Records int
	// RecordBytes is every record's size. Default 632, the mean of the
	// benchmarks' reports.
	RecordBytes int
	// RecordCPU is the time a node takes to check and store one record
	// it receives (signature, validation, the store's write), one record
	// after another on the node's own processor; gossip forwards a record
	// once it is checked, and a session reads its peer's 'D' only after
	// storing the frames before it. Default 0 (free); the benchmark
	// gives the figure ingest.store measured.
	RecordCPU time.Duration
	Seed      uint64 // default 1
}

func (c *Config) fill() {
	if c.Latency == 0 {
		c.Latency = 50 * time.Millisecond
	}
	if c.Bandwidth == 0 {
		c.Bandwidth = 250_000
	}
	if c.D == 0 {
		c.D = 6
	}
	if c.Interval == 0 {
		c.Interval = time.Minute
	}
	if c.ConnectRTTs == 0 {
		c.ConnectRTTs = 8.5
	}
	if c.Base == 0 {
		c.Base = 100
	}
	if c.Records == 0 {
		c.Records = 100
	}
	if c.RecordBytes == 0 {
		c.RecordBytes = 632
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
}

// Protocol constants, as sync/mesh has them.
const (
	recordsPerFrame = 256
	maxRecordFrame  = 16 << 10
	gossipOverhead  = 64 // GossipSub RPC framing, message ID, topic: modelled
	dLow, dHigh     = 4, 12
)

// Bytes is what nodes sent, by kind.
type Bytes struct {
	Recon    int64 // reconciliation frames: real message sizes and headers
	Transfer int64 // wants, records, 'E' and 'D' frames: modelled
	Gossip   int64 // record copies pushed by gossip: modelled
}

// Total is the sum of the kinds.
func (b Bytes) Total() int64 { return b.Recon + b.Transfer + b.Gossip }

func (b Bytes) minus(o Bytes) Bytes {
	return Bytes{b.Recon - o.Recon, b.Transfer - o.Transfer, b.Gossip - o.Gossip}
}

// Sim is one simulated mesh. It is not safe for concurrent use.
type Sim struct {
	cfg   Config
	g     *Graph
	rng   *rand.Rand
	now   int64 // ns since the start
	q     queue
	nodes []node
	links []link

	base    []recon.Item // every node's records from the start
	records []record     // those the scenario may write
	byID    map[[32]byte]int32
	sets    map[string]*recon.Set

	// missing counts (node, written record) pairs not yet held;
	// missingOwn those where the node is on its writer's side.
	missing, missingOwn int
	written             int

	sessions int
	err      error
}

type record struct {
	item    recon.Item
	writer  int32 // -1 until written
	written bool
}

type node struct {
	held bitset // over the written records
	// seen marks records gossip brought that are being checked (or
	// held): a second copy is dropped, as GossipSub's seen cache does.
	seen    bitset
	cpuFree int64 // when the node's processor is free (RecordCPU)
	side    int8
	nbrs    []nbr
	mesh    []int32 // gossip mesh peers
	sent    Bytes
	timer   bool // a periodic timer is scheduled
}

// nbr is one neighbour as a node sees it: the link, and the state of
// the reconciliations this node starts with it (SyncPeer's).
type nbr struct {
	peer     int32
	link     int32
	active   bool  // a session this node started is running
	pending  bool  // one more round was asked for meanwhile
	lastSync int64 // when the last session with it ended, at this end
}

type link struct {
	a, b    int32
	up      bool
	latency int64
	busy    [2]int64 // when each direction (a→b, b→a) is free
}

// New builds a simulation over g: links not in g.Cut are up, with their
// gossip meshes formed; every node holds the base records.
func New(cfg Config, g *Graph) (*Sim, error) {
	cfg.fill()
	if cfg.Jitter < 0 || cfg.Jitter >= 1 || cfg.Loss < 0 || cfg.Loss >= 1 {
		return nil, fmt.Errorf("dessim: jitter %v and loss %v must lie in [0, 1)", cfg.Jitter, cfg.Loss)
	}
	s := &Sim{cfg: cfg, g: g, rng: rand.New(rand.NewPCG(cfg.Seed, 0x646573)),
		nodes: make([]node, g.N), byID: map[[32]byte]int32{}, sets: map[string]*recon.Set{}}
	w := bitsetLen(cfg.Records)
	held, seen := make(bitset, w*g.N), make(bitset, w*g.N)
	for i := range s.nodes {
		s.nodes[i].held = held[i*w : (i+1)*w : (i+1)*w]
		s.nodes[i].seen = seen[i*w : (i+1)*w : (i+1)*w]
		s.nodes[i].side = int8(g.Side[i])
	}
	cut := map[[2]int]bool{}
	for _, e := range g.Cut {
		cut[e] = true
	}
	for k, e := range g.Edges {
		lat := float64(cfg.Latency)
		if cfg.Jitter > 0 {
			lat *= 1 + cfg.Jitter*(2*s.rng.Float64()-1)
		}
		s.links = append(s.links, link{a: int32(e[0]), b: int32(e[1]), up: !cut[e], latency: int64(lat)})
		s.nodes[e[0]].nbrs = append(s.nodes[e[0]].nbrs, nbr{peer: int32(e[1]), link: int32(k), lastSync: -1 << 62})
		s.nodes[e[1]].nbrs = append(s.nodes[e[1]].nbrs, nbr{peer: int32(e[0]), link: int32(k), lastSync: -1 << 62})
	}
	// Claimed times in ms: the base a day before the start, the written
	// records at their write time (set by Write).
	const epoch = 1_780_000_000_000
	s.base = make([]recon.Item, cfg.Base)
	for i := range s.base {
		s.base[i] = recon.Item{Time: uint64(epoch-86_400_000+int64(i)) ^ 1<<63, ID: s.randomID()}
	}
	s.records = make([]record, cfg.Records)
	for i := range s.records {
		id := s.randomID()
		s.records[i] = record{item: recon.Item{ID: id}, writer: -1}
		s.byID[id] = int32(i)
	}
	s.formMesh()
	if cfg.Interval > 0 {
		for i := range s.nodes {
			s.schedulePeriodic(int32(i), s.rng.Int64N(int64(cfg.Interval)))
		}
	}
	return s, nil
}

func (s *Sim) randomID() [32]byte {
	var id [32]byte
	for k := 0; k < 32; k += 8 {
		binary.LittleEndian.PutUint64(id[k:], s.rng.Uint64())
	}
	return id
}

// formMesh builds the gossip meshes over the links that are up: links
// in random order joined while both ends have fewer than D mesh peers,
// then each node below dLow grafts more neighbours while it is below D
// and the other end below dHigh.
func (s *Sim) formMesh() {
	order := s.rng.Perm(len(s.links))
	for _, k := range order {
		l := &s.links[k]
		if l.up && len(s.nodes[l.a].mesh) < s.cfg.D && len(s.nodes[l.b].mesh) < s.cfg.D {
			s.graft(l.a, l.b)
		}
	}
	for u := range s.nodes {
		n := &s.nodes[u]
		if len(n.mesh) >= dLow {
			continue
		}
		for _, nb := range n.nbrs {
			if len(n.mesh) >= s.cfg.D {
				break
			}
			if s.links[nb.link].up && !s.inMesh(int32(u), nb.peer) && len(s.nodes[nb.peer].mesh) < dHigh {
				s.graft(int32(u), nb.peer)
			}
		}
	}
}

func (s *Sim) graft(a, b int32) {
	s.nodes[a].mesh = append(s.nodes[a].mesh, b)
	s.nodes[b].mesh = append(s.nodes[b].mesh, a)
}

func (s *Sim) inMesh(a, b int32) bool {
	for _, p := range s.nodes[a].mesh {
		if p == b {
			return true
		}
	}
	return false
}

// Now is the simulated time since the start.
func (s *Sim) Now() time.Duration { return time.Duration(s.now) }

// Sessions is how many reconciliation sessions have started.
func (s *Sim) Sessions() int { return s.sessions }

// Sent returns the bytes node i has sent so far.
func (s *Sim) Sent(i int) Bytes { return s.nodes[i].sent }

// Converged reports whether every node holds every written record.
func (s *Sim) Converged() bool { return s.missing == 0 }

// SidesConverged reports whether every node holds every record written
// on its own side.
func (s *Sim) SidesConverged() bool { return s.missingOwn == 0 }

// Holds reports whether node i holds written record r.
func (s *Sim) Holds(i, r int) bool { return s.nodes[i].held.has(int32(r)) }

// Write schedules node i to write record r (0 ≤ r < Config.Records) at
// time at (not before now); the record is stored there and gossiped.
func (s *Sim) Write(i, r int, at time.Duration) error {
	if r < 0 || r >= len(s.records) || s.records[r].writer >= 0 {
		return fmt.Errorf("dessim: record %d: out of range or written already", r)
	}
	if i < 0 || i >= len(s.nodes) {
		return fmt.Errorf("dessim: node %d out of range", i)
	}
	t := max(int64(at), s.now)
	s.records[r].writer = int32(i)
	s.records[r].item.Time = uint64(1_780_000_000_000+t/1e6) ^ 1<<63
	// Every node lacks it from now on; those of the writer's side count
	// for the side's convergence.
	s.missing += len(s.nodes)
	for _, side := range s.g.Side {
		if side == s.g.Side[i] {
			s.missingOwn++
		}
	}
	s.q.push(event{at: t, kind: evWrite, node: int32(i), rec: int32(r)})
	return nil
}

// Heal brings every cut link up at time at: each is usable ConnectRTTs
// round trips later, joins the gossip meshes where there is room, and
// its lower-numbered end starts a reconciliation.
func (s *Sim) Heal(at time.Duration) {
	for _, e := range s.g.Cut {
		for k, l := range s.links {
			if int(l.a) == e[0] && int(l.b) == e[1] && !l.up {
				connect := int64(0)
				if s.cfg.ConnectRTTs > 0 {
					connect = int64(s.cfg.ConnectRTTs * 2 * float64(l.latency))
				}
				s.q.push(event{at: max(int64(at), s.now) + connect, kind: evLinkUp, link: int32(k)})
			}
		}
	}
}

// Run processes events until stop returns true (checked after each
// event), the queue is empty, or the clock passes limit. It reports
// whether stop was met.
func (s *Sim) Run(limit time.Duration, stop func() bool) (bool, error) {
	for s.q.len() > 0 && s.err == nil {
		if stop != nil && stop() {
			return true, nil
		}
		if s.q.peek().at > int64(limit) {
			s.now = int64(limit)
			return false, nil
		}
		e := s.q.pop()
		s.now = e.at
		s.handle(e)
	}
	if s.err != nil {
		return false, s.err
	}
	return stop != nil && stop(), nil
}

// store notes that node i holds record r; it reports whether that is
// news.
func (s *Sim) store(i, r int32) bool {
	n := &s.nodes[i]
	if !n.held.set(r) {
		return false
	}
	s.missing--
	if n.side == s.nodes[s.records[r].writer].side {
		s.missingOwn--
	}
	return true
}

// set returns node i's records as a recon.Set: the base and the written
// records it holds. Nodes holding the same records share one Set.
func (s *Sim) set(i int32) *recon.Set {
	held := s.nodes[i].held
	if st, ok := s.sets[string(held)]; ok { // no allocation for the lookup
		return st
	}
	items := make([]recon.Item, len(s.base), len(s.base)+64)
	copy(items, s.base)
	for r := range held.all() {
		items = append(items, s.records[r].item)
	}
	st := recon.NewSet(items)
	if len(s.sets) >= 512 {
		clear(s.sets)
	}
	s.sets[string(held)] = st
	return st
}

// send puts a message of size bytes from node from on link l and
// schedules e at its arrival: after what the link direction already
// carries, its transmission time and the latency.
func (s *Sim) send(l int32, from int32, size int, e event) {
	lk := &s.links[l]
	dir := 0
	if lk.b == from {
		dir = 1
	}
	start := max(s.now, lk.busy[dir])
	if s.cfg.Bandwidth > 0 {
		start += int64(float64(size) / s.cfg.Bandwidth * 1e9)
	}
	lk.busy[dir] = start
	e.at = start + lk.latency
	s.q.push(e)
}

func (s *Sim) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

var errInternal = errors.New("dessim: internal error")

func (s *Sim) handle(e event) {
	switch e.kind {
	case evWrite:
		s.written++
		s.store(e.node, e.rec)
		s.gossip(e.node, -1, e.rec)
	case evGossip:
		n := &s.nodes[e.node]
		if n.held.has(e.rec) || !n.seen.set(e.rec) {
			return // a copy already held or being checked
		}
		if s.cfg.RecordCPU > 0 {
			e.kind, e.at = evValidated, s.cpu(e.node, 1)
			s.q.push(e)
			return
		}
		fallthrough
	case evValidated:
		if s.store(e.node, e.rec) {
			s.gossip(e.node, e.peer, e.rec)
		}
	case evLinkUp:
		s.linkUp(e.link)
	case evPeriodic:
		s.periodic(e.node)
	case evRecon, evZero, evWants, evRecords, evStored, evDone:
		s.onSession(e)
	default:
		s.fail(fmt.Errorf("%w: event kind %d", errInternal, e.kind))
	}
}

// cpu books the check of n records on node u's processor and returns
// when it is done.
func (s *Sim) cpu(u int32, n int) int64 {
	nd := &s.nodes[u]
	nd.cpuFree = max(nd.cpuFree, s.now) + int64(n)*int64(s.cfg.RecordCPU)
	return nd.cpuFree
}

// gossip forwards record r from node u to its mesh peers but from, each
// copy lost with probability Loss.
func (s *Sim) gossip(u, from, r int32) {
	for _, p := range s.nodes[u].mesh {
		if p == from {
			continue
		}
		k := s.linkTo(u, p)
		if k < 0 || !s.links[k].up {
			continue
		}
		size := s.cfg.RecordBytes + gossipOverhead
		s.nodes[u].sent.Gossip += int64(size)
		if s.cfg.Loss > 0 && s.rng.Float64() < s.cfg.Loss {
			// Sent and lost: the link still carried it.
			s.send(k, u, size, event{kind: evNone})
			continue
		}
		s.send(k, u, size, event{kind: evGossip, node: p, peer: u, rec: r})
	}
}

// linkTo returns the link between u and its neighbour p, or -1.
func (s *Sim) linkTo(u, p int32) int32 {
	for _, nb := range s.nodes[u].nbrs {
		if nb.peer == p {
			return nb.link
		}
	}
	return -1
}

func (s *Sim) nbrOf(u, p int32) *nbr {
	for k := range s.nodes[u].nbrs {
		if s.nodes[u].nbrs[k].peer == p {
			return &s.nodes[u].nbrs[k]
		}
	}
	return nil
}

func (s *Sim) linkUp(k int32) {
	l := &s.links[k]
	l.up = true
	a, b := &s.nodes[l.a], &s.nodes[l.b]
	if (len(a.mesh) < s.cfg.D || len(b.mesh) < s.cfg.D) && len(a.mesh) < dHigh && len(b.mesh) < dHigh {
		s.graft(l.a, l.b)
	}
	// On a new connection the lower peer starts (engine.onPeer).
	s.syncPeer(min(l.a, l.b), max(l.a, l.b))
}

func (s *Sim) schedulePeriodic(u int32, after int64) {
	s.q.push(event{at: s.now + after, kind: evPeriodic, node: u})
}

// periodic is the engine's periodic round at node u: a session with every
// neighbour not synced with for half an interval, then the next round in
// 7/8 to 9/8 of the interval.
func (s *Sim) periodic(u int32) {
	iv := int64(s.cfg.Interval)
	for k := range s.nodes[u].nbrs {
		nb := &s.nodes[u].nbrs[k]
		if s.links[nb.link].up && s.now-nb.lastSync >= iv/2 {
			s.syncPeer(u, nb.peer)
		}
	}
	s.schedulePeriodic(u, iv-iv/8+s.rng.Int64N(iv/4))
}

// syncPeer is Engine.SyncPeer: u starts a session with p, or, if one it
// started is running, asks for one more round after it.
func (s *Sim) syncPeer(u, p int32) {
	nb := s.nbrOf(u, p)
	if nb == nil || !s.links[nb.link].up {
		return
	}
	if nb.active {
		nb.pending = true
		return
	}
	nb.active = true
	s.startSession(u, p, nb.link)
}
