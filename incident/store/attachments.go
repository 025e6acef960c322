package store

import (
	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
)

// Attachment records by content hash. A report names its files by hash;
// showing a report's files, dropping a draft's plaintext and importing a
// bundle's files each ask which attachment records describe a hash, and
// before this index each asked by reading every attachment record. The
// entry is written with the record (commit), in the same batch; records
// are never deleted, so neither are entries. Layout 2 stores had none:
// the migration to layout 3 writes them (indexAttachments).
//
// Several records may describe one hash: the same file attached to two
// reports, by one device or by two. Entries sort by the record's claimed
// creation time, as k/ does, so lookups list them oldest first.
const tAttachment = 'A' // A/<hash:32><created:8><id> → nil

func attachmentKey(hash []byte, created int64, id incident.ID) []byte {
	return key(tAttachment, hash, be64(created), id[:])
}

// attachmentEntry returns the index key of an attachment record, or nil
// when rec is not one whose payload names a content hash (another kind,
// or sealed).
func attachmentEntry(rec *incident.Signed) []byte {
	if rec.Kind != incident.KindAttachment || len(rec.Sealed) > 0 {
		return nil
	}
	p, err := rec.DecodePayload()
	if err != nil {
		return nil
	}
	ap, ok := p.(*incident.AttachmentPayload)
	if !ok || len(ap.Hash) != 32 {
		return nil
	}
	return attachmentKey(ap.Hash, rec.Created, rec.ID)
}

// AttachmentsOf returns what the attachment records held here say of the
// file with content hash sum, oldest claimed creation first: none when no
// record describes it (yet).
func (s *Store) AttachmentsOf(sum [32]byte) ([]incident.AttachmentPayload, error) {
	var out []incident.AttachmentPayload
	err := s.view(func(txn *badger.Txn) error {
		recs, err := recordsUnder(txn, key(tAttachment, sum[:]))
		if err != nil {
			return err
		}
		for _, r := range recs {
			p, err := r.DecodePayload()
			if err != nil {
				continue
			}
			if ap, ok := p.(*incident.AttachmentPayload); ok {
				out = append(out, *ap)
			}
		}
		return nil
	})
	return out, err
}

// described reports whether an attachment record names sum in the clear.
func described(txn *badger.Txn, sum [32]byte) bool {
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	o.Prefix = key(tAttachment, sum[:])
	it := txn.NewIterator(o)
	defer it.Close()
	it.Rewind()
	return it.Valid()
}

// indexAttachments writes the A/ entries of every attachment record, in
// transactions of bounded size, and returns how many it wrote. Writing an
// entry again is harmless, so a migration cut short runs it whole again.
// Called with s.mu held.
func (s *Store) indexAttachments() (int, error) {
	prefix := kindPrefix(incident.KindAttachment)
	var cursor []byte
	done := 0
	for {
		var entries [][]byte
		var last []byte
		err := s.view(func(txn *badger.Txn) error {
			it := keysAfter(txn, prefix, cursor)
			defer it.Close()
			for ; it.ValidForPrefix(prefix) && len(entries) < 4*migrateChunk; it.Next() {
				k := it.Item().KeyCopy(nil)
				last = k
				if len(k) != len(prefix)+8+32 {
					continue
				}
				var id incident.ID
				copy(id[:], k[len(k)-32:])
				rec, err := getRecord(txn, id)
				if err != nil {
					return err
				}
				if e := attachmentEntry(rec); e != nil {
					entries = append(entries, e)
				}
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		if last == nil {
			return done, nil
		}
		if err := s.enter(); err != nil {
			return done, err
		}
		b := s.begin()
		for _, e := range entries {
			if err = b.Set(e, nil); err != nil {
				break
			}
		}
		if err == nil {
			err = b.Commit()
		}
		if err != nil {
			b.Discard()
			s.leave()
			return done, err
		}
		s.leave()
		done += len(entries)
		cursor = last
	}
}
