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

	"github.com/vigil-mesh/vigil/incident"
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
// maxBlobServes answered at once. An answer reads the chunks it sends one
// at a time, from the store's chunks (nothing else of the file is read),
// so a peer that asks and never reads pins at most maxBlobServes chunks
// on this device, for a bounded time. Honest fetches ask one range at a
// time.
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
	// BlobChunks returns chunks first to first+count-1 of a complete
	// file (fewer where it ends), reading those only.
	BlobChunks(sum [32]byte, first, count int) ([][]byte, error)
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
	for i := first; i < first+count; i++ {
		// One chunk read and held at a time; past the end of the
		// file, or of any file, the answer is "not held".
		var chunk []byte
		if i < maxChunkIndex {
			if c, err := bs.BlobChunks(sum, int(i), 1); err == nil && len(c) == 1 {
				chunk = c[0]
			}
		}
		w.Write(binary.AppendUvarint(nil, uint64(len(chunk))))
		if _, err := w.Write(chunk); err != nil {
			_ = s.Reset() // the peer is gone or too slow: stop reading chunks for it
			return
		}
	}
	_ = w.Flush()
}

// maxChunkIndex bounds the chunk numbers a request may name: no file has
// more chunks than the largest attachment.
const maxChunkIndex = incident.MaxAttachmentSize / store.ChunkSize

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

// fetchBlob fetches one attachment's content from p. Each chunk is
// judged as it arrives, before the next is read: its length against the
// file's size, and its hash against the record's chunk hashes when it
// lists them. A bad chunk is refused (nothing of it stored), the stream
// cut and p struck, so a peer that spoils a transfer is caught at its
// first bad chunk; the good chunks before it are kept, and the transfer
// resumes there with another peer. A record without chunk hashes is
// checked whole when the last chunk is in (AssembleBlob), which drops
// every chunk of a file that does not hash to its name.
func (e *Engine) fetchBlob(ctx context.Context, bs BlobStore, p peer.ID, sum [32]byte, size uint64, chunkSums [][]byte) error {
	chunks := int((size + store.ChunkSize - 1) / store.ChunkSize)
	next, err := bs.ChunksHeld(sum)
	if err != nil {
		return err
	}
	for next < chunks {
		n := min(maxChunksPerRequest, chunks-next)
		err := e.requestChunks(ctx, p, sum, next, n, func(c []byte) error {
			if len(c) == 0 {
				return errNotHeld
			}
			if want := chunkLen(size, next); len(c) != want {
				return fmt.Errorf("%w (chunk %d: %d bytes, the file's size makes it %d)", store.ErrBadChunk, next, len(c), want)
			}
			var want []byte
			if next < len(chunkSums) {
				want = chunkSums[next]
			}
			if err := bs.PutChunk(sum, next, c, want); err != nil {
				return err
			}
			e.chunksFetched.Add(1)
			next++
			return nil
		})
		if errors.Is(err, store.ErrBadChunk) {
			e.strike(p, err)
		}
		if err != nil {
			return err
		}
	}
	if err := bs.AssembleBlob(sum, size); err != nil {
		if errors.Is(err, store.ErrBadBlob) {
			e.strike(p, err)
		}
		return err
	}
	return nil
}

// chunkLen is the length chunk index of a file of size bytes has.
func chunkLen(size uint64, index int) int {
	return int(min(store.ChunkSize, size-uint64(index)*store.ChunkSize))
}

// requestChunks asks p for count chunks of sum from first and calls got
// with each as it arrives (the slice is got's); an error from got stops
// the transfer and cuts the stream. At most one chunk is in memory.
func (e *Engine) requestChunks(ctx context.Context, p peer.ID, sum [32]byte, first, count int, got func([]byte) error) (err error) {
	s, err := e.node.Host().NewStream(ctx, p, e.proto(blobName, p))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = s.Reset()
		} else {
			_ = s.Close()
		}
	}()
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	req := append(sum[:], binary.AppendUvarint(nil, uint64(first))...)
	req = binary.AppendUvarint(req, uint64(count))
	if _, err := s.Write(req); err != nil {
		return err
	}
	r := bufio.NewReader(s)
	for i := 0; i < count; i++ {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return err
		}
		if n > store.ChunkSize {
			return fmt.Errorf("%w: %d bytes, limit %d", store.ErrBadChunk, n, store.ChunkSize)
		}
		c := make([]byte, n)
		if _, err := io.ReadFull(r, c); err != nil {
			return err
		}
		if err := got(c); err != nil {
			return err
		}
	}
	return nil
}
