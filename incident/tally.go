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
	return nil
}
