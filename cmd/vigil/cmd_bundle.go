package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

func (c *cli) cmdBundle(args []string) error {
	if len(args) == 0 {
		return usagef("bundle: want export or import")
	}
	switch args[0] {
	case "export":
		return c.bundleExport(args[1:])
	case "import":
		return c.bundleImport(args[1:])
	}
	return usagef("bundle: unknown subcommand %q (want export or import)", args[0])
}

func (c *cli) bundleExport(args []string) error {
	fs := newFlags("bundle export")
	out := fs.String("out", "", "the bundle file to write")
	since := fs.String("since", "", "only records claimed at or after T (mission and member records always go)")
	to := fs.String("to", "", "encrypt to this age recipient (age1…) instead of the mission's members")
	passFile := fs.String("passphrase-file", "", "encrypt with the passphrase in this file (given after `bundle export`) instead of the mission's members")
	plain := fs.Bool("plain", false, "do not encrypt: whoever finds the stick reads the mission's records (and, unsealed, their text)")
	maxSize := fs.String("max-size", "", "the largest file to write, e.g. 50MB: records always go, attachment files while they fit")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("bundle export: --out FILE is required")
	}
	set := 0
	for _, b := range []bool{*to != "", *passFile != "", *plain} {
		if b {
			set++
		}
	}
	if set > 1 {
		return usagef("bundle export: give one of --to, --passphrase-file and --plain")
	}
	req := act.BundleRequest{Plain: *plain}
	if *maxSize != "" {
		n, err := incident.ParseSize(*maxSize)
		if err != nil {
			return usagef("--max-size: %v", err)
		}
		req.MaxBytes = int64(n)
	}
	switch {
	case *to != "":
		if _, err := age.ParseX25519Recipient(*to); err != nil {
			return usagef("--to: %v", err)
		}
		req.To = []string{*to}
	case *passFile != "":
		p, err := readSecretFile(c.path(*passFile))
		if err != nil {
			return err
		}
		if err := checkNewPassphrase("the bundle passphrase in "+*passFile, p, "no bundle was written"); err != nil {
			return err
		}
		req.Passphrase = p
	}
	if *since != "" {
		t, err := c.parseTime("since", *since)
		if err != nil {
			return err
		}
		req.Since = t
	}
	return c.withActions(func(a act.Actions) error {
		var res act.Bundled
		if err := writeAtomic(c.path(*out), func(f *os.File) error {
			var err error
			res, err = a.ExportBundle(req, f)
			return err
		}); err != nil {
			return err
		}
		if c.json {
			return c.printJSON(map[string]any{"out": *out, "records": res.Records, "mission": res.Mission.String(),
				"files": res.Files, "left_out": res.LeftOut, "left_out_bytes": res.LeftOutBytes, "missing": res.Missing,
				"encryption": res.Encryption})
		}
		fmt.Fprintf(c.stderr, "Wrote %s and %s to %s, %s.\n", incident.Plural(res.Records, "record"),
			incident.Plural(res.Files, "attachment file"), *out, encryptionWords[res.Encryption])
		if res.LeftOut > 0 {
			fmt.Fprintf(c.stderr, "Left out %s (%d bytes) that did not fit --max-size: they still travel over the mesh, or in a larger bundle.\n",
				incident.Plural(res.LeftOut, "attachment file"), res.LeftOutBytes)
		}
		if res.Missing > 0 {
			fmt.Fprintf(c.stderr, "%s named by these records %s not reached this device yet.\n",
				incident.Plural(res.Missing, "attachment file"), incident.Verb(res.Missing, "has", "have"))
		}
		return nil
	})
}

// encryptionWords says who can open a bundle.
var encryptionWords = map[string]string{
	"members":      "encrypted for the mission's members (any member's device imports it; nobody else can read it)",
	"recipients":   "encrypted to the recipient given",
	"passphrase":   "encrypted with the passphrase",
	"coordinators": "encrypted to the mission's coordinators",
	"none":         "NOT encrypted: whoever finds it reads the records it carries",
}

// writeAtomic writes path through a synced temporary file and a rename, so
// a pulled USB stick never holds half a bundle under the real name.
func writeAtomic(path string, fill func(f *os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

type importSummary struct {
	File        string `json:"file"`
	Records     int    `json:"records"`
	Accepted    int    `json:"accepted"`
	Duplicate   int    `json:"duplicate"`
	Quarantined int    `json:"quarantined"`
	Rejected    int    `json:"rejected"`
	Released    int    `json:"released"` // earlier-waiting records these let in
	// NeedsNewer: accepted records that need a newer Vigil to read whole
	// (stored and passed on like the others).
	NeedsNewer int            `json:"needs_newer_vigil"`
	Rejections []rejectionOut `json:"rejections"`
	// Files the bundle carried, and what became of them.
	Files        int `json:"files"`
	FilesStored  int `json:"files_stored"`
	FilesHeld    int `json:"files_held"`
	FilesIgnored int `json:"files_ignored"`
}

type rejectionOut struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

func (c *cli) bundleImport(args []string) error {
	fs := newFlags("bundle import")
	passFile := fs.String("passphrase-file", "", "the passphrase of a passphrase-encrypted bundle (given after `bundle import`)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("bundle import: want one FILE")
	}
	// The file is read where it lies, twice (checked whole, then imported
	// in batches), never into memory whole.
	f, err := os.Open(c.path(pos[0]))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	req := act.ImportRequest{Name: filepath.Base(pos[0]), File: f, Size: st.Size()}
	if *passFile != "" {
		if req.Passphrase, err = readSecretFile(c.path(*passFile)); err != nil {
			return err
		}
	}
	return c.withActions(func(a act.Actions) error {
		res, err := a.ImportBundle(req)
		if errors.Is(err, act.CannotOpen) && *passFile == "" {
			return fmt.Errorf("%w; give --passphrase-file after `bundle import` for a passphrase bundle; nothing was stored", err)
		}
		if err != nil {
			return fmt.Errorf("%w; nothing was stored", err)
		}
		sum := importSummary{File: pos[0], Records: res.Records, Accepted: res.Accepted, Duplicate: res.Duplicate,
			Quarantined: res.Quarantined, Rejected: res.Rejected, Released: res.Released, NeedsNewer: res.Newer, Rejections: []rejectionOut{},
			Files: res.Files, FilesStored: res.FilesStored, FilesHeld: res.FilesHeld, FilesIgnored: res.FilesIgnored}
		for _, r := range res.Rejections {
			sum.Rejections = append(sum.Rejections, rejectionOut{ID: r.ID.String(), Reason: r.Err.Error()})
		}
		if c.json {
			if err := c.printJSON(sum); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(c.stdout, "accepted %d, duplicate %d, quarantined %d, rejected %d\n",
				sum.Accepted, sum.Duplicate, sum.Quarantined, sum.Rejected)
			if res.Files > 0 {
				fmt.Fprintf(c.stdout, "attachment files: stored %d, held already %d, set aside %d (no record here names them, or the attachment budget is spent)\n",
					res.FilesStored, res.FilesHeld, res.FilesIgnored)
			}
			if sum.Released > 0 {
				fmt.Fprintf(c.stdout, "released %s that %s waiting for these\n", incident.Plural(sum.Released, "record"), incident.Verb(sum.Released, "was", "were"))
			}
			if sum.NeedsNewer > 0 {
				fmt.Fprintf(c.stdout, "%d of the accepted need a newer Vigil to read whole: stored, and passed on to other devices\n", sum.NeedsNewer)
			}
			for _, r := range sum.Rejections {
				fmt.Fprintf(c.stderr, "rejected %s: %s\n", r.ID, strings.ReplaceAll(r.Reason, "\n", " "))
			}
		}
		if sum.Rejected > 0 {
			return &partialError{fmt.Sprintf("%d of %s %s rejected; the valid ones are stored", sum.Rejected, incident.Plural(sum.Records, "record"), incident.Verb(sum.Rejected, "was", "were"))}
		}
		return nil
	})
}
