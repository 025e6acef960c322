package store

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
)

// bulkScan folds the reports refs names and returns their views, in the
// order of refs. It reads their records in key order (the r/ table is
// keyed by ID, so a walk of the time index would look each one up at
// random, which took most of an export's time) and hands them to a
// folder per core.
// Only a report that records target reads more (its t/ entries and their
// records). Called with s.mu held, inside txn.
func (s *Store) bulkScan(txn *badger.Txn, refs []scanRef, fill *readFill) ([]incident.ReportView, error) {
	order := make([]int32, len(refs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return bytes.Compare(refs[a].id[:], refs[b].id[:]) })

	type job struct {
		pos int32
		raw []byte
	}
	views := make([]incident.ReportView, len(refs))
	jobs := make(chan []job, 8)
	var mu sync.Mutex // guards fill and failed
	var failed error
	fail := func(err error) {
		mu.Lock()
		if failed == nil {
			failed = err
		}
		mu.Unlock()
	}
	keep := func(id incident.ID, body []byte) {
		mu.Lock()
		fill.keep(id, body)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each folder reads in a transaction of its own: a Badger
			// transaction is not for concurrent use. s.mu is held, so no
			// record is stored meanwhile.
			rt := s.db.NewTransaction(false)
			defer rt.Discard()
			open := s.opener(rt, keep)
			for batch := range jobs {
				for _, j := range batch {
					v, err := s.foldRaw(rt, refs[j.pos], j.raw, open)
					if err != nil {
						fail(err)
						continue
					}
					views[j.pos] = v
				}
			}
		}()
	}
	err := func() error {
		defer close(jobs)
		prefix := key(tRecord)
		o := badger.DefaultIteratorOptions
		o.PrefetchSize = 256 // values read ahead, as a bare iteration does
		o.Prefix = prefix
		it := txn.NewIterator(o)
		defer it.Close()
		const batchSize = 256
		batch := make([]job, 0, batchSize)
		next := 0
		for it.Seek(recordKey(refs[order[0]].id)); it.ValidForPrefix(prefix) && next < len(order); it.Next() {
			item := it.Item()
			want := refs[order[next]].id
			c := bytes.Compare(item.Key()[len(prefix):], want[:])
			if c < 0 {
				continue
			}
			if c > 0 {
				return fmt.Errorf("%w: report %s", ErrNotFound, want)
			}
			raw, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			batch = append(batch, job{order[next], raw})
			next++
			if len(batch) == batchSize {
				jobs <- batch
				batch = make([]job, 0, batchSize)
			}
		}
		if len(batch) > 0 {
			jobs <- batch
		}
		if next < len(order) {
			return fmt.Errorf("%w: report %s", ErrNotFound, refs[order[next]].id)
		}
		return nil
	}()
	wg.Wait()
	if err == nil {
		err = failed
	}
	if err != nil {
		return nil, err
	}
	return views, nil
}

// foldRaw folds the report stored as raw, with the records that target it
// when ref says there are any.
func (s *Store) foldRaw(txn *badger.Txn, ref scanRef, raw []byte, open incident.Opener) (incident.ReportView, error) {
	rep, err := incident.DecodeStored(raw)
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
