package mesh

// DropPublish makes an engine lose every message it gossips, as GossipSub
// can before a new peer's mesh forms.
func DropPublish(c *Config) { c.dropPublish = true }

// ChunksFetched counts the attachment chunks e received.
func ChunksFetched(e *Engine) int64 { return e.chunksFetched.Load() }
