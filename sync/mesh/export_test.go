package mesh

// DropPublish makes an engine lose every message it gossips, as GossipSub
// can before a new peer's mesh forms.
func DropPublish(c *Config) { c.dropPublish = true }

// ChunksFetched counts the attachment chunks e received.
func ChunksFetched(e *Engine) int64 { return e.chunksFetched.Load() }

// NoNudge keeps an engine from reconciling with its other peers when a
// session stored records, so that only gossip carries them on.
func NoNudge(c *Config) { c.noNudge = true }

// ForwardGate holds an engine's forwarder before each record until gate is
// closed.
func ForwardGate(gate chan struct{}) func(*Config) {
	return func(c *Config) { c.forwardGate = gate }
}
