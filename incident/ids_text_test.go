package incident

import (
	"math/rand/v2"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// ID's text form is written out by hand (AppendText); it must stay the
// CIDv1 that go-cid makes of the same digest, and ParseID must read it.
func TestIDTextMatchesCID(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 1000 {
		var id ID
		if i > 0 {
			for k := range id {
				id[k] = byte(rng.Uint32())
			}
		}
		mh, err := multihash.Encode(id[:], multihash.SHA2_256)
		if err != nil {
			t.Fatal(err)
		}
		want := cid.NewCidV1(cid.Raw, mh).String()
		if got := id.String(); got != want {
			t.Fatalf("String = %q, want go-cid's %q", got, want)
		}
		b, _ := id.AppendText([]byte("x"))
		if string(b) != "x"+want {
			t.Fatalf("AppendText = %q", b)
		}
		back, err := ParseID(want)
		if err != nil || back != id {
			t.Fatalf("ParseID(%q) = %v, %v", want, back, err)
		}
	}
}
