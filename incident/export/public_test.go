package export_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
)

// publicWorld: a coordinator and two observers with known keys and
// records; reports with fine coordinates, a lone-observer station, a
// sealed report and an attachment.
func publicWorld(t *testing.T) (*store.Store, []string) {
	t.Helper()
	w := newEvWorld(t) // coordinator, observer, attachment, two reports
	obs2 := openStore(t)
	code, _ := w.coord.Invite(store.InviteRequest{Role: incident.RoleObserver, Label: "heron"})
	if _, err := obs2.Join(code); err != nil {
		t.Fatal(err)
	}
	put := func(st *store.Store, title, station string, lat, lon float64) {
		_, err := st.Put(incident.KindReport, incident.ReportPayload{Category: "polling.intimidation", Severity: 3,
			Occurred: time.Date(2026, 11, 25, 9, 47, 13, 0, time.UTC).UnixMilli(), Title: title, Station: station,
			Area: "Lakeside District", Lat: incident.Micro(lat), Lon: incident.Micro(lon), Precision: 10})
		if err != nil {
			t.Fatal(err)
		}
	}
	put(w.obs, "crowd at the gate", "PS-0042", -1.292123, 36.821987)
	put(obs2, "crowd at the gate too", "PS-0042", -1.292200, 36.821900)
	put(obs2, "lone observer's report", "PS-0777", -1.301234, 36.801234)
	if _, err := obs2.PutSealed(incident.KindReport, nil, incident.ReportPayload{Category: "polling.violence", Severity: 4,
		Occurred: time.Now().UnixMilli(), Title: "SEALED-TEXT"}); err != nil {
		t.Fatal(err)
	}
	for _, src := range []*store.Store{w.obs, obs2} {
		for _, k := range incident.Kinds {
			recs, _ := src.ByKind(k)
			for _, r := range recs {
				w.coord.Add(r.Raw, "test")
			}
		}
	}
	// Everything that must not appear: device keys and record IDs.
	var secrets []string
	for _, st := range []*store.Store{w.coord, w.obs, obs2} {
		secrets = append(secrets, st.Author().String())
		_ = st.ForEachKey(func(_ int64, id incident.ID) error {
			secrets = append(secrets, id.String())
			return nil
		})
	}
	// Free text never goes out (it can name people and places).
	secrets = append(secrets, "SEALED-TEXT", "PS-0777", "heron", "crowd at the gate", "lone observer")
	return w.coord, secrets
}

func publicItems(t *testing.T, st *store.Store) ([]export.Item, *export.Anonymizer) {
	views, err := st.List(store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	// Unverified: these reports are unreviewed, and what is tested here is
	// how a published row is anonymised.
	an := export.NewAnonymizer(views, export.PublicOptions{MinObservers: 2, Unverified: true})
	var items []export.Item
	for _, v := range views {
		if j, ok := an.Public(v); ok {
			items = append(items, export.Item{View: v, Public: &j})
		}
	}
	return items, an
}

func TestPublicExportHidesKeysIDsAndFineCoordinates(t *testing.T) {
	st, secrets := publicWorld(t)
	items, an := publicItems(t, st)
	// The coordinator opens the sealed report: it goes like any other,
	// its text withheld like any other unapproved text.
	if an.Dropped != 0 || len(items) != 6 || an.WithheldText != 6 {
		t.Fatalf("left out %d sealed reports, published %d, withheld %d texts; want 0, 6, 6", an.Dropped, len(items), an.WithheldText)
	}
	outputs := map[string]*bytes.Buffer{"csv": {}, "jsonl": {}, "geojson": {}}
	cw, _ := export.NewNoticeCSV(outputs["csv"], true, an.Notice())
	jw, _ := export.NewJSONL(outputs["jsonl"], nil)
	jw.Notice(an.Notice())
	gw, _ := export.NewNoticeGeoJSON(outputs["geojson"], an.Notice())
	for i := range items {
		cw.Write(&items[i])
		jw.Write(&items[i])
		gw.Write(&items[i])
	}
	cw.Close()
	gw.Close()
	for format, buf := range outputs {
		text := buf.String()
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s export contains %q", format, s)
			}
		}
		if !strings.Contains(text, "cannot be verified") {
			t.Errorf("%s export does not say it cannot be verified", format)
		}
	}
	// Every coordinate, parsed back, lies on the 0.1° grid.
	onGrid := func(format string, v float64) {
		if math.Abs(v*10-math.Round(v*10)) > 1e-9 {
			t.Errorf("%s: coordinate %v finer than 0.1°", format, v)
		}
	}
	r := csv.NewReader(strings.NewReader(outputs["csv"].String()))
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for _, row := range rows[2:] { // header, HXL row
		for _, c := range []string{"lat", "lon"} {
			if row[col[c]] != "" {
				v, _ := strconv.ParseFloat(row[col[c]], 64)
				onGrid("csv", v)
			}
		}
		if !strings.HasSuffix(row[col["occurred"]], ":00:00Z") {
			t.Errorf("csv: time %s not rounded to the hour", row[col["occurred"]])
		}
	}
	var fc struct {
		Notice   string `json:"notice"`
		Features []struct {
			Geometry struct{ Coordinates []float64 } `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(outputs["geojson"].Bytes(), &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 3 {
		t.Fatalf("geojson has %d features, want 3", len(fc.Features))
	}
	for _, f := range fc.Features {
		onGrid("geojson", f.Geometry.Coordinates[0])
		onGrid("geojson", f.Geometry.Coordinates[1])
	}
	for _, line := range strings.Split(strings.TrimSpace(outputs["jsonl"].String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["record"]; ok {
			t.Error("jsonl public line carries a signed record")
		}
		if lat, ok := m["lat"].(float64); ok {
			onGrid("jsonl", lat)
		}
	}
	// The lone observer's station shows its area instead.
	if strings.Contains(outputs["csv"].String(), "PS-0777") || !strings.Contains(outputs["csv"].String(), "Lakeside District") {
		t.Error("a station with one observer is named, or its area is missing")
	}
	if !strings.Contains(outputs["csv"].String(), "PS-0042") {
		t.Error("a station with two observers lost its code")
	}
}

// TestPublicExportPublishesOnlyVerified: by default only reports a
// coordinator verified or corroborated (and that no coordinator disputes)
// go out; Unverified adds the unreviewed and escalated ones, marked by
// status; rejected and retracted reports never go; no row carries free
// text or anything that links one observer's rows; the notice counts what
// was left out.
func TestPublicExportPublishesOnlyVerified(t *testing.T) {
	author := incident.Author{1}
	view := func(status string, retracted, conflict bool) incident.ReportView {
		var id incident.ID
		id[0] = byte(len(status)) + 10*b2i(retracted) + 20*b2i(conflict)
		return incident.ReportView{ID: id, Author: author, Status: status, Retracted: retracted, Conflict: conflict,
			Report: incident.ReportPayload{Category: "polling.closure", Severity: 2, Title: "Closed at PS-0042 by Mr X",
				Description: "Seen by Amina", Source: "a phone call", Station: "PS-0042"}}
	}
	views := []incident.ReportView{
		view("verified", false, false), view("corroborated", false, false), view("verified", false, true),
		view(incident.StatusUnreviewed, false, false), view("escalated", false, false),
		view("rejected", false, false), view("verified", true, false),
	}
	for _, tc := range []struct {
		unverified            bool
		want                  []string // statuses published
		leftUnverified, leftW int
	}{
		{false, []string{"verified", "corroborated"}, 3, 2},
		{true, []string{"verified", "corroborated", "verified", incident.StatusUnreviewed, "escalated"}, 0, 2},
	} {
		an := export.NewAnonymizer(views, export.PublicOptions{Unverified: tc.unverified, MinObservers: 1})
		var got []string
		for _, v := range views {
			j, ok := an.Public(v)
			if !ok {
				continue
			}
			got = append(got, j.Status)
			if j.Title != nil || j.Description != nil || j.Source != nil || j.Author != "" {
				t.Errorf("a public row carries free text or an author: %+v", j)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("unverified=%v: published %v, want %v", tc.unverified, got, tc.want)
		}
		if an.DroppedUnverified != tc.leftUnverified || an.DroppedWithdrawn != tc.leftW {
			t.Errorf("unverified=%v: left out %d unverified, %d withdrawn; want %d, %d", tc.unverified,
				an.DroppedUnverified, an.DroppedWithdrawn, tc.leftUnverified, tc.leftW)
		}
		notice := an.Notice()
		for _, want := range []string{fmt.Sprintf("%d not verified", tc.leftUnverified), "2 rejected or retracted",
			"free text", "no pseudonym"} {
			if !strings.Contains(notice, want) {
				t.Errorf("unverified=%v: the notice does not say %q:\n%s", tc.unverified, want, notice)
			}
		}
	}
}

func b2i(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// TestPublicTextOnlyAsApproved: a public row carries a report's free text
// exactly as the coordinators approved it, and nothing of it otherwise;
// approved text that names a station the file does not show is withheld;
// private fields stay private; the notice counts what was withheld.
func TestPublicTextOnlyAsApproved(t *testing.T) {
	report := func(title, description, source, station string) incident.ReportPayload {
		return incident.ReportPayload{Category: "polling.closure", Severity: 2, Title: title, Description: description,
			Source: source, Station: station}
	}
	// PS-0042: three observers, shown. PS-0777: one observer, hidden.
	// PS-0999: in the registry only ("Hill School"), hidden.
	var views []incident.ReportView
	for i := range 3 {
		views = append(views, incident.ReportView{ID: incident.ID{0x40, byte(i)}, Author: incident.Author{byte(i + 1)},
			Status: "verified", Report: report("queue", "", "", "PS-0042")})
	}
	stations := []incident.StationPayload{{Code: "PS-0042", Name: "Lake Hall"}, {Code: "PS-0777", Name: "Kessa Market"},
		{Code: "PS-0999", Name: "Hill School"}}
	for _, tc := range []struct {
		name     string
		approved bool
		r        incident.ReportPayload
		private  []string
		want     [3]string // title, description, source published ("" for none)
		withheld [2]int    // WithheldText, WithheldStation
	}{
		{"not approved", false, report("Closed early", "Seen by Amina", "phone", ""), nil, [3]string{}, [2]int{1, 0}},
		{"approved", true, report("Closed early", "Seen by two voters", "phone", ""), nil,
			[3]string{"Closed early", "Seen by two voters", "phone"}, [2]int{}},
		{"approved, names a station shown", true, report("Closed early at PS-0042", "Lake Hall shut", "", "PS-0042"), nil,
			[3]string{"Closed early at PS-0042", "Lake Hall shut"}, [2]int{}},
		{"approved, names a hidden station's code", true, report("Closed", "Then ps 0777 shut too", "", ""), nil,
			[3]string{}, [2]int{0, 1}},
		{"approved, names a registered station's name", true, report("Closed", "", "the hill school guard", ""), nil,
			[3]string{}, [2]int{0, 1}},
		{"approved, its own station hidden", true, report("Closed at PS-0777", "", "", "PS-0777"), nil,
			[3]string{}, [2]int{0, 1}},
		{"approved, a longer code is another station", true, report("PS-07770 is no station", "", "", ""), nil,
			[3]string{"PS-07770 is no station"}, [2]int{}},
		{"approved, description private", true, report("Closed early", "Seen by two voters", "", ""), []string{"description"},
			[3]string{"Closed early"}, [2]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := incident.ReportView{ID: incident.ID{0x99}, Author: incident.Author{0x99}, Status: "verified",
				TextApproved: tc.approved, Report: tc.r}
			v.Version = v.ID
			an := export.NewAnonymizer(append(slices.Clone(views), v),
				export.PublicOptions{Stations: stations, Private: tc.private})
			j, ok := an.Public(v)
			if !ok {
				t.Fatal("the report is not published")
			}
			for i, got := range []*string{j.Title, j.Description, j.Source} {
				if (got == nil) != (tc.want[i] == "") || got != nil && *got != tc.want[i] {
					t.Errorf("field %d = %v, want %q", i, got, tc.want[i])
				}
			}
			if got := [2]int{an.WithheldText, an.WithheldStation}; got != tc.withheld {
				t.Errorf("withheld %v, want %v", got, tc.withheld)
			}
			want := fmt.Sprintf("withheld from %d reports for lack of approval, and from %d whose approved text names a station",
				tc.withheld[0], tc.withheld[1])
			if !strings.Contains(an.Notice(), want) {
				t.Errorf("the notice does not say %q:\n%s", want, an.Notice())
			}
		})
	}
}
