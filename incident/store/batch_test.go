package store_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// A batch through AddMany must end in exactly the store that adding the
// same records one by one makes, whatever the chunking: same answers,
// same records, and indexes that agree with a fold of every report.
func TestAddManyEqualsOneByOne(t *testing.T) {
	for _, seed := range []uint64{11, 12, 13} {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0xba7c4))
			h := genHistory(t, rng)
			var all [][]byte
			for _, r := range h.valid {
				all = append(all, r.Raw)
			}
			for _, b := range append(append([]namedRaw(nil), h.invalid...), h.held...) {
				all = append(all, b.raw)
			}
			// Duplicates inside one batch, too.
			all = append(all, all[len(all)/2], all[len(all)/3])
			rng.Shuffle(len(all), func(a, b int) { all[a], all[b] = all[b], all[a] })

			now := func() time.Time { return orderNow }
			one := openBadger(t, store.Options{Now: now})
			if _, err := one.Join(h.inviteFor(t, rng)); err != nil {
				t.Fatal(err)
			}
			want := make([]store.Result, len(all))
			for i, raw := range all {
				want[i] = one.Add(raw, "peer")
			}
			for _, chunk := range []int{len(all), 7, 1} {
				t.Run(fmt.Sprintf("chunks of %d", chunk), func(t *testing.T) {
					s := openBadger(t, store.Options{Now: now})
					if _, err := s.Join(h.inviteFor(t, rng)); err != nil {
						t.Fatal(err)
					}
					var got []store.Result
					for start := 0; start < len(all); start += chunk {
						out, err := s.AddMany(all[start:min(start+chunk, len(all))], "peer", nil)
						if err != nil {
							t.Fatalf("AddMany: %v", err)
						}
						got = append(got, out...)
					}
					for i := range want {
						if got[i].ID != want[i].ID || got[i].Outcome != want[i].Outcome ||
							!slices.Equal(got[i].Released, want[i].Released) || (got[i].Err == nil) != (want[i].Err == nil) {
							t.Errorf("record %d: AddMany %s %v released %d, Add %s %v released %d", i,
								got[i].Outcome, got[i].Err, len(got[i].Released), want[i].Outcome, want[i].Err, len(want[i].Released))
						}
					}
					for _, r := range h.valid {
						if r.Kind != incident.KindMission {
							wantHas(t, s, r.ID, true)
						}
					}
					if g, w := mustQuarantine(t, s), mustQuarantine(t, one); g != w {
						t.Errorf("quarantine holds %d, one by one %d", g, w)
					}
					if g, w := listJSON(t, s, store.Filter{}), listJSON(t, one, store.Filter{}); g != w {
						t.Errorf("AddMany store lists differently:\n%s\nvs\n%s", g, w)
					}
					checkIndexes(t, s, orderFilters(h))
				})
			}
		})
	}
}

// checkIndexes fails unless every filter's List and CountReports agree
// with a fold of every report (the full list, filtered and grouped here).
func checkIndexes(t *testing.T, s *store.Store, filters []store.Filter) {
	t.Helper()
	all := mustList(t, s, store.Filter{})
	dims := []store.Dimension{store.ByCategory, store.BySeverity, store.ByArea, store.ByStation, store.ByStatus, store.ByHour}
	for _, f := range filters {
		var wantIDs []incident.ID
		wantCounts := map[store.Group]int{}
		for _, v := range all {
			if !matches(v, f) {
				continue
			}
			if f.Limit == 0 || len(wantIDs) < f.Limit {
				wantIDs = append(wantIDs, v.ID)
			}
			occ := v.Report.Occurred
			if v.Sealed {
				occ = v.Created
			}
			wantCounts[store.Group{Category: v.Report.Category, Severity: v.Report.Severity, Area: v.Report.Area,
				Station: v.Report.Station, Status: v.Status, Hour: time.UnixMilli(occ).UTC().Truncate(time.Hour)}]++
		}
		wantList(t, s, f, wantIDs...)
		got, err := s.CountReports(f, dims...)
		if err != nil {
			t.Fatalf("CountReports(%s): %v", describe(f), err)
		}
		if !mapsEqual(got, wantCounts) {
			t.Errorf("CountReports(%s) = %v, fold says %v", describe(f), got, wantCounts)
		}
	}
}

// batchWorld is a mission with observers whose keys the test holds.
type batchWorld struct {
	s         *store.Store
	mission   incident.ID
	observers []*incident.Signer
	members   [][]byte
}

func (w *batchWorld) report(t *testing.T, obs, i int, at time.Time) *incident.Signed {
	t.Helper()
	p := report("polling.intimidation", fmt.Sprintf("S%d", i%7), at, fmt.Sprintf("report %d", i))
	p.Area = fmt.Sprintf("area %d", i%5)
	return mustSign(t, w.observers[obs], w.mission, incident.KindReport, at, p)
}

// One bad record in a batch costs nothing but itself: garbage, a record
// over its author's quota, a duplicate and an amend that arrives before
// its report (and is let in by it, in the same batch) all sit among good
// records, and every good one is stored, indexed and durable.
func TestAddManyBadRecordsKeepTheRest(t *testing.T) {
	home := t.TempDir()
	s, _ := initHome(t, home, store.Options{Now: func() time.Time { return t0 }})
	w := &batchWorld{s: s, mission: createMission(t, s)}
	for i := range 2 {
		obs := mustSigner(t, byte(100+i))
		tok := s.Signer().SignToken(incident.Token{Mission: w.mission.Bytes(), Role: incident.RoleObserver,
			Label: "obs", Nonce: []byte(fmt.Sprintf("nonce-%010d", i))})
		w.observers = append(w.observers, obs)
		w.members = append(w.members, mustSign(t, obs, w.mission, incident.KindMember, t0, incident.MemberPayload{Token: tok}).Raw)
	}
	// Observer 1 is at its quota for the mission: its next report is over.
	var quotaFill [][]byte
	for i := range incident.QuotaObserverRecords {
		quotaFill = append(quotaFill, w.report(t, 1, 10_000+i, t0.Add(time.Duration(i)*time.Second)).Raw)
	}
	if out, err := s.AddMany(append(append([][]byte(nil), w.members[1]), quotaFill...), "fill", nil); err != nil {
		t.Fatal(err)
	} else {
		for i, r := range out {
			if r.Outcome != store.Accepted {
				t.Fatalf("fill %d: %s %v", i, r.Outcome, r.Err)
			}
		}
	}
	rep := w.report(t, 0, 1, t0.Add(time.Hour))
	amend := mustSign(t, w.observers[0], w.mission, incident.KindAmend, t0.Add(2*time.Hour), incident.AmendPayload{
		Target: rep.ID.Bytes(), Report: report("polling.violence", "S9", t0.Add(time.Hour), "amended")})
	over := w.report(t, 1, 99, t0.Add(3*time.Hour))
	good := []*incident.Signed{w.report(t, 0, 2, t0.Add(4*time.Hour)), w.report(t, 0, 3, t0.Add(5*time.Hour))}

	type want struct {
		raw     []byte
		outcome store.Outcome
		check   func(error) bool
	}
	batch := []want{
		{amend.Raw, store.Quarantined, nil}, // waits for its report …
		{w.members[0], store.Accepted, nil}, // (observer 0 joins in the batch)
		{[]byte("not a record"), store.Rejected, func(err error) bool { return errors.Is(err, incident.ErrBadEncoding) }},
		{good[0].Raw, store.Accepted, nil},
		{over.Raw, store.Rejected, func(err error) bool { return errors.Is(err, store.ErrQuota) }},
		{rep.Raw, store.Accepted, nil}, // … which lets the amend in
		{good[0].Raw, store.Duplicate, nil},
		{good[1].Raw, store.Accepted, nil},
	}
	raws := make([][]byte, len(batch))
	for i, b := range batch {
		raws[i] = b.raw
	}
	out, err := s.AddMany(raws, "peer", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range batch {
		if out[i].Outcome != b.outcome || (b.check != nil && !b.check(out[i].Err)) {
			t.Errorf("record %d: %s %v, want %s", i, out[i].Outcome, out[i].Err, b.outcome)
		}
	}
	if !slices.Equal(out[5].Released, []incident.ID{amend.ID}) {
		t.Errorf("the report released %v, want the amend", out[5].Released)
	}
	s.Close()

	// Durable, and indexed as a fold says.
	s = reopen(t, home, passphrase, store.Options{Now: func() time.Time { return t0 }})
	for _, r := range append([]*incident.Signed{rep, amend}, good...) {
		wantHas(t, s, r.ID, true)
	}
	wantHas(t, s, over.ID, false)
	if n := mustQuarantine(t, s); n != 0 {
		t.Errorf("%d records left in quarantine", n)
	}
	v, err := s.Report(rep.ID)
	if err != nil || v.Report.Category != "polling.violence" || v.Amendments != 1 {
		t.Errorf("amended report: %+v, %v", v.Report, err)
	}
	wantList(t, s, store.Filter{Category: "polling.violence"}, rep.ID)
	wantList(t, s, store.Filter{Author: w.observers[0].Author()}, rep.ID, good[0].ID, good[1].ID)
	checkIndexes(t, s, []store.Filter{{}, {Category: "polling"}, {Station: "S9"}, {Author: w.observers[1].Author()}})
}

// A batch larger than one Badger transaction holds is split into several
// transactions; none of it is lost, and it all survives a reopen.
func TestAddManyLargeBatch(t *testing.T) {
	home := t.TempDir()
	s, _ := initHome(t, home, store.Options{Now: func() time.Time { return t0 }})
	w := &batchWorld{s: s, mission: createMission(t, s)}
	const observers, perObserver = 3, 1500 // about 50k Badger entries: several transactions
	var raws [][]byte
	for o := range observers {
		obs := mustSigner(t, byte(100+o))
		tok := s.Signer().SignToken(incident.Token{Mission: w.mission.Bytes(), Role: incident.RoleObserver,
			Label: "obs", Nonce: []byte(fmt.Sprintf("nonce-%010d", o))})
		w.observers = append(w.observers, obs)
		// Reports first: they wait in quarantine until the member record,
		// at the end of the batch, lets them all in.
		for i := range perObserver {
			raws = append(raws, w.report(t, o, o*perObserver+i, t0.Add(time.Duration(i)*time.Minute)).Raw)
		}
		raws = append(raws, mustSign(t, obs, w.mission, incident.KindMember, t0, incident.MemberPayload{Token: tok}).Raw)
	}
	out, err := s.AddMany(raws, "bundle", nil)
	if err != nil {
		t.Fatal(err)
	}
	in := 0
	for _, r := range out {
		if r.Outcome == store.Accepted {
			in += 1 + len(r.Released)
		} else if r.Outcome != store.Quarantined {
			t.Fatalf("%s: %s %v", r.ID, r.Outcome, r.Err)
		}
	}
	if in != len(raws) {
		t.Errorf("%d records got in, want %d", in, len(raws))
	}
	s.Close()
	s = reopen(t, home, passphrase, store.Options{Now: func() time.Time { return t0 }})
	if c := mustCounts(t, s)[incident.KindReport]; c != observers*perObserver {
		t.Errorf("%d reports after reopen, want %d", c, observers*perObserver)
	}
	if n := mustQuarantine(t, s); n != 0 {
		t.Errorf("%d records left in quarantine", n)
	}
	got, err := s.CountReports(store.Filter{}, store.ByArea)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for g, n := range got {
		if g.Area == "" {
			t.Errorf("%d reports counted without their area", n)
		}
		total += n
	}
	if total != observers*perObserver {
		t.Errorf("CountReports total %d, want %d", total, observers*perObserver)
	}
}

// After Close every call fails with ErrClosed; writes racing Close either
// land (and are durable) or fail with ErrClosed, and nothing panics.
func TestClosed(t *testing.T) {
	home := t.TempDir()
	s, _ := initHome(t, home, store.Options{Now: func() time.Time { return t0 }})
	w := &batchWorld{s: s, mission: createMission(t, s)}
	obs := mustSigner(t, 100)
	tok := s.Signer().SignToken(incident.Token{Mission: w.mission.Bytes(), Role: incident.RoleObserver, Label: "obs", Nonce: []byte("nonce-0000000000")})
	w.observers = append(w.observers, obs)
	if r := s.Add(mustSign(t, obs, w.mission, incident.KindMember, t0, incident.MemberPayload{Token: tok}).Raw, "peer"); r.Outcome != store.Accepted {
		t.Fatal(r.Err)
	}
	var batches [][][]byte
	for b := range 8 {
		var raws [][]byte
		for i := range 50 {
			raws = append(raws, w.report(t, 0, b*50+i, t0.Add(time.Duration(b*50+i)*time.Second)).Raw)
		}
		batches = append(batches, raws)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		accepted []incident.ID
		returned = make(chan struct{}, len(batches))
	)
	add := func(raws [][]byte) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := s.AddMany(raws, "peer", nil)
			returned <- struct{}{}
			if err != nil && !errors.Is(err, store.ErrClosed) {
				t.Errorf("AddMany racing Close: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, r := range out {
				switch {
				case err == nil && r.Outcome == store.Accepted:
					accepted = append(accepted, r.ID)
				case err != nil && !errors.Is(r.Err, store.ErrClosed):
					t.Errorf("record %s: %s %v, want ErrClosed", r.ID, r.Outcome, r.Err)
				}
			}
		}()
	}
	// Half the batches first; once one of them is back (so some records
	// surely land), Close starts while the rest of them wait for the
	// store's lock and the other half set out.
	for _, raws := range batches[:4] {
		add(raws)
	}
	<-returned
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for _, raws := range batches[4:] {
		add(raws)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()

	calls := []struct {
		name string
		err  func() error
	}{
		{"Add", func() error { return s.Add(batches[0][0], "peer").Err }},
		{"AddMany", func() error { _, err := s.AddMany(batches[0], "peer", nil); return err }},
		{"Put", func() error { _, err := s.Put(incident.KindReport, report("other", "", t0, "late")); return err }},
		{"Get", func() error { _, err := s.Get(incident.IDOf(batches[0][0])); return err }},
		{"Has", func() error { _, err := s.Has(incident.IDOf(batches[0][0])); return err }},
		{"List", func() error { _, err := s.List(store.Filter{}); return err }},
		{"CountReports", func() error { _, err := s.CountReports(store.Filter{}, store.ByArea); return err }},
		{"SetMeta", func() error { return s.SetMeta("x", []byte("y")) }},
		{"MarkHeld", func() error { return s.MarkHeld("peer", []incident.ID{incident.IDOf(batches[0][0])}, 1) }},
		{"PutBlob", func() error { return s.PutBlob(sha256.Sum256(nil), nil) }},
	}
	for _, c := range calls {
		if err := c.err(); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", c.name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	s = reopen(t, home, passphrase, store.Options{Now: func() time.Time { return t0 }})
	for _, id := range accepted {
		wantHas(t, s, id, true)
	}
}
