package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/export"
	"github.com/vigil-mesh/vigil/incident/store"
)

// exportEvidence writes an evidence package of the reports f selects: each
// report with its amendments, retractions and reviews, their attachments,
// every mission record that authorises an author, and the checkpoints
// signed on this device with the lists they covered.
func (c *cli) exportEvidence(s *store.Store, f store.Filter, out string) (int, error) {
	ms, err := s.Mission()
	if err != nil {
		return 0, err
	}
	if role, _ := ms.Role(s.Author()); role != incident.RoleCoordinator {
		return 0, errors.New("evidence packages are signed by a coordinator; this device is not one")
	}
	ev := export.Evidence{Mission: ms, Signer: s.Signer(), Now: c.now(), Attachments: map[[32]byte][]byte{}}
	deps, err := missionRecords(s)
	if err != nil {
		return 0, err
	}
	ev.Records = append(ev.Records, deps...)
	n := 0
	err = s.Scan(f, func(v incident.ReportView) error {
		rec, err := s.Get(v.ID)
		if err != nil || rec == nil {
			return fmt.Errorf("report %s: %v", v.ID, err)
		}
		rel, err := s.Related(v.ID)
		if err != nil {
			return err
		}
		ev.Records = append(ev.Records, rec)
		ev.Records = append(ev.Records, rel...)
		for _, h := range v.Report.Attachments {
			var sum [32]byte
			copy(sum[:], h)
			if data, err := s.Blob(sum); err == nil {
				ev.Attachments[sum] = data
			}
		}
		n++
		return nil
	})
	if err != nil {
		return 0, err
	}
	atts, err := s.ByKind(incident.KindAttachment)
	if err != nil {
		return 0, err
	}
	for _, a := range atts {
		p, err := a.DecodePayload()
		if ap, ok := p.(*incident.AttachmentPayload); err == nil && ok && len(ap.Hash) == 32 {
			var sum [32]byte
			copy(sum[:], ap.Hash)
			if _, ok := ev.Attachments[sum]; ok {
				ev.Records = append(ev.Records, a)
			}
		}
	}
	cps, err := s.ByKind(incident.KindCheckpoint)
	if err != nil {
		return 0, err
	}
	for _, cp := range cps {
		ev.Records = append(ev.Records, cp)
		if list, err := s.Covered(cp.ID); err == nil {
			ev.Checkpoints = append(ev.Checkpoints, export.CheckpointCover{Record: cp, Covered: list})
		}
	}
	err = writeAtomic(out, func(f *os.File) error { return export.WriteEvidence(f, ev) })
	return n, err
}

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
		fmt.Fprintf(c.stdout, "Observation log checkpoint\nmission %s\n%d records, root %x\nsigned by %s at %s\ncheckpoint record %s\n",
			ms.ID, len(ids), root, s.Author(), incident.FormatTime(rec.Created), rec.ID)
		fmt.Fprintln(c.stderr, "Publish the text above out of band (a newspaper, a post). `vigil verify` on an evidence package shows which records this checkpoint covers.")
		return nil
	})
}
