package incident

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/chacha20"
)

// The compact seal: a sealed record small enough for a text message.
//
// An age file carries a header line, one recipient stanza per coordinator
// (about 90 bytes each), a header MAC and a nonce: a report sealed with age
// is 400 bytes before its payload, three SMS segments of overhead alone.
// Records meant for SMS (docs/record-format.md, "The compact seal") are
// sealed instead to one X25519 key, the mission's SMS inbox key, which
// every coordinator holds (an inbox record hands it to them, sealed with
// age). No library offers a seal this small with a key-committing cipher,
// so it is built here from standard primitives:
//
//	Sealed = 0x01 || E (32: ephemeral X25519 public key) || C || T (16)
//	K      = HKDF-SHA-256(ikm = X25519(e, I) || E || I, salt = "vigil/compact/v1", info = "key"), 32 bytes
//	C      = ChaCha20(key = HKDF-Expand(K, "enc"), nonce = 0) XOR plaintext
//	T      = HMAC-SHA-256(key = HKDF-Expand(K, "mac"), 0x01 || E || C || author || created (8, big-endian) || kind), first 16 bytes
//	plaintext = the compact body (CBOR) || zero bytes up to a CompactBuckets size
//
// Each seal has its own ephemeral key, so K is used once and a zero nonce
// is safe. Encrypt-then-HMAC commits to K, unlike ChaCha20-Poly1305: an
// evidence package may disclose K (CompactKeyOf) so that a third party
// opens the one record it names, and no second key passes the tag on the
// same ciphertext. The plaintext drops what the envelope already says
// (the kind) and codes closed vocabularies (category, check-in status,
// channel, harm) as numbers; opening turns it back into the payload and
// checks it as every sealed body is checked (OpenPlain).

// compactV1 is the first byte of a compact seal. An age file starts with
// "age-encryption.org/v1", so the two never share a first byte.
const compactV1 = 0x01

// CompactOverhead is the compact seal's size beyond its padded plaintext.
const CompactOverhead = 1 + 32 + 16

// CompactKeySize is the size of the key an evidence package discloses for
// a compact seal (K above).
const CompactKeySize = 32

// CompactBuckets are the plaintext sizes a compact seal pads to: fine
// steps, since every byte counts in a text message, so a length says
// little more than "short" or "long".
var CompactBuckets = []int{32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 288, 320, 384, 448, 512}

// CompactKinds are the kinds that may carry a compact seal: what an
// observer sends by SMS.
var CompactKinds = []Kind{KindReport, KindCheckin, KindAlert, KindTally, KindResponse}

// IsCompactSeal reports whether sealed is a compact seal (not age).
func IsCompactSeal(sealed []byte) bool { return len(sealed) > 0 && sealed[0] == compactV1 }

// NewInboxKey makes a mission's SMS inbox key.
func NewInboxKey() (*ecdh.PrivateKey, error) { return ecdh.X25519().GenerateKey(rand.Reader) }

// InboxKeyFromBytes reads an inbox key as an inbox record carries it.
func InboxKeyFromBytes(b []byte) (*ecdh.PrivateKey, error) {
	k, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("inbox key: %w", err)
	}
	return k, nil
}

// inboxText encodes an inbox public key as the sms_inbox setting holds it.
var inboxText = base64.RawURLEncoding

// FormatInbox is the sms_inbox setting's text for public key pub.
func FormatInbox(pub *ecdh.PublicKey) string { return inboxText.EncodeToString(pub.Bytes()) }

// ParseInbox reads an sms_inbox setting.
func ParseInbox(s string) (*ecdh.PublicKey, error) {
	b, err := inboxText.DecodeString(s)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("%q is not an SMS inbox key (43 characters of base64url)", s)
	}
	k, err := ecdh.X25519().NewPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%q is not an SMS inbox key: %v", s, err)
	}
	return k, nil
}

// compactReport is a report's compact body: ReportPayload with the
// category, channel and harm as dictionary codes and the time it occurred
// as milliseconds before the record was created.
type compactReport struct {
	Category     uint64 `cbor:"1,keyasint,omitempty"` // 1 + index in compactCategories
	Severity     uint64 `cbor:"2,keyasint"`
	Before       int64  `cbor:"3,keyasint,omitempty"` // Created - Occurred
	Station      string `cbor:"4,keyasint,omitempty"`
	Area         string `cbor:"5,keyasint,omitempty"`
	Lat          *int64 `cbor:"6,keyasint,omitempty"`
	Lon          *int64 `cbor:"7,keyasint,omitempty"`
	Precision    uint64 `cbor:"8,keyasint,omitempty"`
	Title        string `cbor:"9,keyasint"`
	Description  string `cbor:"10,keyasint,omitempty"`
	Channel      uint64 `cbor:"12,keyasint,omitempty"` // 1 + index in Channels
	Harm         uint64 `cbor:"13,keyasint,omitempty"` // 1 + index in HarmLevels
	Reach        uint64 `cbor:"14,keyasint,omitempty"`
	Source       string `cbor:"15,keyasint,omitempty"`
	CategoryText string `cbor:"16,keyasint,omitempty"` // a category the mission added (config)
}

// compactCheckin is a check-in's compact body.
type compactCheckin struct {
	Status  uint64 `cbor:"1,keyasint"` // 1 + index in CheckinStatuses
	Station string `cbor:"2,keyasint,omitempty"`
}

// compactCategories is the category dictionary of compact seal v1: the
// base taxonomy's codes as they were when the format was made. It never
// changes order; a later code goes at the end (a test pins it).
var compactCategories = []string{
	"polling.late_opening", "polling.closure", "polling.materials_missing", "polling.intimidation",
	"polling.violence", "polling.vote_buying", "polling.observer_denied", "polling.secrecy_breach",
	"polling.tally_discrepancy", "registration.voter_deleted", "registration.name_missing",
	"registration.wrong_station", "registration.duplicate_entries", "infrastructure.internet_shutdown",
	"infrastructure.sms_blocked", "infrastructure.power_outage", "infrastructure.voting_machine_failure",
	"infrastructure.cyber_attack", "disinformation.fabricated_content", "disinformation.manipulated_media",
	"disinformation.impersonation", "disinformation.false_voting_info", "disinformation.voter_suppression",
	"disinformation.hate_speech", "disinformation.rigging_allegation", "disinformation.coordinated_inauthentic",
	"other",
}

// code is 1 + the index of s in dict, or 0 when s is not there.
func code(dict []string, s string) uint64 { return uint64(slices.Index(dict, s) + 1) }

// word is the dictionary entry code stands for ("" for 0).
func word(dict []string, field string, c uint64) (string, error) {
	if c == 0 {
		return "", nil
	}
	if c > uint64(len(dict)) {
		return "", fieldErr(field, "code %d is not in the compact dictionary", c)
	}
	return dict[c-1], nil
}

// ErrNotCompact: a payload a compact seal cannot carry.
var ErrNotCompact = errors.New("cannot be sent by SMS")

// compactBody turns a payload into its compact body.
func compactBody(kind Kind, payload any, created int64) (any, error) {
	switch p := payload.(type) {
	case ReportPayload:
		return compactBody(kind, &p, created)
	case *ReportPayload:
		if kind != KindReport {
			break
		}
		if len(p.Attachments) > 0 || len(p.Files) > 0 {
			return nil, fmt.Errorf("a report with files %w: SMS carries text only", ErrNotCompact)
		}
		c := compactReport{Category: code(compactCategories, p.Category), Severity: p.Severity,
			Before: created - p.Occurred, Station: p.Station, Area: p.Area, Lat: p.Lat, Lon: p.Lon,
			Precision: p.Precision, Title: p.Title, Description: p.Description,
			Channel: code(Channels, p.Channel), Harm: code(HarmLevels, p.Harm), Reach: p.Reach, Source: p.Source}
		if c.Category == 0 {
			c.CategoryText = p.Category
		}
		if (p.Channel != "" && c.Channel == 0) || (p.Harm != "" && c.Harm == 0) {
			return nil, fieldErr("channel", "%q or harm %q is not in the vocabulary", p.Channel, p.Harm)
		}
		return &c, nil
	case CheckinPayload:
		return compactBody(kind, &p, created)
	case *CheckinPayload:
		if kind != KindCheckin {
			break
		}
		c := compactCheckin{Status: code(CheckinStatuses, p.Status), Station: p.Station}
		if c.Status == 0 {
			return nil, fieldErr("status", "%q is not a check-in status", p.Status)
		}
		return &c, nil
	case AlertPayload:
		return compactBody(kind, &p, created)
	case *AlertPayload:
		if kind == KindAlert {
			return p, nil
		}
	case TallyPayload:
		return compactBody(kind, &p, created)
	case *TallyPayload:
		if kind != KindTally {
			break
		}
		if len(p.Photos) > 0 || len(p.Files) > 0 {
			return nil, fmt.Errorf("a tally with photos %w: SMS carries text only", ErrNotCompact)
		}
		return p, nil
	case ResponsePayload:
		return compactBody(kind, &p, created)
	case *ResponsePayload:
		if kind == KindResponse {
			return p, nil
		}
	}
	if !slices.Contains(CompactKinds, kind) {
		return nil, fmt.Errorf("%s %w", Article(string(kind)), ErrNotCompact)
	}
	return nil, fmt.Errorf("%T is not the payload of %s", payload, Article(string(kind)))
}

// payloadOf reads a padded compact body back into the kind's payload:
// one CBOR item, canonical, then zero bytes.
func payloadOf(kind Kind, padded []byte, created int64) (any, error) {
	var v any
	switch kind {
	case KindReport:
		v = new(compactReport)
	case KindCheckin:
		v = new(compactCheckin)
	case KindAlert:
		v = new(AlertPayload)
	case KindTally:
		v = new(TallyPayload)
	case KindResponse:
		v = new(ResponsePayload)
	default:
		return nil, fieldErr("sealed", "%s cannot carry a compact seal", Article(string(kind)))
	}
	rest, err := decMode.UnmarshalFirst(padded, v)
	if err != nil {
		return nil, fmt.Errorf("compact body: %w: %v", ErrBadEncoding, err)
	}
	if len(bytes.Trim(rest, "\x00")) != 0 {
		return nil, fieldErr("sealed", "a compact body is followed by something other than padding")
	}
	if err := reencodes(v, padded[:len(padded)-len(rest)]); err != nil {
		return nil, fmt.Errorf("compact body: %w", err)
	}
	switch c := v.(type) {
	case *compactReport:
		cat, err := word(compactCategories, "category", c.Category)
		if err != nil {
			return nil, err
		}
		// A category as text is read even when the dictionary knows it:
		// a later format may add codes, and an older phone writes them
		// as text.
		if (cat == "") == (c.CategoryText == "") {
			return nil, fieldErr("category", "a compact report names its category once")
		}
		channel, err := word(Channels, "channel", c.Channel)
		if err != nil {
			return nil, err
		}
		harm, err := word(HarmLevels, "harm", c.Harm)
		if err != nil {
			return nil, err
		}
		return &ReportPayload{Category: cat + c.CategoryText, Severity: c.Severity, Occurred: created - c.Before,
			Station: c.Station, Area: c.Area, Lat: c.Lat, Lon: c.Lon, Precision: c.Precision, Title: c.Title,
			Description: c.Description, Channel: channel, Harm: harm, Reach: c.Reach, Source: c.Source}, nil
	case *compactCheckin:
		status, err := word(CheckinStatuses, "status", c.Status)
		if err != nil || status == "" {
			return nil, fieldErr("status", "check-in status code %d is not known", c.Status)
		}
		return &CheckinPayload{Status: status, Station: c.Station}, nil
	case *TallyPayload:
		if len(c.Photos) > 0 || len(c.Files) > 0 {
			return nil, fieldErr("photos", "a compact tally carries no photos")
		}
	}
	return v, nil
}

// SealCompact seals payload of kind, in a record to be created at
// created (Unix ms), to a mission's SMS inbox key. It refuses what SMS
// cannot carry (files, kinds other than CompactKinds) with ErrNotCompact,
// and a body larger than the largest bucket with its size.
func SealCompact(kind Kind, payload any, author Author, created int64, inbox *ecdh.PublicKey) ([]byte, error) {
	plain, bucket, err := compactPlain(kind, payload, created)
	if err != nil {
		return nil, err
	}
	padded := make([]byte, bucket)
	copy(padded, plain)
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	shared, err := eph.ECDH(inbox)
	if err != nil {
		return nil, fmt.Errorf("SMS inbox key: %w", err)
	}
	k, err := compactKey(shared, eph.PublicKey().Bytes(), inbox.Bytes())
	if err != nil {
		return nil, err
	}
	out := append([]byte{compactV1}, eph.PublicKey().Bytes()...)
	ct, err := compactCipher(k, padded)
	if err != nil {
		return nil, err
	}
	out = append(out, ct...)
	tag, err := compactTag(k, out, author, kind, created)
	if err != nil {
		return nil, err
	}
	return append(out, tag...), nil
}

// compactPlain is payload's compact body, encoded, and the bucket it pads
// to.
func compactPlain(kind Kind, payload any, created int64) ([]byte, int, error) {
	body, err := compactBody(kind, payload, created)
	if err != nil {
		return nil, 0, err
	}
	plain, err := encMode.Marshal(body)
	if err != nil {
		return nil, 0, err
	}
	i := slices.IndexFunc(CompactBuckets, func(b int) bool { return b >= len(plain) })
	if i < 0 {
		return nil, 0, fmt.Errorf("%s of %d bytes %w (the compact seal holds at most %d)",
			Article(string(kind)), len(plain), ErrNotCompact, CompactBuckets[len(CompactBuckets)-1])
	}
	// The compact body must give back the payload exactly: a field it
	// does not carry (one added to a payload later, and not here) would
	// be lost without a word. Such a payload is sealed with age instead.
	back, err := payloadOf(kind, plain, created)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %w: %v", Article(string(kind)), ErrNotCompact, err)
	}
	want, err1 := SealedPlain(kind, payload)
	got, err2 := SealedPlain(kind, back)
	if err1 != nil || err2 != nil || !bytes.Equal(want, got) {
		return nil, 0, fmt.Errorf("%s %w: its compact form leaves something out", Article(string(kind)), ErrNotCompact)
	}
	return plain, CompactBuckets[i], nil
}

func compactKey(shared, eph, inbox []byte) ([]byte, error) {
	ikm := slices.Concat(shared, eph, inbox)
	return hkdf.Key(sha256.New, ikm, []byte("vigil/compact/v1"), "key", CompactKeySize)
}

func compactCipher(k, in []byte) ([]byte, error) {
	ek, err := hkdf.Expand(sha256.New, k, "enc", chacha20.KeySize)
	if err != nil {
		return nil, err
	}
	c, err := chacha20.NewUnauthenticatedCipher(ek, make([]byte, chacha20.NonceSize))
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(in))
	c.XORKeyStream(out, in)
	return out, nil
}

// compactTag is the tag over the seal and the record it belongs to: the
// author, the kind and the creation time are bound in, so a member who
// copies another's seal into a record of their own gets a record nobody
// opens.
func compactTag(k, seal []byte, author Author, kind Kind, created int64) ([]byte, error) {
	mk, err := hkdf.Expand(sha256.New, k, "mac", sha256.Size)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, mk)
	m.Write(seal)
	m.Write(author[:])
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(created)))
	m.Write([]byte(kind))
	return m.Sum(nil)[:16], nil
}

// checkCompactShape checks what a compact seal shows without a key: its
// version byte and a padded length from CompactBuckets.
func checkCompactShape(sealed []byte) error {
	if !IsCompactSeal(sealed) {
		return fieldErr("sealed", "is not a compact seal")
	}
	if !slices.Contains(CompactBuckets, len(sealed)-CompactOverhead) {
		return fieldErr("sealed", "a compact seal of %d bytes is not padded to a bucket", len(sealed))
	}
	return nil
}

// OpenCompact opens a compactly sealed record with an SMS inbox key. It
// returns the body in the form Seal encrypts (SealedPlain: what the store
// caches and OpenPlain reads) and the payload, checked by OpenPlain. A
// key that is not the record's gives ErrCannotOpen.
func OpenCompact(s *Signed, inbox *ecdh.PrivateKey) (plain []byte, payload any, err error) {
	k, err := compactKeyFor(s, inbox)
	if err != nil {
		return nil, nil, err
	}
	return OpenCompactWithKey(s, k)
}

// CompactKeyOf returns the key K of a compactly sealed record, derived
// with the inbox key, after checking that it opens the record into a valid
// body: a key is disclosed only for what it really opens.
func CompactKeyOf(s *Signed, inbox *ecdh.PrivateKey) ([]byte, any, error) {
	k, err := compactKeyFor(s, inbox)
	if err != nil {
		return nil, nil, err
	}
	_, p, err := OpenCompactWithKey(s, k)
	if err != nil {
		return nil, nil, err
	}
	return k, p, nil
}

func compactKeyFor(s *Signed, inbox *ecdh.PrivateKey) ([]byte, error) {
	if err := checkCompactShape(s.Sealed); err != nil {
		return nil, err
	}
	eph, err := ecdh.X25519().NewPublicKey(s.Sealed[1:33])
	if err != nil {
		return nil, fieldErr("sealed", "ephemeral key: %v", err)
	}
	shared, err := inbox.ECDH(eph)
	if err != nil {
		return nil, fmt.Errorf("compact seal: %w", err)
	}
	return compactKey(shared, eph.Bytes(), inbox.PublicKey().Bytes())
}

// OpenCompactWithKey opens a compactly sealed record with its key K (from
// CompactKeyOf, or disclosed in an evidence package), as OpenCompact does.
func OpenCompactWithKey(s *Signed, k []byte) (plain []byte, payload any, err error) {
	if err := checkCompactShape(s.Sealed); err != nil {
		return nil, nil, err
	}
	if len(k) != CompactKeySize {
		return nil, nil, fmt.Errorf("a compact seal's key is %d bytes, not %d", CompactKeySize, len(k))
	}
	n := len(s.Sealed) - 16
	tag, err := compactTag(k, s.Sealed[:n], s.AuthorKey(), s.Kind, s.Created)
	if err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare(tag, s.Sealed[n:]) != 1 {
		return nil, nil, ErrCannotOpen
	}
	padded, err := compactCipher(k, s.Sealed[33:n])
	if err != nil {
		return nil, nil, err
	}
	p, err := payloadOf(s.Kind, padded, s.Created)
	if err != nil {
		return nil, nil, err
	}
	if plain, err = SealedPlain(s.Kind, p); err != nil {
		return nil, nil, err
	}
	if p, err = OpenPlain(s, plain); err != nil {
		return nil, nil, err
	}
	return plain, p, nil
}
