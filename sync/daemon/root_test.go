package daemon_test

import (
	"context"
	"errors"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/daemon"
)

var loopback = []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}

// open closes st and opens its home again through a root, which then owns
// the store; the root is closed at the end of the test.
func open(t *testing.T, st *store.Store, o daemon.Options) *daemon.Root {
	t.Helper()
	home := st.Home()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if o.Listen == nil {
		o.Listen = loopback
	}
	if o.Interval == 0 {
		o.Interval = time.Hour
	}
	r, err := daemon.Open(home, []byte("pw"), store.Options{KDF: &cheapKDF}, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Two roots opened from their homes start their networks side by side
// (node, then the engine on it), meet through --peer and sync; Close stops
// the network and closes the store the root opened, and Wait returns.
func TestRootOpensStartsAndCloses(t *testing.T) {
	deskSt, fieldSt := mission(t)
	desk := open(t, deskSt, daemon.Options{NoMDNS: true})
	if desk.Daemon() != nil {
		t.Fatal("a network runs before Start")
	}
	if err := desk.Start(); err != nil {
		t.Fatal(err)
	}
	d := desk.Daemon()
	if d == nil || d.Node == nil || d.Engine == nil || d.Store != desk.Store() || d.Engine.Node() != d.Node {
		t.Fatalf("the running daemon is not wired: %+v", d)
	}
	if err := desk.Start(); err != nil || desk.Daemon() != d {
		t.Fatalf("a second Start: %v, daemon changed %v", err, desk.Daemon() != d)
	}
	field := open(t, fieldSt, daemon.Options{NoMDNS: true, Peers: d.Node.Addrs()})
	if err := field.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the --peer never connected", func() bool { return linked(desk.Daemon(), field.Daemon()) })
	id := report(t, field.Store(), "from the field")
	eventually(t, 20*time.Second, "the report did not cross", func() bool { return has(desk.Store(), id) })

	waited := make(chan error, 1)
	go func() { waited <- field.Wait() }()
	if err := field.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("Wait after Close: %v", err)
	}
	if _, err := field.Store().Meta("transport"); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("the store the root opened is still open: %v", err)
	}
	eventually(t, 5*time.Second, "the desk still sees the closed root", func() bool { return gone(desk.Daemon(), field.Daemon()) })
	if err := field.Start(); !errors.Is(err, daemon.ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
	if err := field.Go(func(context.Context) error { return nil }); !errors.Is(err, daemon.ErrClosed) {
		t.Fatalf("Go after Close: %v", err)
	}
	if err := field.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}

// A root over a store that joined no mission starts nothing and says so;
// the lifecycle calls do nothing. Once the device has a mission, Start
// puts it on the network.
func TestRootWaitsForAMission(t *testing.T) {
	st, err := store.Init(t.TempDir(), []byte("pw"), store.Options{KDF: &cheapKDF})
	if err != nil {
		t.Fatal(err)
	}
	r := open(t, st, daemon.Options{NoMDNS: true})
	if err := r.Start(); !errors.Is(err, store.ErrNoMission) {
		t.Fatalf("Start without a mission: %v", err)
	}
	r.Pause()
	r.Background()
	r.Resume()
	if r.Daemon() != nil || r.Paused() || r.Backgrounded() {
		t.Fatal("the lifecycle acted without a network")
	}
	if _, err := r.Store().CreateMission("Test mission", "desk", false); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	if r.Daemon() == nil || len(r.Daemon().Node.Addrs()) == 0 {
		t.Fatal("no network after the mission was made")
	}
}

// A task run under the root that fails stops the root: Wait returns its
// error, the network and the store are closed, and the root's other tasks
// were cancelled and waited for. A task that returns because Close
// cancelled it is no failure.
func TestRootStopsOnATaskFailure(t *testing.T) {
	_, fieldSt := mission(t)
	r := open(t, fieldSt, daemon.Options{NoMDNS: true})
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	if err := r.Go(func(ctx context.Context) error {
		<-ctx.Done()
		close(stopped)
		return ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("the control socket is gone")
	release := make(chan struct{})
	if err := r.Go(func(context.Context) error { <-release; return boom }); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := r.Wait(); !errors.Is(err, boom) {
		t.Fatalf("Wait: %v, want the task's error", err)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("Wait returned before the root's other task ended")
	}
	if _, err := r.Store().Meta("transport"); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("the store is still open after the failure: %v", err)
	}
	if err := r.Start(); !errors.Is(err, daemon.ErrClosed) {
		t.Fatalf("Start after the failure: %v", err)
	}

	// A clean Close: the task cancelled by it does not count as failing.
	_, otherSt := mission(t)
	r2 := open(t, otherSt, daemon.Options{NoMDNS: true})
	if err := r2.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }); err != nil {
		t.Fatal(err)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r2.Wait(); err != nil {
		t.Fatalf("Wait after a clean Close: %v", err)
	}
}

// Options.Now is the clock of the whole network, the engine's included: a
// device whose clock runs an hour ahead records its syncs an hour ahead,
// as its node tells the time in hello.
func TestRootClockReachesTheEngine(t *testing.T) {
	deskSt, fieldSt := mission(t)
	desk := open(t, deskSt, daemon.Options{NoMDNS: true})
	if err := desk.Start(); err != nil {
		t.Fatal(err)
	}
	ahead := func() time.Time { return time.Now().Add(time.Hour) }
	field := open(t, fieldSt, daemon.Options{NoMDNS: true, Now: ahead, Peers: desk.Daemon().Node.Addrs()})
	if err := field.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the --peer never connected", func() bool { return linked(desk.Daemon(), field.Daemon()) })
	id := report(t, field.Store(), "from the field")
	eventually(t, 20*time.Second, "the report did not cross", func() bool { return has(desk.Store(), id) })
	var last time.Time
	eventually(t, 10*time.Second, "the field engine recorded no sync", func() bool {
		for _, p := range field.Daemon().Engine.Peers() {
			last = p.LastSync
		}
		return !last.IsZero()
	})
	if skew := time.Until(last); skew < 30*time.Minute {
		t.Fatalf("the field engine recorded its sync %v ahead of the real clock, want its own clock's hour", skew)
	}
}
