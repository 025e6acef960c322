package act

import (
	"errors"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/internal/testkit"
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
	coord, obs := mission(t)
	for _, n := range []NoticeRequest{
		{Text: "Road to Kibra flooded", Severity: 3, Area: "Kibra"},
		{Text: "Station PS-0042 moved to the hall", Station: "PS-0042"},
		{Text: "Shelter in place", Severity: 4, ExpiresIn: time.Millisecond},
	} {
		if _, err := coord.Notice(n); err != nil {
			t.Fatal(err)
		}
	}
	copyRecords(t, coord, obs)
	// The last one expires a millisecond after it was sent.
	var list []incident.NoticeView
	testkit.Eventually(t, 5*time.Second, "the expired notice is no longer listed", func() bool {
		var err error
		list, err = obs.Notices(NoticeQuery{})
		return err == nil && len(list) == 2
	})
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
	inv, err := coord.Invite(InviteRequest{Role: incident.RoleCoordinator, Label: "Deputy", For: deputy.st.Author().String()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := deputy.Join(inv.Code); err != nil {
		t.Fatal(err)
	}
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
