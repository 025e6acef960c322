package deptest

import (
	"go/ast"
	"go/types"
	"slices"
	"sort"
	"testing"

	"golang.org/x/tools/go/packages"
)

// The adapters (the command line, the app, the phone glue) carry out what
// a person does through incident/act, the one place that decides it.
// They may read the store (listings, status, exports) and open it, but a
// call from them to one of the store's writing actions means a rule is
// being written a second time beside act's.

var adapters = []string{modPath + "/app", modPath + "/cmd/vigil", modPath + "/mobile"}

// storeActions are the methods of *store.Store that sign or store on a
// person's behalf: act calls them, after its checks.
var storeActions = []string{"Put", "PutMaybeSealed", "PutSealed", "PutBlob", "Review", "Retract", "Revoke", "Confirm",
	"CancelInvite", "Invite", "Join", "CreateMission", "CreateMissionWith", "NewEpoch"}

func TestAdaptersActThroughAct(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the app and the command line (-short)")
	}
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedImports | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo,
		Dir: moduleRoot(t)}
	pkgs, err := packages.Load(cfg, adapters...)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != len(adapters) {
		t.Fatalf("loaded %d packages, want %d", len(pkgs), len(adapters))
	}
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			t.Fatalf("%s: %v", p.PkgPath, p.Errors)
		}
		if p.PkgPath != modPath+"/mobile" {
			if _, ok := p.Imports[modPath+"/incident/act"]; !ok {
				t.Errorf("%s does not import incident/act: its actions are written somewhere else", p.PkgPath)
			}
		}
		for _, call := range storeActionCalls(p) {
			t.Errorf("%s calls the store's %s directly: go through incident/act (docs/architecture.md, Where each rule lives)", p.PkgPath, call)
		}
	}
}

// storeActionCalls lists the calls in p's files to *store.Store's writing
// actions, as file:line Method.
func storeActionCalls(p *packages.Package) []string {
	var out []string
	for _, f := range p.Syntax {
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok || !slices.Contains(storeActions, sel.Sel.Name) {
				return true
			}
			s, ok := p.TypesInfo.Selections[sel]
			if !ok || s.Kind() != types.MethodVal {
				return true
			}
			if isStore(s.Recv()) {
				out = append(out, p.Fset.Position(sel.Pos()).String()+" "+sel.Sel.Name)
			}
			return true
		})
	}
	sort.Strings(out)
	return out
}

// isStore reports whether t is incident/store.Store or a pointer to it.
func isStore(t types.Type) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == modPath+"/incident/store" && n.Obj().Name() == "Store"
}

// TestStoreActionCallsFound: the finder sees a direct call, so the test
// above cannot pass by seeing nothing. It type-checks incident/act, which
// must call the store's actions.
func TestStoreActionCallsFound(t *testing.T) {
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo, Dir: moduleRoot(t)}
	pkgs, err := packages.Load(cfg, modPath+"/incident/act")
	if err != nil || len(pkgs) != 1 || len(pkgs[0].Errors) > 0 {
		t.Fatalf("load incident/act: %v %v", err, pkgs)
	}
	calls := storeActionCalls(pkgs[0])
	for _, want := range []string{"PutMaybeSealed", "Retract", "Revoke", "Invite", "Join"} {
		if !slices.ContainsFunc(calls, func(c string) bool { return len(c) > len(want) && c[len(c)-len(want)-1:] == " "+want }) {
			t.Errorf("the finder missed act's call to %s: %v", want, calls)
		}
	}
}
