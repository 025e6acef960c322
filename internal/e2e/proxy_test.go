package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A TCP proxy that delays each direction by a fixed time, for the latency
// this kernel cannot add (no netem). It runs as a helper process: the test
// binary re-executed inside a namespace with proxyEnv set, so its sockets
// live in that namespace.

const proxyEnv = "VIGIL_E2E_DELAY_PROXY" // "LISTEN TARGET DELAY SOURCE-IP"

// maybeRunProxy runs the proxy and exits if this process is a helper.
func maybeRunProxy() {
	spec := os.Getenv(proxyEnv)
	if spec == "" {
		return
	}
	f := strings.Fields(spec)
	if len(f) != 4 {
		fmt.Fprintf(os.Stderr, "%s=%q: want LISTEN TARGET DELAY SOURCE-IP\n", proxyEnv, spec)
		os.Exit(2)
	}
	delay, err := time.ParseDuration(f[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := runProxy(f[0], f[1], delay, f[3]); err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runProxy(listen, target string, delay time.Duration, source string) error {
	dialer := net.Dialer{Timeout: 20 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Printf("proxy listening on %s, to %s from %s, %v each way\n", ln.Addr(), target, source, delay)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		ln.Close()
	}()
	serveProxy(ln, func() (net.Conn, error) { return dialer.Dial("tcp", target) }, delay)
	return nil
}

// serveProxy accepts on ln until it is closed and forwards each
// connection to a new one from dial, with delay each way.
func serveProxy(ln net.Listener, dial func() (net.Conn, error), delay time.Duration) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			d, err := dial()
			if err != nil {
				fmt.Fprintln(os.Stderr, "proxy: dial:", err)
				c.Close()
				return
			}
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); delayedCopy(d, c, delay) }()
			go func() { defer wg.Done(); delayedCopy(c, d, delay) }()
			wg.Wait()
			c.Close()
			d.Close()
		}()
	}
}

// delayedCopy copies src to dst, each chunk written delay after it was
// read (a pipeline: the delay adds latency, not a throughput limit). At
// most 64 chunks of 4 KiB wait in the proxy, so it does not hide a slow
// link from the sender behind a big buffer.
func delayedCopy(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	ch := make(chan chunk, 64)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 4<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{buf[:n], time.Now().Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		// The latency the proxy plays (each chunk held until its time),
		// not a wait for an outcome.
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			src.Close() // unblocks the reader
			for range ch {
			}
			break
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// startDelayProxy runs the proxy in ns, listening on listen and forwarding
// to target from the address source, each direction delayed by delay. It
// stops at cleanup.
func startDelayProxy(t *testing.T, ns, listen, target, source string, delay time.Duration) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool("ip"), "netns", "exec", ns, self)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %s %s", proxyEnv, listen, target, delay, source))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			ready <- sc.Text()
		}
		close(ready)
		io.Copy(io.Discard, out)
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	select {
	case line, ok := <-ready:
		if !ok {
			<-done
			t.Fatalf("delay proxy exited: %s", errb.String())
		}
		t.Log(line)
	case <-time.After(20 * time.Second):
		t.Fatal("delay proxy did not start in 20 s")
	}
}

// TestDelayProxy checks the proxy itself on loopback (no root needed): a
// round trip through it takes at least twice the delay, and bytes arrive
// intact and in order.
func TestDelayProxy(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const delay = 100 * time.Millisecond
	go serveProxy(ln, func() (net.Conn, error) { return net.Dial("tcp", echo.Addr().String()) }, delay)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 100<<10)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	start := time.Now()
	go func() { c.Write(msg) }()
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	rtt := time.Since(start)
	if string(got) != string(msg) {
		t.Fatal("the proxy changed the bytes")
	}
	if rtt < 2*delay {
		t.Fatalf("round trip %v through a proxy that delays %v each way", rtt, delay)
	}
	t.Logf("100 KiB round trip through the proxy: %v (delay %v each way)", rtt.Round(time.Millisecond), delay)
}
