package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/internal/testkit"
)

// Namespace names are "vge<pid>-<tag><n>": unique per run, and a later run
// can tell (by the pid) which ones a killed run left behind.
const nsPrefix = "vge"

var nsSeq atomic.Int64

// run runs a command and returns its combined output.
func run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

var (
	probeOnce sync.Once
	probeErr  error
)

// probeNetns checks once that this process may create a namespace and a
// veth pair (root in a container without CAP_SYS_ADMIN or CAP_NET_ADMIN
// may not), and skips with the reason when it cannot.
func probeNetns(t *testing.T) {
	t.Helper()
	probeOnce.Do(func() {
		a := fmt.Sprintf("%s%d-probe", nsPrefix, os.Getpid())
		if _, probeErr = run(tool("ip"), "netns", "add", a); probeErr != nil {
			return
		}
		defer run(tool("ip"), "netns", "del", a)
		_, probeErr = run(tool("ip"), "-n", a, "link", "add", "name", "p0", "type", "veth", "peer", "name", "p1")
	})
	if probeErr != nil {
		t.Skipf("cannot create network namespaces and veth pairs here (needs CAP_SYS_ADMIN and CAP_NET_ADMIN): %v", probeErr)
	}
}

// sweepStaleNamespaces deletes namespaces that a killed earlier run of
// these tests left (their pid is gone).
func sweepStaleNamespaces() {
	ip, ok := lookTool("ip")
	if !ok {
		return
	}
	out, err := run(ip, "netns", "list")
	if err != nil {
		return
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], nsPrefix) {
			continue
		}
		rest := strings.TrimPrefix(f[0], nsPrefix)
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // that run is still going
		}
		fmt.Fprintf(os.Stderr, "e2e: deleting namespace %s left by an earlier run (pid %d)\n", f[0], pid)
		_, _ = run(ip, "netns", "del", f[0])
	}
}

// lab is a set of namespaces and links that one test owns; Cleanup
// deletes them all (which also removes their veths, qdiscs and nft
// tables), even when the test fails.
type lab struct {
	t   *testing.T
	tag string

	mu  sync.Mutex
	nss []string
}

func newLab(t *testing.T, tag string) *lab {
	l := &lab{t: t, tag: tag}
	t.Cleanup(l.cleanup)
	return l
}

func (l *lab) cleanup() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.nss) - 1; i >= 0; i-- {
		ns := l.nss[i]
		// Processes the test started in ns were stopped by their own
		// cleanups, which run before this one. Retry: a dying process may
		// still hold the namespace busy for a moment.
		var err error
		if ok, _ := testkit.Poll(time.Second, 200*time.Millisecond, func() bool {
			_, err = run(tool("ip"), "netns", "del", ns)
			return err == nil
		}); !ok {
			l.t.Errorf("cleanup: %v", err)
		}
	}
	l.nss = nil
}

// ns creates a namespace with loopback up and IP forwarding off, and
// returns its name.
func (l *lab) ns(short string) string {
	l.t.Helper()
	name := fmt.Sprintf("%s%d-%s%d%s", nsPrefix, os.Getpid(), l.tag, nsSeq.Add(1), short)
	if _, err := run(tool("ip"), "netns", "add", name); err != nil {
		l.t.Fatal(err)
	}
	l.mu.Lock()
	l.nss = append(l.nss, name)
	l.mu.Unlock()
	l.ip("-n", name, "link", "set", "lo", "up")
	// New namespaces start with forwarding off; say so anyway, since the
	// line topology depends on it.
	l.in(name, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward")
	if got := strings.TrimSpace(l.in(name, "cat", "/proc/sys/net/ipv4/ip_forward")); got != "0" {
		l.t.Fatalf("%s: ip_forward is %q after turning it off", name, got)
	}
	return name
}

// ip runs the ip tool and fails the test on error.
func (l *lab) ip(args ...string) string {
	l.t.Helper()
	out, err := run(tool("ip"), args...)
	if err != nil {
		l.t.Fatal(err)
	}
	return out
}

// in runs a command inside ns and fails the test on error.
func (l *lab) in(ns string, argv ...string) string {
	l.t.Helper()
	out, err := run(tool("ip"), append([]string{"netns", "exec", ns}, argv...)...)
	if err != nil {
		l.t.Fatal(err)
	}
	return out
}

// veth joins nsA and nsB with a veth pair: ifA with cidrA in nsA, ifB with
// cidrB in nsB (for example "10.77.1.1/24"), both up.
func (l *lab) veth(nsA, ifA, cidrA, nsB, ifB, cidrB string) {
	l.t.Helper()
	l.ip("link", "add", "name", ifA, "netns", nsA, "type", "veth", "peer", "name", ifB, "netns", nsB)
	l.ip("-n", nsA, "addr", "add", cidrA, "dev", ifA)
	l.ip("-n", nsB, "addr", "add", cidrB, "dev", ifB)
	l.ip("-n", nsA, "link", "set", ifA, "up")
	l.ip("-n", nsB, "link", "set", ifB, "up")
}

// setLink brings an interface in ns up or down.
func (l *lab) setLink(ns, ifname string, up bool) {
	l.t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	l.ip("-n", ns, "link", "set", ifname, state)
}

// shape limits what ifname in ns sends with a token bucket (this kernel
// has no netem; see docs/architecture.md, "Platform notes").
func (l *lab) shape(ns, ifname, rate string) {
	l.t.Helper()
	// One wire packet per buffer, so that the loss rule counts real
	// packets: veth offloads would hand nftables and tbf TCP super-packets
	// of several segments.
	l.ip("-n", ns, "link", "set", "dev", ifname, "gso_max_segs", "1", "gso_max_size", "1500")
	out, err := run(tool("ip"), "netns", "exec", ns, tool("tc"), "qdisc", "add", "dev", ifname, "root",
		"tbf", "rate", rate, "burst", "1600", "latency", "400ms")
	if err != nil {
		l.t.Fatalf("tc tbf on %s in %s: %v (%s)", ifname, ns, err, out)
	}
}

// lose drops pct percent of the packets ifname in ns sends, at random,
// with nftables (numgen random), the kernel having no netem.
func (l *lab) lose(ns, ifname string, pct int) {
	l.t.Helper()
	nft := tool("nft")
	for _, argv := range [][]string{
		{nft, "add", "table", "inet", "emu"},
		{nft, "add", "chain", "inet", "emu", "out", "{ type filter hook output priority 0; }"},
		{nft, "add", "rule", "inet", "emu", "out", "oifname", ifname, "numgen", "random", "mod", "100", "<", strconv.Itoa(pct), "counter", "drop"},
	} {
		l.in(ns, argv...)
	}
}

// reachable pings addr from ns once, if ping is installed; it returns
// true when ping is missing (the check is only a diagnostic).
func (l *lab) reachable(ns, addr string) bool {
	p, ok := lookTool("ping")
	if !ok {
		return true
	}
	_, err := run(tool("ip"), "netns", "exec", ns, p, "-c", "1", "-W", "1", addr)
	return err == nil
}
