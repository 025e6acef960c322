package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

func (c *cli) cmdReview(args []string) error {
	fs := newFlags("review")
	status := fs.String("status", "", "verified, corroborated, rejected or escalated")
	note := fs.String("note", "", "what you checked, or why")
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
	if err := checkUTF8(map[string]string{"note": *note}); err != nil {
		return err
	}
	if err := checkReportIDArg(pos[0]); err != nil {
		return err
	}
	return c.withStore(func(s *store.Store) error {
		id, err := resolveReportID(s, pos[0])
		if err != nil {
			return err
		}
		ms, err := s.Mission()
		if err != nil {
			return err
		}
		if err := checkRole(s, ms, incident.KindReview); err != nil {
			return err
		}
		rec, err := s.Review(id, *status, *note)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no report %s on this device", id)
		}
		if err != nil {
			return err
		}
		return c.printID(rec.ID, "Review saved on this device.")
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
	return c.putSimple(incident.KindCheckin, incident.CheckinPayload{Status: *status, Station: *station},
		map[string]string{"station": *station}, "Check-in saved on this device.")
}

func (c *cli) cmdAlert(args []string) error {
	fs := newFlags("alert")
	note := fs.String("note", "", "what is happening (optional: speed matters more)")
	station := fs.String("station", "", "polling station code")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	return c.putSimple(incident.KindAlert, incident.AlertPayload{Note: *note, Station: *station},
		map[string]string{"note": *note, "station": *station}, "Alert saved; it goes to your coordinators over any link.")
}

// putSimple signs and stores a record that needs no lookups.
func (c *cli) putSimple(k incident.Kind, payload any, text map[string]string, msg string) error {
	if err := checkUTF8(text); err != nil {
		return err
	}
	return c.withStore(func(s *store.Store) error {
		ms, err := s.Mission()
		if err != nil {
			return err
		}
		if err := checkRole(s, ms, k); err != nil {
			return err
		}
		rec, err := s.Put(k, payload)
		if err != nil {
			return err
		}
		return c.printID(rec.ID, msg)
	})
}
