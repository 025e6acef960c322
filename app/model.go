package app

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

// This file decides what the screens show. It holds no widgets, so each
// rule is tested on its own (model_test.go).

// Count is one bar of a count chart.
type Count = act.Count

// HourCount is one hour of the timeline.
type HourCount = act.HourCount

// Point is a report with coordinates, for the map plot; the coverage
// map's points are stations, coloured heard or silent.
type Point struct {
	ID       incident.ID
	Lat, Lon float64
	Severity int
	Family   string
	// Color, when set, is the point's colour instead of its severity's.
	Color color.Color
}

// Silence is a station or an observer not heard from for a while.
type Silence = act.Silence

// Dashboard is what the coordinator's dashboard shows: act.Dashboard
// (whose rules say what counts where) with the alerts, and points the
// map plot draws.
type Dashboard struct {
	Alerts     []Activity // newest first
	Total      int        // reports, not counting retracted ones
	Unreviewed int
	Rejected   int // counted in ByStatus only
	ByFamily   []Count
	ByCategory []Count
	BySeverity [4]int
	ByArea     []Count
	ByStatus   []Count
	Timeline   []HourCount
	Points     []Point
	// Silent stations and observers: last heard from longer ago than the
	// threshold, oldest first. A station or observer whose last check-in
	// is "closed" has finished for the day and is not silent.
	SilentStations  []Silence
	SilentObservers []Silence
	// NeverHeard counts registry stations with no report or check-in.
	NeverHeard int
}

// MaxTimelineHours bounds the timeline to the last two days of activity.
const MaxTimelineHours = act.MaxTimelineHours

// dashboardOf is the app's dashboard of act's, with the alerts (newest
// first).
func dashboardOf(v act.Dashboard, alerts []Activity) Dashboard {
	d := Dashboard{Alerts: alerts, Total: v.Total, Unreviewed: v.Unreviewed, Rejected: v.Rejected,
		ByFamily: v.ByFamily, ByCategory: v.ByCategory, BySeverity: v.BySeverity, ByArea: v.ByArea, ByStatus: v.ByStatus,
		Timeline: v.Timeline, SilentStations: v.SilentStations, SilentObservers: v.SilentObservers, NeverHeard: v.NeverHeard}
	for _, p := range v.Points {
		d.Points = append(d.Points, Point{ID: p.ID, Lat: p.Lat, Lon: p.Lon, Severity: p.Severity, Family: p.Family})
	}
	return d
}

// alertsOf are the alerts among acts (newest first, as acts are).
func alertsOf(acts []Activity) []Activity {
	var out []Activity
	for _, a := range acts {
		if a.Kind == incident.KindAlert {
			out = append(out, a)
		}
	}
	return out
}

// Summarize computes the dashboard from every report and activity item:
// the reference the counters the store keeps are checked against (the
// dashboard itself reads those, through act.Desk.Dashboard). Reports that
// are retracted are left out of every count; reports a coordinator
// rejected count only in the review-status counts (they are not
// incidents). Times are shown in loc. It counts what the store's summary
// counts (store.Summary, store.Heard) and composes the dashboard with the
// same rule (act.ComposeDashboard); its map holds every located report.
func Summarize(reports []incident.ReportView, acts []Activity, members []MemberItem, stations []Station,
	now time.Time, silentAfter time.Duration, loc *time.Location) Dashboard {
	sum := store.Summary{ByStatus: map[string]int{}, ByCategory: map[string]int{}, BySeverity: map[uint64]int{},
		ByStation: map[string]int{}, ByArea: map[string]int{}, NoArea: map[string]int{}, ByHour: map[time.Time]int{}}
	c := act.DashboardCounts{Stations: map[string]store.Heard{}, Authors: map[incident.Author]store.Heard{}}
	seen := func(station string, a incident.Author, t int64) {
		if h := c.Stations[station]; station != "" && t > h.Last {
			h.Last = t
			c.Stations[station] = h
		}
		if h := c.Authors[a]; t > h.Last {
			h.Last = t
			c.Authors[a] = h
		}
	}
	for _, v := range reports {
		r := v.Report
		seen(r.Station, v.Author, v.Created)
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
		if r.Lat != nil && r.Lon != nil {
			c.Points = append(c.Points, act.Point{ID: v.ID, Lat: float64(*r.Lat) / 1e6, Lon: float64(*r.Lon) / 1e6,
				Severity: int(r.Severity), Family: incident.FamilyOf(r.Category)})
		}
	}
	// The latest check-in of each station and author: "closed" ends the
	// day, whatever reports follow (count disputes come after closing);
	// only a later check-in opens it again. acts are newest first: of
	// check-ins at the same time, the first counts.
	checked := map[any]bool{}
	for _, a := range acts {
		seen(a.Station, a.Author, a.Created)
		if a.Kind != incident.KindCheckin {
			continue
		}
		if h := c.Authors[a.Author]; !checked[a.Author] || a.Created > h.Checkin {
			checked[a.Author] = true
			h.Checkin, h.Status = a.Created, a.Status
			c.Authors[a.Author] = h
		}
		if h := c.Stations[a.Station]; a.Station != "" && (!checked[a.Station] || a.Created > h.Checkin) {
			checked[a.Station] = true
			h.Checkin, h.Status = a.Created, a.Status
			c.Stations[a.Station] = h
		}
	}
	c.Summary = sum
	var reg []act.DashboardStation
	for _, s := range stations {
		reg = append(reg, act.DashboardStation{Code: s.Code, Name: s.Name, Area: s.Area})
	}
	var watch []act.DashboardMember
	for _, m := range members {
		watch = append(watch, act.DashboardMember{Author: m.Author, Label: memberName(m.Member),
			Watched: m.Role == incident.RoleObserver && !m.Revoked})
	}
	d := act.ComposeDashboard(c, reg, watch, act.DashboardQuery{Now: now, SilentAfter: silentAfter, Loc: loc})
	return dashboardOf(d, alertsOf(acts))
}

// The dashboard's orders (act's), whose names every language translates.
var familyOrder, statusOrder = act.FamilyOrder, act.StatusOrder

// memberName is a member's label, or the short form of its key.
func memberName(m incident.Member) string {
	if m.Label != "" {
		return m.Label
	}
	return m.Author.Short()
}

// TableFilter selects rows of the coordinator's report table. Zero fields
// match everything.
type TableFilter struct {
	Text        string // in title, description, category, station, area
	Family      string
	Status      string
	MinSeverity int
	Flagged     bool // only reports with flags or conflicts
}

// Match reports whether v passes f.
func (f TableFilter) Match(v *incident.ReportView) bool {
	r := &v.Report
	if f.Family != "" && incident.FamilyOf(r.Category) != f.Family && !(!Readable(v) && f.Family == "sealed") {
		return false
	}
	if f.Status != "" && v.Status != f.Status {
		return false
	}
	if f.MinSeverity > 0 && int(r.Severity) < f.MinSeverity {
		return false
	}
	if f.Flagged && len(v.Flags) == 0 && !v.Conflict {
		return false
	}
	if t := strings.ToLower(strings.TrimSpace(f.Text)); t != "" {
		hay := strings.ToLower(strings.Join([]string{r.Title, r.Description, r.Category, r.Station, r.Area, r.Source, v.ID.String()}, "\n"))
		for _, w := range strings.Fields(t) {
			if !strings.Contains(hay, w) {
				return false
			}
		}
	}
	return true
}

// SortKey is a column the report table sorts by.
type SortKey int

// Sort keys, in the table's column order.
const (
	SortOccurred SortKey = iota
	SortSeverity
	SortCategory
	SortTitle
	SortStation
	SortStatus
	SortFlags
	// SortObserver groups each observer's reports together.
	SortObserver
)

// FilterSort returns the reports that match f, sorted by key (ties by
// occurred time, then ID, so the order is stable).
func FilterSort(all []incident.ReportView, f TableFilter, key SortKey, desc bool) []incident.ReportView {
	out := make([]incident.ReportView, 0, len(all))
	for i := range all {
		if f.Match(&all[i]) {
			out = append(out, all[i])
		}
	}
	less := func(a, b *incident.ReportView) int {
		switch key {
		case SortSeverity:
			return cmp.Compare(int64(a.Report.Severity), int64(b.Report.Severity))
		case SortCategory:
			return strings.Compare(a.Report.Category, b.Report.Category)
		case SortTitle:
			return strings.Compare(strings.ToLower(a.Report.Title), strings.ToLower(b.Report.Title))
		case SortStation:
			return strings.Compare(a.Report.Station, b.Report.Station)
		case SortStatus:
			return strings.Compare(a.Status, b.Status)
		case SortFlags:
			return cmp.Compare(int64(flagWeight(a)), int64(flagWeight(b)))
		case SortObserver:
			return strings.Compare(a.Author.String(), b.Author.String())
		}
		return 0
	}
	sort.SliceStable(out, func(i, j int) bool {
		c := less(&out[i], &out[j])
		if c == 0 {
			c = cmp.Compare(occurredOf(&out[i]), occurredOf(&out[j]))
		}
		if c == 0 {
			c = strings.Compare(out[i].ID.String(), out[j].ID.String())
		}
		if desc {
			return c > 0
		}
		return c < 0
	})
	return out
}

func flagWeight(v *incident.ReportView) int {
	n := len(v.Flags)
	if v.Conflict {
		n++
	}
	return n
}

// occurredOf is a report's occurred time, or its created time when sealed.
func occurredOf(v *incident.ReportView) int64 {
	if !Readable(v) || v.Report.Occurred == 0 {
		return v.Created
	}
	return v.Report.Occurred
}

// Readable reports whether this device can read a report's fields: it is
// in the clear, or sealed and opened (a coordinator, or the author's kept
// copy).
func Readable(v *incident.ReportView) bool { return !v.Sealed || v.Opened }

// DeliveryKey names the delivery state for translation: local, sent or
// coordinator.
func DeliveryKey(d store.Delivery) string {
	switch {
	case d.Coordinator:
		return "coordinator"
	case d.Peers > 0:
		return "sent"
	}
	return "local"
}

// ReportDeliveryKey names one of my reports' delivery state for
// translation: DeliveryKey's, and sms while a report handed to the
// messaging app waits for a coordinator's receipt.
func ReportDeliveryKey(r MyReport) string {
	if k := DeliveryKey(r.Delivery); k == "coordinator" || r.SMSSent == nil {
		return k
	}
	return "sms"
}

// Draft is the report form's state, saved to the encrypted store as the
// user types (setting DraftSetting) and restored when the form reopens.
// Fields hold what the user typed; Payload turns them into a report.
type Draft struct {
	Category    string       `json:"category,omitempty"`
	Severity    int          `json:"severity,omitempty"`
	Title       string       `json:"title,omitempty"`
	TitleEdited bool         `json:"title_edited,omitempty"`
	Description string       `json:"description,omitempty"`
	Station     string       `json:"station,omitempty"`
	Area        string       `json:"area,omitempty"`
	Lat         string       `json:"lat,omitempty"`
	Lon         string       `json:"lon,omitempty"`
	Precision   uint64       `json:"precision,omitempty"` // metres; kept from an amended report
	Occurred    int64        `json:"occurred,omitempty"`  // Unix ms; 0: when saved
	Channel     string       `json:"channel,omitempty"`
	Harm        string       `json:"harm,omitempty"`
	Reach       uint64       `json:"reach,omitempty"`
	Source      string       `json:"source,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// Sealed: encrypt the report to the mission's coordinators. A new
	// draft starts with the mission's policy.
	Sealed  bool  `json:"sealed,omitempty"`
	Updated int64 `json:"updated,omitempty"`
}

// DraftOf is a draft holding a report's current values, for the amend
// form; files describe its attachments.
func DraftOf(v *incident.ReportView, files []Attachment) Draft {
	r := &v.Report
	d := Draft{Category: r.Category, Severity: int(r.Severity), Title: r.Title, Description: r.Description,
		Station: r.Station, Area: r.Area, Occurred: r.Occurred, Channel: r.Channel, Harm: r.Harm, Reach: r.Reach,
		Source: r.Source, Attachments: files, Sealed: v.Sealed}
	// A title the observer wrote stays when the category changes; the
	// category's own name follows it.
	d.TitleEdited = r.Title != CategoryLabelOf(r.Category)
	if r.Lat != nil && r.Lon != nil {
		d.Lat, d.Lon, d.Precision = incident.FormatMicro(*r.Lat), incident.FormatMicro(*r.Lon), r.Precision
	}
	return d
}

// ChangedFields names (as field keys: category, severity, occurred,
// station, area, location, title, description, attachments, channel, harm,
// reach, source) what differs between two versions of a report, in the
// order the detail view lists them.
func ChangedFields(a, b *incident.ReportPayload) []string {
	ptr := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	hashes := func(hs [][]byte) string {
		var out []string
		for _, h := range hs {
			out = append(out, string(h))
		}
		return strings.Join(out, "\x00")
	}
	var out []string
	for _, c := range []struct {
		name string
		same bool
	}{
		{"category", a.Category == b.Category},
		{"severity", a.Severity == b.Severity},
		{"occurred", a.Occurred == b.Occurred},
		{"station", a.Station == b.Station},
		{"area", a.Area == b.Area},
		{"location", ptr(a.Lat) == ptr(b.Lat) && ptr(a.Lon) == ptr(b.Lon) && a.Precision == b.Precision},
		{"title", a.Title == b.Title},
		{"description", a.Description == b.Description},
		{"attachments", hashes(a.Attachments) == hashes(b.Attachments)},
		{"channel", a.Channel == b.Channel},
		{"harm", a.Harm == b.Harm},
		{"reach", a.Reach == b.Reach},
		{"source", a.Source == b.Source},
	} {
		if !c.same {
			out = append(out, c.name)
		}
	}
	return out
}

// AmendDraftSetting is the device setting that holds the draft of an
// amendment of report id (a new report's draft is kept apart).
func AmendDraftSetting(id incident.ID) string { return "draft/amend/" + id.String() }

// DraftSetting is the device setting that holds the report draft.
const DraftSetting = "draft/report"

// Empty reports whether the draft holds nothing worth keeping.
func (d *Draft) Empty() bool {
	return d.Category == "" && d.Description == "" && (d.Title == "" || !d.TitleEdited) &&
		len(d.Attachments) == 0 && d.Source == "" && d.Lat == "" && d.Lon == ""
}

// Disinformation reports whether the draft's category takes the
// disinformation fields.
func (d *Draft) Disinformation() bool { return incident.FamilyOf(d.Category) == "disinformation" }

// EncodeDraft and DecodeDraft keep drafts as JSON in a setting.
func EncodeDraft(d Draft) []byte {
	b, _ := json.Marshal(d)
	return b
}

// DecodeDraft reads a stored draft; nil or unreadable input gives an
// empty draft.
func DecodeDraft(b []byte) Draft {
	var d Draft
	if len(b) > 0 {
		_ = json.Unmarshal(b, &d)
	}
	return d
}

// FieldProblem is a form field the user must fix.
type FieldProblem struct {
	Field string // category, severity, title, lat, …
	Err   error
}

func (p *FieldProblem) Error() string { return p.Field + ": " + p.Err.Error() }
func (p *FieldProblem) Unwrap() error { return p.Err }

// Payload builds the report the draft describes and checks it the way the
// network will. Fields the category does not take are left out.
func (d *Draft) Payload(now time.Time) (incident.ReportPayload, error) {
	r := incident.ReportPayload{Category: d.Category, Severity: uint64(d.Severity),
		Title: strings.TrimSpace(d.Title), Description: strings.TrimSpace(d.Description),
		Station: incident.NormalizeCode(d.Station), Area: strings.TrimSpace(d.Area), Occurred: d.Occurred}
	if r.Category == "" {
		return r, &FieldProblem{"category", fmt.Errorf("is required")}
	}
	if r.Severity == 0 {
		return r, &FieldProblem{"severity", fmt.Errorf("is required")}
	}
	if r.Occurred == 0 {
		r.Occurred = now.UnixMilli()
	}
	lat, lon := strings.TrimSpace(d.Lat), strings.TrimSpace(d.Lon)
	if (lat == "") != (lon == "") {
		f := "lat"
		if lon == "" {
			f = "lon"
		}
		return r, &FieldProblem{f, fmt.Errorf("latitude and longitude go together")}
	}
	if lat != "" {
		for _, c := range []struct {
			name string
			s    string
			dst  **int64
		}{{"lat", lat, &r.Lat}, {"lon", lon, &r.Lon}} {
			f, err := strconv.ParseFloat(strings.ReplaceAll(c.s, ",", "."), 64)
			if err != nil {
				return r, &FieldProblem{c.name, fmt.Errorf("%q is not a number", c.s)}
			}
			*c.dst = incident.Micro(f)
		}
	}
	if r.Lat != nil {
		r.Precision = d.Precision
	}
	if d.Disinformation() {
		r.Channel, r.Harm, r.Reach, r.Source = d.Channel, d.Harm, d.Reach, strings.TrimSpace(d.Source)
	}
	for _, a := range d.Attachments {
		h := a.Hash
		r.Attachments = append(r.Attachments, h[:])
	}
	if err := incident.ValidateReport(&r); err != nil {
		var fe *incident.FieldError
		if errors.As(err, &fe) {
			return r, &FieldProblem{fe.Field, err}
		}
		return r, err
	}
	return r, nil
}

// ReachBuckets are the choices the form offers for a disinformation
// sighting's estimated reach: a low-literacy user picks a size, not a
// number. The value stored is the bucket's order of magnitude.
var ReachBuckets = []uint64{50, 500, 5000, 50000, 500000}

// NewerKinds lists the records of a newer Vigil by kind, "notice: 2,
// tally: 1" (kinds by name), and counts them all.
func NewerKinds(byKind map[incident.Kind]int) (text string, total int) {
	kinds := make([]string, 0, len(byKind))
	for k, n := range byKind {
		kinds = append(kinds, string(k))
		total += n
	}
	sort.Strings(kinds)
	for i, k := range kinds {
		kinds[i] = k + ": " + strconv.Itoa(byKind[incident.Kind(k)])
	}
	return strings.Join(kinds, ", "), total
}

// ClockWarning is how far a peer's clock may differ before the app warns.
const ClockWarning = 5 * time.Minute

// Transport names how a peer is connected, from its connection addresses:
// "relay", "quic", "tcp", "webrtc" or "other".
func Transport(addrs []string) string {
	best := ""
	for _, a := range addrs {
		t := "other"
		switch {
		case strings.Contains(a, "/p2p-circuit"):
			t = "relay"
		case strings.Contains(a, "/webrtc"):
			t = "webrtc"
		case strings.Contains(a, "/quic"):
			t = "quic"
		case strings.Contains(a, "/tcp/"):
			t = "tcp"
		}
		// A direct path beats a relayed one.
		if best == "" || best == "relay" || best == "other" {
			best = t
		}
	}
	if best == "" {
		return "other"
	}
	return best
}

// Ago formats how long ago t was, coarsely: "just now", "5 min", "3 h",
// "2 d". It returns "" for the zero time.
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return T("time.just_now")
	case d < time.Hour:
		return T("time.minutes_ago", map[string]any{"N": int(d / time.Minute)})
	case d < 48*time.Hour:
		return T("time.hours_ago", map[string]any{"N": int(d / time.Hour)})
	}
	return T("time.days_ago", map[string]any{"N": int(d / (24 * time.Hour))})
}

// FieldNotices keeps, in their order, the notices the field reads as
// instructions: trusted ones (a revoked coordinator's or a forged one is
// never shown as an instruction, whatever query listed it) that answer
// no alert (an answer shows on the alert it answers, to its author and
// the coordinators).
func FieldNotices(list []incident.NoticeView) []incident.NoticeView {
	out := make([]incident.NoticeView, 0, len(list))
	for _, n := range list {
		if n.Trusted && len(n.Notice.Ack) == 0 {
			out = append(out, n)
		}
	}
	return out
}

// AlertStateKey names an alert's state for translation: sent (nobody has
// it yet as far as this device knows), held (a coordinator's device holds
// it, nobody answered), acknowledged or resolved.
func AlertStateKey(a act.AlertItem) string {
	if a.State == incident.AlertSent && a.Held {
		return "held"
	}
	return a.State
}

// Unanswered counts the alerts no coordinator has answered.
func Unanswered(list []act.AlertItem) int {
	n := 0
	for _, a := range list {
		if a.State == incident.AlertSent {
			n++
		}
	}
	return n
}

// Audiences a notice form offers, in its order.
var NoticeAudiences = []string{incident.AudienceEveryone, incident.AudienceStation, incident.AudienceArea}

// NoticeExpiries are the display lifetimes the notice form offers (zero:
// the notice does not expire).
var NoticeExpiries = []time.Duration{0, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 72 * time.Hour}

// NoticeDraft is the notice form's state.
type NoticeDraft struct {
	Text     string
	Severity int    // 1 to 4
	Audience string // one of NoticeAudiences
	To       string // the station's code or the area's name
	Expires  time.Duration
}

// Request builds the notice the draft describes and checks it the way
// the network will, so a problem is named by the form's field before
// anything is signed.
func (d *NoticeDraft) Request(now time.Time) (act.NoticeRequest, error) {
	r := act.NoticeRequest{Text: strings.TrimSpace(d.Text), Severity: uint64(d.Severity), ExpiresIn: d.Expires}
	to := strings.TrimSpace(d.To)
	switch d.Audience {
	case incident.AudienceStation:
		r.Station = incident.NormalizeCode(to)
	case incident.AudienceArea:
		r.Area = to
	}
	if r.Text == "" {
		return r, &FieldProblem{"text", fmt.Errorf("is required")}
	}
	if d.Severity < 1 || d.Severity > 4 {
		return r, &FieldProblem{"severity", fmt.Errorf("is %d, must be 1 to 4", d.Severity)}
	}
	if d.Audience != incident.AudienceEveryone && to == "" {
		return r, &FieldProblem{d.Audience, fmt.Errorf("is required")}
	}
	p := incident.NoticePayload{Text: r.Text, Severity: r.Severity, Station: r.Station, Area: r.Area}
	if r.ExpiresIn > 0 {
		p.Expires = now.Add(r.ExpiresIn).UnixMilli()
	}
	if err := incident.ValidateNotice(&p, now.UnixMilli()); err != nil {
		var fe *incident.FieldError
		if errors.As(err, &fe) {
			return r, &FieldProblem{strings.TrimPrefix(fe.Field, "payload."), err}
		}
		return r, err
	}
	return r, nil
}
