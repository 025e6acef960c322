package mesh

import (
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vigil-mesh/vigil/node"
)

// owner is what the engine attaches to its node (node.Owner): this
// device's credential, its judgement of peers' credentials, the keyring
// and the admitted peers. The node may still run a hello after the
// engine's Close (the node closes later, and a hello may be under way when
// Close detaches the engine): the callbacks that reach the store count as
// engine work (track), so Close waits for those in progress and the later
// ones are refused. Nothing reaches the store from the node after Close.
func (e *Engine) owner() node.Owner {
	return node.Owner{
		// Once closed, the engine shows no credential: a hello under way
		// then finds an empty keyring, and would otherwise show it first.
		// (Close detaches the engine first, so such a hello's connection
		// is already closed.)
		Credential: func(binding []byte) []byte {
			if !e.track() {
				return nil
			}
			defer e.wg.Done()
			return e.ownCredential(binding)
		},
		CheckCredential: func(p peer.ID, cred, binding []byte) error {
			if !e.track() {
				return ErrClosed
			}
			defer e.wg.Done()
			return e.checkPeer(p, cred, binding)
		},
		Keyring:     keyring{e},
		OnPeer:      e.onPeer,
		FormatLevel: uint8(e.level),
	}
}
