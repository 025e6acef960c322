package mesh

import (
	"errors"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// ErrBanned is returned by the credential check for a member banned for
// invalid records (wrapped with the author and until when).
var ErrBanned = errors.New("member is banned")

// maxAuthorBans bounds the banned-author set. Only admitted members can
// earn strikes, so it never holds more authors than the mission has
// members; the bound keeps that true whatever the mission's size.
const maxAuthorBans = 4096

// authorBans is the set of banned author keys, each until a time. The
// zero value is not usable: use newAuthorBans. Not safe for concurrent
// use: the engine guards it with Engine.mu.
type authorBans struct {
	until map[incident.Author]time.Time
	now   func() time.Time
	max   int
}

func newAuthorBans(now func() time.Time, max int) *authorBans {
	return &authorBans{until: map[incident.Author]time.Time{}, now: now, max: max}
}

// ban bans a until now+d (a later ban of a banned author extends it) and
// returns when the ban ends. At the bound, expired bans go first, then
// the one that ends soonest.
func (b *authorBans) ban(a incident.Author, d time.Duration) time.Time {
	now := b.now()
	if _, ok := b.until[a]; !ok && len(b.until) >= b.max {
		b.prune(now)
		for len(b.until) >= b.max {
			var first incident.Author
			var end time.Time
			for x, u := range b.until {
				if end.IsZero() || u.Before(end) {
					first, end = x, u
				}
			}
			delete(b.until, first)
		}
	}
	end := now.Add(d)
	if cur, ok := b.until[a]; !ok || end.After(cur) {
		b.until[a] = end
	}
	return b.until[a]
}

// banned reports whether a is banned now, and until when.
func (b *authorBans) banned(a incident.Author) (time.Time, bool) {
	end, ok := b.until[a]
	if !ok {
		return time.Time{}, false
	}
	if !b.now().Before(end) {
		delete(b.until, a)
		return time.Time{}, false
	}
	return end, true
}

func (b *authorBans) prune(now time.Time) {
	for a, end := range b.until {
		if !now.Before(end) {
			delete(b.until, a)
		}
	}
}

func (b *authorBans) len() int { return len(b.until) }
