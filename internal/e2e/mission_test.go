package e2e

import (
	"path/filepath"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// cheapKDF makes homes that unlock in microseconds: every CLI call and
// every control-socket request unlocks the key file with its own params.
var cheapKDF = vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

func storeOptions() store.Options { return store.Options{KDF: &cheapKDF} }

// member is one device of a test mission.
type member struct {
	home   string
	label  string
	role   string
	author incident.Author
}

// mission is a test mission, its homes closed and ready for the binary.
type mission struct {
	name    string
	id      incident.ID
	secret  []byte
	members []member
}

// newMission makes one home per label under dir: the first creates the
// mission (founding coordinator), the others join it with invites of
// roles[i] (observer when roles is short).
func newMission(t *testing.T, dir, name string, labels []string, roles ...string) *mission {
	t.Helper()
	m := &mission{name: name}
	var stores []*store.Store
	defer func() {
		for _, s := range stores {
			if err := s.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		}
	}()
	for i, label := range labels {
		home := filepath.Join(dir, "home"+string(rune('a'+i)))
		st, err := store.Init(home, []byte(pass), storeOptions())
		if err != nil {
			t.Fatalf("init %s: %v", home, err)
		}
		stores = append(stores, st)
		role := incident.RoleCoordinator
		if i == 0 {
			id, err := st.CreateMission(name, label, false)
			if err != nil {
				t.Fatal(err)
			}
			m.id, m.secret = id, st.Secret()
		} else {
			role = incident.RoleObserver
			if i-1 < len(roles) && roles[i-1] != "" {
				role = roles[i-1]
			}
			code, err := stores[0].Invite(store.InviteRequest{Role: role, Label: label})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Join(code); err != nil {
				t.Fatalf("join %s: %v", label, err)
			}
		}
		m.members = append(m.members, member{home: home, label: label, role: role, author: st.Author()})
	}
	return m
}

// withStore opens a closed home in the test process.
func withStore(t *testing.T, home string, fn func(st *store.Store)) {
	t.Helper()
	st, err := store.Open(home, []byte(pass), storeOptions())
	if err != nil {
		t.Fatalf("open %s: %v", home, err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Errorf("close %s: %v", home, err)
		}
	}()
	fn(st)
}
