package act

import (
	"crypto/sha256"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/vigil-mesh/vigil/incident"
)

// Coverage answers the coordinators' question on polling day: is every
// station we posted someone to heard from, phase by phase, and which
// are silent? Expected stations are the stations of the registry in
// force that have at least one assignment in force (of a member in good
// standing); heard from means a record from that station in that phase
// (HeardIn): a check-in, a checklist response or a tally. Each expected
// station also owes, in each phase, a response to every required form of
// that phase (expected submissions = stations posted to × required forms
// per phase); coverage counts those received and lists the stations
// still missing some. It is one pass over the station, registry,
// assignment, form, check-in, response and tally records a coordinator's
// device holds.

// The phases of polling day, in order (forms name theirs: incident.Phases).
const (
	PhaseOpening  = incident.PhaseOpening
	PhaseVoting   = incident.PhaseVoting
	PhaseClosing  = incident.PhaseClosing
	PhaseCounting = incident.PhaseCounting
)

// Phases lists them in order.
var Phases = incident.Phases

// heardKinds are the kinds HeardIn reads: what Coverage scans.
var heardKinds = []incident.Kind{incident.KindCheckin, incident.KindTally, incident.KindResponse}

// HeardIn says in which phase a record of kind k (its payload p decoded,
// or opened) shows a station heard from, and which station (as written;
// "" when the record names none). phaseOf gives the phase of a form
// version this device holds ("" when it holds none, or the form names
// no phase). It is the one place that maps records to phases:
//
//   - check-ins: arrived and opened → opening, all_quiet → voting,
//     closed → closing;
//   - responses (checklists) → the phase their form names: a response
//     to a form with no phase, or to one this device does not hold yet,
//     is not placed in a phase (it is once the form arrives);
//   - tallies → counting: a result sheet copied at the station (p is
//     what the reader opens of a sealed one: coverage is the
//     coordinators' view, and they open every tally and response);
//   - reports and alerts: none. Without the polling hours the mission
//     has no way to place a report's time in a phase, and a report says
//     something happened near a station, not that someone observed it
//     through a phase: counting it would show a station covered during
//     voting because an observer passed by at dawn.
func HeardIn(k incident.Kind, p any, phaseOf func(form incident.ID) string) (phase, station string, ok bool) {
	switch k {
	case incident.KindTally:
		if t, ok := p.(*incident.TallyPayload); ok {
			return PhaseCounting, t.Station, true
		}
	case incident.KindResponse:
		if r, ok := p.(*incident.ResponsePayload); ok && phaseOf != nil {
			if phase := phaseOf(formID(r.Form)); phase != "" {
				return phase, r.Station, true
			}
		}
	case incident.KindCheckin:
		c, isCheckin := p.(*incident.CheckinPayload)
		if !isCheckin {
			return "", "", false
		}
		switch c.Status {
		case "arrived", "opened":
			return PhaseOpening, c.Station, true
		case "all_quiet":
			return PhaseVoting, c.Station, true
		case "closed":
			return PhaseClosing, c.Station, true
		}
	}
	return "", "", false
}

// heardPayload keeps of p what HeardIn reads, for the cache of records
// coverage has seen: a response's answers are not kept, only its form
// and station, so that its phase is asked of the forms held at each
// call (a form may arrive after the responses to it).
func heardPayload(p any) any {
	switch v := p.(type) {
	case *incident.CheckinPayload:
		return &incident.CheckinPayload{Status: v.Status, Station: v.Station}
	case *incident.TallyPayload:
		return &incident.TallyPayload{Station: v.Station}
	case *incident.ResponsePayload:
		return &incident.ResponsePayload{Form: slices.Clone(v.Form), Station: v.Station}
	}
	return nil
}

// CoverageQuery asks for coverage grouped by administrative level: 1 to
// 3 the level of the registry's admin path (region, district, ward),
// 0 the whole mission. Phase is the phase the silent list is for; ""
// means the current phase (Coverage.Current).
type CoverageQuery struct {
	Level int    `json:"level,omitempty"`
	Phase string `json:"phase,omitempty"`
}

// MaxCoverageLevel is the deepest admin level coverage groups by.
const MaxCoverageLevel = 3

// CoverageUnit is one administrative unit's coverage.
type CoverageUnit struct {
	// Unit is the admin path down to the query's level, joined with "/";
	// "" is the whole mission (level 0) or stations with no admin area.
	Unit     string `json:"unit"`
	Expected int    `json:"expected"`
	// Heard counts, by phase, the expected stations heard from in it.
	Heard map[string]int `json:"heard"`
	// Silent counts the expected stations not heard from in the phase
	// of the query.
	Silent int `json:"silent"`
	// Checklists counts, by phase, the required checklists expected of
	// the unit's stations and those received (ChecklistCount).
	Checklists map[string]ChecklistCount `json:"checklists"`
}

// ChecklistCount counts required checklists in one phase: Expected is
// one per assignment and required form of the phase (two observers
// posted to one station each answer it), Received those a posted member
// sent from the station (any version of the form; whether co-observers
// agree is the checklist list's business, not coverage's). A station
// misses a checklist while a member posted there has not sent it.
type ChecklistCount struct {
	Expected int `json:"expected"`
	Received int `json:"received"`
}

// SilentStation is an expected station not heard from in the query's
// phase: what a coordinator acts on.
type SilentStation struct {
	Code  string   `json:"code"`
	Name  string   `json:"name,omitempty"`
	Admin []string `json:"admin,omitempty"`
	Unit  string   `json:"unit"`
	// Members are the labels of the members posted there.
	Members []string `json:"members"`
	// Heard lists the phases it was heard from in (earlier ones, say);
	// Last is when it was last heard from (Unix ms; 0 never).
	Heard []string `json:"heard,omitempty"`
	Last  int64    `json:"last,omitempty"`
}

// MissingChecklists is an expected station where a posted member has
// not answered every required form of the phases up to the query's:
// what a coordinator chases.
type MissingChecklists struct {
	Code    string   `json:"code"`
	Name    string   `json:"name,omitempty"`
	Admin   []string `json:"admin,omitempty"`
	Unit    string   `json:"unit"`
	Members []string `json:"members"` // labels of the members posted there
	// Missing maps a phase to the names of its required forms that a
	// member posted there has sent no response to.
	Missing map[string][]string `json:"missing"`
}

// UnknownStation is a code that records or assignments name and the
// registry in force does not list (a typo, an old code, a station added
// after the import). It is counted apart, never as an expected station.
type UnknownStation struct {
	Code string `json:"code"`
	// Heard counts the records from it, by phase.
	Heard map[string]int `json:"heard,omitempty"`
	// Members are the labels of the members posted to it.
	Members []string `json:"members,omitempty"`
}

// Coverage is stations expected versus heard from.
type Coverage struct {
	Level int `json:"level"`
	// Phase is the phase Silent and each unit's Silent are for; Current
	// is the latest phase in which an expected station was heard from
	// (opening when none was).
	Phase   string `json:"phase"`
	Current string `json:"current"`
	// Registry counts the stations of the registry in force (0: no
	// station held; every assigned code is then expected, with no admin
	// area).
	Registry int `json:"registry"`
	// Assigned counts the members in good standing posted to a station.
	Assigned int `json:"assigned"`
	// NoAssignments: nobody is posted anywhere, so no station is
	// expected; the numbers are zero rather than invented.
	NoAssignments bool            `json:"no_assignments,omitempty"`
	Total         CoverageUnit    `json:"total"`
	Units         []CoverageUnit  `json:"units"`
	Silent        []SilentStation `json:"silent"`
	// HeardUnassigned counts the registry stations heard from that
	// nobody is posted to (by any phase).
	HeardUnassigned int              `json:"heard_unassigned,omitempty"`
	Unknown         []UnknownStation `json:"unknown,omitempty"`
	// Required names, by phase, the forms every expected station answers
	// in it: the current version of each form name that is marked
	// required and names a phase (one that names none is placed in no
	// phase, so it is expected nowhere).
	Required map[string][]string `json:"required,omitempty"`
	// MissingChecklists are the expected stations missing a required
	// checklist of a phase up to the query's, by unit then code (a later
	// phase's checklist is not missing yet).
	MissingChecklists []MissingChecklists `json:"missing_checklists"`
}

// stationCov is an expected station while Coverage counts.
type stationCov struct {
	code    string
	view    *incident.StationView // nil: no registry
	unit    string
	members []string
	posted  []incident.Author // the members posted there
	heard   [4]bool
	last    int64
	// answered are, by form name, the members that sent a response to
	// it from the station.
	answered map[string]map[incident.Author]bool
}

// Coverage computes the coverage of the stations coordinators posted
// members to. Coordinators only: only they read every assignment.
func (d *Desk) Coverage(q CoverageQuery) (Coverage, error) {
	if q.Level < 0 || q.Level > MaxCoverageLevel {
		return Coverage{}, invalid("level", "is %d, want 0 (the whole mission) to %d", q.Level, MaxCoverageLevel)
	}
	phaseAt := -1
	if q.Phase != "" {
		for i, p := range Phases {
			if p == q.Phase {
				phaseAt = i
			}
		}
		if phaseAt < 0 {
			return Coverage{}, invalid("phase", "%q is not a phase (want %s)", q.Phase, strings.Join(Phases, ", "))
		}
	}
	ms, err := d.mission()
	if err != nil {
		return Coverage{}, err
	}
	role, err := d.myRole(ms)
	if err != nil {
		return Coverage{}, err
	}
	if role != incident.RoleCoordinator {
		return Coverage{}, refuse(Forbidden, "coverage is the coordinators' view: only they read every assignment")
	}
	reg, err := d.heldRegistry(ms)
	if err != nil {
		return Coverage{}, err
	}
	posts, err := d.assignments(ms)
	if err != nil {
		return Coverage{}, err
	}
	out := Coverage{Level: q.Level, Registry: len(reg.Stations), Units: []CoverageUnit{}, Silent: []SilentStation{},
		MissingChecklists: []MissingChecklists{}}
	// The forms held place responses in phases, and say which are
	// required in each.
	forms, err := d.heldForms(ms)
	if err != nil {
		return Coverage{}, err
	}
	formOf := make(map[incident.ID]*incident.FormPayload, len(forms))
	for i := range forms {
		f := &forms[i]
		formOf[f.ID] = &f.Form
		if f.Current && f.Form.Required && f.Form.Phase != "" {
			if out.Required == nil {
				out.Required = map[string][]string{}
			}
			out.Required[f.Form.Phase] = append(out.Required[f.Form.Phase], f.Form.Name)
		}
	}
	for _, names := range out.Required {
		sort.Strings(names)
	}
	phaseOf := func(id incident.ID) string {
		if f := formOf[id]; f != nil {
			return f.Phase
		}
		return ""
	}

	expected := map[string]*stationCov{}
	unknown := map[string]*UnknownStation{}
	unknownOf := func(code string) *UnknownStation {
		u := unknown[code]
		if u == nil {
			u = &UnknownStation{Code: code}
			unknown[code] = u
		}
		return u
	}
	for _, a := range posts {
		if a.Station == "" || len(ms.Revocations(a.Member)) > 0 {
			continue
		}
		out.Assigned++
		label := a.Label
		if label == "" {
			label = a.Member.Short()
		}
		var view *incident.StationView
		if len(reg.Stations) > 0 {
			v, ok := reg.Stations[a.Station]
			if !ok {
				u := unknownOf(a.Station)
				u.Members = append(u.Members, label)
				continue
			}
			view = &v
		}
		sc := expected[a.Station]
		if sc == nil {
			sc = &stationCov{code: a.Station, view: view}
			if view != nil {
				sc.unit = unitOf(view.Station.AdminPath(), q.Level)
			}
			expected[a.Station] = sc
		}
		sc.members = append(sc.members, label)
		sc.posted = append(sc.posted, a.Member)
	}
	out.NoAssignments = out.Assigned == 0

	// One pass over what observers sent.
	heardUnassigned := map[string]bool{}
	for _, k := range heardKinds {
		recs, err := d.seen.heardFrom(d, k)
		if err != nil {
			return Coverage{}, err
		}
		for _, h := range recs {
			if h.p == nil || !ms.Confirmed(h.author, h.id) {
				continue // unreadable; or a revoked member's, not accepted: not evidence
			}
			phase, station, heard := HeardIn(k, h.p, phaseOf)
			if !heard {
				continue
			}
			code := incident.NormalizeCode(station)
			if code == "" {
				// A check-in that names no station is from the author's
				// post, if it has one.
				code = posts[h.author].Station
			}
			if code == "" {
				continue
			}
			if sc := expected[code]; sc != nil {
				sc.heard[phaseIndex(phase)] = true
				sc.last = max(sc.last, h.created)
				if r, ok := h.p.(*incident.ResponsePayload); ok {
					name := formOf[formID(r.Form)].Name // held: HeardIn placed it
					if sc.answered == nil {
						sc.answered = map[string]map[incident.Author]bool{}
					}
					if sc.answered[name] == nil {
						sc.answered[name] = map[incident.Author]bool{}
					}
					sc.answered[name][h.author] = true
				}
				continue
			}
			if len(reg.Stations) > 0 {
				if _, ok := reg.Stations[code]; !ok {
					u := unknownOf(code)
					if u.Heard == nil {
						u.Heard = map[string]int{}
					}
					u.Heard[phase]++
					continue
				}
			}
			heardUnassigned[code] = true
		}
	}
	out.HeardUnassigned = len(heardUnassigned)

	// The current phase: the latest any expected station was heard in.
	current := 0
	for _, sc := range expected {
		for i := len(Phases) - 1; i > current; i-- {
			if sc.heard[i] {
				current = i
				break
			}
		}
	}
	out.Current = Phases[current]
	if phaseAt < 0 {
		phaseAt = current
	}
	out.Phase = Phases[phaseAt]

	units := map[string]*CoverageUnit{}
	out.Total = newUnit("")
	for _, sc := range expected {
		u := units[sc.unit]
		if u == nil {
			nu := newUnit(sc.unit)
			u = &nu
			units[sc.unit] = u
		}
		for _, c := range []*CoverageUnit{u, &out.Total} {
			c.Expected++
			for i, h := range sc.heard {
				if h {
					c.Heard[Phases[i]]++
				}
			}
			if !sc.heard[phaseAt] {
				c.Silent++
			}
		}
		var missing map[string][]string
		for i, p := range Phases {
			for _, name := range out.Required[p] {
				got := 0
				for _, m := range sc.posted {
					if sc.answered[name][m] {
						got++
					}
				}
				for _, c := range []*CoverageUnit{u, &out.Total} {
					n := c.Checklists[p]
					n.Expected += len(sc.posted)
					n.Received += got
					c.Checklists[p] = n
				}
				if got < len(sc.posted) && i <= phaseAt {
					if missing == nil {
						missing = map[string][]string{}
					}
					missing[p] = append(missing[p], name)
				}
			}
		}
		if len(missing) > 0 {
			mc := MissingChecklists{Code: sc.code, Unit: sc.unit, Members: slices.Sorted(slices.Values(sc.members)), Missing: missing}
			if sc.view != nil {
				mc.Name, mc.Admin = sc.view.Station.Name, sc.view.Station.AdminPath()
			}
			out.MissingChecklists = append(out.MissingChecklists, mc)
		}
		if sc.heard[phaseAt] {
			continue
		}
		ss := SilentStation{Code: sc.code, Unit: sc.unit, Members: sc.members, Last: sc.last}
		sort.Strings(ss.Members)
		if sc.view != nil {
			ss.Name, ss.Admin = sc.view.Station.Name, sc.view.Station.AdminPath()
		}
		for i, h := range sc.heard {
			if h {
				ss.Heard = append(ss.Heard, Phases[i])
			}
		}
		out.Silent = append(out.Silent, ss)
	}
	for _, u := range units {
		out.Units = append(out.Units, *u)
	}
	sort.Slice(out.Units, func(i, j int) bool { return unitLess(out.Units[i].Unit, out.Units[j].Unit) })
	sort.Slice(out.Silent, func(i, j int) bool {
		a, b := out.Silent[i], out.Silent[j]
		if a.Unit != b.Unit {
			return unitLess(a.Unit, b.Unit)
		}
		return a.Code < b.Code
	})
	sort.Slice(out.MissingChecklists, func(i, j int) bool {
		a, b := out.MissingChecklists[i], out.MissingChecklists[j]
		if a.Unit != b.Unit {
			return unitLess(a.Unit, b.Unit)
		}
		return a.Code < b.Code
	})
	for _, u := range unknown {
		sort.Strings(u.Members)
		out.Unknown = append(out.Unknown, *u)
	}
	sort.Slice(out.Unknown, func(i, j int) bool { return out.Unknown[i].Code < out.Unknown[j].Code })
	return out, nil
}

func newUnit(name string) CoverageUnit {
	u := CoverageUnit{Unit: name, Heard: make(map[string]int, len(Phases)), Checklists: make(map[string]ChecklistCount, len(Phases))}
	for _, p := range Phases {
		u.Heard[p] = 0
		u.Checklists[p] = ChecklistCount{}
	}
	return u
}

// unitOf is the unit at level of an admin path: its first level names
// joined with "/" (fewer when the path is shorter); "" at level 0.
func unitOf(admin []string, level int) string {
	return strings.Join(admin[:min(level, len(admin))], "/")
}

// unitLess sorts units by name, the unit with no admin area last.
func unitLess(a, b string) bool {
	if (a == "") != (b == "") {
		return b == ""
	}
	return a < b
}

func phaseIndex(p string) int {
	for i, q := range Phases {
		if q == p {
			return i
		}
	}
	return 0
}

// seenRecords keeps what coverage and assignments read of records, for
// a desk that lives long (the app's): records never change, so a call
// lists each kind's IDs from the store's index (keys only) and reads just
// the records it has not seen, and the sealed assignments are opened
// again only when their set changed. What it keeps is what the store
// gives this device to read anyway, in memory; a desk made for one
// command (the command line's) fills it once.
type seenRecords struct {
	mu         sync.Mutex
	stations   map[incident.ID]*incident.Signed
	registries map[incident.ID]*incident.Signed
	heard      map[incident.Kind]map[incident.ID]heardRecord // by kind: seenOf keeps one kind per map
	// The assignments of the last read, and the hash of their IDs.
	asgKey    [32]byte
	asgRecs   []*incident.Signed
	asgOpened map[incident.ID]any
}

// heardRecord is what coverage needs of a record HeardIn reads: HeardIn
// runs at every call on p, what it reads of the payload (heardPayload),
// since a response's phase is its form's, and the form may arrive later.
type heardRecord struct {
	id      incident.ID
	author  incident.Author
	created int64
	p       any // nil: this device does not read the record
	// compact: sealed for SMS and not read: the inbox key that opens it
	// may come later (sms key share), so it is tried again.
	compact bool
}

// seenOf returns the records of kind k as conv makes them, reading only
// those missing from *cache, and drops from it those no longer held.
func seenOf[T any](d *Desk, k incident.Kind, cache *map[incident.ID]T, conv func(*incident.Signed) T) ([]T, error) {
	if len(*cache) == 0 {
		recs, err := d.st.ByKind(k)
		if err != nil {
			return nil, classify(err)
		}
		*cache = make(map[incident.ID]T, len(recs))
		out := make([]T, 0, len(recs))
		for _, r := range recs {
			v := conv(r)
			(*cache)[r.ID] = v
			out = append(out, v)
		}
		return out, nil
	}
	ids, err := d.st.IDsOfKind(k)
	if err != nil {
		return nil, classify(err)
	}
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		v, ok := (*cache)[id]
		if !ok {
			r, err := d.st.Get(id)
			if err != nil {
				continue // gone since the index was read
			}
			v = conv(r)
			(*cache)[id] = v
		}
		out = append(out, v)
	}
	if len(*cache) > len(out) {
		keep := make(map[incident.ID]T, len(ids))
		for _, id := range ids {
			if v, ok := (*cache)[id]; ok {
				keep[id] = v
			}
		}
		*cache = keep
	}
	return out, nil
}

func same(r *incident.Signed) *incident.Signed { return r }

// registry returns the station and registry records held.
func (c *seenRecords) registry(d *Desk) (stations, regs []*incident.Signed, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stations, err = seenOf(d, incident.KindStation, &c.stations, same); err != nil {
		return nil, nil, err
	}
	regs, err = seenOf(d, incident.KindRegistry, &c.registries, same)
	return stations, regs, err
}

// heardFrom returns what HeardIn reads in the records of kind k.
func (c *seenRecords) heardFrom(d *Desk, k incident.Kind) ([]heardRecord, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.heard == nil {
		c.heard = map[incident.Kind]map[incident.ID]heardRecord{}
	}
	cache := c.heard[k]
	out, err := seenOf(d, k, &cache, func(s *incident.Signed) heardRecord {
		h := heardRecord{id: s.ID, author: s.AuthorKey(), created: s.Created}
		// A sealed record (a tally or a response, in a mission that
		// seals) is read as the coordinator reading coverage opens it;
		// once, as the cache keeps what it read.
		if p, ok := d.st.Open(s); ok {
			h.p = heardPayload(p)
		} else {
			h.compact = incident.IsCompactSeal(s.Sealed)
		}
		return h
	})
	for i, h := range out {
		if !h.compact {
			continue
		}
		if r, err := d.st.Get(h.id); err == nil && r != nil {
			if p, ok := d.st.Open(r); ok {
				out[i].p, out[i].compact = heardPayload(p), false
				cache[h.id] = out[i]
			}
		}
	}
	c.heard[k] = cache
	return out, err
}

// assignments returns the assignment records held and what this device
// opens of the sealed ones.
func (c *seenRecords) assignments(d *Desk) ([]*incident.Signed, map[incident.ID]any, error) {
	ids, err := d.st.IDsOfKind(incident.KindAssignment)
	if err != nil {
		return nil, nil, classify(err)
	}
	h := sha256.New()
	for _, id := range ids {
		h.Write(id[:])
	}
	var key [32]byte
	h.Sum(key[:0])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.asgRecs != nil && key == c.asgKey {
		return c.asgRecs, c.asgOpened, nil
	}
	recs, opened, err := d.st.Readable(incident.KindAssignment)
	if err != nil {
		return nil, nil, classify(err)
	}
	if recs == nil {
		recs = []*incident.Signed{}
	}
	// The key is of the IDs listed before the read: a record added
	// meanwhile changes the next listing, which reads again.
	c.asgKey, c.asgRecs, c.asgOpened = key, recs, opened
	return recs, opened, nil
}
