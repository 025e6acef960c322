package node

import (
	"context"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// MDNSEpoch is how often the mDNS service name changes. Devices advertise
// and browse the current, previous and next epoch's names, so clocks that
// differ by less than an epoch still meet.
const MDNSEpoch = 6 * time.Hour

type mdnsRotator struct {
	n        *Node
	mu       sync.Mutex
	epoch    int64
	services []interface{ Close() error }
	stopOnce sync.Once
	done     chan struct{}
}

func newMDNSRotator(n *Node) *mdnsRotator {
	return &mdnsRotator{n: n, epoch: -1 << 62, done: make(chan struct{})}
}

func (m *mdnsRotator) start() {
	m.rotate()
	m.n.goFn(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-m.done:
				return
			case <-m.n.ctx.Done():
				return
			case <-t.C:
				m.rotate()
				m.n.redialLAN()
			}
		}
	})
}

func (m *mdnsRotator) rotate() {
	epoch := m.n.cfg.Now().Unix() / int64(MDNSEpoch/time.Second)
	m.mu.Lock()
	defer m.mu.Unlock()
	if epoch == m.epoch {
		return
	}
	m.epoch = epoch
	for _, s := range m.services {
		_ = s.Close()
	}
	m.services = nil
	for _, e := range []int64{epoch - 1, epoch, epoch + 1} {
		svc := mdns.NewMdnsService(m.n.host, MDNSService(m.n.cfg.Secret, e), notifee{m.n})
		if err := svc.Start(); err != nil {
			m.n.log.Warn("mDNS could not start", "err", err)
			continue
		}
		m.services = append(m.services, svc)
	}
}

func (m *mdnsRotator) stop() {
	m.stopOnce.Do(func() {
		close(m.done)
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, s := range m.services {
			_ = s.Close()
		}
		m.services = nil
	})
}

type notifee struct{ n *Node }

// HandlePeerFound dials a peer found on the LAN. Loopback addresses are
// dropped when others exist: in another network namespace 127.0.0.1 is
// this very device.
func (f notifee) HandlePeerFound(info peer.AddrInfo) {
	n := f.n
	if info.ID == n.host.ID() || n.Admitted(info.ID) {
		return
	}
	var keep []ma.Multiaddr
	for _, a := range info.Addrs {
		if !manet.IsIPLoopback(a) {
			keep = append(keep, a)
		}
	}
	if len(keep) > 0 {
		info.Addrs = keep
	}
	n.mu.Lock()
	if n.lan == nil {
		n.lan = map[peer.ID]*lanPeer{}
	}
	n.lan[info.ID] = &lanPeer{info: info, seen: n.cfg.Now()}
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(n.ctx, 20*time.Second)
	defer cancel()
	if err := n.Connect(ctx, info); err != nil {
		n.log.Debug("mDNS peer unreachable", "peer", info.ID, "err", err)
	}
}

// lanPeer is a peer found by mDNS. The mDNS browser reports an instance
// only once per record TTL (53 minutes), so after a link flaps the node
// must redial the peers it found itself.
type lanPeer struct {
	info    peer.AddrInfo
	seen    time.Time // found, or last connected
	next    time.Time
	backoff time.Duration
}

// redialLAN dials the mDNS peers that are not connected, with backoff,
// and forgets those not connected for an mDNS epoch.
func (n *Node) redialLAN() {
	now := n.cfg.Now()
	var dial []peer.AddrInfo
	n.mu.Lock()
	for id, lp := range n.lan {
		if _, ok := n.admitted[id]; ok {
			lp.seen, lp.backoff, lp.next = now, 0, time.Time{}
			continue
		}
		if now.Sub(lp.seen) > MDNSEpoch {
			delete(n.lan, id)
			continue
		}
		if now.Before(lp.next) {
			continue
		}
		lp.backoff = min(lp.backoff*2+time.Second, time.Minute)
		lp.next = now.Add(lp.backoff)
		dial = append(dial, lp.info)
	}
	n.mu.Unlock()
	for _, info := range dial {
		n.goFn(func() {
			ctx, cancel := context.WithTimeout(n.ctx, 20*time.Second)
			defer cancel()
			_ = n.Connect(ctx, info)
		})
	}
}
