package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// count is a flag holding a number copied from a result sheet: a whole
// number, 0 or more, at most incident.MaxTallyVotes.
type count uint64

func (n *count) String() string { return strconv.FormatUint(uint64(*n), 10) }
func (n *count) Set(s string) error {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a whole number, 0 or more", s)
	}
	if v > incident.MaxTallyVotes {
		return fmt.Errorf("%d is over %d", v, incident.MaxTallyVotes)
	}
	*n = count(v)
	return nil
}

// vigil tally submit: an observer copies the result sheet of one contest
// at one station. The tally is stored even when its numbers do not add
// up; the checks that fail are printed.
func (c *cli) cmdTally(args []string) error {
	if len(args) == 0 {
		return usagef("tally: want submit")
	}
	if args[0] != "submit" {
		return usagef("tally: unknown subcommand %q (submit)", args[0])
	}
	fs := newFlags("tally submit")
	station := fs.String("station", "", "the polling station's code (any case; spaces and _ read as -)")
	contest := fs.String("contest", "", "the contest the sheet is for (presidential, …)")
	var registered, issued, cast, invalid, blank count
	fs.Var(&registered, "registered", "voters on the register, as on the sheet (0 or absent: not given)")
	fs.Var(&issued, "issued", "ballots issued (0 or absent: not given)")
	fs.Var(&cast, "cast", "ballots cast (found in the box)")
	fs.Var(&invalid, "invalid", "invalid ballots")
	fs.Var(&blank, "blank", "blank ballots")
	var votes, photos multi
	fs.Var(&votes, "votes", "NAME=N: a choice's votes, as on the sheet; repeat for each choice")
	fs.Var(&photos, "photo", "a photo of the result sheet; repeatable")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	set := setFlags(fs)
	switch {
	case len(pos) > 0:
		return usagef("tally submit: unexpected %q", pos[0])
	case *station == "":
		return usagef("tally submit: --station CODE is required")
	case *contest == "":
		return usagef("tally submit: --contest NAME is required")
	case !set["cast"]:
		return usagef("tally submit: --cast N is required")
	case len(votes) == 0:
		return usagef("tally submit: --votes NAME=N is required, once per choice")
	case len(votes) > incident.MaxTallyChoices:
		return usagef("tally submit: --votes: %d choices, limit %d", len(votes), incident.MaxTallyChoices)
	}
	if err := checkUTF8(map[string]string{"station": *station, "contest": *contest, "votes": strings.Join(votes, "\n")}); err != nil {
		return err
	}
	req := act.TallyRequest{Station: *station, Contest: *contest, Registered: uint64(registered), Issued: uint64(issued),
		Cast: uint64(cast), Invalid: uint64(invalid), Blank: uint64(blank)}
	seen := map[string]bool{}
	for _, v := range votes {
		name, num, ok := cutLast(v, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return usagef("tally submit: --votes %q: want NAME=N (the choice, =, its votes)", v)
		}
		var n count
		if err := n.Set(num); err != nil {
			return usagef("tally submit: --votes %s: %v", name, err)
		}
		if seen[name] {
			return usagef("tally submit: --votes: %q is given twice", name)
		}
		seen[name] = true
		req.Votes = append(req.Votes, incident.VoteCount{Choice: name, Votes: uint64(n)})
	}
	if len(photos) > incident.MaxTallyPhotos {
		return usagef("tally submit: --photo: %d photos, limit %d", len(photos), incident.MaxTallyPhotos)
	}
	files, err := readAttachments(c, photos)
	if err != nil {
		return fmt.Errorf("%s", strings.Replace(err.Error(), "--attach", "--photo", 1))
	}
	return c.withDesk(func(d *act.Desk) error {
		if req.Photos, err = attachAll(d, files); err != nil {
			return err
		}
		s, err := d.SubmitTally(req)
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(s)
		}
		fmt.Fprintln(c.stdout, s.ID)
		how := "in the clear: this mission does not seal"
		if s.Sealed {
			how = "sealed to the coordinators"
		}
		fmt.Fprintf(c.stderr, "Tally for %s (%s) stored, %s.\n", s.Station, strings.TrimSpace(*contest), how)
		if s.NotInRegistry {
			fmt.Fprintf(c.stderr, "Note: %s is not in the station registry (`vigil station list`); results count it apart.\n", s.Station)
		}
		if len(s.Flagged) == 0 {
			fmt.Fprintln(c.stderr, "Every check passes.")
			return nil
		}
		fmt.Fprintf(c.stderr, "Flagged (stored anyway: check the sheet, and submit again to correct a typing error):\n")
		for _, f := range s.Flagged {
			fmt.Fprintf(c.stderr, "  %s: %s\n", f.Name, f.Detail)
		}
		return nil
	})
}

// cutLast is strings.Cut at the last sep: a choice's name may hold "=".
func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
