package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// phoneSendTimeout bounds one request to the phone's API.
const phoneSendTimeout = 15 * time.Second

// phoneClient sends SMS through the gateway app's local server: POST
// {URL}/message with basic auth (modules/localserver/WebService.kt;
// routes/MessagesRoutes.kt; the request is
// domain/messages/PostMessageRequest.kt).
type phoneClient struct {
	endpoint string
	user     string
	pass     string
	client   *http.Client
}

// phoneSendRequest is the part of the app's PostMessageRequest used
// here. textMessage is the current form; the older top-level "message"
// is deprecated.
type phoneSendRequest struct {
	TextMessage  phoneText `json:"textMessage"`
	PhoneNumbers []string  `json:"phoneNumbers"`
}

type phoneText struct {
	Text string `json:"text"`
}

// newPhoneClient checks the phone API's settings. The URL's host must be
// an IP address, private unless allowPublic: the local server speaks
// plain HTTP, so its credentials must not cross the internet.
func newPhoneClient(p PhoneAPI, allowPublic bool) (*phoneClient, error) {
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sms gateway: phone API URL %q: want http://IP:PORT as the app shows under Local Server, such as http://192.168.1.30:8080", p.URL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("sms gateway: phone API URL %q: give the credentials separately, and no query or fragment", p.URL)
	}
	host := u.Hostname()
	if host != "localhost" {
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return nil, fmt.Errorf("sms gateway: phone API URL %q: give the phone's IP address (the app shows it under Local Server), not a name", p.URL)
		}
		if !allowPublic && !isPrivateAddr(ip) {
			return nil, fmt.Errorf("sms gateway: phone API URL %q: %w; the credentials would travel in the clear: use the phone's LAN address, or allow public addresses explicitly", p.URL, ErrPublicAddress)
		}
	}
	if p.Username == "" || p.Password == "" {
		return nil, fmt.Errorf("sms gateway: phone API %s: no username or password (the app shows both under Local Server)", p.URL)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a proxy from the environment must not see LAN credentials
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	return &phoneClient{
		endpoint: strings.TrimRight(u.String(), "/") + "/message",
		user:     p.Username,
		pass:     p.Password,
		client:   &http.Client{Transport: tr, Timeout: phoneSendTimeout},
	}, nil
}

// send asks the phone to send text to one number. The app answers 202
// Accepted once the SMS is queued on the phone.
func (p *phoneClient) send(ctx context.Context, to, text string) error {
	body, err := json.Marshal(phoneSendRequest{TextMessage: phoneText{Text: text}, PhoneNumbers: []string{to}})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(p.user, p.pass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the phone answered %s: %s", resp.Status, strings.TrimSpace(string(snippet)))
	}
	return nil
}

// Send queues texts to one number through the phone's API, as a
// handler's replies are: for texts that do not answer the message in
// hand, such as the receipt of a message kept earlier and taken now. It
// never waits. Without a phone API, with too many replies waiting, or
// once Serve is shutting down, the texts are logged as not sent, with
// their text, for an operator to send by hand. Safe to call from any
// goroutine, a Handler included.
func (s *Server) Send(to string, texts ...string) {
	if len(texts) > 0 {
		s.queueReplies(gatewayReply{to: to, texts: texts})
	}
}

// queueReplies hands replies to the sender goroutine without waiting:
// a webhook is answered before its replies go out.
func (s *Server) queueReplies(rp gatewayReply) {
	if s.phone == nil {
		s.unsent(rp, "no phone API configured")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.unsent(rp, "shutting down")
		return
	}
	select {
	case s.replies <- rp:
	default:
		s.unsent(rp, "too many replies waiting for the phone")
	}
}

// sendReplies sends queued replies until the queue is closed and empty,
// or ctx is done; what is left then is logged as not sent.
func (s *Server) sendReplies(ctx context.Context) {
	if s.phone != nil {
		defer s.phone.client.CloseIdleConnections()
	}
	for rp := range s.replies {
		if ctx.Err() != nil {
			s.unsent(rp, "shutting down")
			continue
		}
		for i, text := range rp.texts {
			if err := s.phone.send(ctx, rp.to, text); err != nil {
				s.stats.repliesFailed.Add(1)
				s.log.Warn("sms gateway: reply not sent", "to", rp.to, "text", text, "err", err)
				if ctx.Err() != nil {
					s.unsent(gatewayReply{to: rp.to, texts: rp.texts[i+1:]}, "shutting down")
					break
				}
				continue
			}
			s.stats.repliesSent.Add(1)
			s.log.Info("sms gateway: reply handed to the phone", "to", rp.to, "chars", len([]rune(text)))
		}
	}
}

// unsent logs replies that were not tried, with their text, so that an
// operator can send them by hand.
func (s *Server) unsent(rp gatewayReply, why string) {
	for _, text := range rp.texts {
		s.stats.repliesUnsent.Add(1)
		s.log.Warn("sms gateway: reply not sent: "+why, "to", rp.to, "text", text)
	}
}
