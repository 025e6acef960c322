package main

// End-to-end tests: TestMain builds the real binary once, and every test
// drives it in temporary homes, as a user or a script would. Homes talk to
// each other only through bundle files and invite codes.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/internal/testkit"
)

var (
	// workDir holds the binary under test and the sandbox.
	workDir string
	// sandbox is the HOME and XDG_DATA_HOME of every child: commands always
	// get --home, so nothing may appear here (TestMain checks).
	sandbox string

	buildOnce sync.Once
	vigilBin  string // the binary under test, once built
	buildErr  error
)

// defaultPass is the store passphrase children get unless a test says
// otherwise.
const defaultPass = "correct horse battery staple"

var (
	idLine     = regexp.MustCompile(`^bafk[a-z2-7]{50,}$`)
	authorLine = regexp.MustCompile(`^12D3KooW[1-9A-HJ-NP-Za-km-z]{40,}$`)
)

func TestMain(m *testing.M) {
	code, err := testMain(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func testMain(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "vigil-e2e-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(dir)
	workDir = dir
	sandbox = filepath.Join(dir, "sandbox")
	if err := os.MkdirAll(filepath.Join(sandbox, "xdg"), 0o700); err != nil {
		return 1, err
	}
	code := m.Run()
	// Every child ran with --home: the user data folder must be untouched.
	var stray []string
	filepath.Walk(sandbox, func(p string, info os.FileInfo, err error) error {
		if err == nil && p != sandbox && p != filepath.Join(sandbox, "xdg") {
			stray = append(stray, p)
		}
		return nil
	})
	if len(stray) > 0 {
		return 1, fmt.Errorf("commands run with --home wrote to the default home: %v", stray)
	}
	// The tests that run the CLI in this process (control socket, node)
	// must leave no goroutine behind.
	if code == 0 {
		if err := testkit.Leaks(); err != nil {
			return 1, err
		}
	}
	return code, nil
}

// binary builds the binary under test once, on first use (benchmark and
// fuzz runs that select no test do not pay for the build).
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go tool is needed to build the binary under test: %w", err)
			return
		}
		bin := filepath.Join(workDir, "vigil")
		// The headless tag leaves the Fyne app out, as the relay build
		// does; every command these tests drive is in it. vigil_cheapkdf
		// makes the stores it creates unlock in microseconds (kdf.go).
		build := exec.Command(goTool, "build", "-buildvcs=false", "-tags", "headless,vigil_cheapkdf", "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		vigilBin = bin
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return vigilBin
}

// childEnv is the environment of a child: a sandboxed HOME, the default
// passphrase, then env (KEY=VALUE; a later entry wins, KEY= unsets in
// effect since vigil treats an empty variable as absent).
func childEnv(env []string) []string {
	base := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + sandbox,
		"XDG_DATA_HOME=" + filepath.Join(sandbox, "xdg"),
		"TMPDIR=" + os.TempDir(),
		"LANG=C.UTF-8",
		"VIGIL_PASSPHRASE=" + defaultPass,
	}
	return append(base, env...)
}

// vigilCmd prepares a child; home "" leaves out --home.
func vigilCmd(ctx context.Context, t testing.TB, home string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	if home != "" {
		args = append([]string{"--home", home}, args...)
	}
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = childEnv(env)
	return cmd
}

// runVigil runs the binary and returns its output and exit code.
func runVigil(t testing.TB, home string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runVigilIn(t, home, env, "", args...)
}

// runVigilIn is runVigil with stdin.
func runVigilIn(t testing.TB, home string, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := vigilCmd(ctx, t, home, env, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		code = ee.ExitCode()
	default:
		t.Fatalf("vigil %s: %v\nstderr: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String(), code
}

// mustRun runs a command that must succeed and returns its trimmed stdout.
func mustRun(t testing.TB, home string, env []string, args ...string) string {
	t.Helper()
	out, errs, code := runVigil(t, home, env, args...)
	if code != 0 {
		t.Fatalf("vigil %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return strings.TrimSpace(out)
}

// mustID runs a command that creates something and checks that it printed
// the new record's ID alone on stdout.
func mustID(t testing.TB, home string, env []string, args ...string) string {
	t.Helper()
	out, errs, code := runVigil(t, home, env, args...)
	if code != 0 {
		t.Fatalf("vigil %s: exit %d\nstderr: %s", strings.Join(args, " "), code, errs)
	}
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 || !idLine.MatchString(strings.TrimSpace(out)) {
		t.Fatalf("vigil %s: stdout should be a record ID alone on a line, got %q", strings.Join(args, " "), out)
	}
	return strings.TrimSpace(out)
}

// wantFailure checks a refused command: the exit code, and on stderr one
// line "vigil: ..." that contains every one of names (case-insensitive).
// A usage error (exit 2) may add one hint line that does not start with
// "vigil:".
func wantFailure(t testing.TB, what string, stdout, stderr string, code, wantCode int, names ...string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", what, code, wantCode, stdout, stderr)
		return
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	vigilLines := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "vigil: ") {
			vigilLines++
		}
	}
	maxLines := 1
	if wantCode == exitUsage {
		maxLines = 2
	}
	if vigilLines != 1 || !strings.HasPrefix(lines[0], "vigil: ") || len(lines) > maxLines {
		t.Errorf("%s: stderr should be one line starting with \"vigil: \", got %q", what, stderr)
		return
	}
	low := strings.ToLower(lines[0])
	for _, n := range names {
		if !strings.Contains(low, strings.ToLower(n)) {
			t.Errorf("%s: the message %q does not name %q", what, lines[0], n)
		}
	}
	if wantCode == exitError && stdout != "" {
		t.Errorf("%s: a failed command printed on stdout: %q", what, stdout)
	}
}

// decodeJSON decodes one JSON object, which must be the whole output.
func decodeJSON[T any](t testing.TB, s string) T {
	t.Helper()
	var v T
	if strings.Count(strings.TrimSpace(s), "\n") != 0 {
		t.Fatalf("want one JSON object on one line, got %q", s)
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return v
}

// decodeLines decodes JSON Lines.
func decodeLines[T any](t testing.TB, s string) []T {
	t.Helper()
	var out []T
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("not a JSON line: %v\n%q", err, line)
		}
		out = append(out, v)
	}
	return out
}

// The JSON shapes the CLI prints (the README's command line).

type statusOut struct {
	Home        string         `json:"home"`
	Author      string         `json:"author"`
	Mission     *string        `json:"mission"`
	MissionName *string        `json:"mission_name"`
	Role        *string        `json:"role"`
	Running     bool           `json:"running"`
	PeerID      *string        `json:"peer_id"`
	Listen      []string       `json:"listen"`
	Peers       []any          `json:"peers"`
	Records     map[string]int `json:"records"`
	Quarantined int            `json:"quarantined"`
	Practice    bool           `json:"practice"`
	// DuplicateInvites: invites redeemed by several devices, none
	// confirmed.
	DuplicateInvites int `json:"duplicate_invites"`
	Coordinators     int `json:"coordinators"`
}

type eventOut struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Author string `json:"author"`
	Status string `json:"status"`
	Note   string `json:"note"`
	Head   bool   `json:"head"`
	Time   string `json:"time"`
}

type reportOut struct {
	ID            string     `json:"id"`
	Category      *string    `json:"category"`
	Family        *string    `json:"family"`
	Severity      *int       `json:"severity"`
	Title         *string    `json:"title"`
	Description   *string    `json:"description"`
	Station       *string    `json:"station"`
	Area          *string    `json:"area"`
	Lat           *float64   `json:"lat"`
	Lon           *float64   `json:"lon"`
	Occurred      *string    `json:"occurred"`
	Created       string     `json:"created"`
	Author        string     `json:"author"`
	Sealed        bool       `json:"sealed"`
	Status        string     `json:"status"`
	Conflict      bool       `json:"conflict"`
	Retracted     bool       `json:"retracted"`
	RetractReason *string    `json:"retract_reason"`
	Amendments    int        `json:"amendments"`
	Flags         []string   `json:"flags"`
	Channel       *string    `json:"channel"`
	Harm          *string    `json:"harm"`
	Reach         *int64     `json:"reach"`
	Source        *string    `json:"source"`
	Delivery      *string    `json:"delivery"`
	History       []eventOut `json:"history"`
}

func (r reportOut) hasFlag(f string) bool { return containsStr(r.Flags, f) }

type memberOut struct {
	Author string   `json:"author"`
	Role   string   `json:"role"`
	Label  *string  `json:"label"`
	Record *string  `json:"record"`
	Issuer *string  `json:"issuer"`
	Flags  []string `json:"flags"`
	// Standing: ok, revoked, invite_void or duplicate.
	Standing string `json:"standing"`
}

type importOut struct {
	Records     int `json:"records"`
	Accepted    int `json:"accepted"`
	Duplicate   int `json:"duplicate"`
	Quarantined int `json:"quarantined"`
	Rejected    int `json:"rejected"`
	Released    int `json:"released"`
	FilesStored int `json:"files_stored"`
	Rejections  []struct {
		ID     string `json:"id"`
		Reason string `json:"reason"`
	} `json:"rejections"`
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func str(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

// Small steps shared by the tests.

// newHome returns a fresh, not yet initialised home folder.
func newHome(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(t.TempDir(), name)
}

// initHome creates a home and returns it with the device's author key.
func initHome(t testing.TB, name string) (home, author string) {
	t.Helper()
	home = newHome(t, name)
	author = mustRun(t, home, nil, "init")
	if !authorLine.MatchString(author) {
		t.Fatalf("init should print the author key alone, got %q", author)
	}
	return home, author
}

// newMission makes a coordinator home with a fresh mission whose reports
// every member reads (--no-seal): most tests follow records between
// members. sealedMission makes one as `mission create` does by default.
func newMission(t testing.TB, name string) (home, author, mission string) {
	t.Helper()
	home, author = initHome(t, name)
	mission = mustID(t, home, nil, "mission", "create", "--name", "Mission "+name, "--no-seal")
	return home, author, mission
}

func sealedMission(t testing.TB, name string) (home, author, mission string) {
	t.Helper()
	home, author = initHome(t, name)
	mission = mustID(t, home, nil, "mission", "create", "--name", "Mission "+name)
	return home, author, mission
}

// invite returns an invite code (printed alone on stdout).
func invite(t testing.TB, home string, args ...string) string {
	t.Helper()
	code := mustRun(t, home, nil, append([]string{"mission", "invite"}, args...)...)
	if code == "" || strings.ContainsAny(code, " \n") {
		t.Fatalf("mission invite should print the code alone, got %q", code)
	}
	return code
}

// member makes a home that joins with code; it returns the home, its author
// key and its member record ID.
func member(t testing.TB, name, code string) (home, author, record string) {
	t.Helper()
	home, author = initHome(t, name)
	record = mustID(t, home, nil, "mission", "join", code)
	return home, author, record
}

// exportBundle writes home's records to a new plain bundle file: most
// tests carry records between homes in any order, and look inside the
// file. membersBundle writes one as `bundle export` does by default,
// encrypted for the mission's members.
func exportBundle(t testing.TB, home string) string {
	t.Helper()
	return exportBundleWith(t, home, "--plain")
}

func membersBundle(t testing.TB, home string) string {
	t.Helper()
	return exportBundleWith(t, home)
}

func exportBundleWith(t testing.TB, home string, flags ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "records.vgb")
	mustRun(t, home, nil, append([]string{"bundle", "export", "--out", path}, flags...)...)
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Fatalf("bundle export wrote nothing at %s: %v", path, err)
	}
	return path
}

// importBundle imports path into home and returns the summary; the import
// must succeed completely.
func importBundle(t testing.TB, home, path string) importOut {
	t.Helper()
	out := mustRun(t, home, nil, "--json", "bundle", "import", path)
	sum := decodeJSON[importOut](t, out)
	if sum.Rejected != 0 || sum.Records != sum.Accepted+sum.Duplicate+sum.Quarantined+sum.Rejected {
		t.Fatalf("import of %s: %+v", path, sum)
	}
	return sum
}

// carry exports from one home and imports into another; carryMembers
// does it with a members' bundle.
func carry(t testing.TB, from, to string) importOut {
	t.Helper()
	return importBundle(t, to, exportBundle(t, from))
}

func carryMembers(t testing.TB, from, to string) importOut {
	t.Helper()
	return importBundle(t, to, membersBundle(t, from))
}

// listReports returns `report list --json` with the given filters, by ID,
// and the IDs in the order printed.
func listReports(t testing.TB, home string, filters ...string) (map[string]reportOut, []string) {
	t.Helper()
	out := mustRun(t, home, nil, append([]string{"report", "list", "--json"}, filters...)...)
	byID := map[string]reportOut{}
	var ids []string
	for _, r := range decodeLines[reportOut](t, out) {
		if _, dup := byID[r.ID]; dup {
			t.Fatalf("report list printed %s twice", r.ID)
		}
		byID[r.ID] = r
		ids = append(ids, r.ID)
	}
	return byID, ids
}

func showReport(t testing.TB, home, id string) reportOut {
	t.Helper()
	return decodeJSON[reportOut](t, mustRun(t, home, nil, "report", "show", id, "--json"))
}

func status(t testing.TB, home string) statusOut {
	t.Helper()
	return decodeJSON[statusOut](t, mustRun(t, home, nil, "status", "--json"))
}

func members(t testing.TB, home string) map[string]memberOut {
	t.Helper()
	out := map[string]memberOut{}
	for _, m := range decodeLines[memberOut](t, mustRun(t, home, nil, "mission", "members", "--json")) {
		out[m.Author] = m
	}
	return out
}

// sameSet reports whether got holds exactly want.
func sameSet(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !containsStr(got, w) {
			return false
		}
	}
	return true
}
