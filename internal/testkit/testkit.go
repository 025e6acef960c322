// Package testkit holds what Vigil's tests share: waiting on a condition
// with a reason, a logger that writes to the test's log, and the
// goroutine leak check every package that starts goroutines runs.
package testkit

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Eventually polls cond until it holds, or fails the test with what after
// timeout. It is for outcomes that arrive asynchronously (a record
// gossiped, a peer admitted); absence is asserted with a barrier, not by
// waiting.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if ok, _ := Poll(timeout, 10*time.Millisecond, cond); !ok {
		t.Fatalf("after %v: %s", timeout, what)
	}
}

// Poll calls cond every interval until it holds or timeout passes, and
// reports whether it held and how long that took. It is Eventually for a
// caller that words its own failure (with the state it found), does not
// fail at all (a measurement), or asks something costly each time (a
// command in another process), and so polls less often.
func Poll(timeout, interval time.Duration, cond func() bool) (bool, time.Duration) {
	start := time.Now()
	deadline := start.Add(timeout)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false, time.Since(start)
		}
		<-tick.C
	}
	return true, time.Since(start)
}

// Logger returns a logger that writes each record to t.Log (shown for a
// failed test, or with -v), at level and above.
func Logger(t testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(&tlogWriter{t: t}, &slog.HandlerOptions{Level: level}))
}

type tlogWriter struct{ t testing.TB }

func (w *tlogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	// A logger may outlive its test by a moment (a goroutine finishing
	// after Cleanup): t.Log then panics, so stop writing instead.
	defer func() { _ = recover() }()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// ignored are goroutines that are not Vigil's to end: long-lived workers
// that libraries start once per process and never stop.
var ignored = []goleak.Option{
	// go-libp2p's and its dependencies' process-wide workers.
	goleak.IgnoreTopFunction("github.com/ipfs/go-log/v2/writer.(*MirrorWriter).logRoutine"),
	goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
	goleak.IgnoreAnyFunction("github.com/libp2p/go-libp2p/p2p/transport/quicreuse.(*reuse).gc"),
	goleak.IgnoreAnyFunction("github.com/libp2p/go-libp2p/p2p/net/nat.(*NAT).background"),
	goleak.IgnoreAnyFunction("github.com/libp2p/go-flow-metrics.(*sweeper).run"),
	// NAT port mapping's SSDP search: it ends at its own read deadline
	// (5 s), and a host's Close does not cut it short.
	goleak.IgnoreAnyFunction("github.com/koron/go-ssdp/internal/multicast.(*Conn).ReadPackets"),
	goleak.IgnoreAnyFunction("github.com/libp2p/go-libp2p/p2p/net/nat/internal/nat.discoverNATs"),
	// Badger's and ristretto's process-wide ones.
	goleak.IgnoreAnyFunction("github.com/dgraph-io/ristretto/v2.(*defaultPolicy[...]).processItems"),
	goleak.IgnoreAnyFunction("github.com/dgraph-io/ristretto/v2.(*Cache[...]).processItems"),
	goleak.IgnoreAnyFunction("github.com/golang/glog.(*fileSink).flushDaemon"),
	goleak.IgnoreAnyFunction("github.com/dgraph-io/badger/v4/y.(*WaterMark).process"),
	// Fyne's test app runs its event loop for the whole process.
	goleak.IgnoreAnyFunction("fyne.io/fyne/v2/internal/async.(*UnboundedChan[...]).processing"),
	goleak.IgnoreAnyFunction("fyne.io/fyne/v2/test.(*testApp).Run"),
	goleak.IgnoreAnyFunction("fyne.io/fyne/v2/internal/driver/common.(*Window).RunEventQueue"),
}

// Leaks reports the goroutines still running that no library owns: for a
// package whose TestMain does more than run the tests.
func Leaks() error { return goleak.Find(ignored...) }

// VerifyNoLeaks runs the package's tests and then fails if goroutines
// the tests started are still running: call it from TestMain.
func VerifyNoLeaks(m *testing.M) {
	goleak.VerifyTestMain(m, ignored...)
}
