package gen

import (
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// The generated reports are valid records a store accepts, of a realistic
// size, and reproducible from the seed.
func TestReportsAreValidAndRealistic(t *testing.T) {
	m, err := NewMission(t.TempDir(), 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Founder.Close()
	if err := AddAll(m.Founder, m.Members, "test"); err != nil {
		t.Fatal(err)
	}
	sp := Spec{N: 300, Seed: 7, Start: time.Now().Add(-48 * time.Hour), Days: 2}
	raws, err := m.Sign(sp)
	if err != nil {
		t.Fatal(err)
	}
	if err := AddAll(m.Founder, raws, "test"); err != nil {
		t.Fatal(err)
	}
	counts, err := m.Founder.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if counts[incident.KindReport] != sp.N {
		t.Fatalf("stored %d reports, want %d", counts[incident.KindReport], sp.N)
	}
	_, mean := Sizes(raws)
	if mean < 400 || mean > 900 {
		t.Errorf("mean record size %.0f bytes, want about 600", mean)
	}
	t.Logf("mean record %.0f bytes, gzip leaves %.2f", mean, GzipRatio(raws))
	if r := GzipRatio(raws); r < 0.6 {
		t.Errorf("gzip leaves %.2f of the records: too compressible", r)
	}
	p1, a1, t1 := m.Report(sp, 42)
	p2, a2, t2 := m.Report(sp, 42)
	if p1.Title != p2.Title || a1 != a2 || !t1.Equal(t2) {
		t.Error("report 42 differs between two calls with the same seed")
	}
	fam := 0
	if err := m.Founder.Scan(store.Filter{Category: "polling"}, func(incident.ReportView) error { fam++; return nil }); err != nil {
		t.Fatal(err)
	}
	if fam == 0 || fam == sp.N {
		t.Errorf("%d of %d reports are in the polling family: the mix is not mixed", fam, sp.N)
	}
}

// Sealed reports carry the same payloads as clear ones from the same
// spec, and the founder (their recipient) stores and opens them.
func TestSealedReportsOpenToTheFounder(t *testing.T) {
	m, err := NewMission(t.TempDir(), 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Founder.Close()
	if err := AddAll(m.Founder, m.Members, "test"); err != nil {
		t.Fatal(err)
	}
	rcp, err := m.Recipients()
	if err != nil {
		t.Fatal(err)
	}
	sp := Spec{N: 20, Seed: 7, Start: time.Now().Add(-48 * time.Hour), Days: 2}
	raws, err := m.SignSealed(sp, rcp)
	if err != nil {
		t.Fatal(err)
	}
	if err := AddAll(m.Founder, raws, "test"); err != nil {
		t.Fatal(err)
	}
	for i, raw := range raws {
		v, err := m.Founder.Report(incident.IDOf(raw))
		if err != nil {
			t.Fatal(err)
		}
		want, _, _ := m.Report(sp, i)
		if !v.Sealed || !v.Opened || v.Report.Title != want.Title || v.Report.Station != want.Station {
			t.Fatalf("report %d: sealed %v opened %v title %q, want %q", i, v.Sealed, v.Opened, v.Report.Title, want.Title)
		}
	}
}
