package incident

import (
	"bytes"
	"testing"
)

// bech32 matches the BIP 173 test vector, and an identity made from a
// scalar is one age accepts, the same every time.
func TestAgeIdentityFrom(t *testing.T) {
	if got := bech32("a", nil); got != "a12uel5l" {
		t.Errorf("bech32(a) = %s, want a12uel5l", got)
	}
	scalar := bytes.Repeat([]byte{7}, 32)
	a, err := AgeIdentityFrom(scalar)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := AgeIdentityFrom(scalar)
	if a.String() != b.String() {
		t.Fatal("not deterministic")
	}
}
