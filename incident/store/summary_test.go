package store_test

import (
	"math/rand"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// summaryOfViews is the summary that folding every report gives: what
// the counters must say, computed the slow way.
func summaryOfViews(t *testing.T, s *store.Store) store.Summary {
	t.Helper()
	sum := store.Summary{ByStatus: map[string]int{}, ByCategory: map[string]int{}, BySeverity: map[uint64]int{},
		ByStation: map[string]int{}, ByArea: map[string]int{}, NoArea: map[string]int{}, ByHour: map[time.Time]int{}}
	for _, v := range mustList(t, s, store.Filter{}) {
		if v.Retracted {
			sum.Retracted++
			continue
		}
		sum.ByStatus[v.Status]++
		if v.Status == "rejected" {
			continue
		}
		if v.Sealed && !v.Opened {
			sum.Sealed++
			continue
		}
		r := v.Report
		sum.ByCategory[r.Category]++
		sum.BySeverity[r.Severity]++
		sum.ByStation[r.Station]++
		if r.Area != "" {
			sum.ByArea[r.Area]++
		} else {
			sum.NoArea[r.Station]++
		}
		when := r.Occurred
		if when == 0 {
			when = v.Created
		}
		h := time.UnixMilli(when).UTC().Truncate(time.Hour)
		sum.ByHour[h]++
		if sum.FirstHour.IsZero() || h.Before(sum.FirstHour) {
			sum.FirstHour = h
		}
		if h.After(sum.LastHour) {
			sum.LastHour = h
		}
	}
	return sum
}

// heardOfRecords is when each station and author was last heard from,
// from every report and check-in and alert: what Heard must say.
func heardOfRecords(t *testing.T, s *store.Store) (map[string]store.Heard, map[incident.Author]store.Heard) {
	t.Helper()
	stations, authors := map[string]store.Heard{}, map[incident.Author]store.Heard{}
	seen := func(station string, a incident.Author, at int64) {
		if h := authors[a]; at > h.Last {
			h.Last = at
			authors[a] = h
		}
		if h := stations[station]; station != "" && at > h.Last {
			h.Last = at
			stations[station] = h
		}
	}
	for _, v := range mustList(t, s, store.Filter{}) {
		seen(v.Report.Station, v.Author, v.Created)
	}
	type ck struct {
		at int64
		id string
	}
	latest := map[any]ck{}
	checkin := func(k any, h *store.Heard, r *incident.Signed, status string) {
		if l, ok := latest[k]; !ok || r.Created > l.at || (r.Created == l.at && r.ID.String() > l.id) {
			latest[k] = ck{r.Created, r.ID.String()}
			h.Checkin, h.Status = r.Created, status
		}
	}
	for _, kind := range []incident.Kind{incident.KindCheckin, incident.KindAlert} {
		recs, err := s.ByKind(kind)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			station, status := "", ""
			if p, ok := s.Open(r); ok {
				switch pl := p.(type) {
				case *incident.CheckinPayload:
					station, status = pl.Station, pl.Status
				case *incident.AlertPayload:
					station = pl.Station
				}
			}
			seen(station, r.AuthorKey(), r.Created)
			if kind != incident.KindCheckin {
				continue
			}
			h := authors[r.AuthorKey()]
			checkin(r.AuthorKey(), &h, r, status)
			authors[r.AuthorKey()] = h
			if station != "" {
				h := stations[station]
				checkin(station, &h, r, status)
				stations[station] = h
			}
		}
	}
	return stations, authors
}

// checkSummary checks s's counters against a recount of its tuples and
// against the fold of every report, and its heard times against the
// records.
func checkSummary(t *testing.T, name string, s *store.Store) store.Summary {
	t.Helper()
	got, err := s.Summary(0)
	if err != nil {
		t.Fatal(err)
	}
	re, err := s.Recount()
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(re) {
		t.Errorf("%s: counters\n%+v\nrecount of the tuples\n%+v", name, got, re)
	}
	if want := summaryOfViews(t, s); !got.Equal(want) {
		t.Errorf("%s: counters\n%+v\nfold of every report\n%+v", name, got, want)
	}
	stations, authors, err := s.Heard()
	if err != nil {
		t.Fatal(err)
	}
	ws, wa := heardOfRecords(t, s)
	if !mapsEqual(stations, ws) || !mapsEqual(authors, wa) {
		t.Errorf("%s: heard\n%v\n%v\nfrom the records\n%v\n%v", name, stations, authors, ws, wa)
	}
	return got
}

// After random reports (clear and sealed), amendments that move them,
// reviews, retractions, check-ins and alerts, on the author's device, a
// coordinator's and another observer's (which reads none of the sealed
// ones), the summary counters equal a full recount and the heard times
// those the records give.
func TestSummaryMatchesRecount(t *testing.T) {
	coord, _ := initHome(t, t.TempDir(), store.Options{})
	obs, _ := initHome(t, t.TempDir(), store.Options{})
	other, _ := initHome(t, t.TempDir(), store.Options{})
	createMission(t, coord)
	enroll(t, coord, obs, incident.RoleObserver, "kestrel")
	enroll(t, coord, other, incident.RoleObserver, "heron")
	syncAll(t, coord, obs)
	syncAll(t, coord, other)
	rng := rand.New(rand.NewSource(19))
	pick := func(list ...string) string { return list[rng.Intn(len(list))] }
	t0 := time.Now().Add(-6 * time.Hour).Truncate(time.Minute)
	payload := func() incident.ReportPayload {
		p := report(pick("polling.violence", "polling.late_opening", "registration.voter_deleted"), pick("", "PS-1", "PS-2", "PS-3"),
			t0.Add(time.Duration(rng.Intn(300))*time.Minute), "seen at the gate")
		p.Severity = uint64(1 + rng.Intn(4))
		p.Area = pick("", "", "North", "South")
		if rng.Intn(3) == 0 {
			lat, lon := int64(rng.Intn(1e6)), int64(rng.Intn(1e6))
			p.Lat, p.Lon = &lat, &lon
		}
		return p
	}
	var mine []*incident.Signed
	for i := range 60 {
		sealed := rng.Intn(2) == 0
		put := func(kind incident.Kind, target *incident.ID, p any) *incident.Signed {
			if sealed {
				rec, err := obs.PutSealed(kind, target, p)
				if err != nil {
					t.Fatal(err)
				}
				return rec
			}
			return mustPut(t, obs, kind, p)
		}
		switch op := rng.Intn(10); {
		case op < 4 || len(mine) == 0:
			mine = append(mine, put(incident.KindReport, nil, payload()))
		case op < 6:
			r := mine[rng.Intn(len(mine))]
			sealed = len(r.Sealed) > 0
			put(incident.KindAmend, &r.ID, incident.AmendPayload{Target: r.ID.Bytes(), Report: payload()})
		case op == 6:
			r := mine[rng.Intn(len(mine))]
			sealed = len(r.Sealed) > 0
			put(incident.KindRetract, &r.ID, incident.RetractPayload{Target: r.ID.Bytes(), Reason: "filed twice"})
		case op == 7:
			syncAll(t, obs, coord)
			r := mine[rng.Intn(len(mine))]
			if _, err := coord.Review(r.ID, pick("verified", "rejected", "escalated", "corroborated"), "called"); err != nil {
				t.Fatal(err)
			}
			syncAll(t, coord, obs)
		case op == 8:
			sealed = false // only SMS seals check-ins (incident/smsseal.go)
			put(incident.KindCheckin, nil, incident.CheckinPayload{Status: pick(incident.CheckinStatuses...), Station: pick("", "PS-1", "PS-4")})
		default:
			sealed = false
			put(incident.KindAlert, nil, incident.AlertPayload{Note: "help", Station: pick("", "PS-2", "PS-5")})
		}
		if i%20 == 19 {
			checkSummary(t, "observer", obs)
		}
	}
	syncAll(t, obs, coord)
	syncAll(t, coord, other)
	checkSummary(t, "observer", obs)
	sum := checkSummary(t, "coordinator", coord)
	if sum.Sealed != 0 {
		t.Errorf("the coordinator counts %d sealed reports it cannot read", sum.Sealed)
	}
	t.Logf("coordinator: %+v", sum)
	// Another observer holds the sealed reports and reads none.
	unread := checkSummary(t, "another observer", other)
	if unread.Sealed == 0 {
		t.Errorf("another observer counts no unreadable sealed report: %+v", unread)
	}
}
