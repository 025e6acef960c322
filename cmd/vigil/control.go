package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/vault"
	"github.com/vigil-mesh/vigil/sync/daemon"
)

// The control socket: while `vigil node` (or the app) holds a home, other
// vigil commands on that home run inside it. The socket is a Unix socket
// in the home folder, owner-only, speaking HTTP+JSON. Every request carries
// the store passphrase, which the holder checks before doing anything, so
// another local account cannot use the socket to read the store.

func socketPath(home string) string { return filepath.Join(home, "control.sock") }

type execRequest struct {
	Args       []string `json:"args"`
	Dir        string   `json:"dir"` // the caller's working folder
	JSON       bool     `json:"json"`
	Passphrase []byte   `json:"passphrase"`
	Stdin      []byte   `json:"stdin,omitempty"`
}

type execResponse struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
}

// controlServer runs commands against a running daemon.
type controlServer struct {
	home string
	d    *daemon.Daemon
	base *cli // for now and getenv
	// mu lets requests run side by side (a long export does not hold up
	// a check-in) except those that change what unlocks the store or
	// destroy it (passphrase, wipe), which run alone.
	mu  sync.RWMutex
	ln  net.Listener
	srv *http.Server
	// desk serves every request: one desk, so that what it keeps in
	// memory (the SMS rate limits per number and author) holds across
	// requests, as it does in the app.
	desk *act.Desk
	// stop is closed when a command (wipe) needs the holder to exit.
	stop     chan struct{}
	stopOnce sync.Once
}

func serveControl(c *cli, d *daemon.Daemon) (*controlServer, error) {
	path := socketPath(c.home)
	// A socket left by a killed node: nobody answers on it, remove it.
	if _, err := os.Stat(path); err == nil {
		if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
			conn.Close()
			return nil, fmt.Errorf("another process serves %s", path)
		}
		_ = os.Remove(path)
	}
	old := umask(0o077)
	ln, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	cs := &controlServer{home: c.home, d: d, base: c, ln: ln, stop: make(chan struct{}), desk: deskFor(d.Store, d)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/exec", cs.exec)
	mux.HandleFunc("POST /v1/act/{name}", cs.serveAct)
	mux.HandleFunc("POST /v1/out/{name}", cs.serveOut)
	mux.HandleFunc("POST /v1/import", cs.serveImport)
	cs.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = cs.srv.Serve(ln) }()
	return cs, nil
}

func (cs *controlServer) requestStop() { cs.stopOnce.Do(func() { close(cs.stop) }) }

func (cs *controlServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = cs.srv.Shutdown(ctx)
	_ = os.Remove(socketPath(cs.home))
}

func (cs *controlServer) exec(w http.ResponseWriter, r *http.Request) {
	var req execRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	resp := execResponse{}
	if err := cs.unlock(req.Passphrase); err != nil {
		resp.Stderr, resp.Code = "vigil: "+err.Error()+"\n", exitError
		_ = json.NewEncoder(w).Encode(resp)
		return
	}
	if len(req.Args) > 0 && alone[req.Args[0]] {
		cs.mu.Lock()
		defer cs.mu.Unlock()
	} else {
		cs.mu.RLock()
		defer cs.mu.RUnlock()
	}
	var out, errb bytes.Buffer
	if !filepath.IsAbs(req.Dir) {
		resp.Stderr, resp.Code = "vigil: the control request names no absolute working folder\n", exitError
		_ = json.NewEncoder(w).Encode(resp)
		return
	}
	c := &cli{home: cs.home, dir: req.Dir, json: req.JSON, stdin: bytes.NewReader(req.Stdin), stdout: &out, stderr: &errb,
		getenv: func(k string) string {
			if k == "VIGIL_PASSPHRASE" {
				return string(req.Passphrase)
			}
			return cs.base.getenv(k)
		}, now: cs.base.now, daemon: cs.d, shared: cs.d.Store, control: cs}
	resp.Code = c.runParsed(req.Args)
	resp.Stdout, resp.Stderr = out.String(), errb.String()
	_ = json.NewEncoder(w).Encode(resp)
}

// alone are the commands that run with no other request beside them.
var alone = map[string]bool{"passphrase": true, "wipe": true}

// unlock checks a request's passphrase against the home's key file: the
// socket is owner-only, and the passphrase keeps another program of the
// same account from using it without knowing it.
func (cs *controlServer) unlock(pass []byte) error {
	_, err := vault.Unlock(cs.home, pass)
	return err
}

// errNoNode: no process serves the home's control socket.
var errNoNode = errors.New("no node is running on this home")

// socketLive reports whether a process answers on home's control socket.
func socketLive(home string) bool {
	path := socketPath(home)
	if _, err := os.Stat(path); err != nil {
		return false
	}
	conn, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// forward runs args in the process that holds the home, if one does. It
// returns errNoNode when none answers.
func (c *cli) forward(args []string) (int, error) {
	path := socketPath(c.home)
	if !socketLive(c.home) {
		return 0, errNoNode
	}
	pass, err := c.passphrase("Passphrase for " + c.home)
	if err != nil {
		return 0, err
	}
	var stdin []byte
	if len(args) >= 2 && args[0] == "mission" && args[1] == "join" && len(args) >= 3 && args[2] == "-" {
		stdin, _ = io.ReadAll(io.LimitReader(c.stdin, 1<<20))
	}
	dir, err := os.Getwd()
	if err != nil {
		return 0, fmt.Errorf("working folder: %w", err)
	}
	body, _ := json.Marshal(execRequest{Args: args, Dir: dir, JSON: c.json, Passphrase: pass, Stdin: stdin})
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
	resp, err := client.Post("http://vigil/v1/exec", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("control socket: %w", err)
	}
	defer resp.Body.Close()
	var out execResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, fmt.Errorf("control socket: %w", err)
	}
	io.WriteString(c.stdout, out.Stdout)
	io.WriteString(c.stderr, out.Stderr)
	return out.Code, nil
}
