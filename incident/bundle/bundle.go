// Package bundle reads and writes record bundles: the files that carry a
// mission's records on USB sticks and SD cards when there is no network.
//
// A bundle is framed and checksummed:
//
//	magic    8 bytes  "\x89VGB\r\n\x1a\n" (binary-file guard, as PNG does)
//	version  uint16   1
//	flags    uint16   0 (reserved)
//	mission  32 bytes the mission ID digest
//	created  int64    Unix ms, the exporter's clock (information only)
//	count    uint32   number of records
//	frames   count × (uint32 length, record bytes)
//	checksum 32 bytes SHA-256 of everything before it
//
// All integers are big-endian. A reader checks the whole file before it
// yields a single record, so a broken frame rejects the file as a whole;
// the records themselves are judged later, one by one, by the store.
package bundle

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/vigil-mesh/vigil/incident"
)

// Magic starts every bundle.
var Magic = []byte("\x89VGB\r\n\x1a\n")

const (
	version    = 1
	headerSize = 8 + 2 + 2 + 32 + 8 + 4
	// MaxRecords bounds one bundle's record count.
	MaxRecords = 10_000_000
)

// ErrCorrupt marks a bundle whose frame is broken; nothing in it is used.
var ErrCorrupt = errors.New("bundle is damaged")

// Header describes a bundle.
type Header struct {
	Mission incident.ID
	Created int64
	Count   int
}

// Writer writes a bundle. Records must be added in the order a receiver
// should store them (mission records first); Close writes the checksum.
type Writer struct {
	w     *bufio.Writer
	h     hash.Hash
	count int
	want  int
	err   error
}

// NewWriter starts a bundle of exactly count records for mission.
func NewWriter(w io.Writer, mission incident.ID, created int64, count int) (*Writer, error) {
	if count < 0 || count > MaxRecords {
		return nil, fmt.Errorf("bundle: %d records, limit %d", count, MaxRecords)
	}
	bw := &Writer{w: bufio.NewWriterSize(w, 64<<10), h: sha256.New(), want: count}
	hdr := make([]byte, 0, headerSize)
	hdr = append(hdr, Magic...)
	hdr = binary.BigEndian.AppendUint16(hdr, version)
	hdr = binary.BigEndian.AppendUint16(hdr, 0)
	hdr = append(hdr, mission[:]...)
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(created))
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(count))
	bw.write(hdr)
	return bw, bw.err
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	w.h.Write(b)
	_, w.err = w.w.Write(b)
}

// Add appends one signed record.
func (w *Writer) Add(raw []byte) error {
	if w.count >= w.want {
		return fmt.Errorf("bundle: more records than the %d announced", w.want)
	}
	if len(raw) > incident.MaxRecordBytes {
		return fmt.Errorf("bundle: record of %d bytes, limit %d", len(raw), incident.MaxRecordBytes)
	}
	w.write(binary.BigEndian.AppendUint32(nil, uint32(len(raw))))
	w.write(raw)
	w.count++
	return w.err
}

// Close writes the checksum and flushes. It fails if fewer records were
// added than announced.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.count != w.want {
		return fmt.Errorf("bundle: %d records written, %d announced", w.count, w.want)
	}
	if _, err := w.w.Write(w.h.Sum(nil)); err != nil {
		return err
	}
	return w.w.Flush()
}

// Read checks a whole bundle from r and returns its header and records.
// Any framing problem (bad magic, unknown version, a length past the end,
// a wrong count, trailing bytes, a checksum mismatch) is an ErrCorrupt
// error and no record is returned. maxBytes bounds what is read.
func Read(r io.Reader, maxBytes int64) (Header, [][]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return Header{}, nil, err
	}
	if int64(len(data)) > maxBytes {
		return Header{}, nil, fmt.Errorf("%w: larger than the %d-byte limit", ErrCorrupt, maxBytes)
	}
	return Parse(data)
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// Parse is Read over bytes in memory.
func Parse(data []byte) (Header, [][]byte, error) {
	var h Header
	if len(data) == 0 {
		return h, nil, corrupt("the file is empty")
	}
	if len(data) < len(Magic) || !bytes.Equal(data[:len(Magic)], Magic) {
		return h, nil, corrupt("not a bundle (wrong magic bytes)")
	}
	if len(data) < headerSize+sha256.Size {
		return h, nil, corrupt("truncated header (%d bytes)", len(data))
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	want := sha256.Sum256(body)
	p := data[len(Magic):]
	if v := binary.BigEndian.Uint16(p); v != version {
		return h, nil, corrupt("version %d; this build reads version %d", v, version)
	}
	if !bytes.Equal(sum, want[:]) {
		return h, nil, corrupt("checksum mismatch (truncated or altered)")
	}
	if f := binary.BigEndian.Uint16(p[2:]); f != 0 {
		return h, nil, corrupt("unknown flags %#x", f)
	}
	copy(h.Mission[:], p[4:36])
	h.Created = int64(binary.BigEndian.Uint64(p[36:]))
	count := binary.BigEndian.Uint32(p[44:])
	if count > MaxRecords {
		return h, nil, corrupt("announces %d records, limit %d", count, MaxRecords)
	}
	h.Count = int(count)
	rest := body[headerSize:]
	recs := make([][]byte, 0, min(int(count), len(rest)/4))
	for i := 0; i < int(count); i++ {
		if len(rest) < 4 {
			return h, nil, corrupt("frame %d: truncated length", i)
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if n > incident.MaxRecordBytes {
			return h, nil, corrupt("frame %d: %d bytes, limit %d", i, n, incident.MaxRecordBytes)
		}
		if uint32(len(rest)) < n {
			return h, nil, corrupt("frame %d: %d bytes announced, %d left", i, n, len(rest))
		}
		recs = append(recs, rest[:n:n])
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return h, nil, corrupt("%d bytes after the last frame", len(rest))
	}
	return h, recs, nil
}

// Frames splits a bundle's frames without checking the checksum, so a
// verifier can name the records of a damaged file. It fails only when the
// framing itself is broken (then the error names the frame).
func Frames(data []byte) (Header, [][]byte, error) {
	var h Header
	if len(data) < headerSize+sha256.Size || !bytes.Equal(data[:len(Magic)], Magic) {
		return h, nil, corrupt("not a bundle or truncated header")
	}
	p := data[len(Magic):]
	copy(h.Mission[:], p[4:36])
	h.Created = int64(binary.BigEndian.Uint64(p[36:]))
	count := binary.BigEndian.Uint32(p[44:])
	rest := data[headerSize : len(data)-sha256.Size]
	var recs [][]byte
	for i := 0; len(rest) > 0; i++ {
		if len(rest) < 4 {
			return h, recs, corrupt("frame %d: truncated length", i)
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if n > incident.MaxRecordBytes || uint32(len(rest)) < n {
			return h, recs, corrupt("frame %d: length %d does not fit", i, n)
		}
		recs = append(recs, rest[:n:n])
		rest = rest[n:]
	}
	h.Count = int(count)
	return h, recs, nil
}
