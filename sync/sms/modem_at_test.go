package sms

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// pipePort is one end of a serial line made of two pipes.
type pipePort struct {
	r *io.PipeReader
	w *io.PipeWriter
}

func (p pipePort) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p pipePort) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p pipePort) Close() error {
	_ = p.r.Close()
	return p.w.Close()
}

// scripted returns an engine talking to a fake modem that answers each
// command (a line up to CR, or a body up to Ctrl-Z) with script's answer.
func scripted(t *testing.T, script func(cmd string) string) *atConn {
	t.Helper()
	toModem, fromDriver := io.Pipe()
	toDriver, fromModem := io.Pipe()
	c := newATConn(pipePort{r: toDriver, w: fromDriver})
	done := make(chan struct{})
	go func() {
		defer close(done)
		in := bufio.NewReader(toModem)
		var cmd []byte
		for {
			b, err := in.ReadByte()
			if err != nil {
				return
			}
			if b != '\r' && b != 0x1A {
				cmd = append(cmd, b)
				continue
			}
			if _, err := io.WriteString(fromModem, script(string(cmd))); err != nil {
				return
			}
			cmd = cmd[:0]
		}
	}()
	t.Cleanup(func() {
		_ = c.close()
		_ = toModem.Close()
		_ = fromModem.Close()
		<-done
	})
	return c
}

func TestATExec(t *testing.T) {
	c := scripted(t, func(cmd string) string {
		switch cmd {
		case "AT+CMGL=4":
			// The echo, a notice in the middle, two lines, OK.
			return "AT+CMGL=4\r\r\n+CMTI: \"SM\",3\r\n+CMGL: 1,0,,5\r\nABCD\r\n\r\nOK\r\n"
		case "AT+CMGD=9":
			return "\r\n+CMS ERROR: 321\r\n"
		case "AT+CSCS=\"UCS2\"":
			return "\r\nERROR\r\n"
		case "AT+CPIN?":
			return "\r\n+CME ERROR: SIM not inserted\r\n"
		}
		return "" // no answer at all
	})
	ctx := context.Background()
	lines, err := c.exec(ctx, "AT+CMGL=4", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(lines, "|") != "+CMGL: 1,0,,5|ABCD" {
		t.Errorf("lines %q", lines)
	}
	if !c.takeArrived() {
		t.Error("the +CMTI between the lines was not noticed")
	}

	for _, tc := range []struct {
		cmd, want string
		code      int
	}{
		{"AT+CMGD=9", "modem refused AT+CMGD: +CMS ERROR: 321 (no message at that index)", 321},
		{`AT+CSCS="UCS2"`, "modem refused AT+CSCS: ERROR", -1},
		{"AT+CPIN?", "modem refused AT+CPIN: +CME ERROR: SIM not inserted", -1},
	} {
		_, err = c.exec(ctx, tc.cmd, time.Second)
		var me *ModemError
		if !errors.As(err, &me) || me.Code != tc.code || err.Error() != tc.want {
			t.Errorf("%s: %v, want %q", tc.cmd, err, tc.want)
		}
	}

	_, err = c.exec(ctx, "AT+CMGL=4 ", 50*time.Millisecond) // answered by nothing
	if !errors.Is(err, ErrNotAnswering) || err.Error() != "modem not answering to AT+CMGL after 50ms" {
		t.Errorf("no answer: %v", err)
	}
}

func TestATPrompt(t *testing.T) {
	c := scripted(t, func(cmd string) string {
		switch {
		case cmd == "AT+CMGS=5":
			return "\r\n+CMTI: \"SM\",1\r\n> "
		case cmd == "0011AA":
			return "\r\n+CMGS: 7\r\n\r\nOK\r\n"
		case cmd == "AT+CMGS=6":
			return "\r\n+CMS ERROR: 331\r\n"
		}
		return ""
	})
	m := &Modem{}
	s := m.settings()
	if err := m.cmgs(context.Background(), c, "AT+CMGS=5", "0011AA", s); err != nil {
		t.Fatal(err)
	}
	if !c.takeArrived() {
		t.Error("the +CMTI before the prompt was not noticed")
	}
	err := m.cmgs(context.Background(), c, "AT+CMGS=6", "00", s)
	var me *ModemError
	if !errors.As(err, &me) || me.Code != 331 {
		t.Errorf("refused prompt: %v", err)
	}
}

func TestATPortGone(t *testing.T) {
	toDriver, fromModem := io.Pipe()
	toModem, fromDriver := io.Pipe()
	c := newATConn(pipePort{r: toDriver, w: fromDriver})
	defer c.close()
	unplugged := errors.New("unplugged")
	_ = fromModem.CloseWithError(unplugged)
	_ = toModem.CloseWithError(unplugged)
	_, err := c.exec(context.Background(), "AT", time.Second)
	if !errors.Is(err, errPortGone) {
		t.Errorf("got %v, want the port gone", err)
	}
}

func TestATLongAnswerCut(t *testing.T) {
	c := scripted(t, func(cmd string) string {
		if cmd != "AT+CMGL=4" {
			return "\r\nOK\r\n"
		}
		return "\r\n" + strings.Repeat("+CMGL: 1,0,,5\r\n", maxInfoLines+3) + "\r\nOK\r\n"
	})
	lines, err := c.exec(context.Background(), "AT+CMGL=4", 10*time.Second)
	if err != nil || len(lines) != maxInfoLines || !c.cut {
		t.Errorf("%d lines, cut %v, err %v", len(lines), c.cut, err)
	}
	if _, err := c.exec(context.Background(), "AT", 10*time.Second); err != nil || c.cut {
		t.Errorf("the next answer: cut %v, err %v", c.cut, err)
	}
}

func TestCutLineBounds(t *testing.T) {
	c := &atConn{buf: []byte(strings.Repeat("A", maxLine+10) + "\r\nOK\r\n")}
	l, ok := c.cutLine()
	if !ok || len(l) != maxLine {
		t.Fatalf("an overlong line gave %d octets", len(l))
	}
	if l, _ := c.cutLine(); l != strings.Repeat("A", 10) {
		t.Errorf("its rest: %q", l)
	}
	if l, _ := c.cutLine(); l != "OK" {
		t.Errorf("then %q", l)
	}
}

func TestSplitFields(t *testing.T) {
	got := splitFields(` 1,"REC UNREAD","+254712345678","Doe, John","26/01/02,03:04:05+12",145,5`)
	want := []string{"1", "REC UNREAD", "+254712345678", "Doe, John", "26/01/02,03:04:05+12", "145", "5"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q", got)
	}
	if u, total, ok := parseCPMS([]string{`+CPMS: "SM",30,30,"SM",30,30,"SM",30,30`}); !ok || u != 30 || total != 30 {
		t.Errorf("CPMS %d/%d %v", u, total, ok)
	}
}
