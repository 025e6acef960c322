package act

import (
	"bytes"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// steppingDesk is a desk whose clock moves on a millisecond at every
// reading, so that two actions in a row never share a claimed time (the
// latest by claimed time wins, and a test must not depend on the IDs
// breaking a tie).
func steppingDesk(t testing.TB, name string) *Desk {
	t.Helper()
	base := time.Now()
	var n atomic.Int64
	return newDeskOpts(t, name, store.Options{Now: func() time.Time {
		return base.Add(time.Duration(n.Add(1)) * time.Millisecond)
	}})
}

// postMission is a sealed mission: a coordinator (Desk, stepping clock)
// and observers with the given labels, each enrolled and known to the
// coordinator.
func postMission(t testing.TB, labels ...string) (coord *Desk, obs map[string]*Desk) {
	t.Helper()
	coord = steppingDesk(t, "coord")
	if _, err := coord.CreateMission(store.MissionSpec{Name: "Posting", Label: "Desk"}); err != nil {
		t.Fatal(err)
	}
	obs = map[string]*Desk{}
	for _, l := range labels {
		d := newDesk(t, l)
		join(t, coord, d, incident.RoleObserver, l)
		obs[l] = d
	}
	for _, d := range obs {
		copyRecords(t, coord, d) // every member's enrollment, everywhere
	}
	return coord, obs
}

// station is a registry row: code, name and admin path.
type station struct {
	code, name string
	admin      []string
}

// importStations signs stations as one registry snapshot on d, as an
// import does.
func importStations(t testing.TB, d *Desk, rows ...station) {
	t.Helper()
	snap := make([]byte, 32)
	rand.Read(snap)
	var ids []incident.ID
	for _, r := range rows {
		rec, err := d.st.Put(incident.KindStation, incident.StationPayload{Code: r.code, Name: r.name, Admin: r.admin, Snapshot: snap})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.ID)
	}
	if _, err := d.st.Put(incident.KindRegistry, incident.RegistryPayload{Snapshot: snap, Count: uint64(len(rows)), Root: incident.RegistryRoot(ids)}); err != nil {
		t.Fatal(err)
	}
}

func mustAssign(t testing.TB, d *Desk, r AssignRequest) Assigned {
	t.Helper()
	a, err := d.Assign(r)
	if err != nil {
		t.Fatalf("Assign(%+v): %v", r, err)
	}
	return a
}

// held is every record d's store holds.
func held(t testing.TB, d *Desk) []*incident.Signed {
	t.Helper()
	kinds, err := d.st.Kinds()
	if err != nil {
		t.Fatal(err)
	}
	var out []*incident.Signed
	for _, k := range kinds {
		recs, err := d.st.ByKind(k)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, recs...)
	}
	return out
}

// A seized observer's phone holds its own assignment and nothing else of
// who is posted where: every other member's assignment is ciphertext
// whose envelope names nobody, and the station, note and member of each
// are in none of its records.
func TestAssignmentsSealedToTheirMember(t *testing.T) {
	coord, obs := postMission(t, "Heron", "Kite")
	mule := newDesk(t, "mule")
	join(t, coord, mule, incident.RoleCarrier, "Mule")
	importStations(t, coord,
		station{"PS-0001", "Ngong Road School", []string{"Nairobi", "Dagoretti", "Kilimani"}},
		station{"PS-0002", "Kibera Hall", []string{"Nairobi", "Kibra", "Lindi"}})

	heron := mustAssign(t, coord, AssignRequest{Member: "Heron", Station: "ps 0001", Note: "morning shift, ask for Mrs Otieno"})
	if !heron.Sealed || heron.Station != "PS-0001" || heron.NotInRegistry || heron.Label != "Heron" {
		t.Fatalf("Heron's assignment: %+v", heron)
	}
	// Kite goes to a station only the assignment names (not in the
	// registry: the coordinator is told, the assignment stored).
	const kiteCode, kiteNote = "ZZ-SECRET-77", "Kite: back door of the chief's camp"
	kite := mustAssign(t, coord, AssignRequest{Member: "Kite", Station: kiteCode, Note: kiteNote})
	if !kite.Sealed || !kite.NotInRegistry {
		t.Fatalf("Kite's assignment: %+v", kite)
	}
	for _, d := range []*Desk{obs["Heron"], obs["Kite"], mule} {
		copyRecords(t, coord, d)
	}

	// Heron's phone reads its own post, with the station's name.
	h := obs["Heron"]
	mine, ok, err := h.MyAssignment()
	if err != nil || !ok || mine.Station != "PS-0001" || mine.StationName != "Ngong Road School" ||
		mine.Note != "morning shift, ask for Mrs Otieno" || !slices.Equal(mine.Admin, []string{"Nairobi", "Dagoretti", "Kilimani"}) {
		t.Fatalf("Heron's own assignment: %+v %v %v", mine, ok, err)
	}
	if list, err := h.Assignments(); err != nil || len(list) != 1 || list[0].Member != h.st.Author() {
		t.Fatalf("Heron lists %+v, %v; want its own only", list, err)
	}
	// What the store opens at all: Heron's own, nothing else.
	recs, opened, err := h.st.Readable(incident.KindAssignment)
	if err != nil || len(recs) != 2 || len(opened) != 1 {
		t.Fatalf("Heron holds %d assignments and opens %d (%v); want 2 and 1", len(recs), len(opened), err)
	}
	kiteKey := obs["Kite"].st.Author()
	for _, r := range recs {
		p, err := r.DecodePayload()
		env, sealed := p.(*incident.SealedEnvelope)
		if err != nil || !sealed || len(env.Target) != 0 {
			t.Fatalf("assignment %s: %T %v; want a sealed envelope naming nothing", r.ID, p, err)
		}
		for _, secret := range [][]byte{[]byte("Kite"), kiteKey[:], []byte(kiteKey.String()), []byte("PS-0001"), []byte("Heron")} {
			if bytes.Contains(r.Raw, secret) {
				t.Fatalf("BUG: assignment %s carries %q in the clear", r.ID, secret)
			}
		}
	}
	for _, r := range held(t, h) {
		for _, secret := range []string{kiteCode, kiteNote} {
			if bytes.Contains(r.Raw, []byte(secret)) {
				t.Fatalf("BUG: Heron's %s record %s carries %q", r.Kind, r.ID, secret)
			}
		}
	}
	// Kite reads its own, marked as not in the registry; the carrier
	// reads none, and neither can ask for coverage.
	if k, ok, err := obs["Kite"].MyAssignment(); err != nil || !ok || k.Station != kiteCode || !k.NotInRegistry {
		t.Fatalf("Kite's own: %+v %v %v", k, ok, err)
	}
	if _, ok, err := mule.MyAssignment(); err != nil || ok {
		t.Fatalf("the carrier reads an assignment: %v %v", ok, err)
	}
	if list, err := mule.Assignments(); err != nil || len(list) != 0 {
		t.Fatalf("the carrier lists %+v, %v", list, err)
	}
	for _, d := range []*Desk{h, mule} {
		if _, err := d.Coverage(CoverageQuery{}); !errors.Is(err, Forbidden) {
			t.Fatalf("coverage on a member's phone: %v, want forbidden", err)
		}
	}
	// The coordinator reads both.
	list, err := coord.Assignments()
	if err != nil || len(list) != 2 || list[0].Label != "Heron" || list[1].Station != kiteCode || !list[1].NotInRegistry {
		t.Fatalf("the coordinator's list: %+v, %v", list, err)
	}
}

// Who may assign whom, and what is refused before anything is signed.
func TestAssignRefusals(t *testing.T) {
	coord, obs := postMission(t, "Heron")
	mule := newDesk(t, "mule")
	join(t, coord, mule, incident.RoleCarrier, "Mule")
	copyRecords(t, coord, obs["Heron"])
	before := len(held(t, coord))
	for name, c := range map[string]struct {
		d     *Desk
		req   AssignRequest
		code  Code
		field string
	}{
		"an observer assigns":    {obs["Heron"], AssignRequest{Member: "Heron", Station: "PS-1"}, Forbidden, ""},
		"a carrier":              {coord, AssignRequest{Member: "Mule", Station: "PS-1"}, Refused, ""},
		"nobody":                 {coord, AssignRequest{Member: "Nobody", Station: "PS-1"}, NotFound, ""},
		"no station":             {coord, AssignRequest{Member: "Heron"}, Invalid, "station"},
		"a station of dashes":    {coord, AssignRequest{Member: "Heron", Station: " -- "}, Invalid, "station"},
		"a station and unassign": {coord, AssignRequest{Member: "Heron", Station: "PS-1", Unassign: true}, Invalid, "station"},
		"a station with a NUL":   {coord, AssignRequest{Member: "Heron", Station: "PS\x001"}, Invalid, "station"},
		"a station too long":     {coord, AssignRequest{Member: "Heron", Station: strings.Repeat("A", 300)}, Invalid, "payload.station"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.d.Assign(c.req)
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code || e.Field != c.field {
				t.Fatalf("Assign = %v, want %s on %q", err, c.code, c.field)
			}
		})
	}
	if after := len(held(t, coord)); after != before {
		t.Fatalf("refusals stored %d records", after-before)
	}
}

// The latest assignment supersedes; the same one again stores nothing;
// unassigning posts the member nowhere; an older assignment that
// arrives late changes nothing.
func TestAssignSupersedes(t *testing.T) {
	coord, obs := postMission(t, "Heron")
	h := obs["Heron"]
	importStations(t, coord, station{"PS-1", "One", nil}, station{"PS-2", "Two", nil})
	first := mustAssign(t, coord, AssignRequest{Member: "Heron", Station: "PS-1"})
	second := mustAssign(t, coord, AssignRequest{Member: h.st.Author().String(), Station: "ps_2"})
	if second.Previous != "PS-1" || second.Already || second.Station != "PS-2" {
		t.Fatalf("the move: %+v", second)
	}
	n := len(held(t, coord))
	again := mustAssign(t, coord, AssignRequest{Member: "heron", Station: "PS 2"})
	if !again.Already || again.ID != second.ID || len(held(t, coord)) != n {
		t.Fatalf("the same station again: %+v (records %d → %d)", again, n, len(held(t, coord)))
	}
	// A new note is news: stored.
	noted := mustAssign(t, coord, AssignRequest{Member: "Heron", Station: "PS-2", Note: "from noon"})
	if noted.Already {
		t.Fatalf("a new note stored nothing: %+v", noted)
	}
	copyRecords(t, coord, h)
	if mine, ok, _ := h.MyAssignment(); !ok || mine.ID != noted.ID || mine.Note != "from noon" {
		t.Fatalf("Heron's post: %+v", mine)
	}
	off := mustAssign(t, coord, AssignRequest{Member: "Heron", Unassign: true})
	if off.Station != "" || off.Previous != "PS-2" || off.Already {
		t.Fatalf("unassign: %+v", off)
	}
	if again := mustAssign(t, coord, AssignRequest{Member: "Heron", Unassign: true}); !again.Already {
		t.Fatalf("unassign twice: %+v", again)
	}
	copyRecords(t, coord, h)
	if _, ok, err := h.MyAssignment(); ok || err != nil {
		t.Fatalf("Heron is still posted after the unassignment: %v %v", ok, err)
	}
	if list, _ := coord.Assignments(); len(list) != 1 || list[0].Station != "" {
		t.Fatalf("the coordinator's list after the unassignment: %+v", list)
	}
	_ = first
}

// In a mission that does not seal, assignments are in the clear; an old
// one that arrives late does not supersede the one in force, and one
// dated after the coordinator's clock is reported, not outranked
// silently.
func TestAssignInTheClearAndOutOfOrder(t *testing.T) {
	coord := steppingDesk(t, "coord")
	if _, err := coord.CreateMission(store.MissionSpec{Name: "Open", Label: "Desk", NoSeal: true}); err != nil {
		t.Fatal(err)
	}
	h := newDesk(t, "heron")
	join(t, coord, h, incident.RoleObserver, "Heron")
	a := mustAssign(t, coord, AssignRequest{Member: "Heron", Station: "PS-5"})
	if a.Sealed {
		t.Fatalf("sealed in a mission that does not seal: %+v", a)
	}
	ms, err := coord.st.Mission()
	if err != nil {
		t.Fatal(err)
	}
	hk := h.st.Author()
	sign := func(at time.Time, code string) {
		rec, err := coord.st.Signer().Sign(ms.ID, incident.KindAssignment, at, incident.AssignmentPayload{Member: hk[:], Station: code})
		if err != nil {
			t.Fatal(err)
		}
		if res := coord.st.Add(rec.Raw, "test"); res.Outcome != store.Accepted {
			t.Fatalf("%s: %v", res.Outcome, res.Err)
		}
	}
	sign(time.Now().Add(-time.Hour), "PS-OLD")
	if list, _ := coord.Assignments(); list[0].Station != "PS-5" {
		t.Fatalf("an older assignment superseded the one in force: %+v", list)
	}
	sign(time.Now().Add(time.Hour), "PS-LATER")
	if _, err := coord.Assign(AssignRequest{Member: "Heron", Station: "PS-6"}); !errors.Is(err, Refused) {
		t.Fatalf("assigning under an assignment dated later: %v, want refused", err)
	}
}

// Revocations: a revoked member is not posted (nor sealed to) again and
// stops counting; a revoked coordinator's keys open nothing sealed
// after the revocation, and its assignments, not accepted, count for
// nothing.
func TestAssignAndRevocation(t *testing.T) {
	coord, obs := postMission(t, "Heron", "Kite")
	// The deputy's clock runs a minute fast: what it signs is later than
	// anything the founder signs.
	deputy := newDeskOpts(t, "deputy", store.Options{Now: func() time.Time { return time.Now().Add(time.Minute) }})
	join(t, coord, deputy, incident.RoleCoordinator, "Deputy")
	copyRecords(t, coord, deputy)
	mustAssign(t, coord, AssignRequest{Member: "Heron", Station: "PS-1"})
	mustAssign(t, coord, AssignRequest{Member: "Kite", Station: "PS-2"})
	copyRecords(t, coord, deputy)
	if list, err := deputy.Assignments(); err != nil || len(list) != 2 {
		t.Fatalf("the deputy reads %+v, %v", list, err)
	}

	// Heron's phone is seized.
	if _, err := coord.Revoke("Heron", "phone seized", true); err != nil {
		t.Fatal(err)
	}
	if _, err := coord.Assign(AssignRequest{Member: "Heron", Station: "PS-3"}); !errors.Is(err, Refused) {
		t.Fatalf("posting a revoked member: %v, want refused", err)
	}
	list, _ := coord.Assignments()
	if len(list) != 2 || !list[0].Revoked || list[0].Label != "Heron" {
		t.Fatalf("the revoked member's assignment: %+v", list)
	}
	if cov, err := coord.Coverage(CoverageQuery{}); err != nil || cov.Assigned != 1 || cov.Total.Expected != 1 {
		t.Fatalf("coverage counts the revoked member: %+v, %v", cov, err)
	}

	// The deputy's laptop is seized: revoked accepting none. The thief
	// keeps signing with it, before it learns of the revocation.
	copyRecords(t, coord, deputy)
	if _, err := coord.Revoke("Deputy", "laptop seized", true); err != nil {
		t.Fatal(err)
	}
	if _, err := deputy.Assign(AssignRequest{Member: "Kite", Station: "PS-TRAP"}); err != nil {
		t.Fatal(err)
	}
	const after = "PS-AFTER-9"
	mustAssign(t, coord, AssignRequest{Member: "Kite", Station: after})
	copyRecords(t, coord, deputy) // by bundle: records, never a secret
	for _, r := range held(t, deputy) {
		if bytes.Contains(r.Raw, []byte(after)) {
			t.Fatalf("BUG: %s record %s carries %q", r.Kind, r.ID, after)
		}
	}
	if list, _ := deputy.Assignments(); len(list) != 2 || slices.ContainsFunc(list, func(a AssignmentItem) bool { return a.Station == after }) {
		t.Fatalf("the revoked deputy reads an assignment sealed after its revocation: %+v", list)
	}
	copyRecords(t, deputy, coord)
	copyRecords(t, deputy, obs["Kite"])
	copyRecords(t, coord, obs["Kite"])
	for _, d := range []*Desk{coord, obs["Kite"]} {
		var got string
		if d == coord {
			list, _ := d.Assignments()
			for _, a := range list {
				if a.Label == "Kite" {
					got = a.Station
				}
			}
		} else {
			mine, _, _ := d.MyAssignment()
			got = mine.Station
		}
		if got != after {
			t.Fatalf("Kite's post is %q, want %q: a revoked coordinator's assignment counted", got, after)
		}
	}
}
