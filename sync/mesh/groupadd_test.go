package mesh

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// slowStore stands in for a store whose AddMany takes a while (a disk
// sync): it answers each record with its own ID.
type slowStore struct {
	Store
	calls atomic.Int64
}

func (s *slowStore) AddMany(raws [][]byte, source string, _ func(int)) ([]store.Result, error) {
	s.calls.Add(1)
	time.Sleep(5 * time.Millisecond)
	out := make([]store.Result, len(raws))
	for i, raw := range raws {
		out[i] = store.Result{ID: incident.IDOf(raw), Outcome: store.Accepted, Err: fmt.Errorf("%s", source)}
	}
	return out, nil
}

// Concurrent callers each get their own record's result, from fewer
// commits than callers, and the source each gave.
func TestGroupAddAnswersEveryCaller(t *testing.T) {
	var g groupAdd
	st := &slowStore{}
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw := []byte(fmt.Sprintf("record %d", i))
			src := fmt.Sprintf("gossip:%d", i%3)
			r := g.add(st, raw, src)
			if r.ID != incident.IDOf(raw) || r.Err.Error() != src {
				t.Errorf("caller %d got the result for %s from %v", i, r.ID, r.Err)
			}
		}()
	}
	wg.Wait()
	if c := st.calls.Load(); c >= n {
		t.Errorf("%d commits for %d records", c, n)
	} else {
		t.Logf("%d commits for %d records", c, n)
	}
	if g.running || len(g.queue) > 0 {
		t.Errorf("left running %v with %d queued", g.running, len(g.queue))
	}
}
