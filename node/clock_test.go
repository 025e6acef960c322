package node_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vigil-mesh/vigil/internal/testkit"
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
	testkit.Eventually(t, 5*time.Second, "no clock offset after hello", func() bool {
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
	testkit.Eventually(t, 5*time.Second, "an offset for a departed peer", func() bool {
		_, ok := a.ClockOffset(b.ID())
		return !ok
	})
}

// A prover that stops after its verdict (no clock, no level) or after
// its clock (no level) is still admitted: what follows the verdict is
// extra (see the protocol comment), so it reads as no clock offset and
// format level 0, from the moment of admission; the connection then
// outlives the hello timeout. A prover that sends both is read as sent.
func TestHelloProverOmitsClockOrLevel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tail  func() []byte
		clock bool
		level int
	}{
		{"nothing after the verdict", func() []byte { return nil }, false, 0},
		{"clock, no level", func() []byte { return clockTail(time.Now().Add(-time.Minute)) }, true, 0},
		{"clock and level", func() []byte { return append(clockTail(time.Now().Add(-time.Minute)), 2, 3) }, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec := secret(t)
			var levelAtAdmission atomic.Int32
			levelAtAdmission.Store(-1)
			var n *tnode
			n = newNode(t, sec, nil, func(c *node.Config) {
				c.FormatLevel = 1
				c.HelloTimeout = time.Second
				c.OnPeer = func(p peer.ID, up bool) {
					if up {
						levelAtAdmission.Store(int32(n.FormatLevel(p)))
					}
					changed.fire()
				}
			})
			h := plainHost(t)
			connectHost(t, h, n)
			p := openProver(t, h, sec, n.ID())
			p.sendEpochs(t)
			if proofs, records := p.readReply(t); len(proofs) != 0 || len(records) != 0 {
				t.Fatalf("a verifier without epochs proved %d and sent %d records", len(proofs), len(records))
			}
			v, ho, err := p.sendCred([]byte(credMarker + h.ID().String()))
			if err != nil || v != 1 || len(ho) != 0 {
				t.Fatalf("verdict %d, handover %d bytes, %v", v, len(ho), err)
			}
			if tail := tc.tail(); len(tail) > 0 {
				if _, err := p.s.Write(tail); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.s.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			admits(t, n, h.ID())
			offset, ok := n.ClockOffset(h.ID())
			if ok != tc.clock {
				t.Fatalf("clock offset present = %v, want %v", ok, tc.clock)
			}
			if ok && (offset > -58*time.Second || offset < -62*time.Second) {
				t.Fatalf("clock offset %v for a clock a minute behind", offset)
			}
			if l := n.FormatLevel(h.ID()); l != tc.level {
				t.Fatalf("format level %d, want %d", l, tc.level)
			}
			await(t, 2*time.Second, "OnPeer(up) not called", func() bool { return levelAtAdmission.Load() >= 0 })
			if l := levelAtAdmission.Load(); int(l) != tc.level {
				t.Fatalf("format level %d at admission, want %d", l, tc.level)
			}
			// Admitted: the hello timeout does not close it.
			if disconnectedWithin(n.Node, h.ID(), 1500*time.Millisecond) || !n.Admitted(h.ID()) {
				t.Fatal("an admitted peer was dropped at the hello timeout")
			}
		})
	}
}

// What a node sends after its verdict, on the wire: its clock (tag 1,
// Unix milliseconds), its format level (tag 2, also at level 0) and a
// handover length, 0 to a verifier it has not admitted; then it closes
// the stream. A verifier that hangs up right after its verdict, reading
// none of it, costs the node nothing: it goes on to admit that peer's own
// hello.
func TestHelloProverTail(t *testing.T) {
	for _, level := range []uint8{0, 5} {
		t.Run(fmt.Sprintf("level %d", level), func(t *testing.T) {
			sec := secret(t)
			n := newNode(t, sec, nil, func(c *node.Config) { c.FormatLevel = level })
			h := plainHost(t)
			tails := make(chan []byte, 1)
			serveVerifier(h, sec, func(s network.Stream, r *bufio.Reader, _ []byte, theirs []rawRef) {
				if len(theirs) != 0 {
					return
				}
				if _, err := s.Write([]byte{0, 0}); err != nil {
					return
				}
				if _, err := readCred(r); err != nil {
					return
				}
				if _, err := s.Write([]byte{1, 0}); err != nil {
					return
				}
				tail, err := readTail(r)
				if err == nil {
					tails <- tail
				}
			})
			before := time.Now()
			connectHost(t, h, n)
			var tail []byte
			select {
			case tail = <-tails:
			case <-time.After(5 * time.Second):
				t.Fatal("the node sent no tail after the verdict")
			}
			if len(tail) != 9+2+1 || tail[0] != 1 || tail[9] != 2 || tail[10] != level || tail[11] != 0 {
				t.Fatalf("tail %x, want 01<clock>02%02x00", tail, level)
			}
			at := time.UnixMilli(int64(binary.BigEndian.Uint64(tail[1:9])))
			if at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
				t.Fatalf("clock %v, want about %v", at, before)
			}
		})
	}
	t.Run("verifier hangs up after the verdict", func(t *testing.T) {
		sec := secret(t)
		n := newNode(t, sec, nil, func(c *node.Config) { c.HelloTimeout = 5 * time.Second })
		h := plainHost(t)
		verdicts := make(chan struct{}, 1)
		serveVerifier(h, sec, func(s network.Stream, r *bufio.Reader, _ []byte, _ []rawRef) {
			s.Write([]byte{0, 0})
			if _, err := readCred(r); err != nil {
				return
			}
			s.Write([]byte{1, 0})
			verdicts <- struct{}{} // and reset, reading nothing more
		})
		connectHost(t, h, n)
		select {
		case <-verdicts:
		case <-time.After(5 * time.Second):
			t.Fatal("the node never reached the verdict")
		}
		p := openProver(t, h, sec, n.ID())
		p.sendEpochs(t)
		p.readReply(t)
		if v, _, err := p.sendCred([]byte(credMarker + h.ID().String())); err != nil || v != 1 {
			t.Fatalf("verdict %d, %v", v, err)
		}
		p.s.Write(append(clockTail(time.Now()), 2, 0, 0))
		p.s.CloseWrite()
		admits(t, n, h.ID())
	})
}

// Each side learns the level the other announced, before OnPeer(up) runs;
// a node at level 0 announces 0 and reads as 0.
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
		testkit.Eventually(t, 2*time.Second, w.name+": OnPeer(up) not called", func() bool { return at(w.s, w.p) >= 0 })
		if got := at(w.s, w.p); got != w.level {
			t.Errorf("%s at level %d when admitted, want %d", w.name, got, w.level)
		}
		if got := w.n.FormatLevel(w.p); got != w.level {
			t.Errorf("%s at level %d, want %d", w.name, got, w.level)
		}
	}
	bid := b.ID()
	b.Close()
	testkit.Eventually(t, 5*time.Second, "a departed peer keeps its level", func() bool { return a.FormatLevel(bid) == 0 && !a.Admitted(bid) })
}
