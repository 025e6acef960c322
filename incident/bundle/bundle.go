// Package bundle reads and writes record bundles: the files that carry a
// mission's records on USB sticks and SD cards when there is no network.
//
// A bundle is framed and checksummed:
//
//	magic    8 bytes  "\x89VGB\r\n\x1a\n" (binary-file guard, as PNG does)
//	version  uint16   1, or 2 when it carries files or secrets
//	flags    uint16   0 (reserved)
//	mission  32 bytes the mission ID digest
//	created  int64    Unix ms, the exporter's clock (information only)
//	count    uint32   number of records
//	files    uint32   number of files (version 2 only)
//	secrets  uint32   number of epoch secrets (version 2 only)
//	frames   count × (uint32 length, record bytes)
//	files    files × (32-byte SHA-256, uint32 length, content) (version 2 only)
//	secrets  secrets × (32-byte epoch record ID, 32-byte secret) (version 2 only)
//	checksum 32 bytes SHA-256 of everything before it
//
// Files are attachment content, named by the hash their attachment
// records give (for a sealed report's file, the ciphertext's). Secrets
// hand the mission's epoch secrets to members who have not met another
// member since they joined; only a bundle encrypted for the mission's
// members carries them (EncryptForMembers). A bundle with neither is
// written as version 1, which every Vigil reads; a version 1 reader
// refuses a version 2 file by its version, before it stores anything.
// All integers are big-endian. A reader checks the whole file before it
// yields a single record, so a broken frame rejects the file as a whole;
// the records themselves are judged later, one by one, by the store. It
// reads the file twice rather than keep it (stream.go): a frame shorter
// than MinRecordBytes, which cannot hold a record, is damage.
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
	version1   = 1
	version2   = 2
	headerSize = 8 + 2 + 2 + 32 + 8 + 4
	// MaxRecords bounds one bundle's record count.
	MaxRecords = 10_000_000
)

// ErrCorrupt marks a bundle whose frame is broken; nothing in it is used.
var ErrCorrupt = errors.New("bundle is damaged")

// ErrNewer marks a bundle a newer Vigil wrote, in a version this build
// cannot read; nothing in it is used.
var ErrNewer = errors.New("the bundle was written by a newer Vigil: update Vigil to import it")

// Header describes a bundle.
type Header struct {
	Mission incident.ID
	Created int64
	Count   int
	Files   int
}

// File is attachment content a bundle carries.
type File struct {
	Hash [32]byte
	Data []byte
}

// Secret is an epoch's member secret a bundle hands over.
type Secret struct {
	Epoch  incident.ID
	Secret [32]byte
}

// Contents is everything a bundle carries.
type Contents struct {
	Records [][]byte
	Files   []File
	Secrets []Secret
}

// MaxSecrets bounds one bundle's epoch secrets.
const MaxSecrets = 64

// Writer writes a bundle. Records must be added in the order a receiver
// should store them (mission records first); Close writes the checksum.
type Writer struct {
	w         *bufio.Writer
	h         hash.Hash
	count     int
	want      int
	files     int
	wantFiles int
	secrets   int
	wantSecr  int
	err       error
}

// NewWriter starts a bundle of exactly count records for mission, and no
// files (a version 1 bundle).
func NewWriter(w io.Writer, mission incident.ID, created int64, count int) (*Writer, error) {
	return NewFileWriter(w, mission, created, count, 0, 0)
}

// NewFileWriter starts a bundle of exactly count records, then exactly
// files files (AddFile) and secrets epoch secrets (AddSecret) for mission.
func NewFileWriter(w io.Writer, mission incident.ID, created int64, count, files, secrets int) (*Writer, error) {
	if count < 0 || count > MaxRecords {
		return nil, fmt.Errorf("bundle: %d records, limit %d", count, MaxRecords)
	}
	if files < 0 || files > MaxFiles {
		return nil, fmt.Errorf("bundle: %d files, limit %d", files, MaxFiles)
	}
	if secrets < 0 || secrets > MaxSecrets {
		return nil, fmt.Errorf("bundle: %d secrets, limit %d", secrets, MaxSecrets)
	}
	bw := &Writer{w: bufio.NewWriterSize(w, 64<<10), h: sha256.New(), want: count, wantFiles: files, wantSecr: secrets}
	v2 := files > 0 || secrets > 0
	v := uint16(version1)
	if v2 {
		v = version2
	}
	hdr := make([]byte, 0, headerSize+8)
	hdr = append(hdr, Magic...)
	hdr = binary.BigEndian.AppendUint16(hdr, v)
	hdr = binary.BigEndian.AppendUint16(hdr, 0)
	hdr = append(hdr, mission[:]...)
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(created))
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(count))
	if v2 {
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(files))
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(secrets))
	}
	bw.write(hdr)
	return bw, bw.err
}

// MaxFiles bounds one bundle's file count.
const MaxFiles = 1_000_000

// AddFile appends one file, after every record.
func (w *Writer) AddFile(sum [32]byte, data []byte) error {
	switch {
	case w.count != w.want:
		return fmt.Errorf("bundle: a file before the last of the %d records", w.want)
	case w.files >= w.wantFiles:
		return fmt.Errorf("bundle: more files than the %d announced", w.wantFiles)
	case len(data) > incident.MaxAttachmentSize:
		return fmt.Errorf("bundle: file of %d bytes, limit %d", len(data), incident.MaxAttachmentSize)
	}
	w.write(sum[:])
	w.write(binary.BigEndian.AppendUint32(nil, uint32(len(data))))
	w.write(data)
	w.files++
	return w.err
}

// AddSecret appends one epoch secret, after every file.
func (w *Writer) AddSecret(s Secret) error {
	switch {
	case w.files != w.wantFiles:
		return fmt.Errorf("bundle: a secret before the last of the %d files", w.wantFiles)
	case w.secrets >= w.wantSecr:
		return fmt.Errorf("bundle: more secrets than the %d announced", w.wantSecr)
	}
	w.write(s.Epoch[:])
	w.write(s.Secret[:])
	w.secrets++
	return w.err
}

// FileFrameSize is what a file of n bytes adds to a bundle.
func FileFrameSize(n int) int64 { return int64(32 + 4 + n) }

// RecordFrameSize is what a record of n bytes adds to a bundle.
func RecordFrameSize(n int) int64 { return int64(4 + n) }

// Overhead is a bundle's size beyond its record and file frames.
const Overhead = headerSize + 8 + MaxSecrets*64 + sha256.Size

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
	if len(raw) > incident.MaxRecordBytes || len(raw) < MinRecordBytes {
		return fmt.Errorf("bundle: record of %d bytes, want %d to %d", len(raw), MinRecordBytes, incident.MaxRecordBytes)
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
	if w.files != w.wantFiles || w.secrets != w.wantSecr {
		return fmt.Errorf("bundle: %d files and %d secrets written, %d and %d announced", w.files, w.secrets, w.wantFiles, w.wantSecr)
	}
	if _, err := w.w.Write(w.h.Sum(nil)); err != nil {
		return err
	}
	return w.w.Flush()
}

// Read checks a whole bundle from r and returns its header and records.
// Any framing problem (bad magic, unknown version, a length past the end,
// a wrong count, trailing bytes, a checksum mismatch) is an ErrCorrupt
// error and no record is returned. maxBytes bounds what is read. Read
// keeps the records in memory: what imports and verifies a file of any
// size reads it in two passes instead (Check, then Checked.Walk).
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
	h, c, err := ParseContents(data)
	return h, c.Records, err
}

// ParseContents is Parse that also returns the files (each checked
// against its hash) and secrets a version 2 bundle carries.
func ParseContents(data []byte) (Header, Contents, error) {
	c, err := Check(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return Header{}, Contents{}, err
	}
	out := Contents{Secrets: c.Secrets}
	err = c.Walk(bytes.NewReader(data), func(b [][]byte) error {
		out.Records = append(out.Records, b...)
		return nil
	}, func(f File) error {
		out.Files = append(out.Files, f)
		return nil
	})
	if err != nil {
		return Header{}, Contents{}, err
	}
	return c.Header, out, nil
}
