package store

import (
	"errors"
	"strconv"

	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
)

// What the mesh needs from a store: every record's (claimed time, ID) for
// reconciliation, who confirmed holding this device's records, and hooks
// for records this device signs.

// ForEachKey calls fn with the claimed time and ID of every stored record,
// in (time, ID) order within each kind, the kinds this build does not know
// included. It reads keys only.
func (s *Store) ForEachKey(fn func(created int64, id incident.ID) error) error {
	kinds, err := s.Kinds()
	if err != nil {
		return err
	}
	return s.view(func(txn *badger.Txn) error {
		for _, k := range kinds {
			prefix := kindPrefix(k)
			err := scanPrefix(txn, prefix, false, func(key []byte) error {
				rest := key[len(prefix):]
				if len(rest) != 8+32 {
					return nil
				}
				var id incident.ID
				copy(id[:], rest[8:])
				return fn(unbe64(rest[:8]), id)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

const tHolder = 'h' // h/<id><peer> → first-confirmed time

// MarkHeld records that peer confirmed holding each of ids. Only records
// this device authored are tracked (their delivery status is what the
// observer sees); others are ignored.
func (s *Store) MarkHeld(peer string, ids []incident.ID, at int64) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	self := s.Author()
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, id := range ids {
		r, err := s.Get(id)
		if err != nil || r == nil || r.AuthorKey() != self {
			continue
		}
		if err := wb.Set(key(tHolder, id[:], []byte(peer)), be64(at)); err != nil {
			return err
		}
	}
	return wb.Flush()
}

// Delivery is a record's delivery status as its author sees it.
type Delivery struct {
	Peers       int  `json:"sent_to"`             // distinct peers that confirmed holding it
	Coordinator bool `json:"held_by_coordinator"` // a coordinator's receipt lists it
}

// String is "local only", "sent to N" or "held by a coordinator".
func (d Delivery) String() string {
	switch {
	case d.Coordinator:
		return "held by a coordinator"
	case d.Peers > 0:
		return "sent to " + strconv.Itoa(d.Peers)
	}
	return "local only"
}

// DeliveryOf returns a record's delivery status.
func (s *Store) DeliveryOf(id incident.ID) (Delivery, error) {
	var d Delivery
	err := s.view(func(txn *badger.Txn) error {
		if err := scanPrefix(txn, key(tHolder, id[:]), false, func([]byte) error { d.Peers++; return nil }); err != nil {
			return err
		}
		return scanPrefix(txn, key(tReceipted, id[:]), false, func([]byte) error {
			d.Coordinator = true
			return errStop
		})
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return d, err
}

const tReceipted = 'c' // c/<id><receipt id>: a coordinator's receipt lists id

// Unreceipted returns up to limit IDs of records held here that were not
// authored by this device and that no receipt of this device lists yet:
// what a coordinator's node confirms next. Each coordinator receipts for
// itself: custody (custody.go) counts distinct coordinators, so a record
// another coordinator receipted is still this one's to confirm. It reads
// the U/ index (custody.go), not the store.
func (s *Store) Unreceipted(limit int) ([]incident.ID, error) { return s.idsUnder(tAwait, limit) }

const tReceiptedBy = 'C' // C/<id>: some receipt lists id (any receipt; custody.go reads it)

// indexReceipt records which IDs a receipt confirms.
func indexReceipt(txn *batch, rec *incident.Signed) error {
	p, err := rec.DecodePayload()
	if err != nil {
		return err
	}
	rp, ok := p.(*incident.ReceiptPayload)
	if !ok {
		return nil
	}
	for _, b := range rp.IDs {
		if len(b) != 32 {
			continue
		}
		if err := txn.Set(key(tReceipted, b, rec.ID[:]), nil); err != nil {
			return err
		}
		if err := txn.Set(key(tReceiptedBy, b), nil); err != nil {
			return err
		}
	}
	return nil
}

// OnPut registers fn to be called after this device stores a record it
// signed itself (Put): the mesh publishes it. One hook; nil removes it.
func (s *Store) OnPut(fn func(*incident.Signed)) {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	s.onPut = fn
}

func (s *Store) firePut(r *incident.Signed) {
	s.hookMu.Lock()
	fn := s.onPut
	s.hookMu.Unlock()
	if fn != nil {
		fn(r)
	}
}

// OnRevocation registers fn to be called when an Add, AddMany or Put that
// stored a revocation returns, on the caller's goroutine, whoever called
// it (the mesh, a bundle import, the app, this device revoking): the mesh
// closes the revoked member's connections at once. One hook; nil removes it. fn must not
// call back into Add.
func (s *Store) OnRevocation(fn func()) {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	s.onRevoke = fn
}

// fireRevocation calls the OnRevocation hook if a revocation was stored
// since the last call. The caller does not hold mu.
func (s *Store) fireRevocation() {
	s.mu.Lock()
	was := s.revoked
	s.revoked = false
	s.mu.Unlock()
	if !was {
		return
	}
	s.hookMu.Lock()
	fn := s.onRevoke
	s.hookMu.Unlock()
	if fn != nil {
		fn()
	}
}

// MarkHeldIn records that peer holds every record this device authored
// for which in reports true (after a completed reconciliation: those in
// the snapshot it reconciled).
func (s *Store) MarkHeldIn(peer string, at int64, in func(incident.ID) bool) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	self := s.Author()
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	err := s.view(func(txn *badger.Txn) error {
		return scanPrefix(txn, key(tAuthor, self[:]), false, func(k []byte) error {
			var id incident.ID
			copy(id[:], k[len(k)-32:])
			if !in(id) {
				return nil
			}
			hk := key(tHolder, id[:], []byte(peer))
			if _, err := txn.Get(hk); err == nil {
				return nil
			}
			return wb.Set(hk, be64(at))
		})
	})
	if err != nil {
		return err
	}
	return wb.Flush()
}

// Unconfirmed returns the IDs of stored records whose author has been
// revoked and that the revocations do not accept. The mesh neither offers
// nor forwards them; a coordinator still sees them, flagged.
func (s *Store) Unconfirmed() (map[incident.ID]bool, error) {
	ms, err := s.Mission()
	if err != nil {
		return nil, err
	}
	out := map[incident.ID]bool{}
	err = s.view(func(txn *badger.Txn) error {
		for _, m := range ms.Members() {
			if len(ms.Revocations(m.Author)) == 0 {
				continue
			}
			a := m.Author
			err := scanPrefix(txn, key(tAuthor, a[:]), false, func(k []byte) error {
				var id incident.ID
				copy(id[:], k[len(k)-32:])
				if !ms.Confirmed(a, id) {
					out[id] = true
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

// Unreadable returns the IDs of stored records that a device at format
// level cannot store (incident.Signed.ReadableAt): a build from before
// they existed rejects them, and counts them against the sender. The mesh
// neither offers nor sends them to such a peer. It reads keys only (an
// index written as each record is stored); from incident.FormatLevel on
// it is empty, since this build stores nothing it cannot read.
func (s *Store) Unreadable(level int) (map[incident.ID]bool, error) {
	out := map[incident.ID]bool{}
	if level < 0 || level >= incident.FormatLevel {
		return out, nil
	}
	prefix := key(tUnreadable, []byte{byte(level)})
	err := s.view(func(txn *badger.Txn) error {
		return scanPrefix(txn, prefix, false, func(k []byte) error {
			if len(k) != len(prefix)+32 {
				return nil
			}
			var id incident.ID
			copy(id[:], k[len(prefix):])
			out[id] = true
			return nil
		})
	})
	return out, err
}
