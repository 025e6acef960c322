package app

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/test"

	"github.com/vigil-mesh/vigil/app/internal/scene"
	"github.com/vigil-mesh/vigil/incident"
)

// TestScreenshots writes phone-sized screenshots of every main screen to
// the folder named by VIGIL_SCREENSHOTS (docs/screenshots in the repo),
// rendered by Fyne's software painter from the real widgets over the
// practice mission. Desktop screenshots come from a real window under
// Xvfb: see app/internal/shots.
//
//	VIGIL_SCREENSHOTS=$PWD/docs/screenshots go test -run Screenshots ./app
func TestScreenshots(t *testing.T) {
	out := os.Getenv("VIGIL_SCREENSHOTS")
	if out == "" {
		t.Skip("set VIGIL_SCREENSHOTS to a folder to write screenshots")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	homes, err := scene.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	opts := func() Options {
		return Options{Phone: true, RefreshEvery: -1, Now: func() time.Time { return scene.Now }, inline: true}
	}
	home := func(dir string) *Home { return &Home{Dir: dir, Store: scene.StoreOptions(), NoNetwork: true} }
	open := func(dir string) *UI {
		ui := New(a, &fakeNetHome{home(dir)}, opts())
		ui.win.Resize(fyne.NewSize(400, 820))
		ui.unlock([]byte(scene.Passphrase))
		ui.wait()
		t.Cleanup(ui.Close)
		return ui
	}
	shot := func(ui *UI, name string) {
		t.Helper()
		saveShot(t, ui, filepath.Join(out, "phone-"+name+".png"))
	}

	// Observer.
	ob := open(homes.Observer)
	shot(ob, "observer-home")
	tap(t, ob, T("home.new_report"))
	shot(ob, "report-1-category")
	tap(t, ob, FamilyLabel("disinformation"))
	shot(ob, "report-2-disinformation")
	tap(t, ob, CategoryLabelOf("disinformation.voter_suppression"))
	tap(t, ob, SeverityLabel(3))
	test.Type(ob.form.desc, "Voice note on WhatsApp telling people in Ward 4 the polls close at noon.")
	shot(ob, "report-3-details")
	scrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == T("form.station") })
	shot(ob, "report-4-disinformation-fields")
	scrollTo(ob, func(o fyne.CanvasObject) bool { return textOf(o) == T("form.attachments") })
	shot(ob, "report-5-save")
	ob.form.close()
	tap(t, ob, T("home.alert"))
	shot(ob, "observer-alert-confirm")
	dismissAll(ob)
	ob.selectTab(T("tab.sync"))
	ob.wait()
	shot(ob, "peers-sync")
	ob.selectTab(T("tab.settings"))
	ob.wait()
	shot(ob, "settings-wipe")
	ob.selectTab(T("tab.home"))
	ob.wait()
	mine, _ := ob.be.MyReports()
	ob.showReport(mine[0].View.ID, &mine[0])
	shot(ob, "observer-report-detail")
	ob.popAll()
	ob.Close()

	// Coordinator.
	co := open(homes.Coordinator)
	shot(co, "dashboard")
	scrollTo(co, func(o fyne.CanvasObject) bool { return textOf(o) == "🔇 "+T("dash.silent_title") })
	shot(co, "dashboard-silent")
	scrollTo(co, func(o fyne.CanvasObject) bool { return textOf(o) == T("dash.by_family") })
	shot(co, "dashboard-counts")
	scrollTo(co, func(o fyne.CanvasObject) bool { return textOf(o) == T("dash.timeline") })
	shot(co, "dashboard-timeline-map")
	co.selectTab(T("tab.reports"))
	co.wait()
	shot(co, "reports-table")
	var conflicted incident.ID
	for _, v := range co.table.all {
		if v.Conflict {
			conflicted = v.ID
		}
	}
	co.showReport(conflicted, nil)
	shot(co, "report-detail-review")
	scrollTo(co, func(o fyne.CanvasObject) bool { return textOf(o) == T("report.history") })
	shot(co, "report-detail-history")
	co.popAll()
	co.selectTab(T("tab.members"))
	co.wait()
	shot(co, "members-invites")
	test.Type(entry(t, co, T("invite.label")), "Heron")
	tap(t, co, T("invite.create"))
	shot(co, "invite-qr")
	dismissAll(co)
	co.selectTab(T("tab.dashboard"))
	co.wait()
	co.showExport()
	shot(co, "export")
	dismissAll(co)
	co.Close()

	// Onboarding.
	fresh := New(a, &Home{Dir: filepath.Join(t.TempDir(), "new"), Store: scene.StoreOptions(), NoNetwork: true}, opts())
	fresh.win.Resize(fyne.NewSize(400, 820))
	t.Cleanup(fresh.Close)
	saveShot(t, fresh, filepath.Join(out, "phone-welcome.png"))
	test.Type(entry(t, fresh, T("welcome.passphrase")), "a long passphrase")
	test.Type(entry(t, fresh, T("welcome.again")), "a long passphrase")
	tap(t, fresh, T("welcome.create"))
	saveShot(t, fresh, filepath.Join(out, "phone-join.png"))
	locked := New(a, home(homes.Observer), opts())
	locked.win.Resize(fyne.NewSize(400, 820))
	t.Cleanup(locked.Close)
	saveShot(t, locked, filepath.Join(out, "phone-unlock.png"))
	test.Type(entry(t, locked, T("unlock.passphrase")), "wrong guess")
	tap(t, locked, T("unlock.button"))
	saveShot(t, locked, filepath.Join(out, "phone-unlock-wrong.png"))

	// The observer's home in French, Portuguese and Swahili.
	for _, l := range []string{"fr", "pt", "sw"} {
		SetLanguage(l)
		ui := open(homes.Observer)
		saveShot(t, ui, filepath.Join(out, "phone-observer-home-"+l+".png"))
		ui.Close()
	}
	SetLanguage("en")

	// Last, as it adds a check-in: an action's confirmation.
	ob = open(homes.Observer)
	tap(t, ob, CheckinLabel("all_quiet"))
	shot(ob, "observer-checkin-confirmation")
	ob.Close()
}

// scrollTo scrolls the first scroller on screen so that the first object
// for which match holds is near the top.
func scrollTo(ui *UI, match func(fyne.CanvasObject) bool) {
	var sc *container.Scroll
	walk(ui.win.Canvas().Content(), func(o fyne.CanvasObject) {
		if s, ok := o.(*container.Scroll); ok && sc == nil {
			sc = s
		}
	})
	if sc == nil {
		return
	}
	var y float32 = -1
	var visit func(o fyne.CanvasObject, off float32)
	visit = func(o fyne.CanvasObject, off float32) {
		if y >= 0 || !o.Visible() {
			return
		}
		off += o.Position().Y
		if match(o) {
			y = off
			return
		}
		switch c := o.(type) {
		case *fyne.Container:
			for _, ch := range c.Objects {
				visit(ch, off)
			}
		case fyne.Widget:
			for _, ch := range test.WidgetRenderer(c).Objects() {
				visit(ch, off)
			}
		}
	}
	visit(sc.Content, -sc.Content.Position().Y)
	if y >= 0 {
		sc.ScrollToOffset(fyne.NewPos(0, y-8))
	}
}

// saveShot renders the window (content and dialogs) with the software
// painter at twice the logical size, as a phone's screen would.
func saveShot(t *testing.T, ui *UI, path string) { t.Helper(); saveShotAt(t, ui, path, 2) }

// saveShotAt renders the window at the given scale.
func saveShotAt(t *testing.T, ui *UI, path string, scale float32) {
	t.Helper()
	ui.wait()
	wc := ui.win.Canvas()
	size := wc.Size()
	content := wc.Content()
	overlays := wc.Overlays().List()
	c := software.NewCanvas()
	c.SetPadded(false)
	c.SetScale(scale)
	c.SetContent(content)
	c.Resize(size)
	for _, o := range overlays {
		c.Overlays().Add(o)
	}
	img := c.Capture()
	ui.win.SetContent(content)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// fakeNetHome gives the screenshots a mesh with a few peers (the real
// one needs a network).
type fakeNetHome struct{ *Home }

func (h *fakeNetHome) Unlock(p []byte) (Backend, error) {
	b, err := h.Home.Unlock(p)
	if err != nil {
		return nil, err
	}
	return &netBackend{Backend: b, net: demoNetwork(b)}, nil
}

type netBackend struct {
	Backend
	net Network
}

func (b *netBackend) Network() Network { return b.net }

type fakeNetwork struct {
	peers []Peer
	addrs []string
	last  time.Time
	syncs int
}

func (n *fakeNetwork) Peers() []Peer        { return n.peers }
func (n *fakeNetwork) SyncNow()             { n.syncs++ }
func (n *fakeNetwork) Addresses() []string  { return n.addrs }
func (n *fakeNetwork) Connect(string) error { return nil }
func (n *fakeNetwork) LastSync() time.Time  { return n.last }

func demoNetwork(b Backend) *fakeNetwork {
	n := &fakeNetwork{
		addrs: []string{"/ip4/192.168.43.17/tcp/41231/p2p/12D3KooWQm7r6sDemoPeerId9xk2LzP1uVvF3eR8tYb4nHcA",
			"/ip4/192.168.43.17/udp/41231/quic-v1/p2p/12D3KooWQm7r6sDemoPeerId9xk2LzP1uVvF3eR8tYb4nHcA"},
		last: scene.Now.Add(-3 * time.Minute),
	}
	ms, _ := b.Members()
	var coord, carrier, obs *MemberItem
	for i := range ms {
		m := &ms[i]
		switch {
		case m.Role == incident.RoleCoordinator && !m.Self && coord == nil:
			coord = m
		case m.Role == incident.RoleCarrier && carrier == nil:
			carrier = m
		case m.Role == incident.RoleObserver && !m.Self && obs == nil:
			obs = m
		}
	}
	add := func(m *MemberItem, addr string, last time.Duration, skew time.Duration) {
		if m == nil {
			return
		}
		n.peers = append(n.peers, Peer{ID: "12D3KooW" + m.Author.Short(), Author: m.Author, Label: m.Label, Role: m.Role,
			Addrs: []string{addr}, LastSync: scene.Now.Add(-last), ClockSkew: skew})
	}
	add(carrier, "/ip4/192.168.43.1/tcp/4001", 3*time.Minute, 0)
	add(obs, "/ip4/192.168.43.22/udp/4001/quic-v1", 8*time.Minute, 47*time.Minute)
	add(coord, "/ip4/203.0.113.9/tcp/4001/p2p/12D3KooWRelay/p2p-circuit", 26*time.Minute, 0)
	return n
}
