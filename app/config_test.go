package app

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// configuredHomes makes missionHomes' coordinator home with a deputy
// coordinator, and settings the two set without seeing each other's: the
// attachment budget in conflict, a category added, sealing turned off,
// and a setting of a newer Vigil. It returns the coordinator's home, the
// deputy's store (closed) folder, and an observer invite code.
func configuredHomes(t *testing.T) (lead *Home, deputyDir, code string) {
	t.Helper()
	lead, code = missionHomes(t)
	ls, err := store.Open(lead.Dir, []byte(testPass), lead.Store)
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	deputy := testHome(t)
	ds, err := store.Init(deputy.Dir, []byte(testPass), deputy.Store)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	da := ds.Author()
	inv, err := ls.Invite(store.InviteRequest{Role: incident.RoleCoordinator, Label: "Desk", For: &da})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Join(inv); err != nil {
		t.Fatal(err)
	}
	set := func(s *store.Store, settings map[string]string) {
		t.Helper()
		ms, err := s.Mission()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(incident.KindConfig, ms.NewConfig(settings)); err != nil {
			t.Fatal(err)
		}
	}
	set(ls, map[string]string{"attachment_budget": "33554432", "seal_by_default": "false",
		"category.polling.queue_jumping": "Queue jumping"})
	set(ds, map[string]string{"attachment_budget": "67108864", "radio_channel": "7 (VHF)"})
	carry(t, ls, ds)
	carry(t, ds, ls)
	return lead, deputy.Dir, code
}

// A coordinator sees the mission configuration in Settings: each setting
// in words, its value, who set it, and a conflict with the other value;
// an observer of the same mission does not see the section.
func TestSettingsShowMissionConfiguration(t *testing.T) {
	a := test.NewTempApp(t)
	lead, _, code := configuredHomes(t)

	ui := newTestUI(t, a, lead, false, testPass)
	ui.selectTab(T("tab.settings"))
	ui.wait()
	screen := allText(ui)
	for _, want := range []string{
		"⚙ " + T("config.title"),
		T("config.key.attachment_budget"), "⚠ " + T("config.conflict"), "64 MiB", "32 MiB", "Desk",
		T("config.key.category", map[string]any{"Name": FamilyLabel("polling")}), "Queue jumping (polling.queue_jumping)",
		T("config.key.seal_by_default"), T("config.no"),
		"radio_channel", "7 (VHF)", T("config.newer"),
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("coordinator's settings lack %q; screen shows:\n%s", want, screen)
		}
	}
	// One line gives the other value, who set it and when.
	prefix, _, _ := strings.Cut(T("config.also_set", map[string]any{"Code": "\x00", "Who": "W", "Time": "T"}), "\x00")
	var also []string
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, "⚠ "+prefix) && !slices.Contains(also, l) { // notes show twice: widget and text
			also = append(also, l)
		}
	}
	if len(also) != 1 || !(strings.Contains(also[0], "32 MiB") && strings.Contains(also[0], T("report.you")) ||
		strings.Contains(also[0], "64 MiB") && strings.Contains(also[0], "Desk")) {
		t.Errorf("lines for the other value: %q, want one with 32 MiB by you or 64 MiB by Desk", also)
	}
	if n := strings.Count(screen, "⚠ "+T("config.conflict")); n != 1 {
		t.Errorf("%d conflict markers, want one (the attachment budget)", n)
	}

	// The observer of the same mission, with the same configuration.
	ui.Close()
	obs := joinedObserver(t, code)
	obsStore, err := store.Open(obs.Dir, []byte(testPass), obs.Store)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := store.Open(lead.Dir, []byte(testPass), lead.Store)
	if err != nil {
		t.Fatal(err)
	}
	carry(t, ls, obsStore)
	ls.Close()
	obsStore.Close()
	ou := newTestUI(t, a, obs, true, testPass)
	if set, _ := ou.be.MissionSettings(); len(set) < 4 {
		t.Fatalf("the observer's store holds %d settings, want the coordinators' too", len(set))
	}
	ou.selectTab(T("tab.settings"))
	ou.wait()
	screen = allText(ou)
	if !strings.Contains(screen, T("wipe.title")) {
		t.Fatalf("observer is not on the settings screen:\n%s", screen)
	}
	for _, no := range []string{T("config.title"), T("config.key.attachment_budget"), T("config.conflict")} {
		if strings.Contains(screen, no) {
			t.Errorf("observer's settings show %q:\n%s", no, screen)
		}
	}
}

func TestSettingValueWords(t *testing.T) {
	for _, tc := range []struct {
		s    MissionSetting
		want string
	}{
		{MissionSetting{Key: "seal_by_default", Value: "true", Known: true}, T("config.yes")},
		{MissionSetting{Key: "private_fields", Value: "", Known: true}, T("config.none")},
		{MissionSetting{Key: "private_fields", Value: "lat,lon", Known: true}, FieldLabel("lat") + ", " + FieldLabel("lon")},
		{MissionSetting{Key: "attachment_budget", Value: "268435456", Known: true}, "256 MiB"},
		{MissionSetting{Key: "attachment_budget", Value: "1610612736", Known: true}, "1.5 GiB"},
		{MissionSetting{Key: "attachment_budget", Value: "64MiB", Known: true, Problem: "not canonical"}, "64MiB"},
		{MissionSetting{Key: "radio_channel", Value: "7", Known: false}, "7"},
	} {
		if got := SettingValue(tc.s); got != tc.want {
			t.Errorf("%s=%q: %q, want %q", tc.s.Key, tc.s.Value, got, tc.want)
		}
	}
	if got := SettingName("radio_channel"); got != "radio_channel" {
		t.Errorf("an unknown setting is named %q, want its key", got)
	}
}
