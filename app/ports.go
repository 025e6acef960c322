// Package app is Vigil's Fyne user interface: onboarding, the observer's
// home and report form, the coordinator's dashboard, report table, review
// workflow, members and invites, export, peers and sync, and panic wipe.
//
// It is the only package that imports Fyne. It reaches the store and the
// mesh through the small interfaces declared in this file; backend.go
// implements them over incident/store and sync/daemon, and the tests drive
// the real widgets (fyne.io/fyne/v2/test) against a real store in a
// temporary home. Logic that decides what to show (counts, timelines,
// silence, filtering, delivery wording) lives in model.go, free of widgets.
package app

import (
	"io"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Unlocker opens this device's home. The app starts with one and receives
// a Backend once the user has created or unlocked the store.
type Unlocker interface {
	// Initialised reports whether the home holds a store (possibly wiped).
	Initialised() bool
	// Create makes a new store protected by passphrase.
	Create(passphrase []byte) (Backend, error)
	// Unlock opens the store. A wrong passphrase is an error wrapping
	// vault.ErrWrongPassphrase and changes nothing.
	Unlock(passphrase []byte) (Backend, error)
}

// Backend is an unlocked device: everything the screens do after unlock.
// Screens take the smallest of the interfaces it is made of. Methods may be
// called from any goroutine.
type Backend interface {
	Device
	Reporter
	Reviewer
	Admin
	Configuration
	Noticeboard
	Assigner
	Tallier
	Checklister
	Settings
	Exporter
	Bundler
	Keys
	Texter
	Basemaps
	// Network returns the mesh, or nil while networking is off (no mission
	// yet, or a build or test without it).
	Network() Network
	// Wipe destroys the store's key (crypto-shredding), stops networking,
	// closes the store and removes its data folder. Nothing in the store
	// can be read afterwards, by anyone.
	Wipe() error
	// Close stops networking and closes the store.
	Close() error
}

// Device is this device and its mission.
type Device interface {
	Identity() (Identity, error)
	// CreateMission makes this device the founding coordinator of a new
	// mission.
	CreateMission(name, label string) error
	// Join redeems an invite code. A bad code is an error wrapping
	// incident.ErrInvite and changes nothing.
	Join(code string) (JoinResult, error)
	// NewerRecords counts the records held of kinds this build does not
	// know, by kind: a newer Vigil's, kept and passed on but not shown.
	// Empty (nil error) when there are none.
	NewerRecords() (map[incident.Kind]int, error)
	// Space is how much room Vigil uses here and what it keeps
	// (act.Desk.Space).
	Space() (store.Space, error)
	// ForgetHeld is the quick delete (act.Desk.ForgetHeld): this device's
	// records that coordinators hold are deleted and never taken back.
	ForgetHeld() (deleted, kept int, err error)
}

// Reporter is what an observer does.
type Reporter interface {
	Categories() []incident.Category
	Stations() ([]Station, error)
	// AttachFile keeps a file's content in the encrypted store (so a draft
	// holds only its hash) and describes it.
	AttachFile(name string, data []byte) (Attachment, error)
	// Submit signs and stores a report with its attachments, sealed to the
	// mission's coordinators when sealed is set. It returns once the
	// report is durably on disk.
	Submit(r incident.ReportPayload, files []Attachment, sealed bool) (incident.ID, error)
	Checkin(status, station string) error
	// Alert signs and stores an alert, and returns its ID (the SMS sheet
	// is offered for it at once in a mission that takes SMS).
	Alert(note, station string) (incident.ID, error)
	// MyReports lists this device's reports, newest first, with their
	// delivery status.
	MyReports() ([]MyReport, error)
	// MyActivity lists this device's check-ins and alerts, newest first.
	MyActivity() ([]Activity, error)
	// Amend stores a signed amendment of one of this device's reports
	// (the new values in full), sealed when the report is, as `vigil
	// report amend` does. files are the attachments the report keeps and
	// adds. It returns the amendment's ID once it is durably on disk.
	Amend(id incident.ID, r incident.ReportPayload, files []Attachment) (incident.ID, error)
	// Retract withdraws one of this device's reports for reason (required),
	// sealed when the report is, as `vigil report retract` does.
	Retract(id incident.ID, reason string) (incident.ID, error)
	// Files lists a report version's files as this device holds them;
	// FileContent opens one (a sealed one with its key, when this device
	// may), checked against the hash the report carries.
	Files(r *incident.ReportPayload) []File
	FileContent(r *incident.ReportPayload, f File) ([]byte, error)
	// Captures lists the capture records of a report's files this device
	// reads (act.Desk.Captures): where each file came from.
	Captures(report incident.ID) []Capture
	// RecordFile opens file n of the record named id (a tally's photos:
	// act.Desk.ReadFile).
	RecordFile(id incident.ID, n int) ([]byte, error)
}

// Reviewer is what a coordinator reads and decides.
type Reviewer interface {
	// Reports lists every report this device holds, oldest first.
	Reports() ([]incident.ReportView, error)
	Report(id incident.ID) (incident.ReportView, error)
	// Versions returns the fields of a report and of each amendment of
	// it, by record ID, for the records this device can read in the clear
	// (sealed ones are left out).
	Versions(id incident.ID) (map[incident.ID]incident.ReportPayload, error)
	// Review stores a verdict (act.Desk.Review); with Publish it also
	// approves the text of the version Seen names for public exports.
	Review(v act.Verdict) error
	// Activity lists every check-in and alert, newest first.
	Activity() ([]Activity, error)
	Members() ([]MemberItem, error)
	// Dashboard is the coordinator's dashboard (act.Desk.Dashboard), from
	// the counts the store keeps as reports arrive.
	Dashboard(q act.DashboardQuery) (act.Dashboard, error)
}

// Noticeboard is what coordinators tell the field and how observers'
// alerts stand (act.Desk's notices and alerts): every member reads it, a
// coordinator also writes it.
type Noticeboard interface {
	// Notices lists the notices this device holds as act.Desk.Notices
	// does: by default those in force from a coordinator in good
	// standing, most severe and newest first.
	Notices(q act.NoticeQuery) ([]incident.NoticeView, error)
	// Alerts lists alerts with their state (act.Desk.Alerts): every alert
	// for a coordinator, this device's own for an observer; unanswered
	// first, newest first.
	Alerts() ([]act.AlertItem, error)
	// Notice signs and stores a coordinator's notice (act.Desk.Notice):
	// with Ack, the acknowledgement of an alert; with Ack and Resolve, its
	// resolution. It returns the notice's ID.
	Notice(r act.NoticeRequest) (incident.ID, error)
}

// Tallier copies result sheets and reads the results (act.Desk's
// tallies): observers and coordinators copy a sheet, coordinators read
// every station's result and the quick count.
type Tallier interface {
	// SubmitTally checks and stores a tally (act.Desk.SubmitTally): a
	// failing check flags it and never refuses it.
	SubmitTally(r act.TallyRequest) (act.TallySubmitted, error)
	// TallyContests lists the contests named by the tallies this device
	// reads, the most copied first, each with the choices of its latest
	// tally: what the tally form offers before anything is typed.
	TallyContests() ([]TallyContest, error)
	// Results is one contest's results (act.Desk.Results; coordinators).
	Results(q act.ResultsQuery) (act.Results, error)
}

// Checklister answers the mission's checklists and reads the answers
// (act.Desk's forms and checklists): an observer (or a coordinator)
// answers a form one question a screen, its draft kept in the encrypted
// store after every answer; coordinators read every station's responses,
// co-observers' answers side by side.
type Checklister interface {
	// Forms lists the form versions this device holds, newest first, the
	// current version of each name marked (act.Desk.Forms).
	Forms() ([]incident.FormView, error)
	// MyPhase is the latest phase of polling day this device's own
	// records place it in (act.HeardIn over its check-ins, checklists and
	// tallies); "" when none does yet.
	MyPhase() (string, error)
	// SubmitChecklist checks and stores a response (act.Desk.SubmitChecklist):
	// an answer that does not fit its form refuses it, naming the
	// question; the draft of that form version and station goes.
	SubmitChecklist(r act.ChecklistRequest) (act.ChecklistSubmitted, error)
	// Checklists lists the responses this device reads by station and
	// form (act.Desk.Checklists).
	Checklists(q act.ChecklistQuery) (act.ChecklistList, error)
	// SaveChecklistDraft keeps a checklist in progress in the store,
	// replacing the draft of its form version and station; ChecklistDraft
	// reads one back and ChecklistDrafts lists them, the latest first.
	SaveChecklistDraft(d act.ChecklistDraft) error
	ChecklistDraft(form incident.ID, station string) (act.ChecklistDraft, bool, error)
	ChecklistDrafts() ([]act.ChecklistDraft, error)
}

// Texter carries this device's records by SMS when mobile data is cut
// (act.Desk's SMS, docs/sms.md): the text of a record and where to send
// it, a note that it was handed to the messaging app, and the
// coordinator's receipt pasted back.
type Texter interface {
	// SMSText is record id as one text message (act.Desk.SMSText); it
	// refuses a record SMS cannot carry, saying why.
	SMSText(id incident.ID) (act.SMSText, error)
	// MarkSMSSent notes that record id was handed to the messaging app:
	// it shows "sent by SMS" until a receipt comes back.
	MarkSMSSent(id incident.ID) error
	// ReceiveSMS takes one pasted text (act.Desk.ReceiveSMS): on an
	// observer's phone, a coordinator's receipt.
	ReceiveSMS(text string) (act.SMSReceived, error)
	// Delivery is how far record id has gone (store.DeliveryOf).
	Delivery(id incident.ID) (store.Delivery, error)
}

// Admin manages membership.
type Admin interface {
	Invite(req InviteRequest) (string, error)
	// Revoke revokes a member, as `vigil mission revoke` does: their
	// invite goes with them and a new secret epoch starts.
	Revoke(member incident.Author, reason string) error
	// Confirm keeps member's redemption of an invite that more than one
	// device redeemed, as `vigil mission confirm` does: the invite is
	// closed to every other device.
	Confirm(member incident.Author) error
}

// Configuration reads the mission's configuration, as `vigil mission
// config show` does.
type Configuration interface {
	// MissionSettings lists every setting the mission's config records
	// assign, by name: the value in force, who set it and when, and the
	// values other coordinators set concurrently. It is an error without
	// a mission.
	MissionSettings() ([]MissionSetting, error)
}

// Settings are device settings kept in the encrypted store (drafts, the
// chosen station, the silence threshold).
type Settings interface {
	Setting(name string) ([]byte, error)
	SetSetting(name string, value []byte) error
}

// Basemaps is this device's basemap for the maps (act.Desk's): an
// MBTiles file the person loads, kept encrypted in the home.
type Basemaps interface {
	// Basemap is the open basemap, nil when there is none. The backend
	// keeps it open; the caller does not close it.
	Basemap() (*act.Basemap, error)
	// LoadBasemap checks the MBTiles file read from r and keeps it as
	// the basemap; a file that is no basemap is an error wrapping
	// act.BadFile, and the basemap held stays.
	LoadBasemap(name string, r io.Reader) (act.BasemapInfo, error)
	RemoveBasemap() error
}

// Exporter writes reports in the formats the CLI has.
type Exporter interface {
	// Export writes every report as req asks to w, calling progress
	// after each report. It returns the number written.
	Export(req ExportRequest, w io.Writer, progress func(done, total int)) (int, error)
}

// Bundler carries records on USB sticks and SD cards, as `vigil bundle`
// does.
type Bundler interface {
	// ExportBundle writes a bundle of this device's records (and the
	// attachment files that fit) to w and says what it holds. w is not
	// closed.
	ExportBundle(req BundleRequest, w io.Writer) (Bundled, error)
	// ImportBundle checks a bundle file's frame and mission, then stores its
	// valid records, calling progress after each. A damaged file, a file of
	// another mission or one this device cannot decrypt is an error and
	// stores nothing; an encrypted file that needs a passphrase is an
	// error wrapping ErrBundlePassphrase (give passphrase and try again).
	ImportBundle(name string, data, passphrase []byte, progress func(done, total int)) (ImportSummary, error)
}

// Keys changes what unlocks the store.
type Keys interface {
	// ChangePassphrase re-wraps the store key under next. A wrong current
	// passphrase is an error wrapping vault.ErrWrongPassphrase and changes
	// nothing.
	ChangePassphrase(current, next []byte) error
	// SetDuress sets (or replaces) the duress passphrase: typed at unlock,
	// it silently destroys this store and opens an empty one. A wrong
	// current passphrase changes nothing, as above.
	SetDuress(current, duress []byte) error
	// CheckPassphrase reports whether p opens the store, changing
	// nothing (the lock screen, the store open): a wrong passphrase, the
	// duress one included, is an error wrapping vault.ErrWrongPassphrase.
	CheckPassphrase(p []byte) error
}

// Network is the running mesh node.
type Network interface {
	Peers() []Peer
	// SyncNow reconciles with every connected peer at once.
	SyncNow()
	// Addresses are this node's full multiaddrs (ending in /p2p/<id>), for
	// other devices to dial.
	Addresses() []string
	// Connect dials a peer by full multiaddr.
	Connect(addr string) error
	// LastSync is when a reconciliation last finished (zero: never).
	LastSync() time.Time
}

// Lifecycle receives the app's foreground and background transitions
// (phones). mobile.Lifecycle implements it over the mesh daemon.
type Lifecycle interface {
	Background()
	Foreground()
}

// Identity describes this device.
type Identity struct {
	Author      incident.Author
	Name        string
	Role        string // "" when not a member of a mission
	Label       string
	HasMission  bool
	MissionID   incident.ID
	MissionName string
	Practice    bool // a practice mission (signed in its genesis, or this store marked so)
	// SealByDefault: the mission seals new reports to its coordinators.
	SealByDefault bool
	// SMSNumber is the mission's SMS number ("" when it takes no SMS):
	// where "Send by SMS" texts a record.
	SMSNumber string
}

// JoinResult describes a redeemed invite.
type JoinResult struct {
	Mission string
	Role    string
	Label   string
}

// Station is a polling-station registry entry.
type Station struct {
	Code, Name, Area string
	Lat, Lon         *int64   // microdegrees
	Admin            []string // the administrative path, widest first
	// Registered is the voters on the station's register (0: not given):
	// what a tally's registered voters are checked against.
	Registered uint64
}

// TallyContest is a contest the tallies this device reads name.
type TallyContest struct {
	Name string
	// Choices are those of the contest's latest tally, in the sheet's
	// order.
	Choices []string
	Tallies int
}

// Attachment is a file kept in the store, waiting for a report.
type Attachment = act.Attachment

// File is one of a report's files (act.File).
type File = act.File

// Capture is one file's capture record (act.Capture).
type Capture = act.Capture

// MyReport is one of this device's reports and its delivery status.
type MyReport struct {
	View     incident.ReportView
	Delivery store.Delivery
	// SMSSent is when the report was handed to the messaging app (nil:
	// never): it shows "sent by SMS" until a receipt comes back.
	SMSSent *time.Time
}

// Activity is a check-in or an alert.
type Activity struct {
	ID      incident.ID
	Kind    incident.Kind // checkin or alert
	Author  incident.Author
	Label   string // the author's member label
	Status  string // check-ins: arrived, opened, all_quiet, closed
	Note    string // alerts
	Station string
	Lat     *int64
	Lon     *int64
	Created int64 // claimed time, Unix ms
	Sealed  bool
}

// MemberItem is one enrollment with its flags.
type MemberItem struct {
	incident.Member
	Founder        bool
	DuplicateToken bool
	Revoked        bool
	// InviteRevoked: the member's invite was cancelled, or revoked with
	// another device that redeemed it (incident.FlagInviteRevoked).
	InviteRevoked bool
	// InviteClosed: a coordinator confirmed another device's redemption
	// of the member's invite (incident.FlagInviteClosed).
	InviteClosed bool
	// InviteCancelled: the member's invite key was revoked (the invite
	// was cancelled); nothing a coordinator confirms restores it.
	InviteCancelled bool
	Self            bool
	// Standing is incident.MissionState.Standing for the member: nil when
	// the mesh admits them.
	Standing error
}

// MissionSetting is one setting of the mission (incident.Setting) with
// the label of the member who set it.
type MissionSetting struct {
	Key   string
	Value string // as signed
	// Known: this build knows the setting; one it does not know was
	// written by a newer Vigil and has no effect here.
	Known bool
	// Problem: a known setting whose value this build cannot read (no
	// effect here).
	Problem string
	By      incident.Author
	ByLabel string // the setter's member label ("" when none)
	At      int64  // claimed time, Unix ms
	// Conflicts are the values set concurrently by configs the winning
	// one did not see (their own Conflicts are empty).
	Conflicts []MissionSetting
}

// InviteRequest describes an invite to create.
type InviteRequest struct {
	Role    string
	Label   string
	Expires time.Duration    // zero: never
	For     *incident.Author // coordinators only
}

// Peer is a connected, admitted peer.
type Peer struct {
	ID        string
	Author    incident.Author
	Label     string
	Role      string
	Addrs     []string
	LastSync  time.Time
	ClockSkew time.Duration // how far the peer's clock runs ahead (negative: behind); 0 unknown
}
