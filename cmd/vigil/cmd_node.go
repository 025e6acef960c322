package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/daemon"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

func parseAddrs(flagName string, vals []string) ([]ma.Multiaddr, error) {
	var out []ma.Multiaddr
	for _, v := range vals {
		a, err := ma.NewMultiaddr(v)
		if err != nil {
			return nil, usagef("--%s %q: %v", flagName, v, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func (c *cli) cmdNode(args []string) error {
	if c.daemon != nil {
		return errors.New("a node is already running on this home")
	}
	fs := newFlags("node")
	var listen, peers multi
	fs.Var(&listen, "listen", "a multiaddr to listen on (repeatable; default: TCP and QUIC on every interface)")
	fs.Var(&peers, "peer", "a peer to connect to and keep connected to: a full multiaddr ending in /p2p/<peer id> (repeatable)")
	noMDNS := fs.Bool("no-mdns", false, "do not look for peers on the local network")
	relay := fs.Bool("relay-service", false, "relay connections for other members (headless nodes)")
	verbose := fs.Bool("verbose", false, "log peer and sync events")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	la, err := parseAddrs("listen", listen)
	if err != nil {
		return err
	}
	pa, err := parseAddrs("peer", peers)
	if err != nil {
		return err
	}
	st, err := c.open()
	if err != nil {
		return err
	}
	defer st.Close()
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: level}))
	d, err := daemon.Start(st, daemon.Options{Listen: la, Peers: pa, NoMDNS: *noMDNS, RelayService: *relay, Logger: logger})
	if err != nil {
		return err
	}
	defer d.Close()
	cs, err := serveControl(c, d)
	if err != nil {
		return err
	}
	defer cs.close()
	n := d.Engine.Node()
	for _, a := range n.Addrs() {
		fmt.Fprintln(c.stdout, a)
	}
	fmt.Fprintf(c.stderr, "Node %s running on %s; other vigil commands on this home go through it. Ctrl-C stops it.\n", n.ID(), c.home)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	for {
		select {
		case <-sig:
			fmt.Fprintln(c.stderr, "Stopping.")
			return nil
		case <-cs.stop:
			return nil
		case r := <-d.Engine.Results():
			if r.Sent+r.Received+r.Rejected > 0 {
				fmt.Fprintf(c.stderr, "%s synced with %s: sent %d, received %d, rejected %d\n",
					c.now().UTC().Format(time.TimeOnly), r.Peer, r.Sent, r.Received, r.Rejected)
			}
		}
	}
}

func (c *cli) cmdSync(args []string) error {
	fs := newFlags("sync")
	peerAddr := fs.String("peer", "", "the peer: a full multiaddr ending in /p2p/<peer id>")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *peerAddr == "" {
		return usagef("sync: --peer MULTIADDR is required")
	}
	addrs, err := parseAddrs("peer", []string{*peerAddr})
	if err != nil {
		return err
	}
	info, err := peer.AddrInfoFromP2pAddr(addrs[0])
	if err != nil {
		return usagef("--peer: %v (want a full address ending in /p2p/<peer id>)", err)
	}
	run := func(d *daemon.Daemon) error {
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		defer cancel()
		n := d.Engine.Node()
		// Count every session with the peer while this command runs: the
		// peer may start one too when we connect. (Inside a running node,
		// its own loop reads the results instead.)
		var total mesh.SyncResult
		stopCount := make(chan struct{})
		counted := make(chan struct{})
		if c.daemon != nil {
			close(counted)
		} else {
			go func() {
				defer close(counted)
				for {
					select {
					case r := <-d.Engine.Results():
						if r.Peer == info.ID {
							total.Sent += r.Sent
							total.Received += r.Received
							total.Rejected += r.Rejected
						}
					case <-stopCount:
						return
					}
				}
			}()
		}
		finish := func() mesh.SyncResult {
			close(stopCount)
			<-counted // total is ours from here on
			return total
		}
		if err := n.Connect(ctx, *info); err != nil {
			return fmt.Errorf("cannot reach %s: %w", info.ID, err)
		}
		if err := n.WaitAdmitted(ctx, info.ID); err != nil {
			return fmt.Errorf("%s did not admit us or was not admitted (is it a node of the same mission?): %w", info.ID, err)
		}
		res, err := d.Engine.SyncPeer(ctx, info.ID)
		if err != nil {
			finish()
			return fmt.Errorf("sync with %s: %w", info.ID, err)
		}
		time.Sleep(100 * time.Millisecond) // let the last result arrive
		moved := finish()
		if c.daemon == nil {
			res.Sent, res.Received, res.Rejected = moved.Sent, moved.Received, moved.Rejected
		}
		if c.json {
			return c.printJSON(map[string]any{"peer": info.ID.String(), "sent": res.Sent, "received": res.Received,
				"rejected": res.Rejected, "rounds": res.Rounds,
				"bytes": res.Bytes, "bytes_sent": res.BytesSent, "bytes_received": res.BytesReceived, "recon_bytes": res.ReconBytes,
				"seconds": res.Duration.Seconds()})
		}
		fmt.Fprintf(c.stdout, "sent %d, received %d, rejected %d\n", res.Sent, res.Received, res.Rejected)
		fmt.Fprintf(c.stderr, "Reconciled with %s in %d rounds and %.1f s: %d bytes sent, %d received (%d of them reconciliation).\n",
			info.ID, res.Rounds, res.Duration.Seconds(), res.BytesSent, res.BytesReceived, res.ReconBytes)
		if res.Rejected > 0 {
			return &partialError{fmt.Sprintf("%d records from the peer were rejected", res.Rejected)}
		}
		return nil
	}
	if c.daemon != nil {
		return run(c.daemon)
	}
	return c.withStore(func(st *store.Store) error {
		d, err := daemon.Start(st, daemon.Options{NoMDNS: true, Listen: loopbackAndAny()})
		if err != nil {
			return err
		}
		defer d.Close()
		return run(d)
	})
}

func loopbackAndAny() []ma.Multiaddr {
	return []ma.Multiaddr{ma.StringCast("/ip4/0.0.0.0/tcp/0"), ma.StringCast("/ip4/0.0.0.0/udp/0/quic-v1")}
}

type peerJSON struct {
	PeerID   string   `json:"peer_id"`
	Author   string   `json:"author"`
	Role     string   `json:"role"`
	Addrs    []string `json:"addrs"`
	LastSync *string  `json:"last_sync"`
}

func (c *cli) peerList() []peerJSON {
	out := []peerJSON{}
	if c.daemon == nil {
		return out
	}
	for _, p := range c.daemon.Engine.Peers() {
		j := peerJSON{PeerID: p.ID.String(), Author: p.Author.String(), Role: p.Role, Addrs: p.Addrs}
		if j.Addrs == nil {
			j.Addrs = []string{}
		}
		if !p.LastSync.IsZero() {
			t := p.LastSync.UTC().Format(time.RFC3339)
			j.LastSync = &t
		}
		out = append(out, j)
	}
	sort.Slice(out, func(i, k int) bool { return out[i].PeerID < out[k].PeerID })
	return out
}

func (c *cli) cmdPeers(args []string) error {
	if _, err := parse(newFlags("peers"), args); err != nil {
		return err
	}
	if c.daemon == nil {
		return fmt.Errorf("%w: start one with `vigil node`", errNoNode)
	}
	for _, p := range c.peerList() {
		if c.json {
			if err := c.printJSON(p); err != nil {
				return err
			}
			continue
		}
		last := "never"
		if p.LastSync != nil {
			last = *p.LastSync
		}
		fmt.Fprintf(c.stdout, "%s  %-11s  last sync %s  %v\n", p.PeerID, p.Role, last, p.Addrs)
	}
	return nil
}
