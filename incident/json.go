package incident

import (
	"encoding/json"
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

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func uintPtr(v uint64) *uint64 {
	if v == 0 {
		return nil
	}
	return &v
}

// JSON returns the printable form of a view; withHistory adds the history.
func (v *ReportView) JSON(withHistory bool) ReportJSON {
	r := v.Report
	j := ReportJSON{
		ID: v.ID.String(), Created: FormatTime(v.Created), Author: v.Author.String(), Sealed: v.Sealed,
		Status: v.Status, Conflict: v.Conflict, Retracted: v.Retracted, RetractReason: strPtr(v.RetractReason),
		Amendments: v.Amendments, Flags: append([]string{}, v.Flags...), Attachments: []string{},
	}
	if !v.Sealed || v.Opened {
		occ := FormatTime(r.Occurred)
		fam := FamilyOf(r.Category)
		sev := r.Severity
		j.Category, j.Family, j.Severity, j.Occurred = &r.Category, &fam, &sev, &occ
		j.Title, j.Description = strPtr(r.Title), strPtr(r.Description)
		j.Station, j.Area = strPtr(r.Station), strPtr(r.Area)
		j.Lat, j.Lon, j.Precision = Degrees(r.Lat), Degrees(r.Lon), uintPtr(r.Precision)
		j.Channel, j.Harm, j.Reach, j.Source = strPtr(r.Channel), strPtr(r.Harm), uintPtr(r.Reach), strPtr(r.Source)
		for _, h := range r.Attachments {
			var id ID
			copy(id[:], h)
			j.Attachments = append(j.Attachments, id.String())
		}
	}
	if withHistory {
		j.History = v.History
	}
	return j
}

// MarshalJSON prints the event's time in RFC 3339.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	return jsonMarshal(struct {
		plain
		Time string `json:"time"`
	}{plain(e), FormatTime(e.Created)})
}
