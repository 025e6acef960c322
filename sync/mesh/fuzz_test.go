package mesh

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzTransferFrames: the transfer phase's frame and record splitters
// never panic, never return a record over the limit, and never allocate
// more than what arrived.
func FuzzTransferFrames(f *testing.F) {
	rec := append(binary.AppendUvarint(nil, 3), 'a', 'b', 'c')
	f.Add(append(binary.AppendUvarint(nil, uint64(len(rec)+1)), append([]byte{'R'}, rec...)...))
	f.Add([]byte{0})
	f.Add(binary.AppendUvarint(nil, maxFrame))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for {
			frame, err := readFrame(r)
			if err != nil {
				return
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
		}
	})
}
