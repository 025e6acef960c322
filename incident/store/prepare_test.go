package store_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// AddMany prepares records on several cores, ahead of the judging, in a
// bounded window, and looks them up among stored records in parallel. The
// answers and the store must still be exactly those of adding the records
// one by one: duplicates within one call (the copy judged before or
// after the original's batch is committed), records whose dependency
// comes later in the same call (quarantined, then released), forged
// signatures between good records, and calls long enough to fill the
// window (two cores: 8 chunks of 32 records).
func TestAddManyOnManyCoresEqualsOneByOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 0xc0e5))
	h := genHistory(t, rng)
	var base [][]byte
	for _, r := range h.valid {
		base = append(base, r.Raw)
	}
	for _, b := range append(append([]namedRaw(nil), h.invalid...), h.held...) {
		base = append(base, b.raw)
	}
	rng.Shuffle(len(base), func(a, b int) { base[a], base[b] = base[b], base[a] })
	var all [][]byte
	for round := range 5 {
		for i, raw := range base {
			all = append(all, raw)
			if round == 0 && i%4 == 1 {
				forged := slices.Clone(raw)
				forged[len(forged)-1] ^= 0x01 // the signature's last byte
				if _, err := incident.Decode(forged); err == nil {
					t.Fatalf("record %d with a flipped signature byte decodes", i)
				}
				all = append(all, forged)
			}
		}
		rng.Shuffle(len(base), func(a, b int) { base[a], base[b] = base[b], base[a] })
	}

	now := func() time.Time { return orderNow }
	one := openBadger(t, store.Options{Now: now})
	if _, err := one.Join(h.inviteFor(t, rng)); err != nil {
		t.Fatal(err)
	}
	want := make([]store.Result, len(all))
	for i, raw := range all {
		want[i] = one.Add(raw, "peer")
	}
	for _, procs := range []int{2, 8} {
		for _, chunk := range []int{len(all), 100} {
			t.Run(fmt.Sprintf("GOMAXPROCS %d, calls of %d", procs, chunk), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				s := openBadger(t, store.Options{Now: now})
				if _, err := s.Join(h.inviteFor(t, rng)); err != nil {
					t.Fatal(err)
				}
				var got []store.Result
				for start := 0; start < len(all); start += chunk {
					out, err := s.AddMany(all[start:min(start+chunk, len(all))], "peer", nil)
					if err != nil {
						t.Fatalf("AddMany: %v", err)
					}
					got = append(got, out...)
				}
				for i := range want {
					if got[i].ID != want[i].ID || got[i].Outcome != want[i].Outcome ||
						!slices.Equal(got[i].Released, want[i].Released) || fmt.Sprint(got[i].Err) != fmt.Sprint(want[i].Err) {
						t.Errorf("record %d: AddMany %s %v released %d, Add %s %v released %d", i,
							got[i].Outcome, got[i].Err, len(got[i].Released), want[i].Outcome, want[i].Err, len(want[i].Released))
					}
				}
				if g, w := mustCounts(t, s), mustCounts(t, one); fmt.Sprint(g) != fmt.Sprint(w) {
					t.Errorf("AddMany stored %v, one by one %v", g, w)
				}
				if g, w := mustQuarantine(t, s), mustQuarantine(t, one); g != w {
					t.Errorf("quarantine holds %d, one by one %d", g, w)
				}
				if g, w := listJSON(t, s, store.Filter{}), listJSON(t, one, store.Filter{}); g != w {
					t.Errorf("AddMany store lists differently:\n%s\nvs\n%s", g, w)
				}
				checkIndexes(t, s, orderFilters(h))
			})
		}
	}
}
