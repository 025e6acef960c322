package mesh

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/internal/testkit"
)

// slowStore stands in for a store whose AddMany takes a while (a disk
// sync): the first call waits for release, so callers pile up behind it.
// It answers each record with its own ID.
type slowStore struct {
	Store
	calls   atomic.Int64
	release chan struct{}
}

func (s *slowStore) AddMany(raws [][]byte, source string, _ func(int)) ([]store.Result, error) {
	if s.calls.Add(1) == 1 {
		<-s.release
	}
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
	st := &slowStore{release: make(chan struct{})}
	release := sync.OnceFunc(func() { close(st.release) })
	defer release() // a failed wait below frees the callers too
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
	// Every other caller queued behind the first commit, which waits.
	testkit.Eventually(t, 10*time.Second, "the callers did not queue behind the first commit", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return st.calls.Load() == 1 && len(g.queue) == n-1
	})
	release()
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
