package mesh_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// putAttachment stores content and its manifest as st's device.
func putAttachment(t *testing.T, st *store.Store, size int) ([32]byte, []byte) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	sum := sha256.Sum256(data)
	if err := st.PutBlob(sum, data); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(incident.KindAttachment, incident.AttachmentPayload{Hash: sum[:], Size: uint64(size), Mime: "image/jpeg"}); err != nil {
		t.Fatal(err)
	}
	return sum, data
}

func waitBlob(t *testing.T, st *store.Store, sum [32]byte, want []byte) {
	t.Helper()
	eventually(t, 20*time.Second, "attachment content never arrived", func() bool { return st.HasBlob(sum) })
	got, err := st.Blob(sum)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("attachment content differs (err %v)", err)
	}
}

func TestAttachmentsFollowRecords(t *testing.T) {
	m := newMission(t, 2)
	sum, data := putAttachment(t, m.stores[1], 3*store.ChunkSize+123)
	a, b := m.start(0, noReceipts), m.start(1, noReceipts)
	connect(t, a, b)
	waitBlob(t, m.stores[0], sum, data)
}

// A transfer cut after some chunks resumes from the next one: chunks
// already held are not asked for again, and the result is whole.
func TestAttachmentTransferResumes(t *testing.T) {
	m := newMission(t, 2)
	sum, data := putAttachment(t, m.stores[1], 5*store.ChunkSize)
	// The coordinator already holds the first two chunks, as after a cut.
	for i := 0; i < 2; i++ {
		if err := m.stores[0].PutChunk(sum, i, data[i*store.ChunkSize:(i+1)*store.ChunkSize], nil); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := m.stores[0].ChunksHeld(sum); n != 2 {
		t.Fatalf("chunks held %d, want 2", n)
	}
	a, b := m.start(0, noReceipts), m.start(1, noReceipts)
	connect(t, a, b)
	waitBlob(t, m.stores[0], sum, data)
	if got := mesh.ChunksFetched(a); got != 3 {
		t.Fatalf("fetched %d chunks, want the 3 missing ones", got)
	}
	if n, _ := m.stores[0].ChunksHeld(sum); n != 0 {
		t.Fatalf("%d chunks left after assembly", n)
	}
}

// Chunks that do not hash to the manifest are dropped, not stored.
func TestCorruptChunksAreDropped(t *testing.T) {
	m := newMission(t, 1)
	st := m.stores[0]
	data := bytes.Repeat([]byte{7}, store.ChunkSize+10)
	sum := sha256.Sum256(data)
	if err := st.PutChunk(sum, 0, data[:store.ChunkSize], nil); err != nil {
		t.Fatal(err)
	}
	if err := st.PutChunk(sum, 1, []byte("forged tail"), nil); err != nil {
		t.Fatal(err)
	}
	if err := st.AssembleBlob(sum, uint64(len(data))); err == nil {
		t.Fatal("assembled a blob from chunks that do not match its hash")
	}
	if st.HasBlob(sum) {
		t.Fatal("bad blob stored")
	}
	if n, _ := st.ChunksHeld(sum); n != 0 {
		t.Fatalf("%d bad chunks kept", n)
	}
	// With the record's chunk hashes, a bad chunk is refused on arrival.
	sums := incident.ChunkHashes(data)
	if err := st.PutChunk(sum, 1, []byte("forged tail"), sums[1]); !errors.Is(err, store.ErrBadChunk) {
		t.Fatalf("forged chunk against its hash: %v, want ErrBadChunk", err)
	}
	if n, _ := st.ChunksHeld(sum); n != 0 {
		t.Fatalf("%d chunks held after a refused one", n)
	}
	if err := st.PutChunk(sum, 0, data[:store.ChunkSize], sums[0]); err != nil {
		t.Fatalf("good chunk against its hash: %v", err)
	}
}
