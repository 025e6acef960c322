package act

import (
	"strings"
	"time"

	"filippo.io/age"
	"github.com/vigil-mesh/vigil/incident"
)

// Notices and alerts: what coordinators tell the field, and the answers
// to observers' alerts. Who may send a notice, and which notices count as
// instructions, are incident's rules (notice.go); here they are checked
// before anything is signed, and listed for one device.

// DefaultNoticeSeverity is a notice's severity when the request names
// none: 2, as for reports, "worth knowing".
const DefaultNoticeSeverity = 2

// MinNoticeExpiry is the shortest expiry a notice may have: the expiry
// is counted from when the notice is sent, and must fall after the time
// it is signed with (sealing takes a moment), and no one reads a notice
// that lasts less.
const MinNoticeExpiry = time.Minute

// NoticeRequest is a coordinator's notice. Station or Area names its
// audience (neither: everyone). Ack names an alert it answers (its full
// ID or a unique prefix); Resolve resolves it rather than acknowledging
// it. ExpiresIn, when set, hides the notice from lists that long after it
// is sent.
type NoticeRequest struct {
	Text      string        `json:"text"`
	Severity  uint64        `json:"severity,omitempty"`
	Station   string        `json:"station,omitempty"`
	Area      string        `json:"area,omitempty"`
	Ack       string        `json:"ack,omitempty"`
	Resolve   bool          `json:"resolve,omitempty"`
	ExpiresIn time.Duration `json:"expires_in,omitempty"`
}

// Notice signs and stores a coordinator's notice: sealed to its audience
// where the mission seals (incident.MissionState.NoticeRecipients), in
// the clear in a practice or --no-seal mission.
func (d *Desk) Notice(r NoticeRequest) (Created, error) {
	for field, s := range map[string]string{"text": r.Text, "station": r.Station, "area": r.Area} {
		if err := text(field, s); err != nil {
			return Created{}, err
		}
	}
	if r.Text == "" {
		return Created{}, invalid("text", "is required")
	}
	if r.ExpiresIn < 0 || r.ExpiresIn > 0 && r.ExpiresIn < MinNoticeExpiry {
		return Created{}, invalid("expires", "must be at least %v", MinNoticeExpiry)
	}
	if r.Resolve && r.Ack == "" {
		return Created{}, invalid("resolve", "resolves an alert: name it with ack")
	}
	ms, err := d.mission()
	if err != nil {
		return Created{}, err
	}
	if err := d.mayPut(ms, incident.KindNotice); err != nil {
		return Created{}, err
	}
	n := incident.NoticePayload{Text: r.Text, Severity: r.Severity, Station: stationCode(r.Station), Area: r.Area, Resolve: r.Resolve}
	if n.Severity == 0 {
		n.Severity = DefaultNoticeSeverity
	}
	var alert *incident.Signed
	if r.Ack != "" {
		id, err := d.ResolveAlert(r.Ack)
		if err != nil {
			return Created{}, err
		}
		if alert, err = d.st.Get(id); err != nil {
			return Created{}, classify(err)
		}
		n.Ack = id.Bytes()
	}
	now := d.now()
	if r.ExpiresIn > 0 {
		n.Expires = now.Add(r.ExpiresIn).UnixMilli()
	}
	if err := incident.ValidateNotice(&n, now.UnixMilli()); err != nil {
		return Created{}, classify(err)
	}
	if !ms.SealByDefault() {
		rec, err := d.st.Put(incident.KindNotice, n)
		if err != nil {
			return Created{}, classify(err)
		}
		return Created{ID: rec.ID}, nil
	}
	var (
		answered *incident.Author
		field    age.Recipient
		target   *incident.ID
	)
	if alert != nil {
		a := alert.AuthorKey()
		answered, target = &a, &alert.ID
	} else if field, err = d.fieldKey(ms); err != nil {
		return Created{}, err
	}
	to, err := ms.NoticeRecipients(answered, field)
	if err != nil {
		return Created{}, refuse(Refused, "%v", err)
	}
	rec, err := d.st.PutSealedTo(incident.KindNotice, target, n, to)
	if err != nil {
		return Created{}, classify(err)
	}
	return Created{ID: rec.ID, Sealed: true}, nil
}

// fieldKey is the notice key of the newest epoch this device holds a
// secret of: what every member current with it derives too.
func (d *Desk) fieldKey(ms *incident.MissionState) (age.Recipient, error) {
	held, secrets, err := d.st.HeldEpochs()
	if err != nil {
		return nil, classify(err)
	}
	if len(held) == 0 {
		return nil, refuse(Refused, "%v", incident.ErrNoEpochKey)
	}
	id, err := incident.EpochIdentity(ms.ID, secrets[held[0].ID], incident.EpochNotices)
	if err != nil {
		return nil, classify(err)
	}
	return id.Recipient(), nil
}

// ResolveAlert finds an alert held on this device by its full ID or a
// unique prefix.
func (d *Desk) ResolveAlert(ref string) (incident.ID, error) {
	id, err := incident.ParseID(ref)
	if err != nil {
		if err := CheckReportRef(ref); err != nil {
			return incident.ID{}, invalid("ack", "%q is not an alert ID or a prefix of one", ref)
		}
		ids, err := d.st.IDsOfKind(incident.KindAlert)
		if err != nil {
			return incident.ID{}, classify(err)
		}
		return pickByPrefix(ids, IDHead+strings.TrimPrefix(ref, IDHead), "alert")
	}
	rec, err := d.st.Get(id)
	if err != nil {
		return incident.ID{}, classify(err)
	}
	if rec == nil || rec.Kind != incident.KindAlert {
		return incident.ID{}, refuse(NotFound, "no alert %s on this device", id)
	}
	return id, nil
}

// NoticeQuery selects the notices a device lists: by default those that
// are in force and come from a coordinator in good standing.
type NoticeQuery struct {
	// Expired lists expired notices too (after the others).
	Expired bool `json:"expired,omitempty"`
	// Untrusted lists, too, the notices whose author's standing does not
	// cover them (a revoked coordinator's, not accepted by the
	// revocation), marked Trusted false: never to be shown as
	// instructions.
	Untrusted bool `json:"untrusted,omitempty"`
}

// Notices lists the notices this device holds for its member, in force
// first, then most severe, then newest. A notice to a station or an area
// is listed to every member who can read it, with its audience: an
// observer posted elsewhere may be on its way there.
func (d *Desk) Notices(q NoticeQuery) ([]incident.NoticeView, error) {
	ms, err := d.mission()
	if err != nil {
		return nil, err
	}
	recs, open, err := d.readNotices()
	if err != nil {
		return nil, err
	}
	now := d.now()
	out := []incident.NoticeView{}
	for _, r := range recs {
		v, err := incident.FoldNoticeOpen(r, ms, now, open)
		if err != nil {
			// Stored, so valid: sealed for others, or a payload this
			// build cannot read. Not listed.
			continue
		}
		if v.Expired && !q.Expired || !v.Trusted && !q.Untrusted {
			continue
		}
		out = append(out, v)
	}
	incident.SortNotices(out)
	return out, nil
}

// AlertItem is an alert with its delivery: whether a coordinator's
// receipt lists it (held), so that its author sees "held by a
// coordinator" before anyone answers.
type AlertItem struct {
	incident.AlertView
	Held bool `json:"held_by_coordinator"`
}

// Alerts lists alerts with their state: every alert for a coordinator,
// this device's own for anyone else. Unanswered first, newest first.
func (d *Desk) Alerts() ([]AlertItem, error) {
	ms, err := d.mission()
	if err != nil {
		return nil, err
	}
	self := d.st.Author()
	role, err := d.myRole(ms)
	if err != nil {
		return nil, err
	}
	// Alerts are read as notices are: a sealed one (sealed for SMS) is
	// opened where this device may.
	alerts, openedAlerts, err := d.st.Readable(incident.KindAlert)
	if err != nil {
		return nil, classify(err)
	}
	notices, openNotice, err := d.readNotices()
	if err != nil {
		return nil, err
	}
	open := func(r *incident.Signed) (any, bool) {
		if r.Kind == incident.KindAlert {
			p, ok := openedAlerts[r.ID]
			return p, ok
		}
		return openNotice(r)
	}
	// Each alert folds only the notices that name it.
	answers := map[incident.ID][]*incident.Signed{}
	for _, n := range notices {
		if id, ok := incident.NoticeTarget(n); ok {
			answers[id] = append(answers[id], n)
		}
	}
	now := d.now()
	// The registry, read once and only when an alert names a station.
	var reg *incident.Registry
	var views []incident.AlertView
	for _, a := range alerts {
		if role != incident.RoleCoordinator && a.AuthorKey() != self {
			continue
		}
		v, err := incident.FoldAlertOpen(a, answers[a.ID], ms, now, open)
		if err != nil {
			continue
		}
		if v.Alert.Station != "" {
			if reg == nil {
				r, err := d.Registry()
				if err != nil {
					return nil, err
				}
				reg = &r
			}
			v.Flags = flagStation(v.Flags, reg, v.Alert.Station)
		}
		views = append(views, v)
	}
	incident.SortAlerts(views)
	out := make([]AlertItem, 0, len(views))
	for _, v := range views {
		item := AlertItem{AlertView: v}
		if dl, err := d.st.DeliveryOf(v.ID); err == nil {
			item.Held = dl.Coordinator
		}
		out = append(out, item)
	}
	return out, nil
}

// readNotices returns the notices this device holds, and an opener of
// the sealed ones it is an audience of.
func (d *Desk) readNotices() ([]*incident.Signed, incident.Opener, error) {
	recs, opened, err := d.st.Readable(incident.KindNotice)
	if err != nil {
		return nil, nil, classify(err)
	}
	return recs, func(r *incident.Signed) (any, bool) {
		p, ok := opened[r.ID]
		return p, ok
	}, nil
}
