package mesh_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// liveHeap is the heap in use after a collection: what is held, not what
// was allocated and dropped.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// A member that asks for ranges of an 8 MiB attachment many times at
// once, and reads one byte of each answer, holds on the server what the
// answers being sent hold: a chunk each, not the file. (Answering by
// loading the whole file held 8 MiB per answer.) The heap is the whole
// process's, the attacker's side included, after a collection.
func TestConcurrentChunkRequestsBoundServerHeap(t *testing.T) {
	m := newMission(t, 2)
	data := make([]byte, incident.MaxAttachmentSize)
	rand.Read(data)
	sum := sha256.Sum256(data)
	// Content with no record: nobody fetches it on its own; the attacker
	// knows the hash.
	if err := m.stores[0].PutBlob(sum, data); err != nil {
		t.Fatal(err)
	}
	data = nil
	victim := m.start(0, noReceipts, slowPeriodic)
	attacker := m.start(1, noReceipts, slowPeriodic)
	synced, stop := victim.Subscribe(4)
	defer stop()
	connect(t, attacker, victim)
	select {
	case <-synced:
	case <-time.After(20 * time.Second):
		t.Fatal("no reconciliation after connecting")
	}
	base := liveHeap()

	const requests = 24
	proto := mesh.BlobProtocol(victim)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var streams []network.Stream
	for i := range requests {
		s, err := attacker.Node().Host().NewStream(ctx, victim.Node().ID(), proto)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Reset()
		req := binary.AppendUvarint(append([]byte(nil), sum[:]...), uint64(i*16%128))
		if _, err := s.Write(binary.AppendUvarint(req, 16)); err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}
	// Each answered stream has begun to send: its chunks are being
	// read. The others were refused.
	served := 0
	for _, s := range streams {
		s.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := s.Read(make([]byte, 1)); err == nil {
			served++
		}
	}
	ap := attacker.Node().ID()
	if n := mesh.BlobServes(victim, ap); served == 0 || n > 2 {
		t.Fatalf("%d requests served, %d being answered", served, n)
	}
	held := int64(liveHeap()) - int64(base)
	t.Logf("%d concurrent requests for 16 chunks of an 8 MiB file, %d answered at once: live heap %+.2f MiB over the idle baseline",
		requests, mesh.BlobServes(victim, ap), float64(held)/(1<<20))
	if held > 8<<20 {
		t.Errorf("the answers hold %.1f MiB; a chunk each is under 1 MiB", float64(held)/(1<<20))
	}
}

// spoiler is a member's store that serves chunk bad of every file
// spoiled by spoil, and the others as they are: a member turned attacker
// running the ordinary engine.
type spoiler struct {
	*store.Store
	bad   int
	spoil func([]byte) []byte
}

func (s *spoiler) BlobChunks(sum [32]byte, first, count int) ([][]byte, error) {
	cs, err := s.Store.BlobChunks(sum, first, count)
	for i := range cs {
		if first+i == s.bad {
			cs[i] = s.spoil(cs[i])
		}
	}
	return cs, err
}

// A member that serves a file with a spoiled chunk is struck, and the
// victim keeps nothing bad: with the record's chunk hashes (or a chunk
// of the wrong length) the chunk is refused as it arrives and the good
// chunks before it are kept, so the transfer resumes there; without them
// the file is checked whole and every chunk dropped. An honest member
// then gives the victim the file.
func TestSpoiledChunksAreRefusedAndStruck(t *testing.T) {
	flip := func(c []byte) []byte { c[len(c)/2] ^= 1; return c }
	short := func(c []byte) []byte { return c[:len(c)-1] }
	const chunks, bad = 7, 3
	for _, c := range []struct {
		name   string
		hashes bool
		spoil  func([]byte) []byte
		kept   int // chunks the victim holds once the spoiler is caught
	}{
		{"chunk hashes, a flipped byte", true, flip, bad},
		{"no chunk hashes, a short chunk", false, short, bad},
		{"no chunk hashes, a flipped byte", false, flip, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newMission(t, 3)
			data := make([]byte, (chunks-1)*store.ChunkSize+99)
			rand.Read(data)
			sum := sha256.Sum256(data)
			rec := incident.AttachmentPayload{Hash: sum[:], Size: uint64(len(data)), Mime: "image/jpeg"}
			if c.hashes {
				rec.Chunks = incident.ChunkHashes(data)
			}
			// The hostile member attached the file; the honest one holds it.
			for _, st := range m.stores[1:] {
				if err := st.PutBlob(sum, data); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := m.stores[1].Put(incident.KindAttachment, rec); err != nil {
				t.Fatal(err)
			}
			victim := m.start(0, noReceipts, slowPeriodic)
			hostile := m.startWith(&spoiler{Store: m.stores[1], bad: bad, spoil: c.spoil}, noReceipts, slowPeriodic)
			connect(t, hostile, victim)
			eventually(t, 20*time.Second, "the spoiler was never struck", func() bool {
				return mesh.StrikesOf(victim, m.stores[1].Author()) > 0
			})
			eventually(t, 10*time.Second, "the victim kept chunks it should not", func() bool {
				n, _ := m.stores[0].ChunksHeld(sum)
				return n == c.kept
			})
			if m.stores[0].HasBlob(sum) {
				t.Fatal("the victim holds a spoiled file")
			}
			hostile.Close()

			honest := m.start(2, noReceipts, slowPeriodic)
			connect(t, honest, victim)
			waitBlob(t, m.stores[0], sum, data)
			t.Logf("%d strikes; %d chunks stored in all for a file of %d", mesh.StrikesOf(victim, m.stores[1].Author()), mesh.ChunksFetched(victim), chunks)
			// Refused on arrival, the transfer resumed at the spoiled
			// chunk: each chunk was stored once.
			if n := mesh.ChunksFetched(victim); c.kept > 0 && n != chunks {
				t.Errorf("%d chunks stored for a file of %d", n, chunks)
			}
			if n := mesh.StrikesOf(victim, m.stores[2].Author()); n != 0 {
				t.Errorf("the honest member got %d strikes", n)
			}
		})
	}
}
