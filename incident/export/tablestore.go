package export

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// TableFormats are the formats an observation table is written in.
var TableFormats = []string{"csv", "jsonl", "xlsx"}

// CheckTableRequest says why an export of an observation table (records,
// not RecordsReports) cannot be made as asked, or nil: the format is one
// of TableFormats (an evidence package holds every table, so it takes
// no --records), and the report-only filters and options are not set.
// The CLI, the desk and FromStore all ask it.
func CheckTableRequest(records, format string, f store.Filter, unverified bool) error {
	switch {
	case format == "evidence":
		return fmt.Errorf("an evidence package holds every table (and the reports): leave out --records %s", records)
	case format == "geojson" || format == "pdf":
		return fmt.Errorf("%s is not available for --records %s (csv, jsonl or xlsx)", format, records)
	case f.Category != "":
		return fmt.Errorf("a category selects reports, not %s", records)
	case f.Status != "":
		return fmt.Errorf("a review status selects reports, not %s", records)
	case unverified:
		return fmt.Errorf("--include-unverified selects reports, not %s", records)
	}
	return nil
}

// tablesFromStore writes one observation table (req.Records).
func tablesFromStore(st *store.Store, w io.Writer, req Request) (Result, error) {
	var res Result
	if err := CheckTableRequest(req.Records, req.Format, req.Filter, req.Unverified); err != nil {
		return res, err
	}
	if req.DiscloseKeys {
		return res, fmt.Errorf("keys are disclosed in evidence packages only")
	}
	ms, err := st.Mission()
	if err != nil {
		return res, err
	}
	o, err := LoadObservations(st, ObservationsRequest{Tallies: req.Records == RecordsTallies,
		Responses: req.Records == RecordsChecklists, Filter: tableFilter(req.Filter), Public: req.Public})
	if err != nil {
		return res, err
	}
	if req.Records == RecordsStations && req.Filter.Station != "" {
		o.keepStation(req.Filter.Station)
	}
	notice := ""
	res.Unopened = o.Unopened
	if req.Public {
		notice = o.PublicNotice()
		_, res.DroppedMisfit, res.DroppedUnconfirmed = o.PublicDropped()
	}
	if st.Practice() {
		notice = joinNotice(PracticeNotice, notice)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var n int
	switch req.Format {
	case "csv":
		n, err = o.WriteCSV(req.Records, bw, req.HXL, notice)
	case "jsonl":
		var deps []*incident.Signed
		if !req.Public {
			if deps, err = MissionRecords(st); err != nil {
				return res, err
			}
		}
		n, err = o.WriteJSONL(req.Records, bw, deps, notice, !req.Public)
	case "xlsx":
		xw := NewTablesXLSX(ms.Mission.Name)
		xw.MissionID, xw.Exported, xw.Filter, xw.Notice = ms.ID, req.Now, req.FilterText, notice
		if req.Public {
			xw.MissionID = incident.ID{}
		}
		xw.AddTables(o, []string{req.Records})
		n = o.count(req.Records)
		err = xw.Close(bw)
	}
	if err != nil {
		return res, err
	}
	o.tally(&res, req.Records, n)
	return res, bw.Flush()
}

func joinNotice(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

// keepStation keeps only the registry's station code in the stations
// table.
func (o *Observations) keepStation(code string) {
	code = incident.NormalizeCode(code)
	var kept []incident.StationView
	for _, sv := range o.stations {
		if sv.Station.Code == code {
			kept = append(kept, sv)
		}
	}
	o.stations = kept
}

// count is the number of rows table has.
func (o *Observations) count(table string) int {
	switch table {
	case RecordsStations:
		return len(o.stations)
	case RecordsTallies:
		return o.Tallies()
	case RecordsChecklists:
		return o.Responses()
	}
	return 0
}

// tally records in res that n rows of table were written.
func (o *Observations) tally(res *Result, table string, n int) {
	switch table {
	case RecordsStations:
		res.Stations = n
	case RecordsTallies:
		res.Tallies = n
	case RecordsChecklists:
		res.Responses = n
	}
}

// PublicNotice says what a public export of the observation tables
// removed and that it cannot be verified.
func (o *Observations) PublicNotice() string {
	sealed, misfit, unconfirmed := o.PublicDropped()
	return fmt.Sprintf("Anonymised public export of the observation tables. Left out: %d sealed tallies or checklist responses "+
		"this device cannot open, %d checklist responses that do not fit their form, %d records whose author's standing does not accept them. "+
		"Removed: record IDs, authors and observers' labels, when tallies were copied, free-text answers, station tags and the "+
		"quick-count sample; checklist times are rounded down to the hour. Tallies are one row per station and contest, from each "+
		"observer's latest tally, with no numbers where they disagree. This file carries no signatures and cannot be verified.",
		sealed, misfit, unconfirmed)
}

// evidenceTables writes the tables of an evidence package: stations.csv,
// tallies.csv and .jsonl, checklists.csv and .jsonl, each when the
// mission has rows for it. The JSON Lines carry no signed records: the
// package's records/ holds them, named by the IDs on each line.
func (o *Observations) evidenceTables(notice string, res *Result) ([]EvidenceFile, error) {
	var out []EvidenceFile
	for _, t := range []struct {
		table, format string
	}{{RecordsStations, "csv"}, {RecordsTallies, "csv"}, {RecordsTallies, "jsonl"}, {RecordsChecklists, "csv"}, {RecordsChecklists, "jsonl"}} {
		if !o.Has(t.table) {
			continue
		}
		var buf bytes.Buffer
		var n int
		var err error
		if t.format == "csv" {
			n, err = o.WriteCSV(t.table, &buf, false, notice)
		} else {
			n, err = o.WriteJSONL(t.table, &buf, nil, notice, false)
		}
		if err != nil {
			return nil, err
		}
		o.tally(res, t.table, n)
		out = append(out, EvidenceFile{Path: EvidenceTables + t.table + "." + t.format, Data: buf.Bytes()})
	}
	return out, nil
}
