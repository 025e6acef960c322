package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/node"
	"github.com/vigil-mesh/vigil/sync/daemon"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// The hostile group: an observer's phone (the victim, in a child process
// with the phone profile and the phone's Go memory limit) is attacked by
// admitted members, one fresh member per attack so that a ban earned in
// one attack does not shield the victim from the next. For each attack
// the child reports the peak of its live heap (the heap the last GC
// marked: what the attack made it keep, not garbage awaiting collection)
// above its idle baseline.
//
// The attackers speak the wire protocols directly (sync/mesh/recon.go and
// blob.go describe them): the stream protocol names below are those of
// sync/mesh; a renamed protocol makes every attack fail loudly, not pass.
const (
	hostileReconName = "recon/2"
	// The victim is an observer's phone: it serves reconciliation over
	// live sets only (sync/mesh/custody.go), which starts with a covering
	// step.
	hostileLiveName  = "recon-live/1"
	hostileBlobName  = "blob"
	victimHeapTarget = 16 << 20 // per attacking member
)

// hostileAttack is one attack: run it as the member whose engine is a,
// against the victim at v.
type hostileAttack struct {
	name string
	what string
	run  func(ctx context.Context, a *hostileMember, v peer.ID) (string, error)
}

type hostileMember struct {
	st    *store.Store
	wired *daemon.Mesh
}

func (m *hostileMember) node() *node.Node { return m.wired.Engine.Node() }

func hostileGroup(rs *Results, o benchOptions, work string, logf func(string, ...any)) error {
	dir := filepath.Join(work, "hostile")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	wants, flood, strangers, blobRequests, honest := 65536, 2*int(incident.DefaultQuota(incident.RoleObserver).Records), 20000, 48, 20000
	if o.quick {
		wants, flood, strangers, blobRequests, honest = 8192, 300, 1000, 8, 1000
	}
	// Eight observers sign the honest member's records, each well under
	// an observer's quota.
	m, err := gen.NewMission(filepath.Join(dir, "founder"), 8, o.seed)
	if err != nil {
		return err
	}
	defer m.Founder.Close()

	// The victim's phone: joined as an observer, with a few hundred of its
	// own reports and an 8 MiB photo (what the attackers ask for).
	victimHome := filepath.Join(dir, "victim")
	vst, err := m.JoinStore(victimHome, gen.StoreOptions())
	if err != nil {
		return err
	}
	held, photo, err := victimData(vst, m)
	if err != nil {
		vst.Close()
		return err
	}
	if err := vst.Close(); err != nil {
		return err
	}

	attacks := []hostileAttack{
		// The baseline: an honest member meets the victim, syncs and
		// stays a while. What a connection and a session cost is not an
		// attack's doing.
		{"idle", "an honest member connects, syncs once and idles 2 s",
			func(ctx context.Context, a *hostileMember, v peer.ID) (string, error) {
				res, err := a.wired.Engine.SyncPeer(ctx, v)
				select {
				case <-time.After(2 * time.Second): // the baseline needs samples, not an event
				case <-ctx.Done():
				}
				return fmt.Sprintf("%d records each way", res.Sent+res.Received), err
			}},
		// The second reference: an honest member hands the victim as
		// many records as the largest flood, by the ordinary sync. What
		// storing that many costs the phone (Badger's memtables and
		// their flushes) is not an attack's doing either.
		{"honest_bulk", fmt.Sprintf("an honest member's sync of %d valid reports by eight observers", honest),
			func(ctx context.Context, a *hostileMember, v peer.ID) (string, error) {
				raws, err := m.Sign(gen.Spec{N: honest, Seed: o.seed + 1, Start: time.Now().Add(-24 * time.Hour), Days: 1})
				if err != nil {
					return "", err
				}
				if err := gen.AddAll(a.st, raws, "bench"); err != nil {
					return "", err
				}
				res, err := a.wired.Engine.SyncPeer(ctx, v)
				return fmt.Sprintf("%d records sent, %.1f MiB", res.Sent, mib(int64(res.BytesSent))), err
			}},
		{"wants", fmt.Sprintf("%d wants in one session: %d copies of one ID the victim holds, then distinct IDs it does not", wants, wants/2),
			func(ctx context.Context, a *hostileMember, v peer.ID) (string, error) {
				return attackWants(ctx, a, v, held, wants)
			}},
		{"attachment_requests", fmt.Sprintf("%d concurrent requests for 16 chunks of an 8 MiB file, never read", blobRequests),
			func(ctx context.Context, a *hostileMember, v peer.ID) (string, error) {
				return attackBlobRequests(ctx, a, v, photo, blobRequests)
			}},
		{"flood_claimed_days", fmt.Sprintf("%d reports of one observer (twice its default quota), claimed over three days, pushed", flood),
			func(ctx context.Context, a *hostileMember, v peer.ID) (string, error) {
				return attackFlood(ctx, a, v, m.ID, flood)
			}},
		{"flood_unknown_authors", fmt.Sprintf("%d reports, each by a different key no member record names, pushed", strangers),
			func(ctx context.Context, a *hostileMember, v peer.ID) (string, error) {
				return attackStrangers(ctx, a, v, m.ID, strangers)
			}},
		{"spoiled_chunks", "a 4 MiB attachment whose every chunk the attacker spoils, offered again and again",
			func(ctx context.Context, a *hostileMember, v peer.ID) (string, error) {
				return attackSpoiledChunks(ctx, a, v)
			}},
	}

	child, err := startVictim(victimHome, o.memLimit, o.profileDir)
	if err != nil {
		return err
	}
	defer child.stop()
	vaddr, err := ma.NewMultiaddr(child.addr)
	if err != nil {
		return err
	}
	vinfo, err := peer.AddrInfoFromP2pAddr(vaddr)
	if err != nil {
		return err
	}
	notes := map[string]string{}
	for _, at := range attacks {
		am, err := newHostileMember(m, filepath.Join(dir, "attacker-"+at.name))
		if err != nil {
			return err
		}
		if err := child.phase(at.name); err != nil {
			am.close()
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		if _, err := am.node().ConnectAddr(ctx, vaddr); err != nil {
			cancel()
			am.close()
			return fmt.Errorf("%s: connect: %w", at.name, err)
		}
		if err := am.node().WaitAdmitted(ctx, vinfo.ID); err != nil {
			cancel()
			am.close()
			return fmt.Errorf("%s: admission: %w", at.name, err)
		}
		logf("hostile: %s", at.what)
		note, err := at.run(ctx, am, vinfo.ID)
		cancel()
		am.close()
		if err != nil {
			return fmt.Errorf("%s: %w", at.name, err)
		}
		notes[at.name] = note
	}
	rep, err := child.finish()
	if err != nil {
		return err
	}
	idle, bulk := rep.Phases["idle"], rep.Phases["honest_bulk"]
	logf("hostile: victim's live heap idle %.1f MiB (peak %.1f MiB while an honest member synced); an honest sync of %d records: %.1f MiB over its start",
		mib(idle.Start), mib(idle.Live), honest, mib(bulk.Live-bulk.Start))
	rs.add(Result{Name: "hostile.honest_bulk_heap", Unit: "MiB", Value: mib(max(bulk.Live-bulk.Start, 0)),
		Params: map[string]any{"records": honest, "profile": "phone"},
		Note: fmt.Sprintf("the victim's live heap peak during an honest member's sync of %d valid reports (%s), over the %.1f MiB it held idle before: what storing a burst of records costs the phone (Badger's memtables and their flushes), attack or not",
			honest, notes["honest_bulk"], mib(bulk.Start))})
	for _, at := range attacks[2:] {
		ph, ok := rep.Phases[at.name]
		if !ok {
			return fmt.Errorf("the victim reported no phase %q", at.name)
		}
		growth := max(ph.Live-ph.Start, 0)
		r := Result{Name: "hostile.victim_heap", Unit: "MiB", Value: mib(growth),
			Params: map[string]any{"attack": at.name, "profile": "phone", "attackers": 1},
			Target: fmt.Sprintf("≤ %d MiB per attacking member", victimHeapTarget>>20),
			Note: fmt.Sprintf("%s; %s; victim's live heap peak %.1f MiB over the %.1f MiB it held idle just before (an honest sync of %d records: %.1f MiB over its start; heap objects peak %.1f MiB; Go memory limit %d MiB)",
				at.what, notes[at.name], mib(ph.Live), mib(ph.Start), honest, mib(bulk.Live-bulk.Start), mib(ph.Objects), o.memLimit>>20)}
		r.Met = boolp(growth <= victimHeapTarget)
		rs.add(r)
	}
	rs.add(Result{Name: "hostile.victim_store", Unit: "records", Value: float64(rep.Records),
		Params: map[string]any{"profile": "phone"},
		Note:   fmt.Sprintf("records the victim's store held after every attack (it started with %d of its own and the mission's); %d quarantined", len(held), rep.Quarantined)})
	return nil
}

// victimData gives the victim its own reports and a photo, and returns
// the IDs it holds and the photo's hash.
func victimData(st *store.Store, m *gen.Mission) ([]incident.ID, [32]byte, error) {
	var ids []incident.ID
	rng := mrand.New(mrand.NewPCG(1, 2))
	for range 300 {
		r, err := st.Put(incident.KindReport, m.World.Payload(rng, time.Now()))
		if err != nil {
			return nil, [32]byte{}, err
		}
		ids = append(ids, r.ID)
	}
	data := gen.RandomBytes(8 << 20)
	sum := sha256.Sum256(data)
	if err := st.PutBlob(sum, data); err != nil {
		return nil, sum, err
	}
	if _, err := st.Put(incident.KindAttachment, incident.AttachmentPayload{Hash: sum[:], Size: uint64(len(data)),
		Mime: "image/jpeg", Chunks: incident.ChunkHashes(data)}); err != nil {
		return nil, sum, err
	}
	return ids, sum, nil
}

func newHostileMember(m *gen.Mission, home string) (*hostileMember, error) {
	st, err := m.JoinStore(home, gen.StoreOptions())
	if err != nil {
		return nil, err
	}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		st.Close()
		return nil, err
	}
	wired, err := daemon.StartMesh(node.Config{Key: key, Secret: st.Secret(),
		Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}},
		mesh.Config{Store: st, Interval: time.Hour, ReceiptInterval: time.Hour})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &hostileMember{st: st, wired: wired}, nil
}

func (m *hostileMember) close() {
	m.wired.Close()
	m.st.Close()
}

// rawFrame is one transfer-phase frame: uvarint length (type byte
// included), type, body.
func rawFrame(typ byte, body []byte) []byte {
	b := binary.AppendUvarint(nil, uint64(1+len(body)))
	return append(append(b, typ), body...)
}

// reconStream opens a live reconciliation stream to v (the victim is a
// phone), asks about no records and hands over no receipts in the
// covering step, and ends phase 1 at once (an empty frame from the
// initiator), so what follows is phase 2. The returned counter counts
// what v sends on it, read until v closes.
func reconStream(ctx context.Context, a *hostileMember, v peer.ID) (network.Stream, *atomic.Int64, <-chan struct{}, error) {
	s, err := a.node().Host().NewStream(ctx, v, a.node().Protocol(hostileLiveName, v), a.node().Protocol(hostileReconName, v))
	if err != nil {
		return nil, nil, nil, err
	}
	var start []byte
	if s.Protocol() == a.node().Protocol(hostileLiveName, v) {
		start = append(rawFrame('E', nil), rawFrame('D', nil)...)
	}
	if _, err := s.Write(append(start, 0)); err != nil {
		s.Reset()
		return nil, nil, nil, err
	}
	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		n, _ := io.Copy(io.Discard, s)
		got.Add(n)
	}()
	return s, &got, done, nil
}

// finishStream ends the attacker's side of phase 2 and waits for v to end
// the stream (or for the context).
func finishStream(ctx context.Context, s network.Stream, done <-chan struct{}) {
	_, _ = s.Write(rawFrame('D', nil))
	_ = s.CloseWrite()
	select {
	case <-done:
	case <-ctx.Done():
	}
	s.Reset()
}

// attackWants asks for one held record n/2 times, then for n/2 IDs the
// victim never had.
func attackWants(ctx context.Context, a *hostileMember, v peer.ID, held []incident.ID, n int) (string, error) {
	s, got, done, err := reconStream(ctx, a, v)
	if err != nil {
		return "", err
	}
	const perFrame = 8192
	var sent int64
	for i := 0; i < n; i += perFrame {
		body := make([]byte, 0, 32*perFrame)
		for j := i; j < min(i+perFrame, n); j++ {
			if j < n/2 {
				body = append(body, held[0][:]...)
			} else {
				var id [32]byte
				rand.Read(id[:])
				body = append(body, id[:]...)
			}
		}
		if _, err := s.Write(rawFrame('W', body)); err != nil {
			break // the victim may cut a session that asks too much
		}
		sent += int64(len(body))
	}
	_, _ = s.Write(rawFrame('E', nil))
	finishStream(ctx, s, done)
	return fmt.Sprintf("attacker sent %.1f MiB of wants, victim answered %.2f MiB", mib(sent), mib(got.Load())), nil
}

// attackBlobRequests opens n attachment requests at once and reads none
// of the answers for a while.
func attackBlobRequests(ctx context.Context, a *hostileMember, v peer.ID, sum [32]byte, n int) (string, error) {
	proto := a.node().Protocol(hostileBlobName, v)
	var streams []network.Stream
	refused := 0
	for range n {
		s, err := a.node().Host().NewStream(ctx, v, proto)
		if err != nil {
			refused++
			continue
		}
		req := append(sum[:], binary.AppendUvarint(binary.AppendUvarint(nil, 0), 16)...)
		if _, err := s.Write(req); err != nil {
			refused++
			s.Reset()
			continue
		}
		streams = append(streams, s)
	}
	// Held unread while the victim's sampler watches: the answers, if the
	// victim loaded them, sit in its memory now.
	select {
	case <-time.After(3 * time.Second):
	case <-ctx.Done():
	}
	for _, s := range streams {
		s.Reset()
	}
	return fmt.Sprintf("%d requests opened, %d refused at once", len(streams), refused), nil
}

// pushRecords sends raws as 'R' frames after the end of wants, as pushes.
func pushRecords(ctx context.Context, a *hostileMember, v peer.ID, raws [][]byte) (int64, error) {
	s, _, done, err := reconStream(ctx, a, v)
	if err != nil {
		return 0, err
	}
	if _, err := s.Write(rawFrame('E', nil)); err != nil {
		s.Reset()
		return 0, err
	}
	var sent int64
	for i := 0; i < len(raws); {
		var body []byte
		n := 0
		for i < len(raws) && n < 256 && len(body)+len(raws[i]) < 1<<20 {
			body = binary.AppendUvarint(body, uint64(len(raws[i])))
			body = append(body, raws[i]...)
			i++
			n++
		}
		if _, err := s.Write(rawFrame('R', body)); err != nil {
			break
		}
		sent += int64(len(body))
	}
	finishStream(ctx, s, done)
	return sent, nil
}

// attackFlood pushes total reports of the attacker's own, with
// claimed times spread over three days.
func attackFlood(ctx context.Context, a *hostileMember, v peer.ID, mission incident.ID, total int) (string, error) {
	signer := a.st.Signer()
	w, rng := gen.NewWorld(1), mrand.New(mrand.NewPCG(3, 4))
	raws := make([][]byte, 0, total)
	base := time.Now().Add(-72 * time.Hour)
	for i := range total {
		at := base.Add(time.Duration(i%3)*24*time.Hour + time.Duration(i)*time.Millisecond)
		r, err := signer.Sign(mission, incident.KindReport, at, w.Payload(rng, at))
		if err != nil {
			return "", err
		}
		raws = append(raws, r.Raw)
	}
	sent, err := pushRecords(ctx, a, v, raws)
	return fmt.Sprintf("%.1f MiB pushed", mib(sent)), err
}

// attackStrangers pushes n reports, each signed by a fresh key.
func attackStrangers(ctx context.Context, a *hostileMember, v peer.ID, mission incident.ID, n int) (string, error) {
	w, rng := gen.NewWorld(2), mrand.New(mrand.NewPCG(5, 6))
	raws := make([][]byte, 0, n)
	now := time.Now()
	for range n {
		s, err := incident.NewSigner(gen.RandomBytes(32))
		if err != nil {
			return "", err
		}
		r, err := s.Sign(mission, incident.KindReport, now, w.Payload(rng, now))
		if err != nil {
			return "", err
		}
		raws = append(raws, r.Raw)
	}
	sent, err := pushRecords(ctx, a, v, raws)
	return fmt.Sprintf("%.1f MiB pushed", mib(sent)), err
}

// attackSpoiledChunks: the attacker holds an attachment record (with
// chunk hashes) and answers every request for its chunks with noise; it
// then syncs with the victim again and again, so the victim keeps asking.
func attackSpoiledChunks(ctx context.Context, a *hostileMember, v peer.ID) (string, error) {
	data := gen.RandomBytes(4 << 20)
	sum := sha256.Sum256(data)
	if _, err := a.st.Put(incident.KindAttachment, incident.AttachmentPayload{Hash: sum[:], Size: uint64(len(data)),
		Mime: "image/jpeg", Chunks: incident.ChunkHashes(data)}); err != nil {
		return "", err
	}
	var served atomic.Int64
	h := a.node().Host()
	h.SetStreamHandler(a.node().Protocol(hostileBlobName, h.ID()), func(s network.Stream) {
		defer s.Close()
		r := bufio.NewReader(s)
		var want [32]byte
		if _, err := io.ReadFull(r, want[:]); err != nil {
			s.Reset()
			return
		}
		_, _ = binary.ReadUvarint(r)
		count, err := binary.ReadUvarint(r)
		if err != nil || count > 16 {
			s.Reset()
			return
		}
		w := bufio.NewWriter(s)
		for range count {
			w.Write(binary.AppendUvarint(nil, store.ChunkSize))
			w.Write(gen.RandomBytes(store.ChunkSize))
			served.Add(1)
		}
		w.Flush()
	})
	syncs := 0
	for range 5 {
		if _, err := a.wired.Engine.SyncPeer(ctx, v); err != nil {
			break // banned, or cut: the attack is over either way
		}
		syncs++
	}
	return fmt.Sprintf("%d syncs; %d spoiled chunks served", syncs, served.Load()), nil
}

// The victim child.

type victimPhase struct {
	// Start is the live heap when the phase began, the previous one's
	// memory let go (settle): the victim idle, as the attack finds it.
	Start   int64 `json:"start"`
	Live    int64 `json:"live"`    // peak of /gc/heap/live:bytes
	Objects int64 `json:"objects"` // peak of heap objects, garbage included
}

type victimReport struct {
	Phases      map[string]victimPhase `json:"phases"`
	Records     int                    `json:"records"`
	Quarantined int                    `json:"quarantined"`
}

type victimChild struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Scanner
	addr  string
	ended bool
}

func startVictim(home string, memLimit int64, profileDir string) (*victimChild, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-child", "victim", home)
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), fmt.Sprintf("VIGIL_BENCH_MEMLIMIT=%d", memLimit))
	if profileDir != "" {
		abs, err := filepath.Abs(profileDir)
		if err != nil {
			return nil, err
		}
		// A heap profile of the victim after the last attack.
		cmd.Env = append(cmd.Env, "VIGIL_BENCH_PROFILE_DIR="+abs)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &victimChild{cmd: cmd, in: in, out: bufio.NewScanner(stdout)}
	c.out.Buffer(make([]byte, 64<<10), 1<<20)
	if !c.out.Scan() || !strings.HasPrefix(c.out.Text(), "ADDR ") {
		c.stop()
		return nil, fmt.Errorf("the victim child did not start: %q", c.out.Text())
	}
	c.addr = strings.TrimPrefix(c.out.Text(), "ADDR ")
	return c, nil
}

// phase tells the child that the samples from now on belong to name, and
// waits until it has taken note.
func (c *victimChild) phase(name string) error {
	if _, err := fmt.Fprintf(c.in, "PHASE %s\n", name); err != nil {
		return err
	}
	if !c.out.Scan() || c.out.Text() != "OK "+name {
		return fmt.Errorf("the victim child did not enter phase %s (%q); it may have run out of memory", name, c.out.Text())
	}
	return nil
}

func (c *victimChild) finish() (victimReport, error) {
	var rep victimReport
	c.in.Close()
	var last string
	for c.out.Scan() {
		last = c.out.Text()
	}
	c.ended = true
	if err := c.cmd.Wait(); err != nil {
		return rep, fmt.Errorf("victim child: %w", err)
	}
	err := json.Unmarshal([]byte(last), &rep)
	return rep, err
}

func (c *victimChild) stop() {
	if !c.ended {
		c.in.Close()
		c.cmd.Process.Kill()
		c.cmd.Wait()
		c.ended = true
	}
}

// childVictim runs the victim: its store and node with the phone profile,
// sampling its heap every 10 ms into the phase the parent names.
func childVictim(home string) (victimReport, error) {
	rep := victimReport{Phases: map[string]victimPhase{}}
	st, err := store.Open(home, gen.Passphrase, gen.StoreOptions())
	if err != nil {
		return rep, err
	}
	defer st.Close()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return rep, err
	}
	wired, err := daemon.StartMesh(node.Config{Key: key, Secret: st.Secret(), Phone: true,
		Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}},
		mesh.Config{Store: st, Interval: time.Hour, ReceiptInterval: time.Hour})
	if err != nil {
		return rep, err
	}
	n := wired.Engine.Node()
	addrs := n.Host().Addrs()
	if len(addrs) == 0 {
		wired.Close()
		return rep, errors.New("the victim's node listens nowhere")
	}
	fmt.Printf("ADDR %s/p2p/%s\n", addrs[0], n.ID())

	var mu sync.Mutex
	phase := ""
	profiles := os.Getenv("VIGIL_BENCH_PROFILE_DIR")
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	sample := func() {
		metrics.Read(samples)
		mu.Lock()
		defer mu.Unlock()
		if phase == "" {
			return
		}
		p := rep.Phases[phase]
		if live := int64(samples[0].Value.Uint64()); live > p.Live+4<<20 && profiles != "" {
			// Near the phase's peak, where its memory is.
			if f, err := os.Create(filepath.Join(profiles, "memory-victim-"+phase+"-heap.prof")); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		p.Live = max(p.Live, int64(samples[0].Value.Uint64()))
		p.Objects = max(p.Objects, int64(samples[1].Value.Uint64()))
		rep.Phases[phase] = p
	}
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	// settle lets one phase's memory go before the next begins: its
	// garbage (a collection), and what Badger keeps pooled after a burst
	// of writes (its table builders' buffers, released one every 2 s
	// once unused). It waits while the live heap still shrinks, at most
	// 12 s: the phases need a quiet start, not an event.
	settle := func() int64 {
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		prev := int64(-1)
		for range 6 {
			runtime.GC()
			metrics.Read(live)
			now := int64(live[0].Value.Uint64())
			if prev >= 0 && now > prev-(512<<10) {
				return now
			}
			prev = now
			time.Sleep(2 * time.Second)
		}
		return prev
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		name, ok := strings.CutPrefix(sc.Text(), "PHASE ")
		if !ok {
			continue
		}
		sample()
		start := settle()
		mu.Lock()
		phase = name
		rep.Phases[name] = victimPhase{Start: start, Live: start}
		mu.Unlock()
		fmt.Printf("OK %s\n", name)
	}
	sample()
	close(stop)
	<-stopped
	if path := heapProfilePath("victim"); path != "" {
		runtime.GC()
		if f, err := os.Create(path); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	wired.Close()
	if q, err := st.QuarantineCount(); err == nil {
		rep.Quarantined = q
	}
	_ = st.ForEachKey(func(int64, incident.ID) error { rep.Records++; return nil })
	return rep, nil
}
