package incident

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// sameDecode fails unless DecodeOwn gives for raw (read under its ID)
// what DecodeStored gives: the same record or the same error, and the
// same payload, newer fields and error from DecodePayloadNewer.
//
// With fast, the record must have been read by the hand reader; without
// (any bytes), the reader may give way to DecodeStored's path.
func sameDecode(t *testing.T, name string, raw []byte, fast bool) {
	t.Helper()
	want, werr := DecodeStored(raw)
	got, gerr := DecodeOwn(raw, IDOf(raw))
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || IsNewer(gerr) != IsNewer(werr) || IsRejected(gerr) != IsRejected(werr) {
		t.Fatalf("%s: DecodeOwn error %v, DecodeStored %v", name, gerr, werr)
	}
	if werr != nil {
		return
	}
	if fast && !got.own {
		t.Fatalf("%s: DecodeOwn's record not marked as read from the store", name)
	}
	g := *got
	g.own = false
	if !reflect.DeepEqual(&g, want) {
		t.Fatalf("%s: DecodeOwn\n%+v\nDecodeStored\n%+v", name, g, *want)
	}
	wp, wn, werr := want.DecodePayloadNewer()
	gp, gn, gerr := got.DecodePayloadNewer()
	if !fast && werr != nil {
		// A payload the store would never have written (not canonical):
		// the own path leaves that check to the one made before storing.
		return
	}
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(gp, wp) || !reflect.DeepEqual(gn, wn) {
		t.Fatalf("%s: payload from DecodeOwn %+v %q %v, from DecodeStored %+v %q %v", name, gp, gn, gerr, wp, wn, werr)
	}
}

// DecodeOwn, the decoding of the records a store reads back in its scans
// (no second encoding, no hash, no copy), gives exactly what
// DecodeStored gives on the same bytes: the recorded records of older
// and newer builds (fields this build does not know, kinds it does not
// know, a newer schema version, envelopes it rejects), and records of
// every shape this build signs, sealed ones included.
func TestDecodeOwnAsDecodeStored(t *testing.T) {
	f, cases := loadFormatV0(t)
	for _, c := range cases {
		raw, err := base64.StdEncoding.DecodeString(c.Record)
		if err != nil {
			t.Fatal(err)
		}
		sameDecode(t, c.Name, raw, true)
	}
	obs := f.enroll(f.founder, "own", RoleObserver)
	rep := f.sign(obs, KindReport, ReportPayload{Category: "polling.late_opening", Severity: 2, Occurred: f.next().UnixMilli(),
		Title: "late", Description: "opened at 9, \"late\"", Station: "PS-1", Lat: Micro(1.5), Lon: Micro(-3), Attachments: [][]byte{make([]byte, 32)}})
	sealed, err := obs.SignSealed(f.ms.ID, KindAmend, f.next(), SealedEnvelope{Target: rep.ID.Bytes()}, []byte("ciphertext"))
	if err != nil {
		t.Fatal(err)
	}
	newerField := signRaw(t, f, obs, KindReport, map[uint64]any{1: "polling.late_opening", 2: 1, 3: 5, 9: "t", 16: "newer"})
	for name, raw := range map[string][]byte{
		"genesis":                f.ms.Genesis.Raw,
		"report":                 rep.Raw,
		"review":                 f.sign(f.founder, KindReview, ReviewPayload{Target: rep.ID.Bytes(), Status: "verified", Note: "ok"}).Raw,
		"sealed amend":           sealed.Raw,
		"report with field 16":   newerField.Raw,
		"newer kind":             signRaw(t, f, obs, Kind("zebra"), map[uint64]any{1: "x"}).Raw,
		"trailing byte":          append(append([]byte(nil), rep.Raw...), 0),
		"cut short":              rep.Raw[:len(rep.Raw)-3],
		"empty":                  nil,
		"not a map":              mustMarshal(t, []int{1, 2}),
		"over the size limit":    make([]byte, MaxRecordBytes+1),
		"version 0, as a record": rawRecord(t, obs, Record{Version: 0, Mission: f.ms.ID.Bytes(), Author: obs.pub[:], Kind: KindReport, Payload: mustMarshal(t, 1)}),
	} {
		sameDecode(t, name, raw, true)
	}
	// The records this build writes take the fast path.
	for name, raw := range map[string][]byte{"genesis": f.ms.Genesis.Raw, "report": rep.Raw, "sealed amend": sealed.Raw, "report with field 16": newerField.Raw} {
		var r Record
		if !r.readOwn(raw) {
			t.Errorf("%s: not read by the envelope's fast path", name)
		}
	}
	// Those bytes changed at random: DecodeOwn's record or error is
	// DecodeStored's.
	rng := rand.New(rand.NewPCG(3, 4))
	for _, raw := range [][]byte{rep.Raw, sealed.Raw, f.ms.Genesis.Raw} {
		for range 3000 {
			m := append([]byte(nil), raw...)
			for range 1 + rng.IntN(2) {
				switch rng.IntN(4) {
				case 0:
					if len(m) > 0 {
						m = m[:rng.IntN(len(m))]
					}
				case 1, 2:
					if len(m) > 0 {
						m[rng.IntN(min(len(m), 40))] = byte(rng.Uint32()) // mostly the envelope's heads
					}
				case 3:
					if len(m) > 0 {
						m[rng.IntN(len(m))] ^= 1 << rng.IntN(8)
					}
				}
			}
			want, werr := DecodeStored(m)
			got, gerr := DecodeOwn(m, IDOf(m))
			if fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Fatalf("% x: DecodeOwn error %v, DecodeStored %v", m, gerr, werr)
			}
			if werr == nil {
				g := *got
				g.own = false
				if !reflect.DeepEqual(&g, want) {
					t.Fatalf("% x: DecodeOwn\n%+v\nDecodeStored\n%+v", m, g, *want)
				}
			}
		}
	}
}

// OpenPlainOwn, for the opened bodies a store keeps, accepts and refuses
// what OpenPlain does, and gives the same payload: bodies that answer
// another target or are of another kind, and ones with a field a newer
// build added. An invalid payload, which OpenPlain refused before any
// body was kept, it does not check again: it gives it as it decodes.
func TestOpenPlainOwnAsOpenPlain(t *testing.T) {
	f := newFixture(t, "open-plain-own")
	obs := f.enroll(f.founder, "observer", RoleObserver)
	rep := f.sign(obs, KindReport, ReportPayload{Category: "polling.late_opening", Severity: 2, Occurred: f.next().UnixMilli(), Title: "late"})
	other := f.sign(obs, KindReport, ReportPayload{Category: "polling.late_opening", Severity: 2, Occurred: f.next().UnixMilli(), Title: "other"})
	amend := AmendPayload{Target: rep.ID.Bytes(), Report: ReportPayload{Category: "polling.closure", Severity: 3, Occurred: 7, Title: "closed"}}
	plain := func(kind Kind, p any) []byte {
		b, err := SealedPlain(kind, p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	newerBody := mustMarshal(t, map[uint64]any{1: string(KindAmend),
		2: cbor.RawMessage(mustMarshal(t, map[uint64]any{1: rep.ID.Bytes(), 2: map[uint64]any{1: "polling.closure", 2: 3, 3: 7, 9: "closed", 16: "newer"}})),
		3: []byte{}})
	for name, c := range map[string]struct {
		target []byte
		body   []byte
	}{
		"amend":                    {rep.ID.Bytes(), plain(KindAmend, amend)},
		"amend of another":         {other.ID.Bytes(), plain(KindAmend, amend)},
		"a review in an amend":     {rep.ID.Bytes(), plain(KindReview, ReviewPayload{Target: rep.ID.Bytes(), Status: "verified"})},
		"invalid amend":            {rep.ID.Bytes(), plain(KindAmend, AmendPayload{Target: rep.ID.Bytes()})},
		"a field of a newer build": {rep.ID.Bytes(), newerBody},
		"not CBOR":                 {rep.ID.Bytes(), []byte{0xff, 1}},
	} {
		rec, err := obs.SignSealed(f.ms.ID, KindAmend, f.next(), SealedEnvelope{Target: c.target}, []byte("ciphertext"))
		if err != nil {
			t.Fatal(err)
		}
		own, err := DecodeOwn(rec.Raw, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		wp, werr := OpenPlain(rec, c.body)
		gp, gerr := OpenPlainOwn(own, c.body)
		if name == "invalid amend" {
			if werr == nil || gerr != nil || gp.(*AmendPayload).Report.Title != "" {
				t.Errorf("%s: OpenPlain %v; OpenPlainOwn %+v, %v", name, werr, gp, gerr)
			}
			continue
		}
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(gp, wp) {
			t.Errorf("%s: OpenPlainOwn %+v, %v; OpenPlain %+v, %v", name, gp, gerr, wp, werr)
		}
		if name == "amend" && (werr != nil || wp.(*AmendPayload).Report.Title != "closed") {
			t.Errorf("amend: OpenPlain %+v, %v", wp, werr)
		}
	}
}

// ReportPayload.readOwn, the report payload as a scan of every report
// reads it, gives what decMode gives for every payload this build
// writes, and for those bytes changed at random it gives way to decMode
// (false) or gives what decMode gives.
func TestReportReadOwnAsDecMode(t *testing.T) {
	lat, lon := int64(-1_500_000), int64(0)
	payloads := []ReportPayload{
		{Category: "polling.late_opening", Severity: 2, Occurred: 1_700_000_000_000, Title: "late"},
		{Category: "disinfo.fake_results", Severity: 4, Occurred: -5, Station: "PS-1", Area: "Área 5", Lat: &lat, Lon: &lon, Precision: 30,
			Title: "t", Description: "line\none, \"quoted\"", Attachments: [][]byte{make([]byte, 32), {1}}, Channel: "radio", Harm: "high", Reach: 1e6, Source: "s"},
		{Title: "only a title"},
	}
	var encs [][]byte
	for _, p := range payloads {
		encs = append(encs, mustMarshal(t, p))
	}
	encs = append(encs, mustMarshal(t, ReportPayload{Title: "sealed", Files: []FileKey{{Cipher: make([]byte, 32)}}}),
		mustMarshal(t, map[uint64]any{1: "x", 9: "t", 16: "newer"}), mustMarshal(t, map[uint64]any{1: "x", 11: []any{}}))
	check := func(b []byte, fast bool) {
		t.Helper()
		var want ReportPayload
		werr := decMode.Unmarshal(b, &want)
		var got ReportPayload
		if !got.readOwn(b) {
			if fast {
				t.Fatalf("% x: not read by hand", b)
			}
			return
		}
		if werr != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("% x: readOwn %+v; decMode %+v, %v", b, got, want, werr)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for i, b := range encs {
		check(b, i < len(payloads))
		for range 3000 {
			m := append([]byte(nil), b...)
			switch rng.IntN(3) {
			case 0:
				m = m[:rng.IntN(len(m)+1)]
			case 1:
				m[rng.IntN(len(m))] = byte(rng.Uint32())
			case 2:
				m[rng.IntN(len(m))] ^= 1 << rng.IntN(8)
			}
			check(m, false)
		}
	}
}

// DecodeOwn reads by hand what the store wrote; on any bytes at all its
// envelope must be DecodeStored's (record or error), and every payload
// DecodeStored's path accepts must decode to the same value. (A payload
// that path refuses as not canonical may decode on the own path, which
// leaves that check to the one made before storing.)
func FuzzDecodeOwn(f *testing.F) {
	_, cases := corpusFixture(f)
	for _, c := range cases {
		f.Add(c.rec.Raw)
	}
	f.Add([]byte{})
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		sameDecode(t, "fuzz", data, false)
	})
}
