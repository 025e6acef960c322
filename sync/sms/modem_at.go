package sms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The AT command engine (ITU-T V.250, 3GPP TS 27.007 and 27.005): write a
// command, read lines until its final result code, and set aside what
// arrives in between that is not the answer: the echo of the command,
// and unsolicited result codes (+CMTI for a message stored, network
// registration, a vendor's ^ notices).

// ErrNotAnswering is what a command that went unanswered wraps: the
// modem hung, was unplugged, or is busy past the timeout.
var ErrNotAnswering = errors.New("modem not answering")

// notAnswering names the command that went unanswered and for how long.
type notAnswering struct {
	command string
	after   time.Duration
}

func (e *notAnswering) Error() string {
	return fmt.Sprintf("modem not answering to %s after %v", e.command, e.after)
}

func (e *notAnswering) Is(target error) bool { return target == ErrNotAnswering }

// ModemError is a modem's refusal of a command: ERROR, or +CMS ERROR /
// +CME ERROR with a code (numeric once AT+CMEE=1 is in force).
type ModemError struct {
	Command string // the command without its arguments (AT+CMGS)
	Result  string // the result code as the modem wrote it
	Code    int    // the +CMS / +CME error number, -1 when there is none
}

func (e *ModemError) Error() string {
	s := fmt.Sprintf("modem refused %s: %s", e.Command, e.Result)
	if strings.HasPrefix(e.Result, "+CMS") {
		if what, ok := cmsErrors[e.Code]; ok {
			s += " (" + what + ")"
		}
	} else if what, ok := cmeErrors[e.Code]; ok && strings.HasPrefix(e.Result, "+CME") {
		s += " (" + what + ")"
	}
	return s
}

// cmsErrors are the +CMS ERROR codes an operator meets (TS 27.005
// 3.2.5), worded as what to check.
var cmsErrors = map[int]string{
	300: "modem failure",
	301: "SMS service of the modem reserved",
	302: "operation not allowed",
	303: "operation not supported",
	304: "invalid PDU mode parameter",
	305: "invalid text mode parameter",
	310: "no SIM card",
	311: "the SIM card needs its PIN",
	312: "the SIM card needs its PH-SIM PIN",
	313: "SIM card failure",
	314: "SIM card busy, try again",
	315: "wrong SIM card",
	316: "the SIM card needs its PUK",
	320: "message memory failure",
	321: "no message at that index",
	322: "message memory full",
	330: "service centre number unknown: set it with AT+CSCA",
	331: "no network service",
	332: "network timeout",
	340: "no +CNMA acknowledgement expected",
	500: "unknown error",
}

// cmeErrors are the +CME ERROR codes an operator meets (TS 27.007 9.2).
var cmeErrors = map[int]string{
	3:   "operation not allowed",
	4:   "operation not supported",
	10:  "no SIM card",
	11:  "the SIM card needs its PIN",
	12:  "the SIM card needs its PUK",
	13:  "SIM card failure",
	14:  "SIM card busy, try again",
	15:  "wrong SIM card",
	30:  "no network service",
	100: "unknown error",
}

// unsolicitedPrefixes start the result codes a modem sends of its own
// accord, which may arrive between a command and its answer.
var unsolicitedPrefixes = []string{
	"+CMTI:", "+CDSI:", "+CMT:", "+CDS:", "+CBM:", "+CBMI:", "RING", "+CRING:", "+CLIP:",
	"+CREG:", "+CGREG:", "+CEREG:", "+CUSD:", "+CIEV:", "+QIND:", "+STIN:", "^",
}

// Bounds on what a modem (or a message read through it) can make the
// engine hold.
const (
	maxLine      = 1024 // octets of one line; a PDU line is at most 2*176
	maxInfoLines = 4096 // lines of one answer kept: two per stored message in PDU mode, and room
)

// readResult is one read from the port: data, or the error that ended
// reading.
type readResult struct {
	b   []byte
	err error
}

// atConn speaks AT over one opened port. A goroutine reads the port into
// chunks; everything else runs on the caller's goroutine, so that every
// wait has a deadline and a context.
type atConn struct {
	port    io.ReadWriteCloser
	chunks  chan readResult
	done    chan struct{} // closed by close: the reader stops handing on
	buf     []byte        // read, not yet split into lines
	err     error         // the read error that ended the reader, once met
	arrived bool          // a +CMTI was seen since the last takeArrived
	cut     bool          // the last answer had more lines than maxInfoLines: the rest was dropped
	log     func(msg string, args ...any)
}

func newATConn(port io.ReadWriteCloser) *atConn {
	c := &atConn{port: port, chunks: make(chan readResult, 16), done: make(chan struct{}),
		log: func(string, ...any) {}}
	go c.readLoop()
	return c
}

func (c *atConn) readLoop() {
	for {
		b := make([]byte, 1024)
		n, err := c.port.Read(b)
		if n > 0 {
			select {
			case c.chunks <- readResult{b: b[:n]}:
			case <-c.done:
				return
			}
		}
		if err != nil {
			select {
			case c.chunks <- readResult{err: err}:
			case <-c.done:
			}
			return
		}
	}
}

// close closes the port; the reader goroutine ends with it.
func (c *atConn) close() error {
	select {
	case <-c.done:
		return nil
	default:
	}
	close(c.done)
	return c.port.Close()
}

// errPortGone wraps a failed read or write: the device was closed or
// unplugged, and only reopening it can help.
var errPortGone = errors.New("modem port failed")

// errWait ends a wait whose deadline passed.
var errWait = errors.New("deadline passed")

// fill waits for the next chunk until deadline.
func (c *atConn) fill(ctx context.Context, deadline time.Time) error {
	if c.err != nil {
		return c.err
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case r := <-c.chunks:
		return c.take(r)
	case <-t.C:
		return errWait
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		c.err = fmt.Errorf("%w: closed", errPortGone)
		return c.err
	}
}

func (c *atConn) take(r readResult) error {
	if r.err != nil {
		c.err = fmt.Errorf("%w: %w", errPortGone, r.err)
		return c.err
	}
	c.buf = append(c.buf, r.b...)
	return nil
}

// cutLine takes the next non-empty line out of the buffer. A line longer
// than maxLine is cut there, its rest read as the next line: a modem
// never sends one, and a garbled one fails to parse either way.
func (c *atConn) cutLine() (string, bool) {
	for {
		i := bytes.IndexAny(c.buf, "\r\n")
		if i < 0 && len(c.buf) < maxLine {
			return "", false
		}
		next := i + 1 // past the line end
		if i < 0 || i > maxLine {
			i, next = maxLine, maxLine
		}
		line := strings.TrimSpace(string(c.buf[:i]))
		c.buf = c.buf[next:]
		if len(c.buf) == 0 {
			c.buf = nil // let a large buffer go
		}
		if line != "" {
			return line, true
		}
	}
}

// drain handles what has arrived while no command was waiting for it:
// unsolicited result codes, or the rest of an answer given up on.
func (c *atConn) drain() {
	for more := true; more; {
		select {
		case r := <-c.chunks:
			more = c.take(r) == nil
		default:
			more = false
		}
	}
	for {
		l, ok := c.cutLine()
		if !ok {
			return
		}
		if !c.unsolicited(l, "") {
			c.log("modem: unexpected line, dropped", "line", truncate(l, 80))
		}
	}
}

// waitIdle reads what the modem sends of its own accord until deadline
// or until a +CMTI says a message was stored.
func (c *atConn) waitIdle(ctx context.Context, deadline time.Time) error {
	for !c.arrived {
		if err := c.fill(ctx, deadline); errors.Is(err, errWait) {
			return nil
		} else if err != nil {
			return err
		}
		c.drain()
	}
	return nil
}

// takeArrived reports and clears whether a +CMTI was seen.
func (c *atConn) takeArrived() bool {
	a := c.arrived
	c.arrived = false
	return a
}

// unsolicited reports whether l is an unsolicited result code rather
// than part of the answer to cmd, and notes a +CMTI.
func (c *atConn) unsolicited(l, cmd string) bool {
	if own := strings.TrimPrefix(commandName(cmd), "AT"); own != "" && strings.HasPrefix(l, own+":") {
		return false
	}
	for _, p := range unsolicitedPrefixes {
		if strings.HasPrefix(l, p) {
			if p == "+CMTI:" {
				c.arrived = true
			}
			return true
		}
	}
	return false
}

// write writes s, within the deadline when the port takes one.
func (c *atConn) write(s string, deadline time.Time) error {
	if d, ok := c.port.(interface{ SetWriteDeadline(time.Time) error }); ok {
		_ = d.SetWriteDeadline(deadline) // a tty without a poller takes none; the write then blocks as before
	}
	if _, err := io.WriteString(c.port, s); err != nil {
		return fmt.Errorf("%w: %w", errPortGone, err)
	}
	return nil
}

// exec sends an AT command and returns the lines of its answer, without
// the final result code, echo or unsolicited result codes. A refusal is
// a *ModemError; no answer within timeout wraps ErrNotAnswering.
func (c *atConn) exec(ctx context.Context, cmd string, timeout time.Duration) ([]string, error) {
	c.drain()
	deadline := time.Now().Add(timeout)
	if err := c.write(cmd+"\r", deadline); err != nil {
		return nil, err
	}
	return c.collect(ctx, cmd, deadline, timeout)
}

// collect reads the answer to cmd up to its final result code. Lines
// past maxInfoLines are read and dropped (c.cut says so): in text mode a
// sender's line breaks become lines, and a flood of them must not stop
// the listing of every other message.
func (c *atConn) collect(ctx context.Context, cmd string, deadline time.Time, timeout time.Duration) ([]string, error) {
	var info []string
	c.cut = false
	for {
		l, err := c.line(ctx, deadline)
		if errors.Is(err, errWait) {
			return nil, &notAnswering{command: commandName(cmd), after: timeout}
		}
		if err != nil {
			return nil, err
		}
		if l == cmd {
			continue // the echo, before ATE0 is in force
		}
		if done, err := finalResult(l, cmd); done {
			return info, err
		}
		if c.unsolicited(l, cmd) {
			continue
		}
		if len(info) == maxInfoLines {
			c.cut = true
			continue
		}
		info = append(info, l)
	}
}

// line returns the next non-empty line, waiting until deadline.
func (c *atConn) line(ctx context.Context, deadline time.Time) (string, error) {
	for {
		if l, ok := c.cutLine(); ok {
			return l, nil
		}
		if err := c.fill(ctx, deadline); err != nil {
			return "", err
		}
	}
}

// prompt waits for the "> " with which the modem asks for a message's
// body after AT+CMGS. The prompt ends no line, so it is looked for only
// here, at the start of what has not been read.
func (c *atConn) prompt(ctx context.Context, cmd string, deadline time.Time, timeout time.Duration) error {
	for {
		c.buf = bytes.TrimLeft(c.buf, "\r\n")
		if len(c.buf) > 0 && c.buf[0] == '>' {
			c.buf = bytes.TrimPrefix(c.buf[1:], []byte(" "))
			return nil
		}
		if l, ok := c.cutLine(); ok {
			if done, err := finalResult(l, cmd); done {
				if err == nil {
					err = &ModemError{Command: commandName(cmd), Result: l + " without a > prompt", Code: -1}
				}
				return err
			}
			if l != cmd && !c.unsolicited(l, cmd) {
				c.log("modem: unexpected line before the > prompt, dropped", "line", truncate(l, 80))
			}
			continue
		}
		if err := c.fill(ctx, deadline); errors.Is(err, errWait) {
			return &notAnswering{command: commandName(cmd), after: timeout}
		} else if err != nil {
			return err
		}
	}
}

// finalResult reports whether l ends an answer, and the refusal it is.
func finalResult(l, cmd string) (bool, error) {
	switch {
	case l == "OK":
		return true, nil
	case l == "ERROR", l == "COMMAND NOT SUPPORT", l == "NO CARRIER":
		return true, &ModemError{Command: commandName(cmd), Result: l, Code: -1}
	case strings.HasPrefix(l, "+CMS ERROR:"), strings.HasPrefix(l, "+CME ERROR:"):
		code, err := strconv.Atoi(strings.TrimSpace(l[len("+CMS ERROR:"):]))
		if err != nil {
			code = -1
		}
		return true, &ModemError{Command: commandName(cmd), Result: l, Code: code}
	}
	return false, nil
}

// commandName is a command without its arguments, for errors and logs
// (which so never carry a number or a message).
func commandName(cmd string) string {
	if i := strings.IndexAny(cmd, "=?"); i >= 0 {
		return cmd[:i]
	}
	return cmd
}

// truncate shortens s for a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
