package sms_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/sms"
)

// members is a Directory over a list of member keys.
type members struct {
	mission incident.ID
	keys    []incident.Author
}

func (m members) Mission() incident.ID { return m.mission }

func (m members) Authors(prefix []byte) []incident.Author {
	var out []incident.Author
	for _, k := range m.keys {
		if bytes.HasPrefix(k[:], prefix) {
			out = append(out, k)
		}
	}
	return out
}

// A coordinator's receipt for one record fits a single SMS segment.
func ExampleEncode() {
	coordinator, _ := incident.NewSigner(bytes.Repeat([]byte{7}, 32))
	mission := incident.ID{0x4a, 0x11}
	received := incident.IDOf([]byte("an observer's report"))
	receipt, _ := coordinator.Sign(mission, incident.KindReceipt, time.Date(2026, 5, 1, 7, 30, 0, 0, time.UTC),
		incident.ReceiptPayload{IDs: [][]byte{received.Bytes()}})

	text, _ := sms.Encode(receipt)
	fmt.Println(len(receipt.Raw), "bytes signed,", len(text), "characters,", sms.Segments(text), "segment")
	fmt.Println(text)
	// Output:
	// 197 bytes signed, 155 characters, 1 segment
	// JgFKEepKbGPAiceT3jMloQGBWCCpWDa9Yw8TS.ychnPjSwo3d5rGR9WENwe9ao2HE6nmisMsa-1YFPWH2Ewc-qdmr4KIOTku8MkusbUhc5I6jhHhGJSGYVtgjt1oM0D3fSfn2YOnXcOHyoUs3ZSt.Zk8Kww
}

// The receiver rebuilds the exact signed record from the text and its
// member list; line breaks a phone put in do not matter.
func ExampleDecode() {
	coordinator, _ := incident.NewSigner(bytes.Repeat([]byte{7}, 32))
	mission := incident.ID{0x4a, 0x11}
	receipt, _ := coordinator.Sign(mission, incident.KindReceipt, time.Date(2026, 5, 1, 7, 30, 0, 0, time.UTC),
		incident.ReceiptPayload{IDs: [][]byte{incident.IDOf([]byte("an observer's report")).Bytes()}})
	text, _ := sms.Encode(receipt)

	raw, err := sms.Decode(text[:80]+"\n"+text[80:], members{mission, []incident.Author{coordinator.Author()}})
	fmt.Println(err, incident.IDOf(raw) == receipt.ID)
	// Output: <nil> true
}
