package app

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/internal/testkit"
	"github.com/vigil-mesh/vigil/sync/daemon"
)

// Two real mesh nodes on loopback, started by the backend as the app
// starts them: a report sent by the observer reaches the coordinator, and
// the observer sees who is connected and the delivery status change.
func TestBackendMeshOnLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("starts libp2p hosts")
	}
	coordHome, code := missionHomes(t)
	obsHome := joinedObserver(t, code)
	loopback := daemon.Options{NoMDNS: true, Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}, Interval: time.Second}
	for _, h := range []*Home{coordHome, obsHome} {
		h.NoNetwork, h.Daemon = false, loopback
	}
	// The coordinator's laptop clock runs 40 minutes fast: its hello says
	// so, and the observer's peers list shows it.
	coordHome.Daemon.Now = func() time.Time { return time.Now().Add(40 * time.Minute) }
	cb, err := coordHome.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	ob, err := obsHome.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	cn, on := cb.Network(), ob.Network()
	if cn == nil || on == nil {
		t.Fatal("the backend did not start the mesh for a device with a mission")
	}
	if len(cn.Addresses()) == 0 || !strings.Contains(cn.Addresses()[0], "/p2p/") {
		t.Fatalf("addresses %v", cn.Addresses())
	}
	if err := on.Connect("not an address"); err == nil {
		t.Fatal("a bad address connected")
	}
	if err := on.Connect(cn.Addresses()[0]); err != nil {
		t.Fatal(err)
	}
	waitLong(t, "both sides admitted", func() bool { return len(on.Peers()) == 1 && len(cn.Peers()) == 1 })
	p := on.Peers()[0]
	if p.Label != "HQ" || p.Role != incident.RoleCoordinator || Transport(p.Addrs) != "tcp" {
		t.Fatalf("the observer sees %+v", p)
	}
	if d := p.ClockSkew - 40*time.Minute; d < -time.Minute || d > time.Minute {
		t.Errorf("the observer sees the coordinator's clock skew as %v, want about +40m", p.ClockSkew)
	}
	if s := cn.Peers()[0].ClockSkew; s > -39*time.Minute || s < -41*time.Minute {
		t.Errorf("the coordinator sees the observer's clock skew as %v, want about -40m", s)
	}
	id, err := ob.Submit(incident.ReportPayload{Category: "polling.intimidation", Severity: 3, Title: "Youths blocking the gate",
		Occurred: time.Now().UnixMilli()}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	waitLong(t, "the report at the coordinator", func() bool { _, err := cb.Report(id); return err == nil })
	on.SyncNow()
	waitLong(t, "delivery confirmed", func() bool {
		mine, _ := ob.MyReports()
		return len(mine) == 1 && DeliveryKey(mine[0].Delivery) != "local"
	})
	waitLong(t, "a finished sync", func() bool { return !on.LastSync().IsZero() })
	if b, _ := ob.Setting("last_sync"); len(b) == 0 {
		t.Fatal("the last sync time is not kept")
	}
}

func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, what, cond)
}

// The peers screen lists who is connected and over what, warns about a
// peer's clock, and syncs on demand.
func TestPeersScreen(t *testing.T) {
	a := test.NewTempApp(t)
	_, code := missionHomes(t)
	h := joinedObserver(t, code)
	ui := newTestUI(t, a, h, true, testPass)
	ui.selectTab(T("tab.sync"))
	ui.wait()
	if !strings.Contains(allText(ui), T("peers.off_started")) {
		t.Fatalf("no networking note:\n%s", allText(ui))
	}
	fn := &fakeNetwork{
		addrs: []string{"/ip4/127.0.0.1/tcp/1/p2p/12D3KooWX", "/ip4/10.1.2.3/tcp/4001/p2p/12D3KooWX"},
		last:  time.Now().Add(-2 * time.Minute),
		peers: []Peer{
			{ID: "12D3KooWAAAAAAAAAAAAAAAAAAAA", Label: "HQ", Role: incident.RoleCoordinator, Addrs: []string{"/ip4/10.1.2.4/tcp/4001"}},
			{ID: "12D3KooWBBBBBBBBBBBBBBBBBBBB", Label: "Carrier 7", Role: incident.RoleCarrier,
				Addrs: []string{"/ip4/1.2.3.4/tcp/1/p2p/R/p2p-circuit"}, ClockSkew: 40 * time.Minute},
		},
	}
	ui.be = &netBackend{Backend: ui.be, net: fn}
	ui.refreshAll()
	ui.wait()
	screen := allText(ui)
	for _, want := range []string{"HQ", "Carrier 7", T("transport.relay"), T("transport.tcp"), TN("peers.connected", 2),
		"about 40 min", "/ip4/10.1.2.3/tcp/4001/p2p/12D3KooWX"} {
		if !strings.Contains(screen, want) {
			t.Errorf("peers screen lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "/ip4/127.0.0.1") {
		t.Error("the QR text offers a loopback address")
	}
	tap(t, ui, T("peers.sync_now"))
	if fn.syncs != 1 || !strings.Contains(toastText(ui), TN("peers.syncing", 2)) {
		t.Fatalf("sync now: %d syncs, confirmation %q", fn.syncs, toastText(ui))
	}
}
