package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// registryDrafts is n stations of one snapshot and the closing function
// that signs their registry record.
func registryDrafts(n int) ([]store.Draft, func([]*incident.Signed) (store.Draft, error)) {
	snap := bytes.Repeat([]byte{7}, 32)
	drafts := make([]store.Draft, n)
	for i := range drafts {
		drafts[i] = store.Draft{Kind: incident.KindStation, Payload: incident.StationPayload{
			Code: fmt.Sprintf("PS-%05d", i), Name: fmt.Sprintf("School %d", i), Snapshot: snap,
			Admin: []string{"North", "Lakeside"}, Registered: 700}}
	}
	return drafts, func(recs []*incident.Signed) (store.Draft, error) {
		ids := make([]incident.ID, len(recs))
		for i, r := range recs {
			ids[i] = r.ID
		}
		return store.Draft{Kind: incident.KindRegistry, Payload: incident.RegistryPayload{
			Snapshot: snap, Count: uint64(len(recs)), Root: incident.RegistryRoot(ids)}}, nil
	}
}

// PutMany stores every record and the closing one, even past what one
// Badger transaction holds on the phone profile, and the mesh hears of
// the last one only; a batch with one bad record, or past the quota,
// stores nothing.
func TestPutMany(t *testing.T) {
	s := openBadger(t, store.Options{Now: newClock(t0).Now})
	createMission(t, s)
	var published []*incident.Signed
	s.OnPut(func(r *incident.Signed) { published = append(published, r) })

	drafts, closing := registryDrafts(6000) // several transactions at 8 MiB memtables
	recs, err := s.PutMany(drafts, closing)
	if err != nil {
		t.Fatalf("PutMany: %v", err)
	}
	c := mustCounts(t, s)
	if len(recs) != 6001 || c[incident.KindStation] != 6000 || c[incident.KindRegistry] != 1 {
		t.Fatalf("stored %d records: %v", len(recs), c)
	}
	if len(published) != 1 || published[0].Kind != incident.KindRegistry {
		t.Fatalf("published %d records, want the registry record alone", len(published))
	}
	ms := mustMission(t, s)
	stations, _ := s.ByKind(incident.KindStation)
	regs, _ := s.ByKind(incident.KindRegistry)
	if reg := incident.FoldRegistry(stations, regs, ms); reg.Snapshot == nil || len(reg.Stations) != 6000 {
		t.Fatalf("the import is not in force: %v, %d stations", reg.Snapshot, len(reg.Stations))
	}

	// One invalid record: nothing of the batch is written.
	bad, closing := registryDrafts(10)
	bad[7].Payload = incident.StationPayload{Code: "PS 1"} // a space in a code
	if _, err := s.PutMany(bad, closing); err == nil || !incident.IsRejected(err) {
		t.Fatalf("a batch with an invalid record: %v", err)
	}
	if c2 := mustCounts(t, s); c2[incident.KindStation] != 6000 || c2[incident.KindRegistry] != 1 {
		t.Fatalf("a refused batch stored records: %v", c2)
	}

	// Past the coordinator's quota: refused before anything is written.
	setQuota(t, s, incident.RoleCoordinator, 6100)
	more, closing := registryDrafts(200)
	if _, err := s.PutMany(more, closing); !errors.Is(err, store.ErrQuota) {
		t.Fatalf("a batch past the quota: %v", err)
	}
	if c2 := mustCounts(t, s); c2[incident.KindStation] != 6000 {
		t.Fatalf("a batch past the quota stored records: %v", c2)
	}
}
