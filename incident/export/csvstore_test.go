package export_test

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
)

// sequentialCSV is the CSV of the reports of st that f selects as the
// CSV writer writes it from the store's views one after another (what
// FromStore wrote before it printed rows on every core).
func sequentialCSV(t *testing.T, st *store.Store, f store.Filter, hxl bool) ([]byte, int) {
	t.Helper()
	ms, err := st.Mission()
	if err != nil {
		t.Fatal(err)
	}
	labels := map[incident.Author]string{}
	for _, m := range ms.Members() {
		labels[m.Author] = m.Label
	}
	views, err := st.List(f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	cw, err := export.NewCSV(bw, hxl)
	if err != nil {
		t.Fatal(err)
	}
	for i := range views {
		if err := cw.Write(&export.Item{View: views[i], Observer: labels[views[i].Author], ReviewNote: export.ReviewNoteOf(&views[i])}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), len(views)
}

// The CSV export of a store, whose rows are printed on every core where
// each report is folded and then written in the order of the reports, is
// byte for byte what the CSV writer writes from the store's views in
// order: for a store large enough to be read in key order, in several
// runs, holding clear and sealed reports (opened here), amendments
// (clear and sealed), retractions, reviews with notes, a report with a
// field a newer build added; with and without a filter or a limit, with
// the HXL row. Progress is told of every report, in order.
func TestCSVFromStoreAsWriter(t *testing.T) {
	m, err := gen.NewMission(t.TempDir(), 12, 7)
	if err != nil {
		t.Fatal(err)
	}
	st := m.Founder
	t.Cleanup(func() { st.Close() })
	if err := gen.AddAll(st, m.Members, "roster"); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-72 * time.Hour).Truncate(time.Millisecond)
	clear := gen.Spec{N: 2400, Seed: 3, Start: start, Days: 1}
	raws, err := m.Sign(clear)
	if err != nil {
		t.Fatal(err)
	}
	rcp, err := m.Recipients()
	if err != nil {
		t.Fatal(err)
	}
	sealed := gen.Spec{N: 150, Seed: 4, Start: start, Days: 1}
	sraws, err := m.SignSealed(sealed, rcp)
	if err != nil {
		t.Fatal(err)
	}
	later := start.Add(36 * time.Hour)
	var extra [][]byte
	sign := func(s *incident.Signer, kind incident.Kind, payload any) {
		rec, err := s.Sign(m.ID, kind, later, payload)
		if err != nil {
			t.Fatal(err)
		}
		extra = append(extra, rec.Raw)
		later = later.Add(time.Second)
	}
	for i := 0; i < clear.N; i++ {
		p, who, _ := m.Report(clear, i)
		target := incident.IDOf(raws[i]).Bytes()
		author := m.Observers[who]
		switch {
		case i%37 == 0:
			p.Title += `, amended: "two" stations`
			p.Description = "line one\nline two, with a comma"
			sign(author, incident.KindAmend, incident.AmendPayload{Target: target, Report: p})
		case i%53 == 0:
			p.Title = "sealed amendment"
			ct, err := incident.Seal(incident.KindAmend, incident.AmendPayload{Target: target, Report: p}, rcp)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := author.SignSealed(m.ID, incident.KindAmend, later, incident.SealedEnvelope{Target: target}, ct)
			if err != nil {
				t.Fatal(err)
			}
			extra = append(extra, rec.Raw)
		case i%41 == 0:
			sign(author, incident.KindRetract, incident.RetractPayload{Target: target, Reason: "sent twice, \"by mistake\""})
		case i%29 == 0:
			sign(st.Signer(), incident.KindReview, incident.ReviewPayload{Target: target, Status: "verified", Note: "called the station,\nconfirmed"})
		}
	}
	for i := 0; i < sealed.N; i += 17 {
		sign(st.Signer(), incident.KindReview, incident.ReviewPayload{Target: incident.IDOf(sraws[i]).Bytes(), Status: "escalated", Note: "sealed; escalated"})
	}
	sign(m.Observers[0], incident.KindReport, map[uint64]any{1: "polling.late_opening", 2: uint64(2), 3: later.UnixMilli(), 9: "Opened late", 16: "a newer build's field"})
	for _, batch := range [][][]byte{raws, sraws, extra} {
		if err := gen.AddAll(st, batch, "test"); err != nil {
			t.Fatal(err)
		}
	}

	mid := time.UnixMilli(start.UnixMilli() + 12*3600*1000)
	for _, c := range []struct {
		f   store.Filter
		hxl bool
	}{
		{store.Filter{}, false},
		{store.Filter{}, true},
		{store.Filter{Since: mid}, false},
		{store.Filter{Limit: 2300}, false},
		{store.Filter{Until: mid}, false},
		{store.Filter{Category: "polling"}, false},
	} {
		want, n := sequentialCSV(t, st, c.f, c.hxl)
		var got bytes.Buffer
		done := 0
		res, err := export.FromStore(st, &got, export.Request{Format: "csv", Filter: c.f, HXL: c.hxl, Progress: func(i, total int) {
			done++
			if i != done || total != n {
				t.Fatalf("progress %d of %d after %d of %d", i, total, done-1, n)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Reports != n || done != n || n == 0 {
			t.Errorf("%+v: %d reports exported, progress told of %d, want %d", c.f, res.Reports, done, n)
		}
		if !bytes.Equal(got.Bytes(), want) {
			gl, wl := bytes.Split(got.Bytes(), []byte("\r\n")), bytes.Split(want, []byte("\r\n"))
			for i := range min(len(gl), len(wl)) {
				if !bytes.Equal(gl[i], wl[i]) {
					t.Fatalf("%+v, hxl %v: line %d differs\n%s\nwant\n%s", c.f, c.hxl, i, gl[i], wl[i])
				}
			}
			t.Fatalf("%+v, hxl %v: %d lines, want %d", c.f, c.hxl, len(gl), len(wl))
		}
	}
}
