package node

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzHelloReaders feeds a hostile peer's bytes to the hello's readers of
// epoch proofs and epoch records: whatever arrives, they return within
// their limits or an error, and admit a proof only with the right MAC.
func FuzzHelloReaders(f *testing.F) {
	secret := bytes.Repeat([]byte{7}, 32)
	var id [32]byte
	id[0] = 1
	mine := []EpochRef{{ID: id, Number: 1}}
	binding := []byte("binding")
	good := append(append([]byte{1}, id[:]...), mac(secret, "member-verifier\x00", binding)...)
	f.Add(good)
	f.Add([]byte{0})
	f.Add([]byte{maxRefs + 1})
	f.Add([]byte{1, 3, 'a', 'b', 'c'})
	f.Add([]byte{maxEpochRecords, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		proved, err := readProofs(bufio.NewReader(bytes.NewReader(b)), mine, binding,
			func(x [32]byte) ([]byte, bool) { return secret, x == id })
		if err == nil && len(proved) > len(mine) {
			t.Fatalf("%d epochs proved, %d held", len(proved), len(mine))
		}
		if len(proved) == 1 && (len(b) < len(good) || !bytes.Contains(b, good[1+32:])) {
			t.Fatal("a proof was admitted without the MAC")
		}
		recs, err := readRecords(bufio.NewReader(bytes.NewReader(b)))
		if err == nil {
			if len(recs) > maxEpochRecords {
				t.Fatalf("%d epoch records, limit %d", len(recs), maxEpochRecords)
			}
			for _, r := range recs {
				if len(r) > maxEpochRecord {
					t.Fatalf("an epoch record of %d bytes, limit %d", len(r), maxEpochRecord)
				}
			}
		}
	})
}
