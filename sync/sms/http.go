package sms

// The SMS-gateway-app transport: an Android phone on the coordinator's
// LAN (or on a USB cable) runs "SMS Gateway for Android" (capcom6,
// https://github.com/capcom6/android-sms-gateway, https://sms-gate.app,
// Apache-2.0), which posts every SMS it receives to this listener as a
// signed webhook, and sends the handler's replies through the app's own
// local HTTP API.
//
// Why this app and not Ushahidi's SMSSync (form posts with a shared
// secret, replies in the response): SMSSync has been abandoned since 2017
// and was pulled from Google Play in 2018 (ushahidi/SMSSync issues #486,
// #491); capcom6's app is maintained, runs on current Android, signs its
// webhooks with HMAC-SHA256 and retries until it gets a 2xx.
//
// What the app sends, from its source (capcom6/android-sms-gateway, paths
// under app/src/main/java/me/capcom/smsgateway/modules/webhooks/) and its
// documentation (https://docs.sms-gate.app/features/webhooks/):
//
//   - POST to the registered URL, Content-Type application/json, body a
//     WebHookEventDTO (domain/WebHookEventDTO.kt): {"id", "webhookId",
//     "event", "deviceId", "payload"}. For event "sms:received" the
//     payload (payload/SmsEventPayload.kt, MessageEventPayload.kt) holds
//     "message" (the text, concatenated parts joined by Android),
//     "receivedAt" (ISO 8601 with the phone's offset,
//     "2024-06-22T15:46:11.000+07:00"), "messageId", "sender" (newer
//     versions), "phoneNumber" (the sender; deprecated for "sender"),
//     "recipient" and "simNumber" (both may be absent).
//   - X-Timestamp: Unix seconds; X-Signature: lowercase hex of
//     HMAC-SHA256(signing key, body || X-Timestamp)
//     (plugins/PayloadSingingPlugin.kt). The signing key is set in the
//     app under Settings → Webhooks → Signing Key; by default it is a
//     random 8-character NanoID (WebhooksSettings.kt), which is why
//     NewServer asks for a longer one.
//   - Any status outside 200–299, or no answer, is retried with backoff
//     (workers/SendWebhookWorker.kt, workers/WebhookQueueProcessorWorker.kt;
//     the documentation: 10 s, 20 s, 40 s, … 14 retries, about two days).
//     The app gives up on an answer after 30 s, or after 5 s with no byte
//     on the socket (SendWebhookWorker.kt's HttpTimeout), so the handler
//     must be quick, and replies are sent after the answer, not before.
//   - The app's release build only registers https:// URLs, or plain
//     http://127.0.0.1 (modules/webhooks/WebHooksService.kt, replace();
//     https://docs.sms-gate.app/faq/webhooks/). So the listener works in
//     one of three ways: (1) the phone on a USB cable, `adb reverse
//     tcp:8080 tcp:8080`, the webhook http://127.0.0.1:8080/sms and this
//     listener on 127.0.0.1:8080 (no Wi-Fi needed at all); (2) HTTPS on
//     the LAN with HTTPConfig.TLS and a certificate the phone trusts (the
//     project's CA issues them for private IP addresses); (3) the app's
//     "insecure" build, which allows plain HTTP on the LAN.
//
// Replies go through the app's local server (modules/localserver/
// WebService.kt and routes/MessagesRoutes.kt): POST {URL}/message with
// HTTP basic auth (the credentials the app shows under Local Server) and
// {"textMessage": {"text": …}, "phoneNumbers": [to]}; the app answers
// 202 Accepted and queues the SMS.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// HTTPMaxBody bounds a webhook request's body. An SMS of 255 parts is
	// under 40,000 characters; the app's JSON around it is a few hundred
	// bytes.
	HTTPMaxBody = 64 << 10

	// SignatureWindow is how far a request's X-Timestamp may be from this
	// machine's clock, either way, and how long a signature is remembered
	// against replay. Five minutes, as the app's documentation advises.
	SignatureWindow = 5 * time.Minute

	// MinSecretLen is the shortest signing key accepted. The app's default
	// key is 8 characters of a 64-letter alphabet (48 bits): anyone who
	// captured one signed request could find it offline.
	MinSecretLen = 16

	// maxReplayEntries bounds the signatures remembered in the window.
	// Only correctly signed requests are remembered, so only the key's
	// holder can fill it; when full, requests are answered 503 (retried).
	maxReplayEntries = 50_000

	// maxDoneEvents is how many handled event IDs are remembered, so that
	// the app's retry of an event whose answer was lost is acknowledged
	// without handing the message on twice.
	maxDoneEvents = 4096

	// replyQueueLen bounds the replies waiting for the phone's API.
	replyQueueLen = 256

	// shutdownGrace is how long Serve lets requests in flight, then
	// replies still queued, finish once its context is done.
	shutdownGrace = 5 * time.Second

	// authLogEvery throttles the warnings for refused signatures: one
	// line, with the count since the last, at most this often.
	authLogEvery = 10 * time.Second
)

// HTTPConfig configures the listener for the gateway app's webhooks.
// Secret is required; the rest is optional.
type HTTPConfig struct {
	// Secret is the webhook signing key set in the app (Settings →
	// Webhooks → Signing Key), at least MinSecretLen bytes.
	Secret []byte

	// AllowPublic lets ListenHTTP bind an address that is neither loopback
	// nor private (0.0.0.0, a public IP), and lets Phone.URL name a public
	// host. Off, only loopback, RFC 1918, link-local, fc00::/7 and
	// 100.64.0.0/10 addresses are accepted.
	AllowPublic bool

	// TLS, when set, serves HTTPS with it (it must hold a certificate).
	// The app's release build posts only to https:// URLs, or to
	// http://127.0.0.1.
	TLS *tls.Config

	// Phone, when set, is the app's local server: replies are sent
	// through it. Without it, replies are logged as not sent.
	Phone *PhoneAPI
}

// PhoneAPI is the gateway app's local server ("Local Server" in the app),
// which sends SMS on request.
type PhoneAPI struct {
	// URL is the server's base, as the app shows it
	// ("http://192.168.1.30:8080"), or a forwarded port
	// ("http://127.0.0.1:8081" after `adb forward tcp:8081 tcp:8080`).
	URL string
	// Username and Password are the basic-auth credentials the app shows.
	Username string
	Password string
}

// HTTPStats counts what the listener did since it started.
type HTTPStats struct {
	Handled       uint64 // messages the handler took
	Duplicates    uint64 // events handled before, acknowledged again without the handler
	Ignored       uint64 // signed events other than sms:received, acknowledged
	HandlerErrors uint64 // handler errors, answered 503 so that the app retries
	Unauthorized  uint64 // requests without a valid signature (401)
	Stale         uint64 // valid signatures with a timestamp outside the window (401)
	Replayed      uint64 // valid signatures seen before in the window (409)
	Malformed     uint64 // wrong method (405), body too large (413), bad payload (400)
	RepliesSent   uint64 // reply texts the phone's API accepted
	RepliesFailed uint64 // reply texts the phone's API refused or did not answer
	RepliesUnsent uint64 // reply texts not tried: no phone API, queue full, shutting down
}

// Server receives the gateway app's webhooks and hands each SMS to its
// Handler. Make one with NewServer and run it with Serve, once.
//
// Handler calls never overlap: messages are handed on one at a time, in
// the order their requests got there.
type Server struct {
	secret []byte
	tls    *tls.Config
	phone  *phoneClient
	h      Handler
	log    *slog.Logger
	now    func() time.Time
	grace  time.Duration // shutdownGrace; shorter in tests

	handleMu sync.Mutex     // serialises handler calls
	inflight sync.WaitGroup // requests being answered
	served   atomic.Bool

	mu        sync.Mutex
	seen      map[string]time.Time // signature → when it leaves the window
	lastPrune time.Time
	done      doneEvents
	authLog   logThrottle
	closed    bool // the reply queue is closed
	replies   chan gatewayReply

	stats struct {
		handled, duplicates, ignored, handlerErrors atomic.Uint64
		unauthorized, stale, replayed, malformed    atomic.Uint64
		repliesSent, repliesFailed, repliesUnsent   atomic.Uint64
	}
}

// gatewayReply is the texts to send back to one sender.
type gatewayReply struct {
	to    string
	texts []string
}

// NewServer checks cfg and returns a server that hands messages to h.
// log may be nil (nothing is logged).
func NewServer(cfg HTTPConfig, h Handler, log *slog.Logger) (*Server, error) {
	if h == nil {
		return nil, errors.New("sms gateway: no handler")
	}
	if len(cfg.Secret) == 0 {
		return nil, errors.New("sms gateway: no signing key: set one in the app (Settings → Webhooks → Signing Key) and give the same here")
	}
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("sms gateway: the signing key is %d bytes, under the %d required (the app's default is 8 characters, guessable offline from one captured request): set a longer one in the app (Settings → Webhooks → Signing Key) and give the same here", len(cfg.Secret), MinSecretLen)
	}
	if cfg.TLS != nil && len(cfg.TLS.Certificates) == 0 && cfg.TLS.GetCertificate == nil {
		return nil, errors.New("sms gateway: the TLS configuration has no certificate")
	}
	var phone *phoneClient
	if cfg.Phone != nil {
		var err error
		if phone, err = newPhoneClient(*cfg.Phone, cfg.AllowPublic); err != nil {
			return nil, err
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		secret:  append([]byte(nil), cfg.Secret...),
		phone:   phone,
		h:       h,
		log:     log,
		now:     time.Now,
		grace:   shutdownGrace,
		seen:    make(map[string]time.Time),
		done:    newDoneEvents(maxDoneEvents),
		replies: make(chan gatewayReply, replyQueueLen),
	}
	if cfg.TLS != nil {
		s.tls = cfg.TLS.Clone()
	}
	return s, nil
}

// ListenHTTP listens on addr for the gateway app's webhooks and hands
// each SMS to h until ctx is done. addr must be a loopback or private
// address unless cfg.AllowPublic (see CheckListenAddr). It returns nil
// once ctx is done and the listener has shut down.
func ListenHTTP(ctx context.Context, addr string, cfg HTTPConfig, h Handler, log *slog.Logger) error {
	if err := CheckListenAddr(addr, cfg.AllowPublic); err != nil {
		return err
	}
	s, err := NewServer(cfg, h, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sms gateway: %w", err)
	}
	scheme := "http"
	if cfg.TLS != nil {
		scheme = "https"
	}
	s.log.Info("sms gateway listening: register this URL in the app's webhooks for event sms:received",
		"url", scheme+"://"+ln.Addr().String()+"/sms", "replies", cfg.Phone != nil)
	return s.Serve(ctx, ln)
}

// Serve answers webhooks on ln until ctx is done, then stops taking
// requests, lets those in flight finish (5 s at most), gives queued
// replies the same time, and returns nil. It closes ln. It returns
// earlier, with the error, if ln fails. Serve may be called once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !s.served.CompareAndSwap(false, true) {
		ln.Close()
		return errors.New("sms gateway: Serve called twice")
	}
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		// Requests in flight at shutdown get the grace period, not an
		// instant cancellation.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		// Handshake failures and the like: noise from a LAN, not errors.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}

	sendCtx, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSending()
	var sender sync.WaitGroup
	sender.Go(func() { s.sendReplies(sendCtx) })

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
		served = nil
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.grace)
	if srv.Shutdown(shutdownCtx) != nil {
		srv.Close() // cuts the connections: their handlers see a cancelled context
	}
	cancel()
	if served != nil {
		<-served // http.ErrServerClosed
	}
	s.inflight.Wait()

	s.mu.Lock()
	s.closed = true
	close(s.replies)
	s.mu.Unlock()
	grace := time.AfterFunc(s.grace, stopSending)
	sender.Wait()
	grace.Stop()

	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("sms gateway: %w", err)
	}
	return nil
}

// Stats returns the counts so far. Safe to call at any time.
func (s *Server) Stats() HTTPStats {
	c := &s.stats
	return HTTPStats{
		Handled: c.handled.Load(), Duplicates: c.duplicates.Load(), Ignored: c.ignored.Load(),
		HandlerErrors: c.handlerErrors.Load(), Unauthorized: c.unauthorized.Load(),
		Stale: c.stale.Load(), Replayed: c.replayed.Load(), Malformed: c.malformed.Load(),
		RepliesSent: c.repliesSent.Load(), RepliesFailed: c.repliesFailed.Load(),
		RepliesUnsent: c.repliesUnsent.Load(),
	}
}

// serveHTTP answers one webhook: the method and size first, then the
// signature (nothing unauthenticated is parsed), then the payload, then
// the handler.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Done()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.refuse(w, r, http.StatusMethodNotAllowed, &s.stats.malformed, "POST only")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, HTTPMaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.refuse(w, r, http.StatusRequestEntityTooLarge, &s.stats.malformed,
				fmt.Sprintf("body over %d bytes", HTTPMaxBody))
			return
		}
		s.refuse(w, r, http.StatusBadRequest, &s.stats.malformed, "reading the body: "+err.Error())
		return
	}
	if !s.authenticate(w, r, body) {
		return
	}
	in, err := decodeWebhook(body)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, &s.stats.malformed, err.Error())
		return
	}
	if in.event != eventSMSReceived {
		// Acknowledged, or the app would retry it for two days: which
		// events come here is the webhook registration's choice.
		s.stats.ignored.Add(1)
		s.log.Info("sms gateway: ignored an event other than sms:received", "event", in.event)
		httpAnswer(w, http.StatusOK, "ignored")
		return
	}
	if in.badDate != "" {
		s.log.Debug("sms gateway: receivedAt unreadable, using the time of arrival", "receivedAt", in.badDate)
	}
	if in.msg.Received.IsZero() {
		in.msg.Received = s.now()
	}
	s.handle(w, r, in)
}

// handle hands one message to the handler, unless its event was handled
// already, and queues the replies.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, in inbound) {
	s.handleMu.Lock()
	defer s.handleMu.Unlock()
	if s.isDone(in.id) {
		s.stats.duplicates.Add(1)
		s.log.Info("sms gateway: event already handled, acknowledged again", "event_id", in.id)
		httpAnswer(w, http.StatusOK, "duplicate")
		return
	}
	replies, err := s.h(r.Context(), in.msg)
	if err != nil {
		s.stats.handlerErrors.Add(1)
		s.log.Warn("sms gateway: the handler failed; the app will offer the message again", "err", err)
		httpAnswer(w, http.StatusServiceUnavailable, "not stored, try again later")
		return
	}
	s.markDone(in.id)
	s.stats.handled.Add(1)
	if len(replies) > 0 {
		s.queueReplies(gatewayReply{to: in.msg.From, texts: replies}) // never waits
	}
	httpAnswer(w, http.StatusOK, "ok")
}

// refuse answers a request that is not handed on, counts it, and logs it.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, counter *atomic.Uint64, reason string) {
	counter.Add(1)
	s.log.Info("sms gateway: refused a request", "status", status, "from", r.RemoteAddr, "reason", reason)
	httpAnswer(w, status, reason)
}

// httpAnswer writes a short plain-text answer. The app reads only the status.
func httpAnswer(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, text+"\n")
}

// doneEvents remembers the last n handled event IDs, oldest dropped
// first.
type doneEvents struct {
	ids  map[string]struct{}
	ring []string
	next int
}

func newDoneEvents(n int) doneEvents {
	return doneEvents{ids: make(map[string]struct{}, n), ring: make([]string, n)}
}

func (s *Server) isDone(id string) bool {
	if id == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.done.ids[id]
	return ok
}

func (s *Server) markDone(id string) {
	if id == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &s.done
	if old := d.ring[d.next]; old != "" {
		delete(d.ids, old)
	}
	d.ring[d.next] = id
	d.ids[id] = struct{}{}
	d.next = (d.next + 1) % len(d.ring)
}

// logThrottle lets one line through per interval and counts the rest.
type logThrottle struct {
	last       time.Time
	suppressed int
}

// allow reports whether to log now, and how many lines were held back
// since the last one. The caller holds Server.mu.
func (t *logThrottle) allow(now time.Time) (bool, int) {
	if !t.last.IsZero() && now.Sub(t.last) < authLogEvery {
		t.suppressed++
		return false, 0
	}
	n := t.suppressed
	t.last, t.suppressed = now, 0
	return true, n
}
