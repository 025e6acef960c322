package daemon_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
	"github.com/vigil-mesh/vigil/internal/testkit"
	"github.com/vigil-mesh/vigil/node"
	"github.com/vigil-mesh/vigil/sync/daemon"
)

var cheapKDF = vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

// mission returns a coordinator's store and an observer's, of one mission.
func mission(t *testing.T) (desk, field *store.Store) {
	t.Helper()
	var sts []*store.Store
	for range 2 {
		st, err := store.Init(t.TempDir(), []byte("pw"), store.Options{KDF: &cheapKDF})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		sts = append(sts, st)
	}
	if _, err := sts[0].CreateMission("Test mission", "desk", false); err != nil {
		t.Fatal(err)
	}
	code, err := sts[0].Invite(store.InviteRequest{Role: incident.RoleObserver, Label: "field"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sts[1].Join(code); err != nil {
		t.Fatal(err)
	}
	return sts[0], sts[1]
}

func start(t *testing.T, st *store.Store, o daemon.Options) *daemon.Daemon {
	t.Helper()
	if o.Listen == nil {
		o.Listen = []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}
	}
	if o.Interval == 0 {
		o.Interval = time.Hour // reconciliation on connect only
	}
	d, err := daemon.Start(st, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func report(t *testing.T, st *store.Store, title string) incident.ID {
	t.Helper()
	r, err := st.Put(incident.KindReport, incident.ReportPayload{Category: "polling.late_opening", Severity: 2,
		Occurred: time.Now().UnixMilli(), Title: title, Station: "PS-0001"})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func has(st *store.Store, id incident.ID) bool {
	r, _ := st.Get(id)
	return r != nil
}

func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, d, what, cond)
}

// redials counts the --peer redials that failed, by the wait they set
// before the next one (the daemon logs each: "--peer unreachable").
type redials struct {
	mu    sync.Mutex
	after map[time.Duration]int
}

func newRedials() *redials { return &redials{after: map[time.Duration]int{}} }

func (r *redials) Enabled(context.Context, slog.Level) bool { return true }
func (r *redials) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *redials) WithGroup(string) slog.Handler            { return r }

func (r *redials) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "--peer unreachable" {
		return nil
	}
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key != "retry in" {
			return true
		}
		r.mu.Lock()
		r.after[a.Value.Duration()]++
		r.mu.Unlock()
		return false
	})
	return nil
}

// count is how many failed redials set a wait of d.
func (r *redials) count(d time.Duration) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.after[d]
}

func linked(a, b *daemon.Daemon) bool {
	na, nb := a.Engine.Node(), b.Engine.Node()
	return na.Admitted(nb.ID()) && nb.Admitted(na.ID())
}

func gone(a, b *daemon.Daemon) bool {
	na, nb := a.Engine.Node(), b.Engine.Node()
	return na.Host().Network().Connectedness(nb.ID()) != network.Connected && !na.Admitted(nb.ID())
}

// A paused daemon is off the network: its peer sees the connection go
// and cannot reconnect, and the paused side does not redial its --peer.
// After Resume they reconnect at once and what each wrote meanwhile
// arrives on the other side.
func TestPauseResume(t *testing.T) {
	deskSt, fieldSt := mission(t)
	desk := start(t, deskSt, daemon.Options{NoMDNS: true})
	field := start(t, fieldSt, daemon.Options{NoMDNS: true, Peers: desk.Engine.Node().Addrs()})
	eventually(t, 10*time.Second, "the --peer never connected", func() bool { return linked(desk, field) })

	field.Pause()
	if !field.Paused() {
		t.Fatal("not paused")
	}
	eventually(t, 5*time.Second, "the desk still sees the paused phone", func() bool { return gone(desk, field) })
	// Neither way gets through, and nothing needs waiting for: the paused
	// phone's gater refuses a connection at accept, and its own dials
	// (its --peer loop's too) before they start, both synchronously.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := desk.Engine.Node().Connect(ctx, peer.AddrInfo{ID: field.Engine.Node().ID(), Addrs: field.Engine.Node().Host().Addrs()}); err == nil {
		t.Fatal("the paused phone accepted a connection")
	}
	if err := field.Engine.Node().Connect(ctx, peer.AddrInfo{ID: desk.Engine.Node().ID(), Addrs: desk.Engine.Node().Host().Addrs()}); !errors.Is(err, node.ErrPaused) {
		t.Fatalf("the paused phone dialled its --peer: %v, want ErrPaused", err)
	}
	fromField := report(t, fieldSt, "written while paused")
	fromDesk := report(t, deskSt, "written while the phone was away")
	if !gone(desk, field) || !gone(field, desk) {
		t.Fatal("reconnected while paused")
	}
	if has(deskSt, fromField) || has(fieldSt, fromDesk) {
		t.Fatal("a record crossed while paused")
	}

	field.Resume()
	if field.Paused() {
		t.Fatal("still paused")
	}
	eventually(t, 10*time.Second, "no reconnection after Resume", func() bool { return linked(desk, field) })
	eventually(t, 20*time.Second, "the records written while paused did not cross", func() bool {
		return has(deskSt, fromField) && has(fieldSt, fromDesk)
	})
}

// fakeClock hands out timers the test fires by hand.
type fakeClock struct {
	mu      sync.Mutex
	pending []fakeTimer
}

type fakeTimer struct {
	d  time.Duration
	ch chan time.Time
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.pending = append(c.pending, fakeTimer{d, ch})
	return ch
}

// next waits for the one pending timer and returns its duration.
func (c *fakeClock) next(t *testing.T) time.Duration {
	t.Helper()
	var d time.Duration
	eventually(t, 5*time.Second, "the background schedule set no timer", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.pending) > 1 {
			t.Fatalf("%d timers pending", len(c.pending))
		}
		if len(c.pending) == 1 {
			d = c.pending[0].d
		}
		return len(c.pending) == 1
	})
	return d
}

// fire lets the pending timer expire.
func (c *fakeClock) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending[0].ch <- time.Now()
	c.pending = c.pending[1:]
}

// A backgrounded daemon wakes for a sync window after 1, 2, 4, 4 …
// (schedule minutes), syncs what was written, and pauses again; Resume
// ends the schedule.
func TestBackgroundWakesOnSchedule(t *testing.T) {
	deskSt, fieldSt := mission(t)
	clock := &fakeClock{}
	wake := daemon.WakeSchedule{First: time.Minute, Max: 4 * time.Minute, Window: 30 * time.Second}
	desk := start(t, deskSt, daemon.Options{NoMDNS: true})
	field := start(t, fieldSt, daemon.Options{NoMDNS: true, Peers: desk.Engine.Node().Addrs(), Clock: clock, Wake: wake})
	eventually(t, 10*time.Second, "the --peer never connected", func() bool { return linked(desk, field) })

	field.Background()
	field.Background() // twice: one schedule
	if !field.Paused() || !field.Backgrounded() {
		t.Fatal("not paused in the background")
	}
	eventually(t, 5*time.Second, "the desk still sees the backgrounded phone", func() bool { return gone(desk, field) })
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
		if got := clock.next(t); got != want {
			t.Fatalf("wake %d after %v, want %v", i+1, got, want)
		}
		id := report(t, fieldSt, "written in the background")
		clock.fire()
		eventually(t, 10*time.Second, "no reconnection in the wake window", func() bool { return linked(desk, field) })
		eventually(t, 20*time.Second, "the record did not cross in the wake window", func() bool { return has(deskSt, id) })
		if field.Paused() {
			t.Fatal("paused during the wake window")
		}
		if got := clock.next(t); got != wake.Window {
			t.Fatalf("window %v, want %v", got, wake.Window)
		}
		clock.fire()
		eventually(t, 5*time.Second, "still connected after the wake window", func() bool { return gone(desk, field) })
		if !field.Paused() {
			t.Fatal("not paused after the wake window")
		}
	}
	field.Resume()
	if field.Paused() || field.Backgrounded() {
		t.Fatal("Resume did not end the background schedule")
	}
	eventually(t, 10*time.Second, "no reconnection after Resume", func() bool { return linked(desk, field) })
}

func TestWakeScheduleDelays(t *testing.T) {
	var got []time.Duration
	for i := range 8 {
		got = append(got, daemon.WakeSchedule{}.Delay(i)/time.Minute)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("default delays (minutes) %v, want %v", got, want)
		}
	}
	if d := (daemon.WakeSchedule{First: time.Second, Max: 1 << 62}).Delay(200); d != 1<<62 {
		t.Fatalf("a long stay overflowed: %v", d)
	}
	if d := (daemon.WakeSchedule{First: -1}).Delay(0); d < 100*365*24*time.Hour {
		t.Fatalf("a negative First wakes after %v", d)
	}
}

// countingLock counts the multicast lock's transitions.
type countingLock struct {
	mu                 sync.Mutex
	held               bool
	acquires, releases int
}

func (l *countingLock) Acquire() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = true
	l.acquires++
	return nil
}

func (l *countingLock) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held = false
	l.releases++
}

func (l *countingLock) state() (bool, int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held, l.acquires, l.releases
}

// The multicast lock is held exactly while mDNS may run.
func TestMulticastLockFollowsNetworking(t *testing.T) {
	_, fieldSt := mission(t)
	lock := &countingLock{}
	d := start(t, fieldSt, daemon.Options{Multicast: lock})
	check := func(when string, held bool, acq, rel int) {
		t.Helper()
		if h, a, r := lock.state(); h != held || a != acq || r != rel {
			t.Fatalf("%s: held %v, %d acquires, %d releases; want %v, %d, %d", when, h, a, r, held, acq, rel)
		}
	}
	check("started", true, 1, 0)
	d.Pause()
	d.Pause()
	check("paused", false, 1, 1)
	d.Resume()
	d.Resume()
	check("resumed", true, 2, 1)
	d.Background()
	check("backgrounded", false, 2, 2)
	d.Close()
	check("closed", false, 2, 2)
	d.Resume()
	check("resumed after close", false, 2, 2)

	// Without mDNS there is nothing to hold it for.
	_, other := mission(t)
	lock2 := &countingLock{}
	d2 := start(t, other, daemon.Options{NoMDNS: true, Multicast: lock2})
	d2.Pause()
	d2.Resume()
	if _, a, _ := lock2.state(); a != 0 {
		t.Fatalf("lock taken %d times with mDNS off", a)
	}
}

// The --peer redial backs off while the peer is down (1, 3, 7 … s, at
// most 2 min), but a network coming back (this device gains an address)
// or Resume dials at once, backoff forgotten.
func TestPeerBackoffResetWhenNetworkReturns(t *testing.T) {
	deskSt, fieldSt := mission(t)
	desk := start(t, deskSt, daemon.Options{NoMDNS: true})
	addrs := desk.Engine.Node().Host().Addrs() // the port, kept across restarts
	red := newRedials()
	field := start(t, fieldSt, daemon.Options{NoMDNS: true, Peers: desk.Engine.Node().Addrs(), Logger: slog.New(red)})
	eventually(t, 10*time.Second, "the --peer never connected", func() bool { return linked(desk, field) })

	// down keeps the desk gone until the phone's redial has failed three
	// times (at once, after 1 s, after 3 more), so the next one is 7 s
	// away, then brings it back on the same address and key.
	down := func(meanwhile func()) *daemon.Daemon {
		t.Helper()
		before := red.count(7 * time.Second)
		desk.Close()
		eventually(t, 5*time.Second, "the phone still sees the desk", func() bool { return gone(field, desk) })
		eventually(t, 15*time.Second, "the phone's redial did not back off to 7 s", func() bool { return red.count(7*time.Second) > before })
		meanwhile()
		return start(t, deskSt, daemon.Options{NoMDNS: true, Listen: addrs})
	}

	desk = down(func() {})
	em, err := field.Engine.Node().Host().EventBus().Emitter(new(event.EvtLocalAddressesUpdated))
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	if err := em.Emit(event.EvtLocalAddressesUpdated{Diffs: true, Current: []event.UpdatedAddress{
		{Address: ma.StringCast("/ip4/10.1.2.3/tcp/4001"), Action: event.Added}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, "a new address did not bring the --peer back at once", func() bool { return linked(desk, field) })

	desk = down(field.Pause)
	field.Resume()
	eventually(t, 3*time.Second, "Resume did not dial the --peer at once", func() bool { return linked(desk, field) })
}
