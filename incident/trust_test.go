package incident

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Tests of trust.go: invite keys and the countersignature a member record
// carries, a member's standing (revocations, duplicated and confirmed
// invites, cancelled invites), and secret epochs.

// inviteToken returns a new-form token for role signed by issuer, naming
// a fresh deterministic invite key, and that key's seed (what the code
// carries). A coordinator token is bound to forKey.
func (f *fixture) inviteToken(issuer *Signer, role, label string, forKey *Author) (Token, []byte) {
	f.tb.Helper()
	nonce := f.nonce()
	seed := seedFor(fmt.Sprintf("%s/invite-key/%x", f.name, nonce))
	t := Token{Mission: f.ms.ID.Bytes(), Role: role, Label: label, Nonce: nonce,
		Invite: ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)}
	if forKey != nil {
		t.For = forKey[:]
	}
	return issuer.SignToken(t), seed
}

// redeem signs member's member record for tok, countersigned with the
// invite key seed (no countersignature when seed is nil), without judging
// it.
func (f *fixture) redeem(member *Signer, tok Token, seed []byte) *Signed {
	f.tb.Helper()
	p := MemberPayload{Token: tok}
	if seed != nil {
		p.InviteSig = SignRedeem(seed, f.ms.ID, member.Author())
	}
	return f.sign(member, KindMember, p)
}

// inviteCode encodes an invite for tok carrying the invite key seed.
func (f *fixture) inviteCode(tok Token, seed []byte) string {
	f.tb.Helper()
	code, err := EncodeInvite(Invite{Genesis: f.genesis.Raw, Token: tok, Secret: testSecret, InviteKey: seed})
	if err != nil {
		f.tb.Fatalf("EncodeInvite: %v", err)
	}
	return code
}

// A member record made from a token that names an invite key is valid
// only with that key's signature over the mission and the record's own
// author; a token without one takes no countersignature.
func TestRedeemCountersignature(t *testing.T) {
	f := newFixture(t, "redeem-sig")
	otherMission := newFixture(t, "redeem-sig-other")
	stranger := f.signer("stranger")
	cases := []struct {
		name  string
		make  func(member *Signer) *Signed
		field string // "" for valid
	}{
		{"new-form token, countersigned", func(m *Signer) *Signed {
			tok, seed := f.inviteToken(f.founder, RoleObserver, "", nil)
			return f.redeem(m, tok, seed)
		}, ""},
		{"new-form coordinator token, countersigned", func(m *Signer) *Signed {
			a := m.Author()
			tok, seed := f.inviteToken(f.founder, RoleCoordinator, "deputy", &a)
			return f.redeem(m, tok, seed)
		}, ""},
		{"old-form token, no countersignature", func(m *Signer) *Signed {
			return f.memberRecord(m, f.token(f.founder, RoleObserver, "", nil))
		}, ""},
		{"new-form token without the countersignature", func(m *Signer) *Signed {
			tok, _ := f.inviteToken(f.founder, RoleObserver, "", nil)
			return f.redeem(m, tok, nil)
		}, "payload.invite_sig"},
		{"new-form token countersigned by another invite key", func(m *Signer) *Signed {
			tok, _ := f.inviteToken(f.founder, RoleObserver, "", nil)
			_, otherSeed := f.inviteToken(f.founder, RoleObserver, "", nil)
			return f.redeem(m, tok, otherSeed)
		}, "payload.invite_sig"},
		{"new-form token countersigned by the member's own key", func(m *Signer) *Signed {
			tok, _ := f.inviteToken(f.founder, RoleObserver, "", nil)
			return f.sign(m, KindMember, MemberPayload{Token: tok, InviteSig: edSign(m, RedeemMessage(f.ms.ID, m.Author()))})
		}, "payload.invite_sig"},
		{"new-form token countersigned for another author", func(m *Signer) *Signed {
			tok, seed := f.inviteToken(f.founder, RoleObserver, "", nil)
			return f.sign(m, KindMember, MemberPayload{Token: tok, InviteSig: SignRedeem(seed, f.ms.ID, stranger.Author())})
		}, "payload.invite_sig"},
		{"new-form token countersigned for another mission", func(m *Signer) *Signed {
			tok, seed := f.inviteToken(f.founder, RoleObserver, "", nil)
			return f.sign(m, KindMember, MemberPayload{Token: tok, InviteSig: SignRedeem(seed, otherMission.ms.ID, m.Author())})
		}, "payload.invite_sig"},
		{"new-form token with a truncated countersignature", func(m *Signer) *Signed {
			tok, seed := f.inviteToken(f.founder, RoleObserver, "", nil)
			return f.sign(m, KindMember, MemberPayload{Token: tok, InviteSig: SignRedeem(seed, f.ms.ID, m.Author())[:63]})
		}, "payload.invite_sig"},
		{"old-form token with a countersignature", func(m *Signer) *Signed {
			_, seed := f.inviteToken(f.founder, RoleObserver, "", nil)
			return f.sign(m, KindMember, MemberPayload{Token: f.token(f.founder, RoleObserver, "", nil),
				InviteSig: SignRedeem(seed, f.ms.ID, m.Author())})
		}, "payload.invite_sig"},
		{"token naming a 31-byte invite key", func(m *Signer) *Signed {
			tok, seed := f.inviteToken(f.founder, RoleObserver, "", nil)
			tok.Invite = tok.Invite[:31]
			tok = f.founder.SignToken(tok)
			return f.redeem(m, tok, seed)
		}, "token.invite"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			member := f.signer(fmt.Sprintf("member-%d", i))
			rec := c.make(member)
			err := f.validate(rec)
			if c.field != "" {
				wantField(t, err, c.field)
				return
			}
			if err != nil {
				t.Fatalf("Validate = %v, want valid", err)
			}
			// The new fields survive the wire form.
			var want MemberPayload
			mustDecodePayload(t, rec, &want)
			got, err := Decode(rec.Raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var gotP MemberPayload
			mustDecodePayload(t, got, &gotP)
			if !reflect.DeepEqual(gotP, want) {
				t.Fatalf("payload after Decode = %+v, want %+v", gotP, want)
			}
		})
	}
}

// Every member holds every member record, and so the token inside it; a
// token that names an invite key cannot enroll anyone but the device that
// held the code.
func TestRedeemMinting(t *testing.T) {
	f := newFixture(t, "redeem-mint")
	tok, seed := f.inviteToken(f.founder, RoleObserver, "Kibra team", nil)
	obs := f.signer("obs")
	synced := f.accept(f.redeem(obs, tok, seed))
	var mp MemberPayload
	mustDecodePayload(t, synced, &mp)
	if len(mp.InviteSig) == 0 {
		t.Fatal("the enrollment carries no countersignature")
	}
	minter := f.signer("minter")
	_, ownSeed := f.inviteToken(f.founder, RoleObserver, "", nil)
	for name, sig := range map[string][]byte{
		"the synced record's countersignature":            mp.InviteSig,
		"no countersignature":                             nil,
		"a countersignature by a key of its own":          SignRedeem(ownSeed, f.ms.ID, minter.Author()),
		"a countersignature by the observer's device key": edSign(obs, RedeemMessage(f.ms.ID, minter.Author())),
	} {
		t.Run(name, func(t *testing.T) {
			minted := f.sign(minter, KindMember, MemberPayload{Token: mp.Token, Recipient: mp.Recipient, InviteSig: sig})
			wantField(t, f.validate(minted), "payload.invite_sig")
		})
	}
	if err := f.ms.Standing(minter.Author()); !errors.Is(err, ErrNotMember) {
		t.Fatalf("Standing(minter) = %v, want ErrNotMember", err)
	}
	// An old-form token copied the same way still enrolls (that is what
	// duplicate_token and confirm are for: TestStanding).
	_, oldRec := f.enrollRecord(f.founder, "old", RoleObserver)
	var op MemberPayload
	mustDecodePayload(t, oldRec, &op)
	if err := f.validate(f.sign(minter, KindMember, op)); err != nil {
		t.Fatalf("a copied old-form token: Validate = %v, want valid", err)
	}
}

// An invite with an invite key gives a redemption countersigned for the
// joining device, and only for it.
func TestInviteRedemption(t *testing.T) {
	f := newFixture(t, "invite-redemption")
	tok, seed := f.inviteToken(f.founder, RoleObserver, "", nil)
	p, err := DecodeInvite(f.inviteCode(tok, seed))
	if err != nil {
		t.Fatalf("DecodeInvite: %v", err)
	}
	if !bytes.Equal(p.InviteKey, seed) {
		t.Fatal("the decoded invite lost its invite key")
	}
	if id, ok := InviteID(p.Token); !ok || !bytes.Equal(id[:], tok.Invite) {
		t.Fatalf("InviteID = %s, %v; want the token's invite key", id, ok)
	}
	joiner, thief := f.signer("joiner"), f.signer("thief")
	mp := p.Redemption(joiner.Author(), "age1example")
	if mp.Recipient != "age1example" || !ed25519.Verify(tok.Invite, RedeemMessage(f.ms.ID, joiner.Author()), mp.InviteSig) {
		t.Fatalf("Redemption = %+v, want the recipient and a countersignature for the joiner", mp)
	}
	// The thief signs the joiner's redemption as its own: refused.
	wantField(t, f.validate(f.sign(thief, KindMember, mp)), "payload.invite_sig")
	f.accept(f.sign(joiner, KindMember, mp))

	// An invite from before invite keys redeems without a countersignature.
	old := f.token(f.founder, RoleObserver, "", nil)
	p, err = DecodeInvite(f.invite(old))
	if err != nil {
		t.Fatalf("DecodeInvite(old form): %v", err)
	}
	if _, ok := InviteID(p.Token); ok {
		t.Fatal("InviteID of an old-form token is ok")
	}
	mp = p.Redemption(thief.Author(), "")
	if len(mp.InviteSig) != 0 {
		t.Fatalf("old-form redemption carries InviteSig %x", mp.InviteSig)
	}
	f.accept(f.sign(thief, KindMember, mp))
}

// DecodeInvite refuses an invite whose invite key is not the one its
// token names.
func TestDecodeInviteKey(t *testing.T) {
	f := newFixture(t, "invite-key")
	tok, seed := f.inviteToken(f.founder, RoleObserver, "", nil)
	_, otherSeed := f.inviteToken(f.founder, RoleObserver, "", nil)
	old := f.token(f.founder, RoleObserver, "", nil)
	if _, err := DecodeInvite(f.inviteCode(tok, seed)); err != nil {
		t.Fatalf("good invite: %v", err)
	}
	cases := []struct {
		name, code, mention string
	}{
		{"key of another invite", f.inviteCode(tok, otherSeed), "does not match"},
		{"key cut short", f.inviteCode(tok, seed[:31]), "does not match"},
		{"key one byte long", f.inviteCode(tok, seed[:1]), "does not match"},
		{"no key, the token names one", f.inviteCode(tok, nil), "does not match"},
		{"a key, the token names none", f.inviteCode(old, seed), "does not name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := DecodeInvite(c.code)
			if err == nil {
				t.Fatalf("DecodeInvite accepted it (mission %s)", p.GenesisRecord.ID)
			}
			wantInviteErr(t, err, c.mention)
		})
	}
}

// A level-0 build refuses key 9 of a token: a member record whose token
// names an invite key is not readable at level 0, one from before invite
// keys is; the trust kinds are new kinds to it.
func TestReadableAtInviteKey(t *testing.T) {
	f := newFixture(t, "readable-invite")
	_, oldRec := f.enrollRecord(f.founder, "old", RoleObserver)
	tok, seed := f.inviteToken(f.founder, RoleObserver, "", nil)
	newRec := f.accept(f.redeem(f.signer("new"), tok, seed))
	confirm := f.accept(f.sign(f.founder, KindConfirm, ConfirmPayload{Members: [][]byte{newRec.ID.Bytes()}}))
	commit := EpochCommit(f.ms.ID, []byte("secret"))
	epoch := f.accept(f.sign(f.founder, KindEpoch, EpochPayload{Number: 1, Commit: commit[:]}))
	for _, c := range []struct {
		name string
		rec  *Signed
		at0  bool
	}{
		{"old-form member record", oldRec, true},
		{"member record with an invite key", newRec, false},
		{"confirm", confirm, false},
		{"epoch", epoch, false},
	} {
		if got := c.rec.ReadableAt(0); got != c.at0 {
			t.Errorf("%s: ReadableAt(0) = %v, want %v", c.name, got, c.at0)
		}
		if !c.rec.ReadableAt(FormatLevel) {
			t.Errorf("%s: ReadableAt(FormatLevel) = false", c.name)
		}
		if n := c.rec.Newer(); len(n) != 0 {
			t.Errorf("%s: Newer() = %q; this build reads it whole", c.name, n)
		}
	}
	// Without its countersignature (an invalid record, but one a peer may
	// send), the token's key 9 alone makes it unreadable at level 0.
	bare := f.redeem(f.signer("bare"), tok, nil)
	if bare.ReadableAt(0) {
		t.Error("member record naming an invite key, no countersignature: ReadableAt(0) = true")
	}
}

// standingOf names a Standing verdict: "ok" or the sentinel it wraps.
func standingOf(err error) string {
	for _, s := range []struct {
		err  error
		name string
	}{{ErrNotMember, "not_member"}, {ErrRevoked, "revoked"}, {ErrInviteVoid, "invite_void"}, {ErrDuplicate, "duplicate"}} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return "ok"
}

// verdicts summarises what ms makes of the given authors (standing, and
// the flags of a report each signed) and of the mission's invites and
// epochs: what must not depend on the order records were applied in.
func verdicts(ms *MissionState, authors map[string]*Signer, reports map[string]*Signed) string {
	var b strings.Builder
	names := make([]string, 0, len(authors))
	for n := range authors {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		a := authors[n].Author()
		fmt.Fprintf(&b, "%s: %s %v", n, standingOf(ms.Standing(a)), RecordFlags(reports[n], ms, t0))
		list := ms.MembersOf(a)
		slices.SortFunc(list, func(x, y Member) int { return bytes.Compare(x.Record[:], y.Record[:]) })
		for _, m := range list {
			fmt.Fprintf(&b, " dup=%v confirmed=%v", ms.DuplicateToken(m), ms.RedemptionConfirmed(m))
		}
		b.WriteString("\n")
	}
	for _, g := range ms.Duplicates() {
		b.WriteString("duplicates:")
		for _, m := range g {
			fmt.Fprintf(&b, " %s", m.Record)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "epochs: %d %v\n", ms.EpochNumber(), ms.Epochs())
	return b.String()
}

// permutations calls fn with every ordering of n items (Heap's algorithm).
func permutations(n int, fn func([]int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	var gen func(k int)
	gen = func(k int) {
		if k <= 1 {
			fn(p)
			return
		}
		for i := 0; i < k; i++ {
			gen(k - 1)
			if k%2 == 0 {
				p[i], p[k-1] = p[k-1], p[i]
			} else {
				p[0], p[k-1] = p[k-1], p[0]
			}
		}
	}
	gen(n)
}

// wantOrderFree applies the mission records recs to fresh states of f's
// mission in every order (several shuffles when there are many) and
// requires the verdicts to match f's.
func wantOrderFree(t *testing.T, f *fixture, recs []*Signed, authors map[string]*Signer, reports map[string]*Signed) {
	t.Helper()
	want := verdicts(f.ms, authors, reports)
	if got := verdicts(f.ms.Clone(), authors, reports); got != want {
		t.Fatalf("Clone's verdicts:\n%s\nwant\n%s", got, want)
	}
	try := func(order []int) {
		t.Helper()
		ms, err := NewMissionState(f.genesis)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range order {
			if err := ms.Apply(recs[i]); err != nil {
				t.Fatalf("Apply(%s): %v", recs[i].Kind, err)
			}
		}
		if got := verdicts(ms, authors, reports); got != want {
			kinds := make([]Kind, len(order))
			for j, i := range order {
				kinds[j] = recs[i].Kind
			}
			t.Fatalf("applied in the order %v (%v):\n%s\nwant (the order they were made in)\n%s", order, kinds, got, want)
		}
	}
	if len(recs) <= 6 {
		permutations(len(recs), try)
		return
	}
	rng := rand.New(rand.NewSource(int64(len(recs))))
	for range 200 {
		try(rng.Perm(len(recs)))
	}
}

// What Standing and the record flags make of each way a member comes to
// be in or out, and that none of it depends on the order the mission
// records arrive in.
func TestStanding(t *testing.T) {
	type want struct {
		standing string
		flags    []string
	}
	type world struct {
		f       *fixture
		recs    []*Signed // the mission records after the genesis, as made
		authors map[string]*Signer
	}
	// accept accepts rec in w and keeps it for the order check.
	accept := func(w *world, rec *Signed) *Signed {
		w.f.tb.Helper()
		w.f.accept(rec)
		w.recs = append(w.recs, rec)
		return rec
	}
	// enroll enrolls label with a fresh token, new-form or old.
	enroll := func(w *world, label string, newForm bool) (*Signer, *Signed, Token, []byte) {
		s := w.f.signer(label)
		w.authors[label] = s
		if !newForm {
			tok := w.f.token(w.f.founder, RoleObserver, label, nil)
			return s, accept(w, w.f.memberRecord(s, tok)), tok, nil
		}
		tok, seed := w.f.inviteToken(w.f.founder, RoleObserver, label, nil)
		return s, accept(w, w.f.redeem(s, tok, seed)), tok, seed
	}
	// twice has a and b redeem one invite: new-form with its code, or
	// old-form (b copies the token from a's member record).
	twice := func(w *world, newForm bool) (a, b *Signed, tok Token, seed []byte) {
		_, a, tok, seed = enroll(w, "a", newForm)
		s := w.f.signer("b")
		w.authors["b"] = s
		return a, accept(w, w.f.redeem(s, tok, seed)), tok, seed
	}
	confirm := func(w *world, by *Signer, recs ...*Signed) *Signed {
		p := ConfirmPayload{}
		for _, r := range recs {
			p.Members = append(p.Members, r.ID.Bytes())
		}
		return accept(w, w.f.sign(by, KindConfirm, p))
	}
	revoke := func(w *world, who Author, accepted ...*Signed) *Signed {
		p := RevokePayload{Member: who[:], Reason: "test"}
		for _, r := range accepted {
			p.Accepted = append(p.Accepted, r.ID.Bytes())
		}
		return accept(w, w.f.sign(w.f.founder, KindRevoke, p))
	}
	dup := []string{FlagDuplicateToken}
	closed := []string{FlagInviteClosed, FlagUnconfirmed}
	cases := []struct {
		name  string
		build func(w *world)
		want  map[string]want
	}{
		{"founder", func(w *world) { w.authors["founder"] = w.f.founder },
			map[string]want{"founder": {"ok", nil}}},
		{"members, new-form and old", func(w *world) {
			enroll(w, "new", true)
			enroll(w, "old", false)
		}, map[string]want{"new": {"ok", nil}, "old": {"ok", nil}}},
		{"revoked member", func(w *world) {
			s, _, _, _ := enroll(w, "obs", true)
			revoke(w, s.Author())
		}, map[string]want{"obs": {"revoked", []string{FlagAuthorRevoked, FlagUnconfirmed}}}},
		{"not a member", func(w *world) { w.authors["stranger"] = w.f.signer("stranger") },
			map[string]want{"stranger": {"not_member", nil}}},
		{"old-form token redeemed twice", func(w *world) { twice(w, false) },
			map[string]want{"a": {"duplicate", dup}, "b": {"duplicate", dup}}},
		{"new-form invite redeemed twice", func(w *world) { twice(w, true) },
			map[string]want{"a": {"duplicate", dup}, "b": {"duplicate", dup}}},
		{"new-form invite redeemed twice, one confirmed", func(w *world) {
			a, _, _, _ := twice(w, true)
			confirm(w, w.f.founder, a)
		}, map[string]want{"a": {"ok", nil}, "b": {"invite_void", closed}}},
		{"old-form token redeemed twice, one confirmed", func(w *world) {
			_, b, _, _ := twice(w, false)
			confirm(w, w.f.founder, b)
		}, map[string]want{"a": {"invite_void", closed}, "b": {"ok", nil}}},
		{"confirm of a single redemption", func(w *world) {
			_, rec, _, _ := enroll(w, "obs", true)
			confirm(w, w.f.founder, rec)
		}, map[string]want{"obs": {"ok", nil}}},
		{"one of two redeemers revoked", func(w *world) {
			twice(w, true)
			revoke(w, w.authors["a"].Author())
		}, map[string]want{
			"a": {"revoked", []string{FlagAuthorRevoked, FlagDuplicateToken, FlagUnconfirmed}},
			// Still two keys on one unconfirmed invite, and now void.
			"b": {"invite_void", []string{FlagDuplicateToken, FlagInviteRevoked, FlagUnconfirmed}},
		}},
		{"one of two old-form redeemers revoked", func(w *world) {
			twice(w, false)
			revoke(w, w.authors["b"].Author())
		}, map[string]want{
			"a": {"invite_void", []string{FlagDuplicateToken, FlagInviteRevoked, FlagUnconfirmed}},
			"b": {"revoked", []string{FlagAuthorRevoked, FlagDuplicateToken, FlagUnconfirmed}},
		}},
		{"one of two redemptions confirmed, then the other revoked", func(w *world) {
			a, _, _, _ := twice(w, true)
			confirm(w, w.f.founder, a)
			revoke(w, w.authors["b"].Author())
		}, map[string]want{
			// The natural clean-up after a confirm leaves the confirmed
			// device standing.
			"a": {"ok", nil},
			"b": {"revoked", []string{FlagAuthorRevoked, FlagInviteClosed, FlagUnconfirmed}},
		}},
		{"invite cancelled (its key revoked)", func(w *world) {
			_, _, tok, _ := enroll(w, "obs", true)
			inv, _ := InviteID(tok)
			revoke(w, inv)
		}, map[string]want{"obs": {"invite_void", []string{FlagInviteRevoked, FlagUnconfirmed}}}},
		{"invite cancelled, one of two redemptions confirmed", func(w *world) {
			a, _, tok, _ := twice(w, true)
			confirm(w, w.f.founder, a)
			inv, _ := InviteID(tok)
			revoke(w, inv)
		}, map[string]want{
			"a": {"invite_void", []string{FlagInviteRevoked, FlagUnconfirmed}},
			"b": {"invite_void", []string{FlagInviteRevoked, FlagUnconfirmed}},
		}},
		{"confirm by a coordinator revoked without accepting it", func(w *world) {
			c2 := w.f.signer("c2")
			ca := c2.Author()
			tok, seed := w.f.inviteToken(w.f.founder, RoleCoordinator, "c2", &ca)
			accept(w, w.f.redeem(c2, tok, seed))
			a, _, _, _ := twice(w, true)
			confirm(w, c2, a)
			revoke(w, ca)
		}, map[string]want{"a": {"duplicate", dup}, "b": {"duplicate", dup}}},
		{"confirm by a coordinator revoked accepting it", func(w *world) {
			s := w.f.signer("c2")
			ca := s.Author()
			tok, seed := w.f.inviteToken(w.f.founder, RoleCoordinator, "c2", &ca)
			accept(w, w.f.redeem(s, tok, seed))
			a, _, _, _ := twice(w, true)
			c := confirm(w, s, a)
			revoke(w, ca, c)
		}, map[string]want{"a": {"ok", nil}, "b": {"invite_void", closed}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := &world{f: newFixture(t, "standing/"+c.name), authors: map[string]*Signer{}}
			c.build(w)
			reports := map[string]*Signed{}
			for n, s := range w.authors {
				reports[n] = w.f.report(s, nil)
			}
			for n, wt := range c.want {
				s := w.authors[n]
				if s == nil {
					t.Fatalf("no author %q in the world", n)
				}
				if got := standingOf(w.f.ms.Standing(s.Author())); got != wt.standing {
					t.Errorf("Standing(%s) = %v, want %s", n, w.f.ms.Standing(s.Author()), wt.standing)
				}
				if got := RecordFlags(reports[n], w.f.ms, t0); !slices.Equal(got, wt.flags) {
					t.Errorf("flags of a report by %s = %q, want %q", n, got, wt.flags)
				}
				if err := w.f.ms.Standing(s.Author()); err != nil && !strings.Contains(err.Error(), s.Author().String()) {
					t.Errorf("Standing(%s) = %q does not name the author", n, err)
				}
			}
			wantOrderFree(t, w.f, w.recs, w.authors, reports)
		})
	}
}

// The cancel case's invite key is revoked but enrolled nobody: it is no
// member, and the members who redeemed its invite are listed under it.
func TestCancelledInviteKey(t *testing.T) {
	f := newFixture(t, "cancelled-key")
	tok, seed := f.inviteToken(f.founder, RoleObserver, "", nil)
	obs := f.signer("obs")
	rec := f.accept(f.redeem(obs, tok, seed))
	inv, ok := InviteID(tok)
	if !ok {
		t.Fatal("InviteID of a new-form token is not ok")
	}
	if got := f.ms.RedeemedBy(inv); !slices.Equal(got, []Author{obs.Author()}) {
		t.Fatalf("RedeemedBy = %v, want [obs]", got)
	}
	if err := f.ms.Standing(obs.Author()); err != nil {
		t.Fatalf("Standing(obs) before the cancel = %v", err)
	}
	f.accept(f.sign(f.founder, KindRevoke, RevokePayload{Member: inv[:], Reason: "code photographed"}))
	if err := f.ms.Standing(inv); !errors.Is(err, ErrNotMember) {
		t.Fatalf("Standing(invite key) = %v, want ErrNotMember", err)
	}
	if err := f.ms.Standing(obs.Author()); !errors.Is(err, ErrInviteVoid) {
		t.Fatalf("Standing(obs) = %v, want ErrInviteVoid", err)
	}
	if !slices.Contains(RecordFlags(rec, f.ms, t0), FlagInviteRevoked) || f.ms.Confirmed(obs.Author(), rec.ID) {
		t.Fatalf("obs's member record: flags %q, confirmed %v; want invite_revoked, unconfirmed",
			RecordFlags(rec, f.ms, t0), f.ms.Confirmed(obs.Author(), rec.ID))
	}
}

// A member enrolled twice (an observer made coordinator) stands by its
// good enrollment when the other one's invite is void.
func TestStandingAnyEnrollment(t *testing.T) {
	f := newFixture(t, "standing-any")
	obs := f.signer("obs")
	tok, seed := f.inviteToken(f.founder, RoleObserver, "", nil)
	f.accept(f.redeem(obs, tok, seed))
	a := obs.Author()
	up, upSeed := f.inviteToken(f.founder, RoleCoordinator, "", &a)
	f.accept(f.redeem(obs, up, upSeed))
	inv, _ := InviteID(tok)
	f.accept(f.sign(f.founder, KindRevoke, RevokePayload{Member: inv[:]}))
	if err := f.ms.Standing(a); err != nil {
		t.Fatalf("Standing = %v, want nil by the coordinator enrollment", err)
	}
	if flags := RecordFlags(f.report(obs, nil), f.ms, t0); len(flags) != 0 {
		t.Fatalf("flags %q, want none", flags)
	}
	upID, _ := InviteID(up)
	f.accept(f.sign(f.founder, KindRevoke, RevokePayload{Member: upID[:]}))
	if err := f.ms.Standing(a); !errors.Is(err, ErrInviteVoid) {
		t.Fatalf("Standing with both invites cancelled = %v, want ErrInviteVoid", err)
	}
}

// Secret epochs: numbered, ordered by number then ID, and those of a
// revoked coordinator count only where its revocation accepts them.
func TestEpochs(t *testing.T) {
	f := newFixture(t, "epochs")
	c2 := f.signer("c2")
	a := c2.Author()
	tok, seed := f.inviteToken(f.founder, RoleCoordinator, "c2", &a)
	recs := []*Signed{f.accept(f.redeem(c2, tok, seed))}
	if n := f.ms.EpochNumber(); n != 0 || len(f.ms.Epochs()) != 0 {
		t.Fatalf("a mission without epoch records: EpochNumber %d, Epochs %v", n, f.ms.Epochs())
	}
	epoch := func(by *Signer, n uint64, secret string) *Signed {
		c := EpochCommit(f.ms.ID, []byte(secret))
		rec := f.accept(f.sign(by, KindEpoch, EpochPayload{Number: n, Commit: c[:]}))
		recs = append(recs, rec)
		return rec
	}
	e1 := epoch(f.founder, 1, "one")
	e2a := epoch(c2, 2, "two-a")
	e2b := epoch(f.founder, 2, "two-b") // started at the same time by another coordinator
	e3 := epoch(c2, 3, "three")
	if n := f.ms.EpochNumber(); n != 3 {
		t.Fatalf("EpochNumber = %d, want 3", n)
	}
	second, third := e2a, e2b
	if bytes.Compare(second.ID[:], third.ID[:]) > 0 {
		second, third = third, second
	}
	wantEpochs := func(want ...*Signed) {
		t.Helper()
		got := f.ms.Epochs()
		var gotIDs, wantIDs []ID
		for _, e := range got {
			gotIDs = append(gotIDs, e.ID)
		}
		for _, r := range want {
			wantIDs = append(wantIDs, r.ID)
		}
		if !slices.Equal(gotIDs, wantIDs) {
			t.Fatalf("Epochs = %v, want %v", gotIDs, wantIDs)
		}
	}
	wantEpochs(e1, second, third, e3)
	e, ok := f.ms.EpochByID(e1.ID)
	if !ok || e.Number != 1 || e.By != f.founder.Author() || e.Commit != EpochCommit(f.ms.ID, []byte("one")) || e.Created != e1.Created {
		t.Fatalf("EpochByID(e1) = %+v, %v", e, ok)
	}
	if _, ok := f.ms.EpochByID(f.genesis.ID); ok {
		t.Fatal("EpochByID(genesis) is ok")
	}
	// c2 is revoked; its revocation accepts epoch 2 but not epoch 3.
	recs = append(recs, f.accept(f.sign(f.founder, KindRevoke, RevokePayload{Member: a[:], Accepted: [][]byte{e2a.ID.Bytes()}})))
	wantEpochs(e1, second, third)
	if n := f.ms.EpochNumber(); n != 2 {
		t.Fatalf("EpochNumber after the revocation = %d, want 2", n)
	}
	if _, ok := f.ms.EpochByID(e3.ID); ok {
		t.Fatal("EpochByID(epoch 3 of the revoked coordinator) is ok")
	}
	if _, ok := f.ms.EpochByID(e2a.ID); !ok {
		t.Fatal("EpochByID(accepted epoch 2 of the revoked coordinator) is not ok")
	}
	wantOrderFree(t, f, recs, map[string]*Signer{"founder": f.founder, "c2": c2},
		map[string]*Signed{"founder": f.report(f.founder, nil), "c2": f.report(c2, nil)})
}

// EpochCommit binds the secret to its mission.
func TestEpochCommit(t *testing.T) {
	f, g := newFixture(t, "commit-a"), newFixture(t, "commit-b")
	s := []byte("member secret")
	if EpochCommit(f.ms.ID, s) != EpochCommit(f.ms.ID, bytes.Clone(s)) {
		t.Fatal("EpochCommit is not deterministic")
	}
	if EpochCommit(f.ms.ID, s) == EpochCommit(g.ms.ID, s) {
		t.Fatal("the same secret commits alike in two missions")
	}
	if EpochCommit(f.ms.ID, s) == EpochCommit(f.ms.ID, []byte("member secreT")) {
		t.Fatal("two secrets commit alike")
	}
}

// The payloads of the trust kinds, and who may sign them.
func TestTrustPayloadValidation(t *testing.T) {
	f := newFixture(t, "trust-payloads")
	obs, member := f.enrollRecord(f.founder, "obs", RoleObserver)
	commit := EpochCommit(f.ms.ID, []byte("s"))
	cases := []struct {
		name  string
		by    *Signer
		kind  Kind
		p     any
		field string // "" valid, "missing" for a *MissingError
	}{
		{"epoch 1", f.founder, KindEpoch, EpochPayload{Number: 1, Commit: commit[:]}, ""},
		{"epoch 0", f.founder, KindEpoch, EpochPayload{Number: 0, Commit: commit[:]}, "payload.number"},
		{"epoch commit 31 bytes", f.founder, KindEpoch, EpochPayload{Number: 2, Commit: commit[:31]}, "payload.commit"},
		{"epoch commit 33 bytes", f.founder, KindEpoch, EpochPayload{Number: 2, Commit: append(commit[:], 0)}, "payload.commit"},
		{"epoch without a commit", f.founder, KindEpoch, EpochPayload{Number: 2}, "payload.commit"},
		{"epoch by an observer", obs, KindEpoch, EpochPayload{Number: 1, Commit: commit[:]}, "missing"},
		{"confirm", f.founder, KindConfirm, ConfirmPayload{Members: [][]byte{member.ID.Bytes()}}, ""},
		{"confirm of nothing", f.founder, KindConfirm, ConfirmPayload{}, "payload.members"},
		{"confirm naming a short ID", f.founder, KindConfirm, ConfirmPayload{Members: [][]byte{member.ID.Bytes()[:31]}}, "payload.members[0]"},
		{"confirm by an observer", obs, KindConfirm, ConfirmPayload{Members: [][]byte{member.ID.Bytes()}}, "missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := f.validate(f.sign(c.by, c.kind, c.p))
			switch c.field {
			case "":
				if err != nil {
					t.Fatalf("Validate = %v, want valid", err)
				}
			case "missing":
				wantMissing(t, err, c.by.Author(), ID{})
			default:
				wantField(t, err, c.field)
			}
		})
	}
	// A list longer than MaxListLen would not fit in a record at all; the
	// payload check refuses it on its own too.
	long := &ConfirmPayload{Members: slices.Repeat([][]byte{member.ID.Bytes()}, MaxListLen+1)}
	wantField(t, validatePayload(long), "payload.members")
}

// permutations, which the order checks above rely on, yields every
// ordering once.
func TestPermutations(t *testing.T) {
	seen := map[string]bool{}
	permutations(4, func(p []int) { seen[fmt.Sprint(p)] = true })
	if len(seen) != 24 {
		t.Fatalf("%d distinct orderings of 4, want 24", len(seen))
	}
}

// A revocation names the revoked member's tokens: a device that never
// received the revoked member's own record still voids another key that
// redeems the same invite; the revoked member's accepted records stay
// confirmed.
func TestRevocationNamesTokens(t *testing.T) {
	f := newFixture(t, "revoke-tokens")
	tok, seed := f.inviteToken(f.founder, RoleObserver, "seized", nil)
	victim := f.signer("victim")
	victimRec := f.redeem(victim, tok, seed) // never reaches this device
	v := victim.Author()
	tid := TokenID(tok)
	f.accept(f.sign(f.founder, KindRevoke, RevokePayload{Member: v[:], Reason: "phone seized", Tokens: [][]byte{tid[:]}}))
	thief := f.signer("thief")
	f.accept(f.redeem(thief, tok, seed))
	if err := f.ms.Standing(thief.Author()); !errors.Is(err, ErrInviteVoid) {
		t.Fatalf("a second redemption of a revoked member's token: Standing = %v, want ErrInviteVoid", err)
	}
	if flags := RecordFlags(f.report(thief, nil), f.ms, t0); !slices.Contains(flags, FlagInviteRevoked) || !slices.Contains(flags, FlagUnconfirmed) {
		t.Fatalf("the thief's report carries %q", flags)
	}
	// Once the victim's record arrives, the victim is revoked, not void.
	f.accept(victimRec)
	if err := f.ms.Standing(v); !errors.Is(err, ErrRevoked) {
		t.Fatalf("the revoked member: Standing = %v, want ErrRevoked", err)
	}
	bad := RevokePayload{Member: v[:], Tokens: [][]byte{{1, 2, 3}}}
	if err := f.validate(f.sign(f.founder, KindRevoke, bad)); !IsRejected(err) {
		t.Fatalf("a revocation naming a malformed token: %v, want rejected", err)
	}
}
