package act

import (
	"crypto/sha256"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/media/mediatest"
)

// Attaching a photo writes its capture record with the report: the
// file's EXIF, the device's clock and the peers' median offset, the
// report's place; in the clear with a clear report, sealed with a sealed
// one (and then readable by the coordinator, not by another observer).
func TestAttachWritesCapture(t *testing.T) {
	coord, obs := mission(t)
	other := newDesk(t, "other")
	join(t, coord, other, incident.RoleObserver, "Ibis")
	obs.PeerClocks = func() []time.Duration { return []time.Duration{2 * time.Second, -time.Hour, 3 * time.Second} }
	photo := mediatest.JPEG(t, mediatest.Default)
	sum := sha256.Sum256(photo)
	r := report("Ballot box opened")
	r.Lat, r.Lon, r.Precision, r.Station = incident.Micro(-1.3133), incident.Micro(36.7876), 40, "KE-047-112"
	for _, sealed := range []bool{false, true} {
		a, err := obs.AttachFile("box.jpg", photo)
		if err != nil {
			t.Fatal(err)
		}
		c, err := obs.Submit(Submission{Report: r, Files: []Attachment{a}, Sealed: &sealed})
		if err != nil {
			t.Fatal(err)
		}
		copyRecords(t, obs, coord)
		copyRecords(t, obs, other)
		caps, err := coord.Captures(c.ID.String())
		if err != nil || len(caps) != 1 {
			t.Fatalf("sealed %v: captures %+v, %v", sealed, caps, err)
		}
		got := caps[0]
		p := got.Capture
		if got.Sealed != sealed || got.Author != obs.st.Author() || !p.Describes(sum) {
			t.Fatalf("sealed %v: capture %+v", sealed, got)
		}
		if p.Taken != mediatest.Default.Taken || p.TakenZone != "+03:00" || p.Make != "Tecno" || p.Model != "Spark 10" ||
			p.Lat == nil || *p.Lat != -1313100 || p.Alt == nil || *p.Alt != 1712000 {
			t.Fatalf("the file's metadata as captured: %+v", p)
		}
		if p.Offset == nil || *p.Offset != 2000 || p.Peers != 3 || p.Clock != a.Attached {
			t.Fatalf("clock %d (attached %d), offset %v over %d peers", p.Clock, a.Attached, p.Offset, p.Peers)
		}
		if *p.ReportLat != *r.Lat || p.Precision != 40 || p.Station != "KE-047-112" {
			t.Fatalf("the report's place as captured: %+v", p)
		}
		seen, err := other.Captures(c.ID.String())
		if err != nil && !sealed {
			t.Fatal(err)
		}
		if sealed && len(seen) != 0 {
			t.Fatalf("another observer reads a sealed report's capture: %+v", seen)
		}
		if !sealed && len(seen) != 1 {
			t.Fatalf("another observer reads %d captures of a clear report", len(seen))
		}
		if sealed {
			// The observer reads its own sealed capture until a
			// coordinator's receipt lists it; then only the coordinators
			// do (a seized phone no longer shows the photo's position).
			if mine, err := obs.Captures(c.ID.String()); err != nil || len(mine) != 1 {
				t.Fatalf("the author's own sealed capture before the receipt: %+v, %v", mine, err)
			}
			ids, err := coord.st.Unreceipted(100)
			if err != nil || !slices.Contains(ids, got.ID) {
				t.Fatalf("the capture waits for no receipt: %v, %v", ids, err)
			}
			if _, err := coord.st.Put(incident.KindReceipt, incident.ReceiptPayload{IDs: [][]byte{got.ID.Bytes(), c.ID.Bytes()}}); err != nil {
				t.Fatal(err)
			}
			copyRecords(t, coord, obs)
			if mine, err := obs.Captures(c.ID.String()); err != nil || len(mine) != 0 {
				t.Fatalf("the author still reads its sealed capture after the receipt: %+v, %v", mine, err)
			}
		}
		if line := incident.DescribeCapture(p); !strings.Contains(line, "2026:12:06 07:41:09+03:00") || !strings.Contains(line, "2s behind the median of 3 peers") {
			t.Fatalf("described as %q", line)
		}
	}
}

// An amendment's new file is captured against the report it amends; a
// file the report already named is not captured again.
func TestAmendCapturesAddedFiles(t *testing.T) {
	_, obs := mission(t)
	first, err := obs.AttachFile("a.jpg", mediatest.JPEG(t, mediatest.Default))
	if err != nil {
		t.Fatal(err)
	}
	clear := false
	c, err := obs.Submit(Submission{Report: report("Queue"), Files: []Attachment{first}, Sealed: &clear})
	if err != nil {
		t.Fatal(err)
	}
	p := mediatest.Default
	p.NoGPS, p.PixelSeed = true, 7
	second, err := obs.AttachFile("b.jpg", mediatest.JPEG(t, p))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obs.Amend(Amendment{Target: c.ID.String(), Report: report("Queue, longer"), Files: []Attachment{first, second}}); err != nil {
		t.Fatal(err)
	}
	caps, err := obs.Captures(c.ID.String())
	if err != nil || len(caps) != 2 {
		t.Fatalf("captures %+v, %v", caps, err)
	}
	if _, ok := CaptureFor(caps, second.Hash); !ok {
		t.Fatal("the amendment's file has no capture")
	}
	if got, _ := CaptureFor(caps, second.Hash); got.Capture.Lat != nil || got.Capture.Offset != nil {
		t.Fatalf("a photo without GPS, no peers: %+v", got.Capture)
	}
	// Not an image: the capture says what the device knows.
	doc, err := obs.AttachFile("notes.txt", []byte("queue of 300"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := obs.Submit(Submission{Report: report("Notes"), Files: []Attachment{doc}, Sealed: &clear})
	if err != nil {
		t.Fatal(err)
	}
	if caps, err := obs.Captures(d.ID.String()); err != nil || len(caps) != 1 || caps[0].Capture.Taken != "" || caps[0].Capture.Clock == 0 {
		t.Fatalf("a text file's capture: %+v, %v", caps, err)
	}
}
