// Package export writes a mission's reports in the formats analysts and
// partners open: CSV (RFC 4180, optionally with an HXL hashtag row), JSON
// Lines with the signed records, and GeoJSON (RFC 7946). It also verifies
// files offline (verify.go). JSON Lines go through encoding/json. The CSV
// and GeoJSON writers print their bytes themselves, exactly as
// encoding/csv and encoding/json would (their tests compare the two, and
// golden files pin the output): exports of large missions spend their time
// there, and the standard encoders need a string per field or a map and
// reflection per report.
package export

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
)

// Item is one report to export: its view and the signed records behind it
// (the report, then its amendments, retractions and reviews).
type Item struct {
	View    incident.ReportView
	Record  []byte
	Related [][]byte
	// Public, when set, is the anonymised row to write instead of the
	// view (and no signed records go with it).
	Public *incident.ReportJSON
	// Observer is the label the mission gave the report's author (its
	// member record), and ReviewNote the note of the verdict standing
	// now (ReviewNoteOf). Both are empty in a public export: a label
	// names an observer, and a review note is a coordinator's working
	// text that no review approves for publication.
	Observer   string
	ReviewNote string
}

// ReviewNoteOf is the note of the review standing now: the head review's,
// or, when coordinators disagree, each head review's note in the order
// they were made, one a line.
func ReviewNoteOf(v *incident.ReportView) string {
	var notes []string
	for _, e := range v.History {
		if e.Kind == incident.KindReview && e.Head && e.Note != "" {
			notes = append(notes, e.Note)
		}
	}
	return strings.Join(notes, "\n")
}

// Row is the printable form the writers use. The CSV writer prints the
// same columns from the view itself (CSVWriter).
func (it *Item) Row() incident.ReportJSON {
	if it.Public != nil {
		return *it.Public
	}
	return it.View.JSON(false)
}

// Column is one CSV column: a stable name, its HXL hashtag and how to
// print it: from the report's printable form (get), or, for what the
// mission knows beside the report, from the item (item).
type Column struct {
	Name string
	HXL  string
	get  func(j *incident.ReportJSON) string
	item func(it *Item) string
}

// value is the column's text for it, whose printable form is j.
func (c *Column) value(it *Item, j *incident.ReportJSON) string {
	if c.item != nil {
		return c.item(it)
	}
	return c.get(j)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func num(p *uint64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatUint(*p, 10)
}

func deg(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// Columns are the CSV columns, in order. Names are stable: tools depend
// on them.
var Columns = []Column{
	{"id", "#meta+id", func(j *incident.ReportJSON) string { return j.ID }, nil},
	{"occurred", "#date+occurred", func(j *incident.ReportJSON) string { return str(j.Occurred) }, nil},
	{"created", "#date+reported", func(j *incident.ReportJSON) string { return j.Created }, nil},
	{"category", "#event+type+code", func(j *incident.ReportJSON) string { return str(j.Category) }, nil},
	{"family", "#event+type+family", func(j *incident.ReportJSON) string { return str(j.Family) }, nil},
	{"severity", "#severity", func(j *incident.ReportJSON) string { return num(j.Severity) }, nil},
	{"title", "#description+title", func(j *incident.ReportJSON) string { return str(j.Title) }, nil},
	{"description", "#description", func(j *incident.ReportJSON) string { return str(j.Description) }, nil},
	{"station", "#loc+code", func(j *incident.ReportJSON) string { return str(j.Station) }, nil},
	{"area", "#adm1+name", func(j *incident.ReportJSON) string { return str(j.Area) }, nil},
	{"lat", "#geo+lat", func(j *incident.ReportJSON) string { return deg(j.Lat) }, nil},
	{"lon", "#geo+lon", func(j *incident.ReportJSON) string { return deg(j.Lon) }, nil},
	{"precision_m", "#geo+precision", func(j *incident.ReportJSON) string { return num(j.Precision) }, nil},
	{"channel", "#channel", func(j *incident.ReportJSON) string { return str(j.Channel) }, nil},
	{"harm", "#severity+harm", func(j *incident.ReportJSON) string { return str(j.Harm) }, nil},
	{"reach", "#reached", func(j *incident.ReportJSON) string { return num(j.Reach) }, nil},
	{"source", "#meta+source", func(j *incident.ReportJSON) string { return str(j.Source) }, nil},
	{"status", "#status+review", func(j *incident.ReportJSON) string { return j.Status }, nil},
	{"conflict", "#status+conflict", func(j *incident.ReportJSON) string { return strconv.FormatBool(j.Conflict) }, nil},
	{"retracted", "#status+retracted", func(j *incident.ReportJSON) string { return strconv.FormatBool(j.Retracted) }, nil},
	{"retract_reason", "#description+retraction", func(j *incident.ReportJSON) string { return str(j.RetractReason) }, nil},
	{"amendments", "#meta+amendments", func(j *incident.ReportJSON) string { return strconv.Itoa(j.Amendments) }, nil},
	{"flags", "#meta+flags", func(j *incident.ReportJSON) string { return strings.Join(j.Flags, ";") }, nil},
	{"sealed", "#meta+sealed", func(j *incident.ReportJSON) string { return strconv.FormatBool(j.Sealed) }, nil},
	{"author", "#meta+author", func(j *incident.ReportJSON) string { return j.Author }, nil},
	{"attachments", "#meta+attachments", func(j *incident.ReportJSON) string { return strings.Join(j.Attachments, ";") }, nil},
	// Added after the first columns, so tools that read by position still
	// read those.
	{"observer", "#contributor+name", nil, func(it *Item) string { return it.Observer }},
	{"review_note", "#description+review", nil, func(it *Item) string { return it.ReviewNote }},
}

// JSONL lines. The mission records come first, one per line, then the
// records of kinds this build does not know (a newer Vigil's: part of the
// mission's log, carried so the file is complete), then one line per
// report with its decoded fields, its signed record and the signed
// records that shape its current view.
type (
	// DepLine is a mission record a reader needs to check the reports.
	DepLine struct {
		Kind   incident.Kind `json:"kind"`
		ID     string        `json:"id"`
		Record string        `json:"record"`
	}
	// ReportLine is one report.
	ReportLine struct {
		Kind string `json:"kind"`
		incident.ReportJSON
		// Observer and ReviewNote: Item's, absent when empty.
		Observer   string   `json:"observer,omitempty"`
		ReviewNote string   `json:"review_note,omitempty"`
		Record     string   `json:"record"`
		Related    []string `json:"related"`
	}
	// NewerLine is a record of a kind this build does not know: what
	// every record shows in the clear, what this build cannot read
	// (Signed.Newer) and the signed record. NeedsNewerVigil is always
	// true; readers tell these lines from the others by it.
	NewerLine struct {
		Kind            incident.Kind `json:"kind"`
		ID              string        `json:"id"`
		Author          string        `json:"author"`
		Created         string        `json:"created"`
		NeedsNewerVigil bool          `json:"needs_newer_vigil"`
		Newer           []string      `json:"newer"`
		Record          string        `json:"record"`
	}
)

// JSONLWriter writes a JSON Lines export.
type JSONLWriter struct{ enc *json.Encoder }

// NewJSONL writes deps (mission, config, member, revoke records, in that
// order) first.
func NewJSONL(w io.Writer, deps []*incident.Signed) (*JSONLWriter, error) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, d := range deps {
		if err := enc.Encode(DepLine{Kind: d.Kind, ID: d.ID.String(), Record: b64(d.Raw)}); err != nil {
			return nil, err
		}
	}
	return &JSONLWriter{enc: enc}, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// Notice writes a {"kind":"notice","text":…} line (public exports).
func (jw *JSONLWriter) Notice(text string) error {
	return jw.enc.Encode(map[string]string{"kind": "notice", "text": text})
}

// Newer writes the line of a record this build cannot read (Newer: a kind
// it does not know). Call it after NewJSONL and before the reports.
func (jw *JSONLWriter) Newer(rec *incident.Signed) error {
	return jw.enc.Encode(NewerLine{Kind: rec.Kind, ID: rec.ID.String(), Author: rec.AuthorKey().String(),
		Created: incident.FormatTime(rec.Created), NeedsNewerVigil: true, Newer: rec.Newer(), Record: b64(rec.Raw)})
}

// Write adds one report line.
func (jw *JSONLWriter) Write(it *Item) error {
	if it.Public != nil {
		return jw.enc.Encode(struct {
			Kind string `json:"kind"`
			incident.ReportJSON
		}{"report", *it.Public})
	}
	line := ReportLine{Kind: string(incident.KindReport), ReportJSON: it.View.JSON(false), Record: b64(it.Record), Related: []string{},
		Observer: it.Observer, ReviewNote: it.ReviewNote}
	for _, r := range it.Related {
		line.Related = append(line.Related, b64(r))
	}
	return jw.enc.Encode(line)
}
