package incident

import (
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"
)

// node is a minimal in-memory receiver: it decodes and validates every
// record it is given, keeps records waiting on a dependency in a quarantine
// and re-checks the quarantine whenever it accepts something, and applies
// mission records to its MissionState. It is what a real store does, minus
// disk and quotas.
type node struct {
	tb       testing.TB
	ms       *MissionState
	held     mapSource
	order    []*Signed // accepted records, in the order this node accepted them
	rejected map[ID]error
	waiting  map[ID]*Signed
	deps     map[string][]*Signed // MissingError.Key → records waiting on it
}

func newNode(tb testing.TB, genesis []byte) *node {
	tb.Helper()
	g, err := Decode(genesis)
	if err != nil {
		tb.Fatalf("node: decode genesis: %v", err)
	}
	ms, err := NewMissionState(g)
	if err != nil {
		tb.Fatalf("node: %v", err)
	}
	return &node{tb: tb, ms: ms, held: mapSource{}, rejected: map[ID]error{}, waiting: map[ID]*Signed{},
		deps: map[string][]*Signed{}}
}

func (n *node) receive(raw []byte) {
	n.tb.Helper()
	id := IDOf(raw)
	if n.held[id] != nil || n.rejected[id] != nil || n.waiting[id] != nil {
		return // a duplicate: nothing changes
	}
	s, err := Decode(raw)
	if err != nil {
		if !IsRejected(err) {
			n.tb.Fatalf("Decode error %v is not a rejection", err)
		}
		n.rejected[id] = err
		return
	}
	n.judge(s)
}

// judge validates s; if it is accepted, the records waiting on it (by ID,
// or by author key for a member record) are judged again, until nothing
// more gets in.
func (n *node) judge(s *Signed) {
	n.tb.Helper()
	work := []*Signed{s}
	for len(work) > 0 {
		s := work[0]
		work = work[1:]
		if n.held[s.ID] != nil || n.rejected[s.ID] != nil {
			continue
		}
		err := Validate(s, n.ms, n.held)
		var me *MissingError
		switch {
		case err == nil:
			delete(n.waiting, s.ID)
			if s.Kind.MissionKind() {
				if err := n.ms.Apply(s); err != nil {
					n.tb.Fatalf("Apply(%s %s): %v", s.Kind, s.ID, err)
				}
			}
			n.held.put(s)
			n.order = append(n.order, s)
			keys := []string{string(s.ID[:])}
			if s.Kind == KindMember {
				a := s.AuthorKey()
				keys = append(keys, string(a[:]))
			}
			for _, k := range keys {
				work = append(work, n.deps[k]...)
				delete(n.deps, k)
			}
		case errors.As(err, &me):
			n.waiting[s.ID] = s
			k := string(me.Key())
			n.deps[k] = append(n.deps[k], s)
		case IsRejected(err):
			delete(n.waiting, s.ID)
			n.rejected[s.ID] = err
		default:
			n.tb.Fatalf("Validate(%s %s) = %v: neither valid, missing nor rejected", s.Kind, s.ID, err)
		}
	}
}

func idSet[V any](m map[ID]V) []ID {
	out := make([]ID, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i][:]) < string(out[j][:]) })
	return out
}

// views folds every report a node holds, each with the records that
// target it in the node's own acceptance order.
func (n *node) views(now time.Time) map[ID]ReportView {
	n.tb.Helper()
	related := map[ID][]*Signed{}
	for _, s := range n.order {
		p, err := s.DecodePayload()
		if err != nil {
			n.tb.Fatalf("DecodePayload(%s): %v", s.ID, err)
		}
		var target []byte
		switch v := p.(type) {
		case *AmendPayload:
			target = v.Target
		case *RetractPayload:
			target = v.Target
		case *ReviewPayload:
			target = v.Target
		case *SealedEnvelope:
			target = v.Target
		}
		if len(target) == len(ID{}) {
			related[ID(target)] = append(related[ID(target)], s)
		}
	}
	out := map[ID]ReportView{}
	for _, s := range n.order {
		if s.Kind != KindReport {
			continue
		}
		v, err := FoldReport(s, related[s.ID], n.ms, now)
		if err != nil {
			n.tb.Fatalf("FoldReport(%s): %v", s.ID, err)
		}
		out[s.ID] = v
	}
	return out
}

type expect int

const (
	expValid expect = iota
	expRejected
	expWaiting
)

func (e expect) String() string { return [...]string{"valid", "rejected", "waiting"}[e] }

type genRecord struct {
	raw  []byte
	want expect
	what string
}

// history is a random mission history: the records, what each should end
// as, and the genesis.
type history struct {
	genesis []byte
	recs    []genRecord
}

// genHistory builds a random but reproducible mission history: a founder, a
// second coordinator enrolled by the founder, members enrolled by both,
// reports, amendments, retractions, reviews (with and without Prev),
// revocations, configs, check-ins, and a share of records that are invalid
// or that wait forever for a dependency that never comes.
func genHistory(t *testing.T, seed int64) history {
	rng := rand.New(rand.NewSource(seed))
	f := newFixture(t, fmt.Sprintf("order-%d", seed))
	h := history{genesis: f.genesis.Raw}
	addRec := func(s *Signed, want expect, what string) *Signed {
		h.recs = append(h.recs, genRecord{s.Raw, want, what})
		return s
	}
	// Claimed times come from a small set so ties (broken by ID) are
	// common; a few are far in the future or past.
	when := func() time.Time {
		switch rng.Intn(20) {
		case 0:
			return t0.AddDate(10, 0, 0)
		case 1:
			return t0.AddDate(-1, 0, 0)
		}
		return t0.Add(time.Duration(rng.Intn(30)) * time.Minute)
	}
	sign := func(s *Signer, k Kind, p any) *Signed { return f.signAt(s, k, when(), p) }
	member := func(issuer, s *Signer, role string, want expect) {
		var bound *Author
		if role == RoleCoordinator {
			a := s.Author()
			bound = &a
		}
		tok := f.token(issuer, role, "", bound)
		addRec(f.signAt(s, KindMember, when(), MemberPayload{Token: tok}), want, "member "+role)
	}

	founder := f.founder
	coord2 := f.signer("coord2")
	member(founder, coord2, RoleCoordinator, expValid)
	coords := []*Signer{founder, coord2}
	if rng.Intn(2) == 0 { // a third coordinator, enrolled by the second
		c3 := f.signer("coord3")
		member(coord2, c3, RoleCoordinator, expValid)
		coords = append(coords, c3)
	}
	var observers []*Signer
	for i := 0; i < 3+rng.Intn(4); i++ {
		o := f.signer(fmt.Sprintf("obs%d", i))
		member(coords[rng.Intn(len(coords))], o, RoleObserver, expValid)
		observers = append(observers, o)
	}
	carrier := f.signer("carrier")
	member(coords[rng.Intn(len(coords))], carrier, RoleCarrier, expValid)
	// A token redeemed by two devices: both valid.
	shared := f.token(coord2, RoleObserver, "shared", nil)
	for _, label := range []string{"dupA", "dupB"} {
		o := f.signer(label)
		addRec(f.signAt(o, KindMember, when(), MemberPayload{Token: shared}), expValid, "member dup")
		observers = append(observers, o)
	}
	// Enrollments that fail: issued by an observer, a tampered token, an
	// unbound coordinator token, a token from a stranger (waits forever).
	member(observers[0], f.signer("bad1"), RoleObserver, expWaiting) // an observer issuer may yet become a coordinator
	tampered := f.token(founder, RoleObserver, "", nil)
	tampered.Role = RoleCarrier
	addRec(f.signAt(f.signer("bad2"), KindMember, when(), MemberPayload{Token: tampered}), expRejected, "tampered token")
	addRec(f.signAt(f.signer("bad3"), KindMember, when(), MemberPayload{Token: f.token(founder, RoleCoordinator, "", nil)}), expRejected, "unbound coordinator")
	stranger := f.signer("stranger")
	member(stranger, f.signer("bad4"), RoleObserver, expWaiting)

	reporters := append(append([]*Signer{}, observers...), coords...)
	type rep struct {
		s       *Signed
		author  *Signer
		reviews []*Signed
	}
	var reports []*rep
	var authored = map[Author][]*Signed{}
	record := func(a *Signer, s *Signed) { authored[a.Author()] = append(authored[a.Author()], s) }
	newReport := func() *rep {
		a := reporters[rng.Intn(len(reporters))]
		var s *Signed
		if rng.Intn(6) == 0 {
			sr, err := a.SignSealed(f.ms.ID, KindReport, when(), SealedEnvelope{}, []byte{byte(rng.Intn(256))})
			if err != nil {
				t.Fatal(err)
			}
			s = addRec(sr, expValid, "sealed report")
		} else {
			p := goodReport()
			p.Severity = uint64(1 + rng.Intn(4))
			p.Category = []string{"polling.violence", "other", "polling.drones", "disinformation.hate_speech"}[rng.Intn(4)]
			p.Occurred = when().UnixMilli()
			p.Title = fmt.Sprintf("report %d", rng.Intn(1000))
			s = addRec(sign(a, KindReport, p), expValid, "report")
		}
		record(a, s)
		r := &rep{s: s, author: a}
		reports = append(reports, r)
		return r
	}
	newReport()
	// A report that is never delivered: what depends on it waits forever.
	ghost := f.signAt(observers[0], KindReport, when(), goodReport())

	for i, n := 0, 40+rng.Intn(60); i < n; i++ {
		switch rng.Intn(16) {
		case 0, 1, 2:
			newReport()
		case 3, 4: // amend by the author
			r := reports[rng.Intn(len(reports))]
			p := goodReport()
			p.Title = fmt.Sprintf("amended %d", rng.Intn(1000))
			p.Severity = uint64(1 + rng.Intn(4))
			record(r.author, addRec(sign(r.author, KindAmend, AmendPayload{Target: r.s.ID.Bytes(), Report: p}), expValid, "amend"))
		case 5: // amend by someone else, or of the ghost
			r := reports[rng.Intn(len(reports))]
			other := reporters[rng.Intn(len(reporters))]
			if other.Author() == r.author.Author() {
				addRec(sign(other, KindAmend, AmendPayload{Target: ghost.ID.Bytes(), Report: goodReport()}), expWaiting, "amend of ghost")
			} else {
				addRec(sign(other, KindAmend, AmendPayload{Target: r.s.ID.Bytes(), Report: goodReport()}), expRejected, "amend by other")
			}
		case 6: // retract
			r := reports[rng.Intn(len(reports))]
			record(r.author, addRec(sign(r.author, KindRetract, RetractPayload{Target: r.s.ID.Bytes(), Reason: "mistake"}), expValid, "retract"))
		case 7, 8, 9: // review, with Prev a random subset of earlier reviews
			r := reports[rng.Intn(len(reports))]
			c := coords[rng.Intn(len(coords))]
			p := ReviewPayload{Target: r.s.ID.Bytes(), Status: ReviewStatuses[rng.Intn(len(ReviewStatuses))]}
			for _, prev := range r.reviews {
				if rng.Intn(2) == 0 {
					p.Prev = append(p.Prev, prev.ID.Bytes())
				}
			}
			rv := addRec(sign(c, KindReview, p), expValid, "review")
			record(c, rv)
			r.reviews = append(r.reviews, rv)
		case 10: // invalid reviews
			r := reports[rng.Intn(len(reports))]
			switch rng.Intn(3) {
			case 0:
				addRec(sign(observers[rng.Intn(len(observers))], KindReview, ReviewPayload{Target: r.s.ID.Bytes(), Status: "verified"}), expWaiting, "review by observer")
			case 1:
				addRec(sign(coords[0], KindReview, ReviewPayload{Target: r.s.ID.Bytes(), Status: "approved"}), expRejected, "review bogus status")
			case 2:
				addRec(sign(coords[0], KindReview, ReviewPayload{Target: ghost.ID.Bytes(), Status: "verified"}), expWaiting, "review of ghost")
			}
		case 11: // revoke a random member, accepting a random subset of their records
			c := coords[rng.Intn(len(coords))]
			victim := reporters[rng.Intn(len(reporters))]
			p := RevokePayload{Member: victim.pub[:]}
			for _, s := range authored[victim.Author()] {
				if rng.Intn(2) == 0 {
					p.Accepted = append(p.Accepted, s.ID.Bytes())
				}
			}
			record(c, addRec(sign(c, KindRevoke, p), expValid, "revoke"))
		case 12: // config adding a category
			c := coords[rng.Intn(len(coords))]
			addRec(sign(c, KindConfig, ConfigPayload{Categories: []Category{{Code: "polling.drones", Family: "polling"}}}), expValid, "config")
		case 13: // invalid reports
			switch rng.Intn(4) {
			case 0:
				addRec(f.signAt(carrier, KindReport, when(), goodReport()), expWaiting, "report by carrier")
			case 1:
				p := goodReport()
				p.Severity = 9
				addRec(sign(observers[0], KindReport, p), expRejected, "severity 9")
			case 2:
				addRec(sign(stranger, KindReport, goodReport()), expWaiting, "report by stranger")
			case 3:
				other := newFixture(t, fmt.Sprintf("order-other-%d", seed))
				addRec(other.report(other.founder, nil), expRejected, "other mission")
			}
		case 14: // check-ins and alerts
			o := observers[rng.Intn(len(observers))]
			addRec(sign(o, KindCheckin, CheckinPayload{Status: CheckinStatuses[rng.Intn(len(CheckinStatuses))]}), expValid, "checkin")
			addRec(sign(carrier, KindAlert, AlertPayload{}), expWaiting, "alert by carrier")
		case 15: // broken bytes
			src := h.recs[rng.Intn(len(h.recs))].raw
			b := append([]byte(nil), src...)
			b[rng.Intn(len(b))] ^= byte(1 << rng.Intn(8))
			addRec(&Signed{Raw: b}, expRejected, "bit flip")
			addRec(&Signed{Raw: append(append([]byte(nil), src...), 0)}, expRejected, "trailing byte")
		}
	}
	return h
}

// deliver feeds h's records to a new node in a random order, with some
// records delivered twice.
func deliver(t *testing.T, h history, rng *rand.Rand) *node {
	n := newNode(t, h.genesis)
	raws := make([][]byte, 0, len(h.recs)+len(h.recs)/4+1)
	raws = append(raws, h.genesis)
	for _, r := range h.recs {
		raws = append(raws, r.raw)
		if rng.Intn(4) == 0 {
			raws = append(raws, r.raw)
		}
	}
	rng.Shuffle(len(raws), func(i, j int) { raws[i], raws[j] = raws[j], raws[i] })
	for _, raw := range raws {
		n.receive(raw)
	}
	return n
}

// Two nodes that receive the same records in different orders end in the
// same state: the same accepted, rejected and waiting sets, the same
// membership, and the same view of every report.
func TestOrderIndependence(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	now := t0.Add(2 * time.Hour)
	var totals [3]int
	for seed := int64(1); seed <= int64(seeds); seed++ {
		h := genHistory(t, seed)
		rng := rand.New(rand.NewSource(seed * 7919))
		a := deliver(t, h, rng)
		b := deliver(t, h, rng)

		if got, want := idSet(b.held), idSet(a.held); !slices.Equal(got, want) {
			t.Fatalf("seed %d: accepted sets differ: %d vs %d records", seed, len(got), len(want))
		}
		if got, want := idSet(b.rejected), idSet(a.rejected); !slices.Equal(got, want) {
			t.Fatalf("seed %d: rejected sets differ: %d vs %d records", seed, len(got), len(want))
		}
		if got, want := idSet(b.waiting), idSet(a.waiting); !slices.Equal(got, want) {
			t.Fatalf("seed %d: quarantines differ: %d vs %d records", seed, len(got), len(want))
		}
		if !reflect.DeepEqual(a.ms.Members(), b.ms.Members()) {
			t.Fatalf("seed %d: membership differs", seed)
		}
		if !reflect.DeepEqual(a.ms.Categories(), b.ms.Categories()) {
			t.Fatalf("seed %d: categories differ", seed)
		}
		va, vb := a.views(now), b.views(now)
		if len(va) == 0 {
			t.Fatalf("seed %d: no reports accepted", seed)
		}
		for id, v := range va {
			if !reflect.DeepEqual(v, vb[id]) {
				t.Fatalf("seed %d: report %s folds differently:\n%+v\n%+v", seed, id, v, vb[id])
			}
		}
		for _, s := range a.order {
			if !slices.Equal(RecordFlags(s, a.ms, now), RecordFlags(s, b.ms, now)) {
				t.Fatalf("seed %d: flags of %s differ", seed, s.ID)
			}
		}
		// Both nodes also agree with what the generator intended.
		for _, r := range h.recs {
			id := IDOf(r.raw)
			var got expect
			switch {
			case a.held[id] != nil:
				got = expValid
			case a.rejected[id] != nil:
				got = expRejected
			case a.waiting[id] != nil:
				got = expWaiting
			default:
				t.Fatalf("seed %d: %s %s was lost", seed, r.what, id)
			}
			if got != r.want {
				t.Fatalf("seed %d: %s %s ended %v, want %v (err %v)", seed, r.what, id, got, r.want, a.rejected[id])
			}
			totals[got]++
		}
	}
	for e, n := range totals {
		if n == 0 {
			t.Errorf("no record ended %v: the generator does not exercise that path", expect(e))
		}
	}
}
