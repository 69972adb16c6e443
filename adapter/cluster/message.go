package cluster

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/internal/wire"
	"github.com/gosio/socketio/parser"
)

// MessageType is the type of a cluster message (socket.io-adapter's
// MessageType; the numbers are the wire's).
type MessageType int

// The message types of socket.io-adapter's ClusterAdapter.
const (
	InitialHeartbeat       MessageType = 1
	Heartbeat              MessageType = 2
	Broadcast              MessageType = 3
	SocketsJoin            MessageType = 4
	SocketsLeave           MessageType = 5
	DisconnectSockets      MessageType = 6
	FetchSockets           MessageType = 7
	FetchSocketsResponse   MessageType = 8
	ServerSideEmit         MessageType = 9
	ServerSideEmitResponse MessageType = 10
	BroadcastClientCount   MessageType = 11
	BroadcastAck           MessageType = 12
	AdapterClose           MessageType = 13
)

// IsResponse reports whether messages of type t answer a request of one
// server (they go to that server only).
func (t MessageType) IsResponse() bool {
	switch t {
	case FetchSocketsResponse, ServerSideEmitResponse, BroadcastClientCount, BroadcastAck:
		return true
	}
	return false
}

// mayCarryBinary reports whether messages of type t may hold binary
// values (Node's adapters write those in msgpack when they do).
func (t MessageType) mayCarryBinary() bool {
	switch t {
	case Broadcast, FetchSocketsResponse, ServerSideEmit, ServerSideEmitResponse, BroadcastAck:
		return true
	}
	return false
}

// Message is one message of the cluster protocol: {type, data, uid, nsp}
// on the wire. Transports move its encoded form (Encode, EncodeData) and
// decode what they receive (Decode, DecodeData).
type Message struct {
	Type MessageType
	// UID is the id of the server that sent it.
	UID string
	// Nsp is the namespace it belongs to.
	Nsp  string
	data *wire.Object
}

// RequestID is the id of the request the message makes or answers ("" for
// none).
func (m *Message) RequestID() string {
	v, _ := m.data.Get("requestId")
	s, _ := v.(string)
	return s
}

// Rooms returns the rooms a Broadcast message is addressed to (nil for
// every socket), for transports with a channel per room.
func (m *Message) Rooms() []string {
	ov, _ := m.data.Get("opts")
	o, _ := ov.(*wire.Object)
	r, _ := o.Get("rooms")
	if r == nil {
		return nil
	}
	if s, ok := r.([]string); ok {
		return s
	}
	return wire.AsStrings(r)
}

// HasBinary reports whether the message carries binary values; the
// Node adapters encode those messages in msgpack.
func (m *Message) HasBinary() bool {
	return m.Type.mayCarryBinary() && wire.HasBinary(m.data)
}

func (m *Message) tree() *wire.Object {
	if m.data == nil {
		// Heartbeats and ADAPTER_CLOSE have no data (Node leaves the key
		// out).
		return wire.Obj("type", int64(m.Type), "uid", m.UID, "nsp", m.Nsp)
	}
	return wire.Obj("type", int64(m.Type), "data", m.data, "uid", m.UID, "nsp", m.Nsp)
}

// Encode writes the message as the sharded Redis and PostgreSQL adapters
// of Node do: msgpack when it carries binary values, JSON otherwise.
func (m *Message) Encode() ([]byte, error) {
	if m.HasBinary() {
		return m.EncodeMsgpack()
	}
	return m.EncodeJSON()
}

// EncodeJSON writes the message as JSON (Buffers as Node's JSON.stringify
// writes them).
func (m *Message) EncodeJSON() ([]byte, error) {
	b, _, err := wire.EncodeJSON(m.tree(), wire.NodeBuffers)
	return b, err
}

// EncodeMsgpack writes the message in msgpack, as notepack.io does.
func (m *Message) EncodeMsgpack() ([]byte, error) {
	return wire.EncodeMsgpack(m.tree())
}

// EncodeData writes only the message's data: msgpack (binary true) when it
// carries binary values, JSON otherwise (the Redis Streams entry form).
func (m *Message) EncodeData() (b []byte, binary bool, err error) {
	return wire.EncodeData(m.data, m.Type.mayCarryBinary())
}

// MayCarryBinary reports whether messages of type t may hold binary
// values.
func (t MessageType) MayCarryBinary() bool { return t.mayCarryBinary() }

// Decode reads a message written by Encode, EncodeJSON or EncodeMsgpack
// (JSON when it starts with '{').
func Decode(b []byte) (*Message, error) {
	o, err := wire.DecodePayload(b)
	if err != nil {
		return nil, err
	}
	tv, _ := o.Get("type")
	typ, ok := wire.AsInt(tv)
	if !ok {
		return nil, errors.New("cluster: message without type")
	}
	m := &Message{Type: MessageType(typ)}
	dv, _ := o.Get("data")
	m.data, _ = dv.(*wire.Object)
	uv, _ := o.Get("uid")
	m.UID, _ = uv.(string)
	nv, _ := o.Get("nsp")
	m.Nsp, _ = nv.(string)
	return m, nil
}

// DecodeData builds a message from its parts, data as EncodeData wrote it
// (JSON when it starts with '{', msgpack otherwise; empty for none).
func DecodeData(typ, uid, nsp string, data []byte) (*Message, error) {
	t, err := strconv.Atoi(typ)
	if err != nil {
		return nil, fmt.Errorf("cluster: bad message type %q", typ)
	}
	m := &Message{Type: MessageType(t), UID: uid, Nsp: nsp}
	if len(data) == 0 {
		return m, nil
	}
	o, err := wire.DecodePayload(data)
	if err != nil {
		return nil, err
	}
	m.data = o
	return m, nil
}

// BroadcastPacket reads the packet and options of a Broadcast message,
// for transports that replay stored broadcasts (connection state
// recovery).
func (m *Message) BroadcastPacket() (*parser.Packet, adapter.BroadcastOptions, error) {
	if m.Type != Broadcast {
		return nil, adapter.BroadcastOptions{}, errors.New("cluster: not a broadcast")
	}
	pv, _ := m.data.Get("packet")
	if po, ok := pv.(*wire.Object); ok {
		if _, has := po.Get("nsp"); !has {
			// Node's emitters may leave the namespace out: the message's
			// it is, on a copy (the message is not changed by reading it).
			cp := &wire.Object{Keys: append(po.Keys[:len(po.Keys):len(po.Keys)], "nsp"), Vals: append(po.Vals[:len(po.Vals):len(po.Vals)], m.Nsp)}
			pv = cp
		}
	}
	p, err := wire.TreePacket(pv, m.Nsp)
	if err != nil {
		return nil, adapter.BroadcastOptions{}, err
	}
	ov, _ := m.data.Get("opts")
	return p, wire.TreeOpts(ov), nil
}

func newMessage(typ MessageType, uid, nsp string, kv ...any) *Message {
	if len(kv) == 0 {
		return &Message{Type: typ, UID: uid, Nsp: nsp}
	}
	return &Message{Type: typ, UID: uid, Nsp: nsp, data: wire.Obj(kv...)}
}

// NewBroadcast returns the Broadcast message a server (or an emitter, uid
// "emitter") publishes for p to the sockets opts selects; requestID is set
// for a broadcast whose acks are relayed back ("" for none).
func NewBroadcast(uid, nsp string, p *parser.Packet, opts adapter.BroadcastOptions, requestID string) (*Message, error) {
	data, err := wire.DecodeJSON(p.Data, p.Attachments)
	if err != nil {
		return nil, err
	}
	pt := wire.Obj("type", int64(2), "data", data)
	if requestID == "" {
		return newMessage(Broadcast, uid, nsp, "packet", pt, "opts", wire.OptsTree(opts, true)), nil
	}
	return newMessage(Broadcast, uid, nsp, "packet", pt, "requestId", requestID, "opts", wire.OptsTree(opts, true)), nil
}
