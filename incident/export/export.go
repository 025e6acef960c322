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
// print it.
type Column struct {
	Name string
	HXL  string
	get  func(j *incident.ReportJSON) string
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
	{"id", "#meta+id", func(j *incident.ReportJSON) string { return j.ID }},
	{"occurred", "#date+occurred", func(j *incident.ReportJSON) string { return str(j.Occurred) }},
	{"created", "#date+reported", func(j *incident.ReportJSON) string { return j.Created }},
	{"category", "#event+type+code", func(j *incident.ReportJSON) string { return str(j.Category) }},
	{"family", "#event+type+family", func(j *incident.ReportJSON) string { return str(j.Family) }},
	{"severity", "#severity", func(j *incident.ReportJSON) string { return num(j.Severity) }},
	{"title", "#description+title", func(j *incident.ReportJSON) string { return str(j.Title) }},
	{"description", "#description", func(j *incident.ReportJSON) string { return str(j.Description) }},
	{"station", "#loc+code", func(j *incident.ReportJSON) string { return str(j.Station) }},
	{"area", "#adm1+name", func(j *incident.ReportJSON) string { return str(j.Area) }},
	{"lat", "#geo+lat", func(j *incident.ReportJSON) string { return deg(j.Lat) }},
	{"lon", "#geo+lon", func(j *incident.ReportJSON) string { return deg(j.Lon) }},
	{"precision_m", "#geo+precision", func(j *incident.ReportJSON) string { return num(j.Precision) }},
	{"channel", "#channel", func(j *incident.ReportJSON) string { return str(j.Channel) }},
	{"harm", "#severity+harm", func(j *incident.ReportJSON) string { return str(j.Harm) }},
	{"reach", "#reached", func(j *incident.ReportJSON) string { return num(j.Reach) }},
	{"source", "#meta+source", func(j *incident.ReportJSON) string { return str(j.Source) }},
	{"status", "#status+review", func(j *incident.ReportJSON) string { return j.Status }},
	{"conflict", "#status+conflict", func(j *incident.ReportJSON) string { return strconv.FormatBool(j.Conflict) }},
	{"retracted", "#status+retracted", func(j *incident.ReportJSON) string { return strconv.FormatBool(j.Retracted) }},
	{"retract_reason", "#description+retraction", func(j *incident.ReportJSON) string { return str(j.RetractReason) }},
	{"amendments", "#meta+amendments", func(j *incident.ReportJSON) string { return strconv.Itoa(j.Amendments) }},
	{"flags", "#meta+flags", func(j *incident.ReportJSON) string { return strings.Join(j.Flags, ";") }},
	{"sealed", "#meta+sealed", func(j *incident.ReportJSON) string { return strconv.FormatBool(j.Sealed) }},
	{"author", "#meta+author", func(j *incident.ReportJSON) string { return j.Author }},
	{"attachments", "#meta+attachments", func(j *incident.ReportJSON) string { return strings.Join(j.Attachments, ";") }},
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
		Record  string   `json:"record"`
		Related []string `json:"related"`
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
	line := ReportLine{Kind: string(incident.KindReport), ReportJSON: it.View.JSON(false), Record: b64(it.Record), Related: []string{}}
	for _, r := range it.Related {
		line.Related = append(line.Related, b64(r))
	}
	return jw.enc.Encode(line)
}
