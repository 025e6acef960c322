package store

import (
	"errors"
	gosync "sync"

	"github.com/dgraph-io/badger/v4"
)

// The hot keys: the summary counters (S/, summary.go) and the heard
// times (H/, heard.go). Nearly every report stored reads and writes a
// few of them (its author's and station's heard times, its status,
// category, station and hour counters), and the same few hundred keys
// recur in every AddMany batch. Read from Badger each time, they cost
// a memtable and table lookup apiece, about a tenth of storing a report
// on one core (vigil-bench ingest.store, 100k reports). hotCache keeps
// their committed values instead.
//
// It holds committed values only: a batch notes its own writes of hot
// keys (batch.hot) and hands them over once its commit succeeds; a
// batch discarded or dropped hands over nothing. Every write to the
// database goes through a batch (restoreInto writes a database no Store
// has open yet), and batch.Set and batch.Delete note any hot key, so
// the cache cannot miss a write.
type hotCache struct {
	mu gosync.Mutex
	m  map[string]hotValue
}

// hotValue is a hot key's committed value; absent: the key is not stored.
type hotValue struct {
	v      []byte
	absent bool
}

// maxHotCache bounds the cache: a national mission's stations and
// observers with their heard times and counters fit, and past it the
// cache starts again empty.
const maxHotCache = 1 << 17

func isHot(k []byte) bool {
	return len(k) >= 2 && k[1] == '/' && (k[0] == tSummary || k[0] == tHeard)
}

func (c *hotCache) get(k []byte) (hotValue, bool) {
	c.mu.Lock()
	v, ok := c.m[string(k)]
	c.mu.Unlock()
	return v, ok
}

func (c *hotCache) put(k string, v hotValue) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxHotCache {
		c.m = map[string]hotValue{}
	}
	c.m[k] = v
	c.mu.Unlock()
}

// apply takes a committed batch's writes of hot keys.
func (c *hotCache) apply(w map[string]hotValue) {
	if len(w) == 0 {
		return
	}
	c.mu.Lock()
	if c.m == nil || len(c.m)+len(w) > maxHotCache {
		c.m = map[string]hotValue{}
	}
	for k, v := range w {
		c.m[k] = v
	}
	c.mu.Unlock()
}

// noteHot records a write of a hot key in b, to hand to the cache once b
// commits.
func (b *batch) noteHot(k, v []byte, del bool) {
	if b.hotw == nil {
		b.hotw = map[string]hotValue{}
	}
	if del {
		b.hotw[string(k)] = hotValue{absent: true}
	} else {
		b.hotw[string(k)] = hotValue{v: append([]byte(nil), v...)}
	}
}

// getHot reads hot key k as b sees it: b's own writes, then the
// committed value (cached, or read and cached). ok is false when k is
// not stored. The value must not be modified.
func (b *batch) getHot(k []byte) (v []byte, ok bool, err error) {
	if w, seen := b.hotw[string(k)]; seen {
		return w.v, !w.absent, nil
	}
	if b.hot != nil {
		if c, seen := b.hot.get(k); seen {
			return c.v, !c.absent, nil
		}
	}
	item, err := b.Txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		if b.hot != nil {
			b.hot.put(string(k), hotValue{absent: true})
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if v, err = item.ValueCopy(nil); err != nil {
		return nil, false, err
	}
	if b.hot != nil {
		b.hot.put(string(k), hotValue{v: v})
	}
	return v, true, nil
}
