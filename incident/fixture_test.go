package incident

// Test fixture shared by this package's tests: a mission founded by a
// coordinator, helpers that enroll members and sign records at a fake,
// advancing clock, and a map-backed RecordSource. Everything is
// deterministic: keys come from labels, nonces from a counter, times from t0.

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// t0 is the fixture's mission start; fixture clocks advance from it.
var t0 = time.Date(2026, 5, 17, 6, 0, 0, 0, time.UTC)

// seedFor derives a deterministic 32-byte Ed25519 seed from a label.
func seedFor(label string) []byte {
	h := sha256.Sum256([]byte("vigil-test-seed/" + label))
	return h[:]
}

// signerFor returns the deterministic signer for label.
func signerFor(tb testing.TB, label string) *Signer {
	tb.Helper()
	s, err := NewSigner(seedFor(label))
	if err != nil {
		tb.Fatalf("NewSigner(%q): %v", label, err)
	}
	return s
}

// mapSource is a RecordSource over a map; a missing ID gives nil, nil.
type mapSource map[ID]*Signed

func (m mapSource) Get(id ID) (*Signed, error) { return m[id], nil }

func (m mapSource) put(s *Signed) { m[s.ID] = s }

// fixture is one mission: its founder, genesis, state and the records held.
type fixture struct {
	tb      testing.TB
	name    string
	founder *Signer
	genesis *Signed
	ms      *MissionState
	src     mapSource
	clock   time.Time
	nonces  uint64
}

// newFixture founds a mission called name (the name also seeds the keys, so
// two fixtures with different names are two unrelated missions).
func newFixture(tb testing.TB, name string) *fixture {
	tb.Helper()
	f := &fixture{tb: tb, name: name, founder: signerFor(tb, name+"/founder"), src: mapSource{}, clock: t0}
	g, err := f.founder.Sign(ID{}, KindMission, f.clock, MissionPayload{
		Name: name, Nonce: f.nonce(), Taxonomy: TaxonomyVersion, Label: "founder",
	})
	if err != nil {
		tb.Fatalf("sign genesis: %v", err)
	}
	ms, err := NewMissionState(g)
	if err != nil {
		tb.Fatalf("NewMissionState: %v", err)
	}
	f.genesis, f.ms = g, ms
	f.src.put(g)
	return f
}

// nonce returns 16 deterministic bytes, different on every call.
func (f *fixture) nonce() []byte {
	f.nonces++
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], f.nonces)
	h := sha256.Sum256(append([]byte(f.name+"/nonce/"), b[:]...))
	return h[:16]
}

// next advances the clock by a minute and returns it.
func (f *fixture) next() time.Time {
	f.clock = f.clock.Add(time.Minute)
	return f.clock
}

// signer returns the deterministic signer for a label in this mission.
func (f *fixture) signer(label string) *Signer { return signerFor(f.tb, f.name+"/"+label) }

// token returns a token for role signed by issuer; a coordinator token is
// bound to forKey (pass nil to leave it unbound).
func (f *fixture) token(issuer *Signer, role, label string, forKey *Author) Token {
	t := Token{Mission: f.ms.ID.Bytes(), Role: role, Label: label, Nonce: f.nonce()}
	if forKey != nil {
		t.For = forKey[:]
	}
	return issuer.SignToken(t)
}

// memberRecord has member redeem tok, without judging the result.
func (f *fixture) memberRecord(member *Signer, tok Token) *Signed {
	f.tb.Helper()
	return f.sign(member, KindMember, MemberPayload{Token: tok})
}

// enroll creates the member label with role, enrolled by issuer, and accepts
// its member record. Coordinator tokens are bound to the new key.
func (f *fixture) enroll(issuer *Signer, label, role string) *Signer {
	f.tb.Helper()
	s, _ := f.enrollRecord(issuer, label, role)
	return s
}

// enrollRecord is enroll that also returns the member record.
func (f *fixture) enrollRecord(issuer *Signer, label, role string) (*Signer, *Signed) {
	f.tb.Helper()
	s := f.signer(label)
	var bound *Author
	if role == RoleCoordinator {
		a := s.Author()
		bound = &a
	}
	rec := f.memberRecord(s, f.token(issuer, role, label, bound))
	f.accept(rec)
	return s, rec
}

// sign signs a record of kind by s at the next clock tick.
func (f *fixture) sign(s *Signer, kind Kind, payload any) *Signed {
	f.tb.Helper()
	return f.signAt(s, kind, f.next(), payload)
}

// signAt signs a record of kind by s at a given time.
func (f *fixture) signAt(s *Signer, kind Kind, at time.Time, payload any) *Signed {
	f.tb.Helper()
	rec, err := s.Sign(f.ms.ID, kind, at, payload)
	if err != nil {
		f.tb.Fatalf("sign %s: %v", kind, err)
	}
	return rec
}

// accept requires rec to be valid, applies it and holds it.
func (f *fixture) accept(rec *Signed) *Signed {
	f.tb.Helper()
	if err := Validate(rec, f.ms, f.src); err != nil {
		f.tb.Fatalf("Validate(%s %s) = %v, want valid", rec.Kind, rec.ID, err)
	}
	if err := f.ms.Apply(rec); err != nil {
		f.tb.Fatalf("Apply(%s): %v", rec.Kind, err)
	}
	f.src.put(rec)
	return rec
}

// validate judges rec against the fixture's state and records.
func (f *fixture) validate(rec *Signed) error { return Validate(rec, f.ms, f.src) }

// goodReport is a typical valid report.
func goodReport() ReportPayload {
	return ReportPayload{
		Category: "polling.late_opening", Severity: 2, Occurred: t0.Add(30 * time.Minute).UnixMilli(),
		Station: "KE-047-112", Area: "Nairobi / Kibra", Lat: Micro(-1.3133), Lon: Micro(36.7876), Precision: 50,
		Title: "Station opened 2h late", Description: "Queue of about 300 voters; presiding officer absent until 08:10.",
	}
}

// report signs (without accepting) a report by s; mut may change the payload.
func (f *fixture) report(s *Signer, mut func(*ReportPayload)) *Signed {
	f.tb.Helper()
	p := goodReport()
	if mut != nil {
		mut(&p)
	}
	return f.sign(s, KindReport, p)
}

// review signs a review of target by s with status and prev heads.
func (f *fixture) review(s *Signer, target *Signed, status string, prev ...*Signed) *Signed {
	f.tb.Helper()
	p := ReviewPayload{Target: target.ID.Bytes(), Status: status}
	for _, r := range prev {
		p.Prev = append(p.Prev, r.ID.Bytes())
	}
	return f.sign(s, KindReview, p)
}

// rawRecord signs r (whatever its fields) with s and returns the encoding,
// without decoding it: for records Sign would refuse to produce.
func rawRecord(tb testing.TB, s *Signer, r Record) []byte {
	tb.Helper()
	r.Sig = nil
	msg, err := r.signingBytes()
	if err != nil {
		tb.Fatalf("signingBytes: %v", err)
	}
	r.Sig = ed25519.Sign(s.priv, msg)
	raw, err := Marshal(r)
	if err != nil {
		tb.Fatalf("marshal record: %v", err)
	}
	return raw
}

// mustMarshal is Marshal that fails the test on error.
func mustMarshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := Marshal(v)
	if err != nil {
		tb.Fatalf("Marshal(%T): %v", v, err)
	}
	return b
}

// wantField requires err to be a *FieldError naming field.
func wantField(tb testing.TB, err error, field string) {
	tb.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		tb.Fatalf("err = %v (%T), want a *FieldError for %q", err, err, field)
	}
	if fe.Field != field {
		tb.Fatalf("FieldError.Field = %q (%v), want %q", fe.Field, fe, field)
	}
	if !IsRejected(err) || IsMissing(err) {
		tb.Fatalf("IsRejected(%v) = %v, IsMissing = %v; want rejected only", err, IsRejected(err), IsMissing(err))
	}
}

// wantMissing requires err to be a *MissingError for author or record.
func wantMissing(tb testing.TB, err error, author Author, record ID) {
	tb.Helper()
	var me *MissingError
	if !errors.As(err, &me) {
		tb.Fatalf("err = %v (%T), want a *MissingError", err, err)
	}
	if me.Author != author || me.Record != record {
		tb.Fatalf("MissingError{Author: %s, Record: %s}, want {Author: %s, Record: %s}", me.Author, me.Record, author, record)
	}
	if IsRejected(err) {
		tb.Fatalf("IsRejected(%v) = true for a missing dependency", err)
	}
}

// edSign signs msg with s's private key, for hand-made signatures.
func edSign(s *Signer, msg []byte) []byte { return ed25519.Sign(s.priv, msg) }
