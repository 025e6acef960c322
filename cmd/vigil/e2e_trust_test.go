package main

import (
	"strings"
	"testing"
)

// TestRoles: what each role may sign, bound coordinator invites, and two
// coordinators who disagree without seeing each other's verdict.
func TestRoles(t *testing.T) {
	t.Parallel()
	lead, leadKey, mission := newMission(t, "lead")
	obs, _, _ := member(t, "observer", invite(t, lead, "--role", "observer"))
	carrier, _, _ := member(t, "carrier", invite(t, lead, "--role", "carrier"))
	report := mustID(t, obs, nil, "report", "add", "--category", "polling.vote_buying", "--severity", "3",
		"--title", "Cash handed out in the queue", "--station", "PS-0311")

	// An observer cannot review, not even its own report.
	before := status(t, obs)
	out, errs, code := runVigil(t, obs, nil, "review", report, "--status", "verified")
	wantFailure(t, "observer review", out, errs, code, exitError, "observer", "review")
	if after := status(t, obs); after.Records["review"] != 0 || !sameCounts(before, after) {
		t.Errorf("a refused review changed the observer's store: %v -> %v", before.Records, after.Records)
	}

	// A carrier moves records but does not report.
	before = status(t, carrier)
	out, errs, code = runVigil(t, carrier, nil, "report", "add", "--category", "other", "--severity", "1", "--title", "hi")
	wantFailure(t, "carrier report add", out, errs, code, exitError, "carrier", "report")
	if after := status(t, carrier); !sameCounts(before, after) || str(after.Role) != "carrier" {
		t.Errorf("a refused report changed the carrier's store: %+v -> %+v", before, after)
	}

	// A coordinator invite must be bound to a device.
	out, errs, code = runVigil(t, lead, nil, "mission", "invite", "--role", "coordinator", "--label", "deputy")
	wantFailure(t, "coordinator invite without --for", out, errs, code, exitError, "--for")

	deputy, deputyKey := initHome(t, "deputy")
	stranger, _ := initHome(t, "stranger")
	coordCode := invite(t, lead, "--role", "coordinator", "--for", deputyKey, "--label", "deputy")
	out, errs, code = runVigil(t, stranger, nil, "mission", "join", coordCode)
	wantFailure(t, "coordinator invite joined by another device", out, errs, code, exitError, "bound", deputyKey)
	if st := status(t, stranger); st.Mission != nil || st.Role != nil || st.Records["member"] != 0 {
		t.Errorf("a refused join changed the stranger's store: %+v", st)
	}
	mustID(t, deputy, nil, "mission", "join", coordCode)
	if st := status(t, deputy); str(st.Role) != "coordinator" || str(st.Mission) != mission {
		t.Fatalf("deputy after join: role %s mission %s", str(st.Role), str(st.Mission))
	}

	// Both coordinators get the report and judge it without seeing each
	// other's review.
	stick := exportBundle(t, obs)
	importBundle(t, lead, stick)
	importBundle(t, deputy, stick)
	leadReview := mustID(t, lead, nil, "review", report, "--status", "verified", "--note", "Two witnesses")
	deputyReview := mustID(t, deputy, nil, "review", report, "--status", "rejected", "--note", "Agent denies it")
	if r := showReport(t, deputy, report); r.Status != "rejected" || r.Conflict {
		t.Errorf("deputy alone: status %s conflict %v, want rejected without conflict", r.Status, r.Conflict)
	}
	if sum := carry(t, lead, deputy); sum.Accepted != 2 {
		t.Errorf("lead -> deputy: %+v, want the lead's review and its first secret epoch (not in the invite's chain) accepted", sum)
	}
	if sum := carry(t, deputy, lead); sum.Accepted != 2 {
		t.Errorf("deputy -> lead: %+v, want the deputy's member record and review accepted", sum)
	}
	var seen []reportOut
	for _, home := range []string{lead, deputy} {
		r := showReport(t, home, report)
		seen = append(seen, r)
		if !r.Conflict {
			t.Errorf("after exchanging bundles, %s sees conflict false (status %s)", home, r.Status)
		}
		if r.Status != "verified" && r.Status != "rejected" {
			t.Errorf("status %q is neither coordinator's verdict", r.Status)
		}
		var heads []string
		for _, e := range r.History {
			if e.Kind == "review" && e.Head {
				heads = append(heads, e.ID)
			}
		}
		if !sameSet(heads, leadReview, deputyReview) {
			t.Errorf("review heads %v, want both concurrent reviews %s and %s", heads, leadReview, deputyReview)
		}
	}
	if seen[0].Status != seen[1].Status {
		t.Errorf("the two coordinators fold the same records to different statuses: %s vs %s", seen[0].Status, seen[1].Status)
	}
	if _, ids := listReports(t, lead, "--status", seen[0].Status); !sameSet(ids, report) {
		t.Errorf("--status %s = %v, want the conflicting report", seen[0].Status, ids)
	}

	// A third review that has seen both heads settles it.
	mustID(t, lead, nil, "review", report, "--status", "corroborated")
	if r := showReport(t, lead, report); r.Conflict || r.Status != "corroborated" {
		t.Errorf("after a review that saw both heads: status %s conflict %v, want corroborated, no conflict", r.Status, r.Conflict)
	}

	ms := members(t, lead)
	if d := ms[deputyKey]; d.Role != "coordinator" || str(d.Issuer) != leadKey || str(d.Label) != "deputy" {
		t.Errorf("deputy as seen by the lead: %+v", d)
	}
}

// TestInviteForBindsOnlyCoordinators: --for binds coordinator invites; on
// an observer or carrier invite the flag is refused (by incident/act, as
// for the app: an error, exit 1, naming the flag).
func TestInviteForBindsOnlyCoordinators(t *testing.T) {
	t.Parallel()
	lead, _, _ := newMission(t, "lead")
	_, otherKey := initHome(t, "other")
	out, errs, code := runVigil(t, lead, nil, "mission", "invite", "--role", "observer", "--for", otherKey)
	wantFailure(t, "observer invite with --for", out, errs, code, exitError, "--for", "coordinator")

	// Only coordinators invite, and the refusal reads as English.
	obs, _, _ := member(t, "observer", invite(t, lead, "--role", "observer"))
	out, errs, code = runVigil(t, obs, nil, "mission", "invite", "--role", "observer")
	wantFailure(t, "observer invites", out, errs, code, exitError, "only coordinators", "an observer")
}

// TestDuplicateToken: one observer code redeemed on two phones flags both.
func TestDuplicateToken(t *testing.T) {
	t.Parallel()
	lead, leadKey, _ := newMission(t, "lead")
	code := invite(t, lead, "--role", "observer", "--label", "Heron")
	phone1, key1, _ := member(t, "phone1", code)
	phone2, key2, _ := member(t, "phone2", code)
	r1 := mustID(t, phone1, nil, "report", "add", "--category", "polling.closure", "--severity", "2", "--title", "Closed at noon")

	carry(t, phone1, lead)
	if ms := members(t, lead); containsStr(ms[key1].Flags, "duplicate_token") {
		t.Errorf("one redemption is not a duplicate: %+v", ms[key1])
	}
	carry(t, phone2, lead)
	ms := members(t, lead)
	if len(ms) != 3 {
		t.Fatalf("members: %+v, want the founder and two phones", ms)
	}
	for _, k := range []string{key1, key2} {
		if m := ms[k]; m.Role != "observer" || !containsStr(m.Flags, "duplicate_token") {
			t.Errorf("member %s: %+v, want observer flagged duplicate_token", k, m)
		}
	}
	if containsStr(ms[leadKey].Flags, "duplicate_token") {
		t.Errorf("the founder is flagged: %+v", ms[leadKey])
	}
	if r := showReport(t, lead, r1); !r.hasFlag("duplicate_token") {
		t.Errorf("a report by a duplicate-token device should carry the flag, got %v", r.Flags)
	}
}

// TestRevocation: a revoked observer's earlier records stay confirmed; what
// it signs afterwards arrives flagged until a coordinator reviews it.
func TestRevocation(t *testing.T) {
	t.Parallel()
	lead, _, _ := newMission(t, "lead")
	obs, obsKey, _ := member(t, "observer", invite(t, lead, "--role", "observer"))
	before := mustID(t, obs, nil, "report", "add", "--category", "polling.intimidation", "--severity", "3", "--title", "Threats at the door")
	if sum := carry(t, lead, lead); sum.Accepted != 0 || sum.Duplicate != sum.Records {
		t.Errorf("importing a device's own bundle: %+v, want only duplicates", sum)
	}
	carry(t, obs, lead)

	revOut := mustRun(t, lead, nil, "mission", "revoke", obsKey, "--reason", "phone seized", "--json")
	rev := decodeJSON[map[string]any](t, revOut)
	if rev["member"] != obsKey || rev["accepted"] != float64(2) {
		t.Fatalf("revoke --json: %v, want member %s and 2 accepted records (member record, report)", rev, obsKey)
	}
	if ms := members(t, lead); !containsStr(ms[obsKey].Flags, "revoked") {
		t.Errorf("members after revoke: %+v, want the observer flagged revoked", ms[obsKey])
	}

	// The seized phone keeps signing; its records still travel.
	after := mustID(t, obs, nil, "report", "add", "--category", "polling.closure", "--severity", "4", "--title", "Station closed, go home")
	if sum := carry(t, obs, lead); sum.Accepted != 1 {
		t.Fatalf("import after revoke: %+v, want the new report accepted", sum)
	}
	all, _ := listReports(t, lead)
	if r := all[before]; !r.hasFlag("author_revoked") || r.hasFlag("unconfirmed") {
		t.Errorf("report made before the revocation: flags %v, want author_revoked only", r.Flags)
	}
	if r := all[after]; !r.hasFlag("author_revoked") || !r.hasFlag("unconfirmed") {
		t.Errorf("report made after the revocation: flags %v, want author_revoked and unconfirmed", r.Flags)
	}

	// A coordinator's review confirms it.
	mustID(t, lead, nil, "review", after, "--status", "rejected", "--note", "sent from the seized phone")
	if r := showReport(t, lead, after); r.hasFlag("unconfirmed") || !r.hasFlag("author_revoked") {
		t.Errorf("reviewed report by a revoked author: flags %v, want author_revoked only", r.Flags)
	}
}

// sameCounts reports whether two statuses show the same stored records.
func sameCounts(a, b statusOut) bool {
	if a.Quarantined != b.Quarantined || len(a.Records) != len(b.Records) {
		return false
	}
	for k, n := range a.Records {
		if b.Records[k] != n {
			return false
		}
	}
	return true
}

// TestSingleCoordinatorWarning: vigil status warns the only coordinator
// of a real mission that losing this device loses the sealed reports,
// and says how many coordinators there are; a second one ends it, and a
// practice mission is not warned.
func TestSingleCoordinatorWarning(t *testing.T) {
	t.Parallel()
	lead, _, _ := newMission(t, "sole")
	_, errs, code := runVigil(t, lead, nil, "status")
	if code != 0 || !strings.Contains(errs, "one coordinator") || status(t, lead).Coordinators != 1 {
		t.Fatalf("the only coordinator is not warned (exit %d):\n%s", code, errs)
	}
	second, key := initHome(t, "second")
	mustID(t, second, nil, "mission", "join", invite(t, lead, "--role", "coordinator", "--for", key))
	carry(t, second, lead)
	_, errs, _ = runVigil(t, lead, nil, "status")
	if strings.Contains(errs, "one coordinator") || status(t, lead).Coordinators != 2 {
		t.Errorf("warned with two coordinators:\n%s", errs)
	}
	practice, _ := initHome(t, "practice")
	mustID(t, practice, nil, "mission", "create", "--name", "Drill", "--practice")
	if _, errs, _ := runVigil(t, practice, nil, "status"); strings.Contains(errs, "one coordinator") {
		t.Errorf("a practice mission is warned:\n%s", errs)
	}
}
