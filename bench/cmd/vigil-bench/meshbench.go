package main

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/vigil-mesh/vigil/bench/meshsim"
)

// meshOptions are the mesh group's sizes and settings.
type meshOptions struct {
	sizes    []int
	gossip   int // records of the gossip phase (largest size, first trial)
	trials   int
	interval time.Duration
	latency  time.Duration // one way, every link
	seed     uint64
}

// meshTrial is what one trial at one size measured: the partition-and-heal
// run and, beside it, one hop's sync time with the same records.
type meshTrial struct {
	res *meshsim.Result
	hop float64 // seconds: two nodes, one link, the records on one side
}

// perHop is the trial's convergence time over its baseline, the hops
// from the healed link times one hop's sync time.
func (t meshTrial) perHop() float64 {
	return t.res.ConvergeSeconds / (float64(t.res.HealHops) * t.hop)
}

// runMesh runs the partition-and-heal simulation at each size (two
// clusters joined by one carrier, links delayed by o.latency each way),
// trials times each with different seeds, and reports the median
// convergence time; the largest size also measures gossip bytes per
// record. Each trial also times one hop: two nodes on one link with the
// same latency, the same number of records written on one of them, from
// the link coming up until the other holds them all.
func runMesh(rs *Results, o meshOptions, log func(string, ...any)) error {
	runs := make([][]meshTrial, len(o.sizes))
	var gossipRes *meshsim.Result
	for k, n := range o.sizes {
		for t := range o.trials {
			g := -1
			if k == len(o.sizes)-1 && t == 0 {
				g = o.gossip
			}
			seed := o.seed + uint64(t)*7919
			nlog := func(f string, a ...any) { log("mesh %d: "+f, append([]any{n}, a...)...) }
			res, err := meshsim.Run(context.Background(), meshsim.Config{Nodes: n, Topology: meshsim.Clusters,
				GossipRecords: g, Interval: o.interval, Latency: o.latency, Seed: seed, Log: nlog})
			if err != nil {
				return fmt.Errorf("%d nodes: %w", n, err)
			}
			hop, err := meshsim.Run(context.Background(), meshsim.Config{Nodes: 2, Topology: meshsim.Line,
				Records: res.Records, OneSided: true, GossipRecords: -1, Interval: o.interval, Latency: o.latency, Seed: seed,
				Log: func(f string, a ...any) { nlog("hop: "+f, a...) }})
			if err != nil {
				return fmt.Errorf("%d nodes: one hop: %w", n, err)
			}
			runs[k] = append(runs[k], meshTrial{res: res, hop: hop.ConvergeSeconds})
			if g > 0 {
				gossipRes = res
			}
		}
	}
	if r := gossipRes; r != nil {
		n := r.Nodes
		per := float64(r.GossipBytesTotal) / float64(max(r.GossipRecords, 1))
		res := Result{Name: "gossip.bytes_per_record", Unit: "B", Value: per,
			Params: map[string]any{"nodes": n, "topology": r.Topology, "records": r.GossipRecords, "latency": r.Latency},
			Target: "amplification ≤ 7",
			Note: fmt.Sprintf("all nodes' socket bytes (Noise, yamux, GossipSub control included) while %d records of %.0f B were gossiped one at a time, periodic reconciliation paused; p50 delivery to every node %.0f ms; idle mesh %.0f B/s",
				r.GossipRecords, r.GossipRecordBytes, r.GossipDeliveryP50, r.IdleBytesPerSec)}
		res = res.withBaseline("record size × nodes", r.GossipRecordBytes*float64(n))
		res.Met = boolp(*res.Ratio <= 7)
		rs.add(res)
	}
	medians := make([]float64, len(o.sizes))
	for k, n := range o.sizes {
		trials := runs[k]
		conv := make([]float64, len(trials))
		cpu := make([]float64, len(trials))
		for i, t := range trials {
			conv[i], cpu[i] = t.res.ConvergeSeconds, t.res.HealCPUSeconds
		}
		medians[k] = median(conv)
		last := trials[len(trials)-1].res
		p := map[string]any{"nodes": n, "topology": last.Topology, "diameter": last.Diameter, "interval": last.Interval,
			"latency": last.Latency, "records": last.Records, "cores": last.Cores, "trials": len(trials)}
		r := Result{Name: "mesh.convergence", Params: p, Value: medians[k], Unit: "s",
			Note: fmt.Sprintf("from the heal until every node holds every record, every link delayed %s each way (without the delay the 50-node run measured the shared CPU, not the protocol); trials %v s; mean time by hops from the healed link %v s; %.0f B sent per node (max %d); CPU used by all nodes meanwhile %v s (%d cores)",
				last.Latency, roundAll(conv), last.HopSeconds, last.HealBytesMean, last.HealBytesMax, roundAll(cpu), last.Cores)}
		if k > 0 {
			growth := math.Log(float64(n)) / math.Log(float64(o.sizes[0]))
			r = r.withBaseline(fmt.Sprintf("%d-node time", o.sizes[0]), medians[0])
			r.Target = fmt.Sprintf("ratio ≤ ln %d / ln %d = %.2f", n, o.sizes[0], growth)
			r.Met = boolp(*r.Ratio <= growth)
		}
		rs.add(r)
		rs.add(perHopResult(n, trials))
		rs.add(Result{Name: "mesh.heal_bytes_per_node", Params: map[string]any{"nodes": n, "topology": last.Topology, "latency": last.Latency},
			Value: last.HealBytesMean, Unit: "B", Note: fmt.Sprintf("max %d B, total %d B", last.HealBytesMax, last.HealBytesTotal)})
	}
	return nil
}

// perHopResult is mesh.convergence_per_hop for one size: the trial with
// the median ratio of convergence time to (hops × one hop's sync time).
func perHopResult(n int, trials []meshTrial) Result {
	sorted := append([]meshTrial(nil), trials...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].perHop() < sorted[j].perHop() })
	mid := sorted[len(sorted)/2]
	var ratios, hops []float64
	for _, t := range trials {
		ratios = append(ratios, t.perHop())
		hops = append(hops, t.hop)
	}
	res := mid.res
	p := map[string]any{"nodes": n, "topology": res.Topology, "latency": res.Latency, "diameter": res.Diameter,
		"heal_hops": res.HealHops, "hop_s": math.Round(mid.hop*1000) / 1000, "records": res.Records, "trials": len(trials)}
	r := Result{Name: "mesh.convergence_per_hop", Params: p, Value: res.ConvergeSeconds, Unit: "s",
		Target: "ratio ≤ 1.5",
		Note: fmt.Sprintf("convergence %.2f s over %d hops (1 across the healed link + %d to the farthest node; graph diameter %d) × one hop %.3f s (2 nodes, one link delayed %s, the %d records on one side, from the link coming up until the other holds them); trials' ratios %v, hop times %v s",
			res.ConvergeSeconds, res.HealHops, res.HealHops-1, res.Diameter, mid.hop, res.Latency, res.Records, roundAll(ratios), roundAll(hops))}
	r = r.withBaseline("heal hops × one hop's sync time", float64(res.HealHops)*mid.hop)
	r.Met = boolp(*r.Ratio <= 1.5)
	return r
}

func median(xs []float64) float64 {
	c := append([]float64(nil), xs...)
	sort.Float64s(c)
	return c[len(c)/2]
}

func roundAll(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Round(x*100) / 100
	}
	return out
}
