package incident

import "fmt"

// Tallies: an observer copies the result sheet posted at the count. The
// record keeps the sheet's numbers as read, even when they do not add up:
// a sheet that does not add up is itself a finding, so the checks flag
// and never refuse (TallyChecks). Where the mission seals, a tally is
// sealed to the coordinators like a report.

// Tally limits.
const (
	MaxTallyChoices = 64
	MaxTallyVotes   = 10_000_000 // any count on one station's sheet
	MaxTallyPhotos  = 8
)

func validateTally(v *TallyPayload) error {
	if err := checkCode("payload.station", v.Station, true); err != nil {
		return err
	}
	if err := checkText("payload.contest", v.Contest, MaxNameLen, true); err != nil {
		return err
	}
	for name, n := range map[string]uint64{"registered": v.Registered, "issued": v.Issued, "cast": v.Cast,
		"invalid": v.Invalid, "blank": v.Blank} {
		if n > MaxTallyVotes {
			return fieldErr("payload."+name, "%d, limit %d", n, MaxTallyVotes)
		}
	}
	if len(v.Votes) == 0 || len(v.Votes) > MaxTallyChoices {
		return fieldErr("payload.votes", "%d choices, want 1 to %d", len(v.Votes), MaxTallyChoices)
	}
	seen := map[string]bool{}
	for i, c := range v.Votes {
		field := fmt.Sprintf("payload.votes[%d]", i)
		if err := checkText(field+".choice", c.Choice, MaxNameLen, true); err != nil {
			return err
		}
		if seen[c.Choice] {
			return fieldErr(field+".choice", "%q is listed twice", c.Choice)
		}
		seen[c.Choice] = true
		if c.Votes > MaxTallyVotes {
			return fieldErr(field+".votes", "%d, limit %d", c.Votes, MaxTallyVotes)
		}
	}
	if len(v.Photos) > MaxTallyPhotos {
		return fieldErr("payload.photos", "%d photos, limit %d", len(v.Photos), MaxTallyPhotos)
	}
	for i, h := range v.Photos {
		if len(h) != 32 {
			return fieldErr(fmt.Sprintf("payload.photos[%d]", i), "must be a 32-byte SHA-256, got %d bytes", len(h))
		}
	}
	return validateFileKeys(v.FileSet())
}

// The verdicts of a tally check.
const (
	CheckOK      = "ok"
	CheckFlagged = "flagged"
	// CheckMissing: a number the check needs is not on the sheet as
	// copied (registered or issued 0 reads as not given), or the
	// registry gives none to compare with.
	CheckMissing = "missing"
)

// The tally checks, by name.
const (
	CheckSum        = "sum"         // votes + invalid + blank = cast
	CheckCastIssued = "cast_issued" // cast ≤ issued
	CheckIssuedReg  = "issued_registered"
	CheckTurnout    = "turnout"  // cast / registered ≤ 100 %
	CheckRegistry   = "registry" // registered = the registry's registered voters
)

// TallyCheck is one check's verdict on a tally, with the two numbers it
// compares (Left, Right: 0 where missing) and the sentence that says so.
type TallyCheck struct {
	Name    string `json:"name"`
	Verdict string `json:"verdict"`
	Left    uint64 `json:"left"`
	Right   uint64 `json:"right"`
	Detail  string `json:"detail"`
}

// Flagged reports whether the check failed.
func (c TallyCheck) Flagged() bool { return c.Verdict == CheckFlagged }

// ValidVotes is the sum of the votes for the choices.
func (p *TallyPayload) ValidVotes() uint64 {
	var n uint64
	for _, v := range p.Votes {
		n += v.Votes
	}
	return n
}

// TallyChecks runs the pure checks on a tally, in a fixed order: the
// sum, cast ≤ issued, issued ≤ registered, turnout ≤ 100 %, and the
// registered voters against the registry's (onRegister: the registry
// station's registered voters; 0 when the registry gives none). A
// failing check flags the tally; nothing here refuses one. Registered
// and issued 0 read as not given (a sheet with no voter registered or no
// ballot issued is not a sheet), so the checks that need them are
// missing rather than flagged.
func TallyChecks(p *TallyPayload, onRegister uint64) []TallyCheck {
	out := make([]TallyCheck, 0, 5)
	add := func(name string, ok bool, left, right uint64, format string, args ...any) {
		v := CheckFlagged
		if ok {
			v = CheckOK
		}
		out = append(out, TallyCheck{Name: name, Verdict: v, Left: left, Right: right, Detail: fmt.Sprintf(format, args...)})
	}
	missing := func(name, detail string) {
		out = append(out, TallyCheck{Name: name, Verdict: CheckMissing, Detail: detail})
	}
	valid := p.ValidVotes()
	sum := valid + p.Invalid + p.Blank
	rel := func(ok bool, eq string) string {
		if ok {
			return eq
		}
		return map[string]string{"=": "≠", "≤": ">"}[eq]
	}
	add(CheckSum, sum == p.Cast, sum, p.Cast, "votes %d + invalid %d + blank %d = %d %s cast %d",
		valid, p.Invalid, p.Blank, sum, rel(sum == p.Cast, "="), p.Cast)
	if p.Issued == 0 {
		missing(CheckCastIssued, "ballots issued not given")
	} else {
		add(CheckCastIssued, p.Cast <= p.Issued, p.Cast, p.Issued, "cast %d %s issued %d", p.Cast, rel(p.Cast <= p.Issued, "≤"), p.Issued)
	}
	switch {
	case p.Issued == 0 || p.Registered == 0:
		missing(CheckIssuedReg, "ballots issued or registered voters not given")
	default:
		add(CheckIssuedReg, p.Issued <= p.Registered, p.Issued, p.Registered, "issued %d %s registered %d",
			p.Issued, rel(p.Issued <= p.Registered, "≤"), p.Registered)
	}
	if p.Registered == 0 {
		missing(CheckTurnout, "registered voters not given")
	} else {
		ok := p.Cast <= p.Registered
		add(CheckTurnout, ok, p.Cast, p.Registered, "turnout %.1f %% (cast %d of %d registered) %s 100 %%",
			float64(p.Cast)*100/float64(p.Registered), p.Cast, p.Registered, rel(ok, "≤"))
	}
	switch {
	case onRegister == 0:
		missing(CheckRegistry, "the registry gives no registered voters for this station")
	case p.Registered == 0:
		missing(CheckRegistry, fmt.Sprintf("registered voters not given (the registry says %d)", onRegister))
	default:
		add(CheckRegistry, p.Registered == onRegister, p.Registered, onRegister, "registered %d on the sheet %s %d in the registry",
			p.Registered, rel(p.Registered == onRegister, "="), onRegister)
	}
	return out
}

// FlaggedChecks returns the checks that failed.
func FlaggedChecks(checks []TallyCheck) []TallyCheck {
	var out []TallyCheck
	for _, c := range checks {
		if c.Flagged() {
			out = append(out, c)
		}
	}
	return out
}

// SameNumbers reports whether two tallies copy the same sheet: every
// number equal, and the same votes for the same choices (in any order).
func SameNumbers(a, b *TallyPayload) bool {
	if a.Registered != b.Registered || a.Issued != b.Issued || a.Cast != b.Cast || a.Invalid != b.Invalid ||
		a.Blank != b.Blank || len(a.Votes) != len(b.Votes) {
		return false
	}
	votes := make(map[string]uint64, len(a.Votes))
	for _, v := range a.Votes {
		votes[v.Choice] = v.Votes
	}
	for _, v := range b.Votes {
		n, ok := votes[v.Choice]
		if !ok || n != v.Votes {
			return false
		}
	}
	return true
}

// The statuses of a station's result in one contest.
const (
	StationMissing      = "missing"      // no tally
	StationOK           = "ok"           // one tally, every check passes
	StationFlagged      = "flagged"      // a check fails, or tallies disagree
	StationConsolidated = "consolidated" // two or more independent tallies agree on every number
)

// StationStatus is the status of a station's tallies in force for one
// contest (each author's latest), onRegister its registered voters (0:
// none known). It is the one rule `results`, the app and exports show.
func StationStatus(tallies []*TallyPayload, onRegister uint64) string {
	if len(tallies) == 0 {
		return StationMissing
	}
	for _, t := range tallies {
		if len(FlaggedChecks(TallyChecks(t, onRegister))) > 0 || !SameNumbers(tallies[0], t) {
			return StationFlagged
		}
	}
	if len(tallies) > 1 {
		return StationConsolidated
	}
	return StationOK
}
