package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCrashKeepsAcknowledgedReports kills `vigil report add` with SIGKILL
// at random moments, 200 times, and checks that every report whose ID was
// printed survives and that the store always opens again.
//
// A run spends most of its time (about 0.3 s) deriving the key from the
// passphrase before it touches the store, so a kill at a random time from
// the start mostly lands there. Three kills in five do that (0-150 ms after
// the start: cheap); the others wait until the process holds a file in the
// data folder and kill it at a random moment of the store's work: opening,
// writing, syncing, printing, closing. Each of those costs a whole key
// derivation, which is what bounds the test's time.
func TestCrashKeepsAcknowledgedReports(t *testing.T) {
	if testing.Short() {
		t.Skip("200 SIGKILLs take about a minute; skipped with -short")
	}
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc to see when a process has opened the store")
	}
	t.Parallel()
	home, _, _ := newMission(t, "crash")
	dataDir := filepath.Join(home, "data")
	if resolved, err := filepath.EvalSymlinks(home); err == nil {
		dataDir = filepath.Join(resolved, "data")
	}
	acked := map[string]int{} // ID -> run that printed it
	args := func(n int) []string {
		return []string{"report", "add", "--category", "polling.materials_missing", "--severity", "2",
			"--title", fmt.Sprintf("Crash run %d", n), "--station", fmt.Sprintf("PS-%04d", (n+1000)%1000),
			"--description", strings.Repeat("Ballot papers missing. ", 20)}
	}

	// runOnce runs report add number n and kills it delay after its start
	// (early) or after it first holds a file in the data folder; a negative
	// delay lets it finish.
	type outcome struct {
		printed   string
		killed    bool
		storeTime time.Duration // from first data-folder file to exit or kill; 0 if never seen
		failed    bool          // exited with an error of its own
	}
	var failures []string
	runOnce := func(n int, early bool, delay time.Duration) outcome {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := vigilCmd(ctx, t, home, nil, args(n)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		seen := make(chan time.Time, 1)
		go func() {
			if early {
				select {
				case <-exited:
				case <-time.After(delay):
					cmd.Process.Signal(syscall.SIGKILL)
				}
				return
			}
			fdDir := fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid)
			for !holdsFileUnder(fdDir, dataDir) {
				select {
				case <-exited:
					return
				case <-time.After(time.Millisecond):
				}
			}
			seen <- time.Now()
			if delay < 0 {
				return
			}
			select {
			case <-exited:
			case <-time.After(delay):
				cmd.Process.Signal(syscall.SIGKILL)
			}
		}()
		err := cmd.Wait()
		end := time.Now()
		close(exited)
		var o outcome
		select {
		case at := <-seen:
			o.storeTime = end.Sub(at)
		default:
		}
		o.printed = strings.TrimSpace(out.String())
		if idLine.MatchString(o.printed) {
			acked[o.printed] = n
		}
		var ee *exec.ExitError
		switch {
		case err == nil:
			if !idLine.MatchString(o.printed) {
				t.Fatalf("run %d succeeded without printing an ID: %q", n, out.String())
			}
		case errors.As(err, &ee):
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				o.killed = true
				break
			}
			// The store must open after any crash; note it and go on,
			// so one failure does not hide what comes after it.
			failures = append(failures, fmt.Sprintf("run %d: %v: %s", n, err, strings.TrimSpace(errb.String())))
			o.failed = true
		default:
			t.Fatalf("run %d: %v", n, err)
		}
		return o
	}

	// How long the store's part of a run lasts. Kills are drawn over a
	// little less than a typical run's store part, so few runs escape.
	var storeTimes []time.Duration
	for i := 0; i < 3; i++ {
		o := runOnce(-1-i, false, -1)
		if o.killed || o.failed || o.storeTime == 0 {
			t.Fatalf("calibration run %d: %+v", i, o)
		}
		storeTimes = append(storeTimes, o.storeTime)
	}
	sort.Slice(storeTimes, func(i, j int) bool { return storeTimes[i] < storeTimes[j] })
	window := storeTimes[1] * 9 / 10
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 42))
	t.Logf("the store part of a run took %v; kills within %v of it; seed %d", storeTimes, window, seed)

	verify := func(when string) {
		t.Helper()
		out, errs, code := runVigil(t, home, nil, "report", "list", "--json")
		if code != 0 { // noted, and tried again once
			failures = append(failures, fmt.Sprintf("%s: report list: exit %d: %s", when, code, strings.TrimSpace(errs)))
			out, errs, code = runVigil(t, home, nil, "report", "list", "--json")
			if code != 0 {
				t.Fatalf("%s: the store does not open: exit %d: %s", when, code, errs)
			}
		}
		byID := map[string]bool{}
		for _, r := range decodeLines[reportOut](t, out) {
			byID[r.ID] = true
		}
		var lost []string
		for id, n := range acked {
			if !byID[id] {
				lost = append(lost, fmt.Sprintf("%s (run %d)", id, n))
			}
		}
		if len(lost) > 0 {
			t.Fatalf("%s: %d acknowledged reports are gone: %v", when, len(lost), lost)
		}
	}

	const wantKills = 200
	// All 200 kills are the requirement; the deadline only stops a run
	// that could never get there.
	deadline := time.Now().Add(300 * time.Second)
	kills, storeKills, killedAfterAck, completed := 0, 0, 0, 0
	for n := 0; kills < wantKills; n++ {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d kills before the deadline: the machine is too slow", kills, wantKills)
		}
		early := n%5 < 3
		delay := time.Duration(rng.Int64N(int64(150 * time.Millisecond)))
		if !early {
			delay = time.Duration(rng.Int64N(int64(window)))
		}
		o := runOnce(n, early, delay)
		if !o.killed && !o.failed {
			completed++
			continue
		}
		if o.failed {
			continue
		}
		kills++
		if !early {
			storeKills++
		}
		if o.printed != "" {
			killedAfterAck++
		}
		if kills%20 == 0 {
			verify(fmt.Sprintf("after %d kills", kills))
		}
	}
	verify("at the end")
	if len(failures) > 0 {
		t.Errorf("%d runs after a SIGKILL failed instead of opening the store (the first %d):\n%s",
			len(failures), min(5, len(failures)), strings.Join(failures[:min(5, len(failures))], "\n"))
	}
	st := status(t, home)
	if st.Records["report"] < len(acked) {
		t.Errorf("status counts %d reports, fewer than the %d acknowledged", st.Records["report"], len(acked))
	}
	t.Logf("%d kills (%d in the store's part, %d after the ID was printed), %d runs completed, %d reports acknowledged, %d stored",
		kills, storeKills, killedAfterAck, completed, len(acked), st.Records["report"])
}

// TestOpensAfterCrashLeftEmptyLog: a SIGKILL between creating a new log
// file in the data folder — a memtable's write-ahead log (NNNNN.mem) or a
// value log (NNNNNN.vlog) — and sizing it leaves an empty file; the crash
// test above finds both states within a few hundred kills. The next
// command must open the store, not fail once with Badger's "Create a new
// file" (z.NewFile, dgraph-io/badger#2207; a second open succeeds).
func TestOpensAfterCrashLeftEmptyLog(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"00002.mem", "000099.vlog"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			home, _, _ := newMission(t, "emptylog")
			id := mustID(t, home, nil, "report", "add", "--category", "other", "--severity", "1", "--title", "Before the crash")
			if err := os.WriteFile(filepath.Join(home, "data", name), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			out, errs, code := runVigil(t, home, nil, "report", "list", "--json")
			if code != 0 {
				t.Fatalf("after a crash left an empty data/%s, report list: exit %d: %s", name, code, errs)
			}
			if rs := decodeLines[reportOut](t, out); len(rs) != 1 || rs[0].ID != id {
				t.Errorf("report list after the crash: %s", out)
			}
		})
	}
}

// holdsFileUnder reports whether the process whose fd folder is fdDir has
// dir, or a file in it, open.
func holdsFileUnder(fdDir, dir string) bool {
	entries, err := os.ReadDir(fdDir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(fdDir, e.Name()))
		if err == nil && (target == dir || strings.HasPrefix(target, dir+string(filepath.Separator))) {
			return true
		}
	}
	return false
}

// TestReportSyncedBeforeAck traces `vigil report add` and checks that the
// store's files are synced after the last write to them and before the ID
// is written to standard output: the report is durable before it is
// acknowledged. The store maps its log files into memory, so the trace
// follows mmap and msync as well as write and fsync.
func TestReportSyncedBeforeAck(t *testing.T) {
	t.Parallel()
	strace := findStrace(t)
	home, _, _ := newMission(t, "traced")
	resolved, err := filepath.EvalSymlinks(home)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(resolved, "data") + string(filepath.Separator)
	logPath := filepath.Join(t.TempDir(), "strace.log")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, strace, "-f", "-y", "-s", "200", "-o", logPath,
		"-e", "trace=write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync,sync_file_range,msync,mmap,munmap",
		binary(t), "--home", home, "report", "add", "--category", "polling.secrecy_breach", "--severity", "3",
		"--title", "Officials watching voters mark ballots", "--description", strings.Repeat("Booths face the desk. ", 30))
	cmd.Env = childEnv(nil)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if strings.Contains(errb.String(), "ptrace") || strings.Contains(errb.String(), "Operation not permitted") {
			t.Skipf("strace cannot trace here: %s", firstLine(errb.String()))
		}
		t.Fatalf("strace vigil report add: %v\n%s", err, errb.String())
	}
	id := strings.TrimSpace(out.String())
	if !idLine.MatchString(id) {
		t.Fatalf("report add printed %q", out.String())
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	calls := parseStrace(string(log))

	ack := -1
	for i, c := range calls {
		if c.name == "write" && c.fd == 1 && strings.Contains(c.line, id) {
			ack = i
			break
		}
	}
	if ack < 0 {
		t.Fatalf("no write of %s to fd 1 in the trace:\n%s", id, tail(string(log), 40))
	}
	lastWrite := -1
	for i := 0; i < ack; i++ {
		c := calls[i]
		if isWrite(c.name) && strings.HasPrefix(c.path, dataDir) && filepath.Base(c.path) != "LOCK" {
			lastWrite = i
		}
	}
	synced := map[string]bool{}
	for i := lastWrite + 1; i < ack; i++ {
		if c := calls[i]; c.sync && strings.HasPrefix(c.path, dataDir) {
			synced[c.path] = true
		}
	}
	if len(synced) == 0 {
		t.Fatalf("no fsync, fdatasync or msync of a file in %s between the last write (call %d) and the ID on stdout (call %d):\n%s",
			dataDir, lastWrite, ack, tail(string(log), 60))
	}
	// The log files the record went to — the newest mapped write-ahead
	// log (*.mem) and value log (*.vlog) — must be among the synced ones.
	for _, ext := range []string{".mem", ".vlog"} {
		if active := calls[ack].live[ext]; active != "" && !synced[active] {
			t.Errorf("the active %s file %s was not synced before the ID was printed; synced: %v", ext, active, keys(synced))
		}
	}
	t.Logf("synced before the acknowledgement: %v", keys(synced))
}

// findStrace returns the strace binary, installing it with apt-get when
// running as root, or skips.
func findStrace(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("strace"); err == nil {
		return p
	}
	if os.Geteuid() != 0 {
		t.Skip("strace is not installed and the test is not root to install it")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("strace is not installed and there is no apt-get")
	}
	install := func(args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get %s: %v: %s", strings.Join(args, " "), err, tail(string(out), 3))
		}
		return nil
	}
	if err := install("install", "-y", "strace"); err != nil {
		if err := install("update"); err != nil {
			t.Skipf("strace is not installed: %v", err)
		}
		if err := install("install", "-y", "strace"); err != nil {
			t.Skipf("strace is not installed: %v", err)
		}
	}
	p, err := exec.LookPath("strace")
	if err != nil {
		t.Skipf("strace still not found after apt-get install: %v", err)
	}
	return p
}

// straceCall is one system call from `strace -f -y`.
type straceCall struct {
	line string
	name string
	fd   int
	path string // the file behind fd, or behind the mapping an msync names
	sync bool   // makes path durable
	// live maps ".mem" and ".vlog" to the newest such file mapped at
	// this point.
	live map[string]string
}

type mapping struct {
	start, end uint64
	path       string
	seq        int
}

var (
	straceFD    = regexp.MustCompile(`^\w+\((-?\d+)(?:<([^>]*)>)?`)
	straceMmap  = regexp.MustCompile(`^mmap\(\w+, (\d+), [^,]+, [^,]+, (-?\d+)(?:<([^>]*)>)?, \w+\)\s+= (0x[0-9a-f]+)`)
	straceMsync = regexp.MustCompile(`^msync\((0x[0-9a-f]+), (\d+), ([A-Z_|]+)\)\s+= 0`)
	straceMunmp = regexp.MustCompile(`^munmap\((0x[0-9a-f]+), (\d+)\)\s+= 0`)
)

// parseStrace reads a trace, joining calls that strace split across
// threads ("<unfinished ...>" / "<... resumed>"), and resolves msync
// addresses to the files mapped there.
func parseStrace(log string) []straceCall {
	pending := map[string]string{}
	var maps []mapping
	var calls []straceCall
	seq := 0
	for _, line := range strings.Split(log, "\n") {
		pid, rest, ok := strings.Cut(line, " ")
		if _, err := strconv.Atoi(pid); !ok || err != nil { // one thread: no pid column
			pid, rest = "0", line
		}
		rest = strings.TrimLeft(rest, " ")
		if r, ok := strings.CutSuffix(rest, "<unfinished ...>"); ok {
			// strace writes "msync(addr, n, MS_SYNC <unfinished ...>"
			// when another thread interrupts the line: without the space
			// the resumed call reads "MS_SYNC)" like an uninterrupted one
			// (the sync was missed under load, and the test failed).
			pending[pid] = strings.TrimRight(r, " ")
			continue
		}
		if strings.HasPrefix(rest, "<... ") {
			i := strings.Index(rest, " resumed>")
			if i < 0 {
				continue
			}
			rest = pending[pid] + rest[i+len(" resumed>"):]
			delete(pending, pid)
		}
		open := strings.IndexByte(rest, '(')
		if open <= 0 || strings.HasPrefix(rest, "---") || strings.HasPrefix(rest, "+++") {
			continue
		}
		c := straceCall{line: rest, name: rest[:open], fd: -1}
		switch c.name {
		case "mmap":
			if m := straceMmap.FindStringSubmatch(rest); m != nil && m[3] != "" {
				n, _ := strconv.ParseUint(m[1], 10, 64)
				addr, _ := strconv.ParseUint(m[4], 0, 64)
				seq++
				maps = append(maps, mapping{addr, addr + n, m[3], seq})
			}
		case "munmap":
			if m := straceMunmp.FindStringSubmatch(rest); m != nil {
				addr, _ := strconv.ParseUint(m[1], 0, 64)
				n, _ := strconv.ParseUint(m[2], 10, 64)
				kept := maps[:0]
				for _, mp := range maps {
					if mp.start >= addr+n || mp.end <= addr {
						kept = append(kept, mp)
					}
				}
				maps = kept
			}
		case "msync":
			if m := straceMsync.FindStringSubmatch(rest); m != nil && strings.Contains(m[3], "MS_SYNC") {
				addr, _ := strconv.ParseUint(m[1], 0, 64)
				for _, mp := range maps {
					if addr >= mp.start && addr < mp.end {
						c.path, c.sync = mp.path, true
					}
				}
			}
		default:
			if m := straceFD.FindStringSubmatch(rest); m != nil {
				c.fd, _ = strconv.Atoi(m[1])
				c.path = m[2]
			}
			c.sync = c.name == "fsync" || c.name == "fdatasync" || c.name == "sync_file_range"
		}
		c.live = map[string]string{}
		best := map[string]int{}
		for _, mp := range maps {
			ext := filepath.Ext(mp.path)
			if (ext == ".mem" || ext == ".vlog") && mp.seq > best[ext] {
				best[ext], c.live[ext] = mp.seq, mp.path
			}
		}
		calls = append(calls, c)
	}
	return calls
}

func isWrite(name string) bool {
	switch name {
	case "write", "pwrite64", "writev", "pwritev", "pwritev2":
		return true
	}
	return false
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// parseStrace attributes an msync to the file mapped at its address, also
// when strace split the call around another thread's line.
func TestParseStraceSplitMsync(t *testing.T) {
	for _, tc := range []struct {
		name, log string
	}{
		{"whole", "7 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 12</d/00001.mem>, 0) = 0x7f00\n" +
			"7 msync(0x7f00, 4096, MS_SYNC) = 0\n"},
		{"split", "7 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 12</d/00001.mem>, 0) = 0x7f00\n" +
			"7 msync(0x7f00, 4096, MS_SYNC <unfinished ...>\n" +
			"8 --- SIGURG {si_signo=SIGURG} ---\n" +
			"7 <... msync resumed>)              = 0\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := parseStrace(tc.log)
			var synced []string
			for _, c := range calls {
				if c.sync {
					synced = append(synced, c.path)
				}
			}
			if len(synced) != 1 || synced[0] != "/d/00001.mem" {
				t.Fatalf("synced %v, want [/d/00001.mem]", synced)
			}
		})
	}
}
