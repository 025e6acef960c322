package store

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
)

const tBlob = 'b'

// PutBlob stores attachment content under its SHA-256. The content must
// hash to sum.
func (s *Store) PutBlob(sum [32]byte, data []byte) error {
	if sha256.Sum256(data) != sum {
		return errors.New("attachment content does not match its hash")
	}
	if err := s.update(func(txn *badger.Txn) error { return txn.Set(key(tBlob, sum[:]), data) }); err != nil {
		return err
	}
	return s.sync()
}

// DeleteBlob removes attachment content this device no longer needs: a
// draft's plaintext once its sealed copy is stored. A file an attachment
// record names in the clear stays (another report attaches it).
func (s *Store) DeleteBlob(sum [32]byte) error {
	kept := false
	err := s.update(func(txn *badger.Txn) error {
		if kept = described(txn, sum); kept {
			return nil
		}
		return txn.Delete(key(tBlob, sum[:]))
	})
	if err != nil || kept {
		return err
	}
	return s.sync()
}

// Blob returns attachment content, or ErrNotFound.
func (s *Store) Blob(sum [32]byte) ([]byte, error) {
	var out []byte
	err := s.view(func(txn *badger.Txn) error {
		var err error
		out, err = getValue(txn, key(tBlob, sum[:]))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: attachment %x", ErrNotFound, sum[:8])
	}
	return out, err
}

// Attachments travel in chunks; partial downloads are kept, so a transfer
// cut by a lost link resumes where it stopped.

// ChunkSize is the unit of attachment transfer and of resumption.
const ChunkSize = incident.AttachmentChunk

const (
	tChunk = 'P' // P/<hash><index:8> → chunk bytes
)

// HasBlob reports whether the complete content is held.
func (s *Store) HasBlob(sum [32]byte) bool {
	err := s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(key(tBlob, sum[:]))
		return err
	})
	return err == nil
}

// ChunksHeld returns how many leading chunks of sum are held.
func (s *Store) ChunksHeld(sum [32]byte) (int, error) {
	n := 0
	err := s.view(func(txn *badger.Txn) error {
		for {
			if _, err := txn.Get(key(tChunk, sum[:], be64(int64(n)))); err != nil {
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

// ErrBadChunk: a chunk does not hash to what its attachment record lists.
var ErrBadChunk = errors.New("attachment chunk does not match its record's chunk hash")

// PutChunk stores chunk index of sum durably. want, when the attachment
// record lists chunk hashes, is this chunk's: a chunk that does not match
// is refused before it is stored.
func (s *Store) PutChunk(sum [32]byte, index int, data []byte, want []byte) error {
	if len(data) > ChunkSize {
		return fmt.Errorf("chunk of %d bytes, limit %d", len(data), ChunkSize)
	}
	if want != nil {
		if got := sha256.Sum256(data); string(got[:]) != string(want) {
			return fmt.Errorf("%w (chunk %d)", ErrBadChunk, index)
		}
	}
	if err := s.update(func(txn *badger.Txn) error {
		return txn.Set(key(tChunk, sum[:], be64(int64(index))), data)
	}); err != nil {
		return err
	}
	return s.sync()
}

// AssembleBlob joins the held chunks of sum; if they hash to sum the blob
// is stored and the chunks dropped, otherwise the chunks are dropped and an
// error returned (a peer sent bad data).
func (s *Store) AssembleBlob(sum [32]byte, size uint64) error {
	chunks := int((size + ChunkSize - 1) / ChunkSize)
	data := make([]byte, 0, size)
	err := s.view(func(txn *badger.Txn) error {
		for i := 0; i < chunks; i++ {
			v, err := getValue(txn, key(tChunk, sum[:], be64(int64(i))))
			if err != nil {
				return err
			}
			data = append(data, v...)
		}
		return nil
	})
	drop := func() error {
		return s.update(func(txn *badger.Txn) error {
			for i := 0; i < chunks; i++ {
				if err := txn.Delete(key(tChunk, sum[:], be64(int64(i)))); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return err
	}
	if uint64(len(data)) != size || sha256.Sum256(data) != sum {
		_ = drop()
		return errors.New("attachment chunks do not hash to the attachment's content hash")
	}
	// The blob appears and its chunks go in one transaction: nobody sees
	// both, or neither.
	if err := s.update(func(txn *badger.Txn) error {
		if err := txn.Set(key(tBlob, sum[:]), data); err != nil {
			return err
		}
		for i := 0; i < chunks; i++ {
			if err := txn.Delete(key(tChunk, sum[:], be64(int64(i)))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return s.sync()
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

// BlobBytes returns the total size of the attachments held.
func (s *Store) BlobBytes() (uint64, error) {
	var total uint64
	err := s.view(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		o.Prefix = key(tBlob)
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			total += uint64(it.Item().ValueSize())
		}
		return nil
	})
	return total, err
}
