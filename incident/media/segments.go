// Package media reads what a photo says about where it came from (its
// EXIF metadata, for a capture record) and makes the copy of it that may
// be published: the image with that metadata, and anything else that
// could name the device or the place, removed.
//
// Files are hostile input: a member turned attacker attaches whatever
// bytes they like, and every device that shows or exports the file reads
// it. Every read here is bounded by the file's own length and by the
// segment and chunk limits below, and a malformed file is refused with an
// error, never a panic.
//
// The JPEG and PNG container walks are written here rather than taken
// from a library: the standard library decodes images but throws their
// segments away, and a stripped copy must keep the compressed image bytes
// exactly (decoding and encoding again would lose quality and change
// every pixel a verifier compares). The EXIF inside a segment is read by
// github.com/dsoprea/go-exif, which follows IFD links with cycle checks.
package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// ErrMalformed: the file is not the JPEG or PNG its first bytes claim.
var ErrMalformed = errors.New("malformed image")

// ErrNotImage: the file is neither a JPEG nor a PNG, the only types this
// package can strip (and so the only types that may be published).
var ErrNotImage = errors.New("not a JPEG or PNG image")

// Limits on what one file may make this package do.
const (
	// MaxSegments bounds the markers one JPEG may have before its image
	// ends (a real photo has a few dozen; progressive ones a few more).
	MaxSegments = 4096
	// MaxChunks bounds the chunks of one PNG (IDAT is usually split in
	// chunks of 8 to 64 KiB; an 8 MiB attachment has at most a few
	// thousand of any size worth making).
	MaxChunks = 65536
	// MaxChunkBytes bounds one PNG chunk (the format allows 2^31-1; an
	// attachment is at most 8 MiB).
	MaxChunkBytes = 16 << 20
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// Type names a file's container by its first bytes: "image/jpeg",
// "image/png", or "" for anything else.
func Type(data []byte) string {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return "image/jpeg"
	case bytes.HasPrefix(data, pngSignature):
		return "image/png"
	}
	return ""
}

// segment is one JPEG marker segment: its marker byte, and its payload
// (without the marker and the length). Standalone markers have none. A
// start of scan's entropy-coded data follows it in scan.
type segment struct {
	marker  byte
	payload []byte
	scan    []byte
}

// jpegSegments walks a JPEG from SOI to EOI. It stops at EOI: whatever
// follows (a phone's appended trailer, a second image of an MPF file) is
// not returned. tail reports whether anything did follow.
func jpegSegments(data []byte) (segs []segment, tail bool, err error) {
	if Type(data) != "image/jpeg" {
		return nil, false, fmt.Errorf("%w: no JPEG start of image", ErrMalformed)
	}
	i := 2
	for {
		if len(segs) >= MaxSegments {
			return nil, false, fmt.Errorf("%w: more than %d segments", ErrMalformed, MaxSegments)
		}
		// Markers may be preceded by any number of 0xFF fill bytes.
		if i >= len(data) || data[i] != 0xFF {
			return nil, false, fmt.Errorf("%w: no marker at byte %d", ErrMalformed, i)
		}
		for i < len(data) && data[i] == 0xFF {
			i++
		}
		if i >= len(data) {
			return nil, false, fmt.Errorf("%w: cut short at byte %d", ErrMalformed, i)
		}
		m := data[i]
		i++
		switch {
		case m == 0xD9: // EOI
			segs = append(segs, segment{marker: m})
			return segs, i < len(data), nil
		case m == 0x01 || (m >= 0xD0 && m <= 0xD8): // TEM, RSTn, a second SOI
			if m == 0xD8 {
				return nil, false, fmt.Errorf("%w: a second start of image at byte %d", ErrMalformed, i-2)
			}
			segs = append(segs, segment{marker: m})
			continue
		}
		if i+2 > len(data) {
			return nil, false, fmt.Errorf("%w: segment length cut short at byte %d", ErrMalformed, i)
		}
		n := int(binary.BigEndian.Uint16(data[i:]))
		if n < 2 || i+n > len(data) {
			return nil, false, fmt.Errorf("%w: segment 0x%02X at byte %d claims %d bytes", ErrMalformed, m, i-2, n)
		}
		s := segment{marker: m, payload: data[i+2 : i+n]}
		i += n
		if m == 0xDA { // SOS: entropy-coded data up to the next marker
			start := i
			for {
				if i+1 >= len(data) {
					return nil, false, fmt.Errorf("%w: scan data runs past the end", ErrMalformed)
				}
				if data[i] == 0xFF && data[i+1] != 0x00 && (data[i+1] < 0xD0 || data[i+1] > 0xD7) {
					break
				}
				i++
			}
			s.scan = data[start:i]
		}
		segs = append(segs, s)
	}
}

// chunk is one PNG chunk: its type and its data (the CRC is checked).
type chunk struct {
	typ  string
	data []byte
	raw  []byte // length, type, data and CRC, as in the file
}

// pngChunks walks a PNG from its signature to IEND; tail reports whether
// anything followed IEND.
func pngChunks(data []byte) (chunks []chunk, tail bool, err error) {
	if Type(data) != "image/png" {
		return nil, false, fmt.Errorf("%w: no PNG signature", ErrMalformed)
	}
	i := len(pngSignature)
	for {
		if len(chunks) >= MaxChunks {
			return nil, false, fmt.Errorf("%w: more than %d chunks", ErrMalformed, MaxChunks)
		}
		if i+12 > len(data) {
			return nil, false, fmt.Errorf("%w: chunk cut short at byte %d (no IEND)", ErrMalformed, i)
		}
		n := binary.BigEndian.Uint32(data[i:])
		if n > MaxChunkBytes || uint64(i)+12+uint64(n) > uint64(len(data)) {
			return nil, false, fmt.Errorf("%w: chunk at byte %d claims %d bytes", ErrMalformed, i, n)
		}
		end := i + 12 + int(n)
		c := chunk{typ: string(data[i+4 : i+8]), data: data[i+8 : i+8+int(n)], raw: data[i:end]}
		if crc := binary.BigEndian.Uint32(data[end-4:]); crc != crc32.ChecksumIEEE(data[i+4:end-4]) {
			return nil, false, fmt.Errorf("%w: chunk %q at byte %d fails its CRC", ErrMalformed, c.typ, i)
		}
		chunks = append(chunks, c)
		i = end
		if c.typ == "IEND" {
			return chunks, i < len(data), nil
		}
	}
}
