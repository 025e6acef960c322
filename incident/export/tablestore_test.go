package export_test

import (
	"bytes"
	"crypto/rand"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
)

// tallyWorld: a coordinator with a registry and a checklist, an
// observer's tallies and responses (sealed where the mission seals),
// moved to the coordinator.
type tallyWorld struct {
	coord, obs *store.Store
	form       *incident.Signed
}

// The sealed tally's cast: no file may show it unless it discloses the
// tally's key. Digits no base32 ID holds, and too many for a hex hash to
// hold by chance.
const sealedCast = 9898989

func newTallyWorld(t *testing.T, sealed bool) *tallyWorld {
	t.Helper()
	w := &tallyWorld{}
	w.coord, w.obs = missionPair(t, "Tally mission", sealed)
	snap := make([]byte, 32)
	rand.Read(snap)
	var drafts []store.Draft
	for _, code := range []string{"PS-1", "PS-2"} {
		drafts = append(drafts, store.Draft{Kind: incident.KindStation, Payload: incident.StationPayload{Code: code, Name: "School " + code,
			Admin: []string{"North", "Town"}, Registered: 900, Tags: []string{"pvt"}, Snapshot: snap}})
	}
	if _, err := w.coord.PutMany(drafts, func(signed []*incident.Signed) (store.Draft, error) {
		ids := make([]incident.ID, len(signed))
		for i, s := range signed {
			ids[i] = s.ID
		}
		return store.Draft{Kind: incident.KindRegistry, Payload: incident.RegistryPayload{Snapshot: snap, Count: uint64(len(ids)), Root: incident.RegistryRoot(ids)}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	var err error
	if w.form, err = w.coord.Put(incident.KindForm, incident.FormPayload{Name: "opening", Title: "Opening", Questions: []incident.Question{
		{ID: "staff", Code: "S", Type: incident.QuestionSelectOne, Label: "Staff present?", Choices: []incident.Choice{{Name: "yes", Label: "Yes"}, {Name: "no", Label: "No"}}},
		{ID: "note", Code: "N", Type: incident.QuestionText, Label: "Remarks"},
	}}); err != nil {
		t.Fatal(err)
	}
	carryAll(t, w.coord, w.obs)
	put := func(kind incident.Kind, p any) {
		t.Helper()
		if _, err := w.obs.PutMaybeSealed(sealed, kind, nil, p); err != nil {
			t.Fatal(err)
		}
	}
	put(incident.KindTally, incident.TallyPayload{Station: "PS-1", Contest: "presidential", Registered: 900, Issued: 800,
		Cast: sealedCast, Votes: []incident.VoteCount{{Choice: "Amara", Votes: sealedCast}}})
	put(incident.KindTally, incident.TallyPayload{Station: "PS-2", Contest: "presidential", Registered: 900, Issued: 700,
		Cast: 600, Invalid: 10, Votes: []incident.VoteCount{{Choice: "Amara", Votes: 590}}})
	put(incident.KindResponse, incident.ResponsePayload{Form: w.form.ID.Bytes(), Station: "PS-1",
		Answers: []incident.Answer{{Question: "staff", Value: "no"}, {Question: "note", Value: "OBSERVER-TEXT"}}})
	carryAll(t, w.obs, w.coord)
	return w
}

// carryAll copies every record from one store to another.
func carryAll(t *testing.T, from, to *store.Store) {
	t.Helper()
	for _, k := range incident.Kinds {
		recs, _ := from.ByKind(k)
		for _, r := range recs {
			if res := to.Add(r.Raw, "test"); res.Outcome == store.Rejected {
				t.Fatal(res.Err)
			}
		}
	}
}

func exportOf(t *testing.T, st *store.Store, req export.Request) ([]byte, export.Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := export.FromStore(st, &buf, req)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), res
}

// The evidence package holds the tables beside the reports, bound by the
// manifest: it verifies, and a changed byte in a table fails naming it.
func TestEvidenceHoldsTables(t *testing.T) {
	w := newTallyWorld(t, false)
	pkg, res := exportOf(t, w.coord, export.Request{Format: "evidence"})
	if res.Tallies != 2 || res.Responses != 1 || res.Stations != 2 {
		t.Fatalf("result %+v", res)
	}
	files := unzip(t, pkg)
	for _, name := range []string{"tables/stations.csv", "tables/tallies.csv", "tables/tallies.jsonl", "tables/checklists.csv", "tables/checklists.jsonl"} {
		if len(files[name]) == 0 {
			t.Fatalf("the package has no %s (entries: %v)", name, keysOf(toAny(files)))
		}
	}
	// The records the tables are made from are in the package.
	kinds := map[string]int{}
	for name, data := range files {
		if strings.HasPrefix(name, "records/") {
			rec, err := incident.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			kinds[string(rec.Kind)]++
		}
	}
	if kinds["tally"] != 2 || kinds["response"] != 1 || kinds["form"] != 1 || kinds["station"] != 2 || kinds["registry"] != 1 {
		t.Fatalf("records by kind %v", kinds)
	}
	if rep := verifyPkg(t, pkg); rep.Bad() != 0 {
		t.Fatalf("a fresh package fails: %v", badLines(rep))
	}
	tampered := rezip(t, pkg, func(files map[string][]byte) {
		files["tables/tallies.csv"] = bytes.Replace(files["tables/tallies.csv"], []byte("600"), []byte("601"), 1)
	})
	bad := badLines(verifyPkg(t, tampered))
	if len(bad) != 1 || !strings.Contains(bad[0], "tables/tallies.csv") {
		t.Fatalf("a changed byte in tallies.csv: %v", bad)
	}
}

// The tables are recomputed from the package's records: a table the
// exporter itself altered, signed and all, fails, naming the line; one
// that shows a sealed record's content without its key fails too.
func TestEvidenceTablesRecomputed(t *testing.T) {
	w := newTallyWorld(t, false)
	pkg, _ := exportOf(t, w.coord, export.Request{Format: "evidence"})
	rep := verifyPkg(t, pkg)
	for _, name := range []string{"tables/stations.csv", "tables/tallies.csv", "tables/tallies.jsonl", "tables/checklists.csv", "tables/checklists.jsonl"} {
		if v := verdictOf(rep, name); v == nil || !v.OK {
			t.Errorf("%s: %+v", name, v)
		}
	}
	lying := repack(t, pkg, w.coord.Signer(), func(files map[string][]byte) {
		files["tables/tallies.jsonl"] = bytes.Replace(files["tables/tallies.jsonl"], []byte(`"cast":600`), []byte(`"cast":900`), 1)
	})
	bad := badLines(verifyPkg(t, lying))
	if len(bad) != 1 || !strings.Contains(bad[0], "tables/tallies.jsonl BAD line ") {
		t.Fatalf("a table its exporter altered: %v", bad)
	}

	sealed := newTallyWorld(t, true)
	pkg, _ = exportOf(t, sealed.coord, export.Request{Format: "evidence", DiscloseKeys: true})
	if rep := verifyPkg(t, pkg); rep.Bad() != 0 {
		t.Fatalf("disclosed: %v", badLines(rep))
	}
	// The same tables, without the keys that open their rows.
	leaky := repack(t, pkg, sealed.coord.Signer(), func(files map[string][]byte) {
		for name := range files {
			if strings.HasPrefix(name, "keys/") {
				files[name] = nil
			}
		}
	})
	bad = badLines(verifyPkg(t, leaky))
	if len(bad) == 0 || !strings.Contains(strings.Join(bad, "\n"), "tables/tallies.csv BAD") {
		t.Fatalf("sealed content shown without its key: %v", bad)
	}
}

func toAny(m map[string][]byte) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// A package that discloses no key shows no sealed tally's numbers in its
// tables; with the keys disclosed, it shows them, and they verify.
func TestEvidenceTablesHideSealedContent(t *testing.T) {
	w := newTallyWorld(t, true)
	marker := []byte("9898989")
	pkg, res := exportOf(t, w.coord, export.Request{Format: "evidence"})
	if res.Unopened != 3 {
		t.Fatalf("unopened %d, want 3 (two tallies, one response)", res.Unopened)
	}
	for name, data := range unzip(t, pkg) {
		if bytes.Contains(data, marker) || bytes.Contains(data, []byte("OBSERVER-TEXT")) {
			t.Errorf("%s shows sealed content without its key", name)
		}
	}
	// A station filter selects by what the coordinator reads: the sealed
	// tally of PS-1 goes, still unread in the tables.
	pkg, res = exportOf(t, w.coord, export.Request{Format: "evidence", Filter: store.Filter{Station: "PS-1"}})
	if res.Tallies != 1 || res.Unopened != 2 || bytes.Contains(unzip(t, pkg)["tables/tallies.csv"], marker) {
		t.Fatalf("--station PS-1: %+v", res)
	}
	if rep := verifyPkg(t, pkg); rep.Bad() != 0 {
		t.Fatalf("--station PS-1: %v", badLines(rep))
	}
	pkg, res = exportOf(t, w.coord, export.Request{Format: "evidence", DiscloseKeys: true})
	files := unzip(t, pkg)
	if res.Unopened != 0 || !bytes.Contains(files["tables/tallies.csv"], marker) || !bytes.Contains(files["tables/checklists.jsonl"], []byte("OBSERVER-TEXT")) {
		t.Fatalf("disclosed: unopened %d, tallies.csv:\n%s", res.Unopened, files["tables/tallies.csv"])
	}
	if rep := verifyPkg(t, pkg); rep.Bad() != 0 {
		t.Fatalf("a disclosed package fails: %v", badLines(rep))
	}
}

// --records: each table in each format it takes; the others refused.
func TestExportRecords(t *testing.T) {
	w := newTallyWorld(t, true)
	for _, table := range []string{export.RecordsTallies, export.RecordsChecklists, export.RecordsStations} {
		for _, format := range export.TableFormats {
			data, res := exportOf(t, w.coord, export.Request{Format: format, Records: table})
			if len(data) == 0 {
				t.Fatalf("%s %s: empty", table, format)
			}
			n := map[string]int{export.RecordsTallies: res.Tallies, export.RecordsChecklists: res.Responses, export.RecordsStations: res.Stations}[table]
			want := map[string]int{export.RecordsTallies: 2, export.RecordsChecklists: 1, export.RecordsStations: 2}[table]
			if n != want {
				t.Errorf("%s %s: %d rows, want %d", table, format, n, want)
			}
		}
		for _, format := range []string{"geojson", "pdf", "evidence"} {
			var buf bytes.Buffer
			if _, err := export.FromStore(w.coord, &buf, export.Request{Format: format, Records: table}); err == nil {
				t.Errorf("%s %s: no error", table, format)
			}
		}
		var buf bytes.Buffer
		if _, err := export.FromStore(w.coord, &buf, export.Request{Format: "csv", Records: table, Filter: store.Filter{Category: "polling"}}); err == nil {
			t.Errorf("%s with a category: no error", table)
		}
	}
	// The coordinator opens the sealed tallies; the JSONL verifies.
	data, _ := exportOf(t, w.coord, export.Request{Format: "jsonl", Records: export.RecordsTallies})
	if !bytes.Contains(data, []byte(`"cast":9898989`)) {
		t.Fatalf("the coordinator's tallies.jsonl does not show the opened tally:\n%s", data)
	}
	if rep := verifyPkg(t, data); rep.Bad() != 0 {
		t.Fatalf("tallies.jsonl: %v", badLines(rep))
	}
	// --station keeps that station's rows.
	data, res := exportOf(t, w.coord, export.Request{Format: "csv", Records: export.RecordsTallies, Filter: store.Filter{Station: "ps 2"}})
	if res.Tallies != 1 || bytes.Contains(data, []byte("PS-1")) {
		t.Fatalf("--station PS-2: %d rows\n%s", res.Tallies, data)
	}
}

// A member that cannot open the sealed tallies exports them as sealed
// rows, counted, never dropped.
func TestExportSealedRowsCounted(t *testing.T) {
	w := newTallyWorld(t, true)
	other := openStore(t)
	code, _ := w.coord.Invite(store.InviteRequest{Role: incident.RoleObserver})
	if _, err := other.Join(code); err != nil {
		t.Fatal(err)
	}
	carryAll(t, w.coord, other)
	data, res := exportOf(t, other, export.Request{Format: "csv", Records: export.RecordsTallies})
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if res.Tallies != 2 || res.Unopened != 2 || len(rows) != 3 || bytes.Contains(data, []byte("9898989")) {
		t.Fatalf("a carrier's export: %+v\n%s", res, data)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, r := range rows[1:] {
		if r[col["sealed"]] != "true" || r[col["author"]] != w.obs.Author().String() || r[col["cast"]] != "" {
			t.Errorf("sealed row %v", r)
		}
	}
	// Public: left out, counted.
	data, res = exportOf(t, other, export.Request{Format: "csv", Records: export.RecordsTallies, Public: true})
	if res.Tallies != 0 || res.Unopened != 2 || !bytes.Contains(data, []byte("2 sealed")) {
		t.Fatalf("public carrier export: %+v\n%s", res, data)
	}
}

// The reports workbook gains the observation sheets when the mission
// has them; the public one stays the reports alone.
func TestReportsWorkbookHoldsTables(t *testing.T) {
	w := newTallyWorld(t, false)
	data, res := exportOf(t, w.coord, export.Request{Format: "xlsx"})
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := strings.Join(f.GetSheetList(), "|")
	if !strings.HasSuffix(sheets, "|stations|tallies|form opening") || res.Tallies != 2 {
		t.Fatalf("sheets %s, result %+v", sheets, res)
	}
	data, res = exportOf(t, w.coord, export.Request{Format: "xlsx", Public: true})
	f, err = excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := strings.Join(f.GetSheetList(), "|"); strings.Contains(sheets, "tallies") || strings.Contains(sheets, "form ") || res.Tallies != 0 {
		t.Fatalf("the public workbook: sheets %s, result %+v", sheets, res)
	}
}

// xlsxAllText is every cell of a workbook.
func xlsxAllText(t *testing.T, data []byte) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for _, s := range f.GetSheetList() {
		rows, _ := f.GetRows(s)
		for _, r := range rows {
			b.WriteString(strings.Join(r, ",") + "\n")
		}
	}
	return b.String()
}

// Public exports of the tables, read from a store, name no observer.
func TestPublicTablesFromStore(t *testing.T) {
	w := newTallyWorld(t, false)
	secrets := []string{w.obs.Author().String(), w.coord.Author().String(), "OBSERVER-TEXT"}
	_ = w.coord.ForEachKey(func(_ int64, id incident.ID) error {
		secrets = append(secrets, id.String())
		return nil
	})
	for _, table := range []string{export.RecordsTallies, export.RecordsChecklists, export.RecordsStations} {
		for _, format := range export.TableFormats {
			data, _ := exportOf(t, w.coord, export.Request{Format: format, Records: table, Public: true})
			text := string(data)
			if format == "xlsx" {
				text = xlsxAllText(t, data)
			}
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("public %s %s holds %q", table, format, s)
				}
			}
		}
	}
}
