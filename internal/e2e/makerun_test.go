package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/internal/testkit"
)

// TestMakeRunPractice is issue 16's check of a newcomer's first minutes:
// with no display, a fresh HOME and VIGIL_PASSPHRASE set, `make run` leaves
// a node running on the practice mission within two minutes after the
// build, `vigil status` on that home says running: true, and Ctrl-C (SIGINT
// to make's process group, as a terminal sends it) stops it cleanly: make
// ends, with no stack trace, and the home's lock is free again.
//
// It runs the real `make run` in the repository root, so it (re)builds
// bin/vigil there, as `make build` does. The Go build cache and module
// cache are the caller's (GOCACHE, GOMODCACHE, GOPATH and GOENV passed on
// explicitly, since they default to folders under HOME): inside `make test`
// the dependencies are already compiled by `go vet`, so the build is one
// package and a link (tens of seconds); on a cold cache it is minutes, and
// the build gets up to buildLimit.
func TestMakeRunPractice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bin/vigil through `make run`: skipped under -short")
	}
	for _, tool := range []string{"make", "go", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH; `make run` needs it", tool)
		}
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Makefile", "scripts/run.sh"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Skipf("no %s in %s: not a checkout of the repository", f, root)
		}
	}
	consultSources(t, root)
	const (
		buildLimit = 10 * time.Minute // the build inside make run
		startLimit = 2 * time.Minute  // after the build: the bound
		stopLimit  = 30 * time.Second // Ctrl-C to make's exit
	)

	home := t.TempDir()
	realHome := filepath.Join(home, ".local", "share", "vigil") // vigil's default home under this HOME
	practice := realHome + "-practice"
	env := makeRunEnv(t, home)

	cmd := exec.Command("make", "--no-print-directory", "-C", root, "run")
	cmd.Env = env
	cmd.Stdin = nil // /dev/null: no terminal, so nothing may wait for a prompt
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var (
		mu   sync.Mutex
		out  bytes.Buffer
		once sync.Once
	)
	built := make(chan time.Time, 1)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			out.WriteString(line + "\n")
			mu.Unlock()
			// run.sh says this once the build is done, just before exec.
			if strings.Contains(line, "run: starting the headless node") {
				once.Do(func() { built <- time.Now() })
			}
		}
		io.Copy(io.Discard, pr)
	}()
	output := func() string {
		mu.Lock()
		defer mu.Unlock()
		return out.String()
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("make run: %v", err)
	}
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		pw.Close()
		exited <- err
	}()
	var waitErr error
	finished := false
	t.Cleanup(func() {
		if !finished {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		<-readDone
		if t.Failed() {
			t.Logf("make run output:\n%s", output())
		}
	})

	// The build.
	var builtAt time.Time
	select {
	case builtAt = <-built:
		t.Logf("make run built bin/vigil in %v", builtAt.Sub(start).Round(time.Second))
	case waitErr = <-exited:
		finished = true
		t.Fatalf("make run ended before starting the node: %v", waitErr)
	case <-time.After(buildLimit):
		t.Fatalf("make run did not finish its build in %v (a cold Go build cache on a slow machine? `make build` first)", buildLimit)
	}
	bin := filepath.Join(root, "bin", "vigil")

	// A node on the practice home, answering through its control socket.
	// Status is asked only once the socket exists: before that it would
	// open the store itself and could take the lock from the starting node.
	var running bool
	ok, took := testkit.Poll(startLimit, 200*time.Millisecond, func() bool {
		select {
		case waitErr = <-exited:
			finished = true
			return true
		default:
		}
		if _, err := os.Stat(filepath.Join(practice, "control.sock")); err != nil {
			return false
		}
		st, err := statusOf(bin, env, practice)
		running = err == nil && st.Running
		return running
	})
	if finished {
		t.Fatalf("make run ended instead of running the node: %v", waitErr)
	}
	if !ok {
		t.Fatalf("no node running on the practice home %s within %v after the build", practice, startLimit)
	}
	t.Logf("node running on the practice home %v after the build", took.Round(time.Millisecond))
	msg := output()
	for _, want := range []string{"PRACTICE", practice, "vigil init", "vigil mission create", "vigil mission join CODE"} {
		if !strings.Contains(msg, want) {
			t.Errorf("make run's output does not say %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(realHome, "key.json")); err == nil {
		t.Errorf("make run created a store in the default home %s; practice data belongs beside it", realHome)
	}

	// Ctrl-C: SIGINT to the whole process group, as a terminal sends it.
	stopAt := time.Now()
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case waitErr = <-exited:
		finished = true
	case <-time.After(stopLimit):
		t.Fatalf("make run did not end within %v of Ctrl-C", stopLimit)
	}
	<-readDone
	t.Logf("make run ended %v after Ctrl-C: %v", time.Since(stopAt).Round(time.Millisecond), waitErr)
	if !cleanInterrupt(waitErr) {
		t.Errorf("make run ended with %v after Ctrl-C; want exit 0, exit 130 or death by SIGINT", waitErr)
	}
	msg = output()
	for _, bad := range []string{"panic:", "goroutine ", "fatal error:", "SIGSEGV"} {
		if strings.Contains(msg, bad) {
			t.Errorf("make run's output after Ctrl-C holds %q (a crash, not a clean stop)", bad)
		}
	}
	if !strings.Contains(msg, "Stopping.") {
		t.Errorf("the node did not say it was stopping: did it get Ctrl-C?")
	}
	// The lock is free: status opens the store itself and finds no node.
	st, err := statusOf(bin, env, practice)
	if err != nil {
		t.Fatalf("status on the practice home after Ctrl-C: %v (is its lock still held?)", err)
	}
	if st.Running {
		t.Error("status after Ctrl-C still says running: true")
	}
	if st.Mission == nil {
		t.Error("the practice home has no mission")
	}
}

// makeRunEnv is the environment of a newcomer's `make run`: a fresh HOME,
// no display, VIGIL_PASSPHRASE set, no VIGIL_HOME or XDG folders, and no
// make state from a caller (a `make test` jobserver). Go's caches are the
// caller's, named outright because they default to folders under HOME.
func makeRunEnv(t *testing.T, home string) []string {
	t.Helper()
	goEnv := exec.Command("go", "env", "-json", "GOCACHE", "GOMODCACHE", "GOPATH", "GOENV")
	b, err := goEnv.Output()
	if err != nil {
		t.Skipf("go env: %v", err)
	}
	var g map[string]string
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("go env -json: %v\n%s", err, b)
	}
	drop := func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "DISPLAY", "WAYLAND_DISPLAY", "VIGIL_HOME", "VIGIL_PASSPHRASE",
			"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GOCACHE", "GOMODCACHE", "GOPATH", "GOENV":
			return true
		}
		return strings.HasPrefix(k, "XDG_")
	}
	var env []string
	for _, kv := range os.Environ() {
		if !drop(kv) {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+home, "VIGIL_PASSPHRASE="+pass)
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOENV"} {
		if g[k] != "" {
			env = append(env, k+"="+g[k])
		}
	}
	return env
}

// statusOf runs `vigil --home HOME status --json` with env.
func statusOf(bin string, env []string, home string) (statusJSON, error) {
	var st statusJSON
	cmd := exec.Command(bin, "--home", home, "status", "--json")
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return st, err
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return st, errors.New(err.Error() + ": " + strings.TrimSpace(e.String()))
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		return st, errors.New("vigil status did not answer in a minute")
	}
	if err := json.Unmarshal(o.Bytes(), &st); err != nil {
		return st, errors.New("status --json: " + err.Error() + ": " + o.String())
	}
	return st, nil
}

// cleanInterrupt: a process that ended well after SIGINT exited 0 or 130,
// or died of the signal (make re-raises it once its children are done).
func cleanInterrupt(err error) bool {
	if err == nil {
		return true
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal() == syscall.SIGINT
	}
	return ee.ExitCode() == 130
}

// consultSources stats every file that `make run` builds from, so that
// go test's result cache (which keys on the files a test consults) reruns
// this test when any of them changes rather than replaying a stale pass.
func consultSources(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "bin" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".sh") || name == "go.mod" || name == "go.sum" || name == "Makefile" {
			_, err := os.Stat(path)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading the sources under %s: %v", root, err)
	}
}
