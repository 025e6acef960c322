package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/internal/testrec"
)

// newerRecords plays the part of a newer Vigil on the observer's device:
// it opens the observer's home with its passphrase and stores, signed with
// the device's own key, two records of a kind this build does not know
// (bulletin), one of another (petition) and a report with a field it does not
// know (16) — what a later build would write there. It returns them by
// name.
func newerRecords(t *testing.T, home string) map[string]*incident.Signed {
	t.Helper()
	st, err := store.Open(home, []byte(defaultPass), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ms, err := st.Mission()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	out := map[string]*incident.Signed{}
	for name, r := range map[string]struct {
		kind    incident.Kind
		payload any
	}{
		"bulletin 1": {"bulletin", map[uint64]any{1: "Stations close at 18:00", 2: "PS-0042"}},
		"bulletin 2": {"bulletin", map[uint64]any{1: "Queue marshals at the gate"}},
		"petition":   {"petition", map[uint64]any{1: "PS-0042", 2: map[uint64]any{1: uint64(312), 2: uint64(4)}}},
		"report":     {incident.KindReport, map[uint64]any{1: "polling.materials_missing", 2: uint64(3), 3: now.UnixMilli(), 9: "Ballots short", 16: "form-7"}},
	} {
		rec, err := st.Signer().Sign(ms.ID, r.kind, now, r.payload)
		if err != nil {
			t.Fatal(err)
		}
		if res := st.Add(rec.Raw, "newer build"); res.Outcome != store.Accepted {
			t.Fatalf("storing the %s: %v %v", name, res.Outcome, res.Err)
		}
		out[name] = rec
	}
	return out
}

// Records a newer Vigil wrote on one member's device travel to the others
// in bundles, are exported in JSONL and evidence packages, verify with a
// note of what this version cannot read, and show in status and report
// listings; a record of a newer schema version is refused, never called
// forged.
func TestNewerRecordsAcrossHomes(t *testing.T) {
	t.Parallel()
	coord, _, mission := newMission(t, "coordinator")
	obs, _, _ := member(t, "observer", invite(t, coord, "--role", "observer"))
	second, _, _ := member(t, "second", invite(t, coord, "--role", "observer"))
	plain := mustID(t, obs, nil, "report", "add", "--category", "polling.late_opening", "--severity", "2", "--title", "Opened late")
	recs := newerRecords(t, obs)
	rep := recs["report"].ID.String()
	wantNote := map[string]string{plain: ""}
	for name, r := range recs {
		if name == "report" {
			wantNote[r.ID.String()] = " (needs a newer Vigil: field 16)"
		} else {
			wantNote[r.ID.String()] = " (needs a newer Vigil: kind " + string(r.Kind) + ")"
		}
	}

	// Where the observer sees them.
	st := status(t, obs)
	if st.Records["bulletin"] != 2 || st.Records["petition"] != 1 {
		t.Errorf("status records %v; want bulletin=2 petition=1", st.Records)
	}
	if out := mustRun(t, obs, nil, "status"); !strings.Contains(out, "3 records need a newer Vigil (bulletin: 2, petition: 1)") {
		t.Errorf("status does not count the newer records:\n%s", out)
	}
	list := mustRun(t, obs, nil, "report", "list")
	for _, line := range strings.Split(list, "\n") {
		if strings.HasPrefix(line, rep) != strings.HasSuffix(line, "(needs a newer Vigil to show everything)") {
			t.Errorf("report list line %q: the newer note belongs to %s only", line, rep)
		}
	}
	if r := showReport(t, obs, rep); !r.hasFlag(incident.FlagNewerFields) || str(r.Title) != "Ballots short" {
		t.Errorf("report show --json: title %s flags %v; want the title and %s", str(r.Title), r.Flags, incident.FlagNewerFields)
	}
	if out := mustRun(t, obs, nil, "report", "show", rep); !strings.Contains(out, "needs a newer Vigil to show everything") {
		t.Errorf("report show does not say it needs a newer Vigil:\n%s", out)
	}

	// A bundle carries them; verify checks each, noting what it cannot read.
	stick := exportBundle(t, obs)
	checkVerified(t, obs, stick, wantNote)
	sum := decodeJSON[struct {
		importOut
		NeedsNewer int `json:"needs_newer_vigil"`
	}](t, mustRun(t, coord, nil, "--json", "bundle", "import", stick))
	if sum.Rejected != 0 || sum.Quarantined != 0 || sum.NeedsNewer != 4 {
		t.Fatalf("coordinator's import: %+v; want every record in, 4 needing a newer Vigil", sum)
	}
	out := mustRun(t, second, nil, "bundle", "import", stick)
	if !strings.Contains(out, "4 of the accepted need a newer Vigil to read whole") {
		t.Errorf("the second observer's import summary does not count the newer records:\n%s", out)
	}
	for _, home := range []string{coord, second} {
		if out := mustRun(t, home, nil, "status"); !strings.Contains(out, "3 records need a newer Vigil (bulletin: 2, petition: 1)") {
			t.Errorf("status after the import does not count the newer records:\n%s", out)
		}
	}

	// The coordinator's JSONL export and evidence package carry them too.
	dir := t.TempDir()
	jsonl := filepath.Join(dir, "log.jsonl")
	mustRun(t, coord, nil, "export", "--format", "jsonl", "--out", jsonl)
	lines := decodeLines[map[string]any](t, readFile(t, jsonl))
	newerLines := 0
	for _, l := range lines {
		if l["needs_newer_vigil"] == true {
			newerLines++
			r := recs["petition"]
			if l["kind"] == "bulletin" {
				r = recs["bulletin 1"]
				if l["id"] != r.ID.String() {
					r = recs["bulletin 2"]
				}
			}
			if l["id"] != r.ID.String() || l["record"] != base64.StdEncoding.EncodeToString(r.Raw) || l["author"] != r.AuthorKey().String() {
				t.Errorf("newer line %v does not carry the %s record", l, r.Kind)
			}
		}
		if l["id"] == rep && !containsAny(l["flags"], incident.FlagNewerFields) {
			t.Errorf("the report's JSONL line lost the %s flag: %v", incident.FlagNewerFields, l["flags"])
		}
	}
	if newerLines != 3 {
		t.Errorf("%d newer lines in the JSONL export; want 3", newerLines)
	}
	checkVerified(t, coord, jsonl, wantNote)
	evidence := filepath.Join(dir, "case.zip")
	mustRun(t, coord, nil, "export", "--format", "evidence", "--out", evidence)
	out, _, code := runVigil(t, coord, nil, "verify", evidence, "--mission", mission)
	if code != 0 {
		t.Fatalf("verify of the evidence package: exit %d\n%s", code, out)
	}
	for id, note := range wantNote {
		if note != "" && !regexp.MustCompile(`(?m)^`+id+` OK \(no checkpoint covers it; needs a newer Vigil: `).MatchString(out) {
			t.Errorf("the evidence package's verdict of %s lacks the newer note:\n%s", id, out)
		}
	}
	public := filepath.Join(dir, "public.jsonl")
	mustRun(t, coord, nil, "export", "--format", "jsonl", "--public", "--out", public)
	if p := readFile(t, public); strings.Contains(p, "Ballots short") || strings.Contains(p, recs["petition"].ID.String()) ||
		!strings.Contains(p, "1 reports with fields a newer version added, 3 records of kinds it does not know") {
		t.Errorf("public export:\n%s", p)
	}

	// A record of a newer schema version: refused with that reason, the
	// rest of the bundle stored, nothing called forged.
	before := status(t, coord)
	v2 := newerVersion(t, obs, mission)
	_, held, err := bundle.Parse([]byte(readFile(t, stick)))
	if err != nil {
		t.Fatal(err)
	}
	crafted := writeBundle(t, mustParseID(t, mission), append(held, v2))
	stdout, stderr, code := runVigil(t, coord, nil, "--json", "bundle", "import", crafted)
	got := decodeJSON[importOut](t, stdout)
	if code != exitPartial || got.Rejected != 1 || got.Duplicate != len(held) || !strings.Contains(got.Rejections[0].Reason, "needs a newer Vigil") {
		t.Errorf("import of a version %d record: exit %d %+v\n%s", incident.SchemaVersion+1, code, got, stderr)
	}
	if after := status(t, coord); !sameCounts(before, after) {
		t.Errorf("the refused record changed the store: %v -> %v", before.Records, after.Records)
	}
	stdout, stderr, code = runVigil(t, coord, nil, "verify", crafted)
	if code != exitError || !strings.Contains(stdout, incident.IDOf(v2).String()+" UNCHECKED needs a newer Vigil to check") ||
		strings.Contains(stdout, "BAD") || !strings.Contains(stderr, "nothing was found forged") {
		t.Errorf("verify of a version %d record: exit %d\nstdout: %s\nstderr: %s", incident.SchemaVersion+1, code, stdout, stderr)
	}
}

// checkVerified runs verify on path and checks that it passes, with one
// line per record of want, each carrying its note.
func checkVerified(t *testing.T, home, path string, want map[string]string) {
	t.Helper()
	out, errs, code := runVigil(t, home, nil, "verify", path)
	if code != 0 || !strings.Contains(errs, "4 records hold what this version cannot read") {
		t.Fatalf("verify %s: exit %d\nstdout: %s\nstderr: %s", filepath.Base(path), code, out, errs)
	}
	for id, note := range want {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(id+" OK"+note) + `$`).MatchString(out) {
			t.Errorf("verify %s: no line %q in\n%s", filepath.Base(path), id+" OK"+note, out)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func containsAny(list any, s string) bool {
	l, _ := list.([]any)
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func mustParseID(t *testing.T, s string) incident.ID {
	t.Helper()
	id, err := incident.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// newerVersion signs, with the device key of home, a report in the schema
// version after this build's, as a later Vigil that changed the envelope
// would.
func newerVersion(t *testing.T, home, mission string) []byte {
	t.Helper()
	st, err := store.Open(home, []byte(defaultPass), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return testrec.NewerVersion(t, st.Signer(), mustParseID(t, mission))
}
