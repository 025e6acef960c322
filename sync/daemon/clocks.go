package daemon

import "time"

// PeerClocks is how far each admitted peer's clock is ahead of this
// device's, as their hellos said (node.ClockOffset), for the peers whose
// hello carried a clock: what a capture record's median offset is taken
// from (act.Desk.PeerClocks). Display and provenance only; validation
// never reads a clock.
func (d *Daemon) PeerClocks() []time.Duration {
	var out []time.Duration
	for _, p := range d.Engine.Peers() {
		if off, ok := d.Node.ClockOffset(p.ID); ok {
			out = append(out, off)
		}
	}
	return out
}
