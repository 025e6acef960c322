package recon

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Wire format (version 2). All integers are unsigned LEB128 varints
// (encoding/binary Uvarint) in their shortest form.
//
//	message = version:byte(0x02) [kind:byte body]
//
// A message that is just the version byte is final: "nothing left to do".
// Otherwise the kind byte says what follows, and the body must take up
// the rest of the message exactly:
//
//	kind 0, Ranges: range+                              (either side)
//	kind 1, Coded:  start:uvarint [n:uvarint fp:byte[16]]  (initiator only;
//	                n and fp only when start = 0)
//	                plan:uvarint count:uvarint symbol*count
//	kind 2, Sketch: n:uvarint logBuckets:uvarint levels:uvarint
//	                cell:byte[levels << logBuckets]
//	                probes:uvarint (bound fp:byte[4])*probes  (responder only)
//	kind 3, More:   want:uvarint                            (responder only)
//	kind 4, Tail:   bound count:uvarint id:byte[32]*count    (initiator only)
//
// Ranges:
//
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
// in a row; a Ranges message has at least one range.
//
// Coded: the sender's coded symbols [start, start+count) (see riblt.go),
// each as key:byte[32] checksum:uint32-little-endian count:byte. With the
// first symbols (start = 0) come the sender's item count n and the
// fingerprint fp of its whole set. plan >= start+count is the number of
// symbols the sender means to have sent before it hears back. 1 <= count,
// plan <= 2^24, n <= 2^40.
//
// Sketch: the sender's item count n and its difference-estimator sketch
// (see sketch.go) of 2^logBuckets buckets by levels one-byte cells, bucket
// major. logBuckets <= 6, 2 <= levels <= 25-logBuckets, n <= 2^40. Then
// up to 64 probes: bounds (encoded as range bounds, each relative to the
// previous one, the first to the lowest point; strictly increasing, never
// +∞), each with the first 4 bytes of the fingerprint of the sender's
// items below it.
//
// More: the receiver of Coded asks for symbols up to index want
// (exclusive), 1 <= want <= 2^24.
//
// Tail: a bound (relative to the lowest point, not +∞) and the sender's
// IDs at or above it, strictly increasing, each one that can lie there.

const (
	wireVersion byte = 2

	kindFinal  = -1 // no kind byte: just the version
	kindRanges = 0
	kindCoded  = 1
	kindSketch = 2
	kindMore   = 3
	kindTail   = 4

	probeFPSize = 4 // a probe's prefix fingerprint, truncated
	maxProbes   = 64

	maxWireCount = 1 << 40 // largest set size a message may claim

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
	return &encoder{buf: []byte{wireVersion, kindRanges}, max: max}
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

// finish drops a trailing Skip and returns the message: the final
// message (just the version byte) if no range is left.
func (e *encoder) finish() []byte {
	if e.lastSkip {
		e.buf = e.buf[:e.lastOff]
		e.prev = e.beforeLast
		e.lastSkip = false
	}
	if len(e.buf) == 2 {
		e.buf = e.buf[:1]
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

// checkVersion checks the version byte and returns the message's kind.
func checkVersion(msg []byte) (int, error) {
	if len(msg) == 0 {
		return 0, fmt.Errorf("%w: empty message (no version byte)", ErrMalformed)
	}
	if msg[0] != wireVersion {
		return 0, fmt.Errorf("%w: version %d, want %d", ErrMalformed, msg[0], wireVersion)
	}
	if len(msg) == 1 {
		return kindFinal, nil
	}
	return int(msg[1]), nil
}

// newReader reads the ranges of a Ranges message (or of a final message,
// which has none); the caller has checked the size.
func newReader(msg []byte, maxIDs int) (*reader, error) {
	kind, err := checkVersion(msg)
	if err != nil {
		return nil, err
	}
	r := &reader{msg: msg, off: len(msg), maxIDs: maxIDs, last: -1}
	switch kind {
	case kindFinal:
	case kindRanges:
		r.off = 2
		if len(msg) == 2 {
			return nil, fmt.Errorf("%w: Ranges message without a range", ErrMalformed)
		}
	default:
		return nil, fmt.Errorf("%w: kind %d is not Ranges", ErrMalformed, kind)
	}
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

// wireMsg is a decoded message. Slices alias the message.
type wireMsg struct {
	kind   int
	ranges int // Ranges: number of ranges

	// Coded
	start, plan uint64
	count       int
	syms        []byte // count*symbolSize bytes
	// Coded (start = 0) and Sketch
	n  int
	fp [fpSize]byte
	// Sketch
	logm, levels int
	cells        []byte
	probeBounds  []bound
	probeFPs     [][probeFPSize]byte
	// More
	want uint64
	// Tail
	tail bound
	ids  []byte // strictly increasing IDs
}

// parse decodes a whole message strictly; a bad message changes no state.
func parse(msg []byte, maxIDs int) (wireMsg, error) {
	var m wireMsg
	kind, err := checkVersion(msg)
	if err != nil {
		return m, err
	}
	m.kind = kind
	switch kind {
	case kindFinal:
		return m, nil
	case kindRanges:
		r, err := newReader(msg, maxIDs)
		if err != nil {
			return m, err
		}
		for r.next() {
		}
		m.ranges = r.idx
		return m, r.err
	}
	p := bodyReader{msg: msg, off: 2}
	switch kind {
	case kindCoded:
		m.start = p.uvarint("start", maxSymbols-1)
		if p.err == nil && m.start == 0 {
			m.n = int(p.uvarint("item count", maxWireCount))
			copy(m.fp[:], p.bytes("fingerprint", fpSize))
		}
		m.plan = p.uvarint("plan", maxSymbols)
		count := p.uvarint("symbol count", maxSymbols)
		if p.err == nil && (count == 0 || m.start+count > m.plan) {
			p.fail("symbols [%d, %d+%d) empty or beyond plan %d", m.start, m.start, count, m.plan)
		}
		if p.err == nil && uint64(len(msg)-p.off)/symbolSize < count {
			p.fail("%d symbols truncated", count)
		}
		if p.err == nil {
			m.count = int(count)
			m.syms = p.bytes("symbols", symbolSize*m.count)
		}
	case kindSketch:
		m.n = int(p.uvarint("item count", maxWireCount))
		m.logm = int(p.uvarint("sketch buckets", maxSketchLog))
		m.levels = int(p.uvarint("sketch levels", 25))
		if p.err == nil && (m.levels < 2 || m.levels > 25-m.logm) {
			p.fail("sketch of %d levels, want 2..%d", m.levels, 25-m.logm)
		}
		if p.err == nil {
			m.cells = p.bytes("sketch cells", m.levels<<m.logm)
		}
		np := p.uvarint("probe count", maxProbes)
		prev := bound{}
		for range np {
			b := p.bound("probe", &prev)
			fp := p.bytes("probe fingerprint", probeFPSize)
			if p.err != nil {
				break
			}
			m.probeBounds = append(m.probeBounds, b)
			m.probeFPs = append(m.probeFPs, [probeFPSize]byte(fp))
			prev = b
		}
	case kindTail:
		zero := bound{}
		m.tail = p.bound("tail", &zero)
		count := p.uvarint("tail count", maxWireCount)
		if p.err == nil && uint64(len(msg)-p.off)/32 < count {
			p.fail("tail of %d IDs truncated", count)
		}
		if p.err == nil {
			m.ids = p.bytes("tail IDs", 32*int(count))
			for k := range int(count) {
				id := (*[32]byte)(m.ids[32*k:])
				if k > 0 && bytes.Compare(m.ids[32*(k-1):32*k], id[:]) >= 0 {
					p.fail("tail IDs not strictly increasing at %d", k)
					break
				}
				if !idPossible(id, &m.tail, &infBound) {
					p.fail("tail ID %d cannot lie at or above the bound", k)
					break
				}
			}
		}
	case kindMore:
		m.want = p.uvarint("want", maxSymbols)
		if p.err == nil && m.want == 0 {
			p.fail("want 0")
		}
	default:
		return m, fmt.Errorf("%w: unknown kind %d", ErrMalformed, kind)
	}
	if p.err == nil && p.off != len(msg) {
		p.fail("%d trailing bytes", len(msg)-p.off)
	}
	return m, p.err
}

// bodyReader reads the fields of a Coded, Sketch or More message; after
// the first error every read returns zero.
type bodyReader struct {
	msg []byte
	off int
	err error
}

func (p *bodyReader) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: kind %d at byte %d: %s", ErrMalformed, p.msg[1], p.off, fmt.Sprintf(format, args...))
	}
}

func (p *bodyReader) uvarint(what string, max uint64) uint64 {
	if p.err != nil {
		return 0
	}
	v, n := binary.Uvarint(p.msg[p.off:])
	switch {
	case n == 0:
		p.fail("%s: truncated varint", what)
	case n < 0:
		p.fail("%s: varint overflows 64 bits", what)
	case n != uvarintLen(v):
		p.fail("%s: non-minimal varint", what)
	case v > max:
		p.fail("%s %d exceeds %d", what, v, max)
	}
	if p.err != nil {
		return 0
	}
	p.off += n
	return v
}

// bound reads a bound relative to prev, which it must exceed; +∞ is not
// allowed.
func (p *bodyReader) bound(what string, prev *bound) bound {
	var b bound
	delta := p.uvarint(what+" bound time", math.MaxUint64)
	plen := p.uvarint(what+" bound prefix length", 32)
	if p.err != nil {
		return b
	}
	if delta > math.MaxUint64-prev.time {
		p.fail("%s bound time overflows uint64", what)
		return b
	}
	b.time = prev.time + delta
	b.plen = int(plen)
	copy(b.prefix[:], p.bytes(what+" bound prefix", b.plen))
	switch {
	case p.err != nil:
	case b.plen > 0 && b.prefix[b.plen-1] == 0:
		p.fail("%s bound prefix ends in a zero byte", what)
	case b.cmp(prev) <= 0:
		p.fail("%s bound does not increase", what)
	}
	return b
}

func (p *bodyReader) bytes(what string, n int) []byte {
	if p.err != nil {
		return nil
	}
	if len(p.msg)-p.off < n {
		p.fail("%s truncated", what)
		return nil
	}
	b := p.msg[p.off : p.off+n]
	p.off += n
	return b
}

// appendCoded writes a Coded message carrying syms as symbols [start,
// start+len(syms)); n and fp go with start = 0.
func appendCoded(dst []byte, start, plan uint64, n int, fp [fpSize]byte, syms []symbol) []byte {
	dst = append(dst, wireVersion, kindCoded)
	dst = binary.AppendUvarint(dst, start)
	if start == 0 {
		dst = binary.AppendUvarint(dst, uint64(n))
		dst = append(dst, fp[:]...)
	}
	dst = binary.AppendUvarint(dst, plan)
	dst = binary.AppendUvarint(dst, uint64(len(syms)))
	for k := range syms {
		dst = appendSymbol(dst, &syms[k])
	}
	return dst
}

// codedHeaderLen is the size of a Coded message's fields before its
// symbols, with at most maxCount symbols.
func codedHeaderLen(start, plan uint64, n int, maxCount int) int {
	l := 2 + uvarintLen(start) + uvarintLen(plan) + uvarintLen(uint64(maxCount))
	if start == 0 {
		l += uvarintLen(uint64(n)) + fpSize
	}
	return l
}

func appendSymbol(dst []byte, s *symbol) []byte {
	for _, k := range s.key {
		dst = binary.LittleEndian.AppendUint64(dst, k)
	}
	dst = binary.LittleEndian.AppendUint32(dst, s.chk)
	return append(dst, s.cnt)
}

// readSymbol decodes symbol k of a Coded message's symbols.
func readSymbol(b []byte, k int) symbol {
	b = b[symbolSize*k : symbolSize*(k+1)]
	return symbol{
		key: [4]uint64{
			binary.LittleEndian.Uint64(b[0:]),
			binary.LittleEndian.Uint64(b[8:]),
			binary.LittleEndian.Uint64(b[16:]),
			binary.LittleEndian.Uint64(b[24:]),
		},
		chk: binary.LittleEndian.Uint32(b[32:]),
		cnt: b[36],
	}
}

func appendSketch(dst []byte, n, logm, levels int, cells []byte, bounds []bound, fps [][probeFPSize]byte) []byte {
	dst = append(dst, wireVersion, kindSketch)
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = binary.AppendUvarint(dst, uint64(logm))
	dst = binary.AppendUvarint(dst, uint64(levels))
	dst = append(dst, cells...)
	dst = binary.AppendUvarint(dst, uint64(len(bounds)))
	prev := bound{}
	for k := range bounds {
		dst = appendBound(dst, &bounds[k], &prev)
		dst = append(dst, fps[k][:]...)
		prev = bounds[k]
	}
	return dst
}

// sketchMsgLen is the size of a Sketch message without probes.
func sketchMsgLen(n, logm, levels int) int {
	return 2 + uvarintLen(uint64(n)) + 2 + levels<<logm + 1
}

// appendTail writes a Tail message with the IDs of items[idx], which must
// be distinct; they are sorted on the wire.
func appendTail(dst []byte, b *bound, items []Item, idx []int) []byte {
	dst = append(dst, wireVersion, kindTail)
	dst = appendBound(dst, b, &bound{})
	dst = binary.AppendUvarint(dst, uint64(len(idx)))
	ids := make([][32]byte, len(idx))
	for k, i := range idx {
		ids[k] = items[i].ID
	}
	slices.SortFunc(ids, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	for k := range ids {
		dst = append(dst, ids[k][:]...)
	}
	return dst
}

func tailMsgLen(b *bound, count int) int {
	return 2 + boundLen(b, &bound{}) + uvarintLen(uint64(count)) + 32*count
}

func appendMore(dst []byte, want uint64) []byte {
	dst = append(dst, wireVersion, kindMore)
	return binary.AppendUvarint(dst, want)
}
