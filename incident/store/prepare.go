package store

import (
	"errors"
	"runtime"
	gosync "sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"

	"github.com/vigil-mesh/vigil/incident"
)

// The records of one AddMany are prepared ahead of the judging: decoded
// (canonical form and signature, the bulk of the cost), with their facts
// (facts; on one core the judging works them out for the records it
// stores), and looked up among the stored records. Records are judged one
// at a time, in order, under the store's lock, so on several cores the
// preparing runs on the others, a window of chunks ahead.

const (
	// prepChunk is how many records a goroutine prepares at a time.
	prepChunk = 32
	// prepWindow is how many chunks each goroutine may prepare ahead of
	// the judging: memory stays bounded (a few hundred decoded records)
	// however many records one call brings.
	prepWindow = 4
	// decodeWorkers is the smallest batch worth verifying on several cores.
	decodeWorkers = 16
)

// prepared is one call's records, prepared or being prepared.
type prepared struct {
	units []unit
	// With no workers, the judging prepares each unit as it reaches it.
	workers int
	ready   []chan struct{} // per chunk: closed once its units are prepared
	slots   chan struct{}   // the window: a token per chunk taken and not yet judged past
	next    atomic.Int64    // the next chunk to take
	quit    chan struct{}
	wg      gosync.WaitGroup
	freed   int // chunks whose tokens the judging gave back
	cleared int // units before this one were released
	// locked is closed once the caller holds the store's lock: from then
	// on nothing but this call writes records, so a lookup says whether a
	// record was stored before (or by) this call.
	locked chan struct{}
	snap   *badger.Txn // the judging's own lookups (no workers)
	// stored holds the IDs this call committed; together with the batch's
	// own (batch.fresh) it answers for records stored after a lookup.
	stored map[incident.ID]struct{}
}

// prepare starts preparing raws: on up to GOMAXPROCS goroutines when
// there are enough of them, otherwise as the judging reaches each one.
// The caller calls stop when done.
func (s *Store) prepare(raws [][]byte, source string) *prepared {
	p := &prepared{units: make([]unit, len(raws)), locked: make(chan struct{}), stored: map[incident.ID]struct{}{}}
	for i, raw := range raws {
		p.units[i] = unit{raw: raw, source: source, root: i}
	}
	p.workers = min(runtime.GOMAXPROCS(0), len(raws)/decodeWorkers)
	if p.workers <= 1 {
		p.workers = 0
		return p
	}
	chunks := (len(raws) + prepChunk - 1) / prepChunk
	p.ready = make([]chan struct{}, chunks)
	for k := range p.ready {
		p.ready[k] = make(chan struct{})
	}
	p.slots = make(chan struct{}, p.workers*prepWindow)
	p.quit = make(chan struct{})
	for range p.workers {
		p.wg.Add(1)
		go p.work(s.db)
	}
	return p
}

// preparedUnits wraps units decoded already (PutMany's own records).
func preparedUnits(units []unit) *prepared {
	return &prepared{units: units, locked: make(chan struct{}), stored: map[incident.ID]struct{}{}}
}

// lookIn says the caller now holds the store's lock; txn (read-only,
// opened under the lock) serves the judging's own lookups. stop discards
// it.
func (p *prepared) lookIn(txn *badger.Txn) {
	p.snap = txn
	close(p.locked)
}

// work prepares chunks in order until none is left or stop is called.
func (p *prepared) work(db *badger.DB) {
	defer p.wg.Done()
	var txn *badger.Txn
	defer func() {
		if txn != nil {
			txn.Discard()
		}
	}()
	for {
		select {
		case <-p.quit:
			return
		default:
		}
		select {
		case p.slots <- struct{}{}:
		case <-p.quit:
			return
		}
		k := int(p.next.Add(1)) - 1
		if k >= len(p.ready) {
			return
		}
		for i := k * prepChunk; i < min((k+1)*prepChunk, len(p.units)); i++ {
			if txn == nil {
				select {
				case <-p.locked:
					txn = db.NewTransaction(false)
				default:
				}
			}
			p.one(i, txn)
		}
		close(p.ready[k])
	}
}

// one prepares unit i; txn, when not nil, looks it up.
func (p *prepared) one(i int, txn *badger.Txn) {
	u := &p.units[i]
	u.rec, u.err = incident.Decode(u.raw)
	if u.rec == nil {
		return
	}
	if p.workers > 0 {
		// On one core the judging works the facts out itself, and only
		// for the records it stores (not for duplicates and rejections).
		u.facts = factsOf(u.rec)
	}
	if txn == nil {
		return
	}
	_, err := txn.Get(recordKey(u.rec.ID))
	switch {
	case err == nil:
		u.looked, u.held = true, true
	case errors.Is(err, badger.ErrKeyNotFound):
		u.looked = true
	}
}

// unit returns unit i once it is prepared.
func (p *prepared) unit(i int) unit {
	if p.workers == 0 {
		if u := &p.units[i]; u.rec == nil && u.err == nil {
			p.one(i, p.snap)
		}
		return p.units[i]
	}
	<-p.ready[i/prepChunk]
	return p.units[i]
}

// passed says the judging has moved past the units before next: their
// chunks' tokens go back, so the workers may prepare further.
func (p *prepared) passed(next int) {
	for p.workers > 0 && p.freed < len(p.ready) && (p.freed+1)*prepChunk <= next {
		<-p.slots
		p.freed++
	}
}

// committed notes what b stored and lets go of the decoded records before
// upto: a failed write takes the judging back to the last commit, never
// before it.
func (p *prepared) committed(b *batch, upto int) {
	for id := range b.fresh {
		p.stored[id] = struct{}{}
	}
	for ; p.cleared < upto; p.cleared++ {
		p.units[p.cleared].rec, p.units[p.cleared].facts = nil, nil
	}
}

// stop ends the workers and waits for them.
func (p *prepared) stop() {
	if p.quit != nil {
		close(p.quit)
		p.wg.Wait()
	}
	if p.snap != nil {
		p.snap.Discard()
	}
}
