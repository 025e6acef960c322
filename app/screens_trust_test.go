package app

import (
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/vigil-mesh/vigil/app/internal/scene"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// TestScreenshotsTrust writes the screenshots of an invite redeemed by two
// devices, as a coordinator's members screen shows it: both flagged and
// a "Confirm this device" action on each; then, once the coordinator
// confirmed one, the other closed out. Phone-sized (dark, drawn at twice
// the size) and laptop-sized (light, 1280 × 800):
//
//	VIGIL_SCREENSHOTS=$PWD/docs/screenshots go test -run ScreenshotsTrust ./app
func TestScreenshotsTrust(t *testing.T) {
	forEachShotLayout(t, func(p *shotPass) {
		real, copied := duplicateScene(t, p.homes.Coordinator)
		ui := p.open(p.homes.Coordinator)
		ui.selectTab(T("tab.members"))
		ui.wait()
		plover := func(o fyne.CanvasObject) bool { return textOf(o) == roleIcons[incident.RoleObserver]+" Plover" }
		scrollTo(ui, plover)
		p.shot(ui, "members-duplicate")
		if err := ui.be.(Admin).Confirm(real); err != nil {
			t.Fatal(err)
		}
		ui.refreshAll()
		ui.wait()
		scrollTo(ui, plover)
		p.shot(ui, "members-confirmed")
		_ = copied
	})
}

// duplicateScene has the founder invite an observer, "Plover", whose code
// is photographed at the training: the real observer and a second device
// both redeem it, and both member records reach the founder. It returns
// the two author keys.
func duplicateScene(t *testing.T, dir string) (real, copied incident.Author) {
	t.Helper()
	clock := scene.Day.Add(19 * time.Hour)
	opts := scene.StoreOptions()
	opts.Now = func() time.Time { return clock }
	lead, err := store.Open(dir, []byte(scene.Passphrase), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer lead.Close()
	code, err := lead.Invite(store.InviteRequest{Role: incident.RoleObserver, Label: "Plover"})
	if err != nil {
		t.Fatal(err)
	}
	var authors []incident.Author
	for _, name := range []string{"plover", "copy"} {
		clock = clock.Add(7 * time.Minute)
		s, err := store.Init(filepath.Join(t.TempDir(), name), []byte(scene.Passphrase), opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Join(code); err != nil {
			t.Fatal(err)
		}
		carry(t, s, lead)
		authors = append(authors, s.Author())
		s.Close()
	}
	return authors[0], authors[1]
}
