package store

import (
	"bytes"

	"github.com/dgraph-io/badger/v4"
	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// Test access to the opened-plaintext cache (opened.go) and the key
// tables, for the external tests.

// OpenedBody returns the cached body of a sealed record, if any.
func OpenedBody(s *Store, id incident.ID) ([]byte, bool) {
	var out []byte
	err := s.view(func(txn *badger.Txn) error {
		var err error
		out, err = getValue(txn, openedKey(id))
		return err
	})
	return out, err == nil
}

// SetOpened writes a cache entry as it is (a damaged one, for tests).
func SetOpened(s *Store, id incident.ID, body []byte) error {
	return s.update(func(txn *badger.Txn) error { return txn.Set(openedKey(id), body) })
}

// DropOpened deletes every cache entry.
func DropOpened(s *Store) error { return dropTable(s, tOpened) }

// dropTable deletes every key of a table.
func dropTable(s *Store, table byte) error {
	var keys [][]byte
	err := s.view(func(txn *badger.Txn) error {
		return scanPrefix(txn, key(table), false, func(k []byte) error { keys = append(keys, k); return nil })
	})
	if err != nil {
		return err
	}
	return s.update(func(txn *badger.Txn) error {
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// ForgetAgeIdentity makes this store unable to open anything sealed to
// it, so that whatever it still reads comes from kept copies or the cache.
func ForgetAgeIdentity(s *Store) {
	s.mu.Lock()
	s.ageID = nil
	s.mu.Unlock()
}

// KeyTables counts the keys of each table (a key's first byte).
func KeyTables(s *Store) (map[byte]int, error) {
	out := map[byte]int{}
	err := s.view(func(txn *badger.Txn) error {
		return scanPrefix(txn, nil, false, func(k []byte) error {
			if len(k) > 0 {
				out[k[0]]++
			}
			return nil
		})
	})
	return out, err
}

// TablesHolding returns the tables (by first key byte) of the values that
// contain needle, keys aside.
func TablesHolding(s *Store, needle []byte) ([]byte, error) {
	var out []byte
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			err := item.Value(func(v []byte) error {
				if bytes.Contains(v, needle) && !bytes.Contains(out, item.Key()[:1]) {
					out = append(out, item.Key()[0])
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Decrypts returns how many age decryptions s has tried since it opened.
func Decrypts(s *Store) int64 { return s.decrypts.Load() }

// Closed returns the marker that says s cannot open sealed record id.
func Closed(s *Store, id incident.ID) ([]byte, bool) {
	var out []byte
	err := s.view(func(txn *badger.Txn) error {
		var err error
		out, err = getValue(txn, closedKey(id))
		return err
	})
	return out, err == nil
}

// SetClosed writes a marker as it is.
func SetClosed(s *Store, id incident.ID, v []byte) error {
	return s.update(func(txn *badger.Txn) error { return txn.Set(closedKey(id), v) })
}

// DropClosed deletes every marker.
func DropClosed(s *Store) error { return dropTable(s, tClosed) }

// SetLegacyQuota makes author's quota usage look as a build with quotas
// per claimed day left it: no u/<author>, one u/<author><day> entry.
func SetLegacyQuota(s *Store, author incident.Author, day int64) error {
	s.mu.Lock()
	clear(s.quotas)
	s.mu.Unlock()
	return s.update(func(txn *badger.Txn) error {
		if err := txn.Delete(quotaKey(author)); err != nil {
			return err
		}
		return txn.Set(key(tQuota, author[:], be64(day)), []byte{0xa0})
	})
}

// LegacyQuotaKeys counts the u/<author><day> entries.
func LegacyQuotaKeys(s *Store) (int, error) {
	n := 0
	err := s.view(func(txn *badger.Txn) error {
		return scanPrefix(txn, key(tQuota), false, func(k []byte) error {
			if len(k) == 2+32+8 {
				n++
			}
			return nil
		})
	})
	return n, err
}

// PutLegacyQuarantine parks raw in the quarantine as a build with a
// quarantine bounded per source did: no arrival time, author or W/ entry,
// usage under n/<source>.
func PutLegacyQuarantine(s *Store, raw, dep []byte, source string) error {
	id := incident.IDOf(raw)
	eb, err := cbor.Marshal(qentry{Source: source, Dep: dep, Raw: raw})
	if err != nil {
		return err
	}
	ub, _ := cbor.Marshal(qusage{Records: 1, Bytes: uint64(len(raw))})
	return s.update(func(txn *badger.Txn) error {
		for _, kv := range [][2][]byte{
			{key(tQuarantine, dep, []byte{'/'}, id[:]), eb},
			{key(tQMember, id[:]), dep},
			{key(tQSource, []byte(source)), ub},
		} {
			if err := txn.Set(kv[0], kv[1]); err != nil {
				return err
			}
		}
		return nil
	})
}

// BareRecords iterates the r/ records with Badger directly, reading each
// value: the rate a scan of every report is measured against.
func BareRecords(s *Store) (int, error) {
	n := 0
	err := s.view(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = key(tRecord)
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := it.Item().Value(func(v []byte) error { n += len(v) & 1; return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// SetBulkMin sets how many reports a scan reads in key order from, and
// returns a function that restores it.
func SetBulkMin(n int) func() {
	old := bulkMin
	bulkMin = n
	return func() { bulkMin = old }
}

// FillSpace makes a store believe its data folder holds n bytes (as if
// measured), with nothing stored since: the budget tests' full phone.
func FillSpace(s *Store, n uint64) {
	s.spaceBase.Store(n)
	s.spaceGrown.Store(0)
}

// SetLongGone writes a dropped-record mark as stores wrote it before
// goneMigrate (the whole ID), and forgets that the migration ran.
func SetLongGone(s *Store, id incident.ID) error {
	return s.update(func(txn *badger.Txn) error {
		if err := txn.Delete(metaKey("gone8")); err != nil {
			return err
		}
		return txn.Set(key(tGone, id[:]), nil)
	})
}

// SetBulkRunMin sets the fewest reports a run of a bulk scan holds, and
// returns a function that restores it.
func SetBulkRunMin(n int) func() {
	old := bulkRunMin
	bulkRunMin = n
	return func() { bulkRunMin = old }
}
