package incident

import (
	"strings"
	"testing"
)

// TallyChecks: each check's verdict, its numbers and its sentence; 0
// registered or issued reads as not given (missing, never flagged); a
// sheet that fails every check still gets every verdict.
func TestTallyChecks(t *testing.T) {
	sheet := TallyPayload{Station: "PS-0001", Contest: "presidential", Registered: 900, Issued: 620, Cast: 610, Invalid: 6, Blank: 4,
		Votes: []VoteCount{{Choice: "A", Votes: 300}, {Choice: "B", Votes: 300}}}
	verdicts := func(cs []TallyCheck) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name+"="+c.Verdict)
		}
		return strings.Join(out, " ")
	}
	cs := TallyChecks(&sheet, 900)
	if got := verdicts(cs); got != "sum=ok cast_issued=ok issued_registered=ok turnout=ok registry=ok" {
		t.Fatalf("a sound sheet: %s", got)
	}
	if cs[0].Left != 610 || cs[0].Right != 610 || cs[3].Detail != "turnout 67.8 % (cast 610 of 900 registered) ≤ 100 %" {
		t.Fatalf("numbers: %+v", cs)
	}

	bad := sheet
	bad.Votes = []VoteCount{{Choice: "A", Votes: 700}, {Choice: "B", Votes: 300}}
	bad.Cast, bad.Issued, bad.Registered = 1020, 1000, 950
	cs = TallyChecks(&bad, 900)
	if got := verdicts(cs); got != "sum=flagged cast_issued=flagged issued_registered=flagged turnout=flagged registry=flagged" {
		t.Fatalf("a sheet that fails everything: %s", got)
	}
	for i, want := range []string{
		"votes 1000 + invalid 6 + blank 4 = 1010 ≠ cast 1020",
		"cast 1020 > issued 1000",
		"issued 1000 > registered 950",
		"turnout 107.4 % (cast 1020 of 950 registered) > 100 %",
		"registered 950 on the sheet ≠ 900 in the registry",
	} {
		if cs[i].Detail != want {
			t.Errorf("check %s: %q, want %q", cs[i].Name, cs[i].Detail, want)
		}
	}
	if len(FlaggedChecks(cs)) != 5 || len(FlaggedChecks(TallyChecks(&sheet, 900))) != 0 {
		t.Fatal("FlaggedChecks")
	}

	// Not given: registered and issued 0, no registry number.
	partial := sheet
	partial.Registered, partial.Issued = 0, 0
	if got := verdicts(TallyChecks(&partial, 0)); got != "sum=ok cast_issued=missing issued_registered=missing turnout=missing registry=missing" {
		t.Fatalf("a sheet without registered or issued: %s", got)
	}
	partial.Registered = 900
	if got := verdicts(TallyChecks(&partial, 0)); got != "sum=ok cast_issued=missing issued_registered=missing turnout=ok registry=missing" {
		t.Fatalf("registered only, no registry: %s", got)
	}

	// SameNumbers: every number, votes in any order.
	other := sheet
	other.Votes = []VoteCount{{Choice: "B", Votes: 300}, {Choice: "A", Votes: 300}}
	if !SameNumbers(&sheet, &other) {
		t.Fatal("the same sheet with its choices in another order")
	}
	other.Votes = []VoteCount{{Choice: "B", Votes: 300}, {Choice: "A", Votes: 301}}
	if SameNumbers(&sheet, &other) {
		t.Fatal("one vote apart")
	}
	other = sheet
	other.Blank++
	if SameNumbers(&sheet, &other) {
		t.Fatal("blank apart")
	}
}
