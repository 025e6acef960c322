package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

func (c *cli) cmdReport(args []string) error {
	if len(args) == 0 {
		return usagef("report: want add, list, show, amend or retract")
	}
	switch args[0] {
	case "add":
		return c.reportAdd(args[1:])
	case "list":
		return c.reportList(args[1:])
	case "show":
		return c.reportShow(args[1:])
	case "amend":
		return c.reportAmend(args[1:])
	case "retract":
		return c.reportRetract(args[1:])
	}
	return usagef("report: unknown subcommand %q (want add, list, show, amend or retract)", args[0])
}

// reportFlags are the flags of report add and report amend.
type reportFlags struct {
	fs                                *flag.FlagSet
	category, title, description      *string
	station, area, lat, lon, occurred *string
	channel, harm, source             *string
	severity, precision               *uint64
	reach                             *uint64
	sealed                            *bool
	attach                            multi
}

func newReportFlags(name string) *reportFlags {
	fs := newFlags(name)
	f := &reportFlags{fs: fs}
	f.category = fs.String("category", "", "category code, e.g. polling.late_opening (`vigil report add --help` lists them)")
	f.severity = fs.Uint64("severity", 0, "1 (minor) to 4 (critical)")
	f.title = fs.String("title", "", "one line saying what happened")
	f.description = fs.String("description", "", "what you saw, in your words")
	f.station = fs.String("station", "", "polling station code, e.g. PS-0042")
	f.area = fs.String("area", "", "administrative area")
	f.lat = fs.String("lat", "", "latitude in decimal degrees")
	f.lon = fs.String("lon", "", "longitude in decimal degrees")
	f.precision = fs.Uint64("precision", 0, "how precise the location is, in metres")
	f.occurred = fs.String("occurred", "", "when it happened: RFC 3339 or a duration back from now (default now)")
	f.channel = fs.String("channel", "", "disinformation: "+strings.Join(incident.Channels, ", "))
	f.harm = fs.String("harm", "", "disinformation: low, medium, high or critical")
	f.reach = fs.Uint64("reach", 0, "disinformation: estimated number of people reached")
	f.source = fs.String("source", "", "disinformation: where it came from (account, number, outlet)")
	f.sealed = fs.Bool("sealed", false, "encrypt the report to the mission's coordinators")
	fs.Var(&f.attach, "attach", "attach a file (photo, audio, document); repeatable")
	return f
}

// apply overlays the flags given on base.
func (f *reportFlags) apply(c *cli, base incident.ReportPayload) (incident.ReportPayload, error) {
	set := setFlags(f.fs)
	r := base
	if err := checkUTF8(map[string]string{"title": *f.title, "description": *f.description, "station": *f.station,
		"area": *f.area, "source": *f.source, "category": *f.category}); err != nil {
		return r, err
	}
	str := map[string]*string{"category": &r.Category, "title": &r.Title, "description": &r.Description,
		"station": &r.Station, "area": &r.Area, "channel": &r.Channel, "harm": &r.Harm, "source": &r.Source}
	val := map[string]string{"category": *f.category, "title": *f.title, "description": *f.description,
		"station": *f.station, "area": *f.area, "channel": *f.channel, "harm": *f.harm, "source": *f.source}
	for name, dst := range str {
		if set[name] {
			*dst = val[name]
		}
	}
	if set["severity"] {
		r.Severity = *f.severity
	}
	if set["reach"] {
		r.Reach = *f.reach
	}
	if set["precision"] {
		r.Precision = *f.precision
	}
	if set["lat"] != set["lon"] {
		return r, usagef("--lat and --lon go together")
	}
	if set["lat"] {
		var err error
		if r.Lat, err = parseDegrees("lat", *f.lat); err != nil {
			return r, err
		}
		if r.Lon, err = parseDegrees("lon", *f.lon); err != nil {
			return r, err
		}
	}
	if set["occurred"] || r.Occurred == 0 {
		t, err := c.parseTime("occurred", *f.occurred)
		if err != nil {
			return r, err
		}
		r.Occurred = t.UnixMilli()
	}
	return r, nil
}

func categoryHelp() string {
	var b strings.Builder
	b.WriteString("report add: categories (taxonomy v1; a mission may add more):\n")
	for _, fam := range incident.Families {
		fmt.Fprintf(&b, "  %s\n", fam)
		for _, cat := range incident.BaseTaxonomy {
			if cat.Family == fam {
				fmt.Fprintf(&b, "    %-42s %s\n", cat.Code, cat.Label)
			}
		}
	}
	return b.String()
}

func (c *cli) reportAdd(args []string) error {
	f := newReportFlags("report add")
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprint(c.stdout, flagsHelp(f.fs)+"\n"+categoryHelp())
			return nil
		}
	}
	pos, err := parse(f.fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("report add: unexpected argument %q (text goes in --title or --description, quoted)", pos[0])
	}
	set := setFlags(f.fs)
	for _, req := range []string{"category", "severity", "title"} {
		if !set[req] {
			return usagef("report add: --%s is required", req)
		}
	}
	rep, err := f.apply(c, incident.ReportPayload{})
	if err != nil {
		return err
	}
	files, err := readAttachments(c, f.attach)
	if err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		sub := act.Submission{Report: rep}
		if setFlags(f.fs)["sealed"] {
			sub.Sealed = f.sealed
		}
		if sub.Files, err = attachAll(a, files); err != nil {
			return err
		}
		cr, err := a.Submit(sub)
		if err != nil {
			return err
		}
		msg := "Report saved"
		if cr.Sealed {
			msg = "Sealed report saved (only the mission's coordinators can read it)"
		}
		if c.json {
			if v, err := a.Report(cr.ID.String()); err == nil {
				return c.printJSON(v.JSON(false))
			}
		}
		return c.printID(cr.ID, msg+" on this device.")
	})
}

// file is a file to attach, read by the caller (whose permissions and
// working folder count, also when a node holds the home).
type file struct {
	name string
	data []byte
}

// readAttachments reads the files --attach names.
func readAttachments(c *cli, paths []string) ([]file, error) {
	if len(paths) > incident.MaxAttachments {
		return nil, fmt.Errorf("--attach: %d files, limit %d", len(paths), incident.MaxAttachments)
	}
	var out []file
	for _, path := range paths {
		path = c.path(path)
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("--attach: %w", err)
		}
		if st.Size() > incident.MaxAttachmentSize {
			return nil, fmt.Errorf("--attach: %s is %d bytes, limit %d", path, st.Size(), incident.MaxAttachmentSize)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--attach: %w", err)
		}
		out = append(out, file{filepath.Base(path), data})
	}
	return out, nil
}

// attachAll keeps each file in the store.
func attachAll(a act.Actions, files []file) ([]act.Attachment, error) {
	var out []act.Attachment
	for _, f := range files {
		at, err := a.AttachFile(f.name, f.data)
		if err != nil {
			return nil, err
		}
		out = append(out, at)
	}
	return out, nil
}

func (c *cli) reportList(args []string) error {
	fs := newFlags("report list")
	ff := addFilterFlags(fs)
	limit := fs.Int("limit", 0, "at most this many")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	f, err := c.filter(ff)
	if err != nil {
		return err
	}
	f.Limit = *limit
	return c.withStore(func(st *store.Store) error {
		if err := ff.member(st, &f); err != nil {
			return err
		}
		self := st.Author()
		n := 0
		err := st.Scan(f, func(v incident.ReportView) error {
			n++
			if f.Limit > 0 && n > f.Limit {
				return errStopList
			}
			j := v.JSON(false)
			if v.Author == self {
				if d, err := st.DeliveryOf(v.ID); err == nil {
					ds := d.String()
					j.Delivery = &ds
				}
			}
			if c.json {
				return c.printJSON(j)
			}
			line := reportLine(v)
			if j.Delivery != nil {
				line += "  (" + *j.Delivery + ")"
			}
			if v.HasFlag(incident.FlagNewerFields) {
				line += "  (" + newerNote + ")"
			}
			fmt.Fprintln(c.stdout, line)
			return nil
		})
		if errors.Is(err, errStopList) {
			err = nil
		}
		if err == nil && !c.json && n == 0 {
			fmt.Fprintln(c.stderr, "No reports match.")
		}
		return err
	})
}

var errStopList = errors.New("enough")

// newerNote marks a report that holds fields a newer Vigil added
// (incident.FlagNewerFields): this build shows what it can read.
const newerNote = "needs a newer Vigil to show everything"

func reportLine(v incident.ReportView) string {
	r := v.Report
	if v.Sealed && !v.Opened {
		return fmt.Sprintf("%s  %s  sealed (readable by coordinators only)", v.ID, incident.FormatTime(v.Created))
	}
	station := r.Station
	if station == "" {
		station = "-"
	}
	status := v.Status
	if v.Conflict {
		status += "!"
	}
	if v.Retracted {
		status = "retracted"
	}
	flags := ""
	if len(v.Flags) > 0 {
		flags = "  [" + strings.Join(v.Flags, ",") + "]"
	}
	return fmt.Sprintf("%s  %s  s%d  %-38s %-10s %-12s %s%s", v.ID, incident.FormatTime(r.Occurred), r.Severity,
		r.Category, station, status, r.Title, flags)
}

func (c *cli) reportShow(args []string) error {
	pos, err := parse(newFlags("report show"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("report show: want one report ID")
	}
	if err := checkReportIDArg(pos[0]); err != nil {
		return err
	}
	return c.withStore(func(s *store.Store) error {
		id, err := resolveReportID(s, pos[0])
		if err != nil {
			return err
		}
		v, err := s.Report(id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no report %s on this device", id)
		}
		if err != nil {
			return err
		}
		j := v.JSON(true)
		if v.Author == s.Author() {
			if d, err := s.DeliveryOf(v.ID); err == nil {
				ds := d.String()
				j.Delivery = &ds
			}
		}
		if c.json {
			return c.printJSON(j)
		}
		desk := act.New(s)
		caps, _ := desk.Captures(v.ID.String())
		c.printReport(v, j, desk.FilesOf(&v.Report), caps)
		return nil
	})
}

func (c *cli) printReport(v incident.ReportView, j incident.ReportJSON, files []act.File, caps []act.Capture) {
	w := c.stdout
	line := func(k string, p *string) {
		if p != nil {
			fmt.Fprintf(w, "%-12s %s\n", k, *p)
		}
	}
	fmt.Fprintf(w, "%-12s %s\n", "id", j.ID)
	line("title", j.Title)
	line("category", j.Category)
	if j.Severity != nil {
		fmt.Fprintf(w, "%-12s %d\n", "severity", *j.Severity)
	}
	line("occurred", j.Occurred)
	line("station", j.Station)
	line("area", j.Area)
	if j.Lat != nil {
		fmt.Fprintf(w, "%-12s %s, %s\n", "location", strconv.FormatFloat(*j.Lat, 'f', -1, 64), strconv.FormatFloat(*j.Lon, 'f', -1, 64))
	}
	line("channel", j.Channel)
	line("harm", j.Harm)
	if j.Reach != nil {
		fmt.Fprintf(w, "%-12s %d\n", "reach", *j.Reach)
	}
	line("source", j.Source)
	status := j.Status
	if j.Conflict {
		status += " (coordinators disagree)"
	}
	fmt.Fprintf(w, "%-12s %s\n", "status", status)
	if j.Retracted {
		fmt.Fprintf(w, "%-12s %s\n", "retracted", v.RetractReason)
	}
	fmt.Fprintf(w, "%-12s %s\n", "author", j.Author)
	fmt.Fprintf(w, "%-12s %s\n", "created", j.Created)
	if j.Delivery != nil {
		fmt.Fprintf(w, "%-12s %s\n", "delivery", *j.Delivery)
	}
	if len(j.Flags) > 0 {
		fmt.Fprintf(w, "%-12s %s\n", "flags", strings.Join(j.Flags, ", "))
	}
	if v.HasFlag(incident.FlagNewerFields) {
		fmt.Fprintf(w, "%-12s %s: it holds fields a newer version added\n", "note", newerNote)
	}
	for _, f := range files {
		state := ""
		switch {
		case !f.Held:
			state = ", not on this device yet"
		case !f.Readable:
			state = ", sealed to the coordinators"
		}
		fmt.Fprintf(w, "%-12s %s (%d bytes, %s%s)\n", "attachment", f.Name, f.Size, f.Mime, state)
		if cp, ok := act.CaptureFor(caps, act.PlainHash(&v.Report, f)); ok {
			fmt.Fprintf(w, "%-12s %s\n", "  capture", incident.DescribeCapture(cp.Capture))
		}
	}
	if j.Description != nil {
		fmt.Fprintf(w, "\n%s\n", *j.Description)
	}
	fmt.Fprintln(w, "\nhistory:")
	for _, e := range v.History {
		extra := ""
		if e.Status != "" {
			extra = " " + e.Status
			if e.Head {
				extra += " (head)"
			}
		}
		if e.Note != "" {
			extra += ": " + e.Note
		}
		fmt.Fprintf(w, "  %s  %-8s %s by %s%s\n", incident.FormatTime(e.Created), e.Kind, e.ID, e.Author, extra)
	}
}

func (c *cli) reportAmend(args []string) error {
	f := newReportFlags("report amend")
	pos, err := parse(f.fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("report amend: want one report ID, then the flags to change")
	}
	if err := checkReportIDArg(pos[0]); err != nil {
		return err
	}
	if len(setFlags(f.fs)) == 0 {
		return usagef("report amend: give at least one field to change (any report add flag)")
	}
	files, err := readAttachments(c, f.attach)
	if err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		v, err := a.Report(pos[0])
		if err != nil {
			return err
		}
		rep, err := f.apply(c, v.Report)
		if err != nil {
			return err
		}
		// The files the report has stay; --attach adds more.
		var keep []act.Attachment
		for _, h := range v.Report.Attachments {
			var at act.Attachment
			copy(at.Hash[:], h)
			keep = append(keep, at)
		}
		added, err := attachAll(a, files)
		if err != nil {
			return err
		}
		cr, err := a.Amend(act.Amendment{Target: v.ID.String(), Report: rep, Files: append(keep, added...)})
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(map[string]any{"id": cr.ID.String(), "report": v.ID.String()})
		}
		fmt.Fprintln(c.stdout, cr.ID)
		fmt.Fprintln(c.stderr, "Amendment saved on this device.")
		return nil
	})
}

func (c *cli) reportRetract(args []string) error {
	fs := newFlags("report retract")
	reason := fs.String("reason", "", "why the report is withdrawn")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("report retract: want one report ID and --reason")
	}
	if *reason == "" {
		return usagef("report retract: --reason is required")
	}
	if err := checkUTF8(map[string]string{"reason": *reason}); err != nil {
		return err
	}
	if err := checkReportIDArg(pos[0]); err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		r, err := a.Retract(pos[0], *reason)
		if err != nil {
			return err
		}
		if r.Already {
			// Idempotent: nothing was written, and that is a success.
			if c.json {
				return c.printJSON(map[string]any{"id": nil, "already_retracted": true, "retraction": idOrNil(r.Existing)})
			}
			fmt.Fprintf(c.stderr, "Report %s is already retracted; nothing was written.\n", r.Report)
			return nil
		}
		return c.printID(r.ID, "Retraction saved on this device.")
	})
}

func (c *cli) printID(id incident.ID, msg string) error {
	if c.json {
		return c.printJSON(map[string]any{"id": id.String()})
	}
	fmt.Fprintln(c.stdout, id)
	fmt.Fprintln(c.stderr, msg)
	return nil
}

// idOrNil is a record ID for JSON, or null for the zero ID.
func idOrNil(id incident.ID) any {
	if id.IsZero() {
		return nil
	}
	return id.String()
}
