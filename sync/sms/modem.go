package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Modem receives text messages through a GSM modem (a USB stick or a
// phone that takes AT commands on a serial port) and sends the replies.
//
// Messages are read from the modem's message memory, where the network
// leaves them, and deleted from it only after the Handler has taken them:
// a crash, a failed store or a modem that stops answering loses nothing.
// PDU mode is used where the modem has it (nearly all do), which gives
// concatenated messages their reference and part numbers; text mode is
// the fallback, with the limits said at textRuns.
//
// Nothing else may use the device while Run does (on Linux, stop
// ModemManager or tell it to leave the device alone: it takes modems it
// finds).
type Modem struct {
	// Settings, read when Run starts; zero means the default.

	// Poll is how often the stored messages are listed (default 5 s).
	// A +CMTI notice that one arrived lists them at once.
	Poll time.Duration
	// CommandTimeout is how long a command may go unanswered before the
	// modem is taken as hung (default 10 s).
	CommandTimeout time.Duration
	// SendTimeout is how long the network may take to accept one SMS
	// (default 60 s).
	SendTimeout time.Duration
	// SendTries is how many times a reply is tried before it is given up
	// and logged with its text, for an operator to send by hand (default 5).
	SendTries int
	// RetryMax is the longest wait between attempts to reach a modem that
	// stopped answering; the wait starts at a second and doubles
	// (default 1 min).
	RetryMax time.Duration
	// TextModeWait is, in text mode only, how long a run of full-length
	// messages from one sender waits for the shorter one that ends it
	// before it is handed on as it is (default 2 min).
	TextModeWait time.Duration

	name string                             // the device, for logs
	open func() (io.ReadWriteCloser, error) // reopens the device; nil for a port the caller gave

	mu     sync.Mutex
	conn   *atConn
	closed bool
	outbox []*reply // Send's texts, taken into replies at the next poll

	// What Run keeps across polls and reconnections; only Run's
	// goroutine touches it.
	pdu         bool                 // PDU mode, else text mode
	charset     string               // text mode: the TE character set in force
	listArg     string               // text mode: the AT+CMGL argument the modem took
	dcs         int                  // text mode: the data coding AT+CSMP last set, -1 before
	replies     []*reply             // replies not yet accepted by the network
	ref         uint8                // the next concatenation reference for a long reply
	delivered   map[string]bool      // stored messages the handler took whose deletion has not been seen
	refused     map[string]bool      // messages the handler failed to take, by their first part: logged once
	partialSeen map[string]time.Time // incomplete concatenated messages, when first seen
	warned      map[string]bool      // incomplete ones already reported as waiting long
	textHeld    map[string]time.Time // text mode: runs waiting for their last part, since when
	full        bool                 // the message memory was full at the last look
	noCPMS      bool                 // the modem refused AT+CPMS?
}

// Defaults of the settings.
const (
	defaultPoll           = 5 * time.Second
	defaultCommandTimeout = 10 * time.Second
	defaultSendTimeout    = 60 * time.Second
	defaultSendTries      = 5
	defaultRetryMax       = time.Minute
	defaultTextModeWait   = 2 * time.Minute
	firstRetry            = time.Second
	partialWarnAfter      = time.Hour // an incomplete message waiting longer is reported once
)

// ErrModemClosed is what Run returns when Close was called.
var ErrModemClosed = errors.New("sms: modem closed")

// OpenModem opens a modem's serial device (/dev/ttyUSB2, /dev/ttyACM0)
// raw at 115200 baud, 8 data bits, no parity, one stop bit. When the
// modem stops answering, Run closes and reopens the device, so a modem
// that was unplugged and plugged back in is found again.
func OpenModem(path string) (*Modem, error) {
	open := func() (io.ReadWriteCloser, error) { return openSerial(path) }
	port, err := open()
	if err != nil {
		return nil, err
	}
	m := NewModem(port)
	m.name, m.open = path, open
	return m, nil
}

// NewModem drives a modem over a port the caller opened (a serial device
// already set up, a pipe in a test). The port is never reopened: when
// reading it fails, Run returns the error.
func NewModem(port io.ReadWriteCloser) *Modem {
	return &Modem{
		name:        "port",
		conn:        newATConn(port),
		dcs:         -1,
		ref:         uint8(time.Now().UnixNano()), // a reference a receiving phone has not seen lately
		delivered:   map[string]bool{},
		refused:     map[string]bool{},
		partialSeen: map[string]time.Time{},
		warned:      map[string]bool{},
		textHeld:    map[string]time.Time{},
	}
}

// Close closes the device. Run, if running, returns ErrModemClosed.
func (m *Modem) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return m.conn.close()
}

// current returns the connection in use.
func (m *Modem) current() (*atConn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrModemClosed
	}
	return m.conn, nil
}

// reopen closes the device and opens it again.
func (m *Modem) reopen() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrModemClosed
	}
	_ = m.conn.close() // the old device may be gone already
	port, err := m.open()
	if err != nil {
		return err
	}
	m.conn = newATConn(port)
	return nil
}

// settings are the Modem's settings with the defaults filled in.
type settings struct {
	poll, commandTimeout, sendTimeout, retryMax, textModeWait time.Duration
	sendTries                                                 int
}

func (m *Modem) settings() settings {
	or := func(d, def time.Duration) time.Duration {
		if d <= 0 {
			return def
		}
		return d
	}
	s := settings{
		poll:           or(m.Poll, defaultPoll),
		commandTimeout: or(m.CommandTimeout, defaultCommandTimeout),
		sendTimeout:    or(m.SendTimeout, defaultSendTimeout),
		retryMax:       or(m.RetryMax, defaultRetryMax),
		textModeWait:   or(m.TextModeWait, defaultTextModeWait),
		sendTries:      m.SendTries,
	}
	if s.sendTries <= 0 {
		s.sendTries = defaultSendTries
	}
	return s
}

// Run takes the messages the modem receives to h and sends h's replies,
// until ctx ends (it then returns nil) or Close is called. It lists the
// modem's stored messages every Poll and whenever the modem announces
// one. When the modem stops answering, Run logs it once, retries with a
// growing wait (reopening the device when OpenModem opened it), and logs
// again when the modem is back; messages wait in the modem's memory and
// replies in Run's queue meanwhile. Run is not safe to call twice at once.
func (m *Modem) Run(ctx context.Context, h Handler, log *slog.Logger) error {
	if h == nil {
		return errors.New("sms: Modem.Run needs a Handler")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := m.settings()
	wait := min(firstRetry, s.retryMax)
	down := false
	for {
		c, err := m.current()
		if err != nil {
			return err
		}
		c.log = func(msg string, args ...any) { log.Debug(msg, args...) }
		err = m.session(ctx, c, h, log, s, func() {
			if down {
				log.Info("modem answering again", "device", m.name)
			}
			down, wait = false, min(firstRetry, s.retryMax)
		})
		if ctx.Err() != nil {
			return nil
		}
		if _, cerr := m.current(); cerr != nil {
			return cerr
		}
		switch {
		case errors.Is(err, errPortGone) && m.open == nil:
			return fmt.Errorf("sms: %w", err)
		case errors.Is(err, ErrNotAnswering), errors.Is(err, errPortGone):
			if !down {
				log.Warn("modem not answering; retrying until it does, messages wait in its memory",
					"device", m.name, "err", err)
			} else {
				log.Debug("modem still not answering", "device", m.name, "err", err, "next_try", wait)
			}
			down = true
		default:
			log.Error("modem setup failed; retrying", "device", m.name, "err", err, "next_try", wait)
		}
		if !sleep(ctx, wait) {
			return nil
		}
		wait = min(2*wait, s.retryMax)
		if m.open != nil {
			if err := m.reopen(); errors.Is(err, ErrModemClosed) {
				return err
			} else if err != nil {
				log.Debug("modem device not back yet", "device", m.name, "err", err)
			}
		}
	}
}

// sleep waits d, and reports false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// broken reports whether err ends a session: the modem stopped
// answering, the device failed, or the context ended. A refusal does not.
func broken(ctx context.Context, err error) bool {
	return errors.Is(err, ErrNotAnswering) || errors.Is(err, errPortGone) || ctx.Err() != nil
}

// session sets the modem up, then polls, handles and replies until the
// modem stops answering or ctx ends.
func (m *Modem) session(ctx context.Context, c *atConn, h Handler, log *slog.Logger, s settings, ready func()) error {
	if err := m.setup(ctx, c, log, s); err != nil {
		return err
	}
	ready()
	for {
		if err := m.poll(ctx, c, h, log, s); err != nil {
			return err
		}
		if err := m.sendReplies(ctx, c, log, s); err != nil {
			return err
		}
		if c.takeArrived() {
			continue // announced while we were busy: list again now
		}
		if err := c.waitIdle(ctx, time.Now().Add(s.poll)); err != nil {
			return err
		}
		c.takeArrived()
	}
}

// setup puts the modem in the state the rest expects: no echo, numeric
// errors, PDU mode (else text mode with the best character set it has),
// and +CMTI notices of stored messages.
func (m *Modem) setup(ctx context.Context, c *atConn, log *slog.Logger, s settings) error {
	t := s.commandTimeout
	for _, cmd := range []string{"AT", "ATE0"} {
		if _, err := c.exec(ctx, cmd, t); err != nil {
			return err
		}
	}
	// optional runs a command whose refusal only costs a convenience.
	optional := func(cmd, without string) error {
		_, err := c.exec(ctx, cmd, t)
		if me := (*ModemError)(nil); errors.As(err, &me) {
			log.Info("modem refused a setting: "+without, "command", commandName(cmd), "err", err)
			return nil
		}
		return err
	}
	if err := optional("AT+CMEE=1", "its errors will carry no number"); err != nil {
		return err
	}
	_, err := c.exec(ctx, "AT+CMGF=0", t)
	if me := (*ModemError)(nil); errors.As(err, &me) {
		if err := m.setupTextMode(ctx, c, log, t); err != nil {
			return err
		}
	} else if err != nil {
		return err
	} else {
		m.pdu = true
	}
	if err := optional("AT+CNMI=2,1,0,0,0", "new messages are found by polling only"); err != nil {
		return err
	}
	mode := "PDU"
	if !m.pdu {
		mode = "text, character set " + m.charset
	}
	log.Info("modem ready", "device", m.name, "mode", mode)
	return nil
}
