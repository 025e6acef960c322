package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoryAcrossHomes is polling day between two devices that only ever
// meet through bundle files: a coordinator creates a mission and invites an
// observer by QR; the observer joins offline, reports, checks in and raises
// an alert; a USB stick carries the records; the coordinator triages.
func TestStoryAcrossHomes(t *testing.T) {
	t.Parallel()
	coord, coordKey, mission := newMission(t, "coordinator")

	qr := filepath.Join(t.TempDir(), "invite.png")
	code := invite(t, coord, "--role", "observer", "--label", "Kestrel", "--qr", qr)
	png, err := os.ReadFile(qr)
	if err != nil {
		t.Fatalf("--qr wrote no file: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 1000 {
		t.Fatalf("--qr file is not a PNG image (%d bytes, starts %q)", len(png), png[:min(8, len(png))])
	}

	// The observer pastes the code on standard input, with the line breaks
	// and spaces a chat app adds.
	obs, obsKey := initHome(t, "observer")
	wrapped := "  " + code[:40] + "\n" + code[40:] + "\n"
	joinOut, errs, rc := runVigilIn(t, obs, nil, wrapped, "mission", "join", "-", "--json")
	if rc != 0 {
		t.Fatalf("mission join -: exit %d: %s", rc, errs)
	}
	joined := decodeJSON[map[string]any](t, joinOut)
	if joined["mission"] != mission || joined["role"] != "observer" {
		t.Fatalf("mission join --json: %v, want mission %s role observer", joined, mission)
	}
	obsMember, _ := joined["member"].(string)
	if st := status(t, obs); str(st.Mission) != mission || str(st.Role) != "observer" || st.Author != obsKey {
		t.Fatalf("observer status after join: %+v", st)
	}

	// One report of each family.
	polling := mustID(t, obs, nil, "report", "add", "--category", "polling.late_opening", "--severity", "2",
		"--title", "Station opened 90 minutes late", "--station", "PS-0042", "--area", "North District",
		"--description", "Queue of about 200 voters waiting since 6:00.")
	registration := mustID(t, obs, nil, "report", "add", "--category", "registration.name_missing", "--severity", "3",
		"--title", "Registered voters missing from the list", "--station", "PS-0107",
		"--lat", "-1.2921", "--lon", "36.8219")
	infra := mustID(t, obs, nil, "report", "add", "--category", "infrastructure.internet_shutdown", "--severity", "4",
		"--title", "Mobile data cut across the district", "--station", "PS-0042")
	disinfo := mustID(t, obs, nil, "report", "add", "--category", "disinformation.false_voting_info", "--severity", "3",
		"--title", "Mass SMS gives the wrong polling date", "--channel", "sms", "--harm", "high",
		"--reach", "12000", "--source", "+000 555 0199")
	other := mustID(t, obs, nil, "report", "add", "--category", "other", "--severity", "1",
		"--title", "Generator noise at the counting hall", "--occurred", "3h")
	checkin := mustID(t, obs, nil, "checkin", "--status", "arrived", "--station", "PS-0042")
	alert := mustID(t, obs, nil, "alert", "--note", "Men with sticks at the gate", "--station", "PS-0042")
	if checkin == alert || polling == other {
		t.Fatal("two records got the same ID")
	}

	// The stick: everything the observer holds goes to the coordinator.
	bundle1 := exportBundle(t, obs)
	sum := importBundle(t, coord, bundle1)
	// genesis (already held), member, five reports, a check-in, an alert
	if sum.Records != 9 || sum.Accepted != 8 || sum.Duplicate != 1 || sum.Quarantined != 0 || sum.Rejected != 0 {
		t.Fatalf("first import: %+v, want 9 records: 8 accepted, 1 duplicate", sum)
	}
	st := status(t, coord)
	for kind, n := range map[string]int{"mission": 1, "member": 1, "report": 5, "checkin": 1, "alert": 1, "review": 0} {
		if st.Records[kind] != n {
			t.Errorf("coordinator records[%s] = %d, want %d (%v)", kind, st.Records[kind], n, st.Records)
		}
	}

	// Triage.
	review := mustID(t, coord, nil, "review", polling, "--status", "verified", "--note", "Confirmed by phone")

	// Every report object has the contract's keys, null when absent.
	rawList := mustRun(t, coord, nil, "report", "list", "--json")
	for _, line := range strings.Split(rawList, "\n") {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("report list line is not JSON: %v: %q", err, line)
		}
		for _, k := range []string{"id", "category", "severity", "title", "station", "area", "lat", "lon", "occurred",
			"created", "author", "sealed", "status", "conflict", "retracted", "flags"} {
			if _, ok := obj[k]; !ok {
				t.Errorf("report object lacks %q: %s", k, line)
			}
		}
	}
	all, _ := listReports(t, coord)
	if len(all) != 5 {
		t.Fatalf("coordinator lists %d reports, want 5", len(all))
	}
	for id, r := range all {
		want := "unreviewed"
		if id == polling {
			want = "verified"
		}
		if r.Status != want || r.Conflict || r.Retracted || r.Author != obsKey || r.Sealed || len(r.Flags) != 0 {
			t.Errorf("report %s (%s): status %q conflict %v retracted %v author %s flags %v; want %s, by the observer, no flags",
				id, str(r.Title), r.Status, r.Conflict, r.Retracted, r.Author, r.Flags, want)
		}
	}
	if r := all[polling]; str(r.Category) != "polling.late_opening" || str(r.Family) != "polling" || r.Severity == nil || *r.Severity != 2 ||
		str(r.Station) != "PS-0042" || str(r.Area) != "North District" || r.Lat != nil || r.Lon != nil || r.Channel != nil ||
		!strings.Contains(str(r.Description), "200 voters") {
		t.Errorf("polling report fields: %+v", r)
	}
	if r := all[registration]; r.Lat == nil || r.Lon == nil || *r.Lat != -1.2921 || *r.Lon != 36.8219 {
		t.Errorf("registration report location: lat %v lon %v, want -1.2921, 36.8219", r.Lat, r.Lon)
	}
	if r := all[disinfo]; str(r.Channel) != "sms" || str(r.Harm) != "high" || r.Reach == nil || *r.Reach != 12000 ||
		str(r.Source) != "+000 555 0199" || str(r.Family) != "disinformation" {
		t.Errorf("disinformation report fields: channel %s harm %s reach %v source %s", str(r.Channel), str(r.Harm), r.Reach, str(r.Source))
	}
	if r := all[infra]; r.Station == nil || r.Area != nil || r.Description != nil || r.Harm != nil {
		t.Errorf("absent fields should be null: %+v", r)
	}

	// The history shows who did what.
	shown := showReport(t, coord, polling)
	if shown.Status != "verified" || len(shown.History) != 2 {
		t.Fatalf("report show: status %q, history %+v; want verified with report and review", shown.Status, shown.History)
	}
	if h := shown.History[0]; h.ID != polling || h.Kind != "report" || h.Author != obsKey {
		t.Errorf("history[0] = %+v, want the report by the observer", h)
	}
	if h := shown.History[1]; h.ID != review || h.Kind != "review" || h.Author != coordKey || h.Status != "verified" ||
		h.Note != "Confirmed by phone" || !h.Head {
		t.Errorf("history[1] = %+v, want the coordinator's verified review, head", h)
	}

	// Filters.
	filterCases := []struct {
		args []string
		want []string
	}{
		{[]string{"--status", "verified"}, []string{polling}},
		{[]string{"--status", "unreviewed"}, []string{registration, infra, disinfo, other}},
		{[]string{"--category", "polling"}, []string{polling}},
		{[]string{"--category", "registration.name_missing"}, []string{registration}},
		{[]string{"--category", "infrastructure.power_outage"}, nil},
		{[]string{"--station", "PS-0042"}, []string{polling, infra}},
		{[]string{"--since", "1h"}, []string{polling, registration, infra, disinfo}},
		{[]string{"--since", "1h", "--station", "PS-0042", "--status", "unreviewed"}, []string{infra}},
	}
	for _, fc := range filterCases {
		_, ids := listReports(t, coord, fc.args...)
		if !sameSet(ids, fc.want...) {
			t.Errorf("report list %v = %v, want %v", fc.args, ids, fc.want)
		}
	}

	// The observer corrects one report and withdraws another; the next
	// stick carries only what is new.
	amend := mustID(t, obs, nil, "report", "amend", infra, "--station", "PS-0099", "--severity", "3")
	retract := mustID(t, obs, nil, "report", "retract", other, "--reason", "Not election related")
	sum = carry(t, obs, coord)
	if sum.Accepted != 2 || sum.Duplicate != sum.Records-2 {
		t.Fatalf("second import: %+v, want the amendment and the retraction accepted, the rest duplicates", sum)
	}
	all, _ = listReports(t, coord)
	if r := all[infra]; str(r.Station) != "PS-0099" || r.Severity == nil || *r.Severity != 3 || r.Amendments != 1 ||
		str(r.Title) != "Mobile data cut across the district" {
		t.Errorf("amended report: station %s severity %v amendments %d title %s; want PS-0099, 3, 1, the original title",
			str(r.Station), r.Severity, r.Amendments, str(r.Title))
	}
	if r := all[other]; !r.Retracted || str(r.RetractReason) != "Not election related" {
		t.Errorf("retracted report: retracted %v reason %s", r.Retracted, str(r.RetractReason))
	}
	if _, ids := listReports(t, coord, "--station", "PS-0042"); !sameSet(ids, polling) {
		t.Errorf("after the amendment, --station PS-0042 = %v, want only %s", ids, polling)
	}
	if _, ids := listReports(t, coord, "--station", "PS-0099"); !sameSet(ids, infra) {
		t.Errorf("after the amendment, --station PS-0099 = %v, want %s", ids, infra)
	}
	hist := showReport(t, coord, other).History
	if len(hist) != 2 || hist[1].ID != retract || hist[1].Kind != "retract" {
		t.Errorf("retracted report history: %+v", hist)
	}
	hist = showReport(t, coord, infra).History
	if len(hist) != 2 || hist[1].ID != amend || hist[1].Kind != "amend" {
		t.Errorf("amended report history: %+v", hist)
	}

	// Members: the founder and the observer, with who enrolled whom.
	ms := members(t, coord)
	if len(ms) != 2 {
		t.Fatalf("members: %+v, want founder and observer", ms)
	}
	if f := ms[coordKey]; f.Role != "coordinator" || !containsStr(f.Flags, "founder") || f.Record != nil {
		t.Errorf("founder: %+v", f)
	}
	if o := ms[obsKey]; o.Role != "observer" || str(o.Label) != "Kestrel" || str(o.Record) != obsMember ||
		str(o.Issuer) != coordKey || len(o.Flags) != 0 {
		t.Errorf("observer member: %+v, want observer Kestrel, record %s, issued by %s", o, obsMember, coordKey)
	}
}
