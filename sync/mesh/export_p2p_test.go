package mesh

import (
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// TopicOf gives a test the engine's gossip topic, so a hostile member can
// publish raw bytes that no honest engine would sign.
func TopicOf(e *Engine) *pubsub.Topic { return e.topic }

// StrikesOf returns how many invalid things e has counted against p.
func StrikesOf(e *Engine, p peer.ID) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.strikes[p]
}

// ReconProtocol is the stream protocol e serves reconciliation on.
func ReconProtocol(e *Engine) protocol.ID { return e.reconProto }
