package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/sync/sms"
)

// vigil sms gateway (--modem DEVICE | --listen ADDR): the texts a GSM
// modem receives, or an SMS-gateway app on a phone posts, go to
// act.ReceiveSMS until SIGINT or SIGTERM; the receipts go back the same
// way (docs/sms.md, "The coordinator's laptop").
//
// It works through withActions: while a node holds the home, every text
// goes to it over the control socket (the node keeps serving the other
// commands); otherwise the gateway holds the store for as long as it
// runs. Either way one desk judges the texts, so the rate limits per
// number and author hold. A text is taken from the modem or acknowledged
// to the app only once ReceiveSMS has dealt with it: when the store (or
// the node) fails, the transport keeps the text and offers it again.

// smsGatewayFlags are the gateway's settings, checked before the store is
// opened.
type smsGatewayFlags struct {
	modem, listen                string
	secretFile, tlsCert, tlsKey  string
	phoneURL, phoneUser, phonePw string
	allowPublic                  bool
	retry                        time.Duration
}

func (c *cli) smsGateway(args []string) error {
	var f smsGatewayFlags
	fs := newFlags("sms gateway")
	fs.StringVar(&f.modem, "modem", "", "the GSM modem's serial `DEVICE` (/dev/ttyUSB2)")
	fs.StringVar(&f.listen, "listen", "", "take the texts an SMS-gateway app on a phone posts, on this `IP:PORT` (192.168.1.20:8080)")
	fs.StringVar(&f.secretFile, "secret-file", "", "with --listen: a `FILE` holding the webhook signing key set in the app (16 bytes or more)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "with --listen: serve HTTPS with this certificate `FILE` (PEM) and --tls-key")
	fs.StringVar(&f.tlsKey, "tls-key", "", "with --tls-cert: its private key `FILE` (PEM)")
	fs.StringVar(&f.phoneURL, "phone-url", "", "with --listen: the app's local server `URL` (http://192.168.1.30:8080), to send the receipts through")
	fs.StringVar(&f.phoneUser, "phone-user", "", "with --phone-url: the `USER` name the app shows under Local Server")
	fs.StringVar(&f.phonePw, "phone-password-file", "", "with --phone-url: a `FILE` holding the password the app shows")
	fs.BoolVar(&f.allowPublic, "allow-public", false, "with --listen: allow an address reachable from outside the local network")
	fs.DurationVar(&f.retry, "retry", time.Minute, "how often the texts kept for unknown authors are decoded again")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := f.check(pos); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	if c.json {
		log = slog.New(slog.NewJSONHandler(c.stderr, nil))
	}
	g := &smsGatewayRun{log: log}
	var server *sms.Server
	if f.listen != "" {
		// The listener's settings are checked before the passphrase is
		// asked for: a wrong flag costs nothing.
		cfg, err := c.gatewayHTTPConfig(f)
		if err != nil {
			return err
		}
		if server, err = sms.NewServer(cfg, g.handle, log); err != nil {
			return err
		}
	}
	return c.withActions(func(a act.Actions) error {
		// Signals are caught from here on, once the passphrase is read: a
		// Ctrl-C at its prompt still ends the command at once.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := c.gatewayStanding(a); err != nil {
			return err
		}
		g.a = a
		run := func() error { return g.serveHTTP(ctx, server, f) }
		if f.modem != "" {
			m, err := sms.OpenModem(c.path(f.modem))
			if err != nil {
				return fmt.Errorf("--modem %s: %w", f.modem, err)
			}
			defer m.Close()
			g.send = g.viaModem(m)
			log.Info("sms gateway: reading texts from the modem until interrupted", "device", f.modem)
			run = func() error { return m.Run(ctx, g.handle, log) }
		} else {
			g.send = server.Send
		}
		var retrying sync.WaitGroup
		rctx, cancel := context.WithCancel(ctx)
		retrying.Go(func() { g.retryEvery(rctx, f.retry) })
		defer func() { cancel(); retrying.Wait() }() // before the store closes
		err := run()
		if ctx.Err() != nil && err == nil {
			log.Info("sms gateway: stopped")
		}
		return err
	})
}

// check refuses flags that do not go together.
func (f *smsGatewayFlags) check(pos []string) error {
	listenOnly := f.secretFile != "" || f.tlsCert != "" || f.tlsKey != "" || f.phoneURL != "" ||
		f.phoneUser != "" || f.phonePw != "" || f.allowPublic
	switch {
	case len(pos) > 0:
		return usagef("sms gateway: unexpected %q (want --modem DEVICE or --listen ADDR)", pos[0])
	case (f.modem == "") == (f.listen == ""):
		return usagef("sms gateway: give one of --modem DEVICE and --listen ADDR")
	case f.modem != "" && listenOnly:
		return usagef("sms gateway: --secret-file, --tls-cert, --tls-key, --phone-url, --phone-user, --phone-password-file and --allow-public go with --listen")
	case f.listen != "" && f.secretFile == "":
		return usagef("sms gateway: --listen needs --secret-file, a file holding the webhook signing key set in the app (Settings → Webhooks → Signing Key)")
	case (f.tlsCert == "") != (f.tlsKey == ""):
		return usagef("sms gateway: --tls-cert and --tls-key go together")
	case f.phoneURL == "" && (f.phoneUser != "" || f.phonePw != ""):
		return usagef("sms gateway: --phone-user and --phone-password-file go with --phone-url")
	case f.phoneURL != "" && (f.phoneUser == "" || f.phonePw == ""):
		return usagef("sms gateway: --phone-url needs --phone-user and --phone-password-file (the app shows both under Local Server)")
	case f.retry <= 0:
		return usagef("sms gateway: --retry must be a positive duration, such as 1m")
	}
	if f.listen != "" {
		if err := sms.CheckListenAddr(f.listen, f.allowPublic); err != nil {
			return usagef("--listen: %v", err)
		}
	}
	return nil
}

// gatewayHTTPConfig reads the listener's key files and certificate.
func (c *cli) gatewayHTTPConfig(f smsGatewayFlags) (sms.HTTPConfig, error) {
	cfg := sms.HTTPConfig{AllowPublic: f.allowPublic}
	secret, err := readKeyFile("--secret-file", c.path(f.secretFile))
	if err != nil {
		return cfg, err
	}
	if len(secret) < sms.MinSecretLen {
		return cfg, fmt.Errorf("--secret-file %s: the signing key is %d bytes, under the %d required (the app's default of 8 characters can be guessed offline from one captured request): set a longer one in the app (Settings → Webhooks → Signing Key) and put the same in the file",
			f.secretFile, len(secret), sms.MinSecretLen)
	}
	cfg.Secret = secret
	if f.phoneURL != "" {
		pw, err := readKeyFile("--phone-password-file", c.path(f.phonePw))
		if err != nil {
			return cfg, err
		}
		cfg.Phone = &sms.PhoneAPI{URL: f.phoneURL, Username: f.phoneUser, Password: string(pw)}
	}
	if f.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(c.path(f.tlsCert), c.path(f.tlsKey))
		if err != nil {
			return cfg, fmt.Errorf("--tls-cert, --tls-key: %w", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return cfg, nil
}

// maxKeyFile bounds a signing key or password file.
const maxKeyFile = 4 << 10

// readKeyFile reads a secret kept in a file, without the line end an
// editor adds.
func readKeyFile(flagName, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("%s %s: over %d bytes: not a key or password file", flagName, path, maxKeyFile)
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) == 0 {
		return nil, fmt.Errorf("%s %s is empty", flagName, path)
	}
	return b, nil
}

// gatewayStanding refuses a device that is not a coordinator of a
// mission: only a coordinator's device opens what observers seal to the
// inbox key and answers with receipts, so an observer's gateway would
// take texts and answer none.
func (c *cli) gatewayStanding(a act.Actions) error {
	name, role, err := missionStanding(a)
	if err != nil {
		return err
	}
	switch {
	case name == "":
		return errors.New("sms gateway: this device has not joined a mission: run the gateway on a coordinator's laptop")
	case role == "":
		return fmt.Errorf("sms gateway: this device is not yet a member of mission %q: run the gateway on a coordinator's laptop", name)
	case role != incident.RoleCoordinator:
		return fmt.Errorf("sms gateway: this device is %s of mission %q: only a coordinator's device opens the texts and answers them with receipts; run the gateway on a coordinator's laptop",
			incident.Article(role), name)
	}
	return nil
}

// missionStanding is the mission's name and this device's role in it
// ("" for none), from the store, or from the node that holds it.
func missionStanding(a act.Actions) (mission, role string, err error) {
	switch a := a.(type) {
	case *act.Desk:
		ms, err := a.Store().Mission()
		if err != nil {
			return "", "", nil // no mission yet
		}
		role, _ := ms.Role(a.Store().Author())
		return ms.Mission.Name, role, nil
	case *remote:
		st, err := a.status()
		if err != nil {
			return "", "", err
		}
		return textOf(st.MissionName), textOf(st.Role), nil
	}
	return "", "", fmt.Errorf("sms gateway: cannot tell this device's role through %T", a)
}

// status is `vigil status --json` run in the node that holds the home.
func (r *remote) status() (statusJSON, error) {
	var st statusJSON
	dir, err := os.Getwd()
	if err != nil {
		return st, fmt.Errorf("working folder: %w", err)
	}
	body, _ := json.Marshal(execRequest{Args: []string{"status"}, Dir: dir, JSON: true, Passphrase: r.pass})
	client := r.client()
	defer client.CloseIdleConnections()
	resp, err := client.Post("http://vigil/v1/exec", "application/json", bytes.NewReader(body))
	if err != nil {
		return st, fmt.Errorf("control socket: %w", err)
	}
	defer resp.Body.Close()
	var out execResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&out); err != nil {
		return st, fmt.Errorf("control socket: %w", err)
	}
	if out.Code != exitOK {
		return st, fmt.Errorf("status in the node: %s", bytes.TrimSpace([]byte(out.Stderr)))
	}
	if err := json.Unmarshal([]byte(out.Stdout), &st); err != nil {
		return st, fmt.Errorf("status in the node: %w", err)
	}
	return st, nil
}

// textOf is *p, or "" for nil.
func textOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// smsGatewayRun is one gateway's handler: every text to the desk, every
// outcome logged without the text (outcome, kind, short ID, the
// sender's last four digits).
type smsGatewayRun struct {
	a   act.Actions
	log *slog.Logger
	// send queues texts to a number other than the sender in hand (the
	// receipts of kept texts decoded now) on the transport.
	send func(to string, texts ...string)
}

// handle is the transports' sms.Handler. ReceiveSMS errs only when this
// device fails (the store, the node gone): the error goes back to the
// transport, which keeps the text, offers it again and logs why. A bad
// text is refused, logged and taken.
func (g *smsGatewayRun) handle(_ context.Context, m sms.Message) ([]string, error) {
	r, err := g.a.ReceiveSMS(act.SMSMessage{From: m.From, Text: m.Text, Received: m.Received})
	if err != nil {
		return nil, err
	}
	g.logged(r, false)
	for _, l := range r.Later {
		g.answered(l)
	}
	return r.Replies, nil // the transport sends them to m.From, which is r.ReplyTo
}

// answered logs a kept text decoded now and sends its replies to its
// own sender.
func (g *smsGatewayRun) answered(r act.SMSReceived) {
	g.logged(r, true)
	switch {
	case len(r.Replies) == 0:
	case r.ReplyTo == "":
		for _, text := range r.Replies {
			g.log.Warn("sms gateway: reply not sent: the kept text has no sender number; send it by hand", "to", r.Sender, "text", text)
		}
	default:
		g.send(r.ReplyTo, r.Replies...)
	}
	for _, l := range r.Later {
		g.answered(l)
	}
}

// logged logs one outcome. The text is never logged: it is the record.
func (g *smsGatewayRun) logged(r act.SMSReceived, kept bool) {
	attrs := []any{"from", r.Sender}
	if r.ID != nil {
		s := r.ID.String()
		attrs = append(attrs, "kind", r.Kind, "id", s[:min(len(s), len(act.IDHead)+12)])
	}
	if kept {
		attrs = append(attrs, "kept", true)
	}
	if r.Reason != "" {
		attrs = append(attrs, "reason", r.Reason)
	}
	level := slog.LevelInfo
	if r.Outcome == act.SMSRefused {
		level = slog.LevelWarn
	}
	g.log.Log(context.Background(), level, "sms gateway: text "+r.Outcome, attrs...)
}

// viaModem sends texts through the modem's reply queue; one it refuses
// (not a number, the queue full) is logged for an operator to send.
func (g *smsGatewayRun) viaModem(m *sms.Modem) func(string, ...string) {
	return func(to string, texts ...string) {
		for _, text := range texts {
			if err := m.Send(to, text); err != nil {
				g.log.Warn("sms gateway: reply not sent; send it by hand", "to", to, "text", text, "err", err)
			}
		}
	}
}

// serveHTTP listens on f.listen and serves the app's webhooks until ctx
// ends.
func (g *smsGatewayRun) serveHTTP(ctx context.Context, s *sms.Server, f smsGatewayFlags) error {
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", f.listen, err)
	}
	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
	}
	g.log.Info("sms gateway: listening until interrupted; register this URL in the app's webhooks for event sms:received",
		"url", scheme+"://"+ln.Addr().String()+"/sms", "replies", f.phoneURL != "")
	return s.Serve(ctx, ln)
}

// retryEvery decodes the kept texts again every d until ctx ends, and
// sends their replies to their own senders.
func (g *smsGatewayRun) retryEvery(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		list, err := g.a.RetryPendingSMS()
		if err != nil {
			g.log.Error("sms gateway: decoding the kept texts again failed; trying again later", "err", err)
		}
		for _, r := range list {
			g.answered(r)
		}
	}
}
