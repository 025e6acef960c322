package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
)

// Attachment content is stored as its chunks (layout 4): the unit of
// transfer is the unit of storage, so serving a range of chunks to a peer
// reads those chunks and nothing else, and a download in progress and a
// complete file are the same keys. A file is complete when its marker is
// written; the marker goes in the transaction that checked the chunks
// against the content hash, so nobody sees a complete file whose chunks
// do not hash to its name.
//
// Layout 3 and before kept a complete file as one value under b/<hash>;
// the migration to layout 4 rewrites each as chunks (migrateBlobs). The
// readers here still take a whole value where they find one.
const (
	tBlob     = 'b' // b/<hash> → the whole content (layout 3 and before)
	tChunk    = 'P' // P/<hash><index:8> → chunk bytes, of a download in progress or a complete file
	tComplete = 'B' // B/<hash> → size:8; every chunk is held and they hash to <hash>
)

// ChunkSize is the unit of attachment storage, transfer and resumption.
const ChunkSize = incident.AttachmentChunk

// blobTxnChunks is how many chunks one transaction writes (1 MiB): inside
// Badger's transaction limits in either profile (the laptop profile keeps
// 64 KiB values in its tables, where every byte counts).
var blobTxnChunks = 16

func chunkKey(sum [32]byte, index int) []byte {
	return key(tChunk, sum[:], be64(int64(index)))
}

// chunkCount is how many chunks a file of size bytes has.
func chunkCount(size uint64) int { return int((size + ChunkSize - 1) / ChunkSize) }

// chunkLen is the length chunk index of a file of size bytes must have.
func chunkLen(size uint64, index int) int {
	return int(min(ChunkSize, size-uint64(index)*ChunkSize))
}

var (
	// ErrBadChunk: a chunk does not hash to what its attachment record
	// lists, or its length is not what the file's size makes it.
	ErrBadChunk = errors.New("attachment chunk is not the one its record describes (hash or length)")
	// ErrBadBlob: the chunks of a file, put together, are not the file its
	// content hash names (a peer sent bad data).
	ErrBadBlob = errors.New("attachment chunks do not hash to the attachment's content hash")
)

// held says how sum's complete content is stored in txn: chunked with its
// size, or whole (layout 3) as item, with a size that is only Badger's
// estimate; neither is ErrKeyNotFound.
func held(txn *badger.Txn, sum [32]byte) (size uint64, whole *badger.Item, err error) {
	item, err := txn.Get(key(tComplete, sum[:]))
	if err == nil {
		err = item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("attachment %x: a size of %d bytes", sum[:8], len(v))
			}
			size = binary.BigEndian.Uint64(v)
			return nil
		})
		return size, nil, err
	}
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil, err
	}
	item, err = txn.Get(key(tBlob, sum[:]))
	if err != nil {
		return 0, nil, err
	}
	return uint64(item.ValueSize()), item, nil
}

func notFound(sum [32]byte) error { return fmt.Errorf("%w: attachment %x", ErrNotFound, sum[:8]) }

// PutBlob stores attachment content under its SHA-256 (a file attached
// on this device, or read from a bundle). The content must hash to sum.
// It is written as chunks, a bounded number per transaction, then checked
// and marked complete as a download is (AssembleBlob).
func (s *Store) PutBlob(sum [32]byte, data []byte) error {
	if sha256.Sum256(data) != sum {
		return errors.New("attachment content does not match its hash")
	}
	if s.HasBlob(sum) {
		return nil
	}
	n := chunkCount(uint64(len(data)))
	for first := 0; first < n; first += blobTxnChunks {
		err := s.update(func(txn *badger.Txn) error {
			for i := first; i < min(first+blobTxnChunks, n); i++ {
				off := i * ChunkSize
				if err := txn.Set(chunkKey(sum, i), data[off:min(off+ChunkSize, len(data))]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return s.AssembleBlob(sum, uint64(len(data)))
}

// DeleteBlob removes attachment content this device no longer needs: a
// draft's plaintext once its sealed copy is stored. A file an attachment
// record names in the clear stays (another report attaches it). Every
// chunk goes, with the marker, in one transaction: a file has at most
// MaxAttachmentSize/ChunkSize of them, and deletions are small entries.
func (s *Store) DeleteBlob(sum [32]byte) error {
	kept := false
	err := s.update(func(txn *badger.Txn) error {
		if kept = described(txn, sum); kept {
			return nil
		}
		var chunks [][]byte
		if err := scanPrefix(txn, key(tChunk, sum[:]), false, func(k []byte) error {
			chunks = append(chunks, k)
			return nil
		}); err != nil {
			return err
		}
		for _, k := range append(chunks, key(tComplete, sum[:]), key(tBlob, sum[:])) {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || kept {
		return err
	}
	return s.sync()
}

// Blob returns the whole content of a complete attachment, or
// ErrNotFound. It holds the file in memory: callers that want a part use
// BlobChunks, and those that can stream use OpenBlob.
func (s *Store) Blob(sum [32]byte) ([]byte, error) {
	var out []byte
	err := s.view(func(txn *badger.Txn) error {
		size, whole, err := held(txn, sum)
		if err != nil {
			return err
		}
		if whole != nil {
			out, err = whole.ValueCopy(nil)
			return err
		}
		out = make([]byte, 0, size)
		for i := range chunkCount(size) {
			item, err := txn.Get(chunkKey(sum, i))
			if err != nil {
				return fmt.Errorf("attachment %x, chunk %d: %w", sum[:8], i, err)
			}
			if err := item.Value(func(v []byte) error { out = append(out, v...); return nil }); err != nil {
				return err
			}
		}
		if uint64(len(out)) != size {
			return fmt.Errorf("attachment %x: %d bytes in its chunks, %d marked", sum[:8], len(out), size)
		}
		return nil
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, notFound(sum)
	}
	return out, err
}

// BlobChunks returns chunks first to first+count-1 of a complete
// attachment (fewer where the file ends before), or ErrNotFound when the
// content is not held whole. It reads those chunks only: what serving a
// range to a peer costs is the range.
func (s *Store) BlobChunks(sum [32]byte, first, count int) ([][]byte, error) {
	if first < 0 || count < 0 {
		return nil, fmt.Errorf("chunks %d+%d", first, count)
	}
	var out [][]byte
	err := s.view(func(txn *badger.Txn) error {
		size, whole, err := held(txn, sum)
		if err != nil {
			return err
		}
		if whole != nil {
			return whole.Value(func(v []byte) error {
				for i := first; i < min(first+count, chunkCount(uint64(len(v)))); i++ {
					off := i * ChunkSize
					out = append(out, bytes.Clone(v[off:min(off+ChunkSize, len(v))]))
				}
				return nil
			})
		}
		for i := first; i < min(first+count, chunkCount(size)); i++ {
			v, err := getValue(txn, chunkKey(sum, i))
			if err != nil {
				return fmt.Errorf("attachment %x, chunk %d: %w", sum[:8], i, err)
			}
			out = append(out, v)
		}
		return nil
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, notFound(sum)
	}
	return out, err
}

// OpenBlob returns a reader of a complete attachment's content and its
// size, or ErrNotFound. The reader holds one chunk at a time, each read
// in a transaction of its own: a file deleted while it is read fails the
// read (ErrNotFound) rather than end short. Close releases nothing but
// the chunk held; the reader is for one goroutine.
func (s *Store) OpenBlob(sum [32]byte) (io.ReadCloser, uint64, error) {
	var size uint64
	legacy := false
	err := s.view(func(txn *badger.Txn) error {
		var whole *badger.Item
		var err error
		size, whole, err = held(txn, sum)
		legacy = whole != nil
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, 0, notFound(sum)
	}
	if err != nil {
		return nil, 0, err
	}
	if legacy { // held whole: it is in memory as soon as it is read
		data, err := s.Blob(sum)
		if err != nil {
			return nil, 0, err
		}
		return io.NopCloser(bytes.NewReader(data)), uint64(len(data)), nil
	}
	return &blobReader{s: s, sum: sum, chunks: chunkCount(size)}, size, nil
}

type blobReader struct {
	s      *Store
	sum    [32]byte
	next   int // the next chunk to read
	chunks int
	buf    []byte // what is left of the chunk read last
}

func (r *blobReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.next >= r.chunks {
			return 0, io.EOF
		}
		c, err := r.s.BlobChunks(r.sum, r.next, 1)
		if err != nil {
			return 0, err
		}
		if len(c) != 1 {
			return 0, fmt.Errorf("attachment %x: chunk %d missing", r.sum[:8], r.next)
		}
		r.buf = c[0]
		r.next++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *blobReader) Close() error {
	r.buf, r.next = nil, r.chunks
	return nil
}

// HasBlob reports whether the complete content is held.
func (s *Store) HasBlob(sum [32]byte) bool {
	err := s.view(func(txn *badger.Txn) error {
		_, _, err := held(txn, sum)
		return err
	})
	return err == nil
}

// ChunksHeld returns how many leading chunks of sum are held: of a
// download in progress, where it resumes; of a complete file, all of
// them (0 for a file still held whole, as layout 3 kept them).
func (s *Store) ChunksHeld(sum [32]byte) (int, error) {
	n := 0
	err := s.view(func(txn *badger.Txn) error {
		for {
			if _, err := txn.Get(chunkKey(sum, n)); err != nil {
				if errors.Is(err, badger.ErrKeyNotFound) {
					return nil
				}
				return err
			}
			n++
		}
	})
	return n, err
}

// PutChunk stores chunk index of sum durably. want, when the attachment
// record lists chunk hashes, is this chunk's: a chunk that does not match
// is refused before it is stored. A chunk of a file already complete is
// not written (its chunks are the file).
func (s *Store) PutChunk(sum [32]byte, index int, data []byte, want []byte) error {
	if len(data) > ChunkSize {
		return fmt.Errorf("chunk of %d bytes, limit %d", len(data), ChunkSize)
	}
	if index < 0 {
		return fmt.Errorf("chunk %d", index)
	}
	if want != nil {
		if got := sha256.Sum256(data); string(got[:]) != string(want) {
			return fmt.Errorf("%w (chunk %d)", ErrBadChunk, index)
		}
	}
	done := false
	if err := s.update(func(txn *badger.Txn) error {
		_, _, err := held(txn, sum)
		if done = err == nil; done || !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		return txn.Set(chunkKey(sum, index), data)
	}); err != nil || done {
		return err
	}
	return s.sync()
}

// AssembleBlob checks the held chunks of sum against it and marks the
// file complete: the chunks are hashed one by one as they are read (one
// chunk in memory), and the marker is written in the same transaction,
// so a chunk written meanwhile makes the transaction conflict rather than
// slip in unchecked. Chunks that are not the file (a wrong length, or a
// wrong hash put together) are all dropped in that transaction, and the
// error is ErrBadBlob: a peer sent bad data. A missing chunk drops
// nothing (ErrNotFound). A file already complete is left as it is.
func (s *Store) AssembleBlob(sum [32]byte, size uint64) error {
	chunks := chunkCount(size)
	bad, done := false, false
	err := s.update(func(txn *badger.Txn) error {
		_, _, err := held(txn, sum)
		if done = err == nil; done || !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		h := sha256.New()
		for i := 0; i < chunks && !bad; i++ {
			item, err := txn.Get(chunkKey(sum, i))
			if errors.Is(err, badger.ErrKeyNotFound) {
				return fmt.Errorf("%w: attachment %x, chunk %d of %d", ErrNotFound, sum[:8], i, chunks)
			}
			if err != nil {
				return err
			}
			// The length is checked on the value itself: ValueSize is an
			// estimate for values kept in the value log.
			if err := item.Value(func(v []byte) error {
				if len(v) != chunkLen(size, i) {
					bad = true
				}
				h.Write(v)
				return nil
			}); err != nil {
				return err
			}
		}
		if !bad && !bytes.Equal(h.Sum(nil), sum[:]) {
			bad = true
		}
		if bad {
			return scanPrefix(txn, key(tChunk, sum[:]), false, txn.Delete)
		}
		return txn.Set(key(tComplete, sum[:]), binary.BigEndian.AppendUint64(nil, size))
	})
	if err != nil || done {
		return err
	}
	if err := s.sync(); err != nil {
		return err
	}
	if bad {
		return fmt.Errorf("%w (attachment %x)", ErrBadBlob, sum[:8])
	}
	return nil
}

// MissingAttachments returns the attachment manifests whose content is
// not held yet, oldest first, up to limit.
func (s *Store) MissingAttachments(limit int) ([]incident.AttachmentPayload, error) {
	recs, err := s.ByKind(incident.KindAttachment)
	if err != nil {
		return nil, err
	}
	var out []incident.AttachmentPayload
	for _, r := range recs {
		p, err := r.DecodePayload()
		if err != nil {
			continue
		}
		ap, ok := p.(*incident.AttachmentPayload)
		if !ok || len(ap.Hash) != 32 {
			continue
		}
		var sum [32]byte
		copy(sum[:], ap.Hash)
		if s.HasBlob(sum) {
			continue
		}
		out = append(out, *ap)
		if len(out) >= limit {
			break
		}
	}
	return out, nil
}

// BlobBytes returns the total size of the complete attachments held.
func (s *Store) BlobBytes() (uint64, error) {
	var total uint64
	err := s.view(func(txn *badger.Txn) error {
		if err := forPrefix(txn, key(tComplete), true, func(it *badger.Item) error {
			return it.Value(func(v []byte) error {
				if len(v) == 8 {
					total += binary.BigEndian.Uint64(v)
				}
				return nil
			})
		}); err != nil {
			return err
		}
		return forPrefix(txn, key(tBlob), false, func(it *badger.Item) error {
			total += uint64(it.ValueSize())
			return nil
		})
	})
	return total, err
}

// forPrefix calls fn with each item under prefix, values prefetched or
// not.
func forPrefix(txn *badger.Txn, prefix []byte, values bool, fn func(*badger.Item) error) error {
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = values
	o.Prefix = prefix
	it := txn.NewIterator(o)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if err := fn(it.Item()); err != nil {
			return err
		}
	}
	return nil
}
