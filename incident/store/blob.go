package store

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

const tBlob = 'b'

// PutBlob stores attachment content under its SHA-256. The content must
// hash to sum.
func (s *Store) PutBlob(sum [32]byte, data []byte) error {
	if sha256.Sum256(data) != sum {
		return errors.New("attachment content does not match its hash")
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(key(tBlob, sum[:]), data) }); err != nil {
		return err
	}
	return s.sync()
}

// Blob returns attachment content, or ErrNotFound.
func (s *Store) Blob(sum [32]byte) ([]byte, error) {
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		out, err = getValue(txn, key(tBlob, sum[:]))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: attachment %x", ErrNotFound, sum[:8])
	}
	return out, err
}
