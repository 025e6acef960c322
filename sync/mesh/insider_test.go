package mesh_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/node"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// The hostile-insider suite: attackers holding (a) only the mission secret,
// (b) a revoked member's keys, (c) a member record synced from the
// mission, (d) a second redemption of a revoked member's invite, and (e) a
// banned member's keys under a new transport key
// (TestBannedMemberNewTransportKeyRefused, hostile_test.go). Real hosts on
// loopback. Each test names what the attacker got.

// spy is an attacker's node: a real libp2p host that speaks hello with
// whatever secret, credential and epoch secrets it was given, and keeps
// every credential an honest node shows it.
type spy struct {
	*node.Node
	mu    sync.Mutex
	creds [][]byte
}

func newSpy(t testing.TB, secret []byte, credential func([]byte) []byte, ring node.Keyring, hello time.Duration) *spy {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp := &spy{}
	n, err := node.New(node.Config{
		Key: key, Secret: secret, HelloTimeout: hello,
		Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")},
		Owner: node.Owner{Keyring: ring, Credential: credential,
			// The attacker takes whatever it is shown.
			CheckCredential: func(_ peer.ID, cred, _ []byte) error {
				sp.mu.Lock()
				defer sp.mu.Unlock()
				sp.creds = append(sp.creds, bytes.Clone(cred))
				return nil
			}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	sp.Node = n
	return sp
}

// heard reports how many credentials reached the spy and whether any
// named one of the authors.
func (sp *spy) heard(authors ...incident.Author) (int, bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for _, c := range sp.creds {
		for _, a := range authors {
			if bytes.Contains(c, a[:]) {
				return len(sp.creds), true
			}
		}
	}
	return len(sp.creds), false
}

// withheld wraps a credential so that the attacker holds it back for
// d first: the honest side's own hello stream then runs to its end
// before the attacker can be refused, and anything it would reveal, it
// reveals. The delay is the attack (a peer as slow as the honest side's
// hello timeout allows), not a wait for an outcome.
func withheld(d time.Duration, cred func([]byte) []byte) func([]byte) []byte {
	return func(binding []byte) []byte {
		time.Sleep(d)
		return cred(binding)
	}
}

// credentialOf builds the member credential a device with signer shows
// in hello (mesh's wire form), with chain.
func credentialOf(signer *incident.Signer, chain [][]byte) func([]byte) []byte {
	a := signer.Author()
	return func(binding []byte) []byte {
		b, _ := incident.Marshal(forgedCredential{Author: a[:],
			Sig: signer.SignBytes(append([]byte("vigil/credential/v1\x00"), binding...)), Chain: chain})
		return b
	}
}

// staticRing is an attacker's keyring: fixed epochs and secrets, taken
// from a seized device; it keeps any handover it is given.
type staticRing struct {
	refs    []node.EpochRef
	secrets map[[32]byte][]byte
	mu      sync.Mutex
	got     int
}

func ringOf(t testing.TB, st *store.Store) *staticRing {
	t.Helper()
	ms, err := st.Mission()
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := st.EpochSecrets()
	if err != nil {
		t.Fatal(err)
	}
	r := &staticRing{secrets: map[[32]byte][]byte{}}
	for _, ep := range ms.Epochs() {
		if sec, ok := secrets[ep.ID]; ok {
			r.refs = append([]node.EpochRef{{ID: ep.ID, Number: ep.Number}}, r.refs...)
			r.secrets[ep.ID] = sec
		}
	}
	return r
}

func (r *staticRing) Refs() []node.EpochRef { return r.refs }
func (r *staticRing) Secret(id [32]byte) ([]byte, bool) {
	s, ok := r.secrets[id]
	return s, ok
}
func (r *staticRing) Newest([]node.EpochRef) [][]byte { return nil }
func (r *staticRing) Ahead([][]byte) bool             { return false }
func (r *staticRing) Handover([]node.EpochRef) []byte { return nil }
func (r *staticRing) Receive(_ peer.ID, b []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got += len(b)
	return nil
}

// holdsEpoch waits until st holds the secret of every epoch its mission
// state counts (at least one).
func holdsEpoch(t testing.TB, st *store.Store, what string) {
	t.Helper()
	eventually(t, slow(15*time.Second), what, func() bool {
		ms, err := st.Mission()
		if err != nil {
			return false
		}
		secrets, err := st.EpochSecrets()
		if err != nil || len(ms.Epochs()) == 0 {
			return false
		}
		for _, ep := range ms.Epochs() {
			if _, ok := secrets[ep.ID]; !ok {
				return false
			}
		}
		return true
	})
}

// knock connects sp to each target and waits until the target has closed
// the connection; it fails the test if any admitted sp.
func knock(t testing.TB, sp *spy, hello time.Duration, targets ...*mesh.Engine) {
	t.Helper()
	for _, target := range targets {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := sp.Connect(ctx, infoOf(target))
		cancel()
		if err != nil {
			continue // refused at the transport
		}
		eventually(t, hello+slow(5*time.Second), fmt.Sprintf("the attacker stayed connected to %s past the hello timeout", target.Node().ID()), func() bool {
			if target.Node().Admitted(sp.ID()) {
				t.Fatalf("BUG: %s admitted the attacker", target.Node().ID())
			}
			return !connected(target, sp.ID())
		})
	}
}

// Attacker (a) photographed an invite that nobody redeemed: it holds the
// mission secret and nothing else. It knocks on a coordinator and an
// observer, as prover and as verifier. It gets no credential (no author
// key, label, recipient or chain), is admitted by nobody, stores nothing.
func TestInsiderSecretOnly(t *testing.T) {
	t.Parallel()
	const hello = 3 * time.Second
	m := newMission(t, 2)
	code, err := m.stores[0].Invite(store.InviteRequest{Role: incident.RoleObserver, Label: "never redeemed"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := incident.DecodeInvite(code)
	if err != nil {
		t.Fatal(err)
	}
	report(t, m.stores[0], "before the attack")
	c := m.start(0, noReceipts, slowPeriodic, helloTimeout(hello))
	o := m.start(1, noReceipts, slowPeriodic, helloTimeout(hello))
	connect(t, o, c)
	holdsEpoch(t, m.stores[1], "the observer never got the member secret")
	waitConverged(t, slow(20*time.Second), 0, m.stores...)
	before := [][]string{ids(t, m.stores[0]), ids(t, m.stores[1])}

	signer := newSigner(t)
	sp := newSpy(t, inv.Secret, withheld(hello, credentialOf(signer, nil)), nil, hello)
	knock(t, sp, hello, c, o)

	n, named := sp.heard(m.stores[0].Author(), m.stores[1].Author())
	t.Logf("attacker with the mission secret only got: %d credentials, naming a member: %v", n, named)
	if n > 0 {
		t.Fatalf("BUG: a holder of the mission secret alone was shown %d member credentials (naming a member: %v)", n, named)
	}
	for i, st := range m.stores[:2] {
		if !equal(ids(t, st), before[i]) {
			t.Fatalf("store %d changed", i)
		}
	}
}

// Attacker (b) seized an observer's phone and the observer was revoked
// while the phone was off: the attacker holds its keys, its store and the
// member secret of the epoch before the revocation. Knocking on the
// coordinator and on another observer (who got the new epoch while
// connected), it is shown no credential, gets no secret and no record,
// and what it signs is stored by nobody.
func TestInsiderRevokedMemberKeys(t *testing.T) {
	t.Parallel()
	const hello = 3 * time.Second
	m := newMission(t, 3) // 0 coordinator C, 1 observer B (seized), 2 observer P
	c := m.start(0, noReceipts, slowPeriodic, helloTimeout(hello))
	b := m.start(1, noReceipts, slowPeriodic, helloTimeout(hello))
	p := m.start(2, noReceipts, slowPeriodic, helloTimeout(hello))
	connect(t, b, c)
	connect(t, p, c)
	holdsEpoch(t, m.stores[1], "B never got the member secret")
	holdsEpoch(t, m.stores[2], "P never got the member secret")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	rev, err := m.stores[0].Revoke(m.stores[1].Author(), "phone seized", false)
	if err != nil {
		t.Fatal(err)
	}
	if rev.Epoch == nil {
		t.Fatal("the revocation started no secret epoch")
	}
	// P, connected all along, gets the revocation and the new secret.
	eventually(t, slow(15*time.Second), "P never got the revocation", func() bool { return has(m.stores[2], rev.Record.ID) })
	holdsEpoch(t, m.stores[2], "P never got the new epoch's secret")
	secret := report(t, m.stores[0], "written after the revocation")
	eventually(t, slow(15*time.Second), "P never got C's new report", func() bool { return has(m.stores[2], secret) })

	// The attacker: B's keys, B's credential and chain, B's epoch secrets.
	bStore := m.stores[1]
	ms, err := bStore.Mission()
	if err != nil {
		t.Fatal(err)
	}
	self, _ := ms.Member(bStore.Author())
	mrec, err := bStore.Get(self.Record)
	if err != nil || mrec == nil {
		t.Fatal("B's member record", err)
	}
	ring := ringOf(t, bStore)
	if len(ring.refs) == 0 {
		t.Fatal("B held no epoch secret")
	}
	late := report(t, bStore, "signed after the revocation")
	sp := newSpy(t, m.secret, withheld(hello, credentialOf(bStore.Signer(), [][]byte{mrec.Raw})), ring, hello)
	knock(t, sp, hello, c, p)

	n, named := sp.heard(m.stores[0].Author(), m.stores[2].Author())
	t.Logf("revoked member's keys got: %d credentials (naming a member: %v), %d bytes of handover", n, named, ring.got)
	if n > 0 || ring.got > 0 {
		t.Fatalf("BUG: a revoked member's keys were shown %d credentials (naming a member: %v) and %d bytes of member secrets",
			n, named, ring.got)
	}
	for _, st := range []*store.Store{m.stores[0], m.stores[2]} {
		if has(st, late) {
			t.Fatal("BUG: a report the revoked member signed afterwards was stored")
		}
	}
	// The real engine, B's store under a new transport key: refused, and
	// it learns nothing new.
	beforeB := ids(t, bStore)
	again := m.start(1, noReceipts, helloTimeout(hello))
	for _, honest := range []*mesh.Engine{c, p} {
		if admitted, still := attempt(t, again, honest, hello+2*time.Second); admitted || still {
			t.Fatalf("BUG: the revoked member's engine was admitted %v / still connected %v", admitted, still)
		}
	}
	if !equal(ids(t, bStore), beforeB) || has(bStore, secret) {
		t.Fatal("BUG: the revoked member's store learned new records")
	}
}

// Attacker (c) holds a member record synced from the mission (every
// member's device holds them all) and mints members from the token in it:
// a new key with the token of an observer's record. With invite keys the
// minted record is invalid: a store refuses it and a hello carrying it in
// its chain is refused, storing nothing. With a token from before invite
// keys (an upgraded mission), the minted key is a second redemption: it
// is refused at hello and flagged until a coordinator confirms one, and
// after `mission confirm` the real member is admitted and the minted key
// stays out.
func TestInsiderSyncedMemberRecordMintsNothing(t *testing.T) {
	t.Parallel()
	const hello = 3 * time.Second
	m := newMission(t, 3) // 0 coordinator C, 1 observer O (the record copied), 2 observer P (the attacker's own device)
	cStore := m.stores[0]
	c := m.start(0, noReceipts, slowPeriodic, helloTimeout(hello))
	ms := mustMission(t, m.stores[1])
	oMember, _ := ms.Member(m.stores[1].Author())
	oRec, err := m.stores[1].Get(oMember.Record)
	if err != nil || oRec == nil {
		t.Fatal(err)
	}

	mint := func(t *testing.T, from *incident.Signed) (*incident.Signer, *incident.Signed) {
		t.Helper()
		p, err := from.DecodePayload()
		if err != nil {
			t.Fatal(err)
		}
		mp := *p.(*incident.MemberPayload)
		mp.InviteSig = nil // the invite key is not in the record: nothing to sign with
		signer := newSigner(t)
		raw := craft(t, signer, incident.Record{Version: incident.SchemaVersion, Mission: ms.ID.Bytes(),
			Author: func() []byte { a := signer.Author(); return a[:] }(), Kind: incident.KindMember,
			Created: time.Now().UnixMilli(), Payload: mustMarshal(t, mp)})
		rec, err := incident.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		return signer, rec
	}

	t.Run("invite key", func(t *testing.T) {
		signer, minted := mint(t, oRec)
		before := ids(t, cStore)
		if r := cStore.Add(minted.Raw, "bundle"); r.Outcome != store.Rejected || !strings.Contains(r.Err.Error(), "invite_sig") {
			t.Fatalf("BUG: a member minted from a synced record was %s (%v), want rejected for its invite signature", r.Outcome, r.Err)
		}
		sp := newSpy(t, m.secret, credentialOf(signer, [][]byte{minted.Raw}), nil, hello)
		knock(t, sp, hello, c)
		if !equal(ids(t, cStore), before) {
			t.Fatal("BUG: the minted member's hello stored something")
		}
		if err := mustMission(t, cStore).Standing(signer.Author()); !errors.Is(err, incident.ErrNotMember) {
			t.Fatalf("minted key's standing = %v, want not a member", err)
		}
		t.Log("attacker with a synced member record got: a refused record, a refused hello, nothing stored")
	})

	t.Run("token from before invite keys", func(t *testing.T) {
		// P's real enrollment is an old-form token (no invite key), as in
		// a mission that predates them.
		pStore := m.stores[2]
		tok := cStore.Signer().SignToken(incident.Token{Mission: ms.ID.Bytes(), Role: incident.RoleObserver,
			Label: "old-form", Nonce: bytes.Repeat([]byte{7}, 16)})
		legit, err := pStore.Signer().Sign(ms.ID, incident.KindMember, time.Now(), incident.MemberPayload{Token: tok})
		if err != nil {
			t.Fatal(err)
		}
		oldForm := legit.AuthorKey()
		if r := cStore.Add(legit.Raw, "bundle"); r.Outcome != store.Accepted {
			t.Fatalf("legit old-form enrollment: %s %v", r.Outcome, r.Err)
		}
		signer, minted := mint(t, legit)
		if r := cStore.Add(minted.Raw, "bundle"); r.Outcome != store.Accepted {
			t.Fatalf("a second redemption of an old-form token must stay valid (flagged): %s %v", r.Outcome, r.Err)
		}
		st := mustMission(t, cStore)
		if !errors.Is(st.Standing(signer.Author()), incident.ErrDuplicate) {
			t.Fatalf("minted key's standing = %v, want a duplicate", st.Standing(signer.Author()))
		}
		sp := newSpy(t, m.secret, credentialOf(signer, [][]byte{minted.Raw}), nil, hello)
		knock(t, sp, hello, c)
		// The coordinator confirms the real redemption; the minted key
		// stays out and its records are flagged.
		if _, err := cStore.Confirm(oldForm); err != nil {
			t.Fatal(err)
		}
		st = mustMission(t, cStore)
		if err := st.Standing(oldForm); err != nil {
			t.Fatalf("the confirmed member's standing: %v", err)
		}
		if err := st.Standing(signer.Author()); !errors.Is(err, incident.ErrInviteVoid) {
			t.Fatalf("minted key's standing after confirm = %v, want invite void", err)
		}
		sp2 := newSpy(t, m.secret, credentialOf(signer, [][]byte{minted.Raw}), nil, hello)
		knock(t, sp2, hello, c)
		t.Log("attacker minting from an old-form token got: a flagged record, refused at every hello, shut out by the confirm")
	})
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := incident.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Attacker (d) photographed an observer's invite code. The observer
// redeemed it and was later revoked; the attacker redeems the same code
// on a new device (its clock set back, so the expiry passes). The
// revocation voided the invite: the new device is refused at hello and
// nothing of its chain is stored; its reports, carried by a bundle,
// arrive flagged invite_revoked and unconfirmed.
func TestInsiderSecondRedemptionOfRevokedInvite(t *testing.T) {
	t.Parallel()
	const hello = 3 * time.Second
	m := newMission(t, 1)
	cStore := m.stores[0]
	code, err := cStore.Invite(store.InviteRequest{Role: incident.RoleObserver, Label: "Kestrel", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	victim, err := store.Init(t.TempDir(), []byte("pw"), store.Options{KDF: &cheapKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { victim.Close() })
	vRec, err := victim.Join(code)
	if err != nil {
		t.Fatal(err)
	}
	vr, _ := victim.Get(vRec)
	if r := cStore.Add(vr.Raw, "bundle"); r.Outcome != store.Accepted {
		t.Fatal(r.Outcome, r.Err)
	}
	if _, err := cStore.Revoke(victim.Author(), "phone seized", false); err != nil {
		t.Fatal(err)
	}
	c := m.start(0, noReceipts, slowPeriodic, helloTimeout(hello))

	// The attacker's device, its clock set back before the expiry.
	atk, err := store.Init(t.TempDir(), []byte("pw"), store.Options{KDF: &cheapKDF, Now: func() time.Time { return time.Now().Add(-30 * time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { atk.Close() })
	aRec, err := atk.Join(code)
	if err != nil {
		t.Fatal(err)
	}
	before := ids(t, cStore)
	m.stores = append(m.stores, atk)
	e := m.start(len(m.stores)-1, noReceipts, helloTimeout(hello))
	if admitted, still := attempt(t, e, c, hello+2*time.Second); admitted || still {
		t.Fatalf("BUG: a second redemption of a revoked member's invite was admitted %v / still connected %v", admitted, still)
	}
	if has(cStore, aRec) || !equal(ids(t, cStore), before) {
		t.Fatal("BUG: the second redemption's hello stored something")
	}
	// Its records, carried some other way, are flagged.
	late := report(t, atk, "a forged sighting")
	ar, _ := atk.Get(aRec)
	lr, _ := atk.Get(late)
	for _, raw := range [][]byte{ar.Raw, lr.Raw} {
		if r := cStore.Add(raw, "bundle"); r.Outcome != store.Accepted {
			t.Fatalf("records of a void invite stay valid (flagged): %s %v", r.Outcome, r.Err)
		}
	}
	ms := mustMission(t, cStore)
	if err := ms.Standing(atk.Author()); !errors.Is(err, incident.ErrInviteVoid) {
		t.Fatalf("standing = %v, want invite void", err)
	}
	flags := incident.RecordFlags(lr, ms, time.Now())
	if !slices.Contains(flags, incident.FlagInviteRevoked) || !slices.Contains(flags, incident.FlagUnconfirmed) {
		t.Fatalf("the second redemption's report carries flags %v, want invite_revoked and unconfirmed", flags)
	}
	t.Logf("second redemption of a revoked member's invite got: refused at hello, its report flagged %v", flags)
}

// A phone that was off during a revocation comes back: it holds the old
// epoch only, shows its credential first, is admitted, gets the new
// epoch's secret in the handover, and then both sides are current. The
// revoked member's engine is refused by it afterwards.
func TestOfflinePhoneGetsNewEpoch(t *testing.T) {
	t.Parallel()
	const hello = 3 * time.Second
	m := newMission(t, 3) // 0 coordinator C, 1 observer O (offline), 2 observer R (revoked)
	c := m.start(0, noReceipts, slowPeriodic, helloTimeout(hello))
	o := m.start(1, noReceipts, slowPeriodic, helloTimeout(hello))
	r := m.start(2, noReceipts, slowPeriodic, helloTimeout(hello))
	connect(t, o, c)
	connect(t, r, c)
	holdsEpoch(t, m.stores[1], "O never got epoch 1")
	holdsEpoch(t, m.stores[2], "R never got epoch 1")
	for _, e := range []*mesh.Engine{o, r} {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	rev, err := m.stores[0].Revoke(m.stores[2].Author(), "phone seized", false)
	if err != nil {
		t.Fatal(err)
	}
	if mustMission(t, m.stores[1]).EpochNumber() != 1 {
		t.Fatal("O should still be at epoch 1")
	}
	back := m.start(1, noReceipts, slowPeriodic, helloTimeout(hello))
	connect(t, back, c)
	holdsEpoch(t, m.stores[1], "O came back and never got the new epoch")
	if got := mustMission(t, m.stores[1]).EpochNumber(); got != 2 {
		t.Fatalf("O is at epoch %d after coming back, want 2", got)
	}
	eventually(t, slow(15*time.Second), "O never got the revocation", func() bool { return has(m.stores[1], rev.Record.ID) })
	// The revoked phone, at epoch 1, is refused by O now.
	again := m.start(2, noReceipts, helloTimeout(hello))
	if admitted, still := attempt(t, again, back, hello+2*time.Second); admitted || still {
		t.Fatalf("BUG: O admitted the revoked member (%v) or kept it connected (%v)", admitted, still)
	}
}

// A plain libp2p host connected to two members of one mission sees, by
// the identify protocol, no non-standard protocol ID common to both: the
// stream protocols derive from each listener's own peer ID, and gossip
// uses libp2p's standard IDs.
func TestPlainHostSeesNoCommonProtocol(t *testing.T) {
	t.Parallel()
	m := newMission(t, 2)
	a := m.start(0, noReceipts, slowPeriodic)
	b := m.start(1, noReceipts, slowPeriodic)
	connect(t, a, b)
	h := plainHost(t)
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	want := map[peer.ID]bool{a.Node().ID(): true, b.Node().ID(): true}
	for _, e := range []*mesh.Engine{a, b} {
		if err := h.Connect(context.Background(), infoOf(e)); err != nil {
			t.Fatal(err)
		}
	}
	timeout := time.After(10 * time.Second)
	for len(want) > 0 {
		select {
		case ev := <-sub.Out():
			delete(want, ev.(event.EvtPeerIdentificationCompleted).Peer)
		case <-timeout:
			t.Fatal("identify never completed")
		}
	}
	standard := func(p protocol.ID) bool {
		for _, prefix := range []string{"/ipfs/", "/libp2p/", "/meshsub/", "/floodsub/", "/p2p/"} {
			if strings.HasPrefix(string(p), prefix) {
				return true
			}
		}
		return false
	}
	pa, err := h.Peerstore().GetProtocols(a.Node().ID())
	if err != nil {
		t.Fatal(err)
	}
	pb, err := h.Peerstore().GetProtocols(b.Node().ID())
	if err != nil {
		t.Fatal(err)
	}
	var own int
	for _, x := range pa {
		if standard(x) {
			continue
		}
		own++
		for _, y := range pb {
			if x == y {
				t.Errorf("BUG: both members show protocol %s to a stranger", x)
			}
		}
	}
	if own == 0 {
		t.Fatalf("no mission protocol shown at all (%v): the test no longer looks at the right thing", pa)
	}
	t.Logf("a stranger sees %d mission protocols on each member, none in common", own)
}

func newSigner(t testing.TB) *incident.Signer {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed)
	s, err := incident.NewSigner(seed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
