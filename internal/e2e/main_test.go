package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/internal/testkit"
)

var (
	// vigilBin is the binary under test, built once by TestMain (empty
	// when the tests cannot run here, so nothing was built).
	vigilBin string
	// buildSkipped says why TestMain did not build the binary.
	buildSkipped string
	// sandbox is HOME for every child: commands always get --home.
	sandbox string
)

// pass is the passphrase of every home these tests make.
const pass = "e2e correct horse battery staple"

func TestMain(m *testing.M) {
	maybeRunProxy() // a helper process (proxy_test.go) never returns from it
	code, err := testMain(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func testMain(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "vigil-netns-e2e-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(dir)
	sandbox = filepath.Join(dir, "sandbox")
	if err := os.MkdirAll(sandbox, 0o700); err != nil {
		return 1, err
	}
	// Every test here needs root for network namespaces: do not spend a
	// build on a run in which all of them skip.
	if os.Geteuid() != 0 {
		buildSkipped = "needs root"
		return runChecked(m)
	}
	sweepStaleNamespaces()
	root, err := moduleRoot()
	if err != nil {
		return 1, err
	}
	bin := filepath.Join(dir, "vigil")
	// The headless build: no Fyne, no cgo, what relays and servers run;
	// vigil_cheapkdf: homes the binary creates unlock in microseconds
	// (cmd/vigil/kdf.go), as those made here with cheapKDF do.
	build := exec.Command("go", "build", "-buildvcs=false", "-tags", "headless,vigil_cheapkdf", "-o", bin, "./cmd/vigil")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("go build ./cmd/vigil: %v\n%s", err, out)
	}
	vigilBin = bin
	return runChecked(m)
}

// runChecked runs the tests and then fails if a goroutine they started (an
// output reader, a proxy copy, a watcher) is still running.
func runChecked(m *testing.M) (int, error) {
	code := m.Run()
	if code == 0 {
		if err := testkit.Leaks(); err != nil {
			return 1, err
		}
	}
	return code, nil
}

// moduleRoot is the folder holding go.mod, found upward from the package.
func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", errors.New("no go.mod above the test's folder")
		}
		d = up
	}
}

// lookTool finds a system tool on PATH or in the sbin folders that a
// non-login root shell may leave off PATH.
func lookTool(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// tools maps a tool name to its path, filled by requireNetns.
var (
	toolMu sync.Mutex
	tools  = map[string]string{}
)

func tool(name string) string {
	toolMu.Lock()
	defer toolMu.Unlock()
	if p, ok := tools[name]; ok {
		return p
	}
	return name
}

// requireNetns skips t, saying exactly what is missing, unless it runs as
// root with the ip tool and each of extra (nft, tc, tcpdump).
func requireNetns(t *testing.T, extra ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, veth, tc, nftables); run scripts/netns-e2e.sh as root")
	}
	for _, name := range append([]string{"ip"}, extra...) {
		p, ok := lookTool(name)
		if !ok {
			t.Skipf("%s not found (install %s)", name, debianPackage(name))
		}
		toolMu.Lock()
		tools[name] = p
		toolMu.Unlock()
	}
	if vigilBin == "" {
		t.Fatalf("the vigil binary was not built (%s)", buildSkipped)
	}
	probeNetns(t)
}

func debianPackage(tool string) string {
	switch tool {
	case "ip", "tc":
		return "iproute2"
	case "nft":
		return "nftables"
	case "ping":
		return "iputils-ping"
	}
	return tool
}

// requireSlow skips the slow tests unless asked for.
func requireSlow(t *testing.T, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("slow (%s): skipped under -short", what)
	}
	if os.Getenv("VIGIL_E2E_SLOW") != "1" {
		t.Skipf("slow (%s): set VIGIL_E2E_SLOW=1 to run it (scripts/netns-e2e.sh does)", what)
	}
}

// ---- running the binary ----

// childEnv is a child's environment: the sandbox as HOME, the passphrase.
func childEnv() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + sandbox,
		"XDG_DATA_HOME=" + filepath.Join(sandbox, "xdg"),
		"TMPDIR=" + os.TempDir(),
		"LANG=C.UTF-8",
		"VIGIL_PASSPHRASE=" + pass,
	}
}

// vigil runs one CLI command on home (in the root namespace: while a node
// runs on home, the command goes through its control socket, a Unix
// socket that namespaces do not separate). It fails t on a non-zero exit.
func vigil(t testing.TB, home string, args ...string) string {
	t.Helper()
	out, errOut, err := vigilTry(home, args...)
	if err != nil {
		t.Fatalf("vigil --home %s %s: %v\nstdout: %s\nstderr: %s", home, strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// vigilTry runs one CLI command and returns its output and error.
func vigilTry(home string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, vigilBin, append([]string{"--home", home}, args...)...)
	cmd.Env = childEnv()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// statusJSON is the part of `vigil status --json` these tests read.
type statusJSON struct {
	Author      string         `json:"author"`
	Mission     *string        `json:"mission"`
	MissionName *string        `json:"mission_name"`
	Running     bool           `json:"running"`
	PeerID      *string        `json:"peer_id"`
	Listen      []string       `json:"listen"`
	Peers       []peerJSON     `json:"peers"`
	Records     map[string]int `json:"records"`
}

type peerJSON struct {
	PeerID   string   `json:"peer_id"`
	Author   string   `json:"author"`
	Addrs    []string `json:"addrs"`
	LastSync *string  `json:"last_sync"`
}

func status(t testing.TB, home string) statusJSON {
	t.Helper()
	var st statusJSON
	out := vigil(t, home, "status", "--json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json on %s: %v\n%s", home, err, out)
	}
	return st
}

func (s statusJSON) hasPeer(id string) bool {
	for _, p := range s.Peers {
		if p.PeerID == id {
			return true
		}
	}
	return false
}

// reportIDs returns the sorted IDs that `report list --json` prints.
func reportIDs(t testing.TB, home string) []string {
	t.Helper()
	out := vigil(t, home, "report", "list", "--json")
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.ID == "" {
			t.Fatalf("report list --json on %s: line %q: %v", home, line, err)
		}
		ids = append(ids, r.ID)
	}
	sort.Strings(ids)
	return ids
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// addReport writes a report through the CLI and returns its ID.
func addReport(t testing.TB, home, title string) string {
	t.Helper()
	id := strings.TrimSpace(vigil(t, home, "report", "add", "--category", "polling.late_opening", "--severity", "2", "--title", title))
	if !strings.HasPrefix(id, "bafk") || strings.ContainsAny(id, " \n") {
		t.Fatalf("report add printed %q, want one record ID", id)
	}
	return id
}

// ---- node processes ----

// nodeProc is a `vigil node` running in a namespace.
type nodeProc struct {
	name string
	home string
	ns   string
	cmd  *exec.Cmd
	log  string // stderr file

	mu     sync.Mutex
	stdout []string
	done   chan struct{}
	err    error
}

// startNode runs `ip netns exec NS vigil --home HOME node ARGS...` and waits
// until its control socket answers with running=true. The node is stopped
// (SIGTERM, then SIGKILL) when the test ends.
func startNode(t *testing.T, name, ns, home string, args ...string) *nodeProc {
	t.Helper()
	logPath := filepath.Join(filepath.Dir(home), name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	argv := []string{"netns", "exec", ns, vigilBin, "--home", home, "node"}
	if os.Getenv("VIGIL_E2E_VERBOSE") == "1" {
		argv = append(argv, "--verbose") // peer and sync events in the node's log
	}
	argv = append(argv, args...)
	cmd := exec.Command(tool("ip"), argv...)
	cmd.Env = childEnv()
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	n := &nodeProc{name: name, home: home, ns: ns, cmd: cmd, log: logPath, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start node %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			n.mu.Lock()
			n.stdout = append(n.stdout, sc.Text())
			n.mu.Unlock()
		}
		io.Copy(io.Discard, out)
		n.err = cmd.Wait() // after the pipe is drained, as exec requires
		logf.Close()
		close(n.done)
	}()
	t.Cleanup(func() {
		n.stop(t)
		if t.Failed() {
			t.Logf("--- node %s (%s) stderr, last lines:\n%s", name, ns, tail(logPath, 3000))
		}
	})
	ok, _ := testkit.Poll(30*time.Second, 100*time.Millisecond, func() bool {
		select {
		case <-n.done:
			return true
		default:
		}
		if _, err := os.Stat(filepath.Join(home, "control.sock")); err != nil {
			return false
		}
		st, _, err := vigilTry(home, "status", "--json")
		return err == nil && strings.Contains(st, `"running":true`)
	})
	select {
	case <-n.done:
		t.Fatalf("node %s exited at start: %v\n%s", name, n.err, tail(logPath, 3000))
	default:
	}
	if !ok {
		t.Fatalf("node %s: control socket did not answer with running=true in 30 s\n%s", name, tail(logPath, 3000))
	}
	return n
}

// stop sends SIGTERM and waits; SIGKILL after 15 s.
func (n *nodeProc) stop(t testing.TB) {
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		t.Errorf("node %s did not stop within 15 s of SIGTERM; killing it", n.name)
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

// printed returns the lines the node printed on stdout.
func (n *nodeProc) printed() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.stdout...)
}

// addr returns the node's full listen multiaddr on ip, from status --json,
// and checks that stdout printed the same addresses.
func (n *nodeProc) addr(t *testing.T, ip string) string {
	t.Helper()
	st := status(t, n.home)
	if st.PeerID == nil || *st.PeerID == "" {
		t.Fatalf("node %s: status --json has no peer_id", n.name)
	}
	var found string
	for _, a := range st.Listen {
		if !strings.HasSuffix(a, "/p2p/"+*st.PeerID) {
			t.Errorf("node %s: listen address %q does not end in /p2p/<peer_id>", n.name, a)
		}
		if strings.HasPrefix(a, "/ip4/"+ip+"/") {
			found = a
		}
	}
	if found == "" {
		t.Fatalf("node %s: no listen address on %s in %v", n.name, ip, st.Listen)
	}
	printed := n.printed()
	sort.Strings(printed)
	listen := append([]string(nil), st.Listen...)
	sort.Strings(listen)
	if strings.Join(printed, "\n") != strings.Join(listen, "\n") {
		t.Errorf("node %s printed %q on stdout; status --json listen is %q", n.name, printed, listen)
	}
	return found
}

func (n *nodeProc) peerID(t *testing.T) string {
	t.Helper()
	st := status(t, n.home)
	if st.PeerID == nil {
		t.Fatalf("node %s: no peer_id", n.name)
	}
	return *st.PeerID
}

// tail returns the last n bytes of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
