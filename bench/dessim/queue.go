package dessim

// Event kinds.
const (
	evNone      uint8 = iota // a lost gossip copy: occupies the link, delivers nothing
	evWrite                  // node writes rec
	evGossip                 // rec arrives at node from peer by gossip
	evLinkUp                 // link comes up (the heal)
	evPeriodic               // node's periodic reconciliation round
	evRecon                  // a reconciliation frame arrives at side of sess
	evZero                   // the initiator's empty frame arrives at the responder
	evWants                  // the peer's wants and 'E' arrive at side
	evRecords                // a frame of records arrives at side
	evDone                   // the peer's 'D' arrives at side
	evStored                 // side's node has checked and stored a frame of records (RecordCPU)
	evValidated              // node has checked rec, which came by gossip from peer (RecordCPU)
)

// event is one thing that happens at a simulated time. Events at the
// same time run in the order they were scheduled (seq), so a link
// direction delivers in order and a run is reproducible.
type event struct {
	at   int64
	seq  uint64
	kind uint8
	side uint8 // the session side the event happens at
	node int32
	peer int32
	rec  int32
	link int32
	sess *session
	data []byte
	recs []int32
}

// queue is a binary min-heap of events by (at, seq). Hand-written
// rather than container/heap, which would box every event (millions at
// 10,000 nodes) in an interface.
type queue struct {
	h   []event
	seq uint64
}

func (q *queue) len() int { return len(q.h) }

func (q *queue) peek() *event { return &q.h[0] }

func less(a, b *event) bool { return a.at < b.at || (a.at == b.at && a.seq < b.seq) }

func (q *queue) push(e event) {
	if e.kind == evNone {
		return
	}
	q.seq++
	e.seq = q.seq
	q.h = append(q.h, e)
	i := len(q.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(&q.h[i], &q.h[p]) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *queue) pop() event {
	top := q.h[0]
	last := len(q.h) - 1
	q.h[0] = q.h[last]
	q.h[last] = event{}
	q.h = q.h[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && less(&q.h[l], &q.h[m]) {
			m = l
		}
		if r < last && less(&q.h[r], &q.h[m]) {
			m = r
		}
		if m == i {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return top
}
