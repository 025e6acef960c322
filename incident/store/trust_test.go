package store_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Tests of store/trust.go: secret epochs and their secrets, and the
// coordinator's trust actions (revoke, confirm, invites and cancelling
// them).

// epochNumber returns the number an epoch record carries.
func epochNumber(t testing.TB, rec *incident.Signed) uint64 {
	t.Helper()
	p, err := rec.DecodePayload()
	if err != nil {
		t.Fatalf("DecodePayload(%s): %v", rec.Kind, err)
	}
	ep, ok := p.(*incident.EpochPayload)
	if !ok {
		t.Fatalf("%s record, payload %T; want an epoch", rec.Kind, p)
	}
	return ep.Number
}

// wantSecrets requires every secret s holds to belong to an epoch that
// counts and match its commitment, and s to hold exactly the secrets of
// the epochs listed. It returns the secrets.
func wantSecrets(t testing.TB, s *store.Store, epochs ...incident.ID) map[incident.ID][]byte {
	t.Helper()
	got, err := s.EpochSecrets()
	if err != nil {
		t.Fatalf("EpochSecrets: %v", err)
	}
	ms := mustMission(t, s)
	for id, secret := range got {
		e, ok := ms.EpochByID(id)
		if !ok {
			t.Errorf("EpochSecrets holds a secret for %s, no epoch that counts", id)
			continue
		}
		if incident.EpochCommit(ms.ID, secret) != e.Commit {
			t.Errorf("the secret held for epoch %d (%s) does not match its commitment", e.Number, id)
		}
	}
	if len(got) != len(epochs) {
		t.Errorf("EpochSecrets holds %d secrets, want %d", len(got), len(epochs))
	}
	for _, id := range epochs {
		if _, ok := got[id]; !ok {
			t.Errorf("EpochSecrets holds no secret for %s", id)
		}
	}
	return got
}

// epochIDs returns the IDs of the epochs that count in s, in order.
func epochIDs(t testing.TB, s *store.Store) []incident.ID {
	t.Helper()
	var out []incident.ID
	for _, e := range mustMission(t, s).Epochs() {
		out = append(out, e.ID)
	}
	return out
}

// A new mission starts at epoch 1; each NewEpoch numbers one higher and
// keeps the secret its record commits to, across a reopen.
func TestNewEpoch(t *testing.T) {
	clk := newClock(t0)
	f, home := initHome(t, t.TempDir(), store.Options{Now: clk.Now})
	if _, err := f.EpochSecrets(); !errors.Is(err, store.ErrNoMission) {
		t.Fatalf("EpochSecrets without a mission = %v, want ErrNoMission", err)
	}
	if _, err := f.NewEpoch(); !errors.Is(err, store.ErrNoMission) {
		t.Fatalf("NewEpoch without a mission = %v, want ErrNoMission", err)
	}
	createMission(t, f)
	ms := mustMission(t, f)
	if n := ms.EpochNumber(); n != 1 || len(ms.Epochs()) != 1 {
		t.Fatalf("new mission: EpochNumber %d, %d epochs; want epoch 1", n, len(ms.Epochs()))
	}
	first := ms.Epochs()[0]
	if first.By != f.Author() {
		t.Fatalf("epoch 1 by %s, want the founder", first.By)
	}
	wantSecrets(t, f, first.ID)
	want := []incident.ID{first.ID}
	for n := uint64(2); n <= 3; n++ {
		clk.Advance(time.Minute)
		rec, err := f.NewEpoch()
		if err != nil {
			t.Fatalf("NewEpoch: %v", err)
		}
		if rec.Kind != incident.KindEpoch || epochNumber(t, rec) != n {
			t.Fatalf("NewEpoch made a %s record numbered %d, want epoch %d", rec.Kind, epochNumber(t, rec), n)
		}
		want = append(want, rec.ID)
		if got := mustMission(t, f).EpochNumber(); got != n {
			t.Fatalf("EpochNumber = %d, want %d", got, n)
		}
	}
	if got := epochIDs(t, f); !slices.Equal(got, want) {
		t.Fatalf("Epochs = %v, want %v", got, want)
	}
	secrets := wantSecrets(t, f, want...)
	seen := map[string]bool{}
	for _, s := range secrets {
		if len(s) != 32 || seen[string(s)] {
			t.Fatalf("epoch secrets are not fresh 32-byte secrets: %x", s)
		}
		seen[string(s)] = true
	}
	if ok, err := f.EnsureEpoch(); ok || err != nil {
		t.Fatalf("EnsureEpoch with epochs = %v, %v; want false", ok, err)
	}
	wantCounts(t, f, map[incident.Kind]int{incident.KindMission: 1, incident.KindEpoch: 3})

	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f = reopen(t, home, passphrase, store.Options{Now: clk.Now})
	if got := epochIDs(t, f); !slices.Equal(got, want) {
		t.Fatalf("after a reopen, Epochs = %v, want %v", got, want)
	}
	again := wantSecrets(t, f, want...)
	for id, s := range secrets {
		if !bytes.Equal(again[id], s) {
			t.Fatalf("after a reopen, the secret of %s changed", id)
		}
	}
}

// A member keeps a secret handed to it only when it holds the epoch and
// the secret matches the commitment; only coordinators start epochs.
func TestAddEpochSecret(t *testing.T) {
	clk := newClock(t0)
	o := store.Options{Now: clk.Now}
	f := openBadger(t, o)
	createMission(t, f)
	obs := openBadger(t, o)
	enroll(t, f, obs, incident.RoleObserver, "observer")
	e1 := epochIDs(t, f)[0]
	secret := wantSecrets(t, f, e1)[e1]

	if added, err := obs.AddEpochSecret(e1, secret); err == nil || added {
		t.Fatalf("AddEpochSecret for an epoch record not held = %v, %v; want an error", added, err)
	}
	syncAll(t, f, obs)
	wantSecrets(t, obs)
	wrong := bytes.Clone(secret)
	wrong[0] ^= 1
	for name, c := range map[string]struct {
		id     incident.ID
		secret []byte
	}{
		"a wrong secret":             {e1, wrong},
		"no secret":                  {e1, nil},
		"an unknown epoch":           {incident.ID{1, 2, 3}, secret},
		"the genesis as an epoch ID": {mustMission(t, obs).ID, secret},
	} {
		if added, err := obs.AddEpochSecret(c.id, c.secret); err == nil || added {
			t.Errorf("AddEpochSecret with %s = %v, %v; want an error", name, added, err)
		}
	}
	wantSecrets(t, obs)
	for i := range 2 { // the second time changes nothing
		if added, err := obs.AddEpochSecret(e1, secret); err != nil || added != (i == 0) {
			t.Fatalf("AddEpochSecret, time %d = %v, %v; want added the first time only", i+1, added, err)
		}
		if got := wantSecrets(t, obs, e1); !bytes.Equal(got[e1], secret) {
			t.Fatal("the secret kept is not the one given")
		}
	}
	// An epoch the member has not received yet: refused until it has.
	clk.Advance(time.Minute)
	e2, err := f.NewEpoch()
	if err != nil {
		t.Fatal(err)
	}
	secret2 := wantSecrets(t, f, e1, e2.ID)[e2.ID]
	if _, err := obs.AddEpochSecret(e2.ID, secret2); err == nil {
		t.Fatal("AddEpochSecret for an epoch not held succeeded")
	}
	mustAdd(t, f, obs, e2.ID)
	if added, err := obs.AddEpochSecret(e2.ID, secret2); err != nil || !added {
		t.Fatalf("AddEpochSecret(epoch 2) = %v, %v", added, err)
	}
	wantSecrets(t, obs, e1, e2.ID)

	if _, err := obs.NewEpoch(); err == nil {
		t.Fatal("an observer started an epoch")
	}
	if ok, err := obs.EnsureEpoch(); ok || err != nil {
		t.Fatalf("EnsureEpoch on an observer = %v, %v; want false, nil", ok, err)
	}
	if n := mustCounts(t, obs)[incident.KindEpoch]; n != 2 {
		t.Fatalf("the observer holds %d epoch records, want 2", n)
	}
}

// Revoke writes the revocation and a new epoch; the founder cannot be
// revoked, nor a non-member.
func TestRevoke(t *testing.T) {
	clk := newClock(t0)
	o := store.Options{Now: clk.Now}
	f := openBadger(t, o)
	createMission(t, f)
	obs, obs2 := openBadger(t, o), openBadger(t, o)
	member := enroll(t, f, obs, incident.RoleObserver, "observer")
	member2 := enroll(t, f, obs2, incident.RoleObserver, "observer 2")
	clk.Advance(time.Minute)
	rep := mustPut(t, obs, incident.KindReport, report("polling.late_opening", "S1", at(0, 30), "Opened late"))
	mustAdd(t, obs, f, rep.ID)

	before := mustCounts(t, f)
	for name, a := range map[string]incident.Author{"the founder": f.Author(), "a stranger": mustSigner(t, 9).Author()} {
		if _, err := f.Revoke(a, "no", false); err == nil {
			t.Errorf("Revoke(%s) succeeded", name)
		}
	}
	if got := mustCounts(t, f); !mapsEqual(got, before) {
		t.Fatalf("refused revocations stored records: %v, before %v", got, before)
	}

	clk.Advance(time.Minute)
	rv, err := f.Revoke(obs.Author(), "phone lost", false)
	if err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if rv.Record == nil || rv.Record.Kind != incident.KindRevoke || rv.Epoch == nil || rv.Epoch.Kind != incident.KindEpoch {
		t.Fatalf("Revoke = %+v; want a revoke and an epoch record", rv)
	}
	if n := epochNumber(t, rv.Epoch); n != 2 || rv.Accepted != 2 {
		t.Fatalf("Revoke started epoch %d, accepted %d records; want epoch 2, the member record and the report", n, rv.Accepted)
	}
	ms := mustMission(t, f)
	if err := ms.Standing(obs.Author()); !errors.Is(err, incident.ErrRevoked) {
		t.Fatalf("Standing(revoked) = %v", err)
	}
	revs := ms.Revocations(obs.Author())
	if len(revs) != 1 || revs[0].ID != rv.Record.ID || revs[0].Reason != "phone lost" || !revs[0].Accepted[rep.ID] || !revs[0].Accepted[member] {
		t.Fatalf("Revocations = %+v", revs)
	}
	if !ms.Confirmed(obs.Author(), rep.ID) {
		t.Fatal("the revoked member's report is not confirmed")
	}
	if ms.EpochNumber() != 2 {
		t.Fatalf("EpochNumber = %d, want 2", ms.EpochNumber())
	}
	wantSecrets(t, f, epochIDs(t, f)...)

	clk.Advance(time.Minute)
	rv, err = f.Revoke(obs2.Author(), "", true)
	if err != nil || rv.Accepted != 0 || epochNumber(t, rv.Epoch) != 3 {
		t.Fatalf("Revoke accepting none = %+v, %v; want none accepted, epoch 3", rv, err)
	}
	ms = mustMission(t, f)
	if ms.Confirmed(obs2.Author(), member2) {
		t.Fatal("a member record not accepted is confirmed")
	}
	if err := ms.Standing(f.Author()); err != nil {
		t.Fatalf("Standing(founder) = %v", err)
	}
	wantSecrets(t, f, epochIDs(t, f)...)
}

// Confirm with no member confirms every redemption that is alone on its
// invite; one redeemed twice waits for a coordinator to name a member.
func TestConfirm(t *testing.T) {
	clk := newClock(t0)
	o := store.Options{Now: clk.Now}
	f := openBadger(t, o)
	createMission(t, f)
	obs1, obs2 := openBadger(t, o), openBadger(t, o)
	m1 := enroll(t, f, obs1, incident.RoleObserver, "one")
	m2 := enroll(t, f, obs2, incident.RoleObserver, "two")

	rec, err := f.Confirm()
	if err != nil {
		t.Fatalf("Confirm(): %v", err)
	}
	p, err := rec.DecodePayload()
	if err != nil {
		t.Fatal(err)
	}
	var listed []incident.ID
	for _, b := range p.(*incident.ConfirmPayload).Members {
		var id incident.ID
		copy(id[:], b)
		listed = append(listed, id)
	}
	if !sameSet(listed, []incident.ID{m1, m2}) {
		t.Fatalf("Confirm() listed %v, want both member records", listed)
	}
	ms := mustMission(t, f)
	for _, s := range []*store.Store{obs1, obs2} {
		m, _ := ms.Member(s.Author())
		if !ms.RedemptionConfirmed(m) || ms.Standing(s.Author()) != nil {
			t.Fatalf("%s: confirmed %v, standing %v", s.Author(), ms.RedemptionConfirmed(m), ms.Standing(s.Author()))
		}
	}
	if _, err := f.Confirm(); err == nil {
		t.Fatal("Confirm() with nothing left to confirm succeeded")
	}

	// One code, two devices.
	code, err := f.Invite(store.InviteRequest{Role: incident.RoleObserver, Label: "photographed"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := openBadger(t, o), openBadger(t, o)
	var recs []incident.ID
	for _, s := range []*store.Store{a, b} {
		id, err := s.Join(code)
		if err != nil {
			t.Fatalf("Join: %v", err)
		}
		mustAdd(t, s, f, id)
		recs = append(recs, id)
	}
	ms = mustMission(t, f)
	for _, s := range []*store.Store{a, b} {
		if err := ms.Standing(s.Author()); !errors.Is(err, incident.ErrDuplicate) {
			t.Fatalf("Standing of a redeemer of a code used twice = %v, want ErrDuplicate", err)
		}
	}
	if d := ms.Duplicates(); len(d) != 1 || len(d[0]) != 2 {
		t.Fatalf("Duplicates = %v, want one invite with two redemptions", d)
	}
	if _, err := f.Confirm(); err == nil {
		t.Fatal("Confirm() picked between two redemptions of one code")
	}
	if n := mustCounts(t, f)[incident.KindConfirm]; n != 1 {
		t.Fatalf("%d confirm records, want 1", n)
	}
	clk.Advance(time.Minute)
	epochBefore := mustMission(t, f).EpochNumber()
	if _, err := f.Confirm(a.Author()); err != nil {
		t.Fatalf("Confirm(a): %v", err)
	}
	ms = mustMission(t, f)
	// b may have been handed member secrets before a's redemption was
	// seen: closing the invite to it starts a new epoch.
	if got := ms.EpochNumber(); got != epochBefore+1 {
		t.Fatalf("epoch %d after a confirm that shut a key out, want %d", got, epochBefore+1)
	}
	if _, err := f.Confirm(a.Author()); err == nil {
		t.Error("confirming the same redemption again succeeded")
	}
	if _, err := f.Confirm(f.Author()); err == nil {
		t.Error("Confirm(the founder) succeeded")
	}
	if err := ms.Standing(a.Author()); err != nil {
		t.Fatalf("Standing(confirmed) = %v", err)
	}
	if err := ms.Standing(b.Author()); !errors.Is(err, incident.ErrInviteVoid) {
		t.Fatalf("Standing(the other redeemer) = %v, want ErrInviteVoid", err)
	}
	bRec, _ := f.Get(recs[1])
	if flags := incident.RecordFlags(bRec, ms, t0); !slices.Equal(flags, []string{incident.FlagInviteClosed, incident.FlagUnconfirmed}) {
		t.Fatalf("flags of the other redeemer's member record = %q", flags)
	}
	if d := ms.Duplicates(); len(d) != 0 {
		t.Fatalf("Duplicates after the confirm = %v", d)
	}

	if _, err := f.Confirm(mustSigner(t, 9).Author()); err == nil {
		t.Error("Confirm(a stranger) succeeded")
	}
	if _, err := f.Revoke(obs1.Author(), "", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Confirm(obs1.Author()); err == nil {
		t.Error("Confirm(a revoked member) succeeded")
	}
}

// inviteKeyOf returns the invite key a code's token names.
func inviteKeyOf(t testing.TB, code string) incident.Author {
	t.Helper()
	p, err := incident.DecodeInvite(code)
	if err != nil {
		t.Fatalf("DecodeInvite: %v", err)
	}
	id, ok := incident.InviteID(p.Token)
	if !ok {
		t.Fatal("the store issued an invite without an invite key")
	}
	return id
}

// Invites lists what this device issued, oldest first, with who redeemed
// each, across a reopen.
func TestInvites(t *testing.T) {
	clk := newClock(t0)
	o := store.Options{Now: clk.Now}
	f, home := initHome(t, t.TempDir(), o)
	if _, err := f.Invites(); !errors.Is(err, store.ErrNoMission) {
		t.Fatalf("Invites without a mission = %v, want ErrNoMission", err)
	}
	createMission(t, f)
	if list, err := f.Invites(); err != nil || len(list) != 0 {
		t.Fatalf("Invites of a new mission = %v, %v", list, err)
	}
	north, err := f.Invite(store.InviteRequest{Role: incident.RoleObserver, Label: "north"})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	expires := at(48, 0)
	relay, err := f.Invite(store.InviteRequest{Role: incident.RoleCarrier, Label: "relay", Expires: expires})
	if err != nil {
		t.Fatal(err)
	}
	obs := openBadger(t, o)
	member, err := obs.Join(north)
	if err != nil {
		t.Fatal(err)
	}
	check := func(redeemed []incident.Author) {
		t.Helper()
		list, err := f.Invites()
		if err != nil || len(list) != 2 {
			t.Fatalf("Invites = %+v, %v; want 2", list, err)
		}
		n, r := list[0], list[1]
		if n.ID != inviteKeyOf(t, north) || n.Role != incident.RoleObserver || n.Label != "north" || n.Created != t0.UnixMilli() || n.Expires != 0 {
			t.Errorf("first invite = %+v", n)
		}
		if r.ID != inviteKeyOf(t, relay) || r.Role != incident.RoleCarrier || r.Label != "relay" ||
			r.Created != t0.Add(time.Minute).UnixMilli() || r.Expires != expires.UnixMilli() {
			t.Errorf("second invite = %+v", r)
		}
		if !slices.Equal(n.RedeemedBy, redeemed) || len(r.RedeemedBy) != 0 || n.Cancelled || r.Cancelled {
			t.Errorf("redeemed by %v and %v, cancelled %v %v; want %v, none, neither cancelled", n.RedeemedBy, r.RedeemedBy, n.Cancelled, r.Cancelled, redeemed)
		}
	}
	check(nil) // the join is on another device
	mustAdd(t, obs, f, member)
	check([]incident.Author{obs.Author()})
	if list, err := obs.Invites(); err != nil || len(list) != 0 {
		t.Fatalf("the observer's Invites = %v, %v; want none", list, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f = reopen(t, home, passphrase, o)
	check([]incident.Author{obs.Author()})
}

// CancelInvite revokes an invite's key: the invite shows cancelled, and a
// device that redeems it anyway is out and its records flagged.
func TestCancelInvite(t *testing.T) {
	clk := newClock(t0)
	o := store.Options{Now: clk.Now}
	f := openBadger(t, o)
	createMission(t, f)
	code, err := f.Invite(store.InviteRequest{Role: incident.RoleObserver, Label: "lost card"})
	if err != nil {
		t.Fatal(err)
	}
	inv := inviteKeyOf(t, code)
	clk.Advance(time.Minute)
	rec, err := f.CancelInvite(inv, "")
	if err != nil {
		t.Fatalf("CancelInvite: %v", err)
	}
	p, err := rec.DecodePayload()
	if err != nil {
		t.Fatal(err)
	}
	if rp := p.(*incident.RevokePayload); rec.Kind != incident.KindRevoke || !bytes.Equal(rp.Member, inv[:]) || rp.Reason == "" || len(rp.Accepted) != 0 {
		t.Fatalf("CancelInvite wrote a %s record %+v; want a revoke of the invite key with a reason", rec.Kind, rp)
	}
	list, err := f.Invites()
	if err != nil || len(list) != 1 || list[0].ID != inv || !list[0].Cancelled || len(list[0].RedeemedBy) != 0 {
		t.Fatalf("Invites = %+v, %v; want the invite, cancelled", list, err)
	}
	if _, err := f.CancelInvite(inv, "again"); err == nil {
		t.Fatal("cancelling a cancelled invite succeeded")
	}
	if _, err := f.CancelInvite(f.Author(), ""); err == nil {
		t.Fatal("CancelInvite(a member) succeeded")
	}
	if n := mustCounts(t, f)[incident.KindRevoke]; n != 1 {
		t.Fatalf("%d revoke records, want 1", n)
	}
	// Nobody had redeemed it: nobody holds secrets through it, no epoch.
	if n := mustMission(t, f).EpochNumber(); n != 1 {
		t.Fatalf("epoch %d after cancelling an unredeemed invite, want 1", n)
	}
	// A redeemed invite, cancelled: its redeemer may hold secrets, so a
	// new epoch starts.
	code2, err := f.Invite(store.InviteRequest{Role: incident.RoleObserver, Label: "misused"})
	if err != nil {
		t.Fatal(err)
	}
	user := openBadger(t, o)
	used, err := user.Join(code2)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, user, f, used)
	if _, err := f.CancelInvite(inviteKeyOf(t, code2), "misused"); err != nil {
		t.Fatal(err)
	}
	if n := mustMission(t, f).EpochNumber(); n != 2 {
		t.Fatalf("epoch %d after cancelling a redeemed invite, want 2", n)
	}
	if _, err := f.CancelInvite(mustSigner(t, 11).Author(), ""); err == nil {
		t.Fatal("CancelInvite of a key nobody issued or redeemed succeeded")
	}

	// The joining device has not heard of the cancel: it joins, and the
	// coordinator holds its member record (valid) but keeps it out.
	joiner := openBadger(t, o)
	member, err := joiner.Join(code)
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	mustAdd(t, joiner, f, member)
	ms := mustMission(t, f)
	if err := ms.Standing(joiner.Author()); !errors.Is(err, incident.ErrInviteVoid) {
		t.Fatalf("Standing of a device that redeemed a cancelled invite = %v, want ErrInviteVoid", err)
	}
	mrec, _ := f.Get(member)
	if flags := incident.RecordFlags(mrec, ms, t0); !slices.Equal(flags, []string{incident.FlagInviteRevoked, incident.FlagUnconfirmed}) {
		t.Fatalf("flags of its member record = %q", flags)
	}
	list, _ = f.Invites()
	if len(list) != 2 || !slices.Equal(list[0].RedeemedBy, []incident.Author{joiner.Author()}) || !list[0].Cancelled {
		t.Fatalf("Invites = %+v; want the cancelled invite, redeemed by the joiner", list)
	}
	// Once the joiner syncs, it agrees about itself.
	syncAll(t, f, joiner)
	if err := mustMission(t, joiner).Standing(joiner.Author()); !errors.Is(err, incident.ErrInviteVoid) {
		t.Fatalf("the joiner's own view of its standing = %v, want ErrInviteVoid", err)
	}
}

// Only the founder starts a mission's first epoch: a second coordinator
// whose node starts before it meets the founder's would hold a first
// epoch of its own, and the two desks could not hello each other.
func TestFirstEpochIsTheFounders(t *testing.T) {
	founder := openBadger(t, store.Options{})
	createMission(t, founder)
	desk := openBadger(t, store.Options{})
	enroll(t, founder, desk, incident.RoleCoordinator, "desk two")
	// Joined, not yet synced: the founder's epoch is not here yet.
	if n := mustCounts(t, desk)[incident.KindEpoch]; n != 0 {
		t.Fatalf("the second desk holds %d epochs before it synced", n)
	}
	if ok, err := desk.EnsureEpoch(); ok || err != nil {
		t.Fatalf("EnsureEpoch on a second coordinator = %v, %v; want false, nil", ok, err)
	}
	if n := mustCounts(t, desk)[incident.KindEpoch]; n != 0 {
		t.Fatalf("the second desk started an epoch of its own: %d", n)
	}
	syncAll(t, founder, desk)
	if ep := mustMission(t, desk).Epochs(); len(ep) != 1 {
		t.Fatalf("after the sync the desk counts %d epochs, want the founder's", len(ep))
	}
}
