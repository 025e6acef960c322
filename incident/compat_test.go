package incident

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// formatV0Case is one record from testdata/formatv0/verdicts.json: bytes
// signed in the "formatv0" fixture mission, and the verdict that the last
// build before forward compatibility (Decode, DecodePayload, Validate of
// commit 34de34f) gave them, recorded by running that build.
type formatV0Case struct {
	Name    string `json:"name"`
	Record  string `json:"record"`
	Verdict string `json:"verdict"`
}

func loadFormatV0(t *testing.T) (*fixture, []formatV0Case) {
	t.Helper()
	b, err := os.ReadFile("testdata/formatv0/verdicts.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []formatV0Case
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	// The same deterministic mission the records were signed in.
	f := newFixture(t, "formatv0")
	f.enroll(f.founder, "observer", RoleObserver)
	return f, cases
}

// What this build does with each recorded record: stored (with what it
// cannot read listed by Newer), refused as newer, or rejected. And what it
// predicts a level-0 build does (ReadableAt(0)) matches what that build
// actually did.
func TestFormatV0Verdicts(t *testing.T) {
	f, cases := loadFormatV0(t)
	want := map[string]struct {
		outcome string // "valid", "newer" or "rejected"
		newer   []string
	}{
		"report":                                 {"valid", nil},
		"report with unknown field 16":           {"valid", []string{"16"}},
		"report with unknown field 40 (map)":     {"valid", []string{"40"}},
		"amend with unknown field in its report": {"valid", []string{"report.16"}},
		"amend":                                  {"valid", nil},
		"checkin":                                {"valid", nil},
		"checkin with unknown field":             {"valid", []string{"3"}},
		// Recorded before notices existed (a level-0 build rejected it,
		// as ReadableAt(0) still says); this build knows the kind.
		"unknown kind notice": {"valid", nil},
		// Recorded as a newer build's kind with a made-up payload (key 2
		// a map); this build defines tally, whose key 2 is the contest's
		// name, so that record is not a valid tally here.
		"unknown kind tally by observer": {"rejected", nil},
		// Recorded as a newer build's sealed kind: this build defines
		// response, sealable by observers, so it reads the kind and
		// nothing of the payload (sealed).
		"unknown kind sealed":                {"valid", nil},
		"config with settings":               {"valid", nil},
		"config":                             {"valid", nil},
		"sealed envelope with unknown field": {"valid", []string{"2"}},
		"version 2 report":                   {"newer", nil},
		"envelope with unknown key 9":        {"rejected", nil},
		"member token with unknown field":    {"rejected", nil},
	}
	if len(cases) != len(want) {
		t.Fatalf("%d recorded cases, %d expectations", len(cases), len(want))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			w, ok := want[c.Name]
			if !ok {
				t.Fatalf("no expectation for %q", c.Name)
			}
			raw, err := base64.StdEncoding.DecodeString(c.Record)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Decode(raw)
			if err == nil {
				err = f.validate(s)
			}
			switch w.outcome {
			case "valid":
				if err != nil {
					t.Fatalf("err = %v, want valid", err)
				}
				if got := s.Newer(); !slices.Equal(got, w.newer) {
					t.Fatalf("Newer() = %q, want %q", got, w.newer)
				}
				oldOK := c.Verdict == "ok"
				if s.ReadableAt(0) != oldOK {
					t.Fatalf("ReadableAt(0) = %v, but the level-0 build said %q", s.ReadableAt(0), c.Verdict)
				}
				if !s.ReadableAt(FormatLevel) {
					t.Fatal("ReadableAt(FormatLevel) = false for a record this build stores")
				}
				f.src.put(s) // the amends' target
			case "newer":
				if !IsNewer(err) || IsRejected(err) {
					t.Fatalf("err = %v, want a NewerError (no rejection)", err)
				}
			case "rejected":
				if !IsRejected(err) {
					t.Fatalf("err = %v, want a rejection", err)
				}
			}
		})
	}
}

// signRaw signs a record whose payload is given as any CBOR value (a map
// with integer keys stands for a payload struct, known fields or not).
func signRaw(t *testing.T, f *fixture, s *Signer, kind Kind, payload any) *Signed {
	t.Helper()
	r := Record{Version: SchemaVersion, Mission: f.ms.ID.Bytes(), Author: s.pub[:], Kind: kind,
		Created: f.next().UnixMilli(), Payload: mustMarshal(t, payload)}
	rec, err := Decode(rawRecord(t, s, r))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return rec
}

func TestNewerKindNeedsMembership(t *testing.T) {
	f := newFixture(t, "newer-kind")
	carrier := f.enroll(f.founder, "carrier", RoleCarrier)
	stranger := f.signer("stranger")
	// Any member's role may sign a kind this build does not know.
	rec := signRaw(t, f, carrier, "custody", map[uint64]any{1: []byte("x")})
	if err := f.validate(rec); err != nil {
		t.Fatalf("carrier's custody record: %v", err)
	}
	// A non-member's waits for an enrollment, as any record would.
	rec = signRaw(t, f, stranger, "bulletin", map[uint64]any{1: "hello"})
	wantMissing(t, f.validate(rec), stranger.Author(), ID{})
	// Another mission's record of an unknown kind is refused.
	other := newFixture(t, "other-mission")
	rec = signRaw(t, other, other.founder, "bulletin", map[uint64]any{1: "hello"})
	wantField(t, f.validate(rec), "mission")
}

func TestNewerKindPayloadMustBeCanonical(t *testing.T) {
	f := newFixture(t, "newer-canonical")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	for name, payload := range map[string][]byte{
		"integer not shortest": cborMap([]cborPair{{cborHead(0, 1), []byte{0x18, 0x05}}}),
		"keys out of order":    cborMap([]cborPair{{cborHead(0, 2), cborHead(0, 1)}, {cborHead(0, 1), cborHead(0, 1)}}),
		"duplicate key":        cborMap([]cborPair{{cborHead(0, 1), cborHead(0, 1)}, {cborHead(0, 1), cborHead(0, 2)}}),
		"float not shortest":   cborMap([]cborPair{{cborHead(0, 1), []byte{0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}}}),
	} {
		t.Run(name, func(t *testing.T) {
			r := Record{Version: SchemaVersion, Mission: f.ms.ID.Bytes(), Author: obs.pub[:], Kind: "bulletin",
				Created: f.next().UnixMilli(), Payload: payload}
			s, err := Decode(rawRecord(t, obs, r))
			if err != nil {
				if !IsRejected(err) {
					t.Fatalf("Decode error %v is not a rejection", err)
				}
				return
			}
			wantField(t, f.validate(s), "payload")
		})
	}
}

// A field a newer build adds is kept in the signed bytes and skipped in
// the decoded payload; the fields this build knows are checked as always,
// so an unknown field is no way around validation.
func TestNewerFieldsKnownPartStillValidated(t *testing.T) {
	f := newFixture(t, "newer-fields")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	good := map[uint64]any{1: "polling.late_opening", 2: uint64(2), 3: t0.UnixMilli(), 9: "Opened late", 99: "form-7"}
	rec := signRaw(t, f, obs, KindReport, good)
	if err := f.validate(rec); err != nil {
		t.Fatalf("report with field 99: %v", err)
	}
	p, newer, err := rec.DecodePayloadNewer()
	if err != nil || !slices.Equal(newer, []string{"99"}) || p.(*ReportPayload).Title != "Opened late" {
		t.Fatalf("DecodePayloadNewer = %+v, %q, %v", p, newer, err)
	}
	bad := map[uint64]any{1: "polling.late_opening", 2: uint64(9), 3: t0.UnixMilli(), 9: "Opened late", 99: "x"}
	wantField(t, f.validate(signRaw(t, f, obs, KindReport, bad)), "severity")
	// A known field present with its zero value is not canonical for this
	// build (omitempty): adding an unknown field does not make it so.
	zero := map[uint64]any{1: "polling.late_opening", 2: uint64(2), 3: t0.UnixMilli(), 9: "x", 10: "", 99: "x"}
	wantField(t, f.validate(signRaw(t, f, obs, KindReport, zero)), "payload")
	// The enrollment token is signed on its own: no field may be added.
	tok := f.token(f.founder, RoleObserver, "x", nil)
	tm := map[uint64]cbor.RawMessage{}
	if err := cbor.Unmarshal(mustMarshal(t, tok), &tm); err != nil {
		t.Fatal(err)
	}
	tm[9] = mustMarshal(t, "invite key")
	joiner := f.signer("joiner")
	wantField(t, f.validate(signRaw(t, f, joiner, KindMember, map[uint64]any{1: tm})), "payload")
}

// The fold shows what it can read of a report with newer fields, flagged.
func TestFoldFlagsNewerFields(t *testing.T) {
	f := newFixture(t, "fold-newer")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	rep := f.accept(f.report(obs, nil))
	amend := f.accept(signRaw(t, f, obs, KindAmend, map[uint64]any{1: rep.ID.Bytes(),
		2: map[uint64]any{1: "polling.late_opening", 2: uint64(3), 3: t0.UnixMilli(), 9: "Opened very late", 16: "x"}}))
	v, err := FoldReport(rep, []*Signed{amend}, f.ms, t0)
	if err != nil {
		t.Fatal(err)
	}
	if v.Report.Title != "Opened very late" || !v.HasFlag(FlagNewerFields) {
		t.Fatalf("view = %q flags %v, want the amendment's title and %s", v.Report.Title, v.Flags, FlagNewerFields)
	}
	plain, _ := FoldReport(rep, nil, f.ms, t0)
	if plain.HasFlag(FlagNewerFields) {
		t.Fatal("a report without newer fields is flagged")
	}
}

func TestConfigSettings(t *testing.T) {
	f := newFixture(t, "config")
	deputy := f.enroll(f.founder, "deputy", RoleCoordinator)
	set := func(s *Signer, args ...string) *Signed {
		t.Helper()
		settings, err := ParseSettings(args)
		if err != nil {
			t.Fatal(err)
		}
		return f.accept(f.sign(s, KindConfig, f.ms.NewConfig(settings)))
	}
	if f.ms.SealByDefault() {
		t.Fatal("genesis did not seal")
	}
	set(f.founder, "seal_by_default=yes", "attachment_budget=64MiB", "category.polling.queue_jumping=Queue jumping")
	if !f.ms.SealByDefault() || f.ms.AttachmentBudget() != 64<<20 {
		t.Fatalf("seal %v budget %d", f.ms.SealByDefault(), f.ms.AttachmentBudget())
	}
	if c, ok := f.ms.Category("polling.queue_jumping"); !ok || c.Label != "Queue jumping" || c.Family != "polling" {
		t.Fatalf("category = %+v, %v", c, ok)
	}
	// The deputy saw the founder's config: no conflict, the latest wins.
	set(deputy, "attachment_budget=32MiB")
	if got := settingOf(t, f.ms, "attachment_budget"); got.Value != "33554432" || len(got.Conflicts) != 0 || got.By != deputy.Author() {
		t.Fatalf("attachment_budget = %+v", got)
	}
	// Two coordinators set private_fields without seeing each other's.
	heads := f.ms.NewConfig(map[string]string{"private_fields": "lat,lon"})
	a := f.sign(f.founder, KindConfig, heads)
	b := f.sign(deputy, KindConfig, ConfigPayload{Settings: map[string]string{"private_fields": "description"}, Prev: heads.Prev})
	f.accept(a)
	f.accept(b)
	got := settingOf(t, f.ms, "private_fields")
	if got.Value != "description" || len(got.Conflicts) != 1 || got.Conflicts[0].Value != "lat,lon" {
		t.Fatalf("private_fields = %+v, want description with lat,lon in conflict", got)
	}
	if pf := f.ms.PrivateFields(); !slices.Equal(pf, []string{"description"}) {
		t.Fatalf("PrivateFields = %v", pf)
	}
	// A config resolving the conflict sees both.
	set(f.founder, "private_fields=lat,lon")
	if got := settingOf(t, f.ms, "private_fields"); len(got.Conflicts) != 0 {
		t.Fatalf("after resolving: %+v", got)
	}
	// A newer build's setting, and a known one in a form this build cannot
	// read: valid, kept, shown, no effect.
	f.accept(f.sign(f.founder, KindConfig, ConfigPayload{Settings: map[string]string{
		"quota.records_per_day": "500", "attachment_budget": "unlimited"}}))
	// private_fields naming a field a newer build added keeps the fields
	// this build knows private (it never falls back to an older, laxer value).
	f.accept(f.sign(f.founder, KindConfig, ConfigPayload{Settings: map[string]string{"private_fields": "lat,lon,capture_gps"}}))
	if pf := f.ms.PrivateFields(); !slices.Equal(pf, []string{"lat", "lon"}) {
		t.Fatalf("PrivateFields with a newer field = %v, want [lat lon]", pf)
	}
	q := settingOf(t, f.ms, "quota.records_per_day")
	if q.Known || q.Value != "500" {
		t.Fatalf("unknown setting = %+v", q)
	}
	if ab := settingOf(t, f.ms, "attachment_budget"); ab.Problem == "" || f.ms.AttachmentBudget() != 32<<20 {
		t.Fatalf("unreadable attachment_budget = %+v, effective %d", ab, f.ms.AttachmentBudget())
	}
}

// A revoked coordinator's config (not in the revocation's accepted list)
// changes nothing: a seized laptop cannot turn sealing off.
func TestConfigOfRevokedCoordinatorIgnored(t *testing.T) {
	f := newFixture(t, "config-revoked")
	deputy := f.enroll(f.founder, "deputy", RoleCoordinator)
	f.accept(f.sign(f.founder, KindConfig, f.ms.NewConfig(map[string]string{"seal_by_default": "true"})))
	f.accept(f.sign(deputy, KindConfig, f.ms.NewConfig(map[string]string{"seal_by_default": "false"})))
	if f.ms.SealByDefault() {
		t.Fatal("setup: deputy's config should win before the revocation")
	}
	f.accept(f.sign(f.founder, KindRevoke, RevokePayload{Member: deputy.pub[:], Reason: "laptop seized"}))
	if !f.ms.SealByDefault() {
		t.Fatal("a revoked coordinator's config still turns sealing off")
	}
}

func settingOf(t *testing.T, ms *MissionState, key string) Setting {
	t.Helper()
	for _, s := range ms.Settings() {
		if s.Key == key {
			return s
		}
	}
	t.Fatalf("no setting %q in %+v", key, ms.Settings())
	return Setting{}
}

func TestParseSettingsErrorsNameTheKey(t *testing.T) {
	for _, c := range []struct {
		args []string
		key  string
		text string
	}{
		{[]string{"seal_by_default=maybe"}, "seal_by_default", "not true or false"},
		{[]string{"attachment_budget=lots"}, "attachment_budget", "not a size"},
		{[]string{"attachment_budget=2TiB"}, "attachment_budget", "not a size"},
		{[]string{"attachment_budget=2000GiB"}, "attachment_budget", "limit"},
		{[]string{"private_fields=lat,secret"}, "private_fields", `"secret" is not a report field`},
		{[]string{"category.weather.rain=Rain"}, "category.weather.rain", "FAMILY.NAME"},
		{[]string{"category.polling.closure=Closed"}, "category.polling.closure", "base taxonomy"},
		{[]string{"category.polling.new="}, "category.polling.new", "label"},
		{[]string{"quota=5"}, "quota", "not a setting this build knows"},
		{[]string{"seal_by_default"}, "seal_by_default", "KEY=VALUE"},
		{[]string{"seal_by_default=true", "seal_by_default=false"}, "seal_by_default", "twice"},
		{nil, "settings", "at least one"},
	} {
		_, err := ParseSettings(c.args)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != c.key || !strings.Contains(ce.Problem, c.text) {
			t.Errorf("ParseSettings(%q) = %v, want key %q and %q", c.args, err, c.key, c.text)
		}
	}
}

func TestConfigSettingsShapeValidated(t *testing.T) {
	f := newFixture(t, "config-shape")
	for name, p := range map[string]ConfigPayload{
		"bad name":   {Settings: map[string]string{"Seal": "true"}},
		"long value": {Settings: map[string]string{"note": strings.Repeat("x", MaxSettingLen+1)}},
		"bad prev":   {Settings: map[string]string{"note": "x"}, Prev: [][]byte{{1, 2}}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := f.validate(f.sign(f.founder, KindConfig, p)); !IsRejected(err) {
				t.Fatalf("err = %v, want a rejection", err)
			}
		})
	}
}
