package store_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// cheapWork keeps scrypt fast in tests.
const cheapWork = 10

var backupPass = []byte("a different backup phrase")

// backedUpCoordinator is a coordinator that received sealed reports (one
// with an attachment) from an observer, with a draft, a setting and a
// transport key of its own; and its backup file.
type backedUpCoordinator struct {
	coord   *store.Store
	sealed  []incident.ID
	titles  []string
	blob    []byte
	backup  []byte
	info    store.BackupInfo
	mission incident.ID
}

func newBackedUpCoordinator(t *testing.T) *backedUpCoordinator {
	t.Helper()
	coord, _ := initHome(t, t.TempDir(), store.Options{})
	obs, _ := initHome(t, t.TempDir(), store.Options{})
	b := &backedUpCoordinator{coord: coord, mission: createMission(t, coord)}
	enroll(t, coord, obs, incident.RoleObserver, "kestrel-label")
	syncAll(t, coord, obs)

	for i, title := range []string{"Ballot boxes stuffed at dawn NEEDLE1", "Presiding officer detained NEEDLE2"} {
		b.titles = append(b.titles, title)
		rec, err := obs.PutSealed(incident.KindReport, nil, report("polling.violence", "PS-0042", t0.Add(time.Duration(i)*time.Minute), title))
		if err != nil {
			t.Fatal(err)
		}
		b.sealed = append(b.sealed, rec.ID)
	}
	syncAll(t, obs, coord)
	b.blob = bytes.Repeat([]byte("photo bytes NEEDLE3 "), 5000)
	if err := coord.PutBlob(sha256.Sum256(b.blob), b.blob); err != nil {
		t.Fatal(err)
	}
	if err := coord.SetMeta("transport", []byte("transport key of the original")); err != nil {
		t.Fatal(err)
	}
	if err := coord.SetMeta("language", []byte("fr")); err != nil {
		t.Fatal(err)
	}
	for _, id := range b.sealed {
		if v, err := coord.Report(id); err != nil || !v.Opened {
			t.Fatalf("the original coordinator cannot open %s: %+v %v", id, v, err)
		}
	}
	var buf bytes.Buffer
	info, err := coord.Backup(&buf, backupPass, cheapWork)
	if err != nil {
		t.Fatal(err)
	}
	b.backup, b.info = buf.Bytes(), info
	return b
}

func restore(t *testing.T, home string, file []byte, pass []byte) (*store.Store, store.BackupInfo, error) {
	t.Helper()
	s, info, err := store.Restore(home, bytes.NewReader(file), pass, []byte("new home passphrase"), store.Options{KDF: &cheapKDF})
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, info, err
}

func TestBackupRestoreReadsEverySealedReport(t *testing.T) {
	b := newBackedUpCoordinator(t)
	home := filepath.Join(t.TempDir(), "new", "home")
	s, info, err := restore(t, home, b.backup, backupPass)
	if err != nil {
		t.Fatal(err)
	}
	if s.Author() != b.coord.Author() || info.Author != b.coord.Author() {
		t.Fatal("the restored home signs as another author")
	}
	if !bytes.Equal(s.Secret(), b.coord.Secret()) || info.Mission != b.mission {
		t.Fatal("the restored home lost the mission")
	}
	if s.AgeIdentity().String() != b.coord.AgeIdentity().String() {
		t.Fatal("the restored home has another sealing key")
	}
	if info.Entries != b.info.Entries || info.Records != b.info.Records || info.Blobs != 1 || info.Records == 0 {
		t.Fatalf("restored %+v, backed up %+v", info, b.info)
	}
	for i, id := range b.sealed {
		v, err := s.Report(id)
		if err != nil || !v.Opened || v.Report.Title != b.titles[i] {
			t.Fatalf("the restored home does not open sealed report %d: %+v, %v", i, v, err)
		}
	}
	wantList(t, s, store.Filter{Category: "polling.violence"}, b.sealed...)
	if got, err := s.Blob(sha256.Sum256(b.blob)); err != nil || !bytes.Equal(got, b.blob) {
		t.Fatalf("attachment content: %v", err)
	}
	if v, _ := s.Meta("language"); string(v) != "fr" {
		t.Fatalf("setting language = %q, want fr", v)
	}
	if v, _ := s.Meta("transport"); v != nil {
		t.Fatal("the restored home took the original's transport key: two devices would share a peer ID")
	}
	want, got := mustCounts(t, b.coord), mustCounts(t, s)
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("%s: %d restored, %d held", k, got[k], n)
		}
	}
	// The restored home signs, and opens with its new passphrase.
	mustPut(t, s, incident.KindCheckin, incident.CheckinPayload{Status: "arrived"})
	s.Close()
	again := reopen(t, home, []byte("new home passphrase"), store.Options{})
	if again.Author() != b.coord.Author() {
		t.Fatal("reopened with another author")
	}
	entries, _ := os.ReadDir(home)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".restore-") {
			t.Fatalf("the staging folder %s was left behind", e.Name())
		}
	}
}

// A seized backup says nothing without its passphrase.
func TestBackupFileHoldsNoPlaintext(t *testing.T) {
	b := newBackedUpCoordinator(t)
	ms, err := b.coord.Mission()
	if err != nil {
		t.Fatal(err)
	}
	needles := append([]string{"NEEDLE1", "NEEDLE2", "NEEDLE3", "kestrel-label", ms.Mission.Name, "PS-0042", "polling",
		"vigil", "transport key", b.coord.Author().String(), b.coord.AgeIdentity().Recipient().String()}, b.titles...)
	for _, n := range needles {
		if bytes.Contains(bytes.ToLower(b.backup), bytes.ToLower([]byte(n))) {
			t.Errorf("the backup file holds %q in clear", n)
		}
	}
	for _, id := range b.sealed {
		if bytes.Contains(b.backup, id[:]) || bytes.Contains(b.backup, []byte(id.String())) {
			t.Error("the backup file holds a record ID in clear")
		}
	}
	if !bytes.HasPrefix(b.backup, []byte("age-encryption.org/v1\n-> scrypt ")) {
		t.Errorf("the backup is not an age passphrase file: %q", b.backup[:40])
	}
}

// noHome checks a failed restore left nothing at home.
func noHome(t *testing.T, home string) {
	t.Helper()
	if _, err := os.Stat(home); !errors.Is(err, os.ErrNotExist) {
		entries, _ := os.ReadDir(home)
		t.Fatalf("a failed restore left %s behind: %v", home, entries)
	}
}

func TestRestoreRefusesWrongPassphrase(t *testing.T) {
	b := newBackedUpCoordinator(t)
	home := filepath.Join(t.TempDir(), "home")
	if _, _, err := restore(t, home, b.backup, []byte("not the backup phrase")); !errors.Is(err, store.ErrBackupPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	noHome(t, home)
}

func TestRestoreRefusesDamagedFiles(t *testing.T) {
	b := newBackedUpCoordinator(t)
	n := len(b.backup)
	flip := func(at int) []byte {
		c := bytes.Clone(b.backup)
		c[at] ^= 0x40
		return c
	}
	cases := map[string][]byte{
		"empty":              nil,
		"not a backup":       bytes.Repeat([]byte("random text\n"), 100),
		"header only":        b.backup[:bytes.Index(b.backup, []byte("\n---"))+48],
		"cut in the middle":  b.backup[:n/2],
		"cut before the end": b.backup[:n-1],
		"last chunk dropped": b.backup[:n-(n-200)%(64<<10+16)],
		"flipped in body":    flip(n / 2),
		"flipped at the end": flip(n - 1),
		"appended":           append(bytes.Clone(b.backup), "more"...),
		// A work factor past the limit is refused before scrypt runs
		// (the header's MAC would fail afterwards anyway).
		"work factor 30": bytes.Replace(b.backup, []byte(" 10\n"), []byte(" 30\n"), 1),
	}
	for name, file := range cases {
		t.Run(name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			_, _, err := restore(t, home, file, backupPass)
			if !errors.Is(err, store.ErrBackupCorrupt) {
				t.Fatalf("want ErrBackupCorrupt, got %v", err)
			}
			noHome(t, home)
		})
	}
}

func TestRestoreRefusesExistingHome(t *testing.T) {
	b := newBackedUpCoordinator(t)
	other, home := initHome(t, t.TempDir(), store.Options{})
	author := other.Author()
	other.Close()
	keyBefore, err := os.ReadFile(filepath.Join(home, "key.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := restore(t, home, b.backup, backupPass); !errors.Is(err, store.ErrExists) {
		t.Fatalf("restore over a home: %v", err)
	}
	if keyAfter, _ := os.ReadFile(filepath.Join(home, "key.json")); !bytes.Equal(keyBefore, keyAfter) {
		t.Fatal("the refused restore changed the home's key file")
	}
	if s := reopen(t, home, passphrase, store.Options{}); s.Author() != author {
		t.Fatal("the refused restore changed the home")
	}
}

// A folder the person made for it, empty, takes a restore and stays
// after a failed one.
func TestRestoreIntoEmptyFolder(t *testing.T) {
	b := newBackedUpCoordinator(t)
	home := t.TempDir()
	if _, _, err := restore(t, home, b.backup[:len(b.backup)/2], backupPass); !errors.Is(err, store.ErrBackupCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
	if entries, err := os.ReadDir(home); err != nil || len(entries) != 0 {
		t.Fatalf("the failed restore left %v (%v)", entries, err)
	}
	s, _, err := restore(t, home, b.backup, backupPass)
	if err != nil {
		t.Fatal(err)
	}
	if s.Author() != b.coord.Author() {
		t.Fatal("another author")
	}
}

// A backup of a store that goes on being written is one consistent
// snapshot, and the store goes on serving while it is written.
func TestBackupWhileWriting(t *testing.T) {
	coord, _ := initHome(t, t.TempDir(), store.Options{})
	createMission(t, coord)
	for i := range 50 {
		mustPut(t, coord, incident.KindReport, report("polling.violence", "PS-1", t0.Add(time.Duration(i)*time.Second), "r"))
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := coord.Backup(pw, backupPass, cheapWork)
		pw.CloseWithError(err)
		done <- err
	}()
	// The store takes writes while the backup is half read.
	head := make([]byte, 1000)
	if _, err := io.ReadFull(pr, head); err != nil {
		t.Fatal(err)
	}
	mustPut(t, coord, incident.KindReport, report("polling.violence", "PS-1", t0, "written during the backup"))
	rest, err := io.ReadAll(pr)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s, info, err := restore(t, filepath.Join(t.TempDir(), "home"), append(head, rest...), backupPass)
	if err != nil {
		t.Fatal(err)
	}
	if n := mustCounts(t, s)[incident.KindReport]; n != 50 && n != 51 {
		t.Fatalf("restored %d reports (info %+v)", n, info)
	}
}

// plainBackup is the decrypted content of a real backup, the fuzz seed.
func plainBackup(t testing.TB, file []byte) []byte {
	t.Helper()
	r, err := store.OpenBackup(bytes.NewReader(file), backupPass)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeBackupRefusesMalformed(t *testing.T) {
	b := newBackedUpCoordinator(t)
	plain := plainBackup(t, b.backup)
	if _, n, err := store.DecodeBackup(bytes.NewReader(plain), func(k, v []byte) error { return nil }); err != nil || n != b.info.Entries {
		t.Fatalf("the real backup: %d entries, %v", n, err)
	}
	head := plain[:len("vigil-backup\x00")+1+8]
	for name, data := range map[string][]byte{
		"truncated":         plain[:len(plain)-1],
		"trailing":          append(bytes.Clone(plain), 0),
		"newer version":     append(append([]byte("vigil-backup\x00"), 2), make([]byte, 8)...),
		"huge key":          append(bytes.Clone(head), 'e', 0xff, 0xff, 0xff, 0xff, 0x0f),
		"huge value":        append(bytes.Clone(head), 'e', 1, 'k', 0xff, 0xff, 0xff, 0xff, 0x0f),
		"value claims more": append(bytes.Clone(head), 'e', 1, 'k', 0x80, 0x80, 0x40, 'v'),
		"wrong count":       append(bytes.Clone(head), 'z', 3),
		"unknown tag":       append(bytes.Clone(head), 'x'),
		"empty key":         append(bytes.Clone(head), 'e', 0, 0, 'z', 1),
	} {
		if _, _, err := store.DecodeBackup(bytes.NewReader(data), func(k, v []byte) error { return nil }); !errors.Is(err, store.ErrBackupCorrupt) {
			t.Errorf("%s: want ErrBackupCorrupt, got %v", name, err)
		}
	}
}

// FuzzDecodeBackup: any plaintext is decoded without a panic, within the
// limits, and a decode that succeeds saw the end marker's count.
func FuzzDecodeBackup(f *testing.F) {
	head := append([]byte("vigil-backup\x00\x01"), make([]byte, 8)...)
	f.Add(append(bytes.Clone(head), 'z', 0))
	f.Add(append(bytes.Clone(head), 'e', 3, 'm', '/', 'x', 2, 'h', 'i', 'z', 1))
	f.Add(append(bytes.Clone(head), 'e', 1, 'k', 0x80, 0x80, 0x40, 'v'))
	f.Add([]byte("vigil-backup"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		_, entries, err := store.DecodeBackup(bytes.NewReader(data), func(k, v []byte) error {
			n++
			if len(k) == 0 || len(k) > 64<<10 || len(v) > len(data) {
				t.Fatalf("entry of key %d, value %d bytes from %d bytes of input", len(k), len(v), len(data))
			}
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrBackupCorrupt) {
			t.Fatalf("an error that is not ErrBackupCorrupt: %v", err)
		}
		if n != entries {
			t.Fatalf("%d entries passed, %d counted", n, entries)
		}
	})
}
