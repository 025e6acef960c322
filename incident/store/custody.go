package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
)

// Custody (incident/custody.go): a bounded device (an observer's or
// carrier's phone) keeps the mission's records, its own, and what it
// carries for others until custody_receipts distinct coordinators in good
// standing hold it; then it drops what it carried (Prune) and never takes
// it again. Every device keeps the bookkeeping, so the live set it
// reconciles with phones is read from an index, not computed by a walk:
//
//	R/<id:32><author:32>   author holds record id: it signed it, or its receipt lists id
//	l/<id:32>              → created:8: an observation record held here that
//	                       fewer than custody_receipts coordinators hold (live)
//	U/<id:32>              a record of another author that no receipt of this
//	                       device lists yet (what a coordinator's node receipts next)
//	G/<id:8>               dropped here after coordinators held it (bounded
//	                       devices): the ID's first goneLen bytes
//	m/custody              the index above is built (stores written before it
//	                       get it on open, custodyMigrate)
//	m/gone8                G/ keys are goneLen bytes (goneMigrate)
const (
	tCustodian = 'R'
	tLive      = 'l'
	tAwait     = 'U'
	tGone      = 'G'
)

func custodianKey(id incident.ID, a incident.Author) []byte { return key(tCustodian, id[:], a[:]) }
func liveKey(id incident.ID) []byte                         { return key(tLive, id[:]) }
func awaitKey(id incident.ID) []byte                        { return key(tAwait, id[:]) }
func goneKey(id incident.ID) []byte                         { return key(tGone, id[:goneLen]) }

// goneLen is how much of a dropped record's ID a bounded device keeps:
// a phone that carried a million records drops about as many, and their
// marks were most of what it kept (32-byte IDs: about 50 MB on disk at a
// million). Eight bytes are enough to tell a record it must not take
// again: an honest record matches one of a million marks with
// probability 2⁻⁴⁴, and a member cannot aim a match at a record not yet
// written (its ID hashes the author's signature). A match only means the
// phone does not carry that record; its author and every other device
// still do.
const goneLen = 8

// ErrBudget is wrapped (with ErrQuota, so peers are not blamed) by the
// refusal of a record carried for others while a bounded device is over
// its storage budget.
var ErrBudget = errors.New("storage budget full")

// bounded reports whether this device keeps a bounded store: its role in
// the mission is observer or carrier and Options.KeepAll is off. Called
// with s.mu held.
func (s *Store) bounded() bool {
	if s.opts.KeepAll || s.ms == nil || s.signer == nil {
		return false
	}
	role, ok := s.ms.Role(s.signer.Author())
	return ok && (role == incident.RoleObserver || role == incident.RoleCarrier)
}

// Bounded reports whether this device keeps a bounded store (see bounded).
func (s *Store) Bounded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bounded()
}

// custodians counts the coordinators in good standing that hold id.
// Called with s.mu held.
func (s *Store) custodians(txn *badger.Txn, id incident.ID) (int, error) {
	n := 0
	prefix := key(tCustodian, id[:])
	err := scanPrefix(txn, prefix, false, func(k []byte) error {
		var a incident.Author
		copy(a[:], k[len(prefix):])
		if role, _ := s.ms.Role(a); role == incident.RoleCoordinator && s.ms.Standing(a) == nil {
			n++
		}
		return nil
	})
	return n, err
}

// custodyCommit keeps the custody index for a record being stored.
// Called from commit with s.mu held.
func (s *Store) custodyCommit(b *batch, rec *incident.Signed) error {
	s.spaceGrown.Add(uint64(len(rec.Raw)) * diskPerByte)
	switch rec.Kind.Custody() {
	case incident.CustodyReceipt:
		return s.indexCustody(b, rec)
	case incident.CustodyMission:
		return nil
	}
	author := rec.AuthorKey()
	if err := b.Set(custodianKey(rec.ID, author), nil); err != nil {
		return err
	}
	if s.signer != nil && author != s.signer.Author() {
		if err := b.Set(awaitKey(rec.ID), nil); err != nil {
			return err
		}
	}
	// Usually no receipt lists a record before it arrives, and only its
	// author holds it: no walk of R/ (ingest pays for every record).
	if _, err := b.Get(key(tReceiptedBy, rec.ID[:])); errors.Is(err, badger.ErrKeyNotFound) {
		n := 0
		if role, _ := s.ms.Role(author); role == incident.RoleCoordinator && s.ms.Standing(author) == nil {
			n = 1
		}
		return s.setLive(b, rec.ID, rec.Created, n)
	} else if err != nil {
		return err
	}
	return s.relive(b, rec.ID, rec.Created)
}

// setLive sets or clears id's live entry for n custodians.
func (s *Store) setLive(b *batch, id incident.ID, created int64, n int) error {
	if n < s.ms.CustodyReceipts() {
		return b.Set(liveKey(id), be64(created))
	}
	return b.Delete(liveKey(id))
}

// custodyRelevant reports whether a mission record may change who counts
// as a custodian or how many must hold a record: a revocation or
// confirmation (a coordinator's standing), a coordinator's enrollment, a
// config that sets custody_receipts. An observer's enrollment does not:
// at a national mission's scale (10,000 members joining, a million
// records on a coordinator's laptop) each would count every record again.
func custodyRelevant(rec *incident.Signed) bool {
	switch rec.Kind {
	case incident.KindRevoke, incident.KindConfirm:
		return true
	case incident.KindMember:
		p, err := rec.DecodePayload()
		m, ok := p.(*incident.MemberPayload)
		return err != nil || !ok || m.Token.Role == incident.RoleCoordinator
	case incident.KindConfig:
		p, err := rec.DecodePayload()
		c, ok := p.(*incident.ConfigPayload)
		if err != nil || !ok {
			return true
		}
		_, set := c.Settings[incident.SettingCustodyReceipts]
		return set
	}
	return false
}

// relive sets or clears id's live entry from who holds it now.
func (s *Store) relive(b *batch, id incident.ID, created int64) error {
	n, err := s.custodians(b.Txn, id)
	if err != nil {
		return err
	}
	return s.setLive(b, id, created, n)
}

// indexCustody notes which records a receipt says its coordinator holds:
// a record held here that enough coordinators now hold leaves the live
// set, and one this device receipted leaves U/.
func (s *Store) indexCustody(b *batch, rec *incident.Signed) error {
	p, err := rec.DecodePayload()
	if err != nil {
		return err
	}
	rp, ok := p.(*incident.ReceiptPayload)
	if !ok {
		return nil
	}
	author := rec.AuthorKey()
	self := s.signer != nil && author == s.signer.Author()
	for _, raw := range rp.IDs {
		if len(raw) != 32 {
			continue
		}
		id := incident.ID(raw)
		if err := b.Set(custodianKey(id, author), nil); err != nil {
			return err
		}
		if self {
			if err := b.Delete(awaitKey(id)); err != nil {
				return err
			}
		}
		v, err := getValue(b.Txn, liveKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if err := s.relive(b, id, unbe64(v)); err != nil {
			return err
		}
	}
	return nil
}

// gone reports whether a bounded device dropped id, or dropped the record
// id targets (which counts as dropping id): a record it will not take
// again. Called with s.mu held.
func (s *Store) gone(txn *badger.Txn, rec *incident.Signed) (bool, error) {
	if !s.bounded() {
		return false, nil
	}
	ids := []incident.ID{rec.ID}
	if t := targetOf(rec); t != nil {
		ids = append(ids, *t)
	}
	for _, id := range ids {
		if _, err := txn.Get(goneKey(id)); err == nil {
			return true, nil
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return false, err
		}
	}
	return false, nil
}

// carriedOverBudget reports whether rec is a record carried for others
// that a bounded device over its budget refuses: the last Prune found it
// over, or what was stored since then would take it over (a session
// brings thousands of records between two prunes, and the budget must
// hold while they arrive, not only after). Called with s.mu held.
func (s *Store) carriedOverBudget(rec *incident.Signed) bool {
	// Receipts are never refused: they are what lets the phone drop.
	if !s.bounded() || rec.Kind.Custody() != incident.CustodyObservation || rec.AuthorKey() == s.signer.Author() {
		return false
	}
	if s.overBudget.Load() {
		return true
	}
	budget := s.ms.StorageBudget()
	if budget > 0 && s.spaceBase.Load()+s.spaceGrown.Load()+uint64(len(rec.Raw))*diskPerByte > budget {
		s.overBudget.Store(true) // until a Prune finds room
		return true
	}
	return false
}

// diskPerByte is what a record's byte costs on disk before a compaction:
// the value log, the write-ahead log of its keys and the index entries
// beside it (store.size measures about two for reports; three keeps the
// budget with the index of a small record). spaceGrown counts with it.
const diskPerByte = 3

// noteSpace records the data folder's size, measured now, and restarts
// the count of what was stored since.
func (s *Store) noteSpace() uint64 {
	n := dirBytes(DataDir(s.home))
	s.spaceBase.Store(n)
	s.spaceGrown.Store(0)
	return n
}

// ForEachLiveKey calls fn with the claimed time and ID of every record in
// the live set: the mission's records (incident.CustodyMission) and the
// observation records fewer than custody_receipts coordinators hold. It is
// what devices reconcile with a bounded peer.
func (s *Store) ForEachLiveKey(fn func(created int64, id incident.ID) error) error {
	if err := s.refreshCustody(); err != nil {
		return err
	}
	kinds, err := s.Kinds()
	if err != nil {
		return err
	}
	return s.view(func(txn *badger.Txn) error {
		for _, k := range kinds {
			if k.Custody() != incident.CustodyMission {
				continue
			}
			prefix := kindPrefix(k)
			err := scanPrefix(txn, prefix, false, func(key []byte) error {
				rest := key[len(prefix):]
				if len(rest) != 8+32 {
					return nil
				}
				return fn(unbe64(rest[:8]), incident.ID(rest[8:]))
			})
			if err != nil {
				return err
			}
		}
		return forPrefix(txn, key(tLive), true, func(it *badger.Item) error {
			k := it.Key()
			if len(k) != 2+32 {
				return nil
			}
			return it.Value(func(v []byte) error {
				if len(v) != 8 {
					return nil
				}
				return fn(unbe64(v), incident.ID(k[2:]))
			})
		})
	})
}

// Covering returns, for the records ids names, the receipts held here
// that list them: what a peer needs to see that coordinators hold them.
// At most max receipts. One iterator serves every ID (a peer may name
// 65,536 of them).
func (s *Store) Covering(ids []incident.ID, max int) ([]*incident.Signed, error) {
	var out []*incident.Signed
	seen := map[incident.ID]bool{}
	err := s.view(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		o.Prefix = key(tReceipted)
		it := txn.NewIterator(o)
		defer it.Close()
		for _, id := range ids {
			prefix := key(tReceipted, id[:])
			for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
				k := it.Item().Key()
				rid := incident.ID(k[len(prefix):])
				if seen[rid] {
					continue
				}
				seen[rid] = true
				r, err := getRecord(txn, rid)
				if err != nil {
					continue // dropped since (Prune)
				}
				if out = append(out, r); len(out) >= max {
					return nil
				}
			}
		}
		return nil
	})
	return out, err
}

// refreshCustody rebuilds the live set when what decides it changed
// since it was built: a member enrolled or revoked, custody_receipts set
// (commit marks it stale). Each record's custodians are counted again.
func (s *Store) refreshCustody() error {
	if !s.custodyStale.Load() {
		return nil
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.custodyStale.Swap(false) {
		return nil
	}
	return s.rebuildLive()
}

// rebuildLive counts the custodians of every observation record held here
// again and writes its live entry. Called with s.mu held.
func (s *Store) rebuildLive() error {
	if s.ms == nil {
		return nil
	}
	items, err := s.observationItems(func(c incident.CustodyClass) bool { return c == incident.CustodyObservation })
	if err != nil {
		return err
	}
	return inBatches(s, items, func(b *batch, it kindItem) error { return s.relive(b, it.id, it.created) })
}

type kindItem struct {
	created int64
	id      incident.ID
}

// kindItems lists the (claimed time, ID) of the records of kind k.
func kindItems(txn *badger.Txn, k incident.Kind) ([]kindItem, error) {
	var out []kindItem
	prefix := kindPrefix(k)
	err := scanPrefix(txn, prefix, false, func(key []byte) error {
		rest := key[len(prefix):]
		if len(rest) == 8+32 {
			out = append(out, kindItem{unbe64(rest[:8]), incident.ID(rest[8:])})
		}
		return nil
	})
	return out, err
}

// inBatches calls fn with each item and a write batch, committing the
// batch whenever it is full and once at the end. The batch fn fails in
// is dropped, with what it held; the batches committed before stay.
// Called with s.mu held.
func inBatches[T any](s *Store, items []T, fn func(*batch, T) error) error {
	b := s.begin()
	for _, it := range items {
		if s.full(b) {
			if err := s.finish(b); err != nil {
				return err
			}
			b = s.begin()
		}
		if err := fn(b, it); err != nil {
			s.drop(b)
			return err
		}
	}
	return s.finish(b)
}

// observationItems lists the records of the kinds whose custody class
// want accepts, kind by kind.
func (s *Store) observationItems(want func(incident.CustodyClass) bool) ([]kindItem, error) {
	kinds, err := s.Kinds()
	if err != nil {
		return nil, err
	}
	var out []kindItem
	err = s.view(func(txn *badger.Txn) error {
		for _, k := range kinds {
			if !want(k.Custody()) {
				continue
			}
			items, err := kindItems(txn, k)
			if err != nil {
				return err
			}
			out = append(out, items...)
		}
		return nil
	})
	return out, err
}

// custodyMigrate builds the custody index of a store written before it:
// custodians from every record's author and every receipt, U/ for the
// records of others, the live set. Once; m/custody marks it done.
func (s *Store) custodyMigrate() error {
	if _, err := s.getMeta("custody"); err == nil {
		return nil
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil {
		return nil // no records yet: commit keeps the index from the first
	}
	items, err := s.observationItems(func(c incident.CustodyClass) bool { return c != incident.CustodyMission })
	if err != nil {
		return err
	}
	if err := inBatches(s, items, func(b *batch, it kindItem) error {
		rec, err := getRecord(b.Txn, it.id)
		if err != nil {
			return nil // unreadable here: the store's check reports it
		}
		return s.custodyCommit(b, rec)
	}); err != nil {
		return err
	}
	if err := s.update(func(txn *badger.Txn) error { return txn.Set(metaKey("custody"), []byte{1}) }); err != nil {
		return err
	}
	// Receipts were indexed in claimed-time order with the other kinds,
	// so a record listed by a receipt indexed before it was counted
	// without that receipt: count again.
	return s.rebuildLive()
}

// goneMigrate cuts the G/ keys of a store written before they were
// goneLen bytes long (m/gone8).
func (s *Store) goneMigrate() error {
	if _, err := s.getMeta("gone8"); err == nil {
		return nil
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	var long [][]byte
	if err := s.view(func(txn *badger.Txn) error {
		return scanPrefix(txn, key(tGone), false, func(k []byte) error {
			if len(k) > len(goneKey(incident.ID{})) {
				long = append(long, k)
			}
			return nil
		})
	}); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := inBatches(s, long, func(b *batch, k []byte) error {
		if err := b.Delete(k); err != nil {
			return err
		}
		return b.Set(key(tGone, k[len(key(tGone)):][:goneLen]), nil)
	}); err != nil {
		return err
	}
	return s.update(func(txn *badger.Txn) error { return txn.Set(metaKey("gone8"), []byte{1}) })
}

// getMeta reads m/<name>.
func (s *Store) getMeta(name string) ([]byte, error) {
	var v []byte
	err := s.view(func(txn *badger.Txn) error {
		var err error
		v, err = getValue(txn, metaKey(name))
		return err
	})
	return v, err
}

// Space is what a store holds and may hold, for the person holding the
// device: how much room Vigil uses and what it keeps.
type Space struct {
	Bytes    uint64 `json:"bytes"`    // the data folder on disk
	Budget   uint64 `json:"budget"`   // the mission's storage_budget (bounded devices)
	Bounded  bool   `json:"bounded"`  // this device drops what coordinators hold
	Receipts int    `json:"receipts"` // custody_receipts: coordinators that must hold a record
	Own      int    `json:"own"`      // records this device signed
	Mission  int    `json:"mission"`  // the mission's records: members, settings, stations, forms, notices
	Carried  int    `json:"carried"`  // others' records fewer than Receipts coordinators hold yet
	Held     int    `json:"held"`     // others' records coordinators hold, still kept here
	Dropped  int    `json:"dropped"`  // records dropped here once coordinators held them
	Over     bool   `json:"over"`     // over budget: records for others are refused until some can be dropped
}

// Space reports what the store holds (see Space).
func (s *Store) Space() (Space, error) {
	if err := s.refreshCustody(); err != nil {
		return Space{}, err
	}
	s.mu.Lock()
	sp := Space{Bounded: s.bounded(), Over: s.overBudget.Load()}
	var self incident.Author
	if s.signer != nil {
		self = s.signer.Author()
	}
	if s.ms != nil {
		sp.Budget, sp.Receipts = s.ms.StorageBudget(), s.ms.CustodyReceipts()
	}
	s.mu.Unlock()
	kinds, err := s.Kinds()
	if err != nil {
		return sp, err
	}
	err = s.view(func(txn *badger.Txn) error {
		others := 0
		for _, k := range kinds {
			n := 0
			if err := scanPrefix(txn, kindPrefix(k), false, func([]byte) error { n++; return nil }); err != nil {
				return err
			}
			if k.Custody() == incident.CustodyMission {
				sp.Mission += n
			} else {
				others += n
			}
		}
		// Own: records this device signed that are not the mission's.
		if err := scanPrefix(txn, key(tAuthor, self[:]), false, func(k []byte) error {
			if _, err := txn.Get(custodianKey(incident.ID(k[len(k)-32:]), self)); err == nil {
				sp.Own++
			}
			return nil
		}); err != nil {
			return err
		}
		if err := scanPrefix(txn, key(tLive), false, func(k []byte) error {
			if _, err := txn.Get(custodianKey(incident.ID(k[2:]), self)); err != nil {
				sp.Carried++
			}
			return nil
		}); err != nil {
			return err
		}
		sp.Held = max(0, others-sp.Own-sp.Carried)
		return scanPrefix(txn, key(tGone), false, func([]byte) error { sp.Dropped++; return nil })
	})
	sp.Bytes = dirBytes(DataDir(s.home))
	return sp, err
}

// dirBytes is the disk space the files under dir take: blocks, not
// apparent sizes, since Badger's open value log is a sparse file of
// twice its configured size.
func dirBytes(dir string) uint64 {
	var n uint64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += diskSize(fi)
			}
		}
		return nil
	})
	return n
}

// PruneResult says what one Prune dropped.
type PruneResult struct {
	Dropped  int    // records dropped (observations and the records that targeted them)
	Receipts int    // receipts dropped: they listed nothing held here any more
	Blobs    int    // attachment files deleted with their records
	Bytes    uint64 // the data folder after the prune
	Over     bool   // still over the budget: records for others are refused
}

// maxPrune bounds the records one Prune drops (one pass; the next goes on).
const maxPrune = 50_000

// Prune drops, on a bounded device, the records it carried for others
// that custody_receipts coordinators now hold, with the records that
// target them, least needed first (held by the most coordinators, then
// the oldest), and receipts that list nothing held here any more; marks
// each dropped (G/) so no peer hands it over again; reclaims the space;
// and notes whether the store is still over its budget. Records this
// device signed and the mission's records are never dropped. On a device
// that keeps everything it only measures.
func (s *Store) Prune() (PruneResult, error) {
	if err := s.refreshCustody(); err != nil {
		return PruneResult{}, err
	}
	if err := s.enter(); err != nil {
		return PruneResult{}, err
	}
	defer s.leave()
	var res PruneResult
	s.mu.Lock()
	if s.bounded() {
		var err error
		if res, err = s.pruneLocked(); err != nil {
			s.mu.Unlock()
			return res, err
		}
	}
	budget := uint64(0)
	if s.ms != nil && s.bounded() {
		budget = s.ms.StorageBudget()
	}
	s.mu.Unlock()
	if res.Dropped+res.Receipts > 0 {
		s.reclaim(budget > 0 && dirBytes(DataDir(s.home)) > budget/2)
	}
	res.Bytes = s.noteSpace()
	res.Over = budget > 0 && res.Bytes > budget
	if s.overBudget.Swap(res.Over) && !res.Over {
		s.mu.Lock()
		s.declined.forget() // refused for the budget: there is room again
		s.mu.Unlock()
	}
	return res, nil
}

// reclaim gives deleted records' space back. A deletion frees nothing
// by itself: the keys it hides stay in the tables until a compaction
// drops them, and only then does Badger count the value-log bytes they
// pointed to as garbage, so that RunValueLogGC rewrites the files that
// are mostly garbage. With compact, every level is compacted first
// (Badger's Flatten: a rewrite of the tables, seconds on a phone's
// store), which is what the prune asks for when the store holds more
// than half its budget: at a million records carried, the deleted keys
// and the value log they pinned were most of the disk a phone used.
func (s *Store) reclaim(compact bool) {
	if compact {
		_ = s.db.Flatten(1) // best effort: the next prune compacts what this one did not
	}
	for range 8 {
		if err := s.db.RunValueLogGC(0.5); err != nil {
			return
		}
	}
}

type dropItem struct {
	id      incident.ID
	created int64
	holders int
}

// pruneLocked finds and drops (see Prune). Called with s.mu held.
func (s *Store) pruneLocked() (PruneResult, error) {
	var res PruneResult
	self := s.signer.Author()
	kinds, err := s.Kinds()
	if err != nil {
		return res, err
	}
	var drop []dropItem
	err = s.view(func(txn *badger.Txn) error {
		for _, k := range kinds {
			if k.Custody() != incident.CustodyObservation {
				continue
			}
			items, err := kindItems(txn, k)
			if err != nil {
				return err
			}
			for _, it := range items {
				if _, err := txn.Get(custodianKey(it.id, self)); err == nil {
					continue // this device signed it (or receipted it: a coordinator keeps all)
				}
				if _, err := txn.Get(liveKey(it.id)); err == nil {
					continue
				}
				n, err := s.custodians(txn, it.id)
				if err != nil {
					return err
				}
				drop = append(drop, dropItem{it.id, it.created, n})
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	slices.SortFunc(drop, func(a, b dropItem) int {
		if a.holders != b.holders {
			return b.holders - a.holders
		}
		return int(a.created>>1 - b.created>>1)
	})
	if len(drop) > maxPrune {
		drop = drop[:maxPrune]
	}
	ids := make([]incident.ID, len(drop))
	for i, d := range drop {
		ids[i] = d.id
	}
	var blobs [][32]byte
	res.Dropped, blobs, err = s.dropRecords(ids, self, true)
	if err != nil {
		return res, err
	}
	if res.Receipts, err = s.dropReceipts(self); err != nil {
		return res, err
	}
	for _, sum := range blobs {
		if err := s.deleteBlobIfUnused(sum); err != nil {
			return res, err
		}
		res.Blobs++
	}
	return res, nil
}

// dropRecords drops each of ids (dropRecord), in batches, and returns
// how many records it dropped and the attachment files no longer
// described. Called with s.mu held.
func (s *Store) dropRecords(ids []incident.ID, self incident.Author, keepOwn bool) (int, [][32]byte, error) {
	n := 0
	var blobs [][32]byte
	err := inBatches(s, ids, func(b *batch, id incident.ID) error {
		m, sums, err := s.dropRecord(b, id, self, keepOwn)
		n += m
		blobs = append(blobs, sums...)
		return err
	})
	return n, blobs, err
}

// dropRecord deletes record id and, first, the records that target it,
// marking each gone. It returns how many it dropped and the attachment
// files no longer described. Records this device signed are kept when
// keepOwn.
func (s *Store) dropRecord(b *batch, id incident.ID, self incident.Author, keepOwn bool) (int, [][32]byte, error) {
	rec, err := getRecord(b.Txn, id)
	if errors.Is(err, ErrNotFound) {
		return 0, nil, nil // dropped already, as a dependent
	} else if err != nil {
		return 0, nil, err
	}
	if keepOwn && rec.AuthorKey() == self {
		return 0, nil, nil
	}
	n := 0
	var sums [][32]byte
	var deps []incident.ID
	prefix := key(tTarget, id[:])
	if err := scanPrefix(b.Txn, prefix, false, func(k []byte) error {
		deps = append(deps, incident.ID(k[len(prefix):]))
		return nil
	}); err != nil {
		return 0, nil, err
	}
	for _, dep := range deps {
		m, more, err := s.dropRecord(b, dep, self, keepOwn)
		if err != nil {
			return 0, nil, err
		}
		n += m
		sums = append(sums, more...)
	}
	if err := s.deleteRecordKeys(b, rec); err != nil {
		return 0, nil, err
	}
	if e := attachmentEntry(rec); e != nil {
		var sum [32]byte
		copy(sum[:], e[2:34])
		sums = append(sums, sum)
	}
	return n + 1, sums, b.Set(goneKey(id), nil)
}

// deleteRecordKeys deletes rec and every key that names it.
func (s *Store) deleteRecordKeys(b *batch, rec *incident.Signed) error {
	id := rec.ID
	dels := [][]byte{recordKey(id), kindKey(rec.Kind, rec.Created, id), authorKey(rec.AuthorKey(), rec.Created, id),
		liveKey(id), awaitKey(id), key(tReceiptedBy, id[:]), openedKey(id), closedKey(id), key(tKept, id[:])}
	if t := targetOf(rec); t != nil {
		dels = append(dels, targetKey(*t, id))
	}
	if e := attachmentEntry(rec); e != nil {
		dels = append(dels, e)
	}
	for level := 0; level < incident.FormatLevel; level++ {
		dels = append(dels, unreadableKey(level, id))
	}
	if rec.Kind == incident.KindReport {
		if err := s.unindexReport(b, rec); err != nil {
			return err
		}
	}
	for _, prefix := range [][]byte{key(tCustodian, id[:]), key(tReceipted, id[:]), key(tHolder, id[:])} {
		if err := scanPrefix(b.Txn, prefix, false, func(k []byte) error {
			dels = append(dels, slices.Clone(k))
			return nil
		}); err != nil {
			return err
		}
	}
	for _, k := range dels {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// unindexReport deletes a report's index entries and tuple.
func (s *Store) unindexReport(b *batch, rec *incident.Signed) error {
	seq, err := seqOf(b.Txn, rec.ID, rec.Created)
	if err != nil {
		return nil // never indexed
	}
	old, err := getValue(b.Txn, viewKey(seq))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	t, err := decodeTuple(old)
	if err != nil {
		return fmt.Errorf("report %s: tuple: %w", rec.ID, err)
	}
	for _, k := range t.entries(seq, rec.AuthorKey()) {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	// The summary counts it no more (the last-heard times stay: the
	// member was heard from).
	if err := countDeltas(b, &t, nil); err != nil {
		return err
	}
	return b.Delete(viewKey(seq))
}

// dropReceipts drops the receipts of others that list no record held
// here, with their index entries. Called with s.mu held.
func (s *Store) dropReceipts(self incident.Author) (int, error) {
	var gone []*incident.Signed
	err := s.view(func(txn *badger.Txn) error {
		items, err := kindItems(txn, incident.KindReceipt)
		if err != nil {
			return err
		}
		for _, it := range items {
			r, err := getRecord(txn, it.id)
			if err != nil || r.AuthorKey() == self {
				continue
			}
			if !listsHeld(txn, r) {
				gone = append(gone, r)
			}
		}
		return nil
	})
	if err != nil || len(gone) == 0 {
		return 0, err
	}
	return len(gone), inBatches(s, gone, s.dropReceipt)
}

// listsHeld reports whether receipt r lists a record held here.
func listsHeld(txn *badger.Txn, r *incident.Signed) bool {
	p, err := r.DecodePayload()
	rp, ok := p.(*incident.ReceiptPayload)
	if err != nil || !ok {
		return false
	}
	for _, raw := range rp.IDs {
		if len(raw) != 32 {
			continue
		}
		if _, err := txn.Get(recordKey(incident.ID(raw))); err == nil {
			return true
		}
	}
	return false
}

// dropReceipt deletes receipt r and the entries that index what it lists.
// A receipt of another coordinator that lists the same records keeps its
// own custodian entries only if it is held: R/ is per author, so the
// entries of r's author go with it.
func (s *Store) dropReceipt(b *batch, r *incident.Signed) error {
	p, err := r.DecodePayload()
	if err != nil {
		return err
	}
	author := r.AuthorKey()
	if rp, ok := p.(*incident.ReceiptPayload); ok {
		for _, raw := range rp.IDs {
			if len(raw) != 32 {
				continue
			}
			id := incident.ID(raw)
			for _, k := range [][]byte{key(tReceipted, id[:], r.ID[:]), custodianKey(id, author)} {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
	}
	for _, k := range [][]byte{recordKey(r.ID), kindKey(r.Kind, r.Created, r.ID), authorKey(author, r.Created, r.ID)} {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// deleteBlobIfUnused deletes an attachment file no record held here
// describes any more.
func (s *Store) deleteBlobIfUnused(sum [32]byte) error {
	used := false
	if err := s.view(func(txn *badger.Txn) error { used = described(txn, sum); return nil }); err != nil {
		return err
	}
	if used {
		return nil
	}
	err := s.DeleteBlob(sum)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Uncovered returns up to limit IDs of the live observation records: what
// fewer than custody_receipts coordinators hold, as far as this device
// knows. A session's covering step asks the peer for receipts of these.
func (s *Store) Uncovered(limit int) ([]incident.ID, error) {
	if err := s.refreshCustody(); err != nil {
		return nil, err
	}
	return s.idsUnder(tLive, limit)
}

// idsUnder returns up to limit IDs from the keys of table t, each t/<id>.
func (s *Store) idsUnder(t byte, limit int) ([]incident.ID, error) {
	var out []incident.ID
	err := s.view(func(txn *badger.Txn) error {
		return scanPrefix(txn, key(t), false, func(k []byte) error {
			if len(k) != 2+32 {
				return nil
			}
			out = append(out, incident.ID(k[2:]))
			if len(out) >= limit {
				return errStop
			}
			return nil
		})
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return out, err
}

// Gone reports whether this bounded device dropped id once coordinators
// held it: a record it does not ask peers for.
func (s *Store) Gone(id incident.ID) bool {
	s.mu.Lock()
	bounded := s.bounded()
	s.mu.Unlock()
	if !bounded {
		return false
	}
	gone := false
	_ = s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(goneKey(id))
		gone = err == nil
		return nil
	})
	return gone
}

// ErrKeepsAll is ForgetHeld's refusal on a device that keeps every record
// (a coordinator's laptop, a --keep-all node).
var ErrKeepsAll = errors.New("this device keeps every record of the mission; the panic wipe is what removes them")

// ForgetHeld deletes, on a bounded device, the records this device wrote
// that custody_receipts coordinators hold, with what targets them and
// their files: the phone's quick delete. Each is marked gone (G/), so no
// peer hands it back, by reconciliation (a held record is in no live set),
// gossip or bundle. Records coordinators do not hold yet are kept: they
// exist nowhere else. It returns how many records it deleted.
func (s *Store) ForgetHeld() (int, error) {
	if err := s.refreshCustody(); err != nil {
		return 0, err
	}
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.leave()
	s.mu.Lock()
	if !s.bounded() {
		s.mu.Unlock()
		return 0, ErrKeepsAll
	}
	self := s.signer.Author()
	var ids []incident.ID
	err := s.view(func(txn *badger.Txn) error {
		return scanPrefix(txn, key(tAuthor, self[:]), false, func(k []byte) error {
			id := incident.ID(k[len(k)-32:])
			if _, err := txn.Get(custodianKey(id, self)); err != nil {
				return nil // not an observation record (a mission record of this device's)
			}
			if _, err := txn.Get(liveKey(id)); err == nil {
				return nil // not held by enough coordinators yet
			}
			ids = append(ids, id)
			return nil
		})
	})
	if err != nil {
		s.mu.Unlock()
		return 0, err
	}
	n, blobs, err := s.dropRecords(ids, self, false)
	if err != nil {
		s.mu.Unlock()
		return n, err
	}
	if _, err := s.dropReceipts(self); err != nil {
		s.mu.Unlock()
		return n, err
	}
	s.mu.Unlock()
	for _, sum := range blobs {
		if err := s.deleteBlobIfUnused(sum); err != nil {
			return n, err
		}
	}
	if err := s.sync(); err != nil {
		return n, err
	}
	s.reclaim(n > 0) // the person asked for them gone: from the disk too
	return n, nil
}
