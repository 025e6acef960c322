package mobile

import (
	"sync"
	"time"
)

// Daemon is what the lifecycle drives: the composition root
// (*daemon.Root) implements it, and so does the running *daemon.Daemon.
type Daemon interface {
	// Background takes the mesh off the network and wakes it for short
	// sync windows on a backoff while the OS lets the process run.
	Background()
	// Resume puts it back on the network at once and reconciles.
	Resume()
}

// Lifecycle takes the mesh off the network while the app is in the
// background and puts it back in front. It implements app.Lifecycle. Its
// methods may be called from any goroutine.
//
// Wire it on phones only: desktop drivers report the window losing focus
// as going to the background, and a coordinator's laptop must stay
// connected while another window is in front.
type Lifecycle struct {
	// Daemon returns the root (or its running daemon), or nil while there
	// is none (the store is locked). A root that is not on the network yet
	// (no mission) ignores Background and Resume.
	Daemon func() Daemon
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time

	mu       sync.Mutex
	paused   Daemon
	pausedAt time.Time
	away     time.Duration
}

func (l *Lifecycle) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Background sends the running daemon to the background. Calling it
// twice does it once.
func (l *Lifecycle) Background() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.paused != nil || l.Daemon == nil {
		return
	}
	d := l.Daemon()
	if d == nil {
		return
	}
	d.Background()
	l.paused, l.pausedAt = d, l.now()
}

// Foreground resumes the daemon Background sent away: it reconnects and
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

// Paused reports whether the lifecycle holds the daemon in the
// background.
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
