package main

import (
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/vigil-mesh/vigil/bench/dessim"
	"github.com/vigil-mesh/vigil/bench/meshsim"
)

// simScenario is the discrete-event simulation's mission mesh for the
// benchmark: clusters of 50 (mean degree 6) joined by carriers, links of
// 25–75 ms one way at 2 Mbit/s, 1 % of gossip copies lost, 100 records
// written while half the clusters are cut off, 100 held by every node
// from the start (recon's CPU time grows with the sets, its bytes hardly),
// and 0.13 ms for a node to check and store each record it receives:
// ingest.store's 7,888 records/s on one core of this VM in the last full
// run (a phone may be slower; each node has its own processor here,
// unlike bench/meshsim's nodes, which share two cores).
func simScenario(n int, seed uint64) dessim.Scenario {
	return dessim.Scenario{Nodes: n, Config: dessim.Config{Latency: 50 * time.Millisecond, Jitter: 0.5,
		Bandwidth: 250_000, Loss: 0.01, Base: 100, Records: 100, RecordCPU: 130 * time.Microsecond, Seed: seed}}
}

// simGroup runs the discrete-event simulation (bench/dessim) at each
// size on one core, and reports convergence after the heal against the
// hops it had to cross, and its growth and bytes against ln N.
func simGroup(rs *Results, o benchOptions, log func(string, ...any)) error {
	sizes := []int{200, 1000, 10_000}
	if o.quick {
		sizes = []int{100, 200}
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	var first *dessim.Result
	for _, n := range sizes {
		cpu0 := meshsim.CPUSeconds()
		res, err := dessim.RunScenario(simScenario(n, o.seed))
		if err != nil {
			return err
		}
		cpu := meshsim.CPUSeconds() - cpu0
		log("sim %d: converged %.2f s (simulated) after the heal, %d hops × %.3f s; %.0f B a node; %.1f s wall, %.1f s CPU",
			n, res.ConvergeSeconds, res.HealHops, res.HopSeconds, res.BytesPerNode, res.WallSeconds, cpu)
		if first == nil {
			first = res
		}
		ln := math.Log(float64(n))
		p := map[string]any{"nodes": n, "clusters": res.Clusters, "mean_degree": res.MeanDegree, "cut_links": res.CutLinks,
			"heal_hops": res.HealHops, "hop_s": round3(res.HopSeconds), "warm_hop_s": round3(res.WarmHopSeconds), "latency": "25–75ms", "bandwidth": "2 Mbit/s",
			"gossip_loss": res.Loss, "records_per_node": res.RecordsPerNode, "written": res.Records,
			"time_per_ln_n": round3(res.ConvergeSeconds / ln), "wall_s": round3(res.WallSeconds), "cpu_s": round3(cpu)}
		r := Result{Name: "sim.convergence", Params: p, Value: res.ConvergeSeconds, Unit: "s simulated", Target: "ratio ≤ 1.5",
			Note: fmt.Sprintf("discrete-event simulation running sync/recon's real sessions: %d nodes in %d clusters (mean degree %.2f), %d carrier links cut, %d records written while partitioned (side convergence took %.1f s simulated), each node holding %d at the end; from the heal until every node holds every record, over %d hops × one hop %.3f s (2 nodes, one 50 ms link coming up, the %d records on one side; %.3f s over a link already up); %d sessions; %.1f s wall, %.1f s CPU on one core",
				n, res.Clusters, res.MeanDegree, res.CutLinks, res.Records, res.PartitionSeconds, res.RecordsPerNode,
				res.HealHops, res.HopSeconds, res.Records, res.WarmHopSeconds, res.Sessions, res.WallSeconds, cpu)}
		r = r.withBaseline("heal hops × one hop's sync time", float64(res.HealHops)*res.HopSeconds)
		r.Met = boolp(*r.Ratio <= 1.5)
		rs.add(r)
		lnFirst := math.Log(float64(first.Nodes))
		g := Result{Name: "sim.time_per_ln_n", Params: map[string]any{"nodes": n, "heal_hops": res.HealHops,
			"hops_per_ln_n": round3(float64(res.HealHops) / ln)}, Value: res.ConvergeSeconds / ln, Unit: "s",
			Note: "convergence time ÷ ln N; the ratio over the smallest mesh's is the growth beyond ln N (1: logarithmic); hops ÷ ln N beside it, since the hops set the time"}
		g = g.withBaseline(fmt.Sprintf("%d nodes", first.Nodes), first.ConvergeSeconds/lnFirst)
		rs.add(g)
		b := Result{Name: "sim.bytes_per_node", Params: map[string]any{"nodes": n, "recon": math.Round(res.ReconPerNode),
			"transfer": math.Round(res.XferPerNode), "gossip": math.Round(res.GossipPerNode), "max": res.BytesMax,
			"bytes_per_ln_n": math.Round(res.BytesPerNode / ln)}, Value: res.BytesPerNode, Unit: "B",
			Note: fmt.Sprintf("bytes each node sent from the heal to convergence: reconciliation (the real sessions' messages and frame headers) %.0f, record transfer (wants, records of %d B, frames: modelled) %.0f, gossip %.0f; at the heal a node lacked the other side's records, about %d of %d B (%d B); the ratio over the smallest mesh's is the growth",
				res.ReconPerNode, res.RecordBytes, res.XferPerNode, res.GossipPerNode, res.Records/2, res.RecordBytes, res.Records/2*res.RecordBytes)}
		b = b.withBaseline(fmt.Sprintf("%d nodes", first.Nodes), first.BytesPerNode)
		rs.add(b)
	}
	return nil
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
