package act

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// CreateMission makes this device the founding coordinator of a new
// mission.
func (d *Desk) CreateMission(spec store.MissionSpec) (incident.ID, error) {
	if strings.TrimSpace(spec.Name) == "" {
		return incident.ID{}, invalid("name", "is required")
	}
	for field, s := range map[string]string{"name": spec.Name, "label": spec.Label} {
		if err := text(field, s); err != nil {
			return incident.ID{}, err
		}
	}
	if spec.NoSeal && spec.SealByDefault {
		return incident.ID{}, invalid("no_seal", "contradicts seal_by_default: choose one")
	}
	spec.SealByDefault = SealsByDefault(spec)
	id, err := d.st.CreateMissionWith(spec)
	return id, classify(err)
}

// SealsByDefault says whether a mission created from spec seals its
// reports to the coordinators. Real missions do: a seized observer's or
// carrier's phone then holds other members' reports only as ciphertext.
// Practice missions, and missions created with NoSeal, stay readable to
// every member.
func SealsByDefault(spec store.MissionSpec) bool {
	return spec.SealByDefault || (!spec.NoSeal && !spec.Practice)
}

// Joined is the mission an invite joined.
type Joined struct {
	Member      incident.ID `json:"member"` // this device's member record
	Mission     incident.ID `json:"mission"`
	MissionName string      `json:"mission_name"`
	Role        string      `json:"role"`
	Label       string      `json:"label"`
	Practice    bool        `json:"practice,omitempty"`
}

// Join redeems an invite code. A code that cannot be redeemed here is a
// BadInvite refusal, and nothing changes.
func (d *Desk) Join(code string) (Joined, error) {
	inv, err := incident.DecodeInvite(strings.TrimSpace(code))
	if err != nil {
		return Joined{}, classify(err)
	}
	id, err := d.st.Join(strings.TrimSpace(code))
	if err != nil {
		return Joined{}, classify(err)
	}
	return Joined{Member: id, Mission: inv.GenesisRecord.ID, MissionName: inv.Mission.Name, Role: inv.Token.Role,
		Label: inv.Token.Label, Practice: inv.Mission.Practice}, nil
}

// InviteRequest is an invite to create.
type InviteRequest struct {
	Role  string `json:"role"`
	Label string `json:"label,omitempty"`
	// Expires is how long the code can be redeemed; zero: no limit.
	Expires time.Duration `json:"expires,omitempty"`
	// For binds a coordinator invite to the new coordinator's device key
	// (an author key; a member of the mission may be named as with
	// Revoke).
	For       string   `json:"for,omitempty"`
	Bootstrap []string `json:"bootstrap,omitempty"` // addresses to try first
}

// Invitation is a new invite.
type Invitation struct {
	Code string          `json:"code"`
	ID   incident.Author `json:"invite"` // the invite key: what CancelInvite takes
	Role string          `json:"role"`
}

// Invite creates an invite code. Only coordinators invite; a coordinator
// invite must name the device it is for.
func (d *Desk) Invite(req InviteRequest) (Invitation, error) {
	if req.Role == "" {
		return Invitation{}, invalid("role", "is required (observer, carrier or coordinator)")
	}
	if !slices.Contains(incident.Roles, req.Role) {
		return Invitation{}, invalid("role", "%q is not a role (want observer, carrier or coordinator)", req.Role)
	}
	if req.Expires < 0 {
		return Invitation{}, invalid("expires", "must be positive")
	}
	if err := text("label", req.Label); err != nil {
		return Invitation{}, err
	}
	ms, err := d.mission()
	if err != nil {
		return Invitation{}, err
	}
	if err := d.mayPut(ms, incident.KindMember); err != nil { // a member in force
		return Invitation{}, err
	}
	if role, _ := ms.Role(d.st.Author()); role != incident.RoleCoordinator {
		return Invitation{}, refuse(Forbidden, "only coordinators can invite; this device is %s", incident.Article(role))
	}
	sr := store.InviteRequest{Role: req.Role, Label: req.Label, Bootstrap: req.Bootstrap}
	if req.Expires > 0 {
		sr.Expires = d.now().Add(req.Expires)
	}
	switch {
	case req.For != "" && req.Role != incident.RoleCoordinator:
		return Invitation{}, invalid("for", "binds coordinator invites; %s invite is redeemed by whoever holds it", incident.Article(req.Role))
	case req.For == "" && req.Role == incident.RoleCoordinator:
		return Invitation{}, invalid("for", "a coordinator invite must name the new coordinator's device key")
	case req.For != "":
		a, err := incident.ParseAuthor(req.For)
		if err != nil {
			// Not a key: a member promoted to coordinator, by label.
			if a, err = d.resolveMember(ms, req.For); err != nil {
				return Invitation{}, err
			}
		}
		sr.For = &a
	}
	if len(sr.Bootstrap) == 0 && d.Bootstrap != nil {
		sr.Bootstrap = d.Bootstrap()
		if len(sr.Bootstrap) > 16 {
			sr.Bootstrap = sr.Bootstrap[:16]
		}
	}
	code, err := d.st.Invite(sr)
	if err != nil {
		return Invitation{}, classify(err)
	}
	out := Invitation{Code: code, Role: req.Role}
	if inv, err := incident.DecodeInvite(code); err == nil {
		out.ID, _ = incident.InviteID(inv.Token)
	}
	return out, nil
}

// Revocation is what Revoke did. With Already, nothing was written: the
// member was revoked before (Existing).
type Revocation struct {
	ID          incident.ID     `json:"id"`
	Member      incident.Author `json:"member"`
	Accepted    int             `json:"accepted"`
	Epoch       incident.ID     `json:"epoch"`
	EpochNumber uint64          `json:"epoch_number"`
	Already     bool            `json:"already,omitempty"`
	Existing    incident.ID     `json:"existing"`
	// EpochFailed: the revocation is stored but its new secret epoch is
	// not; the same Revoke again starts it.
	EpochFailed string `json:"epoch_failed,omitempty"`
	// SMSInbox is the new SMS inbox key when a coordinator was revoked
	// in a mission that takes SMS; SMSInboxFailed says why none was made.
	SMSInbox       string `json:"sms_inbox,omitempty"`
	SMSInboxFailed string `json:"sms_inbox_failed,omitempty"`
}

// Revoke revokes a member: their invite goes with them, and a new secret
// epoch starts that their device never receives. Every record of theirs
// this device holds stays confirmed unless acceptNone; when they are too
// many to list, none are (coordinators review them instead). A member
// already revoked is a success with Already set.
func (d *Desk) Revoke(member, reason string, acceptNone bool) (Revocation, error) {
	if err := text("reason", reason); err != nil {
		return Revocation{}, err
	}
	ms, err := d.mission()
	if err != nil {
		return Revocation{}, err
	}
	target, err := d.resolveMember(ms, member)
	if err != nil {
		return Revocation{}, err
	}
	if err := d.mayPut(ms, incident.KindRevoke); err != nil {
		return Revocation{}, err
	}
	rev, err := d.st.Revoke(target, reason, acceptNone)
	if errors.Is(err, store.ErrTooManyToAccept) {
		rev, err = d.st.Revoke(target, reason, true)
	}
	var already *store.AlreadyRevokedError
	if errors.As(err, &already) {
		return Revocation{Member: target, Already: true, Existing: already.Revocation}, nil
	}
	if rev.Record == nil {
		return Revocation{}, classify(err)
	}
	out := Revocation{ID: rev.Record.ID, Member: target, Accepted: rev.Accepted}
	if err != nil {
		out.EpochFailed = err.Error()
		return out, nil
	}
	out.Epoch = rev.Epoch.ID
	if ms, err := d.st.Mission(); err == nil {
		if e, ok := ms.EpochByID(rev.Epoch.ID); ok {
			out.EpochNumber = e.Number
		}
	}
	// A revoked coordinator keeps the SMS inbox key: a new one seals what
	// observers send from now on.
	if role, _ := ms.Role(target); role == incident.RoleCoordinator {
		if _, ok := ms.SMSInbox(); ok {
			if k, err := d.SMSKey(true); err == nil {
				out.SMSInbox = k.Inbox
			} else {
				out.SMSInboxFailed = err.Error()
			}
		}
	}
	return out, nil
}

// Confirmation is what Confirm did.
type Confirmation struct {
	ID     incident.ID     `json:"id"`
	Member incident.Author `json:"member"` // zero for all
	// Confirmed counts the redemptions confirmed; Waiting the invites
	// still used by several devices, waiting for a choice.
	Confirmed int `json:"confirmed"`
	Waiting   int `json:"waiting"`
}

// Confirm keeps member's redemption of an invite that more than one
// device redeemed: the invite is closed to every other device. Member ""
// confirms every invite redeemed by exactly one device.
func (d *Desk) Confirm(member string) (Confirmation, error) {
	ms, err := d.mission()
	if err != nil {
		return Confirmation{}, err
	}
	if err := d.mayPut(ms, incident.KindConfirm); err != nil {
		return Confirmation{}, err
	}
	var out Confirmation
	var members []incident.Author
	if member != "" {
		if out.Member, err = d.resolveMember(ms, member); err != nil {
			return Confirmation{}, err
		}
		members = append(members, out.Member)
	}
	before := confirmed(ms)
	rec, err := d.st.Confirm(members...)
	if err != nil {
		return Confirmation{}, classify(err)
	}
	out.ID = rec.ID
	if ms, err := d.st.Mission(); err == nil {
		out.Confirmed = confirmed(ms) - before
		out.Waiting = len(ms.Duplicates())
	}
	return out, nil
}

// confirmed counts the enrollments a coordinator confirmed.
func confirmed(ms *incident.MissionState) int {
	n := 0
	for _, m := range ms.Members() {
		if !m.Record.IsZero() && ms.RedemptionConfirmed(m) {
			n++
		}
	}
	return n
}

// Cancellation is what CancelInvite did.
type Cancellation struct {
	ID     incident.ID     `json:"id"`
	Invite incident.Author `json:"invite"`
	// Redeemed counts the devices that had redeemed the invite: they are
	// refused from now on.
	Redeemed int `json:"redeemed"`
}

// CancelInvite cancels an invite by its ID: nobody can redeem it any more,
// and a device that already did is refused.
func (d *Desk) CancelInvite(invite, reason string) (Cancellation, error) {
	if err := text("reason", reason); err != nil {
		return Cancellation{}, err
	}
	id, err := incident.ParseAuthor(strings.TrimSpace(invite))
	if err != nil {
		return Cancellation{}, invalid("invite", "%q is not an invite ID", invite)
	}
	ms, err := d.mission()
	if err != nil {
		return Cancellation{}, err
	}
	if err := d.mayPut(ms, incident.KindRevoke); err != nil {
		return Cancellation{}, err
	}
	rec, err := d.st.CancelInvite(id, reason)
	if rec == nil {
		return Cancellation{}, classify(err)
	}
	out := Cancellation{ID: rec.ID, Invite: id}
	if ms, err := d.st.Mission(); err == nil {
		out.Redeemed = len(ms.RedeemedBy(id))
	}
	return out, classify(err)
}

// Report IDs as a person types them: the full ID, or a unique prefix of
// at least IDPrefixMin characters after IDHead (which may be left out).

// IDHead starts every record ID's text form (CIDv1, raw, SHA-256).
const IDHead = "bafkrei"

// IDPrefixMin is the fewest characters after IDHead a prefix may have.
const IDPrefixMin = 8

// maxCandidates is how many matches an ambiguous prefix or label lists.
const maxCandidates = 4

// CheckReportRef refuses what can be neither a report ID nor a prefix of
// one, without a store (Invalid, field "report").
func CheckReportRef(ref string) error {
	if _, err := incident.ParseID(ref); err == nil {
		return nil
	}
	rest := strings.TrimPrefix(ref, IDHead)
	if rest == "" || strings.Trim(rest, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		return &Error{Code: Invalid, Field: "report", Msg: fmt.Sprintf("%q is not a report ID (IDs start with %s and use the letters a-z and digits 2-7)", ref, IDHead)}
	}
	if len(rest) < IDPrefixMin {
		return &Error{Code: Invalid, Field: "report", Msg: fmt.Sprintf("the ID prefix %q is too short: give at least %d characters after %s", ref, IDPrefixMin, IDHead)}
	}
	return nil
}

// ResolveReport returns the report ref names: a full record ID as is (the
// action says when no such report is held), or the one report on this
// device whose ID starts with the prefix.
func (d *Desk) ResolveReport(ref string) (incident.ID, error) {
	if id, err := incident.ParseID(ref); err == nil {
		return id, nil
	}
	if err := CheckReportRef(ref); err != nil {
		return incident.ID{}, err
	}
	prefix := IDHead + strings.TrimPrefix(ref, IDHead)
	ids, err := d.st.IDsOfKind(incident.KindReport)
	if err != nil {
		return incident.ID{}, classify(err)
	}
	return pickByPrefix(ids, prefix, "report")
}

// pickByPrefix returns the one ID in ids whose text starts with prefix;
// noun names what the IDs are (report, alert) in the refusals.
func pickByPrefix(ids []incident.ID, prefix, noun string) (incident.ID, error) {
	var match []incident.ID
	for _, id := range ids {
		if strings.HasPrefix(id.String(), prefix) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 0:
		return incident.ID{}, refuse(NotFound, "no %s on this device has an ID starting with %s", noun, prefix)
	case 1:
		return match[0], nil
	}
	names := make([]string, 0, maxCandidates)
	for _, id := range match[:min(len(match), maxCandidates)] {
		names = append(names, id.String())
	}
	more := ""
	if len(match) > maxCandidates {
		more = fmt.Sprintf(" and %d more", len(match)-maxCandidates)
	}
	return incident.ID{}, refuse(Ambiguous, "the ID prefix %s matches %s: %s%s; give more characters", prefix, incident.Plural(len(match), noun), strings.Join(names, ", "), more)
}

// ResolveMember returns the member ref names: an author key, a member
// record ID, or a label one member holds (exact, else ignoring case).
func (d *Desk) ResolveMember(ref string) (incident.Author, error) {
	ms, err := d.mission()
	if err != nil {
		return incident.Author{}, err
	}
	return d.resolveMember(ms, ref)
}

// ResolveMember is Desk.ResolveMember over a mission state the caller
// holds (listings filter by member without a desk).
func ResolveMember(ms *incident.MissionState, ref string) (incident.Author, error) {
	return (*Desk)(nil).resolveMember(ms, ref)
}

func (*Desk) resolveMember(ms *incident.MissionState, ref string) (incident.Author, error) {
	if a, err := incident.ParseAuthor(ref); err == nil {
		if _, ok := ms.Role(a); !ok {
			return a, refuse(NotFound, "%s is not a member of this mission", a)
		}
		return a, nil
	}
	if id, err := incident.ParseID(ref); err == nil {
		for _, m := range ms.Members() {
			if m.Record == id {
				return m.Author, nil
			}
		}
		return incident.Author{}, refuse(NotFound, "no member record %s in this mission", id)
	}
	if strings.TrimSpace(ref) == "" {
		return incident.Author{}, invalid("member", "want an author key, a member record ID or a label")
	}
	for _, same := range []func(string) bool{
		func(l string) bool { return l == ref },
		func(l string) bool { return strings.EqualFold(strings.TrimSpace(l), strings.TrimSpace(ref)) },
	} {
		var authors []incident.Author
		var labels []string
		seen := map[incident.Author]bool{}
		for _, m := range ms.Members() {
			if same(m.Label) && !seen[m.Author] {
				seen[m.Author] = true
				authors = append(authors, m.Author)
				labels = append(labels, fmt.Sprintf("%s (%s)", m.Author, m.Role))
			}
		}
		switch {
		case len(authors) == 1:
			return authors[0], nil
		case len(authors) > 1:
			more := ""
			if len(labels) > maxCandidates {
				more = fmt.Sprintf(" and %d more", len(labels)-maxCandidates)
				labels = labels[:maxCandidates]
			}
			return incident.Author{}, refuse(Ambiguous, "the label %q belongs to %s: %s%s; give an author key or member record ID", ref, incident.Plural(len(authors), "member"), strings.Join(labels, ", "), more)
		}
	}
	return incident.Author{}, refuse(NotFound, "no member of this mission has the author key, member record ID or label %q", ref)
}

// Configure signs a mission configuration record setting each KEY=VALUE
// of settings (incident.ParseSettings names the keys). Only coordinators
// change the configuration.
func (d *Desk) Configure(settings []string) (Created, error) {
	for _, s := range settings {
		if err := text("settings", s); err != nil {
			return Created{}, err
		}
	}
	parsed, err := incident.ParseSettings(settings)
	if err != nil {
		return Created{}, &Error{Code: Invalid, Field: "settings", Msg: err.Error(), Cause: err}
	}
	ms, err := d.mission()
	if err != nil {
		return Created{}, err
	}
	if err := d.mayPut(ms, incident.KindConfig); err != nil {
		role, _ := ms.Role(d.st.Author())
		if CodeOf(err) == Forbidden {
			return Created{}, refuse(Forbidden, "only coordinators change the mission configuration; this device is %s", incident.Article(role))
		}
		return Created{}, err
	}
	if err := d.smsSettings(ms, parsed); err != nil {
		return Created{}, err
	}
	rec, err := d.st.Put(incident.KindConfig, ms.NewConfig(parsed))
	if err != nil {
		return Created{}, classify(err)
	}
	return Created{ID: rec.ID}, nil
}
