package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/demo"
	"github.com/vigil-mesh/vigil/incident/store"
)

// demoCLI is an in-process cli on home with a passphrase in the
// environment and a clock the day after the practice polling day.
func demoCLI(home string) (*cli, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	c := &cli{home: home, stdin: strings.NewReader(""), stdout: &out, stderr: &errb, now: func() time.Time { return now },
		getenv: func(k string) string {
			if k == "VIGIL_PASSPHRASE" {
				return defaultPass
			}
			return ""
		}}
	return c, &out, &errb
}

// TestDemoCommand: `vigil demo` prints the home alone on stdout, a summary
// and next steps on stderr, and leaves a practice store there that opens
// with the passphrase; a second run refuses the home and changes nothing.
func TestDemoCommand(t *testing.T) {
	home := filepath.Join(t.TempDir(), "practice")
	c, out, errb := demoCLI(home)
	if err := c.cmdDemo([]string{"--seed", "5", "--day", "2026-11-24"}); err != nil {
		t.Fatalf("demo: %v\n%s", err, errb)
	}
	if out.String() != home+"\n" {
		t.Errorf("stdout %q, want the home alone", out)
	}
	for _, want := range []string{"PRACTICE", "300 polling stations", "2026-11-24", "seed 5",
		"vigil --home " + home + " report list", "vigil --home " + home + " gui"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb)
		}
	}
	if strings.Contains(errb.String(), "future_time") {
		t.Errorf("a past polling day drew the future note:\n%s", errb)
	}

	st, err := store.Open(home, []byte(defaultPass), store.Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	counts, _ := st.Counts()
	practice, _ := st.Meta(demo.MetaPractice)
	views, _ := st.List(store.Filter{Category: "infrastructure.internet_shutdown"})
	st.Close()
	if counts[incident.KindReport] < 200 || counts[incident.KindStation] != 300 || string(practice) != "1" {
		t.Errorf("practice store: %v, practice=%q", counts, practice)
	}
	if len(views) == 0 {
		t.Error("no internet shutdown reports")
	}

	c, out, errb = demoCLI(home)
	err = c.cmdDemo(nil)
	if !errors.Is(err, store.ErrExists) || out.Len() != 0 {
		t.Errorf("second demo in %s: %v, stdout %q", home, err, out)
	}
	if err != nil && !strings.Contains(err.Error(), home) {
		t.Errorf("error does not name the home: %v", err)
	}
}

// TestDemoJSON: with --json the summary is one JSON object.
func TestDemoJSON(t *testing.T) {
	home := filepath.Join(t.TempDir(), "p")
	c, out, errb := demoCLI(home)
	c.json = true
	if err := c.cmdDemo([]string{"--day=2026-11-24"}); err != nil {
		t.Fatalf("demo --json: %v\n%s", err, errb)
	}
	var got struct {
		Home     string         `json:"home"`
		Mission  string         `json:"mission"`
		Stations int            `json:"stations"`
		Reports  int            `json:"reports"`
		Records  map[string]int `json:"records"`
		Seed     uint64         `json:"seed"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if got.Home != home || !strings.HasPrefix(got.Mission, "bafk") || got.Stations != 300 ||
		got.Records["report"] != got.Reports || got.Seed != demo.DefaultSeed {
		t.Errorf("summary %+v", got)
	}
}

func TestDemoBadFlags(t *testing.T) {
	home := filepath.Join(t.TempDir(), "p")
	for _, args := range [][]string{{"--day", "24/11/2026"}, {"--seed", "many"}, {"extra"}} {
		c, out, _ := demoCLI(home)
		err := c.cmdDemo(args)
		var ue *usageError
		if !errors.As(err, &ue) || out.Len() != 0 {
			t.Errorf("demo %q: %v, stdout %q; want a usage error", args, err, out)
		}
	}
	if store.Initialised(home) {
		t.Error("a refused demo created a store")
	}
}

// TestPracticeHome: the user's real home is never the practice home.
func TestPracticeHome(t *testing.T) {
	for _, tc := range []struct{ home, def, env, want string }{
		{"/u/.local/share/vigil", "/u/.local/share/vigil", "", "/u/.local/share/vigil-practice"},
		{"/u/.local/share/vigil/", "/u/.local/share/vigil", "", "/u/.local/share/vigil-practice"},
		{"/data/field", "/u/.local/share/vigil", "/data/field", "/data/field-practice"},
		{"/tmp/try", "/u/.local/share/vigil", "/data/field", "/tmp/try"},
		{"/tmp/try", "", "", "/tmp/try"},
	} {
		if got := practiceHome(tc.home, tc.def, tc.env); got != tc.want {
			t.Errorf("practiceHome(%q, %q, %q) = %q, want %q", tc.home, tc.def, tc.env, got, tc.want)
		}
	}
	if got := shellQuote("/tmp/my home"); got != "'/tmp/my home'" {
		t.Errorf("shellQuote = %s", got)
	}
}
