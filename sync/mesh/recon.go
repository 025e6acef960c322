package mesh

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

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
// closes when both 'D's are through. Frames, IDs per session and the
// session's duration are bounded.
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
)

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
	skip, err := e.store.Unconfirmed()
	if err != nil {
		return nil, nil, err
	}
	if !e.cfg.ignoreLevels {
		unreadable, err := e.store.Unreadable(level)
		if err != nil {
			return nil, nil, err
		}
		for id := range unreadable {
			skip[id] = true
		}
	}
	var items []recon.Item
	in := map[incident.ID]struct{}{}
	err = e.store.ForEachKey(func(created int64, id incident.ID) error {
		if !skip[id] {
			items = append(items, recon.Item{Time: uint64(created) ^ (1 << 63), ID: id})
			in[id] = struct{}{}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	has := func(id incident.ID) bool { _, ok := in[id]; return ok }
	return recon.NewSet(items), has, nil
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
	s, err := e.node.Host().NewStream(ctx, p, e.proto(reconName, p))
	if err != nil {
		return SyncResult{Peer: p}, err
	}
	defer s.Close()
	return e.session(ctx, s, true)
}

func (e *Engine) handleRecon(s network.Stream) {
	if !e.track() {
		_ = s.Reset()
		return
	}
	defer e.wg.Done()
	if !e.node.Guard(s) {
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
	if _, err := e.session(ctx, s, false); err != nil {
		e.log.Debug("reconciliation failed", "peer", s.Conn().RemotePeer(), "err", err)
	}
}

func (e *Engine) session(ctx context.Context, s network.Stream, initiator bool) (res SyncResult, err error) {
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
	set, inSnapshot, err := e.snapshot(level)
	if err != nil {
		_ = s.Reset()
		return res, err
	}
	// Bytes each way, both phases; read once the transfer's reader has
	// stopped (transfer waits for it), whichever way the session ends.
	var in, out atomic.Int64
	defer func() {
		res.BytesReceived, res.BytesSent = int(in.Load()), int(out.Load())
		res.Bytes = res.BytesReceived + res.BytesSent
	}()
	r := bufio.NewReaderSize(countingReader{s, &in}, 64<<10)
	w := bufio.NewWriterSize(countingWriter{s, &out}, 64<<10)

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
	if err := e.transfer(ctx, p, level, s, r, w, sess.Have(), sess.Need(), &res); err != nil {
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
	if err := e.store.MarkHeldIn(p.String(), now.UnixMilli(), inSnapshot); err != nil {
		e.log.Debug("delivery status not updated", "err", err)
	}
	// What arrived may be news for other peers too: reconcile with them
	// soon, so records cross the mesh hop by hop without waiting for the
	// periodic round.
	if res.Received > 0 {
		e.nudgeOthers(p)
	}
	// Attachments after text records.
	if err := e.fetchAttachments(ctx, p); err != nil {
		e.log.Debug("attachment transfer stopped", "peer", p, "err", err)
	}
	res.BytesReceived, res.BytesSent = int(in.Load()), int(out.Load())
	res.Bytes = res.BytesReceived + res.BytesSent
	e.subs.publish(res)
	return res, nil
}

// countingReader and countingWriter count a session's bytes on its stream.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
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

func (e *Engine) transfer(ctx context.Context, p peer.ID, level int, s network.Stream, r *bufio.Reader, w *bufio.Writer, have, need [][32]byte, res *SyncResult) error {
	if len(need) > maxWantIDs {
		need = need[:maxWantIDs]
	}
	var (
		mu                 sync.Mutex // guards wants, received, rejected
		wants              []incident.ID
		received, rejected int
		wantsDone          = make(chan struct{})
		readerDone         = make(chan error, 1) // the reader's last word, sent once
	)
	closeWants := sync.OnceFunc(func() { close(wantsDone) })
	// Reader: the peer's wants, records and end.
	go func() {
		readerDone <- func() error {
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
					mu.Lock()
					for i := 0; i+32 <= len(body) && len(wants) < maxWantIDs; i += 32 {
						var id incident.ID
						copy(id[:], body[i:i+32])
						wants = append(wants, id)
					}
					mu.Unlock()
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
						if !refusedBy(ms, raw) && !e.holds(incident.IDOf(raw)) {
							keep = append(keep, raw)
						}
					}
					if len(keep) == 0 {
						continue
					}
					results, err := e.store.AddMany(keep, "sync:"+p.String(), nil)
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

	// Writer: wants, end of wants, pushes, then what the peer wants. What
	// arrived since the snapshot (by gossip, or another session) is not
	// asked for again.
	need = slices.DeleteFunc(slices.Clone(need), func(id [32]byte) bool { return e.holds(id) || e.declined(id) })
	for i := 0; i < len(need); i += 8192 {
		j := min(i+8192, len(need))
		body := make([]byte, 0, 32*(j-i))
		for _, id := range need[i:j] {
			body = append(body, id[:]...)
		}
		if err := writeFrame(w, 'W', body); err != nil {
			return err
		}
	}
	if err := writeFrame(w, 'E', nil); err != nil {
		return err
	}
	pushIDs := make([]incident.ID, len(have))
	for i, h := range have {
		pushIDs[i] = h
	}
	sent, err := e.sendRecords(w, pushIDs, level)
	res.Sent += sent
	if err != nil {
		return err
	}
	select {
	case <-wantsDone:
	case <-ctx.Done():
		return ctx.Err()
	}
	mu.Lock()
	asked := append([]incident.ID(nil), wants...)
	mu.Unlock()
	sent, err = e.sendRecords(w, asked, level)
	res.Sent += sent
	if err != nil {
		return err
	}
	if err := writeFrame(w, 'D', nil); err != nil {
		return err
	}
	select {
	case readerErr = <-readerDone:
		readerEnded = true
		return readerErr
	case <-ctx.Done():
		return ctx.Err()
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

// sendRecords sends the records with these IDs that a peer at format
// level can store, mission records first and then by claimed time, in
// frames of up to recordsPerMsg records.
func (e *Engine) sendRecords(w *bufio.Writer, ids []incident.ID, level int) (int, error) {
	var recs []*incident.Signed
	for _, id := range ids {
		r, err := e.store.Get(id)
		if err != nil {
			return 0, err
		}
		if r != nil && e.readableAt(r, level) {
			recs = append(recs, r)
		}
	}
	sort.Slice(recs, func(i, j int) bool {
		if a, b := recs[i].Kind.MissionKind(), recs[j].Kind.MissionKind(); a != b {
			return a
		}
		return incident.Before(recs[i], recs[j])
	})
	sent := 0
	for i := 0; i < len(recs); {
		var body []byte
		n := 0
		// Small frames: the receiver stores a frame only once it has all
		// of it, so on a slow link that drops, a small frame is progress
		// kept (16 KiB is 4 s at 32 kbit/s).
		for i < len(recs) && n < recordsPerMsg && (n == 0 || len(body)+len(recs[i].Raw)+10 <= maxRecordFrame) {
			body = binary.AppendUvarint(body, uint64(len(recs[i].Raw)))
			body = append(body, recs[i].Raw...)
			i++
			n++
		}
		if err := writeFrame(w, 'R', body); err != nil {
			return sent, err
		}
		sent += n
	}
	return sent, nil
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
