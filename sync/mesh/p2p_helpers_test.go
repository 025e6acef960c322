package mesh_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/internal/testkit"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// Helpers for the peer-to-peer tests: topologies, set checks, waits.

// seeded returns a random source whose seed is logged, so a failing
// topology can be replayed.
func seeded(t testing.TB) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("topology seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// randomTree connects engines into a random spanning tree plus extra
// random edges, and returns the edges made.
func randomTree(t testing.TB, r *rand.Rand, es []*mesh.Engine, extra int) [][2]int {
	t.Helper()
	var edges [][2]int
	have := map[[2]int]bool{}
	add := func(i, j int) {
		if i == j {
			return
		}
		if i > j {
			i, j = j, i
		}
		if have[[2]int{i, j}] {
			return
		}
		have[[2]int{i, j}] = true
		edges = append(edges, [2]int{i, j})
		connect(t, es[i], es[j])
	}
	perm := r.Perm(len(es))
	for k := 1; k < len(perm); k++ {
		add(perm[k], perm[r.IntN(k)])
	}
	for k := 0; k < extra; k++ {
		add(r.IntN(len(es)), r.IntN(len(es)))
	}
	return edges
}

// union returns the sorted union of the stores' IDs.
func union(t testing.TB, stores ...*store.Store) []string {
	t.Helper()
	set := map[string]bool{}
	for _, s := range stores {
		for _, id := range ids(t, s) {
			set[id] = true
		}
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// checkStoreSound fails unless every key st lists is listed once, is held,
// decodes (signature included) to a record with that ID, belongs to st's
// mission, and (for observations) validates against st's mission state.
func checkStoreSound(t testing.TB, st *store.Store) {
	t.Helper()
	ms, err := st.Mission()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[incident.ID]bool{}
	err = st.ForEachKey(func(_ int64, id incident.ID) error {
		if seen[id] {
			return fmt.Errorf("record %s listed twice", id)
		}
		seen[id] = true
		r, err := st.Get(id)
		if err != nil || r == nil {
			return fmt.Errorf("record %s listed but not held (err %v)", id, err)
		}
		d, err := incident.Decode(r.Raw)
		if err != nil {
			return fmt.Errorf("record %s does not decode: %v", id, err)
		}
		if d.ID != id || incident.IDOf(r.Raw) != id {
			return fmt.Errorf("record %s has ID %s", id, d.ID)
		}
		if d.Kind == incident.KindMission {
			if d.ID != ms.ID {
				return fmt.Errorf("a foreign genesis %s is stored", id)
			}
			return nil
		}
		if string(d.Mission) != string(ms.ID[:]) {
			return fmt.Errorf("record %s belongs to another mission", id)
		}
		if !d.Kind.MissionKind() {
			if err := incident.Validate(d, ms, st); err != nil {
				return fmt.Errorf("stored record %s is not valid: %v", id, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// slow stretches a timeout under the race detector, which runs the
// whole mesh several times slower.
func slow(d time.Duration) time.Duration {
	if raceEnabled {
		return 3 * d
	}
	return d
}

// eventually polls cond until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, timeout, what, cond)
}

// connected reports whether a holds any connection to p.
func connected(a *mesh.Engine, p peer.ID) bool {
	return a.Node().Host().Network().Connectedness(p) == network.Connected
}

// bulkDays is bulk for counts above the per-author daily quota: it spreads
// the n reports over claimed days, perDay to a day, ending yesterday. It
// returns their IDs and their total encoded size.
func bulkDays(t testing.TB, st *store.Store, n, perDay int) ([]incident.ID, int) {
	t.Helper()
	ms, err := st.Mission()
	if err != nil {
		t.Fatal(err)
	}
	signer := st.Signer()
	author := signer.Author()
	days := (n + perDay - 1) / perDay
	base := time.Now().UTC().Truncate(24 * time.Hour).Add(-time.Duration(days) * 24 * time.Hour)
	raws := make([][]byte, 0, n)
	out := make([]incident.ID, 0, n)
	size := 0
	for i := 0; i < n; i++ {
		at := base.Add(time.Duration(i/perDay)*24*time.Hour + time.Duration(i%perDay)*time.Second)
		// Signed without Sign's decode-to-check: the store checks each
		// once, and under -race every signature check counts.
		p, err := incident.Marshal(incident.ReportPayload{
			Category: "polling.intimidation", Severity: 1 + uint64(i%4), Occurred: at.UnixMilli(),
			Title: fmt.Sprintf("bulk report %d", i), Description: randomText(200)})
		if err != nil {
			t.Fatal(err)
		}
		raw := craft(t, signer, incident.Record{Version: incident.SchemaVersion, Mission: ms.ID.Bytes(),
			Author: author[:], Kind: incident.KindReport, Created: at.UnixMilli(), Payload: p})
		raws = append(raws, raw)
		out = append(out, incident.IDOf(raw))
		size += len(raw)
	}
	res, err := st.AddMany(raws, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Outcome != store.Accepted {
			t.Fatalf("bulkDays: %s %v", r.Outcome, r.Err)
		}
	}
	return out, size
}

// drainResults collects an engine's SyncResults until ctx ends.
func drainResults(ctx context.Context, e *mesh.Engine, out chan<- mesh.SyncResult) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-e.Results():
			select {
			case out <- r:
			default:
			}
		}
	}
}

// has reports whether st holds id.
func has(st *store.Store, id incident.ID) bool {
	r, err := st.Get(id)
	return err == nil && r != nil
}

// gossipUntil publishes probes (publish(i) sends the i-th and returns
// its ID) until one reaches every store in to within probeWait of its
// publication: then gossip spans the way there. It returns the IDs of
// every probe published, for a caller that must tell them from what it
// checks. A probe that comes later than probeWait (through gossip's lazy
// repair rather than the mesh) does not count.
func gossipUntil(t testing.TB, timeout, probeWait time.Duration, what string, publish func(i int) incident.ID, to ...*store.Store) []incident.ID {
	t.Helper()
	var sent []incident.ID
	var at time.Time
	testkit.Eventually(t, timeout, what, func() bool {
		if n := len(sent); n > 0 {
			arrived := true
			for _, st := range to {
				arrived = arrived && has(st, sent[n-1])
			}
			if arrived {
				return true
			}
			if time.Since(at) < probeWait {
				return false
			}
		}
		sent = append(sent, publish(len(sent)))
		at = time.Now()
		return false
	})
	return sent
}

// answers reports whether p answers a ping from h over a connection h
// already holds (it dials nothing). p answers only on a connection it
// accepted and upgraded, so this is a barrier ordered after p's verdict
// on that connection: a refused redial fails it, where a look at p's
// connections a moment after the dial might come too early.
func answers(h host.Host, p peer.ID) bool {
	ctx, cancel := context.WithTimeout(network.WithNoDial(context.Background(), "barrier"), 5*time.Second)
	defer cancel()
	return (<-ping.Ping(ctx, h, p)).Error == nil
}
