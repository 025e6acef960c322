package main

import (
	"errors"
	"fmt"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

func (c *cli) cmdCheckpoint(args []string) error {
	if _, err := parse(newFlags("checkpoint"), args); err != nil {
		return err
	}
	return c.withStore(func(s *store.Store) error {
		ms, err := s.Mission()
		if err != nil {
			return err
		}
		if role, _ := ms.Role(s.Author()); role != incident.RoleCoordinator {
			return errors.New("only coordinators sign checkpoints")
		}
		rec, ids, err := s.Checkpoint()
		if err != nil {
			return err
		}
		root := incident.SetRoot(ids)
		if c.json {
			return c.printJSON(map[string]any{"id": rec.ID.String(), "mission": ms.ID.String(), "count": len(ids),
				"root": fmt.Sprintf("%x", root), "signed_by": s.Author().String(), "time": incident.FormatTime(rec.Created)})
		}
		fmt.Fprintf(c.stdout, "Observation log checkpoint\nmission %s\n%s, root %x\nsigned by %s at %s\ncheckpoint record %s\n",
			ms.ID, incident.Plural(len(ids), "record"), root, s.Author(), incident.FormatTime(rec.Created), rec.ID)
		fmt.Fprintln(c.stderr, "Publish the text above out of band (a newspaper, a post). `vigil verify` on an evidence package shows which records this checkpoint covers.")
		return nil
	})
}
