package mesh

import "github.com/vigil-mesh/vigil/incident"

// decliner is the part of a store that says a record is not worth asking
// a peer for (*store.Store has it): refused for its author's quota, or
// already waiting in the quarantine. A store without it is asked for
// everything it lacks.
type decliner interface {
	Declined(id incident.ID) bool
}

// declined reports whether the store declines id, so that a reconciliation
// does not fetch, on every sync, records it refused for quota.
func (e *Engine) declined(id incident.ID) bool {
	d, ok := e.store.(decliner)
	return ok && d.Declined(id)
}
