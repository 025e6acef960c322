package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
)

// snapshot is what a refused command must leave as it was.
type snapshot struct {
	st      statusOut
	reports string // report list --json, verbatim
}

func takeSnapshot(t *testing.T, home string) snapshot {
	t.Helper()
	s := snapshot{st: status(t, home)}
	if s.st.Mission != nil { // without a mission there is nothing to list
		s.reports = mustRun(t, home, nil, "report", "list", "--json")
	}
	return s
}

func (s snapshot) same(o snapshot) bool {
	return sameCounts(s.st, o.st) && s.reports == o.reports && strPtrEq(s.st.Mission, o.st.Mission)
}

func strPtrEq(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// readBundle parses a bundle file with the real reader.
func readBundle(t *testing.T, path string) (bundle.Header, [][]byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hdr, raws, err := bundle.Read(f, 1<<30)
	if err != nil {
		t.Fatalf("bundle %s: %v", path, err)
	}
	return hdr, raws
}

// writeBundle frames raws as a sound bundle of mission.
func writeBundle(t *testing.T, mission incident.ID, raws [][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crafted.vgb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := bundle.NewWriter(f, mission, time.Now().UnixMilli(), len(raws))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range raws {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// keyFiles returns the plain files at the top of a home (the wrapped store
// key and the like), but not the lock file, which every command rewrites.
func keyFiles(t *testing.T, home string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(home)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.Type().IsRegular() && e.Name() != "LOCK" {
			b, err := os.ReadFile(filepath.Join(home, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = string(b)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no key file in %s", home)
	}
	return out
}

// TestBadInput: every mistake and every forgery gets a one-line error that
// names the problem, and the store is left exactly as it was.
func TestBadInput(t *testing.T) {
	t.Parallel()
	coord, _, missionText := newMission(t, "coordinator")
	mission, err := incident.ParseID(missionText)
	if err != nil {
		t.Fatal(err)
	}
	obs, _, _ := member(t, "observer", invite(t, coord, "--role", "observer"))
	honest := mustID(t, obs, nil, "report", "add", "--category", "polling.violence", "--severity", "4", "--title", "Fight at the gate")
	carry(t, obs, coord)
	forgeMe := mustID(t, obs, nil, "report", "add", "--category", "polling.tally_discrepancy", "--severity", "3",
		"--title", "Tally says 312 votes", "--station", "PS-0001")
	obsBundle := exportBundle(t, obs)

	// A device in a mission of its own.
	foreign, _, _ := newMission(t, "foreign")
	mustID(t, foreign, nil, "report", "add", "--category", "other", "--severity", "1", "--title", "From elsewhere")
	foreignBundle := exportBundle(t, foreign)

	// A device with no mission, for invite mistakes.
	newcomer, _ := initHome(t, "newcomer")

	start := takeSnapshot(t, coord)
	if _, ids := listReports(t, coord); !sameSet(ids, honest) {
		t.Fatalf("setup: coordinator holds %v, want %s", ids, honest)
	}
	newcomerStart := takeSnapshot(t, newcomer)
	keysBefore := keyFiles(t, coord)

	// Each case names the home it runs on. The store only ever grows, so
	// comparing each home with its snapshot once, after all the cases,
	// shows that none of them stored anything (a key derivation per
	// command makes a check after each case cost seconds).
	check := func(name, home string, wantCode int, args []string, names ...string) {
		t.Helper()
		out, errs, code := runVigil(t, home, nil, args...)
		wantFailure(t, name, out, errs, code, wantCode, names...)
	}
	add := func(extra ...string) []string {
		return append([]string{"report", "add", "--category", "polling.closure", "--severity", "2", "--title", "Closed early"}, extra...)
	}

	// Forged: a real record whose title was changed in transit, framed in
	// a sound bundle next to records the coordinator already holds.
	hdr, raws := readBundle(t, obsBundle)
	var forged []byte
	crafted := make([][]byte, 0, len(raws))
	for _, raw := range raws {
		if rec, err := incident.Decode(raw); err == nil && rec.ID.String() == forgeMe {
			forged = bytes.Replace(raw, []byte("312 votes"), []byte("812 votes"), 1)
			raw = forged
		}
		crafted = append(crafted, raw)
	}
	if forged == nil {
		t.Fatalf("report %s is not in the observer's bundle", forgeMe)
	}
	if _, err := incident.Decode(forged); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("the altered record should be well-formed with a bad signature; Decode says %v", err)
	}
	forgedID := incident.IDOf(forged).String()
	forgedBundle := writeBundle(t, hdr.Mission, crafted)
	out, errs, code := runVigil(t, coord, nil, "--json", "bundle", "import", forgedBundle)
	if code != exitPartial {
		t.Errorf("forged record: exit %d, want %d\nstderr: %s", code, exitPartial, errs)
	}
	sum := decodeJSON[importOut](t, out)
	if sum.Records != len(raws) || sum.Rejected != 1 || sum.Accepted != 0 || sum.Duplicate != len(raws)-1 ||
		len(sum.Rejections) != 1 || sum.Rejections[0].ID != forgedID || !strings.Contains(sum.Rejections[0].Reason, "signature") {
		t.Errorf("forged record import: %+v, want one rejection of %s for its signature, the rest duplicates", sum, forgedID)
	}
	if lines := strings.Split(strings.TrimSpace(errs), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "vigil: ") ||
		!strings.Contains(lines[0], "rejected") {
		t.Errorf("forged record with --json: stderr %q, want one line saying records were rejected", errs)
	}
	// Without --json the rejection is listed on stderr, by ID and reason.
	_, errs, code = runVigil(t, coord, nil, "bundle", "import", forgedBundle)
	if code != exitPartial || !strings.Contains(errs, forgedID) || !strings.Contains(errs, "signature") {
		t.Errorf("forged record, text: exit %d, stderr %q; want exit 3 listing %s and its signature", code, errs, forgedID)
	}
	if got := takeSnapshot(t, coord); !got.same(start) {
		t.Errorf("a forged record changed the store: %v -> %v", start.st.Records, got.st.Records)
	}
	if _, ids := listReports(t, coord); containsStr(ids, forgedID) || containsStr(ids, forgeMe) {
		t.Errorf("after the forged import the coordinator lists %v", ids)
	}

	// A non-member device's records: its own mission's bundle is refused
	// whole; re-framed as this mission's bundle, each record is rejected.
	check("bundle of another mission", coord, exitError,
		[]string{"bundle", "import", foreignBundle}, "mission", "nothing was stored")
	_, foreignRaws := readBundle(t, foreignBundle)
	out, errs, code = runVigil(t, coord, nil, "--json", "bundle", "import", writeBundle(t, mission, foreignRaws))
	sum = decodeJSON[importOut](t, out)
	if code != exitPartial || sum.Rejected != len(foreignRaws) || sum.Accepted+sum.Quarantined != 0 {
		t.Errorf("another mission's records in this mission's frame: exit %d, %+v; want exit 3, all %d rejected", code, sum, len(foreignRaws))
	}
	for _, r := range sum.Rejections {
		if !strings.Contains(r.Reason, "mission") {
			t.Errorf("rejection of %s does not say it belongs to another mission: %q", r.ID, r.Reason)
		}
	}

	// Framing problems reject the whole file.
	whole, err := os.ReadFile(obsBundle)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated.vgb")
	os.WriteFile(truncated, whole[:len(whole)-100], 0o600)
	check("truncated bundle", coord, exitError, []string{"bundle", "import", truncated}, "damaged", "nothing was stored")
	empty := filepath.Join(t.TempDir(), "empty.vgb")
	os.WriteFile(empty, nil, 0o600)
	check("empty bundle", coord, exitError, []string{"bundle", "import", empty}, "empty")
	check("missing bundle", coord, exitError, []string{"bundle", "import", filepath.Join(t.TempDir(), "absent.vgb")}, "absent.vgb")

	// Report fields.
	check("100 KB description", coord, exitError,
		add("--description", strings.Repeat("a", 100_000)), "description", "10000")
	check("invalid UTF-8 title", coord, exitError,
		[]string{"report", "add", "--category", "other", "--severity", "1", "--title", "bad \xff\xfe title"}, "title", "UTF-8")
	check("unknown category", coord, exitError,
		[]string{"report", "add", "--category", "polling.alien_landing", "--severity", "1", "--title", "x"}, "category", "polling.alien_landing")
	check("latitude 200", coord, exitError, add("--lat", "200", "--lon", "0"), "lat", "200")
	check("severity 9", coord, exitError,
		[]string{"report", "add", "--category", "other", "--severity", "9", "--title", "x"}, "severity", "9")
	check("severity 0", coord, exitError,
		[]string{"report", "add", "--category", "other", "--severity", "0", "--title", "x"}, "severity", "0")
	check("review of an unknown report", coord, exitError,
		[]string{"review", forgedID, "--status", "verified"}, "no report", forgedID)

	// Usage mistakes.
	check("unknown command", coord, exitUsage, []string{"frobnicate"}, "unknown command", "frobnicate")
	check("missing --title", coord, exitUsage,
		[]string{"report", "add", "--category", "other", "--severity", "1"}, "--title")
	check("--lat without --lon", coord, exitUsage, add("--lat", "1"), "--lat", "--lon")
	check("unknown flag", coord, exitUsage, add("--colour", "red"), "colour")

	// The wrong passphrase opens nothing and rewrites nothing.
	out, errs, code = runVigil(t, coord, []string{"VIGIL_PASSPHRASE=not the passphrase"}, "report", "list")
	wantFailure(t, "wrong passphrase", out, errs, code, exitError, "passphrase")
	if keysAfter := keyFiles(t, coord); !reflect.DeepEqual(keysBefore, keysAfter) {
		t.Error("a wrong passphrase rewrote the files next to the data folder (the wrapped key)")
	}

	// Invites: altered, expired, for another mission.
	code1 := invite(t, coord, "--role", "observer")
	i := len(code1) / 2
	swap := byte('A')
	if code1[i] == 'A' {
		swap = 'B'
	}
	tampered := code1[:i] + string(swap) + code1[i+1:]
	check("tampered invite", newcomer, exitError, []string{"mission", "join", tampered}, "invite code")
	check("cut-off invite", newcomer, exitError, []string{"mission", "join", code1[:len(code1)-7]}, "invite code")
	expired := invite(t, coord, "--role", "observer", "--expires", "1ms")
	// Wall time must pass the invite's 1 ms life on the clock the child
	// reads, which the test cannot move; this waits for no outcome.
	time.Sleep(20 * time.Millisecond)
	check("expired invite", newcomer, exitError, []string{"mission", "join", expired}, "expired")
	obsStart := takeSnapshot(t, obs)
	check("invite of another mission", obs, exitError,
		[]string{"mission", "join", invite(t, foreign, "--role", "observer")}, "mission")
	if got := takeSnapshot(t, obs); !got.same(obsStart) {
		t.Errorf("a refused join changed the observer's store: %v -> %v", obsStart.st.Records, got.st.Records)
	}
	if got := takeSnapshot(t, newcomer); !got.same(newcomerStart) || got.st.Mission != nil {
		t.Errorf("refused joins changed the newcomer's store: %+v", got.st)
	}

	if got := takeSnapshot(t, coord); !got.same(start) {
		t.Errorf("bad input changed the coordinator's store:\nbefore %v\n%s\nafter %v\n%s",
			start.st.Records, start.reports, got.st.Records, got.reports)
	}

	// A device that never joined signs a report for this mission: it is
	// not listed; it waits for a member record that never comes.
	seed := make([]byte, 32)
	rand.Read(seed)
	signer, err := incident.NewSigner(seed)
	if err != nil {
		t.Fatal(err)
	}
	outsider, err := signer.Sign(mission, incident.KindReport, time.Now(), incident.ReportPayload{
		Category: "polling.violence", Severity: 4, Occurred: time.Now().UnixMilli(), Title: "Planted report"})
	if err != nil {
		t.Fatal(err)
	}
	out = mustRun(t, coord, nil, "--json", "bundle", "import", writeBundle(t, mission, [][]byte{outsider.Raw}))
	if sum := decodeJSON[importOut](t, out); sum.Quarantined != 1 || sum.Accepted != 0 {
		t.Errorf("a non-member's report: %+v, want it quarantined", sum)
	}
	got := takeSnapshot(t, coord)
	if got.reports != start.reports || got.st.Records["report"] != start.st.Records["report"] || got.st.Quarantined != start.st.Quarantined+1 {
		t.Errorf("a non-member's report should wait unlisted: records %v quarantined %d", got.st.Records, got.st.Quarantined)
	}
}
