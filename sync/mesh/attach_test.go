package mesh_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
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
	// The chunks are the stored file: all five, and nothing else.
	if n, _ := m.stores[0].ChunksHeld(sum); n != 5 {
		t.Fatalf("%d chunks held after assembly, want the file's 5", n)
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
	if err := st.AssembleBlob(sum, uint64(len(data))); !errors.Is(err, store.ErrBadBlob) {
		t.Fatalf("assembled a blob from chunks that do not match its hash: %v", err)
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

// A sealed report's photo reaches the coordinator over the mesh through a
// carrier that never holds it readable: the carrier fetches and serves the
// ciphertext the attachment record names; the coordinator opens it with
// the key inside the sealed report.
func TestSealedPhotoOverTheMesh(t *testing.T) {
	m := newMission(t, 3, incident.RoleObserver, incident.RoleCarrier)
	coord, obs, car := act.New(m.stores[0]), act.New(m.stores[1]), act.New(m.stores[2])
	photo := make([]byte, 2*store.ChunkSize+77)
	rand.Read(photo)
	const name = "queue-at-PS-0042.jpg"
	a, err := obs.AttachFile(name, photo)
	if err != nil {
		t.Fatal(err)
	}
	sealed := true
	c, err := obs.Submit(act.Submission{Report: incident.ReportPayload{Category: "polling.late_opening", Severity: 2,
		Title: "Queue, doors still shut"}, Files: []act.Attachment{a}, Sealed: &sealed})
	if err != nil {
		t.Fatal(err)
	}
	// Observer → carrier, then the observer leaves; carrier → coordinator.
	eo, ec := m.start(1, noReceipts), m.start(2, noReceipts)
	connect(t, eo, ec)
	v, _ := obs.Report(c.ID.String())
	var cipher [32]byte
	copy(cipher[:], v.Report.Attachments[0])
	eventually(t, 20*time.Second, "the carrier never fetched the ciphertext", func() bool { return m.stores[2].HasBlob(cipher) })
	eo.Close()
	connect(t, m.start(0, noReceipts), ec)
	eventually(t, 20*time.Second, "the coordinator never fetched the ciphertext", func() bool { return m.stores[0].HasBlob(cipher) })
	fd, err := coord.ReadFile(c.ID.String(), 0)
	if err != nil || !bytes.Equal(fd.Data, photo) || fd.Name != name {
		t.Fatalf("the coordinator's photo: %q %v", fd.Name, err)
	}
	if _, err := car.ReadFile(c.ID.String(), 0); err == nil {
		t.Fatal("the carrier opened the sealed photo")
	}
	// What the carrier holds is ciphertext under a name-less record (the
	// whole-store scan is incident/store's TestSealedPhotoThroughUSBChain).
	if held, _ := m.stores[2].Blob(cipher); bytes.Contains(held, photo[5000:5064]) || m.stores[2].HasBlob(sha256.Sum256(photo)) {
		t.Error("the carrier holds the photo's plaintext")
	}
	recs, _ := m.stores[2].ByKind(incident.KindAttachment)
	for _, r := range recs {
		if bytes.Contains(r.Raw, []byte(name)) {
			t.Errorf("the carrier's attachment record names the file: %s", r.ID)
		}
	}
}

// A member that asks for an attachment again and again and never reads
// the answers holds at most two answers (a chunk each in memory, see
// TestConcurrentChunkRequestsBoundServerHeap) at a time on the victim; its further requests are refused at once, and honest
// fetches from other peers still get theirs.
func TestUnreadAttachmentRequestsAreBounded(t *testing.T) {
	m := newMission(t, 3)
	sum, data := putAttachment(t, m.stores[0], 4*store.ChunkSize)
	victim := m.start(0, noReceipts, slowPeriodic)
	hostile := m.start(1, noReceipts, slowPeriodic)
	connect(t, hostile, victim)
	proto := mesh.BlobProtocol(victim)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := append(sum[:], 0, 4) // chunks 0..3
	refused := 0
	for i := 0; i < 12; i++ {
		s, err := hostile.Node().Host().NewStream(ctx, victim.Node().ID(), proto)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Reset()
		if _, err := s.Write(req); err != nil {
			t.Fatal(err)
		}
		// Never read the answer; a refused stream is reset at once.
		s.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := s.Read(make([]byte, 1)); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			refused++
		}
	}
	hp := hostile.Node().ID()
	if n := mesh.BlobServes(victim, hp); n > 2 {
		t.Fatalf("%d answers held for one peer", n)
	}
	if refused < 10 {
		t.Errorf("%d of 12 unread requests refused, want at least 10", refused)
	}
	// An honest member still fetches the file from the victim.
	honest := m.start(2, noReceipts)
	connect(t, honest, victim)
	waitBlob(t, m.stores[2], sum, data)
}
