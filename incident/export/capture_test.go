package export_test

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
)

// verify checks what a capture record says of its file against its
// report: one naming the report's file verifies, and its line says what
// it records; one naming a file the report does not attach is BAD.
func TestVerifyChecksCaptures(t *testing.T) {
	w := newEvWorld(t)
	lat, lon := int64(-1313100), int64(36787900)
	good, err := w.obs.Put(incident.KindCapture, incident.CapturePayload{Target: w.before.Bytes(), Hash: w.att[:],
		Taken: "2026:12:06 07:41:09", Lat: &lat, Lon: &lon, Clock: 1_796_000_000_000})
	if err != nil {
		t.Fatal(err)
	}
	other := w.att
	other[0] ^= 1
	bad, err := w.obs.Put(incident.KindCapture, incident.CapturePayload{Target: w.before.Bytes(), Hash: other[:], Clock: 1_796_000_000_000})
	if err != nil {
		t.Fatal(err)
	}
	// A file an amendment adds is the report's too.
	added := sha256.Sum256([]byte("second photo"))
	if _, err := w.obs.Put(incident.KindAmend, incident.AmendPayload{Target: w.before.Bytes(), Report: incident.ReportPayload{
		Category: "polling.tally_discrepancy", Severity: 3, Occurred: 1, Title: "Tally differs, two photos",
		Attachments: [][]byte{w.att[:], added[:]}}}); err != nil {
		t.Fatal(err)
	}
	ofAmend, err := w.obs.Put(incident.KindCapture, incident.CapturePayload{Target: w.before.Bytes(), Hash: added[:], Clock: 1_796_000_000_000})
	if err != nil {
		t.Fatal(err)
	}
	w.move(t)
	rep := verify(t, w.export(t, w.coord.Signer()))
	if v := verdictOf(rep, ofAmend.ID.String()); v == nil || !v.OK || !strings.Contains(v.String(), "the file itself is not here") {
		t.Fatalf("the capture of an amendment's file, not in the package: %+v", v)
	}
	if v := verdictOf(rep, good.ID.String()); v == nil || !v.OK || !strings.Contains(v.String(), "taken 2026:12:06 07:41:09 at -1.3131, 36.7879") {
		t.Fatalf("the capture of the report's file: %+v", v)
	}
	if v := verdictOf(rep, bad.ID.String()); v == nil || v.OK || !strings.Contains(v.Reason, "which its report does not attach") {
		t.Fatalf("a capture of a file the report does not attach: %+v", v)
	}
}
