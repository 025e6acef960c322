package incident

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
	"github.com/fxamacker/cbor/v2"
)

// Sealed records: the payload (category, station, location, times, text,
// attachments; and the amends, retractions and reviews of a sealed report)
// is encrypted with age to the mission's coordinators, and padded to a size
// bucket so its length says little about its content. Carriers and
// observers store and forward the ciphertext; the public envelope keeps only
// what the fold needs to attach a record to its report (the target ID).

// SealBuckets are the plaintext sizes a sealed payload is padded to.
var SealBuckets = []int{512, 1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10, 32 << 10}

type sealedBody struct {
	Kind    Kind            `cbor:"1,keyasint"`
	Payload cbor.RawMessage `cbor:"2,keyasint"`
	Pad     []byte          `cbor:"3,keyasint"`
}

// ErrNoRecipients: the mission has no coordinator who can read a sealed
// record (no age recipient on any coordinator's enrollment).
var ErrNoRecipients = errors.New("no coordinator of this mission can receive sealed records")

// SealRecipients returns the age recipients of the mission's coordinators
// who are not revoked.
func (ms *MissionState) SealRecipients() ([]age.Recipient, error) {
	var out []age.Recipient
	seen := map[string]bool{}
	for _, m := range ms.Members() {
		if m.Role != RoleCoordinator || m.Recipient == "" || seen[m.Recipient] || len(ms.Revocations(m.Author)) > 0 {
			continue
		}
		r, err := age.ParseX25519Recipient(m.Recipient)
		if err != nil {
			continue
		}
		seen[m.Recipient] = true
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, ErrNoRecipients
	}
	return out, nil
}

// Seal encrypts a payload of kind to recipients, padded to a bucket.
func Seal(kind Kind, payload any, recipients []age.Recipient) ([]byte, error) {
	inner, err := encMode.Marshal(payload)
	if err != nil {
		return nil, err
	}
	body := sealedBody{Kind: kind, Payload: inner}
	plain, err := encMode.Marshal(body)
	if err != nil {
		return nil, err
	}
	target := 0
	for _, b := range SealBuckets {
		if len(plain)+8 <= b {
			target = b
			break
		}
	}
	if target == 0 {
		return nil, fieldErr("payload", "is %d bytes, too large to seal (limit %d)", len(plain), SealBuckets[len(SealBuckets)-1]-8)
	}
	// The pad's own length prefix grows with it: settle in a few steps.
	for i := 0; i < 4 && len(plain) != target; i++ {
		body.Pad = make([]byte, max(0, len(body.Pad)+target-len(plain)))
		if plain, err = encMode.Marshal(body); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, recipients...)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if out.Len() > MaxSealedBytes {
		return nil, fieldErr("sealed", "is %d bytes, limit %d", out.Len(), MaxSealedBytes)
	}
	return out.Bytes(), nil
}

// ErrCannotOpen: this identity is not among a sealed record's recipients.
var ErrCannotOpen = errors.New("sealed for others")

// Open decrypts a sealed record's payload with identity and checks it: the
// right kind, canonical, valid on its own, and naming the same target as
// the public envelope.
func Open(s *Signed, identity age.Identity) (any, error) {
	if len(s.Sealed) == 0 {
		return nil, errors.New("record is not sealed")
	}
	r, err := age.Decrypt(bytes.NewReader(s.Sealed), identity)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, ErrCannotOpen
		}
		return nil, fmt.Errorf("open sealed record: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, MaxSealedBytes))
	if err != nil {
		return nil, fmt.Errorf("open sealed record: %w", err)
	}
	return OpenPlain(s, plain)
}

// OpenPlain checks a decrypted sealed body (or an author's kept copy of
// it) against its record and returns the payload.
func OpenPlain(s *Signed, plain []byte) (any, error) { return openPlain(s, plain, false) }

// OpenPlainOwn is OpenPlain for a body this device read back from its own
// store, which OpenPlain checked before it was stored there (the opened
// bodies a store keeps), as DecodeOwn is for the records: it decodes the
// body and checks that it is of its record's kind and names its
// record's target, but not again the canonical form (a second encoding
// of the body and of its payload) or the payload's validity (text,
// categories, sizes), which the body had when it was checked. Never for
// a body from anywhere else.
func OpenPlainOwn(s *Signed, plain []byte) (any, error) { return openPlain(s, plain, true) }

func openPlain(s *Signed, plain []byte, own bool) (any, error) {
	var body sealedBody
	if _, err := decodeChecked(plain, &body, own); err != nil {
		return nil, fmt.Errorf("sealed body: %w", err)
	}
	if body.Kind != s.Kind {
		return nil, fmt.Errorf("sealed body is %s, the record %s", Article(string(body.Kind)), Article(string(s.Kind)))
	}
	p := newPayload(s.Kind)
	if p == nil {
		return nil, fmt.Errorf("kind %s cannot be sealed", s.Kind)
	}
	if _, err := decodeChecked(body.Payload, p, own); err != nil {
		return nil, fmt.Errorf("sealed payload: %w", err)
	}
	if !own {
		if err := validatePayload(p); err != nil {
			return nil, err
		}
	}
	env, err := s.DecodePayload()
	if err != nil {
		return nil, err
	}
	var target []byte
	switch v := p.(type) {
	case *AmendPayload:
		target = v.Target
	case *RetractPayload:
		target = v.Target
	case *ReviewPayload:
		target = v.Target
	case *CapturePayload:
		target = v.Target
	case *NoticePayload:
		if err := ValidateNotice(v, s.Created); err != nil {
			return nil, err
		}
		target = v.Ack
	}
	if !bytes.Equal(target, env.(*SealedEnvelope).Target) {
		return nil, errors.New("sealed payload names another target than its envelope")
	}
	return p, nil
}

// SealedPlain returns the body Seal would encrypt, unpadded, for an author
// to keep a readable copy of its own sealed record.
func SealedPlain(kind Kind, payload any) ([]byte, error) {
	inner, err := encMode.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return encMode.Marshal(sealedBody{Kind: kind, Payload: inner, Pad: []byte{}})
}
