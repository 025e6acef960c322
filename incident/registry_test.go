package incident

import (
	"bytes"
	"slices"
	"testing"
)

func TestNormalizeCode(t *testing.T) {
	for in, want := range map[string]string{
		"PS-0042": "PS-0042", "ps-0042": "PS-0042", " ps 0042 ": "PS-0042", "ps_0042": "PS-0042",
		"ps -- 0042": "PS-0042", "-ps-": "PS", "ke/047/112": "KE/047/112", "": "",
	} {
		if got := NormalizeCode(in); got != want {
			t.Errorf("NormalizeCode(%q) = %q, want %q", in, got, want)
		}
	}
}

// The registry in force is the newest import held whole; stations signed
// on their own count only while no import is whole; an import with a
// stray station, a wrong hash, or by someone whose standing does not
// cover it never is.
func TestFoldRegistry(t *testing.T) {
	f := newFixture(t, "registry")
	obs := f.enroll(f.founder, "observer", RoleObserver)
	deputy := f.enroll(f.founder, "deputy", RoleCoordinator)
	var stations, regs []*Signed
	station := func(s *Signer, code string, snap []byte) *Signed {
		r := f.accept(f.sign(s, KindStation, StationPayload{Code: code, Name: "School " + code, Snapshot: snap}))
		stations = append(stations, r)
		return r
	}
	registry := func(s *Signer, snap []byte, members ...*Signed) *Signed {
		var ids []ID
		for _, m := range members {
			ids = append(ids, m.ID)
		}
		r := f.accept(f.sign(s, KindRegistry, RegistryPayload{Snapshot: snap, Count: uint64(len(members)), Root: RegistryRoot(ids)}))
		regs = append(regs, r)
		return r
	}
	codes := func() []string { r := FoldRegistry(stations, regs, f.ms); return r.Codes() }

	station(f.founder, "ps-1", nil)
	station(f.founder, "PS_1", nil) // the same station, later
	station(f.founder, "PS-2", nil)
	if got := codes(); !slices.Equal(got, []string{"PS-1", "PS-2"}) {
		t.Fatalf("loose stations: %v", got)
	}
	if r := FoldRegistry(stations, regs, f.ms); r.Stations["PS-1"].Station.Name != "School PS_1" || r.Snapshot != nil {
		t.Fatalf("the later loose record wins: %+v", r.Stations["PS-1"])
	}

	s1 := bytes.Repeat([]byte{1}, 32)
	a, b := station(f.founder, "PS-10", s1), station(f.founder, "PS-11", s1)
	r1 := registry(f.founder, s1, a, b)
	if got := codes(); !slices.Equal(got, []string{"PS-10", "PS-11"}) {
		t.Fatalf("the first import, whole: %v", got)
	}

	// A newer import, partly held: the first stays in force.
	s2 := bytes.Repeat([]byte{2}, 32)
	c := station(f.founder, "PS-20", s2)
	d := f.sign(f.founder, KindStation, StationPayload{Code: "PS-21", Snapshot: s2}) // not held yet
	r2 := registry(f.founder, s2, c, d)
	reg := FoldRegistry(stations, regs, f.ms)
	if reg.Snapshot == nil || *reg.Snapshot != r1.ID || len(reg.Pending) != 1 || reg.Pending[0].Held != 1 || reg.Pending[0].Count != 2 || reg.Pending[0].Broken {
		t.Fatalf("a newer import half held: snapshot %v, pending %+v", reg.Snapshot, reg.Pending)
	}
	// Another coordinator's station naming the snapshot is not part of it.
	station(deputy, "PS-99", s2)
	stations = append(stations, f.accept(d))
	if reg := FoldRegistry(stations, regs, f.ms); reg.Snapshot == nil || *reg.Snapshot != r2.ID || !slices.Equal(reg.Codes(), []string{"PS-20", "PS-21"}) {
		t.Fatalf("the newer import, whole: %v %v", reg.Snapshot, reg.Codes())
	}

	// A newest import whose hash does not match is never in force.
	s3 := bytes.Repeat([]byte{3}, 32)
	e := station(f.founder, "PS-30", s3)
	bad := f.accept(f.sign(f.founder, KindRegistry, RegistryPayload{Snapshot: s3, Count: 1, Root: bytes.Repeat([]byte{9}, 32)}))
	regs = append(regs, bad)
	if reg := FoldRegistry(stations, regs, f.ms); *reg.Snapshot != r2.ID || len(reg.Pending) != 1 || !reg.Pending[0].Broken {
		t.Fatalf("a broken import: %v %+v", reg.Snapshot, reg.Pending)
	}
	_ = e
	// An observer cannot sign a registry at all (it waits, never counts).
	forged := f.sign(obs, KindRegistry, RegistryPayload{Snapshot: s3, Count: 1, Root: RegistryRoot([]ID{e.ID})})
	if err := f.validate(forged); !IsMissing(err) {
		t.Fatalf("an observer's registry: %v", err)
	}
	if reg := FoldRegistry(stations, append(regs, forged), f.ms); *reg.Snapshot != r2.ID {
		t.Fatalf("an observer's registry counted: %v", reg.Snapshot)
	}
	// The deputy's import, then the deputy is revoked accepting none: it
	// stops counting.
	s4 := bytes.Repeat([]byte{4}, 32)
	g := station(deputy, "PS-40", s4)
	registry(deputy, s4, g)
	if reg := FoldRegistry(stations, regs, f.ms); !slices.Equal(reg.Codes(), []string{"PS-40"}) {
		t.Fatalf("the deputy's import: %v", reg.Codes())
	}
	dk := deputy.Author()
	f.accept(f.sign(f.founder, KindRevoke, RevokePayload{Member: dk[:], Reason: "laptop seized"}))
	if reg := FoldRegistry(stations, regs, f.ms); *reg.Snapshot != r2.ID {
		t.Fatalf("a revoked coordinator's import still in force: %v", reg.Codes())
	}
	if reg := FoldRegistry(stations, regs, f.ms); !reg.Known("ps 20") || reg.Known("PS-1") {
		t.Fatalf("Known: the registry in force decides")
	}
}

func TestFoldAssignments(t *testing.T) {
	f := newFixture(t, "assignments")
	obs := f.enroll(f.founder, "observer", RoleObserver)
	ok := obs.Author()
	stranger := f.signer("stranger").Author()
	first := f.accept(f.sign(f.founder, KindAssignment, AssignmentPayload{Member: ok[:], Station: "PS-1"}))
	second := f.accept(f.sign(f.founder, KindAssignment, AssignmentPayload{Member: ok[:], Station: "PS-2", Note: "moved"}))
	byObs := f.sign(obs, KindAssignment, AssignmentPayload{Member: ok[:], Station: "PS-9"})
	toStranger := f.sign(f.founder, KindAssignment, AssignmentPayload{Member: stranger[:], Station: "PS-3"})
	if err := f.validate(toStranger); !IsMissing(err) {
		t.Fatalf("an assignment of a non-member: %v, want it waiting", err)
	}
	got := FoldAssignments([]*Signed{second, first, byObs, toStranger}, f.ms, nil)
	if len(got) != 1 || got[ok].Station != "PS-2" || got[ok].ID != second.ID || got[ok].Label != "observer" {
		t.Fatalf("assignments in force: %+v", got)
	}
}
