package main

import (
	"fmt"
	"strings"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// vigil notice --text TEXT [...]: a coordinator's notice to the field, or
// the answer to an alert (--ack). vigil notice list: the notices this
// device holds.
func (c *cli) cmdNotice(args []string) error {
	if len(args) > 0 && args[0] == "list" {
		return c.noticeList(args[1:])
	}
	fs := newFlags("notice")
	text := fs.String("text", "", "what the field should know (required)")
	severity := fs.Uint64("severity", act.DefaultNoticeSeverity, "1 (information) to 4 (danger)")
	station := fs.String("station", "", "for one polling station (its code)")
	area := fs.String("area", "", "for one area")
	ack := fs.String("ack", "", "acknowledge an alert: its ID, or a unique prefix (vigil alert list)")
	resolve := fs.Bool("resolve", false, "with --ack: the alert is resolved, not just acknowledged")
	expires := fs.Duration("expires", 0, "hide the notice from lists this long after sending it (72h)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("notice: unexpected %q (notice --text TEXT, or notice list)", pos[0])
	case *text == "":
		return usagef("notice: --text is required")
	case *station != "" && *area != "":
		return usagef("notice: --station or --area, not both")
	case *resolve && *ack == "":
		return usagef("notice: --resolve goes with --ack ALERT_ID")
	case *severity < 1 || *severity > 4:
		return usagef("notice: --severity must be 1 to 4")
	case *expires < 0:
		return usagef("notice: --expires must be a positive duration")
	}
	if err := checkUTF8(map[string]string{"text": *text, "station": *station, "area": *area}); err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		cr, err := a.Notice(act.NoticeRequest{Text: *text, Severity: *severity, Station: *station, Area: *area,
			Ack: *ack, Resolve: *resolve, ExpiresIn: *expires})
		if err != nil {
			return err
		}
		msg := "Notice saved"
		switch {
		case *resolve:
			msg = "Alert resolved"
		case *ack != "":
			msg = "Alert acknowledged"
		}
		switch {
		case !cr.Sealed:
			msg += "; every member reads the notice, and it travels over any link."
		case *ack != "":
			msg += "; the answer is sealed to the alert's author and the coordinators, and travels over any link."
		default:
			msg += "; it is sealed to the mission's members, and travels over any link."
		}
		return c.printID(cr.ID, msg)
	})
}

func (c *cli) noticeList(args []string) error {
	fs := newFlags("notice list")
	expired := fs.Bool("expired", false, "list expired notices too")
	all := fs.Bool("all", false, "list too the notices whose sender's standing does not cover them (marked: not instructions)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		list, err := a.Notices(act.NoticeQuery{Expired: *expired, Untrusted: *all})
		if err != nil {
			return err
		}
		return printEach(c, list, func(v incident.NoticeView) any { return noticeJSON(v) }, noticeLine, "No notices.")
	})
}

// noticeOut is a notice in `notice list --json`.
type noticeOut struct {
	ID       incident.ID     `json:"id"`
	Time     string          `json:"time"`
	Author   incident.Author `json:"author"`
	Sender   string          `json:"sender"`
	Severity uint64          `json:"severity"`
	Audience string          `json:"audience"`
	Station  string          `json:"station,omitempty"`
	Area     string          `json:"area,omitempty"`
	Text     string          `json:"text"`
	Ack      *incident.ID    `json:"ack,omitempty"`
	Resolve  bool            `json:"resolve,omitempty"`
	Expires  string          `json:"expires,omitempty"`
	Expired  bool            `json:"expired,omitempty"`
	Trusted  bool            `json:"trusted"`
	Flags    []string        `json:"flags,omitempty"`
}

func noticeJSON(v incident.NoticeView) noticeOut {
	n := v.Notice
	o := noticeOut{ID: v.ID, Time: incident.FormatTime(v.Created), Author: v.Author, Sender: v.Label,
		Severity: n.Severity, Audience: v.Audience, Station: n.Station, Area: n.Area, Text: n.Text,
		Resolve: n.Resolve, Expired: v.Expired, Trusted: v.Trusted, Flags: v.Flags}
	if len(n.Ack) == len(incident.ID{}) {
		var id incident.ID
		copy(id[:], n.Ack)
		o.Ack = &id
	}
	if n.Expires != 0 {
		o.Expires = incident.FormatTime(n.Expires)
	}
	return o
}

func noticeLine(v incident.NoticeView) string {
	n := v.Notice
	to := "everyone"
	switch v.Audience {
	case incident.AudienceStation:
		to = "station " + n.Station
	case incident.AudienceArea:
		to = "area " + n.Area
	}
	var marks []string
	if !v.Trusted {
		marks = append(marks, "NOT AN INSTRUCTION: its sender is not a coordinator in good standing")
	}
	if v.Expired {
		marks = append(marks, "expired")
	}
	if len(n.Ack) == len(incident.ID{}) {
		var id incident.ID
		copy(id[:], n.Ack)
		verb := "acknowledges"
		if n.Resolve {
			verb = "resolves"
		}
		marks = append(marks, verb+" alert "+id.String())
	}
	line := fmt.Sprintf("%s  s%d  to %s  from %s: %s", incident.FormatTime(v.Created), n.Severity, to, sender(v.Label, v.Author), n.Text)
	if len(marks) > 0 {
		line += "  (" + strings.Join(marks, "; ") + ")"
	}
	return line
}

// sender names a member by label, with its key's short form.
func sender(label string, a incident.Author) string {
	if label == "" {
		return a.Short()
	}
	return label + " (" + a.Short() + ")"
}
