package incident

import (
	"encoding/json"
	"sync/atomic"
	"time"
)

var jsonMarshal = json.Marshal

// ReportJSON is a report view as the CLI's --json, exports and the control
// socket print it. Absent fields are null.
type ReportJSON struct {
	ID            string   `json:"id"`
	Category      *string  `json:"category"`
	Family        *string  `json:"family"`
	Severity      *uint64  `json:"severity"`
	Title         *string  `json:"title"`
	Description   *string  `json:"description"`
	Station       *string  `json:"station"`
	Area          *string  `json:"area"`
	Lat           *float64 `json:"lat"`
	Lon           *float64 `json:"lon"`
	Precision     *uint64  `json:"precision_m"`
	Occurred      *string  `json:"occurred"`
	Created       string   `json:"created"`
	Author        string   `json:"author"`
	Sealed        bool     `json:"sealed"`
	Status        string   `json:"status"`
	Conflict      bool     `json:"conflict"`
	Retracted     bool     `json:"retracted"`
	RetractReason *string  `json:"retract_reason"`
	Amendments    int      `json:"amendments"`
	Flags         []string `json:"flags"`
	Channel       *string  `json:"channel"`
	Harm          *string  `json:"harm"`
	Reach         *uint64  `json:"reach"`
	Source        *string  `json:"source"`
	Attachments   []string `json:"attachments"`
	// Delivery is set for the device's own reports: "local only",
	// "sent to N" or "held by a coordinator".
	Delivery *string `json:"delivery"`
	History  []Event `json:"history,omitempty"`
}

// FormatTime prints Unix milliseconds as RFC 3339 UTC.
func FormatTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }

// jsonFields backs a ReportJSON's pointer fields: one allocation for all
// of them instead of one each.
type jsonFields struct {
	category, family, occurred, title, description, station, area string
	channel, harm, source, retractReason                          string
	severity, precision, reach                                    uint64
	lat, lon                                                      float64
}

// str points at *dst, set to s, or is nil when s is empty.
func str(dst *string, s string) *string {
	if s == "" {
		return nil
	}
	*dst = s
	return dst
}

// nonZero points at *dst, set to v, or is nil when v is 0.
func nonZero(dst *uint64, v uint64) *uint64 {
	if v == 0 {
		return nil
	}
	*dst = v
	return dst
}

// degrees points at *dst, set to m in degrees, or is nil with m (as
// Degrees).
func degrees(dst *float64, m *int64) *float64 {
	if m == nil {
		return nil
	}
	*dst = float64(*m) / 1e6
	return dst
}

// JSON returns the printable form of a view; withHistory adds the history.
// The pointer fields point at copies: changing them does not change v.
func (v *ReportView) JSON(withHistory bool) ReportJSON {
	f := new(jsonFields)
	j := ReportJSON{
		ID: v.ID.String(), Created: FormatTime(v.Created), Author: authorText(&v.Author), Sealed: v.Sealed,
		Status: v.Status, Conflict: v.Conflict, Retracted: v.Retracted, RetractReason: str(&f.retractReason, v.RetractReason),
		Amendments: v.Amendments, Flags: append([]string{}, v.Flags...), Attachments: []string{},
	}
	if !v.Sealed || v.Opened {
		r := &v.Report
		f.occurred, f.category, f.family, f.severity = FormatTime(r.Occurred), r.Category, FamilyOf(r.Category), r.Severity
		j.Category, j.Family, j.Severity, j.Occurred = &f.category, &f.family, &f.severity, &f.occurred
		j.Title, j.Description = str(&f.title, r.Title), str(&f.description, r.Description)
		j.Station, j.Area = str(&f.station, r.Station), str(&f.area, r.Area)
		j.Lat, j.Lon, j.Precision = degrees(&f.lat, r.Lat), degrees(&f.lon, r.Lon), nonZero(&f.precision, r.Precision)
		j.Channel, j.Harm, j.Reach, j.Source = str(&f.channel, r.Channel), str(&f.harm, r.Harm), nonZero(&f.reach, r.Reach), str(&f.source, r.Source)
		if len(r.Attachments) > 0 {
			j.Attachments = make([]string, len(r.Attachments))
			for i, h := range r.Attachments {
				var id ID
				copy(id[:], h)
				j.Attachments[i] = id.String()
			}
		}
	}
	if withHistory {
		j.History = v.History
	}
	return j
}

// authorTexts caches Author.String, whose base58 encoding costs more than
// the rest of a report's JSON: a mission has far fewer authors than
// reports. Direct-mapped on the key's first bytes, so bounded (1024
// entries), and safe for concurrent use.
var authorTexts [1024]atomic.Pointer[authorTextEntry]

type authorTextEntry struct {
	a Author
	s string
}

func authorText(a *Author) string {
	slot := &authorTexts[(int(a[0])|int(a[1])<<8)%len(authorTexts)]
	if e := slot.Load(); e != nil && e.a == *a {
		return e.s
	}
	s := a.String()
	slot.Store(&authorTextEntry{*a, s})
	return s
}

// MarshalJSON prints the event's time in RFC 3339.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	return jsonMarshal(struct {
		plain
		Time string `json:"time"`
	}{plain(e), FormatTime(e.Created)})
}
