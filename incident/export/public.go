package export

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
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
//     report published under the mission's name does harm. Sealed
//     reports go like any other when this device can open them (a
//     coordinator's), and are left out, counted, when it cannot.
//   - free text (title, description, source) only as the coordinators
//     approved it for publication (publicText, the one rule every format
//     follows): free text names people and places, and only a person
//     who read it can judge it fit to publish.
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
	// Stations is the mission's station registry: an approved text that
	// names a station (by code or registered name) that this export does
	// not show is withheld. Codes the reports give count without it.
	Stations []incident.StationPayload
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
	// WithheldText counts the published reports whose free text was left
	// out because the coordinators had not approved it as it stands;
	// WithheldStation those whose approved text names a station this
	// export does not show.
	WithheldText, WithheldStation int

	hidden map[string]bool // normalised codes and names of the stations not shown
	maxLen int             // the most words in a key of hidden
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
	a.hidden = map[string]bool{}
	hide := func(code, name string) {
		if code == "" || len(a.observers[code]) >= o.MinObservers {
			return
		}
		for _, s := range []string{code, name} {
			if w := words(s); len(w) > 0 {
				a.hidden[strings.Join(w, " ")] = true
				a.maxLen = max(a.maxLen, len(w))
			}
		}
	}
	for _, st := range o.Stations {
		hide(st.Code, st.Name)
	}
	for _, v := range views {
		hide(v.Report.Station, "")
	}
	return a
}

// StationRegistry returns the station records st holds, for
// PublicOptions.Stations.
func StationRegistry(st *store.Store) ([]incident.StationPayload, error) {
	recs, err := st.ByKind(incident.KindStation)
	if err != nil {
		return nil, err
	}
	var out []incident.StationPayload
	for _, r := range recs {
		if p, err := r.DecodePayload(); err == nil {
			if sp, ok := p.(*incident.StationPayload); ok {
				out = append(out, *sp)
			}
		}
	}
	return out, nil
}

// words splits s into lowercase runs of letters and digits: "PS-0042"
// and "ps 0042" are the same words, so a code is found however it is
// typed.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// namesHidden reports whether text names a station this export does not
// show: one of hidden's keys as consecutive words of text.
func (a *Anonymizer) namesHidden(text string) bool {
	w := words(text)
	for i := range w {
		for n := 1; n <= a.maxLen && i+n <= len(w); n++ {
			if a.hidden[strings.Join(w[i:i+n], " ")] {
				return true
			}
		}
	}
	return false
}

// publicText is the rule for the free text of a public row, which every
// public format writes as Public returns it: the title, description and
// source of the version of v the coordinators approved
// (ReportView.TextApproved: every head of the review chain approves the
// version shown, so an amendment since withdraws it), exactly as
// written; or none. An approved text that names a station this export
// does not show (too few observers reported from it) is withheld as
// well: the approval was given without knowing what this file hides.
// ok says whether the text goes out; otherwise why counts the reason.
func (a *Anonymizer) publicText(v incident.ReportView) (ok bool, why *int) {
	r := &v.Report
	if r.Title == "" && r.Description == "" && r.Source == "" {
		return false, nil
	}
	if !v.TextApproved {
		return false, &a.WithheldText
	}
	for _, s := range []string{r.Title, r.Description, r.Source} {
		if a.namesHidden(s) {
			return false, &a.WithheldStation
		}
	}
	return true, nil
}

// leftOut returns the counter of the reason v stays out of the file, or
// nil when it goes in.
func (a *Anonymizer) leftOut(v incident.ReportView) *int {
	switch {
	case v.Sealed && !v.Opened:
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

// authorFlags are the flags about a report's author rather than the
// report: a public export drops them.
var authorFlags = map[string]bool{
	incident.FlagAuthorRevoked: true, incident.FlagUnconfirmed: true, incident.FlagDuplicateToken: true,
	incident.FlagInviteRevoked: true, incident.FlagInviteClosed: true,
}

// Public returns the public row of v, or false when v must be left out
// (sealed reports this device cannot open; reports with fields a newer
// Vigil added: a newer mission policy may cover them).
func (a *Anonymizer) Public(v incident.ReportView) (incident.ReportJSON, bool) {
	if n := a.leftOut(v); n != nil {
		*n++
		return incident.ReportJSON{}, false
	}
	j := v.JSON(false)
	j.ID = a.pseudonym(v.ID)
	j.Author = ""
	if ok, why := a.publicText(v); !ok {
		j.Title, j.Description, j.Source = nil, nil, nil
		if why != nil {
			*why++
		}
	}
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
	// Flags that follow the author (revoked, unconfirmed, a shared or
	// closed invite) and whether the observer sealed would mark all of one
	// observer's rows alike: a pseudonym by another name. Only flags about
	// the report itself stay.
	j.Flags = slices.DeleteFunc(j.Flags, func(f string) bool { return authorFlags[f] })
	j.Sealed = false
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
	return fmt.Sprintf("Anonymised public export. %s; left out: %d not verified, %d rejected or retracted, %d sealed "+
		"that this device cannot open. The free text (titles, descriptions, sources) goes only where the coordinators "+
		"approved it for publication: withheld from %d reports for lack of approval, and from %d whose approved text names a "+
		"station this file does not show. Removed or changed: authors (no pseudonym, no flag about the author, no sealed mark: nothing links one observer's "+
		"reports); record IDs (replaced by pseudonyms that hold only within this file); station codes where "+
		"fewer than %d observers reported (the area is shown instead); coordinates rounded to %g degrees (about %d km); "+
		"times rounded down to the hour; attachments; fields the mission marks private (%s). "+
		"This file carries no signatures and cannot be verified.%s",
		kept, a.DroppedUnverified, a.DroppedWithdrawn, a.Dropped, a.WithheldText, a.WithheldStation,
		a.opts.MinObservers, a.opts.GridDegrees, int(a.opts.GridDegrees*111), private, newer)
}
