package mesh_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// Floods by an admitted member: records its own store would refuse, sent
// by a modified build. A floodStore is that build's store: it offers,
// besides what the member's store holds, records held in memory only (a
// flood over quota, records of keys nobody enrolled), and counts how often
// a peer is sent one of them.

type floodStore struct {
	*store.Store
	mu     sync.Mutex
	extra  map[incident.ID]*incident.Signed
	served int // extra records read to be sent
}

func newFloodStore(st *store.Store, flood []*incident.Signed) *floodStore {
	f := &floodStore{Store: st, extra: map[incident.ID]*incident.Signed{}}
	for _, r := range flood {
		f.extra[r.ID] = r
	}
	return f
}

func (f *floodStore) ForEachKey(fn func(created int64, id incident.ID) error) error {
	return f.withExtra(f.Store.ForEachKey, fn)
}

// ForEachLiveKey: the flood is offered in live sessions too (the
// attacker's device is an observer's, so it speaks the live protocol).
func (f *floodStore) ForEachLiveKey(fn func(created int64, id incident.ID) error) error {
	return f.withExtra(f.Store.ForEachLiveKey, fn)
}

func (f *floodStore) withExtra(each func(func(int64, incident.ID) error) error, fn func(created int64, id incident.ID) error) error {
	if err := each(fn); err != nil {
		return err
	}
	f.mu.Lock()
	list := make([]*incident.Signed, 0, len(f.extra))
	for _, r := range f.extra {
		list = append(list, r)
	}
	f.mu.Unlock()
	for _, r := range list {
		if err := fn(r.Created, r.ID); err != nil {
			return err
		}
	}
	return nil
}

func (f *floodStore) Get(id incident.ID) (*incident.Signed, error) {
	f.mu.Lock()
	r, ok := f.extra[id]
	if ok {
		f.served++
	}
	f.mu.Unlock()
	if ok {
		return r, nil
	}
	return f.Store.Get(id)
}

func (f *floodStore) servedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served
}

// setObserverQuota has coordinator sign a config that sets the observers'
// record quota, and gives it to the other stores, as a sync would.
func setObserverQuota(t testing.TB, coordinator *store.Store, records int, others ...*store.Store) {
	t.Helper()
	ms := mustMission(t, coordinator)
	rec, err := coordinator.Put(incident.KindConfig, ms.NewConfig(map[string]string{
		"quota." + incident.RoleObserver + ".records": fmt.Sprint(records)}))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range others {
		if res := o.Add(rec.Raw, "test"); res.Outcome != store.Accepted {
			t.Fatalf("config at another device: %s %v", res.Outcome, res.Err)
		}
	}
}

// floodReports signs n reports by st's device, spread evenly over days
// claimed days ending yesterday, without storing them.
func floodReports(t testing.TB, st *store.Store, n, days int) []*incident.Signed {
	t.Helper()
	ms := mustMission(t, st)
	return signedReports(t, st.Signer(), ms.ID, n, days)
}

func signedReports(t testing.TB, signer *incident.Signer, mission incident.ID, n, days int) []*incident.Signed {
	t.Helper()
	author := signer.Author()
	base := time.Now().UTC().Truncate(24 * time.Hour).Add(-time.Duration(days) * 24 * time.Hour)
	perDay := (n + days - 1) / days
	out := make([]*incident.Signed, n)
	for i := range out {
		at := base.Add(time.Duration(i/perDay)*24*time.Hour + time.Duration(i%perDay)*time.Second)
		p, err := incident.Marshal(incident.ReportPayload{
			Category: "polling.intimidation", Severity: 1, Occurred: at.UnixMilli(),
			Title: fmt.Sprintf("flood %d", i), Description: randomText(200)})
		if err != nil {
			t.Fatal(err)
		}
		raw := craft(t, signer, incident.Record{Version: incident.SchemaVersion, Mission: mission.Bytes(),
			Author: author[:], Kind: incident.KindReport, Created: at.UnixMilli(), Payload: p})
		r, err := incident.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = r
	}
	return out
}

// waitSession waits for the next reconciliation with p that e finishes
// (and has stored what it received in).
func waitSession(t testing.TB, results <-chan mesh.SyncResult, p peer.ID, what string) mesh.SyncResult {
	t.Helper()
	timeout := time.After(slow(60 * time.Second))
	for {
		select {
		case r := <-results:
			if r.Peer == p {
				return r
			}
		case <-timeout:
			t.Fatalf("%s: no reconciliation with %s finished", what, p)
		}
	}
}

func held(t testing.TB, st *store.Store, recs []*incident.Signed) int {
	t.Helper()
	n := 0
	for _, r := range recs {
		if ok, err := st.Has(r.ID); err != nil {
			t.Fatal(err)
		} else if ok {
			n++
		}
	}
	return n
}

// An observer floods the coordinator with three times its quota, over
// three claimed days (a claimed day is the sender's to choose, so it
// must buy nothing). The coordinator keeps the quota's worth, and the
// next reconciliation does not fetch the refused records again.
func TestFloodAcrossClaimedDaysStopsAtQuota(t *testing.T) {
	m := newMission(t, 2) // 0: coordinator, 1: the observer turned attacker
	const quota = 100
	setObserverQuota(t, m.stores[0], quota, m.stores[1])
	flood := floodReports(t, m.stores[1], 3*quota, 3)
	fs := newFloodStore(m.stores[1], flood)
	victim := m.start(0, noReceipts, slowPeriodic)
	attacker := m.startWith(fs, noReceipts, slowPeriodic)
	results, stop := victim.Subscribe(64)
	defer stop()
	// The reconciliation on connect (one session, started by the side
	// with the lower peer ID) takes the whole flood across.
	connect(t, attacker, victim)
	first := waitSession(t, results, attacker.Node().ID(), "first flood")
	eventually(t, slow(20*time.Second), "the coordinator judged the flood", func() bool {
		return held(t, m.stores[0], flood) >= quota
	})
	kept := held(t, m.stores[0], flood)
	t.Logf("first reconciliation at the coordinator: %+v; kept %d of %d flood records", first, kept, len(flood))
	if kept != quota {
		t.Fatalf("the coordinator kept %d of %d reports by one observer over three claimed days; the quota for the mission is %d",
			kept, len(flood), quota)
	}

	// The attacker starts again: the coordinator learns, as responder,
	// what it lacks, and asks for none of the refused records.
	ctx, cancel := context.WithTimeout(context.Background(), slow(60*time.Second))
	defer cancel()
	before := fs.servedCount()
	second, err := attacker.SyncPeer(ctx, victim.Node().ID())
	if err != nil {
		t.Fatal(err)
	}
	at := waitSession(t, results, attacker.Node().ID(), "second flood")
	served := fs.servedCount() - before
	t.Logf("second reconciliation: attacker %+v; coordinator %+v; refused records sent again: %d", second, at, served)
	if served != 0 || at.Rejected != 0 {
		t.Errorf("the coordinator fetched %d of the %d records it refused for quota again (%d rejected again, %d bytes received)",
			served, len(flood)-quota, at.Rejected, at.BytesReceived)
	}
	if kept := held(t, m.stores[0], flood); kept != quota {
		t.Errorf("after the second reconciliation the coordinator holds %d flood records, want %d", kept, quota)
	}
}

// An observer floods with reports signed by keys nobody enrolled, a
// fresh key per record and a fresh peer ID per wave: each record waits in
// the victim's quarantine for a member record that never comes, each
// under its own author's bound. The quarantine's global cap holds.
func TestFloodOfUnknownAuthorsStaysWithinQuarantineCap(t *testing.T) {
	m := newMission(t, 2)
	const limit, waves, perWave = 100, 4, 150
	// The victim runs with a small quarantine cap.
	st := reopenWith(t, m, 0, store.Options{QuarantineRecords: limit})
	ms := mustMission(t, st)
	victim := m.start(0, noReceipts, slowPeriodic)
	results, stop := victim.Subscribe(64)
	defer stop()

	heap := func() uint64 {
		runtime.GC()
		var s runtime.MemStats
		runtime.ReadMemStats(&s)
		return s.HeapInuse
	}
	heap0 := heap()
	total := 0
	for w := range waves {
		var flood []*incident.Signed
		for i := range perWave {
			signer, err := incident.NewSigner(append(make([]byte, 29), 7, byte(w), byte(i)))
			if err != nil {
				t.Fatal(err)
			}
			flood = append(flood, signedReports(t, signer, ms.ID, 1, 1)...)
		}
		total += len(flood)
		attacker := m.startWith(newFloodStore(m.stores[1], flood), noReceipts, slowPeriodic)
		connect(t, attacker, victim) // one reconciliation on connect
		r := waitSession(t, results, attacker.Node().ID(), fmt.Sprintf("wave %d", w))
		n, err := st.QuarantineCount()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("wave %d (peer %s): %d records of unknown authors sent so far; the victim's quarantine holds %d (cap %d); session %+v",
			w, attacker.Node().ID(), total, n, limit, r)
		if n > limit {
			t.Fatalf("after %d records of unknown authors from %d peer IDs the victim's quarantine holds %d records; the cap is %d",
				total, w+1, n, limit)
		}
	}
	grew := int64(heap()) - int64(heap0)
	t.Logf("heap in use grew by %.1f MiB over the flood (victim and %d attacking engines in one process)", float64(grew)/(1<<20), waves)
}

// What one member hands over to wait in the quarantine is bounded by
// its author key, whatever transport keys its devices use: past the
// bound, its records of unknown authors are refused before anything is
// written, while another member's still wait.
func TestQuarantinePerSendingMember(t *testing.T) {
	m := newMission(t, 3)
	const perSender, waves, perWave = 40, 3, 30
	st := reopenWith(t, m, 0, store.Options{QuarantineSourceRecords: perSender})
	ms := mustMission(t, st)
	victim := m.start(0, noReceipts, slowPeriodic)
	results, stop := victim.Subscribe(64)
	defer stop()
	unknown := func(tag, w byte, n int) []*incident.Signed {
		var out []*incident.Signed
		for i := range n {
			signer, err := incident.NewSigner(append(make([]byte, 29), tag, w, byte(i)))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, signedReports(t, signer, ms.ID, 1, 1)...)
		}
		return out
	}
	// Member 1 floods in waves, each from a fresh transport key.
	for w := range waves {
		attacker := m.startWith(newFloodStore(m.stores[1], unknown(8, byte(w), perWave)), noReceipts, slowPeriodic)
		connect(t, attacker, victim)
		waitSession(t, results, attacker.Node().ID(), fmt.Sprintf("wave %d", w))
		attacker.Close()
	}
	n, err := st.QuarantineCount()
	if err != nil {
		t.Fatal(err)
	}
	if n != perSender {
		t.Fatalf("member 1 handed over %d records of unknown authors from %d transport keys; %d wait, want its bound of %d",
			waves*perWave, waves, n, perSender)
	}
	// Member 2's records still wait.
	other := m.startWith(newFloodStore(m.stores[2], unknown(9, 0, 10)), noReceipts, slowPeriodic)
	connect(t, other, victim)
	waitSession(t, results, other.Node().ID(), "member 2")
	if n, _ := st.QuarantineCount(); n != perSender+10 {
		t.Fatalf("after member 2's 10: %d wait, want %d", n, perSender+10)
	}
}

// reopenWith closes member i's store and opens it again with o (the
// cheap KDF added), in place, for a victim with other limits.
func reopenWith(t testing.TB, m *mission, i int, o store.Options) *store.Store {
	t.Helper()
	home := m.stores[i].Home()
	m.stores[i].Close()
	o.KDF = &cheapKDF
	st, err := store.Open(home, []byte("pw"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m.stores[i] = st
	return st
}
