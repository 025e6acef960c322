package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/internal/testkit"
	"github.com/vigil-mesh/vigil/node"
)

// TestOutsiderSeesNothing records everything on the link while two members
// find each other by mDNS and sync a report, then scans the capture for
// what docs/security.md says never goes on the wire: the mission's name and ID,
// the member labels, the report's title and text, the members' signing
// keys (text and raw), the mission secret, and the words "vigil"/"Vigil".
// Transport peer IDs may appear: they are a separate, rotatable key.
//
// It runs twice: with the default listen addresses (TCP and QUIC, IPv4 and
// IPv6: libp2p picks QUIC) and with TCP only (Noise and yamux over TCP).
func TestOutsiderSeesNothing(t *testing.T) {
	requireNetns(t, "tcpdump", "ping")
	t.Run("default", func(t *testing.T) { outsider(t, nil) })
	t.Run("tcp", func(t *testing.T) {
		outsider(t, func(ip string) []string { return []string{"--listen", "/ip4/" + ip + "/tcp/4001"} })
	})
}

func outsider(t *testing.T, listen func(ip string) []string) {
	l := newLab(t, "o")
	nsA, nsB := l.ns("a"), l.ns("b")
	l.veth(nsA, "va", "10.77.3.1/24", nsB, "vb", "10.77.3.2/24")
	var argsA, argsB []string
	if listen != nil {
		argsA, argsB = listen("10.77.3.1"), listen("10.77.3.2")
	}

	// Strings unique to this run, so a hit cannot be a coincidence.
	tag := randomTag()
	missionName := "Observatoire Nightjar " + tag
	labels := []string{"Coordinator Amani " + tag, "Observer Beatrix " + tag}
	title := "Ballot boxes unsealed at Riverside school " + tag
	description := "Presiding officer refused entry to observers " + tag

	m := newMission(t, t.TempDir(), missionName, labels)
	homeA, homeB := m.members[0].home, m.members[1].home

	// Capture on the link from before the first packet.
	pcap := filepath.Join(t.TempDir(), "link.pcap")
	stopDump := startTcpdump(t, nsA, "va", pcap)

	// mDNS on: what a laptop on a café LAN runs.
	nA := startNode(t, "ns-a", nsA, homeA, argsA...)
	nB := startNode(t, "ns-b", nsB, homeB, argsB...)
	pA, pB := nA.peerID(t), nB.peerID(t)
	ok, took := testkit.Poll(30*time.Second, 200*time.Millisecond, func() bool {
		return status(t, homeA).hasPeer(pB) && status(t, homeB).hasPeer(pA)
	})
	if !ok {
		t.Fatalf("the two nodes did not find each other by mDNS in 30 s: A peers %v, B peers %v",
			peerIDs(status(t, homeA)), peerIDs(status(t, homeB)))
	}
	t.Logf("found each other by mDNS in %v", took.Round(time.Millisecond))

	id := strings.TrimSpace(vigil(t, homeA, "report", "add", "--category", "polling.secrecy_breach", "--severity", "3",
		"--title", title, "--description", description, "--station", "RS-"+tag))
	waitAllHave(t, map[string]string{"B": homeB}, 60*time.Second, id)
	idB := addReport(t, homeB, "Second report "+title)
	waitAllHave(t, map[string]string{"A": homeA}, 60*time.Second, idB)

	stA, stB := status(t, homeA), status(t, homeB)
	authors := []string{stA.Author, stB.Author}
	for i, a := range authors {
		if a != m.members[i].author.String() {
			t.Fatalf("status --json author %s, the store says %s", a, m.members[i].author)
		}
	}
	if stA.Author == pA || stB.Author == pB {
		t.Errorf("a node's transport peer ID is its signing key (A %s/%s, B %s/%s)", pA, stA.Author, pB, stB.Author)
	}
	// tcpdump writes each frame as it sees it (-U): once a marker sent
	// over the link after the exchange above is in the file, so is every
	// frame of the exchange.
	marker := make([]byte, 16)
	rand.Read(marker)
	l.in(nsA, tool("ping"), "-c", "1", "-W", "5", "-p", hex.EncodeToString(marker), "10.77.3.2")
	if ok, _ := testkit.Poll(10*time.Second, 50*time.Millisecond, func() bool {
		b, err := os.ReadFile(pcap)
		return err == nil && bytes.Contains(b, marker)
	}); !ok {
		t.Fatal("the marker ping never reached the capture")
	}
	stopDump()

	capture, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	linkType, pkts, err := readPcap(capture)
	if err != nil {
		t.Fatalf("%s: %v", pcap, err)
	}
	if linkType != 1 {
		t.Fatalf("capture link type %d, want Ethernet (1)", linkType)
	}
	nTCP, nUDP, nOther := countTransports(pkts)
	t.Logf("captured %d frames (%d bytes): %d TCP, %d UDP, %d other", len(pkts), len(capture), nTCP, nUDP, nOther)

	// What must never be on the wire, as text and as raw bytes.
	secrets := map[string][]byte{
		"mission name":       []byte(missionName),
		"mission ID":         []byte(m.id.String()),
		"mission ID (raw)":   m.id.Bytes(),
		"mission secret":     m.secret,
		"report title":       []byte(title),
		"report description": []byte(description),
		"run tag":            []byte(tag),
		"vigil":              []byte("vigil"),
		"Vigil":              []byte("Vigil"),
		"VIGIL":              []byte("VIGIL"),
		"report ID":          []byte(id),
	}
	for i, lb := range labels {
		secrets[fmt.Sprintf("label of member %d", i)] = []byte(lb)
	}
	for i, a := range authors {
		secrets[fmt.Sprintf("author key of member %d", i)] = []byte(a)
		raw := m.members[i].author
		secrets[fmt.Sprintf("author key of member %d (raw)", i)] = raw[:]
		secrets[fmt.Sprintf("author key of member %d (hex)", i)] = []byte(hex.EncodeToString(raw[:]))
	}
	if m.secret == nil || len(m.secret) < 16 {
		t.Fatalf("mission secret is %d bytes", len(m.secret))
	}
	var leaks []string
	for what, b := range secrets {
		if i := bytes.Index(capture, b); i >= 0 {
			leaks = append(leaks, fmt.Sprintf("%s (%q) at byte %d", what, printable(b), i))
		}
	}
	if bytes.Contains(bytes.ToLower(capture), []byte("vigil")) {
		leaks = append(leaks, `"vigil" in some letter case`)
	}
	sort.Strings(leaks)
	for _, lk := range leaks {
		t.Errorf("an outsider on the link sees the %s", lk)
	}

	// Positive control: the scan does find what is in clear text. The
	// transport peer IDs are in the mDNS announcements.
	for _, p := range []string{pA, pB} {
		if !bytes.Contains(capture, []byte(p)) {
			t.Errorf("transport peer ID %s is not in the capture: is mDNS traffic captured at all?", p)
		}
	}

	// The mDNS names an outsider sees.
	allowed := map[string]bool{}
	epoch := time.Now().Unix() / int64(node.MDNSEpoch/time.Second)
	for e := epoch - 2; e <= epoch+2; e++ {
		allowed[node.MDNSService(m.secret, e)+".local."] = true
	}
	services, instances, txts := map[string]int{}, map[string]bool{}, map[string]bool{}
	nMDNS := 0
	for _, pk := range pkts {
		src, dst, payload, ok := udpPayload(pk.data)
		if !ok || (src != 5353 && dst != 5353) {
			continue
		}
		nMDNS++
		info, err := parseDNS(payload)
		if err != nil {
			t.Errorf("mDNS packet: %v", err)
			continue
		}
		for _, q := range info.questions {
			services[q]++
		}
		for _, p := range info.ptrs {
			instances[p] = true
		}
		for _, x := range info.txts {
			txts[x] = true
		}
	}
	if nMDNS == 0 {
		t.Fatal("no mDNS packets in the capture, yet the nodes found each other by mDNS")
	}
	// Every name asked or announced is a derived service name or an
	// instance under one (SRV/TXT lookups, PTR answers).
	derived := func(name string) bool {
		if allowed[name] {
			return true
		}
		for svc := range allowed {
			if strings.HasSuffix(name, "."+svc) {
				return true
			}
		}
		return false
	}
	var names []string
	lookups := 0
	for s, n := range services {
		if allowed[s] {
			names = append(names, fmt.Sprintf("%s (%d queries)", s, n))
		} else {
			lookups += n
		}
		if !derived(s) {
			t.Errorf("mDNS query for %q, which is not under a service name derived from the mission secret", s)
		}
	}
	for s := range instances {
		if !derived(s) {
			t.Errorf("mDNS announces %q, which is not under a service name derived from the mission secret", s)
		}
	}
	sort.Strings(names)
	t.Logf("%d mDNS packets; service names seen: %s", nMDNS, strings.Join(names, ", "))
	t.Logf("plus %d SRV/TXT lookups of random instance names under them; %d names in PTR answers, for example %s",
		lookups, len(instances), firstKey(instances))
	cur := node.MDNSService(m.secret, epoch) + ".local."
	if services[cur] == 0 {
		t.Errorf("no query for the current epoch's service name %s", cur)
	}
	var txtList []string
	for x := range txts {
		txtList = append(txtList, x)
		if !strings.HasPrefix(x, "dnsaddr=") {
			t.Errorf("mDNS TXT %q is not a dnsaddr", x)
		}
	}
	sort.Strings(txtList)
	t.Logf("mDNS TXT strings: %v", txtList)
}

// startTcpdump captures every frame on ifname in ns into path and returns
// a function that stops it (and is also run at cleanup).
func startTcpdump(t *testing.T, ns, ifname, path string) func() {
	t.Helper()
	cmd := exec.Command(tool("ip"), "netns", "exec", ns, tool("tcpdump"), "-i", ifname, "-n", "-U", "-s", "0", "-Z", "root", "-w", path)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	lines := make(chan string, 16)
	var errText strings.Builder
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			errText.WriteString(sc.Text() + "\n")
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
		_ = cmd.Wait()
		close(done)
	}()
	deadline := time.After(15 * time.Second)
wait:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				<-done
				t.Fatalf("tcpdump exited: %s", errText.String())
			}
			if strings.Contains(line, "listening on") {
				break wait
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			<-done
			t.Fatal("tcpdump did not start listening in 15 s")
		}
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

func randomTag() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "Q" + hex.EncodeToString(b) + "Z"
}

func printable(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return hex.EncodeToString(b)
		}
	}
	return string(b)
}

func firstKey(m map[string]bool) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "(none)"
	}
	return keys[0]
}
