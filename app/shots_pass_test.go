package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/vigil-mesh/vigil/app/internal/scene"
)

// shotPass is one layout of a screenshot test over a fresh practice
// scene: phone-sized (dark, drawn at twice the size) or laptop-sized
// (light, 1280 × 800).
type shotPass struct {
	t      *testing.T
	a      fyne.App
	out    string
	phone  bool
	homes  scene.Homes
	prefix string
	scale  float32
	size   fyne.Size
}

// forEachShotLayout runs fn once for the phone and once for the laptop,
// each over its own practice scene, writing into the folder named by
// VIGIL_SCREENSHOTS; without it the test is skipped.
func forEachShotLayout(t *testing.T, fn func(p *shotPass)) {
	out := os.Getenv("VIGIL_SCREENSHOTS")
	if out == "" {
		t.Skip("set VIGIL_SCREENSHOTS to a folder to write screenshots")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	for _, phone := range []bool{true, false} {
		homes, err := scene.Build(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		p := &shotPass{t: t, a: a, out: out, phone: phone, homes: homes,
			prefix: "phone-", scale: 2, size: fyne.NewSize(400, 820)}
		if !phone {
			p.prefix, p.scale, p.size = "desktop-", 1, fyne.NewSize(1280, 800)
		}
		fn(p)
	}
}

// open unlocks the app on home dir, offline, at the pass's size and theme;
// the UI is closed when the test ends.
func (p *shotPass) open(dir string) *UI {
	ui := newScene(p.a, dir, p.phone, p.size)
	if !p.phone {
		// After New, which sets the app's own theme, and before the
		// screens are built with its colours.
		p.a.Settings().SetTheme(lightTheme{&vigilTheme{}})
	}
	ui.unlock([]byte(scene.Passphrase))
	ui.wait()
	p.t.Cleanup(ui.Close)
	return ui
}

// openScene unlocks the app on the scene's home dir (scene.Build), offline,
// at the scene's time and the given layout and window size.
func openScene(a fyne.App, dir string, phone bool, size fyne.Size) *UI {
	ui := newScene(a, dir, phone, size)
	ui.unlock([]byte(scene.Passphrase))
	ui.wait()
	return ui
}

// newScene builds the app on the scene's home dir, locked.
func newScene(a fyne.App, dir string, phone bool, size fyne.Size) *UI {
	ui := New(a, &fakeNetHome{&Home{Dir: dir, Store: scene.StoreOptions(), NoNetwork: true}},
		Options{Phone: phone, RefreshEvery: -1, Now: func() time.Time { return scene.Now }, inline: true})
	ui.win.Resize(size)
	return ui
}

// shot saves ui's window as the pass's prefix plus name.
func (p *shotPass) shot(ui *UI, name string) {
	p.t.Helper()
	saveShotAt(p.t, ui, filepath.Join(p.out, p.prefix+name+".png"), p.scale)
}
