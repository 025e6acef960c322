package node_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vigil-mesh/vigil/node"
)

// Each side learns the other's clock from hello: a peer whose clock runs
// 90 s fast reads +90 s, and sees this one at -90 s.
func TestClockOffsetFromHello(t *testing.T) {
	sec := secret(t)
	a := newNode(t, sec, nil)
	b := newNode(t, sec, nil, func(c *node.Config) {
		c.Now = func() time.Time { return time.Now().Add(90 * time.Second) }
	})
	if _, ok := a.ClockOffset(b.ID()); ok {
		t.Fatal("an offset before any hello")
	}
	if err := dial(t, a.Node, info(b.Node)); err != nil {
		t.Fatal(err)
	}
	admitted(t, a, b)
	var ab, ba time.Duration
	waitFor(t, 5*time.Second, "no clock offset after hello", func() bool {
		var ok1, ok2 bool
		ab, ok1 = a.ClockOffset(b.ID())
		ba, ok2 = b.ClockOffset(a.ID())
		return ok1 && ok2
	})
	near := func(got, want time.Duration) bool { d := got - want; return d > -2*time.Second && d < 2*time.Second }
	if !near(ab, 90*time.Second) || !near(ba, -90*time.Second) {
		t.Fatalf("offsets: a sees b at %v (want about +90s), b sees a at %v (want about -90s)", ab, ba)
	}
	b.Close()
	waitFor(t, 5*time.Second, "an offset for a departed peer", func() bool {
		_, ok := a.ClockOffset(b.ID())
		return !ok
	})
}

// oldPeer speaks hello as Vigil did before the clock was added (the
// first version, reproduced here byte for byte): it admits whoever proves
// the secret and closes the stream after its verdict, and as a prover it
// closes after reading the verdict.
type oldPeer struct {
	h        host.Host
	sec      []byte
	admitted chan peer.ID
}

func newOldPeer(t *testing.T, sec []byte) *oldPeer {
	o := &oldPeer{h: plainHost(t), sec: sec, admitted: make(chan peer.ID, 4)}
	o.h.SetStreamHandler(node.ProtocolID(sec, "hello"), o.handle)
	return o
}

func (o *oldPeer) proof(role string, binding []byte) []byte {
	m := hmac.New(sha256.New, o.sec)
	m.Write([]byte(role))
	m.Write(binding)
	return m.Sum(nil)
}

func oldBinding(prover, verifier peer.ID, nonce []byte) []byte {
	b := []byte("vigil/hello/v1\x00")
	b = append(b, prover...)
	b = append(b, verifier...)
	return append(b, nonce...)
}

func (o *oldPeer) handle(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	nonce := make([]byte, 32)
	rand.Read(nonce)
	if _, err := s.Write(nonce); err != nil {
		return
	}
	proof := make([]byte, 32)
	if _, err := io.ReadFull(s, proof); err != nil {
		return
	}
	binding := oldBinding(p, o.h.ID(), nonce)
	if !hmac.Equal(proof, o.proof("prover\x00", binding)) {
		s.Reset()
		return
	}
	if _, err := s.Write(o.proof("verifier\x00", binding)); err != nil {
		return
	}
	r := &byteReader{s}
	size, err := binary.ReadUvarint(r)
	if err != nil {
		return
	}
	if _, err := io.ReadFull(s, make([]byte, size)); err != nil {
		return
	}
	if _, err := s.Write([]byte{1}); err != nil {
		return
	}
	o.admitted <- p
}

type byteReader struct{ io.Reader }

func (b *byteReader) ReadByte() (byte, error) {
	var c [1]byte
	_, err := io.ReadFull(b.Reader, c[:])
	return c[0], err
}

// sayHello proves the old peer to p.
func (o *oldPeer) sayHello(p peer.ID) (byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := o.h.NewStream(ctx, p, node.ProtocolID(o.sec, "hello"))
	if err != nil {
		return 0, err
	}
	defer s.Close()
	nonce := make([]byte, 32)
	if _, err := io.ReadFull(s, nonce); err != nil {
		return 0, err
	}
	binding := oldBinding(o.h.ID(), p, nonce)
	if _, err := s.Write(o.proof("prover\x00", binding)); err != nil {
		return 0, err
	}
	if _, err := io.ReadFull(s, make([]byte, 32)); err != nil {
		return 0, err
	}
	cred := []byte(credMarker + o.h.ID().String())
	if _, err := s.Write(append(binary.AppendUvarint(nil, uint64(len(cred))), cred...)); err != nil {
		return 0, err
	}
	var v [1]byte
	_, err = io.ReadFull(s, v[:])
	return v[0], err
}

// A peer running the version before the clock still meets this one both
// ways: this node proves itself to the old verifier (and its clock, sent
// after the verdict, goes nowhere), and the old prover is admitted here,
// with no clock offset.
func TestHelloWithPreviousVersion(t *testing.T) {
	sec := secret(t)
	n := newNode(t, sec, nil)
	old := newOldPeer(t, sec)
	if err := old.h.Connect(context.Background(), info(n.Node)); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-old.admitted:
		if p != n.ID() {
			t.Fatalf("old peer admitted %s", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the old peer never admitted this node")
	}
	if v, err := old.sayHello(n.ID()); err != nil || v != 1 {
		t.Fatalf("old prover: verdict %d, %v", v, err)
	}
	waitFor(t, 2*time.Second, "old peer not admitted", func() bool { return n.Admitted(old.h.ID()) })
	if _, ok := n.ClockOffset(old.h.ID()); ok {
		t.Fatal("a clock offset from a peer that sent no clock")
	}
	// Past the hello timeout the old peer is still connected and admitted.
	time.Sleep(2500 * time.Millisecond)
	if !n.Admitted(old.h.ID()) || !isConnected(n.Node, old.h.ID()) {
		t.Fatal("the old peer was dropped")
	}
}
