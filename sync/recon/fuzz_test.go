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

// fuzzSetups are the exchanges FuzzReply starts from (stage>>4 & 3):
// coded symbols that decode after a few batches; the same sets by ranges
// alone; sets too different for coding, where the initiator falls back
// to ranges after the sketch; and sets that differ in their newest items.
var fuzzSetups = [4]struct {
	pat       pattern
	n, d      int
	rangeOnly bool
}{
	{patScattered, 400, 40, false},
	{patScattered, 400, 40, true},
	{patDisjoint, 150, 0, false},
	{patNewest, 400, 8, false},
}

var fuzzSets = sync.OnceValue(func() (sets [4][2]*Set) {
	for k, s := range fuzzSetups {
		c := genPair(rand.New(rand.NewPCG(99, uint64(99+k))), s.pat, s.n, s.d)
		sets[k] = [2]*Set{NewSet(c.a), NewSet(c.b)}
	}
	return sets
})

// fuzzSessions returns an initiator and a responder of setup k after steps
// Reply calls of a legitimate exchange, and the side expected to receive
// next.
func fuzzSessions(k, steps int) (ini, resp, next *Session, msgs [][]byte) {
	ab := fuzzSets()[k]
	cfg := fuzzCfg
	cfg.RangeOnly = fuzzSetups[k].rangeOnly
	ini, resp = NewInitiator(ab[0], cfg), NewResponder(ab[1], cfg)
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
// mid-session. stage>>4 (mod 4) picks one of fuzzSetups; stage>>1 (mod 8)
// is the number of legitimate Reply calls made first; stage&1 chooses the
// side expected next (0) or the other one (1). Reply must never panic;
// what it accepts it must answer within the limits and in canonical form;
// what it rejects kills the session; Need never holds more than one ID per
// 32 bytes received.
func FuzzReply(f *testing.F) {
	f.Add([]byte{wireVersion}, byte(0))
	f.Fuzz(func(t *testing.T, data []byte, stage byte) {
		ini, resp, next, _ := fuzzSessions(int(stage>>4)%4, int(stage>>1)%8)
		target := next
		if stage&1 == 1 && next == ini {
			target = resp
		} else if stage&1 == 1 {
			target = ini
		}
		before := len(target.need)
		out, done, err := target.Reply(data)
		if got, limit := len(target.need), target.BytesReceived()/32; got > limit {
			t.Fatalf("Need holds %d IDs after %d bytes received", got, target.BytesReceived())
		}
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
	})
}

// TestFuzzCorpus keeps the seed corpus in testdata/fuzz/FuzzReply equal to
// what this test generates: every message of a real exchange at the stage
// that receives it, and the malformed-message table. Run with -update
// after changing the wire format.
func TestFuzzCorpus(t *testing.T) {
	type seed struct {
		name  string
		data  []byte
		stage byte
	}
	var seeds []seed
	for setup := range fuzzSetups {
		_, _, _, msgs := fuzzSessions(setup, 64)
		for k, m := range msgs {
			if k >= 8 {
				break
			}
			seeds = append(seeds, seed{fmt.Sprintf("exchange-%d-%02d", setup, k), m, byte(setup<<4) | byte(k%8)<<1})
		}
	}
	var sym [symbolSize]byte
	sym[36] = 1
	seeds = append(seeds,
		seed{"empty", nil, 0},
		seed{"final", []byte{wireVersion}, 3},
		seed{"idlist-bad-order", msg().inf().raw(modeIDList, 2).id(2).id(1), 2},
		seed{"deep-bound", msg(5, 32).raw(bytes.Repeat([]byte{7}, 32)...).raw(modeFingerprint).fp(), 4},
		seed{"coded-first", kmsg(kindCoded, 0, 3).raw(make([]byte, fpSize)...).raw(1, 1).raw(sym[:]...), 0},
		seed{"coded-late", kmsg(kindCoded, 6, 9, 1).raw(sym[:]...), 2},
		seed{"sketch", kmsg(kindSketch, 9, 0, 2, 1, 2), 1},
		seed{"more", kmsg(kindMore, 20), 4},
		seed{"tail", kmsg(kindTail, 5, 0, 1).id(3), 0x33},
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

// FuzzExchange runs whole honest exchanges on generated sets: they must
// end with exactly the symmetric difference, within the message limit.
func FuzzExchange(f *testing.F) {
	f.Add(uint64(1), uint16(3000), uint16(40), byte(patScattered), byte(0))
	f.Add(uint64(2), uint16(3000), uint16(40), byte(patNewest), byte(0))
	f.Add(uint64(3), uint16(500), uint16(0), byte(patDisjoint), byte(2))
	f.Fuzz(func(t *testing.T, seed uint64, n, d uint16, pat, flags byte) {
		c := genPair(rand.New(rand.NewPCG(seed, 5)), pattern(pat%byte(numPatterns)), int(n)%3000, int(d)%400)
		cfg := Config{RangeOnly: flags&1 == 1, MaxRounds: 1 << 20}
		if flags&2 == 2 {
			cfg.MaxMessageBytes = MinMaxMessageBytes + int(flags>>2)*16
		}
		runCase(t, c, cfg)
	})
}
