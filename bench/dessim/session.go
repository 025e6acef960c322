package dessim

import (
	"encoding/binary"
	"fmt"

	"github.com/vigil-mesh/vigil/sync/recon"
)

// session is one reconciliation between an initiator (side 0) and a
// responder (side 1), as sync/mesh runs it on one stream.
type session struct {
	link  int32
	nodes [2]int32
	recon [2]*recon.Session // the responder's is made when the first message arrives
	side  [2]sideState
}

// sideState is one side's transfer phase.
type sideState struct {
	inTransfer bool
	sent       bitset  // records pushed or served this session, made on entry
	wants      []int32 // what the peer asked for, until this side serves it
	gotE       bool    // the peer's wants are all in
	served     bool
	sentD      bool
	gotD       bool
	received   int   // records this session brought that the node lacked
	readFree   int64 // when the reader has stored the frames it read (RecordCPU)
	ended      bool
}

// frameBytes is a stream frame's size: uvarint length, type byte, body.
func frameBytes(body int, typed bool) int {
	n := body
	if typed {
		n++
	}
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n)) + n
}

// startSession is syncOnce: u takes its snapshot and sends its first
// message to p.
func (s *Sim) startSession(u, p, l int32) {
	s.sessions++
	x := &session{link: l, nodes: [2]int32{u, p}}
	x.recon[0] = recon.NewInitiator(s.set(u), recon.Config{})
	first, err := x.recon[0].Initiate()
	if err != nil {
		s.fail(fmt.Errorf("dessim: session %d→%d: %w", u, p, err))
		return
	}
	s.sendRecon(x, 0, first)
}

// sendRecon sends a reconciliation frame from side from to the other.
func (s *Sim) sendRecon(x *session, from int, msg []byte) {
	size := frameBytes(len(msg), false)
	s.nodes[x.nodes[from]].sent.Recon += int64(size)
	s.send(x.link, x.nodes[from], size, event{kind: evRecon, sess: x, side: uint8(1 - from), data: msg})
}

func (s *Sim) onSession(e event) {
	x, me := e.sess, int(e.side)
	if !s.links[x.link].up {
		return // links are never cut during a run; kept for safety
	}
	switch e.kind {
	case evRecon:
		s.onRecon(x, me, e.data)
	case evZero:
		s.enterTransfer(x, me)
	case evWants:
		st := &x.side[me]
		st.wants, st.gotE = e.recs, true
		if st.inTransfer {
			s.serve(x, me)
		}
	case evRecords:
		if s.cfg.RecordCPU > 0 {
			// The reader stores each frame before it reads the next.
			st := &x.side[me]
			e.kind, e.at = evStored, s.cpu(x.nodes[me], len(e.recs))
			st.readFree = e.at
			s.q.push(e)
			return
		}
		fallthrough
	case evStored:
		for _, r := range e.recs {
			if s.store(x.nodes[me], r) {
				x.side[me].received++
			}
		}
	case evDone:
		if st := &x.side[me]; st.readFree > s.now {
			e.at = st.readFree // read after the frames before it are stored
			s.q.push(e)
			return
		}
		x.side[me].gotD = true
		s.maybeEnd(x, me)
	}
}

// onRecon is the reconciliation phase at side me: the responder answers
// every message until the initiator's empty frame; the initiator
// answers until its session is done, then sends the empty frame and
// starts its transfer.
func (s *Sim) onRecon(x *session, me int, msg []byte) {
	if me == 1 && x.recon[1] == nil {
		x.recon[1] = recon.NewResponder(s.set(x.nodes[1]), recon.Config{})
	}
	out, done, err := x.recon[me].Reply(msg)
	if err != nil {
		s.fail(fmt.Errorf("dessim: session %d→%d: %w", x.nodes[0], x.nodes[1], err))
		return
	}
	if me == 1 || !done {
		s.sendRecon(x, me, out)
		return
	}
	size := frameBytes(0, false)
	s.nodes[x.nodes[0]].sent.Recon += int64(size)
	s.send(x.link, x.nodes[0], size, event{kind: evZero, sess: x, side: 1})
	s.enterTransfer(x, 0)
}

// ids turns recon IDs into record indexes.
func (s *Sim) ids(list [][32]byte) []int32 {
	out := make([]int32, 0, len(list))
	for _, id := range list {
		r, ok := s.byID[id]
		if !ok {
			s.fail(fmt.Errorf("%w: an ID outside the written records differs", errInternal))
			continue
		}
		out = append(out, r)
	}
	return out
}

// enterTransfer starts side me's transfer: its wants (what it does not
// hold by now) and 'E', then its Have pushed; the peer's wants are
// served if they are in already.
func (s *Sim) enterTransfer(x *session, me int) {
	st := &x.side[me]
	st.inTransfer = true
	st.sent = make(bitset, bitsetLen(len(s.records)))
	u := x.nodes[me]
	var wants []int32
	for _, r := range s.ids(x.recon[me].Need()) {
		if !s.Holds(int(u), int(r)) {
			wants = append(wants, r)
		}
	}
	size := frameBytes(0, true) // 'E'
	if len(wants) > 0 {
		size += frameBytes(32*len(wants), true)
	}
	s.nodes[u].sent.Transfer += int64(size)
	s.send(x.link, u, size, event{kind: evWants, sess: x, side: uint8(1 - me), recs: wants})
	s.sendRecords(x, me, s.ids(x.recon[me].Have()))
	x.recon[me] = nil // its coded symbols are the session's largest memory, and done with
	if st.gotE {
		s.serve(x, me)
	}
}

// serve sends the records the peer asked for (not sent yet this
// session), then 'D'.
func (s *Sim) serve(x *session, me int) {
	st := &x.side[me]
	if st.served {
		return
	}
	st.served = true
	s.sendRecords(x, me, st.wants)
	st.wants = nil
	u := x.nodes[me]
	size := frameBytes(0, true)
	s.nodes[u].sent.Transfer += int64(size)
	s.send(x.link, u, size, event{kind: evDone, sess: x, side: uint8(1 - me)})
	st.sentD = true
	s.maybeEnd(x, me)
}

// sendRecords sends records in frames of at most recordsPerFrame records
// or maxRecordFrame bytes, skipping those sent already this session.
func (s *Sim) sendRecords(x *session, me int, recs []int32) {
	st := &x.side[me]
	u := x.nodes[me]
	var frame []int32
	body := 0
	per := s.cfg.RecordBytes + frameBytes(s.cfg.RecordBytes, false) - s.cfg.RecordBytes // uvarint length + record
	flush := func() {
		if len(frame) == 0 {
			return
		}
		size := frameBytes(body, true)
		s.nodes[u].sent.Transfer += int64(size)
		s.send(x.link, u, size, event{kind: evRecords, sess: x, side: uint8(1 - me), recs: frame})
		frame, body = nil, 0
	}
	for _, r := range recs {
		if !st.sent.set(r) {
			continue
		}
		if len(frame) == recordsPerFrame || (len(frame) > 0 && body+s.cfg.RecordBytes+10 > maxRecordFrame) {
			flush()
		}
		frame = append(frame, r)
		body += per
	}
	flush()
}

// maybeEnd ends side me's session once it has sent its 'D' and read the
// peer's: the last sync time, a nudge to its other neighbours if records
// came, and for the initiator the round SyncPeer folded in meanwhile.
func (s *Sim) maybeEnd(x *session, me int) {
	st := &x.side[me]
	if st.ended || !st.sentD || !st.gotD {
		return
	}
	st.ended = true
	u, p := x.nodes[me], x.nodes[1-me]
	if nb := s.nbrOf(u, p); nb != nil {
		nb.lastSync = s.now
	}
	if st.received > 0 {
		for _, q := range s.nodes[u].nbrs {
			if q.peer != p {
				s.syncPeer(u, q.peer)
			}
		}
	}
	if me == 0 {
		nb := s.nbrOf(u, p)
		if nb.pending {
			nb.pending = false
			s.startSession(u, p, x.link)
		} else {
			nb.active = false
		}
	}
}
