package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident/store"
)

// Passphrases that break the rule for a new one, with what the refusal
// names. The app refuses the same (app/passphrase_test.go).
var weakPassphrases = []struct {
	name, pass, says string
}{
	{"three letters", "abc", "fewer than 8 characters"},
	{"seven multibyte runes (14 bytes)", "çàéîõüñ", "fewer than 8 characters"},
	{"only spaces", "          ", "only spaces"},
	{"one character repeated", "zzzzzzzzzz", "one character repeated"},
}

// eightRunes is 8 characters in 16 bytes: long enough.
const eightRunes = "çàéîõüñø"

// writeSecret writes a passphrase file, with the newline an editor adds.
func writeSecret(t *testing.T, pass string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(f, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestInitRefusesWeakPassphrase: `vigil init` (and `vigil demo`, which
// creates a store too) hold $VIGIL_PASSPHRASE and --passphrase-file to the
// rule for a new passphrase: exit 1, one line naming the rule, no store.
// Eight characters of two bytes each are enough.
func TestInitRefusesWeakPassphrase(t *testing.T) {
	t.Parallel()
	for _, w := range weakPassphrases {
		for _, src := range []string{"env", "file"} {
			for _, cmd := range []string{"init", "demo"} {
				home := newHome(t, "weak")
				env := []string{"VIGIL_PASSPHRASE=" + w.pass}
				args := []string{cmd}
				if src == "file" {
					env = []string{"VIGIL_PASSPHRASE="}
					args = append(args, "--passphrase-file", writeSecret(t, w.pass))
				}
				what := cmd + " with " + w.name + " from " + src
				out, errs, code := runVigil(t, home, env, args...)
				wantFailure(t, what, out, errs, code, exitError, w.says, "no ", "created")
				if strings.Contains(errs, w.pass) && strings.TrimSpace(w.pass) != "" {
					t.Errorf("%s: the message shows the passphrase: %q", what, errs)
				}
				if store.Initialised(home) {
					t.Errorf("%s: a store was created", what)
				}
				if _, err := os.Stat(home); !os.IsNotExist(err) {
					t.Errorf("%s: the home was made (%v)", what, err)
				}
			}
		}
	}

	home := newHome(t, "eight")
	author := mustRun(t, home, []string{"VIGIL_PASSPHRASE=" + eightRunes}, "init")
	if !authorLine.MatchString(author) {
		t.Fatalf("init with 8 two-byte characters printed %q", author)
	}
	if st := decodeJSON[statusOut](t, mustRun(t, home, []string{"VIGIL_PASSPHRASE=" + eightRunes}, "status", "--json")); st.Author != author {
		t.Errorf("the store made with 8 two-byte characters: %+v", st)
	}
}

// TestChangeRefusesWeakPassphrase: `passphrase change` and `passphrase
// change --duress` refuse a weak new passphrase (and a duress passphrase
// equal to the real one) before touching the store: the key file is
// unchanged byte for byte and the old passphrase still opens it.
func TestChangeRefusesWeakPassphrase(t *testing.T) {
	t.Parallel()
	home, author := initHome(t, "phone")
	keyFile := filepath.Join(home, "key.json")
	before := mustRead(t, keyFile)

	type attempt struct {
		what string
		env  []string
		args []string
		says []string
	}
	var attempts []attempt
	for _, w := range weakPassphrases {
		for _, duress := range []bool{false, true} {
			kind, args := "new", []string{"passphrase", "change"}
			if duress {
				kind, args = "duress", append(args, "--duress")
			}
			attempts = append(attempts,
				attempt{kind + " " + w.name + " from the environment", []string{"VIGIL_NEW_PASSPHRASE=" + w.pass}, args,
					[]string{kind + " passphrase", "VIGIL_NEW_PASSPHRASE", w.says, "nothing was changed"}},
				attempt{kind + " " + w.name + " from a file", nil, append(args[:len(args):len(args)], "--new-passphrase-file", writeSecret(t, w.pass)),
					[]string{kind + " passphrase", w.says, "nothing was changed"}})
		}
	}
	attempts = append(attempts, attempt{"duress equal to the real passphrase", []string{"VIGIL_NEW_PASSPHRASE=" + defaultPass},
		[]string{"passphrase", "change", "--duress"}, []string{"duress passphrase", "own passphrase", "nothing was changed"}})

	for _, a := range attempts {
		out, errs, code := runVigil(t, home, a.env, a.args...)
		wantFailure(t, a.what, out, errs, code, exitError, a.says...)
		if after := mustRead(t, keyFile); !bytes.Equal(before, after) {
			t.Fatalf("%s: the key file changed", a.what)
		}
	}
	if st := status(t, home); st.Author != author {
		t.Fatalf("the old passphrase after refused changes: %+v", st)
	}
	// Eight two-byte characters are accepted, as a duress passphrase too.
	mustRun(t, home, []string{"VIGIL_NEW_PASSPHRASE=" + eightRunes}, "passphrase", "change", "--duress")
	mustRun(t, home, []string{"VIGIL_NEW_PASSPHRASE=second " + eightRunes}, "passphrase", "change")
	if st := decodeJSON[statusOut](t, mustRun(t, home, []string{"VIGIL_PASSPHRASE=second " + eightRunes}, "status", "--json")); st.Author != author {
		t.Fatalf("after the change: %+v", st)
	}
}

// TestBundlePassphraseRule: `bundle export --passphrase-file` holds the
// bundle's passphrase to the same rule and writes nothing when it breaks
// it; importing takes the passphrase as it is.
func TestBundlePassphraseRule(t *testing.T) {
	t.Parallel()
	home, _, _ := newMission(t, "coord")
	outDir := t.TempDir()
	for _, w := range weakPassphrases {
		what := "bundle export with " + w.name
		out, errs, code := runVigil(t, home, nil, "bundle", "export", "--out", filepath.Join(outDir, "b.vgb"), "--passphrase-file", writeSecret(t, w.pass))
		wantFailure(t, what, out, errs, code, exitError, "bundle passphrase", w.says, "no bundle was written")
		if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
			t.Fatalf("%s: %d files left in the output folder", what, len(ents))
		}
	}
	pf := writeSecret(t, eightRunes)
	b := filepath.Join(outDir, "b.vgb")
	mustRun(t, home, nil, "bundle", "export", "--out", b, "--passphrase-file", pf)
	if data := mustRead(t, b); !bytes.HasPrefix(data, []byte("age-encryption.org/v1")) {
		t.Fatal("the bundle with 8 two-byte characters is not encrypted")
	}
	// Opening takes the passphrase as it is given (here the same good one).
	mustRun(t, home, nil, "bundle", "import", b, "--passphrase-file", pf)
}

// TestShortPassphraseFromOlderBuild: a home whose passphrase was chosen
// before the rule (made here straight through the store, as an older build
// made it) keeps opening with it, and can move to a passphrase that
// follows the rule.
func TestShortPassphraseFromOlderBuild(t *testing.T) {
	t.Parallel()
	const old = "abc"
	home := newHome(t, "older")
	s, err := store.Init(home, []byte(old), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	author := s.Author().String()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	withOld := []string{"VIGIL_PASSPHRASE=" + old}
	if st := decodeJSON[statusOut](t, mustRun(t, home, withOld, "status", "--json")); st.Author != author {
		t.Fatalf("the older home with its short passphrase: %+v", st)
	}
	mustID(t, home, withOld, "mission", "create", "--name", "Older")
	// Moving to another short one is refused; to a good one works.
	out, errs, code := runVigil(t, home, append(withOld, "VIGIL_NEW_PASSPHRASE=abcd"), "passphrase", "change")
	wantFailure(t, "older home, short new passphrase", out, errs, code, exitError, "fewer than 8 characters")
	mustRun(t, home, append(withOld, "VIGIL_NEW_PASSPHRASE="+defaultPass), "passphrase", "change")
	if st := status(t, home); st.Author != author || st.Mission == nil {
		t.Fatalf("after moving to a long passphrase: %+v", st)
	}
}
