package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// vigil results [--contest NAME]: per registry station, the status of
// its tallies (ok, flagged, missing, consolidated) and its flags; with a
// pvt sample, the quick count. --json prints the whole act.Results as
// one object, as coverage --json does.
func (c *cli) cmdResults(args []string) error {
	fs := newFlags("results")
	contest := fs.String("contest", "", "the contest (default: the one the tallies name)")
	all := fs.Bool("all", false, "list every station, missing ones too (default: those with a tally, and a count of the others)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("results: unexpected %q", pos[0])
	}
	if err := checkUTF8(map[string]string{"contest": *contest}); err != nil {
		return err
	}
	return c.withDesk(func(d *act.Desk) error {
		r, err := d.Results(act.ResultsQuery{Contest: *contest})
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(r)
		}
		printResults(c.stdout, r, *all)
		return nil
	})
}

func printResults(w io.Writer, r act.Results, all bool) {
	if r.Contest == "" {
		fmt.Fprintln(w, "No tally yet: every station is missing.")
		fmt.Fprintln(w, "Observers copy the result sheet with `vigil tally submit --station CODE --contest NAME ...`.")
		return
	}
	fmt.Fprintf(w, "Results, %s: %s in the registry: %d consolidated, %d ok, %d flagged, %d missing.\n",
		r.Contest, incident.Plural(r.Registry, "station"), r.Counts[act.StatusConsolidated], r.Counts[act.StatusOK],
		r.Counts[act.StatusFlagged], r.Counts[act.StatusMissing])
	fmt.Fprintln(w, "consolidated: independent tallies agree on every number; flagged: a check fails or tallies disagree (shown side by side).")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATION\tSTATUS\tTALLIES\tPVT\tUNIT\t")
	for _, s := range r.Stations {
		if s.Status == act.StatusMissing && !all {
			continue
		}
		pvt := ""
		if s.PVT {
			pvt = "pvt"
			if s.Stratum != "" {
				pvt += " " + s.Stratum
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t\n", s.Code, s.Status, len(s.Tallies), pvt, s.Unit)
	}
	tw.Flush()
	if !all && r.Counts[act.StatusMissing] > 0 {
		fmt.Fprintf(w, "(%s with no tally not listed: --all lists them)\n", incident.Plural(r.Counts[act.StatusMissing], "station"))
	}
	flagged := false
	for _, s := range append(append([]act.StationResult{}, r.Stations...), r.Unknown...) {
		if s.Status != act.StatusFlagged {
			continue
		}
		if !flagged {
			fmt.Fprintln(w, "\nFlagged:")
			flagged = true
		}
		printFlagged(w, s)
	}
	if len(r.Unknown) > 0 {
		var codes []string
		for _, u := range r.Unknown {
			codes = append(codes, u.Code+" ("+u.Status+")")
		}
		fmt.Fprintf(w, "\nNot in the registry (%s; not counted above): %s\n", incident.Plural(len(r.Unknown), "station"), strings.Join(codes, ", "))
	}
	printQuickCount(w, r.QuickCount)
}

func printFlagged(w io.Writer, s act.StationResult) {
	name := s.Code
	if s.Name != "" {
		name += "  " + s.Name
	}
	fmt.Fprintf(w, "  %s\n", name)
	for _, f := range s.Flags {
		fmt.Fprintf(w, "    %s\n", f)
	}
	if len(s.Tallies) < 2 {
		return
	}
	// Side by side: each observer's sheet as copied, never merged.
	for _, t := range s.Tallies {
		who := t.Label
		if who == "" {
			who = t.Author.Short()
		}
		var votes []string
		for _, v := range t.Tally.Votes {
			votes = append(votes, fmt.Sprintf("%s %d", v.Choice, v.Votes))
		}
		fmt.Fprintf(w, "    %-24s registered %d  issued %d  cast %d  invalid %d  blank %d  |  %s\n", who,
			t.Tally.Registered, t.Tally.Issued, t.Tally.Cast, t.Tally.Invalid, t.Tally.Blank, strings.Join(votes, "  "))
	}
}

func printQuickCount(w io.Writer, q *act.QuickCountResult) {
	if q == nil {
		fmt.Fprintln(w, "\nNo quick count: no station of the registry is tagged pvt.")
		return
	}
	fmt.Fprintf(w, "\nQuick count over the pvt sample (%s): %d used, %d excluded as flagged, %d missing.\n",
		incident.Plural(q.Sample, "station"), q.Used, q.Excluded, len(q.Missing))
	if len(q.Shares) == 0 {
		fmt.Fprintln(w, "No usable tally from the sample yet.")
	} else {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CHOICE\tSHARE\t95 % MARGIN\tINTERVAL\t")
		for _, s := range q.Shares {
			fmt.Fprintf(tw, "%s\t%.1f %%\t± %.1f\t%.1f – %.1f %%\t\n", s.Choice, s.Share*100, s.Margin*100,
				max(0, s.Share-s.Margin)*100, min(1, s.Share+s.Margin)*100)
		}
		tw.Flush()
		fmt.Fprintln(w, "Shares of the valid votes: a stratified ratio estimate, margin by linearisation (docs/architecture.md).")
	}
	var strata []string
	for _, s := range q.Strata {
		name := s.Name
		if name == "" {
			name = "(no stratum)"
		}
		strata = append(strata, fmt.Sprintf("%s %d of %d", name, s.Used, s.Population))
	}
	if len(strata) > 0 {
		fmt.Fprintf(w, "Strata (stations used of the registry's): %s\n", strings.Join(strata, "; "))
	}
	for _, n := range q.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	if len(q.Flagged) > 0 {
		fmt.Fprintf(w, "Excluded (flagged): %s\n", strings.Join(q.Flagged, ", "))
	}
}
