package store_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// history is a generated mission: every record a set of devices signed,
// in the order they signed them, plus records every store must refuse.
type history struct {
	genesis *incident.Signed
	founder *incident.Signer
	valid   []*incident.Signed
	invalid []namedRaw
	// held are records whose author's role is too weak: never stored,
	// waiting in quarantine for an enrollment with a stronger role.
	held []namedRaw
	// reporters sign reports; used for author filters.
	reporters []incident.Author
}

type namedRaw struct {
	name string
	raw  []byte
}

// orderNow is the fixed clock every store in the property test reads, so
// clock flags agree.
var orderNow = t0.Add(12 * time.Hour)

// genHistory builds a mission history from rng: a founder, a second
// coordinator, three observers (one enrolled by the second coordinator,
// one later revoked), a carrier, a config, stations, reports with amends,
// reviews (chained and concurrent), a retraction, check-ins, an alert, a
// receipt and a checkpoint; and a dozen invalid records.
func genHistory(t testing.TB, rng *rand.Rand) *history {
	t.Helper()
	signer := func() *incident.Signer {
		seed := make([]byte, 32)
		for i := range seed {
			seed[i] = byte(rng.Uint32())
		}
		s, err := incident.NewSigner(seed)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	nonce := func() []byte {
		b := make([]byte, 16)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	minutes := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo+1)) * time.Minute }

	F, C2, O1, O2, O3, K, X := signer(), signer(), signer(), signer(), signer(), signer(), signer()
	h := &history{founder: F}
	h.genesis = mustSign(t, F, incident.ID{}, incident.KindMission, t0.Add(-48*time.Hour),
		incident.MissionPayload{Name: "Order test", Nonce: nonce(), Taxonomy: incident.TaxonomyVersion, Label: "HQ"})
	mid := h.genesis.ID
	add := func(r *incident.Signed) *incident.Signed { h.valid = append(h.valid, r); return r }
	bad := func(name string, raw []byte) { h.invalid = append(h.invalid, namedRaw{name, raw}) }
	hold := func(name string, raw []byte) { h.held = append(h.held, namedRaw{name, raw}) }
	add(h.genesis)

	token := func(issuer, who *incident.Signer, role string, bind bool) incident.Token {
		tok := incident.Token{Mission: mid.Bytes(), Role: role, Label: role, Nonce: nonce()}
		if bind {
			tok.For = ab(who.Author())
		}
		return issuer.SignToken(tok)
	}
	member := func(issuer, who *incident.Signer, role string, at time.Time) *incident.Signed {
		return add(mustSign(t, who, mid, incident.KindMember, at,
			incident.MemberPayload{Token: token(issuer, who, role, role == incident.RoleCoordinator)}))
	}
	base := t0.Add(-47 * time.Hour)
	member(F, C2, incident.RoleCoordinator, base.Add(minutes(0, 60)))
	member(F, O1, incident.RoleObserver, base.Add(minutes(0, 60)))
	member(C2, O2, incident.RoleObserver, base.Add(minutes(60, 120)))
	member(F, O3, incident.RoleObserver, base.Add(minutes(0, 60)))
	member(C2, K, incident.RoleCarrier, base.Add(minutes(60, 120)))
	coordinators := []*incident.Signer{F, C2}
	pick := func(list []*incident.Signer) *incident.Signer { return list[rng.IntN(len(list))] }

	add(mustSign(t, F, mid, incident.KindConfig, t0.Add(-40*time.Hour), incident.ConfigPayload{
		Categories: []incident.Category{{Code: "polling.ink_failure", Family: "polling", Label: "Ink failure"}}}))
	for i := 1; i <= 4; i++ {
		add(mustSign(t, pick(coordinators), mid, incident.KindStation, t0.Add(-30*time.Hour).Add(minutes(0, 60)),
			incident.StationPayload{Code: fmt.Sprintf("S%d", i), Name: fmt.Sprintf("School %d", i)}))
	}

	cats := []string{"polling.intimidation", "polling.late_opening", "registration.name_missing",
		"infrastructure.power_outage", "disinformation.hate_speech", "other", "polling.ink_failure", "polling.unlisted"}
	stations := []string{"S1", "S2", "S3", "S4", ""}
	reporters := []*incident.Signer{O1, O2, O3, C2}
	for _, r := range reporters {
		h.reporters = append(h.reporters, r.Author())
	}
	payload := func(i int) incident.ReportPayload {
		p := incident.ReportPayload{Category: cats[rng.IntN(len(cats))], Severity: uint64(1 + rng.IntN(4)),
			// Up to 14h: some lie ahead of the fixed clock and are flagged.
			Occurred: t0.Add(minutes(0, 14*60)).UnixMilli(), Station: stations[rng.IntN(len(stations))],
			Title: fmt.Sprintf("report %d", i), Description: strings.Repeat("details ", rng.IntN(4))}
		if incident.FamilyOf(p.Category) == "disinformation" && rng.IntN(2) == 0 {
			p.Channel, p.Harm, p.Reach, p.Source = "whatsapp", "high", uint64(rng.IntN(100000)), "forwarded message"
		}
		if rng.IntN(3) == 0 {
			p.Lat, p.Lon, p.Precision = incident.Micro(5.6+rng.Float64()), incident.Micro(-0.2+rng.Float64()), 50
		}
		return p
	}

	type rep struct {
		rec    *incident.Signed
		author *incident.Signer
	}
	var reps []rep
	nReports := 10 + rng.IntN(8)
	for i := 0; i < nReports; i++ {
		a := pick(reporters)
		p := payload(i)
		created := time.UnixMilli(p.Occurred).Add(minutes(0, 90))
		reps = append(reps, rep{add(mustSign(t, a, mid, incident.KindReport, created, p)), a})
	}
	var checkins []*incident.Signed
	for _, o := range []*incident.Signer{O1, O2, O3} {
		for j := 0; j <= rng.IntN(3); j++ {
			checkins = append(checkins, add(mustSign(t, o, mid, incident.KindCheckin, t0.Add(minutes(0, 600)),
				incident.CheckinPayload{Status: incident.CheckinStatuses[rng.IntN(4)], Station: stations[rng.IntN(4)]})))
		}
	}
	add(mustSign(t, O1, mid, incident.KindAlert, t0.Add(minutes(0, 600)), incident.AlertPayload{Note: "men with sticks", Station: "S2"}))

	for i, r := range reps {
		created := r.rec.Created
		// Amends by the author.
		if rng.IntN(10) < 4 {
			for j := 0; j <= rng.IntN(2); j++ {
				created += minutes(1, 30).Milliseconds()
				p := payload(100*i + j)
				add(mustSign(t, r.author, mid, incident.KindAmend, time.UnixMilli(created),
					incident.AmendPayload{Target: r.rec.ID.Bytes(), Report: p}))
			}
		}
		// Reviews: one coordinator, sometimes the other after it (seeing
		// it, or concurrently).
		if rng.IntN(10) < 6 {
			first := pick(coordinators)
			created += minutes(1, 30).Milliseconds()
			rv := add(mustSign(t, first, mid, incident.KindReview, time.UnixMilli(created), incident.ReviewPayload{
				Target: r.rec.ID.Bytes(), Status: incident.ReviewStatuses[rng.IntN(4)], Note: "checked"}))
			if rng.IntN(10) < 5 {
				second := F
				if first == F {
					second = C2
				}
				p := incident.ReviewPayload{Target: r.rec.ID.Bytes(), Status: incident.ReviewStatuses[rng.IntN(4)]}
				if rng.IntN(2) == 0 {
					p.Prev = [][]byte{rv.ID.Bytes()}
				}
				created += minutes(1, 30).Milliseconds()
				add(mustSign(t, second, mid, incident.KindReview, time.UnixMilli(created), p))
			}
		}
	}
	// One retraction by the author.
	rr := reps[rng.IntN(len(reps))]
	add(mustSign(t, rr.author, mid, incident.KindRetract, time.UnixMilli(rr.rec.Created).Add(time.Hour),
		incident.RetractPayload{Target: rr.rec.ID.Bytes(), Reason: "duplicate of another report"}))

	// The second coordinator revokes O3, keeping its first report if any;
	// O3 reports once more afterwards (valid, flagged).
	rv := incident.RevokePayload{Member: ab(O3.Author()), Reason: "phone lost"}
	for _, r := range reps {
		if r.author == O3 {
			rv.Accepted = [][]byte{r.rec.ID.Bytes()}
			break
		}
	}
	add(mustSign(t, C2, mid, incident.KindRevoke, t0.Add(10*time.Hour), rv))
	add(mustSign(t, O3, mid, incident.KindReport, t0.Add(11*time.Hour), payload(999)))

	var receipt incident.ReceiptPayload
	for _, r := range reps[:3] {
		receipt.IDs = append(receipt.IDs, r.rec.ID.Bytes())
	}
	add(mustSign(t, F, mid, incident.KindReceipt, t0.Add(11*time.Hour), receipt))
	root := make([]byte, 32)
	root[0] = byte(rng.Uint32())
	add(mustSign(t, C2, mid, incident.KindCheckpoint, t0.Add(11*time.Hour), incident.CheckpointPayload{Root: root, Count: uint64(len(h.valid))}))

	// Invalid records.
	var notO2 rep
	for _, r := range reps {
		if r.author != O2 {
			notO2 = r
			break
		}
	}
	if notO2.rec == nil {
		notO2 = rep{add(mustSign(t, O1, mid, incident.KindReport, t0.Add(time.Hour), payload(998))), O1}
	}
	at := t0.Add(minutes(0, 600))
	hold("observer review", mustSign(t, O1, mid, incident.KindReview, at,
		incident.ReviewPayload{Target: reps[0].rec.ID.Bytes(), Status: "verified"}).Raw)
	bad("amend by another observer", mustSign(t, O2, mid, incident.KindAmend, at,
		incident.AmendPayload{Target: notO2.rec.ID.Bytes(), Report: payload(997)}).Raw)
	bad("retract by another observer", mustSign(t, O2, mid, incident.KindRetract, at,
		incident.RetractPayload{Target: notO2.rec.ID.Bytes(), Reason: "not mine"}).Raw)
	hold("carrier report", mustSign(t, K, mid, incident.KindReport, at, payload(996)).Raw)
	sev := payload(995)
	sev.Severity = 7
	bad("severity 7", mustSign(t, O1, mid, incident.KindReport, at, sev).Raw)
	flipped := append([]byte(nil), reps[len(reps)-1].rec.Raw...)
	flipped[len(flipped)/2] ^= 0x04
	bad("flipped byte", flipped)
	foreign := mustSign(t, X, incident.ID{}, incident.KindMission, at,
		incident.MissionPayload{Name: "Other mission", Nonce: nonce(), Taxonomy: incident.TaxonomyVersion})
	bad("foreign genesis", foreign.Raw)
	bad("foreign report", mustSign(t, X, foreign.ID, incident.KindReport, at, payload(994)).Raw)
	swapped := mustSign(t, X, mid, incident.KindReport, at, payload(993))
	swapped.Record.Author = ab(O1.Author())
	raw, err := incident.Marshal(swapped.Record)
	if err != nil {
		t.Fatal(err)
	}
	bad("author swapped", raw)
	bad("unbound coordinator token", mustSign(t, X, mid, incident.KindMember, at,
		incident.MemberPayload{Token: token(F, X, incident.RoleCoordinator, false)}).Raw)
	hold("token issued by an observer", mustSign(t, X, mid, incident.KindMember, at,
		incident.MemberPayload{Token: token(O1, X, incident.RoleObserver, false)}).Raw)
	bad("review of a check-in", mustSign(t, F, mid, incident.KindReview, at,
		incident.ReviewPayload{Target: checkins[0].ID.Bytes(), Status: "verified"}).Raw)
	return h
}

// inviteFor makes an invite code for a carrier, signed by the history's
// founder, so a store can join the generated mission.
func (h *history) inviteFor(t testing.TB, rng *rand.Rand) string {
	t.Helper()
	n := make([]byte, 16)
	for i := range n {
		n[i] = byte(rng.Uint32())
	}
	tok := h.founder.SignToken(incident.Token{Mission: h.genesis.ID.Bytes(), Role: incident.RoleCarrier, Nonce: n})
	secret := make([]byte, 32)
	code, err := incident.EncodeInvite(incident.Invite{Genesis: h.genesis.Raw, Token: tok, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// feed adds raws to s in order and returns, per record ID, how many times
// it got in (directly or released).
func feed(t testing.TB, s *store.Store, raws [][]byte, source string) map[incident.ID]int {
	t.Helper()
	in, _ := tally(t, func() []store.Result {
		out := make([]store.Result, len(raws))
		for i, raw := range raws {
			out[i] = s.Add(raw, source)
		}
		return out
	})
	return in
}

// feedMany is feed through AddMany, which must judge each record as Add
// would.
func feedMany(t testing.TB, s *store.Store, raws [][]byte, source string) (map[incident.ID]int, int) {
	t.Helper()
	calls := 0
	in, waited := tally(t, func() []store.Result {
		out, err := s.AddMany(raws, source, func(done int) {
			calls++
			if done != calls {
				t.Errorf("AddMany progress %d after %d calls", done, calls)
			}
		})
		if err != nil {
			t.Fatalf("AddMany: %v", err)
		}
		if len(out) != len(raws) {
			t.Fatalf("AddMany returned %d results for %d records", len(out), len(raws))
		}
		for i, r := range out {
			if r.ID != incident.IDOf(raws[i]) {
				t.Fatalf("AddMany result %d names %s, want %s", i, r.ID, incident.IDOf(raws[i]))
			}
		}
		return out
	})
	if calls != len(raws) {
		t.Errorf("AddMany called progress %d times for %d records", calls, len(raws))
	}
	return in, waited
}

// tally counts, per ID, the records that got in, and how many waited.
func tally(t testing.TB, add func() []store.Result) (map[incident.ID]int, int) {
	t.Helper()
	in := map[incident.ID]int{}
	waited := 0
	for _, res := range add() {
		if res.Outcome < store.Accepted || res.Outcome > store.Rejected {
			t.Fatalf("Add returned outcome %d", res.Outcome)
		}
		if res.Outcome == store.Accepted {
			in[res.ID]++
		}
		if res.Outcome == store.Quarantined {
			waited++
		}
		for _, id := range res.Released {
			in[id]++
		}
	}
	return in, waited
}

// matches is what a Filter means, computed from a view.
func matches(v incident.ReportView, f store.Filter) bool {
	occ := v.Report.Occurred
	if v.Sealed {
		occ = v.Created
	}
	switch {
	case f.Status != "" && v.Status != f.Status,
		f.Station != "" && v.Report.Station != f.Station,
		f.Category != "" && strings.Contains(f.Category, ".") && v.Report.Category != f.Category,
		f.Category != "" && !strings.Contains(f.Category, ".") && incident.FamilyOf(v.Report.Category) != f.Category,
		!f.Author.IsZero() && v.Author != f.Author,
		!f.Since.IsZero() && occ < f.Since.UnixMilli(),
		!f.Until.IsZero() && occ > f.Until.UnixMilli():
		return false
	}
	return true
}

// testOrderIndependence: the same records fed to fresh stores in different
// orders give the same stores (sync is an order-free set union).
func testOrderIndependence(t *testing.T, open opener) {
	iterations := 5
	if testing.Short() {
		iterations = 2
	}
	for seed := uint64(1); seed <= uint64(iterations); seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			h := genHistory(t, rng)
			now := func() time.Time { return orderNow }

			// The first store gets records in signing order; the others in
			// random orders, the last through AddMany.
			const nStores = 3
			var stores []*store.Store
			var own [][]byte
			for i := 0; i < nStores; i++ {
				s := open(t, store.Options{Now: now})
				id, err := s.Join(h.inviteFor(t, rng))
				if err != nil {
					t.Fatalf("Join: %v", err)
				}
				rec, _ := s.Get(id)
				own = append(own, rec.Raw)
				stores = append(stores, s)
			}
			var all [][]byte
			for _, r := range h.valid {
				all = append(all, r.Raw)
			}
			for _, b := range append(append([]namedRaw(nil), h.invalid...), h.held...) {
				all = append(all, b.raw)
			}
			all = append(all, own...)
			for i, s := range stores {
				order := append([][]byte(nil), all...)
				if i > 0 {
					rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
				}
				var in map[incident.ID]int
				if i == nStores-1 {
					var waited int
					in, waited = feedMany(t, s, order, fmt.Sprintf("peer%d", i))
					if waited == 0 {
						t.Errorf("store %d: a random order quarantined nothing; the test exercises nothing", i)
					}
				} else {
					in = feed(t, s, order, fmt.Sprintf("peer%d", i))
				}
				for _, r := range h.valid {
					if r.Kind == incident.KindMission {
						continue
					}
					if in[r.ID] != 1 {
						t.Errorf("store %d: valid %s %s got in %d times", i, r.Kind, r.ID, in[r.ID])
					}
					wantHas(t, s, r.ID, true)
				}
				for _, b := range append(append([]namedRaw(nil), h.invalid...), h.held...) {
					if in[incident.IDOf(b.raw)] != 0 {
						t.Errorf("store %d: invalid record %q got in", i, b.name)
					}
					wantHas(t, s, incident.IDOf(b.raw), false)
				}
				// Everything valid got in; only the held records wait.
				if n := mustQuarantine(t, s); n != len(h.held) {
					t.Errorf("store %d: %d records left in quarantine, want the %d held ones", i, n, len(h.held))
				}
			}

			ref := stores[0]
			refCounts := mustCounts(t, ref)
			refList := listJSON(t, ref, store.Filter{})
			refMembers := membersJSON(t, ref)
			all0 := mustList(t, ref, store.Filter{})
			filters := orderFilters(h)
			for i, s := range stores[1:] {
				if got := mustCounts(t, s); !mapsEqual(got, refCounts) {
					t.Errorf("store %d counts %v, in-order store %v", i+1, got, refCounts)
				}
				if got := listJSON(t, s, store.Filter{}); got != refList {
					t.Errorf("store %d lists differently from the in-order store:\n%s\nvs\n%s", i+1, got, refList)
				}
				if got := membersJSON(t, s); got != refMembers {
					t.Errorf("store %d members differ:\n%s\nvs\n%s", i+1, got, refMembers)
				}
			}
			// Every index answers what a full scan says.
			for _, f := range filters {
				var want []incident.ID
				for _, v := range all0 {
					if matches(v, f) && (f.Limit == 0 || len(want) < f.Limit) {
						want = append(want, v.ID)
					}
				}
				for _, s := range stores {
					wantList(t, s, f, want...)
				}
			}

			// Feeding everything again changes nothing.
			again := feed(t, stores[1], all, "again")
			if len(again) != 0 {
				t.Errorf("second feed let %d records in", len(again))
			}
			if got := listJSON(t, stores[1], store.Filter{}); got != refList {
				t.Error("second feed changed the listing")
			}
		})
	}
}

func orderFilters(h *history) []store.Filter {
	fs := []store.Filter{{Limit: 3}, {Since: t0.Add(3 * time.Hour)}, {Until: t0.Add(6 * time.Hour)},
		{Since: t0.Add(2 * time.Hour), Until: t0.Add(9 * time.Hour)}}
	for _, s := range append([]string{incident.StatusUnreviewed}, incident.ReviewStatuses...) {
		fs = append(fs, store.Filter{Status: s})
	}
	for _, c := range append(append([]string{}, incident.Families...), "polling.intimidation", "polling.ink_failure", "polling.unlisted", "registration.name_missing") {
		fs = append(fs, store.Filter{Category: c})
	}
	for _, s := range []string{"S1", "S2", "S3", "S4"} {
		fs = append(fs, store.Filter{Station: s})
	}
	for _, a := range h.reporters {
		fs = append(fs, store.Filter{Author: a}, store.Filter{Author: a, Station: "S1"}, store.Filter{Author: a, Limit: 1})
	}
	fs = append(fs,
		store.Filter{Category: "polling", Status: incident.StatusUnreviewed},
		store.Filter{Category: "polling", Since: t0.Add(4 * time.Hour), Limit: 2},
		store.Filter{Station: "S2", Status: "verified"},
		store.Filter{Status: "escalated", Since: t0.Add(2 * time.Hour)},
	)
	return fs
}

func membersJSON(t testing.TB, s *store.Store) string {
	t.Helper()
	b, err := json.Marshal(mustMission(t, s).Members())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testRoleUpgradeOrderFree: a device enrolled as a carrier and later as an
// observer reports; whether the receiving store hears of the observer
// enrollment before or after the report must not matter.
func testRoleUpgradeOrderFree(t *testing.T, open opener) {
	c := newClock(t0)
	o := store.Options{Now: c.Now}
	f := open(t, o)
	createMission(t, f)
	d := open(t, o)
	asCarrier := joinOnly(t, f, d, incident.RoleCarrier)
	asObserver := joinOnly(t, f, d, incident.RoleObserver)
	if role, _ := mustMission(t, d).Role(d.Author()); role != incident.RoleObserver {
		t.Fatalf("after two enrollments the device is %q", role)
	}
	c.Set(at(12, 0))
	r := mustPut(t, d, incident.KindReport, report("polling.closure", "S1", at(9, 0), "Closed"))
	carrierRec, _ := d.Get(asCarrier)
	observerRec, _ := d.Get(asObserver)

	early := open(t, o) // hears of the observer enrollment first
	enroll(t, f, early, incident.RoleCarrier, "early")
	late := open(t, o) // hears of the report first
	enroll(t, f, late, incident.RoleCarrier, "late")
	feed(t, early, [][]byte{carrierRec.Raw, observerRec.Raw, r.Raw}, "peer")
	res := late.Add(carrierRec.Raw, "peer")
	if res.Outcome != store.Accepted {
		t.Fatalf("carrier enrollment: %s %v", res.Outcome, res.Err)
	}
	res = late.Add(r.Raw, "peer")
	reportOutcome := res
	late.Add(observerRec.Raw, "peer")

	wantHas(t, early, r.ID, true)
	if ok, _ := late.Has(r.ID); !ok {
		t.Errorf("BUG: the report got in where the observer enrollment came first, but not where it came second "+
			"(the report was %s: %v, and nothing re-checked it when the enrollment arrived)", reportOutcome.Outcome, reportOutcome.Err)
	}
	if a, b := mustCounts(t, early), mustCounts(t, late); !mapsEqual(a, b) {
		t.Errorf("same records, different stores: %v vs %v", a, b)
	}
}

// testOtherFamilyFilter: "other" is a family as well as a code; a mission
// may add codes to it, and the family filter must find them.
func testOtherFamilyFilter(t *testing.T, open opener) {
	m := newMesh(t, open)
	mustPut(t, m.founder, incident.KindConfig, incident.ConfigPayload{Categories: []incident.Category{
		{Code: "other.ballot_photo", Family: "other", Label: "Photo of a marked ballot"}}})
	r1 := mustPut(t, m.obs, incident.KindReport, report("other", "S1", at(1, 0), "Something else"))
	r2 := mustPut(t, m.obs, incident.KindReport, report("other.ballot_photo", "S1", at(2, 0), "Ballot selfie"))
	mustAdd(t, m.obs, m.founder, r1.ID, r2.ID)
	wantList(t, m.founder, store.Filter{Category: "other.ballot_photo"}, r2.ID)
	got := ids(mustList(t, m.founder, store.Filter{Category: "other"}))
	if !sameSet(got, []incident.ID{r1.ID, r2.ID}) {
		t.Errorf("BUG: List(Category: \"other\") = %s, want both reports of family other %s (a family filter for every other family includes added codes)",
			idStrings(got), idStrings([]incident.ID{r1.ID, r2.ID}))
	}
}

// testConcurrentUse: writers on several devices and readers at once.
func testConcurrentUse(t *testing.T, open opener) {
	m := newMesh(t, open)
	const n = 25
	var wg sync.WaitGroup
	reports := make(chan *incident.Signed, n)
	checkins := make(chan *incident.Signed, n)
	done := make(chan struct{})
	wg.Add(4)
	go func() {
		defer wg.Done()
		defer close(reports)
		for i := 0; i < n; i++ {
			r, err := m.obs.Put(incident.KindReport, report("polling.closure", fmt.Sprintf("S%d", i%3), at(i%12, i), fmt.Sprintf("r%d", i)))
			if err != nil {
				t.Errorf("Put report %d: %v", i, err)
				return
			}
			reports <- r
		}
	}()
	go func() {
		defer wg.Done()
		defer close(checkins)
		for i := 0; i < n; i++ {
			r, err := m.coord.Put(incident.KindCheckin, incident.CheckinPayload{Status: "all_quiet", Station: fmt.Sprintf("C%d", i)})
			if err != nil {
				t.Errorf("Put checkin %d: %v", i, err)
				return
			}
			checkins <- r
		}
	}()
	go func(reports, checkins <-chan *incident.Signed) {
		defer wg.Done()
		for reports != nil || checkins != nil {
			var r *incident.Signed
			var ok bool
			select {
			case r, ok = <-reports:
				if !ok {
					reports = nil
					continue
				}
			case r, ok = <-checkins:
				if !ok {
					checkins = nil
					continue
				}
			}
			if res := m.founder.Add(r.Raw, "wifi"); res.Outcome != store.Accepted {
				t.Errorf("Add %s: %s %v", r.Kind, res.Outcome, res.Err)
			}
		}
		close(done)
	}(reports, checkins)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			vs, err := m.founder.List(store.Filter{Category: "polling"})
			if err != nil {
				t.Errorf("List: %v", err)
				return
			}
			for _, v := range vs {
				if _, err := m.founder.Report(v.ID); err != nil {
					t.Errorf("Report: %v", err)
					return
				}
			}
			if _, err := m.founder.Counts(); err != nil {
				t.Errorf("Counts: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	c := mustCounts(t, m.founder)
	if c[incident.KindReport] != n || c[incident.KindCheckin] != n {
		t.Errorf("after concurrent writes: %d reports, %d checkins; want %d each", c[incident.KindReport], c[incident.KindCheckin], n)
	}
	if got := len(mustList(t, m.founder, store.Filter{})); got != n {
		t.Errorf("List finds %d reports, want %d", got, n)
	}
}
