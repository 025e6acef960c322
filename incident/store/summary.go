package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// The summary: what a coordinator's dashboard counts, kept up to date as
// reports are stored, so that a refresh reads a few hundred keys instead
// of every report. A million reports took seconds to list and fold on
// each refresh; the counters answer in milliseconds.
//
// Every count is a key S/<counter> whose value is the count (8 bytes,
// big-endian). They change in the same transaction that writes a
// report's tuple (putTuple): the old tuple's counters go down by one, the
// new one's up by one, so a report indexed again after an amendment,
// review or retraction is never counted twice, and a crash leaves the
// counters with the tuples they describe. A report counts as its tuple
// says (the fold at its last indexing), as List and CountReports do.
//
//	S/retracted                  reports retracted by their author
//	S/status\0<status>           reports not retracted, by review status
//	S/sealed                     incidents this device cannot read
//	S/category\0<code>           readable incidents, by category
//	S/severity\0<n>              readable incidents, by severity (decimal)
//	S/area\0<area>               readable incidents that name an area
//	S/noarea\0<station>          readable incidents naming none, by station
//	                             (the dashboard takes the registry's area)
//	S/station\0<station>         readable incidents, by station
//	S/hour\0<hour:8>             readable incidents, by the UTC hour (Unix
//	                             ms) of when they occurred (when created
//	                             for a report that says no time)
//
// An incident is a report neither retracted nor rejected by review.
//
// Who was heard from when, also kept on write (heard.go): H/a<author:32>
// and H/s<station>.
const tSummary = 'S'

// Counter names (see above).
const (
	cRetracted = "retracted"
	cStatus    = "status"
	cSealed    = "sealed"
	cCategory  = "category"
	cSeverity  = "severity"
	cArea      = "area"
	cNoArea    = "noarea"
	cStation   = "station"
	cHour      = "hour"
)

func counterKey(name, value string) []byte {
	if value == "" && (name == cRetracted || name == cSealed) {
		return key(tSummary, []byte(name))
	}
	return key(tSummary, []byte(name), []byte{0}, []byte(value))
}

// Tuple flags (tuple.Flags).
const (
	flagRetracted = 1 << iota // retracted by its author
	flagSealed                // a sealed report
	flagOpened                // sealed, and this device read it when indexing
	flagTargeted              // records target it (amend, retract, review): folding it reads t/
)

const hourMs = int64(time.Hour / time.Millisecond)

// hourOf truncates Unix ms to the UTC hour, negative times included.
func hourOf(ms int64) int64 { return ms - ((ms%hourMs)+hourMs)%hourMs }

// counters are the summary counters t counts in, one each.
func (t *tuple) counters() [][]byte {
	if t.Flags&flagRetracted != 0 {
		return [][]byte{counterKey(cRetracted, "")}
	}
	out := [][]byte{counterKey(cStatus, t.Status)}
	switch {
	case t.Status == statusRejected:
		return out
	case t.Flags&flagSealed != 0 && t.Flags&flagOpened == 0:
		return append(out, counterKey(cSealed, ""))
	}
	out = append(out,
		counterKey(cCategory, t.Category),
		counterKey(cSeverity, strconv.FormatUint(t.Severity, 10)),
		counterKey(cStation, t.Station),
		key(tSummary, []byte(cHour), []byte{0}, be64(hourOf(t.When))))
	if t.Area != "" {
		out = append(out, counterKey(cArea, t.Area))
	} else {
		out = append(out, counterKey(cNoArea, t.Station))
	}
	return out
}

// countDeltas moves the counters from old (nil: a report new to the
// store) to nt. The deltas gather in b and are written once each when b
// commits: a batch of 500 reports touches a few dozen counters, not
// thousands of times.
func countDeltas(b *batch, old, nt *tuple) error {
	if b.counts == nil {
		b.counts = map[string]int64{}
	}
	add := func(k []byte, d int64) {
		if _, ok := b.counts[string(k)]; !ok {
			// Counted now so that the batch commits before Badger
			// would find it too big with the counters' writes.
			b.n++
			b.bytes += int64(len(k)) + 8 + 12
		}
		b.counts[string(k)] += d
	}
	if old != nil {
		for _, k := range old.counters() {
			add(k, -1)
		}
	}
	if nt != nil { // nil: the report is dropped (custody.go)
		for _, k := range nt.counters() {
			add(k, 1)
		}
	}
	return nil
}

// Commit writes the summary counters' deltas gathered in b, then commits
// it.
func (b *batch) Commit() error {
	for k, d := range b.counts {
		if d == 0 {
			continue
		}
		if err := b.addCount([]byte(k), d); err != nil {
			return err
		}
	}
	b.counts = nil
	if err := b.Txn.Commit(); err != nil {
		return err
	}
	if b.hot != nil {
		b.hot.apply(b.hotw)
	}
	b.hotw = nil
	return nil
}

// addCount adds d to counter k; a counter that reaches zero is deleted,
// so that the summary holds only what is there. The writes go to the
// transaction directly: countDeltas counted them already.
func (b *batch) addCount(k []byte, d int64) error {
	v, ok, err := b.getHot(k)
	if err != nil {
		return err
	}
	var n int64
	if ok {
		if len(v) != 8 {
			return fmt.Errorf("summary counter %q holds %d bytes, not 8", k, len(v))
		}
		n = int64(binary.BigEndian.Uint64(v))
	}
	if n += d; n <= 0 {
		if n < 0 {
			return fmt.Errorf("summary counter %q would go below zero (the store's summary is damaged: it is rebuilt when m/layout is set below 5)", k)
		}
		b.noteHot(k, nil, true)
		return b.Txn.Delete(k)
	}
	v = binary.BigEndian.AppendUint64(nil, uint64(n))
	b.noteHot(k, v, false)
	return b.Txn.Set(k, v)
}

func readCount(txn *badger.Txn, k []byte) (int64, error) {
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n int64
	err = item.Value(func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("summary counter %q holds %d bytes, not 8", k, len(v))
		}
		n = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	return n, err
}

// Summary is what the store counts of its reports as it stores them
// (see tSummary): the same numbers a walk of every report's tuple gives.
type Summary struct {
	Retracted int
	// ByStatus counts the reports not retracted by review status.
	ByStatus map[string]int
	// Sealed counts the incidents (reports neither retracted nor
	// rejected) this device cannot read: they count nowhere below.
	Sealed int
	// The readable incidents by category, severity, station, area (those
	// that name one) and, for those naming no area, by station.
	ByCategory map[string]int
	BySeverity map[uint64]int
	ByStation  map[string]int
	ByArea     map[string]int
	NoArea     map[string]int
	// ByHour counts the readable incidents by the UTC hour they occurred
	// in, for the hours from LastHour-Window to LastHour only: a
	// timeline's recent part. FirstHour and LastHour (zero when there is
	// none) bound every hour counted.
	ByHour              map[time.Time]int
	FirstHour, LastHour time.Time
}

// Incidents is the number of reports neither retracted nor rejected.
func (s *Summary) Incidents() int {
	n := 0
	for st, c := range s.ByStatus {
		if st != statusRejected {
			n += c
		}
	}
	return n
}

// Summary reads the summary counters, with the hours of the window
// before the latest hour counted (window 0: every hour). It reads one
// snapshot, and keys in proportion to the categories, stations, areas and
// hours counted, never the reports.
func (s *Store) Summary(window time.Duration) (Summary, error) {
	s.mu.Lock()
	joined := s.ms != nil
	s.mu.Unlock()
	if !joined {
		return Summary{}, ErrNoMission
	}
	sum := Summary{ByStatus: map[string]int{}, ByCategory: map[string]int{}, BySeverity: map[uint64]int{},
		ByStation: map[string]int{}, ByArea: map[string]int{}, NoArea: map[string]int{}, ByHour: map[time.Time]int{}}
	err := s.view(func(txn *badger.Txn) error {
		var err error
		if sum.Retracted, err = readInt(txn, counterKey(cRetracted, "")); err != nil {
			return err
		}
		if sum.Sealed, err = readInt(txn, counterKey(cSealed, "")); err != nil {
			return err
		}
		for name, m := range map[string]map[string]int{cStatus: sum.ByStatus, cCategory: sum.ByCategory,
			cStation: sum.ByStation, cArea: sum.ByArea, cNoArea: sum.NoArea} {
			if err := readCounters(txn, name, false, func(v []byte, n int64) bool {
				m[string(v)] = int(n)
				return true
			}); err != nil {
				return err
			}
		}
		sev := map[string]int{}
		if err := readCounters(txn, cSeverity, false, func(v []byte, n int64) bool {
			sev[string(v)] = int(n)
			return true
		}); err != nil {
			return err
		}
		for k, n := range sev {
			if v, err := strconv.ParseUint(k, 10, 64); err == nil {
				sum.BySeverity[v] = n
			}
		}
		return sum.readHours(txn, window)
	})
	return sum, err
}

func readInt(txn *badger.Txn, k []byte) (int, error) {
	n, err := readCount(txn, k)
	return int(n), err
}

// readHours fills the hour counts: the first hour, then the last ones
// back to window before the last.
func (sum *Summary) readHours(txn *badger.Txn, window time.Duration) error {
	hour := func(v []byte) (time.Time, bool) {
		if len(v) != 8 {
			return time.Time{}, false
		}
		return time.UnixMilli(unbe64(v)).UTC(), true
	}
	err := readCounters(txn, cHour, false, func(v []byte, _ int64) bool {
		if h, ok := hour(v); ok {
			sum.FirstHour = h
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	return readCounters(txn, cHour, true, func(v []byte, n int64) bool {
		h, ok := hour(v)
		if !ok {
			return true
		}
		if sum.LastHour.IsZero() {
			sum.LastHour = h
		}
		if window > 0 && h.Before(sum.LastHour.Add(-window)) {
			return false
		}
		sum.ByHour[h] = int(n)
		return true
	})
}

// readCounters calls fn with the value and count of each counter named
// name, in key order (reverse: from the last), while fn returns true.
func readCounters(txn *badger.Txn, name string, reverse bool, fn func(value []byte, n int64) bool) error {
	prefix := key(tSummary, []byte(name), []byte{0})
	o := badger.DefaultIteratorOptions
	o.Prefix = prefix
	o.Reverse = reverse
	it := txn.NewIterator(o)
	defer it.Close()
	seek := prefix
	if reverse {
		seek = append(append([]byte(nil), prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	}
	for it.Seek(seek); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		var n int64
		if err := item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("summary counter %q holds %d bytes, not 8", item.Key(), len(v))
			}
			n = int64(binary.BigEndian.Uint64(v))
			return nil
		}); err != nil {
			return err
		}
		if !fn(item.Key()[len(prefix):], n) {
			return nil
		}
	}
	return nil
}

// Recount is the summary a walk of every report's tuple gives (every
// hour included): what the counters must equal. For tests and the
// benchmark's baseline; it reads every tuple.
func (s *Store) Recount() (Summary, error) {
	s.mu.Lock()
	joined := s.ms != nil
	s.mu.Unlock()
	if !joined {
		return Summary{}, ErrNoMission
	}
	sum := Summary{ByStatus: map[string]int{}, ByCategory: map[string]int{}, BySeverity: map[uint64]int{},
		ByStation: map[string]int{}, ByArea: map[string]int{}, NoArea: map[string]int{}, ByHour: map[time.Time]int{}}
	err := s.view(func(txn *badger.Txn) error {
		return walk(txn, Filter{}, func(_ incident.ID, t *tuple) error {
			for _, k := range t.counters() {
				sum.add(k)
			}
			return nil
		})
	})
	for h := range sum.ByHour {
		if sum.FirstHour.IsZero() || h.Before(sum.FirstHour) {
			sum.FirstHour = h
		}
		if h.After(sum.LastHour) {
			sum.LastHour = h
		}
	}
	return sum, err
}

// add counts one in counter key k.
func (sum *Summary) add(k []byte) {
	name, value, _ := cutByte(k[2:], 0)
	switch string(name) {
	case cRetracted:
		sum.Retracted++
	case cSealed:
		sum.Sealed++
	case cStatus:
		sum.ByStatus[string(value)]++
	case cCategory:
		sum.ByCategory[string(value)]++
	case cSeverity:
		v, _ := strconv.ParseUint(string(value), 10, 64)
		sum.BySeverity[v]++
	case cStation:
		sum.ByStation[string(value)]++
	case cArea:
		sum.ByArea[string(value)]++
	case cNoArea:
		sum.NoArea[string(value)]++
	case cHour:
		if len(value) == 8 {
			sum.ByHour[time.UnixMilli(unbe64(value)).UTC()]++
		}
	}
}

func cutByte(b []byte, sep byte) (before, after []byte, found bool) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}

// Equal reports whether two summaries hold the same counts.
func (s Summary) Equal(o Summary) bool {
	return s.Retracted == o.Retracted && s.Sealed == o.Sealed && maps.Equal(s.ByStatus, o.ByStatus) &&
		maps.Equal(s.ByCategory, o.ByCategory) && maps.Equal(s.BySeverity, o.BySeverity) &&
		maps.Equal(s.ByStation, o.ByStation) && maps.Equal(s.ByArea, o.ByArea) && maps.Equal(s.NoArea, o.NoArea) &&
		maps.Equal(s.ByHour, o.ByHour) && s.FirstHour.Equal(o.FirstHour) && s.LastHour.Equal(o.LastHour)
}

// decodeTuple decodes a stored tuple.
func decodeTuple(raw []byte) (tuple, error) {
	var t tuple
	err := cbor.Unmarshal(raw, &t)
	return t, err
}

// statusRejected is the review status that makes a report no incident.
const statusRejected = "rejected"

// Located is a readable incident with coordinates: a point on a map.
type Located struct {
	ID       incident.ID
	Lat, Lon int64 // microdegrees
	Severity uint64
	Category string
	When     int64 // when it occurred (Unix ms), as the summary's hours count it
}

// locatedPrefix begins the entries of the index of located incidents,
// whose values are their points (tuple.point), so that the map reads
// them without a tuple each.
var locatedPrefix = indexPrefix(idxLocated, "")

// point is what the map shows of a located incident, the value of its
// entry in the index of located incidents.
type point struct {
	ID       []byte `cbor:"1,keyasint"`
	Lat      int64  `cbor:"2,keyasint"`
	Lon      int64  `cbor:"3,keyasint"`
	Severity uint64 `cbor:"4,keyasint,omitempty"`
	Category string `cbor:"5,keyasint,omitempty"`
}

// point is t's point on the map; t is located.
func (t *tuple) point() point {
	return point{ID: t.ID, Lat: *t.Lat, Lon: *t.Lon, Severity: t.Severity, Category: t.Category}
}

// Located returns the limit latest readable incidents with coordinates
// (by when they occurred), oldest first. It reads index entries only, so
// a map of the latest thousands costs milliseconds whatever the store
// holds.
func (s *Store) Located(limit int) ([]Located, error) {
	s.mu.Lock()
	joined := s.ms != nil
	s.mu.Unlock()
	if !joined {
		return nil, ErrNoMission
	}
	var out []Located
	err := s.view(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchSize = min(max(limit, 1), 1000)
		o.Prefix = locatedPrefix
		o.Reverse = true
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Seek(append(append([]byte(nil), locatedPrefix...), 0xff)); it.ValidForPrefix(locatedPrefix) && len(out) < limit; it.Next() {
			item := it.Item()
			if len(item.Key()) != len(locatedPrefix)+indexSuffix {
				continue
			}
			var p point
			if err := item.Value(func(v []byte) error { return cbor.Unmarshal(v, &p) }); err != nil {
				return fmt.Errorf("located entry %x: %w", item.Key(), err)
			}
			if len(p.ID) != len(incident.ID{}) {
				return fmt.Errorf("located entry %x names no report", item.Key())
			}
			l := Located{Lat: p.Lat, Lon: p.Lon, Severity: p.Severity, Category: p.Category, When: unbe64(item.Key()[len(locatedPrefix):])}
			copy(l.ID[:], p.ID)
			out = append(out, l)
		}
		return nil
	})
	slices.Reverse(out)
	return out, err
}
