package incident

import (
	"math/rand"
	"testing"
)

// approve signs a review of target by s that approves the free text of
// version (the report or one of its amendments) for publication.
func (f *fixture) approve(s *Signer, target, version *Signed, status string, prev ...*Signed) *Signed {
	f.tb.Helper()
	p := ReviewPayload{Target: target.ID.Bytes(), Status: status, Publish: version.ID.Bytes()}
	for _, r := range prev {
		p.Prev = append(p.Prev, r.ID.Bytes())
	}
	return f.sign(s, KindReview, p)
}

// TestFoldTextApproval: a report's free text is approved for publication
// exactly when every head of its review chain approves the version the
// view shows, each by a coordinator in good standing, and this device
// reads every review.
func TestFoldTextApproval(t *testing.T) {
	for _, tc := range []struct {
		name string
		// build returns the records that target w.rep, and the version
		// the view must show.
		build func(w *world) (related []*Signed, version *Signed)
		want  bool
	}{
		{"unreviewed", func(w *world) ([]*Signed, *Signed) { return nil, w.rep }, false},
		{"verified, text not approved", func(w *world) ([]*Signed, *Signed) {
			return []*Signed{w.f.accept(w.f.review(w.f.founder, w.rep, "verified"))}, w.rep
		}, false},
		{"verified and approved", func(w *world) ([]*Signed, *Signed) {
			return []*Signed{w.f.accept(w.f.approve(w.f.founder, w.rep, w.rep, "verified"))}, w.rep
		}, true},
		{"amended after the approval", func(w *world) ([]*Signed, *Signed) {
			rv := w.f.accept(w.f.approve(w.f.founder, w.rep, w.rep, "verified"))
			am := amendment(w.f, w.obs, w.rep, w.f.next(), func(p *ReportPayload) { p.Title = "new text" })
			return []*Signed{rv, am}, am
		}, false},
		{"the amendment approved again", func(w *world) ([]*Signed, *Signed) {
			rv := w.f.accept(w.f.approve(w.f.founder, w.rep, w.rep, "verified"))
			am := amendment(w.f, w.obs, w.rep, w.f.next(), func(p *ReportPayload) { p.Title = "new text" })
			again := w.f.accept(w.f.approve(w.f.founder, w.rep, am, "verified", rv))
			return []*Signed{rv, am, again}, am
		}, true},
		{"an approval of the original once amended", func(w *world) ([]*Signed, *Signed) {
			am := amendment(w.f, w.obs, w.rep, w.f.next(), func(p *ReportPayload) { p.Title = "new text" })
			return []*Signed{am, w.f.accept(w.f.approve(w.f.founder, w.rep, w.rep, "verified"))}, am
		}, false},
		{"withdrawn by a later review without it", func(w *world) ([]*Signed, *Signed) {
			rv := w.f.accept(w.f.approve(w.f.founder, w.rep, w.rep, "verified"))
			return []*Signed{rv, w.f.accept(w.f.review(w.f.founder, w.rep, "corroborated", rv))}, w.rep
		}, false},
		{"two coordinators both approve", func(w *world) ([]*Signed, *Signed) {
			return []*Signed{w.f.accept(w.f.approve(w.f.founder, w.rep, w.rep, "verified")),
				w.f.accept(w.f.approve(w.coord2, w.rep, w.rep, "corroborated"))}, w.rep
		}, true},
		{"two heads, one approves", func(w *world) ([]*Signed, *Signed) {
			return []*Signed{w.f.accept(w.f.approve(w.f.founder, w.rep, w.rep, "verified")),
				w.f.accept(w.f.review(w.coord2, w.rep, "verified"))}, w.rep
		}, false},
		{"a review that merged both heads approves", func(w *world) ([]*Signed, *Signed) {
			r1 := w.f.accept(w.f.approve(w.f.founder, w.rep, w.rep, "verified"))
			r2 := w.f.accept(w.f.review(w.coord2, w.rep, "verified"))
			return []*Signed{r1, r2, w.f.accept(w.f.approve(w.coord2, w.rep, w.rep, "verified", r1, r2))}, w.rep
		}, true},
		{"a sealed review this device cannot read", func(w *world) ([]*Signed, *Signed) {
			rv := w.f.accept(w.f.approve(w.f.founder, w.rep, w.rep, "verified"))
			return []*Signed{rv, w.f.accept(sealed(w, w.coord2, KindReview, SealedEnvelope{Target: w.rep.ID.Bytes()}))}, w.rep
		}, false},
		{"a revoked coordinator's unaccepted approval", func(w *world) ([]*Signed, *Signed) {
			w.f.accept(w.f.sign(w.f.founder, KindRevoke, RevokePayload{Member: w.coord2.pub[:], Reason: "laptop seized"}))
			return []*Signed{w.f.accept(w.f.approve(w.coord2, w.rep, w.rep, "verified"))}, w.rep
		}, false},
		{"an approval of another report's version", func(w *world) ([]*Signed, *Signed) {
			return []*Signed{w.f.accept(w.f.approve(w.f.founder, w.rep, w.rep2, "verified"))}, w.rep
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			related, version := tc.build(w)
			rng := rand.New(rand.NewSource(1))
			for range 4 { // the verdict does not depend on the order records arrive in
				rng.Shuffle(len(related), func(i, j int) { related[i], related[j] = related[j], related[i] })
				v := fold(t, w.f, w.rep, related...)
				if v.Version != version.ID {
					t.Fatalf("version %s, want %s", v.Version, version.ID)
				}
				if v.TextApproved != tc.want {
					t.Fatalf("text approved = %v, want %v", v.TextApproved, tc.want)
				}
			}
		})
	}
}

// TestFoldApprovalInHistory: the review that approves names the version
// in the report's history.
func TestFoldApprovalInHistory(t *testing.T) {
	w := newWorld(t)
	rv := w.f.accept(w.f.approve(w.f.founder, w.rep, w.rep, "verified"))
	v := fold(t, w.f, w.rep, rv)
	e := v.History[len(v.History)-1]
	if e.ID != rv.ID || e.Publish == nil || *e.Publish != w.rep.ID {
		t.Fatalf("history event %+v does not name the approved version", e)
	}
}

// TestValidateReviewPublish: an approval names a record ID.
func TestValidateReviewPublish(t *testing.T) {
	w := newWorld(t)
	bad := w.f.sign(w.f.founder, KindReview, ReviewPayload{Target: w.rep.ID.Bytes(), Status: "verified", Publish: []byte{1, 2, 3}})
	wantField(t, w.f.validate(bad), "payload.publish")
	if err := w.f.validate(w.f.approve(w.f.founder, w.rep, w.rep, "verified")); err != nil {
		t.Fatalf("an approving review: %v", err)
	}
	// Only coordinators review: an observer's approval is no review at all.
	obs := w.f.approve(w.obs, w.rep, w.rep, "verified")
	if err := w.f.validate(obs); err == nil {
		t.Fatal("an observer's approving review is valid")
	}
}

// TestReviewPublishFormatLevel: a review that approves text carries a
// key the first format did not have, so a level-0 build is not given it in
// the clear; sealed, only its envelope shows.
func TestReviewPublishFormatLevel(t *testing.T) {
	w := newWorld(t)
	if w.f.approve(w.f.founder, w.rep, w.rep, "verified").ReadableAt(0) {
		t.Error("a clear approving review is readable at level 0")
	}
	if !w.f.review(w.f.founder, w.rep, "verified").ReadableAt(0) {
		t.Error("a plain review is not readable at level 0")
	}
}
