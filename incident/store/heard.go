package store

import (
	"github.com/dgraph-io/badger/v4"
	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// Who was heard from when: for each author and each station, the latest
// claimed time of a report, check-in or alert, and the latest check-in
// with its status, kept as records are stored, so that the dashboard's
// "gone silent" reads one key per member and station instead of every
// report and check-in.
//
//	H/a<author:32>   the author's heard
//	H/s<station>     the station's heard: reports count under the station
//	                 they name now (an amendment can move one away)
//
// An author's times only grow: a record never changes author. A
// station's can fall when an amendment moves its latest report to
// another station; then it is recomputed from the check-ins and alerts
// (Activity) and the station's index entries, which bounds the work by
// that station's reports.
//
// A check-in or alert is read once, when stored, with what the device
// holds then: one sealed for SMS to an inbox key this coordinator gets
// later counts for its author and time, not its station or status (the
// full listing the dashboard did before read it again on each refresh).
const tHeard = 'H'

type heard struct {
	Last     int64 `cbor:"1,keyasint"`           // latest claimed time of a report, check-in or alert
	Activity int64 `cbor:"2,keyasint,omitempty"` // stations: the latest of check-ins and alerts only
	Checkin  int64 `cbor:"3,keyasint,omitempty"` // the latest check-in's claimed time
	// CheckinID breaks ties between check-ins of the same time (the
	// greater ID's text wins, as the dashboard ordered them).
	CheckinID []byte `cbor:"4,keyasint,omitempty"`
	Status    string `cbor:"5,keyasint,omitempty"` // its status; "" when this device could not read it
}

func heardAuthorKey(a incident.Author) []byte { return key(tHeard, []byte{'a'}, a[:]) }
func heardStationKey(code string) []byte      { return key(tHeard, []byte{'s'}, []byte(code)) }

func getHeard(b *batch, k []byte) (heard, error) {
	var h heard
	v, ok, err := b.getHot(k)
	if err != nil || !ok {
		return h, err
	}
	err = cbor.Unmarshal(v, &h)
	return h, err
}

func putHeard(b *batch, k []byte, h heard) error {
	if h.Last == 0 && h.Checkin == 0 {
		return b.Delete(k)
	}
	v, err := cbor.Marshal(h)
	if err != nil {
		return err
	}
	return b.Set(k, v)
}

// hear notes a record created at t in h; a check-in (ckID not nil) with
// its status. It reports whether h changed.
func (h *heard) hear(t int64, activity bool, ckID *incident.ID, status string) bool {
	changed := false
	if t > h.Last {
		h.Last, changed = t, true
	}
	if activity && t > h.Activity {
		h.Activity, changed = t, true
	}
	if ckID != nil {
		newer := t > h.Checkin
		if t == h.Checkin && len(h.CheckinID) == len(incident.ID{}) {
			var old incident.ID
			copy(old[:], h.CheckinID)
			newer = ckID.String() > old.String()
		} else if t == h.Checkin && h.CheckinID == nil {
			newer = true
		}
		if newer {
			h.Checkin, h.CheckinID, h.Status, changed = t, ckID[:], status, true
		}
	}
	return changed
}

// hearAt updates the heard under k.
func hearAt(b *batch, k []byte, t int64, activity bool, ckID *incident.ID, status string) error {
	h, err := getHeard(b, k)
	if err != nil {
		return err
	}
	if !h.hear(t, activity, ckID, status) {
		return nil
	}
	return putHeard(b, k, h)
}

// heardReport notes a report indexed anew (old nil) or again: its
// author once, its station when it names a new one.
func heardReport(b *batch, author incident.Author, old, nt *tuple) error {
	if old == nil {
		if err := hearAt(b, heardAuthorKey(author), nt.Created, false, nil, ""); err != nil {
			return err
		}
	}
	if old != nil && old.Station == nt.Station {
		return nil
	}
	if old != nil && old.Station != "" {
		if err := stationLeft(b, old.Station, nt.Created); err != nil {
			return err
		}
	}
	if nt.Station != "" {
		return hearAt(b, heardStationKey(nt.Station), nt.Created, false, nil, "")
	}
	return nil
}

// stationLeft notes that a report created at t no longer names station
// code (its index entries there are already gone): when it was the
// latest heard there, the latest is found again.
func stationLeft(b *batch, code string, t int64) error {
	k := heardStationKey(code)
	h, err := getHeard(b, k)
	if err != nil || h.Last > t {
		return err
	}
	h.Last = max(h.Activity, h.Checkin)
	err = walk(b.Txn, Filter{Station: code}, func(_ incident.ID, st *tuple) error {
		h.Last = max(h.Last, st.Created)
		return nil
	})
	if err != nil {
		return err
	}
	return putHeard(b, k, h)
}

// noteActivity notes a check-in or alert: its author and (when this
// device reads it) its station heard from, a check-in's status.
func (s *Store) noteActivity(b *batch, rec *incident.Signed) error {
	var p any
	if len(rec.Sealed) == 0 {
		p, _ = rec.DecodePayload()
	} else {
		p, _ = s.opener(b.Txn, s.batchKeep(b))(rec)
	}
	var ck *incident.ID
	station, status := "", ""
	switch pl := p.(type) {
	case *incident.CheckinPayload:
		station, status = pl.Station, pl.Status
	case *incident.AlertPayload:
		station = pl.Station
	}
	if rec.Kind == incident.KindCheckin {
		id := rec.ID
		ck = &id
	}
	if err := hearAt(b, heardAuthorKey(rec.AuthorKey()), rec.Created, true, ck, status); err != nil {
		return err
	}
	if station == "" {
		return nil
	}
	return hearAt(b, heardStationKey(station), rec.Created, true, ck, status)
}

// Heard is when an author or station was last heard from.
type Heard struct {
	// Last is the claimed time (Unix ms) of the latest report, check-in
	// or alert; a report counts under the station it names now.
	Last int64
	// Checkin is the latest check-in's time (0: none) and Status its
	// status ("" when this device could not read it).
	Checkin int64
	Status  string
}

// Heard returns when each station and author was last heard from (see
// tHeard): one key per station and author, never the records.
func (s *Store) Heard() (stations map[string]Heard, authors map[incident.Author]Heard, err error) {
	stations, authors = map[string]Heard{}, map[incident.Author]Heard{}
	err = s.view(func(txn *badger.Txn) error {
		prefix := key(tHeard)
		o := badger.DefaultIteratorOptions
		o.Prefix = prefix
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			var h heard
			if err := item.Value(func(v []byte) error { return cbor.Unmarshal(v, &h) }); err != nil {
				return err
			}
			out := Heard{Last: h.Last, Checkin: h.Checkin, Status: h.Status}
			k := item.Key()[len(prefix):]
			switch {
			case len(k) == 1+32 && k[0] == 'a':
				var a incident.Author
				copy(a[:], k[1:])
				authors[a] = out
			case len(k) > 1 && k[0] == 's':
				stations[string(k[1:])] = out
			}
		}
		return nil
	})
	return stations, authors, err
}
