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
}

// Anonymizer turns report views into public rows. Build it over every
// view that will be exported (station counts need them all), then call
// Public for each.
type Anonymizer struct {
	opts      PublicOptions
	key       [32]byte
	authors   map[incident.Author]string
	observers map[string]map[incident.Author]bool // station → authors
	areas     map[string]string                   // station → an area reported with it
	Dropped   int                                 // sealed reports left out
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
	a := &Anonymizer{opts: o, authors: map[incident.Author]string{},
		observers: map[string]map[incident.Author]bool{}, areas: map[string]string{}}
	rand.Read(a.key[:]) // per export: pseudonyms do not repeat across files
	for _, v := range views {
		st := v.Report.Station
		if st == "" {
			continue
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

var pseudo = base32.StdEncoding.WithPadding(base32.NoPadding)

func (a *Anonymizer) pseudonym(id incident.ID) string {
	m := hmac.New(sha256.New, a.key[:])
	m.Write(id[:])
	return "r-" + strings.ToLower(pseudo.EncodeToString(m.Sum(nil))[:12])
}

func (a *Anonymizer) author(x incident.Author) string {
	if p, ok := a.authors[x]; ok {
		return p
	}
	p := fmt.Sprintf("observer-%d", len(a.authors)+1)
	a.authors[x] = p
	return p
}

func hourString(ms int64) string {
	return time.UnixMilli(ms).UTC().Truncate(time.Hour).Format(time.RFC3339)
}

// Public returns the public row of v, or false when v must be left out
// (sealed reports: their bodies are for coordinators only; reports with
// fields a newer Vigil added: a newer mission policy may cover them).
func (a *Anonymizer) Public(v incident.ReportView) (incident.ReportJSON, bool) {
	if v.Sealed {
		a.Dropped++
		return incident.ReportJSON{}, false
	}
	if v.HasFlag(incident.FlagNewerFields) {
		a.DroppedNewer++
		return incident.ReportJSON{}, false
	}
	j := v.JSON(false)
	j.ID = a.pseudonym(v.ID)
	j.Author = a.author(v.Author)
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
	return fmt.Sprintf("Anonymised public export. Removed or changed: record IDs and author keys "+
		"(replaced by pseudonyms that hold only within this file); station codes where fewer than %d observers "+
		"reported (the area is shown instead); coordinates rounded to %g degrees (about %d km); times rounded down "+
		"to the hour; sealed reports (%d left out); attachments; fields the mission marks private (%s). "+
		"This file carries no signatures and cannot be verified.%s",
		a.opts.MinObservers, a.opts.GridDegrees, int(a.opts.GridDegrees*111), a.Dropped, private, newer)
}
