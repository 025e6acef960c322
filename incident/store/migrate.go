package store

import (
	"bytes"
	"encoding/binary"
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

// migrate brings a layout 1, 2, 3 or 4 store to layout 5, and writes
// m/layout last.
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
//
// Layout 3 to 4: attachments held whole (b/) are rewritten as their
// chunks (migrateBlobs). An older build refuses a layout 4 store rather
// than find no attachment content in it.
//
// Layout 4 to 5: every report's tuple is made again from its fold, with
// the fields the summary needs (flags, creation time, coordinates), and
// counted into the summary counters and heard times (summary.go,
// heard.go), migrateChunk reports per transaction with a cursor (m/migsum,
// the last seq done) written in the same transaction as their counts, so
// a killed process resumes without counting a report twice. Then the
// check-ins and alerts are heard (taking a maximum: done twice, the
// same). From layout 1, the re-indexing writes the new tuples and counts
// already. An older build refuses a layout 5 store rather than store
// reports without counting them.
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
	if len(layout) != 0 && (len(layout) != 1 || layout[0] < 2 || layout[0] > layoutVersion) {
		return fmt.Errorf("the store has key layout %d (a newer Vigil wrote it?); this build reads layouts 1 to %d", layout[0], layoutVersion)
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
	atts := 0
	if from <= 2 {
		if atts, err = s.indexAttachments(); err != nil {
			return err
		}
	}
	blobs := 0
	if from <= 3 {
		if blobs, err = s.migrateBlobs(); err != nil {
			return err
		}
	}
	summed := 0
	if from > 1 && from <= 4 {
		if summed, err = s.migrateSummary(); err != nil {
			return err
		}
	}
	if from <= 4 {
		if err := s.hearActivity(); err != nil {
			return err
		}
	}
	err = s.update(func(txn *badger.Txn) error {
		if err := txn.Set(metaKey("layout"), []byte{layoutVersion}); err != nil {
			return err
		}
		if err := txn.Delete(metaKey("migsum")); err != nil {
			return err
		}
		return txn.Delete(metaKey("migrate"))
	})
	if err != nil {
		return err
	}
	s.log.Info("store migrated", "layout", layoutVersion, "from", from, "reports", done, "attachments", atts, "files", blobs, "counted", summed)
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
				v, targeted, err := s.foldTargets(txn, j.id, nil)
				if err != nil {
					return fmt.Errorf("fold report %s: %w", j.id, err)
				}
				j.nt, j.by = tupleOf(v, targeted), v.Author
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
				if err := putTuple(b, seq, j.by, nil, &j.nt); err != nil {
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

// migrateBlobs is the migration from layout 3 to 4: every attachment held
// whole (b/<hash>) is written as its chunks, blobTxnChunks per
// transaction, then marked complete with its whole value deleted, in one
// last transaction. It returns how many files it rewrote. The b/ keys
// left are the work left: cut short, it runs again from the first of
// them, and rewrites that file's chunks from the start (the same bytes).
// A file is held in memory once, as it is read: layout 3 kept no smaller
// unit. Called with s.mu held.
func (s *Store) migrateBlobs() (int, error) {
	done := 0
	prefix := key(tBlob)
	for {
		var sum [32]byte
		found := false
		err := s.view(func(txn *badger.Txn) error {
			it := keysAfter(txn, prefix, nil)
			defer it.Close()
			for ; it.ValidForPrefix(prefix); it.Next() {
				if k := it.Item().Key(); len(k) == len(prefix)+32 {
					copy(sum[:], k[len(prefix):])
					found = true
					return nil
				}
			}
			return nil
		})
		if err != nil || !found {
			return done, err
		}
		if err := s.chunkWhole(sum); err != nil {
			return done, fmt.Errorf("attachment %x: %w", sum[:8], err)
		}
		done++
	}
}

// chunkWhole rewrites the file held whole under b/<sum> as chunks.
func (s *Store) chunkWhole(sum [32]byte) error {
	// write commits one transaction of b's writes; the chunks it sets
	// point into the value read, which stays valid until the view ends.
	write := func(fill func(b *batch) error) error {
		if err := s.enter(); err != nil {
			return err
		}
		defer s.leave()
		b := s.begin()
		err := fill(b)
		if err == nil {
			err = b.Commit()
		}
		if err != nil {
			b.Discard()
		}
		return err
	}
	var size uint64
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(key(tBlob, sum[:]))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			size = uint64(len(v))
			n := chunkCount(size)
			for first := 0; first < n; first += blobTxnChunks {
				if err := write(func(b *batch) error {
					for i := first; i < min(first+blobTxnChunks, n); i++ {
						off := i * ChunkSize
						if err := b.Set(chunkKey(sum, i), v[off:min(off+ChunkSize, len(v))]); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	return write(func(b *batch) error {
		if err := b.Set(key(tComplete, sum[:]), binary.BigEndian.AppendUint64(nil, size)); err != nil {
			return err
		}
		return b.Delete(key(tBlob, sum[:]))
	})
}

// migrateSummary is the migration from layout 4 to 5: each report's tuple
// made again from its fold and counted, migrateChunk per transaction, from
// the cursor m/migsum. It returns how many reports it counted. Called
// with s.mu held.
func (s *Store) migrateSummary() (int, error) {
	done := 0
	prefix := key(tView)
	for {
		type job struct {
			seq    uint32
			old, t tuple
			by     incident.Author
		}
		var jobs []job
		var cursor []byte
		err := s.view(func(txn *badger.Txn) error {
			c, err := getValue(txn, metaKey("migsum"))
			if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			if c != nil {
				cursor = viewKey(binary.BigEndian.Uint32(c))
			}
			it := keysAfter(txn, prefix, cursor)
			defer it.Close()
			for ; it.ValidForPrefix(prefix) && len(jobs) < migrateChunk; it.Next() {
				item := it.Item()
				k := item.Key()
				if len(k) != len(prefix)+4 {
					continue
				}
				var j job
				j.seq = binary.BigEndian.Uint32(k[len(prefix):])
				if err := item.Value(func(v []byte) error { return cbor.Unmarshal(v, &j.old) }); err != nil {
					return fmt.Errorf("tuple %d: %w", j.seq, err)
				}
				var id incident.ID
				copy(id[:], j.old.ID)
				if s.ms == nil {
					return fmt.Errorf("report %s in a store without a mission", id)
				}
				v, targeted, err := s.foldTargets(txn, id, nil)
				if err != nil {
					return fmt.Errorf("fold report %s: %w", id, err)
				}
				j.t, j.by = tupleOf(v, targeted), v.Author
				jobs = append(jobs, j)
			}
			return nil
		})
		if err != nil || len(jobs) == 0 {
			return done, err
		}
		if err := s.enter(); err != nil {
			return done, err
		}
		b := s.begin()
		err = func() error {
			for _, j := range jobs {
				for _, k := range j.old.entries(j.seq, j.by) {
					if err := b.Delete(k); err != nil {
						return err
					}
				}
				if err := putTuple(b, j.seq, j.by, nil, &j.t); err != nil {
					return err
				}
			}
			return b.Set(metaKey("migsum"), be32(jobs[len(jobs)-1].seq))
		}()
		if err == nil {
			err = b.Commit()
		}
		if err != nil {
			b.Discard()
		}
		s.leave()
		if err != nil {
			return done, err
		}
		done += len(jobs)
		if migrateHook != nil {
			if err := migrateHook(done); err != nil {
				return done, err
			}
		}
	}
}

// hearActivity notes every check-in and alert in the heard times,
// migrateChunk per transaction; done twice, it changes nothing. Called
// with s.mu held.
func (s *Store) hearActivity() error {
	for _, kind := range []incident.Kind{incident.KindCheckin, incident.KindAlert} {
		prefix := kindPrefix(kind)
		var cursor []byte
		for {
			var recs []*incident.Signed
			err := s.view(func(txn *badger.Txn) error {
				it := keysAfter(txn, prefix, cursor)
				defer it.Close()
				for ; it.ValidForPrefix(prefix) && len(recs) < migrateChunk; it.Next() {
					k := it.Item().KeyCopy(nil)
					cursor = k
					if len(k) != len(prefix)+8+32 {
						continue
					}
					var id incident.ID
					copy(id[:], k[len(k)-32:])
					r, err := getRecord(txn, id)
					if err != nil {
						return err
					}
					recs = append(recs, r)
				}
				return nil
			})
			if err != nil || len(recs) == 0 {
				if err != nil {
					return err
				}
				break
			}
			if err := s.enter(); err != nil {
				return err
			}
			b := s.begin()
			for _, r := range recs {
				if err = s.noteActivity(b, r); err != nil {
					break
				}
			}
			if err == nil {
				err = b.Commit()
			}
			if err != nil {
				b.Discard()
			}
			s.leave()
			if err != nil {
				return err
			}
		}
	}
	return nil
}
