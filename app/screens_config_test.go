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

// TestScreenshotsConfig writes the screenshots of the mission
// configuration in a coordinator's settings, phone-sized (dark, drawn at
// twice the size) and laptop-sized (light, 1280 × 800),
// over the practice mission where a second coordinator, on a newer Vigil,
// set the attachment budget at the same time as the founder:
//
//	VIGIL_SCREENSHOTS=$PWD/docs/screenshots go test -run ScreenshotsConfig ./app
func TestScreenshotsConfig(t *testing.T) {
	forEachShotLayout(t, func(p *shotPass) {
		configureScene(t, p.homes.Coordinator)
		for _, l := range []string{"en"} {
			SetLanguage(l)
			ui := p.open(p.homes.Coordinator)
			ui.selectTab(T("tab.settings"))
			ui.wait()
			// The French dashboard is wider than a phone (its own issue) and
			// widened the window; this screen fits.
			ui.win.Resize(p.size)
			first := "⚙ " + T("config.title")
			if !p.phone {
				first = T("config.note") // all of it on a laptop screen
			}
			scrollTo(ui, func(o fyne.CanvasObject) bool { return textOf(o) == first })
			name := "settings-config"
			if l != "en" {
				name += "-" + l
			}
			p.shot(ui, name)
		}
		SetLanguage("en")
	})
}

// configureScene adds a second desk coordinator to the practice mission
// and, late on polling day, settings the founder and that coordinator
// signed without seeing each other's.
func configureScene(t *testing.T, dir string) {
	t.Helper()
	clock := scene.Day.Add(20 * time.Hour)
	opts := scene.StoreOptions()
	opts.Now = func() time.Time { return clock }
	lead, err := store.Open(dir, []byte(scene.Passphrase), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer lead.Close()
	deputy, err := store.Init(filepath.Join(t.TempDir(), "harrier"), []byte(scene.Passphrase), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer deputy.Close()
	da := deputy.Author()
	code, err := lead.Invite(store.InviteRequest{Role: incident.RoleCoordinator, Label: "Harrier — evening desk", For: &da})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deputy.Join(code); err != nil {
		t.Fatal(err)
	}
	carry(t, lead, deputy)
	set := func(s *store.Store, at time.Duration, settings map[string]string) {
		t.Helper()
		clock = scene.Day.Add(at)
		ms, err := s.Mission()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(incident.KindConfig, ms.NewConfig(settings)); err != nil {
			t.Fatal(err)
		}
	}
	set(lead, 21*time.Hour+10*time.Minute, map[string]string{"attachment_budget": "134217728", "private_fields": "lat,lon,source"})
	set(deputy, 21*time.Hour+12*time.Minute, map[string]string{"attachment_budget": "33554432", "radio_channel": "7 (VHF)"})
	carry(t, deputy, lead)
}
