package main

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/vigil-mesh/vigil/bench/meshsim"
)

// runMesh runs the partition-and-heal simulation at each size (two
// clusters joined by one carrier), trials times each with different
// seeds, and reports the median convergence time; the largest size also
// measures gossip bytes per record.
func runMesh(rs *Results, sizes []int, gossip, trials int, interval time.Duration, seed uint64, log func(string, ...any)) error {
	type run struct {
		converge []float64
		cpu      []float64 // CPU seconds from the heal to convergence
		last     *meshsim.Result
	}
	runs := make([]run, len(sizes))
	for k, n := range sizes {
		for t := range trials {
			g := -1
			if k == len(sizes)-1 && t == 0 {
				g = gossip
			}
			res, err := meshsim.Run(context.Background(), meshsim.Config{Nodes: n, Topology: meshsim.Clusters,
				GossipRecords: g, Interval: interval, Seed: seed + uint64(t)*7919,
				Log: func(f string, a ...any) { log("mesh %d: "+f, append([]any{n}, a...)...) }})
			if err != nil {
				return fmt.Errorf("%d nodes: %w", n, err)
			}
			runs[k].converge = append(runs[k].converge, res.ConvergeSeconds)
			runs[k].cpu = append(runs[k].cpu, res.HealCPUSeconds)
			if runs[k].last == nil || g > 0 {
				runs[k].last = res
			}
			if g > 0 {
				per := float64(res.GossipBytesTotal) / float64(max(res.GossipRecords, 1))
				r := Result{Name: "gossip.bytes_per_record", Unit: "B", Value: per,
					Params: map[string]any{"nodes": n, "topology": res.Topology, "records": res.GossipRecords},
					Target: "amplification ≤ 7",
					Note: fmt.Sprintf("all nodes' socket bytes (Noise, yamux, GossipSub control included) while %d records of %.0f B were gossiped one at a time, periodic reconciliation paused; p50 delivery to every node %.0f ms; idle mesh %.0f B/s",
						res.GossipRecords, res.GossipRecordBytes, res.GossipDeliveryP50, res.IdleBytesPerSec)}
				r = r.withBaseline("record size × nodes", res.GossipRecordBytes*float64(n))
				r.Met = boolp(*r.Ratio <= 7)
				rs.add(r)
			}
		}
	}
	medians := make([]float64, len(sizes))
	for k, n := range sizes {
		c := append([]float64(nil), runs[k].converge...)
		sort.Float64s(c)
		medians[k] = c[len(c)/2]
		last := runs[k].last
		p := map[string]any{"nodes": n, "topology": last.Topology, "diameter": last.Diameter, "interval": last.Interval,
			"records": last.Records, "cores": last.Cores, "trials": trials}
		r := Result{Name: "mesh.convergence", Params: p, Value: medians[k], Unit: "s",
			Note: fmt.Sprintf("from the heal until every node holds every record; trials %v s; mean time by hops from the healed link %v s; %.0f B sent per node (max %d); CPU used by all nodes meanwhile %v s (%d cores)",
				roundAll(runs[k].converge), last.HopSeconds, last.HealBytesMean, last.HealBytesMax, roundAll(runs[k].cpu), last.Cores)}
		if k > 0 {
			growth := math.Log(float64(n)) / math.Log(float64(sizes[0]))
			r = r.withBaseline(fmt.Sprintf("%d-node time", sizes[0]), medians[0])
			r.Target = fmt.Sprintf("ratio ≤ ln %d / ln %d = %.2f", n, sizes[0], growth)
			r.Met = boolp(*r.Ratio <= growth)
		}
		rs.add(r)
		rs.add(Result{Name: "mesh.heal_bytes_per_node", Params: map[string]any{"nodes": n, "topology": last.Topology},
			Value: last.HealBytesMean, Unit: "B", Note: fmt.Sprintf("max %d B, total %d B", last.HealBytesMax, last.HealBytesTotal)})
	}
	return nil
}

func roundAll(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Round(x*100) / 100
	}
	return out
}
