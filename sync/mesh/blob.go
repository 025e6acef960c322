package mesh

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vigil-mesh/vigil/incident/store"
)

// Attachments move after text records: once a reconciliation with a peer
// is done, the side that lacks attachment content asks that peer for it by
// content hash, chunk by chunk. Chunks are stored as they arrive, so a
// transfer cut by a lost link resumes at the next chunk. What a device
// fetches is bounded by the mission's attachment budget.
//
// The blob protocol, one request per stream:
//
//	request:  32-byte content hash, uvarint first chunk, uvarint count (≤ 16)
//	response: per chunk, uvarint length then the bytes (length 0: not held)

const maxChunksPerRequest = 16

// A request is answered within blobServeTimeout, and a peer has at most
// maxBlobServes answered at once: an answer holds the file in memory
// while the peer reads it, so a peer that asks and never reads pins at
// most maxBlobServes files (16 MiB of 8 MiB attachments), for a bounded
// time. Honest fetches ask one range at a time.
const (
	blobServeTimeout = 30 * time.Second
	maxBlobServes    = 2
)

// blobServes counts the attachment requests being answered, by peer.
type blobServes struct {
	mu sync.Mutex
	n  map[peer.ID]int
}

func (b *blobServes) acquire(p peer.ID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n == nil {
		b.n = map[peer.ID]int{}
	}
	if b.n[p] >= maxBlobServes {
		return false
	}
	b.n[p]++
	return true
}

func (b *blobServes) release(p peer.ID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n[p]--; b.n[p] <= 0 {
		delete(b.n, p)
	}
}

// count is how many requests of p are being answered.
func (b *blobServes) count(p peer.ID) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n[p]
}

// BlobStore is what attachment transfer needs from a store.
type BlobStore interface {
	Blob(sum [32]byte) ([]byte, error)
	HasBlob(sum [32]byte) bool
	ChunksHeld(sum [32]byte) (int, error)
	PutChunk(sum [32]byte, index int, data []byte, want []byte) error
	AssembleBlob(sum [32]byte, size uint64) error
	BlobBytes() (uint64, error)
}

func (e *Engine) handleBlob(s network.Stream) {
	if !e.track() { // Close waits for handlers reading the store
		_ = s.Reset()
		return
	}
	defer e.wg.Done()
	if !e.node.Guard(s) {
		return
	}
	defer s.Close()
	bs, ok := e.store.(BlobStore)
	if !ok {
		_ = s.Reset()
		return
	}
	p := s.Conn().RemotePeer()
	if !e.serving.acquire(p) {
		_ = s.Reset()
		return
	}
	defer e.serving.release(p)
	_ = s.SetDeadline(time.Now().Add(blobServeTimeout))
	r := bufio.NewReader(io.LimitReader(s, 64))
	var sum [32]byte
	if _, err := io.ReadFull(r, sum[:]); err != nil {
		_ = s.Reset()
		return
	}
	first, err1 := binary.ReadUvarint(r)
	count, err2 := binary.ReadUvarint(r)
	if err1 != nil || err2 != nil || count > maxChunksPerRequest {
		_ = s.Reset()
		return
	}
	w := bufio.NewWriter(s)
	data, err := bs.Blob(sum)
	if err != nil {
		data = nil
	}
	for i := first; i < first+count; i++ {
		var chunk []byte
		if off := i * store.ChunkSize; data != nil && off < uint64(len(data)) {
			chunk = data[off:min(off+store.ChunkSize, uint64(len(data)))]
		}
		w.Write(binary.AppendUvarint(nil, uint64(len(chunk))))
		w.Write(chunk)
	}
	_ = w.Flush()
}

// fetchAttachments asks p for the content of attachments this device
// lacks, within the budget.
func (e *Engine) fetchAttachments(ctx context.Context, p peer.ID) error {
	bs, ok := e.store.(BlobStore)
	if !ok {
		return nil
	}
	// One fetch at a time: two sessions (one started by each side) would
	// otherwise write the same chunks while the other assembles them.
	e.fetchMu.Lock()
	defer e.fetchMu.Unlock()
	ms, err := e.store.Mission()
	if err != nil {
		return err
	}
	missing, err := e.store.MissingAttachments(64)
	if err != nil {
		return err
	}
	held, err := bs.BlobBytes()
	if err != nil {
		return err
	}
	for _, a := range missing {
		if held+a.Size > ms.AttachmentBudget() {
			e.log.Debug("attachment over the mission's budget", "size", a.Size)
			continue
		}
		var sum [32]byte
		copy(sum[:], a.Hash)
		if bs.HasBlob(sum) {
			continue
		}
		err := e.fetchBlob(ctx, bs, p, sum, a.Size, a.Chunks)
		if errors.Is(err, errNotHeld) {
			continue
		}
		if err != nil {
			return err
		}
		held += a.Size
	}
	return nil
}

var errNotHeld = errors.New("peer does not hold this attachment")

// fetchBlob fetches one attachment's content from p; chunkSums, when the
// record lists them, check each chunk as it arrives, so a peer that sends
// bad data is caught at its first bad chunk rather than after the whole
// file.
func (e *Engine) fetchBlob(ctx context.Context, bs BlobStore, p peer.ID, sum [32]byte, size uint64, chunkSums [][]byte) error {
	chunks := int((size + store.ChunkSize - 1) / store.ChunkSize)
	next, err := bs.ChunksHeld(sum)
	if err != nil {
		return err
	}
	for next < chunks {
		n := min(maxChunksPerRequest, chunks-next)
		got, err := e.requestChunks(ctx, p, sum, next, n)
		if err != nil {
			return err
		}
		for _, c := range got {
			if len(c) == 0 {
				return errNotHeld
			}
			var want []byte
			if next < len(chunkSums) {
				want = chunkSums[next]
			}
			if err := bs.PutChunk(sum, next, c, want); err != nil {
				if errors.Is(err, store.ErrBadChunk) {
					e.strike(p, err)
				}
				return err
			}
			e.chunksFetched.Add(1)
			next++
		}
	}
	if err := bs.AssembleBlob(sum, size); err != nil {
		e.strike(p, err)
		return err
	}
	return nil
}

func (e *Engine) requestChunks(ctx context.Context, p peer.ID, sum [32]byte, first, count int) ([][]byte, error) {
	s, err := e.node.Host().NewStream(ctx, p, e.proto(blobName, p))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	req := append(sum[:], binary.AppendUvarint(nil, uint64(first))...)
	req = binary.AppendUvarint(req, uint64(count))
	if _, err := s.Write(req); err != nil {
		return nil, err
	}
	r := bufio.NewReader(s)
	out := make([][]byte, 0, count)
	for i := 0; i < count; i++ {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		if n > store.ChunkSize {
			return nil, fmt.Errorf("chunk of %d bytes, limit %d", n, store.ChunkSize)
		}
		c := make([]byte, n)
		if _, err := io.ReadFull(r, c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
