package incident

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"slices"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Kind is a record's kind.
type Kind string

// Record kinds (docs/record-format.md).
const (
	KindMission    Kind = "mission"
	KindConfig     Kind = "config"
	KindMember     Kind = "member"
	KindRevoke     Kind = "revoke"
	KindStation    Kind = "station"
	KindReport     Kind = "report"
	KindAmend      Kind = "amend"
	KindRetract    Kind = "retract"
	KindReview     Kind = "review"
	KindCheckin    Kind = "checkin"
	KindAlert      Kind = "alert"
	KindReceipt    Kind = "receipt"
	KindCheckpoint Kind = "checkpoint"
	KindAttachment Kind = "attachment"
	KindConfirm    Kind = "confirm"    // a coordinator picks the one redemption of an invite used by two keys
	KindEpoch      Kind = "epoch"      // a coordinator starts a new secret epoch (trust.go)
	KindNotice     Kind = "notice"     // a coordinator tells the field, or answers an alert (notice.go)
	KindRegistry   Kind = "registry"   // closes one import of the station registry (registry.go)
	KindAssignment Kind = "assignment" // posts a member to a station (registry.go)
	KindTally      Kind = "tally"      // copies a station's result sheet (tally.go)
	KindForm       Kind = "form"       // one version of a checklist (form.go)
	KindResponse   Kind = "response"   // answers a form at a station (form.go)
	KindInbox      Kind = "inbox"      // hands the coordinators the mission's SMS inbox key (smsseal.go)
	KindCapture    Kind = "capture"    // where an attached file came from (capture.go)
)

// Kinds lists every kind, in the order a receiver needs them.
var Kinds = []Kind{KindMission, KindConfig, KindMember, KindRevoke, KindConfirm, KindEpoch,
	KindStation, KindRegistry, KindAssignment, KindForm, KindReport, KindAmend, KindRetract, KindReview,
	KindCheckin, KindAlert, KindTally, KindResponse, KindNotice, KindReceipt, KindCheckpoint, KindAttachment, KindInbox, KindCapture}

// MissionKinds are the kinds that shape the mission itself, in the order
// a mission state needs them.
var MissionKinds = []Kind{KindMission, KindConfig, KindMember, KindRevoke, KindConfirm, KindEpoch}

// MissionKind reports whether k shapes the mission itself (trust and policy)
// rather than its observations.
func (k Kind) MissionKind() bool { return slices.Contains(MissionKinds, k) }

// Record is one signed, immutable record. Its wire form is deterministic
// CBOR (RFC 8949 §4.2) with integer keys; Decode rejects any other form.
type Record struct {
	Version uint64          `cbor:"1,keyasint"`
	Mission []byte          `cbor:"2,keyasint,omitempty"` // mission ID digest; empty in the genesis
	Author  []byte          `cbor:"3,keyasint"`           // Ed25519 public key
	Kind    Kind            `cbor:"4,keyasint"`
	Created int64           `cbor:"5,keyasint"` // claimed creation time, Unix milliseconds
	Payload cbor.RawMessage `cbor:"6,keyasint"` // kind-specific; the public envelope when sealed
	Sealed  []byte          `cbor:"7,keyasint,omitempty"`
	Sig     []byte          `cbor:"8,keyasint,omitempty"`
}

// Signature domain separation prefixes.
const (
	recordDomain = "vigil/record/v1\x00"
	tokenDomain  = "vigil/token/v1\x00"
)

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	encMode, err = cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   12,
		MaxArrayElements:  MaxListLen,
		MaxMapPairs:       64,
		UTF8:              cbor.UTF8RejectInvalid,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	lo := decMode.DecOptions()
	lo.ExtraReturnErrors = cbor.ExtraDecErrorNone
	if lenientDec, err = lo.DecMode(); err != nil {
		panic(err)
	}
}

// Marshal encodes v in the core deterministic encoding.
func Marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// UnmarshalCanonical decodes data into v and fails unless re-encoding v gives
// back exactly data: no malleability, no unknown fields, no trailing bytes.
func UnmarshalCanonical(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadEncoding, err)
	}
	return reencodes(v, data)
}

// reencodes checks that v, decoded from data, encodes back to exactly data.
func reencodes(v any, data []byte) error {
	again, err := encMode.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadEncoding, err)
	}
	if !bytes.Equal(again, data) {
		return fmt.Errorf("%w: re-encoding differs", ErrBadEncoding)
	}
	return nil
}

// Signed is a decoded record with its encoding and ID.
type Signed struct {
	Record
	Raw    []byte // the signed encoding
	ID     ID
	author Author
	// own: read back from this device's store by DecodeOwn, so its
	// payload was checked canonical when it was stored.
	own bool
}

// AuthorKey returns the record's author.
func (s *Signed) AuthorKey() Author { return s.author }

// CreatedTime returns the claimed creation time.
func (s *Signed) CreatedTime() time.Time { return time.UnixMilli(s.Created).UTC() }

// Decode parses a signed encoding and checks everything that needs no other
// record: canonical form, size, version, kind, key lengths and the
// signature. Payload checks happen in Validate.
func Decode(raw []byte) (*Signed, error) { return decode(raw, true) }

// DecodeStored parses a record that this device verified before storing it
// (its own encrypted store): everything Decode checks except the signature,
// which costs as much as the rest of reading a record many times over.
// Never use it for bytes that came from outside.
func DecodeStored(raw []byte) (*Signed, error) { return decode(raw, false) }

func decode(raw []byte, verify bool) (*Signed, error) {
	if len(raw) > MaxRecordBytes {
		return nil, fieldErr("record", "is %d bytes, limit %d", len(raw), MaxRecordBytes)
	}
	var r Record
	if err := UnmarshalCanonical(raw, &r); err != nil {
		// A newer schema version may have changed the envelope itself.
		if v, ok := peekVersion(raw); ok && v > SchemaVersion {
			return nil, &NewerError{Version: v}
		}
		return nil, err
	}
	s := &Signed{Record: r, Raw: append([]byte(nil), raw...), ID: IDOf(raw)}
	if err := s.checkEnvelope(); err != nil {
		return nil, err
	}
	if !verify {
		return s, nil
	}
	msg, err := r.signingBytes()
	if err != nil {
		return nil, err
	}
	if !ed25519.Verify(ed25519.PublicKey(r.Author), msg, r.Sig) {
		return nil, fieldErr("signature", "does not verify for author %s", s.author)
	}
	return s, nil
}

// checkEnvelope checks a decoded envelope's fields (all but the
// signature) and sets the author.
func (s *Signed) checkEnvelope() error {
	r := &s.Record
	if r.Version > SchemaVersion {
		return &NewerError{Version: r.Version}
	}
	if r.Version != SchemaVersion {
		return fieldErr("version", "is %d, this build reads version %d", r.Version, SchemaVersion)
	}
	// A kind this build does not know is a newer build's: it is checked
	// like any other record (envelope, signature, membership) and kept.
	if !wellFormedKind(r.Kind) {
		return fieldErr("kind", "%q is not a record kind name (1 to %d lowercase letters, digits or _)", r.Kind, MaxKindLen)
	}
	a, err := authorFromBytes("author", r.Author)
	if err != nil {
		return err
	}
	s.author = a
	if r.Kind == KindMission {
		if len(r.Mission) != 0 {
			return fieldErr("mission", "must be empty in a mission genesis")
		}
		if len(r.Sealed) != 0 {
			return fieldErr("sealed", "a mission genesis cannot be sealed")
		}
	} else if _, err := idFromBytes("mission", r.Mission); err != nil {
		return err
	}
	if len(r.Sealed) > MaxSealedBytes {
		return fieldErr("sealed", "is %d bytes, limit %d", len(r.Sealed), MaxSealedBytes)
	}
	if len(r.Sig) != ed25519.SignatureSize {
		return fieldErr("signature", "must be %d bytes, got %d", ed25519.SignatureSize, len(r.Sig))
	}
	return nil
}

func (r Record) signingBytes() ([]byte, error) {
	r.Sig = nil
	body, err := encMode.Marshal(r)
	if err != nil {
		return nil, err
	}
	return append([]byte(recordDomain), body...), nil
}

// Signer is a device's signing key.
type Signer struct {
	priv ed25519.PrivateKey
	pub  Author
}

// NewSigner wraps a 32-byte Ed25519 seed.
func NewSigner(seed []byte) (*Signer, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("signing key seed must be %d bytes", ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	s := &Signer{priv: priv}
	copy(s.pub[:], priv.Public().(ed25519.PublicKey))
	return s, nil
}

// Author returns the signer's public key.
func (s *Signer) Author() Author { return s.pub }

// Sign builds, signs and decodes (as a check) a record of kind with the
// given payload. mission is zero only for a genesis.
func (s *Signer) Sign(mission ID, kind Kind, created time.Time, payload any) (*Signed, error) {
	body, err := encMode.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", kind, err)
	}
	r := Record{Version: SchemaVersion, Author: s.pub[:], Kind: kind, Created: created.UnixMilli(), Payload: body}
	if kind != KindMission {
		r.Mission = mission.Bytes()
	}
	return s.sign(r)
}

// SignSealed is Sign for a sealed record: envelope is the public part of the
// payload and ciphertext the encrypted rest.
func (s *Signer) SignSealed(mission ID, kind Kind, created time.Time, envelope any, ciphertext []byte) (*Signed, error) {
	body, err := encMode.Marshal(envelope)
	if err != nil {
		return nil, err
	}
	r := Record{Version: SchemaVersion, Mission: mission.Bytes(), Author: s.pub[:], Kind: kind,
		Created: created.UnixMilli(), Payload: body, Sealed: ciphertext}
	return s.sign(r)
}

func (s *Signer) sign(r Record) (*Signed, error) {
	msg, err := r.signingBytes()
	if err != nil {
		return nil, err
	}
	r.Sig = ed25519.Sign(s.priv, msg)
	raw, err := encMode.Marshal(r)
	if err != nil {
		return nil, err
	}
	return Decode(raw)
}

// SignBytes signs msg with the device key. Callers must put a domain
// separation prefix of their own in msg.
func (s *Signer) SignBytes(msg []byte) []byte { return ed25519.Sign(s.priv, msg) }

// PeekAuthor reads a record's author without any check: for routing
// decisions before the full Decode, never for trust.
func PeekAuthor(raw []byte) (Author, bool) {
	var r Record
	if len(raw) > MaxRecordBytes || decMode.Unmarshal(raw, &r) != nil || len(r.Author) != 32 {
		return Author{}, false
	}
	var a Author
	copy(a[:], r.Author)
	return a, true
}
