package export

import (
	"bufio"
	"crypto/ecdh"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Formats are the export formats, as `vigil export --format` and the
// app's export dialog name them.
var Formats = []string{"csv", "jsonl", "geojson", "xlsx", "pdf", "evidence"}

// Request says what FromStore writes.
type Request struct {
	Format string
	// Records names the records exported: RecordsReports ("" too), or an
	// observation table (RecordsTallies, RecordsChecklists,
	// RecordsStations) in CSV, JSONL or XLSX. A reports workbook also
	// holds the observation tables the mission has rows for, and an
	// evidence package holds them all.
	Records string
	HXL     bool // csv: the Humanitarian Exchange Language row
	Public  bool // anonymised for publication (not with evidence)
	// Unverified (public exports) adds the reports no coordinator
	// verified or corroborated, marked by their status.
	Unverified bool
	Filter     store.Filter
	// FilterText describes Filter on XLSX and PDF covers ("" for none).
	FilterText string
	Now        time.Time
	// DiscloseKeys (evidence): carry the age file key of every sealed
	// record in the package that this device can open, and the opened
	// content of their files, so that a third party checks them. Whoever
	// holds the package then reads that content: off by default.
	DiscloseKeys bool
	// Progress, when set, is called after each report.
	Progress func(done, total int)
}

// tableFilter is the part of a report filter that selects tallies and
// responses: category and status are reports' own.
func tableFilter(f store.Filter) store.Filter {
	return store.Filter{Station: f.Station, Author: f.Author, Since: f.Since, Until: f.Until}
}

// Result says what FromStore wrote.
type Result struct {
	Reports           int // reports written
	SkippedNoLocation int // GeoJSON: reports without coordinates
	DroppedSealed     int // public exports: sealed reports this device cannot open, left out
	// DroppedUnverified, DroppedWithdrawn (public exports): reports no
	// coordinator verified or corroborated, and rejected or retracted ones.
	DroppedUnverified, DroppedWithdrawn int
	// Newer counts the records of kinds this build does not know that
	// the file carries (JSONL and evidence: a newer Vigil's records).
	Newer int
	// DroppedNewer (public exports): reports with fields a newer Vigil
	// added, and records of kinds this build does not know, left out.
	// What this build cannot read it cannot anonymise.
	DroppedNewer int
	// WithheldText (public exports): published reports whose free text
	// was left out, as no coordinator approved it for publication as it
	// stands; WithheldStation: approved, but naming a station the file
	// does not show.
	WithheldText, WithheldStation int
	// Evidence packages: Disclosed sealed records whose file key the
	// package carries (DiscloseKeys) and the opened files it carries
	// (OpenedFiles); Undisclosed sealed records it holds without their key
	// (this device cannot open them, or DiscloseKeys was not asked);
	// MissingFiles attachments that its records name and this device does
	// not hold.
	Disclosed, OpenedFiles, Undisclosed, MissingFiles int
	// The observation tables written (--records, a reports workbook's
	// sheets, an evidence package's tables): stations, tallies (in a
	// public export, station results) and checklist responses.
	Stations, Tallies, Responses int
	// Unopened counts the sealed tallies and responses this device cannot
	// open (in an evidence package, those whose key it does not
	// disclose): their rows show what the record shows in the clear, its
	// ID, author and time, and nothing else. A public export leaves
	// them out.
	Unopened int
	// DroppedMisfit (public exports): checklist responses left out as they
	// do not fit their form (or it is not held); DroppedUnconfirmed:
	// tallies and responses whose author's revocation does not accept
	// them.
	DroppedMisfit, DroppedUnconfirmed int
}

// PracticeNotice marks every export of a practice mission (vigil demo).
const PracticeNotice = "PRACTICE DATA: this export comes from a practice mission and describes no real election."

// FromStore writes the reports of st that req selects in req.Format:
// the one export path of the CLI and the app, so both write the same
// files (the same notices, the same signed records with JSONL and PDF, the
// same anonymisation).
func FromStore(st *store.Store, w io.Writer, req Request) (Result, error) {
	var res Result
	switch {
	case !slices.Contains(Formats, req.Format):
		return res, fmt.Errorf("%q is not an export format (want one of %s)", req.Format, strings.Join(Formats, ", "))
	case req.Public && req.Format == "evidence":
		return res, errors.New("an evidence package is verifiable by design; a public export cannot be")
	case req.HXL && req.Format != "csv":
		return res, errors.New("HXL hashtags go with CSV")
	case req.Records != "" && !slices.Contains(RecordSets, req.Records):
		return res, fmt.Errorf("%q is not a record set (want one of %s)", req.Records, strings.Join(RecordSets, ", "))
	}
	if req.Now.IsZero() {
		req.Now = st.Now()
	}
	if req.Records != "" && req.Records != RecordsReports {
		return tablesFromStore(st, w, req)
	}
	ms, err := st.Mission()
	if err != nil {
		return res, err
	}
	if req.Format == "csv" && !req.Public {
		if req.DiscloseKeys {
			return res, errors.New("keys are disclosed in evidence packages only")
		}
		notice := ""
		if st.Practice() {
			notice = PracticeNotice
		}
		return csvFromStore(st, ms, w, req, notice)
	}
	views, err := st.List(req.Filter)
	if err != nil {
		return res, err
	}
	newer, err := NewerRecords(st)
	if err != nil {
		return res, err
	}
	if req.Format == "evidence" {
		res, err = evidenceFromStore(st, ms, views, newer, w, req)
		res.Newer = len(newer)
		return res, err
	}
	if req.DiscloseKeys {
		return res, errors.New("keys are disclosed in evidence packages only")
	}
	var pub *Anonymizer
	notice := ""
	if req.Public {
		stations, err := StationRegistry(st)
		if err != nil {
			return res, err
		}
		pub = NewAnonymizer(views, PublicOptions{Private: ms.PrivateFields(), Unverified: req.Unverified, Stations: stations})
		pub.NewerRecords = len(newer)
		// The notice counts what was dropped, so judge every row first.
		rows := make([]*incident.ReportJSON, len(views))
		for i, v := range views {
			if j, ok := pub.Public(v); ok {
				rows[i] = &j
			}
		}
		notice = pub.Notice()
		res.DroppedSealed = pub.Dropped
		res.DroppedUnverified, res.DroppedWithdrawn = pub.DroppedUnverified, pub.DroppedWithdrawn
		res.DroppedNewer = pub.DroppedNewer + pub.NewerRecords
		res.WithheldText, res.WithheldStation = pub.WithheldText, pub.WithheldStation
		if st.Practice() {
			notice = PracticeNotice + " " + notice
		}
		return writeViews(st, ms, views, rows, nil, w, req, notice, res)
	}
	if st.Practice() {
		notice = PracticeNotice
	}
	return writeViews(st, ms, views, nil, newer, w, req, notice, res)
}

// NewerRecords returns the records of st of kinds this build does not
// know (a newer Vigil's), by kind name, each kind in store order.
func NewerRecords(st *store.Store) ([]*incident.Signed, error) {
	kinds, err := st.Kinds()
	if err != nil {
		return nil, err
	}
	var out []*incident.Signed
	for _, k := range kinds {
		if k.Known() {
			continue
		}
		recs, err := st.ByKind(k)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

// writeViews writes views (or, for a public export, their rows; a nil row
// is left out). JSONL also carries newer, the records of kinds this build
// does not know, after the mission records and the notice.
func writeViews(st *store.Store, ms *incident.MissionState, views []incident.ReportView, rows []*incident.ReportJSON, newer []*incident.Signed, w io.Writer, req Request, notice string, res Result) (Result, error) {
	public := rows != nil
	bw := bufio.NewWriterSize(w, 64<<10)
	var write func(*Item) error
	var finish func() error
	switch req.Format {
	case "csv":
		cw, err := NewNoticeCSV(bw, req.HXL, notice)
		if err != nil {
			return res, err
		}
		write, finish = cw.Write, cw.Close
	case "jsonl":
		var deps []*incident.Signed
		if !public {
			var err error
			if deps, err = MissionRecords(st); err != nil {
				return res, err
			}
		}
		jw, err := NewJSONL(bw, deps)
		if err != nil {
			return res, err
		}
		if notice != "" {
			if err := jw.Notice(notice); err != nil {
				return res, err
			}
		}
		for _, r := range newer {
			if err := jw.Newer(r); err != nil {
				return res, err
			}
		}
		res.Newer = len(newer)
		write, finish = jw.Write, func() error { return nil }
	case "geojson":
		gw, err := NewNoticeGeoJSON(bw, notice)
		if err != nil {
			return res, err
		}
		write = gw.Write
		finish = func() error { res.SkippedNoLocation = gw.Skipped; return gw.Close() }
	case "xlsx":
		xw := NewXLSX(ms.Mission.Name)
		xw.MissionID, xw.Exported, xw.Filter, xw.Notice = ms.ID, req.Now, req.FilterText, notice
		if public {
			xw.MissionID = incident.ID{} // the genesis ID is a record ID
		}
		// One workbook with everything: a coordinator who opens the
		// mission's spreadsheet expects the registry, the tallies and the
		// checklists beside the reports, each on its own sheets (the one
		// format that holds several tables in one file). A mission without
		// them gets the report sheets alone, as before. A public workbook
		// stays the reports alone: publishing the tables is an act of its
		// own (--records X --public), never a side effect of publishing
		// reports, and the two side by side let a reader line a report's
		// area and hour up with a station's rows.
		if !public {
			obs, err := LoadObservations(st, ObservationsRequest{Tallies: true, Responses: true, Filter: tableFilter(req.Filter)})
			if err != nil {
				return res, err
			}
			xw.AddTables(obs, []string{RecordsStations, RecordsTallies, RecordsChecklists})
			res.Unopened = obs.Unopened
			for _, t := range []string{RecordsStations, RecordsTallies, RecordsChecklists} {
				if obs.Has(t) {
					obs.tally(&res, t, obs.count(t))
				}
			}
		}
		write, finish = xw.Write, func() error { return xw.Close(bw) }
	case "pdf":
		pw := NewPDF(ms.Mission.Name)
		pw.MissionID, pw.Exported, pw.Filter, pw.Notice = ms.ID, req.Now, req.FilterText, notice
		if public {
			pw.MissionID = incident.ID{}
		}
		write, finish = pw.Write, func() error { return pw.Close(bw) }
	}
	labels := map[incident.Author]string{}
	if !public {
		for _, m := range ms.Members() {
			labels[m.Author] = m.Label
		}
	}
	for i := range views {
		it := Item{View: views[i]}
		if !public {
			it.Observer, it.ReviewNote = labels[views[i].Author], ReviewNoteOf(&views[i])
		}
		switch {
		case public:
			// No signed record, no QR code: nothing links back.
			if rows[i] == nil {
				continue
			}
			it.Public = rows[i]
		case req.Format == "jsonl" || req.Format == "pdf":
			// JSONL carries the signed records; the PDF prints the
			// report's record as a QR code.
			rec, err := st.Get(views[i].ID)
			if err != nil || rec == nil {
				return res, fmt.Errorf("report %s: %v", views[i].ID, err)
			}
			it.Record = rec.Raw
			if req.Format == "jsonl" {
				rel, err := st.Related(views[i].ID)
				if err != nil {
					return res, err
				}
				sort.Slice(rel, func(x, y int) bool { return incident.Before(rel[x], rel[y]) })
				for _, r := range rel {
					it.Related = append(it.Related, r.Raw)
				}
			}
		}
		if err := write(&it); err != nil {
			return res, err
		}
		res.Reports++
		if req.Progress != nil {
			req.Progress(i+1, len(views))
		}
	}
	if err := finish(); err != nil {
		return res, err
	}
	res.Reports -= res.SkippedNoLocation
	return res, bw.Flush()
}

// MissionRecords returns the records a reader needs to check reports: the
// genesis, configs, members and revocations, in that order.
func MissionRecords(st *store.Store) ([]*incident.Signed, error) {
	var out []*incident.Signed
	for _, k := range incident.MissionKinds {
		recs, err := st.ByKind(k)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

// evidenceFromStore writes an evidence package of views: each report with
// its amendments, retractions and reviews, the attachment records and
// files they name, every mission record that authorises an author, the
// records of kinds this build does not know (newer), and the checkpoints
// signed on this device with the lists they covered; with
// req.DiscloseKeys, the file keys of the sealed records this device opens
// and the opened content of their files.
func evidenceFromStore(st *store.Store, ms *incident.MissionState, views []incident.ReportView, newer []*incident.Signed, w io.Writer, req Request) (Result, error) {
	var res Result
	if role, _ := ms.Role(st.Author()); role != incident.RoleCoordinator {
		return res, errors.New("evidence packages are signed by a coordinator; this device is not one")
	}
	if len(ms.Revocations(st.Author())) > 0 {
		return res, errors.New("evidence packages are signed by a coordinator in good standing; this device's key was revoked")
	}
	ev := Evidence{Mission: ms, Signer: st.Signer(), Now: req.Now, Attachments: map[[32]byte][]byte{}}
	deps, err := MissionRecords(st)
	if err != nil {
		return res, err
	}
	ev.Records = append(ev.Records, deps...)
	// A newer Vigil's records go too: the package is the mission's whole
	// log as this device holds it, and verify checks their signatures
	// and membership.
	ev.Records = append(ev.Records, newer...)
	named := map[[32]byte]bool{} // attachments the package's records name
	name := func(hashes [][]byte) {
		for _, h := range hashes {
			if len(h) == 32 {
				named[[32]byte(h)] = true
			}
		}
	}
	// The observation tables' records: the registry in force, the forms,
	// the tallies and responses the filter selects (category and status
	// are reports' own), read once for the records and the tables.
	// Without disclosure no sealed content shows, so nothing need be
	// opened, unless a station filter selects by what only the opened
	// content says (the coordinator's selection; restrict hides it).
	obs, err := LoadObservations(st, ObservationsRequest{Tallies: true, Responses: true, Filter: tableFilter(req.Filter),
		Closed: !req.DiscloseKeys && req.Filter.Station == ""})
	if err != nil {
		return res, err
	}
	ev.Records = append(ev.Records, obs.Records()...)
	name(obs.photos())
	// A tally's photos' capture records go with it, as a report's go
	// with the report (its related records).
	for _, t := range obs.tallies {
		rel, err := st.Related(t.rec.ID)
		if err != nil {
			return res, err
		}
		for _, r := range rel {
			if r.Kind == incident.KindCapture {
				ev.Records = append(ev.Records, r)
			}
		}
	}
	for i, v := range views {
		rec, err := st.Get(v.ID)
		if err != nil || rec == nil {
			return res, fmt.Errorf("report %s: %v", v.ID, err)
		}
		rel, err := st.Related(v.ID)
		if err != nil {
			return res, err
		}
		ev.Records = append(ev.Records, rec)
		ev.Records = append(ev.Records, rel...)
		// The view is the report as this device reads it: a sealed one
		// opened here names its current files too.
		name(v.Report.Attachments)
		for _, r := range append([]*incident.Signed{rec}, rel...) {
			if len(r.Sealed) > 0 {
				continue
			}
			if rp := recordReport(r); rp != nil {
				name(rp.Attachments)
			}
		}
		if req.Progress != nil {
			req.Progress(i+1, len(views))
		}
	}
	if req.DiscloseKeys {
		disclose(st, &ev, name, &res)
	} else {
		seen := map[incident.ID]bool{}
		for _, r := range ev.Records {
			if len(r.Sealed) > 0 && !seen[r.ID] {
				seen[r.ID] = true
				res.Undisclosed++
			}
		}
	}
	for sum := range named {
		if data, err := st.Blob(sum); err == nil {
			ev.Attachments[sum] = data
		} else {
			res.MissingFiles++
		}
	}
	// Every attachment record of a named file goes, held or not: it is
	// what the author signed of the file (its size and chunk hashes).
	atts, err := st.ByKind(incident.KindAttachment)
	if err != nil {
		return res, err
	}
	for _, a := range atts {
		p, err := a.DecodePayload()
		if ap, ok := p.(*incident.AttachmentPayload); err == nil && ok && len(ap.Hash) == 32 && named[[32]byte(ap.Hash)] {
			ev.Records = append(ev.Records, a)
		}
	}
	cps, err := st.ByKind(incident.KindCheckpoint)
	if err != nil {
		return res, err
	}
	for _, cp := range cps {
		ev.Records = append(ev.Records, cp)
		if list, err := st.Covered(cp.ID); err == nil {
			ev.Checkpoints = append(ev.Checkpoints, CheckpointCover{Record: cp, Covered: list})
		}
	}
	// The tables show a sealed record's content only where the package
	// discloses its key: what the records do not let a third party
	// check, and what a package without disclosure must not reveal.
	obs.restrict(func(id incident.ID) bool { _, ok := ev.Keys[id]; return ok })
	notice := ""
	if st.Practice() {
		notice = PracticeNotice
	}
	if ev.Tables, err = obs.evidenceTables(notice, &res); err != nil {
		return res, err
	}
	res.Unopened = obs.Unopened
	if err := WriteEvidence(w, ev); err != nil {
		return res, err
	}
	res.Reports = len(views)
	return res, nil
}

// fileKeyOf is the key to disclose for sealed record r: its age file key
// (with the age identity), or for a record sealed for SMS its compact seal
// key (with the inbox keys).
func fileKeyOf(r *incident.Signed, id age.Identity, inbox []*ecdh.PrivateKey) ([]byte, any, error) {
	if !incident.IsCompactSeal(r.Sealed) {
		return incident.FileKeyOf(r, id)
	}
	for _, k := range inbox {
		if k == nil {
			continue
		}
		if key, p, err := incident.CompactKeyOf(r, k); err == nil {
			return key, p, nil
		}
	}
	return nil, nil, incident.ErrCannotOpen
}

// disclose adds to ev the file key of each sealed record this device's
// age identity opens, and the opened content of the files those records
// name (name is told each file a record names). A key is disclosed only
// when the body it opens passes incident.OpenPlain, as verify will check.
func disclose(st *store.Store, ev *Evidence, name func([][]byte), res *Result) {
	id := st.AgeIdentity()
	ev.Keys, ev.Plain = map[incident.ID][]byte{}, map[[32]byte]PlainFile{}
	seen := map[incident.ID]bool{}
	var inbox []*ecdh.PrivateKey // read at the first record sealed for SMS
	for _, r := range ev.Records {
		if len(r.Sealed) == 0 || seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		if id == nil {
			res.Undisclosed++
			continue
		}
		if incident.IsCompactSeal(r.Sealed) && inbox == nil {
			inbox = append(st.InboxKeys(), nil) // never nil again
		}
		key, p, err := fileKeyOf(r, id, inbox)
		if err != nil {
			// Sealed to coordinators before this device was one, or a
			// body this build cannot check.
			res.Undisclosed++
			continue
		}
		ev.Keys[r.ID] = key
		res.Disclosed++
		rp := payloadReport(p)
		if rp == nil {
			continue
		}
		name(rp.Attachments)
		for _, k := range rp.Files {
			if len(k.Cipher) != 32 || len(k.Hash) != 32 {
				continue
			}
			if _, done := ev.Plain[[32]byte(k.Hash)]; done {
				continue
			}
			ct, err := st.Blob([32]byte(k.Cipher))
			if err != nil {
				continue // not held here: counted as missing
			}
			plain, err := incident.OpenFile(ct, k)
			if err != nil {
				// The author's file is not what its report says: the
				// package carries the ciphertext and the key, and verify
				// says so; there is no opened copy to give.
				continue
			}
			ev.Plain[[32]byte(k.Hash)] = PlainFile{Data: plain, Mime: k.Mime}
			res.OpenedFiles++
		}
	}
}

// recordReport returns the report fields of an unsealed report or
// amendment, nil for anything else.
func recordReport(r *incident.Signed) *incident.ReportPayload {
	if r.Kind != incident.KindReport && r.Kind != incident.KindAmend {
		return nil
	}
	p, err := r.DecodePayload()
	if err != nil {
		return nil
	}
	return payloadReport(p)
}

// payloadReport returns the files part of a payload that names files:
// a report's, an amendment's, or a tally's photos as a report's files
// (TallyPayload.FileSet), nil for anything else.
func payloadReport(p any) *incident.ReportPayload {
	switch v := p.(type) {
	case *incident.ReportPayload:
		return v
	case *incident.AmendPayload:
		return &v.Report
	case *incident.TallyPayload:
		return v.FileSet()
	}
	return nil
}
