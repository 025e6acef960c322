package sms

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

// FuzzDecode feeds Decode hostile text against the fixed mission of the
// round-trip test (seed 1): it must never panic, must fail with exactly
// one sentinel in one line, and whatever it accepts must be a record that
// incident.Decode accepts and that Encode writes back as the same text.
func FuzzDecode(f *testing.F) {
	g := newGen(f, 1, 60)
	for range 24 {
		rec, _ := g.record(f)
		text := encode(f, rec)
		f.Add(text)
		f.Add(breakLines(g.rng, text))
		f.Add(text[:len(text)-3])
		f.Add(text[len(text)/2:] + text[:len(text)/2])
	}
	for _, s := range []string{"", "Yes", "Polling station 12 closed, police outside", strings.Repeat("A", MinChars), strings.Repeat("J", MaxChars)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		raw, err := Decode(text, g.dir)
		if err != nil {
			checkDecodeErr(t, err)
			return
		}
		s, err := incident.Decode(raw)
		if err != nil {
			t.Fatalf("Decode returned bytes incident.Decode refuses: %v", err)
		}
		again, err := Encode(s)
		if err != nil {
			// Only a member can sign such a record (a seal other than
			// the compact one): decoding it is right, encoding it is not.
			return
		}
		compact, _ := compactText(text) // Decode took it, so it is well formed
		if again != compact {
			t.Fatalf("text %q decodes to a record whose text is %q", compact, again)
		}
		if back, err := Decode(again, g.dir); err != nil || !bytes.Equal(back, raw) {
			t.Fatalf("re-encoded text does not decode to the same bytes: %v", err)
		}
	})
}
