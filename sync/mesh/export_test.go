package mesh

import (
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/vigil-mesh/vigil/incident"
)

// DropPublish makes an engine lose every message it gossips, as GossipSub
// can before a new peer's mesh forms.
func DropPublish(c *Config) { c.dropPublish = true }

// ChunksFetched counts the attachment chunks e received.
func ChunksFetched(e *Engine) int64 { return e.chunksFetched.Load() }

// Level0 makes an engine a build of format level 0 (the previous
// release): no level in its hello, only the first gossip topic.
func Level0(c *Config) { c.level0 = true }

// IgnoreLevels switches off what keeps records from peers that cannot
// store them: every peer is taken to store everything.
func IgnoreLevels(c *Config) { c.ignoreLevels = true }

// TotalStrikes is every strike e has counted, against any peer.
func TotalStrikes(e *Engine) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, sc := range e.strikes {
		n += sc.n
	}
	return n
}

// NewerRefused counts the records of a newer schema version e refused.
func NewerRefused(e *Engine) int64 { return e.newerRefused.Load() }

// InSnapshot reports whether e offers id in reconciliation with a peer at
// format level.
func InSnapshot(e *Engine, level int, id incident.ID) bool {
	_, has, err := e.snapshot(level)
	return err == nil && has(id)
}

// BlobServes is how many attachment requests of p e is answering.
func BlobServes(e *Engine, p peer.ID) int { return e.serving.count(p) }

// TopicPeers lists the peers e's first gossip topic lists (diagnostics).
func TopicPeers(e *Engine) []peer.ID { return e.topic.ListPeers() }

// Trace gives the engine's GossipSub trace events to tracer.
func Trace(tracer pubsub.EventTracer) func(*Config) {
	return func(c *Config) { c.tracer = tracer }
}
