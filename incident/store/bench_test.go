package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// benchMission is a founder's store that knows one observer, and the
// observer's signer, so benchmarks can pre-sign the observer's reports.
func benchMission(b *testing.B) (*store.Store, *incident.Signer, incident.ID) {
	b.Helper()
	c := newClock(t0)
	o := store.Options{Now: c.Now}
	f, _ := initHome(b, b.TempDir(), o)
	mid := createMission(b, f)
	obs, _ := initHome(b, b.TempDir(), o)
	enroll(b, f, obs, incident.RoleObserver, "bench")
	// One observer writes every record: lift its quota out of the way.
	mustPut(b, f, incident.KindConfig, incident.ConfigPayload{Settings: map[string]string{
		incident.SettingQuota(incident.RoleObserver, "records"): fmt.Sprint(uint64(incident.MaxQuotaRecords)),
		incident.SettingQuota(incident.RoleObserver, "bytes"):   fmt.Sprint(uint64(incident.MaxAttachmentBudget))}})
	return f, obs.Signer(), mid
}

var benchCategories = []string{"polling.closure", "polling.intimidation", "polling.late_opening", "polling.vote_buying",
	"registration.name_missing", "infrastructure.power_outage", "disinformation.hate_speech", "other"}

// benchReports pre-signs n small reports one minute apart in claimed time.
func benchReports(b *testing.B, s *incident.Signer, mid incident.ID, n int) [][]byte {
	b.Helper()
	out := make([][]byte, n)
	for i := range out {
		when := t0.Add(time.Duration(i) * time.Minute)
		p := report(benchCategories[i%len(benchCategories)], fmt.Sprintf("S%03d", i%200), when, fmt.Sprintf("report %d", i))
		out[i] = mustSign(b, s, mid, incident.KindReport, when, p).Raw
	}
	return out
}

// BenchmarkAddReport measures Add of pre-signed reports into a store: one
// validated, indexed, synced commit each.
func BenchmarkAddReport(b *testing.B) {
	f, signer, mid := benchMission(b)
	raws := benchReports(b, signer, mid, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := f.Add(raws[i], "bench"); res.Outcome != store.Accepted {
			b.Fatalf("Add %d: %s %v", i, res.Outcome, res.Err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAddManyReports is BenchmarkAddReport through AddMany, in
// batches of 500 (a bundle's worth): one sync per batch.
func BenchmarkAddManyReports(b *testing.B) {
	f, signer, mid := benchMission(b)
	raws := benchReports(b, signer, mid, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for start := 0; start < len(raws); start += 500 {
		batch := raws[start:min(start+500, len(raws))]
		res, err := f.AddMany(batch, "bench", nil)
		if err != nil {
			b.Fatal(err)
		}
		for i, r := range res {
			if r.Outcome != store.Accepted {
				b.Fatalf("Add %d: %s %v", start+i, r.Outcome, r.Err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkListCategory lists by category over 10k reports: a family (half
// the reports, time index walk), one code (category index), and one code
// with a page limit.
func BenchmarkListCategory(b *testing.B) {
	const n = 10_000
	f, signer, mid := benchMission(b)
	for i, raw := range benchReports(b, signer, mid, n) {
		if res := f.Add(raw, "bench"); res.Outcome != store.Accepted {
			b.Fatalf("Add %d: %s %v", i, res.Outcome, res.Err)
		}
	}
	for _, c := range []struct {
		name string
		f    store.Filter
	}{
		{"family", store.Filter{Category: "polling"}},
		{"code", store.Filter{Category: "polling.closure"}},
		{"code_limit50", store.Filter{Category: "polling.closure", Limit: 50}},
	} {
		b.Run(c.name, func(b *testing.B) {
			got := 0
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				vs, err := f.List(c.f)
				if err != nil {
					b.Fatal(err)
				}
				got = len(vs)
			}
			b.StopTimer()
			if got == 0 {
				b.Fatal("listed nothing")
			}
			b.ReportMetric(float64(got), "reports/op")
			b.ReportMetric(float64(b.N*got)/b.Elapsed().Seconds(), "reports/s")
		})
	}
}

// BenchmarkLevel0Filter measures what reconciliation with a peer of format
// level 0 adds to a 100k-record store's snapshot: Unreadable(0) with 1 %
// of the records a newer build's (reports with a payload key this build
// added), beside the scan every snapshot makes anyway (ForEachKey) and
// Unconfirmed. ReadableAt0 is what each stored record costs at commit to
// keep the index.
func BenchmarkLevel0Filter(b *testing.B) {
	const n, newer = 100_000, 1_000
	f, signer, mid := benchMission(b)
	// The mission's own records a level-0 build cannot read either (its
	// epoch, enrollments with invite keys).
	before, err := f.Unreadable(0)
	if err != nil {
		b.Fatal(err)
	}
	raws := make([][]byte, 0, n)
	var legacyRec, newerRec *incident.Signed
	for i := 0; i < n; i++ {
		when := t0.Add(time.Duration(i) * time.Minute)
		var payload any = report(benchCategories[i%len(benchCategories)], fmt.Sprintf("S%03d", i%200), when, fmt.Sprintf("report %d", i))
		if i%(n/newer) == 0 {
			payload = map[uint64]any{1: "polling.closure", 2: uint64(2), 3: when.UnixMilli(), 9: fmt.Sprintf("report %d", i), 16: "form-7"}
		}
		r := mustSign(b, signer, mid, incident.KindReport, when, payload)
		if i%(n/newer) == 0 {
			newerRec = r
		} else {
			legacyRec = r
		}
		raws = append(raws, r.Raw)
	}
	for start := 0; start < n; start += 5000 {
		res, err := f.AddMany(raws[start:min(start+5000, n)], "bench", nil)
		if err != nil {
			b.Fatal(err)
		}
		for i, r := range res {
			if r.Outcome != store.Accepted {
				b.Fatalf("Add %d: %s %v", start+i, r.Outcome, r.Err)
			}
		}
	}
	b.Run("ForEachKey", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			k := 0
			if err := f.ForEachKey(func(int64, incident.ID) error { k++; return nil }); err != nil || k < n {
				b.Fatalf("%d keys, %v", k, err)
			}
		}
	})
	b.Run("Unconfirmed", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := f.Unconfirmed(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, level := range []int{0, 1} {
		b.Run(fmt.Sprintf("Unreadable%d", level), func(b *testing.B) {
			got := 0
			for i := 0; i < b.N; i++ {
				u, err := f.Unreadable(level)
				if err != nil {
					b.Fatal(err)
				}
				got = len(u)
			}
			if want := map[int]int{0: len(before) + newer, 1: 0}[level]; got != want {
				b.Fatalf("Unreadable(%d) = %d records, want %d", level, got, want)
			}
		})
	}
	for name, r := range map[string]*incident.Signed{"ReadableAt0_legacy": legacyRec, "ReadableAt0_newer": newerRec} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r.ReadableAt(0)
			}
		})
	}
}

// BenchmarkScanAll reads every report of 20k (one in ten amended) with
// Scan (records in key order, folded on every core), with Scan looking
// each report up (as it did before), and with a bare Badger iteration of
// the records.
func BenchmarkScanAll(b *testing.B) {
	f, signer, mid := benchMission(b)
	raws := benchReports(b, signer, mid, 20000)
	for i := 0; i < 20000; i += 10 {
		rec, err := incident.DecodeStored(raws[i])
		if err != nil {
			b.Fatal(err)
		}
		pl, err := rec.DecodePayload()
		if err != nil {
			b.Fatal(err)
		}
		p := *pl.(*incident.ReportPayload)
		p.Title += " (amended)"
		raws = append(raws, mustSign(b, signer, mid, incident.KindAmend, t0.Add(time.Duration(i)*time.Minute+time.Second),
			incident.AmendPayload{Target: rec.ID.Bytes(), Report: p}).Raw)
	}
	for start := 0; start < len(raws); start += 500 {
		if _, err := f.AddMany(raws[start:min(start+500, len(raws))], "bench", nil); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("lookup", func(b *testing.B) {
		defer store.SetBulkMin(1 << 30)()
		for range b.N {
			n := 0
			if err := f.Scan(store.Filter{}, func(incident.ReportView) error { n++; return nil }); err != nil || n != 20000 {
				b.Fatalf("%d reports, %v", n, err)
			}
		}
		b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "reports/s")
	})
	b.Run("scan", func(b *testing.B) {
		for range b.N {
			n := 0
			if err := f.Scan(store.Filter{}, func(incident.ReportView) error { n++; return nil }); err != nil || n != 20000 {
				b.Fatalf("%d reports, %v", n, err)
			}
		}
		b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "reports/s")
	})
	b.Run("bare", func(b *testing.B) {
		for range b.N {
			if _, err := store.BareRecords(f); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "reports/s")
	})
}
