package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig checks the stripped copies
	_ "image/png"
)

// Strip returns a copy of a JPEG or PNG image that carries nothing but
// the image: no EXIF (time, GPS position, camera, body and lens serial
// numbers, owner name, thumbnails of the uncropped photo), no XMP, IPTC,
// ICC profile, maker notes, comments or text chunks, and nothing after
// the image's end (phones append trailers and second images there). The
// compressed image data is copied byte for byte. Any other type is
// refused with ErrNotImage: it cannot be checked, so it is not published.
//
// What a JPEG keeps: the frame, tables, scans and restart intervals
// (everything decoding needs); the JFIF header rewritten without its
// thumbnail; Adobe's colour transform rewritten as that one byte (a CMYK
// or RGB JPEG renders wrongly without it); and, when the original is to
// be turned for display, an EXIF segment of the orientation alone, so
// the copy shows upright. The ICC profile goes: it may name the device
// (its description and device model fields), and without it a viewer
// shows sRGB colours, close enough for a published photo. A PNG keeps
// its critical chunks and the colour and transparency chunks decoding
// uses (tRNS, gAMA, cHRM, sRGB, sBIT, bKGD, pHYs), nothing else.
func Strip(data []byte) ([]byte, error) {
	var out []byte
	var err error
	switch Type(data) {
	case "image/jpeg":
		out, err = stripJPEG(data)
	case "image/png":
		out, err = stripPNG(data)
	default:
		return nil, ErrNotImage
	}
	if err != nil {
		return nil, err
	}
	if _, _, err := image.DecodeConfig(bytes.NewReader(out)); err != nil {
		return nil, fmt.Errorf("%w: the stripped copy does not decode: %v", ErrMalformed, err)
	}
	return out, nil
}

// keptJPEG reports whether a JPEG segment goes into a stripped copy as
// it is: frames (SOFn), Huffman and arithmetic tables, quantisation
// tables, restart intervals, scans, DNL, DHP and EXP, and the standalone
// markers. C8 (reserved, "JPG") does not.
func keptJPEG(m byte) bool {
	switch {
	case m >= 0xC0 && m <= 0xCF:
		return m != 0xC8
	case m == 0xDA, m == 0xDB, m == 0xDC, m == 0xDD, m == 0xDE, m == 0xDF:
		return true
	case m == 0x01, m >= 0xD0 && m <= 0xD7:
		return true
	}
	return false
}

func stripJPEG(data []byte) ([]byte, error) {
	segs, _, err := jpegSegments(data)
	if err != nil {
		return nil, err
	}
	var orientation uint16
	if blob, _ := exifBlob(data); blob != nil {
		if m, err := parseExif(blob); err == nil {
			orientation = m.Orientation
		}
	}
	out := make([]byte, 0, len(data))
	out = append(out, 0xFF, 0xD8)
	wroteHeader := false
	header := func() {
		if wroteHeader {
			return
		}
		wroteHeader = true
		if orientation > 1 {
			out = appendSegment(out, 0xE1, orientationExif(orientation))
		}
	}
	for _, s := range segs {
		switch {
		case s.marker == 0xE0 && bytes.HasPrefix(s.payload, []byte("JFIF\x00")) && len(s.payload) >= 14 && !wroteHeader:
			// Version, units and densities; no thumbnail.
			jfif := append([]byte("JFIF\x00"), s.payload[5:12]...)
			out = appendSegment(out, 0xE0, append(jfif, 0, 0))
		case s.marker == 0xEE && bytes.HasPrefix(s.payload, []byte("Adobe")) && len(s.payload) >= 12:
			// Version 100, no flags, the colour transform.
			out = appendSegment(out, 0xEE, []byte{'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, s.payload[11]})
		case s.marker == 0xD9:
			out = append(out, 0xFF, 0xD9)
			return out, nil
		case keptJPEG(s.marker):
			header()
			if s.payload == nil && s.marker != 0xDA {
				out = append(out, 0xFF, s.marker)
				continue
			}
			out = appendSegment(out, s.marker, s.payload)
			out = append(out, s.scan...)
		}
	}
	return nil, fmt.Errorf("%w: no end of image", ErrMalformed)
}

// appendSegment appends a marker segment with its length.
func appendSegment(out []byte, marker byte, payload []byte) []byte {
	out = append(out, 0xFF, marker)
	out = binary.BigEndian.AppendUint16(out, uint16(len(payload)+2))
	return append(out, payload...)
}

// orientationExif is an EXIF segment's payload holding one tag, the
// orientation: written by hand, so that nothing of the original's EXIF
// can come along with it.
func orientationExif(o uint16) []byte {
	b := append([]byte(nil), exifPrefix...)
	b = append(b, 'M', 'M', 0, 42, 0, 0, 0, 8) // big-endian TIFF, IFD0 at 8
	b = binary.BigEndian.AppendUint16(b, 1)    // one entry
	b = binary.BigEndian.AppendUint16(b, tagOrientation)
	b = binary.BigEndian.AppendUint16(b, 3) // SHORT
	b = binary.BigEndian.AppendUint32(b, 1) // one value
	b = binary.BigEndian.AppendUint16(b, o)
	b = append(b, 0, 0)                        // the value field's unused half
	return binary.BigEndian.AppendUint32(b, 0) // no next IFD
}

// keptPNG are the chunks a stripped PNG keeps: the critical ones and
// those that say how to show the pixels.
var keptPNG = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true,
	"tRNS": true, "gAMA": true, "cHRM": true, "sRGB": true, "sBIT": true, "bKGD": true, "pHYs": true,
}

func stripPNG(data []byte) ([]byte, error) {
	chunks, _, err := pngChunks(data)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(data))
	out = append(out, pngSignature...)
	for _, c := range chunks {
		if keptPNG[c.typ] {
			out = append(out, c.raw...)
		}
	}
	return out, nil
}
