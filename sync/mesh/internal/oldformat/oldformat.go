// Package oldformat is the record decoder of the last release before
// forward compatibility (commit 34de34f), frozen for tests: a node on it
// rejects every record kind and payload field that release did not know,
// as that release did. It is a copy of that release's rules (the payload
// structs of incident/payload.go, the kinds of incident/record.go, strict
// CBOR decoding that fails on unknown fields), written independently of
// incident.Signed.ReadableAt, which predicts the same verdicts: the tests
// use it to check that prediction in a real mesh. Nothing outside tests
// may use it.
package oldformat

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// The limits that release applied when decoding.
const (
	schemaVersion  = 1
	maxRecordBytes = 64 << 10
	maxSealedBytes = 48 << 10
	maxListLen     = 4096
)

// kinds are the record kinds that release knew.
var kinds = []string{"mission", "config", "member", "revoke", "station",
	"report", "amend", "retract", "review", "checkin", "alert",
	"receipt", "checkpoint", "attachment"}

type record struct {
	Version uint64          `cbor:"1,keyasint"`
	Mission []byte          `cbor:"2,keyasint,omitempty"`
	Author  []byte          `cbor:"3,keyasint"`
	Kind    string          `cbor:"4,keyasint"`
	Created int64           `cbor:"5,keyasint"`
	Payload cbor.RawMessage `cbor:"6,keyasint"`
	Sealed  []byte          `cbor:"7,keyasint,omitempty"`
	Sig     []byte          `cbor:"8,keyasint,omitempty"`
}

// The payloads of that release, field for field.

type missionPayload struct {
	Name          string `cbor:"1,keyasint"`
	Nonce         []byte `cbor:"2,keyasint"`
	Taxonomy      uint64 `cbor:"3,keyasint"`
	SealByDefault bool   `cbor:"4,keyasint,omitempty"`
	Recipient     string `cbor:"5,keyasint,omitempty"`
	Label         string `cbor:"6,keyasint,omitempty"`
	Practice      bool   `cbor:"7,keyasint,omitempty"`
}

type category struct {
	Code   string `cbor:"1,keyasint"`
	Family string `cbor:"2,keyasint"`
	Label  string `cbor:"3,keyasint,omitempty"`
}

type configPayload struct {
	Categories       []category `cbor:"1,keyasint,omitempty"`
	PrivateFields    []string   `cbor:"2,keyasint,omitempty"`
	SealByDefault    *bool      `cbor:"3,keyasint,omitempty"`
	AttachmentBudget uint64     `cbor:"4,keyasint,omitempty"`
}

type token struct {
	Mission []byte `cbor:"1,keyasint"`
	Role    string `cbor:"2,keyasint"`
	Label   string `cbor:"3,keyasint,omitempty"`
	Expires int64  `cbor:"4,keyasint,omitempty"`
	Nonce   []byte `cbor:"5,keyasint"`
	For     []byte `cbor:"6,keyasint,omitempty"`
	Issuer  []byte `cbor:"7,keyasint"`
	Sig     []byte `cbor:"8,keyasint,omitempty"`
}

type memberPayload struct {
	Token     token  `cbor:"1,keyasint"`
	Recipient string `cbor:"2,keyasint,omitempty"`
}

type revokePayload struct {
	Member   []byte   `cbor:"1,keyasint"`
	Accepted [][]byte `cbor:"2,keyasint,omitempty"`
	Reason   string   `cbor:"3,keyasint,omitempty"`
}

type stationPayload struct {
	Code string `cbor:"1,keyasint"`
	Name string `cbor:"2,keyasint,omitempty"`
	Area string `cbor:"3,keyasint,omitempty"`
	Lat  *int64 `cbor:"4,keyasint,omitempty"`
	Lon  *int64 `cbor:"5,keyasint,omitempty"`
}

type reportPayload struct {
	Category    string   `cbor:"1,keyasint"`
	Severity    uint64   `cbor:"2,keyasint"`
	Occurred    int64    `cbor:"3,keyasint"`
	Station     string   `cbor:"4,keyasint,omitempty"`
	Area        string   `cbor:"5,keyasint,omitempty"`
	Lat         *int64   `cbor:"6,keyasint,omitempty"`
	Lon         *int64   `cbor:"7,keyasint,omitempty"`
	Precision   uint64   `cbor:"8,keyasint,omitempty"`
	Title       string   `cbor:"9,keyasint"`
	Description string   `cbor:"10,keyasint,omitempty"`
	Attachments [][]byte `cbor:"11,keyasint,omitempty"`
	Channel     string   `cbor:"12,keyasint,omitempty"`
	Harm        string   `cbor:"13,keyasint,omitempty"`
	Reach       uint64   `cbor:"14,keyasint,omitempty"`
	Source      string   `cbor:"15,keyasint,omitempty"`
}

type amendPayload struct {
	Target []byte        `cbor:"1,keyasint"`
	Report reportPayload `cbor:"2,keyasint"`
}

type retractPayload struct {
	Target []byte `cbor:"1,keyasint"`
	Reason string `cbor:"2,keyasint"`
}

type reviewPayload struct {
	Target []byte   `cbor:"1,keyasint"`
	Status string   `cbor:"2,keyasint"`
	Note   string   `cbor:"3,keyasint,omitempty"`
	Prev   [][]byte `cbor:"4,keyasint,omitempty"`
}

type checkinPayload struct {
	Status  string `cbor:"1,keyasint"`
	Station string `cbor:"2,keyasint,omitempty"`
}

type alertPayload struct {
	Note    string `cbor:"1,keyasint,omitempty"`
	Station string `cbor:"2,keyasint,omitempty"`
	Lat     *int64 `cbor:"3,keyasint,omitempty"`
	Lon     *int64 `cbor:"4,keyasint,omitempty"`
}

type receiptPayload struct {
	IDs [][]byte `cbor:"1,keyasint"`
}

type checkpointPayload struct {
	Root  []byte `cbor:"1,keyasint"`
	Count uint64 `cbor:"2,keyasint"`
}

type attachmentPayload struct {
	Hash []byte `cbor:"1,keyasint"`
	Size uint64 `cbor:"2,keyasint"`
	Mime string `cbor:"3,keyasint"`
	Name string `cbor:"4,keyasint,omitempty"`
}

type sealedEnvelope struct {
	Target []byte `cbor:"1,keyasint,omitempty"`
}

func newPayload(kind string) any {
	switch kind {
	case "mission":
		return new(missionPayload)
	case "config":
		return new(configPayload)
	case "member":
		return new(memberPayload)
	case "revoke":
		return new(revokePayload)
	case "station":
		return new(stationPayload)
	case "report":
		return new(reportPayload)
	case "amend":
		return new(amendPayload)
	case "retract":
		return new(retractPayload)
	case "review":
		return new(reviewPayload)
	case "checkin":
		return new(checkinPayload)
	case "alert":
		return new(alertPayload)
	case "receipt":
		return new(receiptPayload)
	case "checkpoint":
		return new(checkpointPayload)
	case "attachment":
		return new(attachmentPayload)
	}
	return nil
}

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	if encMode, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   12,
		MaxArrayElements:  maxListLen,
		MaxMapPairs:       64,
		UTF8:              cbor.UTF8RejectInvalid,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// unmarshalCanonical is that release's UnmarshalCanonical: strict decode,
// then the encoding must come back byte for byte.
func unmarshalCanonical(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", incident.ErrBadEncoding, err)
	}
	again, err := encMode.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %v", incident.ErrBadEncoding, err)
	}
	if !bytes.Equal(again, data) {
		return fmt.Errorf("%w: re-encoding differs", incident.ErrBadEncoding)
	}
	return nil
}

func fieldErr(field, format string, args ...any) error {
	return &incident.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Check applies that release's Decode (envelope, size, version, kind, key
// lengths, signature) and DecodePayload (the payload, strictly, into its
// kind's struct, or the sealed envelope's) to raw. It returns nil for a
// record that release could read, else the error it gave (the same text,
// but for a signature that does not verify, which names no author here):
// an *incident.FieldError, or an error wrapping incident.ErrBadEncoding
// for an envelope that is not canonical. What
// Validate checks beyond the format (membership, field values, targets)
// is the same in this build and not repeated here.
func Check(raw []byte) error {
	if len(raw) > maxRecordBytes {
		return fieldErr("record", "is %d bytes, limit %d", len(raw), maxRecordBytes)
	}
	var r record
	if err := unmarshalCanonical(raw, &r); err != nil {
		return err
	}
	if r.Version != schemaVersion {
		return fieldErr("version", "is %d, this build reads version %d", r.Version, schemaVersion)
	}
	if !slices.Contains(kinds, r.Kind) {
		return fieldErr("kind", "%q is not a record kind", r.Kind)
	}
	if len(r.Author) != ed25519.PublicKeySize {
		return fieldErr("author", "must be a 32-byte Ed25519 key, got %d bytes", len(r.Author))
	}
	if r.Kind == "mission" {
		if len(r.Mission) != 0 {
			return fieldErr("mission", "must be empty in a mission genesis")
		}
		if len(r.Sealed) != 0 {
			return fieldErr("sealed", "a mission genesis cannot be sealed")
		}
	} else if len(r.Mission) != 32 {
		return fieldErr("mission", "must be a 32-byte record ID, got %d bytes", len(r.Mission))
	}
	if len(r.Sealed) > maxSealedBytes {
		return fieldErr("sealed", "is %d bytes, limit %d", len(r.Sealed), maxSealedBytes)
	}
	if len(r.Sig) != ed25519.SignatureSize {
		return fieldErr("signature", "must be %d bytes, got %d", ed25519.SignatureSize, len(r.Sig))
	}
	sig := r.Sig
	r.Sig = nil
	body, err := encMode.Marshal(r)
	if err != nil {
		return err
	}
	if !ed25519.Verify(ed25519.PublicKey(r.Author), append([]byte("vigil/record/v1\x00"), body...), sig) {
		return fieldErr("signature", "does not verify")
	}
	var p any
	if len(r.Sealed) > 0 {
		p = new(sealedEnvelope)
	} else {
		p = newPayload(r.Kind)
	}
	if err := unmarshalCanonical(r.Payload, p); err != nil {
		return &incident.FieldError{Field: "payload", Problem: err.Error()}
	}
	return nil
}
