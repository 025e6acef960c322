package recon

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestFingerprintKnownAnswers pins the fingerprint formula: SHA-256 of the
// sum of the IDs as little-endian 256-bit integers mod 2^256 (32 bytes,
// little-endian) followed by uvarint(count), truncated to 16 bytes. The
// expected values were computed independently (Python hashlib).
func TestFingerprintKnownAnswers(t *testing.T) {
	var ones, two [32]byte
	for i := range ones {
		ones[i] = 0xff
	}
	two[0] = 2
	var seq []Item
	for k := 1; k <= 300; k++ {
		var id [32]byte
		binary.LittleEndian.PutUint16(id[:], uint16(k))
		seq = append(seq, Item{Time: uint64(k), ID: id})
	}
	cases := []struct {
		name  string
		items []Item
		want  string
	}{
		{"empty", nil, "7f9c9e31ac8256ca2f258583df262dbc"},
		{"sum wraps mod 2^256", []Item{{1, ones}, {2, two}}, "6092a26dea6bc7bdc57a942f1df2d0d7"},
		{"two-byte count", seq, "b858b6d04cb9cca45bae49593cf6e51e"},
	}
	for _, tc := range cases {
		s := NewSet(tc.items)
		v := newActiveView(s)
		got := v.fingerprint(0, s.Len())
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("%s: fingerprint %x, want %s", tc.name, got, tc.want)
		}
	}
	// Any range costs the same as recomputing from scratch.
	s := NewSet(seq)
	v := newActiveView(s)
	for _, r := range [][2]int{{0, 0}, {3, 17}, {100, 300}, {299, 300}} {
		var sum u256
		for _, it := range s.items[r[0]:r[1]] {
			sum = sum.add(idValue(&it.ID))
		}
		if got, want := v.fingerprint(r[0], r[1]), fingerprint(sum, r[1]-r[0]); got != want {
			t.Errorf("range %v: prefix-sum fingerprint %x, direct %x", r, got, want)
		}
	}
}

// TestFingerprintAdditiveCollision documents a property of the summed
// fingerprint: ranges whose IDs differ but have equal sums and counts look
// identical, so their difference is not found. Random (hash) IDs make this
// a 2^-128 event; IDs that differ only in a few low bytes do not. Vigil's
// IDs are SHA-256 hashes of records.
func TestFingerprintAdditiveCollision(t *testing.T) {
	mk := func(last ...byte) []Item {
		var out []Item
		for _, b := range last {
			var id [32]byte
			id[0], id[31] = 0x42, b
			out = append(out, Item{Time: 1, ID: id})
		}
		return out
	}
	a, b := NewSet(mk(4, 10)), NewSet(mk(5, 9)) // 4+10 == 5+9
	va, vb := newActiveView(a), newActiveView(b)
	if va.fingerprint(0, 2) != vb.fingerprint(0, 2) {
		t.Fatal("expected an additive collision")
	}
}

func TestSeparator(t *testing.T) {
	var p, q Item
	p.Time, q.Time = 5, 9
	if b := separator(&p, &q); b.time != 9 || b.plen != 0 {
		t.Errorf("different times: %+v", b)
	}
	q.Time = 5
	p.ID[31], q.ID[31] = 1, 2
	if b := separator(&p, &q); b.plen != 32 || b.prefix != q.ID {
		t.Errorf("last byte: plen %d", b.plen)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		var it [2]Item
		for k := range it {
			it[k].Time = uint64(rng.IntN(3))
			for i := range it[k].ID {
				it[k].ID[i] = byte(rng.IntN(3))
			}
		}
		if compareItems(it[0], it[1]) == 0 {
			continue
		}
		if compareItems(it[0], it[1]) > 0 {
			it[0], it[1] = it[1], it[0]
		}
		b := separator(&it[0], &it[1])
		if !itemBefore(&it[0], &b) || itemBefore(&it[1], &b) {
			t.Fatalf("separator %+v not in (%v, %v]", b, it[0], it[1])
		}
		if b.plen > 0 && b.prefix[b.plen-1] == 0 {
			t.Fatalf("separator prefix ends in zero")
		}
		// Minimal: one byte shorter no longer separates.
		if b.plen > 0 {
			c := b
			c.plen--
			c.prefix[c.plen] = 0
			if itemBefore(&it[0], &c) && !itemBefore(&it[1], &c) {
				t.Fatalf("separator not minimal: %+v", b)
			}
		}
	}
}

// reencode decodes msg and writes it back with the encoders; a strict
// decoder and a canonical encoder give back the same bytes.
func reencode(msg []byte, maxIDs int) ([]byte, error) {
	m, err := parse(msg, maxIDs)
	if err != nil {
		return nil, err
	}
	switch m.kind {
	case kindFinal:
		return []byte{wireVersion}, nil
	case kindCoded:
		syms := make([]symbol, m.count)
		for k := range syms {
			syms[k] = readSymbol(m.syms, k)
		}
		return appendCoded(nil, m.start, m.plan, m.n, m.fp, syms), nil
	case kindSketch:
		return appendSketch(nil, m.n, m.logm, m.levels, m.cells, m.probeBounds, m.probeFPs), nil
	case kindTail:
		items := make([]Item, len(m.ids)/32)
		idx := make([]int, len(items))
		for k := range items {
			items[k].ID = [32]byte(m.ids[32*k:])
			idx[k] = k
		}
		return appendTail(nil, &m.tail, items, idx), nil
	case kindMore:
		return appendMore(nil, m.want), nil
	}
	r, err := newReader(msg, maxIDs)
	if err != nil {
		return nil, err
	}
	e := newEncoder(math.MaxInt32)
	for r.next() {
		rg := &r.cur
		switch rg.mode {
		case modeSkip:
			e.trySkip(&rg.hi)
		case modeFingerprint:
			e.writeFP(&rg.hi, rg.fp)
		case modeIDList:
			e.start(&rg.hi)
			e.buf = append(e.buf, modeIDList)
			e.buf = binary.AppendUvarint(e.buf, uint64(len(rg.ids)/32))
			e.buf = append(e.buf, rg.ids...)
		}
	}
	return e.finish(), r.err
}

// msgBuilder writes raw messages for the malformed-input tables.
type msgBuilder []byte

// msg starts a Ranges message.
func msg(b ...byte) msgBuilder { return append(msgBuilder{wireVersion, kindRanges}, b...) }

// kmsg starts a message of another kind.
func kmsg(kind byte, b ...byte) msgBuilder { return append(msgBuilder{wireVersion, kind}, b...) }

func (m msgBuilder) uv(v uint64) msgBuilder   { return binary.AppendUvarint(m, v) }
func (m msgBuilder) raw(b ...byte) msgBuilder { return append(m, b...) }
func (m msgBuilder) fp() msgBuilder           { return append(m, bytes.Repeat([]byte{0xAA}, fpSize)...) }
func (m msgBuilder) id(first byte) msgBuilder {
	var id [32]byte
	id[0], id[31] = first, 1
	return append(m, id[:]...)
}

// inf appends the +∞ bound.
func (m msgBuilder) inf() msgBuilder { return m.raw(0, infPrefixLen) }

func TestMalformedMessages(t *testing.T) {
	maxU := msg().uv(math.MaxUint64)[2:]
	cases := []struct {
		name string
		msg  []byte
		want error  // nil: accepted
		why  string // in the error text
	}{
		{"valid: one fingerprint", msg().inf().raw(modeFingerprint).fp(), nil, ""},
		{"valid: skip then IdList", msg(5, 0, modeSkip).inf().raw(modeIDList, 1).id(7), nil, ""},
		{"valid: max uint64 time", msg().raw(maxU...).raw(0, modeFingerprint).fp().inf().raw(modeFingerprint).fp(), nil, ""},
		{"valid: final", []byte{wireVersion}, nil, ""},
		{"no version byte", []byte{}, ErrMalformed, "empty message"},
		{"version 0", []byte{0}, ErrMalformed, "version 0"},
		{"version 1", append([]byte{1}, msg().inf().raw(modeFingerprint).fp()[2:]...), ErrMalformed, "version 1"},
		{"version 3", append([]byte{3}, msg().inf().raw(modeFingerprint).fp()[1:]...), ErrMalformed, "version 3"},
		{"unknown kind", kmsg(5), ErrMalformed, "unknown kind 5"},
		{"Ranges without a range", msg(), ErrMalformed, "without a range"},
		{"truncated time varint", msg(0x80), ErrMalformed, "bound time: truncated"},
		{"varint overflows 64 bits", msg(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), ErrMalformed, "overflows 64 bits"},
		{"non-minimal varint", msg(0x85, 0x00, 0, modeFingerprint).fp(), ErrMalformed, "non-minimal"},
		{"missing prefix length", msg(5), ErrMalformed, "prefix length: truncated"},
		{"prefix length 34", msg(0, 34), ErrMalformed, "prefix length 34 exceeds 32"},
		{"+inf with time delta", msg(5, infPrefixLen, modeFingerprint).fp(), ErrMalformed, "+∞ bound with time delta"},
		{"prefix truncated", msg(0, 3, 0xaa), ErrMalformed, "prefix truncated"},
		{"prefix ends in zero", msg(0, 2, 0xaa, 0x00, modeFingerprint).fp(), ErrMalformed, "ends in a zero byte"},
		{"first bound is the lowest point", msg(0, 0, modeFingerprint).fp(), ErrMalformed, "does not increase"},
		{"repeated bound", msg(5, 0, modeFingerprint).fp().raw(0, 0, modeFingerprint).fp(), ErrMalformed, "does not increase"},
		{"decreasing prefix", msg(5, 1, 0x10, modeFingerprint).fp().raw(0, 1, 0x05, modeFingerprint).fp(), ErrMalformed, "does not increase"},
		{"time overflows", msg().raw(maxU...).raw(0, modeFingerprint).fp().raw(1, 0, modeFingerprint).fp(), ErrMalformed, "time overflows"},
		{"missing mode", msg(5, 0), ErrMalformed, "mode: truncated"},
		{"unknown mode", msg(5, 0, 3), ErrMalformed, "unknown mode 3"},
		{"fingerprint truncated", msg(5, 0, modeFingerprint).raw(make([]byte, fpSize-1)...), ErrMalformed, "fingerprint truncated"},
		{"IdList longer than IDListThreshold", msg().inf().raw(modeIDList).uv(33), ErrMalformed, "exceeds IDListThreshold"},
		{"IdList count larger than the message", msg().inf().raw(modeIDList, 2).id(1), ErrMalformed, "truncated"},
		{"IdList count huge", msg().inf().raw(modeIDList).uv(math.MaxUint64), ErrMalformed, "exceeds IDListThreshold"},
		{"IdList duplicate IDs", msg().inf().raw(modeIDList, 2).id(1).id(1), ErrMalformed, "not strictly increasing"},
		{"IdList unsorted", msg().inf().raw(modeIDList, 2).id(2).id(1), ErrMalformed, "not strictly increasing"},
		{"IdList ID outside a same-time range", msg(5, 1, 0x10, modeSkip, 0, 1, 0x20, modeIDList, 1).id(0x30), ErrMalformed, "cannot lie in its range"},
		{"IdList ID below a same-time range", msg(5, 1, 0x10, modeSkip, 0, 1, 0x20, modeIDList, 1).id(0x01), ErrMalformed, "cannot lie in its range"},
		{"two Skips in a row", msg(5, 0, modeSkip, 1, 0, modeSkip).inf().raw(modeFingerprint).fp(), ErrMalformed, "two Skip ranges"},
		{"trailing Skip", msg(5, 0, modeSkip), ErrMalformed, "trailing Skip"},
		{"Skip to +inf", msg().inf().raw(modeSkip), ErrMalformed, "trailing Skip"},
		{"range after +inf", msg().inf().raw(modeFingerprint).fp().raw(5, 0, modeFingerprint).fp(), ErrMalformed, "after the +∞ bound"},
		{"trailing byte", msg().inf().raw(modeFingerprint).fp().raw(0), ErrMalformed, "after the +∞ bound"},
		{"trailing partial range", msg(5, 0, modeFingerprint).fp().raw(7), ErrMalformed, "truncated"},
		{"too large", append(msg(), make([]byte, DefaultMaxMessageBytes)...), ErrMessageTooLarge, "exceeds MaxMessageBytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, x := range []*Session{NewResponder(nil, Config{}), NewResponder(testSet(t), Config{})} {
				_, _, err := x.Reply(tc.msg)
				if tc.want == nil {
					if err != nil {
						t.Fatalf("valid message rejected: %v", err)
					}
					if re, err := reencode(tc.msg, 32); err != nil || !bytes.Equal(re, tc.msg) {
						t.Fatalf("re-encoded %x, %v", re, err)
					}
					continue
				}
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.why) {
					t.Fatalf("Reply(%x) = %v, want %v (%s)", tc.msg, err, tc.want, tc.why)
				}
				if _, _, err2 := x.Reply(msg()); !errors.Is(err2, tc.want) {
					t.Fatalf("session still alive after error: %v", err2)
				}
				if len(x.have)+len(x.need) != 0 {
					t.Fatalf("rejected message changed state")
				}
			}
		})
	}
}

func testSet(t testing.TB) *Set {
	rng := rand.New(rand.NewPCG(1, 1))
	g := newGen(rng, patScattered)
	var items []Item
	for range 500 {
		items = append(items, g.item(false))
	}
	return NewSet(items)
}

// TestProtocolViolations: replies that decode but contradict the
// initiator's IdList.
func TestProtocolViolations(t *testing.T) {
	small := NewSet([]Item{{1, [32]byte{1}}, {2, [32]byte{2}}, {3, [32]byte{3}}})
	cases := []struct {
		name string
		msg  []byte
	}{
		{"reply splits the IdList range", msg(2, 0, modeFingerprint).fp().inf().raw(modeFingerprint).fp()},
		{"reply answers an IdList with an IdList", msg().inf().raw(modeIDList, 0)},
		{"deferral that is not a Fingerprint to +inf", msg(9, 0, modeFingerprint).fp()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ini := NewInitiator(small, Config{})
			first, err := ini.Initiate()
			if err != nil {
				t.Fatal(err)
			}
			if want := msg().inf().raw(modeIDList, 3); !bytes.HasPrefix(first, want) {
				t.Fatalf("first message %x, want an IdList of everything", first)
			}
			if _, _, err := ini.Reply(tc.msg); !errors.Is(err, ErrProtocol) {
				t.Fatalf("err = %v, want ErrProtocol", err)
			}
		})
	}
}

// TestWireRoundTrip: every message of real exchanges decodes strictly and
// re-encodes to the same bytes (checked inside exchange).
func TestWireRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	for pat := range numPatterns {
		c := genPair(rng, pat, 1500, 100)
		runCase(t, c, Config{Branch: 4, MaxMessageBytes: 512, MaxRounds: 1 << 20})
	}
}

func TestSortIDs(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for n := range 40 {
		ids := make([][32]byte, n)
		for i := range ids {
			ids[i][0] = byte(rng.IntN(256))
			ids[i][31] = byte(i)
		}
		var packed []byte
		for _, id := range ids {
			packed = append(packed, id[:]...)
		}
		sortIDs(packed)
		slices.SortFunc(ids, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
		for i, id := range ids {
			if !bytes.Equal(packed[32*i:32*i+32], id[:]) {
				t.Fatalf("n=%d: position %d differs", n, i)
			}
		}
	}
}
