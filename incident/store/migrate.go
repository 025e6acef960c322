package store

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// migrateChunk is how many reports one migration transaction re-indexes
// (about 13 writes each, well inside a phone-profile transaction).
var migrateChunk = 250

// migrateHook, when set (by tests), is called after each committed chunk
// with the number of reports migrated so far; an error stops the
// migration there, as a killed process would.
var migrateHook func(done int) error

// migrate brings a layout 1 or 2 store to layout 3, and writes m/layout
// last.
//
// Layout 1 (no m/layout) to 2: every report gets an index number (its k/
// entry's value), a tuple under v/<seq> with its ID, area and severity,
// and index entries that end in the number; the layout 1 entries and
// tuple go. Records are never touched: each report's tuple is its fold,
// read from the records. The reports are taken in kind order,
// migrateChunk per transaction; each transaction also advances a cursor
// (m/migrate, the last k/ key done) and the next index number, so a
// process killed midway resumes where the last committed chunk ended.
//
// Layout 2 to 3: the attachment records get their entries by content hash
// (A/, attachments.go). Run again whole if cut short: writing an entry
// twice is harmless. An older build refuses a layout 3 store rather than
// store attachment records without entries.
func (s *Store) migrate() error {
	var layout []byte
	var cursor []byte
	err := s.view(func(txn *badger.Txn) error {
		var err error
		if layout, err = getValue(txn, metaKey("layout")); err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if cursor, err = getValue(txn, metaKey("migrate")); err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(layout) == 1 && layout[0] == layoutVersion {
		return nil
	}
	if len(layout) != 0 && (len(layout) != 1 || layout[0] != 2) {
		return fmt.Errorf("the store has key layout %d; this build reads layouts 1 to %d", layout[0], layoutVersion)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	from, done := 1, 0
	if len(layout) == 1 {
		from = int(layout[0])
	}
	if from == 1 {
		var err error
		if done, err = s.migrateReports(cursor); err != nil {
			return err
		}
	}
	atts, err := s.indexAttachments()
	if err != nil {
		return err
	}
	err = s.update(func(txn *badger.Txn) error {
		if err := txn.Set(metaKey("layout"), []byte{layoutVersion}); err != nil {
			return err
		}
		return txn.Delete(metaKey("migrate"))
	})
	if err != nil {
		return err
	}
	s.log.Info("store migrated", "layout", layoutVersion, "from", from, "reports", done, "attachments", atts)
	return s.sync()
}

// migrateReports is the migration from layout 1 to 2, from cursor (nil
// at the start). It returns how many reports it re-indexed. Called with
// s.mu held.
func (s *Store) migrateReports(cursor []byte) (int, error) {
	done := 0
	prefix := kindPrefix(incident.KindReport)
	for {
		type job struct {
			kkey []byte
			id   incident.ID
			old  *tuple
			nt   tuple
			by   incident.Author
		}
		var jobs []job
		err := s.view(func(txn *badger.Txn) error {
			it := keysAfter(txn, prefix, cursor)
			defer it.Close()
			for ; it.ValidForPrefix(prefix) && len(jobs) < migrateChunk; it.Next() {
				k := it.Item().KeyCopy(nil)
				if len(k) != len(prefix)+8+32 {
					continue
				}
				var j job
				j.kkey = k
				copy(j.id[:], k[len(k)-32:])
				if s.ms == nil {
					return fmt.Errorf("report %s in a store without a mission", j.id)
				}
				v, err := s.foldIn(txn, j.id, nil)
				if err != nil {
					return fmt.Errorf("fold report %s: %w", j.id, err)
				}
				j.nt, j.by = tupleOf(v), v.Author
				if raw, err := getValue(txn, viewKeyV1(j.id)); err == nil {
					var ot tuple
					if err := cbor.Unmarshal(raw, &ot); err != nil {
						return fmt.Errorf("layout 1 tuple of %s: %w", j.id, err)
					}
					j.old = &ot
				} else if !errors.Is(err, badger.ErrKeyNotFound) {
					return err
				}
				jobs = append(jobs, j)
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		if len(jobs) == 0 {
			return done, nil
		}
		if err := s.enter(); err != nil {
			return done, err
		}
		b := s.begin()
		err = func() error {
			for _, j := range jobs {
				if j.old != nil {
					for _, k := range j.old.entriesV1(j.id) {
						if err := b.Delete(k); err != nil {
							return err
						}
					}
					if err := b.Delete(viewKeyV1(j.id)); err != nil {
						return err
					}
				}
				seq := s.seq
				s.seq++
				if err := b.Set(j.kkey, be32(seq)); err != nil {
					return err
				}
				if err := putTuple(b, seq, j.by, j.nt); err != nil {
					return err
				}
			}
			if err := b.Set(metaKey("seq"), be32(s.seq)); err != nil {
				return err
			}
			return b.Set(metaKey("migrate"), jobs[len(jobs)-1].kkey)
		}()
		if err == nil {
			err = b.Commit()
		}
		if err != nil {
			b.Discard()
			s.seq = b.seq0
			s.leave()
			return done, err
		}
		s.leave()
		cursor = jobs[len(jobs)-1].kkey
		done += len(jobs)
		if migrateHook != nil {
			if err := migrateHook(done); err != nil {
				return done, err
			}
		}
	}
}

// keysAfter iterates the keys of prefix (values not prefetched) from the
// first after cursor, or from the first when cursor is nil: where a
// migration that works in bounded transactions resumes in its next one.
func keysAfter(txn *badger.Txn, prefix, cursor []byte) *badger.Iterator {
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	o.Prefix = prefix
	it := txn.NewIterator(o)
	it.Seek(prefix)
	if cursor != nil {
		it.Seek(cursor)
		if it.ValidForPrefix(prefix) && bytes.Equal(it.Item().Key(), cursor) {
			it.Next()
		}
	}
	return it
}
