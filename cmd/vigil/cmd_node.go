package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"golang.org/x/term"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/demo"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
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
	keepAll := fs.Bool("keep-all", false,
		"keep every record even on an observer's or carrier's device (a hub or relay laptop with room); by default they drop what enough coordinators hold")
	practice := fs.Bool("practice-if-no-mission", false,
		"when this home holds no mission (no store, or a store that joined none), run the practice mission beside it instead, made on first use (what `make run` does with no display)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c.keepAll = *keepAll
	la, err := parseAddrs("listen", listen)
	if err != nil {
		return err
	}
	pa, err := parseAddrs("peer", peers)
	if err != nil {
		return err
	}
	// A wipe through the control socket stops the node; once the store is
	// closed (the defers below run first), its unreadable data goes too.
	wiped := false
	defer func() {
		if wiped {
			_, _ = store.ClearWiped(c.home)
		}
	}()
	var st *store.Store
	if *practice {
		st, err = c.openOrPractice()
	} else {
		st, err = c.open()
	}
	if err != nil {
		return err
	}
	defer st.Close()
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: level}))
	// The composition root: node and engine side by side over st.
	r := daemon.New(st, daemon.Options{Listen: la, Peers: pa, NoMDNS: *noMDNS, RelayService: *relay, Logger: logger})
	defer r.Close()
	if err := r.Start(); err != nil {
		return err
	}
	d := r.Daemon()
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
	results, cancel := d.Engine.Subscribe(64)
	defer cancel()
	ended := make(chan error, 1)
	go func() { ended <- r.Wait() }() // returns once r is closed (deferred above) or fails
	alerts := newAlertWatch(st, c.stdout)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-sig:
			fmt.Fprintln(c.stderr, "Stopping.")
			return nil
		case <-cs.stop:
			wiped = true
			return nil
		case err := <-ended:
			return err
		case <-tick.C:
			alerts.check()
		case r := <-results:
			if r.Sent+r.Received+r.Rejected > 0 {
				fmt.Fprintf(c.stderr, "%s synced with %s: sent %d, received %d, rejected %d\n",
					c.now().UTC().Format(time.TimeOnly), r.Peer, r.Sent, r.Received, r.Rejected)
			}
			if r.Received > 0 {
				alerts.check()
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
		// peer may start one too when we connect. A session's result is
		// in the subscription before the call that ran it returns, so
		// draining it after SyncPeer counts every session finished by
		// then, ours included, with no waiting.
		results, cancel := d.Engine.Subscribe(256)
		defer cancel()
		finish := func() mesh.SyncResult {
			var total mesh.SyncResult
			for {
				select {
				case r := <-results:
					if r.Peer == info.ID {
						total.Sent += r.Sent
						total.Received += r.Received
						total.Rejected += r.Rejected
					}
				default:
					return total
				}
			}
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
		moved := finish()
		res.Sent, res.Received, res.Rejected = moved.Sent, moved.Received, moved.Rejected
		if c.json {
			return c.printJSON(map[string]any{"peer": info.ID.String(), "sent": res.Sent, "received": res.Received,
				"rejected": res.Rejected, "rounds": res.Rounds,
				"bytes": res.Bytes, "bytes_sent": res.BytesSent, "bytes_received": res.BytesReceived, "recon_bytes": res.ReconBytes,
				"seconds": res.Duration.Seconds()})
		}
		fmt.Fprintf(c.stdout, "sent %d, received %d, rejected %d\n", res.Sent, res.Received, res.Rejected)
		fmt.Fprintf(c.stderr, "Reconciled with %s in %s and %.1f s: %d bytes sent, %d received (%d of them reconciliation).\n",
			info.ID, incident.Plural(res.Rounds, "round"), res.Duration.Seconds(), res.BytesSent, res.BytesReceived, res.ReconBytes)
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

// openOrPractice opens the store that `vigil node --practice-if-no-mission`
// runs on: this home's when it holds a mission; otherwise the practice home
// beside it (practiceBeside), where a practice mission is made on first
// use. This home is left as it is (a missing store is not created). It
// points c.home at the home it opened and says on stderr which mission runs
// and how to make this home a real mission's.
func (c *cli) openOrPractice() (*store.Store, error) {
	real := c.home
	why := "no store there yet"
	var typed []byte // this home's passphrase, tried first on the practice home
	if store.Initialised(real) {
		p, err := c.passphrase("Passphrase for " + real)
		if err != nil {
			return nil, err
		}
		st, err := store.Open(real, p, c.storeOptions())
		if err != nil {
			return nil, err
		}
		if _, err := st.Mission(); err == nil {
			return st, nil
		} else if !errors.Is(err, store.ErrNoMission) {
			st.Close()
			return nil, err
		}
		if err := st.Close(); err != nil {
			return nil, err
		}
		why, typed = "this device has not joined one there", p
	}

	home := practiceBeside(real)
	if !store.Initialised(home) {
		if c.getenv("VIGIL_PASSPHRASE") == "" && c.passphraseFile == "" && !c.canPrompt() {
			// Say it before anything else: nobody is there to read a prompt.
			return nil, fmt.Errorf("no passphrase for the practice store in %s: set VIGIL_PASSPHRASE or pass --passphrase-file (standard input is not a terminal)", home)
		}
		intro := fmt.Sprintf("No mission in %s (%s): making the practice mission in %s, a fictional country and polling day kept apart from real data.",
			real, why, home)
		p, err := c.newStorePassphrase(intro+"\nChoose a passphrase for the practice store.", "no practice store was created")
		if err != nil {
			return nil, err
		}
		if c.getenv("VIGIL_PASSPHRASE") != "" || c.passphraseFile != "" {
			fmt.Fprintln(c.stderr, intro) // no prompt showed it
		}
		sum, err := demo.Generate(home, p, demo.Options{Store: c.storeOptions()})
		if err != nil {
			return nil, fmt.Errorf("making the practice mission in %s: %w", home, err)
		}
		c.demoSummary(sum)
		typed = p
	}
	var st *store.Store
	var err error
	if typed != nil {
		st, err = store.Open(home, typed, c.storeOptions())
	}
	if typed == nil || errors.Is(err, vault.ErrWrongPassphrase) {
		p, perr := c.passphrase("Passphrase for the practice home " + home)
		if perr != nil {
			return nil, perr
		}
		st, err = store.Open(home, p, c.storeOptions())
	}
	if err != nil {
		return nil, fmt.Errorf("the practice home %s: %w", home, err)
	}
	ms, err := st.Mission()
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("the practice home %s holds no mission (was making it interrupted?): delete %s and run this again", home, home)
	}
	c.home = home

	def, _ := defaultHome()
	vigil := "vigil"
	if env := c.getenv("VIGIL_HOME"); filepath.Clean(real) != filepath.Clean(env) && (env != "" || filepath.Clean(real) != filepath.Clean(def)) {
		vigil = "vigil --home " + shellQuote(real)
	}
	w := c.stderr
	fmt.Fprintf(w, "\nPRACTICE: this node runs the practice mission %q in %s, because %s has no mission (%s).\n", ms.Mission.Name, home, real, why)
	fmt.Fprintf(w, "Its data is fictional and never mixes with a real mission's. Other commands reach it with `vigil --home %s COMMAND`.\n", shellQuote(home))
	fmt.Fprintf(w, "For a real mission in %s, stop this node (Ctrl-C), then:\n", real)
	if !store.Initialised(real) {
		fmt.Fprintf(w, "  %s init                          this device's keys and store (once)\n", vigil)
	}
	fmt.Fprintf(w, "  %s mission create --name NAME    start a mission, as its coordinator\n", vigil)
	fmt.Fprintf(w, "  %s mission join CODE             or join one with an invite code\n", vigil)
	fmt.Fprintf(w, "and `make run` (or `%s node`) runs the node on it.\n\n", vigil)
	return st, nil
}

// canPrompt: standard input is a terminal, so a passphrase can be asked for.
func (c *cli) canPrompt() bool {
	f, ok := c.stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
