package incident

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// An observer forging "stop reporting from PS-0042": the notice is never
// valid (it waits, as a record whose author may not sign its kind, and is
// not held against whoever passed it on), and even handed to the fold
// directly it is no instruction and answers no alert.
func TestNoticeForgedByObserver(t *testing.T) {
	f := newFixture(t, "notice-forged")
	obs := f.enroll(f.founder, "observer", RoleObserver)
	alert := f.accept(f.sign(obs, KindAlert, AlertPayload{Note: "men with sticks at the gate", Station: "PS-0042"}))
	forged := f.sign(obs, KindNotice, NoticePayload{Text: "Stop reporting from PS-0042", Severity: 4, Station: "PS-0042"})
	err := f.validate(forged)
	if !IsMissing(err) || IsRejected(err) {
		t.Fatalf("observer's notice: Validate = %v, want it held back (missing a coordinator role), not rejected", err)
	}
	if !strings.Contains(err.Error(), "may not sign notice") {
		t.Errorf("the reason does not say who may sign notices: %v", err)
	}
	v, err := FoldNotice(forged, f.ms, t0.Add(time.Hour))
	if err != nil || v.Trusted {
		t.Fatalf("FoldNotice(observer's notice) = trusted %v, %v; want untrusted", v.Trusted, err)
	}
	fakeAck := f.sign(obs, KindNotice, NoticePayload{Text: "Handled", Severity: 1, Ack: alert.ID.Bytes(), Resolve: true})
	av, err := FoldAlert(alert, []*Signed{fakeAck}, f.ms, t0.Add(time.Hour))
	if err != nil || av.State != AlertSent || len(av.History) != 0 {
		t.Fatalf("alert answered by an observer: state %q, history %v, %v; want sent and no history", av.State, av.History, err)
	}
}

// A coordinator's notices count until a revocation that does not accept
// them: a seized laptop's "all clear" neither shows as an instruction nor
// resolves an alert, while the notices the revocation accepts still do.
func TestNoticeByRevokedCoordinator(t *testing.T) {
	f := newFixture(t, "notice-revoked")
	obs := f.enroll(f.founder, "observer", RoleObserver)
	deputy := f.enroll(f.founder, "deputy", RoleCoordinator)
	deputyKey := deputy.Author()
	alert := f.accept(f.sign(obs, KindAlert, AlertPayload{Note: "threatened", Station: "PS-0042"}))
	kept := f.accept(f.sign(deputy, KindNotice, NoticePayload{Text: "Seen, calling you", Severity: 3, Ack: alert.ID.Bytes()}))
	forged := f.accept(f.sign(deputy, KindNotice, NoticePayload{Text: "All clear, go back in", Severity: 1, Ack: alert.ID.Bytes(), Resolve: true}))
	instr := f.accept(f.sign(deputy, KindNotice, NoticePayload{Text: "Stop reporting from PS-0042", Severity: 4}))
	now := t0.Add(time.Hour)
	if av, _ := FoldAlert(alert, []*Signed{kept, forged, instr}, f.ms, now); av.State != AlertResolved {
		t.Fatalf("before the revocation: state %q, want resolved", av.State)
	}
	f.accept(f.sign(f.founder, KindRevoke, RevokePayload{Member: deputyKey[:], Accepted: [][]byte{kept.ID.Bytes()}, Reason: "laptop seized"}))
	av, err := FoldAlert(alert, []*Signed{kept, forged, instr}, f.ms, now)
	if err != nil || av.State != AlertAcknowledged || len(av.History) != 1 || av.Last.Notice != kept.ID {
		t.Fatalf("after the revocation: state %q, history %+v, %v; want acknowledged by the accepted notice alone", av.State, av.History, err)
	}
	for rec, want := range map[*Signed]bool{kept: true, forged: false, instr: false} {
		v, err := FoldNotice(rec, f.ms, now)
		if err != nil || v.Trusted != want {
			t.Errorf("%q: trusted %v, %v; want %v", v.Notice.Text, v.Trusted, err, want)
		}
		if !v.Trusted && !v.hasFlag(FlagUnconfirmed) {
			t.Errorf("%q: flags %v, want unconfirmed", v.Notice.Text, v.Flags)
		}
	}
}

func (v NoticeView) hasFlag(f string) bool {
	for _, g := range v.Flags {
		if g == f {
			return true
		}
	}
	return false
}

func TestNoticeValidation(t *testing.T) {
	f := newFixture(t, "notice-validate")
	obs := f.enroll(f.founder, "observer", RoleObserver)
	alert := f.accept(f.sign(obs, KindAlert, AlertPayload{Note: "help"}))
	checkin := f.accept(f.sign(obs, KindCheckin, CheckinPayload{Status: "arrived"}))
	good := func() NoticePayload {
		return NoticePayload{Text: "Station moved to the hall", Severity: 2, Station: "PS-0042"}
	}
	at := f.next()
	for name, c := range map[string]struct {
		mut   func(*NoticePayload)
		field string // "" valid, "missing" waits for a record
	}{
		"good":             {func(*NoticePayload) {}, ""},
		"to an area":       {func(n *NoticePayload) { n.Station, n.Area = "", "Kibra" }, ""},
		"to everyone":      {func(n *NoticePayload) { n.Station = "" }, ""},
		"acknowledgement":  {func(n *NoticePayload) { n.Ack = alert.ID.Bytes() }, ""},
		"resolution":       {func(n *NoticePayload) { n.Ack, n.Resolve = alert.ID.Bytes(), true }, ""},
		"expiring":         {func(n *NoticePayload) { n.Expires = at.Add(time.Hour).UnixMilli() }, ""},
		"no text":          {func(n *NoticePayload) { n.Text = "" }, "payload.text"},
		"text too long":    {func(n *NoticePayload) { n.Text = strings.Repeat("x", MaxNoteLen+1) }, "payload.text"},
		"severity 0":       {func(n *NoticePayload) { n.Severity = 0 }, "payload.severity"},
		"severity 5":       {func(n *NoticePayload) { n.Severity = 5 }, "payload.severity"},
		"station and area": {func(n *NoticePayload) { n.Area = "Kibra" }, "payload.area"},
		"station spaces":   {func(n *NoticePayload) { n.Station = "PS 0042" }, "payload.station"},
		"resolve nothing":  {func(n *NoticePayload) { n.Resolve = true }, "payload.resolve"},
		"short ack":        {func(n *NoticePayload) { n.Ack = []byte{1, 2} }, "payload.ack"},
		"ack a check-in":   {func(n *NoticePayload) { n.Ack = checkin.ID.Bytes() }, "payload.ack"},
		"ack unknown":      {func(n *NoticePayload) { id := IDOf([]byte("x")); n.Ack = id.Bytes() }, "missing"},
		"expired at birth": {func(n *NoticePayload) { n.Expires = at.UnixMilli() }, "payload.expires"},
	} {
		t.Run(name, func(t *testing.T) {
			n := good()
			c.mut(&n)
			err := f.validate(f.signAt(f.founder, KindNotice, at, n))
			switch c.field {
			case "":
				if err != nil {
					t.Fatalf("Validate = %v, want valid", err)
				}
			case "missing":
				if !IsMissing(err) {
					t.Fatalf("Validate = %v, want a missing dependency", err)
				}
			default:
				var fe *FieldError
				if !IsRejected(err) || !errors.As(err, &fe) || fe.Field != c.field {
					t.Fatalf("Validate = %v, want rejected on %s", err, c.field)
				}
			}
		})
	}
	// Sealed to its audience, a notice's envelope names at most the
	// alert it answers, which must be one.
	for name, c := range map[string]struct {
		target []byte
		want   string // "", "rejected" or "missing"
	}{
		"to the field":     {nil, ""},
		"answer":           {alert.ID.Bytes(), ""},
		"answer a checkin": {checkin.ID.Bytes(), "rejected"},
		"answer unknown":   {func() []byte { id := IDOf([]byte("y")); return id.Bytes() }(), "missing"},
		"short target":     {[]byte{1}, "rejected"},
	} {
		sealed, err := f.founder.SignSealed(f.ms.ID, KindNotice, f.next(), SealedEnvelope{Target: c.target}, []byte("ciphertext"))
		if err != nil {
			t.Fatal(err)
		}
		err = f.validate(sealed)
		var me *MissingError
		switch {
		case c.want == "" && err != nil, c.want == "rejected" && !IsRejected(err), c.want == "missing" && !errors.As(err, &me):
			t.Errorf("sealed notice %s: Validate = %v, want %s", name, err, c.want)
		}
	}
	// A build from before notices (format level 0) cannot store one, so
	// it is never sent to one.
	if f.sign(f.founder, KindNotice, good()).ReadableAt(0) {
		t.Error("a notice is readable at format level 0")
	}
}

// The alert's state is the latest answer by claimed time (ID breaking
// ties), whatever order the notices arrive in; answers to other alerts
// and other notices are not history.
func TestFoldAlert(t *testing.T) {
	f := newFixture(t, "notice-fold")
	obs := f.enroll(f.founder, "observer", RoleObserver)
	c2 := f.enroll(f.founder, "c2", RoleCoordinator)
	alert := f.accept(f.sign(obs, KindAlert, AlertPayload{Note: "help", Station: "PS-0042"}))
	other := f.accept(f.sign(obs, KindAlert, AlertPayload{Note: "again"}))
	now := t0.Add(time.Hour)
	if av, err := FoldAlert(alert, nil, f.ms, now); err != nil || av.State != AlertSent || av.Last != nil || av.Label != "observer" {
		t.Fatalf("no answers: %+v, %v", av, err)
	}
	ack := f.accept(f.sign(f.founder, KindNotice, NoticePayload{Text: "Seen, calling you", Severity: 3, Ack: alert.ID.Bytes()}))
	res := f.accept(f.sign(c2, KindNotice, NoticePayload{Text: "Police on site", Severity: 2, Ack: alert.ID.Bytes(), Resolve: true}))
	elsewhere := f.accept(f.sign(f.founder, KindNotice, NoticePayload{Text: "Seen", Severity: 2, Ack: other.ID.Bytes()}))
	plain := f.accept(f.sign(f.founder, KindNotice, NoticePayload{Text: "Road closed", Severity: 2}))
	for _, order := range [][]*Signed{{ack, res, elsewhere, plain}, {plain, res, elsewhere, ack}} {
		av, err := FoldAlert(alert, order, f.ms, now)
		if err != nil || av.State != AlertResolved || len(av.History) != 2 || av.History[0].Notice != ack.ID ||
			av.Last.Notice != res.ID || av.Last.Label != "c2" || av.Last.Note != "Police on site" {
			t.Fatalf("state %q, history %+v, %v", av.State, av.History, err)
		}
	}
	// Reopened: a later acknowledgement wins over the resolution.
	again := f.accept(f.sign(f.founder, KindNotice, NoticePayload{Text: "They are back", Severity: 4, Ack: alert.ID.Bytes()}))
	if av, _ := FoldAlert(alert, []*Signed{again, res, ack}, f.ms, now); av.State != AlertAcknowledged || av.Last.Notice != again.ID {
		t.Fatalf("reopened: state %q", av.State)
	}
	// Same claimed time: the higher ID is the later one.
	at := f.next()
	x := f.accept(f.signAt(f.founder, KindNotice, at, NoticePayload{Text: "a", Severity: 1, Ack: other.ID.Bytes()}))
	y := f.accept(f.signAt(f.founder, KindNotice, at, NoticePayload{Text: "b", Severity: 1, Ack: other.ID.Bytes(), Resolve: true}))
	later := y
	if Before(y, x) {
		later = x
	}
	for _, order := range [][]*Signed{{x, y}, {y, x}} {
		if av, _ := FoldAlert(other, order, f.ms, now); av.Last.Notice != later.ID {
			t.Fatalf("tie: last %s, want %s", av.Last.Notice, later.ID)
		}
	}
}

func TestSortNotices(t *testing.T) {
	mk := func(sev uint64, created int64, expired bool) NoticeView {
		return NoticeView{Created: created, Expired: expired, Notice: NoticePayload{Severity: sev, Text: "x"}, ID: IDOf([]byte{byte(sev), byte(created)})}
	}
	list := []NoticeView{mk(2, 1, false), mk(4, 1, true), mk(4, 2, false), mk(2, 3, false), mk(3, 0, false)}
	SortNotices(list)
	var got []string
	for _, v := range list {
		got = append(got, strings.Repeat("!", int(v.Notice.Severity))+map[bool]string{true: "x"}[v.Expired])
	}
	if strings.Join(got, " ") != "!!!! !!! !! !! !!!!x" || list[2].Created != 3 {
		t.Fatalf("order %v", got)
	}
}

// A sealed notice's body must answer the alert its envelope names (or
// none when the envelope names none), and be a valid notice for the
// record's time: a coordinator cannot show one alert as answered to
// carriers while the body answers another.
func TestSealedNoticeBodyMatchesEnvelope(t *testing.T) {
	f := newFixture(t, "notice-sealed-body")
	obs := f.enroll(f.founder, "observer", RoleObserver)
	a1 := f.accept(f.sign(obs, KindAlert, AlertPayload{Note: "help"}))
	a2 := f.accept(f.sign(obs, KindAlert, AlertPayload{Note: "help again"}))
	for name, c := range map[string]struct {
		body   NoticePayload
		target []byte
		ok     bool
	}{
		"answer":             {NoticePayload{Text: "seen", Severity: 2, Ack: a1.ID.Bytes()}, a1.ID.Bytes(), true},
		"to the field":       {NoticePayload{Text: "road closed", Severity: 3}, nil, true},
		"answers another":    {NoticePayload{Text: "seen", Severity: 2, Ack: a2.ID.Bytes()}, a1.ID.Bytes(), false},
		"answer, no target":  {NoticePayload{Text: "seen", Severity: 2, Ack: a1.ID.Bytes()}, nil, false},
		"field, a target":    {NoticePayload{Text: "road closed", Severity: 3}, a1.ID.Bytes(), false},
		"invalid body":       {NoticePayload{Text: "", Severity: 2}, nil, false},
		"expired at signing": {NoticePayload{Text: "x", Severity: 2, Expires: 1}, nil, false},
	} {
		rec, err := f.founder.SignSealed(f.ms.ID, KindNotice, f.next(), SealedEnvelope{Target: c.target}, []byte("ciphertext"))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := SealedPlain(KindNotice, c.body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := OpenPlain(rec, plain); (err == nil) != c.ok {
			t.Errorf("%s: OpenPlain = %v, want ok %v", name, err, c.ok)
		}
	}
}
