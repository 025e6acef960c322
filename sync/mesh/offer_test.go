package mesh

import (
	"testing"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/sync/recon"
)

// An offer honours each ID of its snapshot once, pushed or wanted: a
// second want, a want of a pushed or sent item and a want of an ID not
// offered are stray; positions walk in the set's (time, ID) order.
func TestOfferWantsOnce(t *testing.T) {
	const n = 200 // more than three words of bits
	items := make([]recon.Item, n)
	for i := range items {
		items[i].Time = uint64(n - i) // ID order is the reverse of time order
		items[i].ID[0] = byte(i)
		items[i].ID[1] = 7
	}
	o := newOffer(recon.NewSet(items))
	at := func(i int) incident.ID { return o.set.At(i).ID }
	for i := range n {
		if p, ok := o.find(at(i)); !ok || p != i {
			t.Fatalf("find(At(%d)) = %d, %v", i, p, ok)
		}
	}
	var unknown incident.ID
	unknown[1] = 8
	if o.has(unknown) {
		t.Fatal("an ID never offered is in the snapshot")
	}
	o.pushAll([][32]byte{at(3)})
	var body []byte
	for _, i := range []int{5, 5, 3, 130, 199, 64} {
		id := at(i)
		body = append(body, id[:]...)
	}
	body = append(body, unknown[:]...)
	if stray := o.want(body); stray != 3 { // 5 again, 3 pushed, unknown
		t.Fatalf("%d stray wants, want 3", stray)
	}
	if !o.take(64) || o.take(64) {
		t.Fatal("an item taken twice")
	}
	id := at(64)
	if stray := o.want(id[:]); stray != 4 {
		t.Fatalf("a want of a sent item is not stray: %d", stray)
	}
	var got []int
	w := o.wants()
	for i := w.next(0); i >= 0; i = w.next(i + 1) {
		got = append(got, i)
	}
	if want := []int{5, 64, 130, 199}; len(got) != len(want) || got[0] != 5 || got[1] != 64 || got[2] != 130 || got[3] != 199 {
		t.Fatalf("wanted positions %v, want %v", got, want)
	}
}
