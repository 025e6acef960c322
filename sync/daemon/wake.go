package daemon

import "time"

// WakeSchedule is when a backgrounded daemon wakes to sync: First after
// it goes to the background, then twice as long after each window, at
// most Max; each time it stays on the network for Window. Zero fields take
// DefaultWake's values. A negative First never wakes (Background is then
// Pause that Resume ends).
type WakeSchedule struct {
	First, Max, Window time.Duration
}

// DefaultWake wakes after 1, 2, 4, 8, 16 and then every 30 minutes, for
// 30 s each time: long enough to find the LAN through mDNS, redial, say
// hello and reconcile what a phone writes in a day.
var DefaultWake = WakeSchedule{First: time.Minute, Max: 30 * time.Minute, Window: 30 * time.Second}

func (w WakeSchedule) orDefault() WakeSchedule {
	if w.First == 0 {
		w.First = DefaultWake.First
	}
	if w.Max == 0 {
		w.Max = DefaultWake.Max
	}
	if w.Window == 0 {
		w.Window = DefaultWake.Window
	}
	return w
}

// never is a wait longer than any background stay.
const never = time.Duration(1<<63 - 1)

// Delay is the wait before wake i (0 is the first): First·2^i, at most
// Max.
func (w WakeSchedule) Delay(i int) time.Duration {
	w = w.orDefault()
	if w.First < 0 {
		return never
	}
	d := w.First
	for ; i > 0 && d < w.Max; i-- {
		if d > w.Max/2 {
			return w.Max
		}
		d *= 2
	}
	return min(d, w.Max)
}

// Clock is the time source of the wake schedule.
type Clock interface {
	// After delivers the time once d has passed, like time.After.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
