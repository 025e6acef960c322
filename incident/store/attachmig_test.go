package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/vault"
)

func storedLayout(t *testing.T, s *Store) []byte {
	t.Helper()
	var v []byte
	if err := s.view(func(txn *badger.Txn) error {
		var err error
		v, err = getValue(txn, metaKey("layout"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// A layout 2 store (attachment records, no A/ entries) opens as layout 3
// with every attachment record found by its hash, also when the first
// migration was cut short; a layout 1 store goes to layout 3 too.
func TestMigrationIndexesAttachments(t *testing.T) {
	home := t.TempDir()
	opts := Options{KDF: &vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}}
	s, err := Init(home, []byte("pass"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMission("m", "HQ", false); err != nil {
		t.Fatal(err)
	}
	migrateChunk = 1 // four records per transaction
	defer func() { migrateChunk = 250; failWrite = nil }()
	var sums [][32]byte
	for i := range 10 {
		data := fmt.Appendf(nil, "photo %d", i%7) // three files attached twice
		sum := sha256.Sum256(data)
		if _, err := s.Put(incident.KindAttachment, incident.AttachmentPayload{Hash: sum[:], Size: uint64(len(data)),
			Mime: "image/jpeg", Name: fmt.Sprintf("p%d.jpg", i), Chunks: incident.ChunkHashes(data)}); err != nil {
			t.Fatal(err)
		}
		if i < 7 {
			sums = append(sums, sum)
		}
	}
	count := func(s *Store) int {
		n := 0
		for _, sum := range sums {
			recs, err := s.AttachmentsOf(sum)
			if err != nil {
				t.Fatal(err)
			}
			n += len(recs)
		}
		return n
	}
	if n := count(s); n != 10 {
		t.Fatalf("%d records found by hash, want 10", n)
	}
	// Back to layout 2: no A/ entries.
	var entries [][]byte
	if err := s.view(func(txn *badger.Txn) error {
		return scanPrefix(txn, key(tAttachment), false, func(k []byte) error { entries = append(entries, k); return nil })
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.update(func(txn *badger.Txn) error {
		for _, k := range entries {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return txn.Set(metaKey("layout"), []byte{2})
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(s); n != 0 {
		t.Fatalf("%d records found by hash without entries", n)
	}
	s.Close()

	// Killed after the first transaction of entries.
	boom := errors.New("killed")
	written := 0
	failWrite = func(k, v []byte) error {
		if bytes.HasPrefix(k, key(tAttachment)) {
			if written++; written > 4 {
				return boom
			}
		}
		return nil
	}
	if _, err := Open(home, []byte("pass"), opts); !errors.Is(err, boom) {
		t.Fatalf("Open: %v", err)
	}
	failWrite = nil
	s, err = Open(home, []byte("pass"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := count(s); n != 10 {
		t.Fatalf("after the migration %d records found by hash, want 10", n)
	}
	if l := storedLayout(t, s); !bytes.Equal(l, []byte{layoutVersion}) {
		t.Fatalf("layout %v", l)
	}

	// A layout 1 store: every step.
	v1 := filepath.Join(t.TempDir(), "home")
	if err := os.CopyFS(v1, os.DirFS("testdata/v1-home")); err != nil {
		t.Fatal(err)
	}
	old, err := Open(v1, []byte("fixture-passphrase"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if l := storedLayout(t, old); !bytes.Equal(l, []byte{layoutVersion}) {
		t.Fatalf("the layout 1 store migrated to %v", l)
	}

	// A layout this build does not know is refused.
	if err := s.update(func(txn *badger.Txn) error { return txn.Set(metaKey("layout"), []byte{layoutVersion + 1}) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(home, []byte("pass"), opts); err == nil {
		t.Fatal("a store of a newer layout opened")
	}
}
