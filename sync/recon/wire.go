package recon

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Wire format (version 1). All integers are unsigned LEB128 varints
// (encoding/binary Uvarint) in their shortest form.
//
//	message = version:byte(0x01) range*
//	range   = bound mode payload
//	bound   = timeDelta:uvarint prefixLen:uvarint prefix:byte[prefixLen]
//	mode    = uvarint: 0 Skip | 1 Fingerprint | 2 IdList
//	payload = Skip: nothing
//	          Fingerprint: 16 bytes
//	          IdList: count:uvarint id:byte[32]*count (strictly increasing)
//
// A range runs from the previous range's upper bound (the first from the
// lowest point (0, 32 zero bytes)) to its own upper bound, exclusive. A
// bound is the point (time, prefix padded with zero bytes to 32 bytes);
// its time is encoded as the difference from the previous bound's time.
// prefixLen 33 with timeDelta 0 and no prefix bytes is the bound +∞, above
// every item; it can only be the last bound. Bounds strictly increase;
// prefixes never end in a zero byte. The region after the last range is
// implicitly Skip, so the encoder never writes a trailing Skip nor two Skips
// in a row, and a message with no ranges (just the version byte) means
// "nothing left to do".

const (
	wireVersion byte = 1

	modeSkip        = 0
	modeFingerprint = 1
	modeIDList      = 2

	fpSize       = 16
	infPrefixLen = 33

	// remainderCost is the size of a final [cut, +∞) Fingerprint range:
	// bound (2 bytes), mode (1), fingerprint (16).
	remainderCost = 2 + 1 + fpSize
)

// Errors returned by Session methods and Config.Validate. Returned errors
// wrap one of these; test them with errors.Is.
var (
	// ErrInvalidConfig: a Config field is out of range.
	ErrInvalidConfig = errors.New("recon: invalid config")
	// ErrMalformed: the peer's message does not decode under the strict
	// rules of the wire format.
	ErrMalformed = errors.New("recon: malformed message")
	// ErrProtocol: the message decodes but breaks the protocol.
	ErrProtocol = errors.New("recon: protocol violation")
	// ErrMessageTooLarge: the peer's message exceeds MaxMessageBytes.
	ErrMessageTooLarge = errors.New("recon: message exceeds MaxMessageBytes")
	// ErrTooManyRounds: the session would exceed MaxRounds.
	ErrTooManyRounds = errors.New("recon: session exceeds MaxRounds")
	// ErrMisuse: a method was called out of order (Initiate on a
	// responder, Reply after the session finished, and so on).
	ErrMisuse = errors.New("recon: session misuse")
)

// bound is a point in (Time, ID) order, or +∞.
type bound struct {
	inf    bool
	time   uint64
	plen   int      // significant prefix bytes, 0..32
	prefix [32]byte // zero beyond plen
}

func (b *bound) cmp(c *bound) int {
	switch {
	case b.inf && c.inf:
		return 0
	case b.inf:
		return 1
	case c.inf:
		return -1
	case b.time < c.time:
		return -1
	case b.time > c.time:
		return 1
	}
	return bytes.Compare(b.prefix[:], c.prefix[:])
}

// itemBefore reports whether it < b.
func itemBefore(it *Item, b *bound) bool {
	if b.inf || it.Time < b.time {
		return true
	}
	return it.Time == b.time && bytes.Compare(it.ID[:], b.prefix[:]) < 0
}

var infBound = bound{inf: true}

// separator returns the shortest bound b with p < b <= q, for items p < q.
func separator(p, q *Item) bound {
	b := bound{time: q.Time}
	if p.Time < q.Time {
		return b
	}
	k := 0
	for k < 31 && p.ID[k] == q.ID[k] {
		k++
	}
	b.plen = k + 1
	copy(b.prefix[:], q.ID[:k+1])
	return b
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func boundLen(b, prev *bound) int {
	if b.inf {
		return 2
	}
	return uvarintLen(b.time-prev.time) + 1 + b.plen
}

func appendBound(dst []byte, b, prev *bound) []byte {
	if b.inf {
		return append(dst, 0, infPrefixLen)
	}
	dst = binary.AppendUvarint(dst, b.time-prev.time)
	dst = append(dst, byte(b.plen))
	return append(dst, b.prefix[:b.plen]...)
}

// encoder builds one outgoing message under a byte budget. Skips are
// written eagerly and merged with a following Skip by rewriting the last
// range; a trailing Skip is dropped by finish.
type encoder struct {
	buf        []byte
	max        int
	prev       bound // upper bound of the last written range
	lastSkip   bool
	lastOff    int   // offset of the last written range
	beforeLast bound // lower bound of the last written range
}

func newEncoder(max int) *encoder {
	return &encoder{buf: []byte{wireVersion}, max: max}
}

// fits reports whether a message of n bytes whose last range ends at hi
// still leaves room for a remainder range (none is needed after +∞).
func (e *encoder) fits(n int, hi *bound) bool {
	if hi.inf {
		return n <= e.max
	}
	return n+remainderCost <= e.max
}

// trySkip appends (or extends) a Skip range up to hi if the budget allows.
func (e *encoder) trySkip(hi *bound) bool {
	var n int
	if e.lastSkip {
		n = e.lastOff + boundLen(hi, &e.beforeLast) + 1
	} else {
		n = len(e.buf) + boundLen(hi, &e.prev) + 1
	}
	if !e.fits(n, hi) {
		return false
	}
	if e.lastSkip {
		e.buf = e.buf[:e.lastOff]
		e.prev = e.beforeLast
	}
	e.start(hi)
	e.buf = append(e.buf, modeSkip)
	e.lastSkip = true
	return true
}

// start writes the bound of a new range ending at hi.
func (e *encoder) start(hi *bound) {
	e.lastOff = len(e.buf)
	e.beforeLast = e.prev
	e.buf = appendBound(e.buf, hi, &e.prev)
	e.prev = *hi
	e.lastSkip = false
}

func (e *encoder) fpLen(hi *bound) int {
	return len(e.buf) + boundLen(hi, &e.prev) + 1 + fpSize
}

func (e *encoder) writeFP(hi *bound, fp [fpSize]byte) {
	e.start(hi)
	e.buf = append(e.buf, modeFingerprint)
	e.buf = append(e.buf, fp[:]...)
}

func (e *encoder) idListLen(hi *bound, count int) int {
	return len(e.buf) + boundLen(hi, &e.prev) + 1 + uvarintLen(uint64(count)) + 32*count
}

// writeIDList writes the IDs of items[idx] for each idx; they must be
// distinct and are sorted by ID bytes on the wire.
func (e *encoder) writeIDList(hi *bound, items []Item, idx []int) {
	e.start(hi)
	e.buf = append(e.buf, modeIDList)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(idx)))
	off := len(e.buf)
	for _, i := range idx {
		e.buf = append(e.buf, items[i].ID[:]...)
	}
	sortIDs(e.buf[off:])
}

// finish drops a trailing Skip and returns the message.
func (e *encoder) finish() []byte {
	if e.lastSkip {
		e.buf = e.buf[:e.lastOff]
		e.prev = e.beforeLast
		e.lastSkip = false
	}
	return e.buf
}

// empty reports whether the finished message carries no range.
func (e *encoder) empty() bool { return len(e.buf) == 1 }

// sortIDs sorts a packed run of 32-byte IDs in place.
func sortIDs(b []byte) {
	n := len(b) / 32
	// Insertion sort: lists hold at most IDListThreshold IDs and usually
	// arrive nearly sorted.
	var tmp [32]byte
	for i := 1; i < n; i++ {
		for j := i; j > 0 && bytes.Compare(b[32*(j-1):32*j], b[32*j:32*(j+1)]) > 0; j-- {
			copy(tmp[:], b[32*j:32*(j+1)])
			copy(b[32*j:32*(j+1)], b[32*(j-1):32*j])
			copy(b[32*(j-1):32*j], tmp[:])
		}
	}
}

// wireRange is one decoded range [lo, hi). ids aliases the message.
type wireRange struct {
	lo, hi bound
	mode   int
	fp     [fpSize]byte
	ids    []byte // count*32 bytes, strictly increasing IDs
}

// reader decodes a message range by range, strictly. Decoding the whole
// message once before acting on it (see validate) means a bad message
// changes no state.
type reader struct {
	msg    []byte
	off    int
	maxIDs int
	idx    int // ranges decoded so far
	cur    wireRange
	last   int // mode of the previous range, -1 before the first
	err    error
}

// newReader checks the version byte; the caller has checked the size.
func newReader(msg []byte, maxIDs int) (*reader, error) {
	if len(msg) == 0 {
		return nil, fmt.Errorf("%w: empty message (no version byte)", ErrMalformed)
	}
	if msg[0] != wireVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrMalformed, msg[0], wireVersion)
	}
	r := &reader{msg: msg, off: 1, maxIDs: maxIDs, last: -1}
	return r, nil
}

func (r *reader) fail(format string, args ...any) bool {
	r.err = fmt.Errorf("%w: range %d at byte %d: %s", ErrMalformed, r.idx, r.off, fmt.Sprintf(format, args...))
	return false
}

func (r *reader) uvarint(what string) (uint64, bool) {
	v, n := binary.Uvarint(r.msg[r.off:])
	if n == 0 {
		return 0, r.fail("%s: truncated varint", what)
	}
	if n < 0 {
		return 0, r.fail("%s: varint overflows 64 bits", what)
	}
	if n != uvarintLen(v) {
		return 0, r.fail("%s: non-minimal varint", what)
	}
	r.off += n
	return v, true
}

// next decodes the next range into r.cur. It returns false at the end of
// the message or on error (then r.err is set).
func (r *reader) next() bool {
	if r.err != nil {
		return false
	}
	if r.off == len(r.msg) {
		if r.last == modeSkip {
			return r.fail("trailing Skip range")
		}
		return false
	}
	if r.idx > 0 && r.cur.hi.inf {
		return r.fail("range after the +∞ bound")
	}
	lo := bound{}
	if r.idx > 0 {
		lo = r.cur.hi
	}
	var hi bound
	delta, ok := r.uvarint("bound time")
	if !ok {
		return false
	}
	plen, ok := r.uvarint("bound prefix length")
	if !ok {
		return false
	}
	switch {
	case plen == infPrefixLen:
		if delta != 0 {
			return r.fail("+∞ bound with time delta %d, want 0", delta)
		}
		hi.inf = true
	case plen > 32:
		return r.fail("bound prefix length %d exceeds 32", plen)
	default:
		if delta > math.MaxUint64-lo.time {
			return r.fail("bound time overflows uint64")
		}
		hi.time = lo.time + delta
		if uint64(len(r.msg)-r.off) < plen {
			return r.fail("bound prefix truncated")
		}
		hi.plen = int(plen)
		copy(hi.prefix[:], r.msg[r.off:r.off+hi.plen])
		r.off += hi.plen
		if hi.plen > 0 && hi.prefix[hi.plen-1] == 0 {
			return r.fail("bound prefix ends in a zero byte")
		}
	}
	if hi.cmp(&lo) <= 0 {
		return r.fail("bound does not increase")
	}
	mode, ok := r.uvarint("mode")
	if !ok {
		return false
	}
	cur := wireRange{lo: lo, hi: hi, mode: int(mode)}
	switch mode {
	case modeSkip:
		if r.last == modeSkip {
			return r.fail("two Skip ranges in a row")
		}
	case modeFingerprint:
		if len(r.msg)-r.off < fpSize {
			return r.fail("fingerprint truncated")
		}
		copy(cur.fp[:], r.msg[r.off:])
		r.off += fpSize
	case modeIDList:
		count, ok := r.uvarint("IdList count")
		if !ok {
			return false
		}
		if count > uint64(r.maxIDs) {
			return r.fail("IdList of %d IDs exceeds IDListThreshold %d", count, r.maxIDs)
		}
		if uint64(len(r.msg)-r.off)/32 < count {
			return r.fail("IdList of %d IDs truncated", count)
		}
		cur.ids = r.msg[r.off : r.off+32*int(count)]
		r.off += 32 * int(count)
		for k := range int(count) {
			id := (*[32]byte)(cur.ids[32*k:])
			if k > 0 && bytes.Compare(cur.ids[32*(k-1):32*k], id[:]) >= 0 {
				return r.fail("IdList IDs not strictly increasing at %d", k)
			}
			if !idPossible(id, &lo, &hi) {
				return r.fail("IdList ID %d cannot lie in its range", k)
			}
		}
	default:
		return r.fail("unknown mode %d", mode)
	}
	r.cur = cur
	r.last = int(mode)
	r.idx++
	return true
}

// idPossible reports whether some item (t, id) can lie in [lo, hi).
// lo is never +∞ and lo < hi.
func idPossible(id *[32]byte, lo, hi *bound) bool {
	geLo := bytes.Compare(id[:], lo.prefix[:]) >= 0 // (lo.time, id) >= lo
	if hi.inf {
		return geLo || lo.time < math.MaxUint64
	}
	ltHi := bytes.Compare(id[:], hi.prefix[:]) < 0 // (hi.time, id) < hi
	switch hi.time - lo.time {
	case 0:
		return geLo && ltHi
	case 1:
		return geLo || ltHi
	default:
		return true
	}
}

// validate decodes the whole message and returns its number of ranges.
func validate(msg []byte, maxIDs int) (int, error) {
	r, err := newReader(msg, maxIDs)
	if err != nil {
		return 0, err
	}
	for r.next() {
	}
	return r.idx, r.err
}
