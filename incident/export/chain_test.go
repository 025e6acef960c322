package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
)

// chainedBundle is a bundle of a mission whose n coordinators each enrolled
// the next: every member record depends on the one before it (its issuer's
// enrollment). The records are written newest first, the genesis last, the
// worst order for a verifier that retries what waits until nothing changes.
func chainedBundle(tb testing.TB, n int) []byte {
	tb.Helper()
	t0 := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	signer := func(i int) *incident.Signer { return paperSigner(tb, fmt.Sprintf("chain/%d", i)) }
	prev := signer(0)
	g, err := prev.Sign(incident.ID{}, incident.KindMission, t0, incident.MissionPayload{
		Name: "Chained mission", Nonce: bytes.Repeat([]byte{1}, 16), Taxonomy: incident.TaxonomyVersion, Label: "founder",
	})
	if err != nil {
		tb.Fatal(err)
	}
	raws := [][]byte{g.Raw}
	for i := 1; i <= n; i++ {
		next := signer(i)
		a := next.Author()
		nonce := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
		tok := prev.SignToken(incident.Token{Mission: g.ID.Bytes(), Role: incident.RoleCoordinator,
			Label: fmt.Sprintf("c%d", i), Nonce: nonce[:16], For: a[:]})
		rec, err := next.Sign(g.ID, incident.KindMember, t0.Add(time.Duration(i)*time.Second), incident.MemberPayload{Token: tok})
		if err != nil {
			tb.Fatal(err)
		}
		raws = append(raws, rec.Raw)
		prev = next
	}
	slices.Reverse(raws)
	var buf bytes.Buffer
	if err := bundle.Write(&buf, g.ID, t0, raws); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// A chain of enrollments in the worst order verifies whole: each record
// is judged again when the one it waits for is accepted.
func TestVerifyReversedChain(t *testing.T) {
	const n = 2000
	rep, err := Verify(bytes.NewReader(chainedBundle(t, n)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Verdicts) != n+1 || rep.Bad() != 0 {
		t.Fatalf("%d verdicts, %d bad; first: %+v", len(rep.Verdicts), rep.Bad(), rep.Verdicts[0])
	}
}

// Verifying 10,000 chained records costs time linear in the records (it
// was quadratic: every pass over the file judged every waiting record
// again, checking its token's signature each time).
//
//	go test -run X -bench VerifyChained10k ./incident/export/
func BenchmarkVerifyChained10k(b *testing.B) {
	const n = 10_000
	data := chainedBundle(b, n)
	b.ResetTimer()
	for b.Loop() {
		rep, err := Verify(bytes.NewReader(data), nil)
		if err != nil || rep.Bad() != 0 || len(rep.Verdicts) != n+1 {
			b.Fatalf("verify: %v, %d bad", err, rep.Bad())
		}
	}
	b.ReportMetric(float64(n+1)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
