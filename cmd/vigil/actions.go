package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/daemon"
)

// The commands that are use cases (act.Actions) parse their flags and read
// the files they name here, in the caller's process, and then act through
// withActions: on the store opened here, or, while a node or the app holds
// the home, over its control socket as typed requests (POST /v1/act/NAME,
// a JSON body of the request, a JSON answer of the result or a classified
// error). Either way the same act.Desk decides.

// withActions runs fn with the use cases of this home.
func (c *cli) withActions(fn func(a act.Actions) error) error {
	if c.control != nil {
		return fn(c.control.desk)
	}
	if c.shared != nil {
		return fn(deskFor(c.shared, c.daemon))
	}
	if socketLive(c.home) {
		pass, err := c.passphrase("Passphrase for " + c.home)
		if err != nil {
			return err
		}
		return fn(&remote{home: c.home, pass: pass})
	}
	return c.withStore(func(s *store.Store) error { return fn(deskFor(s, nil)) })
}

// deskFor is the use cases over st; inside a running node d, invites
// carry the node's addresses, as the app's do.
func deskFor(st *store.Store, d *daemon.Daemon) *act.Desk {
	desk := act.New(st)
	if d != nil {
		desk.Bootstrap = func() []string {
			var out []string
			for _, a := range d.Engine.Node().Addrs() {
				out = append(out, a.String())
			}
			return out
		}
		desk.PeerClocks = d.PeerClocks
	}
	return desk
}

// actRequest is the body of a typed control request: the passphrase and
// the request of one use case.
type actRequest struct {
	Passphrase []byte          `json:"passphrase"`
	Request    json.RawMessage `json:"request"`
}

// actResponse is its answer: the result, or the refusal.
type actResponse struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *wireError      `json:"error,omitempty"`
}

// wireError is an act.Error on the socket (its cause stays behind).
type wireError struct {
	Code  act.Code `json:"code"`
	Field string   `json:"field,omitempty"`
	Msg   string   `json:"msg"`
}

// The requests of the use cases that take more than one value.
type (
	reqRevoke struct {
		Member, Reason string
		AcceptNone     bool
	}
	reqRef    struct{ Ref, Reason string }
	reqAttach struct {
		Name string
		Data []byte
	}
	reqFile struct {
		Report string
		N      int
	}
)

// actHandlers are the typed requests the control socket serves, by name.
var actHandlers = map[string]func(a act.Actions, body []byte) (any, error){
	"create": decoded(func(a act.Actions, r store.MissionSpec) (any, error) { return a.CreateMission(r) }),
	"join":   decoded(func(a act.Actions, code string) (any, error) { return a.Join(code) }),
	"invite": decoded(func(a act.Actions, r act.InviteRequest) (any, error) { return a.Invite(r) }),
	"revoke": decoded(func(a act.Actions, r reqRevoke) (any, error) { return a.Revoke(r.Member, r.Reason, r.AcceptNone) }),
	"confirm": decoded(func(a act.Actions, member string) (any, error) {
		return a.Confirm(member)
	}),
	"configure":   decoded(func(a act.Actions, settings []string) (any, error) { return a.Configure(settings) }),
	"cancel":      decoded(func(a act.Actions, r reqRef) (any, error) { return a.CancelInvite(r.Ref, r.Reason) }),
	"attach":      decoded(func(a act.Actions, r reqAttach) (any, error) { return a.AttachFile(r.Name, r.Data) }),
	"submit":      decoded(func(a act.Actions, r act.Submission) (any, error) { return a.Submit(r) }),
	"amend":       decoded(func(a act.Actions, r act.Amendment) (any, error) { return a.Amend(r) }),
	"retract":     decoded(func(a act.Actions, r reqRef) (any, error) { return a.Retract(r.Ref, r.Reason) }),
	"review":      decoded(func(a act.Actions, r act.Verdict) (any, error) { return a.Review(r) }),
	"checkin":     decoded(func(a act.Actions, r incident.CheckinPayload) (any, error) { return a.Checkin(r) }),
	"alert":       decoded(func(a act.Actions, r incident.AlertPayload) (any, error) { return a.Alert(r) }),
	"notice":      decoded(func(a act.Actions, r act.NoticeRequest) (any, error) { return a.Notice(r) }),
	"notices":     decoded(func(a act.Actions, q act.NoticeQuery) (any, error) { return a.Notices(q) }),
	"alerts":      decoded(func(a act.Actions, _ struct{}) (any, error) { return a.Alerts() }),
	"report":      decoded(func(a act.Actions, ref string) (any, error) { return a.Report(ref) }),
	"files":       decoded(func(a act.Actions, ref string) (any, error) { return a.Files(ref) }),
	"file":        decoded(func(a act.Actions, r reqFile) (any, error) { return a.ReadFile(r.Report, r.N) }),
	"public-file": decoded(func(a act.Actions, r reqFile) (any, error) { return a.PublicFile(r.Report, r.N) }),
	"sms-text":    decoded(func(a act.Actions, ref string) (any, error) { return a.SMSText(ref) }),
	"sms-sent": decoded(func(a act.Actions, ref string) (any, error) {
		return struct{}{}, a.MarkSMSSent(ref)
	}),
	"sms-receive": decoded(func(a act.Actions, m act.SMSMessage) (any, error) { return a.ReceiveSMS(m) }),
	"sms-retry":   decoded(func(a act.Actions, _ struct{}) (any, error) { return a.RetryPendingSMS() }),
	"sms-senders": decoded(func(a act.Actions, _ struct{}) (any, error) { return a.SMSSenders() }),
	"sms-key":     decoded(func(a act.Actions, rotate bool) (any, error) { return a.SMSKey(rotate) }),
}

// decoded adapts a use case to a JSON body.
func decoded[R any](fn func(a act.Actions, r R) (any, error)) func(a act.Actions, body []byte) (any, error) {
	return func(a act.Actions, body []byte) (any, error) {
		var r R
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, &act.Error{Code: act.Invalid, Msg: "the control request is malformed: " + err.Error()}
		}
		return fn(a, r)
	}
}

// maxActBody bounds a typed request: an attachment of the largest size,
// base64-encoded, and room for the rest.
const maxActBody = incident.MaxAttachmentSize*4/3 + 1<<20

// actBodyLimits are the typed requests allowed a larger body, by name.
var actBodyLimits = map[string]int64{}

// serveAct answers one typed request against the node's store.
func (cs *controlServer) serveAct(w http.ResponseWriter, r *http.Request) {
	h, ok := actHandlers[r.PathValue("name")]
	if !ok {
		http.Error(w, "no such action", http.StatusNotFound)
		return
	}
	limit := int64(maxActBody)
	if n, ok := actBodyLimits[r.PathValue("name")]; ok {
		limit = n
	}
	var req actRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, limit)).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var resp actResponse
	if err := cs.unlock(req.Passphrase); err != nil {
		resp.Error = &wireError{Code: act.Failed, Msg: err.Error()}
	} else {
		cs.mu.RLock()
		res, err := h(cs.desk, req.Request)
		cs.mu.RUnlock()
		if err != nil {
			resp.Error = wire(err)
		} else if resp.Result, err = json.Marshal(res); err != nil {
			resp.Error = &wireError{Code: act.Failed, Msg: err.Error()}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// remote is act.Actions over the control socket of the process that
// holds the home.
type remote struct {
	home string
	pass []byte
}

var _ act.Actions = (*remote)(nil)

// envelope is req with the passphrase, as the holder reads it.
func (r *remote) envelope(req any) ([]byte, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(actRequest{Passphrase: r.pass, Request: body})
}

// refused is the error of an answer that is not 200 OK: the holder did
// not know the request.
func refused(resp *http.Response) error {
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return fmt.Errorf("control socket: %s: %s (is the node an older build?)", resp.Status, strings.TrimSpace(string(msg)))
}

func (r *remote) call(name string, req, out any) error {
	payload, err := r.envelope(req)
	if err != nil {
		return err
	}
	client := r.client()
	defer client.CloseIdleConnections()
	resp, err := client.Post("http://vigil/v1/act/"+name, "application/json", bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return refused(resp)
	}
	return answer(resp.Body, out)
}

// client speaks HTTP over the home's control socket.
func (r *remote) client() *http.Client {
	path := socketPath(r.home)
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// answer decodes a JSON answer into out, or its refusal.
func answer(body io.Reader, out any) error {
	var ans actResponse
	if err := json.NewDecoder(io.LimitReader(body, 64<<20)).Decode(&ans); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if ans.Error != nil {
		return &act.Error{Code: ans.Error.Code, Field: ans.Error.Field, Msg: ans.Error.Msg}
	}
	return json.Unmarshal(ans.Result, out)
}

// callAs is one use case's round trip.
func callAs[T any](r *remote, name string, req any) (T, error) {
	var out T
	err := r.call(name, req, &out)
	return out, err
}

func (r *remote) CreateMission(spec store.MissionSpec) (incident.ID, error) {
	return callAs[incident.ID](r, "create", spec)
}
func (r *remote) Join(code string) (act.Joined, error) { return callAs[act.Joined](r, "join", code) }
func (r *remote) Invite(req act.InviteRequest) (act.Invitation, error) {
	return callAs[act.Invitation](r, "invite", req)
}
func (r *remote) Revoke(member, reason string, acceptNone bool) (act.Revocation, error) {
	return callAs[act.Revocation](r, "revoke", reqRevoke{member, reason, acceptNone})
}
func (r *remote) Confirm(member string) (act.Confirmation, error) {
	return callAs[act.Confirmation](r, "confirm", member)
}
func (r *remote) CancelInvite(invite, reason string) (act.Cancellation, error) {
	return callAs[act.Cancellation](r, "cancel", reqRef{invite, reason})
}
func (r *remote) Configure(settings []string) (act.Created, error) {
	return callAs[act.Created](r, "configure", settings)
}
func (r *remote) AttachFile(name string, data []byte) (act.Attachment, error) {
	return callAs[act.Attachment](r, "attach", reqAttach{name, data})
}
func (r *remote) Submit(s act.Submission) (act.Created, error) {
	return callAs[act.Created](r, "submit", s)
}
func (r *remote) Amend(a act.Amendment) (act.Created, error) {
	return callAs[act.Created](r, "amend", a)
}
func (r *remote) Retract(report, reason string) (act.Retraction, error) {
	return callAs[act.Retraction](r, "retract", reqRef{report, reason})
}
func (r *remote) Review(v act.Verdict) (act.Created, error) {
	return callAs[act.Created](r, "review", v)
}
func (r *remote) Checkin(c incident.CheckinPayload) (act.Created, error) {
	return callAs[act.Created](r, "checkin", c)
}
func (r *remote) Alert(a incident.AlertPayload) (act.Created, error) {
	return callAs[act.Created](r, "alert", a)
}

func (r *remote) Notice(n act.NoticeRequest) (act.Created, error) {
	return callAs[act.Created](r, "notice", n)
}

func (r *remote) Notices(q act.NoticeQuery) ([]incident.NoticeView, error) {
	return callAs[[]incident.NoticeView](r, "notices", q)
}

func (r *remote) Alerts() ([]act.AlertItem, error) {
	return callAs[[]act.AlertItem](r, "alerts", struct{}{})
}
func (r *remote) Report(ref string) (incident.ReportView, error) {
	return callAs[incident.ReportView](r, "report", ref)
}
func (r *remote) SMSText(ref string) (act.SMSText, error) {
	return callAs[act.SMSText](r, "sms-text", ref)
}
func (r *remote) MarkSMSSent(ref string) error {
	_, err := callAs[struct{}](r, "sms-sent", ref)
	return err
}
func (r *remote) ReceiveSMS(m act.SMSMessage) (act.SMSReceived, error) {
	return callAs[act.SMSReceived](r, "sms-receive", m)
}
func (r *remote) RetryPendingSMS() ([]act.SMSReceived, error) {
	return callAs[[]act.SMSReceived](r, "sms-retry", struct{}{})
}
func (r *remote) SMSSenders() ([]act.SMSSender, error) {
	return callAs[[]act.SMSSender](r, "sms-senders", struct{}{})
}
func (r *remote) SMSKey(rotate bool) (act.SMSKeyResult, error) {
	return callAs[act.SMSKeyResult](r, "sms-key", rotate)
}
func (r *remote) Files(ref string) ([]act.File, error) { return callAs[[]act.File](r, "files", ref) }
func (r *remote) ReadFile(ref string, n int) (act.FileData, error) {
	return callAs[act.FileData](r, "file", reqFile{ref, n})
}
func (r *remote) PublicFile(ref string, n int) (act.FileData, error) {
	return callAs[act.FileData](r, "public-file", reqFile{ref, n})
}

// The actions that carry a file go as streams. Out of the holder (export,
// bundle export): the request in the Vigil-Request header, the file as the
// answer's body, and the result or refusal in the trailers Vigil-Result
// and Vigil-Error, so the caller writes the file itself (writeAtomic
// keeps no half file when a refusal comes at the end). Into the holder
// (bundle import): the request in the header, the file as the body, and
// the usual JSON answer.

// outStreams write a file for the caller.
var outStreams = map[string]func(a act.Actions, body []byte, w io.Writer) (any, error){
	"export": func(a act.Actions, body []byte, w io.Writer) (any, error) {
		var r act.ExportRequest
		if err := unmarshalRequest(body, &r); err != nil {
			return nil, err
		}
		return a.Export(r, w)
	},
	"bundle": func(a act.Actions, body []byte, w io.Writer) (any, error) {
		var r act.BundleRequest
		if err := unmarshalRequest(body, &r); err != nil {
			return nil, err
		}
		return a.ExportBundle(r, w)
	},
	"backup": func(a act.Actions, body []byte, w io.Writer) (any, error) {
		var r act.BackupRequest
		if err := unmarshalRequest(body, &r); err != nil {
			return nil, err
		}
		return a.Backup(r, w)
	},
}

func unmarshalRequest(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return &act.Error{Code: act.Invalid, Msg: "the control request is malformed: " + err.Error()}
	}
	return nil
}

// streamEnvelope reads the Vigil-Request header.
func streamEnvelope(r *http.Request) (actRequest, error) {
	var env actRequest
	b, err := base64.StdEncoding.DecodeString(r.Header.Get("Vigil-Request"))
	if err == nil {
		err = json.Unmarshal(b, &env)
	}
	return env, err
}

// wire is the refusal err on the socket.
func wire(err error) *wireError {
	var ae *act.Error
	if !errors.As(err, &ae) {
		ae = &act.Error{Code: act.Failed, Msg: err.Error()}
	}
	return &wireError{Code: ae.Code, Field: ae.Field, Msg: ae.Msg}
}

func trailer(v any) string {
	b, _ := json.Marshal(v)
	return base64.StdEncoding.EncodeToString(b)
}

// serveOut answers an action that writes a file for the caller.
func (cs *controlServer) serveOut(w http.ResponseWriter, r *http.Request) {
	h, ok := outStreams[r.PathValue("name")]
	env, err := streamEnvelope(r)
	if !ok || err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Trailer", "Vigil-Result, Vigil-Error")
	w.Header().Set("Content-Type", "application/octet-stream")
	var res any
	if err = cs.unlock(env.Passphrase); err == nil {
		cs.mu.RLock()
		res, err = h(cs.desk, env.Request, w)
		cs.mu.RUnlock()
	}
	if err != nil {
		w.Header().Set("Vigil-Error", trailer(wire(err)))
		return
	}
	w.Header().Set("Vigil-Result", trailer(res))
}

// serveImport answers a bundle import: the file is the request's body.
func (cs *controlServer) serveImport(w http.ResponseWriter, r *http.Request) {
	env, err := streamEnvelope(r)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var resp actResponse
	var req act.ImportRequest
	res, err := func() (any, error) {
		if err := cs.unlock(env.Passphrase); err != nil {
			return nil, err
		}
		if err := unmarshalRequest(env.Request, &req); err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, bundle.MaxBytes+1))
		if err != nil {
			return nil, err
		}
		req.Data = data
		cs.mu.RLock()
		defer cs.mu.RUnlock()
		return cs.desk.ImportBundle(req)
	}()
	if err != nil {
		resp.Error = wire(err)
	} else if resp.Result, err = json.Marshal(res); err != nil {
		resp.Error = wire(err)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// stream posts a streamed action: in is the request's body (nil for
// none); the answer's body goes to out, and its result to result.
func (r *remote) stream(path string, req any, in io.Reader, out io.Writer, result any) error {
	env, err := r.envelope(req)
	if err != nil {
		return err
	}
	if in == nil {
		in = http.NoBody
	}
	hreq, err := http.NewRequest(http.MethodPost, "http://vigil"+path, in)
	if err != nil {
		return err
	}
	hreq.Header.Set("Vigil-Request", base64.StdEncoding.EncodeToString(env))
	client := r.client()
	defer client.CloseIdleConnections()
	resp, err := client.Do(hreq)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return refused(resp)
	}
	if out == nil {
		return answer(resp.Body, result)
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		return err
	}
	if e := resp.Trailer.Get("Vigil-Error"); e != "" {
		var we wireError
		if b, err := base64.StdEncoding.DecodeString(e); err != nil || json.Unmarshal(b, &we) != nil {
			return errors.New("control socket: an unreadable refusal")
		}
		return &act.Error{Code: we.Code, Field: we.Field, Msg: we.Msg}
	}
	b, err := base64.StdEncoding.DecodeString(resp.Trailer.Get("Vigil-Result"))
	if err != nil || len(b) == 0 {
		return errors.New("control socket: the holder ended the stream without a result")
	}
	return json.Unmarshal(b, result)
}

func (r *remote) Export(req act.ExportRequest, w io.Writer) (act.Exported, error) {
	var out act.Exported
	return out, r.stream("/v1/out/export", req, nil, w, &out)
}

func (r *remote) ExportBundle(req act.BundleRequest, w io.Writer) (act.Bundled, error) {
	var out act.Bundled
	return out, r.stream("/v1/out/bundle", req, nil, w, &out)
}

// Backup streams the holder's backup into w, as an export does: the
// caller writes the file where it was asked to, and the holder writes
// nothing of its own.
func (r *remote) Backup(req act.BackupRequest, w io.Writer) (act.BackedUp, error) {
	var out act.BackedUp
	return out, r.stream("/v1/out/backup", req, nil, w, &out)
}

func (r *remote) ImportBundle(req act.ImportRequest) (bundle.Summary, error) {
	var out bundle.Summary
	var body io.Reader = bytes.NewReader(req.Data)
	if req.File != nil {
		body = io.NewSectionReader(req.File, 0, req.Size)
	}
	return out, r.stream("/v1/import", req, body, nil, &out)
}
