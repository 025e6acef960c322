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

// A bundle is read in two passes, so that neither a large file nor a
// hostile one costs memory in proportion to what it holds:
//
//  1. Check reads the whole file once and checks everything Parse checks
//     (magic, version, counts, every frame's length, every file's hash,
//     the checksum, no trailing bytes) keeping no frame: it returns the
//     header, the epoch secrets (at most MaxSecrets) and one digest per
//     batch of records.
//  2. Checked.Walk reads the file again and hands the records on in
//     batches of at most BatchRecords records or BatchBytes bytes, then
//     the files one at a time. Each batch is compared with the digest pass
//     1 took of it before it is handed on, so a file that changed between
//     the passes stops the walk before anything it did not check is used.
//
// A broken frame or a bad checksum therefore fails in pass 1, before a
// single record is handed on.

// MinRecordBytes is the shortest frame that can hold a record: every
// record carries its 64-byte Ed25519 signature. A shorter frame is damage
// (or a file made to cost its reader one entry per byte), not a record.
const MinRecordBytes = 64

// Batches of records Walk hands on: at most BatchRecords records, or the
// batch that reaches BatchBytes bytes.
const (
	BatchRecords = 512
	BatchBytes   = 4 << 20
)

var (
	errShort    = errors.New("short")
	errTooLarge = errors.New("too large")
)

// tailHash hashes everything read through it but the last 32 bytes, which
// it keeps: the checksum of a file whose end it does not know in advance.
type tailHash struct {
	r    io.Reader
	h    hash.Hash
	tail [sha256.Size]byte
	nt   int
	n    int64
	max  int64
}

func (t *tailHash) Read(p []byte) (int, error) {
	if t.n > t.max {
		return 0, errTooLarge
	}
	n, err := t.r.Read(p)
	t.n += int64(n)
	b := p[:n]
	if spill := t.nt + len(b) - len(t.tail); spill <= 0 {
		copy(t.tail[t.nt:], b)
		t.nt += len(b)
	} else if spill <= t.nt {
		t.h.Write(t.tail[:spill])
		copy(t.tail[:], t.tail[spill:t.nt])
		t.nt -= spill
		copy(t.tail[t.nt:], b)
		t.nt += len(b)
	} else {
		t.h.Write(t.tail[:t.nt])
		t.h.Write(b[:spill-t.nt])
		copy(t.tail[:], b[spill-t.nt:])
		t.nt = len(t.tail)
	}
	if t.n > t.max && err == nil {
		err = errTooLarge
	}
	return n, err
}

// sound reports whether the last 32 bytes are the SHA-256 of the rest.
func (t *tailHash) sound() bool {
	return t.nt == len(t.tail) && bytes.Equal(t.h.Sum(nil), t.tail[:])
}

// decoder reads a bundle's parts in order from a stream; seg, while set,
// hashes what it reads (a batch of records, in Check and in Walk).
type decoder struct {
	br  *bufio.Reader
	seg hash.Hash
}

func newDecoder(r io.Reader) *decoder {
	return &decoder{br: bufio.NewReaderSize(r, 64<<10), seg: sha256.New()}
}

// read fills p; a file that ends first is errShort.
func (d *decoder) read(p []byte) error {
	n, err := io.ReadFull(d.br, p)
	if d.seg != nil {
		d.seg.Write(p[:n])
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errShort
	}
	return err
}

// skip reads n bytes into w (and seg).
func (d *decoder) skip(w io.Writer, n int64) error {
	if d.seg != nil {
		w = io.MultiWriter(w, d.seg)
	}
	got, err := io.CopyN(w, d.br, n)
	if got < n && (err == nil || err == io.EOF) {
		return errShort
	}
	return err
}

// wrap names what a read error means: a file that ends too soon is
// damage at what, an over-long one is refused by its size; anything else
// is the reader's own error (a disk, a decryption).
func wrap(err error, what string, maxBytes int64) error {
	switch {
	case errors.Is(err, errShort):
		return corrupt("%s: truncated", what)
	case errors.Is(err, errTooLarge):
		return corrupt("larger than the %d-byte limit", maxBytes)
	}
	return err
}

// layout is what a bundle's header announces.
type layout struct {
	version  uint16
	hdr      Header
	nfiles   int
	nsecrets int
}

// header reads the header after the magic bytes and the version.
func (d *decoder) header(v uint16, maxBytes int64) (layout, error) {
	l := layout{version: v}
	size := headerSize - len(Magic) - 2
	if v == version2 {
		size += 8
	}
	p := make([]byte, size)
	if err := d.read(p); err != nil {
		return l, wrap(err, "header", maxBytes)
	}
	if f := binary.BigEndian.Uint16(p); f != 0 {
		return l, corrupt("unknown flags %#x", f)
	}
	copy(l.hdr.Mission[:], p[2:34])
	l.hdr.Created = int64(binary.BigEndian.Uint64(p[34:]))
	count := binary.BigEndian.Uint32(p[42:])
	if count > MaxRecords {
		return l, corrupt("announces %d records, limit %d", count, MaxRecords)
	}
	l.hdr.Count = int(count)
	if v == version2 {
		if n := binary.BigEndian.Uint32(p[46:]); n > MaxFiles {
			return l, corrupt("announces %d files, limit %d", n, MaxFiles)
		} else {
			l.nfiles = int(n)
		}
		if n := binary.BigEndian.Uint32(p[50:]); n > MaxSecrets {
			return l, corrupt("announces %d secrets, limit %d", n, MaxSecrets)
		} else {
			l.nsecrets = int(n)
		}
		l.hdr.Files = l.nfiles
	}
	return l, nil
}

// frameLen reads frame i's length and checks it can hold a record.
func (d *decoder) frameLen(i int, maxBytes int64) (int, error) {
	var lb [4]byte
	if err := d.read(lb[:]); err != nil {
		return 0, wrap(err, fmt.Sprintf("frame %d", i), maxBytes)
	}
	n := binary.BigEndian.Uint32(lb[:])
	switch {
	case n > incident.MaxRecordBytes:
		return 0, corrupt("frame %d: %d bytes, limit %d", i, n, incident.MaxRecordBytes)
	case n < MinRecordBytes:
		return 0, corrupt("frame %d: %d bytes, too short to hold a record (at least %d)", i, n, MinRecordBytes)
	}
	return int(n), nil
}

// batchEnds says whether a batch of n records and size bytes is full.
func batchEnds(n, size int) bool { return n >= BatchRecords || size >= BatchBytes }

// fileHead reads file i's hash and length.
func (d *decoder) fileHead(i int, maxBytes int64) ([32]byte, int, error) {
	var fh [36]byte
	var sum [32]byte
	if err := d.read(fh[:]); err != nil {
		return sum, 0, wrap(err, fmt.Sprintf("file %d", i), maxBytes)
	}
	copy(sum[:], fh[:])
	n := binary.BigEndian.Uint32(fh[32:])
	if n > incident.MaxAttachmentSize {
		return sum, 0, corrupt("file %d: %d bytes, limit %d", i, n, incident.MaxAttachmentSize)
	}
	return sum, int(n), nil
}

// Checked is what pass 1 learnt of a sound bundle: enough for Walk, and
// bounded whatever the file holds.
type Checked struct {
	Header  Header
	Secrets []Secret
	l       layout
	batches [][32]byte
}

// Check is pass 1: it reads a whole bundle from r, at most maxBytes, and
// checks it keeping no frame. Any framing problem (bad magic, unknown
// version, a frame too short or too long for a record, a wrong count,
// trailing bytes, a file that does not match its hash or comes twice, a
// checksum mismatch) is an ErrCorrupt error; a version newer than this
// build reads, with a sound checksum, is ErrNewer. Other errors are the
// reader's.
func Check(r io.Reader, maxBytes int64) (*Checked, error) {
	th := &tailHash{r: r, h: sha256.New(), max: maxBytes}
	d := newDecoder(th)
	lead := make([]byte, len(Magic)+2)
	n, err := io.ReadFull(d.br, lead)
	switch {
	case err != nil && err != io.EOF && err != io.ErrUnexpectedEOF:
		return nil, wrap(err, "header", maxBytes)
	case n == 0:
		return nil, corrupt("the file is empty")
	case n < len(Magic) || !bytes.Equal(lead[:len(Magic)], Magic):
		return nil, corrupt("not a bundle (wrong magic bytes)")
	}
	d.seg.Write(lead)
	v := binary.BigEndian.Uint16(lead[len(Magic):])
	var c *Checked
	var ferr error
	if n == len(lead) && (v == version1 || v == version2) {
		c, ferr = d.check(v, maxBytes)
	}
	// The rest of the file, read to its end whatever the framing said:
	// the checksum speaks first, as damage is the likelier story.
	extra, err := io.Copy(io.Discard, d.br)
	switch {
	case errors.Is(err, errTooLarge), errors.Is(ferr, errTooLarge):
		return nil, corrupt("larger than the %d-byte limit", maxBytes)
	case err != nil:
		return nil, err
	case ferr != nil && !errors.Is(ferr, ErrCorrupt):
		return nil, ferr
	case th.n < headerSize+sha256.Size:
		return nil, corrupt("truncated header (%d bytes)", th.n)
	case v > version2 && th.sound():
		// Sound, as far as a newer format keeps the checksum where this
		// one has it: a newer Vigil's file, not a damaged one.
		return nil, fmt.Errorf("%w (bundle version %d; this build reads versions 1 and 2)", ErrNewer, v)
	case v != version1 && v != version2:
		return nil, corrupt("version %d (damaged, or written by a newer Vigil)", v)
	case !th.sound():
		return nil, corrupt("checksum mismatch (truncated or altered)")
	case ferr != nil:
		return nil, ferr
	case extra > 0:
		return nil, corrupt("%d bytes after the last frame", extra)
	}
	return c, nil
}

// check reads what follows the version, up to and with the checksum.
func (d *decoder) check(v uint16, maxBytes int64) (*Checked, error) {
	l, err := d.header(v, maxBytes)
	if err != nil {
		return nil, err
	}
	c := &Checked{Header: l.hdr, l: l}
	inBatch, size := 0, 0
	for i := 0; i < l.hdr.Count; i++ {
		n, err := d.frameLen(i, maxBytes)
		if err != nil {
			return nil, err
		}
		if err := d.skip(io.Discard, int64(n)); err != nil {
			return nil, wrap(err, fmt.Sprintf("frame %d", i), maxBytes)
		}
		inBatch, size = inBatch+1, size+4+n
		if batchEnds(inBatch, size) || i == l.hdr.Count-1 {
			c.batches = append(c.batches, [32]byte(d.seg.Sum(nil)))
			d.seg.Reset()
			inBatch, size = 0, 0
		}
	}
	d.seg = nil
	// One hash per file: the seen set costs at most MaxFiles entries, and
	// each file costs the file 36 bytes or more.
	seen := map[[32]byte]struct{}{}
	h := sha256.New()
	for i := 0; i < l.nfiles; i++ {
		sum, n, err := d.fileHead(i, maxBytes)
		if err != nil {
			return nil, err
		}
		h.Reset()
		if err := d.skip(h, int64(n)); err != nil {
			return nil, wrap(err, fmt.Sprintf("file %d", i), maxBytes)
		}
		if [32]byte(h.Sum(nil)) != sum {
			return nil, corrupt("file %d does not match its hash", i)
		}
		if _, dup := seen[sum]; dup {
			return nil, corrupt("file %d is carried twice", i)
		}
		seen[sum] = struct{}{}
	}
	for i := 0; i < l.nsecrets; i++ {
		var b [64]byte
		if err := d.read(b[:]); err != nil {
			return nil, wrap(err, fmt.Sprintf("secret %d", i), maxBytes)
		}
		var sec Secret
		copy(sec.Epoch[:], b[:32])
		copy(sec.Secret[:], b[32:])
		c.Secrets = append(c.Secrets, sec)
	}
	var sum [sha256.Size]byte
	if err := d.read(sum[:]); err != nil {
		return nil, wrap(err, "checksum", maxBytes)
	}
	return c, nil
}

// Walk is pass 2: it reads the bundle Check read, again from its start,
// and hands its records to records in batches (in file order; the slices
// are the callee's), then its files, one at a time, to file (each checked
// against its hash again). Either may be nil: Walk then stops reading
// before that part. An error from records or file stops the walk and is
// returned; a batch that differs from what Check read is ErrCorrupt.
func (c *Checked) Walk(r io.Reader, records func([][]byte) error, file func(File) error) error {
	d := newDecoder(r)
	lead := make([]byte, len(Magic)+2)
	if err := d.read(lead); err != nil {
		return changed(err)
	}
	l, err := d.header(binary.BigEndian.Uint16(lead[len(Magic):]), MaxBytes)
	if err != nil || l != c.l {
		return changed(err)
	}
	if records == nil && file == nil {
		return nil
	}
	var batch [][]byte
	k, size := 0, 0
	for i := 0; i < l.hdr.Count; i++ {
		n, err := d.frameLen(i, MaxBytes)
		if err != nil {
			return changed(err)
		}
		rec := make([]byte, n)
		if err := d.read(rec); err != nil {
			return changed(err)
		}
		batch, size = append(batch, rec), size+4+n
		if !batchEnds(len(batch), size) && i != l.hdr.Count-1 {
			continue
		}
		if k >= len(c.batches) || [32]byte(d.seg.Sum(nil)) != c.batches[k] {
			return changed(nil)
		}
		d.seg.Reset()
		if records != nil {
			if err := records(batch); err != nil {
				return err
			}
		}
		batch, size, k = nil, 0, k+1
	}
	d.seg = nil
	if file == nil {
		return nil
	}
	for i := 0; i < l.nfiles; i++ {
		sum, n, err := d.fileHead(i, MaxBytes)
		if err != nil {
			return changed(err)
		}
		data := make([]byte, n)
		if err := d.read(data); err != nil || sha256.Sum256(data) != sum {
			return changed(err)
		}
		if err := file(File{Hash: sum, Data: data}); err != nil {
			return err
		}
	}
	return nil
}

// changed is Walk's error when the second reading differs from the first
// (the file was replaced or altered in between): what was handed on
// before it was checked, what follows is not used.
func changed(err error) error {
	if err != nil && !errors.Is(err, errShort) && !errors.Is(err, ErrCorrupt) {
		return err
	}
	return corrupt("the file changed while it was read (the second reading differs from the first)")
}

// Frames hands on the records of a bundle from r without its checksum, in
// batches, so that a verifier can name the records of a damaged file. It
// stops at the first frame whose framing is broken (the error names it);
// records before it were handed on.
func Frames(r io.Reader, maxBytes int64, records func([][]byte) error) (Header, error) {
	d := newDecoder(&tailHash{r: r, h: sha256.New(), max: maxBytes})
	d.seg = nil
	lead := make([]byte, len(Magic)+2)
	if err := d.read(lead); err != nil || !bytes.Equal(lead[:len(Magic)], Magic) {
		return Header{}, corrupt("not a bundle or truncated header")
	}
	v := binary.BigEndian.Uint16(lead[len(Magic):])
	if v != version1 && v != version2 {
		return Header{}, corrupt("version %d", v)
	}
	l, err := d.header(v, maxBytes)
	if err != nil {
		return l.hdr, err
	}
	var batch [][]byte
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := records(batch)
		batch, size = nil, 0
		return err
	}
	for i := 0; i < l.hdr.Count; i++ {
		n, err := d.frameLen(i, maxBytes)
		if err == nil {
			rec := make([]byte, n)
			if err = d.read(rec); err == nil {
				batch, size = append(batch, rec), size+4+n
			} else {
				err = wrap(err, fmt.Sprintf("frame %d", i), maxBytes)
			}
		}
		if err != nil {
			if ferr := flush(); ferr != nil {
				return l.hdr, ferr
			}
			return l.hdr, err
		}
		if batchEnds(len(batch), size) {
			if err := flush(); err != nil {
				return l.hdr, err
			}
		}
	}
	return l.hdr, flush()
}
