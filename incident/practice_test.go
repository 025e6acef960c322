package incident

import (
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// The practice mark is an optional genesis field: a real mission's genesis
// encodes exactly as before the field existed (no key 7), so mission IDs
// and signatures made by earlier versions are unchanged, and a practice
// genesis carries it signed and decodes with it.
func TestGenesisPracticeField(t *testing.T) {
	nonce := make([]byte, 16)
	for _, practice := range []bool{false, true} {
		raw, err := Marshal(MissionPayload{Name: "Marenta", Nonce: nonce, Taxonomy: TaxonomyVersion, Practice: practice})
		if err != nil {
			t.Fatal(err)
		}
		var m map[uint64]any
		if err := cbor.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if _, has := m[7]; has != practice {
			t.Errorf("practice %v: key 7 present = %v", practice, has)
		}
		s := signerFor(t, "founder")
		g, err := s.Sign(ID{}, KindMission, t0, MissionPayload{Name: "Marenta", Nonce: nonce, Taxonomy: TaxonomyVersion, Practice: practice})
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(g.Raw)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := NewMissionState(back)
		if err != nil {
			t.Fatal(err)
		}
		if ms.Mission.Practice != practice {
			t.Errorf("decoded Practice = %v, want %v", ms.Mission.Practice, practice)
		}
	}
}
