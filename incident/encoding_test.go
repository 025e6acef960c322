package incident

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// kindCase is one valid record of a kind and the payload it was signed with.
type kindCase struct {
	kind    Kind
	payload any // the value passed to Sign (not a pointer)
	rec     *Signed
}

// everyKind builds, in f, one valid record of every kind in Kinds (each is
// accepted into f as it is made, so later ones may depend on earlier ones).
func everyKind(f *fixture) []kindCase {
	f.tb.Helper()
	obs, member := f.enrollRecord(f.founder, "observer-1", RoleObserver)
	carrier := f.enroll(f.founder, "carrier-1", RoleCarrier)
	var mp MemberPayload
	mustDecodePayload(f.tb, member, &mp)
	cases := []kindCase{
		{KindMission, f.ms.Mission, f.genesis},
		{KindMember, mp, member},
	}
	add := func(s *Signer, k Kind, p any) *Signed {
		rec := f.accept(f.sign(s, k, p))
		cases = append(cases, kindCase{k, p, rec})
		return rec
	}
	yes := true
	add(f.founder, KindConfig, ConfigPayload{
		Categories:       []Category{{Code: "polling.drone_surveillance", Family: "polling", Label: "Drone surveillance"}},
		PrivateFields:    []string{"lat", "lon"},
		SealByDefault:    &yes,
		AttachmentBudget: 1 << 30,
	})
	add(f.founder, KindRevoke, RevokePayload{Member: carrier.pub[:], Reason: "phone lost"})
	add(f.founder, KindStation, StationPayload{Code: "KE-047-112", Name: "Olympic Primary School", Area: "Kibra",
		Lat: Micro(-1.3133), Lon: Micro(36.7876)})
	rp := goodReport()
	rp.Attachments = [][]byte{bytes.Repeat([]byte{0xab}, 32)}
	rep := add(obs, KindReport, rp)
	ap := goodReport()
	ap.Severity = 3
	ap.Title = "Station opened 3h late"
	add(obs, KindAmend, AmendPayload{Target: rep.ID.Bytes(), Report: ap})
	add(obs, KindRetract, RetractPayload{Target: rep.ID.Bytes(), Reason: "wrong station"})
	add(f.founder, KindReview, ReviewPayload{Target: rep.ID.Bytes(), Status: "verified", Note: "called the station"})
	add(obs, KindCheckin, CheckinPayload{Status: "arrived", Station: "KE-047-112"})
	alert := add(obs, KindAlert, AlertPayload{Note: "crowd at the gate", Station: "KE-047-112", Lat: Micro(-1.3), Lon: Micro(36.8)})
	add(f.founder, KindReceipt, ReceiptPayload{IDs: [][]byte{rep.ID.Bytes(), member.ID.Bytes()}})
	add(f.founder, KindCheckpoint, CheckpointPayload{Root: bytes.Repeat([]byte{7}, 32), Count: 12})
	add(obs, KindAttachment, AttachmentPayload{Hash: bytes.Repeat([]byte{0xab}, 32), Size: 123456, Mime: "image/jpeg", Name: "queue.jpg"})
	// The trust kinds come last and at the clock's current time, without
	// advancing it: every other record made in f (the committed seed
	// corpora among them) reads as it did before these kinds existed.
	addNow := func(s *Signer, k Kind, p any) {
		rec := f.accept(f.signAt(s, k, f.clock, p))
		cases = append(cases, kindCase{k, p, rec})
	}
	addNow(f.founder, KindConfirm, ConfirmPayload{Members: [][]byte{member.ID.Bytes()}})
	commit := EpochCommit(f.ms.ID, bytes.Repeat([]byte{0xe1}, 32))
	addNow(f.founder, KindEpoch, EpochPayload{Number: 1, Commit: commit[:]})
	addNow(f.founder, KindNotice, NoticePayload{Text: "Seen: help is on its way", Severity: 3, Station: "KE-047-112",
		Ack: alert.ID.Bytes(), Expires: f.clock.Add(time.Hour).UnixMilli()})
	snap := bytes.Repeat([]byte{0x5a}, 32)
	st := f.accept(f.signAt(f.founder, KindStation, f.clock, StationPayload{Code: "KE-047-113", Name: "Kibra Hall",
		Area: "Kibra", Admin: []string{"Nairobi", "Kibra", "Lindi"}, Registered: 812, Tags: []string{TagPVT, TagStratum + "urban"},
		Snapshot: snap}))
	addNow(f.founder, KindRegistry, RegistryPayload{Snapshot: snap, Count: 1, Root: RegistryRoot([]ID{st.ID})})
	addNow(f.founder, KindAssignment, AssignmentPayload{Member: obs.pub[:], Station: "KE-047-113", Note: "opening to count"})
	addNow(obs, KindTally, TallyPayload{Station: "KE-047-113", Contest: "presidential", Registered: 812, Issued: 530, Cast: 527,
		Invalid: 9, Blank: 3, Votes: []VoteCount{{"Amani", 301}, {"Baraka", 214}}, Photos: [][]byte{bytes.Repeat([]byte{0x7a}, 32)}})
	zero, nine := int64(0), int64(9)
	formP := FormPayload{Name: "opening", Version: "2026-12-01", Title: "Opening",
		Phase: PhaseOpening, Required: true, Questions: []Question{
			{ID: "materials", Code: "M", Type: QuestionSelectOne, Label: "All materials present?", Required: true,
				Choices: []Choice{{"yes", "Yes"}, {"no", "No"}, {AnswerNA, "N/A"}},
				Flag:    &Condition{Terms: []Term{{Op: "=", Value: "no"}}}},
			{ID: "missing", Code: "MM", Type: QuestionSelectMultiple, Label: "What is missing?",
				Choices:  []Choice{{"ink", "Ink"}, {"seals", "Seals"}},
				Relevant: &Condition{Terms: []Term{{Question: "materials", Op: "=", Value: "no"}}}},
			{ID: "staff", Code: "S", Type: QuestionInteger, Label: "Staff present", Min: &zero, Max: &nine, NA: true},
			{ID: "remarks", Code: "R", Type: QuestionText, Label: "Remarks", Hint: "Anything else"},
			{ID: "thanks", Code: "T", Type: QuestionNote, Label: "Thank you"},
		}}
	form := f.accept(f.signAt(f.founder, KindForm, f.clock, formP))
	cases = append(cases, kindCase{KindForm, formP, form})
	addNow(obs, KindResponse, ResponsePayload{Form: form.ID.Bytes(), Station: "KE-047-113", Answers: []Answer{
		{"materials", "no"}, {"missing", "ink seals"}, {"staff", "na"}}})
	addNow(obs, KindCapture, CapturePayload{Target: rep.ID.Bytes(), Hash: bytes.Repeat([]byte{0xab}, 32),
		Taken: "2026:12:06 07:41:09", TakenZone: "+03:00", Lat: Micro(-1.3131), Lon: Micro(36.7879), Alt: ptr(int64(1712400)),
		Make: "Tecno", Model: "Spark 10", Clock: t0.Add(40 * time.Minute).UnixMilli(), Offset: ptr(int64(-2300)), Peers: 3,
		ReportLat: Micro(-1.3133), ReportLon: Micro(36.7876), Precision: 50, Station: "KE-047-112"})
	return cases
}

func mustDecodePayload(tb testing.TB, s *Signed, into any) {
	tb.Helper()
	p, err := s.DecodePayload()
	if err != nil {
		tb.Fatalf("DecodePayload(%s): %v", s.Kind, err)
	}
	reflect.ValueOf(into).Elem().Set(reflect.ValueOf(p).Elem())
}

func TestRoundTripEveryKind(t *testing.T) {
	f := newFixture(t, "roundtrip")
	cases := everyKind(f)
	seen := map[Kind]bool{}
	for _, c := range cases {
		seen[c.kind] = true
		t.Run(string(c.kind), func(t *testing.T) {
			if c.rec.Kind != c.kind {
				t.Fatalf("record kind %q, want %q", c.rec.Kind, c.kind)
			}
			got, err := Decode(c.rec.Raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, c.rec) {
				t.Fatalf("Decode(Raw) = %+v, want %+v", got, c.rec)
			}
			again, err := Marshal(got.Record)
			if err != nil || !bytes.Equal(again, c.rec.Raw) {
				t.Fatalf("Marshal(decoded) differs from the signed encoding (err %v)", err)
			}
			if got.ID != IDOf(c.rec.Raw) {
				t.Fatalf("ID %s, want IDOf(raw) %s", got.ID, IDOf(c.rec.Raw))
			}
			if s := got.ID.String(); !strings.HasPrefix(s, "bafk") {
				t.Fatalf("ID text %q, want a bafk… CIDv1", s)
			} else if back, err := ParseID(s); err != nil || back != got.ID {
				t.Fatalf("ParseID(%q) = %s, %v", s, back, err)
			}
			if a, err := ParseAuthor(got.AuthorKey().String()); err != nil || a != got.AuthorKey() {
				t.Fatalf("ParseAuthor(%s) = %s, %v", got.AuthorKey(), a, err)
			}
			if !strings.HasPrefix(got.AuthorKey().String(), "12D3KooW") {
				t.Fatalf("author text %q, want the 12D3KooW… form", got.AuthorKey())
			}
			p, err := got.DecodePayload()
			if err != nil {
				t.Fatalf("DecodePayload: %v", err)
			}
			if reflect.TypeOf(p) != reflect.PointerTo(reflect.TypeOf(c.payload)) {
				t.Fatalf("DecodePayload type %T, want *%T", p, c.payload)
			}
			if v := reflect.ValueOf(p).Elem().Interface(); !reflect.DeepEqual(v, c.payload) {
				t.Fatalf("payload = %+v, want %+v", v, c.payload)
			}
			if err := Validate(got, f.ms, f.src); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
	// An inbox record is never in the clear (TestInboxRecordAlwaysSealed;
	// the store's tests seal and open one).
	seen[KindInbox] = true
	for _, k := range Kinds {
		if !seen[k] {
			t.Errorf("kind %q has no round-trip case", k)
		}
	}
	if len(seen) != len(Kinds) {
		t.Errorf("covered %d kinds, Kinds lists %d", len(seen), len(Kinds))
	}
}

func TestRoundTripSealed(t *testing.T) {
	f := newFixture(t, "roundtrip-sealed")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	rec, err := obs.SignSealed(f.ms.ID, KindReport, f.next(), SealedEnvelope{}, bytes.Repeat([]byte{0x5a}, 1024))
	if err != nil {
		t.Fatalf("SignSealed: %v", err)
	}
	got, err := Decode(rec.Raw)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !bytes.Equal(got.Sealed, rec.Sealed) || len(got.Sealed) != 1024 {
		t.Fatalf("sealed bytes not kept")
	}
	p, err := got.DecodePayload()
	if err != nil {
		t.Fatalf("DecodePayload: %v", err)
	}
	if _, ok := p.(*SealedEnvelope); !ok {
		t.Fatalf("sealed payload decodes as %T, want *SealedEnvelope", p)
	}
	if err := f.validate(got); err != nil {
		t.Fatalf("Validate(sealed report) = %v", err)
	}
}

// --- hand-made CBOR, to build encodings Marshal never writes ---

// cborHead is a major type and argument in shortest form.
func cborHead(major byte, n uint64) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n <= 0xff:
		return []byte{major<<5 | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{major<<5 | 25}, uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{major<<5 | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{major<<5 | 27}, n)
}

// cborHeadWide is a head with an argument of 1, 2, 4 or 8 following bytes,
// whatever the value needs.
func cborHeadWide(major byte, n uint64, width int) []byte {
	switch width {
	case 1:
		return []byte{major<<5 | 24, byte(n)}
	case 2:
		return binary.BigEndian.AppendUint16([]byte{major<<5 | 25}, uint16(n))
	case 4:
		return binary.BigEndian.AppendUint32([]byte{major<<5 | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{major<<5 | 27}, n)
}

type cborPair struct{ k, v []byte }

func cborMap(pairs []cborPair) []byte {
	out := cborHead(5, uint64(len(pairs)))
	for _, p := range pairs {
		out = append(out, p.k...)
		out = append(out, p.v...)
	}
	return out
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// recordPairs is the canonical key/value list of r's encoding.
func recordPairs(tb testing.TB, r Record) []cborPair {
	tb.Helper()
	var ps []cborPair
	add := func(k uint64, v any) { ps = append(ps, cborPair{cborHead(0, k), mustMarshal(tb, v)}) }
	add(1, r.Version)
	if len(r.Mission) > 0 {
		add(2, r.Mission)
	}
	add(3, r.Author)
	add(4, r.Kind)
	add(5, r.Created)
	add(6, r.Payload)
	if len(r.Sealed) > 0 {
		add(7, r.Sealed)
	}
	if len(r.Sig) > 0 {
		add(8, r.Sig)
	}
	return ps
}

func clonePairs(ps []cborPair) []cborPair { return append([]cborPair(nil), ps...) }

func TestDecodeRejectsNonCanonical(t *testing.T) {
	f := newFixture(t, "canonical")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	rec := f.accept(f.report(obs, nil))
	base := recordPairs(t, rec.Record)
	if got := cborMap(base); !bytes.Equal(got, rec.Raw) {
		t.Fatalf("test helper: hand-made encoding differs from Marshal's\n%x\n%x", got, rec.Raw)
	}
	idx := func(key uint64) int {
		for i, p := range base {
			if bytes.Equal(p.k, cborHead(0, key)) {
				return i
			}
		}
		t.Fatalf("no key %d", key)
		return -1
	}
	with := func(key uint64, v []byte) []byte {
		ps := clonePairs(base)
		ps[idx(key)].v = v
		return cborMap(ps)
	}
	author, kind := rec.Author, string(rec.Kind)
	cases := map[string][]byte{
		"keys out of order": func() []byte {
			ps := clonePairs(base)
			ps[0], ps[1] = ps[1], ps[0]
			return cborMap(ps)
		}(),
		"keys reversed": func() []byte {
			ps := clonePairs(base)
			for i, j := 0, len(ps)-1; i < j; i, j = i+1, j-1 {
				ps[i], ps[j] = ps[j], ps[i]
			}
			return cborMap(ps)
		}(),
		"integer value not shortest":   with(1, cborHeadWide(0, 1, 1)),
		"integer value 8 bytes":        with(1, cborHeadWide(0, 1, 8)),
		"created with 8 bytes for 4":   with(5, cborHeadWide(0, 1_000_000, 8)),
		"byte string length not short": with(3, cat(cborHeadWide(2, 32, 2), author)),
		"text length not shortest":     with(4, cat(cborHeadWide(3, uint64(len(kind)), 1), []byte(kind))),
		"map key not shortest": func() []byte {
			ps := clonePairs(base)
			ps[0].k = cborHeadWide(0, 1, 1)
			return cborMap(ps)
		}(),
		"map length not shortest": func() []byte {
			m := cborMap(base)
			return cat(cborHeadWide(5, uint64(len(base)), 1), m[1:])
		}(),
		"indefinite-length map": func() []byte {
			m := cborMap(base)
			return cat([]byte{0xbf}, m[1:], []byte{0xff})
		}(),
		"indefinite-length byte string": with(3, cat([]byte{0x5f}, cborHead(2, 16), author[:16], cborHead(2, 16), author[16:], []byte{0xff})),
		"indefinite-length text":        with(4, cat([]byte{0x7f}, cborHead(3, uint64(len(kind))), []byte(kind), []byte{0xff})),
		"duplicate key": func() []byte {
			ps := clonePairs(base)
			i := idx(4)
			ps = append(ps[:i+1], append([]cborPair{ps[i]}, ps[i+1:]...)...)
			return cborMap(ps)
		}(),
		"unknown field": func() []byte {
			return cborMap(append(clonePairs(base), cborPair{cborHead(0, 9), cborHead(0, 0)}))
		}(),
		"unknown field in the middle": func() []byte {
			ps := clonePairs(base)
			i := idx(7 - 1) // key 6, payload; sealed (7) is absent
			ps = append(ps[:i+1], append([]cborPair{{cborHead(0, 7), mustMarshal(t, []byte{})}}, ps[i+1:]...)...)
			return cborMap(ps)
		}(),
		"text map key": func() []byte {
			ps := clonePairs(base)
			ps[0].k = mustMarshal(t, "1")
			return cborMap(ps)
		}(),
		"trailing byte":           append(append([]byte(nil), rec.Raw...), 0x00),
		"trailing record":         append(append([]byte(nil), rec.Raw...), rec.Raw...),
		"self-describe tag":       cat([]byte{0xd9, 0xd9, 0xf7}, rec.Raw),
		"tag on a field":          with(5, cat([]byte{0xc1}, mustMarshal(t, rec.Created))),
		"float for an integer":    with(5, mustMarshal(t, float64(rec.Created))),
		"negative version":        with(1, cborHead(1, 0)),
		"array instead of map":    cat([]byte{0x82}, mustMarshal(t, 1), mustMarshal(t, 2)),
		"null":                    {0xf6},
		"empty input":             {},
		"truncated":               rec.Raw[:len(rec.Raw)-1],
		"invalid UTF-8 in kind":   with(4, cat(cborHead(3, 6), []byte{'r', 'e', 0xff, 'o', 'r', 't'})),
		"overlong UTF-8 in kind":  with(4, cat(cborHead(3, 7), []byte{'r', 'e', 0xc0, 0xb0, 'o', 'r', 't'})),
		"sig as text string":      with(8, cat(cborHead(3, 64), rec.Sig)),
		"author as array":         with(3, cat([]byte{0x80})),
		"created beyond int64":    with(5, cborHead(0, 1<<63)),
		"payload indefinite map":  with(6, []byte{0xbf, 0x01, 0x01, 0xff}),
		"payload with a tag":      with(6, cat([]byte{0xc1}, rec.Payload)),
		"payload truncated":       with(6, rec.Payload[:len(rec.Payload)-1]),
		"payload not well-formed": with(6, []byte{0x1c}),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Decode(in)
			if err == nil {
				t.Fatalf("Decode accepted %x as %s %s", in, got.Kind, got.ID)
			}
			if !errors.Is(err, ErrBadEncoding) {
				t.Fatalf("Decode error %v, want one wrapping ErrBadEncoding", err)
			}
			if !IsRejected(err) {
				t.Fatalf("IsRejected(%v) = false", err)
			}
		})
	}
}

// A payload that is not in canonical form but sits inside a correctly signed
// record passes Decode (the payload is opaque to it) but never Validate.
func TestValidateRejectsNonCanonicalPayload(t *testing.T) {
	f := newFixture(t, "payload-canonical")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	ok := f.report(obs, nil)
	p := goodReport()
	pairs := []cborPair{
		{cborHead(0, 1), mustMarshal(t, p.Category)},
		{cborHead(0, 2), cborHeadWide(0, p.Severity, 1)}, // not shortest
		{cborHead(0, 3), mustMarshal(t, p.Occurred)},
		{cborHead(0, 9), mustMarshal(t, p.Title)},
	}
	outOfOrder := []cborPair{pairs[1], pairs[0], pairs[2], pairs[3]}
	shortest := clonePairs(pairs)
	shortest[1].v = cborHead(0, p.Severity)
	dup := append(clonePairs(shortest), shortest[3])
	unknown := append(clonePairs(shortest), cborPair{cborHead(0, 30), cborHead(0, 1)})
	badUTF8 := clonePairs(shortest)
	badUTF8[3].v = cat(cborHead(3, 4), []byte{'a', 0xff, 0xfe, 'b'})
	for name, payload := range map[string][]byte{
		"integer not shortest": cborMap(pairs),
		"keys out of order":    cborMap(outOfOrder),
		"duplicate key":        cborMap(dup),
		"invalid UTF-8 title":  cborMap(badUTF8),
		"not a map":            mustMarshal(t, "report"),
	} {
		t.Run(name, func(t *testing.T) {
			r := ok.Record
			r.Payload = payload
			raw := rawRecord(t, obs, r)
			s, err := Decode(raw)
			if err != nil {
				// Rejecting it already at Decode is fine too, as long as it
				// is a rejection.
				if !IsRejected(err) {
					t.Fatalf("Decode error %v is not a rejection", err)
				}
				return
			}
			wantField(t, f.validate(s), "payload")
		})
	}
	// Control: the same hand-made payload in canonical form is valid, and
	// so is one with a field a newer build added (forward compatibility),
	// which Newer names.
	for _, payload := range [][]byte{cborMap(shortest), cborMap(unknown)} {
		r := ok.Record
		r.Payload = payload
		s, err := Decode(rawRecord(t, obs, r))
		if err != nil {
			t.Fatalf("Decode(canonical hand-made) = %v", err)
		}
		if err := f.validate(s); err != nil {
			t.Fatalf("Validate(canonical hand-made) = %v", err)
		}
	}
	r := ok.Record
	r.Payload = cborMap(unknown)
	s, _ := Decode(rawRecord(t, obs, r))
	if got := s.Newer(); len(got) != 1 || got[0] != "30" {
		t.Fatalf("Newer() = %q, want [30]", got)
	}
}

func TestDecodeOversize(t *testing.T) {
	f := newFixture(t, "oversize")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	build := func(descLen int) []byte {
		p := goodReport()
		p.Description = strings.Repeat("a", descLen)
		r := Record{Version: SchemaVersion, Mission: f.ms.ID.Bytes(), Author: obs.pub[:], Kind: KindReport,
			Created: f.next().UnixMilli(), Payload: mustMarshal(t, p)}
		return rawRecord(t, obs, r)
	}
	// Size the description so the record is exactly MaxRecordBytes.
	n := 60000
	n += MaxRecordBytes - len(build(n))
	atLimit := build(n)
	if len(atLimit) != MaxRecordBytes {
		t.Fatalf("test setup: record is %d bytes, want %d", len(atLimit), MaxRecordBytes)
	}
	s, err := Decode(atLimit)
	if err != nil {
		t.Fatalf("Decode(record of exactly MaxRecordBytes) = %v, want accepted by Decode", err)
	}
	// Decode takes it; the description limit rejects it in Validate.
	wantField(t, f.validate(s), "description")

	over := build(n + 1)
	if len(over) != MaxRecordBytes+1 {
		t.Fatalf("test setup: record is %d bytes", len(over))
	}
	_, err = Decode(over)
	wantField(t, err, "record")

	// Sign refuses to produce an oversize record, with the same error.
	p := goodReport()
	p.Description = strings.Repeat("x", 3<<20)
	_, err = obs.Sign(f.ms.ID, KindReport, f.next(), p)
	wantField(t, err, "record")
	// Raw garbage over the limit is refused before it is parsed at all.
	_, err = Decode(make([]byte, 1<<20))
	wantField(t, err, "record")
}

// Flipping any single bit of a signed record makes it invalid: either the
// encoding breaks or the signature no longer verifies.
func TestDecodeRejectsEveryBitFlip(t *testing.T) {
	f := newFixture(t, "bitflip")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	for _, rec := range []*Signed{f.genesis, f.accept(f.report(obs, nil))} {
		raw := rec.Raw
		for i := range raw {
			for bit := 0; bit < 8; bit++ {
				in := append([]byte(nil), raw...)
				in[i] ^= 1 << bit
				s, err := Decode(in)
				if err == nil {
					t.Fatalf("%s: flipping bit %d of byte %d/%d gave a valid record %s", rec.Kind, bit, i, len(raw), s.ID)
				}
				// A flip in the version field makes a record of a newer
				// version: refused as unreadable, which is no strike
				// against the sender but stores nothing either.
				if !IsRejected(err) && !IsNewer(err) {
					t.Fatalf("%s: flip at byte %d bit %d: error %v is not a rejection", rec.Kind, i, bit, err)
				}
			}
		}
	}
}

func TestDecodeRejectsBadFields(t *testing.T) {
	f := newFixture(t, "badfields")
	a := f.enroll(f.founder, "a", RoleObserver)
	b := f.enroll(f.founder, "b", RoleObserver)
	good := f.report(a, nil).Record
	goodG := f.genesis.Record

	type tc struct {
		name  string
		raw   func() []byte
		field string
	}
	signed := func(s *Signer, mut func(*Record)) func() []byte {
		return func() []byte {
			r := good
			mut(&r)
			return rawRecord(t, s, r)
		}
	}
	cases := []tc{
		{"version 0", signed(a, func(r *Record) { r.Version = 0 }), "version"},
		{"kind with a dot", signed(a, func(r *Record) { r.Kind = "vote.cast" }), "kind"},
		{"kind too long", signed(a, func(r *Record) { r.Kind = Kind(strings.Repeat("k", MaxKindLen+1)) }), "kind"},
		{"kind starting with a digit", signed(a, func(r *Record) { r.Kind = "2fa" }), "kind"},
		{"empty kind", signed(a, func(r *Record) { r.Kind = "" }), "kind"},
		{"kind in upper case", signed(a, func(r *Record) { r.Kind = "REPORT" }), "kind"},
		{"short author", signed(a, func(r *Record) { r.Author = r.Author[:31] }), "author"},
		{"short mission", signed(a, func(r *Record) { r.Mission = r.Mission[:31] }), "mission"},
		{"no mission", signed(a, func(r *Record) { r.Mission = nil }), "mission"},
		{"genesis with a mission", func() []byte {
			r := goodG
			r.Mission = f.ms.ID.Bytes()
			return rawRecord(t, f.founder, r)
		}, "mission"},
		{"sealed over limit", signed(a, func(r *Record) { r.Sealed = make([]byte, MaxSealedBytes+1) }), "sealed"},
		{"no signature", func() []byte {
			r := good
			r.Sig = nil
			return mustMarshal(t, r)
		}, "signature"},
		{"short signature", func() []byte {
			r := f.report(a, nil).Record
			r.Sig = r.Sig[:63]
			return mustMarshal(t, r)
		}, "signature"},
		{"forged: signed by A, author B", func() []byte {
			r := f.report(a, nil).Record
			r.Author = b.pub[:]
			return mustMarshal(t, r)
		}, "signature"},
		{"forged: B's key and signature over A's record", func() []byte {
			rb := f.report(b, nil).Record
			r := f.report(a, nil).Record
			r.Author, r.Sig = rb.Author, rb.Sig
			return mustMarshal(t, r)
		}, "signature"},
		{"signature without the domain prefix", func() []byte {
			r := good
			r.Sig = nil
			body := mustMarshal(t, r)
			r.Sig = ed25519.Sign(a.priv, body)
			return mustMarshal(t, r)
		}, "signature"},
		{"token signature reused as record signature", func() []byte {
			r := good
			r.Sig = nil
			body := mustMarshal(t, r)
			r.Sig = ed25519.Sign(a.priv, append([]byte(tokenDomain), body...))
			return mustMarshal(t, r)
		}, "signature"},
		{"created changed after signing", func() []byte {
			r := f.report(a, nil).Record
			r.Created++
			return mustMarshal(t, r)
		}, "signature"},
		{"sealed bytes added after signing", func() []byte {
			r := f.report(a, nil).Record
			r.Sealed = []byte{1}
			return mustMarshal(t, r)
		}, "signature"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Decode(c.raw())
			if err == nil {
				t.Fatalf("Decode accepted %s", s.ID)
			}
			wantField(t, err, c.field)
		})
	}
}

// Decode must not keep a reference to the caller's buffer.
func TestDecodeCopiesInput(t *testing.T) {
	f := newFixture(t, "copy")
	buf := append([]byte(nil), f.genesis.Raw...)
	s, err := Decode(buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 0
	}
	if !bytes.Equal(s.Raw, f.genesis.Raw) {
		t.Fatal("Signed.Raw aliases the input buffer")
	}
	if s.CreatedTime() != t0 {
		t.Fatalf("CreatedTime = %v, want %v", s.CreatedTime(), t0)
	}
}
