package store

import (
	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
)

// Versions returns every version of a report this device can read (the
// report record and its amendments, sealed ones opened as the fold opens
// them), by record ID: what the app compares to say what an amendment
// changed.
func (s *Store) Versions(id incident.ID) (map[incident.ID]incident.ReportPayload, error) {
	rec, err := s.Get(id)
	if err != nil || rec == nil {
		return nil, err
	}
	rel, err := s.Related(id)
	if err != nil {
		return nil, err
	}
	out := map[incident.ID]incident.ReportPayload{}
	s.mu.Lock()
	defer s.mu.Unlock()
	err = s.view(func(txn *badger.Txn) error {
		open := s.opener(txn, nil)
		for _, r := range append([]*incident.Signed{rec}, rel...) {
			if r == nil || (r.Kind != incident.KindReport && r.Kind != incident.KindAmend) {
				continue
			}
			var p any
			if len(r.Sealed) > 0 {
				var ok bool
				if p, ok = open(r); !ok {
					continue
				}
			} else if p, err = r.DecodePayload(); err != nil {
				continue
			}
			switch pl := p.(type) {
			case *incident.ReportPayload:
				out[r.ID] = *pl
			case *incident.AmendPayload:
				out[r.ID] = pl.Report
			}
		}
		return nil
	})
	return out, err
}
