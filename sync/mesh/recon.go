package mesh

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/recon"
)

// The reconciliation protocol, on one stream:
//
// Phase 1, set reconciliation: frames of (uvarint length, recon message).
// The initiator starts; the sides alternate; a zero-length frame from the
// initiator ends the phase. Each side then knows Have (its records the
// peer lacks) and Need (the peer's records it lacks) for the ranges it
// resolved.
//
// Phase 2, transfer, both directions at once: frames of (uvarint length,
// type byte, body):
//
//	'W' 32-byte IDs this side wants (repeatable)
//	'E' end of wants
//	'R' records, each as (uvarint length, signed encoding)
//	'D' this side has sent all it will send
//
// Each side sends its wants, then 'E', pushes its Have records, serves the
// peer's wants once the peer's 'E' arrives, and sends 'D'. The stream
// closes when both 'D's are through.
//
// What a peer can make this side do is bounded by what the session
// established, never by what the peer sends:
//   - A want is honoured only for an ID of this side's snapshot for the
//     session (the set it reconciled over), and each ID is sent at most
//     once a session, pushed or wanted; so the wants honoured never
//     exceed the snapshot, and the session's bookkeeping is an index and
//     three bits per snapshot item (offer). Any other want (an ID not
//     offered, asked for twice, or pushed anyway) is ignored and counted
//     stray; past maxStrayWants the session ends, with no strike: an
//     honest peer of this or an earlier build sends none, a later build
//     might ask for a few IDs learned elsewhere, and ignoring them keeps
//     the cost of each at one lookup.
//   - Records are streamed: this side holds one frame of records at a
//     time (mission records first in a pass of their own, then the rest,
//     both in the set's (claimed time, ID) order).
//   - A frame is at most maxFrame bytes, and memory grows with what
//     arrives, not with what a header announces.
//   - A session ends once it has received more than Config.SessionBytes
//     (ErrSessionBudget) or run past Config.SessionTimeout, both logged,
//     with no strike. What arrived is stored frame by frame and stays
//     stored, so an honest difference larger than either converges over
//     several sessions.
//
// Each side reconciles over the records the peer can store: with a peer
// that announced format level 0 in its hello (the previous release), the
// set leaves out the records such a build rejects (store.Unreadable), so
// the peer never learns their IDs and never asks for them; pushes and
// served wants skip them too. A record the peer then lacks is not counted
// as held by it (delivery status).

const (
	maxInbound     = 2 // concurrent reconciliations a peer may start here
	maxRecordFrame = 16 << 10
	maxFrame       = 2 << 20
	maxWantIDs     = 1 << 20
	recordsPerMsg  = 256
	// maxStrayWants: IDs a peer may ask for that this side did not offer
	// in the session, or asked for twice (or that this side pushes
	// anyway), before the session ends. An honest peer of this or an
	// earlier build sends none (it asks only for what it learned of this
	// side's set, once); a later build might ask for a few more.
	maxStrayWants = 4096
)

// ErrSessionBudget ends a reconciliation session that received more than
// Config.SessionBytes. What arrived before is stored; the next session
// goes on from there.
var ErrSessionBudget = errors.New("session byte budget spent")

// errStrayWants ends a session whose peer asked for more than
// maxStrayWants IDs it was not offered.
var errStrayWants = errors.New("too many stray wants")

func writeFrame(w *bufio.Writer, typ byte, body []byte) error {
	n := len(body)
	if typ != 0 {
		n++
	}
	var hdr [binary.MaxVarintLen64 + 1]byte
	h := binary.PutUvarint(hdr[:], uint64(n))
	if typ != 0 {
		hdr[h] = typ
		h++
	}
	if _, err := w.Write(hdr[:h]); err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	return w.Flush()
}

func readFrame(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes, limit %d", n, maxFrame)
	}
	// Grow with what arrives, not with what is announced: a peer that
	// announces 2 MiB and sends nothing pins nothing.
	var buf bytes.Buffer
	got, err := buf.ReadFrom(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, err
	}
	if uint64(got) != n {
		return nil, io.ErrUnexpectedEOF
	}
	return buf.Bytes(), nil
}

// snapshot returns this store's items for reconciliation with a peer at
// format level, and a test of membership in them: every record but those
// of revoked members that no revocation accepts, and those the peer
// cannot store.
func (e *Engine) snapshot(level int) (*recon.Set, func(incident.ID) bool, error) {
	o, err := e.offerFor(level, false)
	if err != nil {
		return nil, nil, err
	}
	return o.set, o.has, nil
}

// offerFor takes the snapshot of one session (see snapshot): over the
// live set (custody.go) when live.
func (e *Engine) offerFor(level int, live bool) (*offer, error) {
	skip, err := e.store.Unconfirmed()
	if err != nil {
		return nil, err
	}
	if !e.cfg.ignoreLevels {
		unreadable, err := e.store.Unreadable(level)
		if err != nil {
			return nil, err
		}
		for id := range unreadable {
			skip[id] = true
		}
	}
	var items []recon.Item
	each := e.store.ForEachKey
	if live {
		each = e.store.(custodyStore).ForEachLiveKey
	}
	err = each(func(created int64, id incident.ID) error {
		if !skip[id] {
			items = append(items, recon.Item{Time: uint64(created) ^ (1 << 63), ID: id})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newOffer(recon.NewSetOwned(items)), nil
}

// offer is what this side offers a peer in one session: the snapshot's
// set, an index of it by ID, and which of its items the transfer is to
// push, was asked for, or has sent. Its memory is proportional to the
// snapshot (4 bytes and 3 bits an item beside the set), never to what
// the peer sends: a want is honoured only for an item of the set, and
// each item is sent at most once a session, pushed or wanted.
type offer struct {
	set  *recon.Set
	byID []int32 // positions in the set, in ID order

	push bitset // this side's Have: written before the transfer starts, then read only

	mu     sync.Mutex
	wanted bitset // asked for by the peer (the reader writes, the writer reads)
	sent   bitset // sent or passed over: never looked at again this session (the writer writes)
	stray  int    // wants ignored: IDs not offered, asked for twice, or pushed anyway
}

func newOffer(set *recon.Set) *offer {
	n := set.Len()
	o := &offer{set: set, byID: make([]int32, n),
		push: newBitset(n), wanted: newBitset(n), sent: newBitset(n)}
	for i := range o.byID {
		o.byID[i] = int32(i)
	}
	slices.SortFunc(o.byID, func(a, b int32) int {
		x, y := set.At(int(a)), set.At(int(b))
		return bytes.Compare(x.ID[:], y.ID[:])
	})
	return o
}

// find returns the position of id in the set.
func (o *offer) find(id incident.ID) (int, bool) {
	k := sort.Search(len(o.byID), func(k int) bool {
		x := o.set.At(int(o.byID[k]))
		return bytes.Compare(x.ID[:], id[:]) >= 0
	})
	if k < len(o.byID) && o.set.At(int(o.byID[k])).ID == id {
		return int(o.byID[k]), true
	}
	return 0, false
}

// has reports whether id is in the snapshot.
func (o *offer) has(id incident.ID) bool {
	_, ok := o.find(id)
	return ok
}

// pushAll marks the IDs this side pushes (its Have, all in the set).
func (o *offer) pushAll(ids [][32]byte) {
	for _, id := range ids {
		if i, ok := o.find(id); ok {
			o.push.set(i)
		}
	}
}

// want takes a 'W' frame's body (whole IDs): each ID in the set, not
// asked for before, not pushed and not sent, is marked wanted; every
// other is ignored and counted as stray. It returns the session's strays
// so far.
func (o *offer) want(body []byte) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	for ; len(body) >= 32; body = body[32:] {
		i, ok := o.find(incident.ID(body[:32]))
		if !ok || o.wanted.has(i) || o.push.has(i) || o.sent.has(i) {
			o.stray++
			continue
		}
		o.wanted.set(i)
	}
	return o.stray
}

// wants returns a copy of what the peer asked for.
func (o *offer) wants() bitset {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.wanted)
}

// take marks item i sent; false if it was already.
func (o *offer) take(i int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.sent.has(i) {
		return false
	}
	o.sent.set(i)
	return true
}

func (o *offer) isSent(i int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sent.has(i)
}

// bitset is a set of positions in a snapshot.
type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }

// next returns the first position at or after i in b, or -1.
func (b bitset) next(i int) int {
	for k := i / 64; k < len(b); k++ {
		w := b[k]
		if k == i/64 {
			w &= ^uint64(0) << (i % 64)
		}
		if w != 0 {
			return 64*k + bits.TrailingZeros64(w)
		}
	}
	return -1
}

// SyncPeer reconciles with p and returns what moved. If a reconciliation
// this side started with p is already running, SyncPeer waits for the round
// that follows it (which sees everything written meanwhile) and returns
// that round's result.
//
// Close ends a SyncPeer in progress and waits for it, whoever called it,
// so no record it received reaches the store after Close returns; once
// Close has begun, SyncPeer returns ErrClosed.
func (e *Engine) SyncPeer(ctx context.Context, p peer.ID) (SyncResult, error) {
	if !e.track() {
		return SyncResult{Peer: p}, ErrClosed
	}
	defer e.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(e.ctx, cancel)
	defer stop()
	e.mu.Lock()
	if e.active[p] {
		ch := make(chan syncDone, 1)
		e.waiters[p] = append(e.waiters[p], ch)
		e.mu.Unlock()
		select {
		case d := <-ch:
			return d.res, d.err
		case <-ctx.Done():
			return SyncResult{Peer: p}, ctx.Err()
		}
	}
	e.active[p] = true
	e.mu.Unlock()
	res, err := e.syncOnce(ctx, p)
	for {
		e.mu.Lock()
		waiting := e.waiters[p]
		delete(e.waiters, p)
		if len(waiting) == 0 || ctx.Err() != nil {
			delete(e.active, p)
			e.mu.Unlock()
			for _, ch := range waiting {
				ch <- syncDone{SyncResult{Peer: p}, ctx.Err()}
			}
			return res, err
		}
		e.mu.Unlock()
		// Someone asked while the last round ran: run again for them.
		r2, err2 := e.syncOnce(ctx, p)
		for _, ch := range waiting {
			ch <- syncDone{r2, err2}
		}
	}
}

type syncDone struct {
	res SyncResult
	err error
}

func (e *Engine) syncOnce(ctx context.Context, p peer.ID) (SyncResult, error) {
	// A peer cut since the round was asked for (banned, revoked) is not
	// dialled again.
	if !e.node.Admitted(p) {
		return SyncResult{Peer: p}, fmt.Errorf("peer %s is not admitted", p)
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.SessionTimeout)
	defer cancel()
	var protos []protocol.ID
	for _, name := range e.reconProtocols(p) {
		protos = append(protos, protocol.ID(name))
	}
	s, err := e.node.Host().NewStream(ctx, p, protos...)
	if err != nil {
		return SyncResult{Peer: p}, err
	}
	defer s.Close()
	return e.session(ctx, s, true, s.Protocol() == e.proto(liveName, p))
}

// handleRecon serves a reconciliation a peer started, over live sets when
// live (custody.go).
func (e *Engine) handleRecon(s network.Stream, live bool) {
	if !e.track() {
		_ = s.Reset()
		return
	}
	defer e.wg.Done()
	if !e.node.Guard(s) {
		return
	}
	// Opened just before this device became bounded: not served.
	if !live && e.bounded() {
		_ = s.Reset()
		return
	}
	// A peer gets at most maxInbound sessions at once.
	p := s.Conn().RemotePeer()
	e.mu.Lock()
	if e.inbound[p] >= maxInbound {
		e.mu.Unlock()
		_ = s.Reset()
		return
	}
	e.inbound[p]++
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		if e.inbound[p]--; e.inbound[p] <= 0 {
			delete(e.inbound, p)
		}
		e.mu.Unlock()
	}()
	defer s.Close()
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.SessionTimeout)
	defer cancel()
	if _, err := e.session(ctx, s, false, live); err != nil {
		e.log.Debug("reconciliation failed", "peer", s.Conn().RemotePeer(), "err", err)
	}
}

func (e *Engine) session(ctx context.Context, s network.Stream, initiator, live bool) (res SyncResult, err error) {
	start := e.cfg.Now()
	p := s.Conn().RemotePeer()
	res = SyncResult{Peer: p}
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	// A member revoked by a record this engine did not store itself (an
	// imported bundle) is cut here, before anything is sent to it.
	e.CutRevoked()
	if !e.node.Admitted(p) {
		_ = s.Reset()
		return res, fmt.Errorf("peer %s is not admitted", p)
	}
	// Known since p was admitted (hello); handlers run after admission.
	level := e.peerLevel(p)
	// A session that ends at its budget or its deadline says so where
	// the node's operator sees it: the peer is not at fault (an honest
	// large difference takes several sessions), but a sync that never
	// finishes should be explained.
	defer func() {
		if err != nil {
			e.noteStopped(ctx, p, err)
		}
	}()
	// Bytes each way, both phases; read once the transfer's reader has
	// stopped (transfer waits for it), whichever way the session ends.
	var in, out atomic.Int64
	defer func() {
		res.BytesReceived, res.BytesSent = int(in.Load()), int(out.Load())
		res.Bytes = res.BytesReceived + res.BytesSent
	}()
	r := bufio.NewReaderSize(countingReader{s, &in, e.cfg.SessionBytes}, 64<<10)
	w := bufio.NewWriterSize(countingWriter{s, &out}, 64<<10)

	// Phase 0, live sessions only: the covering step (custody.go), so the
	// snapshot below leaves out what either side's receipts show enough
	// coordinators hold.
	if live {
		if err := e.cover(p, r, w, initiator, &res); err != nil {
			_ = s.Reset()
			if errors.Is(err, errCovering) {
				e.strike(p, err)
			}
			return res, fmt.Errorf("covering: %w", err)
		}
	}
	o, err := e.offerFor(level, live)
	if err != nil {
		_ = s.Reset()
		return res, err
	}
	set := o.set

	// Phase 1.
	var sess *recon.Session
	if initiator {
		sess = recon.NewInitiator(set, recon.Config{})
		first, err := sess.Initiate()
		if err != nil {
			_ = s.Reset()
			return res, err
		}
		if err := writeFrame(w, 0, first); err != nil {
			return res, err
		}
		for {
			msg, err := readFrame(r)
			if err != nil {
				_ = s.Reset()
				return res, fmt.Errorf("recon: %w", err)
			}
			out, done, err := sess.Reply(msg)
			if err != nil {
				_ = s.Reset()
				e.strike(p, err)
				return res, fmt.Errorf("recon: %w", err)
			}
			if done {
				if err := writeFrame(w, 0, nil); err != nil {
					return res, err
				}
				break
			}
			if err := writeFrame(w, 0, out); err != nil {
				return res, err
			}
		}
	} else {
		sess = recon.NewResponder(set, recon.Config{})
		for {
			msg, err := readFrame(r)
			if err != nil {
				_ = s.Reset()
				return res, fmt.Errorf("recon: %w", err)
			}
			if len(msg) == 0 {
				break
			}
			out, _, err := sess.Reply(msg)
			if err != nil {
				_ = s.Reset()
				e.strike(p, err)
				return res, fmt.Errorf("recon: %w", err)
			}
			if err := writeFrame(w, 0, out); err != nil {
				return res, err
			}
		}
	}
	res.Rounds = sess.Rounds()
	res.ReconBytes = sess.BytesSent() + sess.BytesReceived()

	// Phase 2.
	if err := e.transfer(ctx, p, level, s, r, w, o, sess.Have(), sess.Need(), &res); err != nil {
		_ = s.Reset()
		return res, err
	}
	res.Duration = e.cfg.Now().Sub(start)
	now := e.cfg.Now()
	e.mu.Lock()
	if pi := e.peers[p]; pi != nil {
		pi.LastSync = now
	}
	e.mu.Unlock()
	// The peer now holds everything that was in this side's snapshot (what
	// it lacked was pushed or served); records stored since are not
	// claimed.
	if err := e.store.MarkHeldIn(p.String(), now.UnixMilli(), o.has); err != nil {
		e.log.Debug("delivery status not updated", "err", err)
	}
	// What arrived may be news for other peers too: reconcile with them
	// soon, so records cross the mesh hop by hop without waiting for the
	// periodic round.
	if res.Received > 0 {
		e.nudgeOthers(p)
	}
	// A phone drops what coordinators now hold before it fetches files.
	e.prune()
	// Attachments after text records.
	if err := e.fetchAttachments(ctx, p); err != nil {
		e.log.Debug("attachment transfer stopped", "peer", p, "err", err)
	}
	res.BytesReceived, res.BytesSent = int(in.Load()), int(out.Load())
	res.Bytes = res.BytesReceived + res.BytesSent
	e.subs.publish(res)
	return res, nil
}

// noteStopped logs a session that ended at its byte budget, its deadline
// or on the peer's stray wants (Info: the operator's question "why does
// this sync not finish?" has its answer there); other failures are the
// callers' to log.
func (e *Engine) noteStopped(ctx context.Context, p peer.ID, err error) {
	switch {
	case errors.Is(err, ErrSessionBudget):
		e.log.Info("reconciliation stopped at the session's byte budget; what arrived is kept and the next session goes on",
			"peer", p, "err", err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.log.Info("reconciliation stopped at the session's time limit; what arrived is kept and the next session goes on",
			"peer", p, "limit", e.cfg.SessionTimeout)
	case errors.Is(err, errStrayWants):
		e.log.Info("reconciliation stopped: the peer asked for records this side did not offer", "peer", p, "err", err)
	}
}

// countingReader and countingWriter count a session's bytes on its
// stream. The reader also enforces the session's byte budget: once more
// than limit bytes have arrived (limit > 0), every read fails with
// ErrSessionBudget.
type countingReader struct {
	r     io.Reader
	n     *atomic.Int64
	limit int64
}

func (c countingReader) Read(p []byte) (int, error) {
	if got := c.n.Load(); c.limit > 0 && got > c.limit {
		return 0, fmt.Errorf("%w: received %d bytes, limit %d", ErrSessionBudget, got, c.limit)
	}
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func (e *Engine) transfer(ctx context.Context, p peer.ID, level int, s network.Stream, r *bufio.Reader, w *bufio.Writer, o *offer, have, need [][32]byte, res *SyncResult) error {
	if len(need) > maxWantIDs {
		need = need[:maxWantIDs]
	}
	source := e.senderOf(p, "sync")
	o.pushAll(have)
	// The reader's failure ends the writer too (its cause is what the
	// transfer returns, and it resets the stream): a peer past its budget
	// or off the protocol gets nothing more.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu                 sync.Mutex // guards received, rejected
		received, rejected int
		wantsDone          = make(chan struct{})
		readerDone         = make(chan error, 1) // the reader's last word, sent once
	)
	closeWants := sync.OnceFunc(func() { close(wantsDone) })
	// Reader: the peer's wants, records and end.
	go func() {
		err := func() error {
			defer closeWants()
			gotE := false
			for {
				f, err := readFrame(r)
				if err != nil {
					return err
				}
				if len(f) == 0 {
					return errors.New("empty frame in transfer")
				}
				body := f[1:]
				switch f[0] {
				case 'W':
					if len(body)%32 != 0 || gotE {
						return errors.New("malformed want frame")
					}
					if n := o.want(body); n > maxStrayWants {
						return fmt.Errorf("%w: %d IDs not offered or asked for twice, limit %d", errStrayWants, n, maxStrayWants)
					}
				case 'E':
					gotE = true
					closeWants()
				case 'R':
					raws, err := splitRecords(body)
					if err != nil {
						return err
					}
					ms, err := e.store.Mission()
					if err != nil {
						return err
					}
					keep := raws[:0]
					for _, raw := range raws {
						// A record refused for quota or already waiting in
						// the quarantine, pushed again, costs no second
						// signature check.
						if id := incident.IDOf(raw); !refusedBy(ms, raw) && !e.holds(id) && !e.declined(id) {
							keep = append(keep, raw)
						}
					}
					if len(keep) == 0 {
						continue
					}
					results, err := e.store.AddMany(keep, source, nil)
					if err != nil {
						return err
					}
					revoking := false
					for i, x := range results {
						revoking = revoking || mayRevoke(keep[i], x)
						switch x.Outcome {
						case store.Accepted:
							mu.Lock()
							received += 1 + len(x.Released)
							mu.Unlock()
						case store.Rejected:
							mu.Lock()
							rejected++
							mu.Unlock()
							e.noteNewer(x.Err)
							if strikable(x.Err) {
								e.strike(p, x.Err)
							}
						}
					}
					if revoking {
						// Before anything more is sent: the revoked
						// member may be this peer, or another.
						e.CutRevoked()
					}
				case 'D':
					return nil
				default:
					return fmt.Errorf("unknown frame type %q", f[0])
				}
			}
		}()
		if err != nil {
			// At once, rather than when the writer next looks: a peer
			// that reads nothing would otherwise hold the writer (and
			// one of its session slots) until the deadline.
			cancel(err)
			_ = s.Reset()
		}
		readerDone <- err
	}()
	// However transfer ends, the reader has stopped before it returns: a
	// failed write resets the stream, which ends the reader's read.
	readerErr, readerEnded := error(nil), false
	defer func() {
		if !readerEnded {
			_ = s.Reset()
			<-readerDone
		}
		mu.Lock()
		res.Received += received
		res.Rejected += rejected
		mu.Unlock()
	}()
	// A write that fails because the session ended for another reason
	// (the reader's error, the deadline) reports that reason.
	why := func(err error) error {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}

	// Writer: wants, end of wants, pushes, then what the peer wants. What
	// arrived since the snapshot (by gossip, or another session) is not
	// asked for again.
	need = slices.DeleteFunc(slices.Clone(need), func(id [32]byte) bool { return e.holds(id) || e.declined(id) || e.gone(id) })
	for i := 0; i < len(need); i += 8192 {
		j := min(i+8192, len(need))
		body := make([]byte, 0, 32*(j-i))
		for _, id := range need[i:j] {
			body = append(body, id[:]...)
		}
		if err := writeFrame(w, 'W', body); err != nil {
			return why(err)
		}
	}
	if err := writeFrame(w, 'E', nil); err != nil {
		return why(err)
	}
	sent, err := e.sendRecords(ctx, w, o, o.push, level)
	res.Sent += sent
	if err != nil {
		return why(err)
	}
	select {
	case <-wantsDone:
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	sent, err = e.sendRecords(ctx, w, o, o.wants(), level)
	res.Sent += sent
	if err != nil {
		return why(err)
	}
	if err := writeFrame(w, 'D', nil); err != nil {
		return why(err)
	}
	select {
	case readerErr = <-readerDone:
		readerEnded = true
		return readerErr
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// holder is the part of a store that says whether it holds a record
// without reading it (*store.Store has it).
type holder interface {
	Has(id incident.ID) (bool, error)
}

// holds reports whether the store already holds id, so that a record that
// arrived since the snapshot is neither asked for again nor checked again
// (a duplicate costs AddMany a signature check before it is found to be
// one). False when the store cannot tell.
func (e *Engine) holds(id incident.ID) bool {
	h, ok := e.store.(holder)
	if !ok {
		return false
	}
	has, err := h.Has(id)
	return err == nil && has
}

// sendRecords sends the records of the offer's items in sel that were
// not sent yet this session and that a peer at format level can store,
// mission records first and then by claimed time (the set's order), in
// frames of up to recordsPerMsg records. It holds one frame of records at
// a time: a first pass over sel sends the mission records, a second the
// others, each reading the records it sends from the store (the first
// reads every record once to learn its kind, which costs a store read
// more per record but never holds more than a frame).
func (e *Engine) sendRecords(ctx context.Context, w *bufio.Writer, o *offer, sel bitset, level int) (int, error) {
	sent, n := 0, 0
	var body []byte
	flush := func() error {
		if n == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeFrame(w, 'R', body); err != nil {
			return err
		}
		sent += n
		body, n = body[:0], 0
		return nil
	}
	for _, missionPass := range []bool{true, false} {
		for i := sel.next(0); i >= 0; i = sel.next(i + 1) {
			if o.isSent(i) {
				continue
			}
			r, err := e.store.Get(o.set.At(i).ID)
			if err != nil {
				return sent, err
			}
			if r != nil && e.readableAt(r, level) {
				if missionPass && !r.Kind.MissionKind() {
					continue
				}
				// Small frames: the receiver stores a frame only once it
				// has all of it, so on a slow link that drops, a small
				// frame is progress kept (16 KiB is 4 s at 32 kbit/s).
				if n == recordsPerMsg || (n > 0 && len(body)+len(r.Raw)+10 > maxRecordFrame) {
					if err := flush(); err != nil {
						return sent, err
					}
				}
				body = binary.AppendUvarint(body, uint64(len(r.Raw)))
				body = append(body, r.Raw...)
				n++
			}
			// Sent, or never to be (gone, or not for this peer).
			o.take(i)
		}
	}
	return sent, flush()
}

func splitRecords(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > incident.MaxRecordBytes || uint64(len(b)-k) < n {
			return nil, errors.New("malformed record frame")
		}
		out = append(out, b[k:k+int(n)])
		b = b[k+int(n):]
		if len(out) > recordsPerMsg {
			return nil, fmt.Errorf("more than %d records in one frame", recordsPerMsg)
		}
	}
	return out, nil
}
