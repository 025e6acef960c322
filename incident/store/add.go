package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/fxamacker/cbor/v2"

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

// ErrQuota is wrapped by rejections for exceeding a per-author quota.
var ErrQuota = errors.New("quota exceeded")

// Add validates one signed record from source (a peer, a bundle, "local")
// and stores it if it is valid. Records waiting for a dependency go to a
// quarantine bounded per source, and are stored as soon as the dependency
// arrives (Result.Released). A record that is invalid changes nothing.
// The write is synced before Add returns.
func (s *Store) Add(raw []byte, source string) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.addLocked(raw, source)
	if r.Outcome == Accepted || r.Outcome == Quarantined {
		if err := s.sync(); err != nil {
			return Result{ID: r.ID, Outcome: Rejected, Err: fmt.Errorf("sync: %w", err)}
		}
	}
	return r
}

// AddMany is Add for many records (a bundle, a fetched batch): each is
// judged as Add would, and the writes are synced once, before AddMany
// returns. progress, when not nil, is called after each record.
func (s *Store) AddMany(raws [][]byte, source string, progress func(done int)) ([]Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Result, len(raws))
	for i, raw := range raws {
		out[i] = s.addLocked(raw, source)
		if progress != nil {
			progress(i + 1)
		}
	}
	if err := s.sync(); err != nil {
		return out, fmt.Errorf("sync: %w", err)
	}
	return out, nil
}

func (s *Store) addLocked(raw []byte, source string) Result {
	rec, err := incident.Decode(raw)
	if err != nil {
		return Result{Outcome: Rejected, Err: err, ID: incident.IDOf(raw)}
	}
	res := Result{ID: rec.ID}
	if s.ms == nil {
		res.Outcome, res.Err = Rejected, ErrNoMission
		return res
	}
	if has, err := s.hasRecord(rec.ID); err != nil {
		res.Outcome, res.Err = Rejected, err
		return res
	} else if has {
		res.Outcome = Duplicate
		return res
	}
	err = incident.Validate(rec, s.ms, s)
	var missing *incident.MissingError
	switch {
	case errors.As(err, &missing):
		res.Outcome, res.Err = Quarantined, err
		if qerr := s.quarantine(rec, missing.Key(), source); qerr != nil {
			res.Outcome, res.Err = Rejected, qerr
		}
		return res
	case err != nil:
		res.Outcome, res.Err = Rejected, err
		return res
	}
	if err := s.commit(rec); err != nil {
		res.Outcome, res.Err = Rejected, err
		return res
	}
	res.Outcome = Accepted
	res.Released = s.release(rec)
	return res
}

func (s *Store) hasRecord(id incident.ID) (bool, error) {
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(recordKey(id))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

type quota struct {
	Records uint64 `cbor:"1,keyasint"`
	Bytes   uint64 `cbor:"2,keyasint"`
}

const dayMillis = 24 * 60 * 60 * 1000

// commit writes a valid record, its indexes and quota usage in one
// transaction, then updates the in-memory mission state.
func (s *Store) commit(rec *incident.Signed) error {
	author := rec.AuthorKey()
	day := rec.Created / dayMillis
	if rec.Created < 0 {
		day = (rec.Created - dayMillis + 1) / dayMillis
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		sets := [][2][]byte{
			{recordKey(rec.ID), rec.Raw},
			{kindKey(rec.Kind, rec.Created, rec.ID), nil},
			{authorKey(author, rec.Created, rec.ID), nil},
		}
		// The mission's own trust records never count against quotas.
		if !rec.Kind.MissionKind() {
			var q quota
			if v, err := getValue(txn, quotaKey(author, day)); err == nil {
				if err := cbor.Unmarshal(v, &q); err != nil {
					return err
				}
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			q.Records++
			q.Bytes += uint64(len(rec.Raw))
			if q.Records > incident.QuotaRecordsPerDay || q.Bytes > incident.QuotaBytesPerDay {
				return fmt.Errorf("%w: %w", ErrQuota, &incident.FieldError{Field: "author", Problem: fmt.Sprintf(
					"%d records / %d bytes on claimed day %d, limits %d records and %d bytes per author per day",
					q.Records, q.Bytes, day, incident.QuotaRecordsPerDay, incident.QuotaBytesPerDay)})
			}
			qb, err := cbor.Marshal(q)
			if err != nil {
				return err
			}
			sets = append(sets, [2][]byte{quotaKey(author, day), qb})
		}
		if t := targetOf(rec); t != nil {
			sets = append(sets, [2][]byte{targetKey(*t, rec.ID), []byte(rec.Kind)})
		}
		for _, kv := range sets {
			if err := txn.Set(kv[0], kv[1]); err != nil {
				return err
			}
		}
		if rec.Kind == incident.KindReceipt {
			if err := indexReceipt(txn, rec); err != nil {
				return err
			}
			if err := dropKept(txn, rec); err != nil {
				return err
			}
		}
		switch {
		case rec.Kind == incident.KindReport:
			return s.reindex(txn, rec.ID)
		case rec.Kind == incident.KindAmend || rec.Kind == incident.KindRetract || rec.Kind == incident.KindReview:
			return s.reindex(txn, *targetOf(rec))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if rec.Kind.MissionKind() {
		return s.ms.Apply(rec)
	}
	return nil
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

// Quarantine: a record waiting for dep is kept under q/<dep>/<id>, with
// Q/<id> → dep, and usage counted per source under n/<source>.

type qusage struct {
	Records uint64 `cbor:"1,keyasint"`
	Bytes   uint64 `cbor:"2,keyasint"`
}

type qentry struct {
	Source string `cbor:"1,keyasint"`
	Dep    []byte `cbor:"2,keyasint"`
	Raw    []byte `cbor:"3,keyasint"`
}

// ErrQuarantineFull is returned when a source has too many records waiting.
var ErrQuarantineFull = errors.New("quarantine full for this source")

func (s *Store) quarantine(rec *incident.Signed, dep []byte, source string) error {
	return s.db.Update(func(txn *badger.Txn) error {
		if _, err := txn.Get(key(tQMember, rec.ID[:])); err == nil {
			return nil // already waiting
		}
		var u qusage
		if v, err := getValue(txn, key(tQSource, []byte(source))); err == nil {
			if err := cbor.Unmarshal(v, &u); err != nil {
				return err
			}
		}
		if u.Records+1 > uint64(s.opts.QuarantineRecords) || u.Bytes+uint64(len(rec.Raw)) > uint64(s.opts.QuarantineBytes) {
			return fmt.Errorf("%w %q (%d records, %d bytes; limits %d and %d)", ErrQuarantineFull, source,
				u.Records, u.Bytes, s.opts.QuarantineRecords, s.opts.QuarantineBytes)
		}
		u.Records++
		u.Bytes += uint64(len(rec.Raw))
		ub, _ := cbor.Marshal(u)
		eb, _ := cbor.Marshal(qentry{Source: source, Dep: dep, Raw: rec.Raw})
		if err := txn.Set(key(tQuarantine, dep, []byte{'/'}, rec.ID[:]), eb); err != nil {
			return err
		}
		if err := txn.Set(key(tQMember, rec.ID[:]), dep); err != nil {
			return err
		}
		return txn.Set(key(tQSource, []byte(source)), ub)
	})
}

// release re-checks the records waiting for rec (by ID, and by author key
// when rec enrolls a member), recursively. It returns what got in.
func (s *Store) release(rec *incident.Signed) []incident.ID {
	deps := [][]byte{rec.ID[:]}
	if rec.Kind == incident.KindMember {
		a := rec.AuthorKey()
		deps = append(deps, a[:])
	}
	var released []incident.ID
	for len(deps) > 0 {
		dep := deps[0]
		deps = deps[1:]
		var waiting []qentry
		var keys [][]byte
		_ = s.db.View(func(txn *badger.Txn) error {
			prefix := key(tQuarantine, dep, []byte{'/'})
			return scanPrefix(txn, prefix, false, func(k []byte) error {
				v, err := getValue(txn, k)
				if err != nil {
					return err
				}
				var e qentry
				if cbor.Unmarshal(v, &e) == nil {
					waiting = append(waiting, e)
					keys = append(keys, k)
				}
				return nil
			})
		})
		for i, e := range waiting {
			s.unquarantine(keys[i], e)
			r := s.addLocked(e.Raw, e.Source)
			if r.Outcome == Accepted {
				released = append(released, r.ID)
				released = append(released, r.Released...)
			}
		}
	}
	return released
}

func (s *Store) unquarantine(k []byte, e qentry) {
	id := incident.IDOf(e.Raw)
	_ = s.db.Update(func(txn *badger.Txn) error {
		var u qusage
		if v, err := getValue(txn, key(tQSource, []byte(e.Source))); err == nil {
			_ = cbor.Unmarshal(v, &u)
		}
		if u.Records > 0 {
			u.Records--
		}
		if u.Bytes >= uint64(len(e.Raw)) {
			u.Bytes -= uint64(len(e.Raw))
		}
		ub, _ := cbor.Marshal(u)
		_ = txn.Set(key(tQSource, []byte(e.Source)), ub)
		_ = txn.Delete(key(tQMember, id[:]))
		return txn.Delete(k)
	})
}

// QuarantineCount returns how many records wait for dependencies.
func (s *Store) QuarantineCount() (int, error) {
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		return scanPrefix(txn, key(tQMember), false, func([]byte) error { n++; return nil })
	})
	return n, err
}
