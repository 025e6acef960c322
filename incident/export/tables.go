package export

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// The observation tables: the station registry, the tallies and the
// checklist responses a device holds, turned into rows here and nowhere
// else. Every format (CSV, JSON Lines, XLSX, the evidence package's
// tables) writes these rows; docs/exports.md describes their columns.
//
// A table reads the store once (Observations): the registry in force, the
// form versions that count, and the tally and response records with what
// this device opens of the sealed ones. Rows are made one at a time as a
// writer asks for them, so an export holds the records and small indexes,
// not a second copy of the mission.

// The record sets an export can hold (`vigil export --records`).
const (
	RecordsReports    = "reports"
	RecordsTallies    = "tallies"
	RecordsChecklists = "checklists"
	RecordsStations   = "stations"
)

// RecordSets lists them, the default first.
var RecordSets = []string{RecordsReports, RecordsTallies, RecordsChecklists, RecordsStations}

// Flags on observation rows (the flags column), beside the names of the
// tally checks that fail.
const (
	// FlagNotInRegistry: the mission holds a registry and the row's
	// station is not in it.
	FlagNotInRegistry = "not_in_registry"
	// FlagUnconfirmedRecord: the author's revocation does not accept the
	// record (incident.MissionState.Confirmed).
	FlagUnconfirmedRecord = "unconfirmed"
	// FlagDisagree: the tallies in force for the station and contest
	// (each author's latest) do not copy the same numbers.
	FlagDisagree = "disagree"
)

// MisfitFormNotHeld is a response's misfit when this device holds no
// form version it names (not yet arrived, or signed by no coordinator in
// standing).
const MisfitFormNotHeld = "form not held"

// maxMisfit bounds a misfit's text, in characters: it quotes the answer that does not
// fit, which may be a long text.
const maxMisfit = 300

// StationRow is one station of the registry in force.
type StationRow struct {
	ID         string   `json:"id,omitempty"` // the station record; not in public exports
	Code       string   `json:"code"`
	Name       string   `json:"name"`
	Admin      []string `json:"admin"` // widest first
	Registered uint64   `json:"registered"`
	Lat        *float64 `json:"lat"`
	Lon        *float64 `json:"lon"`
	// Tags and PVT are not in public exports: the quick-count sample
	// says where the mission surely has observers.
	Tags    []string `json:"tags,omitempty"`
	PVT     bool     `json:"pvt,omitempty"`
	Stratum string   `json:"stratum"`
}

// Vote is one choice's votes on a sheet.
type Vote struct {
	Choice string `json:"choice"`
	Votes  uint64 `json:"votes"`
}

// TallyRow is one tally record (a full export), or one station's result
// for a contest (a public export). The numbers are nil where they are
// not shown: a sealed tally this device cannot open, or, in a public
// export, a station whose tallies disagree.
type TallyRow struct {
	ID         string                `json:"id,omitempty"`
	Station    string                `json:"station"`
	Admin      []string              `json:"admin"`
	Contest    string                `json:"contest"`
	Registered *uint64               `json:"registered"`
	Issued     *uint64               `json:"issued"`
	Cast       *uint64               `json:"cast"`
	Invalid    *uint64               `json:"invalid"`
	Blank      *uint64               `json:"blank"`
	Votes      []Vote                `json:"votes"` // in the sheet's order
	Checks     []incident.TallyCheck `json:"checks"`
	// Flags: the names of the checks that fail, then FlagDisagree,
	// FlagNotInRegistry, FlagUnconfirmedRecord.
	Flags []string `json:"flags"`
	// StationStatus is the status of the tally's station and contest over
	// the tallies in force (StationOK, StationFlagged,
	// StationConsolidated), as `vigil results` gives it.
	StationStatus string `json:"station_status"`
	// Superseded: the author's later tally for the same station and
	// contest replaces this one (a correction); the row stays.
	Superseded bool   `json:"superseded,omitempty"`
	Sealed     bool   `json:"sealed,omitempty"`
	Opened     bool   `json:"opened,omitempty"` // sealed, and read here
	Author     string `json:"author,omitempty"`
	Observer   string `json:"observer,omitempty"`
	Created    string `json:"created,omitempty"`
	// Photos are the SHA-256 of the sheet's photos, hex, as an evidence
	// package names them under attachments/.
	Photos  []string `json:"photos,omitempty"`
	created int64
}

// ResponseRow is one checklist response.
type ResponseRow struct {
	ID       string   `json:"id,omitempty"`
	Form     string   `json:"form"` // the form's name ("" when not held)
	FormID   string   `json:"form_id,omitempty"`
	Version  string   `json:"version"`
	Station  string   `json:"station"`
	Admin    []string `json:"admin"`
	Author   string   `json:"author,omitempty"`
	Observer string   `json:"observer,omitempty"`
	Created  string   `json:"created"` // to the second; to the hour in public exports
	Sealed   bool     `json:"sealed,omitempty"`
	Opened   bool     `json:"opened,omitempty"`
	Flagged  []string `json:"flagged"` // question IDs whose answers are flagged
	// Misfit says why the answers do not fit the form version
	// (incident.CheckAnswers), or MisfitFormNotHeld; "" when they fit.
	Misfit  string      `json:"misfit,omitempty"`
	Flags   []string    `json:"flags"` // FlagNotInRegistry, FlagUnconfirmedRecord
	Answers []AnswerRow `json:"answers"`
	created int64
}

// AnswerRow is one answer of a response.
type AnswerRow struct {
	Question string `json:"question"` // its ID
	Code     string `json:"code"`     // "" when the form is not held or has no such question
	Label    string `json:"label"`
	Answer   string `json:"answer"`
	// AnswerLabel: the chosen choices' labels for a select (";" between
	// several), "" otherwise.
	AnswerLabel string `json:"answer_label"`
	Flagged     bool   `json:"flagged"`
	qtype       string
}

// obsRec is a tally or response record and its payload as this device
// reads it: nil for a sealed one it cannot open.
type obsRec struct {
	rec *incident.Signed
	p   any
}

// Observations are the records the observation tables are made from, as
// one device reads them.
type Observations struct {
	ms     *incident.MissionState
	reg    incident.Registry
	levels int // admin columns: the registry's deepest path, at least 1
	public bool

	stations  []incident.StationView // the registry in force, by code
	forms     map[incident.ID]*incident.FormView
	formOrder []*incident.FormView // newest first, as FoldForms
	tallies   []obsRec             // by contest, station, claimed time, ID; unread last
	responses []obsRec             // by form name, station, claimed time, ID; not held, then unread, last
	// superseded marks the tallies an author's later one replaces;
	// status is each station and contest's status.
	superseded map[incident.ID]bool
	status     map[[2]string]string
	disagree   map[[2]string]bool
	choices    []string // every choice the tallies name, in first-seen sheet order

	// Records the tables are made from, for an evidence package: the
	// registry in force (its registry record and stations, or the loose
	// stations), every form version, and every tally and response
	// selected.
	registryRecs, formRecs []*incident.Signed
	// Unopened counts the sealed tallies and responses this device
	// cannot open.
	Unopened int
}

// ObservationsRequest says what LoadObservations reads.
type ObservationsRequest struct {
	Tallies, Responses bool // read these records (the registry and forms are always read)
	// Filter: Station, Author, Since and Until select tallies and
	// responses; Category and Status are reports' own and are ignored.
	// A sealed record this device cannot open has no station to
	// compare, so a Station filter leaves it out.
	Filter store.Filter
	// Closed opens no sealed record (an evidence package that discloses
	// no key shows no sealed content); otherwise the sealed records read
	// as the store opens them.
	Closed bool
	// Public: rows for publication (PublicRows).
	Public bool
}

// LoadObservations reads the registry in force, the forms, and the
// tallies and responses req selects from st.
func LoadObservations(st *store.Store, req ObservationsRequest) (*Observations, error) {
	ms, err := st.Mission()
	if err != nil {
		return nil, err
	}
	stations, err := st.ByKind(incident.KindStation)
	if err != nil {
		return nil, err
	}
	regs, err := st.ByKind(incident.KindRegistry)
	if err != nil {
		return nil, err
	}
	forms, err := st.ByKind(incident.KindForm)
	if err != nil {
		return nil, err
	}
	o := newObservations(ms, stations, regs, forms)
	o.public = req.Public
	read := func(k incident.Kind) ([]obsRec, error) {
		var recs []*incident.Signed
		opened := map[incident.ID]any{}
		var err error
		if req.Closed {
			recs, err = st.ByKind(k)
		} else {
			recs, opened, err = st.Readable(k)
		}
		if err != nil {
			return nil, err
		}
		out := make([]obsRec, 0, len(recs))
		for _, r := range recs {
			if !keep(r, &req.Filter) {
				continue
			}
			or := obsRec{rec: r}
			if len(r.Sealed) > 0 {
				or.p = opened[r.ID]
			} else if p, err := r.DecodePayload(); err == nil {
				or.p = p
			}
			if req.Filter.Station != "" && incident.NormalizeCode(stationOf(or.p)) != incident.NormalizeCode(req.Filter.Station) {
				continue
			}
			out = append(out, or)
		}
		return out, nil
	}
	if req.Tallies {
		if o.tallies, err = read(incident.KindTally); err != nil {
			return nil, err
		}
	}
	if req.Responses {
		if o.responses, err = read(incident.KindResponse); err != nil {
			return nil, err
		}
	}
	o.index()
	return o, nil
}

// keep applies a filter's clear fields (author, claimed time) to r.
func keep(r *incident.Signed, f *store.Filter) bool {
	switch {
	case !f.Author.IsZero() && r.AuthorKey() != f.Author:
		return false
	case !f.Since.IsZero() && r.Created < f.Since.UnixMilli():
		return false
	case !f.Until.IsZero() && r.Created > f.Until.UnixMilli():
		return false
	}
	return true
}

func stationOf(p any) string {
	switch v := p.(type) {
	case *incident.TallyPayload:
		return v.Station
	case *incident.ResponsePayload:
		return v.Station
	}
	return ""
}

// ObservationsOf makes the tables of recs (any kinds; those the tables
// do not use are skipped) as a device that opened the sealed records in
// opened reads them: a pure function of the records, the mission state
// and what was opened.
func ObservationsOf(ms *incident.MissionState, recs []*incident.Signed, opened map[incident.ID]any, public bool) *Observations {
	byKind := map[incident.Kind][]*incident.Signed{}
	for _, r := range recs {
		byKind[r.Kind] = append(byKind[r.Kind], r)
	}
	o := newObservations(ms, byKind[incident.KindStation], byKind[incident.KindRegistry], byKind[incident.KindForm])
	o.public = public
	for _, k := range []incident.Kind{incident.KindTally, incident.KindResponse} {
		for _, r := range byKind[k] {
			or := obsRec{rec: r}
			if len(r.Sealed) > 0 {
				or.p = opened[r.ID]
			} else if p, err := r.DecodePayload(); err == nil {
				or.p = p
			}
			if k == incident.KindTally {
				o.tallies = append(o.tallies, or)
			} else {
				o.responses = append(o.responses, or)
			}
		}
	}
	o.index()
	return o
}

// newObservations folds the registry and the forms; the tallies and
// responses are added by the caller, then index.
func newObservations(ms *incident.MissionState, stations, regs, forms []*incident.Signed) *Observations {
	o := &Observations{ms: ms, reg: incident.FoldRegistry(stations, regs, ms), forms: map[incident.ID]*incident.FormView{}, levels: 1}
	for _, code := range o.reg.Codes() {
		sv := o.reg.Stations[code]
		o.stations = append(o.stations, sv)
		o.levels = max(o.levels, min(len(sv.Station.AdminPath()), incident.MaxAdminLevels))
	}
	// The records of the registry in force, enough to fold it again: the
	// registry record and every station record of its snapshot (whole,
	// or it would not be in force), or the stations signed on their own
	// that are in force.
	inForce := map[incident.ID]bool{}
	var snap []byte
	var snapBy incident.Author
	for _, r := range regs {
		if o.reg.Snapshot != nil && r.ID == *o.reg.Snapshot {
			inForce[r.ID] = true
			if p, err := r.DecodePayload(); err == nil {
				if rp, ok := p.(*incident.RegistryPayload); ok {
					snap, snapBy = rp.Snapshot, r.AuthorKey()
				}
			}
		}
	}
	for _, sv := range o.stations {
		inForce[sv.ID] = true
	}
	for _, r := range stations {
		if inForce[r.ID] || snap == nil || r.AuthorKey() != snapBy {
			continue
		}
		if p, err := r.DecodePayload(); err == nil {
			if sp, ok := p.(*incident.StationPayload); ok && bytes.Equal(sp.Snapshot, snap) {
				inForce[r.ID] = true
			}
		}
	}
	for _, r := range slices.Concat(stations, regs) {
		if inForce[r.ID] {
			o.registryRecs = append(o.registryRecs, r)
		}
	}
	fv := incident.FoldForms(forms, ms)
	for i := range fv {
		o.forms[fv[i].ID] = &fv[i]
		o.formOrder = append(o.formOrder, &fv[i])
	}
	for _, r := range forms {
		if o.forms[r.ID] != nil {
			o.formRecs = append(o.formRecs, r)
		}
	}
	return o
}

// index sorts the tallies and responses and computes what rows need from
// all of them: which tallies are superseded, each station's status, and
// the union of the choices.
func (o *Observations) index() {
	tallyKey := func(r obsRec) (string, string) {
		if tp, ok := r.p.(*incident.TallyPayload); ok {
			return tp.Contest, incident.NormalizeCode(tp.Station)
		}
		return "", ""
	}
	// What this device cannot read goes last: it has no contest or
	// station to sort by.
	unread := func(r obsRec) int {
		if r.p == nil {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(o.tallies, func(a, b obsRec) int {
		if c := unread(a) - unread(b); c != 0 {
			return c
		}
		ac, as := tallyKey(a)
		bc, bs := tallyKey(b)
		if c := strings.Compare(ac, bc); c != 0 {
			return c
		}
		if c := strings.Compare(as, bs); c != 0 {
			return c
		}
		return order(a.rec, b.rec)
	})
	o.superseded, o.status, o.disagree = map[incident.ID]bool{}, map[[2]string]string{}, map[[2]string]bool{}
	o.choices, o.Unopened = nil, 0
	type key struct {
		contest, station string
		author           incident.Author
	}
	latest := map[key]obsRec{}
	seen := map[string]bool{}
	for _, t := range o.tallies {
		tp, ok := t.p.(*incident.TallyPayload)
		if !ok {
			continue
		}
		for _, v := range tp.Votes {
			if !seen[v.Choice] {
				seen[v.Choice] = true
				o.choices = append(o.choices, v.Choice)
			}
		}
		if !o.ms.Confirmed(t.rec.AuthorKey(), t.rec.ID) {
			// As `vigil results` reads them: a tally the author's
			// standing does not accept replaces nothing.
			continue
		}
		c, s := tallyKey(t)
		k := key{c, s, t.rec.AuthorKey()}
		if old, ok := latest[k]; ok {
			// Sorted by claimed time then ID: t is the later.
			o.superseded[old.rec.ID] = true
		}
		latest[k] = t
	}
	// Each station's status over its tallies in force that count.
	inForce := map[[2]string][]*incident.TallyPayload{}
	for _, t := range o.tallies {
		tp, ok := t.p.(*incident.TallyPayload)
		if !ok || o.superseded[t.rec.ID] || !o.ms.Confirmed(t.rec.AuthorKey(), t.rec.ID) {
			continue
		}
		c, s := tallyKey(t)
		inForce[[2]string{c, s}] = append(inForce[[2]string{c, s}], tp)
	}
	for k, tps := range inForce {
		for _, tp := range tps {
			if !incident.SameNumbers(tps[0], tp) {
				o.disagree[k] = true
			}
		}
		o.status[k] = incident.StationStatus(tps, o.onRegister(k[1]))
	}

	// Responses by form name, those to forms not held after, those this
	// device cannot read last.
	formName := func(r obsRec) (int, string) {
		rp, ok := r.p.(*incident.ResponsePayload)
		if !ok {
			return 2, ""
		}
		if f := o.form(rp.Form); f != nil {
			return 0, f.Form.Name
		}
		return 1, ""
	}
	slices.SortStableFunc(o.responses, func(a, b obsRec) int {
		ra, na := formName(a)
		rb, nb := formName(b)
		if ra != rb {
			return ra - rb
		}
		if c := strings.Compare(na, nb); c != 0 {
			return c
		}
		if c := strings.Compare(incident.NormalizeCode(stationOf(a.p)), incident.NormalizeCode(stationOf(b.p))); c != 0 {
			return c
		}
		return order(a.rec, b.rec)
	})
	for _, r := range slices.Concat(o.tallies, o.responses) {
		if r.p == nil && len(r.rec.Sealed) > 0 {
			o.Unopened++
		}
	}
}

// order sorts records by claimed time, then ID (incident.Before).
func order(a, b *incident.Signed) int {
	switch {
	case incident.Before(a, b):
		return -1
	case incident.Before(b, a):
		return 1
	}
	return 0
}

func (o *Observations) form(id []byte) *incident.FormView {
	if len(id) != len(incident.ID{}) {
		return nil
	}
	return o.forms[incident.ID(id)]
}

// onRegister is the registry's registered voters for code (0: none).
func (o *Observations) onRegister(code string) uint64 {
	if sv, ok := o.reg.Lookup(code); ok {
		return sv.Station.Registered
	}
	return 0
}

// admin is code's admin path in the registry, and whether the registry
// lists it (true when there is no registry at all).
func (o *Observations) admin(code string) ([]string, bool) {
	if sv, ok := o.reg.Lookup(code); ok {
		return sv.Station.AdminPath(), true
	}
	return nil, len(o.reg.Stations) == 0
}

func (o *Observations) label(a incident.Author) string {
	if m, ok := o.ms.Member(a); ok {
		return m.Label
	}
	return ""
}

// StationRows are the registry's stations, by code.
func (o *Observations) StationRows() []StationRow {
	out := make([]StationRow, len(o.stations))
	for i := range o.stations {
		out[i] = o.stationRow(&o.stations[i])
	}
	return out
}

func (o *Observations) stationRow(sv *incident.StationView) StationRow {
	row := stationRow(sv.ID, &sv.Station)
	if o.public {
		row.ID, row.Tags, row.PVT = "", nil, false
	}
	return row
}

// stationRow is what a station record itself says.
func stationRow(id incident.ID, s *incident.StationPayload) StationRow {
	return StationRow{ID: id.String(), Code: incident.NormalizeCode(s.Code), Name: s.Name, Admin: orEmpty(s.AdminPath()),
		Registered: s.Registered, Lat: incident.Degrees(s.Lat), Lon: incident.Degrees(s.Lon), Tags: orEmpty(s.Tags),
		PVT: s.HasTag(incident.TagPVT), Stratum: s.Stratum()}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// voteChoices are the tally table's vote columns: every choice the rows
// name, in first-seen sheet order. A public export names only the
// choices on the rows it publishes: a choice is text an observer typed,
// and one on a superseded sheet is not a finding.
func (o *Observations) voteChoices() []string {
	if !o.public {
		return o.choices
	}
	var out []string
	seen := map[string]bool{}
	_ = o.EachTally(func(r *TallyRow, _ *incident.Signed) error {
		for _, v := range r.Votes {
			if !seen[v.Choice] {
				seen[v.Choice] = true
				out = append(out, v.Choice)
			}
		}
		return nil
	})
	return out
}

// Tallies is the number of tally rows: one per tally record, or, in a
// public export, one per station and contest.
func (o *Observations) Tallies() int {
	if o.public {
		return len(o.publicTallies())
	}
	return len(o.tallies)
}

// Responses is the number of response rows.
func (o *Observations) Responses() int {
	if o.public {
		n := 0
		for i := range o.responses {
			if _, ok := o.responseRow(i); ok {
				n++
			}
		}
		return n
	}
	return len(o.responses)
}

// EachTally calls f with each tally row, in order (by contest, station,
// claimed time, ID).
func (o *Observations) EachTally(f func(*TallyRow, *incident.Signed) error) error {
	if o.public {
		for _, g := range o.publicTallies() {
			row := o.publicTally(g)
			if err := f(&row, nil); err != nil {
				return err
			}
		}
		return nil
	}
	for _, t := range o.tallies {
		row := o.tallyRow(t)
		if err := f(&row, t.rec); err != nil {
			return err
		}
	}
	return nil
}

// tallyRow is one tally record's row.
func (o *Observations) tallyRow(t obsRec) TallyRow {
	row := tallyRow(t.rec, t.p)
	row.Observer = o.label(t.rec.AuthorKey())
	tp, ok := t.p.(*incident.TallyPayload)
	if !ok {
		return row
	}
	code := row.Station
	admin, known := o.admin(code)
	row.Admin = orEmpty(admin)
	row.Checks = incident.TallyChecks(tp, o.onRegister(code))
	for _, c := range incident.FlaggedChecks(row.Checks) {
		row.Flags = append(row.Flags, c.Name)
	}
	k := [2]string{tp.Contest, code}
	inForce := !o.superseded[t.rec.ID]
	if o.disagree[k] && inForce {
		row.Flags = append(row.Flags, FlagDisagree)
	}
	if !known {
		row.Flags = append(row.Flags, FlagNotInRegistry)
	}
	confirmed := o.ms.Confirmed(t.rec.AuthorKey(), t.rec.ID)
	if !confirmed {
		row.Flags = append(row.Flags, FlagUnconfirmedRecord)
	}
	row.StationStatus = o.status[k]
	row.Superseded = !inForce
	return row
}

// tallyRow is what a tally record itself says: p is its payload as read
// (nil: sealed, not opened).
func tallyRow(rec *incident.Signed, p any) TallyRow {
	row := TallyRow{ID: rec.ID.String(), Admin: []string{}, Votes: []Vote{}, Checks: []incident.TallyCheck{}, Flags: []string{},
		Sealed: len(rec.Sealed) > 0, Author: rec.AuthorKey().String(), Created: incident.FormatTime(rec.Created), created: rec.Created}
	tp, ok := p.(*incident.TallyPayload)
	if !ok {
		return row
	}
	row.Opened = row.Sealed
	row.Station, row.Contest = incident.NormalizeCode(tp.Station), tp.Contest
	row.Registered, row.Issued, row.Cast, row.Invalid, row.Blank = &tp.Registered, &tp.Issued, &tp.Cast, &tp.Invalid, &tp.Blank
	for _, v := range tp.Votes {
		row.Votes = append(row.Votes, Vote(v))
	}
	for _, h := range tp.Photos {
		row.Photos = append(row.Photos, hex.EncodeToString(h))
	}
	return row
}

// publicTallies groups the tallies a public export shows: per contest and
// station, those in force (each author's latest) that this device reads
// and whose author's standing accepts them, in order.
func (o *Observations) publicTallies() [][]obsRec {
	var out [][]obsRec
	var last [2]string
	for _, t := range o.tallies {
		tp, ok := t.p.(*incident.TallyPayload)
		if !ok || o.superseded[t.rec.ID] || !o.ms.Confirmed(t.rec.AuthorKey(), t.rec.ID) {
			continue
		}
		k := [2]string{tp.Contest, incident.NormalizeCode(tp.Station)}
		if len(out) == 0 || k != last {
			out = append(out, nil)
			last = k
		}
		out[len(out)-1] = append(out[len(out)-1], t)
	}
	return out
}

// publicTally is one station's result for a contest: the numbers its
// tallies in force agree on, or, when they disagree, none (which copy is
// right is for the coordinators to settle; publishing both would count
// the station twice). Nothing about who copied them, or when.
func (o *Observations) publicTally(g []obsRec) TallyRow {
	row := o.tallyRow(g[0])
	k := [2]string{row.Contest, row.Station}
	flags := row.Flags[:0:0]
	for _, f := range row.Flags {
		if f != FlagUnconfirmedRecord {
			flags = append(flags, f)
		}
	}
	row.Flags = flags
	if o.disagree[k] {
		row.Registered, row.Issued, row.Cast, row.Invalid, row.Blank = nil, nil, nil, nil, nil
		row.Votes, row.Checks = []Vote{}, []incident.TallyCheck{}
		row.Flags = slices.DeleteFunc(row.Flags, func(f string) bool { return f != FlagDisagree && f != FlagNotInRegistry })
	}
	row.ID, row.Author, row.Observer, row.Created, row.Photos = "", "", "", "", nil
	row.Superseded, row.Sealed, row.Opened = false, false, false
	return row
}

// EachResponse calls f with each response row, in order (by form name,
// station, claimed time, ID); in a public export, only the rows that go.
func (o *Observations) EachResponse(f func(*ResponseRow, *incident.Signed) error) error {
	for i := range o.responses {
		row, ok := o.responseRow(i)
		if !ok {
			continue
		}
		rec := o.responses[i].rec
		if o.public {
			rec = nil
		}
		if err := f(&row, rec); err != nil {
			return err
		}
	}
	return nil
}

// responseRow is response i's row, and whether it goes (a public export
// leaves out the sealed responses it cannot read, those that do not fit
// their form, and those whose author's standing does not accept them).
func (o *Observations) responseRow(i int) (ResponseRow, bool) {
	r := o.responses[i]
	row := responseRow(r.rec, r.p, o.form)
	row.Observer = o.label(r.rec.AuthorKey())
	if rp, ok := r.p.(*incident.ResponsePayload); ok {
		admin, known := o.admin(rp.Station)
		row.Admin = orEmpty(admin)
		if !known {
			row.Flags = append(row.Flags, FlagNotInRegistry)
		}
	}
	confirmed := o.ms.Confirmed(r.rec.AuthorKey(), r.rec.ID)
	if !confirmed {
		row.Flags = append(row.Flags, FlagUnconfirmedRecord)
	}
	if !o.public {
		return row, true
	}
	if (row.Sealed && !row.Opened) || row.Misfit != "" || !confirmed {
		return ResponseRow{}, false
	}
	// Free text names people, the observer among them, and no
	// coordinator approves a checklist's text for publication.
	row.Answers = slices.DeleteFunc(row.Answers, func(a AnswerRow) bool {
		return a.qtype != incident.QuestionSelectOne &&
			a.qtype != incident.QuestionSelectMultiple && a.qtype != incident.QuestionInteger
	})
	row.ID, row.FormID, row.Author, row.Observer, row.Sealed, row.Opened = "", "", "", "", false, false
	row.Created = hourString(r.rec.Created)
	return row, true
}

// PublicDropped counts the responses a public export leaves out: sealed
// ones this device cannot open, those that do not fit their form, and
// those whose author's standing does not accept them; and the tallies it
// leaves out the same way (superseded ones are replaced, not counted).
func (o *Observations) PublicDropped() (sealed, misfit, unconfirmed int) {
	for _, r := range slices.Concat(o.tallies, o.responses) {
		switch {
		case r.p == nil && len(r.rec.Sealed) > 0:
			sealed++
		case !o.ms.Confirmed(r.rec.AuthorKey(), r.rec.ID):
			unconfirmed++
		case r.rec.Kind == incident.KindResponse:
			if row := responseRow(r.rec, r.p, o.form); row.Misfit != "" {
				misfit++
			}
		}
	}
	return
}

// responseRow is what a response record says, read against the form
// versions form finds (nil: none).
func responseRow(rec *incident.Signed, p any, form func([]byte) *incident.FormView) ResponseRow {
	row := ResponseRow{ID: rec.ID.String(), Admin: []string{}, Flagged: []string{}, Flags: []string{}, Answers: []AnswerRow{},
		Sealed: len(rec.Sealed) > 0, Author: rec.AuthorKey().String(), Created: incident.FormatTime(rec.Created), created: rec.Created}
	rp, ok := p.(*incident.ResponsePayload)
	if !ok {
		return row
	}
	row.Opened = row.Sealed
	row.Station = incident.NormalizeCode(rp.Station)
	if len(rp.Form) == len(incident.ID{}) {
		row.FormID = incident.ID(rp.Form).String()
	}
	var f *incident.FormView
	if form != nil {
		f = form(rp.Form)
	}
	answers := rp.Answers
	if f == nil {
		row.Misfit = MisfitFormNotHeld
	} else {
		row.Form, row.Version = f.Form.Name, f.Form.Version
		answers = f.Form.SortAnswers(answers)
		if err := incident.CheckAnswers(&f.Form, rp.Answers); err != nil {
			row.Misfit = clip(err.Error(), maxMisfit)
		}
		row.Flagged = orEmpty(f.Form.FlaggedAnswers(rp.Answers))
	}
	for _, a := range answers {
		ar := AnswerRow{Question: a.Question, Answer: a.Value}
		if f != nil {
			if q, ok := f.Form.Question(a.Question); ok {
				ar.Code, ar.Label, ar.qtype, ar.Flagged = q.Code, q.Label, q.Type, q.Flagged(a.Value)
				ar.AnswerLabel = choiceLabels(q, a.Value)
			}
		}
		row.Answers = append(row.Answers, ar)
	}
	return row
}

// choiceLabels is the labels of the choices a select's answer picks,
// ";" between them ("" for other questions, or a name the question does
// not offer).
func choiceLabels(q *incident.Question, v string) string {
	switch q.Type {
	case incident.QuestionSelectOne:
		if c, ok := q.Choice(v); ok {
			return c.Label
		}
	case incident.QuestionSelectMultiple:
		var labels []string
		for _, name := range strings.Fields(v) {
			c, ok := q.Choice(name)
			if !ok {
				return ""
			}
			labels = append(labels, c.Label)
		}
		return strings.Join(labels, ";")
	}
	return ""
}

// Records are the signed records the tables are made from, for an
// evidence package: the registry in force, the forms, and the tallies
// and responses.
func (o *Observations) Records() []*incident.Signed {
	out := slices.Concat(o.registryRecs, o.formRecs)
	for _, r := range slices.Concat(o.tallies, o.responses) {
		out = append(out, r.rec)
	}
	return out
}

// photos are the SHA-256 hashes the tallies name (what an evidence
// package carries the attachments of).
func (o *Observations) photos() [][]byte {
	var out [][]byte
	for _, t := range o.tallies {
		if tp, ok := t.p.(*incident.TallyPayload); ok {
			out = append(out, tp.Photos...)
		}
	}
	return out
}

// restrict forgets the opened content of the sealed records open does
// not allow (an evidence package shows only what it discloses the key
// of).
func (o *Observations) restrict(open func(incident.ID) bool) {
	for _, list := range [][]obsRec{o.tallies, o.responses} {
		for i := range list {
			if len(list[i].rec.Sealed) > 0 && !open(list[i].rec.ID) {
				list[i].p = nil
			}
		}
	}
	o.index()
}

// Has reports whether the mission holds rows for the table named (one of
// RecordSets but reports).
func (o *Observations) Has(table string) bool {
	switch table {
	case RecordsStations:
		return len(o.stations) > 0
	case RecordsTallies:
		return len(o.tallies) > 0
	case RecordsChecklists:
		return len(o.responses) > 0
	}
	return false
}

// What a table line says that its signed record gives by itself, for
// verify to compare (the other columns come from other records). Empty
// lists are nil, as a line read back gives them.
type (
	tallyFields struct {
		ID         string   `json:"id"`
		Author     string   `json:"author"`
		Created    string   `json:"created"`
		Sealed     bool     `json:"sealed"`
		Station    string   `json:"station"`
		Contest    string   `json:"contest"`
		Registered *uint64  `json:"registered"`
		Issued     *uint64  `json:"issued"`
		Cast       *uint64  `json:"cast"`
		Invalid    *uint64  `json:"invalid"`
		Blank      *uint64  `json:"blank"`
		Votes      []Vote   `json:"votes"`
		Photos     []string `json:"photos"`
	}
	responseFields struct {
		ID      string   `json:"id"`
		Author  string   `json:"author"`
		Created string   `json:"created"`
		Sealed  bool     `json:"sealed"`
		FormID  string   `json:"form_id"`
		Station string   `json:"station"`
		Answers []string `json:"answers"` // "question=answer", sorted
	}
	stationFields struct {
		ID         string   `json:"id"`
		Code       string   `json:"code"`
		Name       string   `json:"name"`
		Admin      []string `json:"admin"`
		Registered uint64   `json:"registered"`
		Lat        *float64 `json:"lat"`
		Lon        *float64 `json:"lon"`
		Tags       []string `json:"tags"`
		PVT        bool     `json:"pvt"`
		Stratum    string   `json:"stratum"`
	}
	clearFields struct {
		ID      string `json:"id"`
		Author  string `json:"author"`
		Created string `json:"created"`
		Sealed  bool   `json:"sealed"`
	}
)

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func tallyOwn(r TallyRow) tallyFields {
	return tallyFields{ID: r.ID, Author: r.Author, Created: r.Created, Sealed: r.Sealed, Station: r.Station, Contest: r.Contest,
		Registered: r.Registered, Issued: r.Issued, Cast: r.Cast, Invalid: r.Invalid, Blank: r.Blank,
		Votes: nilIfEmpty(r.Votes), Photos: nilIfEmpty(r.Photos)}
}

func responseOwn(r ResponseRow) responseFields {
	out := responseFields{ID: r.ID, Author: r.Author, Created: r.Created, Sealed: r.Sealed, FormID: r.FormID, Station: r.Station}
	for _, a := range r.Answers {
		out.Answers = append(out.Answers, a.Question+"="+a.Answer)
	}
	slices.Sort(out.Answers)
	return out
}

func stationOwn(r StationRow) stationFields {
	return stationFields{ID: r.ID, Code: r.Code, Name: r.Name, Admin: nilIfEmpty(r.Admin), Registered: r.Registered,
		Lat: r.Lat, Lon: r.Lon, Tags: nilIfEmpty(r.Tags), PVT: r.PVT, Stratum: r.Stratum}
}

// clearOwn keeps what a record shows in the clear of own (one of the
// field structs above).
func clearOwn(own any) clearFields {
	switch f := own.(type) {
	case tallyFields:
		return clearFields{f.ID, f.Author, f.Created, f.Sealed}
	case responseFields:
		return clearFields{f.ID, f.Author, f.Created, f.Sealed}
	case stationFields:
		return clearFields{ID: f.ID}
	}
	return clearFields{}
}
