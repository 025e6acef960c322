package main

import (
	"testing"

	"github.com/vigil-mesh/vigil/bench/meshsim"
)

// mesh.convergence_per_hop reports the trial with the median ratio of
// convergence to hops × hop time, with that trial's baseline.
func TestPerHopResult(t *testing.T) {
	trial := func(conv float64, hops int, hop float64) meshTrial {
		return meshTrial{res: &meshsim.Result{ConvergeSeconds: conv, HealHops: hops, Latency: "50ms"}, hop: hop}
	}
	for _, c := range []struct {
		name   string
		trials []meshTrial
		value  float64
		base   float64
		met    bool
	}{
		{"one", []meshTrial{trial(3, 3, 1)}, 3, 3, true},
		{"median of three", []meshTrial{trial(10, 5, 1), trial(2, 4, 1), trial(6, 4, 1)}, 6, 4, true},
		{"missed", []meshTrial{trial(8, 2, 2)}, 8, 4, false},
	} {
		r := perHopResult(50, c.trials)
		if r.Value != c.value || *r.Baseline != c.base || *r.Met != c.met {
			t.Errorf("%s: value %v baseline %v met %v, want %v %v %v", c.name, r.Value, *r.Baseline, *r.Met, c.value, c.base, c.met)
		}
	}
}
