package incident

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// The quick count (parallel vote tabulation): each choice's share of the
// valid votes, estimated from the result sheets of a stratified random
// sample of stations (the registry's stations tagged pvt, each stratum
// named by its stratum=NAME tag), with a 95 % margin.
//
// The estimator is the stratified ratio estimator. For stratum h, N_h is
// the number of the registry's stations in the stratum (all of them, not
// only the sampled ones: the population), n_h the sampled stations that
// reported a usable tally, x_i the valid votes (the sum of the choices'
// votes) at sampled station i and y_ci the votes for choice c there:
//
//	X̂   = Σ_h (N_h/n_h) Σ_{i∈h} x_i
//	Ŷ_c = Σ_h (N_h/n_h) Σ_{i∈h} y_ci
//	p̂_c = Ŷ_c / X̂
//
// Its variance is estimated by linearisation (Taylor): with the residuals
// e_i = y_ci − p̂_c x_i and s²_eh their sample variance in stratum h
// (divisor n_h − 1),
//
//	V(p̂_c) = Σ_h N_h² (1 − n_h/N_h) s²_eh / n_h  /  X̂²
//	margin  = 1.96 √V
//
// A stratum needs two usable stations for s²_eh. Those with one are
// collapsed into one pooled group for the variance (the collapsed-strata
// estimator: with G such strata and t_g = N_g e_g, their term is
// G/(G−1) Σ_g (t_g − t̄)², without finite-population correction, which
// errs wide), while each keeps its own weight in the estimate. A lone
// stratum with one usable station has no partner to pool with, and one
// with none has no data: either is left out of the estimate, whose
// population is then the other strata's stations; Notes and each
// StratumCount say so. Flagged and missing stations are the caller's to
// exclude and count (Results does): the sample given here is the usable
// one.

// PVTStation is a sampled station's usable tally.
type PVTStation struct {
	Code    string
	Stratum string
	Votes   []VoteCount
}

// StratumCount is one stratum as the quick count used it.
type StratumCount struct {
	Name       string `json:"name"`       // "" for stations with no stratum tag
	Population int    `json:"population"` // N_h: the registry's stations in it
	Used       int    `json:"used"`       // n_h: usable sampled stations
	// Pooled: one usable station, collapsed with the other such strata
	// for the variance. Excluded: left out of the estimate (Note says why).
	Pooled   bool   `json:"pooled,omitempty"`
	Excluded bool   `json:"excluded,omitempty"`
	Note     string `json:"note,omitempty"`
}

// ChoiceShare is one choice's estimated share of the valid votes, and
// the 95 % margin: the interval is Share ± Margin (fractions of 1).
type ChoiceShare struct {
	Choice string  `json:"choice"`
	Share  float64 `json:"share"`
	Margin float64 `json:"margin"`
	// Votes is its votes over the stations used (unweighted).
	Votes uint64 `json:"votes"`
}

// QuickCountEstimate is the quick count's answer.
type QuickCountEstimate struct {
	Shares []ChoiceShare  `json:"shares"` // by share, largest first
	Strata []StratumCount `json:"strata"` // by name
	Used   int            `json:"used"`   // stations in the estimate
	Notes  []string       `json:"notes,omitempty"`
}

// Z95 is the normal quantile of a two-sided 95 % interval.
const Z95 = 1.96

// QuickCount estimates each choice's share from the usable sampled
// stations, with population the number of registry stations per stratum
// (see the formulas above). It is a pure function.
func QuickCount(population map[string]int, sample []PVTStation) QuickCountEstimate {
	type stratum struct {
		count    StratumCount
		stations []int // indices into sample
	}
	byName := map[string]*stratum{}
	for name, n := range population {
		byName[name] = &stratum{count: StratumCount{Name: name, Population: n}}
	}
	for i, s := range sample {
		st := byName[s.Stratum]
		if st == nil {
			st = &stratum{count: StratumCount{Name: s.Stratum}}
			byName[s.Stratum] = st
		}
		st.stations = append(st.stations, i)
	}
	var out QuickCountEstimate
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	label := func(name string) string {
		if name == "" {
			return "(no stratum)"
		}
		return name
	}
	var single []*stratum
	var used []*stratum
	for _, name := range names {
		st := byName[name]
		c := &st.count
		c.Used = len(st.stations)
		if c.Population < c.Used {
			c.Note = fmt.Sprintf("the registry counts %d stations in it, fewer than the %d sampled: taken as %d", c.Population, c.Used, c.Used)
			out.Notes = append(out.Notes, "stratum "+label(name)+": "+c.Note)
			c.Population = c.Used
		}
		switch c.Used {
		case 0:
			c.Excluded, c.Note = true, "no usable sampled station: left out of the estimate"
			if c.Population > 0 {
				out.Notes = append(out.Notes, fmt.Sprintf("stratum %s (%d stations) has no usable sampled station: the estimate leaves it out", label(name), c.Population))
			}
			continue
		case 1:
			single = append(single, st)
		}
		used = append(used, st)
	}
	if len(single) == 1 {
		st := single[0]
		st.count.Excluded, st.count.Note = true, "one usable sampled station and no other such stratum to pool with: its variance cannot be estimated, so it is left out of the estimate"
		out.Notes = append(out.Notes, "stratum "+label(st.count.Name)+": "+st.count.Note)
		used = slices.DeleteFunc(used, func(u *stratum) bool { return u == st })
		single = nil
	}
	for _, st := range single {
		st.count.Pooled, st.count.Note = true, "one usable sampled station: pooled with the other such strata for the margin"
	}
	if len(single) > 0 {
		var pooled []string
		for _, st := range single {
			pooled = append(pooled, label(st.count.Name))
		}
		out.Notes = append(out.Notes, fmt.Sprintf("strata with one usable station (%v) are pooled for the margin (collapsed strata)", pooled))
	}
	for _, st := range byName {
		out.Strata = append(out.Strata, st.count)
	}
	sort.Slice(out.Strata, func(i, j int) bool { return out.Strata[i].Name < out.Strata[j].Name })

	// The choices, and each used station's votes per choice.
	index := map[string]int{}
	var choices []string
	for _, st := range used {
		for _, i := range st.stations {
			for _, v := range sample[i].Votes {
				if _, ok := index[v.Choice]; !ok {
					index[v.Choice] = len(choices)
					choices = append(choices, v.Choice)
				}
			}
		}
	}
	k := len(choices)
	x := make([]float64, len(sample))
	y := make([]float64, len(sample)*k) // y[i*k+c]
	totals := make([]uint64, k)
	var xHat float64
	yHat := make([]float64, k)
	for _, st := range used {
		w := float64(st.count.Population) / float64(st.count.Used)
		for _, i := range st.stations {
			for _, v := range sample[i].Votes {
				c := index[v.Choice]
				y[i*k+c] += float64(v.Votes)
				x[i] += float64(v.Votes)
				totals[c] += v.Votes
			}
			xHat += w * x[i]
			for c := 0; c < k; c++ {
				yHat[c] += w * y[i*k+c]
			}
		}
		out.Used += st.count.Used
	}
	if xHat == 0 {
		if out.Used > 0 {
			out.Notes = append(out.Notes, "the stations used report no valid vote: no share to estimate")
		}
		out.Shares = []ChoiceShare{}
		return out
	}
	out.Shares = make([]ChoiceShare, k)
	for c, name := range choices {
		p := yHat[c] / xHat
		var v float64
		var pooledT []float64
		for _, st := range used {
			N, n := float64(st.count.Population), float64(st.count.Used)
			if st.count.Pooled {
				i := st.stations[0]
				pooledT = append(pooledT, N*(y[i*k+c]-p*x[i]))
				continue
			}
			var mean float64
			for _, i := range st.stations {
				mean += y[i*k+c] - p*x[i]
			}
			mean /= n
			var ss float64
			for _, i := range st.stations {
				d := y[i*k+c] - p*x[i] - mean
				ss += d * d
			}
			v += N * N * (1 - n/N) * (ss / (n - 1)) / n
		}
		if g := float64(len(pooledT)); g >= 2 {
			var mean float64
			for _, t := range pooledT {
				mean += t
			}
			mean /= g
			var ss float64
			for _, t := range pooledT {
				ss += (t - mean) * (t - mean)
			}
			v += g / (g - 1) * ss
		}
		v /= xHat * xHat
		out.Shares[c] = ChoiceShare{Choice: name, Share: p, Margin: Z95 * math.Sqrt(v), Votes: totals[c]}
	}
	sort.SliceStable(out.Shares, func(i, j int) bool {
		if out.Shares[i].Share != out.Shares[j].Share {
			return out.Shares[i].Share > out.Shares[j].Share
		}
		return out.Shares[i].Choice < out.Shares[j].Choice
	})
	return out
}
