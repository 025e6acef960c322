package dessim

import (
	"testing"
	"time"
)

// exact is a configuration whose times can be worked out by hand: no
// bandwidth limit, no jitter, no loss, no periodic rounds.
func exact() Config {
	return Config{Latency: 50 * time.Millisecond, Bandwidth: -1, Interval: -1, ConnectRTTs: 4, Base: 100, Records: 1}
}

// A record written on a connected line reaches the far end by gossip in
// exactly two link latencies.
func TestGossipLine(t *testing.T) {
	s, err := New(exact(), Line(3, -1))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Run(time.Minute, s.Converged); err != nil || !ok {
		t.Fatalf("not converged: %v", err)
	}
	if got, want := s.Now(), 100*time.Millisecond; got != want {
		t.Errorf("converged at %v, want %v", got, want)
	}
	if s.Sessions() != 0 {
		t.Errorf("%d reconciliations on a mesh gossip covers", s.Sessions())
	}
}

// A line of 3 nodes whose first link is healed converges in exactly the
// time the protocol's schedule gives: the link comes up (4 round trips),
// then a session per hop, each of five one-way latencies (the
// initiator's coded symbols; the responder's answer; the initiator's
// empty frame and 'E'; the responder's want; the record), the second
// hop started when the first session ends.
func TestLineOfThreeConverges(t *testing.T) {
	const L = 50 * time.Millisecond
	s, err := New(exact(), Line(3, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(0, 0, 0); err != nil {
		t.Fatal(err)
	}
	s.Heal(0)
	if ok, err := s.Run(time.Minute, s.Converged); err != nil || !ok {
		t.Fatalf("not converged: %v", err)
	}
	if got, want := s.Now(), 8*L+5*L+5*L; got != want {
		t.Errorf("converged at %v, want %v", got, want)
	}
	if s.Sessions() != 2 {
		t.Errorf("%d sessions, want 2 (one a hop)", s.Sessions())
	}
	// One hop alone: the connection and one session.
	hop, err := OneHop(exact())
	if err != nil {
		t.Fatal(err)
	}
	if want := (8*L + 5*L).Seconds(); hop != want {
		t.Errorf("one hop took %v s, want %v", hop, want)
	}
	warm := exact()
	warm.ConnectRTTs = -1
	if hop, err = OneHop(warm); err != nil || hop != (5*L).Seconds() {
		t.Errorf("one hop over a link already up took %v s (%v), want %v", hop, err, (5 * L).Seconds())
	}
}

// A partition never converges, however long the periodic rounds run,
// until it is healed; each side converges on its own records meanwhile.
func TestPartitionConvergesOnlyWhenHealed(t *testing.T) {
	cfg := exact()
	cfg.Interval = 10 * time.Second
	cfg.Records = 4
	s, err := New(cfg, Line(6, 2))
	if err != nil {
		t.Fatal(err)
	}
	for r, at := range []int{0, 5, 2, 3} {
		if err := s.Write(at, r, time.Duration(r)*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := s.Run(time.Hour, s.Converged); err != nil || ok {
		t.Fatalf("a partitioned mesh converged (err %v)", err)
	}
	if !s.SidesConverged() {
		t.Error("the sides did not converge on their own records in an hour")
	}
	if s.Holds(5, 0) || s.Holds(0, 1) {
		t.Error("a record crossed the partition")
	}
	s.Heal(s.Now())
	if ok, err := s.Run(2*time.Hour, s.Converged); err != nil || !ok {
		t.Fatalf("not converged after the heal: %v", err)
	}
}

// Gossip copies lost on the links are made up by the periodic rounds.
func TestLossRepairedByReconciliation(t *testing.T) {
	cfg := exact()
	cfg.Interval = 10 * time.Second
	cfg.Loss = 0.5
	cfg.Records = 20
	s, err := New(cfg, Line(5, -1))
	if err != nil {
		t.Fatal(err)
	}
	for r := range cfg.Records {
		if err := s.Write(r%5, r, 0); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := s.Run(time.Hour, s.Converged); err != nil || !ok {
		t.Fatalf("not converged: %v", err)
	}
	if s.Sessions() == 0 {
		t.Error("half the gossip was lost, yet no reconciliation ran")
	}
}

// The scenario runs, converges, is reproducible from its seed, and
// counts the bytes the sessions sent.
func TestScenarioDeterministic(t *testing.T) {
	sc := Scenario{Nodes: 120, ClusterSize: 20, Config: Config{Records: 30, Base: 200, Loss: 0.02, Jitter: 0.5, Seed: 7}}
	a, err := RunScenario(sc)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RunScenario(sc)
	if err != nil {
		t.Fatal(err)
	}
	a.WallSeconds, b.WallSeconds = 0, 0
	if *a != *b {
		t.Errorf("two runs with one seed differ:\n%+v\n%+v", *a, *b)
	}
	if a.ConvergeSeconds <= 0 || a.HopSeconds <= 0 || a.ReconPerNode <= 0 || a.XferPerNode <= 0 || a.Sessions == 0 {
		t.Errorf("implausible result %+v", *a)
	}
	if a.RecordsPerNode != 230 || a.HealHops < 2 {
		t.Errorf("records per node %d, heal hops %d", a.RecordsPerNode, a.HealHops)
	}
}

func TestClustersTopology(t *testing.T) {
	for _, n := range []int{100, 1000} {
		sc := Scenario{Nodes: n}
		sc.fill()
		g, err := Clusters(n, sc.ClusterSize, sc.Degree, sc.CarrierDegree, newRand(1))
		if err != nil {
			t.Fatal(err)
		}
		if d := g.MeanDegree(); d < 5.5 || d > 7 {
			t.Errorf("%d nodes: mean degree %.2f, want about 6", n, d)
		}
		if len(g.Cut) == 0 {
			t.Errorf("%d nodes: nothing cut", n)
		}
	}
}

// With a cost to check each record, a hop also waits for the receiver to
// check what it got: gossip forwards after the check, and a session ends
// (and nudges the next hop) once the reader has stored the record before
// the peer's 'D'.
func TestRecordCPU(t *testing.T) {
	const L, c = 50 * time.Millisecond, 10 * time.Millisecond
	cfg := exact()
	cfg.RecordCPU = c
	for _, tc := range []struct {
		name string
		g    *Graph
		heal bool
		want time.Duration
	}{
		{"gossip", Line(3, -1), false, 2*L + 2*c},
		{"sessions", Line(3, 0), true, 8*L + 2*(5*L+c)},
	} {
		s, err := New(cfg, tc.g)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Write(0, 0, 0); err != nil {
			t.Fatal(err)
		}
		if tc.heal {
			s.Heal(0)
		}
		if ok, err := s.Run(time.Minute, s.Converged); err != nil || !ok {
			t.Fatalf("%s: not converged: %v", tc.name, err)
		}
		if s.Now() != tc.want {
			t.Errorf("%s: converged at %v, want %v", tc.name, s.Now(), tc.want)
		}
	}
}
