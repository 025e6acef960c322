package mesh_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/sync/mesh"
)

// BenchmarkConvergeAfterHeal: N loopback nodes in two halves, each half
// connected inside and converged on its own reports (two per node); the
// timed part is from the one bridge connection to every store holding
// the union. Reports the reconciliation bytes and records moved after the
// heal.
func BenchmarkConvergeAfterHeal(b *testing.B) {
	for _, n := range []int{10, 20} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			var bytes, moved, rounds int
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				r := seeded(b)
				m := newMission(b, n)
				es := make([]*mesh.Engine, n)
				for k := range es {
					es[k] = m.start(k, noReceipts)
				}
				half := n / 2
				randomTree(b, r, es[:half], 1)
				randomTree(b, r, es[half:], 1)
				for k, st := range m.stores {
					report(b, st, fmt.Sprintf("node %d a", k))
					report(b, st, fmt.Sprintf("node %d b", k))
				}
				waitConverged(b, 60*time.Second, len(union(b, m.stores[:half]...)), m.stores[:half]...)
				waitConverged(b, 60*time.Second, len(union(b, m.stores[half:]...)), m.stores[half:]...)
				want := len(union(b, m.stores...))
				for _, e := range es { // what moved before the heal is not counted
					for len(e.Results()) > 0 {
						<-e.Results()
					}
				}
				ctx, cancel := context.WithCancel(context.Background())
				var mu sync.Mutex
				var wg sync.WaitGroup
				for _, e := range es {
					wg.Add(1)
					go func(e *mesh.Engine) {
						defer wg.Done()
						for {
							select {
							case <-ctx.Done():
								return
							case res := <-e.Results():
								mu.Lock()
								bytes += res.ReconBytes
								moved += res.Received
								rounds += res.Rounds
								mu.Unlock()
							}
						}
					}(e)
				}
				b.StartTimer()
				connect(b, es[r.IntN(half)], es[half+r.IntN(n-half)])
				waitConverged(b, 120*time.Second, want, m.stores...)
				b.StopTimer()
				cancel()
				wg.Wait()
				for _, e := range es {
					e.Close()
				}
			}
			b.ReportMetric(float64(bytes)/float64(b.N), "recon-B/op")
			b.ReportMetric(float64(moved)/float64(b.N), "records/op")
			b.ReportMetric(float64(rounds)/float64(b.N), "rounds/op")
		})
	}
}
