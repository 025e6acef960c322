package recon

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus in testdata/fuzz/FuzzReply")

// fuzzCfg makes sessions with several rounds, IdLists and deferrals out of
// a few hundred items, so mid-session states are reached quickly.
var fuzzCfg = Config{Branch: 4, IDListThreshold: 8, MaxMessageBytes: 512, MaxRounds: 1000}

var fuzzSets = sync.OnceValues(func() (*Set, *Set) {
	c := genPair(rand.New(rand.NewPCG(99, 99)), patScattered, 400, 40)
	return NewSet(c.a), NewSet(c.b)
})

// fuzzSessions returns an initiator and a responder after steps Reply
// calls of a legitimate exchange, and the side expected to receive next.
func fuzzSessions(steps int) (ini, resp, next *Session, msgs [][]byte) {
	a, b := fuzzSets()
	ini, resp = NewInitiator(a, fuzzCfg), NewResponder(b, fuzzCfg)
	m, err := ini.Initiate()
	if err != nil {
		panic(err)
	}
	msgs = append(msgs, m)
	cur, other := resp, ini
	for range steps {
		out, done, err := cur.Reply(m)
		if err != nil {
			panic(err)
		}
		if done {
			break
		}
		msgs = append(msgs, out)
		m, cur, other = out, other, cur
	}
	return ini, resp, cur, msgs
}

// FuzzReply feeds arbitrary bytes to a responder or an initiator, fresh or
// mid-session. stage>>1 (mod 8) is the number of legitimate Reply calls
// made first; stage&1 chooses the side expected next (0) or the other one
// (1). Reply must never panic; what it accepts it must answer within the
// limits and in canonical form; what it rejects kills the session.
func FuzzReply(f *testing.F) {
	f.Add([]byte{wireVersion}, byte(0))
	f.Fuzz(func(t *testing.T, data []byte, stage byte) {
		ini, resp, next, _ := fuzzSessions(int(stage>>1) % 8)
		target := next
		if stage&1 == 1 && next == ini {
			target = resp
		} else if stage&1 == 1 {
			target = ini
		}
		before := len(target.need)
		out, done, err := target.Reply(data)
		if err != nil {
			known := false
			for _, e := range []error{ErrMalformed, ErrProtocol, ErrMessageTooLarge, ErrTooManyRounds, ErrMisuse} {
				known = known || errors.Is(err, e)
			}
			if !known {
				t.Fatalf("unclassified error: %v", err)
			}
			if errors.Is(err, ErrMalformed) && len(target.need) != before {
				t.Fatal("malformed message changed Need")
			}
			if _, _, err2 := target.Reply([]byte{wireVersion}); err2 == nil {
				t.Fatal("session alive after an error")
			}
			return
		}
		if out == nil {
			if !done {
				t.Fatal("nil out without done")
			}
			return
		}
		if len(out) > fuzzCfg.MaxMessageBytes {
			t.Fatalf("reply of %d bytes", len(out))
		}
		re, err := reencode(out, fuzzCfg.IDListThreshold)
		if err != nil || !bytes.Equal(re, out) {
			t.Fatalf("reply does not decode canonically: %v", err)
		}
		if got := len(target.need) - before; got > len(data)/32 {
			t.Fatalf("learned %d IDs from %d bytes", got, len(data))
		}
	})
}

// TestFuzzCorpus keeps the seed corpus in testdata/fuzz/FuzzReply equal to
// what this test generates: every message of a real exchange at the stage
// that receives it, and the malformed-message table. Run with -update
// after changing the wire format.
func TestFuzzCorpus(t *testing.T) {
	_, _, _, msgs := fuzzSessions(64)
	type seed struct {
		name  string
		data  []byte
		stage byte
	}
	var seeds []seed
	for k, m := range msgs {
		if k >= 16 {
			break
		}
		seeds = append(seeds, seed{fmt.Sprintf("exchange-%02d", k), m, byte(k%8) << 1})
	}
	seeds = append(seeds,
		seed{"empty", nil, 0},
		seed{"final", []byte{wireVersion}, 3},
		seed{"idlist-bad-order", msg().inf().raw(modeIDList, 2).id(2).id(1), 2},
		seed{"deep-bound", msg(5, 32).raw(bytes.Repeat([]byte{7}, 32)...).raw(modeFingerprint).fp(), 4},
	)
	dir := filepath.Join("testdata", "fuzz", "FuzzReply")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range seeds {
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbyte(%q)\n", s.data, s.stage)
		path := filepath.Join(dir, s.name)
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestFuzzCorpus -update)", err)
		}
		if string(got) != want {
			t.Errorf("%s is stale (run go test -run TestFuzzCorpus -update)", path)
		}
	}
}
