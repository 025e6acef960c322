package act

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// benchWorld is a national mission for a benchmark: a coordinator's store
// holding a generated mission of observers members, and the records a
// benchmark signs as that coordinator, added together by add.
type benchWorld struct {
	m      *gen.Mission
	st     *store.Store
	ms     *incident.MissionState
	signer *incident.Signer
	at     time.Time // the claimed time of what is signed
	raws   [][]byte
}

func newBenchWorld(b *testing.B, observers int, seed uint64) *benchWorld {
	b.Helper()
	m, err := gen.NewMission(filepath.Join(b.TempDir(), "desk"), observers, seed)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Founder.Close() })
	if err := gen.AddAll(m.Founder, m.Members, "bench"); err != nil {
		b.Fatal(err)
	}
	ms, err := m.Founder.Mission()
	if err != nil {
		b.Fatal(err)
	}
	return &benchWorld{m: m, st: m.Founder, ms: ms, signer: m.Founder.Signer(), at: time.Now().Add(-24 * time.Hour)}
}

// benchCode is station i's code.
func benchCode(i int) string { return fmt.Sprintf("PS-%05d", i) }

// sign signs a record as the coordinator, to be added by add.
func (w *benchWorld) sign(b *testing.B, k incident.Kind, at time.Time, p any) *incident.Signed {
	b.Helper()
	rec, err := w.signer.Sign(w.m.ID, k, at, p)
	if err != nil {
		b.Fatal(err)
	}
	w.raws = append(w.raws, rec.Raw)
	return rec
}

// registry signs n stations as one registry import, station i made by
// station(i) (its code and snapshot are set here).
func (w *benchWorld) registry(b *testing.B, n int, station func(i int) incident.StationPayload) {
	b.Helper()
	snap := gen.RandomBytes(32)
	ids := make([]incident.ID, 0, n)
	for i := range n {
		p := station(i)
		p.Code, p.Snapshot = benchCode(i), snap
		ids = append(ids, w.sign(b, incident.KindStation, w.at, p).ID)
	}
	w.sign(b, incident.KindRegistry, w.at.Add(time.Second), incident.RegistryPayload{Snapshot: snap, Count: uint64(n), Root: incident.RegistryRoot(ids)})
}

// desk stores what the world signed and more, and returns the
// coordinator's desk over it.
func (w *benchWorld) desk(b *testing.B, more [][]byte) *Desk {
	b.Helper()
	if err := gen.AddAll(w.st, append(w.raws, more...), "bench"); err != nil {
		b.Fatal(err)
	}
	return New(w.st)
}

// printBenchJSON prints one measurement as the suite's machine-readable
// line (bench/README.md): "BENCHJSON " and the fields as JSON.
// benchView times view: its first call (cold: it opens what it reads)
// once, then warm calls as the benchmark's loop, each result checked.
// It reports the cold time as cold-ms and returns the last result with
// the warm time per call and the cold time.
func benchView[T any](b *testing.B, view func() (T, error), check func(T)) (last T, perOp, cold time.Duration) {
	b.Helper()
	start := time.Now()
	first, err := view()
	if err != nil {
		b.Fatal(err)
	}
	cold = time.Since(start)
	check(first)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if last, err = view(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	check(last)
	b.ReportMetric(float64(cold.Milliseconds()), "cold-ms")
	return last, b.Elapsed() / time.Duration(b.N), cold
}

func printBenchJSON(fields map[string]any) {
	line, _ := json.Marshal(fields)
	fmt.Println("BENCHJSON " + string(line))
}
