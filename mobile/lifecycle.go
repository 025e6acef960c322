package mobile

import (
	"sync"
	"time"
)

// Engine is what the lifecycle needs of the mesh engine; *mesh.Engine
// implements it.
type Engine interface {
	Pause()
	Resume()
}

// Lifecycle pauses the mesh while the app is in the background and
// resumes it in front. It implements app.Lifecycle. Its methods may be
// called from any goroutine.
type Lifecycle struct {
	// Engine returns the running engine, or nil while there is none (no
	// mission yet, or the store is locked).
	Engine func() Engine
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time

	mu       sync.Mutex
	paused   Engine
	pausedAt time.Time
	away     time.Duration
}

func (l *Lifecycle) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Background pauses the running engine. Calling it twice pauses once.
func (l *Lifecycle) Background() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.paused != nil || l.Engine == nil {
		return
	}
	e := l.Engine()
	if e == nil {
		return
	}
	e.Pause()
	l.paused, l.pausedAt = e, l.now()
}

// Foreground resumes the engine Background paused: it reconnects and
// reconciles with every peer at once.
func (l *Lifecycle) Foreground() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.paused == nil {
		return
	}
	l.paused.Resume()
	l.away += l.now().Sub(l.pausedAt)
	l.paused = nil
}

// Paused reports whether the engine is paused by the lifecycle.
func (l *Lifecycle) Paused() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.paused != nil
}

// Away is the total time spent in the background so far.
func (l *Lifecycle) Away() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.away
}
