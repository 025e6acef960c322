// Package sms is the lossless text codec between one signed Vigil record
// and the text of one SMS (docs/record-format.md, "Records by SMS"). An SMS carries a
// whole signed record, packed: the receiver rebuilds the exact signed CBOR
// bytes, so the record's ID and signature are the sender's, and the copy
// that later arrives by the mesh is the same record.
//
// # Packing (format version 1)
//
// The record is packed into bytes, then written in the text alphabet below.
// Packing drops what the receiver already knows or can find: the kind name
// becomes a 4-bit code, the mission ID its first 2 bytes (the receiver
// holds the whole), the author key its first 4 bytes (the receiver looks
// the key up among the mission's members), and a sealed record's public
// envelope, which for SMS is always incident.SealedEnvelope with at most a
// target, becomes a mode.
//
//	byte 0     bits 7-6: format version - 1 (0 for version 1)
//	           bits 5-4: mode
//	             0: sealed, envelope SealedEnvelope{} (no target)
//	             1: sealed, envelope SealedEnvelope{Target}: the 32-byte target follows
//	             2: not sealed: uvarint length and the payload's CBOR bytes follow
//	           bits 3-0: kind code: 1 report, 2 checkin, 3 alert, 4 tally,
//	                     5 response, 6 receipt, 7 notice
//	uvarint    Record.Version (the schema version)
//	2 bytes    the first 2 bytes of Record.Mission
//	4 bytes    the first 4 bytes of Record.Author
//	uvarint    Record.Created (Unix milliseconds, not negative)
//	mode 1:    32 bytes, the envelope's target
//	mode 2:    uvarint length, then that many bytes: Record.Payload
//	mode 0, 1: Record.Sealed, running to 64 bytes before the end: a compact
//	           seal (first byte 0x01), never an age ciphertext
//	64 bytes   Record.Sig
//
// Uvarints are those of encoding/binary, in their shortest form. Each
// record has exactly one text: Decode refuses longer uvarints and stray
// low bits in the last character, and Encode fails rather than write a
// text that would not rebuild the record's bytes exactly.
//
// # Text
//
// The packed bytes are written in base64 without padding, over an alphabet
// of characters that are in the GSM 03.38 basic set (7 bits each, no
// escape) and that operators, phones and HTTP gateways leave alone:
// A-Z a-z 0-9 '-' '.', in that order (standard base64 with '-' for '+',
// which form encoding turns into a space, and '.' for '/'). A version 1
// text therefore starts with A, B, E, F, I or J. Decoding ignores
// whitespace anywhere, since phones break long texts into lines, and
// refuses every other character.
//
// # Decoding
//
// Decode rebuilds the record with the receiver's whole mission ID and each
// member whose key starts with the 4-byte prefix, encodes it canonically
// and checks it with incident.Decode, signature included: the first
// candidate whose signature verifies is the author. Two members sharing a
// prefix cost one more verification, never a wrong answer; at most
// MaxCandidates are tried. Nothing is trusted before the signature
// verifies.
//
// Failures are told apart for the caller to count and word them:
// ErrNotVigil (a person's text, not a record), ErrTruncated, ErrVersion,
// ErrOtherMission, ErrUnknownAuthor (keep the text and decode it again
// when member records arrive) and ErrForged. A text of the alphabet but
// shorter than the smallest possible record (MinChars) is taken for a
// person's ("Yes", "Thanks"), whatever its first character says. The
// format version is in the first character, and three in four characters
// there mean a later format: a text whose start was damaged, or whose
// parts were pasted out of order, reads as ErrVersion, and its error says
// so.
package sms

import (
	"errors"
	"unicode/utf8"
)

const (
	// MaxSegments is the most SMS segments one record's text may take:
	// each segment is paid for, and the more parts a message has, the
	// likelier one is lost on the way.
	MaxSegments = 4

	// MaxChars is the longest text Encode writes: MaxSegments segments of
	// a concatenated GSM-7 message.
	MaxChars = MaxSegments * multiSegmentChars

	// MinChars is the shortest text of a version 1 record: header, schema
	// version, mission and author prefixes, a one-byte time, one byte of
	// payload or seal and the signature. Shorter texts are a person's.
	MinChars = (minPacked*4 + 2) / 3

	// MaxCandidates bounds the signature checks of one Decode: members
	// sharing a 4-byte key prefix beyond this many are not tried. Four
	// bytes collide by chance about once in four billion pairs; many
	// members on one prefix means keys ground to jam a victim's texts.
	MaxCandidates = 16

	// maxInput bounds the text Decode looks at, whitespace included,
	// before any other work.
	maxInput = 2 * MaxChars

	singleSegmentChars = 160 // GSM-7 characters in a lone SMS
	multiSegmentChars  = 153 // GSM-7 characters per part of a concatenated SMS (7 go to the header)

	sigLen          = 64 // Ed25519 signature
	missionPrefix   = 2
	authorPrefix    = 4
	targetLen       = 32
	compactSealMark = 0x01
	ageSealMark     = "age-encryption.org/v1"

	// minPacked: header, version, prefixes, created, one payload or seal
	// byte (mode 2 also needs its length byte, so this is the least), sig.
	minPacked = 1 + 1 + missionPrefix + authorPrefix + 1 + 1 + sigLen
)

// Modes of the header byte.
const (
	modeSealed       = 0
	modeSealedTarget = 1
	modePlain        = 2
)

// Errors of Decode, for errors.Is. Each comes wrapped with a line that says
// what was found.
var (
	// ErrNotVigil: not a Vigil text at all (characters outside the
	// alphabet, too short or too long): a person's message.
	ErrNotVigil = errors.New("not a Vigil record")
	// ErrTruncated: a Vigil text too short for its own parts: a segment or
	// characters were lost.
	ErrTruncated = errors.New("record cut short")
	// ErrVersion: a format version, mode or kind code this build does not
	// know, or a record schema version newer than it reads: the sender
	// runs a newer Vigil.
	ErrVersion = errors.New("record from a newer Vigil")
	// ErrOtherMission: a record of another mission.
	ErrOtherMission = errors.New("record of another mission")
	// ErrUnknownAuthor: no member's key has the text's author prefix. The
	// member record may not have arrived yet: keep the text and decode it
	// again when it does.
	ErrUnknownAuthor = errors.New("record by an unknown author")
	// ErrForged: the parts are whole but no candidate's signature
	// verifies: the text was mangled, reordered or forged.
	ErrForged = errors.New("record does not verify")
)

// Errors of Encode, for errors.Is.
var (
	// ErrNotForSMS: the record cannot travel by SMS at all (its kind has
	// no code, it is sealed for the mesh, its envelope holds more than a
	// target).
	ErrNotForSMS = errors.New("record cannot go by SMS")
	// ErrTooLong: the record's text would take more than MaxSegments
	// segments.
	ErrTooLong = errors.New("record too long for SMS")
)

// Segments returns how many SMS segments text takes in the GSM 7-bit
// alphabet: one up to 160 characters, else 153 to a segment; 0 for no
// text. It counts characters, assuming each is in the GSM basic set, as
// every character of an encoded record is.
func Segments(text string) int {
	return segmentsOf(utf8.RuneCountInString(text))
}

func segmentsOf(chars int) int {
	switch {
	case chars == 0:
		return 0
	case chars <= singleSegmentChars:
		return 1
	default:
		return (chars + multiSegmentChars - 1) / multiSegmentChars
	}
}

// SealedSegments returns how many segments a compact-sealed record whose
// Record.Sealed is sealedLen bytes will take, with a target in its
// envelope or not: for the act layer to choose the compact seal, before
// signing, only where this is at most MaxSegments. sealedLen is the whole
// of Record.Sealed, the 0x01 mark included. It assumes what every record
// signed now has: a schema version under 128 (one uvarint byte) and a
// creation time between 1971 and 2109 in Unix milliseconds (six bytes).
func SealedSegments(sealedLen int, hasTarget bool) int {
	n := 1 + 1 + missionPrefix + authorPrefix + 6 + sealedLen + sigLen
	if hasTarget {
		n += targetLen
	}
	return segmentsOf(textLen(n))
}

// textLen is the length of the unpadded base64 text of n bytes.
func textLen(n int) int { return (n*4 + 2) / 3 }
