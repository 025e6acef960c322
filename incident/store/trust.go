package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/dgraph-io/badger/v4"
	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// The coordinator's trust actions (revoke, confirm, cancel an invite,
// start a secret epoch) and the device's epoch secrets. The CLI, the app
// and the control socket all call these: each action is written once.

type epochSecret struct {
	ID     []byte `cbor:"1,keyasint"`
	Secret []byte `cbor:"2,keyasint"`
}

// epochSecrets returns a copy of the member secrets this device holds, by
// epoch record ID (under s.mu), from the cache once it is read.
func (s *Store) epochSecrets() (map[incident.ID][]byte, error) {
	if s.epochs != nil {
		return maps.Clone(s.epochs), nil
	}
	out := map[incident.ID][]byte{}
	err := s.view(func(txn *badger.Txn) error {
		v, err := getValue(txn, metaKey("epochs"))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var list []epochSecret
		if err := cbor.Unmarshal(v, &list); err != nil {
			return fmt.Errorf("epoch secrets: %w", err)
		}
		for _, e := range list {
			var id incident.ID
			if len(e.ID) == len(id) {
				copy(id[:], e.ID)
				out[id] = e.Secret
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.epochs = maps.Clone(out)
	return out, nil
}

func (s *Store) saveEpochSecrets(m map[incident.ID][]byte) error {
	enc := make([]epochSecret, 0, len(m))
	for id, sec := range m {
		enc = append(enc, epochSecret{ID: id.Bytes(), Secret: sec})
	}
	b, err := cbor.Marshal(enc)
	if err != nil {
		return err
	}
	if err := s.update(func(txn *badger.Txn) error { return txn.Set(metaKey("epochs"), b) }); err != nil {
		s.epochs = nil // read again from disk next time
		return err
	}
	s.epochs = maps.Clone(m)
	return s.sync()
}

// EpochSecrets returns the secrets this device holds for the mission's
// epochs that count, by epoch record ID. They live only in the encrypted
// store, and travel only inside a hello to a member whose standing was
// checked.
func (s *Store) EpochSecrets() (map[incident.ID][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil {
		return nil, ErrNoMission
	}
	all, err := s.epochSecrets()
	if err != nil {
		return nil, err
	}
	for id := range all {
		if _, ok := s.ms.EpochByID(id); !ok {
			delete(all, id)
		}
	}
	return all, nil
}

// HeldEpochs returns the epochs that count and whose secret this device
// holds, newest number first, with the secrets: what a hello proves
// membership with, read without copying the mission state.
func (s *Store) HeldEpochs() ([]incident.Epoch, map[incident.ID][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil {
		return nil, nil, ErrNoMission
	}
	secrets, err := s.epochSecrets()
	if err != nil {
		return nil, nil, err
	}
	var held []incident.Epoch
	for _, ep := range s.ms.Epochs() {
		if _, ok := secrets[ep.ID]; ok {
			held = append(held, ep)
		}
	}
	sort.SliceStable(held, func(i, j int) bool { return held[i].Number > held[j].Number })
	return held, secrets, nil
}

// AddEpochSecret keeps secret for the epoch record id, which must be held
// and commit to it. added is false when it was held already.
func (s *Store) AddEpochSecret(id incident.ID, secret []byte) (added bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil {
		return false, ErrNoMission
	}
	e, ok := s.ms.EpochByID(id)
	if !ok {
		return false, fmt.Errorf("epoch %s is not held", id)
	}
	if incident.EpochCommit(s.ms.ID, secret) != e.Commit {
		return false, fmt.Errorf("the secret for epoch %s does not match its commitment", id)
	}
	all, err := s.epochSecrets()
	if err != nil {
		return false, err
	}
	if bytes.Equal(all[id], secret) {
		return false, nil
	}
	all[id] = append([]byte(nil), secret...)
	return true, s.saveEpochSecrets(all)
}

// NewEpoch starts a secret epoch: a fresh member secret, kept here, and
// an epoch record committing to it, numbered one above the highest this
// device holds, naming the revocations or confirms that caused it (held
// here). Coordinators only. The secret is on disk before the
// record is stored, so the hooks that run on the record (the mesh hands
// the secret to connected members) find it.
func (s *Store) NewEpoch(cause ...incident.ID) (*incident.Signed, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.ms == nil {
		s.mu.Unlock()
		return nil, ErrNoMission
	}
	number := s.ms.EpochNumber() + 1
	commit := incident.EpochCommit(s.ms.ID, secret)
	s.mu.Unlock()
	var causes [][]byte
	for _, id := range cause {
		causes = append(causes, id.Bytes())
	}
	return s.putThen(incident.KindEpoch, incident.EpochPayload{Number: number, Commit: commit[:], Cause: causes}, func(rec *incident.Signed) error {
		all, err := s.epochSecrets()
		if err != nil {
			return err
		}
		all[rec.ID] = secret
		return s.saveEpochSecrets(all)
	})
}

// EnsureEpoch starts the first epoch of a mission that has none (one
// created before epochs), when this device is the founder's and the
// founder is in good standing. Only the founder: two coordinators whose
// nodes started before they met would each start a first epoch of their
// own, hold only their own secret, and fail each other's hello. Until
// then members hold no member secret and show their credentials to any
// peer that proves the mission secret, as before; later epochs, started
// by any coordinator's revocation, are numbered above the ones it holds.
func (s *Store) EnsureEpoch() (bool, error) {
	ms, err := s.Mission()
	if err != nil {
		return false, err
	}
	if s.Author() != ms.Founder || ms.Standing(s.Author()) != nil || len(ms.Epochs()) > 0 {
		return false, nil
	}
	_, err = s.NewEpoch()
	return err == nil, err
}

// epochCaused reports whether an epoch that counts names one of revs as
// its cause.
func (s *Store) epochCaused(ms *incident.MissionState, revs []incident.Revocation) bool {
	for _, ep := range ms.Epochs() {
		r, err := s.Get(ep.ID)
		if err != nil || r == nil {
			continue
		}
		p, err := r.DecodePayload()
		pl, ok := p.(*incident.EpochPayload)
		if err != nil || !ok {
			continue
		}
		for _, c := range pl.Cause {
			for _, rv := range revs {
				if string(c) == string(rv.ID[:]) {
					return true
				}
			}
		}
	}
	return false
}

// ErrTooManyToAccept: the member has more records than a revocation can
// list as accepted.
var ErrTooManyToAccept = errors.New("too many records to accept")

// Revocation is what Revoke did.
type Revocation struct {
	Record   *incident.Signed // the revoke record
	Epoch    *incident.Signed // the new secret epoch it started
	Accepted int              // how many of the member's records stay confirmed
}

// Revoke revokes a member: a revoke record naming them (their invite goes
// with them: any other key that redeems it is refused), accepting every
// record of theirs this device holds unless acceptNone, then a new secret
// epoch that the revoked device never receives. Open connections to the
// member close as the record is stored. A member already revoked gets no
// second record: *AlreadyRevokedError.
func (s *Store) Revoke(member incident.Author, reason string, acceptNone bool) (Revocation, error) {
	ms, err := s.Mission()
	if err != nil {
		return Revocation{}, err
	}
	if member == ms.Founder {
		return Revocation{}, refusedf("%s founded the mission and cannot be revoked", member)
	}
	if _, ok := ms.Role(member); !ok {
		return Revocation{}, refusedf("%s is not a member of this mission", member)
	}
	if revs := ms.Revocations(member); len(revs) > 0 {
		// Idempotent: a second revoke record would only start another
		// epoch and list the same member again. A revocation whose epoch
		// never started (the first call failed between the two) gets it
		// now.
		if !s.epochCaused(ms, revs) {
			ep, err := s.NewEpoch(revs[0].ID)
			if err != nil {
				return Revocation{}, fmt.Errorf("%s is revoked, but the new secret epoch failed: %w", member, err)
			}
			rec, _ := s.Get(revs[0].ID)
			return Revocation{Record: rec, Epoch: ep}, nil
		}
		return Revocation{}, &AlreadyRevokedError{Member: member, Revocation: revs[0].ID}
	}
	var accepted [][]byte
	if !acceptNone {
		recs, err := s.ByAuthor(member)
		if err != nil {
			return Revocation{}, err
		}
		for _, r := range recs {
			accepted = append(accepted, r.ID.Bytes())
		}
	}
	if len(accepted) > incident.MaxListLen {
		return Revocation{}, fmt.Errorf("%w: %s has %d records, more than a revocation can list (%d); revoke accepting none and review their records",
			ErrTooManyToAccept, member, len(accepted), incident.MaxListLen)
	}
	// Name the member's invites too, unless a coordinator confirmed
	// another device's redemption of one (the revoked device was the
	// impostor: the confirmed member keeps its invite).
	var tokens [][]byte
	for _, m := range ms.MembersOf(member) {
		if !m.Record.IsZero() && !ms.TokenConfirmedFor(m.TokenID, member) && len(tokens) < incident.MaxEpochCauses {
			tokens = append(tokens, m.TokenID.Bytes())
		}
	}
	rec, err := s.Put(incident.KindRevoke, incident.RevokePayload{Member: member[:], Accepted: accepted, Reason: reason, Tokens: tokens})
	if err != nil {
		return Revocation{}, err
	}
	ep, err := s.NewEpoch(rec.ID)
	if err != nil {
		return Revocation{Record: rec, Accepted: len(accepted)}, fmt.Errorf("revoked, but the new secret epoch failed: %w", err)
	}
	return Revocation{Record: rec, Epoch: ep, Accepted: len(accepted)}, nil
}

// Confirm vouches for the redemptions by the given members of invites that
// were (or may be) redeemed by more than one key: a confirm record listing
// their member records, which closes each invite to every other key. When
// that shuts a key out (a second redemption, which may have been handed
// member secrets before anyone saw the duplicate), a new secret epoch
// starts too.
// With no member, it confirms every member's redemption of every invite
// that has exactly one redemption and no confirm yet (closing invites from
// before invite keys, whose tokens every member holds).
func (s *Store) Confirm(members ...incident.Author) (*incident.Signed, error) {
	ms, err := s.Mission()
	if err != nil {
		return nil, err
	}
	var ids [][]byte
	if len(members) == 0 {
		for _, m := range ms.Members() {
			if !m.Record.IsZero() && ms.Standing(m.Author) == nil && !ms.RedemptionConfirmed(m) {
				ids = append(ids, m.Record.Bytes())
			}
		}
		if len(ids) == 0 {
			return nil, refusedf("every invite in use is already confirmed or waits for a choice between devices")
		}
	}
	for _, a := range members {
		list := ms.MembersOf(a)
		switch {
		case len(list) == 0:
			return nil, refusedf("%s is not a member of this mission", a)
		case a == ms.Founder:
			return nil, refusedf("%s founded the mission: there is no invite to confirm", a)
		case len(ms.Revocations(a)) > 0:
			return nil, refusedf("%s has been revoked; a revoked member's redemption cannot be confirmed", a)
		}
		before := len(ids)
		cancelled := false
		for _, m := range list {
			if m.Record.IsZero() || ms.RedemptionConfirmed(m) {
				continue
			}
			if ms.InviteCancelled(m) {
				cancelled = true // a confirm cannot restore a cancelled invite
				continue
			}
			ids = append(ids, m.Record.Bytes())
		}
		if len(ids) == before {
			if cancelled {
				return nil, refusedf("%s joined with an invite that was cancelled; a confirm cannot restore it (invite them again)", a)
			}
			return nil, refusedf("%s's redemption is confirmed already", a)
		}
	}
	// One record holds what fits in a record; more go in several.
	var rec *incident.Signed
	var causes []incident.ID
	for len(ids) > 0 {
		n := min(len(ids), confirmBatch)
		if rec, err = s.Put(incident.KindConfirm, incident.ConfirmPayload{Members: ids[:n]}); err != nil {
			return nil, err
		}
		causes = append(causes, rec.ID)
		ids = ids[n:]
	}
	if shutOut(ms, s.mustMission()) && len(causes) <= incident.MaxEpochCauses {
		if _, err := s.NewEpoch(causes...); err != nil {
			return rec, fmt.Errorf("confirmed, but the new secret epoch failed: %w", err)
		}
	}
	return rec, nil
}

// mustMission is the mission state now (nil before a mission).
func (s *Store) mustMission() *incident.MissionState {
	ms, _ := s.Mission()
	return ms
}

// shutOut reports whether the confirm closed an invite to a key it was
// open to before: a duplicate waiting for a choice (which may have been
// handed member secrets before the other redemption was seen) or one in
// good standing.
func shutOut(before, after *incident.MissionState) bool {
	if after == nil {
		return false
	}
	for _, m := range before.Members() {
		if after.InviteFlag(m.Author) == incident.FlagInviteClosed && before.InviteFlag(m.Author) != incident.FlagInviteClosed {
			return true
		}
	}
	return false
}

// confirmBatch is how many member record IDs one confirm record lists:
// well inside the record size limit (34 bytes an ID).
const confirmBatch = 1000

// IssuedInvite is an invite this device created, as `mission invites`
// lists it.
type IssuedInvite struct {
	ID      incident.Author `cbor:"1,keyasint"` // the invite key
	Role    string          `cbor:"2,keyasint"`
	Label   string          `cbor:"3,keyasint,omitempty"`
	Created int64           `cbor:"4,keyasint"`
	Expires int64           `cbor:"5,keyasint,omitempty"`
	// Filled in from the mission state when listed.
	RedeemedBy []incident.Author `cbor:"-"`
	Cancelled  bool              `cbor:"-"`
}

func (s *Store) issued() ([]IssuedInvite, error) {
	var out []IssuedInvite
	err := s.view(func(txn *badger.Txn) error {
		v, err := getValue(txn, metaKey("invites"))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return cbor.Unmarshal(v, &out)
	})
	return out, err
}

func (s *Store) recordIssued(inv IssuedInvite) error {
	list, err := s.issued()
	if err != nil {
		return err
	}
	list = append(list, inv)
	b, err := cbor.Marshal(list)
	if err != nil {
		return err
	}
	return s.update(func(txn *badger.Txn) error { return txn.Set(metaKey("invites"), b) })
}

// Invites lists the invites this device issued, oldest first, with who
// redeemed each and whether it was cancelled.
func (s *Store) Invites() ([]IssuedInvite, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil {
		return nil, ErrNoMission
	}
	list, err := s.issued()
	if err != nil {
		return nil, err
	}
	redeemed := s.ms.Redemptions()
	for i := range list {
		list[i].RedeemedBy = redeemed[list[i].ID]
		list[i].Cancelled = len(s.ms.Revocations(list[i].ID)) > 0
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Created < list[j].Created })
	return list, nil
}

// CancelInvite cancels an invite by revoking its invite key: nobody can
// redeem it any more, and a device that already did is refused and its
// records flagged. It returns the revoke record.
func (s *Store) CancelInvite(id incident.Author, reason string) (*incident.Signed, error) {
	ms, err := s.Mission()
	if err != nil {
		return nil, err
	}
	if len(ms.Revocations(id)) > 0 {
		return nil, refusedf("invite %s is already cancelled", id)
	}
	if _, ok := ms.Role(id); ok {
		return nil, refusedf("%s is a member, not an invite: revoke the member instead", id)
	}
	if len(ms.RedeemedBy(id)) == 0 {
		issued, err := s.Invites()
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(issued, func(inv IssuedInvite) bool { return inv.ID == id }) {
			return nil, refusedf("no invite %s: this device did not issue it and no member redeemed it", id)
		}
	}
	if reason == "" {
		reason = "invite cancelled"
	}
	rec, err := s.Put(incident.KindRevoke, incident.RevokePayload{Member: id[:], Reason: reason})
	if err != nil {
		return nil, err
	}
	// Somebody redeemed it already: they may hold member secrets.
	if len(ms.RedeemedBy(id)) > 0 {
		if _, err := s.NewEpoch(rec.ID); err != nil {
			return rec, fmt.Errorf("cancelled, but the new secret epoch failed: %w", err)
		}
	}
	return rec, nil
}
