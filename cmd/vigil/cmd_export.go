package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/vigil-mesh/vigil/incident"
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
		author:   fs.String("author", "", "an author key"),
	}
}

func (c *cli) filter(f *reportFilterFlags) (store.Filter, error) {
	out := store.Filter{Category: *f.category, Station: *f.station, Status: *f.status}
	if *f.status != "" && *f.status != incident.StatusUnreviewed && !contains(incident.ReviewStatuses, *f.status) {
		return out, usagef("--status: %q is not a status (unreviewed, verified, corroborated, rejected, escalated)", *f.status)
	}
	if *f.since != "" {
		t, err := c.parseTime("since", *f.since)
		if err != nil {
			return out, err
		}
		out.Since = t
	}
	if *f.author != "" {
		a, err := incident.ParseAuthor(*f.author)
		if err != nil {
			return out, usagef("--author: %v", err)
		}
		out.Author = a
	}
	return out, nil
}

// itemWriter is what every export format implements.
type itemWriter interface {
	Write(*export.Item) error
}

func (c *cli) cmdExport(args []string) error {
	fs := newFlags("export")
	format := fs.String("format", "", "csv, jsonl or geojson (xlsx, pdf and evidence come with the protection work)")
	out := fs.String("out", "", "the file to write")
	public := fs.Bool("public", false, "anonymised export for publication")
	hxl := fs.Bool("hxl", false, "csv: add a Humanitarian Exchange Language hashtag row")
	ff := addFilterFlags(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("export: --out FILE is required")
	}
	switch *format {
	case "csv", "jsonl", "geojson":
	case "xlsx", "pdf", "evidence":
		return fmt.Errorf("--format %s is not in this build yet (csv, jsonl and geojson are); nothing was written", *format)
	case "":
		return usagef("export: --format is required (csv, jsonl or geojson)")
	default:
		return usagef("--format: %q is not a format (csv, jsonl, geojson, xlsx, pdf, evidence)", *format)
	}
	if *public {
		return errors.New("--public: anonymised exports are not in this build yet; nothing was written")
	}
	if *hxl && *format != "csv" {
		return usagef("--hxl goes with --format csv")
	}
	filter, err := c.filter(ff)
	if err != nil {
		return err
	}
	return c.withStore(func(s *store.Store) error {
		ms, err := s.Mission()
		if err != nil {
			return err
		}
		n, skipped := 0, 0
		err = writeAtomic(*out, func(f *os.File) error {
			var w itemWriter
			var closeFn func() error
			switch *format {
			case "csv":
				cw, err := export.NewCSV(f, *hxl)
				if err != nil {
					return err
				}
				w, closeFn = cw, cw.Close
			case "jsonl":
				deps, err := missionRecords(s)
				if err != nil {
					return err
				}
				jw, err := export.NewJSONL(f, deps)
				if err != nil {
					return err
				}
				w, closeFn = jw, func() error { return nil }
			case "geojson":
				gw, err := export.NewGeoJSON(f)
				if err != nil {
					return err
				}
				w = gw
				closeFn = func() error { skipped = gw.Skipped; return gw.Close() }
			}
			err := s.Scan(filter, func(v incident.ReportView) error {
				it := export.Item{View: v}
				if *format == "jsonl" {
					rec, err := s.Get(v.ID)
					if err != nil || rec == nil {
						return fmt.Errorf("report %s: %v", v.ID, err)
					}
					it.Record = rec.Raw
					rel, err := s.Related(v.ID)
					if err != nil {
						return err
					}
					for _, r := range sortedRecords(rel) {
						it.Related = append(it.Related, r.Raw)
					}
				}
				n++
				return w.Write(&it)
			})
			if err != nil {
				return err
			}
			return closeFn()
		})
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(map[string]any{"out": *out, "format": *format, "reports": n - skipped, "skipped_no_location": skipped, "mission": ms.ID.String()})
		}
		fmt.Fprintf(c.stderr, "Wrote %d reports to %s.\n", n-skipped, *out)
		if skipped > 0 {
			fmt.Fprintf(c.stderr, "Left out %d reports without coordinates (GeoJSON holds points only).\n", skipped)
		}
		return nil
	})
}

// missionRecords returns the records a reader needs to check reports: the
// genesis, configs, members and revocations, in that order.
func missionRecords(s *store.Store) ([]*incident.Signed, error) {
	var out []*incident.Signed
	for _, k := range []incident.Kind{incident.KindMission, incident.KindConfig, incident.KindMember, incident.KindRevoke} {
		recs, err := s.ByKind(k)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

func sortedRecords(recs []*incident.Signed) []*incident.Signed {
	out := append([]*incident.Signed(nil), recs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && incident.Before(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (c *cli) cmdVerify(args []string) error {
	fs := newFlags("verify")
	missionFlag := fs.String("mission", "", "the mission ID the file must belong to")
	qr := fs.String("qr", "", "verify the record in a QR code image")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *qr != "" {
		return errors.New("--qr: reading QR images is not in this build yet")
	}
	if len(pos) != 1 {
		return usagef("verify: want one FILE (a bundle or a JSONL export)")
	}
	var want *incident.ID
	if *missionFlag != "" {
		id, err := incident.ParseID(*missionFlag)
		if err != nil {
			return usagef("--mission: %v", err)
		}
		want = &id
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := export.Verify(f, want)
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
	if bad := rep.Bad(); bad > 0 {
		return fmt.Errorf("%d of %d items failed verification", bad, len(rep.Verdicts))
	}
	fmt.Fprintf(c.stderr, "All %d records verified.\n", len(rep.Verdicts))
	return nil
}
