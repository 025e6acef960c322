package store

import (
	"errors"
	"fmt"
	gosync "sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// Quotas: each author may have so many records, and bytes of records,
// stored in the mission, by role (incident.MissionState.Quota: mission
// config, else limits.go). Claimed times play no part: they are the
// sender's to choose. Usage is kept per author under u/<author> and
// cached in Store.quotas.

type quota struct {
	Records uint64 `cbor:"1,keyasint"`
	Bytes   uint64 `cbor:"2,keyasint"`
}

// ErrQuota is wrapped by rejections for exceeding a per-author quota.
var ErrQuota = errors.New("quota exceeded")

// maxQuotaCache bounds Store.quotas (an entry per author).
const maxQuotaCache = 1 << 16

// charge counts rec against its author's quota in b. reject says it does
// not fit (rec is then remembered as declined); err means b could not be
// read or written.
func (s *Store) charge(b *batch, rec *incident.Signed) (reject, err error) {
	author := rec.AuthorKey()
	role, _ := s.ms.Role(author)
	limit := s.ms.Quota(role)
	q, err := s.usage(b, author)
	if err != nil {
		return nil, err
	}
	q.Records++
	q.Bytes += uint64(len(rec.Raw))
	if q.Records > limit.Records || q.Bytes > limit.Bytes {
		s.declined.add(rec.ID)
		return fmt.Errorf("%w: %w", ErrQuota, &incident.FieldError{Field: "author", Problem: fmt.Sprintf(
			"this record would make %d records / %d bytes by one %s in the mission; the quota is %d records and %d bytes (mission config quota.%s.*)",
			q.Records, q.Bytes, role, limit.Records, limit.Bytes, role)}), nil
	}
	if err := s.putUsage(b, author, q); err != nil {
		return nil, err
	}
	return nil, nil
}

func (s *Store) putUsage(b *batch, a incident.Author, q quota) error {
	qb, err := cbor.Marshal(q)
	if err != nil {
		return err
	}
	if err := b.Set(quotaKey(a), qb); err != nil {
		return err
	}
	if len(s.quotas) >= maxQuotaCache {
		clear(s.quotas)
	}
	s.quotas[a] = q
	return nil
}

// usage returns an author's quota usage: cached, stored under u/, or
// counted from the author's records.
func (s *Store) usage(b *batch, a incident.Author) (quota, error) {
	if q, ok := s.quotas[a]; ok {
		return q, nil
	}
	var q quota
	v, err := getValue(b.Txn, quotaKey(a))
	if err == nil {
		err = cbor.Unmarshal(v, &q)
		return q, err
	}
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return q, err
	}
	return s.countUsage(b, a)
}

// countUsage counts an author's stored records that count against quotas
// from the by-author index, and writes the count (u/<author>) in b. It
// runs once per author that has no count yet: on a new author (whose only
// record, if any, is its member record), and on an author of a store
// written when quotas were per claimed day (u/<author><day:8>, deleted
// here), which spares that store a migration. Records are never deleted,
// so the count stays true. Any counted record stored in b wrote u/ in b,
// so the committed records are all there is to count.
func (s *Store) countUsage(b *batch, a incident.Author) (quota, error) {
	var q quota
	var old [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		err := scanPrefix(txn, key(tAuthor, a[:]), false, func(k []byte) error {
			var id incident.ID
			copy(id[:], k[len(k)-32:])
			raw, err := getValue(txn, recordKey(id))
			if err != nil {
				return err
			}
			rec, err := incident.DecodeStored(raw)
			if err != nil {
				return err
			}
			if !rec.Kind.MissionKind() {
				q.Records++
				q.Bytes += uint64(len(raw))
			}
			return nil
		})
		if err != nil {
			return err
		}
		return scanPrefix(txn, key(tQuota, a[:]), false, func(k []byte) error {
			if len(k) == 2+32+8 {
				old = append(old, k)
			}
			return nil
		})
	})
	if err != nil {
		return q, err
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return q, err
		}
	}
	return q, s.putUsage(b, a, q)
}

// declinedCap is how many refused IDs Store.declined remembers: 16,384
// IDs, about 1.5 MiB with the map, on a phone too.
const declinedCap = 1 << 14

// declinedSet remembers the latest records refused for quota, so that
// reconciliation stops asking peers for them. It lives in memory only: a
// restart asks for each once more (and refuses it again, at the cost of a
// signature check), which is cheaper than a disk write per refusal that a
// flooding author could drive, and a persisted set would have to be
// cleared on disk whenever a quota may have risen. Past declinedCap the
// oldest are forgotten first.
type declinedSet struct {
	mu   gosync.Mutex
	ids  map[incident.ID]struct{}
	ring []incident.ID // insertion order; next overwrites the oldest
	next int
}

func (d *declinedSet) add(id incident.ID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ids == nil {
		d.ids = map[incident.ID]struct{}{}
	}
	if _, ok := d.ids[id]; ok {
		return
	}
	if len(d.ring) < declinedCap {
		d.ring = append(d.ring, id)
	} else {
		delete(d.ids, d.ring[d.next])
		d.ring[d.next] = id
		d.next = (d.next + 1) % declinedCap
	}
	d.ids[id] = struct{}{}
}

func (d *declinedSet) has(id incident.ID) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.ids[id]
	return ok
}

// forget empties the set: what it held may fit now.
func (d *declinedSet) forget() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ids, d.ring, d.next = nil, nil, 0
}

// Declined reports whether asking a peer for record id is pointless for
// now: it was refused for its author's quota (remembered in memory, the
// latest 16,384, until a mission record may have raised a quota or a
// role), or it waits in the quarantine already. An evicted or expired
// quarantined record is not declined: reconciliation offers it again.
func (s *Store) Declined(id incident.ID) bool {
	if s.declined.has(id) {
		return true
	}
	waiting := false
	_ = s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(key(tQMember, id[:]))
		waiting = err == nil
		return nil
	})
	return waiting
}
