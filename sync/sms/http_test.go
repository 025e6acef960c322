package sms

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/internal/testkit"
)

// The sample request in testdata is signed with this key at this time
// (testdata/README.md).
const (
	webhookSampleKey  = "vigil-sample-signing-key-2027"
	webhookSampleTime = 1817872935 // 2027-08-10 07:42:15 +03:00
)

// gwClock is a settable clock for the signature window.
type gwClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *gwClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *gwClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// gwRecorder is a Handler that records what it is given and answers with
// replies, or fails while fail is set.
type gwRecorder struct {
	mu      sync.Mutex
	got     []Message
	replies []string
	fail    error
}

func (r *gwRecorder) handle(_ context.Context, m Message) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return nil, r.fail
	}
	r.got = append(r.got, m)
	return r.replies, nil
}

func (r *gwRecorder) messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.got...)
}

func (r *gwRecorder) setFail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

// gateway is a Server running on a loopback listener for one test.
type gateway struct {
	s      *Server
	url    string
	clock  *gwClock
	client *http.Client
	stop   func() error // stops the server and returns Serve's error; later calls return nil
}

// startGateway runs a Server with cfg (the sample key when cfg.Secret is
// empty) and h on 127.0.0.1, its clock at the sample's time; the server
// stops at the end of the test, and must stop cleanly.
func startGateway(t *testing.T, cfg HTTPConfig, h Handler, opts ...func(*Server)) *gateway {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = []byte(webhookSampleKey)
	}
	s, err := NewServer(cfg, h, testkit.Logger(t, slog.LevelDebug))
	if err != nil {
		t.Fatal(err)
	}
	clk := &gwClock{t: time.Unix(webhookSampleTime, 0)}
	s.now = clk.Now
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	client := &http.Client{Timeout: 10 * time.Second}
	var once sync.Once
	stop := func() (err error) {
		once.Do(func() {
			client.CloseIdleConnections()
			cancel()
			err = <-served
		})
		return err
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	scheme := "http"
	if cfg.TLS != nil {
		scheme = "https"
	}
	return &gateway{s: s, url: scheme + "://" + ln.Addr().String() + "/sms", clock: clk, client: client, stop: stop}
}

// post sends body to the gateway with the given headers and returns the
// status and the answer's text.
func (g *gateway) post(t *testing.T, body []byte, hdr http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	return g.do(t, req)
}

func (g *gateway) do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(text))
}

// signedHeaders returns the app's headers for body signed with key at ts.
func signedHeaders(key string, body []byte, ts int64) http.Header {
	tsText := strconv.FormatInt(ts, 10)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(headerTimestamp, tsText)
	h.Set(headerSignature, fmt.Sprintf("%x", webhookSignature([]byte(key), body, tsText)))
	return h
}

// webhookBody builds a webhook body as the app does.
func webhookBody(t *testing.T, id, name string, payload any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"id": id, "webhookId": "vigil-sms-inbox", "event": name,
		"deviceId": "ffffffffceb0b1db0000018e937c815b", "payload": payload,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func smsReceivedJSON(from, text string) map[string]any {
	return map[string]any{
		"message": text, "receivedAt": "2027-08-10T07:42:13.000+03:00", "messageId": "3f9c1a7e",
		"sender": from, "phoneNumber": from, "simNumber": 1,
	}
}

// sampleWebhook reads testdata's request as the app sent it.
func sampleWebhook(t testing.TB) (http.Header, []byte) {
	t.Helper()
	f, err := os.Open("testdata/capcom6-sms-received.http")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, err := http.ReadRequest(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	return req.Header, body
}

// TestHTTPSampleRequest replays the sample request, as the app sends it,
// and then replays it again, as an eavesdropper would.
func TestHTTPSampleRequest(t *testing.T) {
	rec := &gwRecorder{}
	g := startGateway(t, HTTPConfig{}, rec.handle)
	g.clock.Set(time.Unix(webhookSampleTime+30, 0)) // the request took 30 s to arrive
	hdr, body := sampleWebhook(t)

	if status, text := g.post(t, body, hdr); status != http.StatusOK {
		t.Fatalf("sample request: %d %s", status, text)
	}
	got := rec.messages()
	want := Message{
		From:     "+254712345678",
		Text:     "VG1 kQ3xZ2Fz7Tb0pL9mYc4eWn8sRj1uHd6aKv5oEg2iBtQ7rXw0yCzM3lN8fJ4hD",
		Received: time.Date(2027, 8, 10, 7, 42, 13, 0, time.FixedZone("EAT", 3*3600)),
	}
	if len(got) != 1 || got[0].From != want.From || got[0].Text != want.Text || !got[0].Received.Equal(want.Received) {
		t.Fatalf("handler got %+v, want %+v", got, want)
	}

	if status, text := g.post(t, body, hdr); status != http.StatusConflict {
		t.Fatalf("replayed sample: %d %s, want 409", status, text)
	}
	if n := len(rec.messages()); n != 1 {
		t.Fatalf("the replay reached the handler: %d messages", n)
	}
	if st := g.s.Stats(); st.Handled != 1 || st.Replayed != 1 {
		t.Fatalf("stats %+v, want 1 handled, 1 replayed", st)
	}
}

// TestHTTPRefusals: whatever is not a correctly signed, fresh, well-formed
// webhook gets the right status, is counted, and never reaches the
// handler.
func TestHTTPRefusals(t *testing.T) {
	rec := &gwRecorder{}
	g := startGateway(t, HTTPConfig{}, rec.handle)
	now := int64(webhookSampleTime)
	good := webhookBody(t, "ev1", "sms:received", smsReceivedJSON("+254712345678", "VG1 abc"))

	tests := []struct {
		name   string
		method string
		body   []byte
		hdr    http.Header
		status int
		count  func(HTTPStats) uint64
	}{
		{"wrong key", "POST", good, signedHeaders("not-the-app-signing-key", good, now), 401,
			func(s HTTPStats) uint64 { return s.Unauthorized }},
		{"unsigned", "POST", good, http.Header{}, 401,
			func(s HTTPStats) uint64 { return s.Unauthorized }},
		{"signature not hex", "POST", good, http.Header{headerSignature: {"zz"}, headerTimestamp: {"1817872935"}}, 401,
			func(s HTTPStats) uint64 { return s.Unauthorized }},
		{"timestamp with a sign", "POST", good, signedHeadersText(webhookSampleKey, good, "+1817872935"), 401,
			func(s HTTPStats) uint64 { return s.Unauthorized }},
		{"body changed after signing", "POST", append([]byte(" "), good...), signedHeaders(webhookSampleKey, good, now), 401,
			func(s HTTPStats) uint64 { return s.Unauthorized }},
		{"stale timestamp", "POST", good, signedHeaders(webhookSampleKey, good, now-int64(SignatureWindow/time.Second)-1), 401,
			func(s HTTPStats) uint64 { return s.Stale }},
		{"timestamp from the future", "POST", good, signedHeaders(webhookSampleKey, good, now+int64(SignatureWindow/time.Second)+1), 401,
			func(s HTTPStats) uint64 { return s.Stale }},
		{"wrong method", "GET", nil, nil, 405,
			func(s HTTPStats) uint64 { return s.Malformed }},
		{"oversized body", "POST", bytes.Repeat([]byte("a"), HTTPMaxBody+1), nil, 413,
			func(s HTTPStats) uint64 { return s.Malformed }},
		{"not JSON", "POST", []byte("from=+254712345678&message=hi"), signedHeaders(webhookSampleKey, []byte("from=+254712345678&message=hi"), now), 400,
			func(s HTTPStats) uint64 { return s.Malformed }},
		{"sender with a newline", "POST", badSender(t), signedHeaders(webhookSampleKey, badSender(t), now), 400,
			func(s HTTPStats) uint64 { return s.Malformed }},
		{"no message", "POST", webhookWithoutMessage(t), signedHeaders(webhookSampleKey, webhookWithoutMessage(t), now), 400,
			func(s HTTPStats) uint64 { return s.Malformed }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.count(g.s.Stats())
			req, err := http.NewRequest(tt.method, g.url, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.hdr {
				req.Header[k] = v
			}
			status, text := g.do(t, req)
			if status != tt.status {
				t.Fatalf("status %d (%s), want %d", status, text, tt.status)
			}
			if text == "" {
				t.Errorf("no reason given")
			}
			if after := tt.count(g.s.Stats()); after != before+1 {
				t.Errorf("counted %d, want %d", after, before+1)
			}
		})
	}
	if got := rec.messages(); len(got) != 0 {
		t.Fatalf("refused requests reached the handler: %+v", got)
	}
	// The same request, signed and fresh, goes through.
	if status, text := g.post(t, good, signedHeaders(webhookSampleKey, good, now)); status != http.StatusOK {
		t.Fatalf("good request: %d %s", status, text)
	}
}

func signedHeadersText(key string, body []byte, ts string) http.Header {
	h := http.Header{}
	h.Set(headerTimestamp, ts)
	h.Set(headerSignature, fmt.Sprintf("%x", webhookSignature([]byte(key), body, ts)))
	return h
}

func badSender(t *testing.T) []byte {
	return webhookBody(t, "ev10", "sms:received", smsReceivedJSON("+254712\n345678", "VG1"))
}

func webhookWithoutMessage(t *testing.T) []byte {
	return webhookBody(t, "ev2", "sms:received", map[string]any{"phoneNumber": "+254712345678"})
}

// TestHTTPOtherEventsAcknowledged: a signed event other than sms:received
// (a webhook registered for the wrong event) is answered 200, so that the
// app does not retry it for two days, and not handed on.
func TestHTTPOtherEventsAcknowledged(t *testing.T) {
	rec := &gwRecorder{}
	g := startGateway(t, HTTPConfig{}, rec.handle)
	body := webhookBody(t, "ev3", "system:ping", map[string]any{"health": map[string]any{"status": "pass"}})
	if status, text := g.post(t, body, signedHeaders(webhookSampleKey, body, webhookSampleTime)); status != http.StatusOK {
		t.Fatalf("ping: %d %s", status, text)
	}
	if n := len(rec.messages()); n != 0 || g.s.Stats().Ignored != 1 {
		t.Fatalf("handler got %d messages, stats %+v", n, g.s.Stats())
	}
}

// TestHTTPHandlerErrorIsRetried: when the handler cannot take a message,
// the app is answered 5xx, which it retries (any status outside 2xx); the
// retry, signed afresh, is handed on again.
func TestHTTPHandlerErrorIsRetried(t *testing.T) {
	rec := &gwRecorder{}
	rec.setFail(errors.New("store closed"))
	g := startGateway(t, HTTPConfig{}, rec.handle)
	body := webhookBody(t, "ev4", "sms:received", smsReceivedJSON("+254733000111", "VG1 retry"))

	status, _ := g.post(t, body, signedHeaders(webhookSampleKey, body, webhookSampleTime))
	if status < 500 || status > 599 {
		t.Fatalf("handler error answered %d, want 5xx", status)
	}
	rec.setFail(nil)
	g.clock.Set(time.Unix(webhookSampleTime+10, 0)) // the app's first retry, 10 s later
	if status, text := g.post(t, body, signedHeaders(webhookSampleKey, body, webhookSampleTime+10)); status != http.StatusOK {
		t.Fatalf("retry: %d %s", status, text)
	}
	if got := rec.messages(); len(got) != 1 || got[0].Text != "VG1 retry" {
		t.Fatalf("handler got %+v", got)
	}
	if st := g.s.Stats(); st.HandlerErrors != 1 || st.Handled != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestHTTPEventHandledOnce: the app retries an event whose answer was
// lost, signed afresh but with the same event ID; it is acknowledged
// without reaching the handler (or the sender's phone) twice.
func TestHTTPEventHandledOnce(t *testing.T) {
	rec := &gwRecorder{}
	g := startGateway(t, HTTPConfig{}, rec.handle)
	body := webhookBody(t, "ev5", "sms:received", smsReceivedJSON("+254700200300", "VG1 once"))
	for i, ts := range []int64{webhookSampleTime, webhookSampleTime + 10} {
		if status, text := g.post(t, body, signedHeaders(webhookSampleKey, body, ts)); status != http.StatusOK {
			t.Fatalf("attempt %d: %d %s", i, status, text)
		}
	}
	if n := len(rec.messages()); n != 1 {
		t.Fatalf("handler called %d times, want 1", n)
	}
	if st := g.s.Stats(); st.Duplicates != 1 {
		t.Fatalf("stats %+v, want 1 duplicate", st)
	}
}

// fakePhoneAPI is the gateway app's local server: it records what it is
// asked to send.
type fakePhoneAPI struct {
	srv  *httptest.Server
	sent chan phoneSendRequest
}

func startFakePhoneAPI(t *testing.T, user, pass string) *fakePhoneAPI {
	t.Helper()
	p := &fakePhoneAPI{sent: make(chan phoneSendRequest, 16)}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, pw, ok := r.BasicAuth()
		if !ok || u != user || pw != pass {
			http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/message" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
			return
		}
		var req phoneSendRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"message":"bad json"}`, http.StatusBadRequest)
			return
		}
		p.sent <- req
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"id":"x1","state":"Pending"}`)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// TestHTTPRepliesDelivered: the handler's replies go to the sender
// through the phone's local-server API, after the webhook is answered.
func TestHTTPRepliesDelivered(t *testing.T) {
	phone := startFakePhoneAPI(t, "sms", "phone-pass")
	rec := &gwRecorder{replies: []string{"VR1 receipt part one", "VR1 receipt part two"}}
	g := startGateway(t, HTTPConfig{Phone: &PhoneAPI{URL: phone.srv.URL, Username: "sms", Password: "phone-pass"}}, rec.handle)
	body := webhookBody(t, "ev6", "sms:received", smsReceivedJSON("+254712345678", "VG1 reply me"))
	if status, text := g.post(t, body, signedHeaders(webhookSampleKey, body, webhookSampleTime)); status != http.StatusOK {
		t.Fatalf("webhook: %d %s", status, text)
	}
	for _, want := range rec.replies {
		select {
		case got := <-phone.sent:
			if got.TextMessage.Text != want || len(got.PhoneNumbers) != 1 || got.PhoneNumbers[0] != "+254712345678" {
				t.Fatalf("phone asked to send %+v, want %q to +254712345678", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("reply %q never reached the phone", want)
		}
	}
	testkit.Eventually(t, 5*time.Second, "both replies counted as sent", func() bool { return g.s.Stats().RepliesSent == 2 })
}

// TestHTTPSendToAnother: Send, from the handler, queues a text to a
// number other than the sender in hand; it reaches the phone's API, as
// the handler's own reply does.
func TestHTTPSendToAnother(t *testing.T) {
	phone := startFakePhoneAPI(t, "sms", "phone-pass")
	var g *gateway
	h := func(_ context.Context, m Message) ([]string, error) {
		g.s.Send("+254733000111", "VR1 kept text answered")
		return []string{"VR1 answer"}, nil
	}
	g = startGateway(t, HTTPConfig{Phone: &PhoneAPI{URL: phone.srv.URL, Username: "sms", Password: "phone-pass"}}, h)
	body := webhookBody(t, "ev11", "sms:received", smsReceivedJSON("+254712345678", "VG1"))
	if status, text := g.post(t, body, signedHeaders(webhookSampleKey, body, webhookSampleTime)); status != http.StatusOK {
		t.Fatalf("webhook: %d %s", status, text)
	}
	want := map[string]string{"+254712345678": "VR1 answer", "+254733000111": "VR1 kept text answered"}
	for range 2 {
		select {
		case got := <-phone.sent:
			if len(got.PhoneNumbers) != 1 || want[got.PhoneNumbers[0]] != got.TextMessage.Text {
				t.Fatalf("phone asked to send %+v, want one of %v", got, want)
			}
			delete(want, got.PhoneNumbers[0])
		case <-time.After(10 * time.Second):
			t.Fatalf("never reached the phone: %v", want)
		}
	}
}

// TestHTTPRepliesRefusedByPhone: a phone that refuses (wrong password)
// leaves the replies counted as failed, and the webhook was still
// answered 200: the message is stored, only the receipt is lost.
func TestHTTPRepliesRefusedByPhone(t *testing.T) {
	phone := startFakePhoneAPI(t, "sms", "phone-pass")
	rec := &gwRecorder{replies: []string{"VR1 receipt"}}
	g := startGateway(t, HTTPConfig{Phone: &PhoneAPI{URL: phone.srv.URL, Username: "sms", Password: "wrong"}}, rec.handle)
	body := webhookBody(t, "ev7", "sms:received", smsReceivedJSON("+254712345678", "VG1"))
	if status, text := g.post(t, body, signedHeaders(webhookSampleKey, body, webhookSampleTime)); status != http.StatusOK {
		t.Fatalf("webhook: %d %s", status, text)
	}
	testkit.Eventually(t, 5*time.Second, "the refused reply counted as failed", func() bool { return g.s.Stats().RepliesFailed == 1 })
}

// TestHTTPRepliesWithoutPhone: with no phone API, replies are logged and
// counted as not sent.
func TestHTTPRepliesWithoutPhone(t *testing.T) {
	rec := &gwRecorder{replies: []string{"VR1 a", "VR1 b"}}
	g := startGateway(t, HTTPConfig{}, rec.handle)
	body := webhookBody(t, "ev8", "sms:received", smsReceivedJSON("+254712345678", "VG1"))
	if status, text := g.post(t, body, signedHeaders(webhookSampleKey, body, webhookSampleTime)); status != http.StatusOK {
		t.Fatalf("webhook: %d %s", status, text)
	}
	if st := g.s.Stats(); st.RepliesUnsent != 2 || st.RepliesSent != 0 {
		t.Fatalf("stats %+v, want 2 unsent", st)
	}
}

// TestHTTPTLS: with a certificate, the listener speaks HTTPS, as the
// app's release build requires for a LAN address.
func TestHTTPTLS(t *testing.T) {
	cert, pool := selfSignedCert(t)
	rec := &gwRecorder{}
	g := startGateway(t, HTTPConfig{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}, rec.handle)
	g.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	hdr, body := sampleWebhook(t)
	if status, text := g.post(t, body, hdr); status != http.StatusOK {
		t.Fatalf("over TLS: %d %s", status, text)
	}
	if n := len(rec.messages()); n != 1 {
		t.Fatalf("handler got %d messages", n)
	}
}

// selfSignedCert makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSignedCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "vigil test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestNewServerRefusesBadConfig(t *testing.T) {
	h := (&gwRecorder{}).handle
	phone := func(url, user, pass string) *PhoneAPI { return &PhoneAPI{URL: url, Username: user, Password: pass} }
	tests := []struct {
		name string
		cfg  HTTPConfig
		want string
	}{
		{"no key", HTTPConfig{}, "no signing key"},
		{"the app's default key length", HTTPConfig{Secret: []byte("V1StGXR8")}, "8 bytes"},
		{"TLS without a certificate", HTTPConfig{Secret: []byte(webhookSampleKey), TLS: &tls.Config{}}, "no certificate"},
		{"phone URL not http", HTTPConfig{Secret: []byte(webhookSampleKey), Phone: phone("ftp://192.168.1.30", "u", "p")}, "want http://IP:PORT"},
		{"phone URL a name", HTTPConfig{Secret: []byte(webhookSampleKey), Phone: phone("http://phone.example:8080", "u", "p")}, "not a name"},
		{"phone URL public", HTTPConfig{Secret: []byte(webhookSampleKey), Phone: phone("http://203.0.113.7:8080", "u", "p")}, "in the clear"},
		{"phone URL with credentials", HTTPConfig{Secret: []byte(webhookSampleKey), Phone: phone("http://u:p@192.168.1.30:8080", "u", "p")}, "credentials separately"},
		{"phone without password", HTTPConfig{Secret: []byte(webhookSampleKey), Phone: phone("http://192.168.1.30:8080", "u", "")}, "no username or password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewServer(tt.cfg, h, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one saying %q", err, tt.want)
			}
		})
	}
	if _, err := NewServer(HTTPConfig{Secret: []byte(webhookSampleKey), AllowPublic: true, Phone: phone("http://203.0.113.7:8080", "u", "p")}, h, nil); err != nil {
		t.Fatalf("a public phone URL with AllowPublic: %v", err)
	}
}

func TestCheckListenAddr(t *testing.T) {
	for _, addr := range []string{
		"127.0.0.1:8080", "localhost:8080", "[::1]:8080", "192.168.1.20:8080", "10.4.0.2:80",
		"172.16.0.1:80", "172.31.255.254:80", "169.254.10.1:80", "[fe80::1%eth0]:80", "[fd12:3456::1]:80",
		"100.64.0.1:80", "100.127.255.254:80", "[::ffff:192.168.1.20]:80",
	} {
		if err := CheckListenAddr(addr, false); err != nil {
			t.Errorf("%s refused: %v", addr, err)
		}
	}
	for _, addr := range []string{
		":8080", "0.0.0.0:8080", "[::]:8080", "8.8.8.8:53", "203.0.113.7:8080", "172.32.0.1:80",
		"100.128.0.1:80", "[2001:db8::1]:80", "[::ffff:8.8.8.8]:80",
	} {
		err := CheckListenAddr(addr, false)
		if !errors.Is(err, ErrPublicAddress) {
			t.Errorf("%s: err %v, want ErrPublicAddress", addr, err)
			continue
		}
		_, port, _ := net.SplitHostPort(addr)
		if want := net.JoinHostPort("127.0.0.1", port); !strings.Contains(err.Error(), want) {
			t.Errorf("%s: the error names no address to give instead (%s): %v", addr, want, err)
		}
		if err := CheckListenAddr(addr, true); err != nil {
			t.Errorf("%s with public allowed: %v", addr, err)
		}
	}
	for _, addr := range []string{"8080", "gateway.example:8080", ""} {
		if err := CheckListenAddr(addr, false); err == nil {
			t.Errorf("%q accepted", addr)
		}
	}
}

// TestListenHTTP: a public address is refused before anything is bound;
// a loopback one serves until the context ends.
func TestListenHTTP(t *testing.T) {
	h := (&gwRecorder{}).handle
	cfg := HTTPConfig{Secret: []byte(webhookSampleKey)}
	if err := ListenHTTP(context.Background(), "0.0.0.0:0", cfg, h, nil); !errors.Is(err, ErrPublicAddress) {
		t.Fatalf("0.0.0.0: err %v, want ErrPublicAddress", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ListenHTTP(ctx, "127.0.0.1:0", cfg, h, testkit.Logger(t, slog.LevelInfo)) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ListenHTTP on loopback: %v", err)
	}
}

// TestHTTPShutdownWithPhoneHanging: a phone that takes a reply and never
// answers does not hold Serve past its grace period; the reply it holds
// counts as failed, the ones behind it as unsent.
func TestHTTPShutdownWithPhoneHanging(t *testing.T) {
	asked := make(chan struct{}, 4)
	phone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices the client leaving
		asked <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(phone.Close)
	rec := &gwRecorder{replies: []string{"VR1 one", "VR1 two", "VR1 three"}}
	g := startGateway(t, HTTPConfig{Phone: &PhoneAPI{URL: phone.URL, Username: "u", Password: "p"}}, rec.handle,
		func(s *Server) { s.grace = 50 * time.Millisecond })
	body := webhookBody(t, "ev9", "sms:received", smsReceivedJSON("+254712345678", "VG1"))
	if status, text := g.post(t, body, signedHeaders(webhookSampleKey, body, webhookSampleTime)); status != http.StatusOK {
		t.Fatalf("webhook: %d %s", status, text)
	}
	select {
	case <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("the first reply never reached the phone")
	}
	if err := g.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if st := g.s.Stats(); st.RepliesFailed != 1 || st.RepliesUnsent != 2 || st.RepliesSent != 0 {
		t.Fatalf("stats %+v, want 1 failed and 2 unsent", st)
	}
}
