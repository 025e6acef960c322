package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/vigil-mesh/vigil/bench/reconsets"
	"github.com/vigil-mesh/vigil/sync/recon"
)

// vigilRecon is the configuration sync/mesh runs reconciliation with
// (sync/mesh/recon.go passes recon.Config{}: the defaults).
var vigilRecon = recon.Config{}

// plainRecon returns the defaults with range-only reconciliation (recon's
// own Negentropy-style mode) selected. It is the round-trip baseline only
// when the reference Negentropy (bench/negentropy) could not run, and is
// reported beside it otherwise. The switch is looked up by name
// (Config.RangeOnly) rather than compiled in: if it is gone, the
// fallback is the defaults, and the result says so.
func plainRecon() (recon.Config, bool) {
	var c recon.Config
	f := reflect.ValueOf(&c).Elem().FieldByName("RangeOnly")
	if !f.IsValid() || f.Kind() != reflect.Bool || !f.CanSet() {
		return c, false
	}
	f.SetBool(true)
	return c, true
}

// reconPair builds the two sets of a case (bench/reconsets, which
// bench/negentropy reads too).
func reconPair(n, d int, newest bool, seed uint64) (a, b *recon.Set) {
	p := reconsets.Make(reconsets.Case{N: n, D: d, Newest: newest}, seed)
	return recon.NewSet(reconItems(p.A)), recon.NewSet(reconItems(p.B))
}

func reconItems(its []reconsets.Item) []recon.Item {
	out := make([]recon.Item, len(its))
	for i, it := range its {
		out[i] = recon.Item(it)
	}
	return out
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

// negOutcome is one line of bench/negentropy's output: go-nostr's
// Negentropy on one case.
type negOutcome = reconsets.NegentropyOutcome

type negKey struct {
	n, d    int
	pattern string
}

// errNegentropyWrong is a reference run that worked but did not find the
// planted differences: a failure of the suite, not a missing baseline.
var errNegentropyWrong = errors.New("reference Negentropy did not find exactly the planted differences")

// negentropyModule finds bench/negentropy: the nested module sits under
// the repository root, which is the working directory or above it (make
// runs vigil-bench from the root).
func negentropyModule() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/vigil-mesh/vigil\n")) {
			mod := filepath.Join(dir, "bench", "negentropy")
			if _, err := os.Stat(filepath.Join(mod, "go.mod")); err != nil {
				return "", err
			}
			return mod, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("not run inside Vigil's source tree (no go.mod of github.com/vigil-mesh/vigil above the working directory)")
		}
		dir = up
	}
}

// runNegentropy builds bench/negentropy (its own module, with go-nostr)
// and runs it on the cases of this run: the same flags give it the same
// sizes and seed. It is built and then run, rather than through go run,
// so that a timeout ends the program itself. An error other than
// errNegentropyWrong means the reference could not be measured (no go
// command, module download refused, offline); it says why.
func runNegentropy(quick, large bool, seed uint64, work string, logf func(string, ...any)) (map[negKey]negOutcome, error) {
	mod, err := negentropyModule()
	if err != nil {
		return nil, err
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(work, "vigil-negentropy")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	build := exec.CommandContext(ctx, goCmd, "build", "-o", bin, ".")
	build.Dir = mod
	build.Env = append(os.Environ(), "GOWORK=off") // its own go.mod, whatever go.work says
	build.Stderr = &stderr
	logf("recon: building the reference Negentropy (%s)", mod)
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("go build in %s: %v: %s", mod, err, lastLines(stderr.String(), 5))
	}

	ctx, cancel = context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	stderr.Reset()
	run := exec.CommandContext(ctx, bin, fmt.Sprintf("-quick=%v", quick), fmt.Sprintf("-large=%v", large), fmt.Sprintf("-seed=%d", seed))
	run.Stderr = &stderr
	stdout, err := run.StdoutPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := run.Start(); err != nil {
		return nil, err
	}
	res := map[negKey]negOutcome{}
	var wrong []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var o negOutcome
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			continue // not a result line
		}
		if !o.Exact {
			wrong = append(wrong, fmt.Sprintf("N=%d d=%d %s: found %d", o.N, o.D, o.Pattern, o.Found))
		}
		res[negKey{o.N, o.D, o.Pattern}] = o
		logf("recon: Negentropy N=%d d=%d %s: %d B, %d round trips", o.N, o.D, o.Pattern, o.Bytes, o.RoundTrips)
	}
	waitErr := run.Wait()
	if len(wrong) > 0 {
		return nil, fmt.Errorf("%w: %s", errNegentropyWrong, strings.Join(wrong, "; "))
	}
	if waitErr != nil {
		return nil, fmt.Errorf("%s: %v after %.0f s: %s", bin, waitErr, time.Since(start).Seconds(), lastLines(stderr.String(), 5))
	}
	logf("recon: reference Negentropy ran %d cases in %.1f s", len(res), time.Since(start).Seconds())
	return res, nil
}

// lastLines returns the last n non-empty lines of s, joined by " | ".
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return "(no output)"
	}
	return strings.Join(lines, " | ")
}

// reconGroup measures every case: Vigil's bytes and round trips against
// the reference Negentropy's (go-nostr, run from bench/negentropy). When
// the reference cannot run, it says so and why, and the round trips are
// compared with recon's own RangeOnly mode instead.
func reconGroup(rs *Results, o benchOptions, logf func(string, ...any)) error {
	ns, ds := reconsets.Sizes(o.quick, o.large)
	work, err := os.MkdirTemp("", "vigil-bench-negentropy-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	neg, negErr := runNegentropy(o.quick, o.large, o.seed, work, logf)
	if errors.Is(negErr, errNegentropyWrong) {
		return negErr
	}
	if negErr != nil {
		fmt.Printf("recon: the reference Negentropy (go-nostr nip77, bench/negentropy) was NOT measured: %v\n", negErr)
		fmt.Println("recon: round trips are compared with recon's own RangeOnly mode instead")
	}
	return profile(o, "recon", func() error { return runRecon(rs, ns, ds, o.seed, neg, negErr, logf) })
}

// runRecon measures every case. neg holds the reference Negentropy's
// outcomes; negErr says why there are none.
func runRecon(rs *Results, ns, ds []int, seed uint64, neg map[negKey]negOutcome, negErr error, log func(string, ...any)) error {
	rangeOnly, found := plainRecon()
	same := reflect.DeepEqual(vigilRecon, rangeOnly)
	for _, c := range reconsets.Cases(ns, ds) {
		n, d := c.N, c.D
		a, b := reconPair(n, d, c.Newest, seed)
		v, err := reconcile(a, b, vigilRecon)
		if err != nil {
			return fmt.Errorf("recon N=%d d=%d %s: %w", n, d, c.Pattern(), err)
		}
		if v.found != d {
			return fmt.Errorf("recon N=%d d=%d %s: found %d differences, want %d", n, d, c.Pattern(), v.found, d)
		}
		plain := v
		if !same {
			if plain, err = reconcile(a, b, rangeOnly); err != nil {
				return err
			}
		}
		var plainNote string
		switch {
		case !found:
			plainNote = "recon.Config has no RangeOnly switch any more (RangeOnly = the defaults)"
		case same:
			plainNote = "Vigil's mesh runs recon's plain range mode"
		default:
			plainNote = fmt.Sprintf("recon RangeOnly: %d B, %d round trips", plain.bytes, plain.rounds)
		}
		ng, haveNeg := neg[negKey{n, d, c.Pattern()}]
		why := negErr
		if !haveNeg && why == nil {
			why = errors.New("bench/negentropy printed no line for this case")
		}

		p := map[string]any{"N": n, "d": d, "pattern": c.Pattern()}
		limit := 3*float64(d*32) + 2048
		r := Result{Name: "recon.bytes", Params: p, Value: float64(v.bytes), Unit: "B",
			Target: fmt.Sprintf("≤ 3×d×32 B + 2 KiB = %.0f B", limit), Met: boolp(float64(v.bytes) <= limit),
			Note: fmt.Sprintf("whole ID list %d B (%.4f of it); %d messages", n*32, float64(v.bytes)/float64(n*32), v.msgs)}
		if haveNeg {
			r.Note += fmt.Sprintf("; Negentropy %d B (recon.bytes_negentropy)", ng.Bytes)
		}
		r = r.withBaseline("d×32", float64(d*32))
		r.Params = map[string]any{"N": n, "d": d, "pattern": c.Pattern(), "_full_id_list_bytes": n * 32}
		rs.add(r)

		if haveNeg {
			nb := Result{Name: "recon.bytes_negentropy", Params: p, Value: float64(ng.Bytes), Unit: "B",
				Note: fmt.Sprintf("%s nip77/negentropy, frame size limit %d B (largest message %d B): client %d B, server %d B, %d messages; Vigil's recon %d B (%.2f× Negentropy's)",
					ng.Impl, ng.FrameLimit, ng.MaxMessage, ng.BytesClient, ng.BytesServer, ng.Messages, v.bytes, float64(v.bytes)/float64(ng.Bytes))}
			rs.add(nb.withBaseline("d×32", float64(d*32)))
		}

		base, baseName := float64(ng.RoundTrips), "Negentropy"
		if !haveNeg {
			base, baseName = float64(plain.rounds), "recon RangeOnly; Negentropy not measured"
		}
		rt := Result{Name: "recon.round_trips", Params: p, Value: float64(v.rounds), Unit: "",
			Target: fmt.Sprintf("≤ baseline + 1 = %.0f", base+1), Met: boolp(float64(v.rounds) <= base+1)}
		rt = rt.withBaseline(baseName, base)
		if haveNeg {
			rt.Note = fmt.Sprintf("baseline: go-nostr nip77/negentropy, %d B in %d messages; %s", ng.Bytes, ng.Messages, plainNote)
		} else {
			rt.Note = fmt.Sprintf("the reference Negentropy was not measured (%v); baseline: %s", why, plainNote)
		}
		rs.add(rt)
		if haveNeg {
			log("recon N=%d d=%d %s: %d B, %d round trips (Negentropy %d B, %d)", n, d, c.Pattern(), v.bytes, v.rounds, ng.Bytes, ng.RoundTrips)
		} else {
			log("recon N=%d d=%d %s: %d B, %d round trips", n, d, c.Pattern(), v.bytes, v.rounds)
		}
	}
	return nil
}
