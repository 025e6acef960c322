package sms

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"

	"github.com/vigil-mesh/vigil/incident"
)

// alphabet is standard base64's with '-' for '+' and '.' for '/': every
// character is in the GSM 03.38 basic set and survives form encoding,
// URLs and operators' gateways (package doc).
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-."

// textEncoding is strict so that each record has exactly one text: the
// unused low bits of the last character must be zero.
var textEncoding = base64.NewEncoding(alphabet).WithPadding(base64.NoPadding).Strict()

// laxEncoding reads a text whose last character has stray low bits, only
// to tell a text cut short from a mangled one (Decode).
var laxEncoding = base64.NewEncoding(alphabet).WithPadding(base64.NoPadding)

// kindCodes are the 4-bit kind codes of the header byte. Codes 0 and 8-15
// are unassigned: a later build may give them to new kinds.
var kindCodes = [16]incident.Kind{
	1: incident.KindReport,
	2: incident.KindCheckin,
	3: incident.KindAlert,
	4: incident.KindTally,
	5: incident.KindResponse,
	6: incident.KindReceipt,
	7: incident.KindNotice,
}

// kindCode returns k's code, 0 when k has none.
func kindCode(k incident.Kind) byte {
	for c, kc := range kindCodes {
		if kc != "" && kc == k {
			return byte(c)
		}
	}
	return 0
}

// emptyEnvelope is the payload of a sealed record with no target (mode 0).
var emptyEnvelope = mustMarshal(incident.SealedEnvelope{})

func mustMarshal(v any) []byte {
	b, err := incident.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Encode returns the SMS text of a signed record. It refuses kinds without
// an SMS code, records sealed for the mesh (age), envelopes holding more
// than a target, and records whose text would take more than MaxSegments
// segments.
func Encode(s *incident.Signed) (string, error) {
	packed, err := pack(s)
	if err != nil {
		return "", err
	}
	n := textLen(len(packed))
	if segs := segmentsOf(n); segs > MaxSegments {
		return "", fmt.Errorf("%w: %d bytes, %d SMS segments; SMS carries at most %d", ErrTooLong, len(packed), segs, MaxSegments)
	}
	return textEncoding.EncodeToString(packed), nil
}

// pack writes the binary layout of the package doc, then checks that
// unpacking it rebuilds exactly s.Raw: the text is lossless or Encode fails.
func pack(s *incident.Signed) ([]byte, error) {
	code := kindCode(s.Kind)
	if code == 0 {
		return nil, fmt.Errorf("%w: kind %s has no SMS code (SMS carries report, checkin, alert, tally, response, receipt and notice)", ErrNotForSMS, s.Kind)
	}
	if s.Created < 0 {
		return nil, fmt.Errorf("%w: created %d is before 1970", ErrNotForSMS, s.Created)
	}
	if len(s.Mission) != len(incident.ID{}) || len(s.Author) != len(incident.Author{}) || len(s.Sig) != sigLen {
		return nil, fmt.Errorf("%w: record %s is not a whole signed record (mission, author or signature missing)", ErrNotForSMS, s.ID)
	}
	mode, target, err := modeOf(s)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 64+len(s.Payload)+len(s.Sealed)+sigLen)
	b = append(b, mode<<4|code) // format version 1: bits 7-6 are 0
	b = binary.AppendUvarint(b, s.Version)
	b = append(b, s.Mission[:missionPrefix]...)
	b = append(b, s.Author[:authorPrefix]...)
	b = binary.AppendUvarint(b, uint64(s.Created))
	switch mode {
	case modeSealedTarget:
		b = append(b, target...)
		b = append(b, s.Sealed...)
	case modeSealed:
		b = append(b, s.Sealed...)
	case modePlain:
		b = binary.AppendUvarint(b, uint64(len(s.Payload)))
		b = append(b, s.Payload...)
	}
	b = append(b, s.Sig...)
	if err := checkLossless(s, b); err != nil {
		return nil, err
	}
	return b, nil
}

// modeOf picks the header mode of s and, for mode 1, the envelope's target.
func modeOf(s *incident.Signed) (mode byte, target []byte, err error) {
	if len(s.Sealed) == 0 {
		return modePlain, nil, nil
	}
	if bytes.HasPrefix(s.Sealed, []byte(ageSealMark)) {
		return 0, nil, fmt.Errorf("%w: sealed for the mesh (%d bytes); records for SMS are created with the compact seal", ErrNotForSMS, len(s.Sealed))
	}
	if s.Sealed[0] != compactSealMark {
		return 0, nil, fmt.Errorf("%w: sealed part starts with byte 0x%02x, not the compact seal's 0x01", ErrNotForSMS, s.Sealed[0])
	}
	if bytes.Equal(s.Payload, emptyEnvelope) {
		return modeSealed, nil, nil
	}
	var env incident.SealedEnvelope
	if err := incident.UnmarshalCanonical(s.Payload, &env); err != nil || len(env.Target) != targetLen {
		return 0, nil, fmt.Errorf("%w: a sealed record's envelope must hold nothing or a %d-byte target", ErrNotForSMS, targetLen)
	}
	return modeSealedTarget, env.Target, nil
}

// checkLossless unpacks packed as Decode would and checks that it rebuilds
// s.Raw byte for byte: a Signed whose fields were changed after decoding,
// or a future field this codec does not carry, fails here rather than
// turning into a text that rebuilds another record.
func checkLossless(s *incident.Signed, packed []byte) error {
	p, err := unpack(packed)
	if err == nil {
		var raw []byte
		raw, err = p.rebuild(incident.ID(s.Mission), incident.Author(s.Author))
		if err == nil && !bytes.Equal(raw, s.Raw) {
			err = fmt.Errorf("rebuilds %d bytes that differ from the signed %d", len(raw), len(s.Raw))
		}
	}
	if err != nil {
		return fmt.Errorf("%w: record %s does not survive packing: %v", ErrNotForSMS, s.ID, err)
	}
	return nil
}
