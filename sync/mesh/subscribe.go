package mesh

import (
	"sync"
	"sync/atomic"
)

// subscribers fans each finished reconciliation out to every subscriber,
// each with its own buffer: a full buffer drops that subscriber's result
// only, so no reader can lose another's events and none can block the
// engine.
type subscribers struct {
	mu      sync.Mutex
	subs    map[*subscription]struct{}
	dropped atomic.Uint64
}

type subscription struct {
	ch chan SyncResult
}

func (s *subscribers) subscribe(depth int) (<-chan SyncResult, func()) {
	if depth < 1 {
		depth = 1
	}
	sub := &subscription{ch: make(chan SyncResult, depth)}
	s.mu.Lock()
	if s.subs == nil {
		s.subs = map[*subscription]struct{}{}
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	var once sync.Once
	return sub.ch, func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.subs, sub)
			close(sub.ch) // under mu: publish sends under it too
			s.mu.Unlock()
		})
	}
}

func (s *subscribers) publish(r SyncResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		select {
		case sub.ch <- r:
		default:
			s.dropped.Add(1)
		}
	}
}
