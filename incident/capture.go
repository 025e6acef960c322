package incident

import (
	"bytes"
	"fmt"
	"slices"
	"time"
)

// Capture records: where a file attached to a report (or a tally's
// photo) came from, as its author's device saw it when attaching it. The
// record pins the file by the SHA-256 of its original bytes, copies what
// the file's own metadata says (the EXIF time, position and camera, where
// present), the device's clock and how far the peers' clocks it last saw
// in hellos were from it, and the report's location at the time. So a
// verifier can weigh a photo's claims against each other (a photo taken
// hours before the report, or kilometres away, or on a device whose clock
// ran an hour behind its peers) without trusting any one of them.
//
// A capture record is signed by the report's author and sealed exactly
// when its report is: its EXIF position and camera are what a seized
// phone or a carrier must not learn more easily than the report itself.

// Capture limits.
const (
	MaxCaptureText   = 100                        // camera make and model, as EXIF gives them
	MaxCaptureAltMM  = 100_000_000                // ±100 km in millimetres: no camera is further
	MaxClockOffsetMS = int64(366 * 24 * 3600e3)   // a year either way: a clock further off is not an offset
	MaxCapturePeers  = 4096                       // peers one median is over
	captureTimeLen   = len("2006:01:02 15:04:05") // EXIF's DateTime form
)

// CapturePayload is a capture record's payload (docs/record-format.md,
// "Capture records").
type CapturePayload struct {
	// Target is the record ID of the report (or tally) the file is
	// attached to: a capture record follows its report and is sealed
	// when the report is.
	Target []byte `cbor:"1,keyasint"`
	// Hash is the SHA-256 of the file as attached: its original bytes,
	// the plaintext of a sealed report's file (FileKey.Hash), never a
	// ciphertext or a stripped copy.
	Hash []byte `cbor:"2,keyasint"`
	// Taken is the file's EXIF DateTimeOriginal as written,
	// "YYYY:MM:DD HH:MM:SS" in the camera's local time; TakenZone its
	// OffsetTimeOriginal ("+03:00") where the file gives one.
	Taken     string `cbor:"3,keyasint,omitempty"`
	TakenZone string `cbor:"4,keyasint,omitempty"`
	// Lat and Lon are the file's EXIF GPS position in microdegrees;
	// Alt its GPS altitude in millimetres above sea level.
	Lat *int64 `cbor:"5,keyasint,omitempty"`
	Lon *int64 `cbor:"6,keyasint,omitempty"`
	Alt *int64 `cbor:"7,keyasint,omitempty"`
	// Make and Model are the camera's, as EXIF names them.
	Make  string `cbor:"8,keyasint,omitempty"`
	Model string `cbor:"9,keyasint,omitempty"`
	// Clock is the device's clock when the file was attached, Unix ms.
	Clock int64 `cbor:"10,keyasint"`
	// Offset is the median of how far the peers' clocks were ahead of
	// this device's (negative: behind), in milliseconds, over the Peers
	// peers whose hello carried a clock; absent when none did.
	Offset *int64 `cbor:"11,keyasint,omitempty"`
	Peers  uint64 `cbor:"12,keyasint,omitempty"`
	// ReportLat, ReportLon, Precision and Station are the report's
	// location when the capture record was written (an amendment may
	// move the report later; this is what the author said then).
	ReportLat *int64 `cbor:"13,keyasint,omitempty"`
	ReportLon *int64 `cbor:"14,keyasint,omitempty"`
	Precision uint64 `cbor:"15,keyasint,omitempty"`
	Station   string `cbor:"16,keyasint,omitempty"`
}

// ValidateCapture checks a capture payload on its own (act calls it
// before signing, so a file whose metadata breaks a limit is described
// without that field rather than refused).
func ValidateCapture(v *CapturePayload) error {
	if _, err := idFromBytes("payload.target", v.Target); err != nil {
		return err
	}
	if len(v.Hash) != 32 {
		return fieldErr("payload.hash", "must be a 32-byte SHA-256, got %d bytes", len(v.Hash))
	}
	if v.Taken != "" {
		if _, err := time.Parse("2006:01:02 15:04:05", v.Taken); err != nil || len(v.Taken) != captureTimeLen {
			return fieldErr("payload.taken", "%q is not an EXIF time (YYYY:MM:DD HH:MM:SS)", v.Taken)
		}
	}
	if v.TakenZone != "" {
		if v.Taken == "" {
			return fieldErr("payload.taken_zone", "is set without a time")
		}
		if _, err := time.Parse("-07:00", v.TakenZone); err != nil || len(v.TakenZone) != len("+03:00") {
			return fieldErr("payload.taken_zone", "%q is not an EXIF offset (+HH:MM or -HH:MM)", v.TakenZone)
		}
	}
	if err := checkLatLon(v.Lat, v.Lon); err != nil {
		return fieldErr("payload."+err.(*FieldError).Field, "%s", err.(*FieldError).Problem)
	}
	if v.Alt != nil && (*v.Alt > MaxCaptureAltMM || *v.Alt < -MaxCaptureAltMM) {
		return fieldErr("payload.alt", "is %d mm, limit ±%d", *v.Alt, MaxCaptureAltMM)
	}
	if err := checkText("payload.make", v.Make, MaxCaptureText, false); err != nil {
		return err
	}
	if err := checkText("payload.model", v.Model, MaxCaptureText, false); err != nil {
		return err
	}
	if v.Clock <= 0 {
		return fieldErr("payload.clock", "is required (the device's clock at capture, Unix ms)")
	}
	if (v.Offset == nil) != (v.Peers == 0) {
		return fieldErr("payload.peers", "an offset and its peer count go together")
	}
	if v.Offset != nil && (*v.Offset > MaxClockOffsetMS || *v.Offset < -MaxClockOffsetMS) {
		return fieldErr("payload.offset", "is %d ms, limit ±%d", *v.Offset, MaxClockOffsetMS)
	}
	if v.Peers > MaxCapturePeers {
		return fieldErr("payload.peers", "is %d, limit %d", v.Peers, MaxCapturePeers)
	}
	if err := checkLatLon(v.ReportLat, v.ReportLon); err != nil {
		return fieldErr("payload.report_"+err.(*FieldError).Field, "%s", err.(*FieldError).Problem)
	}
	if v.Precision > MaxPrecisionM {
		return fieldErr("payload.precision", "is %d m, limit %d m", v.Precision, MaxPrecisionM)
	}
	if v.Precision != 0 && v.ReportLat == nil {
		return fieldErr("payload.precision", "is set without a location")
	}
	return checkCode("payload.station", v.Station, false)
}

// checkCaptureTarget checks what a capture record's target must be: a
// report or tally by the same author, sealed exactly when the capture is
// (a capture in the clear would publish a sealed report's photo's
// position; a sealed capture of a report in the clear hides nothing and
// only costs the coordinators a decryption).
func checkCaptureTarget(s *Signed, target []byte, src RecordSource) error {
	id, err := idFromBytes("payload.target", target)
	if err != nil {
		return err
	}
	t, err := src.Get(id)
	if err != nil {
		return fmt.Errorf("look up target %s: %w", id, err)
	}
	if t == nil {
		return &MissingError{Record: id}
	}
	if t.Kind != KindReport && t.Kind != KindTally {
		return fieldErr("payload.target", "%s is %s record, not a report or a tally", id, Article(string(t.Kind)))
	}
	if t.AuthorKey() != s.AuthorKey() {
		return fieldErr("author", "only the author of %s %s may describe its files", t.Kind, id)
	}
	if (len(t.Sealed) > 0) != (len(s.Sealed) > 0) {
		return fieldErr("sealed", "a capture record is sealed exactly when its %s is", t.Kind)
	}
	return nil
}

// ClockMedian is the median of offsets in milliseconds (the mean of the
// two middle ones for an even count), and false for none: one peer with
// a wrong clock moves it less than a mean.
func ClockMedian(offsets []time.Duration) (int64, bool) {
	if len(offsets) == 0 {
		return 0, false
	}
	ms := make([]int64, len(offsets))
	for i, o := range offsets {
		ms[i] = o.Milliseconds()
	}
	slices.Sort(ms)
	n := len(ms)
	if n%2 == 1 {
		return ms[n/2], true
	}
	return ms[n/2-1] + (ms[n/2]-ms[n/2-1])/2, true
}

// CaptureOf returns the capture payload of a record as this device reads
// it (open opens a sealed one; nil for none), and false when the record
// is no capture record or cannot be read here.
func CaptureOf(s *Signed, open Opener) (*CapturePayload, bool) {
	if s.Kind != KindCapture {
		return nil, false
	}
	if len(s.Sealed) > 0 {
		if open == nil {
			return nil, false
		}
		p, ok := open(s)
		c, isCapture := p.(*CapturePayload)
		return c, ok && isCapture
	}
	p, err := s.DecodePayload()
	c, ok := p.(*CapturePayload)
	return c, err == nil && ok
}

// Describes reports whether the capture pins the file whose original
// bytes hash to sum.
func (c *CapturePayload) Describes(sum [32]byte) bool { return bytes.Equal(c.Hash, sum[:]) }

// DescribeCapture says in a line what a capture record holds, for the
// command line and the app: when and where the file says it was taken,
// and the device's clock against its peers'.
func DescribeCapture(c CapturePayload) string {
	s := "taken "
	if c.Taken != "" {
		s += c.Taken + c.TakenZone
	} else {
		s += "at an unknown time"
	}
	if c.Lat != nil {
		s += fmt.Sprintf(" at %s, %s", FormatMicro(*c.Lat), FormatMicro(*c.Lon))
		if c.Alt != nil {
			s += fmt.Sprintf(" (%d m)", *c.Alt/1000)
		}
	} else {
		s += ", no position in the file"
	}
	if c.Make != "" || c.Model != "" {
		s += "; camera " + joinNonEmpty(c.Make, c.Model)
	}
	s += "; attached at " + time.UnixMilli(c.Clock).UTC().Format("2006-01-02 15:04:05Z")
	if c.Offset != nil {
		s += fmt.Sprintf(", device clock %s the median of %s", clockWords(*c.Offset), Plural(int(c.Peers), "peer"))
	} else {
		s += ", no peer clock seen"
	}
	return s
}

// clockWords says how the device's clock stood against the peers',
// given how far the peers were ahead (ms).
func clockWords(peersAhead int64) string {
	d := time.Duration(peersAhead) * time.Millisecond
	switch {
	case d > -time.Second && d < time.Second:
		return "within a second of"
	case d > 0:
		return d.Round(time.Second).String() + " behind"
	}
	return (-d).Round(time.Second).String() + " ahead of"
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}
