// Command vigil-bench is Vigil's benchmark suite (make bench). Every
// measurement is compared with a baseline measured in the same run; it
// prints a table, one BENCHJSON line per measurement, and writes
// bench/results.json. See bench/README.md for what each measurement is.
//
//	vigil-bench                 the full suite (100k reports, recon up to 1M items, 10- and 50-node meshes)
//	vigil-bench -quick          every measurement once at tiny sizes (make test)
//	vigil-bench -only recon     one group: store, recon, mesh, sim, …
//	vigil-bench -cpuprofile bench   CPU profiles per phase (bench/ingest.prof, …)
package main

import (
	"github.com/vigil-mesh/vigil/sync/daemon"

	"bufio"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/crypto"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/node"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

type benchOptions struct {
	// part reports whether a part of the store group was asked for.
	part       func(string) bool
	quick      bool
	large      bool
	out        string
	only       map[string]bool
	reports    int
	scaleTotal int
	seed       uint64
	profileDir string
	work       string
	trials     int
	memLimit   int64
	verbose    bool
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) >= 2 && args[0] == "-child" {
		return childMain(args[1], args[2:])
	}
	fs := flag.NewFlagSet("vigil-bench", flag.ContinueOnError)
	var o benchOptions
	fs.BoolVar(&o.quick, "quick", false, "every measurement once at tiny sizes (for make test); targets are not meaningful there")
	fs.BoolVar(&o.large, "large", true, "include reconciliation sets of 1M items (full mode only)")
	fs.StringVar(&o.out, "out", "", "results file (default bench/results.json, or bench/results-quick.json with -quick)")
	only := fs.String("only", "", "comma-separated groups to run: store, recon, mesh, sim, hostile, observe, sms, scale, or parts of store: ingest, size, dashboard, export, memory (the store is always built; default all)")
	fs.IntVar(&o.reports, "reports", 0, "reports in the store measurements (default 100000, quick 2000)")
	fs.IntVar(&o.scaleTotal, "scale-records", 0, "reports that pass through the phone in the scale group (default 1000000, quick 5000)")
	fs.Uint64Var(&o.seed, "seed", 20261125, "seed for every data set")
	fs.StringVar(&o.profileDir, "cpuprofile", "", "write a CPU profile per phase into this folder (ingest.prof, dashboard.prof, export.prof, recon.prof, mesh.prof)")
	fs.StringVar(&o.work, "work", "", "scratch folder for stores (default a temporary folder, removed afterwards)")
	fs.IntVar(&o.trials, "trials", 0, "runs of each mesh size; the median convergence time counts (default 3, quick 1)")
	fs.BoolVar(&o.verbose, "v", true, "progress on stderr")
	memLimitMiB := fs.Int64("phone-memlimit", daemon.PhoneMemoryLimit>>20, "the Go memory limit of the phone's child processes (MiB; debug.SetMemoryLimit), as Vigil's daemon sets it on phones; 0 for none")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.memLimit = *memLimitMiB << 20
	if o.out == "" {
		o.out = "bench/results.json"
		if o.quick {
			o.out = "bench/results-quick.json"
		}
	}
	if o.reports == 0 {
		o.reports = 100_000
		if o.quick {
			o.reports = 2000
		}
	}
	if o.trials == 0 {
		o.trials = 3
		if o.quick {
			o.trials = 1
		}
	}
	o.only = map[string]bool{}
	for _, g := range strings.Split(*only, ",") {
		if g = strings.TrimSpace(g); g != "" {
			switch g {
			case "store", "recon", "mesh", "sim", "hostile", "observe", "sms", "scale":
				o.only[g] = true
			case "ingest", "size", "dashboard", "export", "memory":
				o.only["store"] = true
				o.only["store."+g] = true
			default:
				fmt.Fprintf(os.Stderr, "vigil-bench: -only: unknown group %q (store, recon, mesh, sim, hostile, observe, sms, scale; or a part of store: ingest, size, dashboard, export, memory)\n", g)
				return 2
			}
		}
	}
	logf := func(format string, a ...any) {
		if o.verbose {
			fmt.Fprintf(os.Stderr, "[%s] "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
		}
	}
	work := o.work
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "vigil-bench-"); err != nil {
			fmt.Fprintln(os.Stderr, "vigil-bench:", err)
			return 1
		}
		defer os.RemoveAll(work)
	}
	start := time.Now()
	rs := &Results{out: os.Stdout}
	meta := Meta{Started: start.UTC().Format(time.RFC3339), Quick: o.quick, Large: o.large && !o.quick,
		Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, CPUs: runtime.NumCPU(), CPUModel: cpuModel(),
		Reports: o.reports, Seed: o.seed, LoadStart: loadavg()}
	want := func(g string) bool { return len(o.only) == 0 || o.only[g] }
	o.part = func(p string) bool {
		for k := range o.only {
			if strings.HasPrefix(k, "store.") {
				return o.only["store."+p]
			}
		}
		return true
	}
	groups := []struct {
		name string
		fn   func() error
	}{
		{"store", func() error { return storeGroup(rs, &meta, o, work, logf) }},
		{"recon", func() error { return reconGroup(rs, o, logf) }},
		{"mesh", func() error { return meshGroup(rs, o, logf) }},
		{"sim", func() error { return simGroup(rs, o, logf) }},
		{"hostile", func() error { return hostileGroup(rs, o, work, logf) }},
		{"observe", func() error { return observeGroup(rs, o, work, logf) }},
		{"sms", func() error { return smsGroup(rs, o, logf) }},
		{"scale", func() error { return scaleGroup(rs, o, work, logf) }},
	}
	for _, g := range groups {
		if !want(g.name) {
			continue
		}
		logf("== %s", g.name)
		if err := g.fn(); err != nil {
			logf("%s FAILED: %v", g.name, err)
			meta.Errors = append(meta.Errors, fmt.Sprintf("%s: %v", g.name, err))
		}
	}
	meta.Seconds = time.Since(start).Seconds()
	meta.LoadEnd = loadavg()
	fmt.Println()
	rs.table(os.Stdout)
	if o.quick {
		fmt.Println("quick mode: every measurement ran once at tiny sizes; the targets are meant for the full suite (make bench)")
	}
	if err := rs.write(o.out, meta); err != nil {
		fmt.Fprintln(os.Stderr, "vigil-bench:", err)
		return 1
	}
	fmt.Printf("\nwrote %s in %.0f s on %d cores (%s); load average %s at the start, %s at the end\n",
		o.out, meta.Seconds, meta.CPUs, meta.CPUModel, meta.LoadStart, meta.LoadEnd)
	if len(meta.Errors) > 0 {
		fmt.Fprintf(os.Stderr, "vigil-bench: %d group(s) failed: %s\n", len(meta.Errors), strings.Join(meta.Errors, "; "))
		return 1
	}
	return 0
}

// profile runs fn under a CPU profile named name when -cpuprofile is set.
func profile(o benchOptions, name string, fn func() error) error {
	if o.profileDir == "" {
		return fn()
	}
	if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(o.profileDir, name+".prof"))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return fn()
}

// loadavg returns the 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// storeGroup: ingest, store size, dashboard query, exports and phone
// memory, all on one generated data set of o.reports reports.
func storeGroup(rs *Results, meta *Meta, o benchOptions, work string, logf func(string, ...any)) error {
	n := o.reports
	observers := max(20, n/500)
	homeF := filepath.Join(work, "coordinator")
	m, err := gen.NewMission(homeF, observers, o.seed)
	if err != nil {
		return err
	}
	f := m.Founder
	closed := false
	defer func() {
		if !closed {
			f.Close()
		}
	}()
	t := time.Now()
	start := time.Now().Add(-12 * 24 * time.Hour)
	baseSpec := gen.Spec{N: n, Seed: o.seed, Start: start, Days: 10}
	base, err := m.Sign(baseSpec)
	if err != nil {
		return err
	}
	extra := max(n/100, 10)
	extraF, err := m.Sign(gen.Spec{N: extra, Seed: o.seed + 1, Start: start, Days: 10})
	if err != nil {
		return err
	}
	extraP, err := m.Sign(gen.Spec{N: extra, Seed: o.seed + 2, Start: start, Days: 10})
	if err != nil {
		return err
	}
	total, meanSize := gen.Sizes(base)
	gz := gen.GzipRatio(base)
	meta.Record = map[string]any{"mean_bytes": meanSize, "gzip_ratio": gz, "observers": observers}
	logf("signed %d + 2×%d reports by %d observers in %.1fs: mean %.0f B, gzip leaves %.0f%%", n, extra, observers,
		time.Since(t).Seconds(), meanSize, 100*gz)
	if err := gen.AddAll(f, m.Members, "roster"); err != nil {
		return err
	}

	// Ingest, one core.
	jobs, err := verifyJobs(base)
	if err != nil {
		return err
	}
	sample := min(len(base), 20000)
	var ir ingestRates
	err = profile(o, "ingest", func() error {
		var err error
		ir, err = measureIngest(f, base, jobs, sample)
		return err
	})
	if err != nil {
		return err
	}
	logf("ingest: %.0f records/s (%.1fs); bare verify %.0f/s; decode %.0f/s; decode+validate %.0f/s", ir.store, ir.took.Seconds(), ir.verify, ir.decode, ir.validate)
	p := map[string]any{"records": n, "cores": 1, "profile": "phone", "batch": 500}
	r := Result{Name: "ingest.store", Params: p, Value: ir.store, Unit: "records/s", Target: "ratio ≥ 0.80",
		Note: "store.AddMany: decode + validate + verify signature + index + store, one sync per 500; GOMAXPROCS 1 (Badger's background work shares the core); the baseline verifies the same records' signatures, batch by batch in between"}
	r = r.withBaseline("ed25519.Verify", ir.verify)
	r.Met = boolp(*r.Ratio >= 0.8)
	rs.add(r)
	sp := map[string]any{"records": sample, "cores": 1}
	rs.add(Result{Name: "ingest.decode", Params: sp, Value: ir.decode, Unit: "records/s", Note: "incident.Decode alone (canonical CBOR check and signature)"}.withBaseline("ed25519.Verify", ir.verify))
	rs.add(Result{Name: "ingest.decode_validate", Params: sp, Value: ir.validate, Unit: "records/s", Note: "incident.Decode + incident.Validate, no store"}.withBaseline("ed25519.Verify", ir.verify))

	// Ingest, every core, into an observer's laptop-profile store of the
	// mission (kept as the peer of memory.coordinator_sync), one that
	// keeps every record (vigil node --keep-all: a bounded observer's
	// store refuses what passes its storage budget, which the scale
	// group measures).
	peer, err := m.JoinStore(filepath.Join(work, "laptop"), store.Options{KDF: &gen.CheapKDF, Profile: store.LaptopProfile, KeepAll: true})
	if err != nil {
		return err
	}
	defer func() {
		if peer != nil {
			peer.Close()
		}
	}()
	var ia ingestRates
	err = profile(o, "ingest-all", func() error {
		var err error
		ia, err = measureIngestAll(peer, base, jobs)
		return err
	})
	if err != nil {
		return err
	}
	jobs = nil
	logf("ingest, %d cores: %.0f records/s (%.1fs); bare verify on %d cores %.0f/s", runtime.NumCPU(), ia.store, ia.took.Seconds(), runtime.NumCPU(), ia.verify)
	ra := Result{Name: "ingest.store_all_cores", Params: map[string]any{"records": n, "cores": runtime.NumCPU(), "profile": "laptop", "batch": 500},
		Value: ia.store, Unit: "records/s", Target: "ratio ≥ 0.80",
		Note: "store.AddMany as ingest.store, GOMAXPROCS = NumCPU, into an observer's laptop-profile store; the baseline verifies the same records' signatures on every core (one goroutine per core), batch by batch in between"}
	ra = ra.withBaseline("ed25519.Verify, every core", ia.verify)
	ra.Met = boolp(*ra.Ratio >= 0.8)
	rs.add(ra)

	if !o.part("size") && !o.part("dashboard") && !o.part("export") && !o.part("memory") {
		return nil
	}
	// Store size, after a clean close.
	g, err := f.Get(m.ID)
	if err != nil || g == nil {
		return fmt.Errorf("genesis: %v", err)
	}
	memberBytes, _ := gen.Sizes(m.Members)
	sum := total + memberBytes + int64(len(g.Raw))
	if err := f.Close(); err != nil {
		return err
	}
	closed = true
	disk, err := measureDisk(store.DataDir(homeF))
	if err != nil {
		return err
	}
	tables, err := tableBytes(homeF)
	if err != nil {
		return err
	}
	var indexLogical int64
	for k, v := range tables {
		if k != "r" && k != "m" {
			indexLogical += v
		}
	}
	sz := Result{Name: "store.size", Params: map[string]any{"reports": n, "profile": "phone"}, Value: float64(disk.total()), Unit: "B",
		Target: "ratio ≤ 1.30",
		Note: fmt.Sprintf("data folder after close: value log %d B (%.2f×), SST %d B (%.2f×), other %d B; logical bytes by key table: %s",
			disk.VLog, float64(disk.VLog)/float64(sum), disk.SST, float64(disk.SST)/float64(sum), disk.Other, describeTables(tables))}
	sz = sz.withBaseline("sum of signed records", float64(sum))
	sz.Met = boolp(*sz.Ratio <= 1.3)
	rs.add(sz)
	rs.add(Result{Name: "store.value_log", Params: map[string]any{"reports": n}, Value: float64(disk.VLog), Unit: "B",
		Note: "the records themselves (values over 256 B go to Badger's value log)"}.withBaseline("sum of signed records", float64(sum)))
	rs.add(Result{Name: "store.index_bytes", Params: map[string]any{"reports": n}, Value: float64(disk.SST), Unit: "B",
		Note: fmt.Sprintf("SST files: index entries, tuples, kind/author orders, quotas and record pointers; logical key+value bytes outside the record table: %d B", indexLogical)}.withBaseline("sum of signed records", float64(sum)))
	logf("store: %d B on disk for %d B of records (vlog %d, sst %d, other %d)", disk.total(), sum, disk.VLog, disk.SST, disk.Other)

	var bare bareRate
	if o.part("export") {
		// Measured while the store is closed: Badger locks its folder.
		if bare, err = bareRecords(homeF, o); err != nil {
			return err
		}
	}
	f, err = store.Open(homeF, gen.Passphrase, gen.StoreOptions())
	if err != nil {
		return err
	}
	closed = false
	m.Founder = f // invites are written down in the store: the open one

	if o.part("dashboard") {
		if err := dashboard(rs, o, f, base, filepath.Join(work, "replica"), logf); err != nil {
			return err
		}
		if err := dashboardRefresh(rs, o, "dashboard.refresh", f, len(base), logf); err != nil {
			return err
		}
	}
	if o.part("export") {
		if err := exports(rs, o, f, bare, logf); err != nil {
			return err
		}
	}
	if o.part("dashboard") || o.part("export") {
		if err := sealedStore(rs, o, f, baseSpec, observers, filepath.Join(work, "sealed"), logf); err != nil {
			return fmt.Errorf("sealed store: %w", err)
		}
	}
	if o.part("memory") {
		if err := phoneMemory(rs, o, m, f, base, extraF, extraP, filepath.Join(work, "phone"), logf); err != nil {
			return err
		}
		closed = true // coordinatorMemory closes it: its child opens it
		return coordinatorMemory(rs, o, m, f, peer, extraF, extraP, homeF, logf)
	}
	return nil
}

func dashboard(rs *Results, o benchOptions, f *store.Store, base [][]byte, dir string, logf func(string, ...any)) error {
	key := gen.RandomBytes(32)
	t := time.Now()
	if err := buildReplica(dir, key, base); err != nil {
		return err
	}
	logf("replica built in %.1fs", time.Since(t).Seconds())
	db, err := badger.Open(phoneBadger(dir, key))
	if err != nil {
		return err
	}
	defer db.Close()
	const family = "polling"
	var vc, bc map[countKey]int
	reps := 5
	if o.quick {
		reps = 1
	}
	var ds []time.Duration
	err = profile(o, "dashboard", func() error {
		var err error
		ds, err = timeAlternating(reps,
			func() error { var err error; vc, err = vigilDashboard(f, family); return err },
			func() error { var err error; bc, err = rawDashboard(db, family); return err })
		return err
	})
	if err != nil {
		return err
	}
	vt, bt := ds[0], ds[1]
	if !sameCounts(vc, bc) {
		return fmt.Errorf("dashboard: the store and the replica count differently (%d and %d groups)", len(vc), len(bc))
	}
	matched := 0
	for _, c := range vc {
		matched += c
	}
	r := Result{Name: "dashboard.query", Params: map[string]any{"reports": len(base), "filter": "category family " + family, "group_by": "category,area"},
		Value: vt.Seconds(), Unit: "s", Target: "ratio ≤ 2",
		Note: fmt.Sprintf("%d reports matched, %d groups; store.CountReports(Filter{Category: family}, ByCategory, ByArea), which reads index entries and tuples only, vs. a raw Badger walk of the same index and tuples on a replica with the store's layout and options; median of %d", matched, len(vc), reps)}
	r = r.withBaseline("raw Badger index walk", bt.Seconds())
	r.Met = boolp(*r.Ratio <= 2)
	rs.add(r)
	logf("dashboard: store %.3fs, raw %.3fs", vt.Seconds(), bt.Seconds())
	return nil
}

func exports(rs *Results, o benchOptions, f *store.Store, bare bareRate, logf func(string, ...any)) error {
	t := time.Now()
	items, err := loadItems(f)
	if err != nil {
		return err
	}
	load := time.Since(t)
	n := float64(len(items))
	reps := 5
	if o.quick {
		reps = 1
	}
	rows, err := csvRows(items)
	if err != nil {
		return err
	}
	feats, err := geoFeatures(items)
	if err != nil {
		return err
	}
	var s sink
	var ds []time.Duration
	if err := profile(o, "export", func() error {
		var err error
		ds, err = timeAlternating(reps,
			func() error { return exportCSV(&s, items) },
			func() error { return baselineCSV(&s, rows) },
			func() error { return exportGeoJSON(&s, items) },
			func() error { return baselineGeoJSON(&s, feats) })
		return err
	}); err != nil {
		return err
	}
	vcsv, bcsv, vgeo, bgeo := ds[0], ds[1], ds[2], ds[3]
	for _, c := range []struct {
		name   string
		v, b   time.Duration
		encode string
	}{{"export.csv", vcsv, bcsv, "encoding/csv"}, {"export.geojson", vgeo, bgeo, "encoding/json"}} {
		r := Result{Name: c.name, Params: map[string]any{"reports": len(items)}, Value: n / c.v.Seconds(), Unit: "reports/s",
			Target: "ratio ≥ 0.50", Note: fmt.Sprintf("export writer over views already read from the store vs. %s writing the same prepared rows; median of %d", c.encode, reps)}
		r = r.withBaseline(c.encode+" alone", n/c.b.Seconds())
		r.Met = boolp(*r.Ratio >= 0.5)
		rs.add(r)
	}
	logf("export: csv %.3fs (baseline %.3fs), geojson %.3fs (baseline %.3fs), reading the views %.2fs", vcsv.Seconds(), bcsv.Seconds(), vgeo.Seconds(), bgeo.Seconds(), load.Seconds())
	return csvFromStore(rs, o, "export.csv_from_store", f, len(items), bare, logf)
}

// phoneMemory: a phone-profile store of the reports, imported in a child
// process, then the phone's node syncing with the coordinator's node (this
// process) in another child, each difference being extra records.
func phoneMemory(rs *Results, o benchOptions, m *gen.Mission, f *store.Store, base, extraF, extraP [][]byte, home string, logf func(string, ...any)) error {
	if err := gen.AddAll(f, extraF, "bench"); err != nil {
		return err
	}
	recs := filepath.Join(filepath.Dir(home), "phone-records.bin")
	if err := writeRecords(recs, m.Members, base, extraP); err != nil {
		return err
	}
	invite, err := m.Invite("phone")
	if err != nil {
		return err
	}
	imp, err := runChild([]string{"-child", "import", home, invite, recs}, o.profileDir, o.memLimit, nil)
	if err != nil {
		return err
	}
	os.Remove(recs)
	logf("phone import: anon %.1f MiB, private dirty %.1f MiB, peak RSS %.1f MiB, %.1fs", mib(imp.Anonymous), mib(imp.PrivateDirty), mib(imp.HWM), imp.Seconds)
	lim := map[string]any{}
	if o.memLimit > 0 {
		lim["memlimit_mib"] = o.memLimit >> 20
	}
	withLimit := func(p map[string]any) map[string]any {
		for k, v := range lim {
			p[k] = v
		}
		return p
	}
	rs.add(Result{Name: "memory.phone_import", Params: withLimit(map[string]any{"records": imp.Records, "profile": "phone"}), Value: mib(imp.anon()), Unit: "MiB",
		Note: fmt.Sprintf("child process: Init, Join, AddMany of the records in batches of 500 (a bundle import); peak RSS %.1f MiB, Go heap objects %.1f MiB, %.1f s",
			mib(imp.HWM), mib(imp.GoHeap), imp.Seconds)})

	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return err
	}
	wired, err := daemon.StartMesh(node.Config{Key: key, Secret: m.Secret, Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}},
		mesh.Config{Store: f, Interval: time.Hour, ReceiptInterval: time.Hour})
	if err != nil {
		return err
	}
	defer wired.Close()
	e := wired.Engine
	addrs := e.Node().Addrs()
	if len(addrs) == 0 {
		return errors.New("the coordinator's node has no address")
	}
	var fromPhone []incident.ID
	for _, raw := range extraP {
		fromPhone = append(fromPhone, incident.IDOf(raw))
	}
	syncStart := time.Now()
	var syncTook time.Duration
	p, err := runChild([]string{"-child", "sync", home, addrs[0].String(), strconv.Itoa(len(extraF))}, o.profileDir, o.memLimit, func() error {
		err := waitHolds(f, fromPhone, syncWait)
		syncTook = time.Since(syncStart)
		return err
	})
	if err != nil {
		return err
	}
	logf("phone sync: anon %.1f MiB (peak during %q), private dirty %.1f MiB, peak RSS %.1f MiB, Go heap objects %.1f MiB, %.1fs", mib(p.Anonymous), p.PeakPhase, mib(p.PrivateDirty), mib(p.HWM), mib(p.GoHeap), p.Seconds)
	total := len(m.Members) + len(base) + len(extraP)
	r := Result{Name: "memory.phone_sync", Params: withLimit(map[string]any{"reports": len(base), "profile": "phone", "difference": fmt.Sprintf("%d each way", len(extraF))}),
		Value: mib(p.anon()), Unit: "MiB", Target: "≤ 64 MiB", Met: boolp(mib(p.anon()) <= 64),
		Note: fmt.Sprintf("child process: open the phone store (%d records), start its node (phone limits), reconcile with a coordinator node; peak of max(Anonymous, Private_Dirty) from /proc/self/smaps_rollup (Anonymous %.1f, Private_Dirty %.1f), reached during %q; peak RSS %.1f MiB; Go heap objects %.1f MiB; received %d; %.1f s until both sides held the difference",
			total, mib(p.Anonymous), mib(p.PrivateDirty), p.PeakPhase, mib(p.HWM), mib(p.GoHeap), p.Received, syncTook.Seconds())}
	rs.add(r)
	rs.add(Result{Name: "memory.phone_sync_peak_rss", Params: withLimit(map[string]any{"reports": len(base), "profile": "phone"}), Value: mib(p.HWM), Unit: "MiB",
		Note: "VmHWM: peak resident set, file-backed pages of the mmapped tables and value log included"})
	return nil
}

func meshGroup(rs *Results, o benchOptions, logf func(string, ...any)) error {
	m := meshOptions{sizes: []int{10, 50}, gossip: 20, trials: o.trials, interval: 2 * time.Second, latency: 50 * time.Millisecond, seed: o.seed}
	if o.quick {
		m.sizes, m.gossip, m.interval, m.latency = []int{4, 6}, 3, time.Second, 10*time.Millisecond
	}
	return profile(o, "mesh", func() error { return runMesh(rs, m, logf) })
}
