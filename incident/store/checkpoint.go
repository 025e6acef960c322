package store

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
)

const tCovered = 'K' // K/<checkpoint id> → the sorted IDs the checkpoint covers, concatenated

// Checkpoint signs the root and count of every record this device holds
// (checkpoints excepted) and keeps the list it covered, so evidence
// packages can prove that a record existed by the checkpoint's time.
func (s *Store) Checkpoint() (*incident.Signed, []incident.ID, error) {
	var ids []incident.ID
	err := s.ForEachKey(func(_ int64, id incident.ID) error {
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	cps, err := s.ByKind(incident.KindCheckpoint)
	if err != nil {
		return nil, nil, err
	}
	skip := map[incident.ID]bool{}
	for _, c := range cps {
		skip[c.ID] = true
	}
	kept := ids[:0]
	for _, id := range ids {
		if !skip[id] {
			kept = append(kept, id)
		}
	}
	root := incident.SetRoot(kept)
	rec, err := s.Put(incident.KindCheckpoint, incident.CheckpointPayload{Root: root[:], Count: uint64(len(kept))})
	if err != nil {
		return nil, nil, err
	}
	list := make([]byte, 0, 32*len(kept))
	for _, id := range sortIDs(kept) {
		list = append(list, id[:]...)
	}
	if err := s.update(func(txn *badger.Txn) error { return txn.Set(key(tCovered, rec.ID[:]), list) }); err != nil {
		return nil, nil, err
	}
	return rec, kept, s.sync()
}

// Covered returns the IDs a checkpoint signed on this device covered.
func (s *Store) Covered(checkpoint incident.ID) ([]incident.ID, error) {
	var list []byte
	err := s.view(func(txn *badger.Txn) error {
		var err error
		list, err = getValue(txn, key(tCovered, checkpoint[:]))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: no covered list for checkpoint %s on this device", ErrNotFound, checkpoint)
	}
	if err != nil {
		return nil, err
	}
	out := make([]incident.ID, len(list)/32)
	for i := range out {
		copy(out[i][:], list[i*32:])
	}
	return out, nil
}

func sortIDs(ids []incident.ID) []incident.ID {
	out := append([]incident.ID(nil), ids...)
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out
}
