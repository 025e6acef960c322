package store

import (
	"errors"
	"fmt"

	"github.com/vigil-mesh/vigil/incident"
)

// Draft is a record for PutMany to sign: its kind and payload.
type Draft struct {
	Kind    incident.Kind
	Payload any
}

// PutMany is Put for many records that stand or fall together (a station
// registry import: its stations, then the registry record that closes
// them). It signs drafts as this device at one reading of the store's
// clock, then the record closing returns for them (nil: none), judges
// every one as Put does (invalid, or one that would wait in quarantine,
// or past its author's quota: refused), and only then writes.
//
// Badger bounds one transaction (15 % of a memtable: a few thousand small
// records on a phone), so what a crash may leave is decided by the order:
// the drafts are written first, in as few transactions as fit, and synced;
// the closing record then in a transaction of its own, and synced. A
// crash or a failed write leaves nothing, or drafts without their closing
// record, never the closing record without every draft. (A registry
// import is in force only with its registry record and every station it
// counts: incident.FoldRegistry.)
//
// OnPut fires once, for the last record: the mesh publishes it, and
// reconciliation carries the others, as publishing thousands of records
// at once would flood the mission's gossip.
func (s *Store) PutMany(drafts []Draft, closing func(signed []*incident.Signed) (Draft, error)) ([]*incident.Signed, error) {
	if len(drafts) == 0 {
		return nil, errors.New("put many: no records")
	}
	recs, err := s.putMany(drafts, closing)
	if err == nil {
		s.fireRevocation()
		s.firePut(recs[len(recs)-1])
	}
	return recs, err
}

func (s *Store) putMany(drafts []Draft, closing func([]*incident.Signed) (Draft, error)) ([]*incident.Signed, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil {
		return nil, ErrNoMission
	}
	now := s.opts.Now()
	sign := func(d Draft) (*incident.Signed, error) {
		rec, err := s.signer.Sign(s.ms.ID, d.Kind, now, d.Payload)
		if err != nil {
			return nil, err
		}
		if err := s.validateOwn(rec); err != nil {
			return nil, err
		}
		return rec, nil
	}
	recs := make([]*incident.Signed, 0, len(drafts)+1)
	for i, d := range drafts {
		rec, err := sign(d)
		if err != nil {
			return nil, fmt.Errorf("record %d of %d: %w", i+1, len(drafts), err)
		}
		recs = append(recs, rec)
	}
	if closing != nil {
		d, err := closing(recs)
		if err != nil {
			return nil, err
		}
		rec, err := sign(d)
		if err != nil {
			return nil, fmt.Errorf("closing record: %w", err)
		}
		recs = append(recs, rec)
	}
	if err := s.fitsQuota(recs); err != nil {
		return nil, err
	}
	write := func(recs []*incident.Signed) error {
		units := make([]unit, len(recs))
		for i, r := range recs {
			units[i] = unit{raw: r.Raw, rec: r, source: "local", root: i}
		}
		out, _, err := s.addUnits(preparedUnits(units), nil)
		if err != nil {
			return err
		}
		for _, r := range out {
			if r.Outcome != Accepted && r.Outcome != Duplicate {
				return fmt.Errorf("record %s: %s: %w", r.ID, r.Outcome, r.Err)
			}
		}
		return s.sync()
	}
	n := len(drafts)
	if err := write(recs[:n]); err != nil {
		return nil, err
	}
	if closing != nil {
		if err := write(recs[n:]); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// fitsQuota refuses, before anything is written, records that would take
// this device past its role's quota (they would otherwise be refused
// partway, with the first ones stored).
func (s *Store) fitsQuota(recs []*incident.Signed) error {
	var n, bytes uint64
	for _, r := range recs {
		if !r.Kind.MissionKind() { // the mission's own records never count
			n++
			bytes += uint64(len(r.Raw))
		}
	}
	if n == 0 {
		return nil
	}
	b := s.begin()
	defer b.Discard()
	author := s.signer.Author()
	q, err := s.usage(b, author)
	if err != nil {
		return err
	}
	role, _ := s.ms.Role(author)
	limit := s.ms.Quota(role)
	if q.Records+n > limit.Records || q.Bytes+bytes > limit.Bytes {
		return fmt.Errorf("%w: %w", ErrQuota, &incident.FieldError{Field: "author", Problem: fmt.Sprintf(
			"these %d records would make %d records / %d bytes by one %s in the mission; the quota is %d records and %d bytes (mission config quota.%s.*)",
			n, q.Records+n, q.Bytes+bytes, role, limit.Records, limit.Bytes, role)})
	}
	return nil
}
