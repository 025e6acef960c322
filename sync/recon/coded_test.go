package recon

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCodedKnownAnswers pins the item hash, the index mapping, the coded
// symbols, the first message and the sketch. The expected values were
// computed independently, in exact integer arithmetic, by
// testdata/coded_kat.py.
func TestCodedKnownAnswers(t *testing.T) {
	var id [32]byte
	for i := range id {
		id[i] = byte(i)
	}
	if got := hashID(&id, keySeed); got != 0x3ef10608716994e7 {
		t.Errorf("hashID(seed) = %016x", got)
	}
	if got := hashID(&id, keyAux); got != 0xe74375064bebc57f {
		t.Errorf("hashID(aux) = %016x", got)
	}
	if got := checksum(&id); got != 0x4bebc57f {
		t.Errorf("checksum = %08x", got)
	}
	m := newMapping(&id)
	got := []uint64{m.idx}
	for range 15 {
		got = append(got, m.next())
	}
	want := []uint64{0, 1, 2, 3, 6, 10, 18, 24, 135, 164, 441, 586, 898, 3310, 17507, 19853}
	if !slices.Equal(got, want) {
		t.Errorf("indices %v, want %v", got, want)
	}

	var items []Item
	for k := range 40 {
		items = append(items, Item{Time: uint64(1000 + k), ID: sha256.Sum256(append([]byte("vigil-recon-kat"), byte(k)))})
	}
	s := NewSet(items)
	first, err := NewInitiator(s, Config{}).Initiate()
	if err != nil {
		t.Fatal(err)
	}
	if h := sha256.Sum256(first); len(first) != 244 || hex.EncodeToString(h[:]) != "ef949ba7e034700500d0d7d7492733bef3e00b278d9a4a0477aee1d64b166160" {
		t.Errorf("first message of %d bytes, SHA-256 %x", len(first), h)
	}
	var syms []byte
	for _, sy := range s.codedSymbols(6, 8) {
		syms = appendSymbol(syms, &sy)
	}
	if hex.EncodeToString(syms) != "97f4344eb8e98e36058340c678f9db900e6192dd37a634add8c13fd10145f861a52ee3b90526298a8f43a14c8eced4b1ef9ce3512ed93a5c5f829d25c3b75cae48ad45005602311a3709" {
		t.Errorf("symbols [6, 8) = %x", syms)
	}
	if got := hex.EncodeToString(s.sketch(2, 4)); got != "48c31eaf5100c00079f618fc6d077f15" {
		t.Errorf("sketch = %s", got)
	}
}

// codedSymbols is the reference computation of a set's coded symbols
// [lo, hi), each item's indices walked from 0.
func (s *Set) codedSymbols(lo, hi uint64) []symbol {
	out := make([]symbol, hi-lo)
	for i := range s.items {
		id := &s.items[i].ID
		k := limbs(id)
		c := checksum(id)
		m := newMapping(id)
		for j := uint64(0); j < hi; j = m.next() {
			if j >= lo {
				out[j-lo].toggle(&k, c, 1)
			}
		}
	}
	return out
}

// TestSymbolStream: batches of a symbolStream are the reference symbols.
func TestSymbolStream(t *testing.T) {
	s := NewSet(randomIDs(rand.New(rand.NewPCG(17, 17)), 3000))
	st := symbolStream{set: s}
	var got []symbol
	for _, hi := range []uint64{6, 7, 50, 51, 400, 2000} {
		got = append(got, st.symbols(hi)...)
	}
	if want := s.codedSymbols(0, 2000); !slices.Equal(got, want) {
		t.Fatal("streamed symbols differ from the reference")
	}
}

// TestMappingDistribution: index j is hit with probability 2/(j+2).
func TestMappingDistribution(t *testing.T) {
	const n = 200000
	hits := make([]int, 4096)
	rng := rand.New(rand.NewPCG(8, 8))
	for range n {
		var id [32]byte
		for i := range id {
			id[i] = byte(rng.Uint32())
		}
		m := newMapping(&id)
		for j := uint64(0); j < uint64(len(hits)); j = m.next() {
			hits[j]++
		}
	}
	for _, j := range []int{0, 1, 2, 5, 10, 50, 200, 1000, 4000} {
		p := 2 / float64(j+2)
		exp := n * p
		sd := math.Sqrt(n * p * (1 - p))
		if math.Abs(float64(hits[j])-exp) > 5*sd+1 {
			t.Errorf("index %d hit %d times, expected %.0f ± %.0f", j, hits[j], exp, sd)
		}
	}
}

// TestMappingLimit: indices stop at maxSymbols.
func TestMappingLimit(t *testing.T) {
	m := mapping{rng: 1, idx: maxSymbols - 1}
	for range 100 {
		if j := m.next(); j != noIndex && j >= maxSymbols {
			t.Fatalf("index %d", j)
		}
	}
	m = mapping{rng: 1, idx: maxSymbols}
	if m.next() != noIndex {
		t.Fatal("index past maxSymbols")
	}
}

func randomIDs(rng *rand.Rand, n int) []Item {
	out := make([]Item, n)
	for i := range out {
		for k := range out[i].ID {
			out[i].ID[k] = byte(rng.Uint32())
		}
		out[i].Time = uint64(rng.IntN(1 << 20))
	}
	return out
}

// TestEstimators: the sketch estimates a difference within a factor of
// 1.5 nearly always, and the empty symbols of a failed decoding estimate
// a large one within 15%.
func TestEstimators(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, d := range []int{3, 30, 300, 3000} {
		bad := 0
		for range 20 {
			its := randomIDs(rng, d)
			a, b := NewSet(its[:d/2]), NewSet(its[d/2:])
			levels := sketchLevels(sketchLogBuckets, 50000, 50000)
			e := estimateDiff(a.sketch(sketchLogBuckets, levels), b.sketch(sketchLogBuckets, levels), sketchLogBuckets, levels, 1, 100000)
			if e < float64(d)/1.5 || e > float64(d)*1.5 {
				bad++
			}
		}
		if bad > 1 {
			t.Errorf("d=%d: sketch estimate off by more than 1.5x in %d of 20", d, bad)
		}
	}
	for _, d := range []int{1000, 3000} {
		its := randomIDs(rng, d)
		syms := NewSet(its).codedSymbols(0, uint64(d*6/5))
		empty := make([]bool, len(syms))
		for j := range syms {
			empty[j] = syms[j].isZero()
		}
		e, n := estimateFromSymbols(empty)
		if n < 16 || math.Abs(e/float64(d)-1) > 0.15 {
			t.Errorf("d=%d: estimate %.0f from %d empty symbols", d, e, n)
		}
	}
}

// TestCodedTarget: across seeds, both patterns and d from 1 to 1000 at
// N = 10,000, the default exchange costs at most 3·d·32+2048 bytes, in at
// most one round trip more than ranges alone, and finds the difference.
func TestCodedTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("large sets")
	}
	for _, d := range []int{1, 3, 10, 100, 1000} {
		for _, pat := range []pattern{patScattered, patNewest} {
			for seed := range uint64(3) {
				c := genPair(rand.New(rand.NewPCG(seed, uint64(d))), pat, 10000, d)
				a, b := NewSet(c.a), NewSet(c.b)
				r := exchange(t, a, b, Config{})
				checkDiff(t, r, c.aOnly, c.bOnly)
				plain := exchange(t, a, b, Config{RangeOnly: true})
				checkDiff(t, plain, c.aOnly, c.bOnly)
				bytes := r.ini.BytesSent() + r.resp.BytesSent()
				if target := 3*d*32 + 2048; bytes > target {
					t.Errorf("%s seed %d: %d bytes, target %d", c.name, seed, bytes, target)
				}
				if r.ini.Rounds() > plain.ini.Rounds()+1 {
					t.Errorf("%s seed %d: %d rounds, plain %d", c.name, seed, r.ini.Rounds(), plain.ini.Rounds())
				}
			}
		}
	}
}

// TestCodedPaths checks which way each kind of difference is settled.
func TestCodedPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	kinds := func(r exchangeResult, msgs [][]byte) string {
		var s []byte
		for _, m := range msgs {
			if len(m) == 1 {
				s = append(s, '.')
			} else {
				s = append(s, "RCKMT"[m[1]])
			}
		}
		return string(s)
	}
	cases := []struct {
		pat  pattern
		n, d int
		want string // message kinds: Ranges, Coded, sKetch, More, Tail, final
	}{
		{patIdentical, 3000, 0, "C."},
		{patScattered, 3000, 1, "C."},
		{patScattered, 3000, 100, "CKC."},
		{patNewest, 3000, 100, "CKT."},
		{patDisjoint, 300, 0, "CKR"}, // then ranges
	}
	for _, tc := range cases {
		c := genPair(rng, tc.pat, tc.n, tc.d)
		var msgs [][]byte
		r := exchangeRecord(t, NewSet(c.a), NewSet(c.b), Config{}, &msgs)
		checkDiff(t, r, c.aOnly, c.bOnly)
		if got := kinds(r, msgs); !bytes.HasPrefix([]byte(got), []byte(tc.want)) {
			t.Errorf("%s: messages %s, want %s", c.name, got, tc.want)
		}
	}
}

// exchangeRecord runs exchange and records every message.
func exchangeRecord(t *testing.T, a, b *Set, c Config, msgs *[][]byte) exchangeResult {
	t.Helper()
	ini, resp := NewInitiator(a, c), NewResponder(b, c)
	m, err := ini.Initiate()
	if err != nil {
		t.Fatal(err)
	}
	r := exchangeResult{ini: ini, resp: resp}
	cur, other := resp, ini
	for range 1000 {
		*msgs = append(*msgs, m)
		r.msgs++
		out, done, err := cur.Reply(m)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			if out != nil {
				*msgs = append(*msgs, out)
				r.msgs++
				if _, _, err := other.Reply(out); err != nil {
					t.Fatal(err)
				}
			}
			return r
		}
		m, cur, other = out, other, cur
	}
	t.Fatal("no end")
	return r
}

// TestDuplicateIDFallsBack: an ID held twice under two times decodes as a
// difference the responder's own set contradicts; the responder falls
// back to ranges, which report it.
func TestDuplicateIDFallsBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	shared := randomIDs(rng, 2000)
	x := shared[0]
	x.Time = 1 << 30 // newer than every other item
	a := append(slices.Clone(shared), x)
	var msgs [][]byte
	r := exchangeRecord(t, NewSet(a), NewSet(shared), Config{}, &msgs)
	if msgs[1][1] != kindRanges {
		t.Errorf("responder answered kind %d, want a fallback to Ranges", msgs[1][1])
	}
	got := append(append(r.ini.Have(), r.resp.Need()...), r.ini.Need()...)
	got = append(got, r.resp.Have()...)
	if len(got) != 1 || got[0] != x.ID {
		t.Errorf("reported %x, want just the duplicated ID", got)
	}
}

// codedPeer drives a responder through the first message of a real
// initiator and returns both with the responder's answer.
func codedPeer(t *testing.T, d int) (ini, resp *Session, answer []byte) {
	t.Helper()
	c := genPair(rand.New(rand.NewPCG(14, uint64(d))), patScattered, 1000, d)
	ini, resp = NewInitiator(NewSet(c.a), Config{}), NewResponder(NewSet(c.b), Config{})
	first, err := ini.Initiate()
	if err != nil {
		t.Fatal(err)
	}
	answer, _, err = resp.Reply(first)
	if err != nil {
		t.Fatal(err)
	}
	return ini, resp, answer
}

// TestBadTailFallsBack: a Tail that does not account for the initiator's
// fingerprint makes the responder fall back to ranges, learning nothing.
func TestBadTailFallsBack(t *testing.T) {
	_, resp, answer := codedPeer(t, 50)
	if answer[1] != kindSketch {
		t.Fatalf("answer kind %d, want Sketch", answer[1])
	}
	out, done, err := resp.Reply(kmsg(kindTail, 5, 0, 1).id(9))
	if err != nil || done || out[1] != kindRanges {
		t.Fatalf("Reply(bad Tail) = %x, %v, %v; want Ranges", out, done, err)
	}
	if len(resp.Have())+len(resp.Need()) != 0 {
		t.Fatal("learned from a bad Tail")
	}
}

// TestUndecodableFallsBack: symbols that never decode make the responder
// fall back to ranges within maxBatches Coded messages.
func TestUndecodableFallsBack(t *testing.T) {
	_, resp, _ := codedPeer(t, 50)
	rng := rand.New(rand.NewPCG(15, 15))
	start := uint64(firstSymbols)
	for k := 0; ; k++ {
		syms := make([]symbol, 20)
		for i := range syms {
			syms[i] = symbol{key: [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}, chk: rng.Uint32(), cnt: 7}
		}
		out, done, err := resp.Reply(appendCoded(nil, start, start+20, 0, [fpSize]byte{}, syms))
		if err != nil || done {
			t.Fatalf("batch %d: %v, %v", k, done, err)
		}
		if out[1] == kindRanges {
			if k+2 > maxBatches {
				t.Fatalf("fell back after %d batches", k+2)
			}
			break
		}
		if out[1] != kindMore || k > maxBatches {
			t.Fatalf("batch %d: answer kind %d", k, out[1])
		}
		start += 20
	}
	if len(resp.Have())+len(resp.Need()) != 0 {
		t.Fatal("learned from garbage symbols")
	}
}

// TestCodedProtocolViolations: coded messages out of turn.
func TestCodedProtocolViolations(t *testing.T) {
	var sym [symbolSize]byte
	coded := func(start, plan byte) []byte {
		m := kmsg(kindCoded, start)
		if start == 0 {
			m = m.raw(9).raw(make([]byte, fpSize)...)
		}
		return m.raw(plan, 1).raw(sym[:]...)
	}
	sketch := kmsg(kindSketch, 9, 0, 2, 0, 0, 0)
	tail := kmsg(kindTail, 5, 0, 0)
	fresh := func() *Session { return NewResponder(testSet(t), Config{}) }
	cases := []struct {
		name string
		x    func() *Session // a session ready to Reply
		msg  []byte
	}{
		{"Coded to the initiator", func() *Session { ini, _, _ := codedPeer(t, 50); return ini }, coded(6, 7)},
		{"Sketch to a responder", fresh, sketch},
		{"More to a responder", fresh, kmsg(kindMore, 9)},
		{"Tail before the sketch", fresh, tail},
		{"Coded not from 0 first", fresh, coded(6, 7)},
		{"Coded from 0 twice", func() *Session { _, resp, _ := codedPeer(t, 50); return resp }, coded(0, 1)},
		{"Coded with a gap", func() *Session { _, resp, _ := codedPeer(t, 50); return resp }, coded(7, 8)},
		{"Tail to the initiator", func() *Session { ini, _, _ := codedPeer(t, 50); return ini }, tail},
		{"More before the sketch", func() *Session { ini, _, _ := codedPeer(t, 50); return ini }, kmsg(kindMore, 90)},
		{"Sketch twice", func() *Session {
			ini, _, answer := codedPeer(t, 50)
			if _, _, err := ini.Reply(answer); err != nil {
				t.Fatal(err)
			}
			return ini
		}, sketch},
		{"More not beyond what was sent", func() *Session {
			ini, _, answer := codedPeer(t, 50)
			if _, _, err := ini.Reply(answer); err != nil {
				t.Fatal(err)
			}
			return ini
		}, kmsg(kindMore, 6)},
		{"More beyond the cap", func() *Session {
			ini, _, answer := codedPeer(t, 50)
			if _, _, err := ini.Reply(answer); err != nil {
				t.Fatal(err)
			}
			return ini
		}, kmsg(kindMore).uv(maxSymbols)},
		{"Coded after Ranges", func() *Session {
			x := fresh()
			if _, _, err := x.Reply(msg().inf().raw(modeFingerprint).fp()); err != nil {
				t.Fatal(err)
			}
			return x
		}, coded(0, 1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := tc.x()
			if _, _, err := x.Reply(tc.msg); !errors.Is(err, ErrProtocol) {
				t.Fatalf("err = %v, want ErrProtocol", err)
			}
		})
	}
}

// TestMalformedCodedMessages: the strict rules of the coded kinds.
func TestMalformedCodedMessages(t *testing.T) {
	var sym [symbolSize]byte
	fp := make([]byte, fpSize)
	cases := []struct {
		name string
		msg  []byte
		why  string // "" for valid
	}{
		{"valid Coded", kmsg(kindCoded, 0, 5).raw(fp...).raw(1, 1).raw(sym[:]...), ""},
		{"valid later Coded", kmsg(kindCoded, 6, 9, 2).raw(sym[:]...).raw(sym[:]...), ""},
		{"valid Sketch", kmsg(kindSketch, 7, 1, 2, 1, 2, 3, 4, 0), ""},
		{"valid Sketch with probes", kmsg(kindSketch, 7, 0, 2, 1, 2, 2, 5, 0, 1, 2, 3, 4, 0, 1, 9, 1, 2, 3, 4), ""},
		{"valid More", kmsg(kindMore, 1), ""},
		{"valid Tail", kmsg(kindTail, 5, 0, 2).id(1).id(2), ""},
		{"valid empty Tail", kmsg(kindTail, 5, 1, 7, 0), ""},
		{"Coded without symbols", kmsg(kindCoded, 6, 9, 0), "empty or beyond plan"},
		{"Coded beyond plan", kmsg(kindCoded, 6, 6, 1).raw(sym[:]...), "empty or beyond plan"},
		{"Coded plan too large", kmsg(kindCoded, 6).uv(maxSymbols + 1).raw(1).raw(sym[:]...), "plan"},
		{"Coded count huge", kmsg(kindCoded, 6).uv(maxSymbols).uv(maxSymbols + 1), "symbol count"},
		{"Coded truncated symbol", kmsg(kindCoded, 6, 9, 1).raw(sym[:36]...), "truncated"},
		{"Coded trailing byte", kmsg(kindCoded, 6, 9, 1).raw(sym[:]...).raw(0), "trailing"},
		{"Coded truncated fingerprint", kmsg(kindCoded, 0, 5).raw(fp[:9]...), "fingerprint truncated"},
		{"Coded count too large", kmsg(kindCoded, 0).uv(maxWireCount + 1), "item count"},
		{"Coded non-minimal varint", kmsg(kindCoded, 0x86, 0, 9, 1).raw(sym[:]...), "non-minimal"},
		{"Sketch 1 level", kmsg(kindSketch, 7, 0, 1, 0, 0), "levels"},
		{"Sketch too many levels", kmsg(kindSketch, 7, 6, 20), "levels"},
		{"Sketch 128 buckets", kmsg(kindSketch, 7, 7, 2), "buckets"},
		{"Sketch cells truncated", kmsg(kindSketch, 7, 1, 2, 1, 2, 3), "cells truncated"},
		{"Sketch without probe count", kmsg(kindSketch, 7, 0, 2, 1, 2), "probe count: truncated"},
		{"Sketch too many probes", kmsg(kindSketch, 7, 0, 2, 1, 2).uv(maxProbes + 1), "probe count"},
		{"Sketch probes not increasing", kmsg(kindSketch, 7, 0, 2, 1, 2, 2, 5, 0, 1, 2, 3, 4, 0, 0, 1, 2, 3, 4), "does not increase"},
		{"Sketch probe at the lowest point", kmsg(kindSketch, 7, 0, 2, 1, 2, 1, 0, 0, 1, 2, 3, 4), "does not increase"},
		{"Sketch probe prefix ends in zero", kmsg(kindSketch, 7, 0, 2, 1, 2, 1, 5, 1, 0, 1, 2, 3, 4), "zero byte"},
		{"Sketch probe +inf", kmsg(kindSketch, 7, 0, 2, 1, 2, 1, 0, infPrefixLen), "prefix length"},
		{"Sketch probe fingerprint truncated", kmsg(kindSketch, 7, 0, 2, 1, 2, 1, 5, 0, 1, 2, 3), "probe fingerprint truncated"},
		{"Sketch trailing byte", kmsg(kindSketch, 7, 0, 2, 1, 2, 0, 0), "trailing"},
		{"More 0", kmsg(kindMore, 0), "want 0"},
		{"More too large", kmsg(kindMore).uv(maxSymbols + 1), "want"},
		{"More truncated", kmsg(kindMore, 0x80), "truncated"},
		{"Tail unsorted", kmsg(kindTail, 5, 0, 2).id(2).id(1), "not strictly increasing"},
		{"Tail ID below its bound", kmsg(kindTail).uv(math.MaxUint64).raw(1, 0x40, 1).id(0x01), "cannot lie"},
		{"Tail at the lowest point", kmsg(kindTail, 0, 0, 0), "does not increase"},
		{"Tail truncated", kmsg(kindTail, 5, 0, 2).id(1), "truncated"},
		{"Tail +inf", kmsg(kindTail, 0, infPrefixLen, 0), "prefix length"},
		{"Tail trailing byte", kmsg(kindTail, 5, 0, 0, 0), "trailing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(tc.msg, 32)
			if tc.why == "" {
				if err != nil {
					t.Fatalf("valid message rejected: %v", err)
				}
				if re, err := reencode(tc.msg, 32); err != nil || !bytes.Equal(re, tc.msg) {
					t.Fatalf("re-encoded %x, %v", re, err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) || !bytes.Contains([]byte(err.Error()), []byte(tc.why)) {
				t.Fatalf("parse(%x) = %v, want ErrMalformed (%s)", tc.msg, err, tc.why)
			}
			x := NewResponder(testSet(t), Config{})
			if _, _, err := x.Reply(tc.msg); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Reply = %v", err)
			}
		})
	}
}

// TestCodedSmallMessages: with the smallest messages, the coded phase
// still fits every message and the exchange finds the difference.
func TestCodedSmallMessages(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	for _, pat := range []pattern{patScattered, patNewest} {
		for _, d := range []int{2, 20, 60} {
			c := genPair(rng, pat, 3000, d)
			r := runCase(t, c, Config{MaxMessageBytes: MinMaxMessageBytes, MaxRounds: 1 << 20})
			if r.maxMsg > MinMaxMessageBytes {
				t.Errorf("%s: message of %d bytes", c.name, r.maxMsg)
			}
		}
	}
}

func ExampleSession() {
	rng := rand.New(rand.NewPCG(1, 1))
	shared := randomIDs(rng, 10000)
	a := NewSet(append(slices.Clone(shared), randomIDs(rng, 30)...))
	b := NewSet(append(slices.Clone(shared), randomIDs(rng, 20)...))
	ini, resp := NewInitiator(a, Config{}), NewResponder(b, Config{})
	msg, _ := ini.Initiate()
	cur := resp
	for {
		out, done, _ := cur.Reply(msg)
		if done {
			if out != nil { // the final message, for the other side
				if cur == resp {
					ini.Reply(out)
				} else {
					resp.Reply(out)
				}
			}
			break
		}
		msg = out
		if cur == resp {
			cur = ini
		} else {
			cur = resp
		}
	}
	fmt.Println("initiator lacks", len(ini.Need())+len(resp.Have()), "responder lacks", len(ini.Have())+len(resp.Need()), "round trips", ini.Rounds())
	// Output: initiator lacks 20 responder lacks 30 round trips 2
}
