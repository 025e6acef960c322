package mesh_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/mesh"
	"github.com/vigil-mesh/vigil/sync/mesh/internal/oldformat"
)

// Records across versions: a newer build's records cross a mesh of this
// build without blame, and a node of the previous release (format level
// 0) gets none it would reject.

// recordSet is what a newer build's devices wrote: legacy records every
// build reads, and newer ones a level-0 build rejects.
type recordSet struct{ legacy, newer []*incident.Signed }

func (rs recordSet) all() []*incident.Signed {
	return append(append([]*incident.Signed{}, rs.legacy...), rs.newer...)
}

// reportMap is a report payload with fields this build does not know
// (extra) beside those it knows.
func reportMap(title string, at time.Time, extra map[uint64]any) map[uint64]any {
	m := map[uint64]any{1: "polling.late_opening", 2: uint64(2), 3: at.UnixMilli(), 9: title}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// newerBuildRecords signs, with the real keys of a coordinator and an
// observer of mission, n rounds of: a legacy report and a legacy config;
// a record of a kind this build does not know by each; a report with a
// payload key it does not know (16); an amendment of the legacy report
// whose nested report has key 16; a config with a setting no build knows.
func newerBuildRecords(t testing.TB, mission incident.ID, coord, obs *incident.Signer, label string, n int) recordSet {
	t.Helper()
	var rs recordSet
	sign := func(s *incident.Signer, kind incident.Kind, at time.Time, payload any) *incident.Signed {
		t.Helper()
		r, err := s.Sign(mission, kind, at, payload)
		if err != nil {
			t.Fatalf("sign %s: %v", kind, err)
		}
		return r
	}
	base := time.Now().Add(-time.Hour)
	for i := 0; i < n; i++ {
		at := func(k int) time.Time { return base.Add(time.Duration(i*10+k) * time.Second) }
		legacy := sign(obs, incident.KindReport, at(0), incident.ReportPayload{Category: "polling.late_opening",
			Severity: 2, Occurred: at(0).UnixMilli(), Title: fmt.Sprintf("%s legacy %d", label, i), Station: "PS-0042"})
		rs.legacy = append(rs.legacy, legacy,
			sign(coord, incident.KindConfig, at(1), incident.ConfigPayload{AttachmentBudget: 1<<20 + uint64(i)}))
		rs.newer = append(rs.newer,
			sign(coord, "bulletin", at(2), map[uint64]any{1: "Road to PS-0042 unsafe", 2: fmt.Sprintf("%s %d", label, i)}),
			sign(obs, "petition", at(3), map[uint64]any{1: "PS-0042", 2: uint64(100 + i)}),
			sign(obs, incident.KindReport, at(4), reportMap(fmt.Sprintf("%s with form %d", label, i), at(4), map[uint64]any{16: "form-7"})),
			sign(obs, incident.KindAmend, at(5), map[uint64]any{1: legacy.ID.Bytes(),
				2: reportMap(fmt.Sprintf("%s amended %d", label, i), at(0), map[uint64]any{16: "form-8"})}),
			sign(coord, incident.KindConfig, at(6), incident.ConfigPayload{Settings: map[string]string{
				"future.setting": fmt.Sprintf("%s %d", label, i)}}),
		)
	}
	for _, r := range rs.legacy {
		if !r.ReadableAt(0) {
			t.Fatalf("legacy %s is not readable at level 0", r.Kind)
		}
	}
	for _, r := range rs.newer {
		if r.ReadableAt(0) {
			t.Fatalf("newer %s is readable at level 0", r.Kind)
		}
		if err := oldformat.Check(r.Raw); err == nil {
			t.Fatalf("the previous release reads newer %s", r.Kind)
		}
	}
	return rs
}

// memberRecord returns st's device's own member record (none for the
// founder, whom the genesis names).
func memberRecord(t testing.TB, st *store.Store) []*incident.Signed {
	t.Helper()
	recs, err := st.ByKind(incident.KindMember)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.AuthorKey() == st.Author() {
			return []*incident.Signed{r}
		}
	}
	return nil
}

// addAll stores recs in st and fails unless each is accepted (or has one
// of the outcomes also allowed).
func addAll(t testing.TB, st *store.Store, recs []*incident.Signed, also ...store.Outcome) {
	t.Helper()
	raws := make([][]byte, len(recs))
	for i, r := range recs {
		raws[i] = r.Raw
	}
	res, err := st.AddMany(raws, "bundle", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Outcome != store.Accepted && !slices.Contains(also, r.Outcome) {
			t.Fatalf("%s %s: %s %v", recs[i].Kind, recs[i].ID, r.Outcome, r.Err)
		}
	}
}

func holdsAll(st *store.Store, recs []*incident.Signed) bool {
	for _, r := range recs {
		if !has(st, r.ID) {
			return false
		}
	}
	return true
}

// gossipReadyOn publishes fresh records that mk signs (stored nowhere) on
// topic until one reaches every store in to: then the gossip mesh of that
// topic spans the way there.
func gossipReadyOn(t testing.TB, topic *pubsub.Topic, mk func(i int) *incident.Signed, to ...*store.Store) {
	t.Helper()
	gossipUntil(t, slow(30*time.Second), time.Second, fmt.Sprintf("gossip on %s never reached every store", topic), func(i int) incident.ID {
		r := mk(i)
		if err := topic.Publish(context.Background(), r.Raw); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}, to...)
}

// noBlame fails if any engine struck anyone, or if any pair of engines is
// no longer admitted and connected both ways.
func noBlame(t testing.TB, pairs [][2]*mesh.Engine, es ...*mesh.Engine) {
	t.Helper()
	for i, e := range es {
		if n := mesh.TotalStrikes(e); n != 0 {
			t.Errorf("node %d counted %d strikes", i, n)
		}
	}
	for _, p := range pairs {
		a, b := p[0], p[1]
		if !a.Node().Admitted(b.Node().ID()) || !b.Node().Admitted(a.Node().ID()) || !connected(a, b.Node().ID()) {
			t.Errorf("%s and %s are no longer admitted and connected", a.Node().ID(), b.Node().ID())
		}
	}
}

// A newer build's records — kinds and payload fields this build does not
// know, signed with real keys — reach a third node through a node of this
// build, A–B–C with A not connected to C, by reconciliation and by gossip:
// stored everywhere, no strike anywhere, no ban, connections up.
func TestNewerRecordsCrossTheMesh(t *testing.T) {
	for _, path := range []string{"reconciliation", "gossip"} {
		t.Run(path, func(t *testing.T) {
			m := newMission(t, 4) // 0 coordinator (A), 1 and 2 observers (B, C), 3 the newer build's observer
			ms := mustMission(t, m.stores[0])
			rs := newerBuildRecords(t, ms.ID, m.stores[0].Signer(), m.stores[3].Signer(), "newer", 1)
			// The newer build's observer enrolled; its records come by bundle.
			addAll(t, m.stores[0], memberRecord(t, m.stores[3]))
			opts := []func(*mesh.Config){noReceipts}
			if path == "gossip" {
				opts = append(opts, slowPeriodic)
				// Every member record everywhere, so the reconciliations
				// on connect have nothing to move.
				for _, from := range m.stores {
					for _, to := range m.stores[:3] {
						addAll(t, to, memberRecord(t, from), store.Duplicate)
					}
				}
			} else {
				addAll(t, m.stores[0], rs.all())
			}
			a, b, c := m.start(0, opts...), m.start(1, opts...), m.start(2, opts...)
			connect(t, a, b)
			connect(t, b, c)
			if connected(a, c.Node().ID()) {
				t.Fatal("A is connected to C")
			}
			for _, pair := range [][2]*mesh.Engine{{a, b}, {b, c}} {
				if l := pair[0].Node().FormatLevel(pair[1].Node().ID()); l != incident.FormatLevel {
					t.Fatalf("a peer of this build reads as format level %d", l)
				}
			}
			if path == "reconciliation" {
				eventually(t, slow(30*time.Second), "the newer records did not reach C", func() bool {
					return holdsAll(m.stores[2], rs.all())
				})
			} else {
				waitConverged(t, slow(30*time.Second), 0, m.stores[:3]...)
				// The reconciliations on connect (one per link, a result
				// on each side) are over; from here on nothing may arrive
				// by reconciliation.
				for _, w := range []struct {
					e *mesh.Engine
					n int
				}{{a, 1}, {b, 2}, {c, 1}} {
					for i := 0; i < w.n; i++ {
						select {
						case <-w.e.Results():
						case <-time.After(slow(20 * time.Second)):
							t.Fatal("a reconciliation on connect never ended")
						}
					}
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				results := make(chan mesh.SyncResult, 64)
				for _, e := range []*mesh.Engine{a, b, c} {
					go drainResults(ctx, e, results)
				}
				coord, obs := m.stores[0].Signer(), m.stores[3].Signer()
				gossipReadyOn(t, mesh.TopicOf(a), func(i int) *incident.Signed {
					return freshReport(t, obs, ms.ID, fmt.Sprintf("probe %d", i))
				}, m.stores[1], m.stores[2])
				gossipReadyOn(t, mesh.NewerTopicOf(a), func(i int) *incident.Signed {
					r, err := coord.Sign(ms.ID, "bulletin", time.Now(), map[uint64]any{1: fmt.Sprintf("probe %d", i)})
					if err != nil {
						t.Fatal(err)
					}
					return r
				}, m.stores[1], m.stores[2])
				addAll(t, m.stores[0], rs.all())
				// The legacy records first: an amendment that arrives before
				// its report waits in quarantine, and what it releases later
				// is not gossiped on (reconciliation carries it).
				for _, batch := range [][]*incident.Signed{rs.legacy, rs.newer} {
					for _, r := range batch {
						if err := mesh.Gossip(a, r); err != nil {
							t.Fatal(err)
						}
					}
					eventually(t, slow(30*time.Second), "the records did not reach C by gossip", func() bool {
						return holdsAll(m.stores[2], batch)
					})
				}
				cancel()
				for _, ch := range []<-chan mesh.SyncResult{results, a.Results(), b.Results(), c.Results()} {
					for len(ch) > 0 {
						if r := <-ch; r.Received > 0 {
							t.Fatalf("a reconciliation brought %d records: the test is not testing gossip", r.Received)
						}
					}
				}
			}
			for i, st := range m.stores[1:3] {
				checkStoreSound(t, st)
				for _, r := range rs.newer {
					got, err := st.Get(r.ID)
					if err != nil || got == nil {
						t.Fatalf("store %d lost %s", i+1, r.ID)
					}
					if !bytes.Equal(got.Raw, r.Raw) {
						t.Fatalf("store %d: %s changed on the way", i+1, r.Kind)
					}
				}
			}
			noBlame(t, [][2]*mesh.Engine{{a, b}, {b, c}}, a, b, c)
		})
	}
}

// oldStore is a store behind the previous release's record decoder: what
// that decoder rejected is rejected, as a *incident.FieldError, before the
// store sees it (so the engine strikes for it, as that release did).
type oldStore struct{ *store.Store }

func (o oldStore) Add(raw []byte, source string) store.Result {
	res, err := o.AddMany([][]byte{raw}, source, nil)
	if err != nil && res[0].Outcome != store.Rejected {
		return store.Result{ID: res[0].ID, Outcome: store.Rejected, Err: err}
	}
	return res[0]
}

func (o oldStore) AddMany(raws [][]byte, source string, progress func(int)) ([]store.Result, error) {
	out := make([]store.Result, len(raws))
	var pass [][]byte
	var at []int
	for i, raw := range raws {
		if err := oldformat.Check(raw); err != nil {
			var fe *incident.FieldError
			if !errors.As(err, &fe) {
				fe = &incident.FieldError{Field: "record", Problem: err.Error()}
			}
			out[i] = store.Result{ID: incident.IDOf(raw), Outcome: store.Rejected, Err: fe}
			continue
		}
		pass = append(pass, raw)
		at = append(at, i)
	}
	if len(pass) == 0 {
		return out, nil
	}
	res, err := o.Store.AddMany(pass, source, nil)
	for j, r := range res {
		out[at[j]] = r
	}
	if progress != nil {
		progress(len(raws))
	}
	return out, err
}

// previousRelease runs a store as a node of the previous release: its
// decoder, and a hello without a format level.
func previousRelease(st *store.Store) func(*mesh.Config) {
	return func(c *mesh.Config) {
		c.Store = oldStore{st}
		mesh.Level0(c)
	}
}

// A node on the previous release's record decoder meets an upgraded peer
// that holds legacy records and a newer build's: after reconciliations
// both ways and gossip on both topics (a newer record even published on
// the first topic by a third node) it holds every legacy record and none
// of the others, has struck nobody, and everyone is still connected. With
// the upgraded peer's filter switched off, the old node bans it.
func TestPreviousReleaseNeverBans(t *testing.T) {
	for _, filter := range []bool{true, false} {
		t.Run(fmt.Sprintf("filter %v", filter), func(t *testing.T) {
			// 0 the upgraded coordinator, 1 the old observer, 2 the newer
			// build's observer (no node), 3 another upgraded observer.
			m := newMission(t, 4)
			ms := mustMission(t, m.stores[0])
			coord, obs := m.stores[0].Signer(), m.stores[2].Signer()
			rs := newerBuildRecords(t, ms.ID, coord, obs, "held", 3)
			// Both know the newer build's observer (its member record is
			// legacy): only the format keeps records out.
			member := memberRecord(t, m.stores[2])
			addAll(t, m.stores[0], member)
			addAll(t, m.stores[1], member)
			addAll(t, m.stores[0], rs.all())
			upOpts := []func(*mesh.Config){noReceipts, slowPeriodic}
			if !filter {
				upOpts = append(upOpts, mesh.IgnoreLevels)
			}
			up := m.start(0, upOpts...)
			old := m.start(1, noReceipts, slowPeriodic, previousRelease(m.stores[1]))
			up2 := m.start(3, noReceipts, slowPeriodic)
			if mesh.NewerTopicOf(old) != nil {
				t.Fatal("a level-0 node joined the second topic")
			}
			upID, oldID := up.Node().ID(), old.Node().ID()
			if !filter {
				// The ban may come before the dialler has seen the hello
				// through: dial, and wait for the ban.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := old.Node().Connect(ctx, infoOf(up)); err != nil {
					t.Fatal(err)
				}
				eventually(t, slow(30*time.Second), "the old node did not ban the upgraded peer", func() bool {
					return mesh.StrikesOf(old, m.stores[0].Author()) >= 10 && !old.Node().Admitted(upID) && !connected(old, upID)
				})
				t.Logf("without the filter: %d strikes, banned", mesh.StrikesOf(old, m.stores[0].Author()))
				return
			}
			for _, r := range rs.all() {
				if mesh.InSnapshot(up, 0, r.ID) != r.ReadableAt(0) || !mesh.InSnapshot(up, 1, r.ID) {
					t.Fatalf("%s: offered at level 0: %v, at level 1: %v", r.Kind, mesh.InSnapshot(up, 0, r.ID), mesh.InSnapshot(up, 1, r.ID))
				}
			}
			connect(t, old, up)
			connect(t, up, up2)
			if !old.Node().Admitted(upID) {
				t.Fatal("the old node banned the upgraded peer at once")
			}
			if l := up.Node().FormatLevel(oldID); l != 0 {
				t.Fatalf("the old node reads as format level %d", l)
			}
			if l := old.Node().FormatLevel(upID); l != incident.FormatLevel {
				t.Fatalf("the upgraded node reads as format level %d", l)
			}
			eventually(t, slow(30*time.Second), "the legacy records did not reach the old node", func() bool {
				return holdsAll(m.stores[1], rs.legacy)
			})
			eventually(t, slow(30*time.Second), "the records did not reach the other upgraded node", func() bool {
				return holdsAll(m.stores[3], rs.all())
			})
			// Reconciliation started from either side.
			ctx, cancel := context.WithTimeout(context.Background(), slow(30*time.Second))
			defer cancel()
			for _, pair := range [][2]*mesh.Engine{{old, up}, {up, old}} {
				if _, err := pair[0].SyncPeer(ctx, pair[1].Node().ID()); err != nil {
					t.Fatal(err)
				}
			}

			// Gossip: the upgraded node publishes what a newer build wrote
			// on the topics it picks; the third node publishes a newer
			// record on the first topic, where the upgraded node stores it
			// and forwards it no further.
			gs := newerBuildRecords(t, ms.ID, coord, obs, "gossip", 1)
			gossipReadyOn(t, mesh.TopicOf(up2), func(i int) *incident.Signed {
				return freshReport(t, obs, ms.ID, fmt.Sprintf("probe %d", i))
			}, m.stores[0], m.stores[1])
			gossipReadyOn(t, mesh.NewerTopicOf(up), func(i int) *incident.Signed {
				r, err := coord.Sign(ms.ID, "bulletin", time.Now(), map[uint64]any{1: fmt.Sprintf("probe %d", i)})
				if err != nil {
					t.Fatal(err)
				}
				return r
			}, m.stores[3])
			addAll(t, m.stores[0], gs.all())
			for _, batch := range [][]*incident.Signed{gs.legacy, gs.newer} {
				for _, r := range batch {
					if err := mesh.Gossip(up, r); err != nil {
						t.Fatal(err)
					}
				}
				eventually(t, slow(30*time.Second), "gossip did not bring the records to the other upgraded node", func() bool {
					return holdsAll(m.stores[3], batch)
				})
			}
			wrongTopic, err := coord.Sign(ms.ID, "bulletin", time.Now(), map[uint64]any{1: "on the first topic"})
			if err != nil {
				t.Fatal(err)
			}
			if err := mesh.TopicOf(up2).Publish(ctx, wrongTopic.Raw); err != nil {
				t.Fatal(err)
			}
			eventually(t, slow(10*time.Second), "the upgraded node did not store the newer record from the first topic", func() bool {
				return has(m.stores[0], wrongTopic.ID)
			})
			// A legacy record the same way after it: once it is through,
			// the newer one would have been too (one queue per peer).
			after := freshReport(t, obs, ms.ID, "after the newer one")
			if err := mesh.TopicOf(up2).Publish(ctx, after.Raw); err != nil {
				t.Fatal(err)
			}
			eventually(t, slow(30*time.Second), "gossip did not bring the legacy records to the old node", func() bool {
				return holdsAll(m.stores[1], append(gs.legacy, after))
			})
			for _, pair := range [][2]*mesh.Engine{{old, up}, {up, old}} {
				if _, err := pair[0].SyncPeer(ctx, pair[1].Node().ID()); err != nil {
					t.Fatal(err)
				}
			}

			for _, r := range append(rs.newer, append(gs.newer, wrongTopic)...) {
				if has(m.stores[1], r.ID) {
					t.Errorf("the old node holds a newer %s", r.Kind)
				}
			}
			if !holdsAll(m.stores[1], append(rs.legacy, gs.legacy...)) {
				t.Error("the old node lacks legacy records")
			}
			if n, _ := m.stores[1].QuarantineCount(); n != 0 {
				t.Errorf("the old node holds %d records in quarantine", n)
			}
			noBlame(t, [][2]*mesh.Engine{{old, up}, {up, up2}}, up, old, up2)
		})
	}
}

// A peer sends, by gossip and in reconciliation, what this build must not
// store: a record of a newer schema version (refused, no strike), a newer
// kind by an author who is no member (quarantined until one enrolls it,
// no strike), and one over the size limit (refused by size, a strike, as
// any oversize record). A member's newer record in the same push is
// stored.
func TestRecordsThisBuildCannotStore(t *testing.T) {
	m := newMission(t, 2)
	ms := mustMission(t, m.stores[0])
	honest := m.start(0, noReceipts, slowPeriodic)
	sender := m.start(1, noReceipts, slowPeriodic)
	connect(t, sender, honest)
	waitConverged(t, slow(20*time.Second), 0, m.stores...)
	hs, signer := m.stores[0], m.stores[1].Signer()
	sid := sender.Node().ID()
	author := signer.Author()
	seed := make([]byte, 32)
	rand.Read(seed)
	stranger, err := incident.NewSigner(seed)
	if err != nil {
		t.Fatal(err)
	}
	strangerKey := stranger.Author()
	version2 := func(title string) []byte {
		p, err := incident.Marshal(reportMap(title, time.Now(), nil))
		if err != nil {
			t.Fatal(err)
		}
		return craft(t, signer, incident.Record{Version: incident.SchemaVersion + 1, Mission: ms.ID.Bytes(),
			Author: author[:], Kind: incident.KindReport, Created: time.Now().UnixMilli(), Payload: p})
	}
	strangers := func(title string) []byte {
		p, err := incident.Marshal(map[uint64]any{1: title})
		if err != nil {
			t.Fatal(err)
		}
		return craft(t, stranger, incident.Record{Version: incident.SchemaVersion, Mission: ms.ID.Bytes(),
			Author: strangerKey[:], Kind: "bulletin", Created: time.Now().UnixMilli(), Payload: p})
	}
	oversize, err := incident.Marshal(map[uint64]any{1: strings.Repeat("x", incident.MaxRecordBytes)})
	if err != nil {
		t.Fatal(err)
	}
	big := craft(t, signer, incident.Record{Version: incident.SchemaVersion, Mission: ms.ID.Bytes(),
		Author: author[:], Kind: "bulletin", Created: time.Now().UnixMilli(), Payload: oversize})
	if len(big) <= incident.MaxRecordBytes || len(big) > incident.MaxRecordBytes+1024 {
		t.Fatalf("the oversize record is %d bytes", len(big))
	}
	var fe *incident.FieldError
	if r := hs.Add(big, "test"); r.Outcome != store.Rejected || !errors.As(r.Err, &fe) || fe.Field != "record" {
		t.Fatalf("the oversize record: %s %v, want refused by size", r.Outcome, r.Err)
	}

	t.Run("gossip", func(t *testing.T) {
		gossipReadyOn(t, mesh.TopicOf(sender), func(i int) *incident.Signed {
			return freshReport(t, signer, ms.ID, fmt.Sprintf("probe %d", i))
		}, hs)
		gossipReadyOn(t, mesh.NewerTopicOf(sender), func(i int) *incident.Signed {
			r, err := signer.Sign(ms.ID, "petition", time.Now(), map[uint64]any{1: fmt.Sprintf("probe %d", i)})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}, hs)
		newer := mesh.NewerRefused(honest)
		v2 := version2("by gossip")
		if err := mesh.TopicOf(sender).Publish(context.Background(), v2); err != nil {
			t.Fatal(err)
		}
		eventually(t, slow(10*time.Second), "the newer version was not refused", func() bool {
			return mesh.NewerRefused(honest) == newer+1
		})
		q0, _ := hs.QuarantineCount()
		waiting := strangers("by gossip")
		if err := mesh.NewerTopicOf(sender).Publish(context.Background(), waiting); err != nil {
			t.Fatal(err)
		}
		eventually(t, slow(10*time.Second), "the stranger's record did not wait in quarantine", func() bool {
			q, _ := hs.QuarantineCount()
			return q == q0+1
		})
		if s := mesh.StrikesOf(honest, author); s != 0 {
			t.Fatalf("%d strikes for records that were not the sender's fault", s)
		}
		if err := mesh.NewerTopicOf(sender).Publish(context.Background(), big); err != nil {
			t.Fatal(err)
		}
		eventually(t, slow(10*time.Second), "no strike for the oversize record", func() bool {
			return mesh.StrikesOf(honest, author) == 1
		})
		for _, raw := range [][]byte{v2, waiting, big} {
			if has(hs, incident.IDOf(raw)) {
				t.Errorf("stored %s", incident.IDOf(raw))
			}
		}
		if !honest.Node().Admitted(sid) || !connected(honest, sid) {
			t.Fatal("the sender was dropped")
		}
	})

	t.Run("reconciliation", func(t *testing.T) {
		strikes := mesh.StrikesOf(honest, author)
		newer := mesh.NewerRefused(honest)
		q0, _ := hs.QuarantineCount()
		good, err := signer.Sign(ms.ID, "bulletin", time.Now(), map[uint64]any{1: "in the same push"})
		if err != nil {
			t.Fatal(err)
		}
		v2, waiting := version2("in reconciliation"), strangers("in reconciliation")
		for len(honest.Results()) > 0 {
			<-honest.Results()
		}
		ctx, cancel := context.WithTimeout(context.Background(), slow(20*time.Second))
		defer cancel()
		s, err := sender.Node().Host().NewStream(ctx, honest.Node().ID(), mesh.ReconProtocol(honest))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Reset()
		var body []byte
		for _, raw := range [][]byte{v2, waiting, good.Raw} {
			body = append(binary.AppendUvarint(body, uint64(len(raw))), raw...)
		}
		// End of phase 1 (nothing to reconcile), the push, end of wants,
		// done.
		if err := writeRaw(s, nil, append([]byte{'R'}, body...), []byte{'E'}, []byte{'D'}); err != nil {
			t.Fatal(err)
		}
		var res mesh.SyncResult
		select {
		case res = <-honest.Results():
		case <-ctx.Done():
			t.Fatal("the session never ended")
		}
		t.Logf("session: received %d, rejected %d", res.Received, res.Rejected)
		if !has(hs, good.ID) {
			t.Fatal("the member's newer record in the push was not stored")
		}
		if has(hs, incident.IDOf(v2)) || has(hs, incident.IDOf(waiting)) {
			t.Fatal("stored what must wait or be refused")
		}
		if got := mesh.NewerRefused(honest); got != newer+1 {
			t.Fatalf("%d records refused as newer, want 1", got-newer)
		}
		if q, _ := hs.QuarantineCount(); q != q0+1 {
			t.Fatalf("quarantine holds %d, want %d", q, q0+1)
		}
		if got := mesh.StrikesOf(honest, author); got != strikes {
			t.Fatalf("%d strikes for a push without invalid records", got-strikes)
		}
		if !honest.Node().Admitted(sid) {
			t.Fatal("the sender was dropped")
		}
	})
}

// A level-0 peer that asks for records by ID in reconciliation (it could
// not learn the newer ones' IDs there, but might elsewhere) is served the
// legacy ones only: the second line behind the filtered set.
func TestLevel0PeerServedOnlyWhatItReads(t *testing.T) {
	m := newMission(t, 3)
	ms := mustMission(t, m.stores[0])
	addAll(t, m.stores[0], memberRecord(t, m.stores[2]))
	rs := newerBuildRecords(t, ms.ID, m.stores[0].Signer(), m.stores[2].Signer(), "asked", 1)
	addAll(t, m.stores[0], rs.all())
	up := m.start(0, noReceipts, slowPeriodic)
	old := m.start(1, noReceipts, slowPeriodic, previousRelease(m.stores[1]))
	connect(t, old, up)

	ctx, cancel := context.WithTimeout(context.Background(), slow(20*time.Second))
	defer cancel()
	s, err := old.Node().Host().NewStream(ctx, up.Node().ID(), mesh.ReconProtocol(up))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	want := []byte{'W'}
	for _, r := range rs.all() {
		want = append(want, r.ID[:]...)
	}
	// End of phase 1, the wants, end of wants.
	if err := writeRaw(s, nil, want, []byte{'E'}); err != nil {
		t.Fatal(err)
	}
	served := map[incident.ID]bool{}
	r := bufio.NewReader(s)
	for {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			t.Fatal(err)
		}
		f := make([]byte, n)
		if _, err := io.ReadFull(r, f); err != nil {
			t.Fatal(err)
		}
		if len(f) > 0 && f[0] == 'D' {
			break
		}
		if len(f) == 0 || f[0] != 'R' {
			continue
		}
		for b := f[1:]; len(b) > 0; {
			k, w := binary.Uvarint(b)
			if w <= 0 || uint64(len(b)-w) < k {
				t.Fatal("malformed record frame")
			}
			served[incident.IDOf(b[w:w+int(k)])] = true
			b = b[w+int(k):]
		}
	}
	if err := writeRaw(s, []byte{'D'}); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.legacy {
		if !served[r.ID] {
			t.Errorf("legacy %s not served", r.Kind)
		}
	}
	for _, r := range rs.newer {
		if served[r.ID] {
			t.Errorf("newer %s served to a level-0 peer", r.Kind)
		}
	}
}
