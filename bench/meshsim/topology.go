package meshsim

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Topologies the simulation builds.
const (
	Line     = "line"     // 0-1-2-…-(n-1); the partition cuts the middle link
	Ring     = "ring"     // a line closed into a circle; the partition cuts two opposite links
	Random   = "random"   // two random connected halves joined by a few random links, which the partition cuts
	Clusters = "clusters" // two random clusters joined by one carrier; the partition cuts the carrier's link to the second
)

// Topologies lists every topology name.
var Topologies = []string{Line, Ring, Random, Clusters}

// Graph is a topology: undirected edges (i < j; i dials j), the edges a
// partition cuts, and each node's side of the partition.
type Graph struct {
	N       int
	Edges   [][2]int // every link, cut ones included
	Cut     [][2]int // links down while partitioned (a subset of Edges)
	Side    []int    // 0 or 1
	Carrier int      // the carrier node in Clusters, else -1
}

// Build makes topology top over n nodes. degree is the mean number of
// links per node inside a random half or cluster (at least 2).
func Build(top string, n, degree int, rng *rand.Rand) (*Graph, error) {
	if n < 2 {
		return nil, fmt.Errorf("a mesh needs at least 2 nodes, got %d", n)
	}
	degree = max(degree, 2)
	g := &Graph{N: n, Side: make([]int, n), Carrier: -1}
	half := n / 2
	for i := half; i < n; i++ {
		g.Side[i] = 1
	}
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
	// randomPart connects nodes into a random spanning tree, then adds
	// random links until the mean degree is reached.
	randomPart := func(nodes []int) {
		if len(nodes) < 2 {
			return
		}
		perm := slices.Clone(nodes)
		rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		links := len(perm) - 1
		for k := 1; k < len(perm); k++ {
			add(perm[k], perm[rng.IntN(k)])
		}
		want := min(len(nodes)*degree/2, len(nodes)*(len(nodes)-1)/2)
		for tries := 0; links < want && tries < 100*want; tries++ {
			if add(nodes[rng.IntN(len(nodes))], nodes[rng.IntN(len(nodes))]) {
				links++
			}
		}
	}
	span := func(lo, hi int) []int {
		var out []int
		for i := lo; i < hi; i++ {
			out = append(out, i)
		}
		return out
	}
	switch top {
	case Line, Ring:
		for i := 0; i+1 < n; i++ {
			add(i, i+1)
		}
		g.Cut = append(g.Cut, [2]int{half - 1, half})
		if top == Ring && n > 2 {
			add(0, n-1)
			g.Cut = append(g.Cut, [2]int{0, n - 1})
		}
	case Random:
		randomPart(span(0, half))
		randomPart(span(half, n))
		bridges := max(1, n/10)
		for len(g.Cut) < bridges {
			i, j := rng.IntN(half), half+rng.IntN(n-half)
			if add(i, j) {
				g.Cut = append(g.Cut, [2]int{i, j})
			}
			if len(g.Cut) >= half*(n-half) {
				break
			}
		}
	case Clusters:
		if n < 3 {
			return nil, fmt.Errorf("two clusters and a carrier need at least 3 nodes, got %d", n)
		}
		c := n - 1 // the carrier
		g.Carrier = c
		h := (n - 1) / 2
		for i := range n - 1 {
			g.Side[i] = 0
			if i >= h {
				g.Side[i] = 1
			}
		}
		g.Side[c] = 0 // the carrier stays with the first cluster while partitioned
		randomPart(span(0, h))
		randomPart(span(h, n-1))
		a, b := rng.IntN(h), h+rng.IntN(n-1-h)
		add(a, c)
		add(b, c)
		g.Cut = append(g.Cut, [2]int{min(b, c), max(b, c)})
	default:
		return nil, fmt.Errorf("topology %q: want one of %v", top, Topologies)
	}
	return g, nil
}

// Connected reports whether the edges (minus skip) connect every node, and
// the number of components.
func (g *Graph) Connected(skip [][2]int) (bool, int) {
	parent := make([]int, g.N)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	cut := map[[2]int]bool{}
	for _, e := range skip {
		cut[e] = true
	}
	comps := g.N
	for _, e := range g.Edges {
		if cut[e] {
			continue
		}
		if a, b := find(e[0]), find(e[1]); a != b {
			parent[a] = b
			comps--
		}
	}
	return comps == 1, comps
}

// Diameter returns the longest shortest path (in links) with every edge up.
func (g *Graph) Diameter() int {
	adj := make([][]int, g.N)
	for _, e := range g.Edges {
		adj[e[0]] = append(adj[e[0]], e[1])
		adj[e[1]] = append(adj[e[1]], e[0])
	}
	best := 0
	dist := make([]int, g.N)
	for s := range g.N {
		for i := range dist {
			dist[i] = -1
		}
		dist[s] = 0
		q := []int{s}
		for len(q) > 0 {
			u := q[0]
			q = q[1:]
			for _, v := range adj[u] {
				if dist[v] < 0 {
					dist[v] = dist[u] + 1
					best = max(best, dist[v])
					q = append(q, v)
				}
			}
		}
	}
	return best
}

// HopsFrom returns each node's distance in links (every edge up) from the
// nearest end of the given edges.
func (g *Graph) HopsFrom(edges [][2]int) []int {
	adj := make([][]int, g.N)
	for _, e := range g.Edges {
		adj[e[0]] = append(adj[e[0]], e[1])
		adj[e[1]] = append(adj[e[1]], e[0])
	}
	dist := make([]int, g.N)
	for i := range dist {
		dist[i] = -1
	}
	var q []int
	for _, e := range edges {
		for _, v := range e {
			if dist[v] < 0 {
				dist[v] = 0
				q = append(q, v)
			}
		}
	}
	for len(q) > 0 {
		u := q[0]
		q = q[1:]
		for _, v := range adj[u] {
			if dist[v] < 0 {
				dist[v] = dist[u] + 1
				q = append(q, v)
			}
		}
	}
	for i := range dist {
		dist[i] = max(dist[i], 0)
	}
	return dist
}
