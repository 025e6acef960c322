package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// vigil coverage [--level 0-3] [--phase P]: stations expected (posted
// to) versus heard from, per admin unit and phase, and the stations
// silent in the phase; with required checklists, those expected versus
// received per phase and the ones missing by station. --json prints the
// whole act.Coverage as one object.
func (c *cli) cmdCoverage(args []string) error {
	fs := newFlags("coverage")
	level := fs.Int("level", 1, "group by this level of the registry's admin path (1 region, 2 district, 3 ward; 0 the whole mission)")
	phase := fs.String("phase", "", "list the stations silent in this phase: "+strings.Join(act.Phases, ", ")+" (default: the current one, the latest heard from)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("coverage: unexpected %q", pos[0])
	case *level < 0 || *level > act.MaxCoverageLevel:
		return usagef("coverage: --level must be 0 to %d", act.MaxCoverageLevel)
	}
	return c.withDesk(func(d *act.Desk) error {
		cov, err := d.Coverage(act.CoverageQuery{Level: *level, Phase: *phase})
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(cov)
		}
		printCoverage(c.stdout, cov)
		return nil
	})
}

func printCoverage(w io.Writer, cov act.Coverage) {
	if cov.NoAssignments {
		fmt.Fprintln(w, "Nobody is posted to a station yet, so no station is expected.")
		fmt.Fprintln(w, "Post observers with `vigil assign MEMBER --station CODE`; coverage counts the stations they are posted to.")
		printUnknown(w, cov)
		return
	}
	by := "the whole mission"
	if cov.Level > 0 {
		by = fmt.Sprintf("admin level %d", cov.Level)
	}
	registry := "no station registry held: the assigned codes are the expected stations"
	if cov.Registry > 0 {
		registry = fmt.Sprintf("registry of %s", incident.Plural(cov.Registry, "station"))
	}
	fmt.Fprintf(w, "Coverage by %s: %s expected (%s posted; %s).\n", by, incident.Plural(cov.Total.Expected, "station"),
		incident.Plural(cov.Assigned, "member"), registry)
	fmt.Fprintf(w, "Heard from = a record from the station in that phase (arrived/opened: opening, all_quiet: voting, closed: closing;\n"+
		"a checklist: its form's phase; a tally: counting).\n\n")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	head := []string{"UNIT", "EXPECTED"}
	for _, p := range act.Phases {
		head = append(head, strings.ToUpper(p))
	}
	head = append(head, "SILENT ("+strings.ToUpper(cov.Phase)+")")
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	row := func(name string, u act.CoverageUnit) {
		cells := []string{name, fmt.Sprint(u.Expected)}
		for _, p := range act.Phases {
			cells = append(cells, fmt.Sprintf("%d (%d%%)", u.Heard[p], percent(u.Heard[p], u.Expected)))
		}
		cells = append(cells, fmt.Sprint(u.Silent))
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	eachUnit(cov, row)
	tw.Flush()

	fmt.Fprintln(w)
	current := ""
	if cov.Phase != cov.Current {
		current = fmt.Sprintf("; the current phase is %s", cov.Current)
	}
	if len(cov.Silent) == 0 {
		fmt.Fprintf(w, "Every expected station was heard from in %s%s.\n", cov.Phase, current)
	} else {
		fmt.Fprintf(w, "Silent in %s (%d)%s:\n", cov.Phase, len(cov.Silent), current)
		for _, s := range cov.Silent {
			line := "  " + s.Code
			if s.Name != "" {
				line += "  " + s.Name
			}
			if s.Unit != "" {
				line += "  " + strings.Join(s.Admin, "/")
			}
			line += "  posted: " + strings.Join(s.Members, ", ")
			if len(s.Heard) > 0 {
				line += fmt.Sprintf("  (heard in %s; last %s)", strings.Join(s.Heard, ", "), incident.FormatTime(s.Last))
			} else {
				line += "  (never heard from)"
			}
			fmt.Fprintln(w, line)
		}
	}
	printChecklistCoverage(w, cov)
	if cov.HeardUnassigned > 0 {
		fmt.Fprintf(w, "%s of the registry heard from with nobody posted there.\n", incident.Plural(cov.HeardUnassigned, "station"))
	}
	printUnknown(w, cov)
}

// printChecklistCoverage writes the required checklists received of
// those expected, per unit and phase, and the stations missing some.
func printChecklistCoverage(w io.Writer, cov act.Coverage) {
	phases := sortedPhases(cov.Required)
	if len(phases) == 0 {
		return
	}
	fmt.Fprintln(w)
	var req []string
	for _, p := range phases {
		req = append(req, p+": "+strings.Join(cov.Required[p], ", "))
	}
	fmt.Fprintf(w, "Required checklists, received of expected (one per member posted and form; %s):\n", strings.Join(req, "; "))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	head := []string{"UNIT"}
	for _, p := range phases {
		head = append(head, strings.ToUpper(p))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	row := func(name string, u act.CoverageUnit) {
		cells := []string{name}
		for _, p := range phases {
			n := u.Checklists[p]
			cells = append(cells, fmt.Sprintf("%d/%d (%d%%)", n.Received, n.Expected, percent(n.Received, n.Expected)))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	eachUnit(cov, row)
	tw.Flush()
	if len(cov.MissingChecklists) == 0 {
		fmt.Fprintf(w, "\nNo required checklist is missing up to %s.\n", cov.Phase)
		return
	}
	fmt.Fprintf(w, "\nMissing checklists by station, up to %s (%d):\n", cov.Phase, len(cov.MissingChecklists))
	for _, m := range cov.MissingChecklists {
		line := "  " + m.Code
		if m.Name != "" {
			line += "  " + m.Name
		}
		if m.Unit != "" {
			line += "  " + strings.Join(m.Admin, "/")
		}
		line += "  posted: " + strings.Join(m.Members, ", ")
		for _, p := range sortedPhases(m.Missing) {
			line += "  " + p + ": " + strings.Join(m.Missing[p], ", ")
		}
		fmt.Fprintln(w, line)
	}
}

// printUnknown lists the codes off the registry, counted apart.
func printUnknown(w io.Writer, cov act.Coverage) {
	if len(cov.Unknown) == 0 {
		return
	}
	fmt.Fprintf(w, "Not in the registry (%s; not counted above):\n", incident.Plural(len(cov.Unknown), "code"))
	for _, u := range cov.Unknown {
		var parts []string
		if len(u.Members) > 0 {
			parts = append(parts, "posted: "+strings.Join(u.Members, ", "))
		}
		for _, p := range act.Phases {
			if n := u.Heard[p]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", p, n))
			}
		}
		fmt.Fprintf(w, "  %s  %s\n", u.Code, strings.Join(parts, "; "))
	}
}

func percent(n, of int) int {
	if of == 0 {
		return 0
	}
	return n * 100 / of
}

// eachUnit gives row each admin unit of cov (at a level above 0), by
// name, then the total.
func eachUnit(cov act.Coverage, row func(name string, u act.CoverageUnit)) {
	if cov.Level > 0 {
		for _, u := range cov.Units {
			name := u.Unit
			if name == "" {
				name = "(no admin area)"
			}
			row(name, u)
		}
	}
	row("TOTAL", cov.Total)
}
