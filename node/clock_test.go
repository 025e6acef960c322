package node_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
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

// oldPeer speaks hello as Vigil did before the format level was added,
// reproduced here byte for byte. version 1 is the first hello: as a
// verifier it admits whoever proves the secret and closes the stream after
// its verdict, and as a prover it closes after reading the verdict.
// version 2 added the clock: as a verifier it reads the prover's clock
// after its verdict and closes, and as a prover it sends its clock after
// the verdict and closes.
type oldPeer struct {
	h        host.Host
	sec      []byte
	version  int
	admitted chan peer.ID
	clocks   chan []byte // version 2: what a prover sent after the verdict
}

func newOldPeer(t *testing.T, sec []byte, version int) *oldPeer {
	o := &oldPeer{h: plainHost(t), sec: sec, version: version,
		admitted: make(chan peer.ID, 4), clocks: make(chan []byte, 4)}
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
	if o.version >= 2 {
		clock := make([]byte, 9)
		if _, err := io.ReadFull(s, clock); err == nil {
			o.clocks <- clock
		}
	}
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
	if _, err = io.ReadFull(s, v[:]); err != nil {
		return 0, err
	}
	if o.version >= 2 && v[0] == 1 {
		clock := [9]byte{1}
		binary.BigEndian.PutUint64(clock[1:], uint64(time.Now().UnixMilli()))
		_, err = s.Write(clock[:])
	}
	return v[0], err
}

// Peers running either version before the format level still meet this
// one both ways: this node proves itself to the old verifier (what it
// sends after the verdict that the old one does not know goes nowhere),
// and the old prover is admitted here at format level 0, with a clock
// offset when it sent a clock (version 2) and none otherwise (version 1).
func TestHelloWithPreviousVersions(t *testing.T) {
	for _, version := range []int{1, 2} {
		t.Run(fmt.Sprintf("version %d", version), func(t *testing.T) {
			sec := secret(t)
			var levelAtAdmission atomic.Int32
			levelAtAdmission.Store(-1)
			var n *tnode
			n = newNode(t, sec, nil, func(c *node.Config) {
				c.FormatLevel = 1
				c.OnPeer = func(p peer.ID, up bool) {
					if up {
						levelAtAdmission.Store(int32(n.FormatLevel(p)))
					}
				}
			})
			old := newOldPeer(t, sec, version)
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
			if version >= 2 {
				select {
				case c := <-old.clocks:
					if c[0] != 1 {
						t.Fatalf("the old verifier read %x where the clock goes", c)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the old verifier read no clock")
				}
			}
			if v, err := old.sayHello(n.ID()); err != nil || v != 1 {
				t.Fatalf("old prover: verdict %d, %v", v, err)
			}
			waitFor(t, 2*time.Second, "old peer not admitted", func() bool { return n.Admitted(old.h.ID()) })
			if _, ok := n.ClockOffset(old.h.ID()); ok != (version >= 2) {
				t.Fatalf("clock offset present = %v for a version %d peer", ok, version)
			}
			if l := n.FormatLevel(old.h.ID()); l != 0 {
				t.Fatalf("a version %d peer reads as format level %d", version, l)
			}
			waitFor(t, 2*time.Second, "OnPeer(up) not called", func() bool { return levelAtAdmission.Load() >= 0 })
			if l := levelAtAdmission.Load(); l != 0 {
				t.Fatalf("format level %d at admission", l)
			}
			// Past the hello timeout the old peer is still connected and admitted.
			time.Sleep(2500 * time.Millisecond)
			if !n.Admitted(old.h.ID()) || !isConnected(n.Node, old.h.ID()) {
				t.Fatal("the old peer was dropped")
			}
		})
	}
}

// Each side learns the level the other announced, before OnPeer(up) runs;
// a node at level 0 announces none and reads as 0, as an old one does.
func TestFormatLevelFromHello(t *testing.T) {
	sec := secret(t)
	type seen struct {
		mu     sync.Mutex
		levels map[peer.ID]int
	}
	start := func(level uint8) (*tnode, *seen) {
		s := &seen{levels: map[peer.ID]int{}}
		var n *tnode
		n = newNode(t, sec, nil, func(c *node.Config) {
			c.FormatLevel = level
			c.OnPeer = func(p peer.ID, up bool) {
				if up {
					l := n.FormatLevel(p)
					s.mu.Lock()
					s.levels[p] = l
					s.mu.Unlock()
				}
			}
		})
		return n, s
	}
	a, sa := start(1)
	b, sb := start(7)
	c, sc := start(0)
	for _, pair := range [][2]*tnode{{a, b}, {a, c}, {b, c}} {
		if err := dial(t, pair[0].Node, info(pair[1].Node)); err != nil {
			t.Fatal(err)
		}
		admitted(t, pair[0], pair[1])
	}
	at := func(s *seen, p peer.ID) int {
		s.mu.Lock()
		defer s.mu.Unlock()
		l, ok := s.levels[p]
		if !ok {
			return -1
		}
		return l
	}
	for _, w := range []struct {
		name  string
		n     *tnode
		s     *seen
		p     peer.ID
		level int
	}{
		{"a sees b", a, sa, b.ID(), 7}, {"b sees a", b, sb, a.ID(), 1},
		{"a sees c", a, sa, c.ID(), 0}, {"c sees a", c, sc, a.ID(), 1},
		{"b sees c", b, sb, c.ID(), 0}, {"c sees b", c, sc, b.ID(), 7},
	} {
		waitFor(t, 2*time.Second, w.name+": OnPeer(up) not called", func() bool { return at(w.s, w.p) >= 0 })
		if got := at(w.s, w.p); got != w.level {
			t.Errorf("%s at level %d when admitted, want %d", w.name, got, w.level)
		}
		if got := w.n.FormatLevel(w.p); got != w.level {
			t.Errorf("%s at level %d, want %d", w.name, got, w.level)
		}
	}
	bid := b.ID()
	b.Close()
	waitFor(t, 5*time.Second, "a departed peer keeps its level", func() bool { return a.FormatLevel(bid) == 0 && !a.Admitted(bid) })
}
