package mesh_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// The transfer phase against an admitted member that asks for too much:
// the same ID thousands of times, a million IDs the victim never offered,
// every record at once while it reads nothing, or pushes without end. The
// victim answers each ID at most once, holds one frame of records at a
// time, and ends the session at its stray-want limit or its byte budget,
// with no strike. Heap figures are printed (go test -v -run Wants).

// bigReports signs n reports of about 9 KiB each as st's device, spread
// over claimed days under the per-author daily quotas, and stores them in
// st and in each of also. It returns their IDs and their total size.
func bigReports(t testing.TB, st *store.Store, n int, also ...*store.Store) ([]incident.ID, int) {
	t.Helper()
	ms, err := st.Mission()
	if err != nil {
		t.Fatal(err)
	}
	signer := st.Signer()
	const perDay = 400 // 400 × 9 KiB stays under the daily byte quota
	days := (n + perDay - 1) / perDay
	base := time.Now().UTC().Truncate(24 * time.Hour).Add(-time.Duration(days) * 24 * time.Hour)
	raws := make([][]byte, 0, n)
	out := make([]incident.ID, 0, n)
	size := 0
	for i := 0; i < n; i++ {
		at := base.Add(time.Duration(i/perDay)*24*time.Hour + time.Duration(i%perDay)*time.Second)
		r, err := signer.Sign(ms.ID, incident.KindReport, at, incident.ReportPayload{
			Category: "polling.intimidation", Severity: 1 + uint64(i%4), Occurred: at.UnixMilli(),
			Title: fmt.Sprintf("big report %d", i), Description: randomText(9000)})
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, r.Raw)
		out = append(out, r.ID)
		size += len(r.Raw)
	}
	for _, s := range append([]*store.Store{st}, also...) {
		res, err := s.AddMany(raws, "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Outcome != store.Accepted {
				t.Fatalf("bigReports: %s %v", r.Outcome, r.Err)
			}
		}
	}
	return out, size
}

// wantsPair is a victim (the founder) and an admitted hostile member that
// hold the same records, connected, with the reconciliation on connect
// over: the hostile member's raw streams are then the victim's only work.
func wantsPair(t *testing.T, n int, victimOpts ...func(*mesh.Config)) (m *mission, victim, hostile *mesh.Engine, big []incident.ID, size int) {
	t.Helper()
	m = newMission(t, 2)
	if n > 0 {
		big, size = bigReports(t, m.stores[0], n, m.stores[1])
	}
	victim = m.start(0, append([]func(*mesh.Config){noReceipts, slowPeriodic}, victimOpts...)...)
	hostile = m.start(1, noReceipts, slowPeriodic)
	connect(t, hostile, victim)
	waitConverged(t, 20*time.Second, n, m.stores...)
	select {
	case <-victim.Results():
	case <-time.After(10 * time.Second):
		t.Log("no reconciliation result on connect")
	}
	return m, victim, hostile, big, size
}

// openTransfer opens a reconciliation stream from hostile to victim and
// ends phase 1 at once with an empty frame: the victim (responder) has
// learned no difference and goes straight to the transfer.
func openTransfer(t *testing.T, ctx context.Context, hostile, victim *mesh.Engine) network.Stream {
	t.Helper()
	s, err := hostile.Node().Host().NewStream(ctx, victim.Node().ID(), mesh.ReconProtocol(victim))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Reset() })
	if _, err := s.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	return s
}

// writeFrameTo writes one transfer frame (header, then body: no copy of
// a large body, so the attacker's own allocations stay out of the
// victim's figures).
func writeFrameTo(w io.Writer, typ byte, body []byte) error {
	hdr := binary.AppendUvarint(nil, uint64(len(body)+1))
	if _, err := w.Write(append(hdr, typ)); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// wantFrame is a 'W' body of ids, each repeated copies times.
func wantFrame(ids []incident.ID, copies int) []byte {
	b := make([]byte, 0, 32*len(ids)*copies)
	for range copies {
		for _, id := range ids {
			b = append(b, id[:]...)
		}
	}
	return b
}

// served is what an attacker read of the victim's transfer: the records
// in the order they came, and the bytes.
type served struct {
	recs   []servedRec
	count  map[incident.ID]int
	bytes  int
	gotEnd bool // the victim's 'D'
	err    error
}

// servedRec is what the attacker keeps of a record it was served: enough
// to check the order, not the record (its heap would blur the victim's).
type servedRec struct {
	ID      incident.ID
	Kind    incident.Kind
	Created int64
}

func (a servedRec) before(b servedRec) bool {
	if a.Created != b.Created {
		return a.Created < b.Created
	}
	return string(a.ID[:]) < string(b.ID[:])
}

// readServed reads the victim's frames until its 'D', an error, or
// after stop records (stop < 0: no limit), with one reused buffer.
func readServed(s io.Reader, stop int) *served {
	out := &served{count: map[incident.ID]int{}}
	r := bufio.NewReader(s)
	var buf []byte
	for stop < 0 || len(out.recs) < stop {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			out.err = err
			return out
		}
		if n == 0 || n > 4<<20 {
			out.err = fmt.Errorf("frame of %d bytes", n)
			return out
		}
		if uint64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			out.err = err
			return out
		}
		out.bytes += int(n) + 1
		switch buf[0] {
		case 'D':
			out.gotEnd = true
			return out
		case 'R':
			for b := buf[1:]; len(b) > 0; {
				l, k := binary.Uvarint(b)
				if k <= 0 || uint64(len(b)-k) < l {
					out.err = errors.New("bad record frame")
					return out
				}
				rec, err := incident.DecodeStored(b[k : k+int(l)])
				if err != nil {
					out.err = err
					return out
				}
				out.recs = append(out.recs, servedRec{rec.ID, rec.Kind, rec.Created})
				out.count[rec.ID]++
				b = b[k+int(l):]
			}
		}
	}
	return out
}

// memNow collects garbage and returns the live heap and the bytes ever
// allocated.
func memNow() (live, total uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.TotalAlloc
}

const mib = 1 << 20

// 8,192 copies of one 9 KiB record's ID in one want frame: the victim
// sends that record at most once (it ends the session at the stray-want
// limit), sends a few KiB, allocates little, and strikes no one. The
// transfer before this change accepted every copy, loaded 8,192 records
// and sent 75 MB.
func TestWantsOfOneIDServedOnce(t *testing.T) {
	m, victim, hostile, big, size := wantsPair(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	live0, total0 := memNow()
	s := openTransfer(t, ctx, hostile, victim)
	go func() {
		_ = writeFrameTo(s, 'W', wantFrame(big, 8192))
		_ = writeFrameTo(s, 'E', nil)
		_ = writeFrameTo(s, 'D', nil)
	}()
	got := readServed(s, -1)
	live1, total1 := memNow()
	t.Logf("8192 wants of one %d-byte record: %d records and %d bytes served (end %v, %v); live heap %+.1f MiB, allocated %.1f MiB",
		size, len(got.recs), got.bytes, got.gotEnd, got.err,
		(float64(live1)-float64(live0))/mib, float64(total1-total0)/mib)
	if n := got.count[big[0]]; n > 1 {
		t.Errorf("the record was served %d times", n)
	}
	if got.bytes > 2*size+4096 {
		t.Errorf("the victim sent %d bytes for one %d-byte record", got.bytes, size)
	}
	if d := total1 - total0; d > 16*mib {
		t.Errorf("the victim allocated %.1f MiB for one wanted record", float64(d)/mib)
	}
	if n := mesh.StrikesOf(victim, m.stores[1].Author()); n != 0 {
		t.Errorf("%d strikes", n)
	}
}

// 1,048,576 distinct IDs the victim never offered, in 32 frames of 1 MiB:
// the victim serves nothing, ends the session after its stray-want limit
// (well before the last frame), allocates little and strikes no one.
func TestWantsOfUnknownIDsBounded(t *testing.T) {
	m, victim, hostile, _, _ := wantsPair(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	live0, total0 := memNow()
	s := openTransfer(t, ctx, hostile, victim)
	const perFrame, frames = 32768, 32
	wrote := make(chan int, 1)
	go func() {
		body := make([]byte, 32*perFrame)
		rng := mrand.NewChaCha8([32]byte{7})
		n := 0
		defer func() { wrote <- n }()
		for range frames {
			_, _ = rng.Read(body)
			if writeFrameTo(s, 'W', body) != nil {
				return
			}
			n++
		}
		_ = writeFrameTo(s, 'E', nil)
		_ = writeFrameTo(s, 'D', nil)
	}()
	got := readServed(s, -1)
	// The victim's reset ends the attacker's writes too.
	frameCount := <-wrote
	live1, total1 := memNow()
	t.Logf("%d of %d frames of unknown wants written; %d records and %d bytes served (end %v, %v); live heap %+.1f MiB, allocated %.1f MiB",
		frameCount, frames, len(got.recs), got.bytes, got.gotEnd, got.err,
		(float64(live1)-float64(live0))/mib, float64(total1-total0)/mib)
	if len(got.recs) != 0 {
		t.Errorf("%d records served for IDs never offered", len(got.recs))
	}
	if got.gotEnd {
		t.Error("the victim finished the session cleanly after a million stray wants")
	}
	if d := total1 - total0; d > 48*mib {
		t.Errorf("the victim allocated %.1f MiB for unknown wants", float64(d)/mib)
	}
	if n := mesh.StrikesOf(victim, m.stores[1].Author()); n != 0 {
		t.Errorf("%d strikes", n)
	}
}

// A member that asks for every record of the victim (each twice) and then
// reads nothing: while the victim's answer waits on the reader, the
// victim holds about one frame of records, not the 11 MB asked for. Read
// to the end, the answer holds each record exactly once, mission records
// first and then by claimed time.
func TestWantedRecordsStreamed(t *testing.T) {
	const n = 1200
	m, victim, hostile, _, size := wantsPair(t, n)
	var all []incident.ID
	if err := m.stores[0].ForEachKey(func(_ int64, id incident.ID) error { all = append(all, id); return nil }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), slow(60*time.Second))
	defer cancel()
	live0, total0 := memNow()
	s := openTransfer(t, ctx, hostile, victim)
	if err := writeFrameTo(s, 'W', wantFrame(all, 2)); err != nil {
		t.Fatal(err)
	}
	if err := writeFrameTo(s, 'E', nil); err != nil {
		t.Fatal(err)
	}
	if err := writeFrameTo(s, 'D', nil); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(s, 64<<10)
	first := readServed(r, 1)
	if len(first.recs) == 0 {
		t.Fatalf("no record served: %v", first.err)
	}
	// The victim has begun to answer and the attacker stops reading: what
	// the victim holds now is what a stalled reader costs it.
	stalled, _ := memNow()
	rest := readServed(r, -1)
	live1, total1 := memNow()
	t.Logf("%d records (%.1f MiB) wanted twice each; heap while the reader stalls %+.1f MiB, after %+.1f MiB; allocated %.1f MiB; %d bytes served",
		len(all), float64(size)/mib, (float64(stalled)-float64(live0))/mib, (float64(live1)-float64(live0))/mib,
		float64(total1-total0)/mib, first.bytes+rest.bytes)
	if d := int64(stalled) - int64(live0); d > 6*mib {
		t.Errorf("the victim held %.1f MiB while its answer waited on the reader", float64(d)/mib)
	}
	if !rest.gotEnd {
		t.Fatalf("the answer did not end: %v", rest.err)
	}
	recs := append(first.recs, rest.recs...)
	count := map[incident.ID]int{}
	for _, r := range recs {
		count[r.ID]++
	}
	for _, id := range all {
		if count[id] != 1 {
			t.Fatalf("record %s served %d times", id, count[id])
		}
	}
	if len(recs) != len(all) {
		t.Fatalf("%d records served for %d wanted", len(recs), len(all))
	}
	for i := 1; i < len(recs); i++ {
		a, b := recs[i-1], recs[i]
		if !a.Kind.MissionKind() && b.Kind.MissionKind() {
			t.Fatalf("mission record %s (%s) after %s (%s)", b.ID, b.Kind, a.ID, a.Kind)
		}
		if a.Kind.MissionKind() == b.Kind.MissionKind() && !a.before(b) {
			t.Fatalf("record %s served before %s, claimed earlier", a.ID, b.ID)
		}
	}
	if n := mesh.StrikesOf(victim, m.stores[1].Author()); n != 0 {
		t.Errorf("%d strikes", n)
	}
}

// A member that ends phase 1 and then pushes, again and again, a valid
// record the victim holds (each costs it a lookup, no strike) is cut at
// the victim's byte budget, long before the session's time limit; the
// victim strikes no one.
func TestEndlessPushesCutAtByteBudget(t *testing.T) {
	const budget = 1 << 20
	m, victim, hostile, _, _ := wantsPair(t, 0, sessionTimeout(5*time.Minute), func(c *mesh.Config) { c.SessionBytes = budget })
	rec := freshReport(t, m.stores[1].Signer(), mustMission(t, m.stores[1]).ID, "pushed forever")
	if r := m.stores[0].Add(rec.Raw, "test"); r.Outcome != store.Accepted {
		t.Fatal(r.Outcome, r.Err)
	}
	var body []byte
	for len(body) < 12<<10 {
		body = binary.AppendUvarint(body, uint64(len(rec.Raw)))
		body = append(body, rec.Raw...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := openTransfer(t, ctx, hostile, victim)
	go io.Copy(io.Discard, s)
	// Far more than the budget plus what the transport buffers: an
	// attacker still writing at this point was not cut.
	const enough = 256 << 20
	wrote := 0
	for wrote < enough {
		if err := writeFrameTo(s, 'R', body); err != nil {
			break
		}
		wrote += len(body) + 3
	}
	t.Logf("cut after the attacker wrote %.1f MiB (budget %.1f MiB); %d strikes", float64(wrote)/mib, float64(budget)/mib,
		mesh.StrikesOf(victim, m.stores[1].Author()))
	if wrote >= enough {
		t.Fatalf("the victim took %d MiB of pushes in one session, budget %d MiB", wrote/mib, budget/mib)
	}
	if wrote < budget {
		t.Errorf("cut after %d bytes, below the %d-byte budget", wrote, budget)
	}
	if n := mesh.StrikesOf(victim, m.stores[1].Author()); n != 0 {
		t.Errorf("%d strikes", n)
	}
}

// An honest difference larger than the byte budget (3,000 records, about
// 1.2 MB, against a 256 KiB budget) converges over several sessions:
// each ends at the budget keeping what it received, the next goes on
// from there, and nobody is struck.
func TestLargeSyncConvergesOverBudgetedSessions(t *testing.T) {
	const budget = 256 << 10
	m := newMission(t, 2)
	_, size := bulkDays(t, m.stores[0], 3000, 1000)
	t.Logf("%d records, %d bytes, budget %d", 3000, size, budget)
	a := m.start(0, noReceipts, slowPeriodic)
	b := m.start(1, noReceipts, slowPeriodic, func(c *mesh.Config) { c.SessionBytes = budget })
	connect(t, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), slow(2*time.Minute))
	defer cancel()
	sessions, cut := 0, 0
	for !equal(ids(t, m.stores[0]), ids(t, m.stores[1])) {
		if ctx.Err() != nil {
			t.Fatalf("not converged after %d sessions: %d and %d records", sessions, len(ids(t, m.stores[0])), len(ids(t, m.stores[1])))
		}
		res, err := b.SyncPeer(ctx, a.Node().ID())
		sessions++
		if errors.Is(err, mesh.ErrSessionBudget) {
			cut++
		} else if err != nil {
			t.Logf("session %d: %v", sessions, err)
		}
		t.Logf("session %d: received %d records, %d bytes (err %v)", sessions, res.Received, res.BytesReceived, err)
		if res.BytesReceived > budget+(128<<10) {
			t.Errorf("session %d received %d bytes, budget %d", sessions, res.BytesReceived, budget)
		}
	}
	t.Logf("converged after %d sessions, %d cut at the budget", sessions, cut)
	if cut == 0 {
		t.Error("no session reached the budget")
	}
	if n := mesh.TotalStrikes(a) + mesh.TotalStrikes(b); n != 0 {
		t.Errorf("%d strikes", n)
	}
}
