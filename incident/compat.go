package incident

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Forward compatibility (docs/record-format.md, "Versioning"). Phones in
// the field are not all updated at once, so a record written by a newer
// build must pass through an older one intact:
//
//   - a record of a kind this build does not know is stored, forwarded and
//     shown as "needs a newer Vigil" when it is signed by a member of the
//     mission, within the size limits and canonically encoded;
//   - a payload field this build does not know is kept (it is part of the
//     signed bytes) and the fields it knows are checked as always;
//   - a record of a newer schema version cannot be checked at all (the
//     version changes only with the envelope or the signature rule): it is
//     refused, never stored, and never held against the peer that sent it.

// FormatLevel is what this build announces in the hello: which records it
// can store. 0 is a build from before forward compatibility, which
// rejects any kind or field it does not know (and strikes the sender);
// 1 stores every record of schema version 1 except the sealed check-ins
// and alerts SMS brought (it rejects a sealed record of a kind it
// thinks cannot be sealed); 2 stores those too. A sender never gives a
// peer a record its level cannot store (Signed.ReadableAt).
const FormatLevel = 2

// NewerError says that a record is written in a schema version newer than
// this build reads. It is not a rejection: the record may be perfectly
// valid, and the peer that sent it is not at fault.
type NewerError struct{ Version uint64 }

func (e *NewerError) Error() string {
	return fmt.Sprintf("record version %d needs a newer Vigil (this build reads version %d)", e.Version, SchemaVersion)
}

// IsNewer reports whether err means the record needs a newer build.
func IsNewer(err error) bool {
	var ne *NewerError
	return errors.As(err, &ne)
}

// ErrNewerKind is returned by DecodePayload for a record of a kind this
// build does not know: there is nothing to decode it into.
var ErrNewerKind = errors.New("record kind needs a newer Vigil")

// Known reports whether this build knows kind k.
func (k Kind) Known() bool { return slices.Contains(Kinds, k) }

// MaxKindLen bounds a kind name.
const MaxKindLen = 32

// wellFormedKind reports whether k could name a kind: 1 to 32 bytes of
// lowercase ASCII letters, digits and '_', starting with a letter. Known
// kinds are such names; a name outside this form is no kind at all.
func wellFormedKind(k Kind) bool {
	if len(k) == 0 || len(k) > MaxKindLen || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for i := 1; i < len(k); i++ {
		c := k[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// lenientDec is decMode without the unknown-field error: for reading the
// version of a record that may be newer, never for validity. Set in init
// (record.go), after decMode.
var lenientDec cbor.DecMode

// peekVersion reads a record's schema version without judging the rest.
func peekVersion(raw []byte) (uint64, bool) {
	var v struct {
		Version uint64 `cbor:"1,keyasint"`
	}
	if lenientDec.Unmarshal(raw, &v) != nil {
		return 0, false
	}
	return v.Version, true
}

// canonicalAny checks that data is one CBOR item in the core deterministic
// encoding, whatever it holds: the rule every payload obeys, the fields
// this build does not know included.
func canonicalAny(data []byte) error {
	var v any
	return UnmarshalCanonical(data, &v)
}

// decodeKnown decodes a payload into v (a pointer to a payload struct),
// canonically. Fields this build does not know are allowed: the whole
// payload must still be canonical, and the fields it knows must decode
// exactly as if the others were absent. newer lists the unknown fields by
// path ("16", "report.16"). Structures signed on their own (an enrollment
// token) are closed: an unknown field there fails, since their signature
// could not cover what this build drops.
func decodeKnown(data []byte, v any) (newer []string, err error) {
	err = decMode.Unmarshal(data, v)
	if err == nil {
		return nil, reencodes(v, data)
	}
	var unknown *cbor.UnknownFieldError
	if !errors.As(err, &unknown) {
		return nil, fmt.Errorf("%w: %v", ErrBadEncoding, err)
	}
	if err := canonicalAny(data); err != nil {
		return nil, err
	}
	known, err := stripUnknown(data, reflect.TypeOf(v).Elem(), currentFields, "", &newer)
	if err != nil {
		return nil, err
	}
	// Fresh value: the failed decode may have filled some fields.
	reflect.ValueOf(v).Elem().SetZero()
	if err := UnmarshalCanonical(known, v); err != nil {
		return nil, err
	}
	return newer, nil
}

// decodeChecked is decodeKnown, except for data this device checked with
// it before storing it (own): that is decoded without encoding it again,
// the check that costs as much as the decoding. Fields a newer build
// added fail that decode, and take decodeKnown, which lists them; so
// does anything else that fails, so the errors are decodeKnown's.
func decodeChecked(data []byte, v any, own bool) (newer []string, err error) {
	if own {
		if p, ok := v.(*ReportPayload); ok {
			if p.readOwn(data) { // most of what a scan of every report decodes
				return nil, nil
			}
			*p = ReportPayload{}
		}
		if decMode.Unmarshal(data, v) == nil {
			return nil, nil
		}
		reflect.ValueOf(v).Elem().SetZero()
	}
	return decodeKnown(data, v)
}

// field is one payload field as a schema knows it.
type field struct {
	name string
	typ  reflect.Type
}

// schema returns the fields of struct type t that a format knows, by key.
type schema func(t reflect.Type) map[uint64]field

// stripUnknown returns data without the map entries that sc does not know
// for t (recursively, through known fields of struct type, pointer to
// struct or slice of struct), and appends their paths to newer.
func stripUnknown(data []byte, t reflect.Type, sc schema, path string, newer *[]string) ([]byte, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && !closedTypes[t]:
		var m map[uint64]cbor.RawMessage
		if err := decMode.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadEncoding, orPayload(path), err)
		}
		// Keys must be unsigned integers as written, not values the decoder
		// converted (a simple value 3 is not key 3).
		if again, err := encMode.Marshal(m); err != nil || !bytes.Equal(again, data) {
			return nil, fmt.Errorf("%w: %s: keys are not unsigned integers", ErrBadEncoding, orPayload(path))
		}
		fields := sc(t)
		keys := make([]uint64, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys) // newer lists paths in key order
		for _, k := range keys {
			raw := m[k]
			f, ok := fields[k]
			if !ok {
				*newer = append(*newer, join(path, strconv.FormatUint(k, 10)))
				delete(m, k)
				continue
			}
			inner, err := stripUnknown(raw, f.typ, sc, join(path, f.name), newer)
			if err != nil {
				return nil, err
			}
			m[k] = inner
		}
		return encMode.Marshal(m)
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 && isStruct(t.Elem()):
		var list []cbor.RawMessage
		if err := decMode.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadEncoding, orPayload(path), err)
		}
		for i, raw := range list {
			inner, err := stripUnknown(raw, t.Elem(), sc, path+"["+strconv.Itoa(i)+"]", newer)
			if err != nil {
				return nil, err
			}
			list[i] = inner
		}
		return encMode.Marshal(list)
	}
	return data, nil
}

func isStruct(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func orPayload(path string) string {
	if path == "" {
		return "payload"
	}
	return "payload." + path
}

// closedTypes are signed on their own: no field may be added to them
// (a new version of the structure is a new field beside it).
var closedTypes = map[reflect.Type]bool{reflect.TypeFor[Token](): true}

var fieldCache sync.Map // reflect.Type → map[uint64]field

// currentFields is the schema of this build: the cbor keys of t's fields.
func currentFields(t reflect.Type) map[uint64]field {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[uint64]field)
	}
	out := map[uint64]field{}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("cbor")
		name, _, _ := strings.Cut(tag, ",")
		k, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		out[k] = field{name: strings.ToLower(sf.Name), typ: sf.Type}
	}
	fieldCache.Store(t, out)
	return out
}

// Newer lists what this build cannot read in s: "kind NAME" for a kind it
// does not know, else the payload fields a newer build added (by path).
// It is empty for a record this build reads whole. For a sealed record it
// covers the public envelope only.
func (s *Signed) Newer() []string {
	if !s.Kind.Known() {
		return []string{"kind " + string(s.Kind)}
	}
	_, newer, err := s.decodePayload()
	if err != nil {
		return nil
	}
	return newer
}

// ReadableAt reports whether a device that announced format level can
// store s: level 2 stores every record of this schema version; level 1
// all but sealed check-ins and alerts; level 0 stores only the kinds and fields of that first format
// (formatV0), and counts anything else against the sender.
func (s *Signed) ReadableAt(level int) bool {
	if level >= 2 {
		return s.Version <= SchemaVersion
	}
	if len(s.Sealed) > 0 && (s.Kind == KindCheckin || s.Kind == KindAlert) {
		return false
	}
	if level == 1 {
		return s.Version <= SchemaVersion
	}
	if s.Version != SchemaVersion || !slices.Contains(formatV0Kinds, s.Kind) {
		return false
	}
	var t reflect.Type
	if len(s.Sealed) > 0 {
		t = reflect.TypeFor[SealedEnvelope]()
	} else {
		t = reflect.TypeOf(newPayload(s.Kind)).Elem()
	}
	var newer []string
	if clean, sure := v0Clean(s.Payload, t); sure && !clean {
		return false
	} else if !sure {
		if _, err := stripUnknown(s.Payload, t, v0Fields, "", &newer); err != nil {
			return false
		}
	}
	if len(newer) == 0 && s.Kind == KindMember && len(s.Sealed) == 0 {
		// The token is closed (not stripped above): a level-0 build reads
		// keys 1 to 8 of it and refuses the invite key.
		p, err := s.DecodePayload()
		if mp, ok := p.(*MemberPayload); err != nil || !ok || len(mp.Token.Invite) != 0 {
			return false
		}
	}
	return len(newer) == 0
}

// formatV0Kinds and formatV0Keys freeze the first record format (format
// level 0): the kinds and payload keys a build from before forward
// compatibility reads. They never change; a test checks them against the
// verdicts such a build gave (testdata/formatv0).
var formatV0Kinds = []Kind{KindMission, KindConfig, KindMember, KindRevoke, KindStation,
	KindReport, KindAmend, KindRetract, KindReview, KindCheckin, KindAlert,
	KindReceipt, KindCheckpoint, KindAttachment}

var formatV0Keys = map[reflect.Type][]uint64{
	reflect.TypeFor[MissionPayload]():    {1, 2, 3, 4, 5, 6, 7},
	reflect.TypeFor[ConfigPayload]():     {1, 2, 3, 4},
	reflect.TypeFor[Category]():          {1, 2, 3},
	reflect.TypeFor[MemberPayload]():     {1, 2},
	reflect.TypeFor[RevokePayload]():     {1, 2, 3},
	reflect.TypeFor[StationPayload]():    {1, 2, 3, 4, 5},
	reflect.TypeFor[ReportPayload]():     {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	reflect.TypeFor[AmendPayload]():      {1, 2},
	reflect.TypeFor[RetractPayload]():    {1, 2},
	reflect.TypeFor[ReviewPayload]():     {1, 2, 3, 4},
	reflect.TypeFor[CheckinPayload]():    {1, 2},
	reflect.TypeFor[AlertPayload]():      {1, 2, 3, 4},
	reflect.TypeFor[ReceiptPayload]():    {1},
	reflect.TypeFor[CheckpointPayload](): {1, 2},
	reflect.TypeFor[AttachmentPayload](): {1, 2, 3, 4},
	reflect.TypeFor[SealedEnvelope]():    {1},
}

// v0Fields is the schema of format level 0: this build's fields of t that
// the first format had.
func v0Fields(t reflect.Type) map[uint64]field {
	if f, ok := v0Cache.Load(t); ok {
		return f.(map[uint64]field)
	}
	keys := formatV0Keys[t] // a type the first format did not have: no fields
	out := map[uint64]field{}
	for k, f := range currentFields(t) {
		if slices.Contains(keys, k) {
			out[k] = f
		}
	}
	v0Cache.Store(t, out)
	return out
}

var v0Cache sync.Map // reflect.Type → map[uint64]field (v0Fields)

// v0Clean is ReadableAt's question for format level 0 (does data, of type
// t, hold any field the first format lacked?) answered by walking the
// CBOR in place: stripUnknown answers it by decoding and encoding every
// map again, a fifth of the cost of storing a report (vigil-bench
// ingest.store). sure is false when data holds anything this walk does
// not judge (a map that is not a definite one with minimal, increasing
// unsigned keys, a tag, an indefinite length, an error): stripUnknown
// then decides. When sure, clean is what stripUnknown's newer list being
// empty would say.
func v0Clean(data []byte, t reflect.Type) (clean, sure bool) {
	rest, clean, sure := v0Walk(data, t)
	return clean, sure && len(rest) == 0
}

func v0Walk(data []byte, t reflect.Type) (rest []byte, clean, sure bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && !closedTypes[t]:
		major, n, rest, ok := readHead(data)
		if !ok || major != 5 {
			return nil, false, false
		}
		fields := v0Fields(t)
		var last uint64
		for i := uint64(0); i < n; i++ {
			major, k, after, ok := readHead(rest)
			if !ok || major != 0 || (i > 0 && k <= last) {
				return nil, false, false
			}
			last = k
			f, known := fields[k]
			if !known {
				return nil, false, true
			}
			var c bool
			if rest, c, ok = v0Walk(after, f.typ); !ok {
				return nil, false, false
			} else if !c {
				return nil, false, true
			}
		}
		return rest, true, true
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 && isStruct(t.Elem()):
		major, n, rest, ok := readHead(data)
		if !ok || major != 4 {
			return nil, false, false
		}
		for i := uint64(0); i < n; i++ {
			var c bool
			if rest, c, ok = v0Walk(rest, t.Elem()); !ok {
				return nil, false, false
			} else if !c {
				return nil, false, true
			}
		}
		return rest, true, true
	}
	rest, ok := skipItem(data, 0)
	return rest, ok, ok
}

// readHead reads a data item's head: its major type and argument (a
// length for strings, arrays and maps), minimally encoded; ok is false
// for anything else (an indefinite length, a float or simple value's
// head is read by skipItem).
func readHead(b []byte) (major byte, arg uint64, rest []byte, ok bool) {
	if len(b) == 0 {
		return 0, 0, nil, false
	}
	major, info := b[0]>>5, b[0]&31
	switch {
	case info < 24:
		return major, uint64(info), b[1:], true
	case info == 24 && len(b) >= 2 && b[1] >= 24:
		return major, uint64(b[1]), b[2:], true
	case info == 25 && len(b) >= 3 && binary.BigEndian.Uint16(b[1:]) > 0xff:
		return major, uint64(binary.BigEndian.Uint16(b[1:])), b[3:], true
	case info == 26 && len(b) >= 5 && binary.BigEndian.Uint32(b[1:]) > 0xffff:
		return major, uint64(binary.BigEndian.Uint32(b[1:])), b[5:], true
	case info == 27 && len(b) >= 9 && binary.BigEndian.Uint64(b[1:]) > 0xffffffff:
		return major, binary.BigEndian.Uint64(b[1:]), b[9:], true
	}
	return 0, 0, nil, false
}

// skipItem skips one definite-length data item without tags or floats
// (ok false: one it does not skip).
func skipItem(b []byte, depth int) (rest []byte, ok bool) {
	if depth > 16 {
		return nil, false
	}
	if len(b) > 0 && (b[0] == 0xf4 || b[0] == 0xf5 || b[0] == 0xf6) { // false, true, null
		return b[1:], true
	}
	major, n, rest, ok := readHead(b)
	if !ok {
		return nil, false
	}
	switch major {
	case 0, 1:
		return rest, true
	case 2, 3:
		if uint64(len(rest)) < n {
			return nil, false
		}
		return rest[n:], true
	case 4, 5:
		items := n
		if major == 5 {
			items *= 2
		}
		for range items {
			if rest, ok = skipItem(rest, depth+1); !ok {
				return nil, false
			}
		}
		return rest, true
	}
	return nil, false
}
