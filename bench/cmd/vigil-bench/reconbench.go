package main

import (
	"fmt"
	"math/rand/v2"
	"reflect"

	"github.com/vigil-mesh/vigil/sync/recon"
)

// vigilRecon is the configuration sync/mesh runs reconciliation with
// (sync/mesh/recon.go passes recon.Config{}: the defaults). The baseline
// the issue names is Negentropy: recon's plain range-based mode at its
// defaults, which plainRecon selects.
var vigilRecon = recon.Config{}

// plainRecon returns the defaults with range-only reconciliation (plain
// Negentropy) selected. recon is being reworked while this suite is
// written, so the switch is looked up by name (Config.RangeOnly) rather
// than compiled in: if it is gone, the baseline is the defaults, and the
// result says so.
func plainRecon() (recon.Config, bool) {
	var c recon.Config
	f := reflect.ValueOf(&c).Elem().FieldByName("RangeOnly")
	if !f.IsValid() || f.Kind() != reflect.Bool || !f.CanSet() {
		return c, false
	}
	f.SetBool(true)
	return c, true
}

const reconT0 = 1_700_000_000_000 // ms

// reconPair builds two sets of n items each that differ by d items (about
// half only in A, the rest only in B), as sync/recon's own benchmark
// does. Scattered differences have random claimed times over 30 days;
// newest ones are newer than every shared item (recent reports not yet
// synced). IDs are random, as record hashes are.
func reconPair(n, d int, newest bool, seed uint64) (a, b *recon.Set) {
	rng := rand.New(rand.NewPCG(seed^uint64(n), uint64(d)))
	item := func(newer bool) recon.Item {
		var it recon.Item
		for k := 0; k < 32; k += 8 {
			v := rng.Uint64()
			for j := range 8 {
				it.ID[k+j] = byte(v >> (8 * j))
			}
		}
		it.Time = reconT0 + uint64(rng.IntN(30*24*3600*1000))
		if newer {
			it.Time += 31 * 24 * 3600 * 1000
		}
		return it
	}
	shared := n - (d+1)/2
	as := make([]recon.Item, 0, n)
	bs := make([]recon.Item, 0, n)
	for range shared {
		it := item(false)
		as, bs = append(as, it), append(bs, it)
	}
	for k := range d {
		it := item(newest)
		if k%2 == 0 {
			as = append(as, it)
		} else {
			bs = append(bs, it)
		}
	}
	return recon.NewSet(as), recon.NewSet(bs)
}

type reconOutcome struct {
	bytes, rounds, msgs, found int
}

// reconcile runs one in-memory reconciliation, initiator on a.
func reconcile(a, b *recon.Set, c recon.Config) (reconOutcome, error) {
	ini, resp := recon.NewInitiator(a, c), recon.NewResponder(b, c)
	msg, err := ini.Initiate()
	if err != nil {
		return reconOutcome{}, err
	}
	var o reconOutcome
	cur, other := resp, ini
	for step := 0; ; step++ {
		o.msgs++
		if step > 1<<16 {
			return o, fmt.Errorf("no end after %d messages", step)
		}
		out, done, err := cur.Reply(msg)
		if err != nil {
			return o, err
		}
		if done {
			if out != nil {
				// cur ended with the final empty message: the other side
				// reads it and stops.
				o.msgs++
				if _, _, err := other.Reply(out); err != nil {
					return o, err
				}
			}
			break
		}
		msg = out
		cur, other = other, cur
	}
	o.bytes = ini.BytesSent() + resp.BytesSent()
	o.rounds = ini.Rounds()
	o.found = len(ini.Have()) + len(ini.Need()) + len(resp.Have()) + len(resp.Need())
	return o, nil
}

type reconCase struct {
	n, d   int
	newest bool
}

func (c reconCase) pattern() string {
	if c.newest {
		return "newest"
	}
	return "scattered"
}

// runRecon measures every case: Vigil's bytes and round trips, and the
// baseline's round trips.
func runRecon(rs *Results, ns, ds []int, seed uint64, log func(string, ...any)) error {
	negentropyRecon, found := plainRecon()
	same := reflect.DeepEqual(vigilRecon, negentropyRecon)
	for _, n := range ns {
		for _, d := range ds {
			if d > n/2 {
				continue
			}
			for _, newest := range []bool{false, true} {
				c := reconCase{n, d, newest}
				a, b := reconPair(n, d, newest, seed)
				v, err := reconcile(a, b, vigilRecon)
				if err != nil {
					return fmt.Errorf("recon N=%d d=%d %s: %w", n, d, c.pattern(), err)
				}
				if v.found != d {
					return fmt.Errorf("recon N=%d d=%d %s: found %d differences, want %d", n, d, c.pattern(), v.found, d)
				}
				base := v
				if !same {
					if base, err = reconcile(a, b, negentropyRecon); err != nil {
						return err
					}
				}
				p := map[string]any{"N": n, "d": d, "pattern": c.pattern()}
				limit := 3*float64(d*32) + 2048
				r := Result{Name: "recon.bytes", Params: p, Value: float64(v.bytes), Unit: "B",
					Target: fmt.Sprintf("≤ 3×d×32 B + 2 KiB = %.0f B", limit), Met: boolp(float64(v.bytes) <= limit),
					Note: fmt.Sprintf("whole ID list %d B (%.4f of it); %d messages", n*32, float64(v.bytes)/float64(n*32), v.msgs)}
				r = r.withBaseline("d×32", float64(d*32))
				r.Params = map[string]any{"N": n, "d": d, "pattern": c.pattern(), "_full_id_list_bytes": n * 32}
				rs.add(r)
				rt := Result{Name: "recon.round_trips", Params: p, Value: float64(v.rounds), Unit: "",
					Target: fmt.Sprintf("≤ Negentropy's + 1 = %d", base.rounds+1), Met: boolp(v.rounds <= base.rounds+1)}
				rt = rt.withBaseline("Negentropy", float64(base.rounds))
				switch {
				case !found:
					rt.Note = "recon.Config has no RangeOnly switch any more: the baseline is the defaults, the same as Vigil's"
				case same:
					rt.Note = "Vigil's mesh runs the plain range-based mode, so it is its own baseline"
				default:
					rt.Note = fmt.Sprintf("baseline: recon.Config{RangeOnly: true}, %d B in %d messages", base.bytes, base.msgs)
				}
				rs.add(rt)
				log("recon N=%d d=%d %s: %d B, %d round trips", n, d, c.pattern(), v.bytes, v.rounds)
			}
		}
	}
	return nil
}
