package store

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// legacyFiles are files of several shapes: empty, under one chunk, an
// exact number of chunks, and a short last chunk.
func legacyFiles() [][]byte {
	var out [][]byte
	for _, n := range []int{0, 10, 2 * ChunkSize, 5*ChunkSize + 7} {
		b := make([]byte, n)
		rand.Read(b)
		out = append(out, b)
	}
	return out
}

// toLayout3 puts files into s as a layout 3 build kept them (whole, under
// b/) and marks s layout 3.
func toLayout3(t *testing.T, s *Store, files [][]byte) {
	t.Helper()
	if err := s.update(func(txn *badger.Txn) error {
		for _, f := range files {
			sum := sha256.Sum256(f)
			if err := txn.Set(key(tBlob, sum[:]), f); err != nil {
				return err
			}
		}
		return txn.Set(metaKey("layout"), []byte{3})
	}); err != nil {
		t.Fatal(err)
	}
}

// checkChunked fails unless every file is held as layout 4 holds it: as
// chunks, complete, and nothing whole.
func checkChunked(t *testing.T, s *Store, files [][]byte) {
	t.Helper()
	if l := storedLayout(t, s); !bytes.Equal(l, []byte{layoutVersion}) {
		t.Fatalf("layout %v, want %d", l, layoutVersion)
	}
	var total uint64
	for i, f := range files {
		sum := sha256.Sum256(f)
		if got, err := s.Blob(sum); err != nil || !bytes.Equal(got, f) {
			t.Fatalf("file %d (%d bytes): %d bytes read, %v", i, len(f), len(got), err)
		}
		if n, err := s.ChunksHeld(sum); err != nil || n != chunkCount(uint64(len(f))) {
			t.Fatalf("file %d: %d chunks held, want %d (%v)", i, n, chunkCount(uint64(len(f))), err)
		}
		if c, err := s.BlobChunks(sum, 1, 1); err != nil || (len(f) > ChunkSize && !bytes.Equal(c[0], f[ChunkSize:min(2*ChunkSize, len(f))])) {
			t.Fatalf("file %d: chunk 1: %v", i, err)
		}
		total += uint64(len(f))
	}
	if n, err := s.BlobBytes(); err != nil || n != total {
		t.Fatalf("BlobBytes %d, want %d (%v)", n, total, err)
	}
	var whole int
	if err := s.view(func(txn *badger.Txn) error {
		return scanPrefix(txn, key(tBlob), false, func([]byte) error { whole++; return nil })
	}); err != nil {
		t.Fatal(err)
	}
	if whole != 0 {
		t.Fatalf("%d files still held whole", whole)
	}
}

// A layout 3 store's files, held whole, are held as chunks once it opens
// (layout 4), also when the first migration is killed midway through a
// file; an older build refuses the result.
func TestMigrationChunksBlobs(t *testing.T) {
	home := t.TempDir()
	opts := Options{KDF: &vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}}
	s, err := Init(home, []byte("pass"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMission("m", "HQ", false); err != nil {
		t.Fatal(err)
	}
	files := legacyFiles()
	// A record names the largest: it is kept and served like any other.
	big := files[len(files)-1]
	bsum := sha256.Sum256(big)
	if _, err := s.Put(incident.KindAttachment, incident.AttachmentPayload{Hash: bsum[:], Size: uint64(len(big)),
		Mime: "image/jpeg", Name: "p.jpg", Chunks: incident.ChunkHashes(big)}); err != nil {
		t.Fatal(err)
	}
	toLayout3(t, s, files)
	for _, f := range files {
		if !s.HasBlob(sha256.Sum256(f)) {
			t.Fatal("a file held whole is not found")
		}
	}
	if got, err := s.BlobChunks(bsum, 5, 3); err != nil || len(got) != 1 || !bytes.Equal(got[0], big[5*ChunkSize:]) {
		t.Fatalf("the last chunk of a file held whole: %d chunks, %v", len(got), err)
	}
	s.Close()

	// Killed midway through the largest file: its first transaction of
	// two chunks committed, its second failed.
	blobTxnChunks = 2
	defer func() { blobTxnChunks = 16; failWrite = nil }()
	boom := errors.New("killed")
	written := 0
	failWrite = func(k, v []byte) error {
		if bytes.HasPrefix(k, key(tChunk, bsum[:])) {
			if written++; written > 2 {
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
	checkChunked(t, s, files)
	if missing, err := s.MissingAttachments(10); err != nil || len(missing) != 0 {
		t.Fatalf("missing after the migration: %d, %v", len(missing), err)
	}

	// An older build reads layouts 1 to 3 and says so (its message is
	// this build's, one layout back).
	if err := s.update(func(txn *badger.Txn) error { return txn.Set(metaKey("layout"), []byte{layoutVersion + 1}) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(home, []byte("pass"), opts); err == nil || !bytes.Contains([]byte(err.Error()), []byte("a newer Vigil")) {
		t.Fatalf("a store of a newer layout: %v", err)
	}
}

// A backup written by a layout 3 store holds its files whole; restored
// by this build, the store is layout 4 and its files are chunks.
func TestRestoreLayout3Backup(t *testing.T) {
	opts := Options{KDF: &vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}}
	s, err := Init(t.TempDir(), []byte("pass"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateMission("m", "HQ", false); err != nil {
		t.Fatal(err)
	}
	files := legacyFiles()
	toLayout3(t, s, files)
	var buf bytes.Buffer
	info, err := s.Backup(&buf, []byte("backup pass"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if info.Blobs != len(files) {
		t.Fatalf("backup of %d files, want %d", info.Blobs, len(files))
	}
	r, rinfo, err := Restore(filepath.Join(t.TempDir(), "home"), &buf, []byte("backup pass"), []byte("pass"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if rinfo.Blobs != len(files) {
		t.Fatalf("restored %d files, want %d", rinfo.Blobs, len(files))
	}
	checkChunked(t, r, files)

	// And a backup of the layout 4 store round-trips its chunks.
	buf.Reset()
	if info, err = r.Backup(&buf, []byte("backup pass"), 10); err != nil || info.Blobs != len(files) {
		t.Fatalf("backup of the restored store: %d files, %v", info.Blobs, err)
	}
	r2, _, err := Restore(filepath.Join(t.TempDir(), "home"), &buf, []byte("backup pass"), []byte("pass"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	checkChunked(t, r2, files)
}
