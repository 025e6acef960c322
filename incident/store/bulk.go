package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
)

// bulkFold folds the reports refs names on every core, and gives each
// view to the fold function of the goroutine that folded it (each is
// called once per goroutine, before its first report), with the report's
// place in refs. The views come in no particular order; a view is the
// callee's only during the call.
//
// The records are read in key order (the r/ table is keyed by ID, so a
// walk of the time index would look each one up at random, which took
// most of an export's time). The reports, sorted by ID, are cut into
// runs, and each goroutine takes the next run, seeks to its first record
// with an iterator of its own and reads on to its last: the reading
// (Badger's decryption and decompression of tables and value log
// entries) is spread over the cores as well as the decoding and
// folding, and a record's value is read and decoded in place, never
// copied. Only a report that records target reads more (its t/ entries
// and their records). Called with s.mu held, inside txn (which reads
// nothing here: each goroutine reads in a transaction of its own, a
// Badger transaction is not for concurrent use, and as s.mu is held no
// record is stored meanwhile).
func (s *Store) bulkFold(refs []scanRef, fill *readFill, each func() func(pos int, v *incident.ReportView) error) error {
	if len(refs) == 0 {
		return nil
	}
	order := idOrder(refs)

	workers := max(1, runtime.GOMAXPROCS(0))
	// Runs small enough that the cores finish together (a report with
	// amendments and reviews costs more than one without), large enough
	// that a seek per run costs nothing.
	run := min(max(len(order)/(workers*8), bulkRunMin), 1<<16)
	var next atomic.Int64
	var stop atomic.Bool
	var mu sync.Mutex // guards fill and failed
	var failed error
	fail := func(err error) {
		mu.Lock()
		if failed == nil {
			failed = err
		}
		mu.Unlock()
		stop.Store(true)
	}
	keep := func(id incident.ID, body []byte) {
		mu.Lock()
		fill.keep(id, body)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rt := s.db.NewTransaction(false)
			defer rt.Discard()
			// The reports' kept copies and opened bodies (sealed ones),
			// read in key order as the records are.
			kept, opened := newStepper(rt, tKept), newStepper(rt, tOpened)
			defer kept.close()
			defer opened.close()
			var current incident.ID // the report being folded
			open := s.openerWith(rt, keep, nil, func(id incident.ID) ([]byte, []byte, bool) {
				if id != current {
					return nil, nil, false // a record that targets it: looked up
				}
				return kept.value(id), opened.value(id), true
			})
			fn := each()
			prefix := key(tRecord)
			o := badger.DefaultIteratorOptions
			// Values are read as the records are reached, on this
			// goroutine: the prefetch's goroutine per value would read
			// the other kinds' records between the reports too.
			o.PrefetchValues = false
			o.Prefix = prefix
			it := rt.NewIterator(o)
			defer it.Close()
			var buf []byte
			for !stop.Load() {
				lo := int(next.Add(1)-1) * run
				if lo >= len(order) {
					return
				}
				kept.restart()
				opened.restart()
				if err := s.foldRun(it, rt, refs, order[lo:min(lo+run, len(order))], &buf, &current, open, fn); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return failed
}

// foldRun folds the reports of one run (positions in refs, in ID order),
// reading their records with it from the first one on, each into buf,
// and setting current to the report it folds.
func (s *Store) foldRun(it *badger.Iterator, txn *badger.Txn, refs []scanRef, run []int32, buf *[]byte, current *incident.ID, open incident.Opener, fn func(int, *incident.ReportView) error) error {
	prefix := key(tRecord)
	next := 0
	for it.Seek(recordKey(refs[run[0]].id)); it.ValidForPrefix(prefix) && next < len(run); it.Next() {
		item := it.Item()
		ref := &refs[run[next]]
		c := bytes.Compare(item.Key()[len(prefix):], ref.id[:])
		if c < 0 {
			continue // another kind's record
		}
		if c > 0 {
			return fmt.Errorf("%w: report %s", ErrNotFound, ref.id)
		}
		// Into the run's one buffer: the record decoded from it is folded
		// before the next is read, and the view holds copies of what it
		// shows.
		var err error
		if *buf, err = item.ValueCopy((*buf)[:0]); err != nil {
			return err
		}
		*current = ref.id
		v, err := s.foldRaw(txn, *ref, *buf, open)
		if err != nil {
			return err
		}
		if err := fn(int(run[next]), &v); err != nil {
			return err
		}
		next++
	}
	if next < len(run) {
		return fmt.Errorf("%w: report %s", ErrNotFound, refs[run[next]].id)
	}
	return nil
}

// foldRaw folds the report stored as raw (read under ref.id, so decoded
// as this device's own record: incident.DecodeOwn), with the records
// that target it when ref says there are any. raw is not kept.
func (s *Store) foldRaw(txn *badger.Txn, ref scanRef, raw []byte, open incident.Opener) (incident.ReportView, error) {
	rep, err := incident.DecodeOwn(raw, ref.id)
	if err != nil {
		return incident.ReportView{}, fmt.Errorf("report %s: %w", ref.id, err)
	}
	if rep.Kind != incident.KindReport {
		return incident.ReportView{}, fmt.Errorf("%s is %s record, not a report", ref.id, incident.Article(string(rep.Kind)))
	}
	var rel []*incident.Signed
	if ref.targeted {
		if rel, err = related(txn, ref.id); err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return incident.ReportView{}, err
		}
	}
	return incident.FoldReportOpen(rep, rel, s.ms, s.opts.Now(), open)
}

// bulkRunMin is the fewest reports a run of bulkFold holds (a variable
// for tests).
var bulkRunMin = 256

// idOrder returns the positions of refs sorted by ID. IDs are hashes, so
// their first 8 bytes nearly always decide, compared as one number.
func idOrder(refs []scanRef) []int32 {
	type posKey struct {
		key uint64
		pos int32
	}
	keys := make([]posKey, len(refs))
	for i := range refs {
		keys[i] = posKey{binary.BigEndian.Uint64(refs[i].id[:8]), int32(i)}
	}
	slices.SortFunc(keys, func(a, b posKey) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return bytes.Compare(refs[a.pos].id[:], refs[b.pos].id[:])
	})
	order := make([]int32, len(refs))
	for i, k := range keys {
		order[i] = k.pos
	}
	return order
}

// stepper reads the values of one key table (t/<id> keys) for IDs asked
// in ascending order, as bulkFold reads a run's records: by stepping an
// iterator on, so that each table block is read once, not once per
// lookup. Values are the stepper's until the next call.
type stepper struct {
	txn     *badger.Txn
	t       byte
	it      *badger.Iterator // made at the first value asked
	prefix  []byte
	started bool
	buf     []byte
}

func newStepper(txn *badger.Txn, t byte) *stepper {
	return &stepper{txn: txn, t: t, prefix: key(t)}
}

// restart is for a run of IDs that starts again lower.
func (st *stepper) restart() { st.started = false }

// value is the value under id, nil when there is none (or it cannot be
// read: the opener then does without it, as with a failed lookup).
func (st *stepper) value(id incident.ID) []byte {
	if st.it == nil {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		o.Prefix = st.prefix
		st.it = st.txn.NewIterator(o)
	}
	k := key(st.t, id[:])
	// A few steps on; past that, a seek (few of the reports may be
	// sealed, and the table holds other records' bodies too).
	steps := 0
	for st.started && st.it.ValidForPrefix(st.prefix) && bytes.Compare(st.it.Item().Key(), k) < 0 {
		if steps++; steps > 16 {
			st.started = false
			break
		}
		st.it.Next()
	}
	if !st.started {
		st.it.Seek(k)
		st.started = true
	}
	if !st.it.ValidForPrefix(st.prefix) || !bytes.Equal(st.it.Item().Key(), k) {
		return nil
	}
	v, err := st.it.Item().ValueCopy(st.buf[:0])
	if err != nil {
		return nil
	}
	st.buf = v
	return v
}

func (st *stepper) close() {
	if st.it != nil {
		st.it.Close()
	}
}
