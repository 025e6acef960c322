package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// obsWorld is a paper mission with a registry, two versions of a form,
// and tallies and responses that exercise every column: a correction
// that supersedes, agreeing and disagreeing observers, a sheet that does
// not add up, an unknown station, two contests with different choices,
// photos, a misfit, a form not held, text that CSV must quote, and
// sealed records nobody here opens. Everything is deterministic.
type obsWorld struct {
	*paperMission
	kite                    *incident.Signer
	recs                    []*incident.Signed
	formV1, formV2          *incident.Signed
	superseded, correction  *incident.Signed
	sealedTally, sealedResp *incident.Signed
	photo                   [32]byte
}

const (
	secretRemark = "Presiding officer \"Mr. Otieno\" said, twice:\nno observers inside"
	answerLabel  = "Yes, all present"
)

func newObsWorld(t testing.TB) *obsWorld {
	t.Helper()
	w := &obsWorld{paperMission: newPaperMission(t, "Observation mission")}
	w.kite = w.enroll("Kite", incident.RoleObserver)
	keep := func(r *incident.Signed) *incident.Signed { w.recs = append(w.recs, w.accept(r)); return r }

	// The registry: one snapshot of three stations.
	snap := sha256.Sum256([]byte("snapshot"))
	var ids []incident.ID
	for _, st := range []incident.StationPayload{
		{Code: "KE-047-112", Name: "Kibra Primary", Admin: []string{"Nairobi", "Kibra", "Makina"}, Registered: 900,
			Lat: incident.Micro(-1.3133), Lon: incident.Micro(36.7876), Tags: []string{"pvt", "stratum=urban"}},
		{Code: "KE-047-113", Name: "Kibra Hall, annex", Admin: []string{"Nairobi", "Kibra", "Makina"}, Registered: 800,
			Tags: []string{"stratum=urban", "hotspot"}},
		{Code: "KE-050-001", Name: "Shule ya Msingi Majengo", Admin: []string{"Mombasa", "Mvita"}, Registered: 700,
			Lat: incident.Micro(-4.05), Lon: incident.Micro(39.6667), Tags: []string{"pvt", "stratum=coast"}},
	} {
		st.Snapshot = snap[:]
		ids = append(ids, keep(w.sign(w.founder, incident.KindStation, st)).ID)
	}
	keep(w.sign(w.founder, incident.KindRegistry, incident.RegistryPayload{Snapshot: snap[:], Count: 3, Root: incident.RegistryRoot(ids)}))

	// Two versions of the opening checklist.
	lo, hi := int64(0), int64(24)
	yesno := []incident.Choice{{Name: "yes", Label: answerLabel}, {Name: "no", Label: "No"}, {Name: "na", Label: "Not applicable"}}
	v1 := incident.FormPayload{Name: "opening", Version: "1", Title: "Opening", Phase: incident.PhaseOpening, Required: true,
		Questions: []incident.Question{
			{ID: "staff", Code: "S", Type: incident.QuestionSelectOne, Label: "Staff present?", Choices: yesno, Required: true,
				Flag: &incident.Condition{Terms: []incident.Term{{Op: "=", Value: "no"}}}},
			{ID: "old_q", Code: "O", Type: incident.QuestionText, Label: "Dropped in version 2"},
		}}
	w.formV1 = keep(w.sign(w.founder, incident.KindForm, v1))
	v2 := incident.FormPayload{Name: "opening", Version: "2", Title: "Opening", Phase: incident.PhaseOpening, Required: true,
		Questions: []incident.Question{
			{ID: "intro", Code: "I", Type: incident.QuestionNote, Label: "Answer at the door"},
			{ID: "staff", Code: "S", Type: incident.QuestionSelectOne, Label: "Staff present?", Choices: yesno, Required: true,
				Flag: &incident.Condition{Terms: []incident.Term{{Op: "=", Value: "no"}}}},
			{ID: "materials", Code: "M", Type: incident.QuestionSelectMultiple, Label: "Materials present",
				Choices: []incident.Choice{{Name: "ballots", Label: "Ballots"}, {Name: "ink", Label: "Ink"}, {Name: "booths", Label: "Booths"}}},
			{ID: "opened_at", Code: "T", Type: incident.QuestionInteger, Label: "Hour opened", Min: &lo, Max: &hi, NA: true},
			{ID: "remarks", Code: "R", Type: incident.QuestionText, Label: "Remarks"},
		}}
	w.formV2 = keep(w.sign(w.founder, incident.KindForm, v2))

	// Tallies.
	sheet := func(s *incident.Signer, station, contest string, reg, issued, cast, invalid, blank uint64, votes ...incident.VoteCount) *incident.Signed {
		return keep(w.sign(s, incident.KindTally, incident.TallyPayload{Station: station, Contest: contest, Registered: reg,
			Issued: issued, Cast: cast, Invalid: invalid, Blank: blank, Votes: votes}))
	}
	vc := func(c string, n uint64) incident.VoteCount { return incident.VoteCount{Choice: c, Votes: n} }
	w.superseded = sheet(w.observer, "KE-047-112", "presidential", 900, 650, 640, 10, 0, vc("Amara", 400), vc("Bello", 220))
	w.photo = sha256.Sum256([]byte("sheet photo"))
	corr := incident.TallyPayload{Station: "KE-047-112", Contest: "presidential", Registered: 900, Issued: 650, Cast: 640,
		Invalid: 10, Blank: 10, Votes: []incident.VoteCount{vc("Amara", 400), vc("Bello", 220)}, Photos: [][]byte{w.photo[:]}}
	w.correction = keep(w.sign(w.observer, incident.KindTally, corr))
	sheet(w.kite, "KE-047-112", "presidential", 900, 650, 640, 10, 10, vc("Bello", 220), vc("Amara", 400))   // agrees
	sheet(w.observer, "KE-047-113", "presidential", 800, 500, 470, 6, 4, vc("Amara", 250), vc("Bello", 200)) // 460 ≠ 470
	sheet(w.kite, "KE-047-113", "presidential", 800, 500, 470, 6, 4, vc("Amara", 260), vc("Bello", 200))     // disagrees
	sheet(w.observer, "xx-999", "presidential", 0, 0, 30, 0, 0, vc("Amara", 30))                             // not in the registry
	sheet(w.observer, "KE-050-001", "parliamentary Mvita", 700, 400, 390, 5, 5, vc(`Chama "Mpya", Pwani`, 200), vc("Amara", 180))

	// Responses.
	answer := func(s *incident.Signer, form *incident.Signed, station string, answers ...incident.Answer) *incident.Signed {
		return keep(w.sign(s, incident.KindResponse, incident.ResponsePayload{Form: form.ID.Bytes(), Station: station, Answers: answers}))
	}
	a := func(q, v string) incident.Answer { return incident.Answer{Question: q, Value: v} }
	answer(w.observer, w.formV2, "KE-047-112", a("staff", "no"), a("materials", "ballots ink"), a("opened_at", "7"), a("remarks", secretRemark))
	answer(w.kite, w.formV1, "KE-047-112", a("staff", "yes"), a("old_q", "fine"))
	answer(w.kite, w.formV2, "KE-047-113", a("staff", "yes"), a("opened_at", "na"))
	answer(w.observer, w.formV2, "KE-050-001", a("staff", "yes"), a("opened_at", "31")) // above the maximum
	notHeld := sha256.Sum256([]byte("a form nobody holds"))
	keep(w.sign(w.kite, incident.KindResponse, incident.ResponsePayload{Form: notHeld[:], Station: "KE-050-001",
		Answers: []incident.Answer{a("q1", "maybe")}}))

	// Sealed records nobody here can open.
	var err error
	if w.sealedTally, err = w.kite.SignSealed(w.ms.ID, incident.KindTally, w.tick(), incident.SealedEnvelope{}, bytes.Repeat([]byte{0xa5}, 200)); err != nil {
		t.Fatal(err)
	}
	keep(w.sealedTally)
	if w.sealedResp, err = w.observer.SignSealed(w.ms.ID, incident.KindResponse, w.tick(), incident.SealedEnvelope{}, bytes.Repeat([]byte{0x5a}, 200)); err != nil {
		t.Fatal(err)
	}
	keep(w.sealedResp)
	return w
}

func (w *obsWorld) obs(public bool) *Observations { return ObservationsOf(w.ms, w.recs, nil, public) }

func tableCSVBytes(t *testing.T, o *Observations, table string, hxl bool, notice string) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := o.WriteCSV(table, &b, hxl, notice); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tableJSONLBytes(t *testing.T, o *Observations, table string, deps []*incident.Signed, notice string, records bool) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := o.WriteJSONL(table, &b, deps, notice, records); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The golden files pin the tables' bytes in CSV (with the HXL row) and
// JSON Lines, full and public.
func TestTablesGolden(t *testing.T) {
	w := newObsWorld(t)
	full, pub := w.obs(false), w.obs(true)
	for _, table := range []string{RecordsStations, RecordsTallies, RecordsChecklists} {
		checkGolden(t, table+".csv", tableCSVBytes(t, full, table, true, ""))
		checkGolden(t, table+".jsonl", tableJSONLBytes(t, full, table, w.deps, "", true))
		checkGolden(t, "public-"+table+".csv", tableCSVBytes(t, pub, table, true, pub.PublicNotice()))
		checkGolden(t, "public-"+table+".jsonl", tableJSONLBytes(t, pub, table, nil, pub.PublicNotice(), false))
	}
}

// csvTable reads a table back with encoding/csv, by column name.
func csvTable(t *testing.T, b []byte, hxl bool) (header []string, rows []map[string]string) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v", err)
	}
	header = recs[0]
	start := 1
	if hxl {
		start = 2
	}
	for _, r := range recs[start:] {
		m := map[string]string{}
		for i, v := range r {
			m[header[i]] = v
		}
		rows = append(rows, m)
	}
	return header, rows
}

func TestTalliesTable(t *testing.T) {
	w := newObsWorld(t)
	header, rows := csvTable(t, tableCSVBytes(t, w.obs(false), RecordsTallies, false, ""), false)
	// Fixed columns first, then one per choice in first-seen sheet order
	// (over contests sorted by name): the parliamentary sheet's party,
	// then Amara's position is taken already.
	if got := strings.Join(header[len(header)-3:], "|"); got != `votes:Chama "Mpya", Pwani|votes:Amara|votes:Bello` {
		t.Fatalf("vote columns %q", got)
	}
	if len(rows) != 8 {
		t.Fatalf("%d tally rows, want 8 (every record, the sealed and superseded included)", len(rows))
	}
	byID := map[string]map[string]string{}
	for _, r := range rows {
		byID[r["id"]] = r
	}
	old, corr := byID[w.superseded.ID.String()], byID[w.correction.ID.String()]
	switch {
	case old["superseded"] != "true" || corr["superseded"] != "false":
		t.Errorf("superseded: old %q, correction %q", old["superseded"], corr["superseded"])
	case corr["station_status"] != incident.StationConsolidated || corr["observer"] != "Kestrel" || corr["admin3"] != "Makina":
		t.Errorf("correction row %v", corr)
	case corr["photos"] != strings.ToLower(hexOf(w.photo[:])):
		t.Errorf("photos %q", corr["photos"])
	case old["flags"] != "sum":
		t.Errorf("the superseded sheet's flags %q, want sum (it does not add up, and no longer takes part in disagreements)", old["flags"])
	case old["votes:Amara"] != "400" || old[`votes:Chama "Mpya", Pwani`] != "":
		t.Errorf("votes: %q, %q", old["votes:Amara"], old[`votes:Chama "Mpya", Pwani`])
	}
	var flagged, unknown, sealed int
	for _, r := range rows {
		switch {
		case r["station"] == "KE-047-113":
			flagged++
			if r["station_status"] != incident.StationFlagged || !strings.Contains(r["flags"], FlagDisagree) {
				t.Errorf("disagreeing tallies: %v", r)
			}
		case r["station"] == "XX-999":
			unknown++
			if !strings.Contains(r["flags"], FlagNotInRegistry) || r["check_registry"] != incident.CheckMissing {
				t.Errorf("unknown station: %v", r)
			}
		case r["id"] == w.sealedTally.ID.String():
			sealed++
			if r["sealed"] != "true" || r["cast"] != "" || r["author"] != w.kite.Author().String() || r["created"] == "" {
				t.Errorf("sealed tally: %v", r)
			}
		}
	}
	if flagged != 2 || unknown != 1 || sealed != 1 {
		t.Errorf("flagged %d, unknown %d, sealed %d", flagged, unknown, sealed)
	}
	if w.obs(false).Unopened != 2 {
		t.Errorf("Unopened %d, want 2", w.obs(false).Unopened)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestChecklistsTable(t *testing.T) {
	w := newObsWorld(t)
	_, rows := csvTable(t, tableCSVBytes(t, w.obs(false), RecordsChecklists, true, ""), true)
	var misfits, notHeld, sealed int
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r["response_id"]] = true
		switch {
		case r["misfit"] == MisfitFormNotHeld:
			notHeld++
			if r["question_id"] != "q1" || r["answer"] != "maybe" || r["form"] != "" {
				t.Errorf("form not held: %v", r)
			}
		case strings.Contains(r["misfit"], "opened_at"):
			misfits++
		case r["sealed"] == "true":
			sealed++
		}
		if r["question_id"] == "staff" && r["answer"] == "no" && (r["answer_flagged"] != "true" || r["flagged"] != "staff") {
			t.Errorf("a flagged answer: %v", r)
		}
		if r["question_id"] == "staff" && r["answer"] == "yes" && r["answer_label"] != answerLabel {
			t.Errorf("answer label: %v", r)
		}
		if r["question_id"] == "materials" && r["answer_label"] != "Ballots;Ink" {
			t.Errorf("select_multiple labels: %v", r)
		}
		if r["question_id"] == "remarks" && r["answer"] != strings.ReplaceAll(secretRemark, "\r", "") {
			t.Errorf("text answer %q", r["answer"])
		}
		if r["question_id"] == "old_q" && (r["version"] != "1" || r["misfit"] != "") {
			t.Errorf("a version 1 response: %v", r)
		}
	}
	if len(seen) != 6 || notHeld != 1 || misfits != 2 || sealed != 1 {
		t.Errorf("%d responses, %d not held, %d misfit lines, %d sealed", len(seen), notHeld, misfits, sealed)
	}
}

func TestStationsTable(t *testing.T) {
	w := newObsWorld(t)
	header, rows := csvTable(t, tableCSVBytes(t, w.obs(false), RecordsStations, false, ""), false)
	if strings.Join(header, ",") != "code,name,admin1,admin2,admin3,registered,lat,lon,tags,pvt,stratum,id" {
		t.Fatalf("header %v", header)
	}
	if len(rows) != 3 || rows[0]["pvt"] != "true" || rows[0]["stratum"] != "urban" || rows[0]["lat"] != "-1.3133" ||
		rows[1]["name"] != "Kibra Hall, annex" || rows[2]["admin3"] != "" || rows[2]["registered"] != "700" {
		t.Fatalf("rows %v", rows)
	}
}

// The HXL row tags every column with a hashtag of HXL's form: #tag, then
// +attributes, lower case.
func TestTablesHXLRow(t *testing.T) {
	w := newObsWorld(t)
	for _, table := range []string{RecordsStations, RecordsTallies, RecordsChecklists} {
		recs, err := csv.NewReader(bytes.NewReader(tableCSVBytes(t, w.obs(false), table, true, ""))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for i, tag := range recs[1] {
			if !hxlTag.MatchString(tag) {
				t.Errorf("%s column %s: %q is not an HXL hashtag", table, recs[0][i], tag)
			}
		}
		want := map[string]string{"code": "#loc+code", "station": "#loc+code", "admin1": "#adm1+name", "admin3": "#adm3+name",
			"lat": "#geo+lat", "registered": "#population+registered", "id": "#meta+id", "response_id": "#meta+id", "cast": "#indicator+num+cast"}
		if table == RecordsChecklists {
			want["code"] = "#indicator+code" // the question's short code
		}
		for i, name := range recs[0] {
			if tag, ok := want[name]; ok && recs[1][i] != tag {
				t.Errorf("%s column %s tagged %s, want %s", table, name, recs[1][i], tag)
			}
		}
	}
}

// A public table names no author, label, record or free text, and none
// of what places an observer: assert on the bytes of every format.
func TestPublicTablesLeakNothing(t *testing.T) {
	w := newObsWorld(t)
	pub := w.obs(true)
	var secrets []string
	for _, s := range []*incident.Signer{w.founder, w.coord, w.observer, w.kite} {
		secrets = append(secrets, s.Author().String())
	}
	for _, r := range w.recs {
		secrets = append(secrets, r.ID.String())
	}
	secrets = append(secrets, "Kestrel", "Kite", "Heron", "Mr. Otieno", "fine", "hotspot", hexOf(w.photo[:]), "maybe")
	var files [][]byte
	for _, table := range []string{RecordsStations, RecordsTallies, RecordsChecklists} {
		files = append(files, tableCSVBytes(t, pub, table, true, pub.PublicNotice()), tableJSONLBytes(t, pub, table, nil, pub.PublicNotice(), false))
	}
	x := NewTablesXLSX("Observation mission")
	x.Exported = paperT0
	x.AddTables(pub, []string{RecordsStations, RecordsTallies, RecordsChecklists})
	var xb bytes.Buffer
	if err := x.Close(&xb); err != nil {
		t.Fatal(err)
	}
	files = append(files, xlsxText(t, xb.Bytes()))
	for i, f := range files {
		for _, s := range secrets {
			if bytes.Contains(f, []byte(s)) {
				t.Errorf("public file %d holds %q", i, s)
			}
		}
		for _, col := range []string{"author", "observer", "response_id", "form_id", "photos", "superseded", "pvt"} {
			if bytes.Contains(f, []byte(`"`+col+`"`)) || bytes.HasPrefix(f, []byte(col+",")) || bytes.Contains(f, []byte(","+col+",")) {
				t.Errorf("public file %d has a column %s", i, col)
			}
		}
	}
	// Tallies: one row per station and contest; where they disagree, no numbers.
	_, rows := csvTable(t, tableCSVBytes(t, pub, RecordsTallies, false, ""), false)
	if len(rows) != 4 {
		t.Fatalf("%d public tally rows, want 4 (KE-047-112, KE-047-113, XX-999, KE-050-001)", len(rows))
	}
	for _, r := range rows {
		if r["station"] == "KE-047-113" && (r["cast"] != "" || r["flags"] != FlagDisagree) {
			t.Errorf("disagreeing station published: %v", r)
		}
		if r["station"] == "KE-047-112" && (r["cast"] != "640" || r["station_status"] != incident.StationConsolidated) {
			t.Errorf("consolidated station: %v", r)
		}
	}
	sealed, misfit, unconfirmed := pub.PublicDropped()
	if sealed != 2 || misfit != 2 || unconfirmed != 0 {
		t.Errorf("dropped: sealed %d, misfit %d, unconfirmed %d", sealed, misfit, unconfirmed)
	}
}

// xlsxText is every cell and note of a workbook, as text.
func xlsxText(t *testing.T, data []byte) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	for _, s := range f.GetSheetList() {
		rows, _ := f.GetRows(s)
		for _, r := range rows {
			out.WriteString(strings.Join(r, ",") + "\n")
		}
		comments, _ := f.GetComments(s)
		for _, c := range comments {
			out.WriteString(c.Text + "\n")
		}
	}
	props, _ := f.GetDocProps()
	if props != nil {
		out.WriteString(props.Title + props.Description)
	}
	return out.Bytes()
}

func TestTablesXLSX(t *testing.T) {
	w := newObsWorld(t)
	x := NewTablesXLSX("Observation mission")
	x.Exported = paperT0
	x.AddTables(w.obs(false), []string{RecordsStations, RecordsTallies, RecordsChecklists})
	var b bytes.Buffer
	if err := x.Close(&b); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := strings.Join(f.GetSheetList(), "|"); got != "Summary|stations|tallies|form opening|form (not held)|form (sealed)" {
		t.Fatalf("sheets %s", got)
	}
	// The wide form sheet: a column per question of either version, the
	// current version's order first, numbers typed, notes on the header.
	rows, _ := f.GetRows("form opening")
	header := rows[0]
	if got := strings.Join(header[len(header)-5:], "|"); got != "staff|materials|opened_at|remarks|old_q" {
		t.Fatalf("question columns %q", got)
	}
	comments, _ := f.GetComments("form opening")
	var notes []string
	for _, c := range comments {
		notes = append(notes, c.Text)
	}
	if !strings.Contains(strings.Join(notes, "|"), "S: Staff present?") {
		t.Errorf("header notes %q", notes)
	}
	col := len(header) - 3 // opened_at
	found := false
	for r := 2; r <= len(rows); r++ {
		ref, _ := excelize.CoordinatesToCellName(col+1, r)
		v, _ := f.GetCellValue("form opening", ref)
		typ, _ := f.GetCellType("form opening", ref)
		if v == "7" {
			found = true
			if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
				t.Errorf("opened_at 7 stored as %v, want a number", typ)
			}
		}
	}
	if !found {
		t.Error("no opened_at 7 on the form sheet")
	}
	trows, _ := f.GetRows("tallies")
	if len(trows) != 9 {
		t.Errorf("tallies sheet: %d rows, want 9", len(trows))
	}
	sum, _ := f.GetRows(SheetSummary)
	if !strings.Contains(strings.Join(flatten(sum), "|"), "8 tallies") {
		t.Errorf("summary %v", sum)
	}
}

func flatten(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// JSON Lines of a table verify: each line's record, and that the line
// says what the record says; a changed number names the field.
func TestTableJSONLVerifies(t *testing.T) {
	w := newObsWorld(t)
	for _, table := range []string{RecordsStations, RecordsTallies, RecordsChecklists} {
		data := tableJSONLBytes(t, w.obs(false), table, w.deps, "", true)
		rep, err := Verify(bytes.NewReader(data), nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Bad() != 0 {
			t.Fatalf("%s: %v", table, rep.Verdicts)
		}
	}
	data := tableJSONLBytes(t, w.obs(false), RecordsTallies, w.deps, "", true)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	for i, l := range lines {
		var m map[string]any
		json.Unmarshal(l, &m)
		if m["id"] == w.correction.ID.String() {
			m["cast"] = 740
			lines[i], _ = json.Marshal(m)
		}
	}
	rep, err := Verify(bytes.NewReader(bytes.Join(lines, []byte("\n"))), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := verdictByID(rep, w.correction.ID.String())
	if v == nil || v.OK || !strings.Contains(v.Reason, `"cast"`) {
		t.Fatalf("a changed cast: %+v", v)
	}
}

func verdictByID(rep *Report, id string) *Verdict {
	for i := range rep.Verdicts {
		if rep.Verdicts[i].ID == id {
			return &rep.Verdicts[i]
		}
	}
	return nil
}

var hxlTag = regexp.MustCompile(`^#[a-z][a-z0-9_]*(\+[a-z][a-z0-9_]*)*$`)

// benchTallies is a registry of 20,000 stations and 5,000 tallies by 200
// observers (the scale of `make bench`'s results), as signed records.
func benchTallies(b *testing.B) (*incident.MissionState, []*incident.Signed) {
	b.Helper()
	m := newPaperMission(b, "Bench mission")
	var observers []*incident.Signer
	for i := range 200 {
		observers = append(observers, m.enroll("obs"+strconv.Itoa(i), incident.RoleObserver))
	}
	snap := sha256.Sum256([]byte("bench snapshot"))
	var recs []*incident.Signed
	var ids []incident.ID
	for i := range 20000 {
		r := m.sign(m.founder, incident.KindStation, incident.StationPayload{Code: "PS-" + strconv.Itoa(i), Name: "School " + strconv.Itoa(i),
			Admin:      []string{"Region " + strconv.Itoa(i%10), "District " + strconv.Itoa(i%100), "Ward " + strconv.Itoa(i%1000)},
			Registered: 900, Tags: []string{"stratum=s" + strconv.Itoa(i%10)}, Snapshot: snap[:]})
		recs, ids = append(recs, r), append(ids, r.ID)
	}
	recs = append(recs, m.accept(m.sign(m.founder, incident.KindRegistry, incident.RegistryPayload{Snapshot: snap[:], Count: 20000, Root: incident.RegistryRoot(ids)})))
	for i := range 5000 {
		a := uint64(300 + i%50)
		recs = append(recs, m.sign(observers[i%200], incident.KindTally, incident.TallyPayload{Station: "PS-" + strconv.Itoa(i*4), Contest: "presidential",
			Registered: 900, Issued: 700, Cast: a + 210, Invalid: 6, Blank: 4,
			Votes: []incident.VoteCount{{Choice: "Amara", Votes: a}, {Choice: "Bello", Votes: 150}, {Choice: "Chege", Votes: 50}}}))
	}
	return m.ms, recs
}

// The tallies table over 5,000 tallies: made from the records and
// written, against encoding/csv writing the same prepared rows.
//
//	go test -bench Tallies -run X ./incident/export/
func BenchmarkTallies5000(b *testing.B) {
	ms, recs := benchTallies(b)
	var out bytes.Buffer
	if _, err := ObservationsOf(ms, recs, nil, false).WriteCSV(RecordsTallies, &out, false, ""); err != nil {
		b.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) != 5001 {
		b.Fatalf("%d rows, %v", len(rows), err)
	}
	per := func(b *testing.B) {
		b.ReportMetric(5000*float64(b.N)/b.Elapsed().Seconds(), "tallies/s")
	}
	b.Run("csv", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ObservationsOf(ms, recs, nil, false).WriteCSV(RecordsTallies, io.Discard, false, ""); err != nil {
				b.Fatal(err)
			}
		}
		per(b)
	})
	b.Run("jsonl", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ObservationsOf(ms, recs, nil, false).WriteJSONL(RecordsTallies, io.Discard, nil, "", true); err != nil {
				b.Fatal(err)
			}
		}
		per(b)
	})
	b.Run("encoding-csv", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cw := csv.NewWriter(io.Discard)
			cw.UseCRLF = true
			cw.WriteAll(rows)
		}
		per(b)
	})
}

// Long fields are bounded: a misfit quoting a long answer, a cell past
// what a spreadsheet holds.
func TestTablesBoundFields(t *testing.T) {
	w := newObsWorld(t)
	long := strings.Repeat("ü", 999) // 1,998 bytes, a select's answer that is no choice
	rec := w.accept(w.sign(w.kite, incident.KindResponse, incident.ResponsePayload{Form: w.formV2.ID.Bytes(), Station: "KE-047-112",
		Answers: []incident.Answer{{Question: "staff", Value: long}}}))
	o := ObservationsOf(w.ms, append(w.recs, rec), nil, false)
	found := false
	_ = o.EachResponse(func(r *ResponseRow, s *incident.Signed) error {
		if s != nil && s.ID == rec.ID {
			found = true
			if n := len([]rune(r.Misfit)); n > maxMisfit+1 || !strings.HasSuffix(r.Misfit, "…") || !strings.HasPrefix(r.Misfit, "question staff") {
				t.Errorf("misfit of %d characters: %.60q…", n, r.Misfit)
			}
		}
		return nil
	})
	if !found {
		t.Fatal("the response is not in the table")
	}
	v, ok := xlsxValue(textCell(strings.Repeat("x", maxXLSXCell+100))).(string)
	if !ok || len([]rune(v)) != maxXLSXCell || !strings.HasSuffix(v, "…") {
		t.Errorf("a cell of %d characters", len([]rune(v)))
	}
}
