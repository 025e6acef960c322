package incident

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"filippo.io/age"
)

// Notices are what coordinators tell the field: a station moved, a road
// unsafe, "stop reporting from PS-0042", or the answer to an alert. They
// are instructions, so who signed one decides whether it is shown as one:
//
//   - only a coordinator may sign a notice (permissions): an observer's
//     notice is never valid here. Like any record signed by a role that
//     may not sign its kind, it waits in quarantine (a later enrollment
//     could make its author a coordinator), bounded like every quarantined
//     record, and it is never shown. It is not held against the peer that
//     passed it on: builds from before notices store any member's record
//     of a kind they do not know, so an honest older phone may forward it.
//   - a revoked coordinator's notices are stored (the revocation may
//     arrive after them) but count only if the revocation accepts them
//     (MissionState.Confirmed, as for configs and reviews): NoticeView.
//     Trusted is false for the others, and they neither show as
//     instructions nor change an alert's state.
//
// Where the mission seals, notices are sealed to their audience
// (NoticeRecipients): an answer to an alert to the coordinators and the
// alert's author; any other notice to the coordinators and to the
// members of the newest epoch the sender holds, through a key every
// holder of that epoch's secret derives (EpochIdentity, EpochNotices).
// Who is posted where is itself sealed (assignments), so a notice to a
// station or an area is sealed, like one to everyone, to every member
// in good standing: the audience names who it is for, not who may read
// it. A sealed answer names its alert in the clear (the envelope's
// target), so a carrier learns that an alert was answered, not how.

// NoticePayload is a coordinator's notice. Its audience is one station
// (Station), an area (Area), or, with neither, everyone. Ack names an
// alert it answers: an acknowledgement, or with Resolve its resolution.
// Expires (Unix ms) is for display only: an expired notice stays valid
// and stored, and is listed only when asked for.
type NoticePayload struct {
	Text     string `cbor:"1,keyasint" json:"text"`
	Severity uint64 `cbor:"2,keyasint" json:"severity"` // 1 (information) to 4 (danger), as reports
	Station  string `cbor:"3,keyasint,omitempty" json:"station,omitempty"`
	Area     string `cbor:"4,keyasint,omitempty" json:"area,omitempty"`
	Ack      []byte `cbor:"5,keyasint,omitempty" json:"ack,omitempty"` // the alert's record ID
	Resolve  bool   `cbor:"6,keyasint,omitempty" json:"resolve,omitempty"`
	Expires  int64  `cbor:"7,keyasint,omitempty" json:"expires,omitempty"` // Unix ms
}

// ValidateNotice checks a notice's fields on their own (the command line
// and the app call it before signing). created is the notice's claimed
// time, which an expiry must follow.
func ValidateNotice(n *NoticePayload, created int64) error {
	if err := checkText("payload.text", n.Text, MaxNoteLen, true); err != nil {
		return err
	}
	if n.Severity < 1 || n.Severity > 4 {
		return fieldErr("payload.severity", "is %d, must be 1 to 4", n.Severity)
	}
	if err := checkCode("payload.station", n.Station, false); err != nil {
		return err
	}
	if err := checkText("payload.area", n.Area, MaxAreaLen, false); err != nil {
		return err
	}
	if n.Station != "" && n.Area != "" {
		return fieldErr("payload.area", "a notice goes to one station or one area, not both")
	}
	if n.Ack != nil {
		if _, err := idFromBytes("payload.ack", n.Ack); err != nil {
			return err
		}
	} else if n.Resolve {
		return fieldErr("payload.resolve", "resolves an alert, and the notice names none (ack)")
	}
	if n.Expires != 0 && n.Expires <= created {
		return fieldErr("payload.expires", "is not after the notice's own time")
	}
	return nil
}

// ErrNoEpochKey: a notice to the field cannot be sealed on a device that
// holds no epoch's secret (one that has met no member since it joined).
var ErrNoEpochKey = errors.New("this device holds no member secret of the mission's epochs yet: meet a member (or import a members' bundle) first")

// NoticeRecipients returns the age recipients a sealed notice goes to:
// the coordinators in good standing, and its audience. answered is the
// author of the alert the notice answers (nil for a notice to the
// field): it is a recipient unless revoked, since whoever holds a
// revoked member's keys must not read the answer. field is the notice
// key of the newest epoch the sender holds (EpochIdentity), required for
// a notice to the field.
func (ms *MissionState) NoticeRecipients(answered *Author, field age.Recipient) ([]age.Recipient, error) {
	if answered != nil {
		return ms.SealRecipientsWith(*answered)
	}
	out, err := ms.SealRecipients()
	if err != nil {
		return nil, err
	}
	if field == nil {
		return nil, ErrNoEpochKey
	}
	return append(out, field), nil
}

// NoticeTarget returns the alert a notice answers, whether it is sealed
// (the envelope's target) or not (its payload's Ack), and false for a
// notice to the field or a record that is not a notice.
func NoticeTarget(s *Signed) (ID, bool) {
	if s.Kind != KindNotice {
		return ID{}, false
	}
	p, err := s.DecodePayload()
	if err != nil {
		return ID{}, false
	}
	var b []byte
	switch v := p.(type) {
	case *NoticePayload:
		b = v.Ack
	case *SealedEnvelope:
		b = v.Target
	}
	var id ID
	if len(b) != len(id) {
		return ID{}, false
	}
	copy(id[:], b)
	return id, true
}

// noticeOf returns a notice's payload: its own, or, sealed, what open
// reads in it (nil open: none).
func noticeOf(s *Signed, open Opener) (*NoticePayload, bool, error) {
	p, err := s.DecodePayload()
	if err != nil {
		return nil, false, err
	}
	if _, sealed := p.(*SealedEnvelope); sealed {
		if open == nil {
			return nil, true, ErrCannotOpen
		}
		if p, ok := open(s); ok {
			n, ok := p.(*NoticePayload)
			if ok {
				return n, true, nil
			}
		}
		return nil, true, ErrCannotOpen
	}
	n, ok := p.(*NoticePayload)
	if !ok {
		return nil, false, fieldErr("kind", "%s is %s record, not a notice", s.ID, Article(string(s.Kind)))
	}
	return n, false, nil
}

// checkAck checks that the alert a notice answers is held and is an alert
// (a *MissingError until it arrives, as for a review's report).
func checkAck(ack []byte, src RecordSource) error {
	id, err := idFromBytes("payload.ack", ack)
	if err != nil {
		return err
	}
	t, err := src.Get(id)
	if err != nil {
		return fmt.Errorf("look up alert %s: %w", id, err)
	}
	if t == nil {
		return &MissingError{Record: id}
	}
	if t.Kind != KindAlert {
		return fieldErr("payload.ack", "%s is %s record, not an alert", id, Article(string(t.Kind)))
	}
	return nil
}

// Audiences a notice can have.
const (
	AudienceEveryone = "everyone"
	AudienceStation  = "station"
	AudienceArea     = "area"
)

// NoticeView is a notice as a device shows it.
type NoticeView struct {
	ID      ID            `json:"id"`
	Author  Author        `json:"author"`
	Label   string        `json:"sender"`  // the sender's member label
	Created int64         `json:"created"` // Unix ms
	Notice  NoticePayload `json:"notice"`
	// Audience is everyone, station or area (Notice.Station or .Area).
	Audience string `json:"audience"`
	Expired  bool   `json:"expired,omitempty"`
	// Trusted: signed by a coordinator whose standing covers it (see
	// above). A notice that is not is never an instruction.
	Trusted bool `json:"trusted"`
	// Sealed: the notice travels sealed to its audience (this device is
	// one of them, or the view would not exist).
	Sealed bool     `json:"sealed,omitempty"`
	Flags  []string `json:"flags,omitempty"`
}

// NoticeTrusted reports whether notice s, by its author's role and
// standing in ms, counts as a coordinator's instruction.
func NoticeTrusted(s *Signed, ms *MissionState) bool { return CoordinatorCounts(s, ms) }

// FoldNotice decodes a stored notice into its view.
func FoldNotice(s *Signed, ms *MissionState, now time.Time) (NoticeView, error) {
	return FoldNoticeOpen(s, ms, now, nil)
}

// FoldNoticeOpen is FoldNotice for a device that can open some sealed
// notices: a sealed one open cannot read is ErrCannotOpen.
func FoldNoticeOpen(s *Signed, ms *MissionState, now time.Time, open Opener) (NoticeView, error) {
	n, sealed, err := noticeOf(s, open)
	if err != nil {
		return NoticeView{}, err
	}
	v := NoticeView{ID: s.ID, Author: s.AuthorKey(), Created: s.Created, Notice: *n, Sealed: sealed,
		Audience: AudienceEveryone, Trusted: NoticeTrusted(s, ms), Flags: RecordFlags(s, ms, now)}
	if m, ok := ms.Member(s.AuthorKey()); ok {
		v.Label = m.Label
	}
	switch {
	case n.Station != "":
		v.Audience = AudienceStation
	case n.Area != "":
		v.Audience = AudienceArea
	}
	v.Expired = n.Expires != 0 && n.Expires <= now.UnixMilli()
	return v, nil
}

// SortNotices orders notices as people read them: those in force before
// expired ones, then the most severe, then the newest (ID breaks ties).
func SortNotices(list []NoticeView) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.Expired != b.Expired {
			return !a.Expired
		}
		if a.Notice.Severity != b.Notice.Severity {
			return a.Notice.Severity > b.Notice.Severity
		}
		if a.Created != b.Created {
			return a.Created > b.Created
		}
		return string(a.ID[:]) > string(b.ID[:])
	})
}

// Alert states.
const (
	AlertSent         = "sent"
	AlertAcknowledged = "acknowledged"
	AlertResolved     = "resolved"
)

// AlertStep is one coordinator's answer to an alert.
type AlertStep struct {
	Notice  ID     `json:"notice"`
	By      Author `json:"by"`
	Label   string `json:"by_label,omitempty"`
	Created int64  `json:"created"` // Unix ms
	Resolve bool   `json:"resolve,omitempty"`
	Note    string `json:"note"`
}

// AlertView is an alert and what coordinators answered.
type AlertView struct {
	ID      ID           `json:"id"`
	Author  Author       `json:"author"`
	Label   string       `json:"observer"` // the author's member label
	Created int64        `json:"created"`  // Unix ms
	Alert   AlertPayload `json:"alert"`
	// State is sent, acknowledged or resolved: the latest answer (by
	// claimed time, then ID) decides, so a later acknowledgement reopens
	// a resolved alert.
	State   string      `json:"state"`
	Last    *AlertStep  `json:"last,omitempty"` // the answer in force
	History []AlertStep `json:"history,omitempty"`
	Flags   []string    `json:"flags,omitempty"`
	// Sealed: the alert is sealed and this device cannot read it (its
	// note and place are unknown here).
	Sealed bool `json:"sealed,omitempty"`
}

// FoldAlert computes an alert's state from the notices that may answer
// it (any notices: those that name another alert, or whose author's
// standing does not cover them, are skipped). It is a pure function of
// the records and the mission state.
func FoldAlert(alert *Signed, notices []*Signed, ms *MissionState, now time.Time) (AlertView, error) {
	return FoldAlertOpen(alert, notices, ms, now, nil)
}

// FoldAlertOpen is FoldAlert for a device that can open some sealed
// notices; a sealed answer it cannot read is skipped (a device that is
// not its audience knows no more than that the alert was answered).
func FoldAlertOpen(alert *Signed, notices []*Signed, ms *MissionState, now time.Time, open Opener) (AlertView, error) {
	p, err := alert.DecodePayload()
	if err != nil {
		return AlertView{}, err
	}
	unread := false
	if _, sealed := p.(*SealedEnvelope); sealed {
		// Sealed for SMS (smsseal.go): read as open reads it. One this
		// device cannot read (its own, once a coordinator's receipt
		// ended the readable copy) still folds, its note and place
		// unknown, so its author keeps seeing its state.
		var q any
		ok := false
		if open != nil {
			q, ok = open(alert)
		}
		if p, unread = q, !ok; unread {
			p = &AlertPayload{}
		}
	}
	a, ok := p.(*AlertPayload)
	if !ok {
		return AlertView{}, fieldErr("kind", "%s is %s record, not an alert", alert.ID, Article(string(alert.Kind)))
	}
	v := AlertView{ID: alert.ID, Author: alert.AuthorKey(), Created: alert.Created, Alert: *a,
		State: AlertSent, Flags: RecordFlags(alert, ms, now), Sealed: unread}
	if m, ok := ms.Member(alert.AuthorKey()); ok {
		v.Label = m.Label
	}
	answers := slices.Clone(notices)
	slices.SortFunc(answers, func(x, y *Signed) int {
		switch {
		case Before(x, y):
			return -1
		case Before(y, x):
			return 1
		}
		return 0
	})
	for _, s := range answers {
		if s.Kind != KindNotice || !NoticeTrusted(s, ms) {
			continue
		}
		n, _, err := noticeOf(s, open)
		if err != nil || !sameID(n.Ack, alert.ID) {
			continue
		}
		step := AlertStep{Notice: s.ID, By: s.AuthorKey(), Created: s.Created, Resolve: n.Resolve, Note: n.Text}
		if m, ok := ms.Member(s.AuthorKey()); ok {
			step.Label = m.Label
		}
		v.History = append(v.History, step)
	}
	if len(v.History) > 0 {
		last := v.History[len(v.History)-1]
		v.Last = &last
		v.State = AlertAcknowledged
		if last.Resolve {
			v.State = AlertResolved
		}
	}
	return v, nil
}

// SortAlerts orders alerts for whoever answers them: unanswered first,
// then acknowledged, then resolved; newest first within each.
func SortAlerts(list []AlertView) {
	rank := map[string]int{AlertSent: 0, AlertAcknowledged: 1, AlertResolved: 2}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if rank[a.State] != rank[b.State] {
			return rank[a.State] < rank[b.State]
		}
		if a.Created != b.Created {
			return a.Created > b.Created
		}
		return string(a.ID[:]) > string(b.ID[:])
	})
}
