package meshsim

import (
	"net"
	"sync"
	"sync/atomic"
)

// proxy is a loopback TCP forwarder in front of one node's listener for
// one link: the dialing node connects to the proxy, which connects to the
// listening node and copies bytes both ways, counting them. What it counts
// is what the nodes wrote to their TCP sockets (libp2p's multistream,
// Noise and yamux framing included; TCP/IP headers not), without any hook
// inside the node.
type proxy struct {
	ln     net.Listener
	target string
	// byDialer and byListener count the bytes each end sent.
	byDialer, byListener *atomic.Int64

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

func newProxy(target string, byDialer, byListener *atomic.Int64) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target, byDialer: byDialer, byListener: byListener, conns: map[net.Conn]bool{}}
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
		p.wg.Add(2)
		go p.pipe(out, in, p.byDialer)
		go p.pipe(in, out, p.byListener)
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
