package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-mesh/vigil/incident"
)

// tuple is what a report is indexed by; kept under v/<seq> so a change (an
// amendment moving the station, a review changing the status) can remove
// the old index entries, and so that lists and counts read it without the
// record. Area and Severity serve CountReports. The author, which never
// changes, is not repeated here: it is in the record and the author
// index. (Layout 1's tuples had fields 1–5, the author included, and no
// ID.)
type tuple struct {
	Occurred int64  `cbor:"1,keyasint"`
	Category string `cbor:"2,keyasint"`
	Station  string `cbor:"3,keyasint"`
	Author   []byte `cbor:"4,keyasint,omitempty"` // layout 1 only
	Status   string `cbor:"5,keyasint"`
	Area     string `cbor:"6,keyasint,omitempty"`
	Severity uint64 `cbor:"7,keyasint,omitempty"`
	ID       []byte `cbor:"9,keyasint"`
	// Since layout 5, for the summary (summary.go), the heard times
	// (heard.go), the map's index of located reports and the export's
	// fold: the report's claimed creation time, its flags (flagRetracted
	// …), when it occurred as the dashboard shows it (the occurred time
	// of an opened sealed report, which Occurred does not hold; the
	// creation time when the report gives none) and its coordinates.
	Created int64  `cbor:"10,keyasint,omitempty"`
	Flags   uint8  `cbor:"11,keyasint,omitempty"`
	When    int64  `cbor:"12,keyasint,omitempty"`
	Lat     *int64 `cbor:"13,keyasint,omitempty"`
	Lon     *int64 `cbor:"14,keyasint,omitempty"`
}

// entries are the index keys of a report by author, since layout 2. The
// author index is keyed by the author's 32 bytes.
func (t tuple) entries(seq uint32, author incident.Author) [][]byte {
	out := [][]byte{
		indexKey(idxTime, "", t.Occurred, seq),
		indexKey(idxAuthor, string(author[:]), t.Occurred, seq),
		indexKey(idxStatus, t.Status, t.Occurred, seq),
	}
	if t.Category != "" {
		out = append(out, indexKey(idxCategory, t.Category, t.Occurred, seq))
	}
	if t.Station != "" {
		out = append(out, indexKey(idxStation, t.Station, t.Occurred, seq))
	}
	if t.located() {
		out = append(out, indexKey(idxLocated, "", t.When, seq))
	}
	return out
}

// located reports whether t is on the dashboard's map: a readable
// incident (neither retracted nor rejected) with coordinates.
func (t *tuple) located() bool {
	return t.Lat != nil && t.Lon != nil && t.Flags&flagRetracted == 0 && t.Status != statusRejected &&
		(t.Flags&flagSealed == 0 || t.Flags&flagOpened != 0)
}

// entriesV1 are the report's index keys in layout 1.
func (t tuple) entriesV1(id incident.ID) [][]byte {
	var a incident.Author
	copy(a[:], t.Author)
	out := [][]byte{
		indexKeyV1(idxTime, "", t.Occurred, id),
		indexKeyV1(idxAuthor, a.String(), t.Occurred, id),
		indexKeyV1(idxStatus, t.Status, t.Occurred, id),
	}
	if t.Category != "" {
		out = append(out, indexKeyV1(idxCategory, t.Category, t.Occurred, id))
	}
	if t.Station != "" {
		out = append(out, indexKeyV1(idxStation, t.Station, t.Occurred, id))
	}
	return out
}

// tupleOf is the tuple of a report's view. targeted says whether records
// target the report (it was folded with some).
func tupleOf(v incident.ReportView, targeted bool) tuple {
	t := tuple{Occurred: v.Report.Occurred, Category: v.Report.Category, Station: v.Report.Station,
		Status: v.Status, Area: v.Report.Area, Severity: v.Report.Severity, ID: v.ID[:],
		Created: v.Created, When: v.Report.Occurred, Lat: v.Report.Lat, Lon: v.Report.Lon}
	if t.When == 0 {
		t.When = v.Created
	}
	if v.Sealed {
		t.Occurred = v.Created
		t.Flags |= flagSealed
		if v.Opened {
			t.Flags |= flagOpened
		}
	}
	if v.Retracted {
		t.Flags |= flagRetracted
	}
	if targeted {
		t.Flags |= flagTargeted
	}
	return t
}

// foldIn folds a stored report with the records that target it. keep,
// when not nil, is given the sealed bodies opened with the age identity
// (opener), to cache them.
func (s *Store) foldIn(txn *badger.Txn, id incident.ID, keep keepFunc) (incident.ReportView, error) {
	v, _, err := s.foldTargets(txn, id, keep)
	return v, err
}

// foldTargets is foldIn that also says whether records target the report.
func (s *Store) foldTargets(txn *badger.Txn, id incident.ID, keep keepFunc) (incident.ReportView, bool, error) {
	rep, err := getRecord(txn, id)
	if err != nil {
		return incident.ReportView{}, false, err
	}
	if rep.Kind != incident.KindReport {
		return incident.ReportView{}, false, fmt.Errorf("%s is %s record, not a report", id, incident.Article(string(rep.Kind)))
	}
	rel, err := related(txn, id)
	if err != nil {
		return incident.ReportView{}, false, err
	}
	v, err := incident.FoldReportOpen(rep, rel, s.ms, s.opts.Now(), s.opener(txn, keep))
	return v, len(rel) > 0, err
}

// indexNew indexes a report just written to b under seq, from its decoded
// record: nothing targets a report before it is stored (amends,
// retractions and reviews of it wait in quarantine), so its view is the
// fold of the report alone, and it has no old entries to remove.
func (s *Store) indexNew(b *batch, rec *incident.Signed, seq uint32) error {
	v, err := incident.FoldReportOpen(rec, nil, s.ms, s.opts.Now(), s.opener(b.Txn, s.batchKeep(b)))
	if err != nil {
		return err
	}
	t := tupleOf(v, false)
	return putTuple(b, seq, v.Author, nil, &t)
}

// putTuple writes a report's tuple and index entries, and moves the
// summary counters and heard times from its old tuple (nil: none, the
// report is new here; its index entries are already deleted).
func putTuple(b *batch, seq uint32, author incident.Author, old, t *tuple) error {
	for _, k := range t.entries(seq, author) {
		var v []byte
		if bytes.HasPrefix(k, locatedPrefix) {
			var err error
			if v, err = cbor.Marshal(t.point()); err != nil {
				return err
			}
		}
		if err := b.Set(k, v); err != nil {
			return err
		}
	}
	tb, err := cbor.Marshal(t)
	if err != nil {
		return err
	}
	if err := b.Set(viewKey(seq), tb); err != nil {
		return err
	}
	if err := countDeltas(b, old, t); err != nil {
		return err
	}
	return heardReport(b, author, old, t)
}

// seqOf returns the seq of a stored report.
func seqOf(txn *badger.Txn, id incident.ID, created int64) (uint32, error) {
	v, err := getValue(txn, kindKey(incident.KindReport, created, id))
	if err != nil {
		return 0, err
	}
	if len(v) != 4 {
		return 0, fmt.Errorf("report %s has no index number (a layout 1 store not migrated?)", id)
	}
	return binary.BigEndian.Uint32(v), nil
}

// reindex recomputes a report's indexed tuple and moves its index entries.
func (s *Store) reindex(b *batch, id incident.ID) error {
	txn := b.Txn
	v, err := s.foldIn(txn, id, s.batchKeep(b))
	if errors.Is(err, ErrNotFound) {
		return nil // an amend that arrived before its report waits in quarantine, so this is rare
	}
	if err != nil {
		return err
	}
	seq, err := seqOf(txn, id, v.Created)
	if err != nil {
		return err
	}
	var ot *tuple
	if old, err := getValue(txn, viewKey(seq)); err == nil {
		t, err := decodeTuple(old)
		if err != nil {
			return err
		}
		for _, k := range t.entries(seq, v.Author) {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		ot = &t
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	t := tupleOf(v, true)
	return putTuple(b, seq, v.Author, ot, &t)
}

// Report returns a report's current view.
func (s *Store) Report(id incident.ID) (incident.ReportView, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var v incident.ReportView
	fill := &readFill{s: s}
	err := s.view(func(txn *badger.Txn) error {
		defer fill.flush()
		var err error
		v, err = s.foldIn(txn, id, fill.keep)
		return err
	})
	return v, err
}

// Filter selects reports. Zero fields match everything.
type Filter struct {
	Category string // a category code, or a family name ("polling")
	Station  string
	Author   incident.Author
	Status   string // unreviewed, verified, corroborated, rejected, escalated
	Since    time.Time
	Until    time.Time
	Limit    int
}

// List returns the reports that match f, ordered by occurred time (oldest
// first). It walks the most selective index and never scans every record.
func (s *Store) List(f Filter) ([]incident.ReportView, error) {
	var out []incident.ReportView
	err := s.scan(f, func(vs []incident.ReportView) error {
		if out == nil {
			out = vs // a bulk scan's views, kept as they are
			return nil
		}
		out = append(out, vs...)
		return nil
	})
	return out, err
}

var errStop = errors.New("stop")

// Scan calls fn for each report that matches f, in occurred-time order
// (f.Limit reports at most, when set). fn returning an error stops the
// scan with that error.
//
// A scan of many reports (bulkFold) reads their records in key order
// and folds them on every core, then calls fn in order: an export of a
// million reports reads at close to the rate Badger iterates, instead of
// looking each record up at random. A scan of a few looks them up.
func (s *Store) Scan(f Filter, fn func(incident.ReportView) error) error {
	return s.scan(f, func(vs []incident.ReportView) error {
		for i := range vs {
			if err := fn(vs[i]); err != nil {
				return err
			}
			vs[i] = incident.ReportView{} // let what fn has written go
		}
		return nil
	})
}

// scan gives emit the views of the reports that match f, in order, in
// runs: one report at a time when it looks them up, all of them at once
// from a bulk scan.
func (s *Store) scan(f Filter, emit func([]incident.ReportView) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil {
		return ErrNoMission
	}
	fill := &readFill{s: s}
	err := s.view(func(txn *badger.Txn) error {
		defer fill.flush()
		refs, err := s.scanRefs(txn, f)
		if err != nil {
			return err
		}
		if s.bulk(refs) {
			views := make([]incident.ReportView, len(refs))
			err := s.bulkFold(refs, fill, func() func(int, *incident.ReportView) error {
				return func(i int, v *incident.ReportView) error { views[i] = *v; return nil }
			})
			if err != nil {
				return err
			}
			return emit(views)
		}
		for _, r := range refs {
			v, _, err := s.foldTargets(txn, r.id, fill.keep)
			if err != nil {
				return err
			}
			if err := emit([]incident.ReportView{v}); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// ScanEach calls fn for each report that matches f, as Scan does, but on
// every core at once and in no particular order: i is the report's place
// in the order Scan gives (occurred time, oldest first; f.Limit reports
// at most). each is called once on each goroutine that folds reports,
// before its first one, and returns the fn that goroutine calls, so that
// each has what it writes to of its own. The view is fn's only during
// the call. ScanEach returns how many reports matched: every i below it
// was given once. fn returning an error stops the scan with that error.
//
// It is for what is made of each report alone (an export's rows), which
// then need no view kept: Scan holds every view of a bulk scan until the
// last is folded.
func (s *Store) ScanEach(f Filter, each func() func(i int, v *incident.ReportView) error) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil {
		return 0, ErrNoMission
	}
	fill := &readFill{s: s}
	n := 0
	err := s.view(func(txn *badger.Txn) error {
		defer fill.flush()
		refs, err := s.scanRefs(txn, f)
		if err != nil {
			return err
		}
		n = len(refs)
		if s.bulk(refs) {
			return s.bulkFold(refs, fill, each)
		}
		fn := each()
		for i, r := range refs {
			v, _, err := s.foldTargets(txn, r.id, fill.keep)
			if err != nil {
				return err
			}
			if err := fn(i, &v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// bulk reports whether a scan of refs reads the records in key order
// (bulkFold) rather than looking each up.
func (s *Store) bulk(refs []scanRef) bool {
	return len(refs) >= bulkMin && len(refs) >= int(s.seq)/bulkShare
}

// bulkMin and bulkShare decide when Scan reads records in key order: for
// bulkMin reports at least, and at least one in bulkShare of those held
// (below that, looking the few up costs less than iterating past the
// rest).
var (
	bulkMin   = 2048 // a variable for tests
	bulkShare = 16
)

// scanRef is a report a scan reads: its ID and whether records target it.
type scanRef struct {
	id       incident.ID
	targeted bool
}

// scanRefs are the reports that match f, in occurred-time order, f.Limit
// at most. A scan of the whole time index reads the tuples in their own
// key order, not one lookup per report: on every core (allRefs), while
// this goroutine walks the time index's keys.
func (s *Store) scanRefs(txn *badger.Txn, f Filter) ([]scanRef, error) {
	ref := func(t *tuple) scanRef {
		r := scanRef{targeted: t.Flags&flagTargeted != 0 || t.Created == 0} // a tuple before layout 5 says nothing
		copy(r.id[:], t.ID)
		return r
	}
	var refs []scanRef
	if f.Author.IsZero() && f.Status == "" && f.Station == "" && f.Category == "" && (f.Limit == 0 || f.Limit >= bulkMin) {
		var bySeq []seqRef
		var refsErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			bySeq, refsErr = s.allRefs(s.seq)
		}()
		var seqs []uint32
		err := walkTime(txn, f, func(seq uint32) error {
			seqs = append(seqs, seq)
			if f.Limit > 0 && len(seqs) >= f.Limit {
				return errStop
			}
			return nil
		})
		<-done
		if refsErr != nil {
			return nil, refsErr
		}
		refs = make([]scanRef, 0, len(seqs))
		for _, seq := range seqs {
			if int(seq) >= len(bySeq) || !bySeq[seq].held {
				return refs, fmt.Errorf("index entry for report number %d, which has no tuple", seq)
			}
			refs = append(refs, bySeq[seq].scanRef)
		}
		if errors.Is(err, errStop) {
			err = nil
		}
		return refs, err
	}
	err := walk(txn, f, func(_ incident.ID, t *tuple) error {
		refs = append(refs, ref(t))
		if f.Limit > 0 && len(refs) >= f.Limit {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return refs, err
}

// tupleHead is the part of a tuple a scan needs (the rest is skipped
// when decoding).
type tupleHead struct {
	ID      []byte `cbor:"9,keyasint"`
	Created int64  `cbor:"10,keyasint,omitempty"`
	Flags   uint8  `cbor:"11,keyasint,omitempty"`
}

// read decodes the head of an encoded tuple. A scan of every report
// reads every tuple before it reads a record, one after another, so the
// head is picked out of the map by hand (its ID is left in b): a tuple
// is a map of small integer keys to integers and byte and text strings.
// Anything else in it, and anything read that is not what putTuple
// writes, is left to cbor.Unmarshal, which says what is wrong.
func (h *tupleHead) read(b []byte) error {
	if !h.readFast(b) {
		*h = tupleHead{}
		return cbor.Unmarshal(b, h)
	}
	return nil
}

func (h *tupleHead) readFast(b []byte) bool {
	major, pairs, n, ok := incident.CBORHead(b)
	if !ok || major != 5 || pairs > 64 {
		return false
	}
	b = b[n:]
	*h = tupleHead{}
	var seen [3]bool // keys 9, 10, 11: a repeated one is cbor's to judge
	for range pairs {
		km, k, n, ok := incident.CBORHead(b)
		if !ok || km != 0 {
			return false
		}
		if k >= 9 && k <= 11 {
			if seen[k-9] {
				return false
			}
			seen[k-9] = true
		}
		b = b[n:]
		vm, arg, n, ok := incident.CBORHead(b)
		if !ok {
			return false
		}
		switch vm {
		case 0, 1: // unsigned and negative integers
			if arg > math.MaxInt64 {
				return false
			}
			b = b[n:]
			switch {
			case k == 10 && vm == 0:
				h.Created = int64(arg)
			case k == 10:
				h.Created = -1 - int64(arg)
			case k == 11 && vm == 0 && arg <= math.MaxUint8:
				h.Flags = uint8(arg)
			case k == 9 || k == 11:
				return false
			}
		case 2, 3: // byte and text strings
			if arg > uint64(len(b)-n) {
				return false
			}
			if k == 9 {
				if vm != 2 {
					return false
				}
				h.ID = b[n : n+int(arg)]
			} else if k == 10 || k == 11 {
				return false
			}
			b = b[n+int(arg):]
		default:
			return false
		}
	}
	return len(b) == 0
}

// seqRef is a scan's reference to the report under one seq.
type seqRef struct {
	scanRef
	held bool
}

// allRefs reads every tuple's head, by seq, iterating v/ in key order:
// the seqs cut in one span per core, each read with an iterator in a
// read transaction of its own (called with s.mu held, so nothing is
// written meanwhile, as in bulkFold).
func (s *Store) allRefs(seqs uint32) ([]seqRef, error) {
	out := make([]seqRef, seqs)
	workers := uint64(max(1, runtime.GOMAXPROCS(0)))
	span := max((uint64(seqs)+workers-1)/workers, 1024)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w, lo := 0, uint64(0); ; w, lo = w+1, lo+span {
		hi := lo + span
		last := hi >= uint64(seqs)
		if last {
			hi = math.MaxUint32 + 1 // the last span reads to the end: a tuple beyond seqs is an error
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			txn := s.db.NewTransaction(false)
			defer txn.Discard()
			errs[w] = readRefs(txn, out, uint32(lo), hi)
		}()
		if last {
			break
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readRefs reads the heads of the tuples of seqs lo to hi (excluded)
// into out.
func readRefs(txn *badger.Txn, out []seqRef, lo uint32, hi uint64) error {
	prefix := key(tView)
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false // tuples are small: their values are in the tables, read in place
	o.Prefix = prefix
	it := txn.NewIterator(o)
	defer it.Close()
	seqs := uint32(len(out))
	for it.Seek(key(tView, be32(lo))); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		k := item.Key()
		if len(k) != len(prefix)+4 {
			continue
		}
		seq := binary.BigEndian.Uint32(k[len(prefix):])
		if uint64(seq) >= hi {
			return nil
		}
		if seq >= seqs {
			return fmt.Errorf("tuple of report number %d, beyond the next number %d", seq, seqs)
		}
		r := &out[seq]
		var h tupleHead
		err := item.Value(func(v []byte) error {
			if err := h.read(v); err != nil {
				return err
			}
			if len(h.ID) != len(incident.ID{}) {
				return fmt.Errorf("tuple %d names no report", seq)
			}
			copy(r.id[:], h.ID) // h.ID is v's until the callback returns
			return nil
		})
		if err != nil {
			return fmt.Errorf("tuple %d: %w", seq, err)
		}
		r.held = true
		r.targeted = h.Flags&flagTargeted != 0 || h.Created == 0 // a tuple before layout 5 says nothing
	}
	return nil
}

// walkTime calls fn with the seq of each entry of the time index between
// f.Since and f.Until, in order, reading keys only.
func walkTime(txn *badger.Txn, f Filter, fn func(seq uint32) error) error {
	prefix := indexPrefix(idxTime, "")
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	o.Prefix = prefix
	it := txn.NewIterator(o)
	defer it.Close()
	seek := prefix
	if !f.Since.IsZero() {
		seek = append(append([]byte(nil), prefix...), be64(f.Since.UnixMilli())...)
	}
	for it.Seek(seek); it.ValidForPrefix(prefix); it.Next() {
		k := it.Item().Key()
		if len(k) != len(prefix)+indexSuffix {
			continue
		}
		occ, seq := seqOfIndexKey(k)
		if !f.Until.IsZero() && occ > f.Until.UnixMilli() {
			break
		}
		if err := fn(seq); err != nil {
			return err
		}
	}
	return nil
}

// walk calls fn with the ID and tuple of each report that matches f (its
// Limit aside), in occurred-time order. It walks the most selective index
// (the author's when f names one: tuples do not repeat the author) and
// reads tuples only.
func walk(txn *badger.Txn, f Filter, fn func(incident.ID, *tuple) error) error {
	index, value := idxTime, ""
	family := ""
	switch {
	case !f.Author.IsZero():
		index, value = idxAuthor, string(f.Author[:])
	case f.Status != "":
		index, value = idxStatus, f.Status
	case f.Station != "":
		index, value = idxStation, f.Station
	case f.Category != "" && strings.Contains(f.Category, "."):
		index, value = idxCategory, f.Category
	}
	if f.Category != "" && !strings.Contains(f.Category, ".") {
		family = f.Category
	}
	prefix := indexPrefix(index, value)
	o := badger.DefaultIteratorOptions
	o.PrefetchValues = false
	o.Prefix = prefix
	it := txn.NewIterator(o)
	defer it.Close()
	seek := prefix
	if !f.Since.IsZero() {
		seek = append(append([]byte(nil), prefix...), be64(f.Since.UnixMilli())...)
	}
	tk := key(tView, be32(0))
	for it.Seek(seek); it.ValidForPrefix(prefix); it.Next() {
		k := it.Item().Key()
		if len(k) != len(prefix)+indexSuffix {
			continue // not an entry of this index and value
		}
		occ, seq := seqOfIndexKey(k)
		if !f.Until.IsZero() && occ > f.Until.UnixMilli() {
			break
		}
		binary.BigEndian.PutUint32(tk[2:], seq)
		item, err := txn.Get(tk)
		if err != nil {
			return err
		}
		var t tuple
		if err := item.Value(func(raw []byte) error { return cbor.Unmarshal(raw, &t) }); err != nil {
			return err
		}
		if (f.Status != "" && t.Status != f.Status) ||
			(f.Station != "" && t.Station != f.Station) ||
			(f.Category != "" && family == "" && t.Category != f.Category) ||
			(family != "" && incident.FamilyOf(t.Category) != family) {
			continue
		}
		var id incident.ID
		copy(id[:], t.ID)
		if err := fn(id, &t); err != nil {
			return err
		}
	}
	return nil
}

// Dimension is a report field CountReports groups by.
type Dimension int

const (
	ByCategory Dimension = iota + 1 // the category code (the latest amendment's)
	BySeverity                      // 1–4
	ByArea                          // the admin area ("" when none)
	ByStation                       // the polling station code ("" when none)
	ByStatus                        // the review status
	ByHour                          // the occurred time, truncated to the hour (UTC)
)

// Group is one combination of the grouped fields; the fields not grouped
// by are zero. A sealed report this device cannot read counts under empty
// fields (its status and, for ByHour, its claimed creation time aside).
type Group struct {
	Category string
	Severity uint64
	Area     string
	Station  string
	Status   string
	Hour     time.Time
}

// CountReports counts the reports that match f (its Limit is ignored),
// grouped by the given dimensions (none: one Group, the zero one, holding
// the total). It reads index entries and tuples only, never a record, so
// a dashboard can call it on every refresh: the counts equal what Scan
// would give for the same filter, grouped the same way. It reads one
// snapshot of the store and does not block writes. Safe for concurrent use.
func (s *Store) CountReports(f Filter, by ...Dimension) (map[Group]int, error) {
	for _, d := range by {
		if d < ByCategory || d > ByHour {
			return nil, fmt.Errorf("CountReports: unknown dimension %d", d)
		}
	}
	// Tuples need no mission state: writers are not held up while it counts.
	s.mu.Lock()
	joined := s.ms != nil
	s.mu.Unlock()
	if !joined {
		return nil, ErrNoMission
	}
	out := map[Group]int{}
	err := s.view(func(txn *badger.Txn) error {
		return walk(txn, f, func(_ incident.ID, t *tuple) error {
			var g Group
			for _, d := range by {
				switch d {
				case ByCategory:
					g.Category = t.Category
				case BySeverity:
					g.Severity = t.Severity
				case ByArea:
					g.Area = t.Area
				case ByStation:
					g.Station = t.Station
				case ByStatus:
					g.Status = t.Status
				case ByHour:
					const hour = 3_600_000
					g.Hour = time.UnixMilli(t.Occurred - ((t.Occurred%hour)+hour)%hour).UTC()
				}
			}
			out[g]++
			return nil
		})
	})
	return out, err
}
