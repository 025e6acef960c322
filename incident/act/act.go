// Package act carries out what a person does in Vigil, once: create or
// join a mission, invite, revoke, confirm and cancel; attach a file,
// submit, amend and retract a report; review; check in; raise an alert.
//
// The command line (cmd/vigil), the app's screens (app) and the control
// socket are adapters over it: they turn flags, taps and requests into
// the typed requests here, and word the classified errors (Error, Code)
// for their people. What is allowed, what is checked before anything is
// signed, and what a second identical request does (nothing, for a
// retraction or revocation) is decided here and nowhere else. The rules
// about records themselves stay in incident (validity, folding) and the
// persistence in incident/store.
//
// A Desk works on one open store. The Actions interface is what the
// control socket carries: *Desk implements it, and so does the command
// line's client of a running node, so one table of tests runs through
// every adapter (cmd/vigil/usecase_test.go).
package act

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Actions is every action a person takes, as typed requests. Reports and
// members are named as a person types them (Ref): a report by its full ID
// or a unique prefix, a member by author key, member record ID or label.
type Actions interface {
	CreateMission(spec store.MissionSpec) (incident.ID, error)
	Join(code string) (Joined, error)
	Invite(req InviteRequest) (Invitation, error)
	Revoke(member, reason string, acceptNone bool) (Revocation, error)
	// Confirm confirms member's redemption of their invite; member ""
	// confirms every invite redeemed by exactly one device.
	Confirm(member string) (Confirmation, error)
	CancelInvite(invite, reason string) (Cancellation, error)
	// Configure sets mission settings, each KEY=VALUE.
	Configure(settings []string) (Created, error)

	AttachFile(name string, data []byte) (Attachment, error)
	Submit(s Submission) (Created, error)
	Amend(a Amendment) (Created, error)
	Retract(report, reason string) (Retraction, error)
	Review(v Verdict) (Created, error)
	Checkin(c incident.CheckinPayload) (Created, error)
	Alert(a incident.AlertPayload) (Created, error)
	// Notice sends a coordinator's notice; Notices lists the notices
	// this device holds, Alerts the alerts it may answer or raised,
	// with their state (alerts.go).
	Notice(n NoticeRequest) (Created, error)
	Notices(q NoticeQuery) ([]incident.NoticeView, error)
	Alerts() ([]AlertItem, error)
	// ImportStations signs a registry file as one snapshot; Stations
	// lists the registry in force (stations.go).
	ImportStations(req StationImport) (StationsImported, error)
	Stations(q StationQuery) (StationList, error)
	// ImportForm signs an XLSForm workbook as a form version; Forms
	// lists the versions held, Form finds one (forms.go).
	ImportForm(r FormImport) (FormImported, error)
	Forms() ([]incident.FormView, error)
	Form(ref string) (incident.FormView, error)

	// Report is one report as this device holds it (the command line
	// reads it to amend it).
	Report(report string) (incident.ReportView, error)
	// Files lists a report's files; ReadFile opens one of them.
	Files(report string) ([]File, error)
	ReadFile(report string, n int) (FileData, error)
	// PublicFile is ReadFile's copy for publication: an image stripped
	// of its metadata (files.go).
	PublicFile(report string, n int) (FileData, error)

	// Export writes an export to w; ExportBundle a bundle of this
	// device's records. w is the caller's, not closed.
	Export(req ExportRequest, w io.Writer) (Exported, error)
	ExportBundle(req BundleRequest, w io.Writer) (Bundled, error)
	ImportBundle(req ImportRequest) (bundle.Summary, error)
	// Backup writes this device's keys and store to w, encrypted with a
	// passphrase. (Restore needs no store: it is the function Restore.)
	Backup(req BackupRequest, w io.Writer) (BackedUp, error)

	// SMS (sms.go): the text message of a record and its sending; one
	// received text; the texts kept for unknown authors decoded again;
	// the counts per sender; the inbox key shared or rotated.
	SMSText(ref string) (SMSText, error)
	MarkSMSSent(ref string) error
	ReceiveSMS(m SMSMessage) (SMSReceived, error)
	RetryPendingSMS() ([]SMSReceived, error)
	SMSSenders() ([]SMSSender, error)
	SMSKey(rotate bool) (SMSKeyResult, error)
}

// Desk carries out actions on one open store. It is safe for concurrent
// use, as the store is.
type Desk struct {
	st *store.Store
	// Bootstrap, when set, gives the addresses new members should try
	// first, added to every invite that names none (the node's own).
	Bootstrap func() []string
	// PeerClocks, when set, gives how far each peer's clock was ahead of
	// this device's, from the hellos of the peers in reach
	// (node.ClockOffset): a capture record gives their median.
	PeerClocks func() []time.Duration
	// seen keeps what coverage read of records, which never change
	// (coverage.go).
	seen seenRecords
	// sms limits texts per number and author; smsMu guards the SMS
	// bookkeeping kept in the store (pending texts, counts) (sms.go).
	sms   smsState
	smsMu sync.Mutex
}

var _ Actions = (*Desk)(nil)

// New returns a desk over st. The caller keeps owning st.
func New(st *store.Store) *Desk { return &Desk{st: st} }

// Store is the store the desk works on.
func (d *Desk) Store() *store.Store { return d.st }

// mission is the mission state, or a NoMission refusal.
func (d *Desk) mission() (*incident.MissionState, error) {
	ms, err := d.st.Mission()
	return ms, classify(err)
}

// myRole is this device's role in ms, or the refusal to a device that
// is not yet a member.
func (d *Desk) myRole(ms *incident.MissionState) (string, error) {
	role, ok := ms.Role(d.st.Author())
	if !ok {
		return "", refuse(NotMember, "this device is not yet a member of mission %q", ms.Mission.Name)
	}
	return role, nil
}

// mayPut refuses, before anything is signed, a kind this device may not
// sign: it is not (or no longer) a member, or its role does not allow it.
func (d *Desk) mayPut(ms *incident.MissionState, k incident.Kind) error {
	self := d.st.Author()
	role, err := d.myRole(ms)
	if err != nil {
		return err
	}
	if len(ms.Revocations(self)) > 0 {
		return refuse(NotMember, "this device's membership of mission %q was revoked", ms.Mission.Name)
	}
	if !incident.Allowed(role, k) {
		return refuse(Forbidden, "%s may not sign %s records", incident.Article(role), k)
	}
	return nil
}

// text checks a free-text field of a request.
func text(field, s string) error {
	if !utf8.ValidString(s) || slices.Contains([]byte(s), 0) {
		return invalid(field, "not valid UTF-8 text")
	}
	return nil
}

// Created is a record an action signed and stored.
type Created struct {
	ID     incident.ID `json:"id"`
	Sealed bool        `json:"sealed,omitempty"`
}

// Submission is a new report.
type Submission struct {
	Report incident.ReportPayload `json:"report"`
	Files  []Attachment           `json:"files,omitempty"` // kept with AttachFile
	// Sealed seals the report to the mission's coordinators; nil follows
	// the mission's policy (seal_by_default).
	Sealed *bool `json:"sealed,omitempty"`
}

// Submit checks a report against the mission (its category, the device's
// role, every field), stores the attachment manifests, then signs and
// stores the report. It returns once the report is durably on disk.
func (d *Desk) Submit(s Submission) (Created, error) {
	ms, err := d.mission()
	if err != nil {
		return Created{}, err
	}
	r := s.Report
	if err := d.checkReport(ms, &r, incident.KindReport); err != nil {
		return Created{}, err
	}
	sealed := ms.SealByDefault()
	if s.Sealed != nil {
		sealed = *s.Sealed
	}
	files, err := d.attach(&r, s.Files, nil, sealed)
	if err != nil {
		return Created{}, err
	}
	rec, err := d.putObservation(ms, incident.KindReport, r, sealed)
	if err != nil {
		return Created{}, classify(err)
	}
	d.dropPlain(files)
	return Created{ID: rec.ID, Sealed: len(rec.Sealed) > 0}, d.capture(rec, files, &r)
}

// checkReport checks what a report or amendment says, before anything
// is signed. r.Attachments and r.Files are set from the files afterwards
// (attach).
func (d *Desk) checkReport(ms *incident.MissionState, r *incident.ReportPayload, k incident.Kind) error {
	r.Station = stationCode(r.Station)
	if r.Category == "" {
		return invalid("category", "is required")
	}
	if _, ok := ms.Category(r.Category); !ok {
		return invalid("category", "%q is not a category of this mission", r.Category)
	}
	attachments := r.Attachments
	r.Attachments = nil
	err := incident.ValidateReport(r)
	r.Attachments = attachments
	if err != nil {
		return classify(err)
	}
	return d.mayPut(ms, k)
}

// Amendment is a new version of one of this device's reports: every
// field in full, and every file it keeps or adds.
type Amendment struct {
	Target string                 `json:"target"` // the report
	Report incident.ReportPayload `json:"report"`
	Files  []Attachment           `json:"files,omitempty"`
}

// Amend signs and stores an amendment of one of this device's reports,
// sealed when the report is.
func (d *Desk) Amend(a Amendment) (Created, error) {
	ms, err := d.mission()
	if err != nil {
		return Created{}, err
	}
	id, err := d.ResolveReport(a.Target)
	if err != nil {
		return Created{}, err
	}
	v, err := d.report(id)
	if err != nil {
		return Created{}, err
	}
	switch {
	case v.Author != d.st.Author():
		return Created{}, refuse(NotMine, "report %s is another member's: only its author may amend it", id)
	case v.Retracted:
		return Created{}, refuse(Retracted, "report %s was retracted", id)
	case v.Sealed && !v.Opened:
		return Created{}, refuse(SealedGone, "report %s is sealed and this device no longer holds a readable copy (a coordinator has received it); add a new report instead", id)
	}
	r := a.Report
	if err := d.checkReport(ms, &r, incident.KindAmend); err != nil {
		return Created{}, err
	}
	files, err := d.attach(&r, a.Files, &v.Report, v.Sealed)
	if err != nil {
		return Created{}, err
	}
	rec, err := d.st.PutMaybeSealed(v.Sealed, incident.KindAmend, &id, incident.AmendPayload{Target: id.Bytes(), Report: r})
	if err != nil {
		return Created{}, classify(err)
	}
	d.dropPlain(files)
	target, err := d.st.Get(id)
	if err != nil || target == nil {
		return Created{ID: rec.ID, Sealed: v.Sealed}, classify(err)
	}
	return Created{ID: rec.ID, Sealed: v.Sealed}, d.capture(target, files, &r)
}

// report is one report by ID, NotFound when this device holds none.
func (d *Desk) report(id incident.ID) (incident.ReportView, error) {
	v, err := d.st.Report(id)
	if errors.Is(err, store.ErrNotFound) {
		return v, &Error{Code: NotFound, Msg: fmt.Sprintf("no report %s on this device", id), Cause: err}
	}
	return v, classify(err)
}

// Report is one report as this device holds it, flagged
// unknown_station when it names a station the registry in force does not
// list.
func (d *Desk) Report(ref string) (incident.ReportView, error) {
	id, err := d.ResolveReport(ref)
	if err != nil {
		return incident.ReportView{}, err
	}
	v, err := d.report(id)
	if err == nil && v.Report.Station != "" {
		if reg, rerr := d.Registry(); rerr == nil {
			v.Flags = flagStation(v.Flags, &reg, v.Report.Station)
		}
	}
	return v, err
}

// Retraction is what Retract did: a new retract record, or nothing
// because the report was already retracted (Already, with the retraction
// in force when this device holds it).
type Retraction struct {
	ID       incident.ID `json:"id"`
	Report   incident.ID `json:"report"`
	Already  bool        `json:"already,omitempty"`
	Existing incident.ID `json:"existing"`
}

// Retract withdraws one of this device's reports, sealed when the report
// is. A report already retracted gets no second record: that is a
// success with Already set.
func (d *Desk) Retract(ref, reason string) (Retraction, error) {
	if reason == "" {
		return Retraction{}, invalid("reason", "is required")
	}
	if err := text("reason", reason); err != nil {
		return Retraction{}, err
	}
	ms, err := d.mission()
	if err != nil {
		return Retraction{}, err
	}
	id, err := d.ResolveReport(ref)
	if err != nil {
		return Retraction{}, err
	}
	if _, err := d.report(id); err != nil {
		return Retraction{}, err
	}
	if err := d.mayPut(ms, incident.KindRetract); err != nil {
		return Retraction{}, err
	}
	rec, err := d.st.Retract(id, reason)
	var already *store.AlreadyRetractedError
	switch {
	case errors.As(err, &already):
		return Retraction{Report: id, Already: true, Existing: already.Retraction}, nil
	case errors.Is(err, store.ErrNotMine):
		return Retraction{}, refuse(NotMine, "report %s is another member's: only its author may retract it", id)
	case err != nil:
		return Retraction{}, classify(err)
	}
	return Retraction{ID: rec.ID, Report: id}, nil
}

// Verdict is a coordinator's review of a report.
type Verdict struct {
	Report string `json:"report"`
	Status string `json:"status"`
	Note   string `json:"note,omitempty"`
	// Publish approves the report's free text (title, description,
	// source) for public exports, as of the version Seen names, or the
	// version this device holds now when Seen is empty. A review without
	// it leaves the text unapproved, whatever earlier reviews said.
	Publish bool `json:"publish,omitempty"`
	// Seen is the version (ReportView.Version) the person read; when the
	// report has been amended since, the review is refused, so that
	// nobody approves a text they did not read.
	Seen string `json:"seen,omitempty"`
}

// ErrAmendedSince is the cause of the refusal of a review whose Seen
// is no longer the report's version.
var ErrAmendedSince = errors.New("the report was amended since it was read")

// Review stores a coordinator's verdict on a report, superseding the
// current heads.
func (d *Desk) Review(r Verdict) (Created, error) {
	if !slices.Contains(incident.ReviewStatuses, r.Status) {
		return Created{}, invalid("status", "%q is not a review status (want verified, corroborated, rejected or escalated)", r.Status)
	}
	if r.Publish && r.Status == "rejected" {
		return Created{}, invalid("publish", "a rejected report is never published")
	}
	if err := text("note", r.Note); err != nil {
		return Created{}, err
	}
	ms, err := d.mission()
	if err != nil {
		return Created{}, err
	}
	id, err := d.ResolveReport(r.Report)
	if err != nil {
		return Created{}, err
	}
	if err := d.mayPut(ms, incident.KindReview); err != nil {
		return Created{}, err
	}
	v, err := d.report(id)
	if err != nil {
		return Created{}, err
	}
	if r.Seen != "" && r.Seen != v.Version.String() {
		return Created{}, &Error{Code: Refused, Cause: ErrAmendedSince,
			Msg: fmt.Sprintf("report %s was amended since you read it: read it again before reviewing it", id)}
	}
	var publish *incident.ID
	if r.Publish {
		publish = &v.Version
	}
	rec, err := d.st.ReviewPublish(id, r.Status, r.Note, publish)
	if err != nil {
		return Created{}, classify(err)
	}
	return Created{ID: rec.ID, Sealed: len(rec.Sealed) > 0}, nil
}

// Checkin stores an observer's check-in at a station.
func (d *Desk) Checkin(c incident.CheckinPayload) (Created, error) {
	if !slices.Contains(incident.CheckinStatuses, c.Status) {
		return Created{}, invalid("status", "%q is not a check-in status (want arrived, opened, all_quiet or closed)", c.Status)
	}
	if err := text("station", c.Station); err != nil {
		return Created{}, err
	}
	c.Station = stationCode(c.Station)
	return d.putSMSable(incident.KindCheckin, c)
}

// Alert stores an alert: something is happening now.
func (d *Desk) Alert(a incident.AlertPayload) (Created, error) {
	for field, s := range map[string]string{"note": a.Note, "station": a.Station} {
		if err := text(field, s); err != nil {
			return Created{}, err
		}
	}
	a.Station = stationCode(a.Station)
	return d.putSMSable(incident.KindAlert, a)
}

// putSMSable signs and stores a check-in or alert, sealed for SMS when
// the mission takes SMS and seals by default (sealingFor).
func (d *Desk) putSMSable(k incident.Kind, payload any) (Created, error) {
	ms, err := d.mission()
	if err != nil {
		return Created{}, err
	}
	if err := d.mayPut(ms, k); err != nil {
		return Created{}, err
	}
	rec, err := d.putObservation(ms, k, payload, false)
	if err != nil {
		return Created{}, classify(err)
	}
	return Created{ID: rec.ID, Sealed: len(rec.Sealed) > 0}, nil
}

// now is the store's clock.
func (d *Desk) now() time.Time { return d.st.Now() }
