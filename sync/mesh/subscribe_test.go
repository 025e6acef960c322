package mesh

import "testing"

// Every subscriber gets every result; one that falls behind loses only
// its own, and the engine never blocks; a cancelled subscription closes
// and gets nothing more.
func TestSubscribersFanOut(t *testing.T) {
	var s subscribers
	fast, cancelFast := s.subscribe(8)
	slow, cancelSlow := s.subscribe(1)
	for i := range 3 {
		s.publish(SyncResult{Rounds: i}) // never blocks, though slow is full after one
	}
	for i := range 3 {
		if r := <-fast; r.Rounds != i {
			t.Fatalf("fast subscriber got round %d, want %d", r.Rounds, i)
		}
	}
	if r := <-slow; r.Rounds != 0 {
		t.Fatalf("slow subscriber got round %d first, want 0", r.Rounds)
	}
	if got := s.dropped.Load(); got != 2 {
		t.Fatalf("dropped %d, want 2 (the slow subscriber's own)", got)
	}
	cancelSlow()
	cancelSlow() // twice is harmless
	s.publish(SyncResult{Rounds: 9})
	if r, ok := <-slow; ok {
		t.Fatalf("a cancelled subscription got %+v", r)
	}
	if r := <-fast; r.Rounds != 9 {
		t.Fatalf("fast subscriber got %+v after the other cancelled", r)
	}
	cancelFast()
}
