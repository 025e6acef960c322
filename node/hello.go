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
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The hello protocol runs first on every connection, inside the encrypted
// channel. Each side opens a hello stream to prove itself to the other;
// on the stream that P opens to V:
//
//	V → P: 32-byte random nonce
//	P → V: door proof, HMAC-SHA256(secret, "prover" || binding)
//	V → P: door proof, HMAC-SHA256(secret, "verifier" || binding)
//	P → V: P's newest epochs: a count (1 byte, at most maxRefs), then per epoch
//	       its record ID (32), number (8, big-endian) and a member proof,
//	       HMAC-SHA256(member secret, "member-prover" || binding) (32)
//	V → P: V's proofs: a count (1 byte), then per epoch of P's that V
//	       holds the member secret of, its ID (32) and
//	       HMAC-SHA256(member secret, "member-verifier" || binding) (32);
//	       then V's newest epoch records: a count (1 byte) and per
//	       record a uvarint length and the record (sent only when P
//	       proved one of them)
//	P → V: uvarint length, member credential (when P reveals; below)
//	V → P: 1 byte, 1 = admitted, 0 = refused; when admitted, a uvarint
//	       length and the handover: the epoch records and member secrets
//	       P lacks
//	P → V: 1 byte, 1, and P's clock: Unix time in milliseconds, int64
//	       big-endian (8 bytes)
//	P → V: 1 byte, 2, and P's format level (1 byte)
//	P → V: uvarint length and P's handover for V: the epochs V did not
//	       prove, sent only when P has itself admitted V (on V's own
//	       stream, where V's standing was checked); else length 0
//
// binding = "vigil/hello/v2\x00" || prover peer ID || verifier peer ID ||
// nonce. The peer IDs are authenticated by the channel, so no proof can
// be replayed to another peer or reflected back.
//
// The mission secret (the door secret) is in every invite: a photographed
// code gives it. The credential names a member (its author key, label,
// recipient and enrollment chain), so P sends it only to a V that has
// shown current membership: V proved the member secret of one of P's
// newest epochs; or V sent a valid epoch record of at least P's newest
// number that P does not hold (a concurrent revocation elsewhere) and
// proved one of P's epochs; or V has already been admitted by P on V's
// own hello stream (V showed its credential first, being behind P). A
// device that holds no member secret yet (it just joined, or the mission
// has no epoch) shows its credential first: it has nothing to prove
// itself with, and a handover gives it the secrets. Member secrets travel
// only in the handover, after V checked P's standing, so a revoked member
// never learns a secret from after its revocation and must always show
// its credential first, to be refused.
//
// A device that gains an epoch (it started one, or one was handed to
// it) says hello again to every admitted peer (Rehello), so that peers
// already connected get the new secret in the handover at the end of that
// hello, without reconnecting.
//
// A P that will not reveal waits, up to the hello timeout, for V to be
// admitted on V's stream; a V that never shows membership gets nothing
// but P's epoch IDs and numbers, which name no member. The verifier bans
// the transport peer ID of a peer that fails the door proof or sends a
// bad credential; the mesh bans by author key.
//
// The verifier estimates the clock offset as the prover's clock minus the
// midpoint of its own verdict-to-clock round trip; it is a display value
// (ClockOffset) and nothing else: validation never sees it. The format
// level (FormatLevel) is known before the peer is admitted, so whatever
// runs on admission (the first reconciliation) already knows which records
// the peer can store.
//
// Protocol IDs derive from the mission secret and the listener's own peer
// ID (ProtocolID), so no two members show a common non-standard protocol
// to the identify protocol.

const (
	helloDomain     = "vigil/hello/v2\x00"
	maxCredBytes    = 32 << 10
	maxHandover     = 64 << 10
	maxRefs         = 8
	maxEpochRecords = 4
	maxEpochRecord  = 4 << 10
	clockTag        = 1
	clockLen        = 1 + 8
	levelTag        = 2
	levelLen        = 1 + 1
	refLen          = 32 + 8 + 32
	proofLen        = 32 + 32
)

// EpochRef names a secret epoch: its record ID and number.
type EpochRef struct {
	ID     [32]byte
	Number uint64
}

// Keyring is what the hello needs of the mission's secret epochs; the
// mesh implements it from the store (node knows nothing of records). A
// nil Keyring holds no secret.
type Keyring interface {
	// Refs lists the newest epochs whose member secret this device
	// holds (at most maxRefs, newest first). Older ones matter too: two
	// devices on rival branches (coordinators who revoked while apart)
	// find each other through the last epoch they share.
	Refs() []EpochRef
	// Secret returns the member secret of epoch id, if held.
	Secret(id [32]byte) ([]byte, bool)
	// Newest returns this device's epoch records of its highest number
	// that are not in have (raw, at most maxEpochRecords).
	Newest(have []EpochRef) [][]byte
	// Ahead reports whether records include a valid epoch record that
	// this device does not hold, numbered at least its highest.
	Ahead(records [][]byte) bool
	// Handover returns the epoch records and member secrets a peer that
	// showed theirs lacks, for its handover (at most maxHandover bytes).
	Handover(theirs []EpochRef) []byte
	// Receive takes a handover from a peer that admitted this device.
	Receive(from peer.ID, handover []byte) error
}

func helloBinding(prover, verifier peer.ID, nonce []byte) []byte {
	b := []byte(helloDomain)
	b = append(b, []byte(prover)...)
	b = append(b, []byte(verifier)...)
	return append(b, nonce...)
}

func mac(secret []byte, role string, binding []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(role))
	m.Write(binding)
	return m.Sum(nil)
}

func (n *Node) proof(role string, binding []byte) []byte { return mac(n.cfg.Secret, role, binding) }

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
	if was {
		n.notify(p, false)
	}
}

// ErrNotShown is sayHello's error when the peer never showed membership,
// so this device kept its credential.
var ErrNotShown = errors.New("the peer has not shown a current membership; no credential sent")

// errNoOwner is sayHello's error when no owner was attached in time.
var errNoOwner = errors.New("no owner attached to the node: nothing to say hello with")

// sayHello proves this node to p, on behalf of its owner (waited for, up
// to the hello timeout).
func (n *Node) sayHello(p peer.ID) error {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.HelloTimeout)
	defer cancel()
	o := n.owner.await(ctx)
	if o == nil {
		return errNoOwner
	}
	s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "hello"), p, ProtocolID(n.cfg.Secret, "hello/2", p))
	if err != nil {
		return err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(n.cfg.HelloTimeout))
	r := bufio.NewReader(io.LimitReader(s, 32+32+1+maxRefs*proofLen+1+maxEpochRecords*(binary.MaxVarintLen64+maxEpochRecord)+1+binary.MaxVarintLen64+maxHandover))
	nonce := make([]byte, 32)
	if _, err := io.ReadFull(r, nonce); err != nil {
		return fmt.Errorf("read nonce: %w", err)
	}
	binding := helloBinding(n.host.ID(), p, nonce)
	if _, err := s.Write(n.proof("prover\x00", binding)); err != nil {
		return err
	}
	counter := make([]byte, 32)
	if _, err := io.ReadFull(r, counter); err != nil {
		return fmt.Errorf("read the verifier's proof: %w", err)
	}
	if !hmac.Equal(counter, n.proof("verifier\x00", binding)) {
		_ = s.Reset()
		return errors.New("the peer does not know the mission secret; no credential sent")
	}
	// Our epochs, each proved.
	mine := o.refs()
	msg := []byte{byte(len(mine))}
	for _, ref := range mine {
		sec, _ := o.secret(ref.ID)
		msg = append(msg, ref.ID[:]...)
		msg = binary.BigEndian.AppendUint64(msg, ref.Number)
		msg = append(msg, mac(sec, "member-prover\x00", binding)...)
	}
	if _, err := s.Write(msg); err != nil {
		return err
	}
	// What the verifier proves back, and its newest epoch records.
	proved, err := readProofs(r, mine, binding, o.secret)
	if err != nil {
		return err
	}
	records, err := readRecords(r)
	if err != nil {
		return err
	}
	if !n.shown(o, p, mine, proved, records) {
		// Behind us, or not a member: it shows its credential first on
		// its own stream; reveal once we admitted it there.
		if !n.waitShown(ctx, p) {
			_ = s.Reset()
			return ErrNotShown
		}
	}
	cred := o.Credential(binding)
	if len(cred) > maxCredBytes {
		return fmt.Errorf("credential of %d bytes, limit %d", len(cred), maxCredBytes)
	}
	if _, err := s.Write(append(binary.AppendUvarint(nil, uint64(len(cred))), cred...)); err != nil {
		return err
	}
	var ok [1]byte
	if _, err := io.ReadFull(r, ok[:]); err != nil {
		return fmt.Errorf("read verdict: %w", err)
	}
	if ok[0] != 1 {
		return errors.New("peer refused our hello")
	}
	size, err := binary.ReadUvarint(r)
	if err != nil || size > maxHandover {
		return fmt.Errorf("read handover: bad length")
	}
	if size > 0 {
		handover := make([]byte, size)
		if _, err := io.ReadFull(r, handover); err != nil {
			return fmt.Errorf("read handover: %w", err)
		}
		if o.Keyring != nil {
			if err := o.Keyring.Receive(p, handover); err != nil {
				n.log.Info("handover refused", "peer", p, "err", err)
			}
		}
	}
	// Our clock, for the peer's display, our format level, and what the
	// peer lacks of our epochs if we admitted it already.
	extra := make([]byte, clockLen, clockLen+levelLen)
	extra[0] = clockTag
	binary.BigEndian.PutUint64(extra[1:], uint64(n.cfg.Now().UnixMilli()))
	extra = append(extra, levelTag, o.FormatLevel)
	var back []byte
	if o.Keyring != nil && n.Admitted(p) {
		if back = o.Keyring.Handover(proved); len(back) > maxHandover {
			back = nil
		}
	}
	extra = binary.AppendUvarint(extra, uint64(len(back)))
	if _, err := s.Write(append(extra, back...)); err != nil {
		return err
	}
	return nil
}

// Rehello says hello again to every admitted peer, so that each gets, at
// the end of it, the epochs this device holds and it lacks.
func (n *Node) Rehello() {
	for _, p := range n.Peers() {
		n.goFn(func() {
			if err := n.sayHello(p); err != nil {
				n.log.Debug("hello again failed", "peer", p, "err", err)
			}
		})
	}
}

// shown decides whether verifier p has shown current membership to this
// prover (see the protocol comment): mine are our epochs (o's), proved
// those of them p proved, records p's newest epoch records.
func (n *Node) shown(o *Owner, p peer.ID, mine []EpochRef, proved []EpochRef, records [][]byte) bool {
	if len(mine) == 0 {
		return true // nothing to prove ourselves with: show first
	}
	top := mine[0].Number
	for _, r := range mine {
		top = max(top, r.Number)
	}
	for _, ref := range proved {
		if ref.Number == top {
			return true
		}
	}
	if len(proved) > 0 && len(records) > 0 && o.Keyring.Ahead(records) {
		return true
	}
	return n.Admitted(p)
}

// waitShown waits until p is admitted (true), or its connections are
// gone, or ctx ends.
func (n *Node) waitShown(ctx context.Context, p peer.ID) bool {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !n.Admitted(p) {
		if len(n.host.Network().ConnsToPeer(p)) == 0 {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// readProofs reads the verifier's proofs of our epochs and returns those
// that check out.
func readProofs(r *bufio.Reader, mine []EpochRef, binding []byte, secret func([32]byte) ([]byte, bool)) ([]EpochRef, error) {
	count, err := r.ReadByte()
	if err != nil {
		return nil, fmt.Errorf("read proofs: %w", err)
	}
	if int(count) > maxRefs {
		return nil, fmt.Errorf("%d proofs, limit %d", count, maxRefs)
	}
	var out []EpochRef
	buf := make([]byte, proofLen)
	for range int(count) {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("read proofs: %w", err)
		}
		var id [32]byte
		copy(id[:], buf)
		for _, ref := range mine {
			if ref.ID != id {
				continue
			}
			if sec, ok := secret(id); ok && hmac.Equal(buf[32:], mac(sec, "member-verifier\x00", binding)) && !slices.Contains(out, ref) {
				out = append(out, ref)
			}
		}
	}
	return out, nil
}

func readRecords(r *bufio.Reader) ([][]byte, error) {
	count, err := r.ReadByte()
	if err != nil {
		return nil, fmt.Errorf("read epoch records: %w", err)
	}
	if int(count) > maxEpochRecords {
		return nil, fmt.Errorf("%d epoch records, limit %d", count, maxEpochRecords)
	}
	var out [][]byte
	for range int(count) {
		size, err := binary.ReadUvarint(r)
		if err != nil || size > maxEpochRecord {
			return nil, errors.New("read epoch records: bad length")
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("read epoch records: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}

// handleHello verifies a peer's proof, on behalf of the node's owner. A
// hello that arrives before an owner is attached waits for one (within
// the hello timeout); with none, the stream is reset and nobody banned:
// the prover did nothing wrong.
func (n *Node) handleHello(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	_ = s.SetDeadline(time.Now().Add(n.cfg.HelloTimeout))
	o := n.awaitOwner(n.cfg.HelloTimeout)
	if o == nil {
		_ = s.Reset()
		return
	}
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		_ = s.Reset()
		return
	}
	if _, err := s.Write(nonce); err != nil {
		_ = s.Reset()
		return
	}
	r := bufio.NewReader(io.LimitReader(s, 32+1+maxRefs*refLen+binary.MaxVarintLen64+maxCredBytes+clockLen+levelLen+binary.MaxVarintLen64+maxHandover))
	proof := make([]byte, 32)
	if _, err := io.ReadFull(r, proof); err != nil {
		_ = s.Reset()
		return
	}
	binding := helloBinding(p, n.host.ID(), nonce)
	if !hmac.Equal(proof, n.proof("prover\x00", binding)) {
		_ = s.Reset()
		// No author is known yet (the credential comes later): only the
		// transport peer ID can be banned.
		n.Ban(p, "hello: wrong mission proof")
		return
	}
	if _, err := s.Write(n.proof("verifier\x00", binding)); err != nil {
		_ = s.Reset()
		return
	}
	// The prover's epochs: prove back those we hold; send our newest
	// epoch records when it proved any (it was a member then).
	count, err := r.ReadByte()
	if err != nil || int(count) > maxRefs {
		_ = s.Reset()
		return
	}
	var theirs []EpochRef
	var reply []byte
	recent := false
	buf := make([]byte, refLen)
	for range int(count) {
		if _, err := io.ReadFull(r, buf); err != nil {
			_ = s.Reset()
			return
		}
		var ref EpochRef
		copy(ref.ID[:], buf)
		ref.Number = binary.BigEndian.Uint64(buf[32:])
		theirs = append(theirs, ref)
		sec, ok := o.secret(ref.ID)
		if !ok || !hmac.Equal(buf[40:], mac(sec, "member-prover\x00", binding)) {
			continue
		}
		reply = append(reply, ref.ID[:]...)
		reply = append(reply, mac(sec, "member-verifier\x00", binding)...)
		recent = true
	}
	reply = append([]byte{byte(len(reply) / proofLen)}, reply...)
	var records [][]byte
	if recent && o.Keyring != nil {
		records = o.Keyring.Newest(theirs)
		if len(records) > maxEpochRecords {
			records = records[:maxEpochRecords]
		}
	}
	reply = append(reply, byte(len(records)))
	for _, rec := range records {
		reply = binary.AppendUvarint(reply, uint64(len(rec)))
		reply = append(reply, rec...)
	}
	if _, err := s.Write(reply); err != nil {
		_ = s.Reset()
		return
	}
	size, err := binary.ReadUvarint(r)
	if err != nil || size > maxCredBytes {
		if err == nil {
			_, _ = s.Write([]byte{0})
			n.Ban(p, "hello: bad credential length")
		}
		_ = s.Reset()
		return
	}
	cred := make([]byte, size)
	if _, err := io.ReadFull(r, cred); err != nil {
		_ = s.Reset()
		return
	}
	if err := o.CheckCredential(p, cred, binding); err != nil {
		_, _ = s.Write([]byte{0})
		n.Ban(p, "hello: "+err.Error())
		return
	}
	var handover []byte
	if o.Keyring != nil {
		handover = o.Keyring.Handover(theirs)
		if len(handover) > maxHandover {
			handover = nil
		}
	}
	sent := n.cfg.Now()
	verdict := append([]byte{1}, binary.AppendUvarint(nil, uint64(len(handover)))...)
	if _, err := s.Write(append(verdict, handover...)); err != nil {
		return
	}
	// The clock, the level and the prover's handover, before admission.
	// An error reads as no clock (the peer proved itself: what follows
	// is extra).
	var hi helloInfo
	var clock [clockLen]byte
	if _, err := io.ReadFull(r, clock[:]); err == nil && clock[0] == clockTag {
		recv := n.cfg.Now()
		theirs := time.UnixMilli(int64(binary.BigEndian.Uint64(clock[1:])))
		hi.offset, hi.hasClock = theirs.Sub(sent.Add(recv.Sub(sent)/2)), true
		var level [levelLen]byte
		if _, err := io.ReadFull(r, level[:]); err == nil && level[0] == levelTag {
			hi.level = level[1]
			if size, err := binary.ReadUvarint(r); err == nil && size > 0 && size <= maxHandover {
				back := make([]byte, size)
				if _, err := io.ReadFull(r, back); err == nil && o.Keyring != nil {
					if err := o.Keyring.Receive(p, back); err != nil {
						n.log.Info("handover refused", "peer", p, "err", err)
					}
				}
			}
		}
	}
	n.admit(o, p, hi)
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

// admit admits p for owner o with what its hello said, unless its
// connections closed, it was banned while the hello ran (onDisconnected,
// which runs after the last one is gone, has nothing to undo then), or o
// is no longer the node's owner (Detach).
func (n *Node) admit(o *Owner, p peer.ID, hi helloInfo) {
	n.mu.Lock()
	// Banned while its hello ran (Ban, between the verdict and here):
	// its connections are closing; do not admit it.
	if len(n.host.Network().ConnsToPeer(p)) == 0 || !n.gate.allowed(p) || n.owner.get() != o {
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
	if !was && o.OnPeer != nil {
		n.goFn(func() { o.OnPeer(p, true) })
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
