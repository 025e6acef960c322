// Command shots takes the desktop screenshots in docs/screenshots: it
// builds the practice scene (app/internal/scene), opens the real app on
// it with Fyne's desktop driver, walks the screens by tapping buttons as
// a user would, and captures the X display with ImageMagick's import.
// Run it under Xvfb:
//
//	Xvfb :99 -screen 0 1280x800x24 -nolisten tcp &
//	DISPLAY=:99 FYNE_THEME=light go run ./app/internal/shots -role coordinator -out docs/screenshots
//	DISPLAY=:99 FYNE_THEME=light go run ./app/internal/shots -role observer -out docs/screenshots
//	DISPLAY=:99 FYNE_THEME=light go run ./app/internal/shots -basemap -out docs/screenshots
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/app"
	"github.com/vigil-mesh/vigil/app/internal/scene"
	"github.com/vigil-mesh/vigil/sync/daemon"
)

func main() {
	out := flag.String("out", "docs/screenshots", "folder for the PNG files")
	role := flag.String("role", "coordinator", "coordinator or observer")
	basemap := flag.Bool("basemap", false, "load the synthetic basemap (scene.LoadBasemap) and take the coordinator's dashboard map over it only")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "vigil-shots-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	homes, err := scene.Build(dir)
	if err != nil {
		log.Fatal(err)
	}
	home := homes.Coordinator
	if *basemap {
		if err := scene.LoadBasemap(home); err != nil {
			log.Fatal(err)
		}
	}
	if *role == "observer" {
		home = homes.Observer
	}
	a := fyneapp.NewWithID("org.vigilmesh.vigil.shots")
	// A real mesh node, with no peer in reach: the sync screen shows this
	// machine's addresses and QR code.
	net := daemon.Options{NoMDNS: true, Listen: []ma.Multiaddr{ma.StringCast("/ip4/0.0.0.0/tcp/0"), ma.StringCast("/ip4/0.0.0.0/udp/0/quic-v1")}}
	ui := app.New(a, &app.Home{Dir: home, Store: scene.StoreOptions(), Daemon: net},
		app.Options{Now: func() time.Time { return scene.Now }, Passphrase: []byte(scene.Passphrase), RefreshEvery: -1})
	w := ui.Window()
	w.Resize(fyne.NewSize(1280, 800))
	d := &driver{w: w, out: *out}
	go func() {
		time.Sleep(4 * time.Second)
		switch {
		case *basemap:
			d.basemap()
		case *role == "observer":
			d.observer()
		default:
			d.coordinator()
		}
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	ui.Close()
	if d.failed {
		os.Exit(1)
	}
}

type driver struct {
	w      fyne.Window
	out    string
	failed bool
}

// shot waits for the screen to settle and captures the display.
func (d *driver) shot(name string) {
	time.Sleep(1500 * time.Millisecond)
	path := filepath.Join(d.out, "desktop-"+name+".png")
	if b, err := exec.Command("import", "-window", "root", path).CombinedOutput(); err != nil {
		log.Printf("import %s: %v %s", path, err, b)
		d.failed = true
		return
	}
	fmt.Println(path)
}

// do runs fn on the Fyne goroutine.
func (d *driver) do(fn func()) { fyne.DoAndWait(fn); time.Sleep(300 * time.Millisecond) }

// walk visits every visible object in the window and its dialogs.
func (d *driver) walk(fn func(o fyne.CanvasObject, texts []string)) {
	var visit func(o fyne.CanvasObject) []string
	visit = func(o fyne.CanvasObject) []string {
		if o == nil || !o.Visible() {
			return nil
		}
		var texts []string
		switch w := o.(type) {
		case *widget.Label:
			texts = append(texts, w.Text)
		case *widget.Button:
			texts = append(texts, w.Text)
		case *canvas.Text:
			texts = append(texts, w.Text)
		case *widget.Check:
			texts = append(texts, w.Text)
		}
		switch c := o.(type) {
		case *fyne.Container:
			for _, ch := range c.Objects {
				texts = append(texts, visit(ch)...)
			}
		case fyne.Widget:
			for _, ch := range test.WidgetRenderer(c).Objects() {
				texts = append(texts, visit(ch)...)
			}
		}
		fn(o, texts)
		return texts
	}
	c := d.w.Canvas()
	visit(c.Content())
	for _, o := range c.Overlays().List() {
		visit(o)
	}
}

// tap taps the innermost tappable whose text contains text.
func (d *driver) tap(text string) {
	d.do(func() {
		var hit fyne.Tappable
		d.walk(func(o fyne.CanvasObject, texts []string) {
			t, ok := o.(fyne.Tappable)
			if !ok || hit != nil {
				return
			}
			for _, s := range texts {
				if strings.Contains(s, text) {
					hit = t
					return
				}
			}
		})
		if hit == nil {
			log.Printf("nothing to tap labelled %q", text)
			d.failed = true
			return
		}
		test.Tap(hit)
	})
}

// first returns the outermost object of type T on screen (the window
// content first, then dialogs).
func first[T any](d *driver) (T, bool) {
	var found T
	var ok bool
	var visit func(o fyne.CanvasObject)
	visit = func(o fyne.CanvasObject) {
		if ok || o == nil || !o.Visible() {
			return
		}
		if t, is := o.(T); is {
			found, ok = t, true
			return
		}
		switch c := o.(type) {
		case *fyne.Container:
			for _, ch := range c.Objects {
				visit(ch)
			}
		case fyne.Widget:
			for _, ch := range test.WidgetRenderer(c).Objects() {
				visit(ch)
			}
		}
	}
	visit(d.w.Canvas().Content())
	return found, ok
}

func (d *driver) escape() {
	d.do(func() {
		for d.w.Canvas().Overlays().Top() != nil {
			d.w.Canvas().Overlays().Remove(d.w.Canvas().Overlays().Top())
		}
	})
}

// basemap shows the dashboard's map over the synthetic basemap.
func (d *driver) basemap() {
	d.do(func() {
		if s, ok := first[*container.Scroll](d); ok {
			s.ScrollToBottom()
		}
	})
	d.shot("dashboard-basemap")
}

func (d *driver) coordinator() {
	d.shot("dashboard")
	d.do(func() {
		if s, ok := first[*container.Scroll](d); ok {
			s.ScrollToOffset(fyne.NewPos(0, 900))
		}
	})
	d.shot("dashboard-charts")
	d.do(func() {
		if s, ok := first[*container.Scroll](d); ok {
			s.ScrollToBottom()
		}
	})
	d.shot("dashboard-timeline-map")
	d.tap(app.T("tab.reports"))
	d.shot("reports-table")
	d.tap(app.T("table.flagged"))
	d.do(func() {
		if t, ok := first[*widget.Table](d); ok {
			t.Select(widget.TableCellID{Row: 0, Col: 3})
		}
	})
	d.shot("report-detail")
	d.do(func() {
		if s, ok := first[*container.Scroll](d); ok {
			s.ScrollToBottom()
		}
	})
	d.shot("report-review")
	d.tap(app.T("nav.back"))
	d.tap(app.T("tab.members"))
	d.shot("members")
	d.tap(app.T("invite.create"))
	d.shot("invite")
	d.escape()
	d.tap(app.T("tab.dashboard"))
	d.tap(app.T("export.button"))
	d.shot("export")
	d.escape()
	d.tap(app.T("tab.sync"))
	d.shot("sync")
	d.tap(app.T("tab.settings"))
	d.shot("settings")
}

func (d *driver) observer() {
	d.shot("observer-home")
	d.tap(app.T("home.new_report"))
	d.shot("report-category")
	d.tap(app.FamilyLabel("disinformation"))
	d.tap(app.CategoryLabelOf("disinformation.false_voting_info"))
	d.tap(app.SeverityLabel(4))
	d.shot("report-form")
}
