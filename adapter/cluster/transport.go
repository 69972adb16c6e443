package cluster

import (
	"context"
	"time"

	"github.com/gosio/socketio/adapter"
)

// Transport carries the messages of one server to the others. One
// transport serves every namespace of the server (one broker connection
// for all of them, not one per namespace). Its methods are called
// concurrently.
//
// A transport does not interpret messages: it routes them by namespace
// (Message.Nsp) and, for answers, by the addressed server.
type Transport interface {
	// Publish sends m to every other server (the namespace m.Nsp of
	// each). A transport that stores broadcasts (see SessionStore) returns
	// the offset of a Broadcast, "" otherwise.
	Publish(ctx context.Context, m *Message) (offset string, err error)
	// PublishResponse sends m, an answer, to the server whose UID is to.
	PublishResponse(ctx context.Context, to string, m *Message) error
	// Subscribe starts delivering the messages of namespace nsp to
	// deliver: requests and broadcasts from the other servers, and the
	// answers addressed to this server. It returns once the subscription
	// is in place (the other servers can reach this one). deliver must
	// not be called after Unsubscribe returned. offset is the stored
	// position of a Broadcast ("" when the transport stores none).
	Subscribe(ctx context.Context, nsp string, deliver func(m *Message, offset string)) error
	// Unsubscribe stops the deliveries of namespace nsp.
	Unsubscribe(nsp string)
	// Close releases the transport; the adapter closes it when the last
	// namespace is gone.
	Close() error
}

// ServerCounter is implemented by transports that count the servers of a
// cluster themselves (Redis PUBSUB NUMSUB). Without it, servers are
// counted with heartbeats, as socket.io-adapter's ClusterAdapterWithHeartbeat
// does.
type ServerCounter interface {
	// ServerCount returns the number of servers of namespace nsp, this one
	// included.
	ServerCount(ctx context.Context, nsp string) (int, error)
}

// RoomSubscriber is implemented by transports with a channel per room
// (Redis sharded pub/sub in its dynamic modes). The adapter tells it when a
// room gets its first local member and loses its last one. The calls must
// not block on the network: a transport subscribes in the background.
type RoomSubscriber interface {
	// RoomChannel reports whether room has a channel of its own.
	RoomChannel(room string) bool
	// SubscribeRoom starts receiving the broadcasts to room of namespace nsp.
	SubscribeRoom(nsp, room string)
	// UnsubscribeRoom stops receiving them.
	UnsubscribeRoom(nsp, room string)
}

// SessionStore is implemented by transports that keep broadcasts and
// sessions in the broker, so that connection state recovery works across
// servers (Redis Streams, JetStream). Without it, sessions and missed
// packets are kept in this server's memory.
//
// The offsets the transport returns from Publish (and passes to the
// deliver function of Subscribe) must grow in the order the broadcasts
// are stored, and compare with adapter.CompareOffsets: a recovering socket
// joins its rooms, then its missed packets are read, and the live packets
// it also finds there are told apart by offset (see
// adapter.SessionRestorer).
type SessionStore interface {
	// PersistSession stores the session of a disconnected socket of
	// namespace nsp for ttl.
	PersistSession(ctx context.Context, nsp string, s *adapter.Session, ttl time.Duration) error
	// TakeSession takes the session of pid of namespace nsp out of the
	// store, without missed packets; (nil, nil) when the session or the
	// message at offset is gone.
	TakeSession(ctx context.Context, nsp, pid, offset string) (*adapter.Session, error)
	// MissedPackets returns the broadcasts of nsp stored after offset that
	// reach a socket in rooms (see Message.BroadcastPacket and Includes),
	// in offset order, the offset appended to each as its last argument.
	// It returns adapter.ErrOffsetGone when offset is no longer stored.
	MissedPackets(ctx context.Context, nsp string, rooms []string, offset string) ([]adapter.MissedPacket, error)
}

// Includes reports whether a broadcast with opts reaches a socket in rooms
// (socket.io-adapter's shouldIncludePacket).
func Includes(rooms []string, opts adapter.BroadcastOptions) bool {
	in := func(r string) bool {
		for _, x := range rooms {
			if x == r {
				return true
			}
		}
		return false
	}
	included := len(opts.Rooms) == 0
	for _, r := range opts.Rooms {
		if in(r) {
			included = true
			break
		}
	}
	if !included {
		return false
	}
	for _, r := range opts.Except {
		if in(r) {
			return false
		}
	}
	return true
}
