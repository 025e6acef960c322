package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/sync/sms"
	"github.com/vigil-mesh/vigil/sync/sms/modemsim"
)

// `vigil sms gateway` end to end: the real binary as a subprocess on a
// coordinator's home held by a node, fed by a simulated GSM modem
// (sync/sms/modemsim) or by webhooks signed as the SMS-gateway app signs
// them. Every wait is on an event (the modem's state, a line on the
// gateway's stderr), bounded by gatewayWait.

const gatewayWait = 90 * time.Second

// The observers' phone numbers.
const (
	heronPhone = "+254712345678"
	egretPhone = "+254733000111"
)

// watched is an output that can be waited on.
type watched struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newWatched() *watched { return &watched{changed: make(chan struct{})} }

func (w *watched) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.changed)
	w.changed = make(chan struct{})
	return w.b.Write(p)
}

func (w *watched) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// gatewayProc is a running `vigil sms gateway`.
type gatewayProc struct {
	cmd    *exec.Cmd
	out    *watched // stdout and stderr
	exited chan struct{}
	code   int
}

// startSMSGateway runs `vigil sms gateway ARGS` on home; it is
// interrupted, then killed, when the test ends, if still running.
func startSMSGateway(t *testing.T, home string, args ...string) *gatewayProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g := &gatewayProc{out: newWatched(), exited: make(chan struct{})}
	g.cmd = vigilCmd(ctx, t, home, nil, append([]string{"sms", "gateway"}, args...)...)
	g.cmd.Stdout, g.cmd.Stderr = g.out, g.out
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := g.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee) && ee.Exited():
			g.code = ee.ExitCode()
		default:
			g.code = -1
		}
		close(g.exited)
	}()
	t.Cleanup(func() {
		_ = g.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-g.exited:
		case <-time.After(15 * time.Second):
			cancel()
			<-g.exited
		}
		cancel()
		if t.Failed() {
			t.Logf("the gateway's output:\n%s", g.out.String())
		}
	})
	return g
}

// waitLog waits until the gateway's output matches re, and returns the
// first match's groups.
func (g *gatewayProc) waitLog(t *testing.T, what string, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.After(gatewayWait)
	for {
		g.out.mu.Lock()
		ch := g.out.changed
		m := re.FindStringSubmatch(g.out.b.String())
		g.out.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-ch:
		case <-g.exited:
			if m := re.FindStringSubmatch(g.out.String()); m != nil {
				return m
			}
			t.Fatalf("waiting for %s: the gateway exited %d:\n%s", what, g.code, g.out.String())
		case <-deadline:
			t.Fatalf("waiting for %s: nothing after %s:\n%s", what, gatewayWait, g.out.String())
		}
	}
}

// interrupt stops the gateway with SIGINT and returns its exit code.
func (g *gatewayProc) interrupt(t *testing.T) int {
	t.Helper()
	if err := g.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.exited:
		return g.code
	case <-time.After(gatewayWait):
		t.Fatalf("the gateway did not stop on SIGINT:\n%s", g.out.String())
	}
	return -1
}

// waitModem waits until cond holds on the simulated modem.
func waitModem(t *testing.T, sim *modemsim.Sim, g *gatewayProc, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), gatewayWait)
	defer cancel()
	if err := sim.Wait(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v\nmodem holds %+v\nmodem sent %+v\nthe gateway's output:\n%s",
			what, err, sim.Stored(), sim.Sent(), g.out.String())
	}
}

// sentTo is what the modem sent to one number.
func sentTo(sim *modemsim.Sim, to string) []modemsim.Sent {
	var out []modemsim.Sent
	for _, s := range sim.Sent() {
		if s.To == to {
			out = append(out, s)
		}
	}
	return out
}

// A coordinator's gateway on a GSM modem: the observer's long report
// arrives as concatenated parts and is stored; the receipt goes back to
// the observer's number and makes the report "held by a coordinator"
// there; the parts leave the modem. A modem that stops answering is
// reported, and a text that arrived meanwhile is stored once it answers
// again. A text from an author not known yet is kept, and once their
// member record arrives it is stored and answered to its own sender.
// SIGINT stops the gateway, exit 0. An observer's device refuses to run
// one, before it touches the modem.
func TestSMSGatewayModem(t *testing.T) {
	t.Parallel()
	coord, obs, _ := smsMission(t)
	late, _, _ := member(t, "sms-gw-late", invite(t, coord, "--role", "observer", "--label", "Egret"))
	carry(t, coord, late)

	id := mustID(t, obs, nil, "report", "add", "--category", "polling.closure", "--severity", "3",
		"--title", "Closed at noon", "--station", "PS-0042", "--description",
		"The presiding officer closed the station at noon, saying the ballot papers had run out; about two hundred voters were still queueing outside.")
	text := decodeJSON[smsTextOut](t, mustRun(t, obs, nil, "sms", "encode", "--json", id)).Text
	if parts, err := sms.EncodeDeliver(heronPhone, text, time.Now(), 0); err != nil || len(parts) < 2 {
		t.Fatalf("the report's text is %d SMS (%v), want a concatenated one", len(parts), err)
	}

	sim, err := modemsim.New(modemsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })

	out, stderr, code := runVigil(t, obs, nil, "sms", "gateway", "--modem", sim.Path())
	wantFailure(t, "a gateway on an observer's device", out, stderr, code, exitError, "observer", "coordinator")
	if n := len(sim.Commands()); n != 0 {
		t.Fatalf("the observer's gateway sent %d commands to the modem", n)
	}

	startNode(t, coord)
	gw := startSMSGateway(t, coord, "--modem", sim.Path(), "--retry", "1s")
	if err := sim.Deliver(heronPhone, text); err != nil {
		t.Fatal(err)
	}
	waitModem(t, sim, gw, "the report taken and answered", func() bool {
		return len(sim.Stored()) == 0 && len(sim.Sent()) == 1
	})
	receipt := sim.Sent()[0]
	if receipt.To != heronPhone || receipt.Text == "" {
		t.Fatalf("the modem sent %+v, want a receipt to %s", receipt, heronPhone)
	}
	if r := showReport(t, coord, id); str(r.Title) != "Closed at noon" {
		t.Fatalf("the coordinator's copy: %+v", r)
	}
	gw.waitLog(t, "the stored text logged", regexp.MustCompile(`text stored"? from=…5678 kind=report id=`+regexp.QuoteMeta(id[:len("bafkrei")+12])))
	if strings.Contains(gw.out.String(), text[:40]) {
		t.Fatalf("the gateway logged the text:\n%s", gw.out.String())
	}
	if rec := mustRun(t, obs, nil, "sms", "import", writeTexts(t, receipt.Text)); !strings.HasPrefix(rec, "text 1: stored receipt ") {
		t.Fatalf("the observer imports the receipt: %s", rec)
	}
	if r := showReport(t, obs, id); r.Delivery == nil || *r.Delivery != "held by a coordinator" {
		t.Fatalf("the observer's report after the receipt: delivery %s", str(r.Delivery))
	}

	// The modem stops answering; a text arrives meanwhile; nothing is lost.
	second := mustID(t, obs, nil, "report", "add", "--category", "polling.closure", "--severity", "2",
		"--title", "Reopened at two", "--station", "PS-0042")
	secondText := decodeJSON[smsTextOut](t, mustRun(t, obs, nil, "sms", "encode", "--json", second)).Text
	sim.Stall()
	gw.waitLog(t, "the stall reported", regexp.MustCompile(`modem not answering`))
	sim.Release()
	if err := sim.Deliver(heronPhone, secondText); err != nil {
		t.Fatal(err)
	}
	waitModem(t, sim, gw, "the second report taken and answered", func() bool {
		return len(sim.Stored()) == 0 && len(sentTo(sim, heronPhone)) == 2
	})
	if r := showReport(t, coord, second); str(r.Title) != "Reopened at two" {
		t.Fatalf("the text after the stall: %+v", r)
	}

	// A text from Egret, whose member record has not arrived: kept, then
	// taken by the gateway's retry once it has (a duplicate when the
	// members' bundle carried the check-in too), and answered to Egret.
	checkin := mustID(t, late, nil, "checkin", "--status", "arrived", "--station", "PS-0042")
	lateText := decodeJSON[smsTextOut](t, mustRun(t, late, nil, "sms", "encode", "--json", checkin)).Text
	if err := sim.Deliver(egretPhone, lateText); err != nil {
		t.Fatal(err)
	}
	gw.waitLog(t, "the unknown author's text kept", regexp.MustCompile(`text pending"? from=…0111`))
	if n := len(sentTo(sim, egretPhone)); n != 0 {
		t.Fatalf("%d replies to a text kept pending", n)
	}
	carryMembers(t, late, coord)
	waitModem(t, sim, gw, "the kept text answered to its own sender", func() bool {
		return len(sentTo(sim, egretPhone)) == 1
	})
	gw.waitLog(t, "the kept text logged", regexp.MustCompile(`text (stored|duplicate)"? from=…0111 kind=checkin id=`+regexp.QuoteMeta(checkin[:len("bafkrei")+12])+` kept=true`))

	if code := gw.interrupt(t); code != 0 {
		t.Fatalf("the gateway exited %d on SIGINT:\n%s", code, gw.out.String())
	}
}

// sampleRequest reads sync/sms's captured webhook of the SMS-gateway
// app: its headers and its body decoded.
func sampleRequest(t *testing.T) (http.Header, map[string]any) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "sync", "sms", "testdata", "capcom6-sms-received.http"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, err := http.ReadRequest(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return req.Header, body
}

// signedWebhook is the sample request with text as its message, from
// sender, as event id, signed with key at ts as the app signs.
func signedWebhook(t *testing.T, url, key, id, sender, text string, ts time.Time) *http.Request {
	t.Helper()
	hdr, body := sampleRequest(t)
	body["id"] = id
	p := body["payload"].(map[string]any)
	p["message"], p["sender"], p["phoneNumber"] = text, sender, sender
	p["receivedAt"] = ts.Format("2006-01-02T15:04:05.000-07:00")
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"User-Agent", "Accept", "Content-Type"} {
		req.Header.Set(h, hdr.Get(h))
	}
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(raw)
	mac.Write([]byte(stamp))
	req.Header.Set("X-Timestamp", stamp)
	req.Header.Set("X-Signature", hex.EncodeToString(mac.Sum(nil)))
	return req
}

// post sends a request again (a copy of it) and returns the status.
func post(t *testing.T, req *http.Request) int {
	t.Helper()
	again := req.Clone(context.Background())
	body, err := req.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	again.Body = body
	resp, err := http.DefaultClient.Do(again)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// phoneSend is one request the fake phone API got.
type phoneSend struct {
	TextMessage struct {
		Text string `json:"text"`
	} `json:"textMessage"`
	PhoneNumbers []string `json:"phoneNumbers"`
}

// A coordinator's gateway on the LAN: the observer's text posted as the
// app posts it, signed with the key in --secret-file, is stored and its
// receipt handed to the phone's API for the sender's number. The same
// request again (a replay) and the app's retry of the same event store
// nothing more; a bad signature is refused 401.
func TestSMSGatewayListen(t *testing.T) {
	t.Parallel()
	coord, obs, _ := smsMission(t)
	id := mustID(t, obs, nil, "report", "add", "--category", "polling.closure", "--severity", "3",
		"--title", "Closed at noon", "--station", "PS-0042")
	text := decodeJSON[smsTextOut](t, mustRun(t, obs, nil, "sms", "encode", "--json", id)).Text

	const key = "vigil-e2e-signing-key-2027"
	dir := t.TempDir()
	secret, password := filepath.Join(dir, "secret"), filepath.Join(dir, "phone-password")
	for path, v := range map[string]string{secret: key + "\n", password: "phone-pass\n"} {
		if err := os.WriteFile(path, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sent := make(chan phoneSend, 8)
	phone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		var s phoneSend
		if !ok || u != "sms" || p != "phone-pass" || r.URL.Path != "/message" || json.NewDecoder(r.Body).Decode(&s) != nil {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		sent <- s
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(phone.Close)

	startNode(t, coord)
	gw := startSMSGateway(t, coord, "--listen", "127.0.0.1:0", "--secret-file", secret,
		"--phone-url", phone.URL, "--phone-user", "sms", "--phone-password-file", password)
	url := gw.waitLog(t, "the listening address", regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/sms)`))[1]

	req := signedWebhook(t, url, key, "Ey6ECgOkVVFjz3CL48B8C", heronPhone, text, time.Now())
	if code := post(t, req); code != http.StatusOK {
		t.Fatalf("the signed webhook: %d\n%s", code, gw.out.String())
	}
	if r := showReport(t, coord, id); str(r.Title) != "Closed at noon" {
		t.Fatalf("the coordinator's copy: %+v", r)
	}
	select {
	case s := <-sent:
		if len(s.PhoneNumbers) != 1 || s.PhoneNumbers[0] != heronPhone || s.TextMessage.Text == "" {
			t.Fatalf("the phone was asked to send %+v", s)
		}
		if rec := mustRun(t, obs, nil, "sms", "import", writeTexts(t, s.TextMessage.Text)); !strings.HasPrefix(rec, "text 1: stored receipt ") {
			t.Fatalf("the observer imports the receipt: %s", rec)
		}
	case <-time.After(gatewayWait):
		t.Fatalf("no receipt reached the phone:\n%s", gw.out.String())
	}
	before := status(t, coord).Records

	if code := post(t, req); code == http.StatusOK || code/100 != 4 {
		t.Fatalf("the same request again: %d, want it refused as a replay", code)
	}
	retry := signedWebhook(t, url, key, "Ey6ECgOkVVFjz3CL48B8C", heronPhone, text, time.Now().Add(time.Second))
	if code := post(t, retry); code != http.StatusOK {
		t.Fatalf("the app's retry of the event: %d", code)
	}
	forged := signedWebhook(t, url, "not-the-signing-key-at-all", "ev-forged", heronPhone, text, time.Now())
	if code := post(t, forged); code != http.StatusUnauthorized {
		t.Fatalf("a bad signature: %d, want 401", code)
	}
	if after := status(t, coord).Records; !maps.Equal(before, after) {
		t.Fatalf("the replay, the retry or the forgery changed the store: %v, then %v", before, after)
	}
	select {
	case s := <-sent:
		t.Fatalf("a second receipt for one event: %+v", s)
	default:
	}
	if code := gw.interrupt(t); code != 0 {
		t.Fatalf("the gateway exited %d on SIGINT:\n%s", code, gw.out.String())
	}
}

// An "SMS Backup & Restore" file from the phone that got the texts: the
// observer's text is stored and its receipt printed for the sender's
// whole number; a person's text is refused; a sent message is passed
// over. Exit 3.
func TestSMSImportBackupXML(t *testing.T) {
	t.Parallel()
	coord, obs, _ := smsMission(t)
	id := mustID(t, obs, nil, "checkin", "--status", "arrived", "--station", "PS-0042")
	text := decodeJSON[smsTextOut](t, mustRun(t, obs, nil, "sms", "encode", "--json", id)).Text
	attr := func(s string) string {
		var b bytes.Buffer
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	backup := fmt.Sprintf(`<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
<smses count="3">
  <sms protocol="0" address="%s" date="1817872933000" type="1" body="%s" read="1" />
  <sms protocol="0" address="%s" date="1817872941000" type="2" body="a text the phone sent" read="1" />
  <sms protocol="0" address="+254722987654" date="1817881230000" type="1" body="%s" read="1" />
</smses>
`, heronPhone, attr(text), heronPhone, attr(`PS-0042: queue of about 300, "ink" missing & voting continues.`))
	path := filepath.Join(t.TempDir(), "sms-20270810.xml")
	if err := os.WriteFile(path, []byte(backup), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runVigil(t, coord, nil, "sms", "import", path)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitPartial || len(lines) != 3 || lines[0] != "text 1: stored checkin "+id ||
		!strings.HasPrefix(lines[1], "reply to "+heronPhone+": ") || !strings.HasPrefix(lines[2], "text 2: refused") ||
		!strings.Contains(stderr, "1 refused") {
		t.Fatalf("sms import of a backup: exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
	senders := mustRun(t, coord, nil, "sms", "senders")
	if !strings.Contains(senders, "…5678  stored 1") || !strings.Contains(senders, "…7654  stored 0  duplicate 0  waiting 0  refused 1") {
		t.Fatalf("sms senders after the backup:\n%s", senders)
	}
}
