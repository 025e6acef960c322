package app

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

var t0 = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

func ms(t time.Time) int64 { return t.UnixMilli() }

func author(b byte) incident.Author {
	var a incident.Author
	a[0] = b
	return a
}

func view(id byte, cat string, sev uint64, station string, at time.Time, a incident.Author) incident.ReportView {
	var v incident.ReportView
	v.ID[0] = id
	v.Author = a
	v.Created = ms(at)
	v.Status = incident.StatusUnreviewed
	v.Report = incident.ReportPayload{Category: cat, Severity: sev, Station: station, Occurred: ms(at), Title: cat}
	return v
}

func TestSummarize(t *testing.T) {
	obsA, obsB, obsC := author(1), author(2), author(3)
	members := []MemberItem{
		{Member: incident.Member{Author: author(9), Role: incident.RoleCoordinator}},
		{Member: incident.Member{Author: obsA, Role: incident.RoleObserver, Label: "A"}},
		{Member: incident.Member{Author: obsB, Role: incident.RoleObserver, Label: "B"}},
		{Member: incident.Member{Author: obsC, Role: incident.RoleObserver, Label: "C"}},
		{Member: incident.Member{Author: author(4), Role: incident.RoleObserver, Label: "gone"}, Revoked: true},
	}
	stations := []Station{{Code: "PS-1", Area: "North"}, {Code: "PS-2", Area: "South"}, {Code: "PS-3", Area: "South"}}
	reports := []incident.ReportView{
		view(1, "polling.late_opening", 2, "PS-1", t0, obsA),
		view(2, "polling.violence", 4, "PS-1", t0.Add(3*time.Hour+10*time.Minute), obsA),
		view(3, "disinformation.hate_speech", 3, "PS-2", t0.Add(3*time.Hour+20*time.Minute), obsB),
		view(4, "polling.vote_buying", 3, "PS-2", t0.Add(time.Hour), obsB),
		view(5, "other", 1, "PS-2", t0.Add(time.Hour), obsB),
	}
	reports[1].Report.Lat, reports[1].Report.Lon = incident.Micro(-1.2), incident.Micro(36.8)
	reports[1].Report.Area = "Capital"
	reports[2].Status = "verified"
	reports[3].Status = "rejected"
	reports[4].Retracted = true
	acts := []Activity{ // newest first, as the backend lists them
		{Kind: incident.KindAlert, Author: obsB, Station: "PS-2", Created: ms(t0.Add(4 * time.Hour)), Note: "help"},
		{Kind: incident.KindCheckin, Author: obsC, Station: "PS-3", Status: "closed", Created: ms(t0.Add(90 * time.Minute))},
		{Kind: incident.KindAlert, Author: obsA, Station: "PS-1", Created: ms(t0.Add(2 * time.Hour))},
		{Kind: incident.KindCheckin, Author: obsC, Station: "PS-3", Status: "opened", Created: ms(t0.Add(30 * time.Minute))},
	}
	now := t0.Add(4*time.Hour + 30*time.Minute)
	d := Summarize(reports, acts, members, stations, now, time.Hour, time.UTC)

	if len(d.Alerts) != 2 || d.Alerts[0].Note != "help" {
		t.Fatalf("alerts not newest first: %+v", d.Alerts)
	}
	if d.Total != 3 || d.Unreviewed != 2 || d.Rejected != 1 {
		t.Fatalf("total %d unreviewed %d rejected %d", d.Total, d.Unreviewed, d.Rejected)
	}
	if d.BySeverity != [4]int{0, 1, 1, 1} {
		t.Fatalf("severity %v", d.BySeverity)
	}
	fam := map[string]int{}
	for _, c := range d.ByFamily {
		fam[c.Key] = c.N
	}
	if fam["polling"] != 2 || fam["disinformation"] != 1 || fam["other"] != 0 || d.ByFamily[0].Key != "polling" {
		t.Fatalf("families %v", d.ByFamily)
	}
	area := map[string]int{}
	for _, c := range d.ByArea {
		area[c.Key] = c.N
	}
	// A report's own area wins; else the station's registry entry.
	if area["Capital"] != 1 || area["North"] != 1 || area["South"] != 1 {
		t.Fatalf("areas %v", d.ByArea)
	}
	st := map[string]int{}
	for _, c := range d.ByStatus {
		st[c.Key] = c.N
	}
	if st["verified"] != 1 || st["rejected"] != 1 || st[incident.StatusUnreviewed] != 2 || d.ByStatus[0].Key != incident.StatusUnreviewed {
		t.Fatalf("statuses %v", d.ByStatus)
	}
	// Every hour from the first report to the last, empty ones included.
	if len(d.Timeline) != 4 || d.Timeline[0].N != 1 || d.Timeline[1].N != 0 || d.Timeline[3].N != 2 {
		t.Fatalf("timeline %+v", d.Timeline)
	}
	if len(d.Points) != 1 || d.Points[0].Severity != 4 {
		t.Fatalf("points %+v", d.Points)
	}
	// Silent: A (last heard at 3:10 → 80 min ago) and PS-1; B spoke 30 min
	// ago; C closed the station; PS-3 closed too.
	if len(d.SilentObservers) != 1 || d.SilentObservers[0].Label != "A" {
		t.Fatalf("silent observers %+v", d.SilentObservers)
	}
	if len(d.SilentStations) != 1 || d.SilentStations[0].Key != "PS-1" {
		t.Fatalf("silent stations %+v", d.SilentStations)
	}
	if d.NeverHeard != 0 {
		t.Fatalf("never heard %d", d.NeverHeard)
	}
	// A longer threshold: nobody silent. A registry station nobody
	// reported from counts as never heard.
	d = Summarize(reports, acts, members, append(stations, Station{Code: "PS-4"}), now, 2*time.Hour, time.UTC)
	if len(d.SilentObservers)+len(d.SilentStations) != 0 || d.NeverHeard != 1 {
		t.Fatalf("2h threshold: %+v %+v never %d", d.SilentObservers, d.SilentStations, d.NeverHeard)
	}
	// An observer never heard from is silent.
	members = append(members, MemberItem{Member: incident.Member{Author: author(5), Role: incident.RoleObserver, Label: "new"}})
	d = Summarize(reports, acts, members, stations, now, 2*time.Hour, time.UTC)
	if len(d.SilentObservers) != 1 || !d.SilentObservers[0].Last.IsZero() {
		t.Fatalf("never-heard observer: %+v", d.SilentObservers)
	}
}

func TestTimelineIsBounded(t *testing.T) {
	var reports []incident.ReportView
	for h := 0; h < 100; h++ {
		reports = append(reports, view(byte(h), "other", 1, "", t0.Add(time.Duration(h)*time.Hour), author(1)))
	}
	d := Summarize(reports, nil, nil, nil, t0.Add(100*time.Hour), time.Hour, time.UTC)
	if len(d.Timeline) != MaxTimelineHours || !d.Timeline[len(d.Timeline)-1].Hour.Equal(t0.Add(99*time.Hour)) {
		t.Fatalf("timeline has %d hours ending %v", len(d.Timeline), d.Timeline[len(d.Timeline)-1].Hour)
	}
}

func TestFilterSort(t *testing.T) {
	a := author(1)
	all := []incident.ReportView{
		view(1, "polling.late_opening", 2, "PS-9", t0, a),
		view(2, "polling.violence", 4, "PS-1", t0.Add(time.Hour), a),
		view(3, "disinformation.hate_speech", 3, "PS-2", t0.Add(2*time.Hour), a),
	}
	all[0].Report.Description = "Doors shut, queue outside"
	all[2].Flags = []string{incident.FlagFutureTime}
	all[1].Status = "verified"
	ids := func(vs []incident.ReportView) (out []byte) {
		for _, v := range vs {
			out = append(out, v.ID[0])
		}
		return
	}
	cases := []struct {
		f    TableFilter
		key  SortKey
		desc bool
		want []byte
	}{
		{TableFilter{}, SortOccurred, true, []byte{3, 2, 1}},
		{TableFilter{}, SortSeverity, false, []byte{1, 3, 2}},
		{TableFilter{}, SortStation, false, []byte{2, 3, 1}},
		{TableFilter{Family: "polling"}, SortOccurred, false, []byte{1, 2}},
		{TableFilter{Status: "verified"}, SortOccurred, false, []byte{2}},
		{TableFilter{MinSeverity: 3}, SortOccurred, false, []byte{2, 3}},
		{TableFilter{Flagged: true}, SortOccurred, false, []byte{3}},
		{TableFilter{Text: "QUEUE doors"}, SortOccurred, false, []byte{1}},
		{TableFilter{Text: "ps-2"}, SortOccurred, false, []byte{3}},
	}
	for i, c := range cases {
		if got := ids(FilterSort(all, c.f, c.key, c.desc)); string(got) != string(c.want) {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
}

func TestDraftPayload(t *testing.T) {
	now := t0
	d := Draft{Category: "polling.closure", Severity: 3, Title: " Shut ", Lat: "-1,5", Lon: "36.8",
		Channel: "sms", Harm: "high", Source: "x"}
	p, err := d.Payload(now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Shut" || p.Occurred != ms(now) || *p.Lat != -1_500_000 || p.Channel != "" || p.Source != "" {
		t.Fatalf("payload %+v", p)
	}
	d.Category = "disinformation.impersonation"
	d.Reach = 5000
	p, err = d.Payload(now)
	if err != nil || p.Channel != "sms" || p.Harm != "high" || p.Reach != 5000 || p.Source != "x" {
		t.Fatalf("disinformation payload %+v, %v", p, err)
	}
	for _, c := range []struct {
		d     Draft
		field string
	}{
		{Draft{Severity: 1, Title: "x"}, "category"},
		{Draft{Category: "other", Title: "x"}, "severity"},
		{Draft{Category: "other", Severity: 1}, "title"},
		{Draft{Category: "other", Severity: 1, Title: "x", Lat: "1"}, "lon"},
		{Draft{Category: "other", Severity: 1, Title: "x", Lat: "north", Lon: "1"}, "lat"},
		{Draft{Category: "other", Severity: 1, Title: "x", Lat: "95", Lon: "1"}, "lat"},
		{Draft{Category: "other", Severity: 1, Title: "x", Station: strings.Repeat("P", incident.MaxCodeLen+1)}, "station"},
	} {
		_, err := c.d.Payload(now)
		var fp *FieldProblem
		if !errors.As(err, &fp) || fp.Field != c.field {
			t.Errorf("%+v: error %v, want a problem with %s", c.d, err, c.field)
		}
	}
	// A station code as people type it is signed in its normal form.
	if p, err := (&Draft{Category: "other", Severity: 1, Title: "x", Station: " ps 1 "}).Payload(now); err != nil || p.Station != "PS-1" {
		t.Fatalf("a station code as typed: %q, %v; want PS-1", p.Station, err)
	}
	if !(&Draft{}).Empty() || (&Draft{Category: "other"}).Empty() {
		t.Fatal("Empty")
	}
	round := DecodeDraft(EncodeDraft(Draft{Category: "other", Attachments: []Attachment{{Name: "a.jpg", Size: 3}}}))
	if round.Category != "other" || len(round.Attachments) != 1 || round.Attachments[0].Name != "a.jpg" {
		t.Fatalf("round trip %+v", round)
	}
	if got := DecodeDraft([]byte("{broken")); !got.Empty() {
		t.Fatalf("broken draft decodes to %+v", got)
	}
}

func TestTransportAndDelivery(t *testing.T) {
	cases := map[string][]string{
		"tcp":   {"/ip4/10.0.0.2/tcp/4001"},
		"quic":  {"/ip4/10.0.0.2/udp/4001/quic-v1"},
		"relay": {"/ip4/1.2.3.4/tcp/4001/p2p/12D3KooWA/p2p-circuit"},
		"other": nil,
	}
	for want, addrs := range cases {
		if got := Transport(addrs); got != want {
			t.Errorf("%v: %s, want %s", addrs, got, want)
		}
	}
	// A direct connection beats a relayed one.
	if got := Transport([]string{"/ip4/1.2.3.4/tcp/1/p2p/X/p2p-circuit", "/ip4/10.0.0.2/tcp/4001"}); got != "tcp" {
		t.Errorf("mixed: %s", got)
	}
	for want, d := range map[string]store.Delivery{"local": {}, "sent": {Peers: 2}, "coordinator": {Peers: 1, Coordinator: true}} {
		if got := DeliveryKey(d); got != want {
			t.Errorf("%+v: %s", d, got)
		}
	}
	if got := ShareableAddrs([]string{"/ip4/127.0.0.1/tcp/1", "/ip6/::1/tcp/1", "/ip4/192.168.1.2/tcp/1"}); len(got) != 1 {
		t.Errorf("shareable %v", got)
	}
}

func TestQRRoundTrip(t *testing.T) {
	text := "/ip4/192.168.1.20/tcp/4001/p2p/12D3KooWExample\n/ip4/192.168.1.20/udp/4001/quic-v1/p2p/12D3KooWExample"
	png, err := qrcode.Encode(text, qrcode.Medium, 512)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeQR(png)
	if err != nil || got != text {
		t.Fatalf("decoded %q, %v", got, err)
	}
	if _, err := DecodeQR([]byte("not an image")); err == nil {
		t.Fatal("garbage decoded")
	}
	if img, err := qrImage(text, 100); err != nil || img.MinSize().Width != 100 {
		t.Fatalf("qrImage: %v", err)
	}
}

func TestAgo(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second: "just now", 5 * time.Minute: "5 min ago", 3 * time.Hour: "3 h ago", 72 * time.Hour: "3 days ago",
	} {
		if got := Ago(t0, t0.Add(-d)); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
	if Ago(t0, time.Time{}) != "" {
		t.Error("zero time")
	}
}

// A "closed" check-in ends the day: reports that follow (count disputes)
// do not make the observer or station count as active again, so they do
// not go silent either; a later check-in reopens them.
func TestClosedEndsTheDay(t *testing.T) {
	a := author(1)
	members := []MemberItem{{Member: incident.Member{Author: a, Role: incident.RoleObserver, Label: "A"}}}
	acts := []Activity{
		{Kind: incident.KindCheckin, Author: a, Station: "PS-1", Status: "closed", Created: ms(t0.Add(time.Hour))},
	}
	reports := []incident.ReportView{view(1, "polling.tally_discrepancy", 3, "PS-1", t0.Add(2*time.Hour), a)}
	d := Summarize(reports, acts, members, nil, t0.Add(10*time.Hour), time.Hour, time.UTC)
	if len(d.SilentObservers)+len(d.SilentStations) != 0 {
		t.Fatalf("closed station counted silent: %+v %+v", d.SilentObservers, d.SilentStations)
	}
	acts = append([]Activity{{Kind: incident.KindCheckin, Author: a, Station: "PS-1", Status: "opened", Created: ms(t0.Add(3 * time.Hour))}}, acts...)
	d = Summarize(reports, acts, members, nil, t0.Add(10*time.Hour), time.Hour, time.UTC)
	if len(d.SilentObservers) != 1 || len(d.SilentStations) != 1 {
		t.Fatalf("reopened and silent: %+v %+v", d.SilentObservers, d.SilentStations)
	}
}

// The field reads trusted notices that answer no alert, in act's order;
// an alert's state names "held" only while nobody answered.
func TestFieldNoticesAndAlertStates(t *testing.T) {
	n := func(text string, trusted bool, ack []byte) incident.NoticeView {
		return incident.NoticeView{Notice: incident.NoticePayload{Text: text, Ack: ack}, Trusted: trusted}
	}
	got := FieldNotices([]incident.NoticeView{n("a", true, nil), n("revoked", false, nil), n("answer", true, make([]byte, 36)), n("b", true, nil)})
	if len(got) != 2 || got[0].Notice.Text != "a" || got[1].Notice.Text != "b" {
		t.Fatalf("field notices %+v", got)
	}
	for _, c := range []struct {
		state string
		held  bool
		want  string
	}{{incident.AlertSent, false, "sent"}, {incident.AlertSent, true, "held"},
		{incident.AlertAcknowledged, true, "acknowledged"}, {incident.AlertResolved, false, "resolved"}} {
		a := act.AlertItem{AlertView: incident.AlertView{State: c.state}, Held: c.held}
		if k := AlertStateKey(a); k != c.want {
			t.Errorf("%s held %v: %q, want %q", c.state, c.held, k, c.want)
		}
	}
}

// The notice form's draft names the field at fault, and builds the
// request the form describes.
func TestNoticeDraft(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		d     NoticeDraft
		field string
	}{
		{NoticeDraft{Text: "  ", Severity: 2, Audience: incident.AudienceEveryone}, "text"},
		{NoticeDraft{Text: "x", Severity: 5, Audience: incident.AudienceEveryone}, "severity"},
		{NoticeDraft{Text: "x", Severity: 2, Audience: incident.AudienceStation}, "station"},
		{NoticeDraft{Text: "x", Severity: 2, Audience: incident.AudienceStation, To: strings.Repeat("P", incident.MaxCodeLen+1)}, "station"},
		{NoticeDraft{Text: "x", Severity: 2, Audience: incident.AudienceArea, To: " "}, "area"},
	} {
		_, err := c.d.Request(now)
		var fp *FieldProblem
		if !errors.As(err, &fp) || fp.Field != c.field {
			t.Errorf("%+v: %v, want a problem with %s", c.d, err, c.field)
		}
	}
	if r, err := (&NoticeDraft{Text: "x", Severity: 2, Audience: incident.AudienceStation, To: " ps 1 "}).Request(now); err != nil || r.Station != "PS-1" {
		t.Fatalf("a station code as typed: %+v, %v; want PS-1", r, err)
	}
	r, err := (&NoticeDraft{Text: " Road closed ", Severity: 3, Audience: incident.AudienceArea, To: " North ", Expires: time.Hour}).Request(now)
	if err != nil || r.Text != "Road closed" || r.Area != "North" || r.Station != "" || r.Severity != 3 || r.ExpiresIn != time.Hour {
		t.Fatalf("request %+v, %v", r, err)
	}
}
