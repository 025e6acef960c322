package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// The quarantine holds records that wait for a member or record they
// depend on. A record waiting for dep is kept under q/<dep>/<id> with its
// author and arrival time, with Q/<id> → dep, W/<arrived:8><id> → its dep,
// author and size (arrival order: the oldest go first), and what each
// author key has waiting under N/<author>. The totals, and what each
// sending member has waiting, are kept in memory (Store.qtotal,
// Store.qsources), summed from W/ when the store opens.
//
// It is bounded four ways, all phone-sized by default (Options):
//   - per author key: a record past its author's bound is refused. The
//     author key, not the peer or file it came from, is the unit: both of
//     those are the sender's to choose.
//   - as a whole: a new record makes room by dropping the oldest waiting
//     records. A flood of records by unknown authors (each a fresh key,
//     so each under its own bound) stops there. What is dropped is no
//     loss: reconciliation offers it again, and a bundle can be imported
//     again.
//   - per sender: what one member's devices handed over (a sync or
//     gossip: SenderSource, by the member's author key, which a member
//     cannot mint more of) may have waiting; past it, records are refused
//     from memory, with nothing more read or written. A member flooding with records
//     of unknown authors costs the victim that many writes, and the
//     flood's rest costs a signature check each.
//   - by age: a record waiting longer than QuarantineMaxAge by this
//     device's clock is dropped, when the store opens and whenever the
//     quarantine takes a record.

type qusage struct {
	Records uint64 `cbor:"1,keyasint"`
	Bytes   uint64 `cbor:"2,keyasint"`
}

type qentry struct {
	Source string `cbor:"1,keyasint"` // where it came from (for the log; it bounds nothing)
	Dep    []byte `cbor:"2,keyasint"`
	Raw    []byte `cbor:"3,keyasint"`
	// At is when it arrived (this device's clock, Unix ms) and Author its
	// author key. Entries written before the quarantine had a global cap
	// lack both until tidyQuarantine dates them.
	At     int64  `cbor:"4,keyasint,omitempty"`
	Author []byte `cbor:"5,keyasint,omitempty"`
}

// qwait is a W/ entry: what evicting a waiting record needs.
type qwait struct {
	Dep    []byte `cbor:"1,keyasint"`
	Author []byte `cbor:"2,keyasint"`
	Size   uint64 `cbor:"3,keyasint"`
	// Source is who handed it over (AddMany's source), for the bound per
	// sender; empty in entries written before that bound.
	Source string `cbor:"4,keyasint,omitempty"`
}

func waitKey(at int64, id incident.ID) []byte { return key(tQWaiting, be64(at), id[:]) }

func qAuthorKey(a []byte) []byte { return key(tQAuthor, a) }

// ErrQuarantineFull is returned when an author key has as many records
// waiting as the quarantine keeps for one author.
var ErrQuarantineFull = errors.New("quarantine full for this author")

// quarantine parks rec in b until dep arrives. full (nothing written) says
// the author's share of the quarantine is full; err means b may hold part
// of it.
func (s *Store) quarantine(b *batch, rec *incident.Signed, dep []byte, source string) (full, err error) {
	if _, err := b.Get(key(tQMember, rec.ID[:])); err == nil {
		return nil, nil // already waiting
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return nil, err
	}
	o := s.opts
	// A sender past its bound is refused from memory: nothing more is
	// read, evicted or written for it.
	if n := s.qsources[source]; bySender(source) && n+1 > uint64(o.QuarantineSourceRecords) {
		return fmt.Errorf("%w: the member who handed it over (%s) has %d records waiting already (limit %d)", ErrQuarantineFull,
			strings.TrimPrefix(source, senderPrefix), n, o.QuarantineSourceRecords), nil
	}
	author := rec.AuthorKey()
	size := uint64(len(rec.Raw))
	u, err := s.authorWaiting(b, author[:])
	if err != nil {
		return nil, err
	}
	if u.Records+1 > uint64(o.QuarantineAuthorRecords) || u.Bytes+size > uint64(o.QuarantineAuthorBytes) ||
		size > uint64(o.QuarantineBytes) {
		return fmt.Errorf("%w %s (%d records, %d bytes; limits %d and %d)", ErrQuarantineFull, author.Short(),
			u.Records, u.Bytes, o.QuarantineAuthorRecords, o.QuarantineAuthorBytes), nil
	}
	now := o.Now().UnixMilli()
	if room, err := s.makeRoom(b, now, size); err != nil {
		return nil, err
	} else if !room {
		return fmt.Errorf("%w: %d records, %d bytes wait (limits %d and %d)", ErrQuarantineFull,
			s.qtotal.Records, s.qtotal.Bytes, o.QuarantineRecords, o.QuarantineBytes), nil
	}
	if u, err = s.authorWaiting(b, author[:]); err != nil { // eviction may have taken some of its own
		return nil, err
	}
	u.Records++
	u.Bytes += size
	ub, _ := cbor.Marshal(u)
	eb, _ := cbor.Marshal(qentry{Source: source, Dep: dep, Raw: rec.Raw, At: now, Author: author[:]})
	wb, _ := cbor.Marshal(qwait{Dep: dep, Author: author[:], Size: size, Source: source})
	s.waiting[string(dep)] = true
	for _, kv := range [][2][]byte{
		{key(tQuarantine, dep, []byte{'/'}, rec.ID[:]), eb},
		{key(tQMember, rec.ID[:]), dep},
		{waitKey(now, rec.ID), wb},
		{qAuthorKey(author[:]), ub},
	} {
		if err := b.Set(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	if s.qtotal.Records == 0 || now < s.qoldest {
		s.qoldest = now
	}
	if wk := waitKey(now, rec.ID); s.qhead != nil && bytes.Compare(wk, s.qhead) < 0 {
		s.qhead = wk // the device's clock went back
	}
	s.qtotal.Records++
	s.qtotal.Bytes += size
	if bySender(source) {
		s.qsources[source]++
	}
	return nil, nil
}

// senderPrefix marks the sources the quarantine bounds per sender.
const senderPrefix = "member:"

// SenderSource is the AddMany source for records a member's device
// handed over (a sync, gossip): the quarantine bounds what each such
// sender may have waiting. The member is named by author key, which a
// member cannot mint more of, not by the transport key of its device.
func SenderSource(a incident.Author) string { return senderPrefix + a.String() }

func bySender(source string) bool { return strings.HasPrefix(source, senderPrefix) }

// makeRoom evicts what must go for one more record of size bytes to
// wait, and says whether it fits. Below the caps, with nothing waiting
// past QuarantineMaxAge, it reads nothing: every record the quarantine
// takes during a flood would otherwise open an iterator.
func (s *Store) makeRoom(b *batch, now int64, size uint64) (bool, error) {
	o := s.opts
	fits := s.qtotal.Records+1 <= uint64(o.QuarantineRecords) && s.qtotal.Bytes+size <= uint64(o.QuarantineBytes)
	fresh := s.qoldest != 0 && s.qoldest >= now-o.QuarantineMaxAge.Milliseconds()
	if s.qtotal.Records == 0 || fits && fresh {
		return fits, nil
	}
	return s.evict(b, now, 1, size, maxEvictions)
}

// authorWaiting reads what author has waiting, in b.
func (s *Store) authorWaiting(b *batch, author []byte) (qusage, error) {
	var u qusage
	v, err := getValue(b.Txn, qAuthorKey(author))
	switch {
	case err == nil:
		err = cbor.Unmarshal(v, &u)
	case errors.Is(err, badger.ErrKeyNotFound):
		err = nil
	}
	return u, err
}

// maxEvictions bounds the records one new quarantined record may evict:
// its writes must fit beside the batch's (see Store.full). Expired records
// past it go with later records, or when the store opens.
const maxEvictions = 256

// evict drops, oldest first and at most limit of them, the waiting
// records older than QuarantineMaxAge at now, and as many more as it
// takes for records and bytes more to fit under the quarantine's caps.
// room says whether they fit now.
func (s *Store) evict(b *batch, now int64, records, bytes uint64, limit int) (room bool, err error) {
	cutoff := now - s.opts.QuarantineMaxAge.Milliseconds()
	maxRecords, maxBytes := uint64(s.opts.QuarantineRecords), uint64(s.opts.QuarantineBytes)
	// Past the record cap, a sixteenth more goes at once, so that a
	// flood at the cap walks the W/ entries once every so many records,
	// not for each.
	want := records
	if records > 0 && s.qtotal.Records+records > maxRecords {
		want += maxRecords / 16
	}
	total := s.qtotal
	type victim struct {
		wkey []byte
		w    qwait
	}
	var out []victim
	// The iterator sees b's writes as they were when it was made: the
	// victims are collected first, then taken out.
	prefix := key(tQWaiting)
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	o.Prefix = prefix
	it := b.NewIterator(o)
	// From qhead: the entries evicted before lie below it, deleted, and
	// Badger would step over each of their tombstones again.
	start := prefix
	if s.qhead != nil {
		start = s.qhead
	}
	head, oldest := []byte(nil), int64(0)
	for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
		k := it.Item().Key()
		if len(k) != 2+8+32 {
			continue
		}
		over := total.Records+want > maxRecords || total.Bytes+bytes > maxBytes
		if !over && unbe64(k[2:10]) >= cutoff || len(out) >= limit {
			head, oldest = it.Item().KeyCopy(nil), int64(unbe64(k[2:10]))
			break
		}
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			it.Close()
			return false, err
		}
		var w qwait
		if err := cbor.Unmarshal(v, &w); err != nil {
			it.Close()
			return false, err
		}
		out = append(out, victim{it.Item().KeyCopy(nil), w})
		total.Records = max(total.Records, 1) - 1
		total.Bytes -= min(total.Bytes, w.Size)
	}
	it.Close()
	switch {
	case head != nil:
		// Stopped at a record that stays: it is the oldest, unless it
		// stopped at the limit.
		s.qhead = head
		if len(out) < limit {
			s.qoldest = oldest
		} else {
			s.qoldest = 0
		}
	case len(out) > 0:
		s.qhead = append(slices.Clone(out[len(out)-1].wkey), 0)
		s.qoldest = 0
	}
	for _, v := range out {
		var id incident.ID
		copy(id[:], v.wkey[10:])
		if err := s.unpark(b, id, v.w.Dep, v.w.Author, v.w.Size, v.wkey, v.w.Source); err != nil {
			return false, err
		}
	}
	if len(out) > 0 {
		s.log.Debug("quarantine: dropped the oldest waiting records", "records", len(out))
	}
	return s.qtotal.Records+records <= maxRecords && s.qtotal.Bytes+bytes <= maxBytes, nil
}

// unpark takes a waiting record out of the quarantine, in b: its entries,
// its author's usage and the totals.
func (s *Store) unpark(b *batch, id incident.ID, dep, author []byte, size uint64, wkey []byte, source string) error {
	u, err := s.authorWaiting(b, author)
	if err != nil {
		return err
	}
	u.Records = max(u.Records, 1) - 1
	u.Bytes -= min(u.Bytes, size)
	if u.Records == 0 {
		err = b.Delete(qAuthorKey(author))
	} else {
		ub, _ := cbor.Marshal(u)
		err = b.Set(qAuthorKey(author), ub)
	}
	if err != nil {
		return err
	}
	for _, k := range [][]byte{key(tQuarantine, dep, []byte{'/'}, id[:]), key(tQMember, id[:]), wkey} {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	s.qtotal.Records = max(s.qtotal.Records, 1) - 1
	s.qtotal.Bytes -= min(s.qtotal.Bytes, size)
	if n := s.qsources[source]; n > 1 {
		s.qsources[source] = n - 1
	} else {
		delete(s.qsources, source)
	}
	return nil
}

// released returns the records waiting for rec (by ID, and by author key
// when rec enrolls a member), to judge next, in the order one-by-one adds
// judged them.
func (s *Store) released(b *batch, rec *incident.Signed, root int) ([]unit, error) {
	deps := [][]byte{rec.ID[:]}
	if rec.Kind == incident.KindMember {
		a := rec.AuthorKey()
		deps = append(deps, a[:])
	}
	var out []unit
	for _, dep := range deps {
		if !s.waiting[string(dep)] {
			continue
		}
		delete(s.waiting, string(dep)) // what waits for dep is judged now
		prefix := key(tQuarantine, dep, []byte{'/'})
		err := scanPrefix(b.Txn, prefix, false, func(k []byte) error {
			v, err := getValue(b.Txn, k)
			if err != nil {
				return err
			}
			var e qentry
			if cbor.Unmarshal(v, &e) == nil {
				out = append(out, unit{raw: e.Raw, source: e.Source, root: root, qkey: k, qAt: e.At, qAuthor: e.Author})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// unquarantine takes a released record out of the quarantine, in b. A
// record judged before it in the same batch may have made room by
// evicting it: then there is nothing to take out.
func (s *Store) unquarantine(b *batch, u *unit) error {
	id := incident.IDOf(u.raw)
	dep, err := getValue(b.Txn, key(tQMember, id[:]))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	return s.unpark(b, id, dep, u.qAuthor, uint64(len(u.raw)), waitKey(u.qAt, id), u.source)
}

// loadWaiting reads which dependencies quarantined records wait for, and
// sums what waits.
func (s *Store) loadWaiting() error {
	w := map[string]bool{}
	sources := map[string]uint64{}
	var total qusage
	err := s.db.View(func(txn *badger.Txn) error {
		err := scanPrefix(txn, key(tQuarantine), false, func(k []byte) error {
			// q/<dep:32>/<id:32>
			if len(k) == 2+32+1+32 {
				w[string(k[2:34])] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		return forWaiting(txn, func(_ []byte, q qwait) error {
			total.Records++
			total.Bytes += q.Size
			if bySender(q.Source) {
				sources[q.Source]++
			}
			return nil
		})
	})
	if err == nil {
		s.waiting = w
		s.qtotal = total
		s.qsources = sources
		s.qhead, s.qoldest = nil, 0
	}
	return err
}

// forWaiting calls fn with every W/ entry, oldest first.
func forWaiting(txn *badger.Txn, fn func(wkey []byte, q qwait) error) error {
	prefix := key(tQWaiting)
	o := badger.DefaultIteratorOptions
	o.Prefix = prefix
	it := txn.NewIterator(o)
	defer it.Close()
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return err
		}
		var q qwait
		if err := cbor.Unmarshal(v, &q); err != nil {
			return err
		}
		if err := fn(it.Item().KeyCopy(nil), q); err != nil {
			return err
		}
	}
	return nil
}

// tidyQuarantine runs when the store opens. Entries written before the
// quarantine kept arrival times get one (now: they start their wait
// again) and usage per author key, which replaces the usage per source
// (n/, deleted); then the records waiting past QuarantineMaxAge, or past
// the caps (Options may have lowered them), are dropped.
func (s *Store) tidyQuarantine() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	var members, waits int
	var legacy bool
	err := s.db.View(func(txn *badger.Txn) error {
		if err := scanPrefix(txn, key(tQMember), false, func([]byte) error { members++; return nil }); err != nil {
			return err
		}
		if err := scanPrefix(txn, key(tQWaiting), false, func([]byte) error { waits++; return nil }); err != nil {
			return err
		}
		return scanPrefix(txn, key(tQSource), false, func([]byte) error { legacy = true; return errStop })
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	now := s.opts.Now().UnixMilli()
	if members != waits || legacy {
		if err := s.dateQuarantine(now); err != nil {
			return err
		}
	}
	// In bounded transactions: a phone off for weeks may find its whole
	// quarantine expired.
	wrote := false
	for {
		b := s.begin()
		before := s.qtotal.Records
		if _, err := s.evict(b, now, 0, 0, 4*maxEvictions); err != nil {
			s.drop(b)
			return err
		}
		n := b.n
		if err := s.finish(b); err != nil {
			return err
		}
		wrote = wrote || n > 0
		if before-s.qtotal.Records < 4*maxEvictions {
			break
		}
	}
	if wrote {
		return s.db.Sync()
	}
	return nil
}

// dateQuarantine gives the entries written before arrival times were kept
// an arrival time (now), a W/ entry and their author, and rewrites the
// usage per author key from every entry (so a run cut short is simply
// run again); the n/ usage per source goes. Called with s.mu held.
func (s *Store) dateQuarantine(now int64) error {
	type fix struct {
		k []byte
		e qentry
	}
	var fixes []fix
	per := map[string]qusage{}
	var stale [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = key(tQuarantine)
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Seek(o.Prefix); it.ValidForPrefix(o.Prefix); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			var e qentry
			if cbor.Unmarshal(v, &e) != nil {
				continue
			}
			if e.At == 0 || len(e.Author) != 32 {
				rec, err := incident.DecodeStored(e.Raw)
				if err != nil {
					continue
				}
				a := rec.AuthorKey()
				e.At, e.Author = now, a[:]
				fixes = append(fixes, fix{it.Item().KeyCopy(nil), e})
			}
			u := per[string(e.Author)]
			u.Records++
			u.Bytes += uint64(len(e.Raw))
			per[string(e.Author)] = u
		}
		return scanPrefix(txn, key(tQSource), false, func(k []byte) error { stale = append(stale, k); return nil })
	})
	if err != nil {
		return err
	}
	b := s.begin()
	step := func(err error) error {
		if err != nil {
			s.drop(b)
			return err
		}
		if s.full(b) {
			if err := s.finish(b); err != nil {
				return err
			}
			b = s.begin()
		}
		return nil
	}
	for _, f := range fixes {
		id := incident.IDOf(f.e.Raw)
		eb, _ := cbor.Marshal(f.e)
		wb, _ := cbor.Marshal(qwait{Dep: f.e.Dep, Author: f.e.Author, Size: uint64(len(f.e.Raw))})
		err := b.Set(f.k, eb)
		if err == nil {
			err = b.Set(waitKey(f.e.At, id), wb)
		}
		if err := step(err); err != nil {
			return err
		}
	}
	for a, u := range per {
		ub, _ := cbor.Marshal(u)
		if err := step(b.Set(qAuthorKey([]byte(a)), ub)); err != nil {
			return err
		}
	}
	for _, k := range stale {
		if err := step(b.Delete(k)); err != nil {
			return err
		}
	}
	if err := s.finish(b); err != nil {
		return err
	}
	s.log.Info("quarantine dated", "records", len(fixes))
	return s.loadWaiting()
}

// QuarantineCount returns how many records wait for dependencies.
func (s *Store) QuarantineCount() (int, error) {
	n := 0
	err := s.view(func(txn *badger.Txn) error {
		return scanPrefix(txn, key(tQMember), false, func([]byte) error { n++; return nil })
	})
	return n, err
}

// QuarantineUsage returns how many records wait for dependencies and
// their bytes, as the caps count them.
func (s *Store) QuarantineUsage() (records int, bytes int64, err error) {
	if err := s.enter(); err != nil {
		return 0, 0, err
	}
	defer s.leave()
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.qtotal.Records), int64(s.qtotal.Bytes), nil
}
