package socketio

import (
	"context"
	"slices"
	"time"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/engineio/packet"
	"github.com/gosio/socketio/parser"
)

// Observer watches what a Server does: the one place where metrics,
// traces, the Admin UI (package admin) and debug logs hook in. Add one
// with Server.Observe; every field is optional.
//
// The functions are called synchronously, on the goroutine where the
// event happens (a connection's reader, a socket's handler goroutine, the
// goroutine that emits), with no library lock held. They must be quick,
// must not block, and must be safe for concurrent use; they must not keep
// or modify the packets and slices they are given. A panic in one is not
// recovered.
//
// Cost: a server without observers pays one atomic load where an event
// could be reported; an observer pays only for the fields it sets (a
// broadcast to N sockets calls PacketOut N times).
type Observer struct {
	// ConnOpened is called for each new Engine.IO session, before the
	// client has seen the handshake (c.Transport() is the first transport).
	ConnOpened func(c *engineio.Conn)
	// ConnUpgraded is called when a session has moved to a new transport
	// (polling to websocket).
	ConnUpgraded func(c *engineio.Conn, transport string)
	// ConnClosed is called once per session, with one of engineio's Reason
	// constants and the error behind it, if any: a client that could not
	// keep up with what was sent to it is closed with cause
	// engineio.ErrBufferFull.
	ConnClosed func(c *engineio.Conn, reason string, cause error)
	// EnginePacketIn and EnginePacketOut see every Engine.IO packet of the
	// sessions opened after Observe (messages, pings, pongs, ...), with its
	// encoded size in bytes; a binary message counts its raw bytes.
	EnginePacketIn  func(c *engineio.Conn, t packet.Type, size int)
	EnginePacketOut func(c *engineio.Conn, t packet.Type, size int)

	// PacketIn sees every Socket.IO packet received once decoded (binary
	// attachments included), on the connection's reader, before it is
	// handled; size is its bytes on the wire.
	PacketIn func(c *engineio.Conn, p *parser.Packet, size int)
	// PacketOut sees every Socket.IO packet queued for a connection, with
	// its bytes on the wire (attachments included): once per recipient for
	// a broadcast. A volatile packet that is dropped is not reported here
	// but to VolatileDropped.
	PacketOut func(c *engineio.Conn, p *parser.Packet, size int)

	// SocketConnecting is called when a socket's CONNECT starts its
	// connection middlewares (also for a recovered socket that skips
	// them). The function it returns, if not nil, is called when they have
	// run, with the refusal (nil: accepted) — after it, for an accepted
	// socket, SocketConnected.
	SocketConnecting func(s *Socket) func(err error)
	// SocketConnected is called once the socket's CONNECT reply is
	// queued, before the namespace's connection handlers run.
	SocketConnected func(s *Socket)
	// SocketDisconnected is called when a connected socket disconnects,
	// with Node's reason ("client namespace disconnect", "transport
	// close", ...), just before it leaves its rooms (s.Rooms still lists
	// them; RoomLeft follows for each); its disconnecting and disconnect
	// handlers run after it.
	SocketDisconnected func(s *Socket, reason string)
	// SocketDataSet is called after SetData (Node's Admin UI reports
	// socket.data changes; Go has no proxy to see them otherwise).
	SocketDataSet func(s *Socket)
	// RoomJoined and RoomLeft report room membership changes of local
	// sockets in every namespace, a socket's own room included (the
	// adapter's join-room and leave-room); id is the socket's. They need
	// an adapter that reports room changes (adapter.RoomNotifier: the
	// in-memory adapter and the cluster adapters built on it do).
	RoomJoined func(nsp *Namespace, room, id string)
	RoomLeft   func(nsp *Namespace, room, id string)

	// EventReceived is called on the socket's goroutine before an
	// incoming event's middlewares and handlers run. ctx is the event's
	// context (Event.Context); the context returned (ctx or one derived
	// from it) becomes the event's context for the observers after this
	// one and for the handlers. The function returned, if not nil, is
	// called when the handlers have returned, with the packet middleware's
	// refusal or nil.
	EventReceived func(ctx context.Context, ev *Event) (context.Context, func(err error))
	// AckSent is called when the server answers a client's event (an Ack
	// or a typed handler's result), with the time since the event arrived.
	AckSent func(ev *Event, latency time.Duration)
	// AckReceived is called when a client answers an acknowledgement the
	// server asked for (EmitWithAck, a broadcast's acks), with the time
	// since it was asked for.
	AckReceived func(s *Socket, latency time.Duration)

	// VolatileDropped is called for each volatile packet not sent to a
	// socket because its connection was not ready for it.
	VolatileDropped func(s *Socket, p *parser.Packet)
	// Overflow is called when a socket's connection is closed because its
	// incoming events piled up past MaxPendingEvents or MaxPendingBytes.
	Overflow func(s *Socket, err error)
	// AdapterError is called when an adapter reports an operation that
	// failed without a caller to return the error to (a cluster message
	// not published, an answer to another server dropped); see
	// adapter.ErrorReporter.
	AdapterError func(nsp *Namespace, err error)
}

// observers is the merged set of a server's observers: one slice per
// field, so that an unused field costs one length check.
type observers struct {
	connOpened         []func(*engineio.Conn)
	connUpgraded       []func(*engineio.Conn, string)
	connClosed         []func(*engineio.Conn, string, error)
	enginePacketIn     []func(*engineio.Conn, packet.Type, int)
	enginePacketOut    []func(*engineio.Conn, packet.Type, int)
	packetIn           []func(*engineio.Conn, *parser.Packet, int)
	packetOut          []func(*engineio.Conn, *parser.Packet, int)
	socketConnecting   []func(*Socket) func(error)
	socketConnected    []func(*Socket)
	socketDisconnected []func(*Socket, string)
	socketDataSet      []func(*Socket)
	roomJoined         []func(*Namespace, string, string)
	roomLeft           []func(*Namespace, string, string)
	eventReceived      []func(context.Context, *Event) (context.Context, func(error))
	ackSent            []func(*Event, time.Duration)
	ackReceived        []func(*Socket, time.Duration)
	volatileDropped    []func(*Socket, *parser.Packet)
	overflow           []func(*Socket, error)
	adapterError       []func(*Namespace, error)
}

// add returns a copy of o (nil: none) with ob's functions appended.
func (o *observers) add(ob *Observer) *observers {
	n := new(observers)
	if o != nil {
		*n = *o
	}
	if f := ob.ConnOpened; f != nil {
		n.connOpened = append(slices.Clip(n.connOpened), f)
	}
	if f := ob.ConnUpgraded; f != nil {
		n.connUpgraded = append(slices.Clip(n.connUpgraded), f)
	}
	if f := ob.ConnClosed; f != nil {
		n.connClosed = append(slices.Clip(n.connClosed), f)
	}
	if f := ob.EnginePacketIn; f != nil {
		n.enginePacketIn = append(slices.Clip(n.enginePacketIn), f)
	}
	if f := ob.EnginePacketOut; f != nil {
		n.enginePacketOut = append(slices.Clip(n.enginePacketOut), f)
	}
	if f := ob.PacketIn; f != nil {
		n.packetIn = append(slices.Clip(n.packetIn), f)
	}
	if f := ob.PacketOut; f != nil {
		n.packetOut = append(slices.Clip(n.packetOut), f)
	}
	if f := ob.SocketConnecting; f != nil {
		n.socketConnecting = append(slices.Clip(n.socketConnecting), f)
	}
	if f := ob.SocketConnected; f != nil {
		n.socketConnected = append(slices.Clip(n.socketConnected), f)
	}
	if f := ob.SocketDisconnected; f != nil {
		n.socketDisconnected = append(slices.Clip(n.socketDisconnected), f)
	}
	if f := ob.SocketDataSet; f != nil {
		n.socketDataSet = append(slices.Clip(n.socketDataSet), f)
	}
	if f := ob.RoomJoined; f != nil {
		n.roomJoined = append(slices.Clip(n.roomJoined), f)
	}
	if f := ob.RoomLeft; f != nil {
		n.roomLeft = append(slices.Clip(n.roomLeft), f)
	}
	if f := ob.EventReceived; f != nil {
		n.eventReceived = append(slices.Clip(n.eventReceived), f)
	}
	if f := ob.AckSent; f != nil {
		n.ackSent = append(slices.Clip(n.ackSent), f)
	}
	if f := ob.AckReceived; f != nil {
		n.ackReceived = append(slices.Clip(n.ackReceived), f)
	}
	if f := ob.VolatileDropped; f != nil {
		n.volatileDropped = append(slices.Clip(n.volatileDropped), f)
	}
	if f := ob.Overflow; f != nil {
		n.overflow = append(slices.Clip(n.overflow), f)
	}
	if f := ob.AdapterError; f != nil {
		n.adapterError = append(slices.Clip(n.adapterError), f)
	}
	return n
}

// wantsRooms reports whether an observer follows room changes.
func (o *observers) wantsRooms() bool {
	return o != nil && (len(o.roomJoined) > 0 || len(o.roomLeft) > 0)
}

// Observe adds an observer to the server. Observers run in the order they
// were added; one cannot be removed. Engine.IO packet observers
// (EnginePacketIn, EnginePacketOut) and upgrades see only the sessions
// opened after Observe; everything else applies at once.
func (s *Server) Observe(ob Observer) {
	s.mu.Lock()
	prev := s.obs.Load()
	next := prev.add(&ob)
	s.obs.Store(next)
	var nsps []*Namespace
	if next.wantsRooms() && !prev.wantsRooms() {
		// From now on each namespace forwards its room changes; those
		// published later are hooked by ensure, under this lock too.
		for _, n := range s.nsps {
			nsps = append(nsps, n)
		}
	}
	s.mu.Unlock()
	for _, n := range nsps {
		n.forwardRoomEvents()
	}
}

// forwardRoomEvents hands the namespace's room changes to the server's
// observers (read at each change). Adapters that do not report them are
// skipped: Observer.RoomJoined documents it.
func (n *Namespace) forwardRoomEvents() {
	_ = n.OnRoomEvents(adapter.RoomEvents{
		JoinRoom: func(room adapter.Room, id adapter.SocketID) {
			for _, fn := range n.srv.obs.Load().roomJoined {
				fn(n, room, id)
			}
		},
		LeaveRoom: func(room adapter.Room, id adapter.SocketID) {
			for _, fn := range n.srv.obs.Load().roomLeft {
				fn(n, room, id)
			}
		},
	})
}

// observeConn hooks a new session's engine-level observers and reports it.
func (s *Server) observeConn(c *engineio.Conn) {
	o := s.obs.Load()
	if o == nil {
		return
	}
	for _, fn := range o.enginePacketIn {
		c.OnPacketIn(func(t packet.Type, size int) { fn(c, t, size) })
	}
	for _, fn := range o.enginePacketOut {
		c.OnPacketOut(func(t packet.Type, size int) { fn(c, t, size) })
	}
	if len(o.connUpgraded) > 0 {
		fns := o.connUpgraded
		c.OnUpgrade(func(transport string) {
			for _, fn := range fns {
				fn(c, transport)
			}
		})
	}
	for _, fn := range o.connOpened {
		fn(c)
	}
}

// packetSize is the bytes of an encoded packet on the wire.
func packetSize(enc []*engineio.Message) int {
	n := 0
	for _, m := range enc {
		n += len(m.Data())
	}
	return n
}

// observeEvent runs the EventReceived observers and returns what to call
// once the handlers have returned (nil: nothing).
func (o *observers) observeEvent(ev *Event) func(error) {
	var dones []func(error)
	for _, fn := range o.eventReceived {
		ctx, done := fn(ev.Context(), ev)
		if ctx != nil {
			ev.ctx = ctx
		}
		if done != nil {
			dones = append(dones, done)
		}
	}
	if len(dones) == 0 {
		return nil
	}
	return func(err error) {
		for i := len(dones) - 1; i >= 0; i-- {
			dones[i](err)
		}
	}
}

// observeConnecting runs the SocketConnecting observers.
func (o *observers) observeConnecting(s *Socket) func(error) {
	if o == nil || len(o.socketConnecting) == 0 {
		return nil
	}
	var dones []func(error)
	for _, fn := range o.socketConnecting {
		if done := fn(s); done != nil {
			dones = append(dones, done)
		}
	}
	return func(err error) {
		for i := len(dones) - 1; i >= 0; i-- {
			dones[i](err)
		}
	}
}
