package mesh

import (
	"context"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Forwarding. GossipSub forwards what arrives by gossip, but a record
// fetched by reconciliation is stored and goes no further: after a
// partition heals, the records of one side would then cross the other
// one reconciliation round per hop. So the engine gossips the records a
// reconciliation stored, and they cross the rest of the mesh at gossip
// speed; the reconciliation nudges (nudgeOthers) and the periodic rounds
// still carry whatever gossip drops.
//
// What is forwarded, and what is not:
//
//   - only records this store accepted from the session (and the records
//     their arrival released from quarantine): exactly what the gossip
//     validator would accept. Invalid, duplicate and quarantined records
//     are never forwarded, and a record whose author turned out to be
//     revoked (a revocation in the same batch, say) is checked again just
//     before it is published.
//   - each record once: the store accepts a record ID once, and GossipSub
//     publishes a message ID (the record's hash) it has seen only once.
//   - at most maxForward records per session, and none from a session
//     whose wants alone are more: that is a device catching up (a late
//     joiner, a phone back after a day offline), whose records the rest of
//     the mesh most likely holds; gossiping them would cost every link the
//     backlog. (A peer's pushes are not known beforehand; they count
//     against the same budget.)
//   - through a bounded queue (forwardQueue records); what does not fit is
//     dropped, and reconciliation carries it.
const (
	maxForward   = 512
	forwardQueue = 1024 // record IDs: 32 KiB
	// forwardBurst records are published back to back, then the
	// forwarder yields for forwardPause, so that GossipSub's per-peer
	// outbound queues (peerQueue) drain rather than drop.
	forwardBurst = 16
	forwardPause = 2 * time.Millisecond
)

// forwardBudget is what a session that wants need records may forward.
func forwardBudget(need int) int {
	if need > maxForward {
		return 0
	}
	return maxForward
}

// forwardStored queues for gossip the records of a stored batch that the
// store accepted, and those their arrival released from quarantine, up to
// *budget of them, which it decrements.
func (e *Engine) forwardStored(results []store.Result, budget *int) {
	for _, x := range results {
		if x.Outcome != store.Accepted {
			continue
		}
		for _, id := range append([]incident.ID{x.ID}, x.Released...) {
			if *budget <= 0 {
				return
			}
			*budget--
			select {
			case e.fwd <- id:
			default: // full: reconciliation carries it
			}
		}
	}
}

// forwarder publishes the queued records, one at a time, until Close.
func (e *Engine) forwarder() {
	n := 0
	for {
		var id incident.ID
		select {
		case <-e.ctx.Done():
			return
		case id = <-e.fwd:
		}
		if g := e.cfg.forwardGate; g != nil {
			select {
			case <-g:
			case <-e.ctx.Done():
				return
			}
		}
		if e.ctx.Err() != nil || e.cfg.dropPublish {
			continue
		}
		r, err := e.store.Get(id)
		if err != nil || r == nil || e.refused(r.Raw) {
			continue
		}
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		if err := e.topic.Publish(ctx, r.Raw); err != nil {
			e.log.Debug("forward failed", "id", id, "err", err)
		}
		cancel()
		if n++; n%forwardBurst == 0 && len(e.fwd) > 0 {
			select {
			case <-e.ctx.Done():
				return
			case <-time.After(forwardPause):
			}
		}
	}
}
