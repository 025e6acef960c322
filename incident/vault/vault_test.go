package vault

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the seed corpus in testdata/fuzz/FuzzUnlock")

// tiny keeps Argon2 cheap in tests.
var tiny = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

var (
	realPass   = []byte("correct horse battery staple")
	duressPass = []byte("they are watching")
)

// mustCreate makes a store in a fresh dir and returns the dir and key.
func mustCreate(t *testing.T, pass []byte) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	key, err := Create(dir, pass, tiny)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return dir, key
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// onlyKeyFile fails unless dir holds key.json and nothing else: no
// temporary or leftover files.
func onlyKeyFile(t *testing.T, dir string) {
	t.Helper()
	if got := names(t, dir); !slices.Equal(got, []string{keyFileName}) {
		t.Errorf("dir holds %q, want only %q", got, keyFileName)
	}
}

// forms returns the encodings under which a secret might be found on disk.
func forms(name string, secret []byte) map[string][]byte {
	return map[string][]byte{
		name + " (raw)":           secret,
		name + " (base64)":        []byte(base64.StdEncoding.EncodeToString(secret)),
		name + " (base64 raw)":    []byte(base64.RawStdEncoding.EncodeToString(secret)),
		name + " (base64 url)":    []byte(base64.RawURLEncoding.EncodeToString(secret)),
		name + " (hex)":           []byte(hex.EncodeToString(secret)),
		name + " (base64 prefix)": []byte(base64.StdEncoding.EncodeToString(secret)[:24]),
	}
}

// assertAbsent scans the raw bytes of every file under dir for secrets.
func assertAbsent(t *testing.T, dir string, secrets map[string][]byte) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data := mustRead(t, path)
		for name, s := range secrets {
			if bytes.Contains(data, s) {
				t.Errorf("%s found in %s", name, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// wire decodes a key file for inspection.
func wire(t *testing.T, data []byte) wireKeyFile {
	t.Helper()
	var w wireKeyFile
	if err := json.Unmarshal(data, &w); err != nil {
		t.Fatalf("decoding key file: %v\n%s", err, data)
	}
	return w
}

func setClock(t *testing.T, at time.Time) {
	t.Helper()
	old := now
	now = func() time.Time { return at }
	t.Cleanup(func() { now = old })
}

func TestCreateUnlock(t *testing.T) {
	long := bytes.Repeat([]byte("long passphrase "), 256)
	for _, tc := range []struct {
		name string
		pass []byte
	}{
		{"ascii", realPass},
		{"unicode", []byte("pâsswörd ✓ 密码")},
		{"one byte", []byte("x")},
		{"binary", []byte{0, 1, 2, 0xff, 0}},
		{"4 KiB", long},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, key := mustCreate(t, tc.pass)
			if len(key) != keyLen || bytes.Equal(key, make([]byte, keyLen)) {
				t.Fatalf("key = %x, want %d random bytes", key, keyLen)
			}
			got, err := Unlock(dir, tc.pass)
			if err != nil || !bytes.Equal(got, key) {
				t.Fatalf("Unlock = %x, %v; want %x", got, err, key)
			}
			got, fresh, err := Open(dir, tc.pass)
			if err != nil || fresh || !bytes.Equal(got, key) {
				t.Fatalf("Open = %x, %v, %v; want %x, false", got, fresh, err, key)
			}
			onlyKeyFile(t, dir)
			if runtime.GOOS != "windows" {
				fi, err := os.Stat(keyPath(dir))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
				}
			}

			before := mustRead(t, keyPath(dir))
			if _, err := Create(dir, tc.pass, tiny); !errors.Is(err, ErrExists) {
				t.Errorf("second Create: %v, want ErrExists", err)
			}
			if !bytes.Equal(mustRead(t, keyPath(dir)), before) {
				t.Error("second Create changed the key file")
			}
		})
	}

	_, k1 := mustCreate(t, realPass)
	_, k2 := mustCreate(t, realPass)
	if bytes.Equal(k1, k2) {
		t.Error("two stores got the same data key")
	}
}

func TestCreateMakesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "home")
	key, err := Create(dir, realPass, tiny)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Unlock(dir, realPass); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Unlock = %x, %v", got, err)
	}
}

func TestCreateRejectsArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		pass []byte
		p    KDFParams
		want string
	}{
		{"empty passphrase", nil, tiny, "passphrase is empty"},
		{"time 0", realPass, KDFParams{Time: 0, MemoryKiB: 64, Threads: 1}, "time 0 out of range [1, 64]"},
		{"time too long", realPass, KDFParams{Time: 65, MemoryKiB: 64, Threads: 1}, "time 65 out of range [1, 64]"},
		{"threads 0", realPass, KDFParams{Time: 1, MemoryKiB: 64, Threads: 0}, "threads is 0"},
		{"memory per thread", realPass, KDFParams{Time: 1, MemoryKiB: 15, Threads: 2}, "memory 15 KiB below 8 KiB per thread"},
		{"memory too big", realPass, KDFParams{Time: 1, MemoryKiB: 1<<20 + 1, Threads: 1}, "above the limit of 1048576 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Create(dir, tc.pass, tc.p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Create: %v, want an error containing %q", err, tc.want)
			}
			if got := names(t, dir); len(got) != 0 {
				t.Errorf("failed Create left %q", got)
			}
		})
	}
}

func TestNoKey(t *testing.T) {
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		for name, call := range map[string]func() error{
			"Unlock":      func() error { _, err := Unlock(dir, realPass); return err },
			"Open":        func() error { _, _, err := Open(dir, realPass); return err },
			"Change":      func() error { return Change(dir, realPass, duressPass, tiny) },
			"SetDuress":   func() error { return SetDuress(dir, realPass, duressPass, tiny) },
			"ClearDuress": func() error { return ClearDuress(dir, realPass, tiny) },
		} {
			if err := call(); !errors.Is(err, ErrNoKey) {
				t.Errorf("%s on %s: %v, want ErrNoKey", name, dir, err)
			}
		}
	}
}

func TestWrongPassphrase(t *testing.T) {
	dir, _ := mustCreate(t, realPass)
	if err := SetDuress(dir, realPass, duressPass, tiny); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, keyPath(dir))
	for _, tc := range []struct {
		name string
		pass []byte
	}{
		{"empty", nil},
		{"prefix", realPass[:len(realPass)-1]},
		{"trailing space", append(slices.Clone(realPass), ' ')},
		{"case", bytes.ToUpper(realPass)},
		{"other", []byte("hunter2")},
		{"duress prefix", duressPass[:4]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if key, err := Unlock(dir, tc.pass); !errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("Unlock = %x, %v; want ErrWrongPassphrase", key, err)
			}
			if key, fresh, err := Open(dir, tc.pass); !errors.Is(err, ErrWrongPassphrase) || fresh {
				t.Errorf("Open = %x, %v, %v; want ErrWrongPassphrase", key, fresh, err)
			}
			if !bytes.Equal(mustRead(t, keyPath(dir)), before) {
				t.Fatal("a wrong passphrase changed the key file")
			}
		})
	}
}

func TestChange(t *testing.T) {
	newPass := []byte("a new passphrase")
	dir, key := mustCreate(t, realPass)
	if err := SetDuress(dir, realPass, duressPass, tiny); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, keyPath(dir))

	// Refusals leave the file alone.
	for _, tc := range []struct {
		name     string
		old, new []byte
		want     error
	}{
		{"wrong old", []byte("nope"), newPass, ErrWrongPassphrase},
		{"duress as old", duressPass, newPass, ErrWrongPassphrase},
		{"new is duress", realPass, duressPass, nil},
		{"empty new", realPass, nil, nil},
	} {
		err := Change(dir, tc.old, tc.new, tiny)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: Change = %v, want failure %v", tc.name, err, tc.want)
		}
		if !bytes.Equal(mustRead(t, keyPath(dir)), before) {
			t.Fatalf("%s: refused Change wrote the key file", tc.name)
		}
	}

	peek := peekLink(t, dir)
	stronger := KDFParams{Time: 2, MemoryKiB: 128, Threads: 2}
	if err := Change(dir, realPass, newPass, stronger); err != nil {
		t.Fatalf("Change: %v", err)
	}
	onlyKeyFile(t, dir)
	assertShredded(t, peek, before)
	if _, err := Unlock(dir, realPass); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("old passphrase after Change: %v, want ErrWrongPassphrase", err)
	}
	if got, err := Unlock(dir, newPass); err != nil || !bytes.Equal(got, key) {
		t.Errorf("new passphrase after Change = %x, %v; want the same key %x", got, err, key)
	}
	after := wire(t, mustRead(t, keyPath(dir)))
	if got := after.Slots[realSlot].Params; got != (wireParams{2, 128, 2}) {
		t.Errorf("real slot params %+v, want the new ones", got)
	}
	old := wire(t, before)
	if bytes.Equal(old.Slots[realSlot].Salt, after.Slots[realSlot].Salt) {
		t.Error("Change kept the old salt")
	}
	if fmt.Sprint(old.Slots[duressSlot]) != fmt.Sprint(after.Slots[duressSlot]) {
		t.Error("Change altered the second slot")
	}

	// The duress passphrase still works after a change.
	if _, fresh, err := Open(dir, duressPass); err != nil || !fresh {
		t.Errorf("Open(duress) after Change = %v, %v; want fresh", fresh, err)
	}
}

// peekLink makes a hard link to dir's key file outside dir, to watch what
// happens to the bytes of the file being replaced.
func peekLink(t *testing.T, dir string) string {
	t.Helper()
	peek := filepath.Join(t.TempDir(), "peek")
	if err := os.Link(keyPath(dir), peek); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	return peek
}

// assertShredded checks that the file at peek, which held before, now
// holds random bytes of the same length.
func assertShredded(t *testing.T, peek string, before []byte) {
	t.Helper()
	got := mustRead(t, peek)
	if len(got) != len(before) {
		t.Errorf("replaced key file is %d bytes, was %d", len(got), len(before))
	}
	if bytes.Contains(got, []byte(`"ciphertext"`)) || bytes.Equal(got, before) {
		t.Errorf("replaced key file was not overwritten:\n%s", got)
	}
}

func TestWipe(t *testing.T) {
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	setClock(t, at)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) (key []byte)
	}{
		{"plain", func(t *testing.T, dir string) []byte {
			key, err := Create(dir, realPass, tiny)
			must(t, err)
			return key
		}},
		{"with duress", func(t *testing.T, dir string) []byte {
			key, err := Create(dir, realPass, tiny)
			must(t, err)
			must(t, SetDuress(dir, realPass, duressPass, tiny))
			return key
		}},
		{"with leftovers", func(t *testing.T, dir string) []byte {
			key, err := Create(dir, realPass, tiny)
			must(t, err)
			data := mustRead(t, keyPath(dir))
			must(t, os.WriteFile(filepath.Join(dir, tempPrefix+"123"+tempSuffix), data, 0o600))
			must(t, os.Link(keyPath(dir), filepath.Join(dir, oldName)))
			return key
		}},
		{"malformed", func(t *testing.T, dir string) []byte {
			must(t, os.WriteFile(keyPath(dir), []byte(`{"version":1,"kdf":"arg`), 0o600))
			return nil
		}},
		{"an older version's tombstone", func(t *testing.T, dir string) []byte {
			must(t, os.WriteFile(keyPath(dir), encodeTombstone(at), 0o600))
			return nil
		}},
		{"absent", func(t *testing.T, dir string) []byte { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			key := tc.setup(t, dir)
			secrets := map[string][]byte{}
			var peek string
			var before []byte
			if key != nil {
				before = mustRead(t, keyPath(dir))
				peek = peekLink(t, dir)
				maps.Copy(secrets, forms("data key", key))
				maps.Copy(secrets, forms("wrapped key", wire(t, before).Slots[realSlot].Ciphertext))
				maps.Copy(secrets, forms("salt", wire(t, before).Slots[realSlot].Salt))
			}

			if err := Wipe(dir); err != nil {
				t.Fatalf("Wipe: %v", err)
			}

			// Nothing is left, not even a mark of the wipe or its time:
			// the folder looks like one never used.
			if got := names(t, dir); len(got) != 0 {
				t.Errorf("after Wipe dir holds %q, want nothing", got)
			}
			assertAbsent(t, dir, secrets)
			if peek != "" {
				assertShredded(t, peek, before)
			}
			if _, err := Unlock(dir, realPass); !errors.Is(err, ErrNoKey) {
				t.Errorf("Unlock after Wipe: %v, want ErrNoKey", err)
			}
			if _, _, err := Open(dir, duressPass); !errors.Is(err, ErrNoKey) {
				t.Errorf("Open after Wipe: %v, want ErrNoKey", err)
			}
			if Wiped(dir) {
				t.Error("a wiped folder is marked as wiped")
			}

			// Wiping again changes nothing; a new store can be made.
			if err := Wipe(dir); err != nil {
				t.Fatalf("second Wipe: %v", err)
			}
			if _, err := Create(dir, realPass, tiny); err != nil {
				t.Errorf("Create after Wipe: %v", err)
			}
		})
	}
}

func TestWipedError(t *testing.T) {
	setClock(t, time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	dir, _ := mustCreate(t, realPass)
	// An older version's wipe left a tombstone with the time.
	must(t, os.WriteFile(keyPath(dir), encodeTombstone(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)), 0o600))
	_, err := Unlock(dir, realPass)
	for _, want := range []string{keyPath(dir), "the store was wiped; its data can no longer be read", "2026-05-04T10:00:00Z"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Unlock error %q does not mention %q", err, want)
		}
	}
}

func TestDuress(t *testing.T) {
	dir, key := mustCreate(t, realPass)

	for _, tc := range []struct {
		name         string
		real, duress []byte
		want         string
	}{
		{"wrong real", []byte("nope"), duressPass, "wrong passphrase"},
		{"same as real", realPass, realPass, "must differ"},
		{"empty duress", realPass, nil, "passphrase is empty"},
	} {
		if err := SetDuress(dir, tc.real, tc.duress, tiny); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: SetDuress = %v, want %q", tc.name, err, tc.want)
		}
	}

	must(t, SetDuress(dir, realPass, duressPass, tiny))
	if got, err := Unlock(dir, realPass); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Unlock(real) after SetDuress = %x, %v", got, err)
	}
	if got, fresh, err := Open(dir, realPass); err != nil || fresh || !bytes.Equal(got, key) {
		t.Fatalf("Open(real) = %x, %v, %v; want the key, not fresh", got, fresh, err)
	}

	// Only Open acts on the duress passphrase; everything else calls it
	// wrong and writes nothing.
	before := mustRead(t, keyPath(dir))
	for name, call := range map[string]func() error{
		"Unlock":      func() error { _, err := Unlock(dir, duressPass); return err },
		"Change":      func() error { return Change(dir, duressPass, []byte("x"), tiny) },
		"SetDuress":   func() error { return SetDuress(dir, duressPass, []byte("x"), tiny) },
		"ClearDuress": func() error { return ClearDuress(dir, duressPass, tiny) },
	} {
		if err := call(); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("%s with the duress passphrase: %v, want ErrWrongPassphrase", name, err)
		}
		if !bytes.Equal(mustRead(t, keyPath(dir)), before) {
			t.Fatalf("%s with the duress passphrase changed the key file", name)
		}
	}

	peek := peekLink(t, dir)
	newKey, fresh, err := Open(dir, duressPass)
	if err != nil || !fresh {
		t.Fatalf("Open(duress) = %v, %v; want fresh", fresh, err)
	}
	if len(newKey) != keyLen || bytes.Equal(newKey, key) {
		t.Fatalf("Open(duress) key %x, want a new %d-byte key (old %x)", newKey, keyLen, key)
	}
	onlyKeyFile(t, dir)
	assertShredded(t, peek, before)
	secrets := forms("old data key", key)
	maps.Copy(secrets, forms("old wrapped key", wire(t, before).Slots[realSlot].Ciphertext))
	assertAbsent(t, dir, secrets)

	if _, fresh, err := Open(dir, realPass); !errors.Is(err, ErrWrongPassphrase) || fresh {
		t.Errorf("Open(real) after duress = %v, %v; want ErrWrongPassphrase", fresh, err)
	}
	if got, fresh, err := Open(dir, duressPass); err != nil || fresh || !bytes.Equal(got, newKey) {
		t.Errorf("Open(duress) again = %x, %v, %v; want the new key, not fresh", got, fresh, err)
	}
}

func TestClearDuress(t *testing.T) {
	dir, key := mustCreate(t, realPass)
	must(t, SetDuress(dir, realPass, duressPass, tiny))
	if err := ClearDuress(dir, []byte("nope"), tiny); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("ClearDuress(wrong) = %v, want ErrWrongPassphrase", err)
	}
	must(t, ClearDuress(dir, realPass, tiny))
	before := mustRead(t, keyPath(dir))
	if _, fresh, err := Open(dir, duressPass); !errors.Is(err, ErrWrongPassphrase) || fresh {
		t.Errorf("Open(old duress) after ClearDuress = %v, %v; want ErrWrongPassphrase", fresh, err)
	}
	if !bytes.Equal(mustRead(t, keyPath(dir)), before) {
		t.Error("cleared duress passphrase still changed the key file")
	}
	if got, fresh, err := Open(dir, realPass); err != nil || fresh || !bytes.Equal(got, key) {
		t.Errorf("Open(real) = %x, %v, %v", got, fresh, err)
	}
}

// shape describes a JSON document without its secret values: every path
// with its type, and for strings their length, for numbers their value.
func shape(t *testing.T, data []byte) map[string]string {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			out[path] = fmt.Sprintf("object of %d", len(x))
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			out[path] = fmt.Sprintf("array of %d", len(x))
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case string:
			out[path] = fmt.Sprintf("string of %d", len(x))
		default:
			out[path] = fmt.Sprintf("%T %v", x, x)
		}
	}
	walk("", v)
	return out
}

func TestShapeHidesDuress(t *testing.T) {
	plain, _ := mustCreate(t, realPass)
	withDuress, _ := mustCreate(t, realPass)
	must(t, SetDuress(withDuress, realPass, duressPass, tiny))
	cleared, _ := mustCreate(t, realPass)
	must(t, SetDuress(cleared, realPass, duressPass, tiny))
	must(t, ClearDuress(cleared, realPass, tiny))

	want := mustRead(t, keyPath(plain))
	wantShape := shape(t, want)
	for name, dir := range map[string]string{"with duress": withDuress, "cleared": cleared} {
		got := mustRead(t, keyPath(dir))
		if len(got) != len(want) {
			t.Errorf("%s: key file is %d bytes, without duress %d", name, len(got), len(want))
		}
		gotShape := shape(t, got)
		for path, w := range wantShape {
			if gotShape[path] != w {
				t.Errorf("%s: %s is %q, without duress %q", name, path, gotShape[path], w)
			}
		}
		for path := range gotShape {
			if _, ok := wantShape[path]; !ok {
				t.Errorf("%s: extra field %s", name, path)
			}
		}
	}

	// Within a file the two slots look alike too.
	s := shape(t, want)
	for path, v := range s {
		if strings.HasPrefix(path, ".slots[0]") {
			if other := s[strings.Replace(path, "[0]", "[1]", 1)]; other != v {
				t.Errorf("slot 0 %s is %q, slot 1 %q", path, v, other)
			}
		}
	}
}

// TestBindings checks that the additional data ties each slot to its
// params and position: editing either makes the slot fail to open.
func TestBindings(t *testing.T) {
	dir, _ := mustCreate(t, realPass)
	must(t, SetDuress(dir, realPass, duressPass, tiny))
	orig := wire(t, mustRead(t, keyPath(dir)))
	for _, tc := range []struct {
		name string
		edit func(w *wireKeyFile)
	}{
		{"time", func(w *wireKeyFile) { w.Slots[0].Params.Time = 2 }},
		{"memory", func(w *wireKeyFile) { w.Slots[0].Params.MemoryKiB = 128 }},
		{"threads", func(w *wireKeyFile) { w.Slots[0].Params.Threads = 2 }},
		{"swapped slots", func(w *wireKeyFile) { w.Slots[0], w.Slots[1] = w.Slots[1], w.Slots[0] }},
		{"flipped bit", func(w *wireKeyFile) { w.Slots[0].Ciphertext[0] ^= 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := wire(t, mustRead(t, keyPath(dir)))
			w.Slots = slices.Clone(orig.Slots)
			w.Slots[0].Ciphertext = slices.Clone(orig.Slots[0].Ciphertext)
			tc.edit(&w)
			d := t.TempDir()
			b, err := json.Marshal(w)
			must(t, err)
			must(t, os.WriteFile(keyPath(d), b, 0o600))
			if _, err := Unlock(d, realPass); !errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("Unlock(real) = %v, want ErrWrongPassphrase", err)
			}
			if tc.name == "swapped slots" {
				if _, fresh, err := Open(d, duressPass); !errors.Is(err, ErrWrongPassphrase) || fresh {
					t.Errorf("Open(duress) = %v, %v, want ErrWrongPassphrase", fresh, err)
				}
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	dir, _ := mustCreate(t, realPass)
	valid := mustRead(t, keyPath(dir))

	// edit returns valid with one change made through a generic decoding.
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		must(t, json.Unmarshal(valid, &m))
		f(m)
		b, err := json.Marshal(m)
		must(t, err)
		return b
	}
	slot0 := func(m map[string]any) map[string]any { return m["slots"].([]any)[0].(map[string]any) }
	params0 := func(m map[string]any) map[string]any { return slot0(m)["params"].(map[string]any) }

	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not JSON"},
		{"brace", []byte("{"), "not JSON"},
		{"null", []byte("null"), "no version"},
		{"array", []byte("[]"), "not JSON"},
		{"binary", []byte{0xff, 0xfe, 0, 1, 2}, "not JSON"},
		{"trailing", append(slices.Clone(valid), "{}"...), "trailing data"},
		{"version 2", edit(func(m map[string]any) { m["version"] = 2 }), "unsupported version 2"},
		{"no version", edit(func(m map[string]any) { delete(m, "version") }), "no version"},
		{"kdf", edit(func(m map[string]any) { m["kdf"] = "argon2i" }), `kdf is "argon2i"`},
		{"no kdf", edit(func(m map[string]any) { delete(m, "kdf") }), "kdf is none"},
		{"one slot", edit(func(m map[string]any) { m["slots"] = m["slots"].([]any)[:1] }), "1 slots, want 2"},
		{"three slots", edit(func(m map[string]any) {
			s := m["slots"].([]any)
			m["slots"] = append(s, s[0])
		}), "3 slots, want 2"},
		{"no slots", edit(func(m map[string]any) { delete(m, "slots") }), "0 slots"},
		{"short salt", edit(func(m map[string]any) { slot0(m)["salt"] = "AAAA" }), "salt is 3 bytes, want 16"},
		{"short nonce", edit(func(m map[string]any) { slot0(m)["nonce"] = "AAAA" }), "nonce is 3 bytes, want 24"},
		{"short ciphertext", edit(func(m map[string]any) { slot0(m)["ciphertext"] = "" }), "ciphertext is 0 bytes, want 48"},
		{"bad base64", edit(func(m map[string]any) { slot0(m)["salt"] = "!!not base64!!" }), "not JSON of the expected shape"},
		{"salt number", edit(func(m map[string]any) { slot0(m)["salt"] = 7 }), "not JSON of the expected shape"},
		{"time 0", edit(func(m map[string]any) { params0(m)["time"] = 0 }), "time 0 out of range"},
		{"negative time", edit(func(m map[string]any) { params0(m)["time"] = -1 }), "not JSON of the expected shape"},
		{"threads 0", edit(func(m map[string]any) { params0(m)["threads"] = 0 }), "threads is 0"},
		{"threads 300", edit(func(m map[string]any) { params0(m)["threads"] = 300 }), "not JSON of the expected shape"},
		{"huge memory", edit(func(m map[string]any) { params0(m)["memory_kib"] = 1 << 30 }), "above the limit"},
		{"unknown field", edit(func(m map[string]any) { m["extra"] = true }), "unknown field"},
		{"tombstone and key", edit(func(m map[string]any) { m["wiped_at"] = "now" }), "both a tombstone and a key file"},
		{"empty tombstone", []byte(`{"version":1,"wiped_at":""}`), "empty wiped_at"},
		{"huge", bytes.Repeat([]byte(" "), maxKeyFileSize+1), "larger than"},
	}
	for n := 0; n < len(bytes.TrimSpace(valid)); n += 7 {
		cases = append(cases, struct {
			name string
			data []byte
			want string
		}{fmt.Sprintf("truncated to %d", n), valid[:n], "not JSON"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			must(t, os.WriteFile(keyPath(d), tc.data, 0o600))
			_, err := Unlock(d, realPass)
			checkMalformed(t, err, keyPath(d), tc.want)
			_, _, err = Open(d, realPass)
			checkMalformed(t, err, keyPath(d), tc.want)
			if !bytes.Equal(mustRead(t, keyPath(d)), tc.data) {
				t.Error("reading a malformed key file changed it")
			}
		})
	}

	t.Run("directory", func(t *testing.T) {
		d := t.TempDir()
		must(t, os.Mkdir(keyPath(d), 0o700))
		_, err := Unlock(d, realPass)
		checkMalformed(t, err, keyPath(d), "not a regular file")
	})
}

func checkMalformed(t *testing.T, err error, path, want string) {
	t.Helper()
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("error %v, want ErrMalformed", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, want) {
		t.Errorf("error %q should name %s and say %q", msg, path, want)
	}
}

// TestNoTempFiles runs every writer and checks that only key.json is left,
// and that leftovers of an interrupted write are shredded and removed.
func TestNoTempFiles(t *testing.T) {
	dir, _ := mustCreate(t, realPass)
	onlyKeyFile(t, dir)
	steps := []struct {
		name string
		run  func() error
	}{
		{"Unlock", func() error { _, err := Unlock(dir, realPass); return err }},
		{"Change", func() error { return Change(dir, realPass, []byte("second"), tiny) }},
		{"SetDuress", func() error { return SetDuress(dir, []byte("second"), duressPass, tiny) }},
		{"ClearDuress", func() error { return ClearDuress(dir, []byte("second"), tiny) }},
		{"SetDuress again", func() error { return SetDuress(dir, []byte("second"), duressPass, tiny) }},
		{"Open", func() error { _, _, err := Open(dir, []byte("second")); return err }},
		{"Open duress", func() error { _, _, err := Open(dir, duressPass); return err }},
		{"Wipe", func() error { return Wipe(dir) }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		want := []string{keyFileName}
		if s.name == "Wipe" {
			want = nil // a wipe leaves nothing
		}
		if got := names(t, dir); !slices.Equal(got, want) {
			t.Fatalf("after %s dir holds %q, want %q", s.name, got, want)
		}
	}

	// What a crash mid-write may leave: a temporary file, a link to the
	// replaced key file, or (crash between link and rename) a second name
	// for the live key file, which must be unlinked, not shredded.
	for _, tc := range []struct {
		name   string
		plant  func(t *testing.T, dir string, data []byte) string
		shreds bool
	}{
		{"temp file", func(t *testing.T, dir string, data []byte) string {
			p := filepath.Join(dir, tempPrefix+"42"+tempSuffix)
			must(t, os.WriteFile(p, data, 0o600))
			return p
		}, true},
		{"old key file", func(t *testing.T, dir string, data []byte) string {
			p := filepath.Join(dir, oldName)
			must(t, os.WriteFile(p, data, 0o600))
			return p
		}, true},
		{"link to live key file", func(t *testing.T, dir string, data []byte) string {
			p := filepath.Join(dir, oldName)
			must(t, os.Link(keyPath(dir), p))
			return p
		}, false},
	} {
		for op, run := range map[string]func(dir string) error{
			"Open":   func(dir string) error { _, _, err := Open(dir, realPass); return err },
			"Change": func(dir string) error { return Change(dir, realPass, realPass, tiny) },
		} {
			t.Run(tc.name+"/"+op, func(t *testing.T) {
				dir, key := mustCreate(t, realPass)
				data := mustRead(t, keyPath(dir))
				planted := tc.plant(t, dir, data)
				peek := filepath.Join(t.TempDir(), "peek")
				must(t, os.Link(planted, peek))
				must(t, run(dir))
				onlyKeyFile(t, dir)
				if got, err := Unlock(dir, realPass); err != nil || !bytes.Equal(got, key) {
					t.Fatalf("Unlock after cleaning = %x, %v; want the key", got, err)
				}
				if tc.shreds {
					assertShredded(t, peek, data)
				}
			})
		}
	}
}

func TestLockSameProcess(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec := string(mustRead(t, lockPath(dir)))
	if want := strconv.Itoa(os.Getpid()) + "\n"; !strings.HasPrefix(rec, want) || !strings.HasSuffix(rec, "\n") {
		t.Errorf("lock file %q, want %q then the command line", rec, want)
	}

	_, err = Lock(dir)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock: %v, want *LockedError", err)
	}
	if le.PID != os.Getpid() || le.Dir != dir || le.Command != filepath.Base(os.Args[0]) {
		t.Errorf("LockedError %+v, want this process (%d, %s)", le, os.Getpid(), filepath.Base(os.Args[0]))
	}

	must(t, unlock())
	must(t, unlock()) // idempotent
	unlock2, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	must(t, unlock2())
}

func TestLockedErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		e    LockedError
		want string
	}{
		{LockedError{"/h", 1234, "vigil node --listen /ip4/0.0.0.0/tcp/4001"}, "the store in /h is in use by process 1234 (vigil node --listen /ip4/0.0.0.0/tcp/4001)"},
		{LockedError{"/h", 1234, ""}, "the store in /h is in use by process 1234"},
		{LockedError{"/h", 0, ""}, "the store in /h is in use by another process"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

// lockChildEnv, when set, makes TestLockOtherProcess act as the child:
// lock the dir it names, say so on stdout, and hold the lock until stdin
// closes.
const lockChildEnv = "VIGIL_VAULT_TEST_LOCK_CHILD"

func TestLockOtherProcess(t *testing.T) {
	if dir := os.Getenv(lockChildEnv); dir != "" {
		unlock, err := Lock(dir)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		must(t, unlock())
		return
	}

	for _, tc := range []struct {
		name string
		kill bool
	}{{"child unlocks", false}, {"child killed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.kill && (runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "aix") {
				t.Skip("the file-exists lock outlives a killed holder")
			}
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestLockOtherProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), lockChildEnv+"="+dir)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdin, err := cmd.StdinPipe()
			must(t, err)
			stdout, err := cmd.StdoutPipe()
			must(t, err)
			must(t, cmd.Start())
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil || line != "locked\n" {
				t.Fatalf("child said %q, %v; stderr:\n%s", line, err, stderr.String())
			}

			_, err = Lock(dir)
			var le *LockedError
			if !errors.As(err, &le) {
				t.Fatalf("Lock while the child holds it: %v, want *LockedError", err)
			}
			if le.PID != cmd.Process.Pid {
				t.Errorf("LockedError PID %d, want the child's %d", le.PID, cmd.Process.Pid)
			}
			// The program's name, never its arguments (they can hold
			// report text and invite codes, and the lock file is not
			// encrypted).
			if le.Command != filepath.Base(os.Args[0]) || strings.Contains(string(mustRead(t, lockPath(dir))), "test.run") {
				t.Errorf("LockedError command %q, want the program name %q alone", le.Command, filepath.Base(os.Args[0]))
			}
			wantMsg := fmt.Sprintf("the store in %s is in use by process %d (", dir, cmd.Process.Pid)
			if !strings.HasPrefix(err.Error(), wantMsg) {
				t.Errorf("error %q, want it to start %q", err, wantMsg)
			}

			if tc.kill {
				must(t, cmd.Process.Kill())
				cmd.Wait()
			} else {
				stdin.Close()
				if err := cmd.Wait(); err != nil {
					t.Fatalf("child: %v; stderr:\n%s", err, stderr.String())
				}
			}
			unlock, err := Lock(dir)
			if err != nil {
				t.Fatalf("Lock after the child let go: %v", err)
			}
			must(t, unlock())
		})
	}
}

// TestImports keeps the package a leaf: standard library, x/crypto and
// x/sys only.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"golang.org/x/crypto/argon2":           true,
		"golang.org/x/crypto/chacha20poly1305": true,
		"golang.org/x/sys/unix":                true,
	}
	files, err := filepath.Glob("*.go")
	must(t, err)
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		must(t, err)
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") && !allowed[path] {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}

// corpusDir holds FuzzUnlock's seeds; go test -run TestFuzzCorpus -update
// rewrites them.
var corpusDir = filepath.Join("testdata", "fuzz", "FuzzUnlock")

// fuzzPass is the passphrase FuzzUnlock tries; the "valid" seeds use it.
var fuzzPass = []byte("fuzz")

func TestFuzzCorpus(t *testing.T) {
	if *update {
		writeCorpus(t)
	}
	for _, tc := range []struct {
		seed string
		want error // nil: unlocks
	}{
		{"valid", nil},
		{"valid-duress", nil},
		{"duress-only", ErrWrongPassphrase},
		{"tombstone", ErrWiped},
		{"truncated", ErrMalformed},
		{"empty", ErrMalformed},
		{"version-2", ErrMalformed},
	} {
		raw := mustRead(t, filepath.Join(corpusDir, tc.seed))
		body, ok := strings.CutPrefix(string(raw), "go test fuzz v1\n[]byte(")
		body, ok2 := strings.CutSuffix(body, ")\n")
		if !ok || !ok2 {
			t.Fatalf("seed %s is not a go fuzz v1 []byte file", tc.seed)
		}
		data, err := strconv.Unquote(body)
		must(t, err)
		dir := t.TempDir()
		must(t, os.WriteFile(keyPath(dir), []byte(data), 0o600))
		_, err = Unlock(dir, fuzzPass)
		if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("seed %s: Unlock = %v, want %v (run with -update after a format change)", tc.seed, err, tc.want)
		}
	}
}

func writeCorpus(t *testing.T) {
	must(t, os.MkdirAll(corpusDir, 0o755))
	seed := func(name string, data []byte) {
		b := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
		must(t, os.WriteFile(filepath.Join(corpusDir, name), b, 0o644))
	}
	dir, _ := mustCreate(t, fuzzPass)
	valid := mustRead(t, keyPath(dir))
	seed("valid", valid)
	seed("truncated", valid[:len(valid)/2])
	seed("empty", nil)
	seed("version-2", bytes.Replace(valid, []byte(`"version": 1`), []byte(`"version": 2`), 1))
	must(t, SetDuress(dir, fuzzPass, []byte("duress"), tiny))
	seed("valid-duress", mustRead(t, keyPath(dir)))
	dir, _ = mustCreate(t, []byte("real"))
	must(t, SetDuress(dir, []byte("real"), fuzzPass, tiny))
	seed("duress-only", mustRead(t, keyPath(dir)))
	seed("tombstone", encodeTombstone(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)))
}

// FuzzUnlock feeds arbitrary key.json contents to Unlock: it must never
// panic, and fail only with the documented errors.
func FuzzUnlock(f *testing.F) {
	// Keep a mutated file from asking for a slow or huge derivation.
	oldTime, oldMem := maxTime, maxMemoryKiB
	maxTime, maxMemoryKiB = 2, 256
	f.Cleanup(func() { maxTime, maxMemoryKiB = oldTime, oldMem })

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		must(t, os.WriteFile(keyPath(dir), data, 0o600))
		key, err := Unlock(dir, fuzzPass)
		switch {
		case err == nil:
			if len(key) != keyLen {
				t.Fatalf("Unlock returned a %d-byte key", len(key))
			}
		case errors.Is(err, ErrMalformed), errors.Is(err, ErrWiped), errors.Is(err, ErrWrongPassphrase):
		default:
			t.Fatalf("Unlock: unexpected error %v", err)
		}
	})
}

// BenchmarkUnlockDefault measures one Unlock with DefaultKDF: two Argon2id
// derivations, one per slot.
func BenchmarkUnlockDefault(b *testing.B) {
	dir := b.TempDir()
	if _, err := Create(dir, realPass, DefaultKDF); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Unlock(dir, realPass); err != nil {
			b.Fatal(err)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestWipedReadsOnlyTheFile(t *testing.T) {
	dir := t.TempDir()
	if Wiped(dir) {
		t.Fatal("an empty folder reads as wiped")
	}
	// Real parameters: if Wiped derived keys, this would take a second.
	if _, err := Create(dir, []byte("pw"), DefaultKDF); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if Wiped(dir) {
		t.Fatal("a live key file reads as wiped")
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Logf("Wiped took %v", d) // informative only: no timed assertion
	}
	if err := os.WriteFile(keyPath(dir), encodeTombstone(time.Now()), 0o600); err != nil {
		t.Fatal(err)
	}
	if !Wiped(dir) {
		t.Fatal("an older version's tombstone does not read as wiped")
	}
}
