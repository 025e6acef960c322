package act

import (
	"sort"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// The coordinator's dashboard: counts, the day's timeline, a map of the
// latest located incidents and who has gone silent. Desk.Dashboard reads
// them from the counters the store keeps as reports arrive
// (store.Summary, store.Heard, store.Located), so a refresh costs the same
// at a hundred reports and at a million. ComposeDashboard is the one rule
// that turns counts into what the screen shows: the app's reference path
// (app.Summarize, from every report) uses it too.

// DashboardPoints is how many located incidents the map shows at most:
// the latest. A map of a million dots shows nothing anyway.
const DashboardPoints = 5000

// MaxTimelineHours bounds the timeline to the last two days of activity.
const MaxTimelineHours = 48

// DashboardQuery says what the dashboard is computed for.
type DashboardQuery struct {
	Now time.Time
	// SilentAfter is the "gone silent" threshold (0: an hour).
	SilentAfter time.Duration
	// Loc is the time zone the timeline's hours are in (nil: UTC).
	Loc *time.Location
	// Points bounds the map (0: DashboardPoints).
	Points int
}

// Count is one bar of a count chart.
type Count struct {
	Key string
	N   int
}

// HourCount is one hour of the timeline.
type HourCount struct {
	Hour time.Time
	N    int
}

// Silence is a station or an observer not heard from for a while.
type Silence struct {
	Key   string // station code, or author key
	Label string
	Last  time.Time // zero: never heard from
}

// Point is a located incident, for the map.
type Point struct {
	ID       incident.ID
	Lat, Lon float64
	Severity int
	Family   string
}

// Dashboard is what the coordinator's dashboard shows. Retracted reports
// count nowhere; reports a coordinator rejected count only by status
// (they are not incidents); sealed reports this device cannot read count
// in the "sealed" family and nowhere else.
type Dashboard struct {
	Total      int // incidents: reports neither retracted nor rejected
	Unreviewed int
	Rejected   int
	ByFamily   []Count // the families' fixed order, "sealed" last when any
	ByCategory []Count // most first
	BySeverity [4]int
	ByArea     []Count // most first; "?" for none known
	ByStatus   []Count // unreviewed, then the review statuses
	Timeline   []HourCount
	Points     []Point // the latest located incidents, oldest first
	// Silent stations and observers: last heard from longer ago than the
	// threshold, oldest first. A station or observer whose latest
	// check-in is "closed" has finished for the day and is not silent.
	SilentStations  []Silence
	SilentObservers []Silence
	// NeverHeard counts registry stations with no report or check-in.
	NeverHeard int
}

// DashboardCounts are the counts a dashboard is composed from.
type DashboardCounts struct {
	Summary  store.Summary // its ByHour holds MaxTimelineHours+2 hours at least, back from the last
	Stations map[string]store.Heard
	Authors  map[incident.Author]store.Heard
	Points   []Point
}

// DashboardStation is a registry station as the dashboard names it.
type DashboardStation struct{ Code, Name, Area string }

// DashboardMember is a member the dashboard may find silent.
type DashboardMember struct {
	Author incident.Author
	Label  string
	// Watched: an observer not revoked, whose silence matters.
	Watched bool
}

// Dashboard computes the coordinator's dashboard from the store's
// counters and bounded reads (never a walk of the reports), with the
// registry and members of the mission.
func (d *Desk) Dashboard(q DashboardQuery) (Dashboard, error) {
	ms, err := d.mission()
	if err != nil {
		return Dashboard{}, err
	}
	sum, err := d.st.Summary(time.Duration(MaxTimelineHours+2) * time.Hour)
	if err != nil {
		return Dashboard{}, classify(err)
	}
	stations, authors, err := d.st.Heard()
	if err != nil {
		return Dashboard{}, classify(err)
	}
	limit := q.Points
	if limit <= 0 {
		limit = DashboardPoints
	}
	located, err := d.st.Located(limit)
	if err != nil {
		return Dashboard{}, classify(err)
	}
	c := DashboardCounts{Summary: sum, Stations: stations, Authors: authors, Points: make([]Point, 0, len(located))}
	for _, l := range located {
		c.Points = append(c.Points, Point{ID: l.ID, Lat: float64(l.Lat) / 1e6, Lon: float64(l.Lon) / 1e6,
			Severity: int(l.Severity), Family: incident.FamilyOf(l.Category)})
	}
	var reg []DashboardStation
	if r, err := d.Registry(); err == nil {
		for _, code := range r.Codes() {
			s := r.Stations[code].Station
			reg = append(reg, DashboardStation{Code: s.Code, Name: s.Name, Area: s.Area})
		}
	}
	var members []DashboardMember
	for _, m := range ms.Members() {
		label := m.Label
		if label == "" {
			label = m.Author.Short()
		}
		members = append(members, DashboardMember{Author: m.Author, Label: label,
			Watched: m.Role == incident.RoleObserver && len(ms.Revocations(m.Author)) == 0})
	}
	return ComposeDashboard(c, reg, members, q), nil
}

// FamilyOrder is the order of the dashboard's families ("sealed", the
// reports this device cannot read, last); StatusOrder that of its review
// statuses.
var (
	FamilyOrder = append(append([]string{}, incident.Families...), "sealed")
	StatusOrder = append([]string{incident.StatusUnreviewed}, incident.ReviewStatuses...)
)

// ComposeDashboard turns counts into the dashboard: the one place its
// rules live (what counts where, the orders, the timeline's hours, who is
// silent).
func ComposeDashboard(c DashboardCounts, stations []DashboardStation, members []DashboardMember, q DashboardQuery) Dashboard {
	loc := q.Loc
	if loc == nil {
		loc = time.UTC
	}
	silentAfter := q.SilentAfter
	if silentAfter <= 0 {
		silentAfter = time.Hour
	}
	s := c.Summary
	var d Dashboard
	for st, n := range s.ByStatus {
		if st == "rejected" {
			d.Rejected = n
			continue
		}
		d.Total += n
	}
	d.Unreviewed = s.ByStatus[incident.StatusUnreviewed]
	fam := map[string]int{}
	if s.Sealed > 0 {
		fam["sealed"] = s.Sealed
	}
	for cat, n := range s.ByCategory {
		fam[incident.FamilyOf(cat)] += n
	}
	for sev, n := range s.BySeverity {
		if sev >= 1 && sev <= 4 {
			d.BySeverity[sev-1] = n
		}
	}
	areaOf := map[string]string{}
	for _, st := range stations {
		areaOf[st.Code] = st.Area
	}
	area := map[string]int{}
	for a, n := range s.ByArea {
		area[a] += n
	}
	for station, n := range s.NoArea {
		a := areaOf[station]
		if a == "" {
			a = "?"
		}
		area[a] += n
	}
	d.ByFamily = sortedCounts(fam, FamilyOrder)
	d.ByCategory = sortedCounts(s.ByCategory, nil)
	d.ByArea = sortedCounts(area, nil)
	d.ByStatus = sortedCounts(s.ByStatus, StatusOrder)
	hours := map[int64]int{}
	local := func(h time.Time) int64 {
		l := h.In(loc).Truncate(time.Hour)
		return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), 0, 0, 0, loc).Unix()
	}
	if !s.FirstHour.IsZero() {
		hours[local(s.FirstHour)] += 0
	}
	for h, n := range s.ByHour {
		hours[local(h)] += n
	}
	d.Timeline = timeline(hours, loc)
	d.Points = c.Points
	silence(&d, c, stations, members, q.Now.Add(-silentAfter).UnixMilli())
	return d
}

// silence fills the silent stations and observers and the registry
// stations never heard from.
func silence(d *Dashboard, c DashboardCounts, stations []DashboardStation, members []DashboardMember, cutoff int64) {
	names := map[string]string{}
	for _, s := range stations {
		names[s.Code] = s.Name
		if c.Stations[s.Code].Last == 0 {
			d.NeverHeard++
		}
	}
	for code, h := range c.Stations {
		if h.Last == 0 || h.Last >= cutoff || h.Status == "closed" {
			continue
		}
		label := code
		if n := names[code]; n != "" {
			label += " · " + n
		}
		d.SilentStations = append(d.SilentStations, Silence{Key: code, Label: label, Last: time.UnixMilli(h.Last)})
	}
	for _, m := range members {
		if !m.Watched {
			continue
		}
		h := c.Authors[m.Author]
		if h.Last != 0 && (h.Last >= cutoff || h.Status == "closed") {
			continue
		}
		s := Silence{Key: m.Author.String(), Label: m.Label}
		if h.Last != 0 {
			s.Last = time.UnixMilli(h.Last)
		}
		d.SilentObservers = append(d.SilentObservers, s)
	}
	bySilence := func(list []Silence) {
		sort.SliceStable(list, func(i, j int) bool {
			if !list[i].Last.Equal(list[j].Last) {
				return list[i].Last.Before(list[j].Last)
			}
			return list[i].Label < list[j].Label
		})
	}
	bySilence(d.SilentStations)
	bySilence(d.SilentObservers)
}

// sortedCounts orders counts by a fixed order when given (keys in it
// first, zero counts included but for "sealed"), else by count then key.
func sortedCounts(m map[string]int, order []string) []Count {
	var out []Count
	if order != nil {
		done := map[string]bool{}
		for _, k := range order {
			done[k] = true
			if m[k] > 0 || k != "sealed" {
				out = append(out, Count{k, m[k]})
			}
		}
		var rest []Count
		for k, n := range m {
			if !done[k] {
				rest = append(rest, Count{k, n})
			}
		}
		sort.Slice(rest, func(i, j int) bool { return rest[i].Key < rest[j].Key })
		return append(out, rest...)
	}
	for k, n := range m {
		out = append(out, Count{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// timeline fills every hour from the first to the last (at most
// MaxTimelineHours, the latest ones), empty hours included.
func timeline(hours map[int64]int, loc *time.Location) []HourCount {
	if len(hours) == 0 {
		return nil
	}
	var first, last int64
	for h := range hours {
		if first == 0 || h < first {
			first = h
		}
		if h > last {
			last = h
		}
	}
	if (last-first)/3600 >= MaxTimelineHours {
		first = last - (MaxTimelineHours-1)*3600
	}
	var out []HourCount
	for t := time.Unix(first, 0).In(loc); t.Unix() <= last; t = t.Add(time.Hour) {
		out = append(out, HourCount{Hour: t, N: hours[t.Unix()]})
	}
	return out
}
