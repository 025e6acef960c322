package sms

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// decodeErrors are the sentinels every Decode failure wraps one of.
var decodeErrors = []error{ErrNotVigil, ErrTruncated, ErrVersion, ErrOtherMission, ErrUnknownAuthor, ErrForged}

// checkDecodeErr fails unless err wraps exactly one Decode sentinel and
// reads as one line.
func checkDecodeErr(t testing.TB, err error) {
	t.Helper()
	n := 0
	for _, s := range decodeErrors {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %q wraps %d Decode sentinels, want 1", err, n)
	}
	if strings.ContainsAny(err.Error(), "\r\n") {
		t.Fatalf("error %q is more than one line", err)
	}
}

// dir is a Directory over a fixed list of keys.
type dir struct {
	mission  incident.ID
	authors  []incident.Author
	careless bool // return every author, whatever the prefix
}

func (d *dir) Mission() incident.ID { return d.mission }

func (d *dir) Authors(prefix []byte) []incident.Author {
	if d.careless {
		return d.authors
	}
	var out []incident.Author
	for _, a := range d.authors {
		if bytes.HasPrefix(a[:], prefix) {
			out = append(out, a)
		}
	}
	return out
}

// gen makes random members and records of one mission. Members come with
// decoys: keys that share a member's 4-byte prefix (random otherwise, so
// no one can sign for them) and cost Decode a failed verification each.
type gen struct {
	rng     *rand.Rand
	mission incident.ID
	signers []*incident.Signer
	dir     *dir
}

func newGen(t testing.TB, seed uint64, members int) *gen {
	t.Helper()
	g := &gen{rng: rand.New(rand.NewPCG(seed, seed^0x5e75))}
	g.fill(g.mission[:])
	g.dir = &dir{mission: g.mission}
	for range members {
		s := g.signer(t)
		g.signers = append(g.signers, s)
		g.dir.authors = append(g.dir.authors, s.Author())
		for range g.rng.IntN(3) {
			g.dir.authors = append(g.dir.authors, g.decoy(s.Author(), authorPrefix))
		}
	}
	g.rng.Shuffle(len(g.dir.authors), func(i, j int) {
		g.dir.authors[i], g.dir.authors[j] = g.dir.authors[j], g.dir.authors[i]
	})
	return g
}

func (g *gen) fill(b []byte) {
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
}

func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	g.fill(b)
	return b
}

func (g *gen) signer(t testing.TB) *incident.Signer {
	t.Helper()
	s, err := incident.NewSigner(g.bytes(ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// decoy returns a random key sharing a's first n bytes.
func (g *gen) decoy(a incident.Author, n int) incident.Author {
	d := a
	g.fill(d[n:])
	return d
}

// created returns a claimed time, Unix ms: often now-ish, sometimes the
// edges of what a uvarint carries.
func (g *gen) created() time.Time {
	var ms int64
	switch g.rng.IntN(6) {
	case 0:
		ms = 0
	case 1:
		ms = g.rng.Int64N(1 << 14)
	case 2:
		ms = g.rng.Int64N(1 << 62)
	case 3:
		ms = math.MaxInt64 - g.rng.Int64N(1000)
	default:
		ms = 1_700_000_000_000 + g.rng.Int64N(400_000_000_000)
	}
	return time.UnixMilli(ms)
}

// compactSeal returns fake compact-seal bytes: the 0x01 mark, then
// random bytes (the codec never looks inside).
func (g *gen) compactSeal(n int) []byte {
	b := g.bytes(n)
	b[0] = compactSealMark
	return b
}

var sealedKinds = []incident.Kind{incident.KindReport, incident.KindCheckin, incident.KindAlert, incident.KindTally, incident.KindResponse}

// record signs a random record of a random member: a sealed observation
// (modes 0 and 1) or a plain receipt, notice or check-in (mode 2). Every
// one fits MaxSegments.
func (g *gen) record(t testing.TB) (*incident.Signed, *incident.Signer) {
	t.Helper()
	by := g.signers[g.rng.IntN(len(g.signers))]
	created := g.created()
	var s *incident.Signed
	var err error
	switch g.rng.IntN(6) {
	case 0:
		s, err = by.Sign(g.mission, incident.KindReceipt, created, incident.ReceiptPayload{IDs: [][]byte{g.bytes(32)}})
	case 1:
		s, err = by.Sign(g.mission, incident.KindNotice, created, incident.NoticePayload{Text: "Stay inside", Severity: uint64(1 + g.rng.IntN(4))})
	case 2:
		s, err = by.Sign(g.mission, incident.KindCheckin, created, incident.CheckinPayload{Status: "open", Station: "KE-0012"})
	case 3:
		s, err = by.SignSealed(g.mission, sealedKinds[g.rng.IntN(len(sealedKinds))], created,
			incident.SealedEnvelope{Target: g.bytes(targetLen)}, g.compactSeal(1+g.rng.IntN(300)))
	default:
		s, err = by.SignSealed(g.mission, sealedKinds[g.rng.IntN(len(sealedKinds))], created,
			incident.SealedEnvelope{}, g.compactSeal(1+g.rng.IntN(330)))
	}
	if err != nil {
		t.Fatal(err)
	}
	return s, by
}

// encode is Encode that fails the test on an error.
func encode(t testing.TB, s *incident.Signed) string {
	t.Helper()
	text, err := Encode(s)
	if err != nil {
		t.Fatalf("Encode %s %s: %v", s.Kind, s.ID, err)
	}
	return text
}

// mutate decodes text to its packed bytes, lets f change them and writes
// them back as text.
func mutate(t testing.TB, text string, f func([]byte) []byte) string {
	t.Helper()
	b, err := textEncoding.DecodeString(text)
	if err != nil {
		t.Fatal(err)
	}
	return textEncoding.EncodeToString(f(slices.Clone(b)))
}

// breakLines puts whitespace into text as phones and people do.
func breakLines(rng *rand.Rand, text string) string {
	seps := []string{"\n", "\r\n", " ", "\t", "\u00a0", "\n\n"}
	var b strings.Builder
	for i := 0; i < len(text); {
		n := min(1+rng.IntN(70), len(text)-i)
		b.WriteString(text[i : i+n])
		b.WriteString(seps[rng.IntN(len(seps))])
		i += n
	}
	return seps[rng.IntN(len(seps))] + b.String()
}
