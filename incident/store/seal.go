package store

import (
	"fmt"

	"filippo.io/age"
	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
)

const tKept = 'L' // L/<id> → the author's readable copy of its own sealed record

// PutSealed signs and stores a sealed record as this device: payload is
// encrypted to the mission's coordinators, and the public envelope carries
// only the target (for amends, retractions and reviews). The author keeps a
// readable copy until a coordinator's receipt lists the record.
func (s *Store) PutSealed(kind incident.Kind, target *incident.ID, payload any) (*incident.Signed, error) {
	return s.PutSealedTo(kind, target, payload, nil)
}

// PutSealedTo is PutSealed to recipients (nil: the mission's
// coordinators), for a record whose audience is wider than they are: a
// notice (incident.MissionState.NoticeRecipients).
func (s *Store) PutSealedTo(kind incident.Kind, target *incident.ID, payload any, recipients []age.Recipient) (*incident.Signed, error) {
	rec, err := s.putSealed(kind, target, payload, recipients)
	if err == nil {
		s.firePut(rec)
	}
	return rec, err
}

func (s *Store) putSealed(kind incident.Kind, target *incident.ID, payload any, recipients []age.Recipient) (*incident.Signed, error) {
	return s.putSealedWith(kind, target, payload, func(ms *incident.MissionState, _ int64) ([]byte, error) {
		if recipients == nil {
			var err error
			if recipients, err = ms.SealRecipients(); err != nil {
				return nil, err
			}
		}
		return incident.Seal(kind, payload, recipients)
	})
}

// PutCompactSealed signs and stores a record sealed with the compact seal
// (for SMS) to the mission's SMS inbox key, refusing with
// incident.ErrNotCompact (nothing signed) a seal longer than maxSealed.
// The author keeps a readable copy until a coordinator's receipt lists
// it, as for PutSealed.
func (s *Store) PutCompactSealed(kind incident.Kind, payload any, maxSealed int) (*incident.Signed, error) {
	rec, err := s.putSealedWith(kind, nil, payload, func(ms *incident.MissionState, created int64) ([]byte, error) {
		inbox, ok := ms.SMSInbox()
		if !ok {
			return nil, fmt.Errorf("mission %q has no SMS inbox key (a coordinator sets sms_number)", ms.Mission.Name)
		}
		ct, err := incident.SealCompact(kind, payload, s.signer.Author(), created, inbox)
		if err == nil && len(ct) > maxSealed {
			return nil, fmt.Errorf("a compact seal of %d bytes %w (at most %d)", len(ct), incident.ErrNotCompact, maxSealed)
		}
		return ct, err
	})
	if err == nil {
		s.firePut(rec)
	}
	return rec, err
}

// putSealedWith signs and stores a record whose ciphertext seal makes,
// at the creation time it is given (Unix ms).
func (s *Store) putSealedWith(kind incident.Kind, target *incident.ID, payload any, seal func(ms *incident.MissionState, created int64) ([]byte, error)) (*incident.Signed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil {
		return nil, ErrNoMission
	}
	now := s.opts.Now()
	ct, err := seal(s.ms, now.UnixMilli())
	if err != nil {
		return nil, err
	}
	var env incident.SealedEnvelope
	if target != nil {
		env.Target = target.Bytes()
	}
	rec, err := s.signer.SignSealed(s.ms.ID, kind, now, env, ct)
	if err != nil {
		return nil, err
	}
	if err := s.validateOwn(rec); err != nil {
		return nil, err
	}
	// Check the payload as a coordinator will, before anything is signed away.
	plain, err := incident.SealedPlain(kind, payload)
	if err != nil {
		return nil, err
	}
	if _, err := incident.OpenPlain(rec, plain); err != nil {
		return nil, err
	}
	if err := s.update(func(txn *badger.Txn) error { return txn.Set(key(tKept, rec.ID[:]), plain) }); err != nil {
		return nil, err
	}
	if r := s.addLocked(rec.Raw, "local"); r.Outcome != Accepted && r.Outcome != Duplicate {
		return nil, r.Err
	}
	return rec, s.sync()
}

// dropKept deletes the author's readable copies of the records a receipt
// lists: a coordinator holds them now.
func dropKept(txn *batch, rec *incident.Signed) error {
	p, err := rec.DecodePayload()
	if err != nil {
		return err
	}
	rp, ok := p.(*incident.ReceiptPayload)
	if !ok {
		return nil
	}
	for _, b := range rp.IDs {
		if err := txn.Delete(key(tKept, b)); err != nil {
			return err
		}
	}
	return nil
}

// PutMaybeSealed stores a record as this device, sealed or in the clear.
func (s *Store) PutMaybeSealed(sealed bool, kind incident.Kind, target *incident.ID, payload any) (*incident.Signed, error) {
	if sealed {
		return s.PutSealed(kind, target, payload)
	}
	return s.Put(kind, payload)
}

// Review stores this device's verdict on a report. It supersedes the
// review heads this device holds (so a later review replaces them rather
// than conflicting), and is sealed when the report is.
func (s *Store) Review(id incident.ID, status, note string) (*incident.Signed, error) {
	return s.ReviewPublish(id, status, note, nil)
}

// ReviewPublish is Review that, with publish set, also approves the free
// text of that version of the report (a record ID: the report or one of
// its amendments) for public exports.
func (s *Store) ReviewPublish(id incident.ID, status, note string, publish *incident.ID) (*incident.Signed, error) {
	v, err := s.Report(id)
	if err != nil {
		return nil, err
	}
	if v.Sealed && !v.Opened {
		return nil, fmt.Errorf("report %s is sealed and this device cannot read it", id)
	}
	var prev [][]byte
	for _, e := range v.History {
		if e.Kind == incident.KindReview && e.Head {
			prev = append(prev, e.ID.Bytes())
		}
	}
	p := incident.ReviewPayload{Target: id.Bytes(), Status: status, Note: note, Prev: prev}
	if publish != nil {
		p.Publish = publish.Bytes()
	}
	return s.PutMaybeSealed(v.Sealed, incident.KindReview, &id, p)
}
