// Command negentropy is the reference baseline of vigil-bench's recon
// group: go-nostr's Negentropy (NIP-77, github.com/nbd-wtf/go-nostr
// nip77/negentropy with storage/vector) reconciling the same pairs of
// sets as Vigil's sync/recon, in memory. It lives in a module of its own
// so that go-nostr never enters Vigil's go.mod.
//
//	cd bench/negentropy && go run . [-quick] [-large=false] [-seed N]
//
// The sets and the cases come from bench/reconsets, as vigil-bench's do.
// An item's claimed time (Unix milliseconds) becomes its Negentropy
// timestamp unchanged and its 32-byte ID the hex ID, so both sides order
// the items exactly as recon does (time, then ID bytes: lower-case hex
// compares as the bytes do). Milliseconds cost Negentropy a byte or two
// per bound over seconds; that keeps the sets identical, not merely alike.
//
// Set A is the client (it calls Start), B the server. Both use a frame
// size limit of 1 MiB, the one go-nostr's own client passes
// (nip77.NegentropySync: negentropy.New(vec, 1024*1024)). max_message
// shows how close a case came: the largest message of the full suite
// (N = 100k, 1000 scattered differences, the server's ID lists) is about
// 0.69 MB, under the limit, so the limit shaped none of these exchanges.
//
// It prints one JSON line per case on stdout:
//
//	{"N":10000,"d":10,"pattern":"scattered","bytes_client":…,"bytes_server":…,
//	 "bytes":…,"round_trips":2,"messages":4,"max_message":…,"found":10,"exact":true,"frame_size_limit":1048576,
//	 "impl":"github.com/nbd-wtf/go-nostr v0.38.2"}
//
// bytes are protocol bytes (the hex strings' length ÷ 2); NIP-77 carries
// them hex-encoded inside JSON, twice that on a relay's wire.
// round_trips counts the client's messages, as recon's Session.Rounds
// does for the initiator (recon's count includes a final empty message
// where it sends one; a Negentropy client that is done sends nothing). exact says the client's haves are exactly A's own items and its
// have-nots exactly B's own. The exit status is 1 when any case was not
// exact or failed.
package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"sync"

	"github.com/nbd-wtf/go-nostr"
	"github.com/nbd-wtf/go-nostr/nip77/negentropy"
	"github.com/nbd-wtf/go-nostr/nip77/negentropy/storage/vector"

	"github.com/vigil-mesh/vigil/bench/reconsets"
)

// frameSizeLimit is the limit go-nostr's NIP-77 client uses
// (nip77.NegentropySync).
const frameSizeLimit = 1024 * 1024

// Outcome is one case's result, printed as a JSON line (the type lives
// with the sets, so that vigil-bench reads exactly what this prints).
type Outcome = reconsets.NegentropyOutcome

func main() {
	quick := flag.Bool("quick", false, "tiny sizes, as vigil-bench -quick")
	large := flag.Bool("large", true, "include sets of 1M items (ignored with -quick)")
	seed := flag.Uint64("seed", 20261125, "seed for every data set (vigil-bench's -seed)")
	flag.Parse()

	ns, ds := reconsets.Sizes(*quick, *large)
	enc := json.NewEncoder(os.Stdout)
	failed := false
	for _, c := range reconsets.Cases(ns, ds) {
		o, err := run(c, *seed)
		if err != nil {
			fmt.Fprintf(os.Stderr, "negentropy: N=%d d=%d %s: %v\n", c.N, c.D, c.Pattern(), err)
			os.Exit(1)
		}
		if !o.Exact {
			fmt.Fprintf(os.Stderr, "negentropy: N=%d d=%d %s: found %d differences, not exactly the %d planted\n", c.N, c.D, c.Pattern(), o.Found, c.D)
			failed = true
		}
		if err := enc.Encode(o); err != nil {
			fmt.Fprintln(os.Stderr, "negentropy:", err)
			os.Exit(1)
		}
	}
	if failed {
		os.Exit(1)
	}
}

// storage sorts items into go-nostr's vector storage.
func storage(items []reconsets.Item) *vector.Vector {
	v := vector.New()
	for _, it := range items {
		v.Insert(nostr.Timestamp(it.Time), hexID(it))
	}
	v.Seal()
	return v
}

// run reconciles one case, A as the client and B as the server.
func run(c reconsets.Case, seed uint64) (Outcome, error) {
	p := reconsets.Make(c, seed)
	client := negentropy.New(storage(p.A), frameSizeLimit)
	server := negentropy.New(storage(p.B), frameSizeLimit)
	p.A, p.B = nil, nil // the storages hold the sets now; the differences are kept to check against

	// The client reports differences on two channels while Reconcile
	// runs, and closes them when the exchange ends; their buffers are
	// small, so they are drained alongside.
	var haves, haveNots []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for id := range client.Haves {
			haves = append(haves, id)
		}
	})
	wg.Go(func() {
		for id := range client.HaveNots {
			haveNots = append(haveNots, id)
		}
	})

	o := Outcome{N: c.N, D: c.D, Pattern: c.Pattern(), FrameLimit: frameSizeLimit, Impl: impl()}
	err := exchange(client, server, &o)
	if err != nil {
		// The exchange stopped early and nothing sends any more: end the
		// readers here.
		close(client.Haves)
		close(client.HaveNots)
	}
	wg.Wait()
	if err != nil {
		return o, err
	}
	o.Bytes = o.BytesClient + o.BytesServer
	o.Found = len(haves) + len(haveNots)
	o.Exact = sameIDs(haves, p.OnlyA) && sameIDs(haveNots, p.OnlyB)
	return o, nil
}

// exchange passes messages between client and server until the client
// has nothing more to say.
func exchange(client, server *negentropy.Negentropy, o *Outcome) error {
	msg := client.Start()
	for {
		o.RoundTrips++
		o.Messages++
		o.BytesClient += len(msg) / 2
		o.MaxMessage = max(o.MaxMessage, len(msg)/2)
		if o.Messages > 1<<16 {
			return errors.New("no end after 65536 messages")
		}
		reply, err := server.Reconcile(msg)
		if err != nil {
			return fmt.Errorf("server: %w", err)
		}
		o.Messages++
		o.BytesServer += len(reply) / 2
		o.MaxMessage = max(o.MaxMessage, len(reply)/2)
		msg, err = client.Reconcile(reply)
		if err != nil {
			return fmt.Errorf("client: %w", err)
		}
		if msg == "" {
			return nil
		}
	}
}

// hexID is an item's ID as Negentropy holds it: 64 lower-case hex digits.
func hexID(it reconsets.Item) string { return hex.EncodeToString(it.ID[:]) }

// impl names the go-nostr module this program was built with.
func impl() string {
	const mod = "github.com/nbd-wtf/go-nostr"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == mod {
				return mod + " " + d.Version
			}
		}
	}
	return mod
}

// sameIDs reports whether the hex IDs got are exactly the IDs of want,
// each once.
func sameIDs(got []string, want []reconsets.Item) bool {
	if len(got) != len(want) {
		return false
	}
	seen := make(map[string]bool, len(want))
	for _, it := range want {
		seen[hexID(it)] = false
	}
	for _, id := range got {
		done, ok := seen[id]
		if !ok || done {
			return false
		}
		seen[id] = true
	}
	return true
}
