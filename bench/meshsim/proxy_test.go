package meshsim

import (
	"bytes"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// A delayed link keeps each direction's bytes in order, delivers nothing
// before its latency, and lets one direction flow while the other is
// backed up (its reader is not reading).
func TestDelayLine(t *testing.T) {
	const latency = 30 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	var byDialer, byListener atomic.Int64
	p, err := newProxy(ln.Addr().String(), latency, &byDialer, &byListener)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	client, err := net.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server := <-accepted
	defer server.Close()

	// The server never reads while the client pushes 8 MiB, more than the
	// delay line and both sockets buffer: that direction backs up.
	big := bytes.Repeat([]byte("0123456789abcdef"), 8<<16)
	pushed := make(chan error, 1)
	go func() {
		_, err := client.Write(big)
		pushed <- err
	}()

	// The other direction still flows, in order, and not before the
	// latency.
	msg := make([]byte, 200<<10)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	sent := time.Now()
	go func() { _, _ = server.Write(msg) }()
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(client, got[:1]); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(sent); d < latency {
		t.Errorf("first byte after %v, before the link's latency %v", d, latency)
	}
	if _, err := io.ReadFull(client, got[1:]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("the listener's bytes arrived changed or out of order")
	}

	// Now the server reads the backed-up direction: all of it, in order.
	back := make([]byte, len(big))
	if _, err := io.ReadFull(server, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, big) {
		t.Fatal("the dialer's bytes arrived changed or out of order")
	}
	if err := <-pushed; err != nil {
		t.Fatal(err)
	}
	if byDialer.Load() != int64(len(big)) || byListener.Load() != int64(len(msg)) {
		t.Errorf("counted %d and %d bytes, want %d and %d", byDialer.Load(), byListener.Load(), len(big), len(msg))
	}

	// Closing one end closes the link once the bytes before it are out.
	client.Close()
	if _, err := server.Read(make([]byte, 1)); err == nil {
		t.Error("the link stayed up after its dialer closed")
	}
}
