package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/node"
	"github.com/vigil-mesh/vigil/sync/daemon"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// Memory is measured in a child process (this binary, re-executed with
// -child), so the parent's data sets and caches do not count. The child
// samples its own /proc files every 50 ms.

// memPeak is what a child reports: peaks over its sampled window, in
// bytes.
type memPeak struct {
	Anonymous    int64   `json:"anonymous"`     // smaps_rollup Anonymous
	PrivateDirty int64   `json:"private_dirty"` // smaps_rollup Private_Dirty
	RSS          int64   `json:"rss"`           // status VmRSS
	HWM          int64   `json:"hwm"`           // status VmHWM: peak RSS of the process
	GoHeap       int64   `json:"go_heap"`       // runtime/metrics heap objects
	GoTotal      int64   `json:"go_total"`      // runtime/metrics all memory mapped by the Go runtime
	Samples      int     `json:"samples"`
	Seconds      float64 `json:"seconds"`
	Records      int     `json:"records"`
	Received     int64   `json:"received,omitempty"`
	// PeakPhase is the phase during which anonymous memory peaked.
	PeakPhase string `json:"peak_phase,omitempty"`
	Note      string `json:"note,omitempty"`
}

// anon is the figure the target applies to: anonymous memory, heap and
// private dirty pages alike.
func (m memPeak) anon() int64 { return max(m.Anonymous, m.PrivateDirty) }

// procKB reads "Name:   123 kB" fields from a /proc file.
func procKB(path string, names ...string) (map[string]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, want := range names {
			if name == want {
				f := strings.Fields(rest)
				if len(f) > 0 {
					v, _ := strconv.ParseInt(f[0], 10, 64)
					out[name] = v << 10
				}
			}
		}
	}
	return out, nil
}

// sampler keeps the peaks of this process's memory figures. With a
// profile path it also writes a heap profile each time anonymous memory
// passes its peak by 8 MiB, so the last one written shows the heap near
// the peak.
type sampler struct {
	mu       sync.Mutex
	peak     memPeak
	stop     chan struct{}
	done     chan struct{}
	start    time.Time
	heapPath string
	profiled int64
	phase    string
}

// enter names the phase the following samples belong to.
func (s *sampler) enter(phase string) {
	s.sample()
	s.mu.Lock()
	s.phase = phase
	s.mu.Unlock()
}

func startSampler(heapPath string) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{}), start: time.Now(), heapPath: heapPath}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

var memSamples = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}

func (s *sampler) sample() {
	roll, err1 := procKB("/proc/self/smaps_rollup", "Anonymous", "Private_Dirty")
	st, err2 := procKB("/proc/self/status", "VmRSS", "VmHWM")
	ms := make([]metrics.Sample, len(memSamples))
	copy(ms, memSamples)
	metrics.Read(ms)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err1 == nil {
		if a := max(roll["Anonymous"], roll["Private_Dirty"]); a > s.peak.anon() {
			s.peak.PeakPhase = s.phase
		}
		s.peak.Anonymous = max(s.peak.Anonymous, roll["Anonymous"])
		s.peak.PrivateDirty = max(s.peak.PrivateDirty, roll["Private_Dirty"])
	}
	if err2 == nil {
		s.peak.RSS = max(s.peak.RSS, st["VmRSS"])
		s.peak.HWM = max(s.peak.HWM, st["VmHWM"])
	}
	s.peak.GoHeap = max(s.peak.GoHeap, int64(ms[0].Value.Uint64()))
	s.peak.GoTotal = max(s.peak.GoTotal, int64(ms[1].Value.Uint64()))
	s.peak.Samples++
	if s.heapPath != "" && s.peak.anon() > s.profiled+8<<20 {
		s.profiled = s.peak.anon()
		if f, err := os.Create(s.heapPath); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
}

// heapProfilePath is where a child writes its heap profile: the parent
// passes its -cpuprofile folder in VIGIL_BENCH_PROFILE_DIR.
func heapProfilePath(mode string) string {
	dir := os.Getenv("VIGIL_BENCH_PROFILE_DIR")
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "memory-"+mode+"-heap.prof")
}

func (s *sampler) finish() memPeak {
	s.sample()
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.peak
	p.Seconds = time.Since(s.start).Seconds()
	return p
}

// Record files: each record as (uvarint length, bytes), read in batches so
// the child never holds the whole set.

func writeRecords(path string, sets ...[][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var hdr [binary.MaxVarintLen64]byte
	for _, set := range sets {
		for _, r := range set {
			n := binary.PutUvarint(hdr[:], uint64(len(r)))
			w.Write(hdr[:n])
			w.Write(r)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readRecordBatches(path string, batch int, fn func([][]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	var cur [][]byte
	for {
		n, err := binary.ReadUvarint(r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		cur = append(cur, b)
		if len(cur) == batch {
			if err := fn(cur); err != nil {
				return err
			}
			cur = nil
		}
	}
	if len(cur) > 0 {
		return fn(cur)
	}
	return nil
}

// keepAll is o for an observer's device that stores every record it
// receives (vigil node --keep-all): the memory children measure a phone
// taking every record of the sync, the most it can be asked to hold (a
// bounded observer refuses what passes its storage budget, which the
// scale group measures).
func keepAll(o store.Options) store.Options {
	o.KeepAll = true
	return o
}

// childImport: a phone-profile store joins the mission and imports a
// record file in batches (as a bundle import or a first sync would).
func childImport(home, invite, records string) (memPeak, error) {
	s := startSampler(heapProfilePath("import"))
	s.enter("init")
	st, err := store.Init(home, gen.Passphrase, keepAll(gen.StoreOptions()))
	if err != nil {
		return memPeak{}, err
	}
	if _, err := st.Join(invite); err != nil {
		st.Close()
		return memPeak{}, err
	}
	n := 0
	s.enter("import")
	err = readRecordBatches(records, 500, func(b [][]byte) error {
		n += len(b)
		return gen.AddAll(st, b, "bundle")
	})
	if err != nil {
		st.Close()
		return memPeak{}, err
	}
	p := s.finish()
	p.Records = n
	return p, st.Close()
}

// countingStore counts accepted records (what the child received).
type countingStore struct {
	*store.Store
	accepted atomic.Int64
}

func (c *countingStore) AddMany(raws [][]byte, source string, progress func(int)) ([]store.Result, error) {
	res, err := c.Store.AddMany(raws, source, progress)
	for _, r := range res {
		if r.Outcome == store.Accepted {
			c.accepted.Add(1 + int64(len(r.Released)))
		}
	}
	return res, err
}

func (c *countingStore) Add(raw []byte, source string) store.Result {
	r := c.Store.Add(raw, source)
	if r.Outcome == store.Accepted {
		c.accepted.Add(1 + int64(len(r.Released)))
	}
	return r
}

// syncWait bounds each wait for a reconciliation in the memory
// measurements: generous, since at a million records on a shared machine
// opening a store and building its snapshot alone takes a while; what is
// measured is memory, never this time.
const syncWait = 10 * time.Minute

// childSync: the phone opens its store of reports, starts its node with
// the phone profile, meets the peer, and reconciles (the on-connect
// session) until it has received want records; it then says READY on
// stdout and keeps its node up until the parent, which checks that its
// own side received the phone's records, closes stdin. With laptop, the
// store and the node have the laptop profile instead (a coordinator's
// laptop).
func childSync(home, peerAddr string, want int64, laptop bool) (memPeak, error) {
	mode, opts := "sync", keepAll(gen.StoreOptions())
	if laptop {
		mode, opts.Profile = "coordsync", store.LaptopProfile
	}
	s := startSampler(heapProfilePath(mode))
	s.enter("open store")
	st, err := store.Open(home, gen.Passphrase, opts)
	if err != nil {
		return memPeak{}, err
	}
	defer st.Close()
	cs := &countingStore{Store: st}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return memPeak{}, err
	}
	s.enter("start node")
	wired, err := daemon.StartMesh(node.Config{Key: key, Secret: st.Secret(), Phone: !laptop,
		Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}},
		mesh.Config{Store: cs, Interval: time.Hour, ReceiptInterval: time.Hour})
	if err != nil {
		return memPeak{}, err
	}
	defer wired.Close()
	e := wired.Engine
	addr, err := ma.NewMultiaddr(peerAddr)
	if err != nil {
		return memPeak{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*syncWait)
	defer cancel()
	s.enter("connect")
	pid, err := e.Node().ConnectAddr(ctx, addr)
	if err != nil {
		return memPeak{}, err
	}
	if err := e.Node().WaitAdmitted(ctx, pid); err != nil {
		return memPeak{}, err
	}
	// The on-connect reconciliation moves both directions in one session.
	s.enter("sync")
	deadline := time.Now().Add(syncWait)
	for cs.accepted.Load() < want {
		if time.Now().After(deadline) {
			// Nudge once more before giving up: a session may have failed.
			if _, err := e.SyncPeer(ctx, pid); err != nil {
				return memPeak{}, fmt.Errorf("received %d of %d records; sync: %w", cs.accepted.Load(), want, err)
			}
			if cs.accepted.Load() < want {
				return memPeak{}, fmt.Errorf("received %d of %d records", cs.accepted.Load(), want)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.enter("synced, peer catching up")
	fmt.Println("READY")
	io.Copy(io.Discard, os.Stdin) // the parent closes stdin when its side is done
	p := s.finish()
	p.Received = cs.accepted.Load()
	return p, nil
}

// runChild re-executes this binary as a child and returns its report
// (the last line of its stdout, JSON). onReady, when set, runs when the
// child prints READY; the child's stdin closes when onReady returns.
func runChild(args []string, profileDir string, memLimit int64, onReady func() error) (memPeak, error) {
	self, err := os.Executable()
	if err != nil {
		return memPeak{}, err
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	if profileDir != "" {
		abs, err := filepath.Abs(profileDir)
		if err != nil {
			return memPeak{}, err
		}
		cmd.Env = append(os.Environ(), "VIGIL_BENCH_PROFILE_DIR="+abs)
	}
	if memLimit > 0 {
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		cmd.Env = append(cmd.Env, fmt.Sprintf("VIGIL_BENCH_MEMLIMIT=%d", memLimit))
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return memPeak{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return memPeak{}, err
	}
	if err := cmd.Start(); err != nil {
		return memPeak{}, err
	}
	var last string
	var readyErr error
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	closed := false
	for sc.Scan() {
		line := sc.Text()
		if line == "READY" {
			if onReady != nil {
				readyErr = onReady()
			}
			stdin.Close()
			closed = true
			continue
		}
		last = line
	}
	if !closed {
		stdin.Close()
	}
	werr := cmd.Wait()
	if readyErr != nil {
		return memPeak{}, readyErr
	}
	if werr != nil {
		return memPeak{}, fmt.Errorf("child %v: %w", args, werr)
	}
	var p memPeak
	if err := json.Unmarshal([]byte(last), &p); err != nil {
		return memPeak{}, fmt.Errorf("child %v printed %q: %w", args, last, err)
	}
	return p, nil
}

// childMain is the -child entry point.
func childMain(mode string, args []string) int {
	// The parent's -phone-memlimit: by default the limit Vigil's daemon
	// sets on phones (sync/daemon.PhoneMemoryLimit).
	if v := os.Getenv("VIGIL_BENCH_MEMLIMIT"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			debug.SetMemoryLimit(n)
		}
	}
	var p memPeak
	var err error
	switch mode {
	case "victim":
		if len(args) != 1 {
			fmt.Fprintln(os.Stderr, "usage: -child victim HOME")
			return 2
		}
		rep, err := childVictim(args[0])
		if err != nil {
			fmt.Fprintf(os.Stderr, "vigil-bench child victim: %v\n", err)
			return 1
		}
		b, _ := json.Marshal(rep)
		fmt.Println(string(b))
		return 0
	case "import":
		if len(args) != 3 {
			err = errors.New("usage: -child import HOME INVITE RECORDS")
			break
		}
		p, err = childImport(args[0], args[1], args[2])
	case "sync", "coordsync":
		if len(args) != 3 {
			err = fmt.Errorf("usage: -child %s HOME PEER WANT", mode)
			break
		}
		want, perr := strconv.ParseInt(args[2], 10, 64)
		if perr != nil {
			err = perr
			break
		}
		p, err = childSync(args[0], args[1], want, mode == "coordsync")
	default:
		err = fmt.Errorf("unknown child mode %q", mode)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "vigil-bench child %s: %v\n", mode, err)
		return 1
	}
	b, _ := json.Marshal(p)
	fmt.Println(string(b))
	return 0
}

// waitHolds waits until st holds every id.
func waitHolds(st *store.Store, ids []incident.ID, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		missing := 0
		for _, id := range ids {
			ok, err := st.Has(id)
			if err != nil {
				return err
			}
			if !ok {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d records did not arrive within %v", missing, len(ids), timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// coordinatorMemory measures the coordinator's laptop syncing its whole
// store: a child process opens the founder's store (home; every report)
// with the laptop profile and no Go memory limit, as on a laptop, starts
// its node (laptop profile) and reconciles with peer, an observer's
// laptop store of the same mission (every report, from
// ingest.store_all_cores) served by a node in this process; each side
// holds diff records the other lacks. f is closed here (the child opens
// its store); peer stays open for the caller to close.
func coordinatorMemory(rs *Results, o benchOptions, m *gen.Mission, f, peer *store.Store, extraF, extraP [][]byte, home string, logf func(string, ...any)) error {
	diff := min(1000, len(extraF))
	start := time.Now().Add(-12 * 24 * time.Hour)
	extraC, err := m.Sign(gen.Spec{N: diff, Seed: o.seed + 3, Start: start, Days: 10})
	if err != nil {
		f.Close()
		return err
	}
	extraD, err := m.Sign(gen.Spec{N: diff, Seed: o.seed + 4, Start: start, Days: 10})
	if err != nil {
		f.Close()
		return err
	}
	// The founder holds the phone's records now (memory.phone_sync): so
	// does the peer, and they then differ by extraC and extraD alone.
	err = gen.AddAll(f, extraC, "bench")
	var held map[incident.Kind]int
	if err == nil {
		held, err = f.Counts()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for _, set := range [][][]byte{extraF, extraP, extraD} {
		if err := gen.AddAll(peer, set, "bench"); err != nil {
			return err
		}
	}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return err
	}
	wired, err := daemon.StartMesh(node.Config{Key: key, Secret: m.Secret, Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}},
		mesh.Config{Store: peer, Interval: time.Hour, ReceiptInterval: time.Hour})
	if err != nil {
		return err
	}
	defer wired.Close()
	addrs := wired.Engine.Node().Addrs()
	if len(addrs) == 0 {
		return errors.New("the peer's node has no address")
	}
	var fromCoordinator []incident.ID
	for _, raw := range extraC {
		fromCoordinator = append(fromCoordinator, incident.IDOf(raw))
	}
	syncStart := time.Now()
	var syncTook time.Duration
	p, err := runChild([]string{"-child", "coordsync", home, addrs[0].String(), strconv.Itoa(len(extraD))}, o.profileDir, 0, func() error {
		err := waitHolds(peer, fromCoordinator, syncWait)
		syncTook = time.Since(syncStart)
		return err
	})
	if err != nil {
		return err
	}
	records := 0
	for _, c := range held {
		records += c
	}
	logf("coordinator sync: peak RSS %.1f MiB, anon %.1f MiB (peak during %q), Go heap objects %.1f MiB, %.1fs", mib(p.HWM), mib(p.Anonymous), p.PeakPhase, mib(p.GoHeap), p.Seconds)
	rs.add(Result{Name: "memory.coordinator_sync", Params: map[string]any{"records": records, "profile": "laptop", "difference": fmt.Sprintf("%d each way", diff)},
		Value: mib(p.HWM), Unit: "MiB", Target: "≤ 512 MiB", Met: boolp(mib(p.HWM) <= 512),
		Note: fmt.Sprintf("child process: the founder (a coordinator) opens its store (%d records) with the laptop profile, starts its node (laptop profile, no Go memory limit) and reconciles with an observer's laptop store; VmHWM (peak resident set, mmapped table and log pages included); Anonymous %.1f MiB, Private_Dirty %.1f MiB (peak during %q); Go heap objects %.1f MiB; received %d; %.1f s until both sides held the difference",
			records, mib(p.Anonymous), mib(p.PrivateDirty), p.PeakPhase, mib(p.GoHeap), p.Received, syncTook.Seconds())})
	return nil
}
