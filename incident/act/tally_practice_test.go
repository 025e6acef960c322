package act

import (
	"testing"

	"github.com/vigil-mesh/vigil/incident/demo"
)

// The practice mission's results are populated: tallies at most of the
// observers' stations, a consolidated station, a disagreement side by
// side, sheets that fail a check, and a quick count with a sensible
// margin; coverage hears the count.
func TestPracticeResults(t *testing.T) {
	d := New(practiceStore(t))
	r, err := d.Results(ResultsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Counts
	t.Logf("practice results: %v; quick count %+v", c, r.QuickCount)
	if r.Contest != demo.Contest || r.Registry != 300 || c[StatusOK]+c[StatusConsolidated]+c[StatusFlagged] < 30 ||
		c[StatusConsolidated] != 1 || c[StatusFlagged] < 4 {
		t.Fatalf("counts: %v", c)
	}
	sideBySide := false
	for _, s := range r.Stations {
		if s.Status == StatusFlagged && len(s.Tallies) == 2 {
			sideBySide = true
		}
	}
	if !sideBySide {
		t.Fatal("no station with two disagreeing tallies")
	}
	q := r.QuickCount
	if q == nil || q.Used < 8 || len(q.Shares) != 3 || q.Shares[0].Margin <= 0 || q.Shares[0].Margin > 0.08 || len(q.Notes) != 1 {
		t.Fatalf("quick count: %+v", q)
	}
	for _, s := range q.Shares {
		t.Logf("%s: %.1f %% ± %.1f", s.Choice, s.Share*100, s.Margin*100)
	}
	cov, err := d.Coverage(CoverageQuery{Level: 0, Phase: PhaseCounting})
	if err != nil || cov.Total.Heard[PhaseCounting] < 30 {
		t.Fatalf("coverage of the count: %+v %v", cov.Total, err)
	}
}
