package meshsim

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// proxy is a loopback TCP forwarder in front of one node's listener for
// one link: the dialing node connects to the proxy, which connects to the
// listening node and copies bytes both ways, counting them. What it counts
// is what the nodes wrote to their TCP sockets (libp2p's multistream,
// Noise and yamux framing included; TCP/IP headers not), without any hook
// inside the node.
//
// With a latency, each direction is a delay line (delayPipe): bytes come
// out latency after they went in, in order, each direction on its own, so
// a link behaves like a radio or WAN hop rather than loopback.
type proxy struct {
	ln      net.Listener
	target  string
	latency time.Duration // one way, each direction
	// byDialer and byListener count the bytes each end sent.
	byDialer, byListener *atomic.Int64

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

func newProxy(target string, latency time.Duration, byDialer, byListener *atomic.Int64) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target, latency: latency, byDialer: byDialer, byListener: byListener, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the address the dialing node connects to.
func (p *proxy) Addr() *net.TCPAddr { return p.ln.Addr().(*net.TCPAddr) }

func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		if !p.track(in) || !p.track(out) {
			in.Close()
			out.Close()
			continue
		}
		if p.latency <= 0 {
			p.wg.Add(2)
			go p.pipe(out, in, p.byDialer)
			go p.pipe(in, out, p.byListener)
			continue
		}
		p.wg.Add(4)
		go p.delayPipe(out, in, p.byDialer)
		go p.delayPipe(in, out, p.byListener)
	}
}

// pipe copies src to dst, counting, and closes both when either side ends:
// a link is up or down as a whole.
func (p *proxy) pipe(dst, src net.Conn, n *atomic.Int64) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			n.Add(int64(k))
			if _, werr := dst.Write(buf[:k]); werr != nil {
				break
			}
		}
		if err != nil { // io.EOF or a reset: the link is down either way
			break
		}
	}
	p.untrack(src)
	p.untrack(dst)
}

// delayQueue bounds what one direction of a delayed link holds in
// flight: chunks of at most 32 KiB, so at most 2 MiB a direction. When it
// is full the reader stops reading and TCP's own flow control holds the
// sender back, as a link's bandwidth-delay product would.
const delayQueue = 64

// chunk is what one read returned and when it may leave.
type chunk struct {
	b   []byte
	due time.Time
	eof bool // src ended (or failed): close the link once the bytes before it are out
}

// delayPipe is pipe through a delay line: a reader stamps each chunk with
// its due time (now + latency) and queues it; a writer sends each chunk
// at its due time. Order is kept (one queue, due times never decrease),
// the two directions of a link are independent (each has its own
// goroutines), and the queue is bounded (delayQueue). It takes two
// WaitGroup counts, one per goroutine.
func (p *proxy) delayPipe(dst, src net.Conn, n *atomic.Int64) {
	q := make(chan chunk, delayQueue)
	stop := make(chan struct{}) // the writer failed: the reader stops queueing
	go func() {
		defer p.wg.Done()
		defer close(q)
		buf := make([]byte, 32<<10)
		for {
			k, err := src.Read(buf)
			c := chunk{b: append([]byte(nil), buf[:k]...), due: time.Now().Add(p.latency), eof: err != nil}
			if k > 0 {
				n.Add(int64(k))
			}
			select {
			case q <- c:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		defer p.wg.Done()
		defer func() {
			p.untrack(src)
			p.untrack(dst)
		}()
		for c := range q {
			if d := time.Until(c.due); d > 0 {
				time.Sleep(d)
			}
			if len(c.b) > 0 {
				if _, err := dst.Write(c.b); err != nil {
					close(stop)
					return
				}
			}
			if c.eof {
				return
			}
		}
	}()
}

// Close stops the proxy and every link through it.
func (p *proxy) Close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
