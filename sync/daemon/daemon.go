// Package daemon is Vigil's composition root: given an open store it
// starts the libp2p node and the mesh engine under one owner, so the CLI's
// `vigil node`, the app and the phone glue run the same thing.
package daemon

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/node"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// Options for Start. The zero value listens on random ports with mDNS on.
type Options struct {
	Listen []ma.Multiaddr
	Peers  []ma.Multiaddr // dialled at start and redialled while down
	NoMDNS bool
	// RelayService makes this node a circuit relay for other members.
	RelayService bool
	// RotateIdentity gives the node a fresh transport key (phones do, so
	// their network presence cannot be followed from day to day).
	RotateIdentity bool
	Phone          bool
	Interval       time.Duration
	Logger         *slog.Logger
}

// PhoneMemoryLimit is the Go memory limit on phones (Options.Phone).
const PhoneMemoryLimit = 48 << 20

// Daemon is a running node and engine over one store.
type Daemon struct {
	Store  *store.Store
	Engine *mesh.Engine

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// TransportKey returns the node's transport key, kept in the store (never
// the signing key), creating it on first use or when rotate is set.
func TransportKey(st *store.Store, rotate bool) (crypto.PrivKey, error) {
	if !rotate {
		if b, err := st.Meta("transport"); err != nil {
			return nil, err
		} else if b != nil {
			return crypto.UnmarshalPrivateKey(b)
		}
	}
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, err
	}
	b, err := crypto.MarshalPrivateKey(k)
	if err != nil {
		return nil, err
	}
	return k, st.SetMeta("transport", b)
}

// Start starts the node and the engine. The caller keeps owning st and
// must Close the daemon before closing st.
func Start(st *store.Store, o Options) (*Daemon, error) {
	if o.Phone && debug.SetMemoryLimit(-1) > PhoneMemoryLimit {
		// Go lets the heap grow to twice what is live; on a phone that
		// doubles Badger's compaction buffers. Measured in bench/: a
		// syncing phone store peaks at about 51 MiB with this limit,
		// 127 MiB without.
		debug.SetMemoryLimit(PhoneMemoryLimit)
	}
	key, err := TransportKey(st, o.RotateIdentity)
	if err != nil {
		return nil, fmt.Errorf("transport key: %w", err)
	}
	secret := st.Secret()
	if len(secret) == 0 {
		return nil, store.ErrNoMission
	}
	eng, err := mesh.New(mesh.Config{
		Store:    st,
		Interval: o.Interval,
		Logger:   o.Logger,
		Node: node.Config{
			Key: key, Secret: secret, Listen: o.Listen, MDNS: !o.NoMDNS,
			RelayService: o.RelayService, Phone: o.Phone, Logger: o.Logger,
		},
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Daemon{Store: st, Engine: eng, ctx: ctx, cancel: cancel}
	var infos []peer.AddrInfo
	for _, a := range o.Peers {
		info, err := peer.AddrInfoFromP2pAddr(a)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("--peer %s: %w (want a full address ending in /p2p/<peer id>)", a, err)
		}
		infos = append(infos, *info)
	}
	if len(infos) > 0 {
		d.wg.Add(1)
		go d.keepConnected(infos)
	}
	return d, nil
}

// keepConnected dials the given peers and redials them with backoff while
// they are not connected.
func (d *Daemon) keepConnected(infos []peer.AddrInfo) {
	defer d.wg.Done()
	backoff := map[peer.ID]time.Duration{}
	next := map[peer.ID]time.Time{}
	for {
		now := time.Now()
		for _, info := range infos {
			n := d.Engine.Node()
			if n.Admitted(info.ID) || now.Before(next[info.ID]) {
				continue
			}
			ctx, cancel := context.WithTimeout(d.ctx, 20*time.Second)
			err := n.Connect(ctx, info)
			cancel()
			if err != nil {
				b := backoff[info.ID]*2 + time.Second
				if b > 2*time.Minute {
					b = 2 * time.Minute
				}
				backoff[info.ID], next[info.ID] = b, now.Add(b)
			} else {
				backoff[info.ID] = 0
			}
		}
		select {
		case <-d.ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// Close stops the engine and the node and waits for them.
func (d *Daemon) Close() error {
	d.cancel()
	d.wg.Wait()
	return d.Engine.Close()
}
