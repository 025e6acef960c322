package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
)

// SetName stores this device's display name.
func (s *Store) SetName(name string) error {
	if err := s.update(func(txn *badger.Txn) error { return txn.Set(metaKey("name"), []byte(name)) }); err != nil {
		return err
	}
	return s.sync()
}

// Name returns this device's display name ("" when unset).
func (s *Store) Name() string {
	var name []byte
	_ = s.view(func(txn *badger.Txn) error {
		name, _ = getValue(txn, metaKey("name"))
		return nil
	})
	return string(name)
}

// CreateMission makes this device the founding coordinator of a new
// mission: it signs the genesis and keeps a fresh mission secret.
func (s *Store) CreateMission(name, label string, sealByDefault bool) (incident.ID, error) {
	return s.CreateMissionWith(MissionSpec{Name: name, Label: label, SealByDefault: sealByDefault})
}

// MissionSpec is what a founding coordinator chooses for a new mission.
type MissionSpec struct {
	Name          string
	Label         string // the founder's own label
	SealByDefault bool
	// NoSeal asks for a mission whose reports every member reads. The
	// use-case layer seals real missions by default; the store takes
	// SealByDefault as given.
	NoSeal   bool
	Practice bool // a training mission, marked as such on every device
}

// CreateMissionWith is CreateMission with every genesis choice. The
// mission starts at secret epoch 1 (NewEpoch).
func (s *Store) CreateMissionWith(spec MissionSpec) (incident.ID, error) {
	id, err := s.createMission(spec)
	if err != nil {
		return id, err
	}
	if _, err := s.NewEpoch(); err != nil {
		return id, fmt.Errorf("mission created, but its first secret epoch failed: %w", err)
	}
	return id, nil
}

func (s *Store) createMission(spec MissionSpec) (incident.ID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms != nil {
		return incident.ID{}, fmt.Errorf("%w (%s)", ErrHasMission, s.ms.ID)
	}
	nonce := make([]byte, 16)
	secret := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return incident.ID{}, err
	}
	if _, err := rand.Read(secret); err != nil {
		return incident.ID{}, err
	}
	g, err := s.signer.Sign(incident.ID{}, incident.KindMission, s.opts.Now(), incident.MissionPayload{
		Name: spec.Name, Nonce: nonce, Taxonomy: incident.TaxonomyVersion, SealByDefault: spec.SealByDefault,
		Recipient: s.ageID.Recipient().String(), Label: spec.Label, Practice: spec.Practice,
	})
	if err != nil {
		return incident.ID{}, err
	}
	if err := s.adoptMission(g, secret); err != nil {
		return incident.ID{}, err
	}
	return g.ID, nil
}

// adoptMission stores a genesis and the mission secret and makes the
// mission this store's.
func (s *Store) adoptMission(g *incident.Signed, secret []byte) error {
	ms, err := incident.NewMissionState(g)
	if err != nil {
		return err
	}
	err = s.update(func(txn *badger.Txn) error {
		for _, kv := range [][2][]byte{
			{recordKey(g.ID), g.Raw},
			{kindKey(g.Kind, g.Created, g.ID), nil},
			{authorKey(g.AuthorKey(), g.Created, g.ID), nil},
			{metaKey("secret"), secret},
			{metaKey("mission"), g.ID[:]},
		} {
			if err := txn.Set(kv[0], kv[1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.ms, s.secret = ms, append([]byte(nil), secret...)
	return s.sync()
}

// InviteRequest describes an invite to create.
type InviteRequest struct {
	Role      string
	Label     string
	Expires   time.Time        // zero: never
	For       *incident.Author // required for coordinators
	Bootstrap []string         // multiaddrs to try first
}

// Invite creates an invite code. Only coordinators invite; coordinator
// invites must be bound to a device key.
func (s *Store) Invite(req InviteRequest) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil {
		return "", ErrNoMission
	}
	self := s.signer.Author()
	if role, _ := s.ms.Role(self); role != incident.RoleCoordinator {
		return "", refusedf("only coordinators can invite; this device is %s", incident.Article(orNone(role)))
	}
	if !slices.Contains(incident.Roles, req.Role) {
		return "", &incident.FieldError{Field: "role", Problem: fmt.Sprintf("%q is not a role (want observer, carrier or coordinator)", req.Role)}
	}
	if req.Role == incident.RoleCoordinator && req.For == nil {
		return "", &incident.FieldError{Field: "for", Problem: "a coordinator invite must name the new coordinator's device key"}
	}
	if len(req.Label) > incident.MaxLabelLen {
		return "", &incident.FieldError{Field: "label", Problem: fmt.Sprintf("%d bytes, limit %d", len(req.Label), incident.MaxLabelLen)}
	}
	if !utf8.ValidString(req.Label) || strings.ContainsRune(req.Label, 0) {
		return "", &incident.FieldError{Field: "label", Problem: "not valid UTF-8 text"}
	}
	if len(req.Bootstrap) > 16 {
		return "", &incident.FieldError{Field: "bootstrap", Problem: fmt.Sprintf("%d addresses, limit 16", len(req.Bootstrap))}
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	seed, pub, err := incident.NewInviteKey()
	if err != nil {
		return "", err
	}
	tok := incident.Token{Mission: s.ms.ID.Bytes(), Role: req.Role, Label: req.Label, Nonce: nonce, Invite: pub}
	if !req.Expires.IsZero() {
		tok.Expires = req.Expires.UnixMilli()
	}
	if req.For != nil {
		tok.For = req.For[:]
	}
	tok = s.signer.SignToken(tok)
	chain, err := s.chainFor(self)
	if err != nil {
		return "", err
	}
	code, err := incident.EncodeInvite(incident.Invite{Genesis: s.ms.Genesis.Raw, Token: tok, Secret: s.secret,
		Chain: chain, Bootstrap: req.Bootstrap, InviteKey: seed})
	if err != nil {
		return "", err
	}
	// Never hand out a code that a joining device would refuse.
	if _, err := incident.DecodeInvite(code); err != nil {
		return "", fmt.Errorf("the invite would not be accepted: %w", err)
	}
	// Kept to list and cancel it later: the public half only.
	id, _ := incident.InviteID(tok)
	if err := s.recordIssued(IssuedInvite{ID: id, Role: req.Role, Label: req.Label, Created: s.opts.Now().UnixMilli(), Expires: tok.Expires}); err != nil {
		return "", err
	}
	return code, s.sync()
}

// chainFor returns the member records that authorise a back to the founder.
func (s *Store) chainFor(a incident.Author) ([][]byte, error) {
	var chain [][]byte
	seen := map[incident.Author]bool{}
	for a != s.ms.Founder && !seen[a] {
		seen[a] = true
		m, ok := s.ms.Member(a)
		if !ok || m.Record.IsZero() {
			return nil, fmt.Errorf("no enrollment for %s", a)
		}
		r, err := s.Get(m.Record)
		if err != nil || r == nil {
			return nil, fmt.Errorf("enrollment record %s of %s is missing", m.Record, a)
		}
		chain = append(chain, r.Raw)
		a = m.Issuer
	}
	return chain, nil
}

// Join redeems an invite: it checks it (expiry by this device's clock, the
// binding to this device), adopts the mission, stores the issuer's chain and
// signs this device's member record. It returns the member record's ID.
func (s *Store) Join(code string) (incident.ID, error) {
	inv, err := incident.DecodeInvite(code)
	if err != nil {
		return incident.ID{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	self := s.signer.Author()
	if err := inv.CheckJoin(s.opts.Now(), self); err != nil {
		return incident.ID{}, err
	}
	if s.ms != nil && s.ms.ID != inv.GenesisRecord.ID {
		return incident.ID{}, fmt.Errorf("%w: the invite is for mission %s (%q), this device belongs to %s (%q)",
			incident.ErrInvite, inv.GenesisRecord.ID, inv.Mission.Name, s.ms.ID, s.ms.Mission.Name)
	}
	if s.ms != nil {
		for _, m := range s.ms.Members() {
			if m.Author == self && m.Role == inv.Token.Role {
				return incident.ID{}, refusedf("this device is already %s of mission %q", incident.Article(m.Role), inv.Mission.Name)
			}
		}
	}
	rec, err := s.signer.Sign(inv.GenesisRecord.ID, incident.KindMember, s.opts.Now(),
		inv.Redemption(self, s.ageID.Recipient().String()))
	if err != nil {
		return incident.ID{}, err
	}
	// Judge this device's member record against the invite alone before
	// anything is stored, so a refused join leaves the device as it was.
	scratch, err := incident.NewMissionState(inv.GenesisRecord)
	if err != nil {
		return incident.ID{}, err
	}
	for _, c := range inv.ChainRecords {
		if err := scratch.Apply(c); err != nil {
			return incident.ID{}, err
		}
	}
	if err := incident.Validate(rec, scratch, s); err != nil {
		return incident.ID{}, fmt.Errorf("%w: this device's enrollment would be refused: %v", incident.ErrInvite, err)
	}
	if s.ms == nil {
		if err := s.adoptMission(inv.GenesisRecord, inv.Secret); err != nil {
			return incident.ID{}, err
		}
	}
	for _, c := range inv.ChainRecords {
		if r := s.addLocked(c.Raw, "invite"); r.Outcome == Rejected {
			return incident.ID{}, fmt.Errorf("invite chain record %s: %v", c.ID, r.Err)
		}
	}
	if r := s.addLocked(rec.Raw, "local"); r.Outcome != Accepted {
		return incident.ID{}, fmt.Errorf("member record %s: %s: %v", rec.ID, r.Outcome, r.Err)
	}
	return rec.ID, s.sync()
}

// Put signs a record of kind with payload as this device, at the store's
// clock, validates it like any record and stores it. It returns the stored
// record; an invalid payload is an error and changes nothing.
func (s *Store) Put(kind incident.Kind, payload any) (*incident.Signed, error) {
	return s.putThen(kind, payload, nil)
}

// putThen is Put that calls before, under the store's lock, once the
// record is signed and judged valid and before it is stored: what must be
// on disk before anyone can see the record (an epoch's secret).
func (s *Store) putThen(kind incident.Kind, payload any, before func(*incident.Signed) error) (*incident.Signed, error) {
	rec, err := s.put(kind, payload, before)
	if err == nil {
		s.fireRevocation()
		s.firePut(rec)
	}
	return rec, err
}

func (s *Store) put(kind incident.Kind, payload any, before func(*incident.Signed) error) (*incident.Signed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil {
		return nil, ErrNoMission
	}
	rec, err := s.signer.Sign(s.ms.ID, kind, s.opts.Now(), payload)
	if err != nil {
		return nil, err
	}
	// Judge it first, so a record that would only wait in quarantine (an
	// amend of a report this device does not hold) is refused, not parked.
	if err := s.validateOwn(rec); err != nil {
		return nil, err
	}
	if before != nil {
		if err := before(rec); err != nil {
			return nil, err
		}
	}
	if r := s.addLocked(rec.Raw, "local"); r.Outcome != Accepted && r.Outcome != Duplicate {
		return nil, r.Err
	}
	// Acknowledged only once it is on disk.
	return rec, s.sync()
}

func orNone(role string) string {
	if role == "" {
		return "non-member"
	}
	return role
}

// Meta returns a device setting stored under name (nil when unset).
func (s *Store) Meta(name string) ([]byte, error) {
	var v []byte
	err := s.view(func(txn *badger.Txn) error {
		var err error
		v, err = getValue(txn, metaKey("x/"+name))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		return err
	})
	return v, err
}

// SetMeta stores a device setting durably.
func (s *Store) SetMeta(name string, value []byte) error {
	if err := s.update(func(txn *badger.Txn) error { return txn.Set(metaKey("x/"+name), value) }); err != nil {
		return err
	}
	return s.sync()
}

// validateOwn judges a record this device just signed, with s.mu held: a
// record that would only wait (a role this device lacks, a target it
// does not hold) is refused with the reason, since nothing is held that
// could make it valid later.
func (s *Store) validateOwn(rec *incident.Signed) error {
	err := incident.Validate(rec, s.ms, s)
	var me *incident.MissingError
	if errors.As(err, &me) && me.Problem != "" {
		return errors.New(me.Problem)
	}
	return err
}
