package mesh_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
	"github.com/vigil-mesh/vigil/internal/testkit"
	"github.com/vigil-mesh/vigil/node"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

var cheapKDF = vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

// mission is a set of member stores of one mission, in temporary homes.
type mission struct {
	t      testing.TB
	stores []*store.Store
	secret []byte
}

// newMission makes a founder (stores[0], coordinator) and n-1 members of
// the given roles (observer when roles is short).
func newMission(t testing.TB, n int, roles ...string) *mission {
	t.Helper()
	m := &mission{t: t}
	for i := 0; i < n; i++ {
		st, err := store.Init(t.TempDir(), []byte("pw"), store.Options{KDF: &cheapKDF})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		m.stores = append(m.stores, st)
	}
	if _, err := m.stores[0].CreateMission("Test mission", "desk", false); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		role := incident.RoleObserver
		if i-1 < len(roles) {
			role = roles[i-1]
		}
		req := store.InviteRequest{Role: role, Label: fmt.Sprintf("member-%d", i)}
		if role == incident.RoleCoordinator {
			a := m.stores[i].Author()
			req.For = &a
		}
		code, err := m.stores[0].Invite(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.stores[i].Join(code); err != nil {
			t.Fatal(err)
		}
	}
	m.secret = m.stores[0].Secret()
	return m
}

// logger writes the engines' logs to the test's log (shown when it
// fails, or with -v): Info and above, Debug too with MESH_DEBUG set.
func logger(t testing.TB) *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("MESH_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return testkit.Logger(t, level)
}

// start runs an engine for store i on loopback.
func (m *mission) start(i int, opts ...func(*mesh.Config)) *mesh.Engine {
	m.t.Helper()
	return m.startWith(m.stores[i], opts...)
}

// startWith is start for any mesh.Store (a wrapped store): it builds the
// node, then the engine on it, as sync/daemon does; the engine closes
// first at the end of the test, then the node.
func (m *mission) startWith(st mesh.Store, opts ...func(*mesh.Config)) *mesh.Engine {
	m.t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		m.t.Fatal(err)
	}
	cfg := mesh.Config{Store: st, Interval: 2 * time.Second, Logger: logger(m.t)}
	for _, o := range opts {
		o(&cfg)
	}
	nc := node.Config{
		Key: key, Secret: m.secret, HelloTimeout: 5 * time.Second, Logger: cfg.Logger,
		Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")},
	}
	for _, o := range takeNodeOpts(&cfg) {
		o(&nc)
	}
	n, err := node.New(nc)
	if err != nil {
		m.t.Fatal(err)
	}
	m.t.Cleanup(func() { n.Close() })
	e, err := mesh.New(n, cfg)
	if err != nil {
		m.t.Fatal(err)
	}
	m.t.Cleanup(func() { e.Close() })
	return e
}

// withNode is an engine option that sets something of the node the
// harness builds for the engine (the hello timeout, the node's clock).
// The engine itself knows nothing of it: the option is kept beside the
// mesh.Config it was applied to until start takes it.
func withNode(f func(*node.Config)) func(*mesh.Config) {
	return func(c *mesh.Config) {
		nodeOpts.Lock()
		defer nodeOpts.Unlock()
		if nodeOpts.m == nil {
			nodeOpts.m = map[*mesh.Config][]func(*node.Config){}
		}
		nodeOpts.m[c] = append(nodeOpts.m[c], f)
	}
}

var nodeOpts struct {
	sync.Mutex
	m map[*mesh.Config][]func(*node.Config)
}

func takeNodeOpts(c *mesh.Config) []func(*node.Config) {
	nodeOpts.Lock()
	defer nodeOpts.Unlock()
	fs := nodeOpts.m[c]
	delete(nodeOpts.m, c)
	return fs
}

func connect(t testing.TB, a, b *mesh.Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info := peer.AddrInfo{ID: b.Node().ID(), Addrs: b.Node().Host().Addrs()}
	if err := a.Node().Connect(ctx, info); err != nil {
		t.Fatal(err)
	}
	if err := a.Node().WaitAdmitted(ctx, b.Node().ID()); err != nil {
		t.Fatal(err)
	}
	if err := b.Node().WaitAdmitted(ctx, a.Node().ID()); err != nil {
		t.Fatal(err)
	}
}

func ids(t testing.TB, st *store.Store) []string {
	t.Helper()
	var out []string
	if err := st.ForEachKey(func(_ int64, id incident.ID) error {
		out = append(out, id.String())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// waitConverged waits until every store holds the same IDs, and at least
// want of them.
func waitConverged(t testing.TB, timeout time.Duration, want int, stores ...*store.Store) {
	t.Helper()
	converged := func() bool {
		first := ids(t, stores[0])
		same := len(first) >= want
		for _, s := range stores[1:] {
			if !same {
				break
			}
			same = equal(first, ids(t, s))
		}
		return same
	}
	if ok, _ := testkit.Poll(timeout, 50*time.Millisecond, converged); !ok {
		var counts []int
		for _, s := range stores {
			counts = append(counts, len(ids(t, s)))
		}
		t.Fatalf("not converged after %v: record counts %v, want %d each", timeout, counts, want)
	}
}

// report signs and stores a report as store st's device.
func report(t testing.TB, st *store.Store, title string) incident.ID {
	t.Helper()
	r, err := st.Put(incident.KindReport, incident.ReportPayload{Category: "polling.late_opening", Severity: 2,
		Occurred: time.Now().UnixMilli(), Title: title, Station: "PS-0001"})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// bulk signs n reports as st's device in memory and stores them in one batch.
func bulk(t testing.TB, st *store.Store, n int) {
	t.Helper()
	ms, err := st.Mission()
	if err != nil {
		t.Fatal(err)
	}
	signer := st.Signer()
	raws := make([][]byte, 0, n)
	base := time.Now().Add(-time.Hour)
	for i := 0; i < n; i++ {
		r, err := signer.Sign(ms.ID, incident.KindReport, base.Add(time.Duration(i)*time.Millisecond), incident.ReportPayload{
			Category: "polling.intimidation", Severity: 1 + uint64(i%4), Occurred: base.UnixMilli(),
			Title: fmt.Sprintf("report %d", i), Description: randomText(200)})
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, r.Raw)
	}
	res, err := st.AddMany(raws, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Outcome != store.Accepted {
			t.Fatalf("bulk: %s %v", r.Outcome, r.Err)
		}
	}
}

func randomText(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz "
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
