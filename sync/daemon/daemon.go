// Package daemon is Vigil's composition root: given an open store it
// starts the libp2p node and the mesh engine under one owner, so the CLI's
// `vigil node`, the app and the phone glue run the same thing. The node is
// built first and the engine started on it (StartMesh); the daemon built
// the node, so it closes it, after the engine.
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

// Options for Start. The zero value listens on random ports with mDNS on.
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
	// Clock drives the background wake schedule. Default: the real
	// clock; tests pass a fake one.
	Clock Clock
	// Now is the node's wall clock (node.Config.Now): the time its hello
	// tells peers, mDNS name rotation and bans. Default time.Now; tests
	// set it to play a device whose clock is wrong.
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

// Daemon is a running node and engine over one store. Its methods are
// safe for concurrent use.
type Daemon struct {
	Store  *store.Store
	Engine *mesh.Engine

	o     Options
	log   *slog.Logger
	clock Clock
	wake  WakeSchedule
	kick  chan struct{} // dial the --peer addresses now, backoff forgotten

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// lcMu serialises the lifecycle calls (Pause, Resume, Background,
	// Close); the background goroutine never takes it.
	lcMu   sync.Mutex
	bgStop chan struct{} // non-nil while backgrounded
	bgDone chan struct{}

	// mu guards the networking state; pause and resume hold it while they
	// switch.
	mu       sync.Mutex
	paused   bool
	closed   bool
	lockHeld bool
}

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

// Start starts the node and the engine. The caller keeps owning st and
// must Close the daemon before closing st.
func Start(st *store.Store, o Options) (*Daemon, error) {
	if o.Phone && debug.SetMemoryLimit(-1) > PhoneMemoryLimit {
		// Go lets the heap grow to twice what is live; on a phone that
		// doubles Badger's compaction buffers. Measured in bench/: a
		// syncing phone store peaks at about 51 MiB with this limit,
		// 127 MiB without.
		debug.SetMemoryLimit(PhoneMemoryLimit)
	}
	key, err := TransportKey(st, o.RotateIdentity)
	if err != nil {
		return nil, fmt.Errorf("transport key: %w", err)
	}
	secret := st.Secret()
	if len(secret) == 0 {
		return nil, store.ErrNoMission
	}
	m, err := StartMesh(node.Config{
		Key: key, Secret: secret, Listen: o.Listen, MDNS: !o.NoMDNS,
		RelayService: o.RelayService, Phone: o.Phone, Logger: o.Logger, Now: o.Now,
	}, mesh.Config{Store: st, Interval: o.Interval, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	eng := m.Engine
	ctx, cancel := context.WithCancel(context.Background())
	d := &Daemon{Store: st, Engine: eng, o: o, log: o.Logger, clock: o.Clock, wake: o.Wake.orDefault(),
		kick: make(chan struct{}, 1), ctx: ctx, cancel: cancel}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.clock == nil {
		d.clock = realClock{}
	}
	if !o.NoMDNS && o.Multicast != nil {
		// Taken just after mDNS started: the first announcement goes out
		// regardless, and answers arrive once the lock is held.
		d.acquireLock()
	}
	var infos []peer.AddrInfo
	for _, a := range o.Peers {
		info, err := peer.AddrInfoFromP2pAddr(a)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("--peer %s: %w (want a full address ending in /p2p/<peer id>)", a, err)
		}
		infos = append(infos, *info)
	}
	if len(infos) > 0 {
		d.wg.Add(2)
		go d.keepConnected(infos)
		go d.watchAddrs()
	}
	return d, nil
}

// keepConnected dials the given peers and redials them with backoff while
// they are not connected. A kick (Resume, or this device's addresses
// changing: a network came back) forgets the backoff and dials at once.
// Nothing is dialled while paused.
func (d *Daemon) keepConnected(infos []peer.AddrInfo) {
	defer d.wg.Done()
	backoff := map[peer.ID]time.Duration{}
	next := map[peer.ID]time.Time{}
	n := d.Engine.Node()
	for {
		now := time.Now()
		for _, info := range infos {
			if n.Paused() || n.Admitted(info.ID) || now.Before(next[info.ID]) {
				continue
			}
			ctx, cancel := context.WithTimeout(d.ctx, 20*time.Second)
			err := n.Connect(ctx, info)
			cancel()
			switch {
			case errors.Is(err, node.ErrPaused):
			case err != nil:
				b := min(backoff[info.ID]*2+time.Second, 2*time.Minute)
				backoff[info.ID], next[info.ID] = b, time.Now().Add(b)
				d.log.Debug("--peer unreachable", "peer", info.ID, "retry in", b, "err", err)
			default:
				backoff[info.ID] = 0
			}
		}
		select {
		case <-d.ctx.Done():
			return
		case <-d.kick:
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
func (d *Daemon) kickPeers() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// watchAddrs kicks the --peer redial when this device gains an address
// (Wi-Fi joined, a hotspot came up): the network is likely back, and the
// peers should not wait out a backoff of up to two minutes. The first
// event is the addresses the node started with; after that, at most one
// kick in 10 s, as observed addresses may come and go.
func (d *Daemon) watchAddrs() {
	defer d.wg.Done()
	sub, err := d.Engine.Node().Host().EventBus().Subscribe(new(event.EvtLocalAddressesUpdated))
	if err != nil {
		d.log.Warn("cannot watch this device's addresses", "err", err)
		return
	}
	defer sub.Close()
	var last time.Time
	for first := true; ; first = false {
		select {
		case <-d.ctx.Done():
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
			if added && !first && time.Since(last) > 10*time.Second {
				last = time.Now()
				d.log.Debug("new local address: redialling the --peer addresses now")
				d.kickPeers()
			}
		}
	}
}

// Pause takes the daemon off the network until Resume: the engine stops
// its periodic work, mDNS and the LAN redial stop, every connection
// closes, new ones are refused both ways, the --peer addresses are not
// dialled, and the multicast lock is released. It ends Background.
// Records stored meanwhile go out after Resume. Pause after Close does
// nothing.
func (d *Daemon) Pause() {
	d.lcMu.Lock()
	defer d.lcMu.Unlock()
	d.stopBackground()
	d.pause()
}

// Resume puts the daemon back on the network now: the multicast lock is
// taken, mDNS restarts, the peers known before the pause, those found on
// the LAN and the --peer addresses are dialled at once with their backoff
// forgotten, and the engine reconciles with every admitted peer (and
// with each peer as it connects). It ends Background. Resume after Close
// does nothing.
func (d *Daemon) Resume() {
	d.lcMu.Lock()
	defer d.lcMu.Unlock()
	d.stopBackground()
	d.resume()
}

// Background pauses the daemon (see Pause) and, as long as the OS lets
// the process run, wakes it for a sync window on the Wake schedule:
// resumed for Wake.Window after Wake.First, then paused again, then
// twice the wait each time up to Wake.Max. Resume or Pause ends it. Go's
// timers (CLOCK_MONOTONIC on Linux) stand still while the device sleeps,
// so a sleeping phone wakes later than the schedule says, never sooner. Calling it while backgrounded
// does nothing.
func (d *Daemon) Background() {
	d.lcMu.Lock()
	defer d.lcMu.Unlock()
	if d.bgStop != nil || d.ctx.Err() != nil {
		return
	}
	d.pause()
	d.bgStop, d.bgDone = make(chan struct{}), make(chan struct{})
	d.wg.Add(1)
	go d.background(d.bgStop, d.bgDone)
}

// Paused reports whether the daemon is off the network (paused, or
// backgrounded outside a sync window).
func (d *Daemon) Paused() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.paused
}

// Backgrounded reports whether Background's schedule is running.
func (d *Daemon) Backgrounded() bool {
	d.lcMu.Lock()
	defer d.lcMu.Unlock()
	return d.bgStop != nil
}

// stopBackground ends the wake schedule and waits for its goroutine,
// leaving the network as it is. lcMu must be held.
func (d *Daemon) stopBackground() {
	if d.bgStop == nil {
		return
	}
	close(d.bgStop)
	<-d.bgDone
	d.bgStop, d.bgDone = nil, nil
}

func (d *Daemon) background(stop, done chan struct{}) {
	defer d.wg.Done()
	defer close(done)
	sleep := func(dur time.Duration) bool {
		select {
		case <-stop:
			return false
		case <-d.ctx.Done():
			return false
		case <-d.clock.After(dur):
			return true
		}
	}
	for i := 0; ; i++ {
		if !sleep(d.wake.Delay(i)) {
			return
		}
		d.log.Debug("background: waking to sync", "wake", i+1)
		d.resume()
		if !sleep(d.wake.Window) {
			return
		}
		d.pause()
	}
}

func (d *Daemon) pause() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.paused || d.closed {
		return
	}
	d.paused = true
	d.Engine.Pause()
	d.Engine.Node().Pause()
	d.releaseLock()
}

func (d *Daemon) resume() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.paused || d.closed {
		return
	}
	d.paused = false
	if !d.o.NoMDNS && d.o.Multicast != nil {
		d.acquireLock()
	}
	d.Engine.Node().Resume()
	d.kickPeers()
	d.Engine.Resume()
}

// acquireLock takes the multicast lock; mu must be held (or the daemon
// not yet shared). Failing to take it costs only LAN discovery.
func (d *Daemon) acquireLock() {
	if d.lockHeld {
		return
	}
	if err := d.o.Multicast.Acquire(); err != nil {
		d.log.Warn("no Wi-Fi multicast lock: phones on this Wi-Fi may not be found", "err", err)
		return
	}
	d.lockHeld = true
}

func (d *Daemon) releaseLock() {
	if d.lockHeld {
		d.o.Multicast.Release()
		d.lockHeld = false
	}
}

// Close stops the engine and the node and waits for them. The daemon's
// other methods do nothing afterwards.
func (d *Daemon) Close() error {
	d.lcMu.Lock()
	defer d.lcMu.Unlock()
	d.stopBackground()
	d.cancel()
	d.wg.Wait()
	d.mu.Lock()
	d.closed = true
	d.releaseLock()
	d.mu.Unlock()
	return errors.Join(d.Engine.Close(), d.Engine.Node().Close())
}

// Mesh is a node and the mesh engine running on it: the one way Vigil
// wires them (StartMesh). Start builds one; the mesh simulation and
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
