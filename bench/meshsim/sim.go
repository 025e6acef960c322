// Package meshsim runs a mission's mesh at scale inside one process: N
// stores, each with its own sync engine and libp2p host on loopback,
// linked in a chosen topology through counting TCP proxies (which can
// delay each direction by a link latency). It partitions the mesh, writes
// reports at random nodes on both sides, heals the partition and measures
// how long every node takes to hold every report, then measures how many
// bytes GossipSub moves per fresh record in the healed, steady mesh.
// cmd/vigil-sim and the benchmark suite (bench/cmd/vigil-bench) both
// drive it.
//
// Hosts, stores and the simulation's own work run on every core
// (GOMAXPROCS); setup is done in parallel.
package meshsim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/node"
	"github.com/vigil-mesh/vigil/sync/daemon"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// Config describes one simulation. Zero fields take the documented
// defaults.
type Config struct {
	Nodes    int    // default 10
	Topology string // line, ring, random or clusters; default clusters
	Degree   int    // mean links per node inside a random half or cluster; default 3
	// Records are written at random nodes while the mesh is partitioned.
	// Default 4 per node.
	Records int
	// GossipRecords are written one at a time on the healed mesh, with
	// periodic reconciliation paused, to measure gossip bytes per record.
	// Default 20; negative skips the phase.
	GossipRecords int
	// Interval is the engines' periodic reconciliation interval. Default
	// 2 s (the engine's own default is one minute). A session that fetched
	// records starts reconciliations with the node's other peers at once,
	// so convergence after a heal does not wait for a round per hop; the
	// interval still paces the rounds that carry what those miss.
	Interval time.Duration
	// Latency delays each direction of every link by this much (one
	// way), through the links' proxies: with it, convergence is bounded
	// by round trips, as on a real mesh, rather than by the CPU the
	// nodes share. Default 0 (loopback).
	Latency time.Duration
	// OneSided writes every record at nodes of the partition's first
	// side (side 0) only. The per-hop baseline uses it: two nodes, the
	// records on one, the time until the other holds them.
	OneSided bool
	// Trace records every reconciliation session from the heal until
	// convergence (Result.Sessions): where a heal is slow, whether the
	// sessions are long or the gaps between them.
	Trace   bool
	Seed    uint64        // default 1
	Timeout time.Duration // per waiting phase; default 3 minutes
	Dir     string        // where the stores live; default a temporary folder, removed afterwards
	// Log, when set, receives progress lines.
	Log func(format string, args ...any)
}

func (c *Config) fill() {
	if c.Nodes == 0 {
		c.Nodes = 10
	}
	if c.Topology == "" {
		c.Topology = Clusters
	}
	if c.Degree == 0 {
		c.Degree = 3
	}
	if c.Records == 0 {
		c.Records = 4 * c.Nodes
	}
	if c.GossipRecords == 0 {
		c.GossipRecords = 20
	}
	if c.Interval == 0 {
		c.Interval = 2 * time.Second
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Timeout == 0 {
		c.Timeout = 3 * time.Minute
	}
	if c.Log == nil {
		c.Log = func(string, ...any) {}
	}
}

// Result is what one simulation measured.
type Result struct {
	Nodes    int    `json:"nodes"`
	Topology string `json:"topology"`
	Links    int    `json:"links"`
	CutLinks int    `json:"cut_links"`
	Diameter int    `json:"diameter"`
	// HealHops is how many hops the records travel after the heal: one
	// across the healed link, then to the node farthest from it
	// (1 + the largest HopsFrom(Cut)).
	HealHops int    `json:"heal_hops"`
	Latency  string `json:"latency"` // one way, each link
	Cores    int    `json:"cores"`
	Interval string `json:"interval"`
	Records  int    `json:"records"`
	// RecordBytes is the mean size of the records written.
	RecordBytes float64 `json:"record_bytes"`

	SetupSeconds     float64 `json:"setup_s"`
	PartitionSeconds float64 `json:"partition_spread_s"` // records reach their own side
	// ConvergeSeconds: from the heal until every node holds every record.
	ConvergeSeconds float64 `json:"converge_s"`
	// Bytes every node sent from the heal until convergence.
	HealBytesMean  float64 `json:"heal_bytes_per_node_mean"`
	HealBytesMax   int64   `json:"heal_bytes_per_node_max"`
	HealBytesTotal int64   `json:"heal_bytes_total"`
	// HealCPUSeconds is the CPU time (user and system) the whole process
	// (every node) used from the heal until convergence. All nodes share
	// the machine's cores, so where it nears ConvergeSeconds × Cores the
	// convergence time measures the machine, not the protocol.
	HealCPUSeconds float64 `json:"heal_cpu_s"`
	// HopSeconds[k] is the mean time from the heal until the nodes k
	// links away from the healed link held every record: how the
	// records travel, hop by hop.
	HopSeconds []float64 `json:"heal_seconds_by_hops"`

	GossipRecords     int     `json:"gossip_records"`
	GossipRecordBytes float64 `json:"gossip_record_bytes"` // mean size
	GossipUndelivered int     `json:"gossip_undelivered"`  // records gossip did not bring to every node in time
	GossipSeconds     float64 `json:"gossip_window_s"`
	GossipBytesTotal  int64   `json:"gossip_bytes_total"`
	GossipBytesMean   float64 `json:"gossip_bytes_per_node_mean"`
	GossipBytesMax    int64   `json:"gossip_bytes_per_node_max"`
	IdleBytesPerSec   float64 `json:"idle_bytes_per_s"` // whole mesh, paused, no records moving
	// Amplification is the gossip bytes sent by all nodes divided by
	// (record bytes × nodes): 1 would be every node receiving each record
	// once with no overhead.
	Amplification float64 `json:"amplification"`
	// DeliveryMillis: median and slowest time for a gossiped record to
	// reach every node.
	GossipDeliveryP50 float64 `json:"gossip_delivery_p50_ms"`
	GossipDeliveryMax float64 `json:"gossip_delivery_max_ms"`

	// Sessions (with Config.Trace) are the reconciliation sessions that
	// ended from the heal until convergence, as each end reported them
	// (a session appears once at each end), by start.
	Sessions []SessionTrace `json:"sessions,omitempty"`
}

// SessionTrace is one reconciliation session as one of its ends saw it.
type SessionTrace struct {
	Node, Peer       int // node indexes
	NodeHop, PeerHop int // their hops from the healed link
	// Start and End are seconds since the heal (Start is End less the
	// session's own duration).
	Start, End     float64
	Received, Sent int // records
	Bytes          int // both ways, the session's stream
}

// simNode is one member device.
type simNode struct {
	i     int
	st    *store.Store
	wired *daemon.Mesh // its node and engine, built as the daemon builds them
	eng   *mesh.Engine // wired.Engine
	sent  atomic.Int64 // bytes this node wrote to its links
	addr  *net.TCPAddr // its libp2p listener
	mu    sync.Mutex
	held  map[incident.ID]bool // reports it holds
	count *counted
}

func (n *simNode) got(ids ...incident.ID) {
	n.mu.Lock()
	for _, id := range ids {
		n.held[id] = true
	}
	n.mu.Unlock()
}

func (n *simNode) has(id incident.ID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.held[id]
}

// counted is the node's store as its engine sees it: every record the
// store accepts is noted, so the simulation knows without polling the
// database when a node holds a record.
//
// It also keeps writes off a closed store: shut waits for writes in flight
// and refuses later ones. Engine.Close now waits for every session and
// validation that writes (it once did not, and Badger panicked on a write
// to a closed database); the gate stays as a second line.
type counted struct {
	*store.Store
	n *simNode

	gate   sync.RWMutex
	closed bool
}

var errClosed = errors.New("simulation: node closed")

func (c *counted) enter() bool {
	c.gate.RLock()
	if c.closed {
		c.gate.RUnlock()
		return false
	}
	return true
}

func (c *counted) leave() { c.gate.RUnlock() }

// shut refuses writes from now on, once those in flight are done.
func (c *counted) shut() {
	c.gate.Lock()
	c.closed = true
	c.gate.Unlock()
}

func (c *counted) note(r store.Result) {
	if r.Outcome == store.Accepted {
		c.n.got(r.ID)
		c.n.got(r.Released...)
	}
}

func (c *counted) Add(raw []byte, source string) store.Result {
	if !c.enter() {
		return store.Result{ID: incident.IDOf(raw), Outcome: store.Rejected, Err: errClosed}
	}
	defer c.leave()
	r := c.Store.Add(raw, source)
	c.note(r)
	return r
}

func (c *counted) AddMany(raws [][]byte, source string, progress func(int)) ([]store.Result, error) {
	if !c.enter() {
		return nil, errClosed
	}
	defer c.leave()
	res, err := c.Store.AddMany(raws, source, progress)
	for _, r := range res {
		c.note(r)
	}
	return res, err
}

func (c *counted) Put(kind incident.Kind, payload any) (*incident.Signed, error) {
	if !c.enter() {
		return nil, errClosed
	}
	defer c.leave()
	r, err := c.Store.Put(kind, payload)
	if err == nil {
		c.n.got(r.ID)
	}
	return r, err
}

// link is one edge of the topology, through its proxy.
type link struct {
	a, b  int // a dials b
	proxy *proxy
}

type sim struct {
	cfg   Config
	g     *Graph
	nodes []*simNode
	links map[[2]int]*link
	world *gen.World
	rng   *mrand.Rand

	mu      sync.Mutex // guards links (connect runs in parallel)
	writers []int      // the node that wrote each record, in write order

	trace struct {
		sync.Mutex
		byPeer  map[peer.ID]int
		healed  time.Time // zero: not recording
		hops    []int
		list    []SessionTrace
		cancels []func()
		wg      sync.WaitGroup
	}
}

// Run runs one simulation and returns what it measured.
func Run(ctx context.Context, cfg Config) (res *Result, err error) {
	cfg.fill()
	s := &sim{cfg: cfg, links: map[[2]int]*link{}, rng: mrand.New(mrand.NewPCG(cfg.Seed, 0x73696d))}
	s.g, err = Build(cfg.Topology, cfg.Nodes, cfg.Degree, s.rng)
	if err != nil {
		return nil, err
	}
	res = &Result{Nodes: cfg.Nodes, Topology: cfg.Topology, Links: len(s.g.Edges), CutLinks: len(s.g.Cut),
		Diameter: s.g.Diameter(), HealHops: 1 + slices.Max(s.g.HopsFrom(s.g.Cut)), Latency: cfg.Latency.String(), Cores: runtime.GOMAXPROCS(0), Interval: cfg.Interval.String(), Records: cfg.Records}
	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "vigil-sim-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	start := time.Now()
	defer s.close()
	if err := s.setup(ctx, dir); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	// Every link up, then the partition.
	if err := s.connect(ctx, s.g.Edges); err != nil {
		return nil, err
	}
	s.cut(s.g.Cut)
	res.SetupSeconds = time.Since(start).Seconds()
	cfg.Log("%d nodes up, %d links (%d cut), diameter %d, in %.1fs", cfg.Nodes, len(s.g.Edges), len(s.g.Cut), res.Diameter, res.SetupSeconds)

	// Writes on both sides.
	t0 := time.Now()
	written, sizes, err := s.write(cfg.Records)
	if err != nil {
		return nil, err
	}
	res.RecordBytes = mean(sizes)
	for side := range 2 {
		var want []incident.ID
		var nodes []*simNode
		for i, id := range written {
			if s.g.Side[s.writer(i)] == side {
				want = append(want, id)
			}
		}
		for _, n := range s.nodes {
			if s.g.Side[n.i] == side {
				nodes = append(nodes, n)
			}
		}
		if _, err := s.waitHeld(ctx, nodes, want, cfg.Timeout); err != nil {
			return nil, fmt.Errorf("partition side %d: %w", side, err)
		}
	}
	res.PartitionSeconds = time.Since(t0).Seconds()
	// Writes reach other nodes by gossip or reconciliation; nothing
	// crossed the partition.
	for i, id := range written {
		for _, n := range s.nodes {
			if s.g.Side[n.i] != s.g.Side[s.writer(i)] && n.has(id) {
				return nil, fmt.Errorf("record %s crossed the partition", id)
			}
		}
	}
	cfg.Log("%d records spread on their sides in %.1fs", len(written), res.PartitionSeconds)

	// Heal.
	before := s.sentBytes()
	cpu0 := CPUSeconds()
	t1 := time.Now()
	s.startTrace(t1)
	if err := s.connect(ctx, s.g.Cut); err != nil {
		return nil, err
	}
	last, each, err := s.waitHeldEach(ctx, s.nodes, written, cfg.Timeout)
	if err != nil {
		return nil, fmt.Errorf("after the heal: %w", err)
	}
	res.ConvergeSeconds = last.Sub(t1).Seconds()
	res.Sessions = s.stopTrace()
	res.HealCPUSeconds = CPUSeconds() - cpu0
	hops := s.g.HopsFrom(s.g.Cut)
	var sum []float64
	var cnt []int
	for i, t := range each {
		h := hops[i]
		for len(sum) <= h {
			sum, cnt = append(sum, 0), append(cnt, 0)
		}
		sum[h] += t.Sub(t1).Seconds()
		cnt[h]++
	}
	for h := range sum {
		if cnt[h] > 0 {
			res.HopSeconds = append(res.HopSeconds, math.Round(1000*sum[h]/float64(cnt[h]))/1000)
		}
	}
	res.HealBytesMean, res.HealBytesMax, res.HealBytesTotal = delta(before, s.sentBytes())
	cfg.Log("converged %.2fs after the heal (%.2f s of CPU); %.0f bytes sent per node (max %d)", res.ConvergeSeconds, res.HealCPUSeconds, res.HealBytesMean, res.HealBytesMax)
	if err := s.verify(written); err != nil {
		return nil, err
	}

	if cfg.GossipRecords > 0 {
		if err := s.gossip(ctx, res); err != nil {
			return nil, err
		}
		cfg.Log("gossip: %d records of %.0f bytes, %d bytes sent in %.1fs: amplification %.2f",
			res.GossipRecords, res.GossipRecordBytes, res.GossipBytesTotal, res.GossipSeconds, res.Amplification)
	}
	return res, nil
}

// writer returns the node that wrote record i (kept by write).
func (s *sim) writer(i int) int { return s.writers[i] }

func (s *sim) setup(ctx context.Context, dir string) error {
	n := s.cfg.Nodes
	m, err := gen.NewMission(filepath.Join(dir, "node-000"), 0, s.cfg.Seed)
	if err != nil {
		return err
	}
	s.world = m.World
	s.nodes = make([]*simNode, n)
	s.nodes[0] = &simNode{i: 0, st: m.Founder, held: map[incident.ID]bool{}}
	err = parallel(n-1, func(k int) error {
		i := k + 1
		role := incident.RoleObserver
		if i == s.g.Carrier {
			role = incident.RoleCarrier
		}
		code, err := m.Founder.Invite(store.InviteRequest{Role: role, Label: fmt.Sprintf("node-%03d", i)})
		if err != nil {
			return err
		}
		st, err := store.Init(filepath.Join(dir, fmt.Sprintf("node-%03d", i)), gen.Passphrase, gen.StoreOptions())
		if err != nil {
			return err
		}
		s.nodes[i] = &simNode{i: i, st: st, held: map[incident.ID]bool{}}
		_, err = st.Join(code)
		return err
	})
	if err != nil {
		return err
	}
	// Every device knows every member from the start (a mission hands
	// out its roster); otherwise a report from a member two hops away
	// waits in quarantine until that member's record arrives.
	var members [][]byte
	for _, nd := range s.nodes {
		recs, err := nd.st.ByKind(incident.KindMember)
		if err != nil {
			return err
		}
		for _, r := range recs {
			members = append(members, r.Raw)
		}
	}
	err = parallel(n, func(i int) error { return gen.AddAll(s.nodes[i].st, members, "roster") })
	if err != nil {
		return err
	}
	secret := m.Secret
	defer s.subscribe()
	return parallel(n, func(i int) error {
		nd := s.nodes[i]
		nd.count = &counted{Store: nd.st, n: nd}
		key, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			return err
		}
		nm, err := daemon.StartMesh(node.Config{Key: key, Secret: secret, HelloTimeout: 20 * time.Second,
			Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}}, mesh.Config{
			Store:           nd.count,
			Interval:        s.cfg.Interval,
			ReceiptInterval: time.Hour, // receipts are records too: keep them out of the counts
			// The engine's clock runs an hour ahead of the host's, so no
			// peer counts as freshly admitted: a local write is then
			// gossiped only, as in a mesh that has been up for a while,
			// instead of also starting a reconciliation with every peer
			// admitted in the last 30 seconds.
			Now: func() time.Time { return time.Now().Add(time.Hour) },
		})
		if err != nil {
			return err
		}
		nd.wired, nd.eng = nm, nm.Engine
		for _, a := range nm.Node.Host().Addrs() {
			if na, err := manet.ToNetAddr(a); err == nil {
				if ta, ok := na.(*net.TCPAddr); ok {
					nd.addr = ta
					break
				}
			}
		}
		if nd.addr == nil {
			return fmt.Errorf("node %d: no TCP listen address", i)
		}
		return nil
	})
}

// subscribe, with Config.Trace, follows every engine's finished sessions.
func (s *sim) subscribe() {
	if !s.cfg.Trace {
		return
	}
	t := &s.trace
	t.byPeer = map[peer.ID]int{}
	t.hops = s.g.HopsFrom(s.g.Cut)
	for _, n := range s.nodes {
		if n == nil || n.eng == nil {
			return // setup failed; Run returns its error
		}
		t.byPeer[n.eng.Node().ID()] = n.i
	}
	for _, n := range s.nodes {
		ch, cancel := n.eng.Subscribe(1024)
		t.cancels = append(t.cancels, cancel)
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			for r := range ch {
				s.noteSession(n.i, r, time.Now())
			}
		}()
	}
}

func (s *sim) noteSession(i int, r mesh.SyncResult, at time.Time) {
	t := &s.trace
	t.Lock()
	defer t.Unlock()
	if t.healed.IsZero() {
		return
	}
	p, ok := t.byPeer[r.Peer]
	if !ok {
		p = -1
	}
	end := at.Sub(t.healed).Seconds()
	st := SessionTrace{Node: i, Peer: p, NodeHop: t.hops[i], PeerHop: -1, Start: end - r.Duration.Seconds(), End: end,
		Received: r.Received, Sent: r.Sent, Bytes: r.Bytes}
	if p >= 0 {
		st.PeerHop = t.hops[p]
	}
	t.list = append(t.list, st)
}

func (s *sim) startTrace(at time.Time) {
	s.trace.Lock()
	s.trace.healed = at
	s.trace.Unlock()
}

// stopTrace ends the recording and returns the sessions by start.
func (s *sim) stopTrace() []SessionTrace {
	t := &s.trace
	t.Lock()
	defer t.Unlock()
	t.healed = time.Time{}
	out := t.list
	t.list = nil
	sort.Slice(out, func(a, b int) bool { return out[a].Start < out[b].Start })
	return out
}

// connect brings the links up (through their proxies) and waits until
// both ends have admitted each other.
func (s *sim) connect(ctx context.Context, edges [][2]int) error {
	return parallel(len(edges), func(k int) error {
		e := edges[k]
		a, b := s.nodes[e[0]], s.nodes[e[1]]
		s.mu.Lock()
		l := s.links[e]
		s.mu.Unlock()
		if l == nil {
			p, err := newProxy(b.addr.String(), s.cfg.Latency, &a.sent, &b.sent)
			if err != nil {
				return err
			}
			l = &link{a: e[0], b: e[1], proxy: p}
			s.mu.Lock()
			s.links[e] = l
			s.mu.Unlock()
		}
		pa, err := manet.FromNetAddr(l.proxy.Addr())
		if err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		bid := b.eng.Node().ID()
		a.eng.Node().Host().Peerstore().ClearAddrs(bid)
		if err := a.eng.Node().Connect(cctx, peer.AddrInfo{ID: bid, Addrs: []ma.Multiaddr{pa}}); err != nil {
			return fmt.Errorf("link %d-%d: %w", e[0], e[1], err)
		}
		if err := a.eng.Node().WaitAdmitted(cctx, bid); err != nil {
			return err
		}
		return b.eng.Node().WaitAdmitted(cctx, a.eng.Node().ID())
	})
}

// cut takes links down: both ends forget each other's addresses (so
// nothing dials around the proxy) and close their connections.
func (s *sim) cut(edges [][2]int) {
	for _, e := range edges {
		a, b := s.nodes[e[0]], s.nodes[e[1]]
		aid, bid := a.eng.Node().ID(), b.eng.Node().ID()
		a.eng.Node().Host().Peerstore().ClearAddrs(bid)
		b.eng.Node().Host().Peerstore().ClearAddrs(aid)
		_ = a.eng.Node().Host().Network().ClosePeer(bid)
		_ = b.eng.Node().Host().Network().ClosePeer(aid)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, e := range edges {
		a, b := s.nodes[e[0]], s.nodes[e[1]]
		for time.Now().Before(deadline) && (a.eng.Node().Admitted(b.eng.Node().ID()) || b.eng.Node().Admitted(a.eng.Node().ID())) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// write signs and stores n reports at random nodes (each through its
// store's Put, which gossips it) and returns their IDs and sizes.
func (s *sim) write(n int) ([]incident.ID, []int, error) {
	var ids []incident.ID
	var sizes []int
	for range n {
		i := s.pickWriter()
		r, err := s.nodes[i].count.Put(incident.KindReport, s.world.Payload(s.rng, time.Now()))
		if err != nil {
			return nil, nil, fmt.Errorf("node %d: write: %w", i, err)
		}
		ids = append(ids, r.ID)
		sizes = append(sizes, len(r.Raw))
		s.writers = append(s.writers, i)
	}
	return ids, sizes, nil
}

// pickWriter returns a random node that may write reports (a carrier
// may not; with OneSided, only nodes of side 0).
func (s *sim) pickWriter() int {
	for {
		if i := s.rng.IntN(len(s.nodes)); i != s.g.Carrier && (!s.cfg.OneSided || s.g.Side[i] == 0) {
			return i
		}
	}
}

// waitHeld waits until every node holds every id and returns when the
// last one got there.
func (s *sim) waitHeld(ctx context.Context, nodes []*simNode, ids []incident.ID, timeout time.Duration) (time.Time, error) {
	last, _, err := s.waitHeldEach(ctx, nodes, ids, timeout)
	return last, err
}

// waitHeldEach is waitHeld that also returns when each node got there.
func (s *sim) waitHeldEach(ctx context.Context, nodes []*simNode, ids []incident.ID, timeout time.Duration) (time.Time, []time.Time, error) {
	deadline := time.Now().Add(timeout)
	done := make([]bool, len(nodes))
	at := make([]time.Time, len(nodes))
	var last time.Time
	for {
		left := 0
		for k, n := range nodes {
			if done[k] {
				continue
			}
			all := true
			for _, id := range ids {
				if !n.has(id) {
					all = false
					break
				}
			}
			if all {
				done[k] = true
				last = time.Now()
				at[k] = last
			} else {
				left++
			}
		}
		if left == 0 {
			return last, at, nil
		}
		if time.Now().After(deadline) {
			var missing []string
			for k, n := range nodes {
				if !done[k] {
					c := 0
					for _, id := range ids {
						if n.has(id) {
							c++
						}
					}
					missing = append(missing, fmt.Sprintf("node %d holds %d/%d", n.i, c, len(ids)))
				}
			}
			sort.Strings(missing)
			return last, at, fmt.Errorf("not converged after %v: %v", timeout, missing)
		}
		if err := ctx.Err(); err != nil {
			return last, at, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// verify checks the stores themselves, not the notes: every node's
// database lists every written record.
func (s *sim) verify(ids []incident.ID) error {
	return parallel(len(s.nodes), func(i int) error {
		have := map[incident.ID]bool{}
		err := s.nodes[i].st.ForEachKey(func(_ int64, id incident.ID) error { have[id] = true; return nil })
		if err != nil {
			return err
		}
		for _, id := range ids {
			if !have[id] {
				return fmt.Errorf("node %d's store lacks %s although it was noted as held", i, id)
			}
		}
		return nil
	})
}

// gossip measures bytes per record on the healed mesh with periodic
// reconciliation paused: idle traffic first, then records written one at
// a time at random nodes, each awaited at every node, then the gossip
// tail (IHAVE announcements for about three heartbeats).
func (s *sim) gossip(ctx context.Context, res *Result) error {
	for _, n := range s.nodes {
		n.eng.Pause()
	}
	time.Sleep(2 * time.Second) // let reconciliations in flight finish
	idle0 := s.sentBytes()
	t := time.Now()
	time.Sleep(2 * time.Second)
	_, _, idle := delta(idle0, s.sentBytes())
	res.IdleBytesPerSec = float64(idle) / time.Since(t).Seconds()

	before := s.sentBytes()
	t0 := time.Now()
	var sizes []int
	var lat []float64
	for range s.cfg.GossipRecords {
		i := s.pickWriter()
		w := time.Now()
		r, err := s.nodes[i].count.Put(incident.KindReport, s.world.Payload(s.rng, time.Now()))
		if err != nil {
			return err
		}
		sizes = append(sizes, len(r.Raw))
		if _, err := s.waitHeld(ctx, s.nodes, []incident.ID{r.ID}, 20*time.Second); err != nil {
			res.GossipUndelivered++
			continue
		}
		lat = append(lat, float64(time.Since(w).Milliseconds()))
	}
	time.Sleep(4 * time.Second) // the gossip tail
	res.GossipSeconds = time.Since(t0).Seconds()
	res.GossipBytesMean, res.GossipBytesMax, res.GossipBytesTotal = delta(before, s.sentBytes())
	res.GossipRecords = len(sizes)
	res.GossipRecordBytes = mean(sizes)
	total := 0
	for _, z := range sizes {
		total += z
	}
	if total > 0 {
		res.Amplification = float64(res.GossipBytesTotal) / (float64(total) * float64(len(s.nodes)))
	}
	sort.Float64s(lat)
	if len(lat) > 0 {
		res.GossipDeliveryP50 = lat[len(lat)/2]
		res.GossipDeliveryMax = lat[len(lat)-1]
	}
	for _, n := range s.nodes {
		n.eng.Resume()
	}
	if res.GossipUndelivered > 0 {
		return fmt.Errorf("gossip: %d of %d records did not reach every node within 20 s", res.GossipUndelivered, len(sizes))
	}
	return nil
}

func (s *sim) sentBytes() []int64 {
	out := make([]int64, len(s.nodes))
	for i, n := range s.nodes {
		out[i] = n.sent.Load()
	}
	return out
}

func delta(before, after []int64) (mean float64, most, total int64) {
	for i := range after {
		d := after[i] - before[i]
		total += d
		most = max(most, d)
	}
	if len(after) > 0 {
		mean = float64(total) / float64(len(after))
	}
	return mean, most, total
}

func mean(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	t := 0
	for _, x := range xs {
		t += x
	}
	return float64(t) / float64(len(xs))
}

// close stops every engine and its node, then every store (see counted
// for why the stores wait), then the proxies.
func (s *sim) close() {
	for _, cancel := range s.trace.cancels {
		cancel()
	}
	s.trace.wg.Wait()
	var wg sync.WaitGroup
	for _, n := range s.nodes {
		if n == nil || n.wired == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.wired.Close()
		}()
	}
	wg.Wait()
	for _, n := range s.nodes {
		if n == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n.count != nil {
				n.count.shut()
			}
			n.st.Close()
		}()
	}
	wg.Wait()
	for _, l := range s.links {
		l.proxy.Close()
	}
}

// parallel runs fn(0..n-1) on every core and returns the first error.
func parallel(n int, fn func(i int) error) error {
	workers := max(runtime.GOMAXPROCS(0)*2, 4)
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		mu   sync.Mutex
		errs []error
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
