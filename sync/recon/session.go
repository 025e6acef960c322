package recon

import (
	"bytes"
	"fmt"
	"slices"
)

// Config bounds one side of a reconciliation. The zero value of each field
// selects its default. Branch may differ between peers, but a message
// larger than this side's MaxMessageBytes, or with an IdList longer than
// this side's IDListThreshold, is rejected: give both peers the same
// IDListThreshold and MaxMessageBytes (the defaults, in Vigil).
type Config struct {
	// Branch is the number of sub-ranges a mismatched range is split into.
	// Default 16; allowed 2..1024.
	Branch int
	// IDListThreshold: a side whose count in a mismatched range is at most
	// this sends its IDs instead of splitting. Default 2*Branch; allowed
	// 1..4096.
	IDListThreshold int
	// MaxMessageBytes caps every message a side sends and accepts. A side
	// whose reply would be larger answers what fits and defers the rest of
	// the peer's ranges as one Fingerprint range up to +∞, which the peer
	// splits again in the next round. Default 256 KiB; allowed
	// 256..64 MiB.
	MaxMessageBytes int
	// MaxRounds caps the number of non-empty messages each side sends and
	// accepts (the final empty message is not counted). Default 64;
	// allowed 1..1<<20.
	MaxRounds int
	// RangeOnly makes an initiator reconcile by ranges alone (plain
	// Negentropy), without coded symbols. A responder follows whatever
	// the initiator starts with, whatever its own RangeOnly.
	RangeOnly bool
}

// Defaults and limits of Config.
const (
	DefaultBranch          = 16
	DefaultMaxMessageBytes = 256 << 10
	DefaultMaxRounds       = 64

	MinMaxMessageBytes = 256
	maxMaxMessageBytes = 64 << 20
	maxBranch          = 1024
	maxIDListThreshold = 4096
	maxMaxRounds       = 1 << 20
)

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	if c.Branch == 0 {
		c.Branch = DefaultBranch
	}
	if c.IDListThreshold == 0 {
		c.IDListThreshold = 2 * c.Branch
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.MaxRounds == 0 {
		c.MaxRounds = DefaultMaxRounds
	}
	return c
}

// Validate reports the first field of c (after defaults) that is out of
// range, wrapping ErrInvalidConfig.
func (c Config) Validate() error {
	c = c.withDefaults()
	check := func(name string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fmt.Errorf("%w: %s = %d, want %d..%d", ErrInvalidConfig, name, v, lo, hi)
		}
		return nil
	}
	if err := check("Branch", c.Branch, 2, maxBranch); err != nil {
		return err
	}
	if err := check("IDListThreshold", c.IDListThreshold, 1, maxIDListThreshold); err != nil {
		return err
	}
	if err := check("MaxMessageBytes", c.MaxMessageBytes, MinMaxMessageBytes, maxMaxMessageBytes); err != nil {
		return err
	}
	return check("MaxRounds", c.MaxRounds, 1, maxMaxRounds)
}

type state int

const (
	stateNew    state = iota // initiator before Initiate, responder before its first Reply
	stateActive              // a message is out, waiting for the peer's
	stateDone                // finished normally
	stateFailed              // an error ended the session
)

// Coded-phase parameters.
const (
	// firstSymbols is how many coded symbols the initiator's first
	// message carries: enough to decode 1 or 2 differences at once, and
	// the whole-set fingerprint settles 0.
	firstSymbols = 6
	// planFactor and planExtra size the symbols sent after the sketch:
	// peeling needs about 1.4 to 1.75 symbols per difference.
	planFactor = 1.6
	planExtra  = 16
	// replanFactor sizes the request after the plan fell short, from the
	// estimate the empty symbols give (within ±7% for large differences).
	replanFactor = 1.55
	// rangeShare: ranges are used instead of coded symbols when the
	// estimated difference exceeds 1/rangeShare of both sets together,
	// where sending IDs costs less than about 60 bytes per difference.
	rangeShare = 3
	// maxBatches bounds the Coded messages of a session, each of which
	// costs both sides O(n log symbols) time: past it, the side that
	// would continue falls back to ranges.
	maxBatches = 16
)

// span is a range [lo, hi) this side sent as an IdList.
type span struct{ lo, hi bound }

// Session is one side of one reconciliation over a Set snapshot. Not safe
// for concurrent use; the Set may be shared.
//
// The exchange: the initiator calls Initiate and sends the message; each
// side then calls Reply with every message it receives and sends the
// returned out whenever it is non-nil, until Reply returns done. Exactly
// one side ends by sending an empty message (just the version byte):
// whichever side first has nothing more to say returns that message with
// done = true; the other side then receives it, and its Reply returns
// (nil, true, nil). When the coded phase settles the difference, the
// responder ends the exchange, right after decoding; in the range phase
// it is usually the initiator. A side never needs to read after it
// returned done. After an error the session is dead and every call
// returns the same error.
type Session struct {
	set       *Set
	cfg       Config
	initiator bool
	state     state
	err       error

	view activeView
	sent []span // IdLists in this side's last message

	// Coded phase. ranges is set once either side sent a Ranges message;
	// coded messages are then a protocol violation.
	ranges   bool
	lastKind int          // kind of this side's last message (kindFinal before any)
	peerN    int          // the peer's item count, as it claims
	peerFP   [fpSize]byte // responder: the initiator's whole-set fingerprint
	symSent  uint64       // initiator: coded symbols sent
	batches  int          // Coded messages sent (initiator) or received (responder)
	sketched bool         // initiator: the sketch was answered
	dec      decoder      // responder
	stream   symbolStream // this side's coded symbols

	have, need [][32]byte

	bytesSent, bytesRecv int
	msgsSent             int
	roundsSent           int // non-empty messages sent (MaxRounds applies)
	roundsRecv           int // non-empty messages received (MaxRounds applies)
}

// NewInitiator returns the side that sends the first message. A nil s is
// an empty set. An invalid c makes every method return ErrInvalidConfig.
func NewInitiator(s *Set, c Config) *Session { return newSession(s, c, true) }

// NewResponder returns the side that answers the initiator's first
// message. A nil s is an empty set. An invalid c makes every method
// return ErrInvalidConfig.
func NewResponder(s *Set, c Config) *Session { return newSession(s, c, false) }

func newSession(s *Set, c Config, initiator bool) *Session {
	if s == nil {
		s = NewSet(nil)
	}
	x := &Session{set: s, cfg: c.withDefaults(), initiator: initiator, view: newActiveView(s), lastKind: kindFinal}
	x.stream.set = s
	if err := c.Validate(); err != nil {
		x.state, x.err = stateFailed, err
	}
	return x
}

func (x *Session) fail(err error) error {
	x.state, x.err = stateFailed, err
	return err
}

// Initiate returns the initiator's first message: its IdList when it holds
// at most IDListThreshold items; otherwise its first coded symbols with
// its whole-set fingerprint, or, with RangeOnly, the whole range split
// into Branch fingerprints. It may be called once, on an initiator only.
func (x *Session) Initiate() ([]byte, error) {
	switch {
	case x.state == stateFailed:
		return nil, x.err
	case !x.initiator:
		return nil, fmt.Errorf("%w: Initiate on a responder", ErrMisuse)
	case x.state != stateNew:
		return nil, fmt.Errorf("%w: Initiate called twice", ErrMisuse)
	}
	var out []byte
	if x.cfg.RangeOnly || x.set.Len() <= x.cfg.IDListThreshold {
		out = x.startRanges()
	} else {
		out = x.sendCoded(firstSymbols)
	}
	x.state = stateActive
	x.roundsSent++
	x.record(out)
	return out, nil
}

func (x *Session) record(out []byte) {
	x.msgsSent++
	x.bytesSent += len(out)
	x.lastKind = kindFinal
	if len(out) > 1 {
		x.lastKind = int(out[1])
	}
}

// startRanges returns this side's first Ranges message: the whole range
// split (or its IdList), with the rest deferred if the budget runs out.
func (x *Session) startRanges() []byte {
	x.ranges = true
	e := newEncoder(x.cfg.MaxMessageBytes)
	if _, ci, ok := x.split(e, bound{}, infBound, 0, x.set.Len()); !ok {
		e.writeFP(&infBound, x.view.fingerprint(ci, x.set.Len()))
	}
	return e.finish()
}

// sendCoded returns a Coded message with the next symbols, up to index
// plan or as many as fit.
func (x *Session) sendCoded(plan uint64) []byte {
	start := x.symSent
	n := x.set.Len()
	fit := (x.cfg.MaxMessageBytes - codedHeaderLen(start, plan, n, x.cfg.MaxMessageBytes/symbolSize)) / symbolSize
	end := min(plan, start+uint64(fit))
	syms := x.stream.symbols(end)
	x.symSent = end
	x.batches++
	return appendCoded(nil, start, plan, n, x.view.fingerprint(0, n), syms)
}

// Reply consumes the peer's message and returns the next message to send.
//
// out is nil when there is nothing to send. done is true when this side's
// part of the exchange is over: either msg was the peer's final empty
// message (out is nil), or this side has nothing more to say and out is
// the final empty message, which must still be sent so the peer can stop.
//
// Reply errors, and kills the session, when msg is malformed (wrapping
// ErrMalformed), larger than MaxMessageBytes (ErrMessageTooLarge), breaks
// the protocol (ErrProtocol), or when the exchange would exceed MaxRounds
// (ErrTooManyRounds). It never panics on any input. What it allocates is
// bounded by the Set's size plus a small multiple of the bytes received
// in the session; its time by O(n log n) per call, n being the Set's size
// plus the symbols received, and a session takes at most 16 Coded
// messages. Need never holds more than one ID per 32 bytes received in
// the session (a Coded message may complete the decoding of symbols
// received before it, so Need can grow by more than that in one call).
// Have and Need keep what was learned before an error.
func (x *Session) Reply(msg []byte) (out []byte, done bool, err error) {
	switch x.state {
	case stateFailed:
		return nil, false, x.err
	case stateDone:
		return nil, false, x.fail(fmt.Errorf("%w: Reply after the session finished", ErrMisuse))
	case stateNew:
		if x.initiator {
			return nil, false, fmt.Errorf("%w: Reply before Initiate", ErrMisuse)
		}
	}
	x.bytesRecv += len(msg)
	if len(msg) > x.cfg.MaxMessageBytes {
		return nil, false, x.fail(fmt.Errorf("%w: %d bytes, limit %d", ErrMessageTooLarge, len(msg), x.cfg.MaxMessageBytes))
	}
	m, err := parse(msg, x.cfg.IDListThreshold)
	if err != nil {
		return nil, false, x.fail(err)
	}
	if m.kind == kindFinal {
		x.state = stateDone
		return nil, true, nil
	}
	if x.roundsRecv++; x.roundsRecv > x.cfg.MaxRounds {
		return nil, false, x.fail(fmt.Errorf("%w: peer sent message %d, limit %d", ErrTooManyRounds, x.roundsRecv, x.cfg.MaxRounds))
	}
	switch m.kind {
	case kindRanges:
		x.ranges = true
		if err := x.settle(msg); err != nil {
			return nil, false, x.fail(err)
		}
		out = x.process(msg).finish()
	case kindCoded:
		out, err = x.onCoded(&m)
	case kindSketch:
		out, err = x.onSketch(&m)
	case kindMore:
		out, err = x.onMore(&m)
	case kindTail:
		out, err = x.onTail(&m)
	}
	if err != nil {
		return nil, false, x.fail(err)
	}
	if len(out) == 1 {
		x.state = stateDone
		x.record(out)
		return out, true, nil
	}
	if x.roundsSent >= x.cfg.MaxRounds {
		return nil, false, x.fail(fmt.Errorf("%w: message %d, limit %d", ErrTooManyRounds, x.roundsSent+1, x.cfg.MaxRounds))
	}
	x.roundsSent++
	x.state = stateActive
	x.record(out)
	return out, false, nil
}

// onCoded (responder) adds the initiator's symbols to the difference and
// peels. Decoded and verified, it learns the whole difference and ends;
// otherwise it answers its sketch (after the first symbols), asks for
// more symbols, or falls back to ranges.
func (x *Session) onCoded(m *wireMsg) ([]byte, error) {
	switch {
	case x.initiator:
		return nil, fmt.Errorf("%w: Coded message sent to the initiator", ErrProtocol)
	case x.ranges:
		return nil, fmt.Errorf("%w: Coded message after Ranges", ErrProtocol)
	case m.start == 0 && x.state != stateNew:
		return nil, fmt.Errorf("%w: first coded symbols twice", ErrProtocol)
	case m.start != 0 && (x.lastKind != kindSketch && x.lastKind != kindMore || m.start != uint64(len(x.dec.sym))):
		return nil, fmt.Errorf("%w: coded symbols from %d, expected from %d", ErrProtocol, m.start, len(x.dec.sym))
	}
	if m.start == 0 {
		x.peerN, x.peerFP = m.n, m.fp
	}
	x.batches++
	diff := x.stream.symbols(m.start + uint64(m.count))
	for k := range diff {
		p := readSymbol(m.syms, k)
		d := &diff[k]
		p.toggle(&d.key, d.chk, -d.cnt)
		*d = p
	}
	x.dec.add(diff)
	if x.dec.done() {
		if x.commitDecoded() {
			return []byte{wireVersion}, nil
		}
		return x.startRanges(), nil
	}
	n := x.set.Len()
	have := uint64(len(x.dec.sym))
	limit := symbolCap(x.peerN, n)
	switch {
	case x.dec.failed || have >= limit || x.batches >= maxBatches:
		return x.startRanges(), nil
	case m.start == 0:
		if n <= x.cfg.IDListThreshold {
			return x.startRanges(), nil // an IdList settles everything
		}
		return x.sendSketch(), nil
	}
	want := m.plan
	if have >= want {
		// The plan fell short. With enough empty symbols they estimate
		// the difference well; otherwise grow by 30%.
		want = have + have*3/10 + planExtra
		if d, empties := estimateFromSymbols(x.dec.empty); empties >= 16 {
			want = max(have+have/10+planExtra, uint64(replanFactor*d)+planExtra)
		}
	}
	return appendMore(nil, min(want, limit)), nil
}

// sendSketch returns this side's Sketch message, as large as fits: the
// estimator sketch and the probes, bounds below the newest 16, 22, 32,
// 45, ... items (a factor of about √2 apart, up to half the set) with the
// fingerprints of the items below them. A probe whose prefix matches the
// peer's bounds all the differences to the tail above it.
func (x *Session) sendSketch() []byte {
	n := x.set.Len()
	logm := sketchLogBuckets
	levels := sketchLevels(logm, x.peerN, n)
	for logm > 0 && sketchMsgLen(n, logm, levels) > x.cfg.MaxMessageBytes {
		logm--
		levels = sketchLevels(logm, x.peerN, n)
	}
	var sizes []int // tail sizes, largest first
	for k := 0; k < maxProbes; k++ {
		c := 16 << (k / 2)
		if k%2 == 1 {
			c = c * 181 / 128
		}
		if c > n/2 || 32*c > x.cfg.MaxMessageBytes {
			break
		}
		sizes = append(sizes, c)
	}
	slices.Reverse(sizes)
	items := x.set.items
	bounds := make([]bound, len(sizes))
	fps := make([][probeFPSize]byte, len(sizes))
	for k, c := range sizes {
		i := n - c
		bounds[k] = separator(&items[i-1], &items[i])
		fp := x.view.fingerprint(0, i)
		copy(fps[k][:], fp[:])
	}
	cells := x.set.sketch(logm, levels)
	for {
		out := appendSketch(nil, n, logm, levels, cells, bounds, fps)
		if len(out) <= x.cfg.MaxMessageBytes || len(bounds) == 0 {
			return out
		}
		bounds, fps = bounds[1:], fps[1:]
	}
}

// onSketch (initiator) estimates the difference from the responder's
// sketch and answers with whichever costs least: the IDs it holds in the
// smallest probed tail that holds every difference, the coded symbols the
// estimate calls for, or ranges when the difference is too large for
// coding to pay.
func (x *Session) onSketch(m *wireMsg) ([]byte, error) {
	switch {
	case !x.initiator:
		return nil, fmt.Errorf("%w: Sketch message sent to the responder", ErrProtocol)
	case x.ranges || x.lastKind != kindCoded || x.sketched:
		return nil, fmt.Errorf("%w: unexpected Sketch message", ErrProtocol)
	}
	x.sketched = true
	x.peerN = m.n
	n := x.set.Len()
	own := x.set.sketch(m.logm, m.levels)
	total := float64(n) + float64(m.n)
	d := estimateDiff(own, m.cells, m.logm, m.levels, 1, max(total, 1))
	limit := symbolCap(n, m.n)
	plan := min(uint64(planFactor*d)+planExtra, limit)
	plan = max(plan, x.symSent+1)
	codedCost := symbolSize * int(plan-x.symSent)
	for k := len(m.probeBounds) - 1; k >= 0; k-- {
		b := &m.probeBounds[k]
		i := x.set.lowerIndex(b, 0)
		fp := x.view.fingerprint(0, i)
		if [probeFPSize]byte(fp[:probeFPSize]) != m.probeFPs[k] {
			continue
		}
		// Every difference lies in [b, +∞).
		if l := tailMsgLen(b, n-i); l <= x.cfg.MaxMessageBytes && (l <= codedCost || d*rangeShare > total) {
			idx := make([]int, n-i)
			for k := range idx {
				idx[k] = i + k
			}
			return appendTail(nil, b, x.set.items, idx), nil
		}
		break
	}
	if d*rangeShare > total || plan-x.symSent > uint64((maxBatches-1)*x.symbolsPerMsg(plan)) {
		return x.startRanges(), nil
	}
	return x.sendCoded(plan), nil
}

// symbolsPerMsg is how many coded symbols fit in a message after the
// first, with plan as the message's plan.
func (x *Session) symbolsPerMsg(plan uint64) int {
	return (x.cfg.MaxMessageBytes - codedHeaderLen(plan, plan, 0, x.cfg.MaxMessageBytes/symbolSize)) / symbolSize
}

// onTail (responder) compares the initiator's IDs in a tail with its own.
// If the result accounts for the initiator's whole-set fingerprint, it
// learns the whole difference and ends; otherwise it falls back to ranges.
func (x *Session) onTail(m *wireMsg) ([]byte, error) {
	switch {
	case x.initiator:
		return nil, fmt.Errorf("%w: Tail message sent to the initiator", ErrProtocol)
	case x.ranges || x.lastKind != kindSketch:
		return nil, fmt.Errorf("%w: unexpected Tail message", ErrProtocol)
	}
	items := x.set.items
	n := x.set.Len()
	ids := m.ids
	cnt := len(ids) / 32
	matched := make([]bool, cnt)
	var have []int
	for k := x.set.lowerIndex(&m.tail, 0); k < n; k++ {
		id := items[k].ID[:]
		lo, hi := 0, cnt
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if bytes.Compare(ids[32*mid:32*mid+32], id) < 0 {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo < cnt && bytes.Equal(ids[32*lo:32*lo+32], id) {
			matched[lo] = true
		} else {
			have = append(have, k)
		}
	}
	sum, c := x.set.pre[n], n
	for _, k := range have {
		sum, c = sum.sub(idValue(&items[k].ID)), c-1
	}
	for j, ok := range matched {
		if !ok {
			sum, c = sum.add(idValue((*[32]byte)(ids[32*j:]))), c+1
		}
	}
	if c != x.peerN || fingerprint(sum, c) != x.peerFP {
		return x.startRanges(), nil
	}
	for _, k := range have {
		x.have = append(x.have, items[k].ID)
	}
	for j, ok := range matched {
		if !ok {
			x.need = append(x.need, [32]byte(ids[32*j:32*j+32]))
		}
	}
	return []byte{wireVersion}, nil
}

// onMore (initiator) sends the coded symbols the responder asked for.
func (x *Session) onMore(m *wireMsg) ([]byte, error) {
	switch {
	case !x.initiator:
		return nil, fmt.Errorf("%w: More message sent to the responder", ErrProtocol)
	case x.ranges || x.lastKind != kindCoded || !x.sketched:
		return nil, fmt.Errorf("%w: unexpected More message", ErrProtocol)
	case m.want <= x.symSent || m.want > symbolCap(x.set.Len(), x.peerN):
		return nil, fmt.Errorf("%w: More up to %d after %d symbols, limit %d", ErrProtocol, m.want, x.symSent, symbolCap(x.set.Len(), x.peerN))
	}
	if x.batches >= maxBatches {
		return x.startRanges(), nil
	}
	return x.sendCoded(m.want), nil
}

// commitDecoded checks a fully decoded difference against this side's
// set and the initiator's whole-set fingerprint and, if it holds, learns
// it: items only the initiator has go to Need, items only this side has
// to Have.
func (x *Session) commitDecoded() bool {
	items := x.dec.items
	found := make([]bool, len(items))
	if len(items) > 0 {
		idx := make(map[[4]uint64]int, len(items))
		for k := range items {
			idx[items[k].key] = k
		}
		for i := range x.set.items {
			if k, ok := idx[limbs(&x.set.items[i].ID)]; ok {
				if items[k].sign == 1 {
					return false // the initiator's item is ours too
				}
				found[k] = true
			}
		}
	}
	n := x.set.Len()
	sum, cnt := x.set.pre[n], n
	for k := range items {
		v := u256(items[k].key)
		if items[k].sign == 1 {
			sum, cnt = sum.add(v), cnt+1
		} else {
			if !found[k] {
				return false // not ours after all
			}
			sum, cnt = sum.sub(v), cnt-1
		}
	}
	if cnt != x.peerN || fingerprint(sum, cnt) != x.peerFP {
		return false
	}
	for k := range items {
		id := limbsID(&items[k].key)
		if items[k].sign == 1 {
			x.need = append(x.need, id)
		} else {
			x.have = append(x.have, id)
		}
	}
	return true
}

// settle excludes the ranges this side sent as IdLists in its last
// message that the peer processed, which the peer's reply shows by
// covering each with a Skip (explicit or implicit after the last range).
// One the peer did not reach lies inside its final [cut, +∞) Fingerprint.
// The peer excluded the same ranges when it processed them, so both sides
// agree on the exclusions before this message's ranges are compared.
func (x *Session) settle(msg []byte) error {
	if len(x.sent) == 0 {
		return nil
	}
	sent := x.sent
	x.sent = nil
	r, _ := newReader(msg, x.cfg.IDListThreshold) // validated by the caller
	j := 0
	for j < len(sent) && r.next() {
		rg := &r.cur
		for ; j < len(sent) && sent[j].lo.cmp(&rg.hi) < 0; j++ {
			sp := &sent[j]
			if sp.hi.cmp(&rg.hi) > 0 {
				return fmt.Errorf("%w: reply range %d splits an IdList range", ErrProtocol, r.idx-1)
			}
			if rg.mode == modeSkip {
				x.excludeRange(&sp.lo, &sp.hi)
				continue
			}
			if !rg.hi.inf || rg.mode != modeFingerprint {
				return fmt.Errorf("%w: reply range %d covers an IdList range with mode %d", ErrProtocol, r.idx-1, rg.mode)
			}
		}
	}
	if r.err != nil {
		return r.err
	}
	for ; j < len(sent); j++ { // implicit trailing Skip
		x.excludeRange(&sent[j].lo, &sent[j].hi)
	}
	return nil
}

func (x *Session) excludeRange(lo, hi *bound) {
	i0 := x.set.lowerIndex(lo, 0)
	i1 := x.set.lowerIndex(hi, i0)
	x.view.exclude(i0, i1)
}

// process answers each range of a validated message in order, until the
// budget runs out; the rest is deferred as one Fingerprint range up to +∞.
func (x *Session) process(msg []byte) *encoder {
	e := newEncoder(x.cfg.MaxMessageBytes)
	r, _ := newReader(msg, x.cfg.IDListThreshold) // validated by the caller
	lo, i0 := bound{}, 0
	for r.next() {
		rg := &r.cur
		i1 := x.set.lowerIndex(&rg.hi, i0)
		ok, ci := true, i0
		switch rg.mode {
		case modeSkip:
			ok = e.trySkip(&rg.hi)
		case modeIDList:
			if ok = e.trySkip(&rg.hi); ok {
				x.learn(i0, i1, rg.ids)
				x.view.exclude(i0, i1)
			}
		case modeFingerprint:
			if x.view.fingerprint(i0, i1) == rg.fp {
				ok = e.trySkip(&rg.hi)
			} else {
				_, ci, ok = x.split(e, lo, rg.hi, i0, i1)
			}
		}
		if !ok {
			// e's last range ends at the cut, whose first item is ci.
			e.writeFP(&infBound, x.view.fingerprint(ci, x.set.Len()))
			break
		}
		lo, i0 = rg.hi, i1
	}
	return e
}

// split answers a mismatched range [lo, hi), whose items are [i0, i1):
// with this side's IdList if its count is at most IDListThreshold,
// otherwise with Branch fingerprints of about equal counts. If the budget
// runs out it writes what fits and returns ok = false with the cut bound
// (the end of the last range written) and the index of its first item.
func (x *Session) split(e *encoder, lo, hi bound, i0, i1 int) (cut bound, ci int, ok bool) {
	items := x.set.items
	m := x.view.count(i0, i1)
	if m <= x.cfg.IDListThreshold {
		idx := make([]int, 0, m)
		for k := x.view.next(i0); k < i1; k = x.view.next(k + 1) {
			idx = append(idx, k)
		}
		if e.fits(e.idListLen(&hi, m), &hi) {
			e.writeIDList(&hi, items, idx)
			x.sent = append(x.sent, span{lo, hi})
			return hi, i1, true
		}
		// Send the first k IDs as the IdList of [lo, b), b just above them.
		for k := m - 1; k >= 1; k-- {
			b := separator(&items[idx[k-1]], &items[idx[k]])
			if e.fits(e.idListLen(&b, k), &b) {
				e.writeIDList(&b, items, idx[:k])
				x.sent = append(x.sent, span{lo, b})
				return b, idx[k], false
			}
		}
		return lo, i0, false
	}
	nb := min(x.cfg.Branch, m)
	r0 := x.view.rank(i0)
	blo, bi0 := lo, i0
	for s := range nb {
		bhi, bi1 := hi, i1
		if s < nb-1 {
			end := r0 + m*(s+1)/nb // rank of the next bucket's first item
			p, q := x.view.selectRank(end-1), x.view.selectRank(end)
			bhi, bi1 = separator(&items[p], &items[q]), q
		}
		if !e.fits(e.fpLen(&bhi), &bhi) {
			return blo, bi0, false
		}
		e.writeFP(&bhi, x.view.fingerprint(bi0, bi1))
		blo, bi0 = bhi, bi1
	}
	return hi, i1, true
}

// learn compares this side's active items among [i0, i1) with the peer's
// IdList for the same range.
func (x *Session) learn(i0, i1 int, ids []byte) {
	items := x.set.items
	n := len(ids) / 32
	matched := make([]bool, n)
	for k := x.view.next(i0); k < i1; k = x.view.next(k + 1) {
		id := items[k].ID[:]
		lo, hi := 0, n
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if bytes.Compare(ids[32*mid:32*mid+32], id) < 0 {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo < n && bytes.Equal(ids[32*lo:32*lo+32], id) {
			matched[lo] = true
		} else {
			x.have = append(x.have, items[k].ID)
		}
	}
	for j, ok := range matched {
		if !ok {
			x.need = append(x.need, [32]byte(ids[32*j:32*j+32]))
		}
	}
}

// Have returns the IDs this side holds that the peer lacks, learned so far
// from the IdLists this side processed: sorted by bytes, without
// duplicates, in a new slice. It is complete once Reply has returned done;
// earlier results are final for their ranges, so the protocol layer may
// act on them as they grow. The protocol layer pushes their records to the
// peer. It covers only ranges this side learned; the peer's Need covers
// the rest of what the peer lacks.
func (x *Session) Have() [][32]byte { return sortedUnique(x.have) }

// Need returns the IDs the peer holds that this side lacks, learned so far
// from the IdLists this side processed: sorted by bytes, without
// duplicates, in a new slice, complete once Reply has returned done. The
// protocol layer requests their records from the peer. It covers only
// ranges this side learned; the peer's Have covers the rest of what this
// side lacks. An ID this side holds under another timestamp may appear.
func (x *Session) Need() [][32]byte { return sortedUnique(x.need) }

func sortedUnique(ids [][32]byte) [][32]byte {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	return slices.Compact(out)
}

// BytesSent returns the total size of the messages this side produced.
func (x *Session) BytesSent() int { return x.bytesSent }

// BytesReceived returns the total size of the messages passed to Reply.
func (x *Session) BytesReceived() int { return x.bytesRecv }

// Rounds returns the number of messages this side produced, the final
// empty one included. For the initiator this is the number of round trips.
func (x *Session) Rounds() int { return x.msgsSent }
