package act

import (
	"bytes"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// An observer's alert reaches a coordinator, who acknowledges and then
// resolves it; the observer sees each answer with who gave it, and the
// notices are listed with their sender.
func TestAlertAnswered(t *testing.T) {
	coord, obs := mission(t)
	a, err := obs.Alert(incident.AlertPayload{Note: "men with sticks at the gate", Station: "PS-0042"})
	if err != nil {
		t.Fatal(err)
	}
	if list, err := obs.Alerts(); err != nil || len(list) != 1 || list[0].State != incident.AlertSent {
		t.Fatalf("observer's alerts before any answer: %+v, %v", list, err)
	}
	copyRecords(t, obs, coord)
	list, err := coord.Alerts()
	if err != nil || len(list) != 1 || list[0].ID != a.ID || list[0].Label != "Heron" || list[0].Alert.Station != "PS-0042" {
		t.Fatalf("coordinator's alerts: %+v, %v", list, err)
	}
	// A prefix of the alert's ID is enough, as for reports.
	ack, err := coord.Notice(NoticeRequest{Text: "Seen; calling you now", Ack: a.ID.String()[:len(IDHead)+IDPrefixMin]})
	if err != nil {
		t.Fatal(err)
	}
	copyRecords(t, coord, obs)
	list, err = obs.Alerts()
	if err != nil || len(list) != 1 || list[0].State != incident.AlertAcknowledged || list[0].Last.Notice != ack.ID ||
		list[0].Last.Label != "Desk" || list[0].Last.Note != "Seen; calling you now" {
		t.Fatalf("observer's alert after the acknowledgement: %+v, %v", list, err)
	}
	if _, err := coord.Notice(NoticeRequest{Text: "Police on site", Ack: a.ID.String(), Resolve: true}); err != nil {
		t.Fatal(err)
	}
	copyRecords(t, coord, obs)
	if list, _ := obs.Alerts(); list[0].State != incident.AlertResolved || len(list[0].History) != 2 {
		t.Fatalf("after the resolution: %+v", list)
	}
	notices, err := obs.Notices(NoticeQuery{})
	if err != nil || len(notices) != 2 || notices[0].Label != "Desk" || !notices[0].Trusted || notices[0].Notice.Severity != DefaultNoticeSeverity {
		t.Fatalf("observer's notices: %+v, %v", notices, err)
	}
}

func TestNoticeRefusals(t *testing.T) {
	coord, obs := mission(t)
	a, err := obs.Alert(incident.AlertPayload{Note: "help"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := obs.Submit(Submission{Report: report("queue")})
	if err != nil {
		t.Fatal(err)
	}
	copyRecords(t, obs, coord)
	for name, c := range map[string]struct {
		d     *Desk
		req   NoticeRequest
		code  Code
		field string
	}{
		"observer":         {obs, NoticeRequest{Text: "Stop reporting from PS-0042"}, Forbidden, ""},
		"no text":          {coord, NoticeRequest{}, Invalid, "text"},
		"severity 9":       {coord, NoticeRequest{Text: "x", Severity: 9}, Invalid, "payload.severity"},
		"station and area": {coord, NoticeRequest{Text: "x", Station: "PS-1", Area: "Kibra"}, Invalid, "payload.area"},
		"resolve nothing":  {coord, NoticeRequest{Text: "x", Resolve: true}, Invalid, "resolve"},
		"ack a report":     {coord, NoticeRequest{Text: "x", Ack: r.ID.String()}, NotFound, ""},
		"ack nonsense":     {coord, NoticeRequest{Text: "x", Ack: "12"}, Invalid, "ack"},
		"negative expiry":  {coord, NoticeRequest{Text: "x", ExpiresIn: -time.Hour}, Invalid, "expires"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.d.Notice(c.req)
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code || e.Field != c.field {
				t.Fatalf("Notice = %v, want %s on %q", err, c.code, c.field)
			}
		})
	}
	if _, err := coord.Notice(NoticeRequest{Text: "ok", Ack: a.ID.String()}); err != nil {
		t.Fatalf("a good acknowledgement: %v", err)
	}
}

// Expired notices are listed only when asked for, after those in force;
// the most severe come first.
func TestNoticesListed(t *testing.T) {
	coord, _ := mission(t)
	var late atomic.Bool // the observer's clock, two minutes on once set
	obs := newDeskOpts(t, "obs-clock", store.Options{Now: func() time.Time {
		if late.Load() {
			return time.Now().Add(2 * time.Minute)
		}
		return time.Now()
	}})
	join(t, coord, obs, incident.RoleObserver, "Kite")
	for _, n := range []NoticeRequest{
		{Text: "Road to Kibra flooded", Severity: 3, Area: "Kibra"},
		{Text: "Station PS-0042 moved to the hall", Station: "PS-0042"},
		{Text: "Shelter in place", Severity: 4, ExpiresIn: MinNoticeExpiry},
	} {
		if _, err := coord.Notice(n); err != nil {
			t.Fatal(err)
		}
	}
	copyRecords(t, coord, obs)
	if list, err := obs.Notices(NoticeQuery{}); err != nil || len(list) != 3 || list[0].Notice.Severity != 4 {
		t.Fatalf("before the expiry: %+v, %v", list, err)
	}
	// The last one expires a minute after it was sent.
	late.Store(true)
	list, err := obs.Notices(NoticeQuery{})
	if err != nil || len(list) != 2 {
		t.Fatalf("after the expiry: %+v, %v", list, err)
	}
	if list[0].Notice.Severity != 3 || list[0].Audience != incident.AudienceArea || list[1].Audience != incident.AudienceStation {
		t.Fatalf("order %+v", list)
	}
	all, err := obs.Notices(NoticeQuery{Expired: true})
	if err != nil || len(all) != 3 || !all[2].Expired || all[2].Notice.Severity != 4 {
		t.Fatalf("with expired: %+v, %v", all, err)
	}
}

// A seized coordinator's laptop keeps signing after the revocation: its
// notices are not listed as instructions (only when asked, marked
// untrusted) and its "resolved" leaves the alert open.
func TestRevokedCoordinatorsNotices(t *testing.T) {
	coord, obs := mission(t)
	deputy := newDesk(t, "deputy")
	join(t, coord, deputy, incident.RoleCoordinator, "Deputy")
	shareSecrets(t, coord, obs)
	a, err := obs.Alert(incident.AlertPayload{Note: "help"})
	if err != nil {
		t.Fatal(err)
	}
	copyRecords(t, deputy, coord)
	copyRecords(t, obs, coord)
	copyRecords(t, coord, deputy)
	if _, err := coord.Revoke("Deputy", "laptop seized", true); err != nil {
		t.Fatal(err)
	}
	// The thief's copy never learns of the revocation.
	for _, n := range []NoticeRequest{{Text: "Stop reporting from PS-0042", Severity: 4}, {Text: "All clear", Ack: a.ID.String(), Resolve: true}} {
		if _, err := deputy.Notice(n); err != nil {
			t.Fatal(err)
		}
	}
	copyRecords(t, deputy, obs)
	copyRecords(t, coord, obs)
	if list, err := obs.Notices(NoticeQuery{}); err != nil || len(list) != 0 {
		t.Fatalf("notices listed from a revoked coordinator: %+v, %v", list, err)
	}
	all, err := obs.Notices(NoticeQuery{Untrusted: true})
	if err != nil || len(all) != 2 || all[0].Trusted || all[1].Trusted {
		t.Fatalf("with untrusted: %+v, %v", all, err)
	}
	if list, _ := obs.Alerts(); len(list) != 1 || list[0].State != incident.AlertSent {
		t.Fatalf("the alert after a revoked coordinator's resolution: %+v", list)
	}
}

// Where the mission seals, a notice reaches only its audience: the answer
// to an alert its author (and the coordinators), a notice to the field
// the members who hold the current epoch's secret. What a seized phone
// outside the audience holds is ciphertext: the text is in none of its
// records, and its lists show nothing. A member revoked before a notice
// (its phone seized) cannot read it, nor the answer to its own alert.
func TestNoticesSealedToTheirAudience(t *testing.T) {
	coord, heron := mission(t) // Heron raises the alert
	kite := newDesk(t, "kite")
	join(t, coord, kite, incident.RoleObserver, "Kite")
	lark := newDesk(t, "lark") // joined by code, has met no member since
	enroll(t, coord, lark, incident.RoleObserver, "Lark")
	shareSecrets(t, coord, heron)

	a, err := heron.Alert(incident.AlertPayload{Note: "men with sticks at the gate", Station: "PS-0042"})
	if err != nil {
		t.Fatal(err)
	}
	copyRecords(t, heron, coord)
	const answer, field = "Seen; the police are on their way", "Road to Kibra blocked: go round by the market"
	ack, err := coord.Notice(NoticeRequest{Text: answer, Ack: a.ID.String()})
	if err != nil || !ack.Sealed {
		t.Fatalf("the answer: %+v, %v; want sealed", ack, err)
	}
	note, err := coord.Notice(NoticeRequest{Text: field, Area: "Kibra", Severity: 3})
	if err != nil || !note.Sealed {
		t.Fatalf("the field notice: %+v, %v; want sealed", note, err)
	}
	for _, d := range []*Desk{heron, kite, lark} {
		copyRecords(t, coord, d)
		noPlaintext(t, d, answer, field)
	}

	// Heron reads the answer to its alert and the field notice.
	if list, err := heron.Alerts(); err != nil || len(list) != 1 || list[0].State != incident.AlertAcknowledged || list[0].Last.Note != answer {
		t.Fatalf("Heron's alert: %+v, %v", list, err)
	}
	if got := texts(t, heron); !equal(got, []string{field, answer}) {
		t.Fatalf("Heron's notices: %q", got)
	}
	// Kite reads the field notice only; Lark nothing, until a member hands
	// it the epoch's secret (nothing marked it closed meanwhile).
	if got := texts(t, kite); !equal(got, []string{field}) {
		t.Fatalf("Kite's notices: %q", got)
	}
	if got := texts(t, lark); len(got) != 0 {
		t.Fatalf("Lark, holding no epoch secret, read %q", got)
	}
	shareSecrets(t, coord, lark)
	if got := texts(t, lark); !equal(got, []string{field}) {
		t.Fatalf("Lark, given the secret: %q", got)
	}

	// Heron's phone is seized: revoked, a new epoch begins. What the
	// coordinators send after it, Heron's keys open none of.
	if _, err := coord.Revoke("Heron", "phone seized", true); err != nil {
		t.Fatal(err)
	}
	const after, late = "Stop reporting from PS-0042", "Heron: we know. Stay away from the school."
	if _, err := coord.Notice(NoticeRequest{Text: after, Station: "PS-0042", Severity: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := coord.Notice(NoticeRequest{Text: late, Ack: a.ID.String()}); err != nil {
		t.Fatal(err)
	}
	copyRecords(t, coord, heron) // by bundle: the records, never the new secret
	noPlaintext(t, heron, after, late)
	if got := texts(t, heron); !equal(got, []string{field, answer}) {
		t.Fatalf("the revoked phone read %q", got)
	}
	shareSecrets(t, coord, kite)
	if got := texts(t, kite); !equal(got, []string{after, field}) {
		t.Fatalf("Kite after the revocation: %q", got)
	}
	// The coordinators read all of it.
	if got := texts(t, coord); len(got) != 4 {
		t.Fatalf("the coordinator's notices: %q", got)
	}
}

// In a practice mission notices travel in the clear, like its reports.
func TestPracticeNoticesInTheClear(t *testing.T) {
	coord := newDesk(t, "practice")
	if _, err := coord.CreateMission(store.MissionSpec{Name: "Practice", Label: "Desk", Practice: true}); err != nil {
		t.Fatal(err)
	}
	n, err := coord.Notice(NoticeRequest{Text: "Practice: station moved"})
	if err != nil || n.Sealed {
		t.Fatalf("%+v, %v; want in the clear", n, err)
	}
}

// texts lists the notices d shows (in force, trusted), in order.
func texts(t *testing.T, d *Desk) []string {
	t.Helper()
	list, err := d.Notices(NoticeQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range list {
		out = append(out, v.Notice.Text)
	}
	return out
}

func equal(a, b []string) bool { return slices.Equal(a, b) }

// noPlaintext fails if any record d holds contains one of the texts.
func noPlaintext(t *testing.T, d *Desk, texts ...string) {
	t.Helper()
	kinds, err := d.st.Kinds()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		recs, err := d.st.ByKind(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			for _, s := range texts {
				if bytes.Contains(r.Raw, []byte(s)) {
					t.Fatalf("BUG: %s record %s carries %q in the clear", k, r.ID, s)
				}
			}
		}
	}
}
