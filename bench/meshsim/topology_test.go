package meshsim

import (
	"math/rand/v2"
	"testing"
)

// Every topology connects all nodes, and cutting its partition links
// leaves exactly two groups that match the sides.
func TestTopologies(t *testing.T) {
	for _, top := range Topologies {
		for _, n := range []int{3, 4, 10, 50} {
			g, err := Build(top, n, 3, rand.New(rand.NewPCG(uint64(n), 1)))
			if err != nil {
				t.Fatalf("%s/%d: %v", top, n, err)
			}
			if ok, comps := g.Connected(nil); !ok {
				t.Errorf("%s/%d: %d components with every link up", top, n, comps)
			}
			if _, comps := g.Connected(g.Cut); comps != 2 {
				t.Errorf("%s/%d: %d components when partitioned, want 2", top, n, comps)
			}
			edges := map[[2]int]bool{}
			for _, e := range g.Edges {
				if e[0] >= e[1] || edges[e] {
					t.Errorf("%s/%d: edge %v is not normalised or repeats", top, n, e)
				}
				edges[e] = true
			}
			for _, e := range g.Cut {
				if !edges[e] {
					t.Errorf("%s/%d: cut link %v is not a link", top, n, e)
				}
				if g.Side[e[0]] == g.Side[e[1]] {
					t.Errorf("%s/%d: cut link %v joins one side", top, n, e)
				}
			}
			for _, e := range g.Edges {
				cut := false
				for _, c := range g.Cut {
					cut = cut || c == e
				}
				if !cut && g.Side[e[0]] != g.Side[e[1]] {
					t.Errorf("%s/%d: link %v crosses the partition but is not cut", top, n, e)
				}
			}
		}
	}
	if _, err := Build("star", 5, 3, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("an unknown topology was accepted")
	}
}

func TestDiameter(t *testing.T) {
	g, _ := Build(Line, 10, 3, rand.New(rand.NewPCG(1, 1)))
	if d := g.Diameter(); d != 9 {
		t.Errorf("line of 10: diameter %d, want 9", d)
	}
	// The line's cut is its middle link, 4-5.
	want := []int{4, 3, 2, 1, 0, 0, 1, 2, 3, 4}
	for i, h := range g.HopsFrom(g.Cut) {
		if h != want[i] {
			t.Errorf("line of 10: node %d is %d hops from the cut, want %d", i, h, want[i])
		}
	}
	g, _ = Build(Ring, 10, 3, rand.New(rand.NewPCG(1, 1)))
	if d := g.Diameter(); d != 5 {
		t.Errorf("ring of 10: diameter %d, want 5", d)
	}
}
