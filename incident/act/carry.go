package act

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Exports and bundles: the files a person carries away. The caller opens
// the file (its folder, its permissions) and hands the desk a writer or
// the bytes it read.

// ExportRequest is an export to write.
type ExportRequest struct {
	Format string `json:"format"` // csv, jsonl, geojson, xlsx, pdf or evidence
	// Records names what is exported: reports ("" too), or an observation
	// table (tallies, checklists, stations) in csv, jsonl or xlsx. A
	// reports workbook holds the tables too, and an evidence package
	// always does.
	Records string `json:"records,omitempty"`
	HXL     bool   `json:"hxl,omitempty"`
	Public  bool   `json:"public,omitempty"`
	// Unverified (public exports) adds the reports no coordinator
	// verified or corroborated, marked by their status.
	Unverified bool         `json:"unverified,omitempty"`
	Filter     store.Filter `json:"filter"`
	// Member, when set, keeps one member's reports: an author key, member
	// record ID or label (ResolveMember).
	Member string `json:"member,omitempty"`
	// FilterText describes the filters on XLSX and PDF covers.
	FilterText string `json:"filter_text,omitempty"`
	// DiscloseKeys (evidence packages): carry the file key of each sealed
	// record this device can open, and the opened files of sealed
	// reports, so that a third party checks their content. Whoever holds
	// the package then reads it all: off unless asked for.
	DiscloseKeys bool `json:"disclose_keys,omitempty"`
	// Progress, when set, is called after each report.
	Progress func(done, total int) `json:"-"`
}

// Exported is what Export wrote.
type Exported struct {
	export.Result
	Mission incident.ID `json:"mission"`
}

// Export writes the reports req selects to w in req.Format, on the
// store's clock. w is not closed.
func (d *Desk) Export(req ExportRequest, w io.Writer) (Exported, error) {
	ms, err := d.mission()
	if err != nil {
		return Exported{}, err
	}
	switch req.Format {
	case "csv", "jsonl", "geojson", "xlsx", "pdf", "evidence":
	default:
		return Exported{}, invalid("format", "%q is not a format (csv, jsonl, geojson, xlsx, pdf, evidence)", req.Format)
	}
	if req.Unverified && !req.Public {
		return Exported{}, invalid("unverified", "goes with a public export (a full export holds every report)")
	}
	if req.Public && req.Format == "evidence" {
		return Exported{}, invalid("public", "an evidence package is verifiable by design; a public export cannot be")
	}
	if req.DiscloseKeys && req.Format != "evidence" {
		return Exported{}, invalid("disclose_keys", "goes with an evidence package")
	}
	switch {
	case req.Records != "" && !slices.Contains(export.RecordSets, req.Records):
		return Exported{}, invalid("records", "%q is not a record set (%s)", req.Records, strings.Join(export.RecordSets, ", "))
	case req.Records != "" && req.Records != export.RecordsReports:
		if err := export.CheckTableRequest(req.Records, req.Format, req.Filter, req.Unverified); err != nil {
			return Exported{}, invalid("records", "%v", err)
		}
	}
	if req.Member != "" {
		if req.Filter.Author, err = d.resolveMember(ms, req.Member); err != nil {
			return Exported{}, err
		}
	}
	res, err := export.FromStore(d.st, w, export.Request{Format: req.Format, Records: req.Records, HXL: req.HXL, Public: req.Public, Unverified: req.Unverified,
		Filter: req.Filter, FilterText: req.FilterText, Now: d.now(), Progress: req.Progress, DiscloseKeys: req.DiscloseKeys})
	return Exported{Result: res, Mission: ms.ID}, classify(err)
}

// BundleRequest is a bundle of this device's records to write. It is
// encrypted for the mission's members (its current secret epoch and every
// member's key this device knows: members open it, nobody else) unless it
// asks for one other way: To (age recipients,
// age1…), Passphrase, ForCoordinators (to every coordinator whose key
// this device holds), or Plain (not encrypted).
type BundleRequest struct {
	Since           time.Time `json:"since"` // only records claimed at or after (mission records always go)
	To              []string  `json:"to,omitempty"`
	Passphrase      []byte    `json:"passphrase,omitempty"`
	ForCoordinators bool      `json:"for_coordinators,omitempty"`
	Plain           bool      `json:"plain,omitempty"`
	// MaxBytes bounds the file (before encryption); 0 is the largest
	// bundle a device imports. Records always go; attachment files go
	// while they fit, and those left out are counted.
	MaxBytes int64 `json:"max_bytes,omitempty"`
}

// Bundled is what ExportBundle wrote.
type Bundled struct {
	Records int         `json:"records"`
	Mission incident.ID `json:"mission"`
	// Files carried; LeftOut files (LeftOutBytes) did not fit MaxBytes;
	// Missing files are named by records but have not reached this
	// device.
	Files        int   `json:"files"`
	LeftOut      int   `json:"left_out"`
	LeftOutBytes int64 `json:"left_out_bytes"`
	Missing      int   `json:"missing"`
	// Encryption says who can open the file: members (the mission's),
	// recipients, passphrase, coordinators or none.
	Encryption string `json:"encryption"`
}

// ErrNoCoordinatorKey is the refusal to encrypt a bundle to coordinators
// when this device holds no coordinator's key yet.
var ErrNoCoordinatorKey = &Error{Code: Refused, Msg: "no coordinator of this mission has an encryption key on this device yet"}

// ExportBundle writes a bundle of this device's records, and the
// attachment files that fit, to w. w is not closed.
func (d *Desk) ExportBundle(req BundleRequest, w io.Writer) (Bundled, error) {
	ms, err := d.mission()
	if err != nil {
		return Bundled{}, err
	}
	ways := 0
	for _, set := range []bool{len(req.To) > 0, len(req.Passphrase) > 0, req.ForCoordinators, req.Plain} {
		if set {
			ways++
		}
	}
	if ways > 1 {
		return Bundled{}, invalid("to", "give recipients, a passphrase, the coordinators or no encryption, not several")
	}
	if req.MaxBytes < 0 {
		return Bundled{}, invalid("max_bytes", "must not be negative")
	}
	var recipients []age.Recipient
	enc := "none"
	for _, to := range req.To {
		r, err := age.ParseX25519Recipient(to)
		if err != nil {
			return Bundled{}, invalid("to", "%v", err)
		}
		recipients, enc = append(recipients, r), "recipients"
	}
	if len(req.Passphrase) > 0 {
		r, err := age.NewScryptRecipient(string(req.Passphrase))
		if err != nil {
			return Bundled{}, invalid("passphrase", "%v", err)
		}
		recipients, enc = append(recipients, r), "passphrase"
	}
	if req.ForCoordinators {
		// The coordinators' keys are those sealed reports go to.
		if recipients, err = ms.SealRecipients(); err != nil {
			return Bundled{}, ErrNoCoordinatorKey
		}
		enc = "coordinators"
	}
	var secrets []bundle.Secret
	if ways == 0 {
		m, err := bundle.ForMembers(d.st)
		if err != nil {
			return Bundled{}, classify(err)
		}
		recipients, secrets, enc = m.Recipients, m.Secrets, "members"
	}
	pick, err := bundle.Choose(d.st, req.Since, req.MaxBytes)
	if errors.Is(err, bundle.ErrOverBudget) {
		return Bundled{}, invalid("max_bytes", "%v", err)
	}
	if err != nil {
		return Bundled{}, classify(err)
	}
	if err := bundle.WritePick(w, d.st, ms.ID, d.now(), pick, secrets, recipients...); err != nil {
		return Bundled{}, classify(err)
	}
	return Bundled{Records: len(pick.Records), Mission: ms.ID, Files: len(pick.Files), LeftOut: pick.LeftOut,
		LeftOutBytes: pick.LeftOutBytes, Missing: pick.Missing, Encryption: enc}, nil
}

// ImportRequest is a bundle file to import.
type ImportRequest struct {
	Name string `json:"name"` // the file's name, for the quarantine and messages
	Data []byte `json:"-"`    // the file, read by the caller
	// File, when set, is the file instead of Data, of Size bytes: it is
	// read twice (checked whole, then imported in batches) and never held
	// in memory.
	File       io.ReaderAt `json:"-"`
	Size       int64       `json:"-"`
	Passphrase []byte      `json:"passphrase,omitempty"`
	// Progress, when set, is called after each record.
	Progress func(done, total int) `json:"-"`
}

// ImportBundle checks a bundle file's frame and mission, then stores its
// valid records. A damaged file, a file of another mission or one this
// device cannot open stores nothing: CannotOpen when a passphrase is
// needed (give it and try again).
func (d *Desk) ImportBundle(req ImportRequest) (bundle.Summary, error) {
	name, data, passphrase, progress := req.Name, req.Data, req.Passphrase, req.Progress
	var ids []age.Identity
	if len(passphrase) > 0 {
		id, err := age.NewScryptIdentity(string(passphrase))
		if err != nil {
			return bundle.Summary{}, invalid("passphrase", "%v", err)
		}
		// age writes work factor 18; a file asking for more would make
		// the import allocate gigabytes.
		id.SetMaxWorkFactor(18)
		ids = append(ids, id)
	}
	src, size := req.File, req.Size
	if src == nil {
		src, size = bytes.NewReader(data), int64(len(data))
	}
	sum, err := bundle.ImportFrom(d.st, name, src, size, ids, progress)
	switch {
	case errors.Is(err, bundle.ErrCannotOpen):
		return sum, &Error{Code: CannotOpen, Msg: err.Error(), Cause: err}
	case errors.Is(err, bundle.ErrOtherMission), errors.Is(err, bundle.ErrCorrupt), err != nil && size > bundle.MaxBytes:
		return sum, &Error{Code: BadFile, Msg: err.Error(), Cause: err}
	}
	return sum, classify(err)
}
