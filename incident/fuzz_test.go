package incident

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the generated testdata: the fuzz seed corpora under testdata/fuzz")

// corpusFixture is the deterministic mission the seed corpora come from:
// fixed keys, nonces and times, so -update always writes the same bytes.
func corpusFixture(tb testing.TB) (*fixture, []kindCase) {
	f := newFixture(tb, "fuzz-corpus")
	return f, everyKind(f)
}

// corpusFiles returns the seed corpus files (path under testdata/fuzz →
// contents) in the `go test fuzz v1` format.
func corpusFiles(tb testing.TB) map[string]string {
	f, cases := corpusFixture(tb)
	out := map[string]string{}
	rec := func(name string, raw []byte) {
		out[filepath.Join("FuzzDecodeRecord", name)] = fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", raw)
	}
	inv := func(name, code string) {
		out[filepath.Join("FuzzDecodeInvite", name)] = fmt.Sprintf("go test fuzz v1\nstring(%q)\n", code)
	}
	for _, c := range cases {
		rec("kind-"+string(c.kind), c.rec.Raw)
	}
	obs := f.signer("observer-1")
	sealedRep, err := obs.SignSealed(f.ms.ID, KindReport, f.next(), SealedEnvelope{}, bytes.Repeat([]byte{0x5e}, 64))
	if err != nil {
		tb.Fatal(err)
	}
	rec("sealed-report", sealedRep.Raw)
	dis := goodReport()
	dis.Category, dis.Channel, dis.Harm, dis.Reach, dis.Source = "disinformation.impersonation", "telegram", "critical", 250000, "channel @fake_commission"
	rec("report-disinformation", f.sign(obs, KindReport, dis).Raw)
	// Records a newer build wrote: a kind this build does not know, a
	// report with a field it does not know, and settings.
	bulletin, err := f.founder.Sign(f.ms.ID, "bulletin", f.next(), map[uint64]any{1: "Road to KE-047-112 flooded", 2: uint64(3)})
	if err != nil {
		tb.Fatal(err)
	}
	rec("newer-kind", bulletin.Raw)
	newerReport, err := obs.Sign(f.ms.ID, KindReport, f.next(), map[uint64]any{1: "polling.late_opening", 2: uint64(2),
		3: t0.UnixMilli(), 9: "Opened late", 16: map[uint64]any{1: "form-7", 2: []any{uint64(1), "yes"}}})
	if err != nil {
		tb.Fatal(err)
	}
	rec("newer-field-report", newerReport.Raw)
	settings, err := ParseSettings([]string{"seal_by_default=true", "category.polling.queue_jumping=Queue jumping"})
	if err != nil {
		tb.Fatal(err)
	}
	rec("config-settings", f.sign(f.founder, KindConfig, f.ms.NewConfig(settings)).Raw)

	inv("observer", f.invite(f.token(f.founder, RoleObserver, "Kibra team", nil)))
	expiring := f.founder.SignToken(Token{Mission: f.ms.ID.Bytes(), Role: RoleCarrier, Label: "relay box",
		Nonce: f.nonce(), Expires: t0.Add(72 * time.Hour).UnixMilli()})
	inv("carrier-expiring", f.invite(expiring))
	deputy := f.signer("deputy").Author()
	inv("coordinator-bound", f.invite(f.token(f.founder, RoleCoordinator, "deputy", &deputy)))
	c2, m2 := f.enrollRecord(f.founder, "c2", RoleCoordinator)
	inv("chain", f.invite(f.token(c2, RoleObserver, "", nil), m2))
	ikTok, ikSeed := f.inviteToken(f.founder, RoleObserver, "invite key", nil)
	inv("invite-key", f.inviteCode(ikTok, ikSeed))
	return out
}

// The committed seed corpora are exactly what corpusFiles generates; run
// `go test ./incident -run TestFuzzCorpus -update` after a format change.
func TestFuzzCorpus(t *testing.T) {
	files := corpusFiles(t)
	again := corpusFiles(t)
	if fmt.Sprint(files) != fmt.Sprint(again) {
		t.Fatal("corpus generation is not deterministic")
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join("testdata", "fuzz", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(files[name]), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to write the seed corpus)", err)
		}
		if string(got) != files[name] {
			t.Fatalf("%s is stale (run with -update to rewrite it)", path)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	fx, cases := corpusFixture(f)
	for _, c := range cases {
		f.Add(c.rec.Raw)
	}
	f.Add([]byte{})
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := Decode(data)
		if err != nil {
			if rec != nil {
				t.Fatalf("Decode returned a record and an error %v", err)
			}
			if (!IsRejected(err) && !IsNewer(err)) || IsMissing(err) {
				t.Fatalf("Decode error %v is neither a rejection nor a newer version", err)
			}
			return
		}
		again, err := Marshal(rec.Record)
		if err != nil {
			t.Fatalf("Marshal(decoded record): %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("re-encoding differs from the accepted input:\n in %x\nout %x", data, again)
		}
		if rec.ID != IDOf(data) || !bytes.Equal(rec.Raw, data) {
			t.Fatalf("ID %s / Raw do not match the input", rec.ID)
		}
		// Whatever decodes must be judged without panicking, and the
		// verdict is one of the three documented ones.
		err = Validate(rec, fx.ms, fx.src)
		if err != nil && !IsRejected(err) && !IsMissing(err) {
			t.Fatalf("Validate = %v: neither rejected nor missing", err)
		}
		_ = RecordFlags(rec, fx.ms, t0)
		// What a level-0 build reads, this one reads whole.
		if rec.ReadableAt(0) && len(rec.Newer()) > 0 {
			t.Fatalf("readable at level 0, yet Newer() = %q", rec.Newer())
		}
		if err == nil && rec.Kind == KindReport {
			if _, err := FoldReport(rec, nil, fx.ms, t0); err != nil {
				t.Fatalf("FoldReport of a valid report: %v", err)
			}
		}
	})
}

// FuzzDecodePayload checks the decoding of payloads that may hold fields a
// newer build added: whatever it accepts is canonical as a whole, decodes
// the same way twice, and its known part is canonical on its own.
func FuzzDecodePayload(f *testing.F) {
	_, cases := corpusFixture(f)
	for _, c := range cases {
		f.Add(uint8(0), []byte(c.rec.Payload))
	}
	f.Add(uint8(0), mustMarshal(f, map[uint64]any{1: "polling.late_opening", 2: uint64(2), 3: int64(5), 9: "t", 16: "x"}))
	f.Add(uint8(1), mustMarshal(f, map[uint64]any{2: map[uint64]any{1: "polling.closure", 2: uint64(1), 9: "t", 20: []any{1.5}}}))
	f.Add(uint8(2), mustMarshal(f, map[uint64]any{5: map[string]string{"x.y": "1"}, 9: nil}))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		newPayload := []func() any{
			func() any { return new(ReportPayload) },
			func() any { return new(AmendPayload) },
			func() any { return new(ConfigPayload) },
			func() any { return new(MemberPayload) },
		}[int(which)%4]
		p := newPayload()
		newer, err := decodeKnown(data, p)
		if err != nil {
			return
		}
		if err := canonicalAny(data); err != nil {
			t.Fatalf("accepted a payload that is not canonical: %v", err)
		}
		q := newPayload()
		newer2, err := decodeKnown(data, q)
		if err != nil || !reflect.DeepEqual(p, q) || !slices.Equal(newer, newer2) {
			t.Fatalf("second decode differs: %v", err)
		}
		known, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(newer) == 0 && !bytes.Equal(known, data) {
			t.Fatalf("no newer fields, yet the known part re-encodes differently")
		}
	})
}

func FuzzDecodeInvite(f *testing.F) {
	f.Add("")
	f.Add("AAAA")
	f.Add("not an invite")
	f.Fuzz(func(t *testing.T, code string) {
		p, err := DecodeInvite(code)
		if err != nil {
			if !errors.Is(err, ErrInvite) {
				t.Fatalf("DecodeInvite error %v does not wrap ErrInvite", err)
			}
			return
		}
		_ = p.CheckJoin(t0, Author{})
		again, err := EncodeInvite(p.Invite)
		if err != nil {
			t.Fatalf("EncodeInvite(decoded): %v", err)
		}
		q, err := DecodeInvite(again)
		if err != nil {
			t.Fatalf("re-encoded invite does not decode: %v", err)
		}
		if q.GenesisRecord.ID != p.GenesisRecord.ID {
			t.Fatalf("re-encoded invite names mission %s, not %s", q.GenesisRecord.ID, p.GenesisRecord.ID)
		}
	})
}
