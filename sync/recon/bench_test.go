package recon

import (
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

// BenchmarkReconcile reports, per reconciliation, the bytes sent in both
// directions (bytes/op), the initiator's messages (rounds/op, i.e. round
// trips), the messages in both directions (msgs/op), and two baselines:
// sending every ID (full-ids-bytes = N*32) and sending only the
// difference (diff-ids-bytes = d*32). Sets are built outside the timer;
// run with -benchtime=1x.
func BenchmarkReconcile(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, d := range []int{1, 10, 100, 1000} {
			for _, newest := range []bool{false, true} {
				name := "scattered"
				if newest {
					name = "newest"
				}
				b.Run(fmt.Sprintf("N=%d/d=%d/%s", n, d, name), func(b *testing.B) {
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
					b.ReportMetric(float64(r.ini.BytesSent()+r.resp.BytesSent()), "bytes/op")
					b.ReportMetric(float64(r.ini.Rounds()), "rounds/op")
					b.ReportMetric(float64(r.msgs), "msgs/op")
					b.ReportMetric(float64(n*32), "full-ids-bytes")
					b.ReportMetric(float64(d*32), "diff-ids-bytes")
				})
			}
		}
	}
}
