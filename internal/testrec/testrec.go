// Package testrec builds records for tests that the incident package would
// refuse to produce (a newer schema version, an oversize record, odd
// fields), signed exactly as a Signer signs: the record domain, then the
// record's encoding without the signature. Tests only.
package testrec

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
)

// Sign signs r, whatever its fields, with signer's key and returns the
// encoding, without Decode's checks.
func Sign(t testing.TB, signer *incident.Signer, r incident.Record) []byte {
	t.Helper()
	r.Sig = nil
	body, err := incident.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	r.Sig = signer.SignBytes(append([]byte("vigil/record/v1\x00"), body...))
	raw, err := incident.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// NewerVersion is a report signed by signer in mission in the schema
// version after this build's: a record this build cannot check.
func NewerVersion(t testing.TB, signer *incident.Signer, mission incident.ID) []byte {
	t.Helper()
	a := signer.Author()
	return Sign(t, signer, incident.Record{Version: incident.SchemaVersion + 1, Mission: mission.Bytes(), Author: a[:],
		Kind: incident.KindReport, Created: time.Now().UnixMilli(), Payload: []byte{0xa0}})
}

// Frames writes a version 1 bundle of mission holding n frames of size
// bytes each, with a sound checksum: what a bundle.Writer refuses to
// write (frames too small or too many to be records), for the tests of
// hostile files.
func Frames(mission incident.ID, n, size int) []byte {
	b := append([]byte(nil), bundle.Magic...)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = append(b, mission[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC).UnixMilli()))
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	frame := binary.BigEndian.AppendUint32(nil, uint32(size))
	frame = append(frame, bytes.Repeat([]byte{0xa5}, size)...)
	for range n {
		b = append(b, frame...)
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}
