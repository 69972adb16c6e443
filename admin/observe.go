package admin

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/engineio/packet"
	"github.com/gosio/socketio/parser"
)

// observer returns what the instrumentation watches on the server: the
// connections and their packets for the statistics, always; the sockets,
// rooms and events in development mode. Each function returns at once
// after Close.
func (in *Instrumentation) observer() socketio.Observer {
	ob := socketio.Observer{
		ConnOpened: func(c *engineio.Conn) {
			if in.closed.Load() {
				return
			}
			in.events.add(time.Now(), evRawConnection, "", 1)
			if c.Transport() == engineio.Polling {
				in.polling.add(c)
			}
		},
		ConnUpgraded: func(c *engineio.Conn, transport string) {
			in.polling.remove(c)
			if in.dev && !in.closed.Load() {
				in.connUpgraded(c, transport)
			}
		},
		ConnClosed: func(c *engineio.Conn, reason string, _ error) {
			in.polling.remove(c)
			if !in.closed.Load() {
				in.events.add(time.Now(), evRawDisconnection, reason, 1)
			}
		},
		// Node counts the engine packets that carry data: messages (a
		// ping or pong carries none).
		EnginePacketIn: func(_ *engineio.Conn, t packet.Type, size int) {
			if t == packet.Message && !in.closed.Load() {
				in.events.addPackets(time.Now(), true, size)
			}
		},
		EnginePacketOut: func(_ *engineio.Conn, t packet.Type, size int) {
			if t == packet.Message && !in.closed.Load() {
				in.events.addPackets(time.Now(), false, size)
			}
		},
		SocketConnecting: func(s *socketio.Socket) func(error) {
			if s.Namespace() != in.nsp {
				return nil
			}
			return func(err error) {
				if err != nil { // refused, or gone before it connected
					in.pending.Delete(s)
				}
			}
		},
	}
	if !in.dev {
		return ob
	}
	ob.SocketConnected = in.socketConnected
	ob.SocketDisconnected = in.socketDisconnected
	ob.SocketDataSet = in.socketDataSet
	ob.RoomJoined = func(n *socketio.Namespace, room, id string) {
		if !in.closed.Load() {
			in.broadcast("room_joined", n.Name(), room, id, isoTime(time.Now()))
		}
	}
	ob.RoomLeft = func(n *socketio.Namespace, room, id string) {
		if !in.closed.Load() {
			in.broadcast("room_left", n.Name(), room, id, isoTime(time.Now()))
		}
	}
	ob.EventReceived = in.eventReceived
	ob.PacketOut = in.packetOut
	return ob
}

func (in *Instrumentation) socketConnected(s *socketio.Socket) {
	if in.closed.Load() {
		return
	}
	c := s.Conn()
	in.connsMu.Lock()
	in.conns[c] = append(in.conns[c], s)
	in.connsMu.Unlock()
	in.broadcast("socket_connected", serializeSocket(s), isoTime(time.Now()))
}

func (in *Instrumentation) socketDisconnected(s *socketio.Socket, reason string) {
	c := s.Conn()
	in.connsMu.Lock()
	if socks := slices.DeleteFunc(in.conns[c], func(o *socketio.Socket) bool { return o == s }); len(socks) > 0 {
		in.conns[c] = socks
	} else {
		delete(in.conns, c)
	}
	in.connsMu.Unlock()
	if !in.closed.Load() {
		in.broadcast("socket_disconnected", s.Namespace().Name(), s.ID(), reason, isoTime(time.Now()))
	}
}

// socketDataSet reports SetData on a connected socket (data set by a
// connection middleware is in socket_connected).
func (in *Instrumentation) socketDataSet(s *socketio.Socket) {
	if in.closed.Load() || !s.Connected() {
		return
	}
	in.broadcast("socket_updated", struct {
		ID   string `json:"id"`
		Nsp  string `json:"nsp"`
		Data any    `json:"data"`
	}{s.ID(), s.Namespace().Name(), serializeData(s.Data())})
}

// connUpgraded reports the new transport of each socket of c.
func (in *Instrumentation) connUpgraded(c *engineio.Conn, transport string) {
	in.connsMu.RLock()
	socks := slices.Clone(in.conns[c])
	in.connsMu.RUnlock()
	for _, s := range socks {
		in.broadcast("socket_updated", struct {
			ID        string `json:"id"`
			Nsp       string `json:"nsp"`
			Transport string `json:"transport"`
		}{s.ID(), s.Namespace().Name(), transport})
	}
}

// socketOf returns the socket of c in the namespace, or nil.
func (in *Instrumentation) socketOf(c *engineio.Conn, nsp string) *socketio.Socket {
	in.connsMu.RLock()
	defer in.connsMu.RUnlock()
	for _, s := range in.conns[c] {
		if s.Namespace().Name() == nsp {
			return s
		}
	}
	return nil
}

// eventReceived reports an event a client sent, outside the admin
// namespace, before its handlers run (the ack, if asked for, is not an
// argument).
func (in *Instrumentation) eventReceived(ctx context.Context, ev *socketio.Event) (context.Context, func(error)) {
	s := ev.Socket()
	if in.closed.Load() || s.Namespace() == in.nsp {
		return ctx, nil
	}
	args := ev.Args()
	var all any
	if len(args.Attachments()) == 0 {
		raw := make([]json.RawMessage, args.Len())
		for i := range raw {
			raw[i] = args.Raw(i)
		}
		data, err := parser.EventData(ev.Name, raw...)
		if err != nil {
			return ctx, nil
		}
		all = data
	} else {
		vals, err := args.Values()
		if err != nil {
			return ctx, nil
		}
		all = append([]any{ev.Name}, vals...)
	}
	in.broadcast("event_received", s.Namespace().Name(), s.ID(), all, isoTime(time.Now()))
	return ctx, nil
}

// packetOut reports an event written to a socket outside the admin
// namespace (a broadcast is reported once per recipient).
func (in *Instrumentation) packetOut(c *engineio.Conn, p *parser.Packet, _ int) {
	if (p.Type != parser.Event && p.Type != parser.BinaryEvent) || p.Namespace == in.nsp.Name() || in.closed.Load() {
		return
	}
	s := in.socketOf(c, p.Namespace)
	if s == nil {
		return // not connected yet (events replayed to a recovered socket)
	}
	var all any = json.RawMessage(p.Data)
	if len(p.Attachments) > 0 {
		v, err := parser.Reconstruct(p.Data, p.Attachments)
		if err != nil {
			return
		}
		all = v
	}
	in.broadcast("event_sent", p.Namespace, s.ID(), all, isoTime(time.Now()))
}
