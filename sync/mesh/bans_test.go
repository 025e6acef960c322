package mesh

import (
	"testing"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

func TestAuthorBans(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	author := func(i byte) incident.Author { return incident.Author{i} }

	b := newAuthorBans(clock, 3)
	if _, ok := b.banned(author(1)); ok {
		t.Fatal("an author is banned before any ban")
	}
	if end := b.ban(author(1), 10*time.Minute); !end.Equal(now.Add(10 * time.Minute)) {
		t.Fatalf("ban ends %v, want %v", end, now.Add(10*time.Minute))
	}
	now = now.Add(9 * time.Minute)
	if _, ok := b.banned(author(1)); !ok {
		t.Fatal("the ban ended early")
	}
	// A shorter ban does not shorten a longer one.
	if end := b.ban(author(1), time.Second); !end.Equal(now.Add(time.Minute)) {
		t.Fatalf("a second ban moved the end to %v", end)
	}
	now = now.Add(time.Minute)
	if _, ok := b.banned(author(1)); ok {
		t.Fatal("the ban outlived its time")
	}
	if b.len() != 0 {
		t.Fatalf("an ended ban is still held (%d)", b.len())
	}

	// At the bound: expired bans go first, then the one that ends soonest.
	b.ban(author(1), time.Minute)
	b.ban(author(2), 3*time.Minute)
	b.ban(author(3), 2*time.Minute)
	b.ban(author(4), 5*time.Minute)
	if b.len() != 3 {
		t.Fatalf("%d bans held, bound 3", b.len())
	}
	for i, want := range map[byte]bool{1: false, 2: true, 3: true, 4: true} {
		if _, ok := b.banned(author(i)); ok != want {
			t.Errorf("author %d banned %v, want %v", i, ok, want)
		}
	}
	now = now.Add(150 * time.Second) // author 3's ban has ended
	b.ban(author(5), time.Minute)
	for i, want := range map[byte]bool{2: true, 3: false, 4: true, 5: true} {
		if _, ok := b.banned(author(i)); ok != want {
			t.Errorf("after pruning: author %d banned %v, want %v", i, ok, want)
		}
	}
}
