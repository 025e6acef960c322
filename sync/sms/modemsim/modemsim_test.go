package modemsim_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/internal/testkit"
	"github.com/vigil-mesh/vigil/sync/sms"
	"github.com/vigil-mesh/vigil/sync/sms/modemsim"
)

func TestMain(m *testing.M) { testkit.VerifyNoLeaks(m) }

// line is a raw session on the simulated modem's terminal, as a driver
// (or minicom) has it.
type line struct {
	t *testing.T
	f *os.File
}

func open(t *testing.T, opts modemsim.Options) (*modemsim.Sim, *line) {
	t.Helper()
	sim, err := modemsim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(sim.Path(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = f.Close()
		_ = sim.Close()
	})
	return sim, &line{t: t, f: f}
}

// send writes s and reads until the answer ends (OK, an error, or the
// "> " prompt).
func (l *line) send(s string) string {
	l.t.Helper()
	if _, err := l.f.WriteString(s); err != nil {
		l.t.Fatal(err)
	}
	if err := l.f.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		l.t.Fatal(err)
	}
	var got strings.Builder
	b := make([]byte, 256)
	for {
		n, err := l.f.Read(b)
		got.Write(b[:n])
		out := got.String()
		if strings.HasSuffix(out, "OK\r\n") || strings.HasSuffix(out, "ERROR\r\n") ||
			strings.Contains(out, "ERROR: ") && strings.HasSuffix(out, "\r\n") || strings.HasSuffix(out, "> ") {
			return out
		}
		if err != nil {
			l.t.Fatalf("after %q: read %q: %v", s, out, err)
		}
	}
}

func TestSession(t *testing.T) {
	sim, l := open(t, modemsim.Options{SMSC: "+254722500029"})
	if got := l.send("AT\r"); got != "AT\r\r\nOK\r\n" {
		t.Errorf("AT with echo: %q", got)
	}
	if got := l.send("ATE0\r"); got != "ATE0\r\r\nOK\r\n" {
		t.Errorf("ATE0: %q", got)
	}
	if got := l.send("AT+CMGF=0\r"); got != "\r\nOK\r\n" {
		t.Errorf("PDU mode: %q", got)
	}
	l.send("AT+CNMI=2,1,0,0,0\r")
	if err := sim.Deliver("+254712345678", "hellohello"); err != nil {
		t.Fatal(err)
	}
	got := l.send("AT+CMGL=4\r")
	const pdu = "07915274220500920"
	if !strings.HasPrefix(got, "\r\n+CMTI: \"SM\",1\r\n") || !strings.Contains(got, "+CMGL: 1,0,,") ||
		!strings.Contains(got, "\r\n"+pdu) {
		t.Errorf("listing: %q", got)
	}
	if got := l.send("AT+CMGL=4\r"); !strings.Contains(got, "+CMGL: 1,1,,") {
		t.Errorf("second listing, read: %q", got)
	}
	if got := l.send("AT+CMGD=1\r"); got != "\r\nOK\r\n" || len(sim.Stored()) != 0 {
		t.Errorf("delete: %q, %d left", got, len(sim.Stored()))
	}
	if got := l.send("AT+CMGD=1\r"); got != "\r\n+CMS ERROR: 321\r\n" {
		t.Errorf("delete again: %q", got)
	}

	parts, err := sms.EncodeSubmit("+254712345678", strings.Repeat("long reply ", 20), 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range parts {
		if got := l.send(fmt.Sprintf("AT+CMGS=%d\r", p.Length)); got != "\r\n> " {
			t.Fatalf("prompt: %q", got)
		}
		if got := l.send(p.Hex + "\x1a"); got != fmt.Sprintf("\r\n+CMGS: %d\r\n\r\nOK\r\n", i+1) {
			t.Errorf("part %d: %q", i, got)
		}
	}
	want := []modemsim.Sent{{To: "+254712345678", Text: strings.Repeat("long reply ", 20), Parts: 2, Alphabet: sms.GSM7}}
	if got := sim.Sent(); len(got) != 1 || got[0] != want[0] {
		t.Errorf("sent %+v", got)
	}
	l.send("AT+CMGS=5\r")
	if got := l.send("00\x1a"); got != "\r\n+CMS ERROR: 304\r\n" {
		t.Errorf("a PDU of the wrong length: %q", got)
	}
	l.send("AT+CMGS=5\r")
	if got := l.send("\x1b"); got != "\r\nOK\r\n" {
		t.Errorf("cancelled with Escape: %q", got)
	}
}

func TestTextOnly(t *testing.T) {
	sim, l := open(t, modemsim.Options{TextOnly: true, Now: func() time.Time {
		return time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", -3*3600))
	}})
	l.send("ATE0\r")
	if got := l.send("AT+CMGF=0\r"); got != "\r\nERROR\r\n" {
		t.Errorf("PDU mode refused: %q", got)
	}
	l.send("AT+CMGF=1\r")
	if got := l.send("AT+CSCS=\"GSM\"\r"); got != "\r\nERROR\r\n" {
		t.Errorf("GSM character set: %q", got)
	}
	l.send("AT+CSCS=\"UCS2\"\r")
	if err := sim.Deliver("Bank", "ok ✓"); err != nil {
		t.Fatal(err)
	}
	got := l.send("AT+CMGL=\"ALL\"\r")
	// Every string in UCS2, as the character set asks: REC UNREAD, Bank, the text.
	want := "\r\n+CMGL: 1,\"00520045004300200055004E0052004500410044\",\"00420061006E006B\",,\"26/01/02,03:04:05-12\",208,4\r\n" +
		"\r\n006F006B00202713\r\n\r\nOK\r\n"
	if got != want {
		t.Errorf("text listing:\n%q\nwant\n%q", got, want)
	}
	l.send("AT+CSMP=17,167,0,8\r")
	l.send("AT+CMGS=\"002B0031\"\r")
	l.send("00480069\x1a")
	if s := sim.Sent(); len(s) != 1 || s[0] != (modemsim.Sent{To: "+1", Text: "Hi", Parts: 1, Alphabet: sms.UCS2}) {
		t.Errorf("sent %+v", s)
	}
}

func TestFaults(t *testing.T) {
	sim, l := open(t, modemsim.Options{})
	l.send("ATE0\r")
	sim.Fail("AT+CMGL", 2, 500)
	for range 2 {
		if got := l.send("AT+CMGL=4\r"); got != "\r\n+CMS ERROR: 500\r\n" {
			t.Errorf("failing: %q", got)
		}
	}
	if got := l.send("AT+CMGL=4\r"); got != "\r\nOK\r\n" {
		t.Errorf("after the failures: %q", got)
	}

	sim.Stall()
	if _, err := l.f.WriteString("AT\r"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sim.Wait(ctx, func() bool { return sim.Dropped() == 3 }); err != nil {
		t.Fatal(err)
	}
	sim.Release()
	// The stalled AT was never answered: the next answer is the CPMS one.
	if got := l.send("AT+CPMS?\r"); !strings.HasPrefix(got, "\r\n+CPMS: \"SM\",0,30") {
		t.Errorf("after the stall: %q", got)
	}
	if n := len(sim.Commands()); n != 5 {
		t.Errorf("%d commands answered, want 5: %q", n, sim.Commands())
	}
}
