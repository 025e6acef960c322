package main

import (
	"strings"
	"testing"
)

// End-to-end tests of the coordinator's trust actions on invites:
// `mission invites`, `mission invite cancel`, `mission confirm` and the
// epoch a revocation starts. Homes exchange records through bundles.

// inviteLine is one line of `mission invites --json`.
type inviteLine struct {
	Invite     string   `json:"invite"`
	Role       string   `json:"role"`
	Label      *string  `json:"label"`
	Created    string   `json:"created"`
	Expires    *string  `json:"expires"`
	Status     string   `json:"status"`
	RedeemedBy []string `json:"redeemed_by"`
	Confirmed  *string  `json:"confirmed"`
	Text       string   `json:"text"`
}

// newInvite makes an observer invite with --json and returns its code
// and invite ID.
func newInvite(t *testing.T, home string, args ...string) (code, id string) {
	t.Helper()
	out := mustRun(t, home, nil, append([]string{"mission", "invite", "--role", "observer", "--json"}, args...)...)
	j := decodeJSON[map[string]any](t, out)
	code, _ = j["code"].(string)
	id, _ = j["invite"].(string)
	if code == "" || !authorLine.MatchString(id) {
		t.Fatalf("mission invite --json: %s, want a code and an invite ID shown like an author key", out)
	}
	return code, id
}

// invites returns `mission invites --json` by invite ID.
func invites(t *testing.T, home string) map[string]inviteLine {
	t.Helper()
	out := map[string]inviteLine{}
	for _, l := range decodeLines[inviteLine](t, mustRun(t, home, nil, "mission", "invites", "--json")) {
		out[l.Invite] = l
	}
	return out
}

// TestInvitesAndConfirm: an invite is listed unused, then redeemed; a
// second device on the same code flags both duplicate_token (and status
// says so) until the coordinator confirms the first, which closes the
// invite to the second (invite_closed).
func TestInvitesAndConfirm(t *testing.T) {
	t.Parallel()
	lead, _, _ := newMission(t, "lead")

	// The text form names the invite ID on stderr and how to cancel it;
	// stdout stays the code alone.
	out, errs, code := runVigil(t, lead, nil, "mission", "invite", "--role", "carrier")
	if code != 0 || strings.Count(out, "\n") != 1 || strings.Contains(out, " ") {
		t.Fatalf("mission invite: exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errs, "vigil mission invite cancel 12D3KooW") {
		t.Errorf("mission invite stderr does not say how to cancel it: %q", errs)
	}

	heron, id := newInvite(t, lead, "--label", "Heron")
	list := invites(t, lead)
	if len(list) != 2 || list[id].Status != "unused" || str(list[id].Label) != "Heron" || list[id].Role != "observer" {
		t.Fatalf("invites before anyone joins: %+v, want Heron's invite unused among 2", list)
	}

	phone1, key1, _ := member(t, "phone1", heron)
	carry(t, phone1, lead)
	if l := invites(t, lead)[id]; l.Status != "redeemed" || !sameSet(l.RedeemedBy, key1) || !strings.Contains(l.Text, key1) {
		t.Fatalf("invite after one redemption: %+v, want redeemed by %s", l, key1)
	}
	if text := mustRun(t, lead, nil, "mission", "invites"); !strings.Contains(text, "redeemed by "+key1) {
		t.Errorf("mission invites text does not say who redeemed it:\n%s", text)
	}

	phone2, key2, _ := member(t, "phone2", heron)
	carry(t, phone2, lead)
	ms := members(t, lead)
	for _, k := range []string{key1, key2} {
		if m := ms[k]; !containsStr(m.Flags, "duplicate_token") || m.Standing != "duplicate" {
			t.Errorf("member %s: %+v, want duplicate_token and standing duplicate", k, m)
		}
	}
	if l := invites(t, lead)[id]; l.Status != "duplicate" || !sameSet(l.RedeemedBy, key1, key2) || !strings.Contains(l.Text, "used by 2 devices") {
		t.Errorf("invite redeemed twice: %+v", l)
	}
	out, errs, code = runVigil(t, lead, nil, "status", "--json")
	if code != 0 || decodeJSON[statusOut](t, out).DuplicateInvites != 1 || !strings.Contains(errs, "vigil mission confirm") {
		t.Errorf("status with a duplicate invite: exit %d, stdout %s, stderr %q; want duplicate_invites 1 and a hint", code, out, errs)
	}

	mustID(t, lead, nil, "mission", "confirm", key1)
	ms = members(t, lead)
	if m := ms[key1]; len(m.Flags) != 0 || m.Standing != "ok" {
		t.Errorf("confirmed device: %+v, want no flags, standing ok", m)
	}
	if m := ms[key2]; !containsStr(m.Flags, "invite_closed") || containsStr(m.Flags, "duplicate_token") || m.Standing != "invite_void" {
		t.Errorf("the other device: %+v, want invite_closed, standing invite_void", m)
	}
	if l := invites(t, lead)[id]; l.Status != "redeemed" || str(l.Confirmed) != key1 {
		t.Errorf("invite after confirm: %+v, want redeemed, confirmed %s", l, key1)
	}
	out, errs, _ = runVigil(t, lead, nil, "status", "--json")
	if decodeJSON[statusOut](t, out).DuplicateInvites != 0 || strings.Contains(errs, "mission confirm") {
		t.Errorf("status after confirm: %s / %q, want no duplicate invites", out, errs)
	}
}

// TestCancelInvite: a cancelled invite is listed cancelled, and a device
// that joins with it anyway is a member with standing invite_void once its
// member record reaches the coordinator. `mission confirm --all` confirms
// the single redemptions and leaves it out.
func TestCancelInvite(t *testing.T) {
	t.Parallel()
	lead, _, _ := newMission(t, "lead")
	lost, id := newInvite(t, lead, "--label", "Lost")
	kept, _ := newInvite(t, lead, "--label", "Kept")

	mustID(t, lead, nil, "mission", "invite", "cancel", id, "--reason", "left on the bus")
	if l := invites(t, lead)[id]; l.Status != "cancelled" {
		t.Fatalf("invite after cancel: %+v, want cancelled", l)
	}
	out, errs, code := runVigil(t, lead, nil, "mission", "cancel", id)
	wantFailure(t, "cancelling a cancelled invite", out, errs, code, exitError, "already cancelled")

	finder, finderKey, _ := member(t, "finder", lost)
	carry(t, finder, lead)
	_, keptKey, _ := func() (string, string, string) {
		h, k, r := member(t, "kept", kept)
		carry(t, h, lead)
		return h, k, r
	}()
	ms := members(t, lead)
	if m := ms[finderKey]; m.Standing != "invite_void" || !containsStr(m.Flags, "invite_revoked") {
		t.Errorf("device that joined with a cancelled invite: %+v, want standing invite_void, flag invite_revoked", m)
	}
	if m := ms[keptKey]; m.Standing != "ok" || len(m.Flags) != 0 {
		t.Errorf("device on a good invite: %+v", m)
	}
	if l := invites(t, lead)[id]; l.Status != "cancelled" || !sameSet(l.RedeemedBy, finderKey) {
		t.Errorf("cancelled invite after a redemption: %+v", l)
	}
	out, errs, code = runVigil(t, lead, nil, "mission", "confirm", finderKey)
	wantFailure(t, "confirming a device on a cancelled invite", out, errs, code, exitError, finderKey, "cancelled")

	out = mustRun(t, lead, nil, "mission", "confirm", "--all", "--json")
	if j := decodeJSON[map[string]any](t, out); j["confirmed"] != float64(1) || !idLine.MatchString(j["id"].(string)) {
		t.Errorf("confirm --all: %s, want the one good redemption confirmed", out)
	}
	// A second device on the kept invite is now closed out at once.
	late, lateKey, _ := member(t, "late", kept)
	carry(t, late, lead)
	if m := members(t, lead)[lateKey]; m.Standing != "invite_void" || !containsStr(m.Flags, "invite_closed") {
		t.Errorf("second device on an invite confirm --all closed: %+v", m)
	}
	out, errs, code = runVigil(t, lead, nil, "mission", "confirm", "--all")
	wantFailure(t, "confirm --all with nothing left", out, errs, code, exitError, "already confirmed")
}

// TestRevokeStartsEpoch: revoking prints the new epoch and voids the
// member's invite: another device redeeming the same code is flagged
// invite_revoked.
func TestRevokeStartsEpoch(t *testing.T) {
	t.Parallel()
	lead, _, _ := newMission(t, "lead")
	code := invite(t, lead, "--role", "observer")
	obs, obsKey, _ := member(t, "observer", code)
	carry(t, obs, lead)
	epochs := status(t, lead).Records["epoch"]

	out, errs, rc := runVigil(t, lead, nil, "mission", "revoke", obsKey, "--reason", "phone seized")
	if rc != 0 || !idLine.MatchString(strings.TrimSpace(out)) {
		t.Fatalf("revoke: exit %d, stdout %q, stderr %q", rc, out, errs)
	}
	for _, want := range []string{"Revoked " + obsKey, "cannot be redeemed again", "new secret epoch"} {
		if !strings.Contains(errs, want) {
			t.Errorf("revoke stderr %q does not say %q", errs, want)
		}
	}
	if n := status(t, lead).Records["epoch"]; n != epochs+1 {
		t.Errorf("epoch records after revoke: %d, want %d", n, epochs+1)
	}

	// --json names the epoch record.
	obs2, obs2Key, _ := member(t, "observer2", invite(t, lead, "--role", "observer"))
	carry(t, obs2, lead)
	j := decodeJSON[map[string]any](t, mustRun(t, lead, nil, "mission", "revoke", obs2Key, "--accept-none", "--json"))
	if e, _ := j["epoch"].(string); !idLine.MatchString(e) || j["accepted"] != float64(0) || j["member"] != obs2Key {
		t.Errorf("revoke --json: %v, want member, accepted 0 and the epoch record ID", j)
	}

	copycat, copyKey, _ := member(t, "copycat", code)
	carry(t, copycat, lead)
	ms := members(t, lead)
	if m := ms[copyKey]; !containsStr(m.Flags, "invite_revoked") || m.Standing != "invite_void" {
		t.Errorf("second redemption of a revoked member's code: %+v, want invite_revoked, standing invite_void", m)
	}
	if m := ms[obsKey]; !containsStr(m.Flags, "revoked") || m.Standing != "revoked" {
		t.Errorf("revoked member: %+v", m)
	}
}

// TestTrustBadInput: confirm and cancel refuse what they cannot act on
// with one line and change nothing.
func TestTrustBadInput(t *testing.T) {
	t.Parallel()
	lead, leadKey, _ := newMission(t, "lead")
	_, strangerKey := initHome(t, "stranger")
	obs, obsKey, _ := member(t, "observer", invite(t, lead, "--role", "observer"))
	carry(t, obs, lead)
	before := status(t, lead)

	for _, c := range []struct {
		what  string
		args  []string
		code  int
		names []string
	}{
		{"confirm a non-member", []string{"mission", "confirm", strangerKey}, exitError, []string{strangerKey, "not a member"}},
		{"confirm the founder", []string{"mission", "confirm", leadKey}, exitError, []string{"founded"}},
		{"confirm without a member", []string{"mission", "confirm"}, exitUsage, []string{"MEMBER", "--all"}},
		{"confirm a member and --all", []string{"mission", "confirm", obsKey, "--all"}, exitUsage, []string{"not both"}},
		{"cancel garbage", []string{"mission", "invite", "cancel", "not-an-invite"}, exitError, []string{"not-an-invite", "not an invite ID"}},
		{"cancel an unknown key", []string{"mission", "invite", "cancel", strangerKey}, exitError, []string{strangerKey, "no invite"}},
		{"cancel a member", []string{"mission", "cancel", obsKey}, exitError, []string{obsKey, "mission revoke"}},
		{"cancel without an ID", []string{"mission", "invite", "cancel"}, exitUsage, []string{"INVITE_ID"}},
		{"unknown mission subcommand", []string{"mission", "approve"}, exitUsage, []string{"confirm", "invites"}},
	} {
		out, errs, code := runVigil(t, lead, nil, c.args...)
		wantFailure(t, c.what, out, errs, code, c.code, c.names...)
	}
	if after := status(t, lead); !sameCounts(before, after) {
		t.Errorf("refused commands changed the store: %v -> %v", before.Records, after.Records)
	}

	// Only coordinators confirm.
	out, errs, code := runVigil(t, obs, nil, "mission", "confirm", obsKey)
	wantFailure(t, "observer confirms", out, errs, code, exitError, "observer")
}
