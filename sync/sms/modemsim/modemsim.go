// Package modemsim is a GSM modem in software, for tests: a
// pseudo-terminal whose far end answers AT commands as a modem does,
// with a message memory the test fills (Deliver), the SMS the modem was
// asked to send (Sent), and the faults of a real one on demand: refused
// commands (Fail) and a modem that stops answering (Stall).
//
// The device's path (Path) is what sms.OpenModem, or `vigil sms gateway
// --modem`, is given. Tests wait on what the modem saw with Wait, never
// with sleeps.
package modemsim

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-mesh/vigil/sync/sms"
)

// Options shape the simulated modem.
type Options struct {
	// TextOnly makes the modem refuse PDU mode (AT+CMGF=0), as some old
	// ones do, so that the driver falls back to text mode.
	TextOnly bool
	// Capacity is the number of slots in the message memory (default 30,
	// a SIM's usual size).
	Capacity int
	// SMSC is the service centre number put before each stored PDU, as a
	// network fills it in ("" for an empty field).
	SMSC string
	// Now stamps delivered messages (default time.Now).
	Now func() time.Time
}

// Stored is one message in the modem's memory.
type Stored struct {
	Index int
	PDU   string // hexadecimal, with the service centre field
	Read  bool   // listed at least once
}

// Sent is one message the modem was asked to send, decoded.
type Sent struct {
	To       string
	Text     string       // the whole text, parts joined
	Parts    int          // the SMS it took: concatenated parts in PDU mode
	Alphabet sms.Alphabet // how it was encoded
}

// Sim is a simulated modem behind a pseudo-terminal.
type Sim struct {
	opts  Options
	pty   *pty
	in    chan []byte   // read from the terminal
	urc   chan string   // unsolicited result codes to write
	done  chan struct{} // closed by Close
	ended chan struct{} // closed when serve returns

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced at each change, for Wait
	slots    map[int]*Stored
	sent     []Sent
	partial  map[string][]sms.PDU // concatenated parts sent, by number, reference and total
	commands []string
	dropped  int // octets ignored while stalled
	fails    []failRule
	stalled  bool
	ref      uint8
	mr       int

	// Modem settings, changed by commands.
	echo    bool
	pduMode bool
	charset string
	mt      int // AT+CNMI's second value: 1 announces stored messages
	dcs     int // AT+CSMP's fourth value, for text-mode sending
}

// failRule answers the next n commands that start with prefix with an error.
type failRule struct {
	prefix string
	n      int
	code   int
}

// New starts a simulated modem.
func New(opts Options) (*Sim, error) {
	if opts.Capacity <= 0 {
		opts.Capacity = 30
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p, err := openPTY()
	if err != nil {
		return nil, fmt.Errorf("modemsim: %w", err)
	}
	s := &Sim{
		opts:    opts,
		pty:     p,
		in:      make(chan []byte, 16),
		urc:     make(chan string, 256),
		done:    make(chan struct{}),
		ended:   make(chan struct{}),
		changed: make(chan struct{}),
		slots:   map[int]*Stored{},
		partial: map[string][]sms.PDU{},
		echo:    true,           // as a modem starts: ATE0 turns it off
		pduMode: !opts.TextOnly, // TS 27.005's default
		charset: "IRA",
	}
	go s.read()
	go s.serve()
	return s, nil
}

// Path is the terminal device a driver opens.
func (s *Sim) Path() string { return s.pty.path }

// Close stops the modem and closes its terminal. Close a driver's own
// handle on Path first.
func (s *Sim) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	close(s.done)
	err := s.pty.close()
	<-s.ended
	return err
}

// read hands what the driver writes to serve.
func (s *Sim) read() {
	for {
		b := make([]byte, 1024)
		n, err := s.pty.master.Read(b)
		if n > 0 {
			select {
			case s.in <- b[:n]:
			case <-s.done:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Deliver stores a text from a sender as the network would hand it to
// the modem: one SMS-DELIVER PDU, or concatenated parts with a header
// when it is long, each at the lowest free index and announced with
// +CMTI when the driver asked for that (AT+CNMI).
func (s *Sim) Deliver(from, text string) error {
	s.mu.Lock()
	ref := s.ref
	s.ref++
	s.mu.Unlock()
	parts, err := sms.EncodeDeliver(from, text, s.opts.Now(), ref)
	if err != nil {
		return fmt.Errorf("modemsim: %w", err)
	}
	for _, p := range parts {
		if _, err := s.DeliverPDU(p.Hex); err != nil {
			return err
		}
	}
	return nil
}

// DeliverPDU stores one PDU as given (hexadecimal, with its service
// centre field; an empty one is replaced by Options.SMSC) and returns its
// index. It is not checked: a test stores broken PDUs with it too.
func (s *Sim) DeliverPDU(hexPDU string) (int, error) {
	hexPDU = strings.ToUpper(hexPDU)
	if s.opts.SMSC != "" && strings.HasPrefix(hexPDU, "00") {
		hexPDU = smscField(s.opts.SMSC) + hexPDU[2:]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	index := 0
	for i := 1; i <= s.opts.Capacity; i++ {
		if s.slots[i] == nil {
			index = i
			break
		}
	}
	if index == 0 {
		return 0, fmt.Errorf("modemsim: message memory full (%d slots)", s.opts.Capacity)
	}
	s.slots[index] = &Stored{Index: index, PDU: hexPDU}
	if s.mt == 1 && !s.stalled {
		select {
		case s.urc <- fmt.Sprintf("\r\n+CMTI: \"SM\",%d\r\n", index):
		default: // a driver that reads nothing: the next poll finds it
		}
	}
	s.bump()
	return index, nil
}

// Stored returns the messages in memory, by index.
func (s *Sim) Stored() []Stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Stored, 0, len(s.slots))
	for _, st := range s.slots {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b Stored) int { return a.Index - b.Index })
	return out
}

// Sent returns what the modem sent, whole messages in order; the parts
// of a concatenated one count once it is whole.
func (s *Sim) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// Commands returns every command the modem answered, in order (what it
// dropped while stalled is not among them).
func (s *Sim) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands)
}

// Fail makes the next n commands that start with prefix (AT+CMGL,
// AT+CMGS, ...; "" for any command) answer +CMS ERROR: code. For AT+CMGS
// the error comes instead of the "> " prompt.
func (s *Sim) Fail(prefix string, n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, failRule{prefix: strings.ToUpper(prefix), n: n, code: code})
}

// Stall makes the modem stop answering: what the driver writes is read
// and dropped, and nothing is announced, until Release.
func (s *Sim) Stall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalled = true
	s.bump()
}

// Release ends a Stall.
func (s *Sim) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalled = false
	s.bump()
}

// Dropped is how many octets the modem ignored while stalled.
func (s *Sim) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Wait returns once cond holds, checking it now and after every change
// of the modem's state (a command answered, a message stored, deleted or
// sent), or an error when ctx ends first. cond may call the Sim's other
// methods.
func (s *Sim) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("modemsim: %w while waiting", ctx.Err())
		}
	}
}

// bump wakes the waiters; s.mu is held.
func (s *Sim) bump() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// smscField encodes a service centre number as a PDU's first field.
func smscField(number string) string {
	toa := "81"
	if rest, ok := strings.CutPrefix(number, "+"); ok {
		toa, number = "91", rest
	}
	if len(number)%2 == 1 {
		number += "F"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%02X%s", 1+len(number)/2, toa)
	for i := 0; i < len(number); i += 2 {
		b.WriteByte(number[i+1])
		b.WriteByte(number[i])
	}
	return b.String()
}

// pty is a pseudo-terminal: the master end the Sim reads and writes, the
// slave's path the driver opens, and the Sim's own handle on the slave,
// held so that the terminal lives (and keeps its settings) while a
// driver closes and reopens it.
type pty struct {
	master *os.File
	slave  *os.File
	path   string
}

func (p *pty) close() error {
	err := p.master.Close()
	if e := p.slave.Close(); err == nil {
		err = e
	}
	return err
}
