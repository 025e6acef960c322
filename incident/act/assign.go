package act

import (
	"sort"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
)

// Assignments post members to polling stations. Who is posted where is
// what a seized phone must not reveal, so where the mission seals an
// assignment is sealed to the coordinators in good standing and to the
// member it posts (incident.MissionState.SealRecipientsWith), with
// nothing in its public envelope; an observer's device opens its own
// with its age identity and holds every other as ciphertext. A member's
// assignment in force is its latest, by claimed time then ID, among those
// signed by a coordinator whose standing covers them
// (incident.FoldAssignments).

// AssignRequest posts Member (an author key, member record ID or label,
// as Revoke takes it) to Station (any form: it is stored in its normal
// form), or with Unassign posts it nowhere. Note travels with it (a
// shift, a contact).
type AssignRequest struct {
	Member   string `json:"member"`
	Station  string `json:"station,omitempty"`
	Unassign bool   `json:"unassign,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Assigned is what Assign did.
type Assigned struct {
	ID      incident.ID     `json:"id"` // zero when Already
	Member  incident.Author `json:"member"`
	Label   string          `json:"label"`
	Station string          `json:"station,omitempty"` // normal form; "" posted nowhere
	Sealed  bool            `json:"sealed,omitempty"`
	// Already: the assignment in force says the same (station and note);
	// nothing was stored.
	Already bool `json:"already,omitempty"`
	// Previous is the station of the assignment this one replaces ("":
	// none, or posted nowhere).
	Previous string `json:"previous,omitempty"`
	// NotInRegistry: the mission holds a registry and the station is not
	// in it. The assignment is stored (the registry may be out of date,
	// or not all of it held here), and the coordinator told.
	NotInRegistry bool `json:"not_in_registry,omitempty"`
}

// Assign signs and stores an assignment: coordinators only, to a member
// in good standing who observes (an observer or a coordinator; carriers
// carry records and are not posted). Sealed where the mission seals, in
// the clear otherwise. Repeating the assignment in force is a success
// with Already set that stores nothing.
func (d *Desk) Assign(r AssignRequest) (Assigned, error) {
	for field, s := range map[string]string{"member": r.Member, "station": r.Station, "note": r.Note} {
		if err := text(field, s); err != nil {
			return Assigned{}, err
		}
	}
	code := incident.NormalizeCode(r.Station)
	switch {
	case r.Unassign && r.Station != "":
		return Assigned{}, invalid("station", "a member is posted to a station or unassigned, not both")
	case !r.Unassign && code == "":
		return Assigned{}, invalid("station", "is required (or unassign the member)")
	}
	ms, err := d.mission()
	if err != nil {
		return Assigned{}, err
	}
	// The role first: a device that may not assign learns nothing about
	// the member it names.
	if err := d.mayPut(ms, incident.KindAssignment); err != nil {
		return Assigned{}, err
	}
	member, err := d.resolveMember(ms, r.Member)
	if err != nil {
		return Assigned{}, err
	}
	m, _ := ms.Member(member)
	role, _ := ms.Role(member)
	switch {
	case len(ms.Revocations(member)) > 0:
		return Assigned{}, refuse(Refused, "%s was revoked: a revoked member is not posted anywhere", labelled(m.Label, member))
	case role != incident.RoleObserver && role != incident.RoleCoordinator:
		return Assigned{}, refuse(Refused, "%s is %s: only observers and coordinators are posted to stations", labelled(m.Label, member), incident.Article(role))
	}
	out := Assigned{Member: member, Label: m.Label, Station: code}
	current, err := d.assignments(ms)
	if err != nil {
		return Assigned{}, err
	}
	cur, has := current[member]
	if has {
		out.Previous = cur.Station
		if cur.Station == code && (r.Note == "" || r.Note == cur.Note) {
			out.ID, out.Already = cur.ID, true
			return out, nil
		}
		// The latest by claimed time wins: an assignment in force dated
		// after this device's clock would outrank the new one, which
		// would then never count. Refuse rather than store it. (Within
		// the same millisecond the record IDs decide.)
		if now := d.now().UnixMilli(); cur.Created > now {
			return Assigned{}, refuse(Refused, "the assignment in force of %s (by %s) is dated %s, after this device's clock (%s): check the clocks before assigning again",
				labelled(m.Label, member), cur.By.Short(), incident.FormatTime(cur.Created), incident.FormatTime(now))
		}
	} else if code == "" {
		out.Already = true // posted nowhere already
		return out, nil
	}
	if code != "" {
		reg, err := d.heldRegistry(ms)
		if err != nil {
			return Assigned{}, err
		}
		out.NotInRegistry = len(reg.Stations) > 0 && !reg.Known(code)
	}
	p := incident.AssignmentPayload{Member: member[:], Station: code, Note: r.Note}
	if !ms.SealByDefault() {
		rec, err := d.st.Put(incident.KindAssignment, p)
		if err != nil {
			return Assigned{}, classify(err)
		}
		out.ID = rec.ID
		return out, nil
	}
	to, err := ms.SealRecipientsWith(member)
	if err != nil {
		return Assigned{}, refuse(Refused, "%v", err)
	}
	rec, err := d.st.PutSealedTo(incident.KindAssignment, nil, p, to)
	if err != nil {
		return Assigned{}, classify(err)
	}
	out.ID, out.Sealed = rec.ID, true
	return out, nil
}

// labelled names a member by label, with its key's short form.
func labelled(label string, a incident.Author) string {
	if label == "" {
		return a.Short()
	}
	return label + " (" + a.Short() + ")"
}

// AssignmentItem is a member's assignment in force as a device shows it:
// with the station's name and admin area from the registry in force.
type AssignmentItem struct {
	incident.AssignmentView
	Role        string   `json:"role"`
	StationName string   `json:"station_name,omitempty"`
	Admin       []string `json:"admin,omitempty"`
	// NotInRegistry: the mission holds a registry and the station is not
	// in it.
	NotInRegistry bool `json:"not_in_registry,omitempty"`
	// Revoked: the member was revoked since; the assignment no longer
	// counts towards coverage.
	Revoked bool `json:"revoked,omitempty"`
}

// Assignments lists the assignments in force this device reads, by label:
// every member's for a coordinator, its own for anyone else (which is all
// a sealed mission lets them open).
func (d *Desk) Assignments() ([]AssignmentItem, error) {
	ms, err := d.mission()
	if err != nil {
		return nil, err
	}
	self := d.st.Author()
	role, err := d.myRole(ms)
	if err != nil {
		return nil, err
	}
	current, err := d.assignments(ms)
	if err != nil {
		return nil, err
	}
	reg, err := d.heldRegistry(ms)
	if err != nil {
		return nil, err
	}
	out := []AssignmentItem{}
	for a, v := range current {
		if role != incident.RoleCoordinator && a != self {
			continue
		}
		out = append(out, assignmentItem(v, ms, &reg))
	}
	sort.Slice(out, func(i, j int) bool {
		li, lj := strings.ToLower(out[i].Label), strings.ToLower(out[j].Label)
		if li != lj {
			return li < lj
		}
		return out[i].Member.String() < out[j].Member.String()
	})
	return out, nil
}

// MyAssignment is this device's own assignment in force, as it reads it
// (sealed: opened with its age identity); ok is false when it has none,
// or is posted nowhere.
func (d *Desk) MyAssignment() (AssignmentItem, bool, error) {
	ms, err := d.mission()
	if err != nil {
		return AssignmentItem{}, false, err
	}
	current, err := d.assignments(ms)
	if err != nil {
		return AssignmentItem{}, false, err
	}
	v, ok := current[d.st.Author()]
	if !ok || v.Station == "" {
		return AssignmentItem{}, false, nil
	}
	reg, err := d.heldRegistry(ms)
	if err != nil {
		return AssignmentItem{}, false, err
	}
	return assignmentItem(v, ms, &reg), true, nil
}

func assignmentItem(v incident.AssignmentView, ms *incident.MissionState, reg *incident.Registry) AssignmentItem {
	it := AssignmentItem{AssignmentView: v, Revoked: len(ms.Revocations(v.Member)) > 0}
	it.Role, _ = ms.Role(v.Member)
	if v.Station == "" {
		return it
	}
	if s, ok := reg.Lookup(v.Station); ok {
		it.StationName, it.Admin = s.Station.Name, s.Station.AdminPath()
	} else {
		it.NotInRegistry = len(reg.Stations) > 0
	}
	return it
}

// assignments is every member's assignment in force that this device
// reads: the clear ones, and the sealed ones its age identity opens.
func (d *Desk) assignments(ms *incident.MissionState) (map[incident.Author]incident.AssignmentView, error) {
	recs, opened, err := d.seen.assignments(d)
	if err != nil {
		return nil, err
	}
	return incident.FoldAssignments(recs, ms, func(r *incident.Signed) (any, bool) {
		p, ok := opened[r.ID]
		return p, ok
	}), nil
}

// heldRegistry is the registry in force on this device.
func (d *Desk) heldRegistry(ms *incident.MissionState) (incident.Registry, error) {
	stations, regs, err := d.seen.registry(d)
	if err != nil {
		return incident.Registry{}, err
	}
	return incident.FoldRegistry(stations, regs, ms), nil
}
