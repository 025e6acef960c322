package mesh

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Custody over the wire. A bounded device (an observer's or carrier's
// phone: incident/store/custody.go) reconciles over its live set: the
// mission's records and the records fewer than custody_receipts
// coordinators hold. Any device reconciling with it does the same, so the
// sets differ only where the two know different things, and a
// coordinator's million records are never offered to a phone.
//
// The live protocol (liveName) is the reconciliation protocol with a
// covering step first, in turns on the stream:
//
//	initiator: 'K' frames (32-byte IDs of its live observation records), 'E'
//	responder: 'R' frames (the receipts it holds that list any of them), 'D',
//	           then its own 'K' frames and 'E'
//	initiator: 'R' frames, 'D'
//
// Each side stores the receipts it is handed (validated as any record: a
// receipt is a coordinator's signed word, so a member cannot forge one),
// which takes what enough coordinators hold out of its live set, and
// only then takes its snapshot for set reconciliation. A phone therefore
// learns that coordinators hold what it carries even from a peer that
// holds none of it, and two sides that knew different receipts reconcile
// sets that agree.
//
// Which protocol a session speaks is chosen when the stream opens: a
// bounded device serves only the live one and offers it first; others
// serve both and offer the full one first.

const (
	maxCoverIDs      = 1 << 16 // live IDs one side asks about in a session
	maxCoverReceipts = 1024    // receipts one side hands over in a session
	maxCoverBytes    = 8 << 20 // their encoded bytes
)

// custodyStore is what the live protocol needs from a store
// (*store.Store has it). A store without it is never bounded and serves
// only full sets.
type custodyStore interface {
	Bounded() bool
	ForEachLiveKey(fn func(created int64, id incident.ID) error) error
	Uncovered(limit int) ([]incident.ID, error)
	Covering(ids []incident.ID, max int) ([]*incident.Signed, error)
	Gone(id incident.ID) bool
	Prune() (store.PruneResult, error)
}

// bounded reports whether this device keeps a bounded store.
func (e *Engine) bounded() bool {
	cs, ok := e.store.(custodyStore)
	return ok && cs.Bounded()
}

// gone reports whether this bounded device dropped id (never asked for).
func (e *Engine) gone(id incident.ID) bool {
	cs, ok := e.store.(custodyStore)
	return ok && cs.Gone(id)
}

// followCustody serves reconciliation over full sets exactly when this
// device is not bounded. A bounded device does not even list it (peers
// learn a peer's protocols from identify and open the first one listed
// without asking), so a peer that offers both gets the live one.
func (e *Engine) followCustody() {
	want := !e.bounded()
	e.mu.Lock()
	changed := want != e.servesFull
	e.servesFull = want
	e.mu.Unlock()
	if !changed {
		return
	}
	id := e.proto(reconName, e.node.ID())
	if want {
		e.node.Host().SetStreamHandler(id, func(s network.Stream) { e.handleRecon(s, false) })
	} else {
		e.node.Host().RemoveStreamHandler(id)
	}
}

// reconProtocols lists the reconciliation protocols this device offers
// peer p, preferred first.
func (e *Engine) reconProtocols(p peer.ID) []string {
	full, live := string(e.proto(reconName, p)), string(e.proto(liveName, p))
	if _, ok := e.store.(custodyStore); !ok {
		return []string{full}
	}
	if e.bounded() {
		return []string{live, full}
	}
	return []string{full, live}
}

// cover runs the covering step (see above) on a live session's stream.
func (e *Engine) cover(p peer.ID, r *bufio.Reader, w *bufio.Writer, initiator bool, res *SyncResult) error {
	cs := e.store.(custodyStore)
	ask := func() error {
		ids, err := cs.Uncovered(maxCoverIDs)
		if err != nil {
			return err
		}
		for i := 0; i < len(ids); i += 8192 {
			j := min(i+8192, len(ids))
			body := make([]byte, 0, 32*(j-i))
			for _, id := range ids[i:j] {
				body = append(body, id[:]...)
			}
			if err := writeFrame(w, 'K', body); err != nil {
				return err
			}
		}
		return writeFrame(w, 'E', nil)
	}
	answer := func() error {
		var ids []incident.ID
		for {
			typ, body, err := readCovering(r)
			if err != nil {
				return err
			}
			switch typ {
			case 'K':
				if len(body)%32 != 0 || len(ids)+len(body)/32 > maxCoverIDs {
					return fmt.Errorf("%w: malformed or too long ID list (limit %d)", errCovering, maxCoverIDs)
				}
				for ; len(body) > 0; body = body[32:] {
					ids = append(ids, incident.ID(body[:32]))
				}
			case 'E':
				recs, err := cs.Covering(ids, maxCoverReceipts)
				if err != nil {
					return err
				}
				return e.sendCovering(w, recs)
			default:
				return fmt.Errorf("%w: unexpected frame %q", errCovering, typ)
			}
		}
	}
	take := func() error {
		for {
			typ, body, err := readCovering(r)
			if err != nil {
				return err
			}
			switch typ {
			case 'R':
				if err := e.storeCovering(p, body, res); err != nil {
					return err
				}
			case 'D':
				return nil
			default:
				return fmt.Errorf("%w: unexpected frame %q", errCovering, typ)
			}
		}
	}
	steps := []func() error{ask, take, answer}
	if !initiator {
		steps = []func() error{answer, ask, take}
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// errCovering marks a covering step the peer broke (a malformed or
// unexpected frame, a record that is not a receipt): a strike, as for a
// malformed reconciliation message.
var errCovering = errors.New("covering step off the protocol")

// readCovering reads one frame of the covering step: its type and body.
func readCovering(r *bufio.Reader) (byte, []byte, error) {
	f, err := readFrame(r)
	if err != nil {
		return 0, nil, err
	}
	if len(f) == 0 {
		return 0, nil, fmt.Errorf("%w: empty frame", errCovering)
	}
	return f[0], f[1:], nil
}

// sendCovering writes receipts in 'R' frames, up to maxCoverBytes, then 'D'.
func (e *Engine) sendCovering(w *bufio.Writer, recs []*incident.Signed) error {
	var body []byte
	n, total := 0, 0
	for _, r := range recs {
		if total += len(r.Raw); total > maxCoverBytes {
			break
		}
		if n == recordsPerMsg || (n > 0 && len(body)+len(r.Raw)+10 > maxFrame/2) {
			if err := writeFrame(w, 'R', body); err != nil {
				return err
			}
			body, n = body[:0], 0
		}
		body = append(binary.AppendUvarint(body, uint64(len(r.Raw))), r.Raw...)
		n++
	}
	if n > 0 {
		if err := writeFrame(w, 'R', body); err != nil {
			return err
		}
	}
	return writeFrame(w, 'D', nil)
}

// storeCovering stores the receipts of one 'R' frame of the covering step.
// Anything else in it is a protocol error: the step hands over receipts
// only.
func (e *Engine) storeCovering(p peer.ID, body []byte, res *SyncResult) error {
	raws, err := splitRecords(body)
	if err != nil {
		return err
	}
	keep := raws[:0]
	for _, raw := range raws {
		rec, err := incident.Decode(raw)
		if err != nil || rec.Kind != incident.KindReceipt {
			return fmt.Errorf("%w: a record that is not a receipt", errCovering)
		}
		if !e.holds(rec.ID) {
			keep = append(keep, raw)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	results, err := e.store.AddMany(keep, e.senderOf(p, "sync"), nil)
	if err != nil {
		return err
	}
	for _, x := range results {
		switch x.Outcome {
		case store.Accepted:
			res.Received++
		case store.Rejected:
			res.Rejected++
			if strikable(x.Err) {
				e.strike(p, x.Err)
			}
		}
	}
	return nil
}

// prune drops what this bounded device may drop (store.Prune), logging
// what it did.
func (e *Engine) prune() {
	cs, ok := e.store.(custodyStore)
	if !ok || !cs.Bounded() {
		return
	}
	res, err := cs.Prune()
	switch {
	case err != nil:
		e.log.Warn("dropping records coordinators hold failed", "err", err)
	case res.Dropped+res.Receipts > 0 || res.Over:
		e.log.Info("dropped records coordinators hold", "records", res.Dropped, "receipts", res.Receipts,
			"files", res.Blobs, "bytes", res.Bytes, "over_budget", res.Over)
	}
}
