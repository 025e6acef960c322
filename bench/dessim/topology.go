package dessim

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Graph is a topology: undirected links (i < j), the links a partition
// cuts, and each node's side of the partition.
type Graph struct {
	N     int
	Edges [][2]int // every link, cut ones included
	Cut   [][2]int // links down until the heal (a subset of Edges)
	Side  []int    // 0 or 1
	// Clusters is the number of clusters (Clusters); 1 for Line.
	Clusters int
}

// Line is 0-1-…-(n-1) with the link after node cut cut (side 0 is
// 0..cut, side 1 the rest); cut < 0 cuts nothing.
func Line(n, cut int) *Graph {
	g := &Graph{N: n, Side: make([]int, n), Clusters: 1}
	for i := 0; i+1 < n; i++ {
		g.Edges = append(g.Edges, [2]int{i, i + 1})
	}
	if cut >= 0 && cut+1 < n {
		g.Cut = [][2]int{{cut, cut + 1}}
		for i := cut + 1; i < n; i++ {
			g.Side[i] = 1
		}
	}
	return g
}

// Clusters builds a mission's mesh: clusters of about size nodes (the
// observers of one area, who meet), each a random connected graph of
// mean degree degree, joined by carriers: each cluster is linked to
// about carrierDegree others, each such link between a random node of
// each (a carrier that moves between them). The first half of the
// clusters is side 0, the rest side 1; the partition cuts every carrier
// link between the halves (a region out of contact). Each half is
// connected on its own, so a side converges while partitioned.
func Clusters(n, size, degree, carrierDegree int, rng *rand.Rand) (*Graph, error) {
	if size < 2 || n < 2*size {
		return nil, fmt.Errorf("clusters: %d nodes in clusters of %d: want at least two clusters of at least 2", n, size)
	}
	if degree < 2 || carrierDegree < 1 {
		return nil, fmt.Errorf("clusters: degree %d and carrier degree %d: want at least 2 and 1", degree, carrierDegree)
	}
	k := (n + size/2) / size
	g := &Graph{N: n, Side: make([]int, n), Clusters: k}
	seen := map[[2]int]bool{}
	add := func(i, j int) bool {
		if i == j {
			return false
		}
		e := [2]int{min(i, j), max(i, j)}
		if seen[e] {
			return false
		}
		seen[e] = true
		g.Edges = append(g.Edges, e)
		return true
	}
	lo := func(c int) int { return c * n / k }
	member := func(c int) int { return lo(c) + rng.IntN(lo(c+1)-lo(c)) }
	// A random spanning tree, then random links up to the mean degree.
	random := func(nodes []int, degree int, link func(a, b int) bool) {
		perm := slices.Clone(nodes)
		rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		links := 0
		for i := 1; i < len(perm); i++ {
			if link(perm[i], perm[rng.IntN(i)]) {
				links++
			}
		}
		want := min(len(nodes)*degree/2, len(nodes)*(len(nodes)-1)/2)
		for tries := 0; links < want && tries < 100*want; tries++ {
			if link(nodes[rng.IntN(len(nodes))], nodes[rng.IntN(len(nodes))]) {
				links++
			}
		}
	}
	span := func(a, b int) []int {
		out := make([]int, 0, b-a)
		for i := a; i < b; i++ {
			out = append(out, i)
		}
		return out
	}
	for c := range k {
		random(span(lo(c), lo(c+1)), degree, add)
		if c >= k/2 {
			for i := lo(c); i < lo(c+1); i++ {
				g.Side[i] = 1
			}
		}
	}
	// Carriers: a random spanning tree over each half's clusters (so a
	// half stays connected while partitioned), one link between the
	// halves, then random cluster pairs until the clusters' mean carrier
	// degree is reached.
	seenC := map[[2]int]bool{}
	carriers := 0
	carrier := func(a, b int) bool {
		c := [2]int{min(a, b), max(a, b)}
		if a == b || seenC[c] {
			return false
		}
		seenC[c] = true
		carriers++
		return add(member(a), member(b))
	}
	random(span(0, k/2), 1, carrier)
	random(span(k/2, k), 1, carrier)
	carrier(rng.IntN(k/2), k/2+rng.IntN(k-k/2))
	want := min(k*carrierDegree/2, k*(k-1)/2)
	for tries := 0; carriers < want && tries < 100*want; tries++ {
		carrier(rng.IntN(k), rng.IntN(k))
	}
	for _, e := range g.Edges {
		if g.Side[e[0]] != g.Side[e[1]] {
			g.Cut = append(g.Cut, e)
		}
	}
	if len(g.Cut) == 0 {
		return nil, fmt.Errorf("clusters: no link between the halves (%d clusters)", k)
	}
	return g, nil
}

// adjacency lists every node's neighbours.
func (g *Graph) adjacency() [][]int32 {
	adj := make([][]int32, g.N)
	for _, e := range g.Edges {
		adj[e[0]] = append(adj[e[0]], int32(e[1]))
		adj[e[1]] = append(adj[e[1]], int32(e[0]))
	}
	return adj
}

// HealHops is how many hops records travel after the heal: one across a
// healed link, then to the node farthest from every healed link's ends
// (every link up).
func (g *Graph) HealHops() int {
	adj := g.adjacency()
	dist := make([]int32, g.N)
	for i := range dist {
		dist[i] = -1
	}
	var q []int32
	for _, e := range g.Cut {
		for _, v := range e {
			if dist[v] < 0 {
				dist[v] = 0
				q = append(q, int32(v))
			}
		}
	}
	far := int32(0)
	for len(q) > 0 {
		u := q[0]
		q = q[1:]
		for _, v := range adj[u] {
			if dist[v] < 0 {
				dist[v] = dist[u] + 1
				far = max(far, dist[v])
				q = append(q, v)
			}
		}
	}
	return 1 + int(far)
}

// MeanDegree is 2 × links / nodes.
func (g *Graph) MeanDegree() float64 { return 2 * float64(len(g.Edges)) / float64(g.N) }
