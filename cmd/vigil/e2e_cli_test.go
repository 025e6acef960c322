package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGlobalFlagsAnywhere: --home, --json and --passphrase-file mean the
// same before and after the command, and status --json has the contract's
// keys.
func TestGlobalFlagsAnywhere(t *testing.T) {
	t.Parallel()
	home, author, mission := newMission(t, "home")
	report := mustID(t, home, nil, "report", "add", "--category", "other", "--severity", "1", "--title", "Quiet morning")

	variants := [][]string{
		{"--home", home, "--json", "status"},
		{"status", "--home", home, "--json"},
		{"--json", "status", "--home=" + home},
		{"status", "--json=true", "--home", home},
	}
	var first string
	for i, args := range variants {
		out := mustRun(t, "", nil, args...)
		if i == 0 {
			first = out
		} else if out != first {
			t.Errorf("vigil %v printed\n%s\nwant, as with %v,\n%s", args, out, variants[0], first)
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(first), &obj); err != nil {
		t.Fatalf("status --json: %v: %s", err, first)
	}
	for _, k := range []string{"author", "mission", "role", "running", "peer_id", "listen", "peers", "records"} {
		if _, ok := obj[k]; !ok {
			t.Errorf("status --json lacks %q: %s", k, first)
		}
	}
	st := decodeJSON[statusOut](t, first)
	if st.Author != author || str(st.Mission) != mission || str(st.Role) != "coordinator" || st.Running ||
		st.PeerID != nil || st.Listen == nil || len(st.Listen) != 0 || st.Peers == nil || len(st.Peers) != 0 ||
		st.Records["report"] != 1 || st.Records["mission"] != 1 {
		t.Errorf("status --json: %s", first)
	}
	if strings.Contains(string(obj["listen"]), "null") || strings.Contains(string(obj["peers"]), "null") {
		t.Errorf("listen and peers should be empty lists when no node runs: %s", first)
	}

	// The text form is not JSON.
	if out := mustRun(t, home, nil, "status"); json.Valid([]byte(out)) || !strings.Contains(out, author) {
		t.Errorf("status without --json: %q", out)
	}

	// --passphrase-file, before or after, with no $VIGIL_PASSPHRASE.
	pf := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(pf, []byte(defaultPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noEnv := []string{"VIGIL_PASSPHRASE="}
	a := mustRun(t, "", noEnv, "--passphrase-file", pf, "--home", home, "report", "list", "--json")
	b := mustRun(t, home, noEnv, "report", "list", "--json", "--passphrase-file="+pf)
	c := mustRun(t, home, nil, "--json", "report", "list")
	if a != b || a != c {
		t.Errorf("report list differs with the flags moved:\n%s\n%s\n%s", a, b, c)
	}
	if rs := decodeLines[reportOut](t, a); len(rs) != 1 || rs[0].ID != report {
		t.Errorf("report list --json: %s", a)
	}
	out, errs, code := runVigil(t, home, noEnv, "status")
	wantFailure(t, "no passphrase at all", out, errs, code, exitError, "passphrase")
}

// TestPassphraseDuressWipe: changing the passphrase, the duress passphrase
// and the panic wipe.
func TestPassphraseDuressWipe(t *testing.T) {
	t.Parallel()
	home, author, mission := newMission(t, "phone")
	mustID(t, home, nil, "report", "add", "--category", "other", "--severity", "1", "--title", "Before the change")

	// A wrong current passphrase changes nothing.
	out, errs, code := runVigil(t, home, []string{"VIGIL_PASSPHRASE=guess", "VIGIL_NEW_PASSPHRASE=taken over"}, "passphrase", "change")
	wantFailure(t, "passphrase change with a wrong passphrase", out, errs, code, exitError, "passphrase")
	out, errs, code = runVigil(t, home, []string{"VIGIL_PASSPHRASE=taken over"}, "status")
	wantFailure(t, "the passphrase a failed change named", out, errs, code, exitError, "wrong passphrase")

	const second = "second passphrase"
	mustRun(t, home, []string{"VIGIL_NEW_PASSPHRASE=" + second}, "passphrase", "change")
	out, errs, code = runVigil(t, home, nil, "status")
	wantFailure(t, "the old passphrase after a change", out, errs, code, exitError, "wrong passphrase")
	withSecond := []string{"VIGIL_PASSPHRASE=" + second}
	st := decodeJSON[statusOut](t, mustRun(t, home, withSecond, "status", "--json"))
	if st.Author != author || str(st.Mission) != mission || st.Records["report"] != 1 {
		t.Fatalf("after the change the store should be intact: %+v", st)
	}

	// Duress: whoever forces the phone open gets an empty store, and the
	// real passphrase is gone with the data.
	const duress = "duress passphrase"
	mustRun(t, home, []string{"VIGIL_PASSPHRASE=" + second, "VIGIL_NEW_PASSPHRASE=" + duress}, "passphrase", "change", "--duress")
	if st := decodeJSON[statusOut](t, mustRun(t, home, withSecond, "status", "--json")); str(st.Mission) != mission {
		t.Fatalf("setting a duress passphrase changed the real store: %+v", st)
	}
	st = decodeJSON[statusOut](t, mustRun(t, home, []string{"VIGIL_PASSPHRASE=" + duress}, "status", "--json"))
	if st.Mission != nil || st.Role != nil || st.Author == author {
		t.Errorf("the duress passphrase should open an empty store with a new device key: %+v", st)
	}
	for k, n := range st.Records {
		if n != 0 {
			t.Errorf("the duress store holds %d %s records", n, k)
		}
	}
	out, errs, code = runVigil(t, home, withSecond, "report", "list")
	wantFailure(t, "the real passphrase after duress", out, errs, code, exitError, "wrong passphrase")

	// Wipe: no passphrase needed, and afterwards the home reads as one
	// never used (nothing says it was wiped, or when).
	mustRun(t, home, []string{"VIGIL_PASSPHRASE="}, "wipe", "--yes")
	for _, args := range [][]string{{"status"}, {"report", "list"}, {"mission", "members"}} {
		out, errs, code = runVigil(t, home, nil, args...)
		wantFailure(t, "vigil "+strings.Join(args, " ")+" after wipe", out, errs, code, exitError, "no Vigil store here")
	}
	if _, err := os.Stat(filepath.Join(home, "data")); !os.IsNotExist(err) {
		t.Errorf("wipe left the data folder: %v", err)
	}
	newAuthor := mustRun(t, home, nil, "init")
	if !authorLine.MatchString(newAuthor) || newAuthor == author {
		t.Errorf("init after wipe printed %q, want a new author key", newAuthor)
	}
	if st := status(t, home); st.Mission != nil || st.Author != newAuthor || st.Records["report"] != 0 {
		t.Errorf("the store after wipe and init: %+v", st)
	}
	out, errs, code = runVigil(t, home, nil, "init")
	wantFailure(t, "init over a live store", out, errs, code, exitError, "already exists")
}
