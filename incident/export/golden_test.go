package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// The golden files pin the exact bytes of the CSV, JSONL and GeoJSON
// writers over reports that exercise every column: quotes, commas, line
// breaks, leading spaces, non-Latin text, empty and absent fields, sealed,
// opened, amended, retracted, reviewed and flagged reports, and public
// rows. A change to them is a change to what analysts' tools read: review
// the diff, then run with -update.

// goldenViews are hand-built views for the cases signed reports rarely
// produce.
func goldenViews() []Item {
	id := func(s string) incident.ID { return sha256.Sum256([]byte("golden/id/" + s)) }
	author := func(s string) incident.Author { return incident.Author(sha256.Sum256([]byte("golden/author/" + s))) }
	micro := func(v int64) *int64 { return &v }
	t0 := time.Date(2026, 11, 25, 7, 30, 15, 123e6, time.UTC).UnixMilli()
	h := func(s string, n int) []byte { d := sha256.Sum256([]byte(s)); return bytes.Repeat(d[:], 2)[:n] }
	views := []incident.ReportView{
		{ // every field, with every character CSV must quote or escape; its text approved for publication
			ID: id("quotes"), Author: author("a"), Created: t0, Status: "verified", Amendments: 2, TextApproved: true,
			Report: incident.ReportPayload{Category: "polling.vote_buying", Severity: 5, Occurred: t0 - 3600_000,
				Station: "PS-0001, annex", Area: `"Old" Town`, Lat: micro(-1292123), Lon: micro(36821987), Precision: 12,
				Title:       `He said "vote for us", then, left`,
				Description: "line one\nline two\r\nline three\rend; 選挙 — الانتخابات — выборы 🗳",
				Attachments: [][]byte{h("att1", 32), h("att2", 32)},
				Channel:     "sms", Harm: "high", Reach: 123456, Source: "a,b"},
			Flags: []string{"future_time", "unknown_category"},
		},
		{ // leading white space of several kinds, \. and formula-like text
			ID: id("space"), Author: author("b"), Created: t0 + 1, Status: incident.StatusUnreviewed,
			Report: incident.ReportPayload{Category: "other", Occurred: t0,
				Title: " leading space", Description: "\tleading tab", Station: "\u00a0nbsp", Area: "\u3000ideographic",
				Source: `\.`, Channel: "=HYPERLINK(\"http://x\")", Harm: "+1", Lat: micro(0), Lon: micro(0)},
		},
		{ // absent fields everywhere; severity zero is still printed
			ID: id("empty"), Author: author("c"), Created: 0, Status: incident.StatusUnreviewed,
		},
		{ // retracted with a reason, a conflict, odd attachment lengths, a category without a family part
			ID: id("retracted"), Author: author("a"), Created: -1234567, Status: "escalated", Conflict: true,
			Retracted: true, RetractReason: "Duplicate, see \"other\" report\n(sent twice)", Amendments: 1,
			Report: incident.ReportPayload{Category: "registration.a.b", Severity: 1, Occurred: 253402300799999,
				Title: "-minus", Description: "@at", Lat: micro(90000000), Lon: micro(-180000000), Precision: 1,
				Attachments: [][]byte{h("short", 5), h("long", 40), {}}},
			Flags: []string{"author_revoked"},
		},
		{ // sealed, unread: only the envelope fields
			ID: id("sealed"), Author: author("d"), Created: t0 + 5, Sealed: true, Status: incident.StatusUnreviewed,
			Report: incident.ReportPayload{Category: "polling.violence", Severity: 4, Title: "must not appear"},
		},
		{ // sealed and opened here: printed like a clear report
			ID: id("opened"), Author: author("d"), Created: t0 + 6, Sealed: true, Opened: true, Status: "corroborated",
			Report: incident.ReportPayload{Category: "polling.violence", Severity: 4, Occurred: t0,
				Title: "opened", Area: "عربي", Lat: micro(5123456), Lon: micro(-1000001), Precision: 200},
			Flags: []string{"before_mission", "unconfirmed", "duplicate_token"},
		},
		{ // a field that is only a quote, only a comma, only a line break
			ID: id("tiny"), Author: author("b"), Created: t0 + 7, Status: "rejected",
			Report: incident.ReportPayload{Category: "disinformation.deepfake", Severity: 2, Occurred: t0,
				Title: `"`, Description: ",", Station: "\n", Area: "\r", Source: " ", Channel: "\r\n"},
			Flags: []string{""},
		},
		{ // invalid UTF-8 stays as it is
			ID: id("bytes"), Author: author("e"), Created: t0 + 8, Status: incident.StatusUnreviewed,
			Report: incident.ReportPayload{Category: "other", Severity: 3, Occurred: t0, Title: "\xff\xfe bad", Description: "\x85 NEL", Station: "\u0085NEL", Area: "\u2028LS"},
		},
	}
	items := make([]Item, len(views))
	for i, v := range views {
		items[i] = Item{View: v, Record: []byte("record " + v.ID.String()), Related: [][]byte{[]byte("rel")}}
	}
	// The observer's label and the review note, quoted and escaped like
	// any text; absent (an author the mission does not list) elsewhere.
	items[0].Observer, items[0].ReviewNote = `Amani "north", PS-0001`, "Called the agent back;\nconfirmed by two voters"
	items[3].Observer, items[3].ReviewNote = "Zoë", "Escalated to the legal team"
	items[6].Observer = "=cmd"
	return items
}

// goldenItems are the paper mission's signed reports, the tools tests'
// tricky report and the hand-built views.
func goldenItems(t *testing.T) []Item {
	t.Helper()
	m := newPaperMission(t, "Golden mission").standard()
	m.add(m.report(incident.ReportPayload{Category: "polling.vote_buying", Severity: 3,
		Title:       `Agent said "vote for us, get 500", then left`,
		Description: "Line one, with a comma\nLine two; «guillemets» and ελληνικά\r\nLine three: 日本語 and العربية",
		Lat:         incident.Micro(-33.918861), Lon: incident.Micro(18.4233), Station: "ZA-001"}))
	return append(m.items, goldenViews()...)
}

// goldenPublic turns items into public rows with a fixed pseudonym key.
func goldenPublic(items []Item, o PublicOptions) []Item {
	views := make([]incident.ReportView, len(items))
	for i := range items {
		views[i] = items[i].View
	}
	an := NewAnonymizer(views, o)
	an.key = sha256.Sum256([]byte("golden pseudonym key"))
	var out []Item
	for _, v := range views {
		if j, ok := an.Public(v); ok {
			out = append(out, Item{Public: &j})
		}
	}
	return out
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.SplitAfter(string(got), "\n"), strings.SplitAfter(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got %q\nwant %q", name, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: %d lines, want %d", name, len(gl), len(wl))
	}
}

func goldenCSV(t *testing.T, items []Item, hxl bool, notice string) []byte {
	t.Helper()
	var b bytes.Buffer
	cw, err := NewNoticeCSV(&b, hxl, notice)
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		if err := cw.Write(&items[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func goldenJSONL(t *testing.T, items []Item, deps []*incident.Signed, notice string) []byte {
	t.Helper()
	var b bytes.Buffer
	jw, err := NewJSONL(&b, deps)
	if err != nil {
		t.Fatal(err)
	}
	if notice != "" {
		if err := jw.Notice(notice); err != nil {
			t.Fatal(err)
		}
	}
	for i := range items {
		if err := jw.Write(&items[i]); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func goldenGeoJSON(t *testing.T, items []Item, notice string) []byte {
	t.Helper()
	var b bytes.Buffer
	gw, err := NewNoticeGeoJSON(&b, notice)
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		if err := gw.Write(&items[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	items := goldenItems(t)
	deps := newPaperMission(t, "Golden mission").deps
	pub := goldenPublic(items, PublicOptions{MinObservers: 1})
	priv := goldenPublic(items, PublicOptions{Private: []string{"title", "lat", "station", "category"}})
	const notice = "Anonymised public export.\nSecond line."
	checkGolden(t, "reports.csv", goldenCSV(t, items, false, ""))
	checkGolden(t, "reports-hxl.csv", goldenCSV(t, items, true, PracticeNotice))
	checkGolden(t, "public.csv", goldenCSV(t, pub, true, notice))
	checkGolden(t, "public-private.csv", goldenCSV(t, priv, false, notice))
	checkGolden(t, "empty.csv", goldenCSV(t, nil, false, ""))
	checkGolden(t, "reports.jsonl", goldenJSONL(t, items, deps, ""))
	checkGolden(t, "public.jsonl", goldenJSONL(t, pub, nil, notice))
	checkGolden(t, "reports.geojson", goldenGeoJSON(t, items, ""))
	checkGolden(t, "public.geojson", goldenGeoJSON(t, pub, notice))
}

// The CSV golden files must read back, with encoding/csv, as the columns
// of each report's printable form: the files pin real CSV, not just bytes.
func TestGoldenCSVReadsBack(t *testing.T) {
	items := goldenItems(t)
	b := goldenCSV(t, items, true, "")
	rows, err := csvReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(items)+2 {
		t.Fatalf("%d rows, want %d", len(rows), len(items)+2)
	}
	for i := range items {
		j := items[i].Row()
		for k, c := range Columns {
			want := strings.ReplaceAll(c.value(&items[i], &j), "\r", "") // CRLF mode drops a bare CR; \r\n and \n read back as \n
			if got := rows[i+2][k]; got != want {
				t.Errorf("row %d column %s = %q, want %q", i+1, c.Name, got, want)
			}
		}
	}
}

func csvReadAll(b []byte) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = len(Columns)
	return r.ReadAll()
}
