package store_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

func randomFile(n int) ([]byte, [32]byte) {
	b := make([]byte, n)
	rand.Read(b)
	return b, sha256.Sum256(b)
}

// A file is read whole, by ranges of chunks, or streamed, and each gives
// the bytes that were put.
func TestBlobReads(t *testing.T) {
	s, _ := initHome(t, t.TempDir(), store.Options{})
	data, sum := randomFile(3*store.ChunkSize + 100)
	if err := s.PutBlob(sum, data); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Blob(sum); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Blob: %d bytes, %v", len(got), err)
	}
	chunk := func(i int) []byte { return data[i*store.ChunkSize : min((i+1)*store.ChunkSize, len(data))] }
	for _, c := range []struct{ first, count, want int }{{0, 2, 2}, {2, 5, 2}, {3, 1, 1}, {4, 1, 0}, {1, 0, 0}, {900, 16, 0}} {
		got, err := s.BlobChunks(sum, c.first, c.count)
		if err != nil || len(got) != c.want {
			t.Fatalf("BlobChunks(%d, %d): %d chunks, %v; want %d", c.first, c.count, len(got), err, c.want)
		}
		for i, g := range got {
			if !bytes.Equal(g, chunk(c.first+i)) {
				t.Fatalf("BlobChunks(%d, %d): chunk %d differs", c.first, c.count, c.first+i)
			}
		}
	}
	r, size, err := s.OpenBlob(sum)
	if err != nil || size != uint64(len(data)) {
		t.Fatalf("OpenBlob: size %d, %v", size, err)
	}
	if err := iotest.TestReader(r, data); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if n, err := s.ChunksHeld(sum); err != nil || n != 4 {
		t.Fatalf("ChunksHeld %d, %v", n, err)
	}
	if n, err := s.BlobBytes(); err != nil || n != uint64(len(data)) {
		t.Fatalf("BlobBytes %d, %v", n, err)
	}

	// An empty file is a file.
	empty := sha256.Sum256(nil)
	if err := s.PutBlob(empty, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Blob(empty); !s.HasBlob(empty) || err != nil || len(got) != 0 {
		t.Fatalf("the empty file: %d bytes, %v", len(got), err)
	}

	// What is not held is ErrNotFound for every reader.
	_, other := randomFile(10)
	if _, err := s.Blob(other); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Blob of a file not held: %v", err)
	}
	if _, err := s.BlobChunks(other, 0, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("BlobChunks of a file not held: %v", err)
	}
	if _, _, err := s.OpenBlob(other); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("OpenBlob of a file not held: %v", err)
	}

	// A file deleted while it is streamed fails the read; it does not end
	// short.
	r, _, err = s.OpenBlob(sum)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBlob(sum); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reading on after the delete: %v", err)
	}
	if n, _ := s.ChunksHeld(sum); n != 0 || s.HasBlob(sum) {
		t.Fatalf("%d chunks left after DeleteBlob", n)
	}
}

// A range read costs the range: one chunk of an 8 MiB file, read again
// and again, allocates a small multiple of the chunk each time, not the
// file.
func TestBlobChunksReadsTheRangeOnly(t *testing.T) {
	s, _ := initHome(t, t.TempDir(), store.Options{})
	data, sum := randomFile(incident.MaxAttachmentSize)
	if err := s.PutBlob(sum, data); err != nil {
		t.Fatal(err)
	}
	const reads = 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range reads {
		c, err := s.BlobChunks(sum, 100+i, 1)
		if err != nil || len(c) != 1 || !bytes.Equal(c[0], data[(100+i)*store.ChunkSize:(101+i)*store.ChunkSize]) {
			t.Fatalf("chunk %d: %v", 100+i, err)
		}
	}
	runtime.ReadMemStats(&after)
	per := (after.TotalAlloc - before.TotalAlloc) / reads
	t.Logf("one 64 KiB chunk of an 8 MiB file: %d KiB allocated per read", per>>10)
	if per > 1<<20 {
		t.Errorf("%d KiB allocated to read one chunk", per>>10)
	}
}

// Assembly marks a file complete only when its chunks hash to its name;
// chunks that do not (a wrong byte, a wrong length) are all dropped and
// nothing is held; a missing chunk drops nothing.
func TestAssembleBlob(t *testing.T) {
	s, _ := initHome(t, t.TempDir(), store.Options{})
	data, sum := randomFile(3*store.ChunkSize + 5)
	put := func(i int, c []byte) {
		t.Helper()
		if err := s.PutChunk(sum, i, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	chunk := func(i int) []byte {
		return bytes.Clone(data[i*store.ChunkSize : min((i+1)*store.ChunkSize, len(data))])
	}
	nothingHeld := func(why string) {
		t.Helper()
		if n, _ := s.ChunksHeld(sum); n != 0 || s.HasBlob(sum) {
			t.Fatalf("%s: %d chunks held, complete %v", why, n, s.HasBlob(sum))
		}
		if _, err := s.BlobChunks(sum, 0, 4); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: a chunk is served: %v", why, err)
		}
	}

	// A spoiled byte.
	for i := range 4 {
		c := chunk(i)
		if i == 2 {
			c[100] ^= 1
		}
		put(i, c)
	}
	if err := s.AssembleBlob(sum, uint64(len(data))); !errors.Is(err, store.ErrBadBlob) {
		t.Fatalf("assembly of a spoiled file: %v", err)
	}
	nothingHeld("a spoiled byte")

	// A chunk of the wrong length, even if the bytes add up.
	put(0, chunk(0)[:store.ChunkSize-1])
	put(1, append(chunk(0)[store.ChunkSize-1:], chunk(1)...)[:store.ChunkSize])
	if err := s.AssembleBlob(sum, uint64(len(data))); !errors.Is(err, store.ErrBadBlob) {
		t.Fatalf("assembly with a short chunk: %v", err)
	}
	nothingHeld("a short chunk")

	// A missing chunk: nothing dropped, and the download goes on.
	put(0, chunk(0))
	put(1, chunk(1))
	put(3, chunk(3))
	if err := s.AssembleBlob(sum, uint64(len(data))); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("assembly with a chunk missing: %v", err)
	}
	if n, _ := s.ChunksHeld(sum); n != 2 {
		t.Fatalf("%d leading chunks held, want 2", n)
	}
	put(2, chunk(2))
	if err := s.AssembleBlob(sum, uint64(len(data))); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Blob(sum); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("assembled: %v", err)
	}

	// A complete file's chunks are not written again.
	put(1, []byte("a late forged chunk"))
	if got, err := s.Blob(sum); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("a chunk written over a complete file: %v", err)
	}
	if err := s.AssembleBlob(sum, uint64(len(data))); err != nil {
		t.Fatalf("assembling a complete file again: %v", err)
	}
}
