package node_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/vigil-mesh/vigil/node"
)

func noKeyring() node.Keyring    { return nil }
func emptyKeyring() node.Keyring { return newKeyring() }

// Devices that hold no member secret (no Keyring, or an empty one) have
// nothing to prove themselves with: each shows its credential at once,
// and they admit each other both ways.
func TestHelloWithoutSecretsShowFirst(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b func() node.Keyring
	}{
		{"no keyrings", noKeyring, noKeyring},
		{"no keyring and an empty one", noKeyring, emptyKeyring},
		{"empty keyrings", emptyKeyring, emptyKeyring},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec := secret(t)
			a := newNode(t, sec, nil, withKeyring(tc.a(), 2*time.Second))
			b := newNode(t, sec, nil, withKeyring(tc.b(), 2*time.Second))
			if err := dial(t, a.Node, info(b.Node)); err != nil {
				t.Fatal(err)
			}
			admitted(t, a, b)
			if a.credsFrom(b.ID()) != 1 || b.credsFrom(a.ID()) != 1 {
				t.Fatalf("credentials checked: a saw %d of b's, b saw %d of a's", a.credsFrom(b.ID()), b.credsFrom(a.ID()))
			}
		})
	}
}

// Two members holding the same newest epoch prove it to each other, so
// each shows its credential without waiting, and both admit; neither
// lacks anything, so no handover is received.
func TestHelloSameNewestEpochAdmitsBothWays(t *testing.T) {
	for n, name := range map[int]string{1: "epoch 1", 2: "epochs 1 and 2"} {
		t.Run(name, func(t *testing.T) {
			sec := secret(t)
			eps := []epoch{newEpoch(t, 1), newEpoch(t, 2)}[:n]
			ka, kb := newKeyring(eps...), newKeyring(eps...)
			a := newNode(t, sec, nil, withKeyring(ka, 2*time.Second))
			b := newNode(t, sec, nil, withKeyring(kb, 2*time.Second))
			if err := dial(t, b.Node, info(a.Node)); err != nil {
				t.Fatal(err)
			}
			admitted(t, a, b)
			if a.credsFrom(b.ID()) != 1 || b.credsFrom(a.ID()) != 1 {
				t.Fatalf("credentials checked: a saw %d of b's, b saw %d of a's", a.credsFrom(b.ID()), b.credsFrom(a.ID()))
			}
			if r := append(ka.receipts(), kb.receipts()...); len(r) != 0 {
				t.Fatalf("%d handovers received between peers that lack nothing", len(r))
			}
		})
	}
}

// A peer that knows only the mission secret (it holds no member secret,
// or only the epoch IDs a prover sends in the clear) never receives a
// member's credential: the member's own hello waits for it to show
// membership and gives up with ErrNotShown, with nothing sent. As a
// prover, the outsider shows its credential first (having nothing to
// prove) and is refused and banned.
func TestHelloOutsiderNeverGetsCredential(t *testing.T) {
	for _, tc := range []struct {
		name       string
		keyring    func(member epoch) node.Keyring
		showsFirst bool
	}{
		{"no keyring", func(epoch) node.Keyring { return nil }, true},
		{"empty keyring", func(epoch) node.Keyring { return newKeyring() }, true},
		{"the member's epoch ID with a wrong secret", func(e epoch) node.Keyring {
			return newKeyring(epoch{Ref: e.Ref, Secret: []byte("guessed")})
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec := secret(t)
			e1 := newEpoch(t, 1)
			// The member refuses the outsider's credential, but only once
			// its own hello to the outsider is over: the outsider is not
			// banned (and cut) before it had every chance to get the
			// member's credential.
			release := make(chan struct{})
			m := newNode(t, sec, func(peer.ID, []byte) error {
				select {
				case <-release:
				case <-time.After(10 * time.Second):
				}
				return errors.New("not a member")
			}, withKeyring(newKeyring(e1), time.Second))
			o := newNode(t, sec, nil, withKeyring(tc.keyring(e1), 3*time.Second))
			if err := dial(t, o.Node, info(m.Node)); err != nil {
				t.Fatal(err)
			}
			err := m.log.helloFailed(t, o.ID(), 5*time.Second)
			close(release)
			if !errors.Is(err, node.ErrNotShown) {
				t.Fatalf("the member's hello to the outsider ended with %v, want ErrNotShown", err)
			}
			if n := o.credsFrom(m.ID()); n != 0 {
				t.Fatalf("the outsider received %d credentials of the member", n)
			}
			if up, _ := o.ev.count(m.ID()); up != 0 || o.Admitted(m.ID()) {
				t.Fatal("the outsider admitted the member")
			}
			if tc.showsFirst {
				reason := m.log.banned(t, o.ID(), 5*time.Second)
				if !strings.Contains(reason, "not a member") {
					t.Fatalf("banned for %q", reason)
				}
				if n := m.credsFrom(o.ID()); n != 1 {
					t.Fatalf("the member checked %d credentials of the outsider, want 1", n)
				}
				refusesDial(t, m, info(o.Node))
			} else {
				// It holds an epoch ID but cannot prove it, and the member
				// proves nothing back: it waits too, and gives up.
				if err := o.log.helloFailed(t, m.ID(), 8*time.Second); !errors.Is(err, node.ErrNotShown) {
					t.Fatalf("the outsider's hello ended with %v, want ErrNotShown", err)
				}
				if n := m.credsFrom(o.ID()); n != 0 {
					t.Fatalf("the member received %d credentials of the outsider", n)
				}
			}
			if up, _ := m.ev.count(o.ID()); up != 0 || m.Admitted(o.ID()) {
				t.Fatal("the member admitted the outsider")
			}
		})
	}
}

// A member behind (holding epoch 1 only) meets one ahead (1 and 2): the
// one behind proves its newest epoch, so it shows its credential first;
// the one ahead admits it and hands it epoch 2 with its secret; and only
// then does the one ahead show its own credential, so both end admitted.
func TestHelloBehindShowsFirstAndGetsHandover(t *testing.T) {
	for _, dialer := range []string{"behind dials", "ahead dials"} {
		t.Run(dialer, func(t *testing.T) {
			sec := secret(t)
			e1, e2 := newEpoch(t, 1), newEpoch(t, 2)
			kBehind := newKeyring(e1)
			ahead := newNode(t, sec, nil, withKeyring(newKeyring(e1, e2), 2*time.Second))
			behind := newNode(t, sec, nil, withKeyring(kBehind, 2*time.Second))
			from, to := behind, ahead
			if dialer == "ahead dials" {
				from, to = ahead, behind
			}
			if err := dial(t, from.Node, info(to.Node)); err != nil {
				t.Fatal(err)
			}
			admitted(t, ahead, behind)
			await(t, 5*time.Second, "the node behind received no handover", func() bool { return kBehind.holds(e2) })
			var got bool
			for _, r := range kBehind.receipts() {
				if r.from != ahead.ID() {
					t.Fatalf("handover from %s", r.from)
				}
				for _, e := range r.epochs {
					got = got || (e.Ref == e2.Ref && bytes.Equal(e.Secret, e2.Secret))
					if e.Ref == e1.Ref {
						t.Fatal("the handover carries an epoch the peer proved it holds")
					}
				}
			}
			if !got {
				t.Fatal("Receive was never called with epoch 2's secret")
			}
			revealed, checked := ahead.order(behind.ID())
			if checked == 0 || revealed == 0 {
				t.Fatalf("the node ahead checked (%d) and revealed (%d)", checked, revealed)
			}
			if revealed < checked {
				t.Fatal("the node ahead showed its credential before the one behind had shown its own")
			}
			if r, _ := behind.order(ahead.ID()); r == 0 || r > checked {
				t.Fatalf("the node behind revealed at %d, the one ahead checked it at %d", r, checked)
			}
		})
	}
}

// A revoked member still holds epoch 1 only; the other holds 1 and 2
// (started at the revocation) and refuses the revoked member's
// credential. The revoked member shows its credential first, is refused
// and banned, never receives the other's credential, and never gets
// epoch 2.
func TestHelloRevokedIsRefusedAndLearnsNothing(t *testing.T) {
	sec := secret(t)
	e1, e2 := newEpoch(t, 1), newEpoch(t, 2)
	kRevoked := newKeyring(e1)
	release := make(chan struct{})
	a := newNode(t, sec, func(peer.ID, []byte) error {
		// Refuse only once a's own hello to it is over (see the outsider
		// test): the ban must not be what keeps a's credential back.
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		return errors.New("revoked")
	}, withKeyring(newKeyring(e1, e2), time.Second))
	r := newNode(t, sec, nil, withKeyring(kRevoked, 3*time.Second))
	if err := dial(t, r.Node, info(a.Node)); err != nil {
		t.Fatal(err)
	}
	err := a.log.helloFailed(t, r.ID(), 5*time.Second)
	close(release)
	if !errors.Is(err, node.ErrNotShown) {
		t.Fatalf("a's hello to the revoked member ended with %v, want ErrNotShown", err)
	}
	if reason := a.log.banned(t, r.ID(), 5*time.Second); !strings.Contains(reason, "revoked") {
		t.Fatalf("banned for %q", reason)
	}
	if n := a.credsFrom(r.ID()); n != 1 {
		t.Fatalf("a checked %d credentials of the revoked member, want 1", n)
	}
	if n := r.credsFrom(a.ID()); n != 0 {
		t.Fatalf("the revoked member received %d credentials", n)
	}
	if len(kRevoked.receipts()) != 0 || kRevoked.holds(e2) {
		t.Fatal("the revoked member received a handover")
	}
	upA, _ := a.ev.count(r.ID())
	upR, _ := r.ev.count(a.ID())
	if upA != 0 || upR != 0 || a.Admitted(r.ID()) || r.Admitted(a.ID()) {
		t.Fatal("admitted")
	}
	refusesDial(t, a, info(r.Node))
}

// Concurrent epochs: A holds {E1, E2a}, B holds {E1, E2b}, both numbered
// 2 (two coordinators revoked at once, apart). Each proves E1 to the
// other and sends its own epoch 2 record, which the other's Ahead
// accepts: both show their credentials, both are admitted, and each
// hands the other its epoch 2. Where Ahead refuses the record (not
// valid there), neither shows its credential.
func TestHelloConcurrentEpochs(t *testing.T) {
	for _, accept := range []bool{true, false} {
		name := "Ahead accepts"
		if !accept {
			name = "Ahead refuses"
		}
		t.Run(name, func(t *testing.T) {
			sec := secret(t)
			e1, e2a, e2b := newEpoch(t, 1), newEpoch(t, 2), newEpoch(t, 2)
			ka, kb := newKeyring(e1, e2a), newKeyring(e1, e2b)
			if !accept {
				ka.ahead = func([][]byte) bool { return false }
				kb.ahead = ka.ahead
			}
			a := newNode(t, sec, nil, withKeyring(ka, time.Second))
			b := newNode(t, sec, nil, withKeyring(kb, time.Second))
			if err := dial(t, a.Node, info(b.Node)); err != nil {
				t.Fatal(err)
			}
			if accept {
				admitted(t, a, b)
				await(t, 5*time.Second, "the epochs were not handed over both ways", func() bool {
					return ka.holds(e2b) && kb.holds(e2a)
				})
			} else {
				for _, w := range [][2]*tnode{{a, b}, {b, a}} {
					if err := w[0].log.helloFailed(t, w[1].ID(), 5*time.Second); !errors.Is(err, node.ErrNotShown) {
						t.Fatalf("hello ended with %v, want ErrNotShown", err)
					}
				}
				upA, _ := a.ev.count(b.ID())
				upB, _ := b.ev.count(a.ID())
				if a.credsFrom(b.ID()) != 0 || b.credsFrom(a.ID()) != 0 || upA != 0 || upB != 0 {
					t.Fatal("a credential was shown on a record Ahead refused")
				}
			}
			saw := func(k *fakeKeyring, e epoch) bool {
				return slices.ContainsFunc(k.sawAhead(), func(r []byte) bool { return bytes.Equal(r, e.record()) })
			}
			if !accept {
				if !saw(ka, e2b) || !saw(kb, e2a) {
					t.Fatal("Ahead was not asked about the other's epoch 2 record")
				}
				return
			}
			// The first to show its credential did so on the other's
			// record (later, the other may have proved the epoch it was
			// handed, or been admitted).
			ra, _ := a.order(b.ID())
			rb, _ := b.order(a.ID())
			if (ra < rb && !saw(ka, e2b)) || (rb < ra && !saw(kb, e2a)) {
				t.Fatal("the first credential was shown without Ahead on the other's epoch 2 record")
			}
		})
	}
}

// A member revoked on one branch (B's epoch 2b was started at its
// revocation) still holds the other branch's epoch 2a. Proving 2a, it
// gets A's credential; but A has not admitted it (A refuses its
// credential on its own stream), so A's hello hands it nothing: it never
// learns epoch 2b.
func TestHelloNoHandoverToUncheckedVerifier(t *testing.T) {
	sec := secret(t)
	e1, e2a, e2b := newEpoch(t, 1), newEpoch(t, 2), newEpoch(t, 2)
	kv := newKeyring(e1, e2a)
	var a, v *tnode
	a = newNode(t, sec, func(peer.ID, []byte) error {
		// Refuse only once v has admitted a (a's own hello to v is
		// over, handover included), so that the refusal does not cut
		// a's hello short.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v.WaitAdmitted(ctx, a.ID())
		return errors.New("revoked on branch b")
	}, withKeyring(newKeyring(e1, e2a, e2b), 3*time.Second))
	v = newNode(t, sec, nil, withKeyring(kv, 3*time.Second))
	if err := dial(t, v.Node, info(a.Node)); err != nil {
		t.Fatal(err)
	}
	a.log.banned(t, v.ID(), 8*time.Second)
	// v admitted a (its hello, handover included, was over) before a
	// refused v; the ban then cut the connection.
	await(t, 2*time.Second, "v never admitted a", func() bool { up, _ := v.ev.count(a.ID()); return up == 1 })
	if kv.holds(e2b) || len(kv.receipts()) != 0 {
		t.Fatal("a member a refused received a handover from a")
	}
}

// Rival branches two numbers apart: A holds {E1, E2a, E3a}, B holds
// {E1, E2b} (coordinators revoked members while apart). B proves E1, the
// last epoch they share; A sends its newest records; B sees A is ahead
// and shows its credential, and so on: they admit each other.
func TestHelloConcurrentEpochsTwoAhead(t *testing.T) {
	sec := secret(t)
	e1, e2a, e3a, e2b := newEpoch(t, 1), newEpoch(t, 2), newEpoch(t, 3), newEpoch(t, 2)
	a := newNode(t, sec, nil, withKeyring(newKeyring(e1, e2a, e3a), 2*time.Second))
	b := newNode(t, sec, nil, withKeyring(newKeyring(e1, e2b), 2*time.Second))
	if err := dial(t, a.Node, info(b.Node)); err != nil {
		t.Fatal(err)
	}
	admitted(t, a, b)
}

// A member that gains an epoch while connected says hello again
// (Rehello); at the end of it, the connected peer, which proved only the
// older epoch, receives the new one in the prover's handover.
func TestRehelloHandsOverNewEpoch(t *testing.T) {
	sec := secret(t)
	e1, e2 := newEpoch(t, 1), newEpoch(t, 2)
	ka, kb := newKeyring(e1), newKeyring(e1)
	a := newNode(t, sec, nil, withKeyring(ka, 2*time.Second))
	b := newNode(t, sec, nil, withKeyring(kb, 2*time.Second))
	if err := dial(t, a.Node, info(b.Node)); err != nil {
		t.Fatal(err)
	}
	admitted(t, a, b)
	ka.add(e2)
	a.Rehello()
	await(t, 5*time.Second, "the connected peer never received the new epoch", func() bool { return kb.holds(e2) })
	for _, r := range kb.receipts() {
		if r.from != a.ID() {
			t.Fatalf("handover from %s", r.from)
		}
	}
	if !a.Admitted(b.ID()) || !b.Admitted(a.ID()) {
		t.Fatal("a peer was dropped by the second hello")
	}
	if up, down := b.ev.count(a.ID()); up != 1 || down != 0 {
		t.Fatalf("OnPeer up %d, down %d after a second hello", up, down)
	}
}

// A hand-written verifier that knows the door secret but no member
// secret tries to get a member's credential: forged or reflected proofs
// of the member's epoch, or a record claiming to be ahead without any
// proof. The member keeps its credential (ErrNotShown). With the right
// member secret, the same verifier gets it.
func TestHelloProverWithholdsFromForgedProofs(t *testing.T) {
	ahead := func(t *testing.T) []byte { return newEpoch(t, 9).record() }
	for _, tc := range []struct {
		name   string
		reply  func(t *testing.T, sec []byte, e1 epoch, b []byte, theirs []rawRef) []byte
		reveal bool
	}{
		{"a proof under a wrong secret", func(t *testing.T, _ []byte, e1 epoch, b []byte, _ []rawRef) []byte {
			return proofsAndRecords([]rawRef{{e1.Ref, hmacOf(secret(t), "member-verifier\x00", b)}}, ahead(t))
		}, false},
		{"the prover's own proof reflected", func(t *testing.T, _ []byte, _ epoch, _ []byte, theirs []rawRef) []byte {
			return proofsAndRecords(theirs, ahead(t))
		}, false},
		{"the verifier role under the door secret", func(t *testing.T, sec []byte, e1 epoch, b []byte, _ []rawRef) []byte {
			return proofsAndRecords([]rawRef{{e1.Ref, hmacOf(sec, "member-verifier\x00", b)}}, ahead(t))
		}, false},
		{"an epoch record ahead, no proof", func(t *testing.T, _ []byte, _ epoch, _ []byte, _ []rawRef) []byte {
			return proofsAndRecords(nil, ahead(t))
		}, false},
		{"the right member secret", func(t *testing.T, _ []byte, e1 epoch, b []byte, _ []rawRef) []byte {
			return proofsAndRecords([]rawRef{{e1.Ref, hmacOf(e1.Secret, "member-verifier\x00", b)}})
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec := secret(t)
			e1 := newEpoch(t, 1)
			kr := newKeyring(e1)
			n := newNode(t, sec, nil, withKeyring(kr, time.Second))
			h := plainHost(t)
			got := make(chan []byte, 1)
			serveVerifier(h, sec, func(s network.Stream, r *bufio.Reader, b []byte, theirs []rawRef) {
				if len(theirs) != 1 || theirs[0].ref != e1.Ref {
					t.Errorf("the prover sent epochs %v, want its E1", theirs)
					return
				}
				if _, err := s.Write(tc.reply(t, sec, e1, b, theirs)); err != nil {
					return
				}
				rest, _ := readTail(r)
				got <- rest
			})
			connectHost(t, h, n)
			var rest []byte
			select {
			case rest = <-got:
			case <-time.After(5 * time.Second):
				t.Fatal("the prover's stream never ended")
			}
			if tc.reveal {
				if !bytes.Contains(rest, []byte(credMarker+n.ID().String())) {
					t.Fatalf("the prover did not show its credential to a verifier that proved its epoch: %q", rest)
				}
				return
			}
			if len(rest) != 0 {
				t.Fatalf("the prover sent %q past the verifier's reply", rest)
			}
			if err := n.log.helloFailed(t, h.ID(), 5*time.Second); !errors.Is(err, node.ErrNotShown) {
				t.Fatalf("hello ended with %v, want ErrNotShown", err)
			}
		})
	}
}

// proofsAndRecords is a verifier's reply: its proofs, then its records.
func proofsAndRecords(proofs []rawRef, records ...[]byte) []byte {
	b := []byte{byte(len(proofs))}
	for _, p := range proofs {
		b = append(b, p.ref.ID[:]...)
		b = append(b, p.mac...)
	}
	b = append(b, byte(len(records)))
	for _, r := range records {
		b = binary.AppendUvarint(b, uint64(len(r)))
		b = append(b, r...)
	}
	return b
}

// The verifier proves back only the epochs the prover proved, and sends
// its newest epoch records only to a prover that proved one of its two
// newest numbers (and not those the prover has).
func TestHelloVerifierDisclosesOnlyToProvers(t *testing.T) {
	sec := secret(t)
	e1, e2, e3 := newEpoch(t, 1), newEpoch(t, 2), newEpoch(t, 3)
	forged := func(e epoch) epoch { return epoch{Ref: e.Ref} }
	for _, tc := range []struct {
		name    string
		held    []epoch
		sent    []epoch
		proved  []epoch
		records [][]byte
	}{
		{"forged proofs", []epoch{e1, e2}, []epoch{forged(e2), forged(e1)}, nil, nil},
		{"an older epoch", []epoch{e1, e2}, []epoch{e1}, []epoch{e1}, [][]byte{e2.record()}},
		// Any proved epoch gets the newest records: rival branches meet
		// through the last epoch they share.
		{"an epoch two numbers older", []epoch{e1, e2, e3}, []epoch{e1}, []epoch{e1}, [][]byte{e3.record()}},
		{"the verifier's newest", []epoch{e1, e2}, []epoch{e2, e1}, []epoch{e2, e1}, nil},
		// Claiming e2 (unproved) only keeps e2's record from the prover.
		{"one proved, one forged", []epoch{e1, e2}, []epoch{forged(e2), e1}, []epoch{e1}, nil},
		{"one proved, one unknown", []epoch{e1, e2}, []epoch{forged(e3), e1}, []epoch{e1}, [][]byte{e2.record()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, sec, nil, withKeyring(newKeyring(tc.held...), 5*time.Second))
			h := plainHost(t)
			connectHost(t, h, n)
			p := openProver(t, h, sec, n.ID())
			p.sendEpochs(t, tc.sent...)
			proofs, records := p.readReply(t)
			if len(proofs) != len(tc.proved) {
				t.Fatalf("%d proofs, want %d", len(proofs), len(tc.proved))
			}
			for i, e := range tc.proved {
				if proofs[i].ref.ID != e.Ref.ID || !bytes.Equal(proofs[i].mac, hmacOf(e.Secret, "member-verifier\x00", p.binding)) {
					t.Fatalf("proof %d does not prove epoch %d", i, e.Ref.Number)
				}
			}
			if len(records) != len(tc.records) {
				t.Fatalf("%d epoch records, want %d", len(records), len(tc.records))
			}
			for i := range records {
				if !bytes.Equal(records[i], tc.records[i]) {
					t.Fatalf("record %d is %q, want %q", i, records[i], tc.records[i])
				}
			}
		})
	}
}

// A verifier that floods the prover (more proofs than maxRefs, more or
// larger epoch records than allowed, a handover over its limit or of an
// absurd length) makes the prover's hello fail at once, before the
// hello timeout and without allocating what was announced; no handover
// reaches the keyring.
func TestHelloVerifierFloodFailsCleanly(t *testing.T) {
	huge := binary.AppendUvarint(nil, 1<<62)
	for _, tc := range []struct {
		name  string
		want  string
		flood func(s network.Stream, r *bufio.Reader)
	}{
		{"too many proofs", "9 proofs, limit 8", func(s network.Stream, _ *bufio.Reader) {
			b := append([]byte{maxRefs + 1}, make([]byte, (maxRefs+1)*64)...)
			s.Write(append(b, 0))
		}},
		{"too many epoch records", "5 epoch records, limit 4", func(s network.Stream, _ *bufio.Reader) {
			b := []byte{0, maxEpochRecords + 1}
			for range maxEpochRecords + 1 {
				b = append(b, 10)
				b = append(b, make([]byte, 10)...)
			}
			s.Write(b)
		}},
		{"epoch record too large", "bad length", func(s network.Stream, _ *bufio.Reader) {
			b := binary.AppendUvarint([]byte{0, 1}, maxEpochRecord+1)
			s.Write(append(b, make([]byte, maxEpochRecord+1)...))
		}},
		{"epoch record of an absurd length", "bad length", func(s network.Stream, _ *bufio.Reader) {
			s.Write(append([]byte{0, 1}, huge...))
		}},
		{"handover too large", "bad length", func(s network.Stream, r *bufio.Reader) {
			s.Write([]byte{0, 0})
			if _, err := readCred(r); err != nil {
				return
			}
			b := binary.AppendUvarint([]byte{1}, maxHandover+1)
			s.Write(append(b, make([]byte, maxHandover+1)...))
		}},
		{"handover of an absurd length", "bad length", func(s network.Stream, r *bufio.Reader) {
			s.Write([]byte{0, 0})
			if _, err := readCred(r); err != nil {
				return
			}
			s.Write(append([]byte{1}, huge...))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec := secret(t)
			kr := newKeyring() // holds nothing: shows its credential when it gets there
			n := newNode(t, sec, nil, withKeyring(kr, 10*time.Second))
			h := plainHost(t)
			serveVerifier(h, sec, func(s network.Stream, r *bufio.Reader, _ []byte, _ []rawRef) {
				tc.flood(s, r)
				io.Copy(io.Discard, r) // until the prover gives up
			})
			connectHost(t, h, n)
			err := n.log.helloFailed(t, h.ID(), 5*time.Second)
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("hello failed with %v, want %q", err, tc.want)
			}
			if len(kr.receipts()) != 0 {
				t.Fatal("a handover reached the keyring")
			}
		})
	}
}

// A verifier that sends everything at its limit (maxRefs proofs,
// maxEpochRecords records of maxEpochRecord bytes, a maxHandover-byte
// handover), then keeps writing, is read in full: the prover shows its
// credential, hands the whole handover to its keyring, sends its tail
// and closes, reading no further.
func TestHelloVerifierAtTheLimits(t *testing.T) {
	sec := secret(t)
	kr := newKeyring()
	n := newNode(t, sec, nil, withKeyring(kr, 10*time.Second))
	h := plainHost(t)
	ho := bytes.Repeat([]byte{0xa5}, maxHandover)
	tails := make(chan []byte, 1)
	serveVerifier(h, sec, func(s network.Stream, r *bufio.Reader, b []byte, _ []rawRef) {
		var proofs []rawRef
		for range maxRefs {
			e := newEpoch(t, 1)
			proofs = append(proofs, rawRef{e.Ref, hmacOf(e.Secret, "member-verifier\x00", b)})
		}
		var records [][]byte
		for range maxEpochRecords {
			records = append(records, bytes.Repeat([]byte{'r'}, maxEpochRecord))
		}
		if _, err := s.Write(proofsAndRecords(proofs, records...)); err != nil {
			return
		}
		cred, err := readCred(r)
		if err != nil || string(cred) != credMarker+n.ID().String() {
			return
		}
		if _, err := s.Write(append(binary.AppendUvarint([]byte{1}, maxHandover), ho...)); err != nil {
			return
		}
		flood := make(chan struct{})
		go func() {
			defer close(flood)
			junk := bytes.Repeat([]byte{0xff}, 16<<10)
			for range 64 {
				if _, err := s.Write(junk); err != nil {
					return
				}
			}
		}()
		tail, _ := readTail(r)
		tails <- tail
		s.Reset()
		<-flood
	})
	connectHost(t, h, n)
	var tail []byte
	select {
	case tail = <-tails:
	case <-time.After(5 * time.Second):
		t.Fatal("the prover never finished")
	}
	if len(tail) != 9+2+1 || tail[0] != 1 || tail[9] != 2 || tail[11] != 0 {
		t.Fatalf("tail %x", tail)
	}
	rs := kr.receipts()
	if len(rs) != 1 || rs[0].from != h.ID() || !bytes.Equal(rs[0].raw, ho) {
		t.Fatalf("%d handovers received, want the one of %d bytes", len(rs), maxHandover)
	}
	if _, ok := n.log.find("hello to peer failed", h.ID()); ok {
		t.Fatal("the hello failed")
	}
}

// A prover that floods the verifier: more epochs than maxRefs (the
// stream is reset at once), a credential over its limit (refused and
// banned), a handover after its tail over its limit or of an absurd
// length (ignored: the prover is admitted, nothing reaches the keyring).
// A handover within its limit reaches the keyring.
func TestHelloProverFlood(t *testing.T) {
	sec := secret(t)
	setup := func(t *testing.T) (*tnode, *fakeKeyring, *rawProver, peer.ID) {
		kr := newKeyring()
		n := newNode(t, sec, nil, withKeyring(kr, 10*time.Second))
		h := plainHost(t)
		connectHost(t, h, n)
		return n, kr, openProver(t, h, sec, n.ID()), h.ID()
	}
	t.Run("too many epochs", func(t *testing.T) {
		n, _, p, h := setup(t)
		b := append([]byte{maxRefs + 1}, make([]byte, (maxRefs+1)*72)...)
		if _, err := p.s.Write(b); err != nil {
			t.Fatal(err)
		}
		_ = p.s.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := p.r.ReadByte(); err == nil {
			t.Fatal("the verifier answered more epochs than maxRefs")
		} else if te, ok := err.(interface{ Timeout() bool }); ok && te.Timeout() {
			t.Fatal("the verifier waited instead of resetting")
		}
		if n.Admitted(h) {
			t.Fatal("admitted")
		}
	})
	t.Run("credential too large", func(t *testing.T) {
		n, _, p, h := setup(t)
		p.sendEpochs(t)
		p.readReply(t)
		if _, err := p.s.Write(binary.AppendUvarint(nil, maxCredBytes+1)); err != nil {
			t.Fatal(err)
		}
		if v, err := p.r.ReadByte(); err == nil && v != 0 {
			t.Fatalf("verdict %d", v)
		}
		if reason := n.log.banned(t, h, 5*time.Second); !strings.Contains(reason, "credential length") {
			t.Fatalf("banned for %q", reason)
		}
	})
	for _, tc := range []struct {
		name string
		back []byte
		want bool
	}{
		{"handover over its limit", append(binary.AppendUvarint(nil, maxHandover+1), make([]byte, maxHandover+1)...), false},
		{"handover of an absurd length", binary.AppendUvarint(nil, 1<<62), false},
		{"handover within its limit", append(binary.AppendUvarint(nil, 100), bytes.Repeat([]byte{7}, 100)...), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, kr, p, h := setup(t)
			p.sendEpochs(t)
			p.readReply(t)
			if v, _, err := p.sendCred([]byte(credMarker + h.String())); err != nil || v != 1 {
				t.Fatalf("verdict %d, %v", v, err)
			}
			tail := append(clockTail(time.Now()), 2, 1)
			if _, err := p.s.Write(append(tail, tc.back...)); err != nil {
				t.Fatal(err)
			}
			p.s.CloseWrite()
			admits(t, n, h)
			rs := kr.receipts()
			if !tc.want {
				if len(rs) != 0 {
					t.Fatalf("%d handovers reached the keyring", len(rs))
				}
				return
			}
			if len(rs) != 1 || rs[0].from != h || !bytes.Equal(rs[0].raw, bytes.Repeat([]byte{7}, 100)) {
				t.Fatalf("handovers received: %d", len(rs))
			}
		})
	}
}

// standardProto reports whether id is one of libp2p's own protocols,
// which every libp2p host shows.
func standardProto(id protocol.ID) bool {
	for _, p := range []string{"/ipfs/", "/libp2p/", "/meshsub/", "/floodsub/"} {
		if strings.HasPrefix(string(id), p) {
			return true
		}
	}
	return false
}

// A plain libp2p host connected to two members of one mission learns
// their protocols from identify; outside libp2p's standard ones the two
// share none (every mission protocol ID is derived per listener), so it
// cannot tell they belong to one mission.
func TestIdentifyShowsNoCommonProtocol(t *testing.T) {
	sec := secret(t)
	nodes := []*tnode{
		newNode(t, sec, nil, func(c *node.Config) { c.HelloTimeout = 10 * time.Second }),
		newNode(t, sec, nil, func(c *node.Config) { c.HelloTimeout = 10 * time.Second }),
	}
	for _, n := range nodes {
		// What the mesh registers too.
		for _, name := range []string{"recon/2", "blob"} {
			n.Host().SetStreamHandler(node.ProtocolID(sec, name, n.ID()), func(s network.Stream) { s.Reset() })
		}
	}
	h := plainHost(t)
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for _, n := range nodes {
		connectHost(t, h, n)
	}
	identified := map[peer.ID]bool{}
	deadline := time.After(10 * time.Second)
	for !identified[nodes[0].ID()] || !identified[nodes[1].ID()] {
		select {
		case e := <-sub.Out():
			identified[e.(event.EvtPeerIdentificationCompleted).Peer] = true
		case <-deadline:
			t.Fatal("identify never completed with both nodes")
		}
	}
	var sets [2]map[protocol.ID]bool
	for i, n := range nodes {
		protos, err := h.Peerstore().GetProtocols(n.ID())
		if err != nil {
			t.Fatal(err)
		}
		sets[i] = map[protocol.ID]bool{}
		for _, p := range protos {
			if !standardProto(p) {
				sets[i][p] = true
			}
		}
		if !sets[i][node.ProtocolID(sec, "hello/2", n.ID())] {
			t.Fatalf("node %d does not show its hello protocol: %v", i, protos)
		}
		t.Logf("node %d shows %v", i, protos)
	}
	for p := range sets[0] {
		if sets[1][p] {
			t.Fatalf("both members show protocol %s", p)
		}
	}
}
