package incident

// Regression tests for bugs found by the test suite and fixed: a sealed
// genesis crashing invite decoding, verdicts that depended on whether a role
// upgrade arrived first, and a revoked coordinator confirming its own
// records.

import (
	"slices"
	"testing"
)

// sealedGenesis is a correctly signed genesis with a sealed part: Decode
// accepts it, since it only forbids the mission field in a genesis.
func sealedGenesis(t *testing.T) []byte {
	s := signerFor(t, "sealed-genesis")
	return rawRecord(t, s, Record{Version: SchemaVersion, Author: s.pub[:], Kind: KindMission,
		Created: t0.UnixMilli(), Payload: mustMarshal(t, SealedEnvelope{}), Sealed: []byte{1}})
}

// mustNotPanic runs fn and fails the test, instead of crashing the binary,
// if it panics.
func mustNotPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s panicked: %v", what, r)
		}
	}()
	fn()
}

func TestSealedGenesisIsRejected(t *testing.T) {
	raw := sealedGenesis(t)
	g, err := Decode(raw)
	if err == nil {
		mustNotPanic(t, "NewMissionState", func() { _, err = NewMissionState(g) })
	}
	if !IsRejected(err) {
		t.Fatalf("a sealed genesis: err = %v, want it rejected", err)
	}
	code, err := EncodeInvite(Invite{Genesis: raw, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	mustNotPanic(t, "DecodeInvite", func() { _, err = DecodeInvite(code) })
	wantInviteErr(t, err, "genesis")
}

// A device enrolled as an observer can later be made a coordinator with a
// bound coordinator invite (store.Join allows it). Whether its review, or a
// member record redeeming a token it issued, is accepted must not depend on
// whether the upgrade arrived first: FieldError promises "rejected
// everywhere, whatever order records arrive in".
func TestRoleUpgradeOrderIndependent(t *testing.T) {
	f := newFixture(t, "role-upgrade")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	rep := f.accept(f.report(obs, nil))
	d, asObserver := f.enrollRecord(f.founder, "d", RoleObserver)
	da := d.Author()
	asCoordinator := f.memberRecord(d, f.token(f.founder, RoleCoordinator, "promoted", &da))
	review := f.review(d, rep, "verified")
	joiner := f.memberRecord(f.signer("joiner"), f.token(d, RoleObserver, "", nil))

	run := func(order ...*Signed) *node {
		n := newNode(t, f.genesis.Raw)
		obsMember, _ := f.ms.Member(obs.Author())
		for _, raw := range []*Signed{f.src[obsMember.Record], rep, asObserver} {
			n.receive(raw.Raw)
		}
		for _, s := range order {
			n.receive(s.Raw)
		}
		return n
	}
	upgradeFirst := run(asCoordinator, review, joiner)
	upgradeLast := run(review, joiner, asCoordinator)
	for _, s := range []*Signed{review, joiner} {
		if upgradeFirst.held[s.ID] == nil {
			t.Fatalf("%s: not accepted even with the upgrade first: %v", s.Kind, upgradeFirst.rejected[s.ID])
		}
		if upgradeLast.held[s.ID] == nil {
			t.Errorf("%s accepted when the upgrade came first, but %v when it came last", s.Kind, upgradeLast.rejected[s.ID])
		}
	}
}

// A revoked coordinator must not be able to confirm its own records: the
// unconfirmed flag clears when "a coordinator reviews it", and a revoked
// device reviewing itself defeats the revocation.
func TestRevokedCoordinatorCannotSelfConfirm(t *testing.T) {
	f := newFixture(t, "self-confirm")
	rogue := f.enroll(f.founder, "rogue", RoleCoordinator)
	f.accept(f.sign(f.founder, KindRevoke, RevokePayload{Member: rogue.pub[:], Reason: "device seized"}))
	forged := f.accept(f.report(rogue, nil))
	self := f.accept(f.review(rogue, forged, "verified"))
	v := fold(t, f, forged, self)
	if !slices.Contains(v.Flags, FlagUnconfirmed) {
		t.Fatalf("flags = %q: a revoked coordinator's own review confirmed its report", v.Flags)
	}
	// A review by a coordinator in good standing does confirm it.
	good := f.accept(f.review(f.founder, forged, "rejected", self))
	if v := fold(t, f, forged, self, good); slices.Contains(v.Flags, FlagUnconfirmed) {
		t.Fatalf("flags = %q after a review by the founder", v.Flags)
	}
}
