package incident

import (
	"bytes"
	"testing"
	"time"

	"filippo.io/age"
)

func ptr[T any](v T) *T { return &v }

// goodCapture is a capture of report rep's file.
func goodCapture(rep *Signed) CapturePayload {
	return CapturePayload{Target: rep.ID.Bytes(), Hash: bytes.Repeat([]byte{0xab}, 32),
		Taken: "2026:12:06 07:41:09", Lat: Micro(-1.3131), Lon: Micro(36.7879), Make: "Tecno", Model: "Spark 10",
		Clock: t0.Add(40 * time.Minute).UnixMilli(), Offset: ptr(int64(1500)), Peers: 2}
}

func TestCapturePayloadLimits(t *testing.T) {
	f := newFixture(t, "capture-limits")
	obs := f.enroll(f.founder, "observer", RoleObserver)
	rep := f.accept(f.report(obs, nil))
	for _, c := range []struct {
		name, field string
		mut         func(*CapturePayload)
	}{
		{"short hash", "payload.hash", func(c *CapturePayload) { c.Hash = c.Hash[:31] }},
		{"short target", "payload.target", func(c *CapturePayload) { c.Target = c.Target[:8] }},
		{"time not EXIF's", "payload.taken", func(c *CapturePayload) { c.Taken = "2026-12-06T07:41:09Z" }},
		{"zone without time", "payload.taken_zone", func(c *CapturePayload) { c.Taken, c.TakenZone = "", "+03:00" }},
		{"zone malformed", "payload.taken_zone", func(c *CapturePayload) { c.TakenZone = "EAT" }},
		{"lat alone", "payload.lat", func(c *CapturePayload) { c.Lon = nil }},
		{"lat off the globe", "payload.lat", func(c *CapturePayload) { c.Lat = ptr(int64(91e6)) }},
		{"altitude in orbit", "payload.alt", func(c *CapturePayload) { c.Alt = ptr(int64(MaxCaptureAltMM + 1)) }},
		{"long make", "payload.make", func(c *CapturePayload) { c.Make = string(bytes.Repeat([]byte("m"), MaxCaptureText+1)) }},
		{"NUL in model", "payload.model", func(c *CapturePayload) { c.Model = "a\x00b" }},
		{"no clock", "payload.clock", func(c *CapturePayload) { c.Clock = 0 }},
		{"offset without peers", "payload.peers", func(c *CapturePayload) { c.Peers = 0 }},
		{"peers without offset", "payload.peers", func(c *CapturePayload) { c.Offset = nil }},
		{"offset of years", "payload.offset", func(c *CapturePayload) { c.Offset = ptr(MaxClockOffsetMS + 1) }},
		{"report lon alone", "payload.report_lat", func(c *CapturePayload) { c.ReportLon = Micro(36.7) }},
		{"precision without place", "payload.precision", func(c *CapturePayload) { c.Precision = 20 }},
		{"station with space", "payload.station", func(c *CapturePayload) { c.Station = "KE 047" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := goodCapture(rep)
			c.mut(&p)
			wantField(t, f.validate(f.sign(obs, KindCapture, p)), c.field)
		})
	}
	f.accept(f.sign(obs, KindCapture, goodCapture(rep)))
	// Only what the file gave: every metadata field is optional.
	f.accept(f.sign(obs, KindCapture, CapturePayload{Target: rep.ID.Bytes(), Hash: make([]byte, 32), Clock: 1}))
}

func TestCaptureTarget(t *testing.T) {
	f := newFixture(t, "capture-target")
	obs := f.enroll(f.founder, "observer", RoleObserver)
	other := f.enroll(f.founder, "other", RoleObserver)
	carrier := f.enroll(f.founder, "carrier", RoleCarrier)
	rep := f.accept(f.report(obs, nil))
	alert := f.accept(f.sign(obs, KindAlert, AlertPayload{Note: "gate"}))

	wantField(t, f.validate(f.sign(other, KindCapture, goodCapture(rep))), "author")
	wantField(t, f.validate(f.sign(obs, KindCapture, goodCapture(alert))), "payload.target")
	if err := f.validate(f.sign(carrier, KindCapture, goodCapture(rep))); !IsMissing(err) {
		t.Fatalf("a carrier's capture: %v, want held for a stronger role", err)
	}
	absent := f.report(obs, func(r *ReportPayload) { r.Title = "not held" })
	wantMissing(t, f.validate(f.sign(obs, KindCapture, goodCapture(absent))), Author{}, absent.ID)

	// Sealed exactly when the report is.
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	sealedRep, err := obs.SignSealed(f.ms.ID, KindReport, f.next(), SealedEnvelope{}, mustSeal(t, KindReport, goodReport(), id))
	if err != nil {
		t.Fatal(err)
	}
	f.accept(sealedRep)
	clearOfSealed := f.sign(obs, KindCapture, goodCapture(sealedRep))
	wantField(t, f.validate(clearOfSealed), "sealed")
	c := goodCapture(rep)
	sealedOfClear, err := obs.SignSealed(f.ms.ID, KindCapture, f.next(), SealedEnvelope{Target: rep.ID.Bytes()}, mustSeal(t, KindCapture, c, id))
	if err != nil {
		t.Fatal(err)
	}
	wantField(t, f.validate(sealedOfClear), "sealed")

	c = goodCapture(sealedRep)
	sealed, err := obs.SignSealed(f.ms.ID, KindCapture, f.next(), SealedEnvelope{Target: sealedRep.ID.Bytes()}, mustSeal(t, KindCapture, c, id))
	if err != nil {
		t.Fatal(err)
	}
	f.accept(sealed)
	got, err := Open(sealed, id)
	if err != nil {
		t.Fatal(err)
	}
	if gc := got.(*CapturePayload); !bytes.Equal(gc.Hash, c.Hash) || *gc.Lat != *c.Lat {
		t.Fatalf("opened %+v, sealed %+v", gc, c)
	}
	// A body naming another report than its envelope does not open.
	wrong := goodCapture(rep)
	lying, err := obs.SignSealed(f.ms.ID, KindCapture, f.next(), SealedEnvelope{Target: sealedRep.ID.Bytes()}, mustSeal(t, KindCapture, wrong, id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(lying, id); err == nil {
		t.Fatal("a sealed capture naming another report than its envelope opened")
	}
	// Folding ignores captures: they describe a file, not the report.
	v, err := FoldReportOpen(sealedRep, []*Signed{sealed}, f.ms, t0, func(s *Signed) (any, bool) {
		p, err := Open(s, id)
		return p, err == nil
	})
	if err != nil || len(v.History) != 1 {
		t.Fatalf("fold with a capture: history %v, %v", v.History, err)
	}
}

func mustSeal(t *testing.T, k Kind, p any, id *age.X25519Identity) []byte {
	t.Helper()
	ct, err := Seal(k, p, []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

// A capture record is a kind the first format did not have: a level-0
// build is never handed one; levels 1 and 2 store it (level 1 as a kind
// it does not know, sealed or not).
func TestCaptureReadableAt(t *testing.T) {
	f := newFixture(t, "capture-levels")
	obs := f.enroll(f.founder, "observer", RoleObserver)
	rep := f.accept(f.report(obs, nil))
	rec := f.accept(f.sign(obs, KindCapture, goodCapture(rep)))
	for level, want := range []bool{false, true, true} {
		if got := rec.ReadableAt(level); got != want {
			t.Errorf("ReadableAt(%d) = %v, want %v", level, got, want)
		}
	}
}

func TestClockMedian(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		in   []time.Duration
		want int64
		ok   bool
	}{
		{nil, 0, false},
		{[]time.Duration{3 * s}, 3000, true},
		{[]time.Duration{-90 * s, 2 * s, 1 * s}, 1000, true},
		{[]time.Duration{4 * s, 1 * s, 2 * s, 3600 * s}, 3000, true},
	} {
		got, ok := ClockMedian(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ClockMedian(%v) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// FuzzDecodeCapture: whatever capture payload decodes is canonical and
// either valid or refused with the field named, never a panic.
func FuzzDecodeCapture(f *testing.F) {
	fx := newFixture(f, "capture-fuzz")
	obs := fx.enroll(fx.founder, "observer", RoleObserver)
	rep := fx.accept(fx.report(obs, nil))
	good := goodCapture(rep)
	f.Add(mustMarshal(f, good))
	f.Add(mustMarshal(f, CapturePayload{Target: rep.ID.Bytes(), Hash: make([]byte, 32), Clock: 1}))
	f.Add(mustMarshal(f, map[uint64]any{1: rep.ID.Bytes(), 2: make([]byte, 32), 10: int64(1), 17: "newer"}))
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var p CapturePayload
		if _, err := decodeKnown(data, &p); err != nil {
			return
		}
		if err := canonicalAny(data); err != nil {
			t.Fatalf("accepted a payload that is not canonical: %v", err)
		}
		if err := ValidateCapture(&p); err != nil && !IsRejected(err) {
			t.Fatalf("ValidateCapture = %v: not a rejection", err)
		}
	})
}
