// Package testrec builds records for tests that the incident package would
// refuse to produce (a newer schema version, an oversize record, odd
// fields), signed exactly as a Signer signs: the record domain, then the
// record's encoding without the signature. Tests only.
package testrec

import (
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
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
