package incident

import (
	"bytes"
	"crypto/sha256"
	"sort"
	"strings"

	"filippo.io/age"
)

// The station registry and assignments. A coordinator imports the
// mission's polling stations as one snapshot: a station record for each
// station, naming the snapshot, then a registry record that closes it
// (its count and the hash of its station records' IDs). Records travel
// one by one, so a device may hold part of a snapshot: the registry in
// force is the newest snapshot it holds whole, and stations signed on
// their own (before registries, or the practice mission's) count while
// no snapshot is complete.
//
// An assignment posts a member to a station; the member's latest, by
// claimed time then ID, is in force. Who is posted where is what a seized
// phone must not reveal: where the mission seals, an assignment is sealed
// to the coordinators and the member it posts (AssignmentRecipients), and
// its public envelope names neither.

// Registry limits.
const (
	MaxAdminLevels = 6
	MaxTags        = 32
	MaxTagLen      = 64
	MaxRegistered  = 100_000_000 // voters on one station's register
)

// TagPVT marks a station of the quick-count sample; TagStratum prefixes
// its stratum ("stratum=NAME").
const (
	TagPVT     = "pvt"
	TagStratum = "stratum="
)

// NormalizeCode is the form a station code is stored and compared in:
// trimmed, upper case, and each run of spaces, underscores or dashes one
// dash, so that "ps 0042", "PS_0042" and "ps-0042" are one station.
func NormalizeCode(code string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToUpper(strings.TrimSpace(code)) {
		switch {
		case r == ' ' || r == '\t' || r == '_' || r == '-':
			dash = true
			continue
		case dash && b.Len() > 0:
			b.WriteByte('-')
		}
		dash = false
		b.WriteRune(r)
	}
	return b.String()
}

// HasTag reports whether a station carries tag.
func (p *StationPayload) HasTag(tag string) bool {
	for _, t := range p.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// Stratum is the station's stratum tag's name ("" for none).
func (p *StationPayload) Stratum() string {
	for _, t := range p.Tags {
		if name, ok := strings.CutPrefix(t, TagStratum); ok {
			return name
		}
	}
	return ""
}

// AdminPath is the station's administrative path, widest first: its
// admin levels, or, for a station signed before registries (the practice
// mission's), its free-text area as the one level. Coverage, results and
// exports group stations by it.
func (p *StationPayload) AdminPath() []string {
	if len(p.Admin) > 0 {
		return p.Admin
	}
	if a := strings.TrimSpace(p.Area); a != "" {
		return []string{a}
	}
	return nil
}

// validateStationMore checks the fields registries added to stations.
//
// A station's code is not required in its normal form: stations signed
// before registries were checked without that rule, and an existing
// field's rules never change (docs/record-format.md). The registry
// compares codes in their normal form, and imports write them so.
func validateStationMore(v *StationPayload) error {
	if len(v.Admin) > MaxAdminLevels {
		return fieldErr("payload.admin", "%d levels, limit %d", len(v.Admin), MaxAdminLevels)
	}
	for _, level := range v.Admin {
		if err := checkText("payload.admin", level, MaxAreaLen, true); err != nil {
			return err
		}
		if strings.Contains(level, "/") {
			return fieldErr("payload.admin", "%q: a level's name holds no /", level)
		}
	}
	if v.Registered > MaxRegistered {
		return fieldErr("payload.registered", "%d voters on one station, limit %d", v.Registered, MaxRegistered)
	}
	if len(v.Tags) > MaxTags {
		return fieldErr("payload.tags", "%d tags, limit %d", len(v.Tags), MaxTags)
	}
	for _, t := range v.Tags {
		if err := checkCode("payload.tags", t, true); err != nil {
			return err
		}
		if len(t) > MaxTagLen {
			return fieldErr("payload.tags", "%q is longer than %d bytes", t, MaxTagLen)
		}
	}
	if v.Snapshot != nil && len(v.Snapshot) != 32 {
		return fieldErr("payload.snapshot", "must be 32 bytes, got %d", len(v.Snapshot))
	}
	return nil
}

func validateRegistry(v *RegistryPayload) error {
	if len(v.Snapshot) != 32 {
		return fieldErr("payload.snapshot", "must be 32 bytes, got %d", len(v.Snapshot))
	}
	if v.Count == 0 || v.Count > MaxRegistryStations {
		return fieldErr("payload.count", "%d stations, want 1 to %d", v.Count, MaxRegistryStations)
	}
	if len(v.Root) != 32 {
		return fieldErr("payload.root", "must be 32 bytes, got %d", len(v.Root))
	}
	return nil
}

// MaxRegistryStations bounds one registry snapshot.
const MaxRegistryStations = 200_000

func validateAssignment(v *AssignmentPayload) error {
	if len(v.Member) != len(Author{}) {
		return fieldErr("payload.member", "must be a %d-byte author key, got %d bytes", len(Author{}), len(v.Member))
	}
	if v.Station != "" {
		if err := checkCode("payload.station", v.Station, true); err != nil {
			return err
		}
		if NormalizeCode(v.Station) != v.Station {
			return fieldErr("payload.station", "%q is not in its normal form %q", v.Station, NormalizeCode(v.Station))
		}
	}
	return checkText("payload.note", v.Note, MaxNoteLen, false)
}

// RegistryRoot is the hash a registry record carries of its stations'
// record IDs (any order given: they are sorted).
func RegistryRoot(ids []ID) []byte {
	sorted := append([]ID(nil), ids...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i][:], sorted[j][:]) < 0 })
	h := sha256.New()
	for _, id := range sorted {
		h.Write(id[:])
	}
	return h.Sum(nil)
}

// SealRecipientsWith is SealRecipients and member's own key: what a
// record about one member (an assignment, the answer to its alert) is
// sealed to. A revoked member is left out: whoever holds its keys must
// not read what is sealed after the revocation.
func (ms *MissionState) SealRecipientsWith(member Author) ([]age.Recipient, error) {
	out, err := ms.SealRecipients()
	if err != nil {
		return nil, err
	}
	m, ok := ms.Member(member)
	if !ok || len(ms.Revocations(member)) > 0 || m.Role == RoleCoordinator {
		return out, nil
	}
	r, err := age.ParseX25519Recipient(m.Recipient)
	if err != nil {
		return nil, fieldErr("member", "%s has no key to seal to: %v", member, err)
	}
	return append(out, r), nil
}

// CoordinatorCounts reports whether s, by its author's role and standing
// in ms, counts as a coordinator's act: a coordinator whose revocation,
// if any, accepts s (the rule of notices, registries and assignments).
func CoordinatorCounts(s *Signed, ms *MissionState) bool {
	role, ok := ms.Role(s.AuthorKey())
	return ok && role == RoleCoordinator && ms.Confirmed(s.AuthorKey(), s.ID)
}

// StationView is a station of the registry in force.
type StationView struct {
	ID      ID             `json:"id"` // the station record
	Station StationPayload `json:"station"`
	By      Author         `json:"by"`
	Created int64          `json:"created"` // Unix ms
}

// SnapshotProgress is a registry import newer than the one in force
// that this device does not hold whole yet.
type SnapshotProgress struct {
	Registry ID     `json:"registry"`
	Held     uint64 `json:"held"`  // its stations held
	Count    uint64 `json:"count"` // its stations in all
	// Broken: held whole, its stations do not hash to the registry
	// record's root (a coordinator's error, or forgery): never in force.
	Broken bool `json:"broken,omitempty"`
}

// Registry is the mission's station registry as one device holds it.
type Registry struct {
	// Stations in force, by code in normal form.
	Stations map[string]StationView
	// Snapshot is the registry record in force; nil when the stations
	// are those signed on their own (no import held whole).
	Snapshot *ID
	// Pending lists newer imports not held whole yet, newest first.
	Pending []SnapshotProgress
}

// Lookup returns the station with code (any form).
func (r *Registry) Lookup(code string) (StationView, bool) {
	v, ok := r.Stations[NormalizeCode(code)]
	return v, ok
}

// Known reports whether code names a station of the registry; with no
// registry at all (no station held) every code is known.
func (r *Registry) Known(code string) bool {
	if len(r.Stations) == 0 || code == "" {
		return true
	}
	_, ok := r.Lookup(code)
	return ok
}

// Codes lists the registry's codes, sorted.
func (r *Registry) Codes() []string {
	out := make([]string, 0, len(r.Stations))
	for c := range r.Stations {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// FoldRegistry computes the registry in force from the station and
// registry records a device holds (any order; records of other kinds
// and those that do not count are skipped). A snapshot is whole when
// its registry record's author signed exactly Count station records
// naming it, whose IDs hash to Root; the newest whole one is in force.
// It is a pure function of the records and the mission state.
func FoldRegistry(stations, registries []*Signed, ms *MissionState) Registry {
	type member struct {
		rec *Signed
		p   *StationPayload
	}
	bySnap := map[string][]member{}
	loose := map[string]member{}
	for _, s := range stations {
		if s.Kind != KindStation || !CoordinatorCounts(s, ms) {
			continue
		}
		p, err := s.DecodePayload()
		sp, ok := p.(*StationPayload)
		if err != nil || !ok {
			continue
		}
		m := member{s, sp}
		if len(sp.Snapshot) == 32 {
			bySnap[string(sp.Snapshot)] = append(bySnap[string(sp.Snapshot)], m)
			continue
		}
		code := NormalizeCode(sp.Code)
		if old, ok := loose[code]; !ok || Before(old.rec, s) {
			loose[code] = m
		}
	}
	var regs []*Signed
	for _, s := range registries {
		if s.Kind == KindRegistry && CoordinatorCounts(s, ms) {
			regs = append(regs, s)
		}
	}
	sort.Slice(regs, func(i, j int) bool { return Before(regs[j], regs[i]) }) // newest first
	out := Registry{Stations: map[string]StationView{}}
	view := func(m member) StationView {
		st := *m.p
		st.Code = NormalizeCode(st.Code)
		return StationView{ID: m.rec.ID, Station: st, By: m.rec.AuthorKey(), Created: m.rec.Created}
	}
	for _, r := range regs {
		p, err := r.DecodePayload()
		rp, ok := p.(*RegistryPayload)
		if err != nil || !ok {
			continue
		}
		var mine []member
		var ids []ID
		for _, m := range bySnap[string(rp.Snapshot)] {
			if m.rec.AuthorKey() == r.AuthorKey() {
				mine = append(mine, m)
				ids = append(ids, m.rec.ID)
			}
		}
		if uint64(len(mine)) != rp.Count || !bytes.Equal(RegistryRoot(ids), rp.Root) {
			out.Pending = append(out.Pending, SnapshotProgress{Registry: r.ID, Held: uint64(len(mine)), Count: rp.Count,
				Broken: uint64(len(mine)) >= rp.Count})
			continue
		}
		id := r.ID
		out.Snapshot = &id
		// Two rows of one import never share a code (the import refuses
		// it); were they to, the later record wins, as among loose ones.
		chosen := map[string]member{}
		for _, m := range mine {
			code := NormalizeCode(m.p.Code)
			if old, ok := chosen[code]; !ok || Before(old.rec, m.rec) {
				chosen[code] = m
			}
		}
		for code, m := range chosen {
			out.Stations[code] = view(m)
		}
		return out
	}
	for code, m := range loose {
		out.Stations[code] = view(m)
	}
	return out
}

// AssignmentView is a member's assignment in force.
type AssignmentView struct {
	ID      ID     `json:"id"`
	Member  Author `json:"member"`
	Label   string `json:"label"`   // the member's label
	Station string `json:"station"` // normal form; "" posted nowhere
	Note    string `json:"note,omitempty"`
	By      Author `json:"by"`
	Created int64  `json:"created"` // Unix ms
}

// FoldAssignments returns each member's assignment in force, by member:
// the latest, by claimed time then ID, of the assignments that count
// (CoordinatorCounts) and that this device reads (open, for sealed ones;
// nil open reads none). An assignment to a station posts the member
// there even if the registry does not list it: it is flagged by whoever
// shows it, not dropped.
func FoldAssignments(recs []*Signed, ms *MissionState, open Opener) map[Author]AssignmentView {
	type pick struct {
		rec *Signed
		p   *AssignmentPayload
	}
	latest := map[Author]pick{}
	for _, s := range recs {
		if s.Kind != KindAssignment || !CoordinatorCounts(s, ms) {
			continue
		}
		p, err := s.DecodePayload()
		if err != nil {
			continue
		}
		if _, sealed := p.(*SealedEnvelope); sealed {
			if open == nil {
				continue
			}
			var ok bool
			if p, ok = open(s); !ok {
				continue
			}
		}
		ap, ok := p.(*AssignmentPayload)
		if !ok {
			continue
		}
		var m Author
		copy(m[:], ap.Member)
		if _, ok := ms.Role(m); !ok {
			continue
		}
		if old, ok := latest[m]; !ok || Before(old.rec, s) {
			latest[m] = pick{s, ap}
		}
	}
	out := make(map[Author]AssignmentView, len(latest))
	for m, pk := range latest {
		v := AssignmentView{ID: pk.rec.ID, Member: m, Station: NormalizeCode(pk.p.Station), Note: pk.p.Note,
			By: pk.rec.AuthorKey(), Created: pk.rec.Created}
		if mm, ok := ms.Member(m); ok {
			v.Label = mm.Label
		}
		out[m] = v
	}
	return out
}
