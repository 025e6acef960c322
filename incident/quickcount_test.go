package incident

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func pvt(code, stratum string, a, b uint64) PVTStation {
	return PVTStation{Code: code, Stratum: stratum, Votes: []VoteCount{{Choice: "A", Votes: a}, {Choice: "B", Votes: b}}}
}

// A tiny case worked by hand. Stratum north: N=4, two stations (x, y_A)
// = (100, 60), (200, 100); south: N=6, three stations (100, 30), (100,
// 50), (200, 70). X̂ = 2·300 + 2·400 = 1400, Ŷ_A = 2·160 + 2·150 = 620,
// p̂_A = 620/1400 = 0.442857…; residuals north 15.714, 11.429 (s² =
// 9.1837), south −14.286, 5.714, −18.571 (s² = 168.03); V = (16·½·9.1837/2
// + 36·½·168.03/3) / 1400² = 1044.90 / 1 960 000, margin = 1.96 √V =
// 0.045255. With two choices B's residuals are A's negated, so its margin
// is the same.
func TestQuickCountByHand(t *testing.T) {
	sample := []PVTStation{
		pvt("N1", "north", 60, 40), pvt("N2", "north", 100, 100),
		pvt("S1", "south", 30, 70), pvt("S2", "south", 50, 50), pvt("S3", "south", 70, 130),
	}
	q := QuickCount(map[string]int{"north": 4, "south": 6}, sample)
	if len(q.Shares) != 2 || q.Used != 5 || len(q.Notes) != 0 {
		t.Fatalf("%+v", q)
	}
	b, a := q.Shares[0], q.Shares[1] // largest first
	if a.Choice != "A" || !near(a.Share, 620.0/1400) || math.Abs(a.Margin-0.04525483399593904) > 1e-12 || a.Votes != 310 {
		t.Fatalf("A: %+v", a)
	}
	if b.Choice != "B" || !near(b.Share, 780.0/1400) || math.Abs(b.Margin-a.Margin) > 1e-12 || b.Votes != 390 {
		t.Fatalf("B: %+v", b)
	}
	if len(q.Strata) != 2 || q.Strata[0] != (StratumCount{Name: "north", Population: 4, Used: 2}) {
		t.Fatalf("strata: %+v", q.Strata)
	}

	// Two strata with one usable station each are pooled for the margin:
	// C (N=5; 100, 40) and D (N=3; 50, 10) give t = 5·e_C, 3·e_D and the
	// term 2·Σ(t − t̄)²; worked out: p̂_A = 0.414634…, margin 0.036857.
	sample = append(sample, pvt("C1", "c", 40, 60), pvt("D1", "d", 10, 40))
	q = QuickCount(map[string]int{"north": 4, "south": 6, "c": 5, "d": 3, "empty": 7}, sample)
	a = q.Shares[1]
	if !near(a.Share, 0.4146341463414634) || math.Abs(a.Margin-0.0368565407031581) > 1e-12 || q.Used != 7 {
		t.Fatalf("pooled: %+v", q)
	}
	if !q.Strata[0].Pooled || !q.Strata[1].Pooled || !q.Strata[2].Excluded || q.Strata[2].Name != "empty" || len(q.Notes) != 2 {
		t.Fatalf("pooled strata: %+v, notes %q", q.Strata, q.Notes)
	}

	// A lone stratum with one station is left out, and said so: the
	// estimate is the first case's.
	q = QuickCount(map[string]int{"north": 4, "south": 6, "c": 5}, sample[:6])
	if !near(q.Shares[1].Share, 620.0/1400) || q.Used != 5 || !q.Strata[0].Excluded || len(q.Notes) != 1 {
		t.Fatalf("a lone single stratum: %+v", q)
	}

	// No sample: no share, no division by zero.
	if q := QuickCount(map[string]int{"north": 4}, nil); len(q.Shares) != 0 || q.Used != 0 {
		t.Fatalf("empty: %+v", q)
	}
}

// TestQuickCountCoverage simulates elections with a known truth and
// checks the 95 % interval covers it between 93 % and 97 % of the time
// over 2,000 stratified samples. The country: 3,000 stations in four
// strata of unequal size and support; a station's valid votes are
// lognormal (skewed: median about 330, a long tail of large urban
// stations); its support for A is its stratum's on the logit scale plus
// station noise (clustered: voters at one station lean alike). Each
// sample draws 210 stations by simple random sampling without
// replacement within strata.
func TestQuickCountCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 2026))
	type stratumSpec struct {
		name    string
		N, n    int
		support float64
	}
	specs := []stratumSpec{{"coast", 400, 30, 0.30}, {"hills", 900, 60, 0.48}, {"capital", 1300, 90, 0.58}, {"north", 400, 30, 0.40}}
	type station struct{ a, b uint64 }
	pop := make([][]station, len(specs))
	population := map[string]int{}
	var trueA, trueX float64
	for h, s := range specs {
		population[s.name] = s.N
		logit := math.Log(s.support / (1 - s.support))
		for range s.N {
			x := math.Round(math.Exp(5.8 + 0.7*rng.NormFloat64()))
			x = min(max(x, 20), 5000)
			p := 1 / (1 + math.Exp(-(logit + 0.45*rng.NormFloat64())))
			a := math.Round(x * p)
			pop[h] = append(pop[h], station{uint64(a), uint64(x - a)})
			trueA += a
			trueX += x
		}
	}
	truth := trueA / trueX

	const reps = 2000
	total := 0
	for _, s := range specs {
		total += s.n
	}
	sample := make([]PVTStation, total)
	for i := range sample {
		sample[i].Votes = []VoteCount{{Choice: "A"}, {Choice: "B"}}
	}
	perm := make([][]int, len(specs))
	for h := range specs {
		perm[h] = make([]int, specs[h].N)
		for i := range perm[h] {
			perm[h][i] = i
		}
	}
	covered := 0
	var sumMargin float64
	for range reps {
		k := 0
		for h, s := range specs {
			// A partial Fisher–Yates shuffle: the first n of perm[h] are
			// a simple random sample without replacement.
			for i := 0; i < s.n; i++ {
				j := i + rng.IntN(s.N-i)
				perm[h][i], perm[h][j] = perm[h][j], perm[h][i]
				st := pop[h][perm[h][i]]
				sample[k].Stratum = s.name
				sample[k].Votes[0].Votes, sample[k].Votes[1].Votes = st.a, st.b
				k++
			}
		}
		q := QuickCount(population, sample)
		var a ChoiceShare
		for _, c := range q.Shares {
			if c.Choice == "A" {
				a = c
			}
		}
		if math.Abs(a.Share-truth) <= a.Margin {
			covered++
		}
		sumMargin += a.Margin
	}
	rate := float64(covered) / reps
	t.Logf("quick count: the 95 %% interval covered the true share %.4f in %d of %d samples (%.1f %%); mean margin ±%.2f points",
		truth, covered, reps, rate*100, sumMargin/reps*100)
	line, _ := json.Marshal(map[string]any{"test": "TestQuickCountCoverage", "samples": reps, "covered": covered, "rate": rate,
		"truth": truth, "mean_margin": sumMargin / reps, "stations_per_sample": total})
	t.Log(string(line))
	if rate < 0.93 || rate > 0.97 {
		t.Fatalf("coverage %.1f %%, want 93 %% to 97 %%", rate*100)
	}
}
