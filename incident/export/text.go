package export

import (
	"encoding/base32"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// Text forms appended into a buffer, for writers that print many reports:
// the same text as incident's String methods and FormatTime, without a
// string per call.

// cidBase32 is multibase "b": RFC 4648 base32, lower case, no padding.
var cidBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// appendID appends id.String(): "b" and the base32 of the CIDv1 bytes
// (version 1, raw codec 0x55, SHA-256 multihash 0x12, length 32, digest).
func appendID(b []byte, id *incident.ID) []byte {
	var c [4 + len(incident.ID{})]byte
	c[0], c[1], c[2], c[3] = 0x01, 0x55, 0x12, 0x20
	copy(c[4:], id[:])
	return cidBase32.AppendEncode(append(b, 'b'), c[:])
}

// appendTime appends incident.FormatTime(ms).
func appendTime(b []byte, ms int64) []byte {
	return time.UnixMilli(ms).UTC().AppendFormat(b, time.RFC3339)
}
