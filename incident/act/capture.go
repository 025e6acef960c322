package act

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/media"
)

// Provenance: attaching a file writes, with its report, a capture record
// (incident.CapturePayload) of where the file came from: what its own
// metadata says, the device's clock when it was attached and how far the
// peers' clocks were from it, and the report's location. It is sealed
// exactly when the report is, to the same readers.

// captureOf describes a file being attached, before its report exists:
// capture fills in the target and the report's location. A file whose
// metadata cannot be read (not an image, or a malformed one) is still
// described by its hash and the clock: what the device knows of it.
func (d *Desk) captureOf(sum [32]byte, data []byte, attachedAt int64) incident.CapturePayload {
	c := incident.CapturePayload{Hash: append([]byte(nil), sum[:]...), Clock: attachedAt}
	if now := d.st.Now().UnixMilli(); c.Clock <= 0 || c.Clock > now {
		// A caller's claim from the future is no capture time.
		c.Clock = now
	}
	if m, err := media.ReadMeta(data); err == nil {
		c.Taken, c.TakenZone, c.Lat, c.Lon, c.Alt, c.Make, c.Model = m.Taken, m.TakenZone, m.Lat, m.Lon, m.Alt, m.Make, m.Model
	}
	if d.PeerClocks != nil {
		clocks := d.PeerClocks()
		if off, ok := incident.ClockMedian(clocks); ok {
			off = max(-incident.MaxClockOffsetMS, min(incident.MaxClockOffsetMS, off))
			c.Offset, c.Peers = &off, uint64(min(len(clocks), incident.MaxCapturePeers))
		}
	}
	return c
}

// capture stores the capture records of the files a report (or a tally,
// or an amendment of target) added, sealed exactly when target is. The
// report is stored already: a failure here says so, and the report
// stands.
func (d *Desk) capture(target *incident.Signed, files attached, at *incident.ReportPayload) error {
	sealed := len(target.Sealed) > 0
	id := target.ID
	for _, c := range files.captures {
		c.Target = id.Bytes()
		c.ReportLat, c.ReportLon, c.Precision, c.Station = at.Lat, at.Lon, at.Precision, at.Station
		if err := incident.ValidateCapture(&c); err != nil {
			// What the file said broke a limit the reader missed: keep
			// what the device knows, not the file's word.
			c = incident.CapturePayload{Target: c.Target, Hash: c.Hash, Clock: c.Clock, Offset: c.Offset, Peers: c.Peers,
				ReportLat: c.ReportLat, ReportLon: c.ReportLon, Precision: c.Precision, Station: c.Station}
		}
		if _, err := d.st.PutMaybeSealed(sealed, incident.KindCapture, &id, c); err != nil {
			return &Error{Code: Failed, Msg: fmt.Sprintf("%s %s is stored; the capture record of its file %x was not: %v",
				target.Kind, id, c.Hash[:6], err), Cause: err}
		}
	}
	return nil
}

// Capture is one capture record as this device reads it.
type Capture struct {
	ID      incident.ID             `json:"id"`
	Author  incident.Author         `json:"author"`
	Created int64                   `json:"created"`
	Sealed  bool                    `json:"sealed,omitempty"`
	Capture incident.CapturePayload `json:"capture"`
}

// Captures lists the capture records this device reads for a report (or
// a tally named by its full ID), oldest first. A sealed one this device
// cannot open is left out.
func (d *Desk) Captures(ref string) ([]Capture, error) {
	_, id, err := d.fileSet(ref)
	if err != nil {
		return nil, err
	}
	rel, err := d.st.Related(id)
	if err != nil {
		return nil, classify(err)
	}
	author := d.authorOf(id)
	var out []Capture
	for _, r := range rel {
		c, ok := incident.CaptureOf(r, d.st.Open)
		if !ok || r.AuthorKey() != author {
			continue // validation keeps others' out; checked here all the same
		}
		out = append(out, Capture{ID: r.ID, Author: r.AuthorKey(), Created: r.Created, Sealed: len(r.Sealed) > 0, Capture: *c})
	}
	slices.SortStableFunc(out, func(a, b Capture) int { return cmp.Compare(a.Created, b.Created) })
	return out, nil
}

func (d *Desk) authorOf(id incident.ID) incident.Author {
	if r, err := d.st.Get(id); err == nil && r != nil {
		return r.AuthorKey()
	}
	return incident.Author{}
}

// CaptureFor returns the capture of the file whose original bytes hash
// to sum among cs, the newest, and false when none describes it.
func CaptureFor(cs []Capture, sum [32]byte) (Capture, bool) {
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].Capture.Describes(sum) {
			return cs[i], true
		}
	}
	return Capture{}, false
}

// PlainHash is the hash a capture record names file f of report
// version r by: its original bytes' (for a sealed report's file, the
// plaintext hash its key entry gives, not the ciphertext's).
func PlainHash(r *incident.ReportPayload, f File) [32]byte {
	if k, ok := r.FileKeyFor(f.Hash[:]); ok && len(k.Hash) == 32 {
		return [32]byte(k.Hash)
	}
	return f.Hash
}
