package app

import (
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// The dashboard the app shows, read from the store's counters
// (act.Desk.Dashboard), is the one Summarize computes from every report
// and activity item: in every time zone, at any threshold.
func TestDashboardFromCountersIsSummarize(t *testing.T) {
	h, _ := missionHomes(t)
	be, err := h.Unlock([]byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	st := be.(*StoreBackend).Store()
	t0 := time.Now().Add(-5 * time.Hour).Truncate(time.Minute)
	lat, lon := incident.Micro(-1.29), incident.Micro(36.8)
	var ids []incident.ID
	for i, p := range []incident.ReportPayload{
		{Category: "polling.violence", Severity: 4, Station: "PS-0001", Area: "North", Lat: lat, Lon: lon, Title: "a"},
		{Category: "polling.late_opening", Severity: 2, Station: "PS-0002", Title: "b"}, // area from the registry
		{Category: "polling.closure", Severity: 3, Station: "PS-0009", Title: "c"},      // no area known
		{Category: "registration.voter_deleted", Severity: 1, Title: "d", Lat: lat, Lon: lon},
		{Category: "polling.violence", Severity: 2, Station: "PS-0003", Title: "e"},
		{Category: "polling.vote_buying", Severity: 3, Station: "PS-0001", Title: "f"},
	} {
		p.Occurred = t0.Add(time.Duration(i) * 47 * time.Minute).UnixMilli()
		r, err := st.Put(incident.KindReport, p)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	moved := incident.ReportPayload{Category: "polling.intimidation", Severity: 4, Station: "PS-0003", Occurred: t0.UnixMilli(), Title: "moved"}
	for _, step := range []struct {
		kind incident.Kind
		p    any
	}{
		{incident.KindAmend, incident.AmendPayload{Target: ids[0].Bytes(), Report: moved}},
		{incident.KindRetract, incident.RetractPayload{Target: ids[4].Bytes(), Reason: "twice"}},
		{incident.KindCheckin, incident.CheckinPayload{Status: "closed", Station: "PS-0002"}},
		{incident.KindAlert, incident.AlertPayload{Note: "help", Station: "PS-0007"}},
	} {
		if _, err := st.Put(step.kind, step.p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Review(ids[1], "rejected", "not an incident"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Review(ids[2], "verified", "called"); err != nil {
		t.Fatal(err)
	}
	reports, err := be.Reports()
	if err != nil {
		t.Fatal(err)
	}
	acts, err := be.Activity()
	if err != nil {
		t.Fatal(err)
	}
	members, err := be.Members()
	if err != nil {
		t.Fatal(err)
	}
	stations, err := be.Stations()
	if err != nil {
		t.Fatal(err)
	}
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	byID := func(p []Point) {
		sort.Slice(p, func(i, j int) bool { return p[i].ID.String() < p[j].ID.String() })
	}
	for _, loc := range []*time.Location{time.UTC, kolkata} {
		for _, after := range []time.Duration{30 * time.Minute, 6 * time.Hour} {
			now := time.Now().Add(3 * time.Hour)
			want := Summarize(reports, acts, members, stations, now, after, loc)
			v, err := be.Dashboard(act.DashboardQuery{Now: now, SilentAfter: after, Loc: loc})
			if err != nil {
				t.Fatal(err)
			}
			got := dashboardOf(v, alertsOf(acts))
			byID(got.Points)
			byID(want.Points)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s, silent after %s: from the counters\n%+v\nfrom every report\n%+v", loc, after, got, want)
			}
			if want.Total != 4 || want.Rejected != 1 || len(want.Points) != 1 || (after < time.Hour) != (len(want.SilentStations) > 0) {
				t.Errorf("%s: the test's data does not reach every rule: %+v", loc, want)
			}
		}
	}
}
