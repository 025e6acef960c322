package export_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/internal/testrec"
)

// newerWorld is a coordinator's store holding what an observer on a newer
// Vigil wrote: records of two kinds this build does not know (notice,
// petition) and a report with a field it does not know (16), beside a plain
// report. They reached the coordinator in a bundle, signed with the
// observer's real device key.
type newerWorld struct {
	coord, obs      *store.Store
	ms              *incident.MissionState
	notice, tally   *incident.Signed
	newerRep, plain *incident.Signed
}

func newNewerWorld(t *testing.T) *newerWorld {
	t.Helper()
	w := &newerWorld{}
	w.coord, w.obs = missionPair(t, "Newer mission", false)
	w.ms, _ = w.obs.Mission()
	now := time.Now()
	var err error
	if w.plain, err = w.obs.Put(incident.KindReport, incident.ReportPayload{Category: "polling.late_opening", Severity: 2,
		Occurred: now.UnixMilli(), Title: "Opened late"}); err != nil {
		t.Fatal(err)
	}
	w.notice = w.newer(t, "bulletin", map[uint64]any{1: "Stations close at 18:00", 2: "PS-0042"})
	w.tally = w.newer(t, "petition", map[uint64]any{1: "PS-0042", 2: map[uint64]any{1: uint64(312), 2: uint64(4)}})
	w.newerRep = w.newer(t, incident.KindReport, map[uint64]any{1: "polling.materials_missing", 2: uint64(3),
		3: now.UnixMilli(), 9: "Ballots short", 16: "form-7"})
	raws, err := bundle.Select(w.obs, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, w.ms.ID, now, raws); err != nil {
		t.Fatal(err)
	}
	sum, err := bundle.Import(w.coord, "stick", buf.Bytes(), nil, nil)
	if err != nil || sum.Rejected != 0 || sum.Quarantined != 0 || sum.Newer != 3 {
		t.Fatalf("import to the coordinator: %+v, %v", sum, err)
	}
	return w
}

// newer signs payload as kind with the observer's device key, as a newer
// build would, and stores it on the observer's device.
func (w *newerWorld) newer(t *testing.T, kind incident.Kind, payload any) *incident.Signed {
	t.Helper()
	rec, err := w.obs.Signer().Sign(w.ms.ID, kind, time.Now(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if res := w.obs.Add(rec.Raw, "newer build"); res.Outcome != store.Accepted {
		t.Fatalf("Add(%s): %v %v", kind, res.Outcome, res.Err)
	}
	return rec
}

func (w *newerWorld) export(t *testing.T, req export.Request) ([]byte, export.Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := export.FromStore(w.coord, &buf, req)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), res
}

// jsonLines splits a JSONL file into decoded objects.
func jsonLines(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", len(out)+1, err)
		}
		out = append(out, m)
	}
	return out
}

func lineOf(lines []map[string]any, id incident.ID) (int, map[string]any) {
	for i, l := range lines {
		if l["id"] == id.String() {
			return i, l
		}
	}
	return -1, nil
}

// A JSONL export carries a newer Vigil's records: one line each, after the
// mission records and before the reports, with what they show in the
// clear and the signed record; a report with newer fields keeps its flag.
func TestJSONLCarriesNewerRecords(t *testing.T) {
	w := newNewerWorld(t)
	data, res := w.export(t, export.Request{Format: "jsonl"})
	if res.Newer != 2 || res.Reports != 2 {
		t.Fatalf("result %+v; want 2 reports and 2 newer records", res)
	}
	lines := jsonLines(t, data)
	lastMission, firstReport := -1, len(lines)
	for i, l := range lines {
		switch k := incident.Kind(l["kind"].(string)); {
		case k.MissionKind():
			lastMission = i
		case k == incident.KindReport:
			firstReport = min(firstReport, i)
		}
	}
	for _, rec := range []*incident.Signed{w.notice, w.tally} {
		i, l := lineOf(lines, rec.ID)
		if l == nil {
			t.Fatalf("no line for the %s record", rec.Kind)
		}
		if i < lastMission || i > firstReport {
			t.Errorf("the %s line is line %d; want it after the mission records (to %d) and before the reports (from %d)", rec.Kind, i, lastMission, firstReport)
		}
		want := map[string]any{"kind": string(rec.Kind), "id": rec.ID.String(), "author": rec.AuthorKey().String(),
			"created": incident.FormatTime(rec.Created), "needs_newer_vigil": true,
			"newer": []any{"kind " + string(rec.Kind)}, "record": base64.StdEncoding.EncodeToString(rec.Raw)}
		if len(l) != len(want) {
			t.Errorf("%s line has keys %v; want %v", rec.Kind, keysOf(l), keysOf(want))
		}
		for k, v := range want {
			if got, _ := json.Marshal(l[k]); string(got) != mustJSON(t, v) {
				t.Errorf("%s line: %s = %s, want %s", rec.Kind, k, got, mustJSON(t, v))
			}
		}
	}
	_, rl := lineOf(lines, w.newerRep.ID)
	if rl == nil || !slices.Contains(rl["flags"].([]any), any(incident.FlagNewerFields)) || rl["title"] != "Ballots short" {
		t.Fatalf("the report with a newer field: %v; want its title and the %s flag", rl, incident.FlagNewerFields)
	}
	if _, pl := lineOf(lines, w.plain.ID); slices.Contains(pl["flags"].([]any), any(incident.FlagNewerFields)) {
		t.Fatalf("a plain report is flagged: %v", pl["flags"])
	}

	// verify checks them all: signature and membership, with what it
	// could not read named.
	rep, err := export.Verify(bytes.NewReader(data), &w.ms.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bad() != 0 || rep.Newer() != 3 {
		t.Fatalf("verify: %d bad, %d newer; want 0 and 3: %v", rep.Bad(), rep.Newer(), rep.Verdicts)
	}
	for rec, want := range map[*incident.Signed]string{
		w.notice:   " OK (needs a newer Vigil: kind bulletin)",
		w.tally:    " OK (needs a newer Vigil: kind petition)",
		w.newerRep: " OK (needs a newer Vigil: field 16)",
		w.plain:    " OK",
	} {
		v := verdictOf(rep, rec.ID.String())
		if v == nil || v.String() != rec.ID.String()+want {
			t.Errorf("verdict of the %s: %v; want %q", rec.Kind, v, want)
		}
		if v != nil && v.NeedsNewerVigil != (rec != w.plain) {
			t.Errorf("verdict of the %s: needs_newer_vigil %v", rec.Kind, v.NeedsNewerVigil)
		}
	}
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A public export holds nothing this build cannot judge fit to publish:
// no records of unknown kinds, no reports with newer fields, and its
// notice says what was left out.
func TestPublicExportLeavesNewerOut(t *testing.T) {
	w := newNewerWorld(t)
	for _, format := range []string{"jsonl", "csv"} {
		data, res := w.export(t, export.Request{Format: format, Public: true, Unverified: true})
		if res.Reports != 1 || res.DroppedNewer != 3 {
			t.Errorf("%s: result %+v; want 1 report, 3 left out as newer", format, res)
		}
		for _, leak := range []string{"Ballots short", "form-7", "Stations close", w.notice.ID.String(), base64.StdEncoding.EncodeToString(w.notice.Raw)[:40]} {
			if bytes.Contains(data, []byte(leak)) {
				t.Errorf("%s: the public export holds %q", format, leak)
			}
		}
		if !bytes.Contains(data, []byte("1 reports with fields a newer version added, 2 records of kinds it does not know")) {
			t.Errorf("%s: the notice does not say what was left out:\n%s", format, data)
		}
	}
	// Without newer records the notice is as it always was.
	an := export.NewAnonymizer(nil, export.PublicOptions{})
	if strings.Contains(an.Notice(), "newer") {
		t.Errorf("notice without newer records mentions them: %s", an.Notice())
	}
}

// Evidence packages and bundles carry the newer records too, and verify
// checks them in both.
func TestEvidenceAndBundleCarryNewerRecords(t *testing.T) {
	w := newNewerWorld(t)
	pkg, res := w.export(t, export.Request{Format: "evidence"})
	if res.Newer != 2 {
		t.Fatalf("evidence result %+v; want 2 newer records", res)
	}
	raws, err := bundle.Select(w.coord, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := bundle.Write(&b, w.ms.ID, time.Now(), raws); err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string][]byte{"evidence": pkg, "bundle": b.Bytes()} {
		rep := verify(t, file)
		if rep.Bad() != 0 || rep.Format != name {
			t.Errorf("%s: %v", name, rep.Verdicts)
		}
		for _, rec := range []*incident.Signed{w.notice, w.tally, w.newerRep} {
			v := verdictOf(rep, rec.ID.String())
			if v == nil || !v.OK || !slices.Equal(v.Newer, rec.Newer()) {
				t.Errorf("%s: verdict of the %s: %+v; want OK with %q", name, rec.Kind, v, rec.Newer())
			}
		}
	}
}

// What verify says of newer records that are not what they claim, and of
// what it cannot check at all.
func TestVerifyNewerVerdicts(t *testing.T) {
	w := newNewerWorld(t)
	jsonl, _ := w.export(t, export.Request{Format: "jsonl"})
	deps, err := export.MissionRecords(w.coord)
	if err != nil {
		t.Fatal(err)
	}
	var depRaws [][]byte
	for _, d := range deps {
		depRaws = append(depRaws, d.Raw)
	}
	// The bundles below hold the mission records first: the genesis, the
	// observer's member record and the mission's epoch 1.
	if len(depRaws) != 3 {
		t.Fatalf("MissionRecords = %d records; want genesis, member and epoch", len(depRaws))
	}
	bundleOf := func(raws ...[]byte) []byte {
		var b bytes.Buffer
		if err := bundle.Write(&b, w.ms.ID, time.Now(), append(append([][]byte(nil), depRaws...), raws...)); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	// editLine rewrites the JSON line of id.
	editLine := func(id incident.ID, edit func(m map[string]any)) []byte {
		var out bytes.Buffer
		for _, l := range jsonLines(t, jsonl) {
			if l["id"] == id.String() {
				edit(l)
			}
			out.WriteString(mustJSON(t, l) + "\n")
		}
		return out.Bytes()
	}

	forged := bytes.Clone(w.notice.Raw)
	forged[len(forged)-1] ^= 1 // the last byte of the signature
	stranger, _ := incident.NewSigner(bytes.Repeat([]byte{7}, 32))
	byStranger, err := stranger.Sign(w.ms.ID, "bulletin", time.Now(), map[uint64]any{1: "I am a coordinator"})
	if err != nil {
		t.Fatal(err)
	}
	v2 := testrec.NewerVersion(t, w.obs.Signer(), w.ms.ID)

	cases := []struct {
		name string
		file []byte
		id   string
		want string // how the verdict's String() goes on after the ID ("…": then somewhere)
	}{
		{"forged notice in a bundle", bundleOf(forged), incident.IDOf(forged).String(), " BAD record 4 in the file: signature: does not verify"},
		{"notice by a non-member", bundleOf(byStranger.Raw), byStranger.ID.String(),
			" BAD author " + stranger.Author().String() + " is not a known member yet (not in the file)"},
		{"newer schema version in a bundle", bundleOf(v2), incident.IDOf(v2).String(),
			" UNCHECKED needs a newer Vigil to check (record version 2; this build reads version 1)"},
		{"newer schema version in a JSONL line", append(bytes.Clone(jsonl), mustJSON(t, map[string]any{
			"kind": "report", "id": incident.IDOf(v2).String(), "record": base64.StdEncoding.EncodeToString(v2), "related": []string{}})+"\n"...),
			incident.IDOf(v2).String(), " UNCHECKED needs a newer Vigil to check (record version 2; this build reads version 1)"},
		{"notice line naming another author", editLine(w.notice.ID, func(m map[string]any) { m["author"] = stranger.Author().String() }),
			w.notice.ID.String(), ` BAD field "author" on the line differs from the signed record`},
		{"notice line with another time", editLine(w.notice.ID, func(m map[string]any) { m["created"] = "2020-01-01T00:00:00Z" }),
			w.notice.ID.String(), ` BAD field "created" on the line differs from the signed record`},
		{"petition line calling itself a bulletin", editLine(w.tally.ID, func(m map[string]any) { m["kind"] = "bulletin" }),
			w.tally.ID.String(), " BAD line says kind bulletin, the record is a petition"},
		{"notice line as a newer Vigil writes it, with keys this build does not know",
			editLine(w.notice.ID, func(m map[string]any) {
				m["text"] = "Stations close at 18:00"
				delete(m, "needs_newer_vigil")
				delete(m, "newer")
			}),
			w.notice.ID.String(), " OK (needs a newer Vigil: kind bulletin)"},
		{"report line with newer fields, from a newer Vigil", editLine(w.newerRep.ID, func(m map[string]any) {
			m["form"] = "form-7"
			m["flags"] = append(m["flags"].([]any), "form_incomplete")
		}), w.newerRep.ID.String(), " OK (needs a newer Vigil: field 16)"},
		{"report line from a newer Vigil whose view a record of an unknown kind shapes", editLine(w.plain.ID, func(m map[string]any) {
			m["related"] = append(m["related"].([]any), base64.StdEncoding.EncodeToString(w.tally.Raw))
			m["status"] = "counted"
		}), w.plain.ID.String(), " OK (needs a newer Vigil: kind petition; the line's fields were not compared)"},
		{"report line with newer fields and a changed title", editLine(w.newerRep.ID, func(m map[string]any) { m["title"] = "Ballots stolen" }),
			w.newerRep.ID.String(), ` BAD field "title" on the line differs from the signed record`},
		{"report line with newer fields missing a flag this build computes", editLine(w.newerRep.ID, func(m map[string]any) {
			m["form"] = "form-7"
			m["flags"] = []any{}
		}), w.newerRep.ID.String(), ` BAD field "flags" on the line differs from the signed record`},
		{"plain report line with a key this build does not know", editLine(w.plain.ID, func(m map[string]any) { m["form"] = "form-7" }),
			w.plain.ID.String(), ` BAD line …: json: unknown field "form"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := verify(t, c.file)
			v := verdictOf(rep, c.id)
			prefix, more, _ := strings.Cut(c.want, "…")
			if v == nil || !strings.HasPrefix(v.String(), c.id+prefix) || !strings.Contains(v.String(), more) ||
				more == "" && v.String() != c.id+prefix && v.OK {
				t.Fatalf("verdict %v; want %q\nall: %v", v, c.id+c.want, rep.Verdicts)
			}
			wantBad := 0
			if !v.OK {
				wantBad = 1
			}
			if rep.Bad() != wantBad || rep.Unchecked() != map[bool]int{true: 1}[v.Unchecked] {
				t.Fatalf("%d bad, %d unchecked: %v", rep.Bad(), rep.Unchecked(), rep.Verdicts)
			}
		})
	}
}
