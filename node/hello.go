package node

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The hello protocol runs first on every connection, inside the encrypted
// channel. Each side opens a hello stream to prove itself to the other:
//
//	verifier → prover: 32-byte random nonce
//	prover → verifier: HMAC-SHA256(secret, "prover" || binding) (32 bytes)
//	verifier → prover: HMAC-SHA256(secret, "verifier" || binding) (32 bytes)
//	prover → verifier: uvarint length, member credential
//	verifier → prover: 1 byte, 1 = admitted, 0 = refused
//	prover → verifier: 1 byte, 1, and the prover's clock: Unix time in
//	                   milliseconds, int64 big-endian (8 bytes)
//	prover → verifier: 1 byte, 2, and the prover's format level (1 byte)
//
// The verifier proves the secret too before the prover sends its
// credential, so a peer outside the mission never learns a member's author
// key (the credential names it).
//
// binding = "vigil/hello/v1\x00" || prover peer ID || verifier peer ID ||
// nonce. The peer IDs are authenticated by the channel, so a proof cannot
// be replayed to another peer or reflected back. A peer is admitted when
// its proof and credential check out and the verifier has read what
// follows the verdict (the clock and the level, or the end of the
// stream); until then no other protocol of the mission is served to it. A
// connection that has not been admitted within HelloTimeout is closed.
//
// The clock and the level came later and change nothing before them. A
// verifier of an older version closes the stream after its verdict (the
// first version) or after the clock (the second), and never reads what it
// does not know; the prover's writes past that fail harmlessly. A prover
// of an older version closes the stream after reading the verdict (the
// first version) or after sending its clock (the second), so the verifier
// reads end-of-stream where the clock or the level would be: no clock
// offset, and format level 0, which is what such a build is (it rejects
// any record kind or payload field it does not know; the mesh never sends
// it one). A prover at level 0 sends no level either.
//
// The verifier estimates the clock offset as the prover's clock minus the
// midpoint of its own verdict-to-clock round trip; it is a display value
// (ClockOffset) and nothing else: validation never sees it. The format
// level (FormatLevel) is known before the peer is admitted, so whatever
// runs on admission (the first reconciliation) already knows which records
// the peer can store.

const (
	helloDomain  = "vigil/hello/v1\x00"
	maxCredBytes = 32 << 10
	clockTag     = 1
	clockLen     = 1 + 8
	levelTag     = 2
	levelLen     = 1 + 1
)

func helloBinding(prover, verifier peer.ID, nonce []byte) []byte {
	b := []byte(helloDomain)
	b = append(b, []byte(prover)...)
	b = append(b, []byte(verifier)...)
	return append(b, nonce...)
}

func (n *Node) proof(role string, binding []byte) []byte {
	m := hmac.New(sha256.New, n.cfg.Secret)
	m.Write([]byte(role))
	m.Write(binding)
	return m.Sum(nil)
}

func (n *Node) isRelay(p peer.ID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.relays[p]
}

func (n *Node) onConnected(c network.Conn) {
	p := c.RemotePeer()
	if n.gate.isPaused() {
		// Upgraded just as the node paused.
		_ = c.Close()
		return
	}
	if n.isRelay(p) || n.Admitted(p) {
		return
	}
	n.goFn(func() {
		if err := n.sayHello(p); err != nil {
			n.log.Debug("hello to peer failed", "peer", p, "err", err)
		}
	})
	n.goFn(func() {
		t := time.NewTimer(n.cfg.HelloTimeout)
		defer t.Stop()
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		if !n.Admitted(p) && !n.isRelay(p) && len(n.host.Network().ConnsToPeer(p)) > 0 {
			n.log.Debug("closing connection without hello", "peer", p)
			_ = n.host.Network().ClosePeer(p)
		}
	})
}

func (n *Node) onDisconnected(c network.Conn) {
	p := c.RemotePeer()
	if len(n.host.Network().ConnsToPeer(p)) > 0 {
		return
	}
	n.mu.Lock()
	_, was := n.admitted[p]
	delete(n.admitted, p)
	delete(n.clock, p)
	delete(n.level, p)
	n.mu.Unlock()
	if was && n.cfg.OnPeer != nil {
		n.goFn(func() { n.cfg.OnPeer(p, false) })
	}
}

// sayHello proves this node to p.
func (n *Node) sayHello(p peer.ID) error {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.HelloTimeout)
	defer cancel()
	s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "hello"), p, n.hello)
	if err != nil {
		return err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(n.cfg.HelloTimeout))
	nonce := make([]byte, 32)
	if _, err := io.ReadFull(s, nonce); err != nil {
		return fmt.Errorf("read nonce: %w", err)
	}
	binding := helloBinding(n.host.ID(), p, nonce)
	if _, err := s.Write(n.proof("prover\x00", binding)); err != nil {
		return err
	}
	counter := make([]byte, 32)
	if _, err := io.ReadFull(s, counter); err != nil {
		return fmt.Errorf("read the verifier's proof: %w", err)
	}
	if !hmac.Equal(counter, n.proof("verifier\x00", binding)) {
		_ = s.Reset()
		return errors.New("the peer does not know the mission secret; no credential sent")
	}
	cred := n.cfg.Credential(binding)
	if len(cred) > maxCredBytes {
		return fmt.Errorf("credential of %d bytes, limit %d", len(cred), maxCredBytes)
	}
	if _, err := s.Write(append(binary.AppendUvarint(nil, uint64(len(cred))), cred...)); err != nil {
		return err
	}
	var ok [1]byte
	if _, err := io.ReadFull(s, ok[:]); err != nil {
		return fmt.Errorf("read verdict: %w", err)
	}
	if ok[0] != 1 {
		return errors.New("peer refused our hello")
	}
	// Our clock, for the peer's display, and our format level (none at
	// level 0, as the versions before the level). A verifier of an older
	// version has closed the stream already, or reads only the clock: the
	// write may fail, harmlessly.
	extra := make([]byte, clockLen, clockLen+levelLen)
	extra[0] = clockTag
	binary.BigEndian.PutUint64(extra[1:], uint64(n.cfg.Now().UnixMilli()))
	if n.cfg.FormatLevel > 0 {
		extra = append(extra, levelTag, n.cfg.FormatLevel)
	}
	_, _ = s.Write(extra)
	return nil
}

// handleHello verifies a peer's proof.
func (n *Node) handleHello(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	_ = s.SetDeadline(time.Now().Add(n.cfg.HelloTimeout))
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		_ = s.Reset()
		return
	}
	if _, err := s.Write(nonce); err != nil {
		_ = s.Reset()
		return
	}
	r := bufio.NewReader(io.LimitReader(s, 32+binary.MaxVarintLen64+maxCredBytes+clockLen+levelLen))
	proof := make([]byte, 32)
	if _, err := io.ReadFull(r, proof); err != nil {
		_ = s.Reset()
		return
	}
	binding := helloBinding(p, n.host.ID(), nonce)
	if !hmac.Equal(proof, n.proof("prover\x00", binding)) {
		_ = s.Reset()
		// No author is known yet (the credential comes after the
		// proof): only the transport peer ID can be banned.
		n.Ban(p, "hello: wrong mission proof")
		return
	}
	if _, err := s.Write(n.proof("verifier\x00", binding)); err != nil {
		_ = s.Reset()
		return
	}
	size, err := binary.ReadUvarint(r)
	if err != nil || size > maxCredBytes {
		_, _ = s.Write([]byte{0})
		n.Ban(p, "hello: bad credential length")
		return
	}
	cred := make([]byte, size)
	if _, err := io.ReadFull(r, cred); err != nil {
		_ = s.Reset()
		return
	}
	if err := n.cfg.CheckCredential(p, cred, binding); err != nil {
		_, _ = s.Write([]byte{0})
		n.Ban(p, "hello: "+err.Error())
		return
	}
	sent := n.cfg.Now()
	if _, err := s.Write([]byte{1}); err != nil {
		return
	}
	// The clock and the level, before admission. A peer of an older
	// version ends the stream where it has nothing more to say; an error
	// reads the same (the peer proved itself: what follows is extra).
	var hi helloInfo
	var clock [clockLen]byte
	if _, err := io.ReadFull(r, clock[:]); err == nil && clock[0] == clockTag {
		recv := n.cfg.Now()
		theirs := time.UnixMilli(int64(binary.BigEndian.Uint64(clock[1:])))
		hi.offset, hi.hasClock = theirs.Sub(sent.Add(recv.Sub(sent)/2)), true
		var level [levelLen]byte
		if _, err := io.ReadFull(r, level[:]); err == nil && level[0] == levelTag {
			hi.level = level[1]
		}
	}
	n.admit(p, hi)
}

// helloInfo is what a prover said after its verdict.
type helloInfo struct {
	offset   time.Duration
	hasClock bool
	level    uint8
}

// ClockOffset is how far p's clock is ahead of this device's (negative:
// behind), measured when p said hello on its current connection, within
// half that round trip. ok is false for a peer that is not admitted or
// runs a version whose hello carries no clock. It is for display (a
// phone whose clock is wrong); nothing in validation uses it.
func (n *Node) ClockOffset(p peer.ID) (offset time.Duration, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	offset, ok = n.clock[p]
	return offset, ok
}

// FormatLevel is the record format level p announced in its hello: 0 for
// a peer of a version that announces none (a build that rejects record
// kinds and payload fields it does not know), and for a peer that is not
// admitted. It is known from the moment p is admitted.
func (n *Node) FormatLevel(p peer.ID) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return int(n.level[p])
}

// admit admits p with what its hello said, unless its connections closed
// or it was banned while the hello ran (onDisconnected, which runs after
// the last one is gone, has nothing to undo then).
func (n *Node) admit(p peer.ID, hi helloInfo) {
	n.mu.Lock()
	// Banned while its hello ran (Ban, between the verdict and here):
	// its connections are closing; do not admit it.
	if len(n.host.Network().ConnsToPeer(p)) == 0 || !n.gate.allowed(p) {
		n.mu.Unlock()
		return
	}
	_, was := n.admitted[p]
	n.admitted[p] = n.cfg.Now()
	if hi.hasClock {
		n.clock[p] = hi.offset
	} else {
		delete(n.clock, p)
	}
	if hi.level > 0 {
		n.level[p] = hi.level
	} else {
		delete(n.level, p)
	}
	n.mu.Unlock()
	if !was && n.cfg.OnPeer != nil {
		n.goFn(func() { n.cfg.OnPeer(p, true) })
	}
}

// Guard waits (up to the hello timeout) for the remote peer of s to be
// admitted. Protocol handlers call it first and drop the stream when it
// returns false.
func (n *Node) Guard(s network.Stream) bool {
	p := s.Conn().RemotePeer()
	if n.Admitted(p) {
		return true
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.HelloTimeout)
	defer cancel()
	if n.WaitAdmitted(ctx, p) != nil {
		_ = s.Reset()
		return false
	}
	return true
}
