package store

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
)

// Outcome says what Add did with a record.
type Outcome int

const (
	Accepted    Outcome = iota + 1 // valid and now stored
	Duplicate                      // already stored: nothing changed
	Quarantined                    // waits for a member or record it depends on
	Rejected                       // invalid: the error says why
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Duplicate:
		return "duplicate"
	case Quarantined:
		return "quarantined"
	case Rejected:
		return "rejected"
	}
	return "unknown"
}

// Result is Add's answer for one record.
type Result struct {
	ID      incident.ID
	Outcome Outcome
	Err     error // why it was rejected or quarantined
	// Released lists quarantined records that this one let in.
	Released []incident.ID
}

// Add validates one signed record from source (a peer, a bundle, "local")
// and stores it if it is valid. Records waiting for a dependency go to a
// quarantine bounded per author key, per sending member and as a whole
// (quarantine.go), and are stored as soon as the dependency arrives
// (Result.Released). A record that is invalid changes nothing.
// The write is synced before Add returns.
func (s *Store) Add(raw []byte, source string) Result {
	out, err := s.AddMany([][]byte{raw}, source, nil)
	r := out[0]
	if err != nil && (r.Outcome == Accepted || r.Outcome == Quarantined) {
		return Result{ID: r.ID, Outcome: Rejected, Err: err}
	}
	return r
}

// AddMany is Add for many records (a bundle, a fetched batch): each is
// judged as Add would, in order, as if added one by one, and the writes are
// synced once, before AddMany returns. What can be known of a record on
// its own (its decoding, canonical form and signature, what it targets,
// which format levels can read it, and whether it was stored before this
// call) is worked out on up to GOMAXPROCS goroutines, ahead of the
// judging and in a bounded window of chunks (prepare.go); the judging
// writes in as few Badger transactions as their size allows. A record
// whose write fails is dropped from its transaction and the others are
// written again without it, so one bad record never costs the rest.
// progress, when not nil, is called with the number of records judged so
// far (from the calling goroutine). After Close every record is Rejected
// with ErrClosed, which is also returned.
func (s *Store) AddMany(raws [][]byte, source string, progress func(done int)) ([]Result, error) {
	if err := s.enter(); err != nil {
		out := make([]Result, len(raws))
		for i, raw := range raws {
			out[i] = Result{ID: incident.IDOf(raw), Outcome: Rejected, Err: err}
		}
		return out, err
	}
	defer s.leave()
	p := s.prepare(raws, source) // starts verifying before the lock is taken
	defer p.stop()
	defer s.fireRevocation() // after mu is released
	s.mu.Lock()
	defer s.mu.Unlock()
	p.lookIn(s.db.NewTransaction(false)) // nothing writes records but under mu
	out, wrote, err := s.addUnits(p, progress)
	if err != nil {
		return out, err
	}
	if wrote {
		if err := s.db.Sync(); err != nil {
			return out, fmt.Errorf("sync: %w", err)
		}
	}
	return out, nil
}

// addLocked judges and stores one record, unsynced; the caller holds s.mu
// and syncs.
func (s *Store) addLocked(raw []byte, source string) Result {
	if err := s.enter(); err != nil {
		return Result{ID: incident.IDOf(raw), Outcome: Rejected, Err: err}
	}
	defer s.leave()
	p := s.prepare([][]byte{raw}, source)
	defer p.stop()
	out, _, err := s.addUnits(p, nil)
	if err != nil && out[0].Outcome != Rejected {
		return Result{ID: out[0].ID, Outcome: Rejected, Err: err}
	}
	return out[0]
}

// unit is one record to judge: a record given to AddMany, or a quarantined
// one that a stored record releases.
type unit struct {
	raw    []byte
	rec    *incident.Signed // decoded and verified; nil: decode raw (stored before, verified then)
	err    error            // the decode failed
	facts  *facts           // what rec says of itself; nil: not worked out yet
	source string
	root   int    // the AddMany result this unit answers to
	qkey   []byte // a released record: its quarantine key, deleted as it is judged
	// A released record's arrival time and author key (its quarantine
	// entry's), to take it out of the quarantine.
	qAt     int64
	qAuthor []byte
	// looked: held says whether the record was stored before this call
	// (prepare.go); otherwise the judging reads the batch.
	looked, held bool
}

// facts are what commit needs to know of a record that depends on the
// record alone, worked out ahead of the judging where cores allow.
type facts struct {
	target *incident.ID // the report it targets, if any (targetOf)
	// unreadable lists the format levels below this build's that cannot
	// read the record (Signed.ReadableAt): each gets an X-level entry.
	unreadable []int
}

func factsOf(rec *incident.Signed) *facts {
	f := &facts{target: targetOf(rec)}
	for level := 0; level < incident.FormatLevel; level++ {
		if !rec.ReadableAt(level) {
			f.unreadable = append(f.unreadable, level)
		}
	}
	return f
}

// ident names a unit within one AddMany call.
func (u *unit) ident() string {
	if u.qkey != nil {
		return "q" + string(u.qkey)
	}
	return "i" + strconv.Itoa(u.root)
}

// batch is the Badger transaction a run of records shares. It counts what
// it writes, so it can be committed before Badger would refuse it as too
// big (ErrTxnTooBig), and remembers the mission state from before its
// first mission record, to restore if it is dropped.
type batch struct {
	*badger.Txn
	n, bytes int64
	ms0      *incident.MissionState
	changed  bool             // the mission state changed in this batch
	seq0     uint32           // the next report seq before this batch
	counts   map[string]int64 // summary counter deltas, written by Commit (summary.go)
	// fresh holds the records written in this batch, stored those this
	// call committed before it: with a prepared lookup they say whether
	// a record is held without reading the batch.
	fresh, stored map[incident.ID]struct{}
	// hot is the store's cache of hot keys (hot.go), and hotw this
	// batch's writes of them, handed to it once the batch commits.
	hot  *hotCache
	hotw map[string]hotValue
}

// holds says whether this call stored id, in b or before it.
func (b *batch) holds(id incident.ID) bool {
	_, ok := b.fresh[id]
	if !ok {
		_, ok = b.stored[id]
	}
	return ok
}

// failWrite, when set (by tests), fails the writes it returns an error for.
var failWrite func(k, v []byte) error

func (b *batch) Set(k, v []byte) error {
	if failWrite != nil {
		if err := failWrite(k, v); err != nil {
			return err
		}
	}
	b.n++
	b.bytes += int64(len(k)+len(v)) + 12
	if isHot(k) {
		b.noteHot(k, v, false)
	}
	return b.Txn.Set(k, v)
}

func (b *batch) Delete(k []byte) error {
	b.n++
	b.bytes += int64(len(k)) + 12
	if isHot(k) {
		b.noteHot(k, nil, true)
	}
	return b.Txn.Delete(k)
}

func (s *Store) begin() *batch {
	return &batch{Txn: s.db.NewTransaction(true), seq0: s.seq, hot: &s.hot}
}

// full reports whether the batch should be committed before another record
// joins it: past a third of Badger's transaction limits (15 % of a
// memtable), which leaves room for the largest record's writes (a receipt
// of 4096 IDs: about 12k entries in the laptop profile's terms, 6k here).
func (s *Store) full(b *batch) bool {
	return b.n > s.txnCount/3 || b.bytes > s.txnBytes/3
}

// maxFailed is how many records of one AddMany may fail to be written
// before the rest is refused too (the disk, not a record, is failing).
const maxFailed = 8

// mission notes that the mission state is about to change in b.
func (s *Store) mission(b *batch) {
	if !b.changed {
		b.changed = true
		b.ms0 = s.ms.Clone()
	}
}

// drop discards b and undoes what it changed in memory.
func (s *Store) drop(b *batch) {
	b.Discard()
	if b.changed {
		s.ms = b.ms0
	}
	s.seq = b.seq0
	clear(s.quotas)
	s.declined.forget() // refusals judged in b may not stand
	if err := s.loadWaiting(); err != nil {
		s.log.Warn("reload quarantine dependencies", "err", err)
	}
}

// finish commits b; if that fails, what b changed in memory is undone.
func (s *Store) finish(b *batch) error {
	if err := b.Commit(); err != nil {
		s.drop(b)
		return fmt.Errorf("commit: %w", err)
	}
	// The dependency hints only grow between reloads (a record leaving
	// the quarantine leaves its hint): a flood of unknown authors, each
	// a hint, must not grow them without end. Everything is committed
	// now, so a reload misses nothing.
	if len(s.waiting) > 2*int(s.qtotal.Records)+4096 {
		if err := s.loadWaiting(); err != nil {
			s.log.Warn("reload quarantine dependencies", "err", err)
		}
	}
	return nil
}

// addUnits judges units in order (each followed by the quarantined records
// it releases, depth first, as one-by-one adds would), committing a
// transaction whenever it is full. wrote says whether anything was
// committed. An error means a commit failed: the records not committed
// are Rejected with it.
func (s *Store) addUnits(p *prepared, progress func(int)) (out []Result, wrote bool, err error) {
	items := p.units
	out = make([]Result, len(items))
	type mark struct {
		next    int
		pending []unit
		out     []Result
	}
	var (
		next    int    // the next item to judge
		pending []unit // released records to judge before it
		done    int    // items reported to progress
		bad     = map[string]error{}
		begin   = func() *batch {
			b := s.begin()
			b.fresh, b.stored = map[incident.ID]struct{}{}, p.stored
			return b
		}
		b = begin()
	)
	save := func() mark {
		return mark{next, slices.Clone(pending), slices.Clone(out)}
	}
	snap := save()
	defer func() {
		if b != nil {
			s.drop(b)
		}
	}()
	fail := func(err error) ([]Result, bool, error) {
		// Nothing judged since snap is stored: take back those answers
		// (and releases), and refuse what was not judged yet.
		copy(out, snap.out)
		for i := snap.next; i < len(out); i++ {
			out[i] = Result{ID: incident.IDOf(items[i].raw), Outcome: Rejected, Err: err}
		}
		return out, wrote, err
	}
	for next < len(items) || len(pending) > 0 {
		if len(pending) == 0 && progress != nil && next > done {
			done = next
			progress(done)
		}
		if s.full(b) {
			n, full := b.n, b
			err := s.finish(b)
			b = nil
			if err != nil {
				return fail(err)
			}
			wrote = wrote || n > 0
			p.committed(full, next)
			b = begin()
			snap = save()
		}
		var u unit
		if len(pending) > 0 {
			u, pending = pending[0], pending[1:]
		} else {
			u, next = p.unit(next), next+1
			p.passed(next)
		}
		id := u.ident()
		if err, ok := bad[id]; ok {
			if u.qkey == nil {
				out[u.root] = Result{ID: incident.IDOf(u.raw), Outcome: Rejected, Err: err}
			}
			continue
		}
		res, children, ferr := s.addUnit(b, &u)
		if ferr != nil {
			// The transaction holds part of this record: drop it and judge
			// the others again, from the last commit, without this one.
			s.drop(b)
			b = nil
			if len(bad) >= maxFailed {
				return fail(ferr)
			}
			bad[id] = ferr
			next, pending, out = snap.next, slices.Clone(snap.pending), slices.Clone(snap.out)
			b = begin()
			continue
		}
		if u.qkey == nil {
			out[u.root] = res
		} else if res.Outcome == Accepted {
			out[u.root].Released = append(out[u.root].Released, res.ID)
		}
		pending = append(children, pending...)
	}
	n := b.n
	cerr := s.finish(b)
	b = nil
	if cerr != nil {
		return fail(cerr)
	}
	if progress != nil && len(items) > done {
		progress(len(items))
	}
	return out, wrote || n > 0, nil
}

// addUnit judges one record inside b. It returns the record's result and
// the quarantined records it releases (to judge next). A non-nil error
// means b may hold part of this record's writes (or could not be read):
// the caller drops b.
func (s *Store) addUnit(b *batch, u *unit) (Result, []unit, error) {
	if u.qkey != nil {
		if err := s.unquarantine(b, u); err != nil {
			return Result{}, nil, err
		}
	}
	rec, err := u.rec, u.err
	if rec == nil && err == nil {
		// A released record was verified before it was quarantined, and
		// the store is encrypted with its own key.
		rec, err = incident.DecodeStored(u.raw)
	}
	if err != nil {
		return Result{Outcome: Rejected, Err: err, ID: incident.IDOf(u.raw)}, nil, nil
	}
	res := Result{ID: rec.ID}
	if s.ms == nil {
		res.Outcome, res.Err = Rejected, ErrNoMission
		return res, nil, nil
	}
	if u.looked {
		if u.held || b.holds(rec.ID) {
			res.Outcome = Duplicate
			return res, nil, nil
		}
	} else if _, err := b.Get(recordKey(rec.ID)); err == nil {
		res.Outcome = Duplicate
		return res, nil, nil
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return res, nil, err
	}
	// A bounded device does not take back what it dropped once
	// coordinators held it, nor what targets it.
	if gone, err := s.gone(b.Txn, rec); err != nil {
		return res, nil, err
	} else if gone {
		res.Outcome = Duplicate
		return res, nil, nil
	}
	err = incident.Validate(rec, s.ms, txnSource{b.Txn})
	var missing *incident.MissingError
	switch {
	case errors.As(err, &missing):
		res.Outcome, res.Err = Quarantined, err
		if full, err := s.quarantine(b, rec, missing.Key(), u.source); err != nil {
			return res, nil, err
		} else if full != nil {
			res.Outcome, res.Err = Rejected, full
		}
		return res, nil, nil
	case err != nil:
		res.Outcome, res.Err = Rejected, err
		return res, nil, nil
	}
	f := u.facts
	if f == nil {
		f = factsOf(rec)
	}
	if reject, err := s.commit(b, rec, f); err != nil {
		return res, nil, err
	} else if reject != nil {
		res.Outcome, res.Err = Rejected, reject
		return res, nil, nil
	}
	res.Outcome = Accepted
	b.fresh[rec.ID] = struct{}{}
	children, err := s.released(b, rec, u.root)
	return res, children, err
}

// txnSource is incident.RecordSource over a transaction: it sees the
// batch's own writes.
type txnSource struct{ txn *badger.Txn }

func (t txnSource) Get(id incident.ID) (*incident.Signed, error) {
	r, err := getRecord(t.txn, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return r, err
}

func (s *Store) hasRecord(id incident.ID) (bool, error) {
	err := s.view(func(txn *badger.Txn) error {
		_, err := txn.Get(recordKey(id))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// commit writes a valid record, its indexes and quota usage into b, and
// updates the in-memory mission state. reject (a quota) is returned before
// the record is written (b may hold its author's recounted usage); err
// means b holds part of the record.
func (s *Store) commit(b *batch, rec *incident.Signed, f *facts) (reject, err error) {
	author := rec.AuthorKey()
	var kindValue []byte
	var seq uint32
	if rec.Kind == incident.KindReport {
		seq = s.seq
		kindValue = be32(seq)
	}
	sets := [][2][]byte{
		{recordKey(rec.ID), rec.Raw},
		{kindKey(rec.Kind, rec.Created, rec.ID), kindValue},
		{authorKey(author, rec.Created, rec.ID), nil},
	}
	if s.carriedOverBudget(rec) {
		s.declined.add(rec.ID)
		return fmt.Errorf("%w: %w: this phone keeps no more records for others until coordinators hold what it carries (mission config storage_budget)", ErrQuota, ErrBudget), nil
	}
	// The mission's own trust records never count against quotas.
	if !rec.Kind.MissionKind() {
		q, err := s.charge(b, rec)
		if err != nil || q != nil {
			return q, err
		}
	}
	if rec.Kind.MissionKind() {
		// Applied first: a record the mission state refuses is refused
		// whole. Apply checks before it changes anything it would refuse.
		s.mission(b)
		if err := s.ms.Apply(rec); err != nil {
			return nil, err
		}
		// If the batch is dropped after all, the hook fires for nothing:
		// cutting finds no one to cut.
		// A confirm closes an invite to other keys: it cuts like a
		// revocation.
		s.revoked = s.revoked || rec.Kind == incident.KindRevoke || rec.Kind == incident.KindConfirm
		// Who counts as a coordinator, or how many must hold a record,
		// may change: the live set is counted again when next read.
		if custodyRelevant(rec) {
			s.custodyStale.Store(true)
		}
		// A config may raise a quota, an enrollment a member's role, a
		// revocation undo a config: what was refused for quota may fit
		// now, so it may be asked for again.
		s.declined.forget()
	}
	if t := f.target; t != nil {
		sets = append(sets, [2][]byte{targetKey(*t, rec.ID), []byte(rec.Kind)})
	}
	if e := attachmentEntry(rec); e != nil {
		sets = append(sets, [2][]byte{e, nil})
	}
	for _, level := range f.unreadable {
		sets = append(sets, [2][]byte{unreadableKey(level, rec.ID), nil})
	}
	for _, kv := range sets {
		if err := b.Set(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	if err := s.custodyCommit(b, rec); err != nil {
		return nil, err
	}
	if rec.Kind == incident.KindReceipt {
		if err := indexReceipt(b, rec); err != nil {
			return nil, err
		}
		if err := dropKept(b, rec); err != nil {
			return nil, err
		}
	}
	switch {
	case rec.Kind == incident.KindReport:
		s.seq++
		if err := b.Set(metaKey("seq"), be32(s.seq)); err != nil {
			return nil, err
		}
		return nil, s.indexNew(b, rec, seq)
	case rec.Kind == incident.KindAmend || rec.Kind == incident.KindRetract || rec.Kind == incident.KindReview:
		return nil, s.reindex(b, *f.target)
	case rec.Kind == incident.KindCheckin || rec.Kind == incident.KindAlert:
		return nil, s.noteActivity(b, rec) // heard.go
	}
	return nil, nil
}

// targetOf returns the report a record targets, if any.
func targetOf(rec *incident.Signed) *incident.ID {
	p, err := rec.DecodePayload()
	if err != nil {
		return nil
	}
	var b []byte
	switch v := p.(type) {
	case *incident.AmendPayload:
		b = v.Target
	case *incident.RetractPayload:
		b = v.Target
	case *incident.ReviewPayload:
		b = v.Target
	case *incident.CapturePayload:
		b = v.Target
	case *incident.SealedEnvelope:
		b = v.Target
	}
	if len(b) != 32 {
		return nil
	}
	var id incident.ID
	copy(id[:], b)
	return &id
}
