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
	to := fs.String("to", "", "encrypt to this age recipient (age1…)")
	passFile := fs.String("passphrase-file", "", "encrypt with the passphrase in this file (given after `bundle export`)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("bundle export: --out FILE is required")
	}
	if *to != "" && *passFile != "" {
		return usagef("bundle export: give --to or --passphrase-file, not both")
	}
	var req act.BundleRequest
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
			return c.printJSON(map[string]any{"out": *out, "records": res.Records, "mission": res.Mission.String()})
		}
		fmt.Fprintf(c.stderr, "Wrote %s to %s.\n", incident.Plural(res.Records, "record"), *out)
		return nil
	})
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
	data, err := os.ReadFile(c.path(pos[0]))
	if err != nil {
		return err
	}
	req := act.ImportRequest{Name: filepath.Base(pos[0]), Data: data}
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
			Quarantined: res.Quarantined, Rejected: res.Rejected, Released: res.Released, NeedsNewer: res.Newer, Rejections: []rejectionOut{}}
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
