package recon

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchPair builds sets of n items where d items differ: about half are
// only in A, the rest only in B. "scattered" differences have random
// times; "newest" ones are newer than every shared item (recent reports
// not yet synced).
func benchPair(n, d int, newest bool) (a, b *Set) {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(d)))
	pat := patScattered
	if newest {
		pat = patNewest
	}
	g := newGen(rng, pat)
	var as, bs []Item
	for range n - (d+1)/2 {
		it := g.item(false)
		as, bs = append(as, it), append(bs, it)
	}
	for k := range d {
		it := g.item(newest)
		if k%2 == 0 {
			as = append(as, it)
		} else {
			bs = append(bs, it)
		}
	}
	return NewSet(as), NewSet(bs)
}

// benchSizes are the set sizes BenchmarkReconcile runs; -recon.big adds
// a million items (about 1 GiB of memory and a minute).
func benchSizes() []int {
	if *benchBig {
		return []int{10_000, 100_000, 1_000_000}
	}
	return []int{10_000, 100_000}
}

var benchBig = flag.Bool("recon.big", false, "BenchmarkReconcile: also run N = 1,000,000")

// benchJSON is one BENCHJSON line.
type benchJSON struct {
	Name   string `json:"name"`
	Params struct {
		N       int    `json:"n"`
		D       int    `json:"d"`
		Pattern string `json:"pattern"`
	} `json:"params"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Baseline float64 `json:"baseline"`
	Ratio    float64 `json:"ratio"`
	Target   float64 `json:"target"`
	Met      bool    `json:"met"`
}

// BenchmarkReconcile reconciles sets of N items that differ in d items,
// scattered or all among the newest, with the default Config and with
// RangeOnly (plain Negentropy). It reports, per reconciliation, the bytes
// sent in both directions (bytes/op), the initiator's messages (rounds/op,
// i.e. round trips), the messages in both directions (msgs/op), the
// baselines of sending every ID (full-ids-bytes = N·32) and only the
// difference (diff-ids-bytes = d·32), the target 3·d·32+2048 bytes
// (target-bytes), bytes/(d·32) (ratio), the
// plain-Negentropy bytes and rounds, and met = 1 when bytes <= target
// and rounds <= plain rounds + 1. For each case it also prints a table
// line and two JSON lines prefixed with "BENCHJSON " (bytes, then rounds)
// on stdout, all after the last case. Sets are built outside the timer;
// run with -benchtime=1x.
func BenchmarkReconcile(b *testing.B) {
	var lines []string // printed at the end: a case's body may run more than once
	done := map[string]bool{}
	defer func() {
		for _, l := range lines {
			fmt.Println(l)
		}
	}()
	for _, n := range benchSizes() {
		for _, d := range []int{1, 10, 100, 1000} {
			for _, newest := range []bool{false, true} {
				pattern := "scattered"
				if newest {
					pattern = "newest"
				}
				name := fmt.Sprintf("N=%d/d=%d/%s", n, d, pattern)
				b.Run(name, func(b *testing.B) {
					sa, sb := benchPair(n, d, newest)
					b.ResetTimer()
					var r exchangeResult
					for range b.N {
						r = exchangeChecked(b, sa, sb, Config{}, false)
					}
					b.StopTimer()
					if got := len(r.ini.Have()) + len(r.ini.Need()) + len(r.resp.Have()) + len(r.resp.Need()); got != d {
						b.Fatalf("found %d differences, want %d", got, d)
					}
					plain := exchangeChecked(b, sa, sb, Config{RangeOnly: true}, false)
					bytes := r.ini.BytesSent() + r.resp.BytesSent()
					rounds := r.ini.Rounds()
					plainBytes := plain.ini.BytesSent() + plain.resp.BytesSent()
					plainRounds := plain.ini.Rounds()
					target := 3*d*32 + 2048
					ratio := float64(bytes) / float64(d*32)
					bytesMet, roundsMet := bytes <= target, rounds <= plainRounds+1
					met := 0.0
					if bytesMet && roundsMet {
						met = 1
					}
					b.ReportMetric(float64(bytes), "bytes/op")
					b.ReportMetric(float64(rounds), "rounds/op")
					b.ReportMetric(float64(r.msgs), "msgs/op")
					b.ReportMetric(float64(n*32), "full-ids-bytes")
					b.ReportMetric(float64(d*32), "diff-ids-bytes")
					b.ReportMetric(float64(target), "target-bytes")
					b.ReportMetric(ratio, "ratio")
					b.ReportMetric(float64(plainBytes), "plain-bytes")
					b.ReportMetric(float64(plainRounds), "plain-rounds")
					b.ReportMetric(met, "met")
					if done[name] {
						return
					}
					done[name] = true
					lines = append(lines, fmt.Sprintf("recon N=%-7d d=%-4d %-9s bytes %7d rounds %d | target %6d ratio %6.2f met %-5v | plain bytes %7d rounds %d",
						n, d, pattern, bytes, rounds, target, ratio, bytesMet && roundsMet, plainBytes, plainRounds))
					var j benchJSON
					j.Name = "BenchmarkReconcile/" + name
					j.Params.N, j.Params.D, j.Params.Pattern = n, d, pattern
					j.Value, j.Unit, j.Baseline, j.Ratio, j.Target, j.Met = float64(bytes), "bytes", float64(d*32), ratio, float64(target), bytesMet
					line, _ := json.Marshal(j)
					lines = append(lines, "BENCHJSON "+string(line))
					j.Value, j.Unit, j.Baseline, j.Ratio, j.Target, j.Met = float64(rounds), "rounds", float64(plainRounds),
						float64(rounds)/float64(plainRounds), float64(plainRounds+1), roundsMet
					line, _ = json.Marshal(j)
					lines = append(lines, "BENCHJSON "+string(line))
				})
			}
		}
	}
}
