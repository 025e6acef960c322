package main

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
)

// reportFilterFlags are the filters shared by report list and export.
type reportFilterFlags struct {
	category, station, since, status, author *string
}

func addFilterFlags(fs interface {
	String(name, value, usage string) *string
}) *reportFilterFlags {
	return &reportFilterFlags{
		category: fs.String("category", "", "a category code or a family (polling, registration, …)"),
		station:  fs.String("station", "", "polling station code"),
		since:    fs.String("since", "", "occurred at or after T"),
		status:   fs.String("status", "", "unreviewed, verified, corroborated, rejected or escalated"),
		author:   fs.String("author", "", "a member: author key, member record ID or label"),
	}
}

func (c *cli) filter(f *reportFilterFlags) (store.Filter, error) {
	// Codes as people type them: "ps 0042" finds PS-0042, as signed.
	out := store.Filter{Category: *f.category, Station: incident.NormalizeCode(*f.station), Status: *f.status}
	if *f.status != "" && *f.status != incident.StatusUnreviewed && !slices.Contains(incident.ReviewStatuses, *f.status) {
		return out, usagef("--status: %q is not a status (unreviewed, verified, corroborated, rejected, escalated)", *f.status)
	}
	if *f.since != "" {
		t, err := c.parseTime("since", *f.since)
		if err != nil {
			return out, err
		}
		out.Since = t
	}
	if strings.TrimSpace(*f.author) == "" && *f.author != "" {
		return out, usagef("--author: want an author key, a member record ID or a label")
	}
	// An author key is taken as is (a member this device has not heard
	// of yet has no reports here either); a label or member record ID is
	// looked up in the mission once the store is open (member).
	if a, err := incident.ParseAuthor(*f.author); err == nil {
		out.Author = a
	}
	return out, nil
}

// member completes f with the member --author names by label or member
// record ID.
func (f *reportFilterFlags) member(s *store.Store, out *store.Filter) error {
	if *f.author == "" || !out.Author.IsZero() {
		return nil
	}
	ms, err := s.Mission()
	if err != nil {
		return err
	}
	a, err := resolveMember(ms, *f.author)
	if err != nil {
		return fmt.Errorf("--author: %w", err)
	}
	out.Author = a
	return nil
}

func (c *cli) cmdExport(args []string) error {
	fs := newFlags("export")
	format := fs.String("format", "", "csv, jsonl, geojson, xlsx, pdf or evidence")
	records := fs.String("records", export.RecordsReports, "reports, tallies, checklists or stations (the tables: csv, jsonl or xlsx; a reports workbook and an evidence package hold them all)")
	out := fs.String("out", "", "the file to write")
	public := fs.Bool("public", false, "anonymised export for publication: verified and corroborated reports, no free text, no authors")
	unverified := fs.Bool("include-unverified", false, "public exports: add the reports no coordinator verified or corroborated, marked by their status")
	hxl := fs.Bool("hxl", false, "csv: add a Humanitarian Exchange Language hashtag row")
	disclose := fs.Bool("disclose-keys", false, "evidence: carry the key of each sealed record this device can open, and the opened files of sealed reports, so a third party checks their content; WHOEVER HOLDS THE PACKAGE CAN THEN READ THEM")
	ff := addFilterFlags(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("export: --out FILE is required")
	}
	switch *format {
	case "csv", "jsonl", "geojson", "xlsx", "pdf", "evidence":
	case "":
		return usagef("export: --format is required (csv, jsonl, geojson, xlsx, pdf or evidence)")
	default:
		return usagef("--format: %q is not a format (csv, jsonl, geojson, xlsx, pdf, evidence)", *format)
	}
	if *public && *format == "evidence" {
		return usagef("--public: an evidence package is verifiable by design; a public export cannot be")
	}
	if *unverified && !*public {
		return usagef("--include-unverified goes with --public (a full export holds every report)")
	}
	if *hxl && *format != "csv" {
		return usagef("--hxl goes with --format csv")
	}
	if *disclose && *format != "evidence" {
		return usagef("--disclose-keys goes with --format evidence")
	}
	if !slices.Contains(export.RecordSets, *records) {
		return usagef("--records: %q is not a record set (%s)", *records, strings.Join(export.RecordSets, ", "))
	}
	table := *records != export.RecordsReports
	filter, err := c.filter(ff)
	if err != nil {
		return err
	}
	if table {
		if err := export.CheckTableRequest(*records, *format, filter, *unverified); err != nil {
			return usagef("export: %v", err)
		}
	}
	req := act.ExportRequest{Format: *format, Records: *records, HXL: *hxl, Public: *public, Unverified: *unverified, Filter: filter, FilterText: describeFilter(ff), DiscloseKeys: *disclose}
	if filter.Author.IsZero() {
		req.Member = *ff.author
	}
	return c.withActions(func(a act.Actions) error {
		var res act.Exported
		err := writeAtomic(c.path(*out), func(f *os.File) error {
			var err error
			res, err = a.Export(req, f)
			return err
		})
		if err != nil {
			return err
		}
		if c.json {
			out := map[string]any{"out": *out, "format": *format, "records": *records, "reports": res.Reports,
				"tallies": res.Tallies, "responses": res.Responses, "stations": res.Stations, "unopened": res.Unopened,
				"skipped_no_location": res.SkippedNoLocation, "public": *public, "left_out_unverified": res.DroppedUnverified,
				"left_out_withdrawn": res.DroppedWithdrawn, "text_withheld": res.WithheldText,
				"text_withheld_station": res.WithheldStation,
				"needs_newer_vigil":     res.Newer, "dropped_newer": res.DroppedNewer}
			if !*public {
				out["mission"] = res.Mission.String()
			} else {
				out["left_out_misfit"], out["left_out_unconfirmed"] = res.DroppedMisfit, res.DroppedUnconfirmed
			}
			if *format == "evidence" {
				out["disclosed"], out["opened_files"], out["undisclosed"], out["missing_files"] = res.Disclosed, res.OpenedFiles, res.Undisclosed, res.MissingFiles
			}
			return c.printJSON(out)
		}
		if res.Newer > 0 {
			defer fmt.Fprintf(c.stderr, "It also holds %s of kinds this version cannot read: they need a newer Vigil; `vigil verify` checks their signatures and membership.\n", incident.Plural(res.Newer, "record"))
		}
		if *format == "evidence" {
			fmt.Fprintf(c.stderr, "Wrote an evidence package of %s%s to %s; `vigil verify %s` checks it offline.\n", incident.Plural(res.Reports, "report"), tablesNote(res.Result), *out, *out)
			if res.Disclosed > 0 {
				fmt.Fprintf(c.stderr, "It discloses the keys of %s and %s: whoever holds it can read them. Keep it as you would the reports themselves.\n",
					incident.Plural(res.Disclosed, "sealed record"), incident.Plural(res.OpenedFiles, "opened file"))
			}
			switch {
			case res.Undisclosed > 0 && *disclose:
				fmt.Fprintf(c.stderr, "%s this device cannot open %s without a key: verify checks their signatures, not their content.\n", incident.Plural(res.Undisclosed, "sealed record"), incident.Verb(res.Undisclosed, "goes", "go"))
			case res.Undisclosed > 0:
				fmt.Fprintf(c.stderr, "%s %s without a key: verify checks their signatures, not their content (--disclose-keys lets a third party check it, and read it).\n", incident.Plural(res.Undisclosed, "sealed record"), incident.Verb(res.Undisclosed, "goes", "go"))
			}
			if res.MissingFiles > 0 {
				fmt.Fprintf(c.stderr, "%s that reports name %s not on this device and %s not in the package.\n", incident.Plural(res.MissingFiles, "attached file"), incident.Verb(res.MissingFiles, "is", "are"), incident.Verb(res.MissingFiles, "is", "are"))
			}
			return nil
		}
		if table {
			return c.tablesWritten(*records, *out, *public, res.Result)
		}
		fmt.Fprintf(c.stderr, "Wrote %s%s to %s.\n", incident.Plural(res.Reports, "report"), tablesNote(res.Result), *out)
		if res.Unopened > 0 {
			fmt.Fprintf(c.stderr, "%s this device cannot open %s as sealed rows (their ID, author and time only).\n",
				incident.Plural(res.Unopened, "sealed tally or checklist response", "sealed tallies and checklist responses"), incident.Verb(res.Unopened, "goes", "go"))
		}
		if res.SkippedNoLocation > 0 {
			fmt.Fprintf(c.stderr, "Left out %s without coordinates (GeoJSON holds points only).\n", incident.Plural(res.SkippedNoLocation, "report"))
		}
		if res.DroppedUnverified > 0 {
			fmt.Fprintf(c.stderr, "Left out %s no coordinator verified or corroborated (--include-unverified adds them, marked).\n", incident.Plural(res.DroppedUnverified, "report"))
		}
		if res.DroppedWithdrawn > 0 {
			fmt.Fprintf(c.stderr, "Left out %s rejected or retracted.\n", incident.Plural(res.DroppedWithdrawn, "report"))
		}
		if res.DroppedSealed > 0 {
			fmt.Fprintf(c.stderr, "Left out %s this device cannot open.\n", incident.Plural(res.DroppedSealed, "sealed report"))
		}
		if res.WithheldText > 0 {
			fmt.Fprintf(c.stderr, "Withheld the text of %s no coordinator approved for publication as it stands (`vigil review ID --status S --publish`).\n", incident.Plural(res.WithheldText, "report"))
		}
		if res.WithheldStation > 0 {
			fmt.Fprintf(c.stderr, "Withheld the approved text of %s: it names a station this file does not show.\n", incident.Plural(res.WithheldStation, "report"))
		}
		if res.DroppedNewer > 0 {
			fmt.Fprintf(c.stderr, "Left out %s (reports or other records) that %s a newer Vigil (this version cannot judge them fit to publish).\n", incident.Plural(res.DroppedNewer, "record"), incident.Verb(res.DroppedNewer, "needs", "need"))
		}
		return nil
	})
}

// tablesNote names the observation tables an export holds beside the
// reports (a workbook's sheets, an evidence package's tables): "" for
// none.
func tablesNote(r export.Result) string {
	var parts []string
	if r.Stations > 0 {
		parts = append(parts, incident.Plural(r.Stations, "station"))
	}
	if r.Tallies > 0 {
		parts = append(parts, incident.Plural(r.Tallies, "tally", "tallies"))
	}
	if r.Responses > 0 {
		parts = append(parts, incident.Plural(r.Responses, "checklist response"))
	}
	if len(parts) == 0 {
		return ""
	}
	return ", with the tables of " + strings.Join(parts, ", ")
}

// tablesWritten tells what an export of one observation table wrote.
func (c *cli) tablesWritten(records, out string, public bool, r export.Result) error {
	var what string
	switch records {
	case export.RecordsStations:
		what = incident.Plural(r.Stations, "station")
	case export.RecordsTallies:
		what = incident.Plural(r.Tallies, "tally", "tallies")
		if public {
			what = incident.Plural(r.Tallies, "station result")
		}
	default:
		what = incident.Plural(r.Responses, "checklist response")
	}
	fmt.Fprintf(c.stderr, "Wrote %s to %s.\n", what, out)
	switch {
	case r.Unopened > 0 && public:
		fmt.Fprintf(c.stderr, "Left out %s this device cannot open.\n", incident.Plural(r.Unopened, "sealed record"))
	case r.Unopened > 0:
		fmt.Fprintf(c.stderr, "%s this device cannot open %s as sealed rows (their ID, author and time only).\n",
			incident.Plural(r.Unopened, "sealed record"), incident.Verb(r.Unopened, "goes", "go"))
	}
	if r.DroppedMisfit > 0 {
		fmt.Fprintf(c.stderr, "Left out %s that do not fit their form (or whose form this device does not hold).\n", incident.Plural(r.DroppedMisfit, "checklist response"))
	}
	if r.DroppedUnconfirmed > 0 {
		fmt.Fprintf(c.stderr, "Left out %s whose author's revocation does not accept them.\n", incident.Plural(r.DroppedUnconfirmed, "record"))
	}
	return nil
}

// describeFilter prints the filters an export applied, for the XLSX and
// PDF summaries; empty when there are none.
func describeFilter(f *reportFilterFlags) string {
	var parts []string
	for _, kv := range [][2]string{{"category", *f.category}, {"station", *f.station}, {"since", *f.since},
		{"status", *f.status}, {"author", *f.author}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, ", ")
}

func (c *cli) cmdVerify(args []string) error {
	fs := newFlags("verify")
	missionFlag := fs.String("mission", "", "the mission ID the file must belong to")
	qr := fs.String("qr", "", "verify the record in a QR code image (PNG or JPEG), as printed in a PDF export")
	missionFile := fs.String("mission-file", "", "with --qr: a bundle or JSONL export of the mission, to check the author's membership too")
	bundleFile := fs.String("bundle", "", "with --qr: the same as --mission-file")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	chain := *missionFile
	if *bundleFile != "" {
		if chain != "" && chain != *bundleFile {
			return usagef("verify: give --mission-file or --bundle, not both")
		}
		chain = *bundleFile
	}
	if *qr == "" && chain != "" {
		return usagef("verify: --mission-file and --bundle go with --qr")
	}
	var want *incident.ID
	if *missionFlag != "" {
		id, err := incident.ParseID(*missionFlag)
		if err != nil {
			return usagef("--mission: %v", err)
		}
		want = &id
	}
	if *qr != "" {
		if len(pos) != 0 {
			return usagef("verify: --qr IMAGE takes no FILE")
		}
		return c.verifyQR(*qr, want, chain)
	}
	if len(pos) != 1 {
		return usagef("verify: want one FILE (a bundle or a JSONL export) or --qr IMAGE")
	}
	data, err := readVerifyFile(c.path(pos[0]))
	if err != nil {
		return err
	}
	if err := checkVerifiable(pos[0], data); err != nil {
		return err
	}
	rep, err := export.Verify(bytes.NewReader(data), want)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	for _, v := range rep.Verdicts {
		if c.json {
			if err := c.printJSON(v); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintln(c.stdout, v)
	}
	if !rep.Mission.IsZero() {
		if want == nil {
			fmt.Fprintf(c.stderr, "Checked against the genesis in the file: mission %s (%q). Compare this ID with the one your mission published.\n", rep.Mission, rep.Name)
		} else {
			fmt.Fprintf(c.stderr, "Checked against mission %s (%q).\n", rep.Mission, rep.Name)
		}
	}
	newer := func() {
		if n := rep.Newer(); n > 0 {
			fmt.Fprintf(c.stderr, "%s %s what this version cannot read (a newer Vigil is needed): signatures and membership are checked, the rest is for a newer Vigil to check.\n", incident.Plural(n, "record"), incident.Verb(n, "holds", "hold"))
		}
	}
	// A record of a newer schema version could not be checked at all: it
	// fails the command (a script must not take the file as verified) but
	// is not called forged.
	bad, unchecked := rep.Bad(), rep.Unchecked()
	if bad > 0 {
		newer()
	}
	switch {
	case bad > 0 && bad == unchecked:
		return fmt.Errorf("%d of %s %s a newer Vigil to check; nothing was found forged", bad, incident.Plural(len(rep.Verdicts), "item"), incident.Verb(bad, "needs", "need"))
	case unchecked > 0:
		return fmt.Errorf("%d of %s failed verification, and %d more %s a newer Vigil to check", bad-unchecked, incident.Plural(len(rep.Verdicts), "item"), unchecked, incident.Verb(unchecked, "needs", "need"))
	case bad > 0:
		return fmt.Errorf("%d of %s failed verification", bad, incident.Plural(len(rep.Verdicts), "item"))
	}
	fmt.Fprintf(c.stderr, "%s verified.\n", allRecords(len(rep.Verdicts)))
	if n := rep.Opened(); n > 0 {
		fmt.Fprintf(c.stderr, "The content of %s was opened with the disclosed keys and checked, with their files.\n", incident.Plural(n, "sealed record"))
	}
	if n := rep.NotDisclosed(); n > 0 {
		fmt.Fprintf(c.stderr, "No key is disclosed for %s: signatures checked, content not.\n", incident.Plural(n, "sealed record"))
	}
	if n := rep.MissingFiles(); n > 0 {
		fmt.Fprintf(c.stderr, "%s that reports name %s not in the package, so %s content was not checked (listed above).\n", incident.Plural(n, "attached file"), incident.Verb(n, "is", "are"), incident.Verb(n, "its", "their"))
	}
	newer()
	return nil
}

// maxQRPixels bounds the images verify --qr decodes (a 12-megapixel phone
// photo is far below it), so a crafted file cannot exhaust memory.
const maxQRPixels = 100 << 20

// qrVerdict is verify --qr's answer for one code, as --json prints it.
type qrVerdict struct {
	export.Verdict
	Kind              *incident.Kind `json:"kind"`
	Created           *string        `json:"created"`
	Author            *string        `json:"author"`
	Mission           *string        `json:"mission"`
	MembershipChecked bool           `json:"membership_checked"`
}

// verifyQR checks every Vigil record QR code in the image at path: alone
// (signature and structure), or with chain (a bundle or JSONL export of
// the mission) also the author's membership.
func (c *cli) verifyQR(path string, want *incident.ID, chain string) error {
	img, err := readImage(c.path(path))
	if err != nil {
		return err
	}
	texts, err := export.ScanQR(img)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var chainData []byte
	if chain != "" {
		if chainData, err = os.ReadFile(c.path(chain)); err != nil {
			return err
		}
	}
	var out []qrVerdict
	var notRecord error
	var checked *export.Report
	for _, t := range texts {
		v, rec, err := export.VerifyQRText(t)
		if err != nil {
			notRecord = err
			continue
		}
		qv := qrVerdict{Verdict: v}
		if rec != nil {
			kind, created, author := rec.Kind, incident.FormatTime(rec.Created), rec.AuthorKey().String()
			mission := rec.ID
			if rec.Kind != incident.KindMission {
				copy(mission[:], rec.Mission)
			}
			ms := mission.String()
			qv.Kind, qv.Created, qv.Author, qv.Mission = &kind, &created, &author, &ms
			switch {
			case chainData != nil:
				v, rep, err := export.VerifyInMission(rec.Raw, bytes.NewReader(chainData), want)
				if err != nil {
					return fmt.Errorf("%s: %w", chain, err)
				}
				qv.Verdict, qv.MembershipChecked, checked = v, true, rep
			case want != nil && mission != *want:
				qv.OK, qv.Reason = false, fmt.Sprintf("record belongs to mission %s, not %s", mission, *want)
			}
		}
		out = append(out, qv)
	}
	if len(out) == 0 {
		return fmt.Errorf("%s: %w", path, notRecord)
	}
	bad := 0
	for _, qv := range out {
		if !qv.OK {
			bad++
		}
		if c.json {
			if err := c.printJSON(qv); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintln(c.stdout, qv.Verdict)
		if qv.Kind != nil {
			fmt.Fprintf(c.stderr, "  %s by %s, claimed %s, mission %s\n", *qv.Kind, *qv.Author, *qv.Created, *qv.Mission)
		}
	}
	switch {
	case checked != nil && !checked.Mission.IsZero():
		fmt.Fprintf(c.stderr, "Checked signatures and membership against mission %s (%q) from %s.\n", checked.Mission, checked.Name, chain)
	case chainData == nil:
		fmt.Fprintln(c.stderr, "Checked the signature and structure only: without the mission's records, the author's membership was not checked (add --mission-file FILE, a bundle or JSONL export of the mission).")
	}
	if bad > 0 {
		if len(out) == 1 {
			return errors.New("the QR code's record failed verification")
		}
		return fmt.Errorf("%d of %d QR codes failed verification", bad, len(out))
	}
	return nil
}

// readVerifyFile reads a file for verify, up to export.MaxVerifyBytes.
func readVerifyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, export.MaxVerifyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > export.MaxVerifyBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, export.MaxVerifyBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	return data, nil
}

// readImage decodes a PNG or JPEG file, refusing images too large to hold.
func readImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		head := make([]byte, 8)
		n, _ := f.ReadAt(head, 0)
		if bytes.HasPrefix(head[:n], []byte("%PDF-")) {
			return nil, fmt.Errorf("%s is a PDF: --qr takes a PNG or JPEG image of one QR code (a screenshot or a photo of the code in the PDF)", path)
		}
		return nil, fmt.Errorf("%s: not a PNG or JPEG image: %w", path, err)
	}
	if cfg.Width*cfg.Height > maxQRPixels {
		return nil, fmt.Errorf("%s: the image is %dx%d pixels, more than verify reads (%d megapixels)", path, cfg.Width, cfg.Height, maxQRPixels>>20)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// allRecords is "All 3 records", or "The 1 record" for one.
func allRecords(n int) string {
	if n == 1 {
		return "The 1 record"
	}
	return "All " + incident.Plural(n, "record")
}
