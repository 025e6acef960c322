package sms_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigil-mesh/vigil/internal/testkit"
	"github.com/vigil-mesh/vigil/sync/sms"
	"github.com/vigil-mesh/vigil/sync/sms/modemsim"
)

// The modem driver end to end: sms.OpenModem on a modemsim pseudo-
// terminal, Run with a handler the test scripts, and the simulated
// modem's memory and sent messages checked after each step. Every wait
// is on an event (the modem's state changing), bounded by waitLimit.

const waitLimit = 30 * time.Second

// stamp is the network time the simulated modem gives delivered messages.
var stamp = time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3*3600))

const sender = "+254712345678"

// harness is one simulated modem, one driver on it, and what the
// handler was given.
type harness struct {
	t     *testing.T
	sim   *modemsim.Sim
	modem *sms.Modem
	logs  *logBook

	mu    sync.Mutex
	got   []sms.Message
	calls int
	reply func(call int, m sms.Message) ([]string, error) // nil: no reply, no error
}

// start opens a simulated modem with opts and runs a driver on it with
// short timings (tune changes them further).
func start(t *testing.T, opts modemsim.Options, tune func(*sms.Modem)) *harness {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	if opts.Now == nil {
		opts.Now = func() time.Time { return stamp }
	}
	sim, err := modemsim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	modem, err := sms.OpenModem(sim.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = modem.Close() })
	modem.Poll = 100 * time.Millisecond
	modem.RetryMax = 200 * time.Millisecond
	if tune != nil {
		tune(modem)
	}
	h := &harness{t: t, sim: sim, modem: modem, logs: newLogBook(t)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- modem.Run(ctx, h.handle, slog.New(h.logs)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return h
}

func (h *harness) handle(_ context.Context, m sms.Message) ([]string, error) {
	h.mu.Lock()
	h.calls++
	call, reply := h.calls, h.reply
	h.mu.Unlock()
	var (
		out []string
		err error
	)
	if reply != nil {
		out, err = reply(call, m)
	}
	if err == nil {
		h.mu.Lock()
		h.got = append(h.got, m)
		h.mu.Unlock()
	}
	return out, err
}

func (h *harness) setReply(f func(call int, m sms.Message) ([]string, error)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reply = f
}

// messages returns what the handler took.
func (h *harness) messages() []sms.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

func (h *harness) handlerCalls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

// until waits for cond, re-checked at every change of the simulated
// modem (the driver polls it every 100 ms, so handler calls and log
// lines are seen too).
func (h *harness) until(what string, cond func() bool) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := h.sim.Wait(ctx, cond); err != nil {
		h.t.Fatalf("waiting for %s: %v\nhandler got %+v\nmodem holds %+v\nmodem sent %+v",
			what, err, h.messages(), h.sim.Stored(), h.sim.Sent())
	}
}

// untilHandled waits until the handler has taken n messages and the
// modem's memory is empty.
func (h *harness) untilHandled(n int) []sms.Message {
	h.t.Helper()
	h.until("messages handled and deleted", func() bool {
		return len(h.messages()) == n && len(h.sim.Stored()) == 0
	})
	return h.messages()
}

func (h *harness) count(prefix string) int {
	n := 0
	for _, c := range h.sim.Commands() {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// logBook keeps the driver's log lines to wait on, and writes them to
// the test's log.
type logBook struct {
	mu    sync.Mutex
	lines []string // "LEVEL message"
	next  slog.Handler
}

func newLogBook(t *testing.T) *logBook {
	return &logBook{next: testkit.Logger(t, slog.LevelDebug).Handler()}
}

func (b *logBook) Enabled(context.Context, slog.Level) bool { return true }

func (b *logBook) Handle(ctx context.Context, r slog.Record) error {
	b.mu.Lock()
	b.lines = append(b.lines, r.Level.String()+" "+r.Message)
	b.mu.Unlock()
	return b.next.Handle(ctx, r)
}

func (b *logBook) WithAttrs([]slog.Attr) slog.Handler { return b }
func (b *logBook) WithGroup(string) slog.Handler      { return b }

// has reports whether a line starting with prefix ("WARN modem not
// answering") was logged.
func (b *logBook) has(prefix string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.ContainsFunc(b.lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
}

func TestModemShortMessage(t *testing.T) {
	h := start(t, modemsim.Options{SMSC: "+254722500029"}, nil)
	h.setReply(func(int, sms.Message) ([]string, error) { return []string{"Received 7F3A"}, nil })
	if err := h.sim.Deliver(sender, "Hello Vigil @ {stn-12}"); err != nil {
		t.Fatal(err)
	}
	got := h.untilHandled(1)
	want := sms.Message{From: sender, Text: "Hello Vigil @ {stn-12}", Received: stamp}
	if got[0].From != want.From || got[0].Text != want.Text || !got[0].Received.Equal(want.Received) {
		t.Errorf("got %+v, want %+v", got[0], want)
	}
	h.until("the reply sent", func() bool { return len(h.sim.Sent()) == 1 })
	if s := h.sim.Sent()[0]; s != (modemsim.Sent{To: sender, Text: "Received 7F3A", Parts: 1, Alphabet: sms.GSM7}) {
		t.Errorf("sent %+v", s)
	}
	if !h.logs.has("INFO modem ready") || h.count("AT+CMGF=0") == 0 {
		t.Error("the modem was not set up in PDU mode")
	}
}

func TestModemConcatenatedOutOfOrder(t *testing.T) {
	h := start(t, modemsim.Options{}, nil)
	text := strings.Repeat("Tally 4 of 9 for [stn-12] ~ 1234567890 ", 10) // 400 characters, escapes among them
	parts, err := sms.EncodeDeliver(sender, text, stamp, 0x5A)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}
	for _, i := range []int{2, 0} {
		if _, err := h.sim.DeliverPDU(parts[i].Hex); err != nil {
			t.Fatal(err)
		}
	}
	h.until("the incomplete message reported", func() bool {
		return h.logs.has("INFO part of a long message stored; waiting for the rest")
	})
	if n := len(h.messages()); n != 0 {
		t.Fatalf("%d messages handed on from two parts of three", n)
	}
	if n := len(h.sim.Stored()); n != 2 {
		t.Fatalf("the modem holds %d parts, want the 2 stored", n)
	}
	if _, err := h.sim.DeliverPDU(parts[1].Hex); err != nil {
		t.Fatal(err)
	}
	got := h.untilHandled(1)
	if got[0].Text != text || got[0].From != sender {
		t.Errorf("got %q from %q", got[0].Text, got[0].From)
	}
	if n := h.count("AT+CMGD="); n != 3 {
		t.Errorf("%d parts deleted, want 3", n)
	}
}

func TestModemUCS2(t *testing.T) {
	h := start(t, modemsim.Options{}, nil)
	text := strings.Repeat("Очередь 👋🏾 ", 8) // over 70 UTF-16 units: two parts, surrogate pairs among them
	h.setReply(func(int, sms.Message) ([]string, error) { return []string{"Принято ✓"}, nil })
	if err := h.sim.Deliver("+79161234567", text); err != nil {
		t.Fatal(err)
	}
	if got := h.untilHandled(1); got[0].Text != text {
		t.Errorf("got %q, want %q", got[0].Text, text)
	}
	h.until("the reply sent", func() bool { return len(h.sim.Sent()) == 1 })
	if s := h.sim.Sent()[0]; s != (modemsim.Sent{To: "+79161234567", Text: "Принято ✓", Parts: 1, Alphabet: sms.UCS2}) {
		t.Errorf("sent %+v", s)
	}
}

func TestModemLongReplyConcatenated(t *testing.T) {
	h := start(t, modemsim.Options{}, nil)
	long := strings.Repeat("receipt ", 40) // 320 GSM characters: three parts
	h.setReply(func(int, sms.Message) ([]string, error) { return []string{long, "second reply"}, nil })
	if err := h.sim.Deliver(sender, "report"); err != nil {
		t.Fatal(err)
	}
	h.until("both replies sent", func() bool { return len(h.sim.Sent()) == 2 })
	sent := h.sim.Sent()
	if sent[0] != (modemsim.Sent{To: sender, Text: long, Parts: 3, Alphabet: sms.GSM7}) {
		t.Errorf("first reply %+v", sent[0])
	}
	if sent[1].Text != "second reply" || sent[1].Parts != 1 {
		t.Errorf("second reply %+v", sent[1])
	}
	if n := h.count("AT+CMGS="); n != 4 {
		t.Errorf("%d AT+CMGS, want 4", n)
	}
}

// Send queues a text to another number than the sender in hand, from
// the handler or from any goroutine; it goes with the replies, after
// them, and a recipient that is not a number is refused at once.
func TestModemSend(t *testing.T) {
	h := start(t, modemsim.Options{}, nil)
	const other = "+254733000111"
	h.setReply(func(int, sms.Message) ([]string, error) {
		if err := h.modem.Send(other, "kept text answered"); err != nil {
			t.Errorf("Send from the handler: %v", err)
		}
		return []string{"answer"}, nil
	})
	if err := h.sim.Deliver(sender, "report"); err != nil {
		t.Fatal(err)
	}
	h.until("the reply and the sent text", func() bool { return len(h.sim.Sent()) == 2 })
	sent := h.sim.Sent()
	if sent[0].To != sender || sent[0].Text != "answer" || sent[1].To != other || sent[1].Text != "kept text answered" {
		t.Fatalf("sent %+v", sent)
	}
	if err := h.modem.Send(other, "from elsewhere"); err != nil {
		t.Fatal(err)
	}
	h.until("the text sent from another goroutine", func() bool { return len(h.sim.Sent()) == 3 })
	if err := h.modem.Send("Safaricom", "x"); err == nil {
		t.Error("Send to a sender name: no error")
	}
}

func TestModemTextMode(t *testing.T) {
	h := start(t, modemsim.Options{TextOnly: true}, nil)
	h.setReply(func(_ int, m sms.Message) ([]string, error) { return []string{"ok " + m.From}, nil })
	long := strings.Repeat("0123456789", 20) // 200 characters: two parts, the first full
	if err := h.sim.Deliver(sender, long); err != nil {
		t.Fatal(err)
	}
	if err := h.sim.Deliver("+255700000001", "short one, ünïcödé ✓"); err != nil {
		t.Fatal(err)
	}
	got := h.untilHandled(2)
	slices.SortFunc(got, func(a, b sms.Message) int { return strings.Compare(a.From, b.From) })
	if got[0].From != sender || got[0].Text != long {
		t.Errorf("the long message: %q from %q", got[0].Text, got[0].From)
	}
	if got[1].From != "+255700000001" || got[1].Text != "short one, ünïcödé ✓" || !got[1].Received.Equal(stamp) {
		t.Errorf("the short message: %+v", got[1])
	}
	h.until("both replies sent", func() bool { return len(h.sim.Sent()) == 2 })
	for _, s := range h.sim.Sent() {
		if s.Text != "ok "+s.To {
			t.Errorf("sent %+v", s)
		}
	}
	if !h.logs.has("WARN modem refused PDU mode") {
		t.Error("the fallback to text mode was not logged")
	}
}

func TestModemHandlerErrorKeepsMessage(t *testing.T) {
	h := start(t, modemsim.Options{}, nil)
	var storedAtRetry int
	h.setReply(func(call int, _ sms.Message) ([]string, error) {
		if call == 1 {
			return nil, errors.New("store closed")
		}
		storedAtRetry = len(h.sim.Stored())
		return nil, nil
	})
	if err := h.sim.Deliver(sender, "check-in"); err != nil {
		t.Fatal(err)
	}
	h.untilHandled(1)
	if calls := h.handlerCalls(); calls != 2 {
		t.Errorf("handler called %d times, want 2", calls)
	}
	if storedAtRetry != 1 {
		t.Errorf("the modem held %d messages when the handler was asked again, want 1", storedAtRetry)
	}
	if n := h.count("AT+CMGD="); n != 1 {
		t.Errorf("%d deletions, want 1 (after the handler took it)", n)
	}
	if !h.logs.has("WARN handler could not take a message") {
		t.Error("the handler's failure was not logged")
	}
}

func TestModemRefusals(t *testing.T) {
	h := start(t, modemsim.Options{}, nil)
	h.sim.Fail("AT+CMGL", 1, 500)
	h.sim.Fail("AT+CMGD", 1, 321)
	h.sim.Fail("AT+CMGS", 2, 331)
	h.setReply(func(int, sms.Message) ([]string, error) { return []string{"receipt"}, nil })
	if err := h.sim.Deliver(sender, "alert"); err != nil {
		t.Fatal(err)
	}
	h.untilHandled(1)
	h.until("the reply sent at the third try", func() bool { return len(h.sim.Sent()) == 1 })
	if calls := h.handlerCalls(); calls != 1 {
		t.Errorf("handler called %d times, want once: a refused deletion must not hand a message over again", calls)
	}
	for _, line := range []string{
		"WARN modem refused to list its messages",
		"WARN modem refused to delete a handled message",
		"WARN reply not sent; trying again at the next poll",
	} {
		if !h.logs.has(line) {
			t.Errorf("not logged: %s", line)
		}
	}
}

func TestModemStallAndRecovery(t *testing.T) {
	h := start(t, modemsim.Options{}, func(m *sms.Modem) { m.CommandTimeout = 500 * time.Millisecond })
	h.setReply(func(_ int, m sms.Message) ([]string, error) { return []string{"got " + m.Text}, nil })
	if err := h.sim.Deliver(sender, "before"); err != nil {
		t.Fatal(err)
	}
	h.untilHandled(1)
	h.until("the first reply sent", func() bool { return len(h.sim.Sent()) == 1 })

	h.sim.Stall()
	h.until("the stall reported", func() bool { return h.logs.has("WARN modem not answering") })
	if err := h.sim.Deliver(sender, "during"); err != nil {
		t.Fatal(err)
	}
	h.until("retries while stalled", func() bool { return h.sim.Dropped() > 0 })
	h.sim.Release()

	got := h.untilHandled(2)
	if got[1].Text != "during" {
		t.Errorf("after the stall: %q", got[1].Text)
	}
	h.until("the second reply sent", func() bool { return len(h.sim.Sent()) == 2 })
	if !h.logs.has("INFO modem answering again") {
		t.Error("the recovery was not logged")
	}
}

func TestModemUndecodableDeleted(t *testing.T) {
	h := start(t, modemsim.Options{}, nil)
	if _, err := h.sim.DeliverPDU("00040C9152742143658700084250102103540A03004100"); err != nil { // odd UCS-2
		t.Fatal(err)
	}
	if err := h.sim.Deliver(sender, "fine"); err != nil {
		t.Fatal(err)
	}
	if got := h.untilHandled(1); got[0].Text != "fine" {
		t.Errorf("got %q", got[0].Text)
	}
	if !h.logs.has("ERROR modem holds a message that is not a text or cannot be decoded") {
		t.Error("the undecodable message was not logged")
	}
}

func TestModemMemoryFull(t *testing.T) {
	h := start(t, modemsim.Options{Capacity: 2}, nil)
	parts, err := sms.EncodeDeliver(sender, strings.Repeat("x", 400), stamp, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts[:2] {
		if _, err := h.sim.DeliverPDU(p.Hex); err != nil {
			t.Fatal(err)
		}
	}
	h.until("the full memory reported", func() bool { return h.logs.has("WARN modem's message memory is full") })
	if n := len(h.sim.Stored()); n != 2 {
		t.Errorf("the modem holds %d parts, want both kept", n)
	}
}

func TestModemClosedPort(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	defer goleak.VerifyNone(t, ignore)
	sim, err := modemsim.New(modemsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	m, err := sms.OpenModem(sim.Path())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(context.Background(), func(context.Context, sms.Message) ([]string, error) { return nil, nil }, nil)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := sim.Wait(ctx, func() bool { return slices.Contains(sim.Commands(), "AT+CMGL=4") }); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, sms.ErrModemClosed) {
		t.Errorf("Run after Close: %v, want ErrModemClosed", err)
	}
}
