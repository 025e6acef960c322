// Package daemon is Vigil's composition root: it opens the store (or takes
// one its caller holds) and, while the device belongs to a mission, builds
// the libp2p node and starts the mesh engine on it, side by side under one
// owner, so that the CLI's `vigil node`, the app, the phone glue and the
// mesh simulation run the same thing.
//
// The one construction is node first, then the engine on it (StartMesh):
// node.New listens but admits nobody until the engine attaches itself as
// the node's owner (mesh.New). Whoever builds the node closes it, after the
// engine: Mesh.Close closes the engine (which detaches from the node and
// closes its connections), then the node. A Root closes its Mesh, then the
// store when it opened it.
//
// # Goroutines
//
// A Root has one context and one WaitGroup for the goroutines it starts
// itself: the --peer redial loop, the watch on this device's addresses,
// the background wake schedule, and whatever its caller runs with Go.
// Close cancels the context and waits for them before it closes the mesh;
// a task given to Go that fails stops the root, and Wait returns its error.
// The node and the engine own their goroutines (their own context and
// WaitGroup), and their Close waits for them.
//
// # Lock order
//
// Outermost first; a lock is never taken while a later one is held:
//
//  1. Root.lcMu serialises the lifecycle calls (Start, Pause, Resume,
//     Background, Close). None of the root's goroutines takes it, so
//     Close may wait for them while holding it.
//  2. Root.mu guards the network state (the running Daemon, paused,
//     closed, the multicast lock); pause and resume hold it while they
//     switch the engine and the node.
//  3. The engine's mu (Engine.Pause), then the node's pauseMu → mu →
//     gater mu (Node.Pause, Resume); the engine never holds its mu across
//     a call into the node or the store.
//  4. The multicast lock (an OS call, under Root.mu).
//
// The store's mu is outside this chain: the store calls the engine's hooks
// (OnPut, OnRevocation) after releasing it, and the engine calls the store
// without holding its own mu. The node calls its owner (the engine) without
// holding any of its locks.
package daemon

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/node"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// Options for a Root (and Start). The zero value listens on random ports
// with mDNS on.
type Options struct {
	Listen []ma.Multiaddr
	Peers  []ma.Multiaddr // dialled at start and redialled while down
	NoMDNS bool
	// RelayService makes this node a circuit relay for other members.
	RelayService bool
	// RotateIdentity gives the node a fresh transport key (phones do, so
	// their network presence cannot be followed from day to day).
	RotateIdentity bool
	Phone          bool
	Interval       time.Duration
	Logger         *slog.Logger
	// Multicast is held while mDNS runs: Android drops multicast packets
	// for apps without the Wi-Fi multicast lock (mobile.MulticastLock).
	// Acquired at Start and when networking resumes, released when it
	// pauses and at Close. Nil: no lock (and none is taken with NoMDNS).
	Multicast MulticastLock
	// Wake is when a backgrounded daemon wakes to sync (Background). The
	// zero value means DefaultWake.
	Wake WakeSchedule
	// Clock times the background wake schedule (its waits). Default: the
	// real clock; tests pass a fake one.
	Clock Clock
	// Now is the wall clock of the node (node.Config.Now: the time its
	// hello tells peers, mDNS name rotation, bans), of the engine
	// (mesh.Config.Now) and of the --peer redial backoff. Default
	// time.Now; tests set it to play a device whose clock is wrong.
	Now func() time.Time
}

// MulticastLock is a lock the OS wants held while the node listens for
// multicast (mDNS). mobile.MulticastLock implements it.
type MulticastLock interface {
	Acquire() error
	Release()
}

// PhoneMemoryLimit is the Go memory limit on phones (Options.Phone).
const PhoneMemoryLimit = 48 << 20

// ErrClosed is returned by a Root's Start and Go after Close.
var ErrClosed = errors.New("daemon: closed")

// Mesh is a node and the mesh engine running on it: the one way Vigil
// wires them (StartMesh). Root.Start builds one; the mesh simulation and
// benchmarks, which wrap the store or tune the engine, call StartMesh
// themselves.
type Mesh struct {
	Node   *node.Node
	Engine *mesh.Engine
}

// StartMesh builds the node from nc, then starts the engine of mc on it
// (the engine attaches itself as the node's owner; nc.Owner must be
// zero). The node's Logger defaults to the engine's. When the engine
// cannot start, the node is closed again.
func StartMesh(nc node.Config, mc mesh.Config) (*Mesh, error) {
	if nc.Logger == nil {
		nc.Logger = mc.Logger
	}
	n, err := node.New(nc)
	if err != nil {
		return nil, err
	}
	e, err := mesh.New(n, mc)
	if err != nil {
		n.Close()
		return nil, err
	}
	return &Mesh{Node: n, Engine: e}, nil
}

// Close stops the engine (it detaches from the node, whose connections
// close), then closes the node.
func (m *Mesh) Close() error {
	return errors.Join(m.Engine.Close(), m.Node.Close())
}

// Root is Vigil's composition root over one store: it holds the store and,
// once Start found a mission, the running Daemon (node and engine). Its
// methods are safe for concurrent use. See the package comment for its
// goroutines and lock order.
type Root struct {
	st       *store.Store
	ownStore bool // opened here (Open, Init): Close closes it
	o        Options
	log      *slog.Logger
	clock    Clock
	now      func() time.Time
	wake     WakeSchedule
	kick     chan struct{} // dial the --peer addresses now, backoff forgotten

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{} // closed once Close has finished

	// lcMu serialises the lifecycle calls; the root's goroutines never
	// take it.
	lcMu   sync.Mutex
	bgStop chan struct{} // non-nil while backgrounded
	bgDone chan struct{}

	// mu guards what follows; pause and resume hold it while they switch.
	mu       sync.Mutex
	d        *Daemon // the running network; nil until Start found a mission
	paused   bool
	closed   bool
	lockHeld bool
	fatal    error // the failure that stopped the root (Go)
	closeErr error
}

// New returns a root over st, a store its caller holds: the caller closes
// st after the root's Close. Nothing runs until Start.
func New(st *store.Store, o Options) *Root {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Root{st: st, o: o, log: o.Logger, clock: o.Clock, now: o.Now, wake: o.Wake.orDefault(),
		kick: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.clock == nil {
		r.clock = realClock{}
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// Open opens the store in home with passphrase and returns a root that
// owns it (Close closes it). Nothing runs until Start.
func Open(home string, passphrase []byte, so store.Options, o Options) (*Root, error) {
	st, err := store.Open(home, passphrase, so)
	if err != nil {
		return nil, err
	}
	r := New(st, o)
	r.ownStore = true
	return r, nil
}

// Init creates a store in home (store.Init) and returns a root that owns
// it, as Open does.
func Init(home string, passphrase []byte, so store.Options, o Options) (*Root, error) {
	st, err := store.Init(home, passphrase, so)
	if err != nil {
		return nil, err
	}
	r := New(st, o)
	r.ownStore = true
	return r, nil
}

// Store returns the root's store.
func (r *Root) Store() *store.Store { return r.st }

// Daemon returns the running network, or nil before Start found a
// mission.
func (r *Root) Daemon() *Daemon {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.d
}

// Start puts the device on the network when it belongs to a mission: it
// builds the node, starts the engine on it (StartMesh), takes the
// multicast lock and starts the --peer redial. Without a mission it starts
// nothing and returns store.ErrNoMission; call it again once the device
// has joined or created one. Start on a running root does nothing; after
// Close it returns ErrClosed.
func (r *Root) Start() error {
	r.lcMu.Lock()
	defer r.lcMu.Unlock()
	r.mu.Lock()
	closed, running := r.closed, r.d != nil
	r.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case running:
		return nil
	}
	secret := r.st.Secret()
	if len(secret) == 0 {
		return store.ErrNoMission
	}
	var infos []peer.AddrInfo
	for _, a := range r.o.Peers {
		info, err := peer.AddrInfoFromP2pAddr(a)
		if err != nil {
			return fmt.Errorf("--peer %s: %w (want a full address ending in /p2p/<peer id>)", a, err)
		}
		infos = append(infos, *info)
	}
	if r.o.Phone && debug.SetMemoryLimit(-1) > PhoneMemoryLimit {
		// Go lets the heap grow to twice what is live; on a phone that
		// doubles Badger's compaction buffers. Measured in bench/: a
		// syncing phone store peaks at about 51 MiB with this limit,
		// 127 MiB without.
		debug.SetMemoryLimit(PhoneMemoryLimit)
	}
	key, err := TransportKey(r.st, r.o.RotateIdentity)
	if err != nil {
		return fmt.Errorf("transport key: %w", err)
	}
	m, err := StartMesh(node.Config{
		Key: key, Secret: secret, Listen: r.o.Listen, MDNS: !r.o.NoMDNS,
		RelayService: r.o.RelayService, Phone: r.o.Phone, Logger: r.o.Logger, Now: r.o.Now,
	}, mesh.Config{Store: r.st, Interval: r.o.Interval, Logger: r.o.Logger, Now: r.o.Now})
	if err != nil {
		return err
	}
	d := &Daemon{Store: r.st, Node: m.Node, Engine: m.Engine, root: r, mesh: m}
	r.mu.Lock()
	r.d = d
	r.paused = false
	if !r.o.NoMDNS && r.o.Multicast != nil {
		// Taken just after mDNS started: the first announcement goes out
		// regardless, and answers arrive once the lock is held.
		r.acquireLock()
	}
	r.mu.Unlock()
	if len(infos) > 0 {
		r.goFn(func() { r.keepConnected(d, infos) })
		r.goFn(func() { r.watchAddrs(d) })
	}
	return nil
}

// Go runs fn on its own goroutine under the root: fn gets the root's
// context, cancelled at Close, and Close waits for fn to return, so fn
// must not call Close itself (it may return an error, or start Close on
// another goroutine). An error fn returns before Close began is fatal: the
// root closes, and Wait returns that error. It returns ErrClosed, and runs
// nothing, after Close.
func (r *Root) Go(fn func(ctx context.Context) error) error {
	if !r.goFn(func() {
		if err := fn(r.ctx); err != nil && r.ctx.Err() == nil {
			r.fail(err)
		}
	}) {
		return ErrClosed
	}
	return nil
}

// goFn starts fn on a goroutine Close waits for; false once Close began.
func (r *Root) goFn(fn func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		fn()
	}()
	return true
}

// fail stops the root for err (the first failure wins): Close runs on a
// goroutine of its own, since the failing goroutine is one it waits for.
func (r *Root) fail(err error) {
	r.mu.Lock()
	if r.closed || r.fatal != nil {
		r.mu.Unlock()
		return
	}
	r.fatal = err
	r.mu.Unlock()
	r.log.Error("stopping", "err", err)
	r.cancel()
	go r.Close()
}

// Wait blocks until the root has closed, and returns the error that
// stopped it (a task given to Go that failed) or else Close's error.
func (r *Root) Wait() error {
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fatal != nil {
		return r.fatal
	}
	return r.closeErr
}

// Close stops everything the root started, in order: the background
// schedule, the root's goroutines (their context is cancelled, and Close
// waits for them), the engine, the node, the multicast lock, and the
// store if the root opened it. Every method does nothing afterwards (Start
// and Go return ErrClosed); a second Close returns the first one's error.
func (r *Root) Close() error {
	r.lcMu.Lock()
	defer r.lcMu.Unlock()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		<-r.done
		return r.closeErr
	}
	r.mu.Unlock()
	r.stopBackground()
	r.mu.Lock()
	r.closed = true
	d := r.d
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	var errs []error
	if d != nil {
		errs = append(errs, d.mesh.Close())
	}
	r.mu.Lock()
	r.releaseLock()
	r.mu.Unlock()
	if r.ownStore {
		errs = append(errs, r.st.Close())
	}
	err := errors.Join(errs...)
	r.mu.Lock()
	r.closeErr = err
	r.mu.Unlock()
	close(r.done)
	return err
}

// Daemon is the network a Root runs while the device belongs to a
// mission: the node and the engine on it, over the root's store. Its
// fields never change. The lifecycle methods are the root's.
type Daemon struct {
	Store  *store.Store
	Node   *node.Node
	Engine *mesh.Engine

	root *Root
	mesh *Mesh
}

// Start starts the node and the engine for st, a store its caller holds
// (a root over it, New, started at once): it fails with store.ErrNoMission
// when the device belongs to no mission. The caller keeps owning st and
// must Close the daemon before closing st.
func Start(st *store.Store, o Options) (*Daemon, error) {
	r := New(st, o)
	if err := r.Start(); err != nil {
		r.Close()
		return nil, err
	}
	return r.Daemon(), nil
}

// Root returns the root the daemon runs under.
func (d *Daemon) Root() *Root { return d.root }

// Pause is the root's Pause.
func (d *Daemon) Pause() { d.root.Pause() }

// Resume is the root's Resume.
func (d *Daemon) Resume() { d.root.Resume() }

// Background is the root's Background.
func (d *Daemon) Background() { d.root.Background() }

// Paused is the root's Paused.
func (d *Daemon) Paused() bool { return d.root.Paused() }

// Backgrounded is the root's Backgrounded.
func (d *Daemon) Backgrounded() bool { return d.root.Backgrounded() }

// Close closes the root the daemon runs under (Root.Close): the engine and
// the node stop, and the store too when the root opened it (a daemon from
// Start leaves it to its caller).
func (d *Daemon) Close() error { return d.root.Close() }

// TransportKey returns the node's transport key, kept in the store (never
// the signing key), creating it on first use or when rotate is set.
func TransportKey(st *store.Store, rotate bool) (crypto.PrivKey, error) {
	if !rotate {
		if b, err := st.Meta("transport"); err != nil {
			return nil, err
		} else if b != nil {
			return crypto.UnmarshalPrivateKey(b)
		}
	}
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, err
	}
	b, err := crypto.MarshalPrivateKey(k)
	if err != nil {
		return nil, err
	}
	return k, st.SetMeta("transport", b)
}

// keepConnected dials the given peers and redials them with backoff while
// they are not connected. A kick (Resume, or this device's addresses
// changing: a network came back) forgets the backoff and dials at once.
// Nothing is dialled while paused. The backoff runs on Options.Now.
func (r *Root) keepConnected(d *Daemon, infos []peer.AddrInfo) {
	backoff := map[peer.ID]time.Duration{}
	next := map[peer.ID]time.Time{}
	n := d.Node
	for {
		now := r.now()
		for _, info := range infos {
			if n.Paused() || n.Admitted(info.ID) || now.Before(next[info.ID]) {
				continue
			}
			ctx, cancel := context.WithTimeout(r.ctx, 20*time.Second)
			err := n.Connect(ctx, info)
			cancel()
			switch {
			case errors.Is(err, node.ErrPaused):
			case err != nil:
				b := min(backoff[info.ID]*2+time.Second, 2*time.Minute)
				backoff[info.ID], next[info.ID] = b, r.now().Add(b)
				r.log.Debug("--peer unreachable", "peer", info.ID, "retry in", b, "err", err)
			default:
				backoff[info.ID] = 0
			}
		}
		select {
		case <-r.ctx.Done():
			return
		case <-r.kick:
			clear(backoff)
			clear(next)
			for _, info := range infos {
				n.ForgetDialBackoff(info.ID)
			}
		case <-time.After(time.Second):
		}
	}
}

// kickPeers makes keepConnected dial the --peer addresses now.
func (r *Root) kickPeers() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// watchAddrs kicks the --peer redial when this device gains an address
// (Wi-Fi joined, a hotspot came up): the network is likely back, and the
// peers should not wait out a backoff of up to two minutes. The first
// event is the addresses the node started with; after that, at most one
// kick in 10 s (on Options.Now), as observed addresses may come and go.
func (r *Root) watchAddrs(d *Daemon) {
	sub, err := d.Node.Host().EventBus().Subscribe(new(event.EvtLocalAddressesUpdated))
	if err != nil {
		r.log.Warn("cannot watch this device's addresses", "err", err)
		return
	}
	defer sub.Close()
	var last time.Time
	for first := true; ; first = false {
		select {
		case <-r.ctx.Done():
			return
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			ev := e.(event.EvtLocalAddressesUpdated)
			added := false
			for _, a := range ev.Current {
				added = added || a.Action == event.Added
			}
			if now := r.now(); added && !first && now.Sub(last) > 10*time.Second {
				last = now
				r.log.Debug("new local address: redialling the --peer addresses now")
				r.kickPeers()
			}
		}
	}
}

// Pause takes the network off until Resume: the engine stops its periodic
// work, mDNS and the LAN redial stop, every connection closes, new ones
// are refused both ways, the --peer addresses are not dialled, and the
// multicast lock is released. It ends Background. Records stored
// meanwhile go out after Resume. Pause before Start, or after Close, does
// nothing.
func (r *Root) Pause() {
	r.lcMu.Lock()
	defer r.lcMu.Unlock()
	r.stopBackground()
	r.pause()
}

// Resume puts the network back now: the multicast lock is taken, mDNS
// restarts, the peers known before the pause, those found on the LAN and
// the --peer addresses are dialled at once with their backoff forgotten,
// and the engine reconciles with every admitted peer (and with each peer
// as it connects). It ends Background. Resume before Start, or after
// Close, does nothing.
func (r *Root) Resume() {
	r.lcMu.Lock()
	defer r.lcMu.Unlock()
	r.stopBackground()
	r.resume()
}

// Background pauses the network (see Pause) and, as long as the OS lets
// the process run, wakes it for a sync window on the Wake schedule:
// resumed for Wake.Window after Wake.First, then paused again, then twice
// the wait each time up to Wake.Max, each wait on Options.Clock. Resume or
// Pause ends it. Go's timers (CLOCK_MONOTONIC on Linux) stand still while
// the device sleeps, so a sleeping phone wakes later than the schedule
// says, never sooner. Calling it while backgrounded, before Start or after
// Close does nothing.
func (r *Root) Background() {
	r.lcMu.Lock()
	defer r.lcMu.Unlock()
	if r.bgStop != nil || r.Daemon() == nil {
		return
	}
	r.pause()
	stop, done := make(chan struct{}), make(chan struct{})
	if r.goFn(func() { r.background(stop, done) }) {
		r.bgStop, r.bgDone = stop, done
	}
}

// Paused reports whether the network is off (paused, or backgrounded
// outside a sync window).
func (r *Root) Paused() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.paused
}

// Backgrounded reports whether Background's schedule is running.
func (r *Root) Backgrounded() bool {
	r.lcMu.Lock()
	defer r.lcMu.Unlock()
	return r.bgStop != nil
}

// stopBackground ends the wake schedule and waits for its goroutine,
// leaving the network as it is. lcMu must be held.
func (r *Root) stopBackground() {
	if r.bgStop == nil {
		return
	}
	close(r.bgStop)
	<-r.bgDone
	r.bgStop, r.bgDone = nil, nil
}

func (r *Root) background(stop, done chan struct{}) {
	defer close(done)
	sleep := func(dur time.Duration) bool {
		select {
		case <-stop:
			return false
		case <-r.ctx.Done():
			return false
		case <-r.clock.After(dur):
			return true
		}
	}
	for i := 0; ; i++ {
		if !sleep(r.wake.Delay(i)) {
			return
		}
		r.log.Debug("background: waking to sync", "wake", i+1)
		r.resume()
		if !sleep(r.wake.Window) {
			return
		}
		r.pause()
	}
}

func (r *Root) pause() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused || r.closed || r.d == nil {
		return
	}
	r.paused = true
	r.d.Engine.Pause()
	r.d.Node.Pause()
	r.releaseLock()
}

func (r *Root) resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.paused || r.closed || r.d == nil {
		return
	}
	r.paused = false
	if !r.o.NoMDNS && r.o.Multicast != nil {
		r.acquireLock()
	}
	r.d.Node.Resume()
	r.kickPeers()
	r.d.Engine.Resume()
}

// acquireLock takes the multicast lock; mu must be held. Failing to take
// it costs only LAN discovery.
func (r *Root) acquireLock() {
	if r.lockHeld {
		return
	}
	if err := r.o.Multicast.Acquire(); err != nil {
		r.log.Warn("no Wi-Fi multicast lock: phones on this Wi-Fi may not be found", "err", err)
		return
	}
	r.lockHeld = true
}

// releaseLock lets the multicast lock go; mu must be held.
func (r *Root) releaseLock() {
	if r.lockHeld {
		r.o.Multicast.Release()
		r.lockHeld = false
	}
}
