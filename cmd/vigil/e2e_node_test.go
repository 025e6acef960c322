package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/internal/testkit"
)

// startNode runs `vigil node` on loopback for home and returns its first
// listen address; the node is stopped with SIGTERM when the test ends.
func startNode(t *testing.T, home string, args ...string) string {
	t.Helper()
	return startNodeIn(t, home, "", args...)
}

// startNodeIn is startNode with dir as the node's working folder ("" for
// the test's own).
func startNodeIn(t *testing.T, home, dir string, args ...string) string {
	t.Helper()
	_, addr := runNode(t, home, dir, args...)
	return addr
}

// runNode runs `vigil node` on loopback for home, in dir ("" for the
// test's own folder), and returns its first stdout line (its listen
// address) and the lines that follow (the newest 64 kept unread); the
// node is stopped with SIGTERM when the test ends.
func runNode(t *testing.T, home, dir string, args ...string) (<-chan string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := vigilCmd(ctx, t, home, nil, append([]string{"node", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cancel()
			<-done
		}
		cancel()
	})
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- strings.TrimSpace(sc.Text()):
			default:
			}
		}
	}()
	select {
	case a := <-lines:
		return lines, a
	case <-time.After(30 * time.Second):
		t.Fatal("vigil node printed no listen address")
	}
	return nil, ""
}

// While a node holds a home, other commands go through its control
// socket; a report added on one node reaches a connected node at once.
func TestNodeControlSocketAndSync(t *testing.T) {
	t.Parallel()
	coord, _, _ := newMission(t, "coordinator")
	obs, _, _ := member(t, "observer", invite(t, coord, "--role", "observer"))
	addr := startNode(t, coord)
	if !strings.Contains(addr, "/p2p/12D3KooW") {
		t.Fatalf("listen address %q lacks /p2p/<peer id>", addr)
	}
	// The socket is owner-only.
	if st, err := os.Stat(filepath.Join(coord, "control.sock")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("control socket: %v, mode %v", err, st.Mode())
	}
	st := status(t, coord)
	if !st.Running || st.PeerID == nil || len(st.Listen) == 0 {
		t.Fatalf("status while the node runs: %+v", st)
	}
	// A wrong passphrase through the socket is refused.
	_, errOut, code := runVigil(t, coord, []string{"VIGIL_PASSPHRASE=wrong"}, "status")
	if code != 1 || !strings.Contains(errOut, "passphrase") {
		t.Fatalf("wrong passphrase through the socket: exit %d: %s", code, errOut)
	}

	// One-shot sync from the observer's home (no node there).
	pre := mustID(t, obs, nil, "report", "add", "--category", "polling.closure", "--severity", "4", "--title", "Closed at noon")
	out := mustRun(t, obs, nil, "sync", "--peer", addr, "--json")
	if !strings.Contains(out, `"sent":`) {
		t.Fatalf("sync --json: %s", out)
	}
	if _, ids := listReports(t, coord); !sameSet(ids, pre) {
		t.Fatalf("after sync the coordinator lists %v, want %s", ids, pre)
	}

	// Now the observer runs a node too, peered to the coordinator: a report
	// added through its socket is published and arrives without a sync.
	startNode(t, obs, "--peer", addr)
	// Each look runs the CLI in a child process: every 200 ms is enough.
	if ok, _ := testkit.Poll(30*time.Second, 200*time.Millisecond, func() bool { return len(status(t, coord).Peers) > 0 }); !ok {
		t.Fatal("the observer's node never connected")
	}
	peers := mustRun(t, coord, nil, "peers", "--json")
	if !strings.Contains(peers, `"role":"observer"`) {
		t.Fatalf("peers --json: %s", peers)
	}
	live := mustID(t, obs, nil, "report", "add", "--category", "polling.intimidation", "--severity", "3", "--title", "Men at the gate")
	if ok, _ := testkit.Poll(30*time.Second, 200*time.Millisecond, func() bool {
		_, ids := listReports(t, coord)
		return sameSet(ids, pre, live)
	}); !ok {
		t.Fatal("a report added while both nodes ran never arrived")
	}
	// Delivery status on the observer's side: the coordinator holds it.
	var mine reportOut
	if ok, _ := testkit.Poll(60*time.Second, 500*time.Millisecond, func() bool {
		r, _ := listReports(t, obs)
		mine = r[live]
		return mine.Delivery != nil && *mine.Delivery != "local only"
	}); !ok {
		t.Fatalf("delivery status never left local only: %+v", mine)
	}
}

// `vigil peers` with no node running says so.
func TestPeersWithoutNode(t *testing.T) {
	t.Parallel()
	home, _, _ := newMission(t, "alone")
	out, errOut, code := runVigil(t, home, nil, "peers")
	wantFailure(t, "peers without a node", out, errOut, code, 1, "no node is running")
}
