package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
	"github.com/vigil-mesh/vigil/sync/daemon"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// Home is a Vigil home folder on disk. It implements Unlocker; the
// Backend it returns works on *store.Store and, once the device belongs to
// a mission, starts the mesh through sync/daemon (the composition root the
// CLI's `vigil node` uses too).
type Home struct {
	Dir   string
	Store store.Options
	// Daemon configures the mesh node (phones set Phone and
	// RotateIdentity).
	Daemon daemon.Options
	// NoNetwork keeps the mesh off (tests, screenshots).
	NoNetwork bool
	// OnNetwork, when set, is called after the mesh starts; the function it
	// returns is called before the mesh stops. cmd/vigil serves the control
	// socket here, so other vigil commands run inside the app.
	OnNetwork func(d *daemon.Daemon) (stop func(), err error)
	// Logger receives backend events. Default: discard.
	Logger *slog.Logger
}

// Initialised reports whether the home holds a store.
func (h *Home) Initialised() bool { return store.Initialised(h.Dir) && !store.Wiped(h.Dir) }

// Create makes a new store (daemon.Init: the composition root owns it).
func (h *Home) Create(passphrase []byte) (Backend, error) {
	r, err := daemon.Init(h.Dir, passphrase, h.Store, h.Daemon)
	if err != nil {
		return nil, err
	}
	return h.start(r)
}

// Unlock opens the existing store (daemon.Open).
func (h *Home) Unlock(passphrase []byte) (Backend, error) {
	r, err := daemon.Open(h.Dir, passphrase, h.Store, h.Daemon)
	if err != nil {
		return nil, err
	}
	return h.start(r)
}

func (h *Home) start(r *daemon.Root) (Backend, error) {
	b := newBackend(r.Store(), h, r)
	if err := b.startNetwork(); err != nil {
		b.log.Warn("mesh did not start", "err", err)
	}
	return b, nil
}

// StoreBackend implements Backend over an open store. Started through a
// Home, it holds the composition root (sync/daemon.Root), which owns the
// store and starts the mesh beside it.
type StoreBackend struct {
	st   *store.Store
	desk *act.Desk
	home *Home
	log  *slog.Logger
	root *daemon.Root // nil: a store the caller owns, no networking

	mu      sync.Mutex
	d       *daemon.Daemon
	net     *daemonNetwork
	stopCtl func()
	closed  bool

	// The open basemap (backend_basemap.go); bmOpened once it was looked
	// for, bm nil when there is none.
	bmMu     sync.Mutex
	bm       *act.Basemap
	bmOpened bool
}

// NewStoreBackend wraps st, which the backend then owns and closes;
// networking stays off (tests, and tools that read a store).
func NewStoreBackend(st *store.Store, h *Home) *StoreBackend { return newBackend(st, h, nil) }

func newBackend(st *store.Store, h *Home, r *daemon.Root) *StoreBackend {
	if h == nil {
		h = &Home{Dir: st.Home(), NoNetwork: true}
	}
	log := h.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	b := &StoreBackend{st: st, desk: act.New(st), home: h, log: log, root: r}
	b.desk.Bootstrap = func() []string {
		if n := b.Network(); n != nil {
			return n.Addresses()
		}
		return nil
	}
	b.desk.PeerClocks = func() []time.Duration {
		if n, ok := b.Network().(*daemonNetwork); ok && n != nil {
			return n.d.PeerClocks()
		}
		return nil
	}
	return b
}

// Store returns the open store (cmd/vigil and mobile glue).
func (b *StoreBackend) Store() *store.Store { return b.st }

// startNetwork starts the mesh when the device belongs to a mission and
// networking is wanted. It is safe to call more than once.
func (b *StoreBackend) startNetwork() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.d != nil || b.closed || b.home.NoNetwork || b.root == nil {
		return nil
	}
	if err := b.root.Start(); errors.Is(err, store.ErrNoMission) {
		return nil // no mission yet: Join or CreateMission starts it
	} else if err != nil {
		return err
	}
	d := b.root.Daemon()
	if b.home.OnNetwork != nil {
		stop, err := b.home.OnNetwork(d)
		if err != nil {
			return err
		}
		b.stopCtl = stop
	}
	b.d = d
	b.net = newDaemonNetwork(d, b)
	return nil
}

// stopNetwork stops what the backend started beside the mesh (the control
// socket, the result reader); the root stops the mesh itself, at Close.
func (b *StoreBackend) stopNetwork() {
	b.mu.Lock()
	n, stop := b.net, b.stopCtl
	b.d, b.net, b.stopCtl = nil, nil, nil
	b.mu.Unlock()
	if stop != nil {
		stop()
	}
	if n != nil {
		n.close()
	}
}

// Network returns the mesh, or nil.
func (b *StoreBackend) Network() Network {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.net == nil {
		return nil
	}
	return b.net
}

// Close stops the mesh and closes the store.
func (b *StoreBackend) Close() error {
	b.stopNetwork()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	b.forgetBasemap()
	if b.root != nil {
		return b.root.Close() // the mesh, then the store
	}
	return b.st.Close()
}

// Wipe shreds the store key first (the part that matters, and the
// fastest), then stops everything and removes the data folder.
func (b *StoreBackend) Wipe() error {
	home := b.st.Home()
	if _, err := store.Wipe(home); err != nil {
		return err
	}
	_ = b.Close()
	_, err := store.ClearWiped(home)
	return err
}

// Identity describes this device.
func (b *StoreBackend) Identity() (Identity, error) {
	id := Identity{Author: b.st.Author(), Name: b.st.Name(), Practice: b.st.Practice()}
	ms, err := b.st.Mission()
	if errors.Is(err, store.ErrNoMission) {
		return id, nil
	}
	if err != nil {
		return id, err
	}
	id.HasMission, id.MissionID, id.MissionName = true, ms.ID, ms.Mission.Name
	id.SealByDefault = ms.SealByDefault()
	id.SMSNumber = ms.SMSNumber()
	if m, ok := ms.Member(id.Author); ok {
		id.Role, id.Label = m.Role, m.Label
	}
	return id, nil
}

// NewerRecords counts the records of kinds this build does not know. It
// costs one seek per kind held, and reads the records of unknown kinds
// only.
func (b *StoreBackend) NewerRecords() (map[incident.Kind]int, error) { return b.st.CountNewer() }

func (b *StoreBackend) Space() (store.Space, error) { return b.desk.Space() }

func (b *StoreBackend) ForgetHeld() (int, int, error) { return b.desk.ForgetHeld() }

// CreateMission founds a mission and starts the mesh.
func (b *StoreBackend) CreateMission(name, label string) error {
	if _, err := b.desk.CreateMission(store.MissionSpec{Name: name, Label: label}); err != nil {
		return err
	}
	return b.startNetwork()
}

// Join redeems an invite and starts the mesh.
func (b *StoreBackend) Join(code string) (JoinResult, error) {
	j, err := b.desk.Join(code)
	if err != nil {
		return JoinResult{}, err
	}
	if err := b.startNetwork(); err != nil {
		b.log.Warn("mesh did not start", "err", err)
	}
	return JoinResult{Mission: j.MissionName, Role: j.Role, Label: j.Label}, nil
}

func (b *StoreBackend) mission() (*incident.MissionState, error) { return b.st.Mission() }

// Categories is the mission's taxonomy (the base one without a mission).
func (b *StoreBackend) Categories() []incident.Category {
	ms, err := b.mission()
	if err != nil {
		return incident.BaseTaxonomy
	}
	return ms.Categories()
}

// Stations lists the registry in force, by code (act.Desk.Stations):
// the newest import held whole, else the stations signed on their own.
func (b *StoreBackend) Stations() ([]Station, error) {
	list, err := b.desk.Stations(act.StationQuery{})
	if err != nil {
		return nil, err
	}
	out := make([]Station, 0, len(list.Stations))
	for _, v := range list.Stations {
		s := v.Station
		out = append(out, Station{Code: s.Code, Name: s.Name, Area: s.Area, Lat: s.Lat, Lon: s.Lon, Admin: s.Admin,
			Registered: s.Registered})
	}
	return out, nil
}

// SubmitTally checks and stores a tally (act.Desk.SubmitTally).
func (b *StoreBackend) SubmitTally(r act.TallyRequest) (act.TallySubmitted, error) {
	return b.desk.SubmitTally(r)
}

// Results is one contest's results (act.Desk.Results).
func (b *StoreBackend) Results(q act.ResultsQuery) (act.Results, error) { return b.desk.Results(q) }

// TallyContests reads the tallies this device can read (the clear ones,
// and the sealed ones it opens: its own until receipted, every one for a
// coordinator) from members in good standing, and lists their contests,
// the most copied first, each with its latest tally's choices.
func (b *StoreBackend) TallyContests() ([]TallyContest, error) {
	ms, err := b.mission()
	if err != nil {
		return nil, err
	}
	recs, opened, err := b.st.Readable(incident.KindTally)
	if err != nil {
		return nil, err
	}
	type contest struct {
		TallyContest
		latest *incident.Signed
	}
	by := map[string]*contest{}
	for _, r := range recs {
		if !ms.Confirmed(r.AuthorKey(), r.ID) {
			continue
		}
		var p any
		if len(r.Sealed) > 0 {
			p = opened[r.ID]
		} else if p, err = r.DecodePayload(); err != nil {
			continue
		}
		tp, ok := p.(*incident.TallyPayload)
		if !ok {
			continue
		}
		c := by[tp.Contest]
		if c == nil {
			c = &contest{TallyContest: TallyContest{Name: tp.Contest}}
			by[tp.Contest] = c
		}
		c.Tallies++
		if c.latest == nil || incident.Before(c.latest, r) {
			c.latest, c.Choices = r, nil
			for _, v := range tp.Votes {
				c.Choices = append(c.Choices, v.Choice)
			}
		}
	}
	out := make([]TallyContest, 0, len(by))
	for _, c := range by {
		out = append(out, c.TallyContest)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Tallies != out[j].Tallies {
			return out[i].Tallies > out[j].Tallies
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// AttachFile stores a file's content (act.Desk.AttachFile).
func (b *StoreBackend) AttachFile(name string, data []byte) (Attachment, error) {
	return b.desk.AttachFile(name, data)
}

// Submit signs and stores a report (act.Desk.Submit), sealed when asked.
func (b *StoreBackend) Submit(r incident.ReportPayload, files []Attachment, sealed bool) (incident.ID, error) {
	// The form's choice, which starts at the mission's policy.
	c, err := b.desk.Submit(act.Submission{Report: r, Files: files, Sealed: &sealed})
	return c.ID, err
}

// ErrNotMine is the refusal to amend or retract another member's report.
var ErrNotMine = act.NotMine

// ErrRetracted is the refusal to amend a retracted report.
var ErrRetracted = act.Retracted

// ErrSealedGone is the refusal to amend a sealed report this device can
// no longer read (a coordinator confirmed it, and the kept copy was
// dropped).
var ErrSealedGone = act.SealedGone

// Amend stores an amendment (act.Desk.Amend).
func (b *StoreBackend) Amend(id incident.ID, r incident.ReportPayload, files []Attachment) (incident.ID, error) {
	c, err := b.desk.Amend(act.Amendment{Target: id.String(), Report: r, Files: files})
	return c.ID, err
}

// Retract withdraws a report (act.Desk.Retract). A report already
// retracted gets no second record, and that is a success: the answer is
// the retraction in force (zero when this device does not hold it).
func (b *StoreBackend) Retract(id incident.ID, reason string) (incident.ID, error) {
	r, err := b.desk.Retract(id.String(), reason)
	if r.Already {
		return r.Existing, err
	}
	return r.ID, err
}

// Files lists a report version's files (act.Desk.FilesOf).
func (b *StoreBackend) Files(r *incident.ReportPayload) []File { return b.desk.FilesOf(r) }

// FileContent opens one of them (act.Desk.Content).
func (b *StoreBackend) FileContent(r *incident.ReportPayload, f File) ([]byte, error) {
	return b.desk.Content(r, f)
}

// Captures lists a report's capture records (act.Desk.Captures); none
// when it cannot be read.
func (b *StoreBackend) Captures(report incident.ID) []Capture {
	cs, _ := b.desk.Captures(report.String())
	return cs
}

// RecordFile opens file n of record id (act.Desk.ReadFile).
func (b *StoreBackend) RecordFile(id incident.ID, n int) ([]byte, error) {
	fd, err := b.desk.ReadFile(id.String(), n)
	return fd.Data, err
}

// ChangePassphrase re-wraps the store key (`vigil passphrase change`).
func (b *StoreBackend) ChangePassphrase(current, next []byte) error {
	return b.st.ChangePassphrase(current, next)
}

// CheckPassphrase tries p on the key file without writing (vault.Unlock
// treats the duress passphrase as wrong).
func (b *StoreBackend) CheckPassphrase(p []byte) error {
	key, err := vault.Unlock(b.st.Home(), p)
	clear(key)
	return err
}

// SetDuress sets the duress passphrase (`vigil passphrase change --duress`).
func (b *StoreBackend) SetDuress(current, duress []byte) error {
	return b.st.SetDuress(current, duress)
}

// Checkin stores a check-in (act.Desk.Checkin).
func (b *StoreBackend) Checkin(status, station string) error {
	_, err := b.desk.Checkin(incident.CheckinPayload{Status: status, Station: station})
	return err
}

// Alert stores an alert (act.Desk.Alert) and returns its ID.
func (b *StoreBackend) Alert(note, station string) (incident.ID, error) {
	c, err := b.desk.Alert(incident.AlertPayload{Note: note, Station: station})
	return c.ID, err
}

// MyReports lists this device's reports, newest first.
func (b *StoreBackend) MyReports() ([]MyReport, error) {
	views, err := b.st.List(store.Filter{Author: b.st.Author()})
	if err != nil {
		return nil, err
	}
	out := make([]MyReport, 0, len(views))
	for i := len(views) - 1; i >= 0; i-- {
		d, err := b.st.DeliveryOf(views[i].ID)
		if err != nil {
			return nil, err
		}
		out = append(out, MyReport{View: views[i], Delivery: d, SMSSent: b.smsSent(views[i].ID, d)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].View.Created > out[j].View.Created })
	return out, nil
}

// MyActivity lists this device's check-ins and alerts, newest first.
func (b *StoreBackend) MyActivity() ([]Activity, error) {
	all, err := b.activity()
	if err != nil {
		return nil, err
	}
	self := b.st.Author()
	var out []Activity
	for _, a := range all {
		if a.Author == self {
			out = append(out, a)
		}
	}
	return out, nil
}

// Reports lists every report, oldest first.
func (b *StoreBackend) Reports() ([]incident.ReportView, error) { return b.st.List(store.Filter{}) }

// Report returns one report's view.
func (b *StoreBackend) Report(id incident.ID) (incident.ReportView, error) { return b.st.Report(id) }

// Versions returns the versions of a report this device can read
// (store.Versions).
func (b *StoreBackend) Versions(id incident.ID) (map[incident.ID]incident.ReportPayload, error) {
	return b.st.Versions(id)
}

// Review stores a coordinator's verdict (act.Desk.Review).
func (b *StoreBackend) Review(v act.Verdict) error {
	_, err := b.desk.Review(v)
	return err
}

// Dashboard is the coordinator's dashboard (act.Desk.Dashboard).
func (b *StoreBackend) Dashboard(q act.DashboardQuery) (act.Dashboard, error) {
	return b.desk.Dashboard(q)
}

// Activity lists every check-in and alert, newest first.
func (b *StoreBackend) Activity() ([]Activity, error) { return b.activity() }

func (b *StoreBackend) activity() ([]Activity, error) {
	ms, err := b.mission()
	if err != nil {
		return nil, err
	}
	var out []Activity
	for _, k := range []incident.Kind{incident.KindCheckin, incident.KindAlert} {
		recs, err := b.st.ByKind(k)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			a := Activity{ID: r.ID, Kind: r.Kind, Author: r.AuthorKey(), Created: r.Created, Sealed: len(r.Sealed) > 0}
			if m, ok := ms.Member(a.Author); ok {
				a.Label = m.Label
			}
			p, ok := b.st.Open(r) // a check-in or alert sealed for SMS is read as the device can
			if !ok {
				out = append(out, a)
				continue
			}
			switch pl := p.(type) {
			case *incident.CheckinPayload:
				a.Status, a.Station = pl.Status, pl.Station
			case *incident.AlertPayload:
				a.Note, a.Station, a.Lat, a.Lon = pl.Note, pl.Station, pl.Lat, pl.Lon
			}
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Created != out[j].Created {
			return out[i].Created > out[j].Created
		}
		return out[i].ID.String() > out[j].ID.String()
	})
	return out, nil
}

// Notices lists notices (act.Desk.Notices).
func (b *StoreBackend) Notices(q act.NoticeQuery) ([]incident.NoticeView, error) {
	return b.desk.Notices(q)
}

// Alerts lists alerts with their state (act.Desk.Alerts).
func (b *StoreBackend) Alerts() ([]act.AlertItem, error) { return b.desk.Alerts() }

// Notice sends a coordinator's notice, or answers an alert
// (act.Desk.Notice).
func (b *StoreBackend) Notice(r act.NoticeRequest) (incident.ID, error) {
	c, err := b.desk.Notice(r)
	return c.ID, err
}

// Members lists every enrollment with its flags.
func (b *StoreBackend) Members() ([]MemberItem, error) {
	ms, err := b.mission()
	if err != nil {
		return nil, err
	}
	self := b.st.Author()
	var out []MemberItem
	for _, m := range ms.Members() {
		flag := ms.InviteFlag(m.Author)
		out = append(out, MemberItem{Member: m, Founder: m.Record.IsZero(), DuplicateToken: ms.DuplicateToken(m),
			Revoked: len(ms.Revocations(m.Author)) > 0, Self: m.Author == self, Standing: ms.Standing(m.Author),
			InviteCancelled: ms.InviteCancelled(m),
			InviteRevoked:   flag == incident.FlagInviteRevoked, InviteClosed: flag == incident.FlagInviteClosed})
	}
	return out, nil
}

// Invite creates an invite code (act.Desk.Invite), with this node's
// addresses as bootstrap.
func (b *StoreBackend) Invite(req InviteRequest) (string, error) {
	r := act.InviteRequest{Role: req.Role, Label: req.Label, Expires: req.Expires}
	if req.For != nil {
		r.For = req.For.String()
	}
	inv, err := b.desk.Invite(r)
	return inv.Code, err
}

// Revoke revokes a member (act.Desk.Revoke): their invite goes with them
// and a new secret epoch starts.
func (b *StoreBackend) Revoke(member incident.Author, reason string) error {
	r, err := b.desk.Revoke(member.String(), reason, false)
	if err == nil && r.EpochFailed != "" {
		err = fmt.Errorf("revoked, but the new secret epoch failed: %s", r.EpochFailed)
	}
	return err
}

// Confirm confirms member's redemption of an invite that several devices
// redeemed (act.Desk.Confirm): every other device on it is refused.
func (b *StoreBackend) Confirm(member incident.Author) error {
	_, err := b.desk.Confirm(member.String())
	return err
}

// MissionSettings reads the mission's settings with the setters' labels.
func (b *StoreBackend) MissionSettings() ([]MissionSetting, error) {
	ms, err := b.mission()
	if err != nil {
		return nil, err
	}
	conv := func(s incident.Setting) MissionSetting {
		m, _ := ms.Member(s.By)
		return MissionSetting{Key: s.Key, Value: s.Value, Known: s.Known, Problem: s.Problem, By: s.By, ByLabel: m.Label, At: s.At}
	}
	var out []MissionSetting
	for _, s := range ms.Settings() {
		m := conv(s)
		for _, o := range s.Conflicts {
			m.Conflicts = append(m.Conflicts, conv(o))
		}
		out = append(out, m)
	}
	return out, nil
}

// Setting reads a device setting.
func (b *StoreBackend) Setting(name string) ([]byte, error) { return b.st.Meta(name) }

// SetSetting writes a device setting durably.
func (b *StoreBackend) SetSetting(name string, value []byte) error { return b.st.SetMeta(name, value) }

// ExportFormats are the formats the export dialog offers: every format
// of the CLI's `vigil export`.
var ExportFormats = export.Formats

// ExportRequest says what to export.
type ExportRequest struct {
	Format string // one of ExportFormats
	HXL    bool   // csv: add the Humanitarian Exchange Language row
	// Public anonymises the export for publication (not for evidence,
	// which is verifiable by design).
	Public bool
	// DiscloseKeys (evidence): carry the keys of the sealed reports this
	// device opens, and their opened files (act.ExportRequest).
	DiscloseKeys bool
}

// ExportExtension is the file name extension for a format.
func ExportExtension(format string) string {
	if format == "evidence" {
		return ".zip"
	}
	return "." + format
}

// Export writes every report in the requested format through the same
// function as `vigil export`.
func (b *StoreBackend) Export(req ExportRequest, w io.Writer, progress func(done, total int)) (int, error) {
	res, err := b.desk.Export(act.ExportRequest{Format: req.Format, HXL: req.HXL, Public: req.Public, DiscloseKeys: req.DiscloseKeys, Progress: progress}, w)
	return res.Reports, err
}

// daemonNetwork adapts a running daemon to Network. It reads the engine's
// results (the holder of a daemon must, see cmd/vigil's node loop) to know
// when the last sync happened.
type daemonNetwork struct {
	d  *daemon.Daemon
	b  *StoreBackend
	mu sync.Mutex
	// last is when a reconciliation last finished.
	last      time.Time
	onResult  func(mesh.SyncResult)
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newDaemonNetwork(d *daemon.Daemon, b *StoreBackend) *daemonNetwork {
	n := &daemonNetwork{d: d, b: b, stop: make(chan struct{}), done: make(chan struct{})}
	if v, err := b.st.Meta("last_sync"); err == nil && len(v) > 0 {
		if t, err := time.Parse(time.RFC3339, string(v)); err == nil {
			n.last = t
		}
	}
	// Subscribed before anything else can read the engine: the sync
	// screen and a CLI command inside this app each have their own.
	results, cancel := d.Engine.Subscribe(64)
	go n.loop(results, cancel)
	return n
}

func (n *daemonNetwork) loop(results <-chan mesh.SyncResult, cancel func()) {
	defer close(n.done)
	defer cancel()
	for {
		select {
		case <-n.stop:
			return
		case r := <-results:
			now := time.Now()
			n.mu.Lock()
			n.last = now
			fn := n.onResult
			n.mu.Unlock()
			_ = n.b.st.SetMeta("last_sync", []byte(now.UTC().Format(time.RFC3339)))
			if fn != nil {
				fn(r)
			}
		}
	}
}

func (n *daemonNetwork) close() {
	n.closeOnce.Do(func() { close(n.stop) })
	<-n.done
}

// OnResult sets a function called after each finished reconciliation,
// from the network's goroutine.
func (n *daemonNetwork) OnResult(fn func(mesh.SyncResult)) {
	n.mu.Lock()
	n.onResult = fn
	n.mu.Unlock()
}

func (n *daemonNetwork) LastSync() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.last
}

func (n *daemonNetwork) SyncNow() { n.d.Engine.SyncAll() }

func (n *daemonNetwork) Addresses() []string {
	var out []string
	for _, a := range n.d.Engine.Node().Addrs() {
		out = append(out, a.String())
	}
	return out
}

func (n *daemonNetwork) Connect(addr string) error {
	a, err := ma.NewMultiaddr(addr)
	if err != nil {
		return fmt.Errorf("%q is not a peer address: %w", addr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = n.d.Engine.Node().ConnectAddr(ctx, a)
	return err
}

// Peers lists admitted peers. The clock skew is the offset the peer's
// hello carried (node.ClockOffset). A peer running a version whose hello
// carries no clock falls back to the newest record of its author this
// device holds: a claimed time ahead of this device's clock shows a clock
// running fast (a slow one cannot be told from an old record).
func (n *daemonNetwork) Peers() []Peer {
	ms, _ := n.b.mission()
	now := n.b.st.Now()
	node := n.d.Engine.Node()
	var out []Peer
	for _, p := range n.d.Engine.Peers() {
		q := Peer{ID: p.ID.String(), Author: p.Author, Role: p.Role, Addrs: p.Addrs, LastSync: p.LastSync}
		if ms != nil {
			if m, ok := ms.Member(p.Author); ok {
				q.Label = m.Label
			}
		}
		if off, ok := node.ClockOffset(p.ID); ok {
			if off > ClockWarning || off < -ClockWarning {
				q.ClockSkew = off
			}
		} else if !p.Author.IsZero() {
			if recs, err := n.b.st.ByAuthor(p.Author); err == nil && len(recs) > 0 {
				newest := recs[0].Created
				for _, r := range recs {
					if r.Created > newest {
						newest = r.Created
					}
				}
				if ahead := time.UnixMilli(newest).Sub(now); ahead > ClockWarning {
					q.ClockSkew = ahead
				}
			}
		}
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Desk is the use cases this backend carries out (incident/act): for the
// actions no screen offers yet, and for tests that compare adapters.
func (b *StoreBackend) Desk() *act.Desk { return b.desk }
