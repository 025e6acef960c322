package mesh

import (
	"errors"
	"sync"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// groupAdd commits the gossip validator's records in groups. GossipSub
// validates messages concurrently, and store.Add syncs every record it
// stores while holding the store's lock: a burst of gossip (a carrier
// publishing what it brought, many observers at a poll's close) then
// waits for one disk sync per record
// at every node it crosses. Here a caller that finds no commit running
// leads: it stores everything queued (its own record included) with one
// AddMany per source, hands every caller its result, passes the lead to
// the first caller queued meanwhile, if any, and returns. A record alone
// is stored at once, as Add would.
//
// Every record is judged exactly as Add judges it (AddMany's contract),
// and no caller returns before its record is durably stored.
type groupAdd struct {
	mu      sync.Mutex
	queue   []addReq
	running bool // a leader is committing
}

type addReq struct {
	raw    []byte
	source string
	done   chan addDone // buffered (1)
}

// addDone answers a queued caller: its result, or the lead.
type addDone struct {
	res  store.Result
	lead bool
}

func (g *groupAdd) add(st Store, raw []byte, source string) store.Result {
	req := addReq{raw: raw, source: source, done: make(chan addDone, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, req)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if !lead {
		if d := <-req.done; !d.lead {
			return d.res
		}
	}
	g.mu.Lock()
	batch := g.queue // this caller's request is in it
	g.queue = nil
	g.mu.Unlock()
	commitGroup(st, batch)
	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].done <- addDone{lead: true} // it waits; its buffer is empty
	} else {
		g.running = false
	}
	g.mu.Unlock()
	return (<-req.done).res
}

// commitGroup stores a batch, one AddMany per source in order of first
// appearance, and answers every request.
func commitGroup(st Store, batch []addReq) {
	var sources []string
	bySource := map[string][]addReq{}
	for _, r := range batch {
		if _, ok := bySource[r.source]; !ok {
			sources = append(sources, r.source)
		}
		bySource[r.source] = append(bySource[r.source], r)
	}
	for _, src := range sources {
		reqs := bySource[src]
		raws := make([][]byte, len(reqs))
		for i, r := range reqs {
			raws[i] = r.raw
		}
		results, err := st.AddMany(raws, src, nil)
		for i, r := range reqs {
			switch {
			case err != nil:
				// The sync failed: nothing is known to be durable.
				r.done <- addDone{res: store.Result{ID: incident.IDOf(r.raw), Outcome: store.Rejected, Err: err}}
			case i < len(results):
				r.done <- addDone{res: results[i]}
			default:
				r.done <- addDone{res: store.Result{ID: incident.IDOf(r.raw), Outcome: store.Rejected, Err: errShortResults}}
			}
		}
	}
}

var errShortResults = errors.New("mesh: the store returned fewer results than records")
