package main

import (
	"fmt"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
)

// vigil alert list: alerts and their state (every alert for a
// coordinator, this device's own for an observer).
func (c *cli) alertList(args []string) error {
	if _, err := parse(newFlags("alert list"), args); err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		list, err := a.Alerts()
		if err != nil {
			return err
		}
		return printEach(c, list, func(v act.AlertItem) any { return alertJSON(v) }, alertLine, "No alerts.")
	})
}

// alertOut is an alert in `alert list --json`.
type alertOut struct {
	ID       incident.ID     `json:"id"`
	Time     string          `json:"time"`
	Author   incident.Author `json:"author"`
	Observer string          `json:"observer"`
	Station  string          `json:"station,omitempty"`
	Note     string          `json:"note,omitempty"`
	Lat      *float64        `json:"lat,omitempty"`
	Lon      *float64        `json:"lon,omitempty"`
	State    string          `json:"state"`
	Held     bool            `json:"held_by_coordinator"`
	History  []answerOut     `json:"history"`
	Flags    []string        `json:"flags,omitempty"`
}

// answerOut is a coordinator's answer to an alert.
type answerOut struct {
	Notice  incident.ID     `json:"notice"`
	Time    string          `json:"time"`
	By      incident.Author `json:"by"`
	ByLabel string          `json:"by_label"`
	Resolve bool            `json:"resolve,omitempty"`
	Note    string          `json:"note"`
}

func alertJSON(v act.AlertItem) alertOut {
	a := v.Alert
	o := alertOut{ID: v.ID, Time: incident.FormatTime(v.Created), Author: v.Author, Observer: v.Label,
		Station: a.Station, Note: a.Note, Lat: incident.Degrees(a.Lat), Lon: incident.Degrees(a.Lon),
		State: v.State, Held: v.Held, History: []answerOut{}, Flags: v.Flags}
	for _, s := range v.History {
		o.History = append(o.History, answerOut{Notice: s.Notice, Time: incident.FormatTime(s.Created),
			By: s.By, ByLabel: s.Label, Resolve: s.Resolve, Note: s.Note})
	}
	return o
}

func alertLine(v act.AlertItem) string {
	station := v.Alert.Station
	if station == "" {
		station = "-"
	}
	state := v.State
	if v.State == incident.AlertSent && v.Held {
		state = "held by a coordinator"
	}
	line := fmt.Sprintf("%s  %s  %-12s  from %s at %s", v.ID, incident.FormatTime(v.Created), state, sender(v.Label, v.Author), station)
	if v.Alert.Note != "" {
		line += ": " + v.Alert.Note
	}
	if v.Sealed {
		line += ": sealed (this device no longer reads it)"
	}
	if s := v.Last; s != nil {
		line += fmt.Sprintf("  (%s by %s at %s: %s)", v.State, sender(s.Label, s.By), incident.FormatTime(s.Created), s.Note)
	}
	return line
}
