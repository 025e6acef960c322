// Package deptest keeps the dependency direction of docs/architecture.md
// true: it asks `go list -deps` what each Vigil package depends on,
// directly or through other packages, and fails when an arrow points the
// wrong way.
//
// The rules are checked against transitive dependencies, as tailscale's
// tstest/deptest does: a package that reaches libp2p through a helper
// depends on libp2p just the same.
package deptest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const modPath = "github.com/vigil-mesh/vigil"

// pkg is the part of `go list -json` output the rules need.
type pkg struct {
	ImportPath string
	Deps       []string // every package this one depends on, transitively; sorted
	Error      *struct{ Err string }
}

// rule forbids the packages that Subject matches from depending on any
// import path that Forbidden matches, unless Allowed matches the subject.
type rule struct {
	Name      string
	Subject   func(importPath string) bool
	Allowed   func(importPath string) bool // exemptions among the subjects; may be nil
	Forbidden func(dep string) bool
	// Describes the subjects for skip messages, e.g. "github.com/vigil-mesh/vigil/node/...".
	SubjectDesc string
}

type violation struct {
	Rule, Pkg, Dep string
}

func (v violation) String() string {
	return fmt.Sprintf("%s: %s depends on %s", v.Rule, v.Pkg, v.Dep)
}

// exactly matches the module package p (relative to the module root) and
// nothing below it.
func exactly(p string) func(string) bool {
	full := modPath + "/" + p
	return func(ip string) bool { return ip == full }
}

// tree matches the module package p and every package below it, like the
// go command's p/... pattern.
func tree(p string) func(string) bool {
	full := modPath + "/" + p
	return func(ip string) bool { return ip == full || strings.HasPrefix(ip, full+"/") }
}

// anyOf matches when any of fs does.
func anyOf(fs ...func(string) bool) func(string) bool {
	return func(s string) bool {
		for _, f := range fs {
			if f(s) {
				return true
			}
		}
		return false
	}
}

// containing matches import paths that contain any of the substrings.
func containing(subs ...string) func(string) bool {
	return func(s string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	}
}

func inModule(ip string) bool { return ip == modPath || strings.HasPrefix(ip, modPath+"/") }

// upper layers, which nothing below them may reach.
var (
	ui       = anyOf(tree("app"), tree("mobile"), tree("cmd"))
	fyne     = containing("fyne.io")
	layering = []rule{
		{
			Name:        "incident stays pure (standard library and crypto only)",
			Subject:     exactly("incident"),
			SubjectDesc: modPath + "/incident",
			Forbidden:   containing("libp2p", "badger", "fyne.io", "multiaddr", "excelize", "net/http"),
		},
		{
			Name:        "incident/... never points up",
			Subject:     tree("incident"),
			SubjectDesc: modPath + "/incident/...",
			Forbidden:   anyOf(tree("node"), tree("sync"), ui),
		},
		{
			Name:        "node asks through callbacks, never imports sync, incident or the UI",
			Subject:     tree("node"),
			SubjectDesc: modPath + "/node/...",
			Forbidden:   anyOf(tree("sync"), tree("incident"), ui, fyne),
		},
		{
			Name:        "sync never imports the UI",
			Subject:     tree("sync"),
			SubjectDesc: modPath + "/sync/...",
			Forbidden:   anyOf(ui, fyne),
		},
		{
			Name:        "only app, mobile and cmd import Fyne",
			Subject:     inModule,
			Allowed:     ui,
			SubjectDesc: modPath + "/...",
			Forbidden:   fyne,
		},
		{
			Name:        "the SMS codec is a format: incident and the standard library only",
			Subject:     tree("incident/sms"),
			SubjectDesc: modPath + "/incident/sms/...",
			Forbidden:   anyOf(tree("incident/store"), tree("incident/act"), containing("libp2p", "badger", "fyne.io", "net/http", "excelize")),
		},
		{
			Name:        "SMS transports know nothing of records",
			Subject:     tree("sync/sms"),
			SubjectDesc: modPath + "/sync/sms/...",
			Forbidden:   anyOf(tree("incident"), tree("node"), tree("sync/mesh"), containing("libp2p", "badger")),
		},
	}
)

// check applies rules to pkgs. It returns the violations, sorted, and the
// rules that matched no package at all (nothing to check yet).
func check(pkgs []pkg, rules []rule) (violations []violation, unmatched []rule) {
	for _, r := range rules {
		matched := false
		for _, p := range pkgs {
			if !r.Subject(p.ImportPath) {
				continue
			}
			matched = true
			if r.Allowed != nil && r.Allowed(p.ImportPath) {
				continue
			}
			for _, d := range p.Deps {
				if r.Forbidden(d) {
					violations = append(violations, violation{r.Name, p.ImportPath, d})
				}
			}
		}
		if !matched {
			unmatched = append(unmatched, r)
		}
	}
	slices.SortFunc(violations, func(a, b violation) int { return strings.Compare(a.String(), b.String()) })
	return violations, unmatched
}

// moduleRoot walks up from the working directory to the folder holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's working directory")
		}
		dir = parent
	}
}

// listModule runs `go list -e -deps -json ./...` in the module root and
// returns the module's own packages with their transitive dependencies.
func listModule(t *testing.T) []pkg {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not on PATH: %v", err)
	}
	cmd := exec.Command(goCmd, "list", "-e", "-deps", "-json=ImportPath,Deps,Error", "./...")
	cmd.Dir = moduleRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		if !inModule(p.ImportPath) {
			continue
		}
		if p.Error != nil {
			// The build and vet steps report broken packages; here the
			// dependency list may just be incomplete.
			t.Logf("go list reports an error in %s (its dependencies may be incomplete): %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestDependencyDirection(t *testing.T) {
	pkgs := listModule(t)
	for _, r := range layering {
		t.Run(r.Name, func(t *testing.T) {
			v, unmatched := check(pkgs, []rule{r})
			if len(unmatched) > 0 {
				t.Skipf("no package matches %s yet; nothing to check", r.SubjectDesc)
			}
			for _, x := range v {
				t.Errorf("%s (see docs/architecture.md, Packages and dependency direction)", x)
			}
		})
	}
}

// TestCheckerReportsViolations feeds the checker a made-up module that
// breaks every rule once, and one that breaks none, so the test above
// cannot pass by checking nothing.
func TestCheckerReportsViolations(t *testing.T) {
	m := func(p string) string { return modPath + "/" + p }
	const (
		libp2p    = "github.com/libp2p/go-libp2p/core/host"
		badger    = "github.com/dgraph-io/badger/v4"
		multiaddr = "github.com/multiformats/go-multiaddr"
		fyneApp   = "fyne.io/fyne/v2/app"
	)
	bad := []pkg{
		{ImportPath: m("incident"), Deps: []string{"crypto/ed25519", libp2p, badger, multiaddr, fyneApp}},
		{ImportPath: m("incident/store"), Deps: []string{badger, m("node")}},
		{ImportPath: m("node"), Deps: []string{libp2p, multiaddr, m("sync/recon"), m("incident")}},
		{ImportPath: m("node/discovery"), Deps: []string{fyneApp, m("app")}},
		{ImportPath: m("sync/mesh"), Deps: []string{m("node"), m("incident"), m("app/views")}},
		{ImportPath: m("sync/recon"), Deps: []string{fyneApp}},
		{ImportPath: m("internal/core"), Deps: []string{m("sync/mesh"), fyneApp}},
		{ImportPath: m("app"), Deps: []string{fyneApp, m("sync/mesh")}},
		{ImportPath: m("mobile"), Deps: []string{fyneApp, m("app")}},
		{ImportPath: m("cmd/vigil"), Deps: []string{fyneApp, m("app")}},
		{ImportPath: m("incident/sms"), Deps: []string{m("incident"), m("incident/store")}},
		{ImportPath: m("sync/sms"), Deps: []string{m("incident"), "github.com/creack/pty"}},
	}
	got, unmatched := check(bad, layering)
	if len(unmatched) != 0 {
		t.Errorf("rules reported as unmatched on a module that has every layer: %v", unmatched)
	}
	want := []violation{
		{layering[0].Name, m("incident"), libp2p},
		{layering[0].Name, m("incident"), badger},
		{layering[0].Name, m("incident"), multiaddr},
		{layering[0].Name, m("incident"), fyneApp},
		{layering[1].Name, m("incident/store"), m("node")},
		{layering[2].Name, m("node"), m("sync/recon")},
		{layering[2].Name, m("node"), m("incident")},
		{layering[2].Name, m("node/discovery"), fyneApp},
		{layering[2].Name, m("node/discovery"), m("app")},
		{layering[3].Name, m("sync/mesh"), m("app/views")},
		{layering[3].Name, m("sync/recon"), fyneApp},
		{layering[4].Name, m("incident"), fyneApp},
		{layering[4].Name, m("node/discovery"), fyneApp},
		{layering[4].Name, m("sync/recon"), fyneApp},
		{layering[4].Name, m("internal/core"), fyneApp},
		{layering[5].Name, m("incident/sms"), m("incident/store")},
		{layering[6].Name, m("sync/sms"), m("incident")},
	}
	slices.SortFunc(want, func(a, b violation) int { return strings.Compare(a.String(), b.String()) })
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n got  %v\n want %v", got, want)
	}

	good := []pkg{
		{ImportPath: m("incident"), Deps: []string{"crypto/ed25519", "github.com/fxamacker/cbor/v2", "github.com/ipfs/go-cid"}},
		{ImportPath: m("incident/store"), Deps: []string{badger, m("incident")}},
		{ImportPath: m("node"), Deps: []string{libp2p, multiaddr}},
		{ImportPath: m("sync/mesh"), Deps: []string{m("node"), m("incident"), libp2p}},
		{ImportPath: m("app"), Deps: []string{fyneApp, m("sync/mesh")}},
		{ImportPath: m("cmd/vigil"), Deps: []string{fyneApp, m("app")}},
	}
	if got, _ := check(good, layering); len(got) != 0 {
		t.Errorf("violations reported for a module that keeps every rule: %v", got)
	}

	// A module with no node package: the node rule has nothing to check and
	// says so rather than passing silently.
	_, unmatched = check([]pkg{{ImportPath: m("incident")}}, layering)
	var names []string
	for _, r := range unmatched {
		names = append(names, r.SubjectDesc)
	}
	if !slices.Contains(names, modPath+"/node/...") || slices.Contains(names, modPath+"/incident") {
		t.Errorf("unmatched rules for a module with only incident: %v", names)
	}
}
