package sms

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-mesh/vigil/incident"
)

// Directory is what the receiver knows of its mission: its ID and its
// members' keys. incident/act implements it over the mission state.
type Directory interface {
	// Mission returns the receiving mission's ID.
	Mission() incident.ID
	// Authors returns the members whose key starts with prefix, in any
	// order; none when no member does.
	Authors(prefix []byte) []incident.Author
}

// Decode reads the SMS text of a record and returns the record's exact
// signed encoding, checked by incident.Decode (canonical form, signature)
// for the first member of dir whose key has the text's author prefix and
// whose signature verifies. Errors wrap ErrNotVigil, ErrTruncated,
// ErrVersion, ErrOtherMission, ErrUnknownAuthor or ErrForged. Its work is
// bounded: texts over twice MaxChars are refused unread, and at most
// MaxCandidates signatures are checked.
func Decode(text string, dir Directory) ([]byte, error) {
	compact, err := compactText(text)
	if err != nil {
		return nil, err
	}
	b, strictErr := textEncoding.DecodeString(compact)
	if strictErr != nil {
		// Characters and length were checked: only the unused low bits of
		// the last character can be wrong. A text cut short often ends so,
		// so the lax decoding reads the parts first, to name the fault.
		b, _ = laxEncoding.DecodeString(compact)
	}
	p, err := unpack(b)
	if err != nil {
		return nil, err
	}
	if strictErr != nil {
		return nil, fmt.Errorf("%w: the last character is mangled", ErrForged)
	}
	mission := dir.Mission()
	if !bytes.Equal(p.mission[:], mission[:missionPrefix]) {
		return nil, fmt.Errorf("%w: mission prefix %x, this mission's is %x", ErrOtherMission, p.mission, mission[:missionPrefix])
	}
	return p.verify(mission, candidates(dir, p.author[:]))
}

// candidates returns the members dir gives for prefix that really have it,
// so a careless Directory costs no extra verifications.
func candidates(dir Directory, prefix []byte) []incident.Author {
	var out []incident.Author
	for _, a := range dir.Authors(prefix) {
		if bytes.HasPrefix(a[:], prefix) {
			out = append(out, a)
		}
	}
	return out
}

// verify rebuilds the record for each candidate author in turn and
// returns the first encoding incident.Decode accepts.
func (p *packed) verify(mission incident.ID, authors []incident.Author) ([]byte, error) {
	if len(authors) == 0 {
		return nil, fmt.Errorf("%w: no member's key starts with %x (kept until their member record arrives)", ErrUnknownAuthor, p.author)
	}
	tried := min(len(authors), MaxCandidates)
	var last error
	for _, a := range authors[:tried] {
		raw, err := p.rebuild(mission, a)
		if err != nil {
			// The author plays no part in this failure: every candidate
			// would fail alike.
			return nil, fmt.Errorf("%w: does not rebuild into a record: %v", ErrForged, err)
		}
		_, err = incident.Decode(raw)
		if err == nil {
			return raw, nil
		}
		if incident.IsNewer(err) {
			return nil, fmt.Errorf("%w: %v", ErrVersion, err)
		}
		last = err
	}
	switch {
	case tried < len(authors):
		return nil, fmt.Errorf("%w: signed by none of the first %d of the %d members with key prefix %x (%v)", ErrForged, tried, len(authors), p.author, last)
	case tried > 1:
		return nil, fmt.Errorf("%w: signed by none of the %d members with key prefix %x (%v)", ErrForged, tried, p.author, last)
	}
	return nil, fmt.Errorf("%w: not signed by the member with key prefix %x (%v)", ErrForged, p.author, last)
}

// inAlphabet marks the bytes of alphabet.
var inAlphabet = func() (t [utf8.RuneSelf]bool) {
	for i := range len(alphabet) {
		t[alphabet[i]] = true
	}
	return t
}()

// compactText checks a text's characters and length and returns it
// without whitespace, which is dropped wherever it is; any other character
// outside the alphabet makes it a person's text.
func compactText(text string) (string, error) {
	if len(text) > maxInput {
		return "", fmt.Errorf("%w: %d bytes of text, a record's is at most %d characters", ErrNotVigil, len(text), MaxChars)
	}
	compact := make([]byte, 0, len(text))
	for _, r := range text {
		if unicode.IsSpace(r) {
			continue
		}
		if r >= utf8.RuneSelf || !inAlphabet[r] {
			return "", fmt.Errorf("%w: has %q, which no record's text has", ErrNotVigil, r)
		}
		compact = append(compact, byte(r))
	}
	switch n := len(compact); {
	case n == 0:
		return "", fmt.Errorf("%w: no text", ErrNotVigil)
	case n > MaxChars:
		return "", fmt.Errorf("%w: %d characters, a record's text has at most %d", ErrNotVigil, n, MaxChars)
	case n < MinChars:
		return "", fmt.Errorf("%w: %d characters, a record's text has at least %d", ErrNotVigil, n, MinChars)
	case n%4 == 1:
		return "", fmt.Errorf("%w: %d characters cannot be whole bytes: one is missing or extra", ErrTruncated, n)
	}
	return string(compact), nil
}

// packed is a record's packed form, unpacked: everything but the full
// mission ID and author key.
type packed struct {
	mode    byte
	kind    incident.Kind
	version uint64
	mission [missionPrefix]byte
	author  [authorPrefix]byte
	created int64
	target  []byte // mode 1
	payload []byte // mode 2
	sealed  []byte // modes 0 and 1
	sig     []byte
}

// orDamaged ends the errors of a header this build does not know: the
// header is the text's first two characters, so a text whose start was
// lost or whose parts were pasted out of order reads the same.
const orDamaged = " (a newer Vigil wrote it, or the text's start is damaged)"

// unpack reads the binary layout of the package doc.
func unpack(b []byte) (*packed, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: no header", ErrTruncated)
	}
	h := b[0]
	if v := h >> 6; v != 0 {
		return nil, fmt.Errorf("%w: format version %d, this build reads version 1%s", ErrVersion, v+1, orDamaged)
	}
	p := &packed{mode: h >> 4 & 3, kind: kindCodes[h&15]}
	if p.mode > modePlain {
		return nil, fmt.Errorf("%w: mode %d, this build knows modes 0 to %d%s", ErrVersion, p.mode, modePlain, orDamaged)
	}
	if p.kind == "" {
		return nil, fmt.Errorf("%w: kind code %d, this build knows codes 1 to 7%s", ErrVersion, h&15, orDamaged)
	}
	r := &reader{b: b[1:]}
	p.version = r.uvarint("schema version")
	copy(p.mission[:], r.take("mission prefix", missionPrefix))
	copy(p.author[:], r.take("author prefix", authorPrefix))
	created := r.uvarint("created time")
	if r.err == nil && created > math.MaxInt64 {
		r.err = fmt.Errorf("%w: created time %d is out of range", ErrForged, created)
	}
	p.created = int64(created)
	switch p.mode {
	case modeSealedTarget:
		p.target = r.take("target", targetLen)
	case modePlain:
		n := r.uvarint("payload length")
		switch {
		case r.err != nil:
		case n == 0:
			r.err = fmt.Errorf("%w: empty payload", ErrForged)
		case n > uint64(len(r.b)):
			r.err = fmt.Errorf("%w: payload of %d bytes, %d left", ErrTruncated, n, len(r.b))
		default:
			p.payload = r.take("payload", int(n))
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return p, p.splitTail(r.b)
}

// splitTail takes the sealed part (modes 0 and 1) and the signature from
// what follows the fixed parts.
func (p *packed) splitTail(rest []byte) error {
	if p.mode == modePlain {
		switch {
		case len(rest) < sigLen:
			return fmt.Errorf("%w: %d bytes left for the %d-byte signature", ErrTruncated, len(rest), sigLen)
		case len(rest) > sigLen:
			return fmt.Errorf("%w: %d bytes follow the signature", ErrForged, len(rest)-sigLen)
		}
		p.sig = rest
		return nil
	}
	if len(rest) <= sigLen {
		return fmt.Errorf("%w: %d bytes left for the sealed part and the %d-byte signature", ErrTruncated, len(rest), sigLen)
	}
	p.sealed, p.sig = rest[:len(rest)-sigLen], rest[len(rest)-sigLen:]
	return nil
}

// rebuild returns the canonical encoding of the record p packs, written by
// author in mission.
func (p *packed) rebuild(mission incident.ID, author incident.Author) ([]byte, error) {
	r := incident.Record{Version: p.version, Mission: mission[:], Author: author[:], Kind: p.kind,
		Created: p.created, Sealed: p.sealed, Sig: p.sig}
	switch p.mode {
	case modeSealed:
		r.Payload = emptyEnvelope
	case modeSealedTarget:
		env, err := incident.Marshal(incident.SealedEnvelope{Target: p.target})
		if err != nil {
			return nil, err
		}
		r.Payload = env
	case modePlain:
		r.Payload = p.payload
	}
	return incident.Marshal(r)
}

// reader reads the fixed parts in order; the first error sticks.
type reader struct {
	b   []byte
	err error
}

// take returns the next n bytes, naming the part for the error.
func (r *reader) take(part string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.err = fmt.Errorf("%w: ends inside the %s", ErrTruncated, part)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// uvarint reads a uvarint in its shortest form, so that each record has
// one text.
func (r *reader) uvarint(part string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	var shortest [binary.MaxVarintLen64]byte
	switch {
	case n == 0:
		r.err = fmt.Errorf("%w: ends inside the %s", ErrTruncated, part)
	case n < 0:
		r.err = fmt.Errorf("%w: the %s overflows 64 bits", ErrForged, part)
	case n != binary.PutUvarint(shortest[:], v):
		r.err = fmt.Errorf("%w: the %s is not in its shortest form", ErrForged, part)
	default:
		r.b = r.b[n:]
	}
	return v
}
