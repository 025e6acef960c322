package sms

import (
	"bytes"
	"errors"
	"flag"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

var seedFlag = flag.Uint64("sms.seed", 0, "seed of the random round of TestRoundTrip (0: a new one, logged)")

// TestRoundTrip encodes random records of random members, many sharing a
// key prefix, and decodes them back to the same signed bytes and ID:
// first with a fixed seed, then with a random one that it logs.
func TestRoundTrip(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	for _, s := range []uint64{1, seed} {
		t.Logf("seed %d (rerun: go test -run TestRoundTrip -sms.seed=%d)", s, s)
		g := newGen(t, s, 60)
		modes := map[byte]int{}
		for range 400 {
			rec, _ := g.record(t)
			text := encode(t, rec)
			modes[text[0]]++
			if segs := Segments(text); segs < 1 || segs > MaxSegments {
				t.Fatalf("%s: %d segments", rec.Kind, segs)
			}
			for _, in := range []string{text, breakLines(g.rng, text)} {
				raw, err := Decode(in, g.dir)
				if err != nil {
					t.Fatalf("seed %d: Decode %s (created %d, %d sealed bytes): %v\n%s", s, rec.Kind, rec.Created, len(rec.Sealed), err, in)
				}
				if !bytes.Equal(raw, rec.Raw) || incident.IDOf(raw) != rec.ID {
					t.Fatalf("seed %d: %s decodes to other bytes", s, rec.Kind)
				}
			}
		}
		// Every mode's header was written: A or B (mode 0), E or F (1), I or J (2).
		for _, c := range "AEI" {
			if modes[byte(c)]+modes[byte(c+1)] == 0 {
				t.Errorf("seed %d: no text started with %c or %c: %v", s, c, c+1, modes)
			}
		}
	}
}

// TestAlphabet holds the text alphabet to the GSM 03.38 basic set, without
// escapes and without the characters gateways change.
func TestAlphabet(t *testing.T) {
	const gsmBasicPrintable = "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	if len(alphabet) != 64 {
		t.Fatalf("alphabet has %d characters", len(alphabet))
	}
	for _, c := range alphabet {
		if !strings.ContainsRune(gsmBasicPrintable, c) || strings.ContainsRune("+/_@$ ", c) {
			t.Errorf("%q does not belong in the alphabet", c)
		}
	}
}

func TestSegments(t *testing.T) {
	for _, c := range []struct{ chars, want int }{
		{0, 0}, {1, 1}, {160, 1}, {161, 2}, {306, 2}, {307, 3}, {459, 3}, {460, 4}, {612, 4}, {613, 5},
	} {
		if got := Segments(strings.Repeat("A", c.chars)); got != c.want {
			t.Errorf("Segments(%d characters) = %d, want %d", c.chars, got, c.want)
		}
	}
	if got := Segments(strings.Repeat("é", 160)); got != 1 {
		t.Errorf("160 basic-set characters of 2 UTF-8 bytes: %d segments, want 1", got)
	}
}

// TestSealedSegments holds the act layer's forecast to the texts Encode
// writes for records signed now, at every sealed length up to past the
// limit, and Encode's refusal to the forecast.
func TestSealedSegments(t *testing.T) {
	g := newGen(t, 2, 1)
	by := g.signers[0]
	now := time.Date(2026, 5, 1, 7, 0, 0, 0, time.UTC)
	for _, target := range []bool{false, true} {
		env := incident.SealedEnvelope{}
		if target {
			env.Target = g.bytes(targetLen)
		}
		fitted := 0
		for n := 1; n <= 400; n++ {
			rec, err := by.SignSealed(g.mission, incident.KindReport, now, env, g.compactSeal(n))
			if err != nil {
				t.Fatal(err)
			}
			want := SealedSegments(n, target)
			text, err := Encode(rec)
			switch {
			case want > MaxSegments:
				if !errors.Is(err, ErrTooLong) {
					t.Fatalf("%d sealed bytes (target %v): forecast %d segments, Encode gives %v", n, target, want, err)
				}
			case err != nil:
				t.Fatalf("%d sealed bytes (target %v): %v", n, target, err)
			case Segments(text) != want:
				t.Fatalf("%d sealed bytes (target %v): forecast %d segments, text takes %d", n, target, want, Segments(text))
			default:
				fitted = n
			}
		}
		t.Logf("target %v: a compact seal of up to %d bytes fits %d segments", target, fitted, MaxSegments)
	}
}

// fixture is a fixed mission with two members and three records, one of
// each mode, for the tables of bad input.
type fixture struct {
	g                         *gen
	alice, bob                *incident.Signer
	receipt, report, response *incident.Signed
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	g := newGen(t, 3, 0)
	f := &fixture{g: g, alice: g.signer(t), bob: g.signer(t)}
	g.dir.authors = []incident.Author{f.alice.Author(), f.bob.Author()}
	now := time.Date(2026, 5, 1, 7, 0, 0, 0, time.UTC)
	var err error
	if f.receipt, err = f.alice.Sign(g.mission, incident.KindReceipt, now, incident.ReceiptPayload{IDs: [][]byte{g.bytes(32)}}); err != nil {
		t.Fatal(err)
	}
	if f.report, err = f.alice.SignSealed(g.mission, incident.KindReport, now, incident.SealedEnvelope{}, g.compactSeal(120)); err != nil {
		t.Fatal(err)
	}
	if f.response, err = f.alice.SignSealed(g.mission, incident.KindResponse, now, incident.SealedEnvelope{Target: g.bytes(targetLen)}, g.compactSeal(90)); err != nil {
		t.Fatal(err)
	}
	return f
}

// resign returns the signature signer makes over rec's fields: a record
// forged in rec's author's name, or rec with its signature replaced.
func resign(t testing.TB, signer *incident.Signer, rec incident.Record) []byte {
	t.Helper()
	rec.Sig = nil
	body, err := incident.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return signer.SignBytes(append([]byte("vigil/record/v1\x00"), body...))
}

// TestDecodeRefuses gives Decode hostile and broken texts: each gives its
// own error, in one line, and never a record.
func TestDecodeRefuses(t *testing.T) {
	f := newFixture(t)
	receipt := encode(t, f.receipt)
	report := encode(t, f.report)
	sigAt := len(receipt) - textLen(sigLen) + 2 // a character wholly inside the signature
	otherMission := *f.g.dir
	otherMission.mission[0] ^= 0xff
	samePrefix := *f.g.dir
	samePrefix.mission[31] ^= 0xff
	noAlice := &dir{mission: f.g.mission, authors: []incident.Author{f.bob.Author()}}
	aliceDecoy := &dir{mission: f.g.mission, authors: []incident.Author{f.g.decoy(f.alice.Author(), authorPrefix)}}
	header := func(text string, h byte) string {
		return mutate(t, text, func(b []byte) []byte { b[0] = h; return b })
	}

	cases := []struct {
		name string
		text string
		dir  Directory
		want error
	}{
		{"empty", "", nil, ErrNotVigil},
		{"whitespace", " \r\n\t ", nil, ErrNotVigil},
		{"a person's text", "Polling station 12 closed, police outside", nil, ErrNotVigil},
		{"a reply in the alphabet", "Yes", nil, ErrNotVigil},
		{"thanks", "Thanks. Received", nil, ErrNotVigil},
		{"Swahili with a tick", "Kituo kimefungwa ✓", nil, ErrNotVigil},
		{"invalid UTF-8", receipt[:120] + "\xff" + receipt[121:], nil, ErrNotVigil},
		{"over four segments", strings.Repeat("A", MaxChars+4), nil, ErrNotVigil},
		{"huge", strings.Repeat("Ab", 1<<20), nil, ErrNotVigil},
		{"a character extra", receipt + "A", f.g.dir, ErrForged},
		{"two characters lost", receipt[:60] + receipt[62:], f.g.dir, ErrTruncated},
		{"format version 2", header(receipt, 0x40|modePlain<<4|6), nil, ErrVersion},
		{"mode 3", header(receipt, 3<<4|6), nil, ErrVersion},
		{"kind code 9", header(receipt, modePlain<<4|9), nil, ErrVersion},
		{"kind code 0", header(receipt, modePlain<<4), nil, ErrVersion},
		{"schema version 2", mutate(t, receipt, func(b []byte) []byte { b[1] = 2; return b }), f.g.dir, ErrVersion},
		{"other mission", receipt, &otherMission, ErrOtherMission},
		{"other mission, same prefix", receipt, &samePrefix, ErrForged},
		{"unknown author", receipt, noAlice, ErrUnknownAuthor},
		{"a decoy shares the author's prefix", receipt, aliceDecoy, ErrForged},
		{"signature by another key", mutate(t, receipt, func(b []byte) []byte {
			return append(b[:len(b)-sigLen], resign(t, f.bob, f.receipt.Record)...)
		}), f.g.dir, ErrForged},
		{"mangled signature", receipt[:sigAt] + string(alphabet[(strings.IndexByte(alphabet, receipt[sigAt])+1)%64]) + receipt[sigAt+1:], f.g.dir, ErrForged},
		{"mangled seal", report[:130] + string(alphabet[(strings.IndexByte(alphabet, report[130])+7)%64]) + report[131:], f.g.dir, ErrForged},
		{"two blocks reordered", report[:100] + report[120:140] + report[100:120] + report[140:], f.g.dir, ErrForged},
		{"schema version not shortest", mutate(t, receipt, func(b []byte) []byte {
			return append([]byte{b[0], 0x81, 0x00}, b[2:]...)
		}), f.g.dir, ErrForged},
		{"empty payload", mutate(t, receipt, func(b []byte) []byte {
			head := 1 + 1 + missionPrefix + authorPrefix + 6
			return append(append(b[:head:head], 0), b[len(b)-sigLen:]...)
		}), f.g.dir, ErrForged},
		{"payload longer than the text", mutate(t, receipt, func(b []byte) []byte {
			b[1+1+missionPrefix+authorPrefix+6] = 120
			return b
		}), f.g.dir, ErrTruncated},
		{"bytes after the signature", mutate(t, receipt, func(b []byte) []byte { return append(b, 0, 0, 0) }), f.g.dir, ErrForged},
		{"sealed part missing", mutate(t, report, func(b []byte) []byte {
			head := 1 + 1 + missionPrefix + authorPrefix + 6
			return append(b[:head:head], b[len(b)-sigLen:]...)
		}), f.g.dir, ErrTruncated},
		{"mode 1 without a seal", mutate(t, encode(t, f.response), func(b []byte) []byte {
			head := 1 + 1 + missionPrefix + authorPrefix + 6 + targetLen
			return append(b[:head:head], b[len(b)-sigLen:]...)
		}), f.g.dir, ErrTruncated},
		{"a receipt read as mode 1", header(receipt, modeSealedTarget<<4|6), f.g.dir, ErrForged},
		{"stray bits in the last character", receipt[:len(receipt)-1] + string(alphabet[strings.IndexByte(alphabet, receipt[len(receipt)-1])|1]), f.g.dir, ErrForged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := c.dir
			if d == nil {
				d = f.g.dir
			}
			raw, err := Decode(c.text, d)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v (%d bytes), want %v", err, len(raw), c.want)
			}
			checkDecodeErr(t, err)
			t.Log(err)
		})
	}
}

// TestDecodeCut cuts the end off texts one character at a time. A plain
// record's declared payload length shows the loss (ErrTruncated); a sealed
// record's seal runs to the signature, so its loss shows as a signature
// that fails (ErrForged) unless the count of characters gives it away.
// Below MinChars a text is a person's.
func TestDecodeCut(t *testing.T) {
	f := newFixture(t)
	for _, rec := range []*incident.Signed{f.receipt, f.report, f.response} {
		text := encode(t, rec)
		for n := len(text) - 1; n >= 0; n-- {
			_, err := Decode(text[:n], f.g.dir)
			checkDecodeErr(t, err)
			want := []error{ErrTruncated}
			switch {
			case n < MinChars:
				want = []error{ErrNotVigil}
			case len(rec.Sealed) > 0:
				want = append(want, ErrForged)
			}
			ok := false
			for _, w := range want {
				ok = ok || errors.Is(err, w)
			}
			if !ok {
				t.Fatalf("%s cut to %d of %d characters: %v, want one of %v", rec.Kind, n, len(text), err, want)
			}
		}
	}
}

// TestDecodeMangled changes each character of each fixture text in turn,
// and swaps their halves: never a record, always one sentinel.
func TestDecodeMangled(t *testing.T) {
	f := newFixture(t)
	for _, rec := range []*incident.Signed{f.receipt, f.report, f.response} {
		text := encode(t, rec)
		for i := range len(text) {
			for _, step := range []int{1, 17, 63} {
				c := alphabet[(strings.IndexByte(alphabet, text[i])+step)%64]
				raw, err := Decode(text[:i]+string(c)+text[i+1:], f.g.dir)
				if err == nil {
					t.Fatalf("%s with character %d changed to %c decodes (%d bytes)", rec.Kind, i, c, len(raw))
				}
				checkDecodeErr(t, err)
			}
		}
		half := len(text) / 2
		_, err := Decode(text[half:]+text[:half], f.g.dir)
		if err == nil {
			t.Fatalf("%s with its halves swapped decodes", rec.Kind)
		}
		checkDecodeErr(t, err)
		t.Logf("%s, halves swapped: %v", rec.Kind, err)
	}
}

// TestDecodeCandidates: members sharing the author's prefix cost
// verifications, never the answer; past MaxCandidates Decode stops.
func TestDecodeCandidates(t *testing.T) {
	f := newFixture(t)
	text := encode(t, f.receipt)
	decoys := func(n int) []incident.Author {
		var out []incident.Author
		for range n {
			out = append(out, f.g.decoy(f.alice.Author(), authorPrefix))
		}
		return out
	}
	for _, c := range []struct {
		name string
		dir  *dir
		want error
	}{
		{"alice after 3 decoys", &dir{mission: f.g.mission, authors: append(decoys(3), f.alice.Author())}, nil},
		{"alice last of MaxCandidates", &dir{mission: f.g.mission, authors: append(decoys(MaxCandidates-1), f.alice.Author())}, nil},
		{"alice past MaxCandidates", &dir{mission: f.g.mission, authors: append(decoys(MaxCandidates), f.alice.Author())}, ErrForged},
		{"a careless directory", &dir{mission: f.g.mission, careless: true, authors: append(decoys(2), f.bob.Author(), f.alice.Author())}, nil},
		{"sharing 3 bytes is not sharing the prefix", &dir{mission: f.g.mission, careless: true, authors: []incident.Author{f.g.decoy(f.alice.Author(), 3)}}, ErrUnknownAuthor},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, err := Decode(text, c.dir)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if err == nil && !bytes.Equal(raw, f.receipt.Raw) {
				t.Fatal("decodes to other bytes")
			}
			if err != nil {
				checkDecodeErr(t, err)
				t.Log(err)
			}
		})
	}
}

// TestEncodeRefuses: records that cannot go by SMS, each with its reason.
func TestEncodeRefuses(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 5, 1, 7, 0, 0, 0, time.UTC)
	sign := func(s *incident.Signed, err error) *incident.Signed {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ageSealed := append([]byte("age-encryption.org/v1\n-> X25519 "), f.g.bytes(268)...)
	type bigEnvelope struct {
		Target []byte `cbor:"1,keyasint,omitempty"`
		Note   string `cbor:"2,keyasint"`
	}
	changed := *f.receipt
	changed.Created++
	cases := []struct {
		name string
		rec  *incident.Signed
		want error
		says string
	}{
		{"member kind", sign(f.alice.Sign(f.g.mission, incident.KindMember, now, incident.CheckinPayload{Status: "x"})), ErrNotForSMS, "kind member has no SMS code"},
		{"sealed with age", sign(f.alice.SignSealed(f.g.mission, incident.KindReport, now, incident.SealedEnvelope{}, ageSealed)), ErrNotForSMS,
			"sealed for the mesh (300 bytes); records for SMS are created with the compact seal"},
		{"another seal", sign(f.alice.SignSealed(f.g.mission, incident.KindReport, now, incident.SealedEnvelope{}, []byte{2, 3, 4})), ErrNotForSMS, "0x02"},
		{"short target", sign(f.alice.SignSealed(f.g.mission, incident.KindResponse, now, incident.SealedEnvelope{Target: []byte{1, 2}}, f.g.compactSeal(60))), ErrNotForSMS, "32-byte target"},
		{"envelope with more", sign(f.alice.SignSealed(f.g.mission, incident.KindResponse, now, bigEnvelope{Note: "x"}, f.g.compactSeal(60))), ErrNotForSMS, "32-byte target"},
		{"before 1970", sign(f.alice.Sign(f.g.mission, incident.KindReceipt, time.UnixMilli(-1), incident.ReceiptPayload{IDs: [][]byte{f.g.bytes(32)}})), ErrNotForSMS, "before 1970"},
		{"changed after signing", &changed, ErrNotForSMS, "does not survive packing"},
		{"too long", sign(f.alice.Sign(f.g.mission, incident.KindNotice, now, incident.NoticePayload{Text: strings.Repeat("Stay inside. ", 30), Severity: 3})), ErrTooLong,
			"bytes, 5 SMS segments; SMS carries at most 4"},
		{"sealed too long", sign(f.alice.SignSealed(f.g.mission, incident.KindReport, now, incident.SealedEnvelope{}, f.g.compactSeal(400))), ErrTooLong, "SMS carries at most 4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text, err := Encode(c.rec)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %q (%v), want %v saying %q", text, err, c.want, c.says)
			}
			t.Log(err)
		})
	}
}
