package mesh

import (
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/node"
)

// Stream protocol names; node.ProtocolID derives each listener's own ID.
const (
	reconName = "recon/2" // recon wire version 2
	// liveName: the same protocol over live sets, with a covering step
	// first (custody.go). Bounded devices (phones) serve only this one.
	liveName = "recon-live/1"
	blobName = "blob"
)

// proto is the ID of protocol name on listener p.
func (e *Engine) proto(name string, p peer.ID) protocol.ID {
	return e.node.Protocol(name, p)
}

// keyring gives the hello the mission's secret epochs (node.Keyring):
// the epoch records that count, from the mission state, and the member
// secrets this device holds, from the store. Each method is engine work
// (owner.go): once the engine closes, the keyring holds nothing and takes
// nothing.
type keyring struct{ e *Engine }

// maxHandoverEpochs bounds a handover: the newest epochs a peer lacks.
const maxHandoverEpochs = 32

// held returns the epochs that count and whose secret this device holds,
// newest first, with the secrets.
func (k keyring) held() ([]incident.Epoch, map[incident.ID][]byte) {
	held, secrets, err := k.e.store.HeldEpochs()
	if err != nil {
		return nil, nil
	}
	return held, secrets
}

func (k keyring) Refs() []node.EpochRef {
	if !k.e.track() {
		return nil
	}
	defer k.e.wg.Done()
	held, _ := k.held()
	var out []node.EpochRef
	for _, ep := range held {
		if len(out) == maxRefs {
			break
		}
		out = append(out, node.EpochRef{ID: ep.ID, Number: ep.Number})
	}
	return out
}

// maxRefs is how many of its newest epochs a device names in hello (the
// node's limit).
const maxRefs = 8

func (k keyring) Secret(id [32]byte) ([]byte, bool) {
	if !k.e.track() {
		return nil, false
	}
	defer k.e.wg.Done()
	secrets, err := k.e.store.EpochSecrets()
	if err != nil {
		return nil, false
	}
	s, ok := secrets[incident.ID(id)]
	return s, ok
}

func (k keyring) Newest(have []node.EpochRef) [][]byte {
	if !k.e.track() {
		return nil
	}
	defer k.e.wg.Done()
	held, _ := k.held()
	var out [][]byte
	for _, ep := range held {
		if ep.Number != held[0].Number {
			break
		}
		if haveRef(have, ep.ID) {
			continue
		}
		if r, err := k.e.store.Get(ep.ID); err == nil && r != nil {
			out = append(out, r.Raw)
		}
	}
	return out
}

func haveRef(refs []node.EpochRef, id incident.ID) bool {
	for _, r := range refs {
		if r.ID == id {
			return true
		}
	}
	return false
}

// Ahead: a peer's newest epoch record is valid here, signed by a
// coordinator in good standing, not held, and numbered at least our
// newest: a revocation this device has not heard of.
func (k keyring) Ahead(records [][]byte) bool {
	if !k.e.track() {
		return false
	}
	defer k.e.wg.Done()
	ms, err := k.e.store.Mission()
	if err != nil {
		return false
	}
	held, _ := k.held()
	var top uint64
	if len(held) > 0 {
		top = held[0].Number
	}
	for _, raw := range records {
		rec, err := incident.Decode(raw)
		if err != nil || rec.Kind != incident.KindEpoch {
			continue
		}
		if _, ok := ms.EpochByID(rec.ID); ok {
			continue
		}
		// Its causes (revocations elsewhere) may be missing here: that is
		// the point. The author must be a coordinator in good standing.
		if err := incident.Validate(rec, ms, k.e.store); (err != nil && !incident.IsMissing(err)) || ms.Standing(rec.AuthorKey()) != nil {
			continue
		}
		if role, _ := ms.Role(rec.AuthorKey()); role != incident.RoleCoordinator {
			continue
		}
		p, err := rec.DecodePayload()
		if ep, ok := p.(*incident.EpochPayload); err == nil && ok && ep.Number >= top {
			return true
		}
	}
	return false
}

// handoverEntry is one epoch in a handover: its record, its secret, and
// the revocations and confirms it names (an epoch depends on them, so a
// device never holds an epoch without the revocation that started it).
type handoverEntry struct {
	Record []byte   `cbor:"1,keyasint"`
	Secret []byte   `cbor:"2,keyasint"`
	Causes [][]byte `cbor:"3,keyasint,omitempty"`
}

func (k keyring) Handover(theirs []node.EpochRef) []byte {
	if !k.e.track() {
		return nil
	}
	defer k.e.wg.Done()
	held, secrets := k.held()
	var theirTop uint64
	for _, r := range theirs {
		theirTop = max(theirTop, r.Number)
	}
	var list []handoverEntry
	for _, ep := range held {
		if ep.Number < theirTop || (haveRef(theirs, ep.ID)) || len(list) == maxHandoverEpochs {
			continue
		}
		r, err := k.e.store.Get(ep.ID)
		if err != nil || r == nil {
			continue
		}
		h := handoverEntry{Record: r.Raw, Secret: secrets[ep.ID]}
		if p, err := r.DecodePayload(); err == nil {
			if pl, ok := p.(*incident.EpochPayload); ok {
				for _, b := range pl.Cause {
					var id incident.ID
					copy(id[:], b)
					if c, err := k.e.store.Get(id); err == nil && c != nil {
						h.Causes = append(h.Causes, c.Raw)
					}
				}
			}
		}
		list = append(list, h)
	}
	if len(list) == 0 {
		return nil
	}
	b, err := incident.Marshal(list)
	if err != nil {
		return nil
	}
	return b
}

// Receive stores the epochs a peer handed over: each record must be valid
// against the mission state as it is (nothing waits in quarantine for a
// handover), and each secret must match its record's commitment.
func (k keyring) Receive(from peer.ID, b []byte) error {
	if !k.e.track() {
		return ErrClosed
	}
	defer k.e.wg.Done()
	var list []handoverEntry
	if err := incident.UnmarshalCanonical(b, &list); err != nil {
		return fmt.Errorf("handover: %w", err)
	}
	if len(list) > maxHandoverEpochs {
		return fmt.Errorf("handover of %d epochs, limit %d", len(list), maxHandoverEpochs)
	}
	ms, err := k.e.store.Mission()
	if err != nil {
		return err
	}
	var errs []error
	gained := false
	for _, h := range list {
		rec, err := incident.Decode(h.Record)
		if err != nil || rec.Kind != incident.KindEpoch {
			errs = append(errs, fmt.Errorf("handover record: not an epoch record"))
			continue
		}
		if len(h.Causes) > incident.MaxEpochCauses {
			errs = append(errs, fmt.Errorf("handover epoch %s: %d causes, limit %d", rec.ID, len(h.Causes), incident.MaxEpochCauses))
			continue
		}
		// The causes first: the revocations are stored (and cut whom
		// they name) before the secret is held or passed on.
		for _, raw := range h.Causes {
			c, err := incident.Decode(raw)
			if err != nil || (c.Kind != incident.KindRevoke && c.Kind != incident.KindConfirm) {
				errs = append(errs, fmt.Errorf("handover epoch %s: a cause is not a revocation or a confirm", rec.ID))
				continue
			}
			if err := incident.Validate(c, ms, noRecords{}); err != nil {
				errs = append(errs, fmt.Errorf("handover cause %s: %w", c.ID, err))
				continue
			}
			if r := k.e.store.Add(raw, "hello:"+from.String()); r.Err != nil {
				errs = append(errs, fmt.Errorf("handover cause %s: %w", c.ID, r.Err))
			}
		}
		if ms, err = k.e.store.Mission(); err != nil {
			return err
		}
		if err := incident.Validate(rec, ms, k.e.store); err != nil {
			errs = append(errs, fmt.Errorf("handover epoch %s: %w", rec.ID, err))
			continue
		}
		if r := k.e.store.Add(h.Record, "hello:"+from.String()); r.Err != nil {
			errs = append(errs, fmt.Errorf("handover epoch %s: %w", rec.ID, r.Err))
			continue
		}
		added, err := k.e.store.AddEpochSecret(rec.ID, h.Secret)
		if err != nil {
			errs = append(errs, err)
		}
		gained = gained || added
	}
	if gained {
		// Pass it on to the members connected now.
		k.e.node.Rehello()
	}
	return errors.Join(errs...)
}
