package main

import (
	"slices"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

func (c *cli) cmdReview(args []string) error {
	fs := newFlags("review")
	status := fs.String("status", "", "verified, corroborated, rejected or escalated")
	note := fs.String("note", "", "what you checked, or why")
	publish := fs.Bool("publish", false, "approve the report's text (title, description, source), as this device holds it now, for public exports")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("review: want one report ID and --status")
	}
	if !slices.Contains(incident.ReviewStatuses, *status) {
		return usagef("review: --status must be verified, corroborated, rejected or escalated")
	}
	if *publish && *status == "rejected" {
		return usagef("review: --publish does not go with --status rejected (a rejected report is never published)")
	}
	if err := checkUTF8(map[string]string{"note": *note}); err != nil {
		return err
	}
	if err := checkReportIDArg(pos[0]); err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		cr, err := a.Review(act.Verdict{Report: pos[0], Status: *status, Note: *note, Publish: *publish})
		if err != nil {
			return err
		}
		if *publish {
			return c.printID(cr.ID, "Review saved on this device; the report's text as you have it now is approved for public exports (an amendment withdraws the approval).")
		}
		return c.printID(cr.ID, "Review saved on this device.")
	})
}

func (c *cli) cmdCheckin(args []string) error {
	fs := newFlags("checkin")
	status := fs.String("status", "", "arrived, opened, all_quiet or closed")
	station := fs.String("station", "", "polling station code")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if !slices.Contains(incident.CheckinStatuses, *status) {
		return usagef("checkin: --status must be arrived, opened, all_quiet or closed")
	}
	return c.withActions(func(a act.Actions) error {
		cr, err := a.Checkin(incident.CheckinPayload{Status: *status, Station: *station})
		if err != nil {
			return err
		}
		return c.printID(cr.ID, "Check-in saved on this device.")
	})
}

func (c *cli) cmdAlert(args []string) error {
	if len(args) > 0 && args[0] == "list" {
		return c.alertList(args[1:]) // cmd_alert.go
	}
	fs := newFlags("alert")
	note := fs.String("note", "", "what is happening (optional: speed matters more)")
	station := fs.String("station", "", "polling station code")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		cr, err := a.Alert(incident.AlertPayload{Note: *note, Station: *station})
		if err != nil {
			return err
		}
		return c.printID(cr.ID, "Alert saved; it goes to your coordinators over any link.")
	})
}
