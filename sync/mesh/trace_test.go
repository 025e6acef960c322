package mesh_test

import (
	"fmt"
	"sync"

	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vigil-mesh/vigil/incident"
)

// msgTrace records what one engine's GossipSub did with each message (by
// record ID: the mesh's message ID is the hash of the record's bytes), for
// a test to print when a gossiped record did not arrive.
type msgTrace struct {
	mu     sync.Mutex
	events map[incident.ID][]string
}

func (m *msgTrace) Trace(evt *pb.TraceEvent) {
	var ids [][]byte
	var other []byte
	switch evt.GetType() {
	case pb.TraceEvent_PUBLISH_MESSAGE:
		ids = append(ids, evt.GetPublishMessage().GetMessageID())
	case pb.TraceEvent_REJECT_MESSAGE:
		ids, other = append(ids, evt.GetRejectMessage().GetMessageID()), evt.GetRejectMessage().GetReceivedFrom()
	case pb.TraceEvent_DUPLICATE_MESSAGE:
		ids, other = append(ids, evt.GetDuplicateMessage().GetMessageID()), evt.GetDuplicateMessage().GetReceivedFrom()
	case pb.TraceEvent_DELIVER_MESSAGE:
		ids, other = append(ids, evt.GetDeliverMessage().GetMessageID()), evt.GetDeliverMessage().GetReceivedFrom()
	case pb.TraceEvent_RECV_RPC:
		ids, other = metaIDs(evt.GetRecvRPC().GetMeta()), evt.GetRecvRPC().GetReceivedFrom()
	case pb.TraceEvent_SEND_RPC:
		ids, other = metaIDs(evt.GetSendRPC().GetMeta()), evt.GetSendRPC().GetSendTo()
	case pb.TraceEvent_DROP_RPC:
		ids, other = metaIDs(evt.GetDropRPC().GetMeta()), evt.GetDropRPC().GetSendTo()
	}
	for _, raw := range ids {
		var id incident.ID
		if len(raw) == len(id) {
			copy(id[:], raw)
			line := evt.GetType().String()
			if other != nil {
				if p, err := peer.IDFromBytes(other); err == nil {
					line += " " + p.String()
				}
			}
			if evt.GetType() == pb.TraceEvent_REJECT_MESSAGE {
				line += " (" + evt.GetRejectMessage().GetReason() + ")"
			}
			m.mu.Lock()
			if m.events == nil {
				m.events = map[incident.ID][]string{}
			}
			m.events[id] = append(m.events[id], line)
			m.mu.Unlock()
		}
	}
}

func metaIDs(meta *pb.TraceEvent_RPCMeta) [][]byte {
	var out [][]byte
	for _, msg := range meta.GetMessages() {
		out = append(out, msg.GetMessageID())
	}
	for _, ih := range meta.GetControl().GetIhave() {
		out = append(out, ih.GetMessageIDs()...)
	}
	for _, iw := range meta.GetControl().GetIwant() {
		out = append(out, iw.GetMessageIDs()...)
	}
	return out
}

// of lists what happened to message id, in order.
func (m *msgTrace) of(id incident.ID) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprint(m.events[id])
}
