package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// Sending replies. The message a reply answers is handled and deleted by
// the time the reply goes, so a reply that fails never costs the
// message: it waits in a small queue and is tried again at each poll, a
// bounded number of times, then logged with its text for an operator.

// maxQueuedReplies bounds the queue; past it the oldest reply is given up.
const maxQueuedReplies = 256

// reply is one text waiting to be sent.
type reply struct {
	to, text string
	pdu      bool         // the mode its parts were built for
	pdus     []EncodedPDU // PDU mode: the parts, built at the first try
	pieces   []string     // text mode: the separate SMS it is cut into
	sent     int          // parts or pieces the network has accepted
	tries    int          // failed attempts
}

// queueReplies queues the handler's replies to a sender.
func (m *Modem) queueReplies(to string, texts []string, log *slog.Logger) {
	if len(texts) == 0 {
		return
	}
	if _, err := encodeNumber(to); err != nil {
		log.Info("no reply sent: the sender is not a number", "from", to, "replies", len(texts))
		return
	}
	for _, t := range texts {
		if len(m.replies) == maxQueuedReplies {
			old := m.replies[0]
			log.Error("reply queue full; oldest reply given up", "to", old.to, "text", old.text)
			m.replies = m.replies[1:]
		}
		m.replies = append(m.replies, &reply{to: to, text: t})
	}
}

// ErrReplyQueueFull is what Send returns when maxQueuedReplies texts
// already wait for the modem.
var ErrReplyQueueFull = errors.New("sms: too many texts already wait for the modem")

// Send queues a text to a number, sent as a handler's replies are (the
// same retries, then logged with its text for an operator): for a text
// that does not answer the message in hand, such as the receipt of a
// message kept earlier and taken now. It never waits: Run sends it after
// its next look at the modem's memory (within Poll). Safe to call from
// any goroutine, a Handler included. It refuses a recipient that is not
// a phone number, and a full queue (ErrReplyQueueFull).
func (m *Modem) Send(to, text string) error {
	if _, err := encodeNumber(to); err != nil {
		return fmt.Errorf("sms: %q is not a phone number to send to: %w", to, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrModemClosed
	}
	if len(m.outbox) >= maxQueuedReplies {
		return ErrReplyQueueFull
	}
	m.outbox = append(m.outbox, &reply{to: to, text: text})
	return nil
}

// takeOutbox moves Send's texts into the reply queue, after the
// handler's replies already there.
func (m *Modem) takeOutbox(log *slog.Logger) {
	m.mu.Lock()
	out := m.outbox
	m.outbox = nil
	m.mu.Unlock()
	for _, r := range out {
		m.queueReplies(r.to, []string{r.text}, log)
	}
}

// sendReplies sends the queued replies in order. A refusal counts a try
// and leaves the rest for the next poll (the network is likely refusing
// them all); only a modem that stops answering is an error.
func (m *Modem) sendReplies(ctx context.Context, c *atConn, log *slog.Logger, s settings) error {
	m.takeOutbox(log)
	for len(m.replies) > 0 {
		r := m.replies[0]
		err := m.sendReply(ctx, c, r, log, s)
		if err == nil {
			log.Info("reply sent", "to", r.to, "sms", r.sent)
			m.replies = m.replies[1:]
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.tries++
		if unsendable := (*unsendableError)(nil); errors.As(err, &unsendable) || r.tries >= s.sendTries {
			log.Error("reply given up; send it by hand", "to", r.to, "text", r.text, "tries", r.tries, "err", err)
			m.replies = m.replies[1:]
		} else if !broken(ctx, err) {
			log.Warn("reply not sent; trying again at the next poll", "to", r.to, "try", r.tries, "err", err)
			return nil
		}
		if broken(ctx, err) {
			return err
		}
	}
	return nil
}

// unsendableError is a reply that no retry can send as it stands.
type unsendableError struct{ err error }

func (e *unsendableError) Error() string { return e.err.Error() }
func (e *unsendableError) Unwrap() error { return e.err }

// sendReply sends what is left of one reply, part by part.
func (m *Modem) sendReply(ctx context.Context, c *atConn, r *reply, log *slog.Logger, s settings) error {
	if r.pdu != m.pdu || (r.pdus == nil && r.pieces == nil) {
		// First try, or the modem changed mode since: build the parts anew
		// (in the rare change of mode, parts already sent go again).
		r.pdu, r.pdus, r.pieces, r.sent = m.pdu, nil, nil, 0
		if m.pdu {
			pdus, err := EncodeSubmit(r.to, r.text, m.ref)
			if err != nil {
				return &unsendableError{err}
			}
			m.ref++
			r.pdus = pdus
		} else {
			r.pieces = splitPlain(r.text)
		}
	}
	if m.pdu {
		for r.sent < len(r.pdus) {
			p := r.pdus[r.sent]
			if err := m.cmgs(ctx, c, "AT+CMGS="+strconv.Itoa(p.Length), p.Hex, s); err != nil {
				return err
			}
			r.sent++
		}
		return nil
	}
	to, err := m.encodeText(r.to)
	if err != nil {
		return &unsendableError{err}
	}
	for r.sent < len(r.pieces) {
		piece := r.pieces[r.sent]
		body, err := m.encodeText(piece)
		if err != nil {
			return &unsendableError{err}
		}
		// The data coding the modem gives what it sends (AT+CSMP's
		// fourth value): GSM 7-bit where the text allows, else UCS-2.
		dcs := 8
		if _, ok := gsm7Len(piece); ok {
			dcs = 0
		}
		if dcs != m.dcs {
			_, err := c.exec(ctx, "AT+CSMP=17,167,0,"+strconv.Itoa(dcs), s.commandTimeout)
			if broken(ctx, err) {
				return err
			} else if err != nil {
				log.Info("modem refused to set the data coding of replies; sending with its own", "err", err)
			}
			m.dcs = dcs
		}
		if err := m.cmgs(ctx, c, `AT+CMGS="`+to+`"`, body, s); err != nil {
			return err
		}
		r.sent++
	}
	return nil
}

// cmgs sends one SMS: the command, then at the "> " prompt the body and
// Ctrl-Z, then waits for +CMGS: <reference> and OK. A prompt that does
// not come is cancelled with Escape, so the modem does not take what
// follows as the body.
func (m *Modem) cmgs(ctx context.Context, c *atConn, cmd, body string, s settings) error {
	c.drain()
	deadline := time.Now().Add(s.commandTimeout)
	if err := c.write(cmd+"\r", deadline); err != nil {
		return err
	}
	if err := c.prompt(ctx, cmd, deadline, s.commandTimeout); err != nil {
		if errors.Is(err, ErrNotAnswering) {
			_ = c.write("\x1b", time.Now().Add(time.Second)) // best effort: the modem is not answering anyway
		}
		return err
	}
	deadline = time.Now().Add(s.sendTimeout)
	if err := c.write(body+"\x1a", deadline); err != nil {
		return err
	}
	_, err := c.collect(ctx, cmd, deadline, s.sendTimeout)
	return err
}
