package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/internal/testkit"
)

// TestNetnsLinePartition runs three nodes on a line, ns1 — ns2 — ns3, two
// veth pairs and no forwarding: ns1 and ns3 exchange records only through
// the node in ns2. It cuts the ns2–ns3 link, writes a report on each side,
// checks that neither crossed the cut, heals the link and waits until all
// three nodes list the same reports. The nodes find each other by --peer
// (redialled with backoff) in one variant and by mDNS in the other.
func TestNetnsLinePartition(t *testing.T) {
	requireNetns(t)
	for _, mode := range []string{"peer", "mdns"} {
		t.Run(mode, func(t *testing.T) { linePartition(t, mode == "mdns") })
	}
}

func linePartition(t *testing.T, mdns bool) {
	tag := "p"
	if mdns {
		tag = "m"
	}
	l := newLab(t, tag)
	ns1, ns2, ns3 := l.ns("a"), l.ns("b"), l.ns("c")
	l.veth(ns1, "v12", "10.77.1.1/24", ns2, "v21", "10.77.1.2/24")
	l.veth(ns2, "v23", "10.77.2.2/24", ns3, "v32", "10.77.2.3/24")
	// A fresh veth pair may take a moment to carry its first packet.
	if ok, _ := testkit.Poll(10*time.Second, 100*time.Millisecond, func() bool {
		return l.reachable(ns1, "10.77.1.2") && l.reachable(ns3, "10.77.2.2")
	}); !ok {
		t.Fatal("the veth links do not carry pings")
	}
	if l.reachable(ns1, "10.77.2.3") {
		t.Fatal("ns1 reaches ns3 directly: the line topology leaks")
	}

	m := newMission(t, t.TempDir(), "Line partition test mission", []string{"hub coordinator", "west observer", "east observer"})
	hub, west, east := m.members[0].home, m.members[1].home, m.members[2].home

	flags := []string{"--no-mdns"}
	if mdns {
		flags = nil
	}
	n2 := startNode(t, "ns2-hub", ns2, hub, append(flags, "--listen", "/ip4/10.77.1.2/tcp/4001", "--listen", "/ip4/10.77.2.2/tcp/4001")...)
	west2, east2 := n2.addr(t, "10.77.1.2"), n2.addr(t, "10.77.2.2")
	args1 := append(flags, "--listen", "/ip4/10.77.1.1/tcp/4001")
	args3 := append(flags, "--listen", "/ip4/10.77.2.3/tcp/4001")
	if !mdns {
		args1 = append(args1, "--peer", west2)
		args3 = append(args3, "--peer", east2)
	}
	n1 := startNode(t, "ns1-west", ns1, west, args1...)
	n3 := startNode(t, "ns3-east", ns3, east, args3...)
	id1, id2, id3 := n1.peerID(t), n2.peerID(t), n3.peerID(t)

	connected := func(home string, want ...string) func() bool {
		return func() bool {
			st := status(t, home)
			for _, p := range want {
				if !st.hasPeer(p) {
					return false
				}
			}
			return true
		}
	}
	ok, took := testkit.Poll(60*time.Second, 250*time.Millisecond, func() bool {
		return connected(hub, id1, id3)() && connected(west, id2)() && connected(east, id2)()
	})
	if !ok {
		t.Fatalf("the nodes did not connect in 60 s: hub peers %v, west %v, east %v",
			peerIDs(status(t, hub)), peerIDs(status(t, west)), peerIDs(status(t, east)))
	}
	t.Logf("connected in %v (hub %s, west %s, east %s)", took.Round(time.Millisecond), id2, id1, id3)
	if st := status(t, west); st.hasPeer(id3) {
		t.Fatalf("west is connected to east directly: the line topology leaks")
	}

	homes := map[string]string{"hub": hub, "west": west, "east": east}
	// A report before the cut: the mesh carries it end to end.
	r0 := addReport(t, hub, "Before the cut: hub report")
	waitAllHave(t, homes, 90*time.Second, r0)

	// Cut the middle of the line at east's end and wait until both sides
	// have dropped the connection, so that healing needs a redial.
	cut := time.Now()
	l.setLink(ns3, "v32", false)
	// (yamux keepalive: a ping every 30 s, the connection closed when
	// its answer is late, so about 40 s; allow for a longer ping timeout.)
	ok, took = testkit.Poll(150*time.Second, 500*time.Millisecond, func() bool {
		return !status(t, hub).hasPeer(id3) && !status(t, east).hasPeer(id2)
	})
	if !ok {
		t.Errorf("150 s after the cut, hub lists east: %v, east lists hub: %v (dead connections are not noticed)",
			status(t, hub).hasPeer(id3), status(t, east).hasPeer(id2))
	} else {
		t.Logf("both ends dropped the cut connection %v after the cut", took.Round(time.Millisecond))
	}

	r1 := addReport(t, west, "During the cut: west report")
	r3 := addReport(t, east, "During the cut: east report")
	// West's report reaches the hub (that link is up) ...
	waitAllHave(t, map[string]string{"hub": hub}, 90*time.Second, r1)
	// ... and nothing has crossed the cut, nor can: both ends dropped the
	// connection before the reports were written, and the link carries
	// nothing either way, so there is nothing to wait for before looking.
	if _, ok := lookTool("ping"); ok && (l.reachable(ns3, "10.77.2.2") || l.reachable(ns2, "10.77.2.3")) {
		t.Fatal("the cut link still carries pings")
	}
	for _, c := range []struct{ who, home, id, what string }{
		{"west", west, r3, "east's report"},
		{"hub", hub, r3, "east's report"},
		{"east", east, r1, "west's report"},
	} {
		if contains(reportIDs(t, c.home), c.id) {
			t.Errorf("%s holds %s (%s) while the link is cut", c.who, c.what, c.id)
		}
	}

	// Heal the link; the nodes find each other again by themselves.
	l.setLink(ns3, "v32", true)
	var last map[string][]string
	ok, took = testkit.Poll(90*time.Second, time.Second, func() bool {
		last = map[string][]string{}
		for who, h := range homes {
			last[who] = reportIDs(t, h)
		}
		want := strings.Join(last["hub"], ",")
		if strings.Join(last["west"], ",") != want || strings.Join(last["east"], ",") != want {
			return false
		}
		for _, id := range []string{r0, r1, r3} {
			if !contains(last["hub"], id) {
				return false
			}
		}
		return true
	})
	if !ok {
		why := ""
		if mdns && !status(t, east).hasPeer(id2) {
			why = "\n(east and hub found each other by mDNS before the cut and never reconnected: " +
				"the mDNS browser reports a service instance only once per record TTL, so a node must redial the LAN peers it lost)"
		}
		t.Fatalf("90 s after healing the link the nodes still differ:\n%s\nhub peers %v, east peers %v%s",
			describeSets(last), peerIDs(status(t, hub)), peerIDs(status(t, east)), why)
	}
	t.Logf("all three nodes list the same %d reports %v after healing (%v after the cut)",
		len(last["hub"]), took.Round(time.Millisecond), time.Since(cut).Round(time.Second))
	if !connected(hub, id1, id3)() || !connected(east, id2)() {
		t.Errorf("records converged but the hub–east connection is not back: hub %v, east %v",
			peerIDs(status(t, hub)), peerIDs(status(t, east)))
	}
}

// waitAllHave waits until every home lists each id.
func waitAllHave(t *testing.T, homes map[string]string, timeout time.Duration, ids ...string) {
	t.Helper()
	var missing []string
	ok, took := testkit.Poll(timeout, 500*time.Millisecond, func() bool {
		missing = nil
		for who, h := range homes {
			have := reportIDs(t, h)
			for _, id := range ids {
				if !contains(have, id) {
					missing = append(missing, who+" lacks "+id)
				}
			}
		}
		return len(missing) == 0
	})
	if !ok {
		t.Fatalf("after %v: %v", timeout, missing)
	}
	t.Logf("%d report(s) reached %d node(s) in %v", len(ids), len(homes), took.Round(time.Millisecond))
}

func peerIDs(st statusJSON) []string {
	var out []string
	for _, p := range st.Peers {
		out = append(out, p.PeerID)
	}
	return out
}

func describeSets(sets map[string][]string) string {
	var b strings.Builder
	for _, who := range []string{"hub", "west", "east"} {
		fmt.Fprintf(&b, "  %s: %d reports %v\n", who, len(sets[who]), sets[who])
	}
	return b.String()
}
