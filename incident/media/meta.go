package media

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	exif "github.com/dsoprea/go-exif/v3"
	exifcommon "github.com/dsoprea/go-exif/v3/common"

	"github.com/vigil-mesh/vigil/incident"
)

// Meta is what a photo's EXIF says about where it came from: the fields
// a capture record copies (incident.CapturePayload), each already within
// the record's limits, and empty where the file says nothing usable.
type Meta struct {
	Taken     string // DateTimeOriginal, "YYYY:MM:DD HH:MM:SS"
	TakenZone string // OffsetTimeOriginal, "+03:00"
	Lat, Lon  *int64 // GPS position, microdegrees
	Alt       *int64 // GPS altitude, millimetres
	Make      string
	Model     string
	// Orientation is how the image is to be turned for display (EXIF
	// 1 to 8; 0 when the file gives none): the one EXIF field a
	// stripped copy keeps.
	Orientation uint16
}

// Empty reports whether m says nothing.
func (m Meta) Empty() bool { return m == Meta{} }

// MaxExifBytes bounds the EXIF the library is given: what one JPEG
// segment holds, and so what a camera writes; a PNG's eXIf chunk is held
// to it too.
const MaxExifBytes = 65533

// exifPrefix starts a JPEG APP1 segment that holds EXIF.
var exifPrefix = []byte("Exif\x00\x00")

// EXIF tag IDs read here (EXIF 2.32, CIPA DC-008).
const (
	tagMake               = 0x010F
	tagModel              = 0x0110
	tagOrientation        = 0x0112
	tagDateTimeOriginal   = 0x9003
	tagOffsetTimeOriginal = 0x9011
	tagGPSLatitudeRef     = 0x0001
	tagGPSLatitude        = 0x0002
	tagGPSLongitudeRef    = 0x0003
	tagGPSLongitude       = 0x0004
	tagGPSAltitudeRef     = 0x0005
	tagGPSAltitude        = 0x0006
)

// ReadMeta reads the EXIF of a JPEG (its first APP1 EXIF segment) or a
// PNG (its eXIf chunk). A file of another type, or with no EXIF, gives an
// empty Meta and no error; a JPEG or PNG whose container is malformed,
// or whose EXIF cannot be parsed, an error. The EXIF blob is at most one
// segment (64 KiB) or one bounded chunk.
func ReadMeta(data []byte) (Meta, error) {
	blob, err := exifBlob(data)
	if err != nil || blob == nil {
		return Meta{}, err
	}
	return parseExif(blob)
}

// exifBlob returns the TIFF-structured EXIF of data, nil for none.
func exifBlob(data []byte) ([]byte, error) {
	switch Type(data) {
	case "image/jpeg":
		segs, _, err := jpegSegments(data)
		if err != nil {
			return nil, err
		}
		for _, s := range segs {
			if s.marker == 0xE1 && bytes.HasPrefix(s.payload, exifPrefix) {
				return s.payload[len(exifPrefix):], nil
			}
		}
	case "image/png":
		chunks, _, err := pngChunks(data)
		if err != nil {
			return nil, err
		}
		for _, c := range chunks {
			if c.typ == "eXIf" {
				if len(c.data) > MaxExifBytes {
					return nil, fmt.Errorf("%w: an eXIf chunk of %d bytes (limit %d, what a JPEG segment holds)", ErrMalformed, len(c.data), MaxExifBytes)
				}
				return c.data, nil
			}
		}
	}
	return nil, nil
}

// exifTables are the library's tag and IFD tables, built once (they
// parse a YAML table of every standard tag).
var exifTables = sync.OnceValues(func() (*exifcommon.IfdMapping, error) {
	return exifcommon.NewIfdMappingWithStandard()
})

var tagIndex = sync.OnceValue(exif.NewTagIndex)

// parseExif reads the fields of Meta from a TIFF-structured EXIF blob.
// The library recovers its own panics into errors; a panic it does not
// (a value of a type it did not expect) is turned into one here too, so
// a hostile file is an error and never takes the device down.
func parseExif(blob []byte) (m Meta, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = Meta{}, fmt.Errorf("%w: EXIF: %v", ErrMalformed, r)
		}
	}()
	im, err := exifTables()
	if err != nil {
		return Meta{}, err
	}
	_, index, err := exif.Collect(im, tagIndex(), blob)
	if err != nil {
		return Meta{}, fmt.Errorf("%w: EXIF: %v", ErrMalformed, err)
	}
	if root := index.Lookup["IFD"]; root != nil {
		m.Make = text(tagString(root, tagMake))
		m.Model = text(tagString(root, tagModel))
		if o, ok := tagShort(root, tagOrientation); ok && o >= 1 && o <= 8 {
			m.Orientation = o
		}
	}
	if ifd := index.Lookup["IFD/Exif"]; ifd != nil {
		if t := strings.TrimSpace(tagString(ifd, tagDateTimeOriginal)); validTime(t) {
			m.Taken = t
			if z := strings.TrimSpace(tagString(ifd, tagOffsetTimeOriginal)); validZone(z) {
				m.TakenZone = z
			}
		}
	}
	if gps := index.Lookup["IFD/GPSInfo"]; gps != nil {
		lat, okLat := degrees(gps, tagGPSLatitude, tagGPSLatitudeRef, "S", 90)
		lon, okLon := degrees(gps, tagGPSLongitude, tagGPSLongitudeRef, "W", 180)
		if okLat && okLon {
			m.Lat, m.Lon = &lat, &lon
			if alt, ok := altitude(gps); ok {
				m.Alt = &alt
			}
		}
	}
	return m, nil
}

// tagValue is the first value of tag in ifd, nil when absent or
// unreadable.
func tagValue(ifd *exif.Ifd, tag uint16) any {
	found, err := ifd.FindTagWithId(tag)
	if err != nil || len(found) == 0 {
		return nil
	}
	v, err := found[0].Value()
	if err != nil {
		return nil
	}
	return v
}

func tagString(ifd *exif.Ifd, tag uint16) string {
	s, _ := tagValue(ifd, tag).(string)
	return s
}

func tagShort(ifd *exif.Ifd, tag uint16) (uint16, bool) {
	v, ok := tagValue(ifd, tag).([]uint16)
	if !ok || len(v) == 0 {
		return 0, false
	}
	return v[0], true
}

func tagRationals(ifd *exif.Ifd, tag uint16) []exifcommon.Rational {
	v, _ := tagValue(ifd, tag).([]exifcommon.Rational)
	return v
}

// text makes an EXIF string fit a capture record: valid UTF-8 without
// NUL or control characters, trimmed, cut to the record's limit at a
// character boundary.
func text(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7F || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	for len(s) > incident.MaxCaptureText {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

func validTime(s string) bool {
	_, err := time.Parse("2006:01:02 15:04:05", s)
	return err == nil && len(s) == len("2006:01:02 15:04:05")
}

func validZone(s string) bool {
	_, err := time.Parse("-07:00", s)
	return err == nil && len(s) == len("+03:00")
}

// degrees reads a GPS coordinate (three rationals: degrees, minutes,
// seconds, and a reference letter) in microdegrees within ±limit.
func degrees(gps *exif.Ifd, tag, refTag uint16, negative string, limit float64) (int64, bool) {
	r := tagRationals(gps, tag)
	if len(r) != 3 {
		return 0, false
	}
	var parts [3]float64
	for i, q := range r {
		if q.Denominator == 0 {
			return 0, false
		}
		parts[i] = float64(q.Numerator) / float64(q.Denominator)
	}
	d := parts[0] + parts[1]/60 + parts[2]/3600
	if strings.EqualFold(strings.TrimSpace(tagString(gps, refTag)), negative) {
		d = -d
	}
	if math.IsNaN(d) || math.Abs(d) > limit {
		return 0, false
	}
	return int64(math.Round(d * 1e6)), true
}

// altitude reads the GPS altitude in millimetres (reference 1: below sea
// level), within the capture record's limit.
func altitude(gps *exif.Ifd) (int64, bool) {
	r := tagRationals(gps, tagGPSAltitude)
	if len(r) != 1 || r[0].Denominator == 0 {
		return 0, false
	}
	mm := int64(uint64(r[0].Numerator) * 1000 / uint64(r[0].Denominator))
	if ref, ok := tagValue(gps, tagGPSAltitudeRef).([]byte); ok && len(ref) > 0 && ref[0] == 1 {
		mm = -mm
	}
	if mm > incident.MaxCaptureAltMM || mm < -incident.MaxCaptureAltMM {
		return 0, false
	}
	return mm, true
}
