package act

import (
	"fmt"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Space is how much room Vigil uses on this device and what it keeps
// (store.Space): on an observer's or carrier's phone, the mission's
// records, its own, and what it carries for others until enough
// coordinators hold it.
func (d *Desk) Space() (store.Space, error) { return d.st.Space() }

// SpaceSummary says a Space in a line, for `vigil status` and logs:
// "23.4 MB of 128 MB: 12 own, 340 of the mission's, 5 carried for others; 1,203 dropped once 2 coordinators held them".
func SpaceSummary(sp store.Space) string {
	if !sp.Bounded {
		return fmt.Sprintf("%s: every record is kept (%d of the mission's, %d others', %d own)",
			incident.FormatSize(sp.Bytes), sp.Mission, sp.Held+sp.Carried, sp.Own)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s of %s: %d own, %d of the mission's, %d carried for others",
		incident.FormatSize(sp.Bytes), incident.FormatSize(sp.Budget), sp.Own, sp.Mission, sp.Carried)
	if sp.Held > 0 {
		fmt.Fprintf(&b, ", %d others' that coordinators hold (dropped at the next sync)", sp.Held)
	}
	if sp.Dropped > 0 {
		fmt.Fprintf(&b, "; %s dropped once %s held them", incident.Plural(sp.Dropped, "record"), incident.Plural(sp.Receipts, "coordinator"))
	}
	if sp.Over {
		b.WriteString("; FULL: records for others are refused until coordinators hold what this phone carries")
	}
	return b.String()
}

// ForgetHeld is the phone's quick delete: the records this device wrote
// that enough coordinators hold are deleted, with their files, and never
// taken back (store.ForgetHeld). It returns how many were deleted and how
// many of this device's records are kept because coordinators do not hold
// them yet.
func (d *Desk) ForgetHeld() (deleted, kept int, err error) {
	if deleted, err = d.st.ForgetHeld(); err != nil {
		return deleted, 0, err
	}
	sp, err := d.st.Space()
	return deleted, sp.Own, err
}
