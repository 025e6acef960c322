package node_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/vigil-mesh/vigil/node"
)

// helloDomain opens every hello v2 binding (see the protocol comment in
// hello.go); the hand-written peers below speak the wire from that
// comment, not from the package's code.
const helloDomain = "vigil/hello/v2\x00"

// Wire limits from the protocol comment, for the hand-written peers.
const (
	maxRefs         = 8
	maxEpochRecords = 4
	maxEpochRecord  = 4 << 10
	maxHandover     = 64 << 10
	maxCredBytes    = 32 << 10
)

// seq orders events across the nodes of a test.
var seq atomic.Int64

// changed is fired by every event the tests record (credentials,
// OnPeer, logs, keyring calls); await wakes on it.
var changed = newSignal()

type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

func (s *signal) fire() {
	s.mu.Lock()
	close(s.ch)
	s.ch = make(chan struct{})
	s.mu.Unlock()
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

// await waits for cond, re-checked at each recorded event, up to d.
func await(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		ch := changed.wait()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			if cond() {
				return
			}
			t.Fatalf("after %v: %s", d, what)
		}
	}
}

// logCapture is a slog handler that keeps every record a node logs.
type logCapture struct {
	mu   sync.Mutex
	recs []logRec
}

type logRec struct {
	msg   string
	attrs map[string]any
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *logCapture) WithGroup(string) slog.Handler            { return c }

func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	rec := logRec{msg: r.Message, attrs: map[string]any{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.Any()
		return true
	})
	c.mu.Lock()
	c.recs = append(c.recs, rec)
	c.mu.Unlock()
	changed.fire()
	return nil
}

// dump logs what node id logged (for a failed test).
func (c *logCapture) dump(t testing.TB, id peer.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.recs {
		t.Logf("node %s: %s %v", id.ShortString(), r.msg, r.attrs)
	}
}

// find returns the first record with msg about peer p.
func (c *logCapture) find(msg string, p peer.ID) (logRec, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.recs {
		if r.msg == msg && fmt.Sprint(r.attrs["peer"]) == p.String() {
			return r, true
		}
	}
	return logRec{}, false
}

// helloFailed waits for the node's own hello to p to end in an error
// (onConnected logs it) and returns that error.
func (c *logCapture) helloFailed(t testing.TB, p peer.ID, d time.Duration) error {
	t.Helper()
	var rec logRec
	await(t, d, "the node's hello to "+p.String()+" did not fail", func() bool {
		var ok bool
		rec, ok = c.find("hello to peer failed", p)
		return ok
	})
	err, _ := rec.attrs["err"].(error)
	if err == nil {
		t.Fatalf("hello failure logged without an error: %v", rec.attrs)
	}
	return err
}

// banned waits for the node to ban p and returns the reason.
func (c *logCapture) banned(t testing.TB, p peer.ID, d time.Duration) string {
	t.Helper()
	var rec logRec
	await(t, d, "the node did not ban "+p.String(), func() bool {
		var ok bool
		rec, ok = c.find("banning peer", p)
		return ok
	})
	return fmt.Sprint(rec.attrs["reason"])
}

// epoch is a secret epoch of a test mission.
type epoch struct {
	Ref    node.EpochRef
	Secret []byte
}

func newEpoch(t testing.TB, number uint64) epoch {
	t.Helper()
	e := epoch{Ref: node.EpochRef{Number: number}, Secret: secret(t)}
	if _, err := rand.Read(e.Ref.ID[:]); err != nil {
		t.Fatal(err)
	}
	return e
}

// record is the epoch's stand-in for its epoch record: what Newest sends
// and Ahead reads. It names the epoch, not its secret.
func (e epoch) record() []byte {
	b, _ := json.Marshal(struct{ Epoch node.EpochRef }{e.Ref})
	return b
}

func parseRecord(b []byte) (node.EpochRef, bool) {
	var r struct{ Epoch *node.EpochRef }
	if json.Unmarshal(b, &r) != nil || r.Epoch == nil {
		return node.EpochRef{}, false
	}
	return *r.Epoch, true
}

// handover encodes epochs (with their secrets) as the fake keyrings hand
// them over.
func handover(eps ...epoch) []byte {
	b, _ := json.Marshal(eps)
	return b
}

// receipt is one Keyring.Receive call.
type receipt struct {
	from   peer.ID
	raw    []byte
	epochs []epoch
}

// fakeKeyring implements node.Keyring over a list of held epochs:
// Refs gives those of the two highest numbers, Newest those of the
// highest that the peer does not have, Handover those the peer lacks at
// or above its highest, Receive adds what a handover carries. Ahead is
// true for a record of an epoch not held, numbered at least the highest
// held, unless ahead overrides it.
type fakeKeyring struct {
	mu       sync.Mutex
	held     []epoch
	ahead    func(records [][]byte) bool
	aheadSaw [][]byte
	got      []receipt
}

func newKeyring(eps ...epoch) *fakeKeyring { return &fakeKeyring{held: eps} }

func (k *fakeKeyring) add(e epoch) {
	k.mu.Lock()
	k.held = append(k.held, e)
	k.mu.Unlock()
}

func (k *fakeKeyring) top() uint64 {
	var top uint64
	for _, e := range k.held {
		top = max(top, e.Ref.Number)
	}
	return top
}

func (k *fakeKeyring) find(id [32]byte) (epoch, bool) {
	for _, e := range k.held {
		if e.Ref.ID == id {
			return e, true
		}
	}
	return epoch{}, false
}

// holds reports whether k holds e, with e's secret.
func (k *fakeKeyring) holds(e epoch) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	h, ok := k.find(e.Ref.ID)
	return ok && bytes.Equal(h.Secret, e.Secret)
}

func (k *fakeKeyring) receipts() []receipt {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.got)
}

func (k *fakeKeyring) sawAhead() [][]byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.aheadSaw)
}

func (k *fakeKeyring) Refs() []node.EpochRef {
	k.mu.Lock()
	defer k.mu.Unlock()
	eps := slices.Clone(k.held)
	sort.SliceStable(eps, func(i, j int) bool { return eps[i].Ref.Number > eps[j].Ref.Number })
	var out []node.EpochRef
	for _, e := range eps {
		if len(out) == maxRefs {
			break
		}
		out = append(out, e.Ref)
	}
	return out
}

func (k *fakeKeyring) Secret(id [32]byte) ([]byte, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.find(id)
	return e.Secret, ok
}

func (k *fakeKeyring) Newest(have []node.EpochRef) [][]byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	top := k.top()
	var out [][]byte
	for _, e := range k.held {
		if e.Ref.Number == top && !slices.ContainsFunc(have, func(r node.EpochRef) bool { return r.ID == e.Ref.ID }) {
			out = append(out, e.record())
		}
	}
	return out
}

func (k *fakeKeyring) Ahead(records [][]byte) bool {
	k.mu.Lock()
	k.aheadSaw = append(k.aheadSaw, records...)
	override := k.ahead
	top := k.top()
	var ahead bool
	for _, rec := range records {
		if r, ok := parseRecord(rec); ok && r.Number >= top {
			if _, held := k.find(r.ID); !held {
				ahead = true
			}
		}
	}
	k.mu.Unlock()
	changed.fire()
	if override != nil {
		return override(records)
	}
	return ahead
}

func (k *fakeKeyring) Handover(theirs []node.EpochRef) []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	var theirTop uint64
	for _, r := range theirs {
		theirTop = max(theirTop, r.Number)
	}
	var out []epoch
	for _, e := range k.held {
		if e.Ref.Number >= theirTop && !slices.ContainsFunc(theirs, func(r node.EpochRef) bool { return r.ID == e.Ref.ID }) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return handover(out...)
}

func (k *fakeKeyring) Receive(from peer.ID, b []byte) error {
	defer changed.fire()
	var eps []epoch
	err := json.Unmarshal(b, &eps)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.got = append(k.got, receipt{from: from, raw: slices.Clone(b), epochs: eps})
	if err != nil {
		return err
	}
	for _, e := range eps {
		if _, ok := k.find(e.Ref.ID); !ok {
			k.held = append(k.held, e)
		}
	}
	return nil
}

// withKeyring sets a node's keyring and hello timeout.
func withKeyring(k node.Keyring, timeout time.Duration) func(*node.Config) {
	return func(c *node.Config) {
		c.Keyring = k
		c.HelloTimeout = timeout
	}
}

// Hand-written hello v2, byte for byte from the protocol comment.

func hmacOf(key []byte, role string, binding []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(role))
	m.Write(binding)
	return m.Sum(nil)
}

func binding(prover, verifier peer.ID, nonce []byte) []byte {
	b := []byte(helloDomain)
	b = append(b, prover...)
	b = append(b, verifier...)
	return append(b, nonce...)
}

func helloID(sec []byte, listener peer.ID) protocol.ID {
	return node.ProtocolID(sec, "hello/2", listener)
}

// rawRef is an epoch as a prover sent it: ref and member proof.
type rawRef struct {
	ref node.EpochRef
	mac []byte
}

// serveVerifier makes h a hand-written hello verifier under its own
// derived hello protocol: it sends the nonce, checks the door proof,
// proves the door back and reads the prover's epochs; serve does the
// rest. The stream is reset when serve returns.
func serveVerifier(h host.Host, sec []byte, serve func(s network.Stream, r *bufio.Reader, binding []byte, theirs []rawRef)) {
	h.SetStreamHandler(helloID(sec, h.ID()), func(s network.Stream) {
		defer s.Reset()
		_ = s.SetDeadline(time.Now().Add(20 * time.Second))
		p := s.Conn().RemotePeer()
		nonce := make([]byte, 32)
		rand.Read(nonce)
		if _, err := s.Write(nonce); err != nil {
			return
		}
		r := bufio.NewReader(s)
		proof := make([]byte, 32)
		if _, err := io.ReadFull(r, proof); err != nil {
			return
		}
		b := binding(p, h.ID(), nonce)
		if !hmac.Equal(proof, hmacOf(sec, "prover\x00", b)) {
			return
		}
		if _, err := s.Write(hmacOf(sec, "verifier\x00", b)); err != nil {
			return
		}
		count, err := r.ReadByte()
		if err != nil || int(count) > maxRefs {
			return
		}
		var theirs []rawRef
		buf := make([]byte, 32+8+32)
		for range int(count) {
			if _, err := io.ReadFull(r, buf); err != nil {
				return
			}
			var rr rawRef
			copy(rr.ref.ID[:], buf)
			rr.ref.Number = binary.BigEndian.Uint64(buf[32:])
			rr.mac = slices.Clone(buf[40:])
			theirs = append(theirs, rr)
		}
		serve(s, r, b, theirs)
	})
}

// readCred reads a prover's credential (uvarint length, bytes).
func readCred(r *bufio.Reader) ([]byte, error) {
	size, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if size > maxCredBytes {
		return nil, fmt.Errorf("credential of %d bytes", size)
	}
	cred := make([]byte, size)
	_, err = io.ReadFull(r, cred)
	return cred, err
}

// rawProver is a hand-written prover's open hello stream to v, past the
// door proofs.
type rawProver struct {
	s       network.Stream
	r       *bufio.Reader
	binding []byte
}

func openProver(t testing.TB, h host.Host, sec []byte, v peer.ID) *rawProver {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := h.NewStream(ctx, v, helloID(sec, v))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Reset() })
	_ = s.SetDeadline(time.Now().Add(20 * time.Second))
	p := &rawProver{s: s, r: bufio.NewReader(s)}
	nonce := make([]byte, 32)
	if _, err := io.ReadFull(p.r, nonce); err != nil {
		t.Fatalf("read nonce: %v", err)
	}
	p.binding = binding(h.ID(), v, nonce)
	if _, err := s.Write(hmacOf(sec, "prover\x00", p.binding)); err != nil {
		t.Fatal(err)
	}
	counter := make([]byte, 32)
	if _, err := io.ReadFull(p.r, counter); err != nil {
		t.Fatalf("read the verifier's door proof: %v", err)
	}
	if !hmac.Equal(counter, hmacOf(sec, "verifier\x00", p.binding)) {
		t.Fatal("the verifier's door proof does not check out")
	}
	return p
}

// sendEpochs sends the prover's epochs, each proved with secret (nil:
// a made-up proof).
func (p *rawProver) sendEpochs(t testing.TB, eps ...epoch) {
	t.Helper()
	msg := []byte{byte(len(eps))}
	for _, e := range eps {
		msg = append(msg, e.Ref.ID[:]...)
		msg = binary.BigEndian.AppendUint64(msg, e.Ref.Number)
		if e.Secret == nil {
			msg = append(msg, secret(t)...)
		} else {
			msg = append(msg, hmacOf(e.Secret, "member-prover\x00", p.binding)...)
		}
	}
	if _, err := p.s.Write(msg); err != nil {
		t.Fatal(err)
	}
}

// readReply reads the verifier's proofs (ID and MAC each) and its epoch
// records.
func (p *rawProver) readReply(t testing.TB) (proofs []rawRef, records [][]byte) {
	t.Helper()
	count, err := p.r.ReadByte()
	if err != nil {
		t.Fatalf("read proofs: %v", err)
	}
	buf := make([]byte, 64)
	for range int(count) {
		if _, err := io.ReadFull(p.r, buf); err != nil {
			t.Fatalf("read proofs: %v", err)
		}
		var rr rawRef
		copy(rr.ref.ID[:], buf)
		rr.mac = slices.Clone(buf[32:])
		proofs = append(proofs, rr)
	}
	n, err := p.r.ReadByte()
	if err != nil {
		t.Fatalf("read epoch records: %v", err)
	}
	for range int(n) {
		size, err := binary.ReadUvarint(p.r)
		if err != nil || size > maxEpochRecord {
			t.Fatalf("read epoch records: length %d, %v", size, err)
		}
		rec := make([]byte, size)
		if _, err := io.ReadFull(p.r, rec); err != nil {
			t.Fatalf("read epoch records: %v", err)
		}
		records = append(records, rec)
	}
	return proofs, records
}

// sendCred sends a credential and reads the verdict and, when admitted,
// the handover.
func (p *rawProver) sendCred(cred []byte) (verdict byte, handover []byte, err error) {
	if _, err := p.s.Write(append(binary.AppendUvarint(nil, uint64(len(cred))), cred...)); err != nil {
		return 0, nil, err
	}
	if verdict, err = p.r.ReadByte(); err != nil || verdict != 1 {
		return verdict, nil, err
	}
	size, err := binary.ReadUvarint(p.r)
	if err != nil {
		return verdict, nil, err
	}
	if size > maxHandover {
		return verdict, nil, fmt.Errorf("handover of %d bytes", size)
	}
	handover = make([]byte, size)
	_, err = io.ReadFull(p.r, handover)
	return verdict, handover, err
}

// clockTail is a prover's clock field at now.
func clockTail(now time.Time) []byte {
	return binary.BigEndian.AppendUint64([]byte{1}, uint64(now.UnixMilli()))
}

// readTail reads what a prover sends after the verdict, up to the end of
// the stream.
func readTail(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return b, err
}

// admitter waits until n admits p.
func admits(t testing.TB, n *tnode, p peer.ID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.WaitAdmitted(ctx, p); err != nil {
		t.Fatal(err)
	}
}

// connectHost connects a plain host to n.
func connectHost(t testing.TB, h host.Host, n *tnode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Connect(ctx, info(n.Node)); err != nil {
		t.Fatal(err)
	}
}

// refusesDial checks that n's gater refuses to dial p (a ban).
func refusesDial(t testing.TB, n *tnode, p peer.AddrInfo) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := n.Connect(ctx, p); err == nil {
		t.Fatalf("%s dialled %s, which it should have banned", n.ID(), p.ID)
	}
}

// disconnectedWithin reports whether n loses its last connection to p
// within d (waiting on the disconnect event).
func disconnectedWithin(n *node.Node, p peer.ID, d time.Duration) bool {
	gone := make(chan struct{}, 1)
	nb := &network.NotifyBundle{DisconnectedF: func(nw network.Network, c network.Conn) {
		if c.RemotePeer() == p && nw.Connectedness(p) != network.Connected {
			select {
			case gone <- struct{}{}:
			default:
			}
		}
	}}
	n.Host().Network().Notify(nb)
	defer n.Host().Network().StopNotify(nb)
	if n.Host().Network().Connectedness(p) != network.Connected {
		return true
	}
	select {
	case <-gone:
		return true
	case <-time.After(d):
		return false
	}
}
