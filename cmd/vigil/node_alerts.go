package main

import (
	"fmt"
	"io"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// alertWatch prints, on a coordinator's node, a line for each alert that
// arrives: a headless coordinator's only sign that an observer is in
// danger. Alerts come by reconciliation or by gossip (which reports no
// result), so the node looks after every sync and on a short tick; the
// look reads index keys only, and decodes just the new alerts.
type alertWatch struct {
	st   *store.Store
	out  io.Writer
	seen map[incident.ID]bool
}

// newAlertWatch starts with the alerts already held: they are not news.
func newAlertWatch(st *store.Store, out io.Writer) *alertWatch {
	w := &alertWatch{st: st, out: out, seen: map[incident.ID]bool{}}
	ids, _ := st.IDsOfKind(incident.KindAlert)
	for _, id := range ids {
		w.seen[id] = true
	}
	return w
}

// check prints the alerts that arrived since the last check, oldest
// first, when this device is a coordinator.
func (w *alertWatch) check() {
	ids, err := w.st.IDsOfKind(incident.KindAlert)
	if err != nil {
		return
	}
	var fresh []incident.ID
	for _, id := range ids {
		if !w.seen[id] {
			w.seen[id] = true
			fresh = append(fresh, id)
		}
	}
	if len(fresh) == 0 {
		return
	}
	ms, err := w.st.Mission()
	if err != nil {
		return
	}
	if role, _ := ms.Role(w.st.Author()); role != incident.RoleCoordinator {
		return
	}
	for _, id := range fresh {
		rec, err := w.st.Get(id)
		if err != nil || rec == nil || rec.AuthorKey() == w.st.Author() {
			continue
		}
		v, err := incident.FoldAlertOpen(rec, nil, ms, w.st.Now(), w.st.Open)
		if err != nil {
			continue
		}
		fmt.Fprintln(w.out, alertNews(v))
	}
}

// alertNews is the node's line for a new alert.
func alertNews(v incident.AlertView) string {
	station := v.Alert.Station
	if station == "" {
		station = "no station given"
	}
	line := fmt.Sprintf("ALERT %s from %s at %s", incident.FormatTime(v.Created), sender(v.Label, v.Author), station)
	if v.Alert.Lat != nil {
		line += fmt.Sprintf(" (%s, %s)", incident.FormatMicro(*v.Alert.Lat), incident.FormatMicro(*v.Alert.Lon))
	}
	if v.Alert.Note != "" {
		line += ": " + v.Alert.Note
	}
	return line + "  [" + v.ID.String() + "; answer: vigil notice --ack ID --text TEXT]"
}
