package incident

import (
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"time"
)

// foldNow is a fixed "now" for fold tests: a day after t0, so fixture
// records are in the past.
var foldNow = t0.Add(24 * time.Hour)

func fold(t *testing.T, f *fixture, report *Signed, related ...*Signed) ReportView {
	t.Helper()
	v, err := FoldReport(report, related, f.ms, foldNow)
	if err != nil {
		t.Fatalf("FoldReport: %v", err)
	}
	return v
}

func wantFlags(t *testing.T, v ReportView, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	got := append([]string{}, v.Flags...)
	if !slices.Equal(got, want) {
		t.Fatalf("flags = %q, want %q", got, want)
	}
}

func heads(v ReportView) []ID {
	var out []ID
	for _, e := range v.History {
		if e.Head {
			out = append(out, e.ID)
		}
	}
	return out
}

func amendment(f *fixture, s *Signer, target *Signed, at time.Time, mut func(*ReportPayload)) *Signed {
	p := goodReport()
	mut(&p)
	return f.accept(f.signAt(s, KindAmend, at, AmendPayload{Target: target.ID.Bytes(), Report: p}))
}

func TestFoldUnreviewedReport(t *testing.T) {
	w := newWorld(t)
	v := fold(t, w.f, w.rep)
	if v.ID != w.rep.ID || v.Author != w.obs.Author() || v.Created != w.rep.Created {
		t.Fatalf("view identity = %s %s %d", v.ID, v.Author, v.Created)
	}
	if v.Status != StatusUnreviewed || v.Conflict || v.Retracted || v.Amendments != 0 || v.Sealed {
		t.Fatalf("view = %+v, want an unreviewed, unamended, unretracted report", v)
	}
	if !reflect.DeepEqual(v.Report, goodReport()) {
		t.Fatalf("report fields = %+v, want the original", v.Report)
	}
	if len(v.History) != 1 || v.History[0].ID != w.rep.ID || v.History[0].Kind != KindReport {
		t.Fatalf("history = %+v", v.History)
	}
	wantFlags(t, v)
}

func TestFoldAmendAfterReview(t *testing.T) {
	w := newWorld(t)
	f := w.f
	rv := f.accept(f.review(f.founder, w.rep, "verified"))
	am := amendment(f, w.obs, w.rep, f.next(), func(p *ReportPayload) {
		p.Severity, p.Title, p.Station = 4, "Station closed by police", "KE-047-113"
	})
	v := fold(t, f, w.rep, am, rv)
	if v.Status != "verified" {
		t.Fatalf("status after amendment = %q, want it to stay verified", v.Status)
	}
	if v.Report.Severity != 4 || v.Report.Title != "Station closed by police" || v.Report.Station != "KE-047-113" {
		t.Fatalf("fields = %+v, want the amendment's", v.Report)
	}
	if v.Amendments != 1 {
		t.Fatalf("amendments = %d, want 1", v.Amendments)
	}
	if len(v.History) != 3 || v.History[1].ID != rv.ID || v.History[2].ID != am.ID {
		t.Fatalf("history = %+v, want report, review, amend (oldest first)", v.History)
	}
}

func TestFoldLatestAmendmentWins(t *testing.T) {
	w := newWorld(t)
	f := w.f
	base := f.next()
	late := amendment(f, w.obs, w.rep, base.Add(10*time.Minute), func(p *ReportPayload) { p.Title = "late" })
	early := amendment(f, w.obs, w.rep, base.Add(5*time.Minute), func(p *ReportPayload) { p.Title = "early" })
	for _, order := range [][]*Signed{{late, early}, {early, late}} {
		v := fold(t, f, w.rep, order...)
		if v.Report.Title != "late" || v.Amendments != 2 {
			t.Fatalf("title %q, amendments %d; want the later claimed time to win", v.Report.Title, v.Amendments)
		}
	}
	// Same claimed time: the greater ID wins.
	at := base.Add(20 * time.Minute)
	x := amendment(f, w.obs, w.rep, at, func(p *ReportPayload) { p.Title = "x" })
	y := amendment(f, w.obs, w.rep, at, func(p *ReportPayload) { p.Title = "y" })
	want := "y"
	if string(x.ID[:]) > string(y.ID[:]) {
		want = "x"
	}
	for _, order := range [][]*Signed{{x, y, late, early}, {early, y, x, late}} {
		v := fold(t, f, w.rep, order...)
		if v.Report.Title != want || v.Amendments != 4 {
			t.Fatalf("title %q, amendments %d; want %q (greater ID at equal time)", v.Report.Title, v.Amendments, want)
		}
	}
}

func TestFoldRetract(t *testing.T) {
	w := newWorld(t)
	f := w.f
	rt := f.accept(f.sign(w.obs, KindRetract, RetractPayload{Target: w.rep.ID.Bytes(), Reason: "filed for the wrong station"}))
	v := fold(t, f, w.rep, rt)
	if !v.Retracted || v.RetractReason != "filed for the wrong station" {
		t.Fatalf("retracted %v reason %q", v.Retracted, v.RetractReason)
	}
	last := v.History[len(v.History)-1]
	if last.ID != rt.ID || last.Kind != KindRetract || last.Note != "filed for the wrong station" {
		t.Fatalf("history entry = %+v", last)
	}
	if v.Status != StatusUnreviewed {
		t.Fatalf("status %q", v.Status)
	}
}

func TestFoldReviewChain(t *testing.T) {
	w := newWorld(t)
	f := w.f
	r1 := f.accept(f.review(f.founder, w.rep, "verified"))
	r2 := f.accept(f.review(w.coord2, w.rep, "rejected", r1))
	for _, order := range [][]*Signed{{r1, r2}, {r2, r1}} {
		v := fold(t, f, w.rep, order...)
		if v.Status != "rejected" || v.Conflict {
			t.Fatalf("status %q conflict %v, want rejected without conflict", v.Status, v.Conflict)
		}
		if h := heads(v); !slices.Equal(h, []ID{r2.ID}) {
			t.Fatalf("heads = %v, want only the second review", h)
		}
	}
	// Prev wins over claimed time: a review that supersedes one claiming a
	// later time is still the head.
	r3 := f.accept(f.signAt(f.founder, KindReview, t0.Add(-time.Hour), ReviewPayload{
		Target: w.rep.ID.Bytes(), Status: "escalated", Prev: [][]byte{r2.ID.Bytes()}}))
	v := fold(t, f, w.rep, r1, r2, r3)
	if v.Status != "escalated" || v.Conflict || !slices.Equal(heads(v), []ID{r3.ID}) {
		t.Fatalf("status %q conflict %v heads %v; want escalated, single head r3", v.Status, v.Conflict, heads(v))
	}
}

func TestFoldConflictingReviews(t *testing.T) {
	t.Run("different statuses", func(t *testing.T) {
		w := newWorld(t)
		f := w.f
		r1 := f.accept(f.review(f.founder, w.rep, "verified"))
		r2 := f.accept(f.review(w.coord2, w.rep, "rejected"))
		v := fold(t, f, w.rep, r2, r1)
		if !v.Conflict {
			t.Fatal("two coordinators' concurrent, disagreeing reviews: Conflict = false")
		}
		if v.Status != "rejected" {
			t.Fatalf("status %q, want the latest head's (rejected)", v.Status)
		}
		if h := heads(v); len(h) != 2 {
			t.Fatalf("heads = %v, want both reviews", h)
		}
		// A review that has seen both heads resolves the conflict.
		r3 := f.accept(f.review(f.founder, w.rep, "corroborated", r1, r2))
		v = fold(t, f, w.rep, r3, r1, r2)
		if v.Conflict || v.Status != "corroborated" || !slices.Equal(heads(v), []ID{r3.ID}) {
			t.Fatalf("after merge review: conflict %v status %q heads %v", v.Conflict, v.Status, heads(v))
		}
	})
	t.Run("same statuses", func(t *testing.T) {
		w := newWorld(t)
		f := w.f
		r1 := f.accept(f.review(f.founder, w.rep, "verified"))
		r2 := f.accept(f.review(w.coord2, w.rep, "verified"))
		v := fold(t, f, w.rep, r1, r2)
		if v.Conflict || v.Status != "verified" || len(heads(v)) != 2 {
			t.Fatalf("conflict %v status %q heads %d; want two agreeing heads, no conflict", v.Conflict, v.Status, len(heads(v)))
		}
	})
	t.Run("same coordinator twice without prev", func(t *testing.T) {
		w := newWorld(t)
		f := w.f
		r1 := f.accept(f.review(w.coord2, w.rep, "verified"))
		r2 := f.accept(f.review(w.coord2, w.rep, "rejected"))
		v := fold(t, f, w.rep, r2, r1)
		if v.Conflict {
			t.Fatal("one coordinator changing their mind is not a conflict")
		}
		if v.Status != "rejected" {
			t.Fatalf("status %q, want the later review's", v.Status)
		}
		if len(heads(v)) != 2 {
			t.Fatalf("heads = %v, want both (neither lists the other)", heads(v))
		}
	})
	t.Run("three coordinators", func(t *testing.T) {
		w := newWorld(t)
		f := w.f
		c3 := f.enroll(f.founder, "coord3", RoleCoordinator)
		r1 := f.accept(f.review(f.founder, w.rep, "verified"))
		r2 := f.accept(f.review(w.coord2, w.rep, "verified"))
		r3 := f.accept(f.review(c3, w.rep, "escalated"))
		v := fold(t, f, w.rep, r1, r2, r3)
		if !v.Conflict || v.Status != "escalated" {
			t.Fatalf("conflict %v status %q", v.Conflict, v.Status)
		}
	})
}

func TestFoldRevokedAuthor(t *testing.T) {
	w := newWorld(t)
	f := w.f
	accepted := w.rep
	other := f.accept(f.report(w.obs, nil))
	revoke := f.accept(f.sign(f.founder, KindRevoke, RevokePayload{Member: w.obs.pub[:],
		Accepted: [][]byte{accepted.ID.Bytes()}, Reason: "phone seized"}))
	after := f.report(w.obs, nil)
	// A revoked author's records stay valid: revocation flags, never rejects.
	if err := f.validate(after); err != nil {
		t.Fatalf("Validate(report by a revoked author) = %v, want valid", err)
	}
	f.accept(after)
	backdated := f.accept(f.signAt(w.obs, KindReport, t0, goodReport()))

	wantFlags(t, fold(t, f, accepted), FlagAuthorRevoked)
	wantFlags(t, fold(t, f, other), FlagAuthorRevoked, FlagUnconfirmed)
	wantFlags(t, fold(t, f, after), FlagAuthorRevoked, FlagUnconfirmed)
	wantFlags(t, fold(t, f, backdated), FlagAuthorRevoked, FlagUnconfirmed)
	// Other authors are untouched.
	wantFlags(t, fold(t, f, w.rep2))

	// A coordinator's review confirms it.
	rv := f.accept(f.review(w.coord2, other, "verified"))
	v := fold(t, f, other, rv)
	wantFlags(t, v, FlagAuthorRevoked)
	if v.Status != "verified" {
		t.Fatalf("status %q", v.Status)
	}
	// A sealed review confirms it too.
	srv := f.accept(sealed(w, f.founder, KindReview, SealedEnvelope{Target: after.ID.Bytes()}))
	wantFlags(t, fold(t, f, after, srv), FlagAuthorRevoked)

	// A second revocation that does not list the record un-confirms it:
	// every revocation must accept it.
	f.accept(f.sign(w.coord2, KindRevoke, RevokePayload{Member: w.obs.pub[:]}))
	wantFlags(t, fold(t, f, accepted), FlagAuthorRevoked, FlagUnconfirmed)
	if len(f.ms.Revocations(w.obs.Author())) != 2 {
		t.Fatalf("revocations = %d, want 2", len(f.ms.Revocations(w.obs.Author())))
	}
	// Applying the same revoke again changes nothing.
	if err := f.ms.Apply(revoke); err != nil {
		t.Fatal(err)
	}
	if len(f.ms.Revocations(w.obs.Author())) != 2 {
		t.Fatal("applying a revoke twice counted it twice")
	}
}

func TestRevokeEachOther(t *testing.T) {
	for _, pair := range []struct{ name, a, b string }{
		{"two coordinators", "c2", "c3"},
		{"a coordinator and the founder", "c2", ""},
	} {
		t.Run(pair.name, func(t *testing.T) {
			for _, firstA := range []bool{true, false} {
				f := newFixture(t, "revoke-each-other-"+pair.name)
				a := f.enroll(f.founder, pair.a, RoleCoordinator)
				b := f.founder
				if pair.b != "" {
					b = f.enroll(f.founder, pair.b, RoleCoordinator)
				}
				repA := f.accept(f.report(a, nil))
				repB := f.accept(f.report(b, nil))
				ra := f.sign(a, KindRevoke, RevokePayload{Member: b.pub[:]})
				rb := f.sign(b, KindRevoke, RevokePayload{Member: a.pub[:]})
				first, second := ra, rb
				if !firstA {
					first, second = rb, ra
				}
				f.accept(first)
				if err := f.validate(second); err != nil {
					t.Fatalf("second revocation rejected after the first applied: %v", err)
				}
				f.accept(second)
				if n := len(f.ms.Revocations(a.Author())); n != 1 {
					t.Fatalf("revocations of A = %d", n)
				}
				if n := len(f.ms.Revocations(b.Author())); n != 1 {
					t.Fatalf("revocations of B = %d", n)
				}
				wantFlags(t, fold(t, f, repA), FlagAuthorRevoked, FlagUnconfirmed)
				wantFlags(t, fold(t, f, repB), FlagAuthorRevoked, FlagUnconfirmed)
				// Both keep their roles: revocation flags, it does not expel.
				if r, _ := f.ms.Role(a.Author()); r != RoleCoordinator {
					t.Fatalf("role of A = %q", r)
				}
			}
		})
	}
}

func TestFoldClockFlags(t *testing.T) {
	w := newWorld(t)
	f := w.f
	now := foldNow
	decade := f.signAt(w.obs, KindReport, now.AddDate(10, 0, 0), goodReport())
	if err := f.validate(decade); err != nil {
		t.Fatalf("Validate(record ten years ahead) = %v, want valid", err)
	}
	f.accept(decade)
	v := fold(t, f, decade)
	wantFlags(t, v, FlagFutureTime)
	if !slices.Contains(RecordFlags(decade, f.ms, now), FlagFutureTime) {
		t.Fatal("RecordFlags lacks future_time")
	}
	// The same record is not flagged by a device whose clock agrees.
	if vv, _ := FoldReport(decade, nil, f.ms, now.AddDate(10, 0, 0)); vv.HasFlag(FlagFutureTime) {
		t.Fatal("flagged future_time against a clock that agrees")
	}

	atSkew := f.accept(f.signAt(w.obs, KindReport, now.Add(ClockSkewFlag), goodReport()))
	wantFlags(t, fold(t, f, atSkew))
	pastSkew := f.accept(f.signAt(w.obs, KindReport, now.Add(ClockSkewFlag+time.Millisecond), goodReport()))
	wantFlags(t, fold(t, f, pastSkew), FlagFutureTime)

	// An occurred time in the future flags the report even when its
	// created time is fine.
	occ := f.accept(f.report(w.obs, func(p *ReportPayload) { p.Occurred = now.Add(time.Hour).UnixMilli() }))
	wantFlags(t, fold(t, f, occ), FlagFutureTime)
	// An amendment into the future flags it too.
	am := amendment(f, w.obs, w.rep, f.next(), func(p *ReportPayload) { p.Occurred = now.AddDate(1, 0, 0).UnixMilli() })
	wantFlags(t, fold(t, f, w.rep, am), FlagFutureTime)

	// Long before the mission: valid, flagged.
	old := f.signAt(w.obs, KindReport, t0.Add(-25*time.Hour), goodReport())
	if err := f.validate(old); err != nil {
		t.Fatalf("Validate(record before the mission) = %v", err)
	}
	f.accept(old)
	wantFlags(t, fold(t, f, old), FlagBeforeMission)
	justBefore := f.accept(f.signAt(w.obs, KindReport, t0.Add(-23*time.Hour), goodReport()))
	wantFlags(t, fold(t, f, justBefore))
}

func TestDuplicateToken(t *testing.T) {
	f := newFixture(t, "duplicate-token")
	tok := f.token(f.founder, RoleObserver, "shared", nil)
	devA, devB := f.signer("device-a"), f.signer("device-b")
	ma := f.accept(f.memberRecord(devA, tok))
	if err := f.validate(f.memberRecord(devB, tok)); err != nil {
		t.Fatalf("second redemption of a token: %v, want valid (flagged, not rejected)", err)
	}
	mb := f.accept(f.memberRecord(devB, tok))
	devC := f.enroll(f.founder, "device-c", RoleObserver)
	// The same device redeeming the same token twice is no duplicate.
	devD := f.signer("device-d")
	tokD := f.token(f.founder, RoleObserver, "d", nil)
	f.accept(f.memberRecord(devD, tokD))
	f.accept(f.memberRecord(devD, tokD))

	members := map[Author]Member{}
	for _, m := range f.ms.Members() {
		members[m.Author] = m
	}
	for _, c := range []struct {
		name string
		a    Author
		want bool
	}{
		{"A", devA.Author(), true}, {"B", devB.Author(), true},
		{"C", devC.Author(), false}, {"D", devD.Author(), false}, {"founder", f.founder.Author(), false},
	} {
		if got := f.ms.DuplicateToken(members[c.a]); got != c.want {
			t.Errorf("DuplicateToken(%s) = %v, want %v", c.name, got, c.want)
		}
	}
	for _, rec := range []*Signed{ma, mb} {
		if !slices.Contains(RecordFlags(rec, f.ms, foldNow), FlagDuplicateToken) {
			t.Errorf("member record %s lacks duplicate_token", rec.ID)
		}
	}
	repA := f.accept(f.report(devA, nil))
	repB := f.accept(f.report(devB, nil))
	repC := f.accept(f.report(devC, nil))
	repD := f.accept(f.report(devD, nil))
	wantFlags(t, fold(t, f, repA), FlagDuplicateToken)
	wantFlags(t, fold(t, f, repB), FlagDuplicateToken)
	wantFlags(t, fold(t, f, repC))
	wantFlags(t, fold(t, f, repD))
}

func TestUnknownCategoryFlag(t *testing.T) {
	w := newWorld(t)
	f := w.f
	custom := f.accept(f.report(w.obs, func(p *ReportPayload) { p.Category = "polling.drone_surveillance" }))
	familyOnly := f.accept(f.report(w.obs, func(p *ReportPayload) { p.Category = "polling" }))
	base := f.accept(f.report(w.obs, func(p *ReportPayload) { p.Category = "other" }))
	wantFlags(t, fold(t, f, custom), FlagUnknownCategory)
	wantFlags(t, fold(t, f, familyOnly), FlagUnknownCategory)
	wantFlags(t, fold(t, f, base))
	// An amendment into an unknown category flags the report.
	am := amendment(f, w.obs, base, f.next(), func(p *ReportPayload) { p.Category = "registration.bribed_clerk" })
	wantFlags(t, fold(t, f, base, am), FlagUnknownCategory)

	f.accept(f.sign(w.coord2, KindConfig, ConfigPayload{Categories: []Category{
		{Code: "polling.drone_surveillance", Family: "polling", Label: "Drones over the queue"}}}))
	wantFlags(t, fold(t, f, custom))
	wantFlags(t, fold(t, f, familyOnly), FlagUnknownCategory)
	if c, ok := f.ms.Category("polling.drone_surveillance"); !ok || c.Label != "Drones over the queue" {
		t.Fatalf("Category = %+v, %v", c, ok)
	}
	// Sealed reports are never flagged: their category is unreadable here.
	sr := f.accept(sealed(w, w.obs, KindReport, SealedEnvelope{}))
	v := fold(t, f, sr)
	wantFlags(t, v)
	if !v.Sealed {
		t.Fatal("sealed report folded as unsealed")
	}
}

func TestFoldSealed(t *testing.T) {
	w := newWorld(t)
	f := w.f
	sr := f.accept(sealed(w, w.obs, KindReport, SealedEnvelope{}))
	am := f.accept(sealed(w, w.obs, KindAmend, SealedEnvelope{Target: sr.ID.Bytes()}))
	rv := f.accept(sealed(w, f.founder, KindReview, SealedEnvelope{Target: sr.ID.Bytes()}))
	rt := f.accept(sealed(w, w.obs, KindRetract, SealedEnvelope{Target: sr.ID.Bytes()}))
	elsewhere := f.accept(sealed(w, w.obs, KindAmend, SealedEnvelope{Target: w.rep.ID.Bytes()}))
	v := fold(t, f, sr, rt, rv, am, elsewhere)
	if !v.Sealed || v.Amendments != 1 || !v.Retracted || len(v.History) != 4 {
		t.Fatalf("sealed fold: sealed %v amendments %d retracted %v history %d", v.Sealed, v.Amendments, v.Retracted, len(v.History))
	}
	if !reflect.DeepEqual(v.Report, ReportPayload{}) {
		t.Fatalf("sealed report shows fields %+v", v.Report)
	}
}

func TestFoldIgnoresOtherTargets(t *testing.T) {
	w := newWorld(t)
	f := w.f
	mine := f.accept(f.review(f.founder, w.rep, "verified"))
	theirs := []*Signed{
		f.accept(f.review(f.founder, w.rep2, "rejected")),
		amendment(f, w.obs2, w.rep2, f.next(), func(p *ReportPayload) { p.Title = "not mine" }),
		f.accept(f.sign(w.obs2, KindRetract, RetractPayload{Target: w.rep2.ID.Bytes(), Reason: "x"})),
		w.checkin,
	}
	v := fold(t, f, w.rep, append(theirs, mine)...)
	if v.Status != "verified" || v.Amendments != 0 || v.Retracted || v.Report.Title != goodReport().Title || len(v.History) != 2 {
		t.Fatalf("records for another report leaked into the fold: %+v", v)
	}
	// Amendments and retractions by anyone but the report's author never
	// count, even if a caller passes them unvalidated.
	p := goodReport()
	p.Title = "hijacked"
	forged := []*Signed{
		f.sign(w.obs2, KindAmend, AmendPayload{Target: w.rep.ID.Bytes(), Report: p}),
		f.sign(f.founder, KindRetract, RetractPayload{Target: w.rep.ID.Bytes(), Reason: "hijacked"}),
	}
	v = fold(t, f, w.rep, append(forged, mine)...)
	if v.Amendments != 0 || v.Retracted || v.Report.Title != goodReport().Title || len(v.History) != 2 {
		t.Fatalf("another author's amend or retract changed the report: %+v", v)
	}
}

// FoldReport's result does not depend on the order of related.
func TestFoldOrderIndependent(t *testing.T) {
	w := newWorld(t)
	f := w.f
	c3 := f.enroll(f.founder, "coord3", RoleCoordinator)
	rep := w.rep
	var rel []*Signed
	add := func(s *Signed) *Signed { rel = append(rel, f.accept(s)); return s }
	same := f.next()
	for i, title := range []string{"a", "b", "c"} {
		at := same
		if i == 2 {
			at = same.Add(-time.Minute)
		}
		add(f.signAt(w.obs, KindAmend, at, AmendPayload{Target: rep.ID.Bytes(), Report: func() ReportPayload {
			p := goodReport()
			p.Title = title
			return p
		}()}))
	}
	r1 := add(f.review(f.founder, rep, "verified"))
	r2 := add(f.review(w.coord2, rep, "rejected"))
	r3 := add(f.review(c3, rep, "escalated", r1))
	add(f.review(f.founder, rep, "corroborated", r2, r3))
	add(f.review(w.coord2, rep, "verified"))
	add(f.signAt(c3, KindReview, same, ReviewPayload{Target: rep.ID.Bytes(), Status: "rejected"}))
	add(f.signAt(f.founder, KindReview, same, ReviewPayload{Target: rep.ID.Bytes(), Status: "verified"}))
	add(sealed(w, c3, KindReview, SealedEnvelope{Target: rep.ID.Bytes()}))
	add(f.sign(w.obs, KindRetract, RetractPayload{Target: rep.ID.Bytes(), Reason: "first reason"}))
	add(f.signAt(w.obs, KindRetract, same, RetractPayload{Target: rep.ID.Bytes(), Reason: "second reason"}))
	add(f.review(f.founder, w.rep2, "rejected"))
	add(f.sign(f.founder, KindRevoke, RevokePayload{Member: w.obs.pub[:], Accepted: [][]byte{rep.ID.Bytes()}}))

	want := fold(t, f, rep, rel...)
	if len(want.History) < 10 {
		t.Fatalf("test setup: history has %d events", len(want.History))
	}
	rng := rand.New(rand.NewSource(20260517))
	for i := 0; i < 500; i++ {
		perm := append([]*Signed(nil), rel...)
		rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		before := append([]*Signed(nil), perm...)
		got := fold(t, f, rep, perm...)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("permutation %d gave a different view:\n got %+v\nwant %+v", i, got, want)
		}
		if !slices.Equal(perm, before) {
			t.Fatal("FoldReport reordered the caller's slice")
		}
	}
}
