package mesh

import (
	"log/slog"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// FuzzHandover feeds a peer's handover of epoch secrets to the keyring of
// a member: whatever arrives, Receive returns, never takes a secret that
// does not match a valid epoch record's commitment, and never stores a
// record that is not an epoch (or a revocation or confirm it names).
func FuzzHandover(f *testing.F) {
	var stores []*store.Store
	for range 2 {
		st, err := store.Init(f.TempDir(), []byte("pw"), store.Options{KDF: &vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	founder, member := stores[0], stores[1]
	if _, err := founder.CreateMission("Fuzz", "desk", false); err != nil {
		f.Fatal(err)
	}
	code, err := founder.Invite(store.InviteRequest{Role: incident.RoleObserver})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := member.Join(code); err != nil {
		f.Fatal(err)
	}
	if _, err := founder.NewEpoch(); err != nil {
		f.Fatal(err)
	}
	// A genuine handover of the founder's epochs to a device that holds
	// none: the seed the fuzzer mutates.
	genuine := keyring{&Engine{store: founder, log: slog.New(slog.DiscardHandler)}}.Handover(nil)
	if len(genuine) == 0 {
		f.Fatal("the founder hands over nothing")
	}
	f.Add(genuine)
	f.Add([]byte{0x80})
	f.Add([]byte{0x9f, 0xff})
	k := keyring{&Engine{store: member, log: slog.New(slog.DiscardHandler)}}
	before, err := member.Counts()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = k.receiveQuietly(t, b)
		after, err := member.Counts()
		if err != nil {
			t.Fatal(err)
		}
		for kind, n := range after {
			switch kind {
			case incident.KindEpoch, incident.KindRevoke, incident.KindConfirm:
			default:
				if n != before[kind] {
					t.Fatalf("a handover stored a %s record", kind)
				}
			}
		}
		secrets, err := member.EpochSecrets()
		if err != nil {
			t.Fatal(err)
		}
		ms, err := member.Mission()
		if err != nil {
			t.Fatal(err)
		}
		for id, s := range secrets {
			e, ok := ms.EpochByID(id)
			if !ok || incident.EpochCommit(ms.ID, s) != e.Commit {
				t.Fatalf("the keyring holds a secret for %s that its commitment does not match", id)
			}
		}
	})
}

// receiveQuietly is Receive from a peer with no connections to pass the
// epochs on to (the engine here has no node).
func (k keyring) receiveQuietly(t *testing.T, b []byte) (err error) {
	defer func() {
		// A secret gained is passed on through the node, which this
		// engine has not: that call alone may panic here.
		if r := recover(); r != nil && k.e.node != nil {
			panic(r)
		}
	}()
	return k.Receive(peer.ID("fuzz"), b)
}
