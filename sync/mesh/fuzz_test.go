package mesh

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/vigil-mesh/vigil/sync/recon"
)

// fuzzOffer is the snapshot the fuzzed want frames ask of: four items,
// the first ID all zero bytes but one.
func fuzzOffer() *offer {
	items := make([]recon.Item, 4)
	for i := range items {
		items[i].Time = uint64(i)
		items[i].ID[31] = byte(i + 1)
	}
	return newOffer(recon.NewSet(items))
}

// FuzzTransferFrames: the transfer phase's frame and record splitters
// never panic, never return a record over the limit, and never allocate
// more than what arrived; want frames never mark more than the offered
// snapshot, each item at most once, and every other ID is counted stray.
func FuzzTransferFrames(f *testing.F) {
	frame := func(typ byte, body []byte) []byte {
		return append(binary.AppendUvarint(nil, uint64(len(body)+1)), append([]byte{typ}, body...)...)
	}
	rec := append(binary.AppendUvarint(nil, 3), 'a', 'b', 'c')
	f.Add(frame('R', rec))
	f.Add([]byte{0})
	f.Add(binary.AppendUvarint(nil, maxFrame))
	// Wants: one offered ID eight times, then an ID never offered, then
	// the offered ID again in a second frame.
	offered := fuzzOffer().set.At(0).ID
	var stray [32]byte
	stray[0] = 0xff
	dup := bytes.Repeat(offered[:], 8)
	f.Add(append(frame('W', append(dup, stray[:]...)), frame('W', offered[:])...))
	f.Add(append(frame('W', bytes.Repeat(stray[:], 64)), frame('E', nil)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		o := fuzzOffer()
		asked := 0
		r := bufio.NewReader(bytes.NewReader(data))
		for {
			frame, err := readFrame(r)
			if err != nil {
				break
			}
			if len(frame) > len(data) {
				t.Fatalf("frame of %d bytes from %d bytes of input", len(frame), len(data))
			}
			if len(frame) > 0 && frame[0] == 'R' {
				recs, err := splitRecords(frame[1:])
				if err == nil && len(recs) > recordsPerMsg {
					t.Fatalf("%d records in one frame", len(recs))
				}
			}
			if len(frame) > 0 && frame[0] == 'W' && (len(frame)-1)%32 == 0 {
				o.want(frame[1:])
				asked += (len(frame) - 1) / 32
			}
		}
		wanted := 0
		for i := o.wanted.next(0); i >= 0; i = o.wanted.next(i + 1) {
			if i >= o.set.Len() {
				t.Fatalf("want marked at %d, beyond the %d offered", i, o.set.Len())
			}
			wanted++
		}
		if wanted+o.stray != asked {
			t.Fatalf("%d IDs asked, %d wanted and %d stray", asked, wanted, o.stray)
		}
	})
}
