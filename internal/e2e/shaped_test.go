package e2e

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/internal/testkit"
)

// shapedReports is how many reports the observer holds before the link
// comes up.
const shapedReports = 500

// TestNetnsShapedLink measures how long 500 reports take to cross a bad
// link: ns1 (an observer's device holding the reports) — ns2 (the
// coordinator's node, which peers to ns1), 32 kbit/s each way (tc tbf)
// and 10% of ns1's packets dropped (nftables numgen). It logs the payload
// (the records' signed encodings), the time, and their ratio to the time
// the payload alone would take at 32 kbit/s. It asserts only that every
// report arrives within 10 minutes: speed is reported, never asserted.
//
// The second variant adds 150 ms each way (300 ms round trip) with a
// delaying TCP proxy in ns2: the coordinator's node peers to the proxy on
// ns2's loopback, the proxy forwards to the observer's node from a second
// address of ns2, and nftables in ns2 refuses any other connection to the
// observer's node, so a redial cannot bypass the delay. The bottleneck
// (the observer's shaped, lossy egress) stays in front of the observer's
// node, as on a real link.
func TestNetnsShapedLink(t *testing.T) {
	requireNetns(t, "tc", "nft")
	requireSlow(t, "500 reports over 32 kbit/s with 10% loss, minutes")
	t.Run("32kbit_10pct_loss", func(t *testing.T) { shapedLink(t, 0) })
	t.Run("32kbit_10pct_loss_300ms_rtt", func(t *testing.T) { shapedLink(t, 150*time.Millisecond) })
}

func shapedLink(t *testing.T, oneWay time.Duration) {
	l := newLab(t, "s")
	ns1, ns2 := l.ns("a"), l.ns("b")
	l.veth(ns1, "v12", "10.77.1.1/24", ns2, "v21", "10.77.1.2/24")
	l.shape(ns1, "v12", "32kbit")
	l.shape(ns2, "v21", "32kbit")
	l.lose(ns1, "v12", 10)

	m := newMission(t, t.TempDir(), "Shaped link mission", []string{"coordinator", "observer with a backlog"})
	coord, obs := m.members[0].home, m.members[1].home
	payload := makeBacklog(t, obs, shapedReports)

	n1 := startNode(t, "ns1-observer", ns1, obs, "--no-mdns", "--listen", "/ip4/10.77.1.1/tcp/4001")
	peerAddr := n1.addr(t, "10.77.1.1")
	id1 := n1.peerID(t)
	if oneWay > 0 {
		l.ip("-n", ns2, "addr", "add", "10.77.1.3/24", "dev", "v21")
		l.in(ns2, tool("nft"), "add", "table", "inet", "guard")
		l.in(ns2, tool("nft"), "add", "chain", "inet", "guard", "out", "{ type filter hook output priority 0; }")
		l.in(ns2, tool("nft"), "add", "rule", "inet", "guard", "out", "ip", "daddr", "10.77.1.1", "tcp", "dport", "4001",
			"ip", "saddr", "!=", "10.77.1.3", "counter", "reject", "with", "tcp", "reset")
		startDelayProxy(t, ns2, "127.0.0.1:5001", "10.77.1.1:4001", "10.77.1.3", oneWay)
		peerAddr = "/ip4/127.0.0.1/tcp/5001/p2p/" + id1
	}
	start := time.Now()
	startNode(t, "ns2-coordinator", ns2, coord, "--no-mdns", "--listen", "/ip4/10.77.1.2/tcp/4001", "--peer", peerAddr)

	var admitted time.Duration
	var last int
	progress := time.Now()
	ok, _ := testkit.Poll(10*time.Minute, 2*time.Second, func() bool {
		st := status(t, coord)
		if admitted == 0 && st.hasPeer(id1) {
			admitted = time.Since(start)
			t.Logf("coordinator admitted the observer %v after its node started", admitted.Round(time.Millisecond))
		}
		if n := st.Records["report"]; n != last {
			last = n
			if time.Since(progress) > 20*time.Second || n == shapedReports {
				t.Logf("%6.1f s: coordinator holds %d/%d reports", time.Since(start).Seconds(), n, shapedReports)
				progress = time.Now()
			}
		}
		return last >= shapedReports
	})
	elapsed := time.Since(start)
	stats := linkStats(ns1, ns2)
	if !ok {
		t.Fatalf("after %v the coordinator holds %d of %d reports (%d bytes of records to move)\n%s",
			elapsed.Round(time.Second), last, shapedReports, payload, stats)
	}
	if got := len(reportIDs(t, coord)); got != shapedReports {
		t.Fatalf("report list on the coordinator shows %d reports, status counted %d", got, shapedReports)
	}
	ideal := float64(payload*8) / 32000
	extra := ""
	if oneWay > 0 {
		extra = fmt.Sprintf(", +%v round trip", 2*oneWay)
	}
	t.Logf("shaped link, 32 kbit/s each way, 10%% loss on the observer's side%s:", extra)
	t.Logf("  payload        %d reports, %d bytes of signed records (%.0f B each)", shapedReports, payload, float64(payload)/shapedReports)
	t.Logf("  elapsed        %.1f s from the coordinator's node start (hello done after %.1f s)", elapsed.Seconds(), admitted.Seconds())
	t.Logf("  payload alone  %.1f s at 32 kbit/s", ideal)
	t.Logf("  ratio          %.2f (elapsed / (payload bytes*8/32000))", elapsed.Seconds()/ideal)
	t.Logf("  link counters\n%s", stats)
}

// makeBacklog signs n reports as home's device, in the test process with
// the store package (fast), and returns the size of their encodings.
func makeBacklog(t *testing.T, home string, n int) int {
	t.Helper()
	total := 0
	withStore(t, home, func(st *store.Store) {
		ms, err := st.Mission()
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		cats := []string{"polling.late_opening", "polling.materials_missing", "polling.intimidation",
			"registration.name_missing", "infrastructure.power_outage", "other"}
		words := strings.Fields("the station opened late ballot boxes arrived without seals queue of voters " +
			"police officers inside observers were asked to leave power cut at noon lamps used for the count " +
			"names missing from the register several voters turned away party agents argued presiding officer")
		now := time.Now()
		raws := make([][]byte, 0, n)
		for i := 0; i < n; i++ {
			var desc []string
			for len(strings.Join(desc, " ")) < 250 {
				desc = append(desc, words[rng.IntN(len(words))])
			}
			p := incident.ReportPayload{
				Category:    cats[i%len(cats)],
				Severity:    uint64(1 + i%4),
				Occurred:    now.Add(-time.Duration(n-i) * time.Minute).UnixMilli(),
				Station:     fmt.Sprintf("PS-%04d", i),
				Area:        "District 7",
				Title:       fmt.Sprintf("Backlog report %d from a station without network", i),
				Description: strings.Join(desc, " "),
			}
			rec, err := st.Signer().Sign(ms.ID, incident.KindReport, now.Add(-time.Duration(n-i)*time.Second), p)
			if err != nil {
				t.Fatal(err)
			}
			raws = append(raws, rec.Raw)
			total += len(rec.Raw)
		}
		res, err := st.AddMany(raws, "local", nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Outcome != store.Accepted {
				t.Fatalf("backlog report %d: %s: %v", i, r.Outcome, r.Err)
			}
		}
	})
	return total
}

var tcSent = regexp.MustCompile(`Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)`)

// linkStats reports the qdisc and nftables counters of the shaped link.
func linkStats(ns1, ns2 string) string {
	var b strings.Builder
	for _, s := range []struct{ ns, dev, who string }{{ns1, "v12", "observer→coordinator"}, {ns2, "v21", "coordinator→observer"}} {
		out, err := run(tool("ip"), "netns", "exec", s.ns, tool("tc"), "-s", "qdisc", "show", "dev", s.dev)
		if m := tcSent.FindStringSubmatch(out); err == nil && m != nil {
			fmt.Fprintf(&b, "    %s: tbf sent %s bytes in %s packets, dropped %s, overlimits %s\n", s.who, m[1], m[2], m[3], m[4])
		} else {
			fmt.Fprintf(&b, "    %s: tc -s: %v %s\n", s.who, err, strings.TrimSpace(out))
		}
	}
	if out, err := run(tool("ip"), "netns", "exec", ns2, tool("nft"), "list", "table", "inet", "guard"); err == nil {
		if m := regexp.MustCompile(`counter packets (\d+) bytes \d+ reject`).FindStringSubmatch(out); m != nil {
			fmt.Fprintf(&b, "    nftables refused %s packets of direct connections bypassing the delay proxy\n", m[1])
		}
	}
	out, err := run(tool("ip"), "netns", "exec", ns1, tool("nft"), "list", "table", "inet", "emu")
	if m := regexp.MustCompile(`counter packets (\d+) bytes (\d+) drop`).FindStringSubmatch(out); err == nil && m != nil {
		fmt.Fprintf(&b, "    nftables dropped %s packets (%s bytes) leaving the observer\n", m[1], m[2])
	} else {
		fmt.Fprintf(&b, "    nft: %v %s\n", err, strings.TrimSpace(out))
	}
	return b.String()
}
