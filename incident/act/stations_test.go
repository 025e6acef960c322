package act

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

func registryFile(t testing.TB, name string) StationImport {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return StationImport{Name: filepath.Base(name), Data: data}
}

// records counts every record d's store holds.
func records(t testing.TB, d *Desk) int {
	t.Helper()
	c, err := d.st.Counts()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

func codes(list StationList) []string {
	var out []string
	for _, s := range list.Stations {
		out = append(out, s.Station.Code)
	}
	return out
}

// A coordinator imports the real-format registry; it is in force on the
// coordinator's device and, once its records arrive, on the observer's,
// and lists by area, tag and search.
func TestImportStations(t *testing.T) {
	coord, obs := mission(t)
	if list, err := obs.Stations(StationQuery{}); err != nil || list.Total != 0 || list.Registry != nil {
		t.Fatalf("before any import: %+v, %v", list, err)
	}
	got, err := coord.ImportStations(registryFile(t, "stations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Stations != 30 || got.Located != 24 || got.Sample != 10 || got.Regions != 4 || got.Registered == 0 ||
		len(got.Snapshot) != 64 || got.Supersedes != nil || got.Identical {
		t.Fatalf("imported: %+v", got)
	}
	copyRecords(t, coord, obs)
	for _, d := range []*Desk{coord, obs} {
		all, err := d.Stations(StationQuery{})
		if err != nil || all.Total != 30 || len(all.Stations) != 30 || all.Registry == nil || *all.Registry != got.Registry ||
			!slices.IsSorted(codes(all)) || len(all.Pending) != 0 {
			t.Fatalf("the registry in force: %d stations, registry %v, %v", len(all.Stations), all.Registry, err)
		}
		s := all.Stations[6]
		if s.Station.Code != "PS-0007" || s.Station.Name != "Belmar Secondary School" ||
			!slices.Equal(s.Station.Admin, []string{"Calvera", "Ros Tamin", "Belmar"}) || !s.Station.HasTag("pvt") || s.By != coord.st.Author() {
			t.Fatalf("PS-0007: %+v", s)
		}
	}
	for _, c := range []struct {
		q    StationQuery
		want []string
	}{
		{StationQuery{Area: "ros tamin"}, []string{"PS-0006", "PS-0007", "PS-0008", "PS-0009", "PS-0010"}},
		{StationQuery{Area: "Calvera/Ros Tamin"}, []string{"PS-0006", "PS-0007", "PS-0008", "PS-0009", "PS-0010"}},
		{StationQuery{Area: "Belmar"}, []string{"PS-0007", "PS-0010"}},
		{StationQuery{Area: "Ros"}, nil}, // a level whole, not part of one
		{StationQuery{Tag: "stratum=rural", Area: "Ostmarin"}, []string{"PS-0016", "PS-0019"}},
		{StationQuery{Search: "ps 0007"}, []string{"PS-0007"}},
		{StationQuery{Search: "HARBOUR"}, []string{"PS-0001", "PS-0005"}},
	} {
		list, err := obs.Stations(c.q)
		if err != nil || !slices.Equal(codes(list), c.want) || list.Total != 30 {
			t.Errorf("%+v: %v, %v", c.q, codes(list), err)
		}
	}
}

// The same file again signs a new snapshot, which supersedes the first,
// and says it is identical; a changed file is not.
func TestReimportStations(t *testing.T) {
	coord, _ := mission(t)
	first, err := coord.ImportStations(registryFile(t, "stations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := coord.ImportStations(registryFile(t, "stations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Identical || again.Supersedes == nil || *again.Supersedes != first.Registry || again.Snapshot == first.Snapshot {
		t.Fatalf("the same file again: %+v", again)
	}
	if list, _ := coord.Stations(StationQuery{}); list.Registry == nil || *list.Registry != again.Registry || list.Total != 30 {
		t.Fatalf("after the second import: %v", list.Registry)
	}
	f := registryFile(t, "stations.csv")
	f.Data = []byte(strings.Replace(string(f.Data), "Belmar Secondary School", "Belmar Secondary School (new block)", 1))
	f.Data = []byte(strings.Split(string(f.Data), "PS-0030")[0]) // PS-0030 closed
	third, err := coord.ImportStations(f)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := coord.Stations(StationQuery{})
	if third.Identical || list.Total != 29 || *list.Registry != third.Registry {
		t.Fatalf("a changed file: %+v; %d stations in force", third, list.Total)
	}
	if s, _ := coord.Stations(StationQuery{Search: "PS-0007"}); s.Stations[0].Station.Name != "Belmar Secondary School (new block)" {
		t.Fatalf("PS-0007 after the change: %+v", s.Stations[0])
	}
}

// Every bad file is refused whole, the line and the fault named, and
// stores nothing; so is an observer's import, and a file too big.
func TestImportStationsRefused(t *testing.T) {
	coord, obs := mission(t)
	bad, err := os.ReadDir("testdata/bad")
	if err != nil || len(bad) < 10 {
		t.Fatalf("testdata/bad: %d files, %v", len(bad), err)
	}
	cases := map[string]struct {
		d     *Desk
		req   StationImport
		code  Code
		words string
	}{
		"observer": {obs, registryFile(t, "stations.csv"), Forbidden, "may not sign station records"},
		"too big":  {coord, StationImport{Name: "huge.csv", Data: make([]byte, incident.MaxStationsCSVBytes+1)}, Invalid, "huge.csv is over 64 MiB"},
	}
	for _, e := range bad {
		cases[e.Name()] = struct {
			d     *Desk
			req   StationImport
			code  Code
			words string
		}{coord, registryFile(t, filepath.Join("bad", e.Name())), Invalid, e.Name() + ": nothing imported"}
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			before := records(t, c.d)
			_, err := c.d.ImportStations(c.req)
			var ae *Error
			if !errors.As(err, &ae) || ae.Code != c.code || !strings.Contains(ae.Msg, c.words) {
				t.Fatalf("got %v, want %s saying %q", err, c.code, c.words)
			}
			if c.code == Invalid && (ae.Field != "file" || name != "too big" && !strings.Contains(ae.Msg, "line ")) {
				t.Fatalf("field %q, message %q: want the file's line", ae.Field, ae.Msg)
			}
			if after := records(t, c.d); after != before {
				t.Fatalf("%d records before, %d after", before, after)
			}
		})
	}
}

// Codes typed by people are stored in their normal form; one the
// registry in force does not list is stored all the same, and flagged.
func TestStationCodesNormalised(t *testing.T) {
	coord, obs := mission(t)
	if _, err := coord.ImportStations(registryFile(t, "stations.csv")); err != nil {
		t.Fatal(err)
	}
	copyRecords(t, coord, obs)
	r := report("Opened late")
	r.Station = " ps 0007"
	known, err := obs.Submit(Submission{Report: r})
	if err != nil {
		t.Fatal(err)
	}
	r.Station = "ps_9999"
	unknown, err := obs.Submit(Submission{Report: r})
	if err != nil {
		t.Fatalf("a station missing from the registry must still be reported: %v", err)
	}
	v, err := obs.Report(known.ID.String())
	if err != nil || v.Report.Station != "PS-0007" || slices.Contains(v.Flags, incident.FlagUnknownStation) {
		t.Fatalf("a known station: %q %v %v", v.Report.Station, v.Flags, err)
	}
	v, err = obs.Report(unknown.ID.String())
	if err != nil || v.Report.Station != "PS-9999" || !slices.Contains(v.Flags, incident.FlagUnknownStation) {
		t.Fatalf("an unknown station: %q %v %v", v.Report.Station, v.Flags, err)
	}
	am := report("Opened late, 40 minutes")
	am.Station = "ps-0008"
	if _, err := obs.Amend(Amendment{Target: known.ID.String(), Report: am}); err != nil {
		t.Fatal(err)
	}
	if v, _ := obs.Report(known.ID.String()); v.Report.Station != "PS-0008" {
		t.Fatalf("amended station: %q", v.Report.Station)
	}
	c, err := obs.Checkin(incident.CheckinPayload{Status: "arrived", Station: "ps 0007"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := obs.Alert(incident.AlertPayload{Note: "crowd", Station: "ps-404"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := coord.Notice(NoticeRequest{Text: "Queue at the gate", Station: "ps 0007"})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[incident.ID]string{c.ID: "PS-0007", a.ID: "PS-404"} {
		rec, err := obs.st.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := rec.DecodePayload()
		switch p := p.(type) {
		case *incident.CheckinPayload:
			if p.Station != want {
				t.Errorf("check-in station %q", p.Station)
			}
		case *incident.AlertPayload:
			if p.Station != want {
				t.Errorf("alert station %q", p.Station)
			}
		}
	}
	alerts, err := obs.Alerts()
	if err != nil || len(alerts) != 1 || !slices.Contains(alerts[0].Flags, incident.FlagUnknownStation) {
		t.Fatalf("an alert at an unknown station: %+v %v", alerts, err)
	}
	notices, err := coord.Notices(NoticeQuery{})
	if err != nil || len(notices) != 1 || notices[0].ID != n.ID || notices[0].Notice.Station != "PS-0007" {
		t.Fatalf("notice station: %+v %v", notices, err)
	}
}
