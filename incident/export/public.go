package export

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// Public exports (`export --public`) are for publication: nothing in them
// links back to a device key or a record ID, and what could identify an
// observer is coarsened or removed. Each file says what was removed and
// that it cannot be verified.
//
// What goes in:
//   - reports a coordinator reviewed as verified or corroborated, with no
//     disagreement among coordinators; Unverified adds the unreviewed,
//     escalated and disputed ones, each marked by its status column.
//     Rejected and retracted reports never go: a false or withdrawn
//     report published under the mission's name does harm.
//   - no free text (title, description, source): it names people and
//     places, stations included, and nothing yet records a coordinator's
//     approval of a text for publication.
//   - no author, not even a pseudonym: a pseudonym shared by one
//     observer's rows links them, and so places that observer.

// PublicOptions tune anonymisation. Zero values take the defaults.
type PublicOptions struct {
	// GridDegrees: coordinates are rounded to this grid. Default 0.1°
	// (about 11 km).
	GridDegrees float64
	// MinObservers: a station code is shown only when at least this many
	// distinct observers reported from it; otherwise its area is shown.
	// Default 3.
	MinObservers int
	// Private lists report fields the mission marks private.
	Private []string
	// Unverified adds the reports no coordinator verified or
	// corroborated (unreviewed, escalated, disputed), marked by status.
	Unverified bool
}

// Anonymizer turns report views into public rows. Build it over every
// view that will be exported (station counts need them all), then call
// Public for each.
type Anonymizer struct {
	opts      PublicOptions
	key       [32]byte
	observers map[string]map[incident.Author]bool // station → authors
	areas     map[string]string                   // station → an area reported with it
	Dropped   int                                 // sealed reports left out
	// DroppedUnverified counts the reports left out because no
	// coordinator verified or corroborated them (without Unverified);
	// DroppedWithdrawn the rejected and retracted ones.
	DroppedUnverified, DroppedWithdrawn int
	// DroppedNewer counts the reports left out because they carry fields
	// a newer Vigil added: what this build cannot read, it cannot judge
	// fit to publish.
	DroppedNewer int
	// NewerRecords is set by the caller: the records of kinds this build
	// does not know, which a public export leaves out (Notice says so).
	NewerRecords int
}

// NewAnonymizer prepares a public export of views.
func NewAnonymizer(views []incident.ReportView, o PublicOptions) *Anonymizer {
	if o.GridDegrees <= 0 {
		o.GridDegrees = 0.1
	}
	if o.MinObservers <= 0 {
		o.MinObservers = 3
	}
	a := &Anonymizer{opts: o,
		observers: map[string]map[incident.Author]bool{}, areas: map[string]string{}}
	rand.Read(a.key[:]) // per export: pseudonyms do not repeat across files
	for _, v := range views {
		st := v.Report.Station
		if st == "" || a.leftOut(v) != nil {
			continue // only the rows published count towards showing a station
		}
		if a.observers[st] == nil {
			a.observers[st] = map[incident.Author]bool{}
		}
		a.observers[st][v.Author] = true
		if v.Report.Area != "" {
			a.areas[st] = v.Report.Area
		}
	}
	return a
}

// leftOut returns the counter of the reason v stays out of the file, or
// nil when it goes in.
func (a *Anonymizer) leftOut(v incident.ReportView) *int {
	switch {
	case v.Sealed:
		return &a.Dropped
	case v.HasFlag(incident.FlagNewerFields):
		return &a.DroppedNewer
	case v.Retracted || v.Status == "rejected":
		return &a.DroppedWithdrawn
	case !Verified(v) && !a.opts.Unverified:
		return &a.DroppedUnverified
	}
	return nil
}

// Verified reports whether a coordinator verified or corroborated v and
// no other coordinator's concurrent review disagrees.
func Verified(v incident.ReportView) bool {
	return !v.Conflict && (v.Status == "verified" || v.Status == "corroborated")
}

var pseudo = base32.StdEncoding.WithPadding(base32.NoPadding)

func (a *Anonymizer) pseudonym(id incident.ID) string {
	m := hmac.New(sha256.New, a.key[:])
	m.Write(id[:])
	return "r-" + strings.ToLower(pseudo.EncodeToString(m.Sum(nil))[:12])
}

func hourString(ms int64) string {
	return time.UnixMilli(ms).UTC().Truncate(time.Hour).Format(time.RFC3339)
}

// Public returns the public row of v, or false when v must be left out
// (sealed reports: their bodies are for coordinators only; reports with
// fields a newer Vigil added: a newer mission policy may cover them).
func (a *Anonymizer) Public(v incident.ReportView) (incident.ReportJSON, bool) {
	if n := a.leftOut(v); n != nil {
		*n++
		return incident.ReportJSON{}, false
	}
	j := v.JSON(false)
	j.ID = a.pseudonym(v.ID)
	j.Author = ""
	j.Title, j.Description, j.Source = nil, nil, nil
	j.Created = hourString(v.Created)
	if j.Occurred != nil {
		o := hourString(v.Report.Occurred)
		j.Occurred = &o
	}
	if j.Lat != nil && j.Lon != nil {
		g := a.opts.GridDegrees
		lat, lon := math.Round(*j.Lat/g)*g, math.Round(*j.Lon/g)*g
		// Print the grid's own decimals, not float noise.
		dec := math.Pow(10, math.Max(0, math.Ceil(-math.Log10(g))))
		lat, lon = math.Round(lat*dec)/dec, math.Round(lon*dec)/dec
		prec := uint64(g * 111_000)
		j.Lat, j.Lon, j.Precision = &lat, &lon, &prec
	}
	if st := v.Report.Station; st != "" && len(a.observers[st]) < a.opts.MinObservers {
		j.Station = nil
		if area := a.areas[st]; area != "" && j.Area == nil {
			j.Area = &area
		}
	}
	j.Attachments = []string{}
	j.Delivery = nil
	j.History = nil
	for _, f := range a.opts.Private {
		switch f {
		case "title":
			j.Title = nil
		case "description":
			j.Description = nil
		case "station":
			j.Station = nil
		case "area":
			j.Area = nil
		case "lat", "lon":
			j.Lat, j.Lon, j.Precision = nil, nil, nil
		case "source":
			j.Source = nil
		case "channel":
			j.Channel = nil
		case "reach":
			j.Reach = nil
		case "harm":
			j.Harm = nil
		case "severity":
			j.Severity = nil
		case "occurred":
			j.Occurred = nil
		case "category":
			j.Category, j.Family = nil, nil
		}
	}
	return j, true
}

// Notice says what a public export removed and that it cannot be
// verified.
func (a *Anonymizer) Notice() string {
	private := "none"
	if len(a.opts.Private) > 0 {
		private = strings.Join(a.opts.Private, ", ")
	}
	newer := ""
	if a.DroppedNewer > 0 || a.NewerRecords > 0 {
		newer = fmt.Sprintf(" Left out as this version of Vigil cannot read them whole (they need a newer Vigil): "+
			"%d reports with fields a newer version added, %d records of kinds it does not know.", a.DroppedNewer, a.NewerRecords)
	}
	kept := "Only reports a coordinator verified or corroborated"
	if a.opts.Unverified {
		kept = "Reports no coordinator verified or corroborated are included, marked by their status"
	}
	return fmt.Sprintf("Anonymised public export. %s; left out: %d not verified, %d rejected or retracted, %d sealed. "+
		"Removed or changed: authors (no pseudonym: nothing links one observer's reports); record IDs (replaced by "+
		"pseudonyms that hold only within this file); free text (titles, descriptions, sources); station codes where "+
		"fewer than %d observers reported (the area is shown instead); coordinates rounded to %g degrees (about %d km); "+
		"times rounded down to the hour; attachments; fields the mission marks private (%s). "+
		"This file carries no signatures and cannot be verified.%s",
		kept, a.DroppedUnverified, a.DroppedWithdrawn, a.Dropped, a.opts.MinObservers, a.opts.GridDegrees,
		int(a.opts.GridDegrees*111), private, newer)
}
