package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/internal/testkit"
)

// showConfig returns `mission config show --json` by key.
func showConfig(t testing.TB, home string) map[string]settingJSON {
	t.Helper()
	out := map[string]settingJSON{}
	for _, s := range decodeLines[settingJSON](t, mustRun(t, home, nil, "mission", "config", "show", "--json")) {
		if _, dup := out[s.Key]; dup {
			t.Fatalf("config show printed %s twice", s.Key)
		}
		if _, err := time.Parse(time.RFC3339, s.At); err != nil {
			t.Errorf("%s: at %q is not RFC 3339", s.Key, s.At)
		}
		if s.Conflicts == nil {
			t.Errorf("%s: conflicts is null, want a list", s.Key)
		}
		out[s.Key] = s
	}
	return out
}

// labelledMission makes a coordinator home whose founder has a label.
func labelledMission(t testing.TB, name, label string, flags ...string) (home, author string) {
	t.Helper()
	home, author = initHome(t, name)
	mustID(t, home, nil, append([]string{"mission", "create", "--name", "Mission " + name, "--label", label}, flags...)...)
	return home, author
}

// A coordinator's settings reach an observer in a bundle: the observer
// reads who set them, and the mission's sealing policy and taxonomy
// change on the observer's device.
func TestMissionConfigThroughBundle(t *testing.T) {
	t.Parallel()
	lead, leadKey := labelledMission(t, "lead", "HQ", "--seal-by-default")
	obs, _, _ := member(t, "observer", invite(t, lead, "--role", "observer"))

	// Before the config arrives the category is not the mission's.
	out, errs, code := runVigil(t, obs, nil, "report", "add", "--category", "polling.queue_jumping", "--severity", "2", "--title", "Queue")
	wantFailure(t, "report with a category not yet added", out, errs, code, exitError, "polling.queue_jumping")

	before := status(t, lead)
	id := mustID(t, lead, nil, "mission", "config", "set",
		"seal_by_default=false", "attachment_budget=64MiB", "category.polling.queue_jumping=Queue jumping")
	if after := status(t, lead); after.Records["config"] != before.Records["config"]+1 {
		t.Fatalf("config records %d -> %d, want one more", before.Records["config"], after.Records["config"])
	}
	carry(t, lead, obs)

	got := showConfig(t, obs)
	want := map[string]string{"seal_by_default": "false", "attachment_budget": "67108864", "category.polling.queue_jumping": "Queue jumping"}
	if len(got) != len(want) {
		t.Errorf("observer sees %d settings, want %d: %+v", len(got), len(want), got)
	}
	for k, v := range want {
		s, ok := got[k]
		switch {
		case !ok:
			t.Errorf("observer does not see %s", k)
		case s.Value != v || !s.Known || s.Problem != nil:
			t.Errorf("%s: value %q known %v problem %s, want %q known, no problem", k, s.Value, s.Known, str(s.Problem), v)
		case s.By != leadKey || str(s.ByLabel) != "HQ" || s.Record != id || len(s.Conflicts) != 0:
			t.Errorf("%s: by %s (%s) record %s conflicts %v, want by the lead (HQ) in %s, no conflict", k, s.By, str(s.ByLabel), s.Record, s.Conflicts, id)
		}
	}
	text := mustRun(t, obs, nil, "mission", "config", "show")
	short := leadKey[len(leadKey)-8:]
	for _, w := range []string{"attachment_budget = 67108864 (64 MiB)", `category.polling.queue_jumping = "Queue jumping"`,
		"seal_by_default = false", "set by HQ (" + short + ") at " + got["attachment_budget"].At} {
		if !strings.Contains(text, w) {
			t.Errorf("config show lacks %q:\n%s", w, text)
		}
	}

	// The observer files a report in the new category, unsealed now.
	rep := mustID(t, obs, nil, "report", "add", "--category", "polling.queue_jumping", "--severity", "2", "--title", "People let in ahead of the queue")
	if r := showReport(t, obs, rep); r.Sealed || str(r.Category) != "polling.queue_jumping" || r.hasFlag(incident.FlagUnknownCategory) {
		t.Errorf("observer's report: sealed %v category %s flags %v, want unsealed polling.queue_jumping", r.Sealed, str(r.Category), r.Flags)
	}
}

// Bad settings: one line naming the key, exit 1, nothing stored; only
// coordinators set.
func TestMissionConfigRefused(t *testing.T) {
	t.Parallel()
	lead, _ := labelledMission(t, "lead", "HQ", "--no-seal")
	obs, _, _ := member(t, "observer", invite(t, lead, "--role", "observer"))
	carrier, _, _ := member(t, "carrier", invite(t, lead, "--role", "carrier"))

	for _, tc := range []struct {
		name  string
		args  []string
		names []string
	}{
		{"unknown key", []string{"colour=blue"}, []string{"colour", "not a setting"}},
		{"bad size", []string{"attachment_budget=lots"}, []string{"attachment_budget", `"lots" is not a size`}},
		{"bad boolean", []string{"seal_by_default=maybe"}, []string{"seal_by_default", "maybe"}},
		{"bad private field", []string{"private_fields=lat,shoe_size"}, []string{"private_fields", "shoe_size"}},
		{"no =", []string{"seal_by_default"}, []string{"seal_by_default", "KEY=VALUE"}},
		{"given twice", []string{"seal_by_default=true", "seal_by_default=false"}, []string{"seal_by_default", "twice"}},
		{"a good one, then a bad one", []string{"attachment_budget=1MiB", "category.polling.late_count="}, []string{"category.polling.late_count", "label"}},
		{"a base category", []string{"category.polling.vote_buying=Cash"}, []string{"category.polling.vote_buying", "base taxonomy"}},
		{"a category of no family", []string{"category.weather.rain=Rain"}, []string{"category.weather.rain", "FAMILY.NAME"}},
	} {
		before := status(t, lead)
		out, errs, code := runVigil(t, lead, nil, append([]string{"mission", "config", "set"}, tc.args...)...)
		wantFailure(t, tc.name, out, errs, code, exitError, tc.names...)
		if after := status(t, lead); !sameCounts(before, after) {
			t.Errorf("%s: the refused config changed the store: %v -> %v", tc.name, before.Records, after.Records)
		}
	}
	// The message, exactly.
	_, errs, _ := runVigil(t, lead, nil, "mission", "config", "set", "attachment_budget=lots")
	if want := "vigil: mission config set: attachment_budget: \"lots\" is not a size (for example 256MiB)\n"; errs != want {
		t.Errorf("stderr %q, want %q", errs, want)
	}
	// No settings at all is a usage error.
	out, errs, code := runVigil(t, lead, nil, "mission", "config", "set")
	wantFailure(t, "no settings", out, errs, code, exitUsage, "KEY=VALUE")

	// Observers and carriers read the configuration but do not set it.
	for _, h := range []struct{ home, role string }{{obs, "observer"}, {carrier, "carrier"}} {
		before := status(t, h.home)
		out, errs, code := runVigil(t, h.home, nil, "mission", "config", "set", "seal_by_default=true")
		wantFailure(t, h.role+" config set", out, errs, code, exitError, "coordinators", h.role)
		if after := status(t, h.home); !sameCounts(before, after) {
			t.Errorf("%s: a refused config changed the store: %v -> %v", h.role, before.Records, after.Records)
		}
		if got := showConfig(t, h.home); len(got) != 1 || got["seal_by_default"].Value != "false" {
			t.Errorf("%s sees %+v, want the genesis' seal_by_default=false alone", h.role, got)
		}
	}
}

// Two coordinators who set the same setting without having synced see a
// conflict once they exchange bundles; a later setting by one who has
// seen both settles it.
func TestMissionConfigConflict(t *testing.T) {
	t.Parallel()
	lead, leadKey := labelledMission(t, "lead", "HQ")
	deputy, deputyKey := initHome(t, "deputy")
	mustID(t, deputy, nil, "mission", "join", invite(t, lead, "--role", "coordinator", "--for", deputyKey, "--label", "Desk"))

	// Both start from the same setting.
	first := mustID(t, lead, nil, "mission", "config", "set", "attachment_budget=128MiB")
	carry(t, lead, deputy)
	if s := showConfig(t, deputy)["attachment_budget"]; s.Record != first {
		t.Fatalf("deputy sees %+v, want the lead's first setting", s)
	}
	leadSet := mustID(t, lead, nil, "mission", "config", "set", "attachment_budget=32MiB")
	deputySet := mustID(t, deputy, nil, "mission", "config", "set", "attachment_budget=64MiB", "private_fields=lat,lon")
	for _, h := range []string{lead, deputy} {
		if s := showConfig(t, h)["attachment_budget"]; len(s.Conflicts) != 0 {
			t.Errorf("%s alone sees a conflict: %+v", h, s)
		}
	}
	carry(t, lead, deputy)
	carry(t, deputy, lead)

	values := map[string]string{leadKey: "33554432", deputyKey: "67108864"}
	records := map[string]string{leadKey: leadSet, deputyKey: deputySet}
	for _, h := range []string{lead, deputy} {
		got := showConfig(t, h)
		s := got["attachment_budget"]
		if len(s.Conflicts) != 1 {
			t.Errorf("%s: attachment_budget has %d conflicts, want the other coordinator's alone: %+v", h, len(s.Conflicts), s)
			continue
		}
		o := s.Conflicts[0]
		if s.By == o.By || s.Value != values[s.By] || o.Value != values[o.By] || s.Record != records[s.By] || o.Record != records[o.By] {
			t.Errorf("%s: %s by %s against %s by %s, want 32MiB by the lead against 64MiB by the deputy", h, s.Value, s.By, o.Value, o.By)
		}
		if o.By == deputyKey && str(o.ByLabel) != "Desk" || o.By == leadKey && str(o.ByLabel) != "HQ" {
			t.Errorf("%s: conflict by %s labelled %s", h, o.By, str(o.ByLabel))
		}
		if p := got["private_fields"]; p.Value != "lat,lon" || len(p.Conflicts) != 0 {
			t.Errorf("%s: private_fields %+v, want lat,lon set by the deputy alone", h, p)
		}
		text := mustRun(t, h, nil, "mission", "config", "show")
		if !strings.Contains(text, "    conflict: "+o.Value+" (") || !strings.Contains(text, ", set by "+str(o.ByLabel)+" (") {
			t.Errorf("%s: config show does not list the conflict:\n%s", h, text)
		}
	}

	// The lead has seen both now: its next setting has no conflict.
	settled := mustID(t, lead, nil, "mission", "config", "set", "attachment_budget=16MiB")
	if s := showConfig(t, lead)["attachment_budget"]; s.Record != settled || s.Value != "16777216" || len(s.Conflicts) != 0 {
		t.Errorf("after a setting that saw both: %+v, want 16MiB without conflict", s)
	}
}

// While nodes hold the homes, `mission config set` and `show` run inside
// them through the control socket, and the config reaches a connected
// observer's node over the mesh.
func TestMissionConfigThroughNode(t *testing.T) {
	t.Parallel()
	lead, leadKey := labelledMission(t, "lead", "HQ")
	obs, _, _ := member(t, "observer", invite(t, lead, "--role", "observer"))
	addr := startNode(t, lead)
	startNode(t, obs, "--peer", addr)
	if st := status(t, lead); !st.Running {
		t.Fatalf("the lead's node does not hold the home: %+v", st)
	}
	// Each look runs the CLI in a child process: every 200 ms is enough.
	if ok, _ := testkit.Poll(30*time.Second, 200*time.Millisecond, func() bool { return len(status(t, lead).Peers) > 0 }); !ok {
		t.Fatal("the observer's node never connected")
	}

	before := status(t, lead)
	out, errs, code := runVigil(t, lead, nil, "mission", "config", "set", "attachment_budget=lots")
	wantFailure(t, "bad value through the socket", out, errs, code, exitError, "attachment_budget", "lots")
	if after := status(t, lead); !sameCounts(before, after) {
		t.Errorf("a refused config through the socket changed the store: %v -> %v", before.Records, after.Records)
	}
	out, errs, code = runVigil(t, obs, nil, "mission", "config", "set", "seal_by_default=true")
	wantFailure(t, "observer through the socket", out, errs, code, exitError, "coordinators", "observer")

	id := mustID(t, lead, nil, "mission", "config", "set", "attachment_budget=8MiB", "category.polling.queue_jumping=Queue jumping")
	if s := showConfig(t, lead)["attachment_budget"]; s.Record != id || s.Value != "8388608" || s.By != leadKey {
		t.Errorf("lead through the socket: %+v", s)
	}
	if ok, _ := testkit.Poll(60*time.Second, 200*time.Millisecond, func() bool {
		return showConfig(t, obs)["category.polling.queue_jumping"].Record == id
	}); !ok {
		t.Fatal("the config never reached the observer's node")
	}
}

// `vigil help` and `mission config --help` list every setting this build
// knows, from incident.ConfigKeys.
func TestMissionConfigHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"mission", "config", "--help"}} {
		out := mustRun(t, "", nil, args...)
		if !strings.Contains(out, "mission config set KEY=VALUE") {
			t.Errorf("%v does not show mission config set:\n%s", args, out)
		}
		for _, k := range incident.ConfigKeys {
			if !strings.Contains(out, "  "+k.Name) || !strings.Contains(strings.Join(strings.Fields(out), " "), k.Help) {
				t.Errorf("%v does not list %s (%s)", args, k.Name, k.Help)
			}
		}
	}
}

// Settings this build does not know, and known settings whose value it
// cannot read (as a newer build may write them), are shown with what is
// wrong, never dropped.
func TestMissionConfigShowNewerSettings(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	c, out, errb := demoCLI(home)
	st, err := store.Init(home, []byte(defaultPass), store.Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateMission("Newer", "HQ", false); err != nil {
		t.Fatal(err)
	}
	ms, _ := st.Mission()
	rec, err := st.Put(incident.KindConfig, ms.NewConfig(map[string]string{
		"radio_channel": "VHF 147.550", "attachment_budget": "64MiB", "seal_by_default": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	if code := c.run([]string{"mission", "config", "show"}); code != 0 {
		t.Fatalf("config show: exit %d: %s", code, errb)
	}
	for _, w := range []string{`radio_channel = "VHF 147.550" (needs a newer Vigil)`,
		`attachment_budget = 64MiB (this build cannot read it: `, "seal_by_default = true\n"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("config show lacks %q:\n%s", w, out)
		}
	}
	out.Reset()
	c.json = true
	if code := c.run([]string{"mission", "config", "show"}); code != 0 {
		t.Fatalf("config show --json: exit %d: %s", code, errb)
	}
	got := map[string]settingJSON{}
	for _, s := range decodeLines[settingJSON](t, out.String()) {
		got[s.Key] = s
	}
	if s := got["radio_channel"]; s.Known || s.Problem != nil || s.Value != "VHF 147.550" || s.Record != rec.ID.String() {
		t.Errorf("radio_channel: %+v, want unknown, kept as signed", s)
	}
	if s := got["attachment_budget"]; !s.Known || s.Problem == nil || s.Value != "64MiB" {
		t.Errorf("attachment_budget: %+v, want known with a problem", s)
	}
	if s := got["seal_by_default"]; !s.Known || s.Problem != nil || s.Value != "true" || str(s.ByLabel) != "HQ" {
		t.Errorf("seal_by_default: %+v", s)
	}
}
