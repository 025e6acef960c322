package dessim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Scenario is the benchmark's partition and heal on a mission's mesh
// (Clusters): records written at random nodes while a half of the
// clusters is cut off, then the heal.
type Scenario struct {
	Config
	Nodes         int // required
	ClusterSize   int // default 50
	Degree        int // mean links per node inside a cluster; default 6
	CarrierDegree int // mean carrier links per cluster; default 3
	// WriteWindow: the records are written at random times in it, from
	// the start. Default 10 s.
	WriteWindow time.Duration
	// Limit gives up waiting for a phase after this much simulated time.
	// Default one hour.
	Limit time.Duration
}

// Result is what a scenario measured. Times are simulated seconds.
type Result struct {
	Nodes      int     `json:"nodes"`
	Clusters   int     `json:"clusters"`
	Links      int     `json:"links"`
	MeanDegree float64 `json:"mean_degree"`
	CutLinks   int     `json:"cut_links"`
	// HealHops: one hop across a healed link, then to the node farthest
	// from every healed link.
	HealHops       int     `json:"heal_hops"`
	Latency        string  `json:"latency"`
	Bandwidth      float64 `json:"bandwidth_bytes_per_s"`
	Loss           float64 `json:"gossip_loss"`
	Base           int     `json:"base_records"`
	Records        int     `json:"records_written"`
	RecordBytes    int     `json:"record_bytes"`
	RecordsPerNode int     `json:"records_per_node"` // held by every node at the end
	// PartitionSeconds: from the start until every node held every record
	// of its own side (gossip, and reconciliation for what gossip lost).
	PartitionSeconds float64 `json:"partition_s"`
	// ConvergeSeconds: from the heal until every node holds every record.
	ConvergeSeconds float64 `json:"converge_s"`
	// HopSeconds is one hop's sync time: two nodes, one link with the
	// same latency and bandwidth, every written record on one of them,
	// from the heal until the other holds them all.
	HopSeconds float64 `json:"hop_s"`
	// WarmHopSeconds is the same over a link already up (no connection
	// set-up): what each hop after the first costs at least.
	WarmHopSeconds float64 `json:"warm_hop_s"`
	// PerHop is ConvergeSeconds / (HealHops × HopSeconds).
	PerHop float64 `json:"per_hop"`
	// Bytes each node sent from the heal to convergence, mean and most.
	BytesPerNode  float64 `json:"bytes_per_node"`
	BytesMax      int64   `json:"bytes_max"`
	ReconPerNode  float64 `json:"recon_bytes_per_node"`
	XferPerNode   float64 `json:"transfer_bytes_per_node"`
	GossipPerNode float64 `json:"gossip_bytes_per_node"`
	// Sessions: reconciliations started from the heal to convergence.
	Sessions    int     `json:"sessions"`
	WallSeconds float64 `json:"wall_s"`
}

func (sc *Scenario) fill() {
	sc.Config.fill()
	if sc.ClusterSize == 0 {
		sc.ClusterSize = 50
	}
	if sc.Degree == 0 {
		sc.Degree = 6
	}
	if sc.CarrierDegree == 0 {
		sc.CarrierDegree = 3
	}
	if sc.WriteWindow == 0 {
		sc.WriteWindow = 10 * time.Second
	}
	if sc.Limit == 0 {
		sc.Limit = time.Hour
	}
}

// RunScenario builds the mesh, writes, waits for each side to converge,
// heals, and measures convergence; then times one hop.
func RunScenario(sc Scenario) (*Result, error) {
	start := time.Now()
	sc.fill()
	rng := newRand(sc.Seed)
	g, err := Clusters(sc.Nodes, sc.ClusterSize, sc.Degree, sc.CarrierDegree, rng)
	if err != nil {
		return nil, err
	}
	s, err := New(sc.Config, g)
	if err != nil {
		return nil, err
	}
	for r := range s.cfg.Records {
		if err := s.Write(rng.IntN(g.N), r, time.Duration(rng.Int64N(int64(sc.WriteWindow)))); err != nil {
			return nil, err
		}
	}
	all := len(s.records)
	if ok, err := s.Run(sc.Limit, func() bool { return s.written == all && s.SidesConverged() }); err != nil || !ok {
		return nil, fmt.Errorf("dessim: %d nodes: the sides did not converge while partitioned within %v (%v)", g.N, sc.Limit, err)
	}
	res := &Result{Nodes: g.N, Clusters: g.Clusters, Links: len(g.Edges), MeanDegree: math.Round(g.MeanDegree()*100) / 100,
		CutLinks: len(g.Cut), HealHops: g.HealHops(), Latency: s.cfg.Latency.String(), Bandwidth: s.cfg.Bandwidth,
		Loss: s.cfg.Loss, Base: s.cfg.Base, Records: all, RecordBytes: s.cfg.RecordBytes, RecordsPerNode: s.cfg.Base + all,
		PartitionSeconds: s.Now().Seconds()}
	healed := s.Now()
	before := make([]Bytes, g.N)
	for i := range before {
		before[i] = s.Sent(i)
	}
	sessions := s.Sessions()
	s.Heal(healed)
	if ok, err := s.Run(healed+sc.Limit, s.Converged); err != nil || !ok {
		return nil, fmt.Errorf("dessim: %d nodes: not converged %v after the heal (%v)", g.N, sc.Limit, err)
	}
	res.ConvergeSeconds = (s.Now() - healed).Seconds()
	res.Sessions = s.Sessions() - sessions
	var sum Bytes
	for i := range before {
		d := s.Sent(i).minus(before[i])
		sum.Recon += d.Recon
		sum.Transfer += d.Transfer
		sum.Gossip += d.Gossip
		res.BytesMax = max(res.BytesMax, d.Total())
	}
	n := float64(g.N)
	res.BytesPerNode = float64(sum.Total()) / n
	res.ReconPerNode, res.XferPerNode, res.GossipPerNode = float64(sum.Recon)/n, float64(sum.Transfer)/n, float64(sum.Gossip)/n
	res.HopSeconds, err = OneHop(sc.Config)
	if err != nil {
		return nil, err
	}
	warm := sc.Config
	warm.ConnectRTTs = -1
	if res.WarmHopSeconds, err = OneHop(warm); err != nil {
		return nil, err
	}
	res.PerHop = res.ConvergeSeconds / (float64(res.HealHops) * res.HopSeconds)
	res.WallSeconds = time.Since(start).Seconds()
	return res, nil
}

// OneHop is one hop's sync time under cfg: two nodes, their link down,
// cfg.Records records written on the first; the link is healed at once,
// and the time until the second holds them all is returned (seconds).
func OneHop(cfg Config) (float64, error) {
	cfg.Jitter = 0 // the mean latency
	s, err := New(cfg, Line(2, 0))
	if err != nil {
		return 0, err
	}
	for r := range s.cfg.Records {
		if err := s.Write(0, r, 0); err != nil {
			return 0, err
		}
	}
	s.Heal(0)
	if ok, err := s.Run(time.Hour, s.Converged); err != nil || !ok {
		return 0, fmt.Errorf("dessim: one hop: not converged within an hour (%v)", err)
	}
	return s.Now().Seconds(), nil
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x746f70)) }
