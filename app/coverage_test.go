package app

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

func deskOf(ui *UI) *act.Desk { return ui.be.(*StoreBackend).Desk() }

// The observer's home opens on its assigned station, read from the
// assignment sealed to it, marked as assigned; the observer may choose
// another, which stays until the coordinator posts it again.
func TestObserverHomeOpensOnAssignment(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obsHome := joinedObserver(t, code) // it chose PS-0001 itself
	coord := newTestUI(t, a, coordHome, false, testPass)
	obs := newTestUI(t, a, obsHome, true, testPass)
	carry(t, storeOf(obs), storeOf(coord))

	post := func(code string) {
		t.Helper()
		if r, err := deskOf(coord).Assign(act.AssignRequest{Member: "Amani", Station: code}); err != nil || !r.Sealed {
			t.Fatalf("assign %s: %+v %v", code, r, err)
		}
		carry(t, storeOf(coord), storeOf(obs))
		obs.refreshAll()
		obs.wait()
	}
	post("ps-0002")
	screen := allText(obs)
	if !strings.Contains(screen, T("home.station_assigned", map[string]any{"Code": "PS-0002"})) || !strings.Contains(screen, "Market hall") {
		t.Fatalf("the home does not open on the assigned station:\n%s", screen)
	}
	if obs.station() != "PS-0002" {
		t.Fatalf("the station new reports and check-ins use: %q", obs.station())
	}
	// The observer moves (the picker sets the station): its choice holds.
	if err := obs.be.SetSetting("station", []byte("PS-0003")); err != nil {
		t.Fatal(err)
	}
	obs.refreshAll()
	obs.wait()
	if screen := allText(obs); !strings.Contains(screen, T("home.station_other", map[string]any{"Code": "PS-0003", "Value": "PS-0002"})) {
		t.Fatalf("the observer's own choice:\n%s", screen)
	}
	// A new assignment moves it again.
	post("PS-0001")
	if screen := allText(obs); !strings.Contains(screen, T("home.station_assigned", map[string]any{"Code": "PS-0001"})) || obs.station() != "PS-0001" {
		t.Fatalf("after the move:\n%s", screen)
	}
}

// The dashboard's coverage panel: expected versus heard for the current
// phase per region; a region lists its silent stations.
func TestDashboardCoverage(t *testing.T) {
	a := test.NewTempApp(t)
	coordHome, code := missionHomes(t)
	obsHome := joinedObserver(t, code)
	coord := newTestUI(t, a, coordHome, false, testPass)
	obs := newTestUI(t, a, obsHome, true, testPass)
	carry(t, storeOf(obs), storeOf(coord))
	coord.refreshAll()
	coord.wait()
	if screen := allText(coord); !strings.Contains(screen, T("cov.no_assignments")) {
		t.Fatalf("no assignments: the panel does not say so:\n%s", screen)
	}
	if _, err := deskOf(coord).Assign(act.AssignRequest{Member: "Amani", Station: "PS-0002"}); err != nil {
		t.Fatal(err)
	}
	coord.refreshAll()
	coord.wait()
	summary := func(heard int) string {
		return T("cov.summary", map[string]any{"N": heard, "Total": 1, "Status": PhaseLabel(act.PhaseOpening)})
	}
	screen := allText(coord)
	if !strings.Contains(screen, summary(0)) || !strings.Contains(screen, "South — 0 / 1") || !strings.Contains(screen, TN("cov.silent_count", 1)) {
		t.Fatalf("the coverage panel before any check-in:\n%s", screen)
	}
	tap(t, coord, "South — 0 / 1")
	screen = allText(coord)
	for _, want := range []string{"PS-0002 · Market hall", T("cov.posted", map[string]any{"Who": "Amani"}), T("cov.never")} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the silent list lacks %q:\n%s", want, screen)
		}
	}
	coord.popAll()

	carry(t, storeOf(coord), storeOf(obs))
	obs.refreshAll()
	obs.wait()
	tap(t, obs, CheckinLabel("arrived")) // at its post: the home adopted it
	carry(t, storeOf(obs), storeOf(coord))
	coord.refreshAll()
	coord.wait()
	if screen := allText(coord); !strings.Contains(screen, summary(1)) || !strings.Contains(screen, "South — 1 / 1") {
		t.Fatalf("the coverage panel after the check-in:\n%s", screen)
	}
}

// coverageFixture makes a coordinator's home with a registry of four
// regions, eight observers posted across them and their check-ins
// through the morning: what TestScreenshotsCoverage shows (the practice
// mission has no assignments yet).
func coverageFixture(t *testing.T, now time.Time) *Home {
	t.Helper()
	h := testHome(t)
	h.Store.Now = func() time.Time { return now }
	be, err := h.Create([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	if err := be.CreateMission("General election, coastal region", "Desk"); err != nil {
		t.Fatal(err)
	}
	st := be.(*StoreBackend).Store()
	regions := map[string][]string{"Kilifi": {"Malindi", "Ganze"}, "Kwale": {"Msambweni", "Lunga Lunga"},
		"Mombasa": {"Likoni", "Mvita"}, "Taita Taveta": {"Voi"}}
	var codes []string
	snap := make([]byte, 32)
	copy(snap, "coverage screenshot fixture....")
	var ids []incident.ID
	n := 0
	for _, r := range []string{"Kilifi", "Kwale", "Mombasa", "Taita Taveta"} {
		for _, d := range regions[r] {
			for i := range 2 {
				n++
				c := fmt.Sprintf("KE-%03d", n)
				rec, err := st.Put(incident.KindStation, incident.StationPayload{Code: c, Name: fmt.Sprintf("%s Primary School %d", d, i+1),
					Admin: []string{r, d}, Snapshot: snap})
				if err != nil {
					t.Fatal(err)
				}
				codes, ids = append(codes, c), append(ids, rec.ID)
			}
		}
	}
	if _, err := st.Put(incident.KindRegistry, incident.RegistryPayload{Snapshot: snap, Count: uint64(len(ids)), Root: incident.RegistryRoot(ids)}); err != nil {
		t.Fatal(err)
	}
	desk := be.(*StoreBackend).Desk()
	names := []string{"Heron", "Kite", "Lark", "Ibis", "Egret", "Plover", "Tern", "Wren", "Swift", "Crane", "Rail", "Stork"}
	for i, name := range names {
		code, err := be.Invite(InviteRequest{Role: incident.RoleObserver, Label: name})
		if err != nil {
			t.Fatal(err)
		}
		o, err := store.Init(filepath.Join(t.TempDir(), name), []byte(testPass), h.Store)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Join(code); err != nil {
			t.Fatal(err)
		}
		carry(t, o, st)
		post := codes[i%len(codes)]
		if _, err := desk.Assign(act.AssignRequest{Member: name, Station: post}); err != nil {
			t.Fatal(err)
		}
		// Most arrive; some have said all is quiet since.
		if i%5 != 3 {
			if _, err := act.New(o).Checkin(incident.CheckinPayload{Status: "arrived", Station: post}); err != nil {
				t.Fatal(err)
			}
		}
		if i%3 == 0 {
			if _, err := act.New(o).Checkin(incident.CheckinPayload{Status: "all_quiet", Station: post}); err != nil {
				t.Fatal(err)
			}
		}
		carry(t, o, st)
		o.Close()
	}
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestScreenshotsCoverage: the practice mission's coverage panel, late on
// polling day (closing: the stations whose observer has not said
// "closed"), and one region's silent stations.
func TestScreenshotsCoverage(t *testing.T) {
	forEachShotLayout(t, func(p *shotPass) {
		ui := p.open(p.homes.Coordinator)
		scrollTo(ui, func(o fyne.CanvasObject) bool { return textOf(o) == "📋 "+T("dash.coverage") })
		p.shot(ui, "dashboard-coverage")
		cov, err := ui.be.Coverage(act.CoverageQuery{Level: CoverageLevel})
		if err != nil || len(cov.Units) == 0 {
			t.Fatalf("%+v %v", cov, err)
		}
		u := cov.Units[0]
		tap(t, ui, fmt.Sprintf("%s — %d / %d", u.Unit, u.Heard[cov.Phase], u.Expected))
		p.shot(ui, "coverage-silent")
		ui.Close()
	})
}
