package mesh

import (
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/vigil-mesh/vigil/incident"
)

// TopicOf gives a test the engine's gossip topic, so a hostile member can
// publish raw bytes that no honest engine would sign.
func TopicOf(e *Engine) *pubsub.Topic { return e.topic }

// StrikesOf returns how many invalid things e has counted against the
// member with author key a, over all its transport keys.
func StrikesOf(e *Engine, a incident.Author) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if sc := e.strikes[a]; sc != nil {
		return sc.n
	}
	return 0
}

// ReconProtocol is the stream protocol e serves reconciliation on.
func ReconProtocol(e *Engine) protocol.ID { return e.proto(reconName, e.node.ID()) }

// LiveProtocol is the live reconciliation protocol ID on e's listener.
func LiveProtocol(e *Engine) protocol.ID { return e.proto(liveName, e.node.ID()) }

// NewerTopicOf gives a test the engine's second gossip topic (records a
// level-0 peer cannot store); nil for a level-0 engine.
func NewerTopicOf(e *Engine) *pubsub.Topic { return e.newer }

// Gossip publishes r on the topic the engine picks for it, and nothing
// else (no reconciliation with fresh peers, as publishLocal adds).
func Gossip(e *Engine, r *incident.Signed) error {
	return e.topicFor(r).Publish(e.ctx, r.Raw)
}

// BlobProtocol is the attachment protocol ID e's node answers on.
func BlobProtocol(e *Engine) protocol.ID { return e.proto(blobName, e.node.ID()) }
