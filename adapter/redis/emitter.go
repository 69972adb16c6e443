package redis

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/adapter/cluster"
	"github.com/gosio/socketio/internal/wire"
	"github.com/gosio/socketio/parser"
)

// EmitterOptions configure an Emitter.
type EmitterOptions struct {
	// Key is the channel prefix ("socket.io" when empty), as the servers'.
	Key string
}

// Emitter sends events to the clients of a Socket.IO cluster from a
// process that is not a server, like @socket.io/redis-emitter: it only
// publishes (it is not counted as a server and cannot wait for acks).
// An Emitter is an immutable value; each method returns a new one.
type Emitter struct {
	client goredis.UniversalClient
	key    string
	stream *StreamsEmitterOptions // nil: classic protocol
	nsp    string
	rooms  []string
	except []string
	flags  *wire.Object
}

// NewEmitter returns an emitter for the main namespace "/".
func NewEmitter(client goredis.UniversalClient, opts EmitterOptions) Emitter {
	if opts.Key == "" {
		opts.Key = "socket.io"
	}
	return Emitter{client: client, key: opts.Key, nsp: "/"}
}

// StreamsEmitterOptions configure an emitter for the Streams adapter.
type StreamsEmitterOptions struct {
	// StreamName is the servers' stream ("socket.io" when empty).
	StreamName string
	// MaxLen trims the stream (approximately): 10000 when zero.
	MaxLen int64
}

// NewStreamsEmitter returns an emitter for clusters on the Streams adapter
// (NewStreamsAdapter, Node's @socket.io/redis-streams-adapter), writing
// what @socket.io/redis-streams-emitter writes: stream entries with uid
// "emitter".
func NewStreamsEmitter(client goredis.UniversalClient, opts StreamsEmitterOptions) Emitter {
	if opts.StreamName == "" {
		opts.StreamName = "socket.io"
	}
	if opts.MaxLen <= 0 {
		opts.MaxLen = 10000
	}
	return Emitter{client: client, nsp: "/", stream: &opts}
}

// Of returns an emitter for another namespace.
func (e Emitter) Of(nsp string) Emitter {
	if nsp == "" || nsp[0] != '/' {
		nsp = "/" + nsp
	}
	e.nsp, e.rooms, e.except, e.flags = nsp, nil, nil, nil
	return e
}

// To adds rooms to the selection.
func (e Emitter) To(rooms ...string) Emitter {
	e.rooms = slices.Concat(e.rooms, rooms)
	return e
}

// In is an alias of To.
func (e Emitter) In(rooms ...string) Emitter { return e.To(rooms...) }

// Except leaves out the sockets in the rooms.
func (e Emitter) Except(rooms ...string) Emitter {
	e.except = slices.Concat(e.except, rooms)
	return e
}

func (e Emitter) withFlag(k string, v any) Emitter {
	f := &wire.Object{}
	if e.flags != nil {
		f.Keys = slices.Clone(e.flags.Keys)
		f.Vals = slices.Clone(e.flags.Vals)
	}
	f.Set(k, v)
	e.flags = f
	return e
}

// Volatile marks the event as droppable for busy clients.
func (e Emitter) Volatile() Emitter { return e.withFlag("volatile", true) }

// Compress sets the compress flag.
func (e Emitter) Compress(c bool) Emitter { return e.withFlag("compress", c) }

// ErrReservedEvent is returned for event names Socket.IO reserves.
var ErrReservedEvent = errors.New("redis emitter: reserved event name")

// Emit publishes the event to the selected clients of every server. Byte
// slices in args travel as binary.
func (e Emitter) Emit(ctx context.Context, event string, args ...any) error {
	p, err := parser.NewEvent(e.nsp, event, args...)
	if err != nil {
		if parser.IsReservedEvent(event) {
			return ErrReservedEvent
		}
		return err
	}
	if e.stream != nil {
		pt, err := wire.PacketTree(p)
		if err != nil {
			return err
		}
		return e.xadd(ctx, cluster.Broadcast, wire.Obj("packet", pt, "opts", wire.OptsTree(e.options(), true)))
	}
	b, channel, err := e.encode(p)
	if err != nil {
		return err
	}
	return e.client.Publish(ctx, channel, b).Err()
}

func (e Emitter) options() adapter.BroadcastOptions {
	o := adapter.BroadcastOptions{Rooms: e.rooms, Except: e.except}
	if v, _ := e.flags.Get("volatile"); v == true {
		o.Flags.Volatile = true
	}
	if c, ok := e.flags.Get("compress"); ok {
		b, _ := c.(bool)
		o.Flags.Compress = &b
	}
	return o
}

// xadd appends a message of the Streams protocol to the stream.
func (e Emitter) xadd(ctx context.Context, typ cluster.MessageType, data *wire.Object) error {
	b, binary, err := wire.EncodeData(data, typ.MayCarryBinary())
	if err != nil {
		return err
	}
	return e.client.XAdd(ctx, &goredis.XAddArgs{
		Stream: e.stream.StreamName, MaxLen: e.stream.MaxLen, Approx: true, ID: "*",
		Values: entryFields("emitter", e.nsp, typ, b, binary),
	}).Err()
}

// encode returns the broadcast tuple of p and its channel.
func (e Emitter) encode(p *parser.Packet) ([]byte, string, error) {
	pt, err := wire.PacketTree(p)
	if err != nil {
		return nil, "", err
	}
	flags := e.flags
	if flags == nil {
		flags = &wire.Object{}
	}
	// The emitter writes the options in the order rooms, flags, except.
	opts := wire.Obj("rooms", wire.RoomList(wire.Dedup(e.rooms)), "flags", flags, "except", wire.RoomList(wire.Dedup(e.except)))
	b, err := wire.EncodeMsgpack([]any{"emitter", pt, opts})
	if err != nil {
		return nil, "", err
	}
	channel := e.key + "#" + e.nsp + "#"
	if len(e.rooms) == 1 {
		channel += e.rooms[0] + "#"
	}
	return b, channel, nil
}

func (e Emitter) request(ctx context.Context, msg *wire.Object) error {
	raw, _, err := wire.EncodeJSON(msg, wire.NodeBuffers)
	if err != nil {
		return err
	}
	return e.client.Publish(ctx, e.key+"-request#"+e.nsp+"#", []byte(raw)).Err()
}

func (e Emitter) opts() *wire.Object {
	return wire.Obj("rooms", wire.RoomList(wire.Dedup(e.rooms)), "except", wire.RoomList(wire.Dedup(e.except)))
}

// SocketsJoin makes the selected sockets of every server join rooms.
func (e Emitter) SocketsJoin(ctx context.Context, rooms ...string) error {
	if e.stream != nil {
		return e.xadd(ctx, cluster.SocketsJoin, wire.Obj("opts", wire.OptsTree(e.options(), true), "rooms", wire.RoomList(rooms)))
	}
	return e.request(ctx, wire.Obj("type", int64(reqRemoteJoin), "opts", e.opts(), "rooms", wire.RoomList(rooms)))
}

// SocketsLeave makes the selected sockets of every server leave rooms.
func (e Emitter) SocketsLeave(ctx context.Context, rooms ...string) error {
	if e.stream != nil {
		return e.xadd(ctx, cluster.SocketsLeave, wire.Obj("opts", wire.OptsTree(e.options(), true), "rooms", wire.RoomList(rooms)))
	}
	return e.request(ctx, wire.Obj("type", int64(reqRemoteLeave), "opts", e.opts(), "rooms", wire.RoomList(rooms)))
}

// DisconnectSockets disconnects the selected sockets of every server.
func (e Emitter) DisconnectSockets(ctx context.Context, close bool) error {
	if e.stream != nil {
		return e.xadd(ctx, cluster.DisconnectSockets, wire.Obj("opts", wire.OptsTree(e.options(), true), "close", close))
	}
	return e.request(ctx, wire.Obj("type", int64(reqRemoteDisconnect), "opts", e.opts(), "close", close))
}

// ServerSideEmit sends an event to the servers' server-side handlers
// (without ack). Arguments are encoded as JSON.
func (e Emitter) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	if parser.IsReservedEvent(event) {
		return ErrReservedEvent
	}
	data := []any{event}
	for _, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		v, err := wire.DecodeJSON(b, nil)
		if err != nil {
			return err
		}
		data = append(data, v)
	}
	if e.stream != nil {
		return e.xadd(ctx, cluster.ServerSideEmit, wire.Obj("packet", data))
	}
	return e.request(ctx, wire.Obj("uid", "emitter", "type", int64(reqServerSideEmit), "data", data))
}
