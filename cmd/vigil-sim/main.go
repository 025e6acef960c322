// Command vigil-sim runs a mission's mesh at scale in one process: N member
// stores with their sync engines and libp2p hosts on loopback, linked in a
// topology (line, ring, random, or two clusters joined by one carrier).
// It partitions the mesh, writes reports at random nodes on both sides,
// heals the partition, and prints the time until every node holds every
// report, the bytes each node sent, and the gossip amplification (bytes
// sent by all nodes per record, over record size × nodes) on the healed
// mesh. Bytes are counted by TCP proxies on every link: what the nodes
// wrote to their sockets, encryption and multiplexing included.
//
//	vigil-sim -nodes 50 -topology clusters
//	vigil-sim -nodes 20 -topology line -interval 5s -json
//	vigil-sim -nodes 50 -latency 50ms -trace
//
// It uses every core (GOMAXPROCS). The benchmark suite (make bench) runs
// the same simulation at 10 and 50 nodes.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-mesh/vigil/bench/meshsim"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("vigil-sim", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: vigil-sim [flags]\n\nRuns N in-process Vigil nodes on loopback: partition, writes, heal, convergence, gossip bytes.\n\n")
		fs.PrintDefaults()
	}
	var cfg meshsim.Config
	fs.IntVar(&cfg.Nodes, "nodes", 10, "number of nodes (member devices)")
	fs.StringVar(&cfg.Topology, "topology", meshsim.Clusters, "line, ring, random or clusters (two random clusters joined by one carrier)")
	fs.IntVar(&cfg.Degree, "degree", 3, "mean links per node inside a random half or cluster")
	fs.IntVar(&cfg.Records, "records", 0, "reports written at random nodes while partitioned (default 4 per node)")
	fs.IntVar(&cfg.GossipRecords, "gossip", 20, "reports written one at a time on the healed mesh to measure gossip bytes (0: skip)")
	fs.DurationVar(&cfg.Interval, "interval", 2*time.Second, "periodic reconciliation interval of every engine")
	fs.DurationVar(&cfg.Latency, "latency", 0, "delay of every link, each direction (e.g. 50ms): convergence then counts round trips, not the shared CPU")
	seed := fs.Uint64("seed", 1, "seed for the topology, the writers and the report contents")
	fs.DurationVar(&cfg.Timeout, "timeout", 3*time.Minute, "give up waiting for convergence after this long (per phase)")
	fs.StringVar(&cfg.Dir, "dir", "", "folder for the nodes' stores (default: a temporary folder, removed afterwards)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the table")
	fs.BoolVar(&cfg.Trace, "trace", false, "list every reconciliation session from the heal to convergence (each end's report)")
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "vigil-sim: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if cfg.GossipRecords == 0 {
		cfg.GossipRecords = -1
	}
	cfg.Seed = *seed
	if !*quiet {
		cfg.Log = func(format string, a ...any) {
			fmt.Fprintf(os.Stderr, "vigil-sim: "+format+"\n", a...)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := meshsim.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vigil-sim: %v\n", err)
		return 1
	}
	if *asJSON {
		b, _ := json.Marshal(res)
		fmt.Println(string(b))
		return 0
	}
	fmt.Print(Table(res))
	return 0
}

// Table prints a result for people.
func Table(r *meshsim.Result) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k, v string, a ...any) { fmt.Fprintf(tw, "%s\t"+v+"\n", append([]any{k}, a...)...) }
	row("nodes", "%d on %d cores (GOMAXPROCS %d)", r.Nodes, runtime.NumCPU(), r.Cores)
	row("topology", "%s: %d links, %d cut by the partition, diameter %d; %d hops from the healed link to the farthest node, across it included", r.Topology, r.Links, r.CutLinks, r.Diameter, r.HealHops)
	row("link latency", "%s each way", r.Latency)
	row("reconciliation interval", "%s", r.Interval)
	row("records written while partitioned", "%d (mean %.0f bytes)", r.Records, r.RecordBytes)
	row("setup", "%.1f s", r.SetupSeconds)
	row("spread inside each side", "%.2f s", r.PartitionSeconds)
	row("time to convergence after the heal", "%.2f s (%.2f s of CPU, all nodes)", r.ConvergeSeconds, r.HealCPUSeconds)
	row("mean time by hops from the healed link", "%v s", r.HopSeconds)
	row("bytes sent per node until then", "mean %.0f, max %d, total %d", r.HealBytesMean, r.HealBytesMax, r.HealBytesTotal)
	if r.GossipRecords > 0 {
		row("gossip: records", "%d (mean %.0f bytes), delivered to all in p50 %.0f ms, max %.0f ms",
			r.GossipRecords, r.GossipRecordBytes, r.GossipDeliveryP50, r.GossipDeliveryMax)
		row("gossip: bytes sent per node", "mean %.0f, max %d, total %d in %.1f s (idle mesh: %.0f B/s)",
			r.GossipBytesMean, r.GossipBytesMax, r.GossipBytesTotal, r.GossipSeconds, r.IdleBytesPerSec)
		row("gossip amplification", "%.2f (bytes sent by all nodes / (record bytes × nodes))", r.Amplification)
	}
	tw.Flush()
	if len(r.Sessions) > 0 {
		b.WriteString("\nsessions from the heal to convergence, as each end reported them (s since the heal; hops from the healed link):\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "start\tend\tnode\thop\tpeer\thop\treceived\tsent\tbytes\t")
		for _, x := range r.Sessions {
			fmt.Fprintf(tw, "%.3f\t%.3f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", x.Start, x.End, x.Node, x.NodeHop, x.Peer, x.PeerHop, x.Received, x.Sent, x.Bytes)
		}
		tw.Flush()
	}
	return b.String()
}
