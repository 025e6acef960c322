package main

import (
	"fmt"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

// withDesk runs fn with the use cases of this home as a desk. assign and
// coverage reach a node that holds the home as a command line run there
// (forwardable, not typed), so a desk is the holder's store's, or one
// over the store opened here.
func (c *cli) withDesk(fn func(d *act.Desk) error) error {
	return c.withStore(func(s *store.Store) error { return fn(deskFor(s, c.daemon)) })
}

// vigil assign MEMBER --station CODE [--note TEXT] | MEMBER --none:
// coordinators post a member to a station. vigil assign list: the
// assignments in force this device reads.
func (c *cli) cmdAssign(args []string) error {
	if len(args) > 0 && args[0] == "list" {
		return c.assignList(args[1:])
	}
	fs := newFlags("assign")
	station := fs.String("station", "", "the polling station's code (any case; spaces and _ read as -)")
	none := fs.Bool("none", false, "post the member nowhere (ends the assignment in force)")
	note := fs.String("note", "", "for the member: a shift, a contact")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return usagef("assign: want one MEMBER (an author key, a member record ID or a label), then --station CODE or --none")
	case *none && *station != "":
		return usagef("assign: --station or --none, not both")
	case !*none && *station == "":
		return usagef("assign: --station CODE is required (or --none to unassign)")
	}
	if err := checkUTF8(map[string]string{"member": pos[0], "station": *station, "note": *note}); err != nil {
		return err
	}
	return c.withDesk(func(d *act.Desk) error {
		a, err := d.Assign(act.AssignRequest{Member: pos[0], Station: *station, Unassign: *none, Note: *note})
		if err != nil {
			return err
		}
		who := sender(a.Label, a.Member)
		if c.json {
			return c.printJSON(map[string]any{"id": idOrNil(a.ID), "member": a.Member.String(), "label": a.Label,
				"station": a.Station, "previous": a.Previous, "sealed": a.Sealed, "already": a.Already, "not_in_registry": a.NotInRegistry})
		}
		if a.Already {
			if a.Station == "" {
				fmt.Fprintf(c.stderr, "%s is posted nowhere already; nothing was written.\n", who)
			} else {
				fmt.Fprintf(c.stderr, "%s is already assigned to %s (assignment %s); nothing was written.\n", who, a.Station, a.ID)
			}
			return nil
		}
		fmt.Fprintln(c.stdout, a.ID)
		msg := fmt.Sprintf("Assigned %s to %s", who, a.Station)
		if a.Station == "" {
			msg = fmt.Sprintf("%s is posted nowhere now", who)
		}
		if a.Previous != "" {
			msg += fmt.Sprintf(" (was %s)", a.Previous)
		}
		if a.Sealed {
			msg += "; sealed to the coordinators and the member: no other device reads who is posted where."
		} else {
			msg += "; this mission does not seal: every member reads it."
		}
		fmt.Fprintln(c.stderr, msg)
		if a.NotInRegistry {
			fmt.Fprintf(c.stderr, "Note: %s is not in the station registry (`vigil station list`); the assignment is stored, and coverage counts it apart until the registry lists it.\n", a.Station)
		}
		return nil
	})
}

func (c *cli) assignList(args []string) error {
	if _, err := parse(newFlags("assign list"), args); err != nil {
		return err
	}
	return c.withDesk(func(d *act.Desk) error {
		list, err := d.Assignments()
		if err != nil {
			return err
		}
		return printEach(c, list, func(v act.AssignmentItem) any { return assignmentJSON(v) }, assignmentLine, "No assignments.")
	})
}

// assignmentOut is an assignment in `assign list --json`.
type assignmentOut struct {
	ID            incident.ID     `json:"id"`
	Member        incident.Author `json:"member"`
	Label         string          `json:"label"`
	Role          string          `json:"role"`
	Station       string          `json:"station"`
	Name          string          `json:"station_name,omitempty"`
	Admin         string          `json:"admin,omitempty"`
	Note          string          `json:"note,omitempty"`
	By            incident.Author `json:"by"`
	Time          string          `json:"time"`
	NotInRegistry bool            `json:"not_in_registry,omitempty"`
	Revoked       bool            `json:"revoked,omitempty"`
}

func assignmentJSON(v act.AssignmentItem) assignmentOut {
	return assignmentOut{ID: v.ID, Member: v.Member, Label: v.Label, Role: v.Role, Station: v.Station, Name: v.StationName,
		Admin: strings.Join(v.Admin, "/"), Note: v.Note, By: v.By, Time: incident.FormatTime(v.Created),
		NotInRegistry: v.NotInRegistry, Revoked: v.Revoked}
}

func assignmentLine(v act.AssignmentItem) string {
	where := v.Station
	switch {
	case where == "":
		where = "nowhere"
	case v.StationName != "":
		where += " " + v.StationName
	}
	if len(v.Admin) > 0 {
		where += " (" + strings.Join(v.Admin, "/") + ")"
	}
	line := fmt.Sprintf("%-28s  %-11s  %s", sender(v.Label, v.Member), v.Role, where)
	var marks []string
	if v.NotInRegistry {
		marks = append(marks, "not in the registry")
	}
	if v.Revoked {
		marks = append(marks, "REVOKED: not counted")
	}
	if len(marks) > 0 {
		line += "  [" + strings.Join(marks, "; ") + "]"
	}
	if v.Note != "" {
		line += "  — " + v.Note
	}
	return line + "  (" + incident.FormatTime(v.Created) + ")"
}
