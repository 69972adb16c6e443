package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gosio/socketio/adapter/cluster"
	"github.com/gosio/socketio/internal/wire"
	"github.com/gosio/socketio/parser"
)

// EmitterOptions configure an Emitter; they must match the servers'
// Options. The zero value of each is Node's default.
type EmitterOptions struct {
	// ChannelPrefix is the first part of the channel names ("socket.io").
	ChannelPrefix string
	// TableName is the attachments table ("socket_io_attachments").
	TableName string
	// PayloadThreshold is the JSON size in bytes above which a message
	// goes through the attachments table (8000; as for the adapter, a
	// message too long for a NOTIFY always does).
	PayloadThreshold int
}

// Emitter sends events to the clients of a Socket.IO cluster on
// PostgreSQL from a process that is not a server, like
// @socket.io/postgres-emitter: it only publishes, with uid "emitter" (it
// is not counted as a server and cannot wait for acks). An Emitter is an
// immutable value; each method returns a new one.
//
// Its messages are those of Node's emitter plus the namespace ("nsp"),
// which Node's adapter 0.5 needs and Node's emitter 0.1.1 leaves out: they
// reach Go and Node servers alike. The attachments table must exist (the
// servers create it).
type Emitter struct {
	pool   *pgxpool.Pool
	opts   EmitterOptions
	table  string // quoted
	nsp    string
	rooms  []string
	except []string
	flags  *wire.Object
	// noNsp writes Node's emitter form exactly (no top-level nsp), for
	// the golden tests.
	noNsp bool
}

// NewEmitter returns an emitter for the main namespace "/".
func NewEmitter(pool *pgxpool.Pool, opts EmitterOptions) Emitter {
	if opts.ChannelPrefix == "" {
		opts.ChannelPrefix = DefaultChannelPrefix
	}
	if opts.TableName == "" {
		opts.TableName = DefaultTableName
	}
	if opts.PayloadThreshold <= 0 {
		opts.PayloadThreshold = DefaultPayloadThreshold
	}
	return Emitter{pool: pool, opts: opts, table: tableIdent(opts.TableName), nsp: "/"}
}

// Of returns an emitter for another namespace (with the same options,
// unlike Node's, which falls back to the defaults).
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
var ErrReservedEvent = errors.New("postgres emitter: reserved event name")

// Emit publishes the event to the selected clients of every server. Byte
// slices in args travel as binary (through the attachments table).
func (e Emitter) Emit(ctx context.Context, event string, args ...any) error {
	p, err := parser.NewEvent(e.nsp, event, args...)
	if err != nil {
		if parser.IsReservedEvent(event) {
			return ErrReservedEvent
		}
		return err
	}
	data, err := e.broadcastData(p)
	if err != nil {
		return err
	}
	return e.publish(ctx, cluster.Broadcast, data)
}

// broadcastData is the data of the emitter's broadcast of p: the packet
// with its namespace, and the options in the order rooms, flags, except.
func (e Emitter) broadcastData(p *parser.Packet) (*wire.Object, error) {
	pt, err := wire.PacketTree(p)
	if err != nil {
		return nil, err
	}
	flags := e.flags
	if flags == nil {
		flags = &wire.Object{}
	}
	opts := wire.Obj("rooms", wire.RoomList(wire.Dedup(e.rooms)), "flags", flags, "except", wire.RoomList(wire.Dedup(e.except)))
	return wire.Obj("packet", pt, "opts", opts), nil
}

// selection is the options of the emitter's other requests: rooms and
// except only.
func (e Emitter) selection() *wire.Object {
	return wire.Obj("rooms", wire.RoomList(wire.Dedup(e.rooms)), "except", wire.RoomList(wire.Dedup(e.except)))
}

// SocketsJoin makes the selected sockets of every server join rooms.
func (e Emitter) SocketsJoin(ctx context.Context, rooms ...string) error {
	return e.publish(ctx, cluster.SocketsJoin, e.roomsData(rooms))
}

func (e Emitter) roomsData(rooms []string) *wire.Object {
	return wire.Obj("opts", e.selection(), "rooms", wire.RoomList(rooms))
}

// SocketsLeave makes the selected sockets of every server leave rooms.
func (e Emitter) SocketsLeave(ctx context.Context, rooms ...string) error {
	return e.publish(ctx, cluster.SocketsLeave, e.roomsData(rooms))
}

// DisconnectSockets disconnects the selected sockets of every server.
func (e Emitter) DisconnectSockets(ctx context.Context, close bool) error {
	return e.publish(ctx, cluster.DisconnectSockets, e.disconnectData(close))
}

func (e Emitter) disconnectData(close bool) *wire.Object {
	return wire.Obj("opts", e.selection(), "close", close)
}

// ServerSideEmit sends an event to the servers' server-side handlers
// (without ack). Arguments are encoded as JSON; byte slices travel as
// binary.
func (e Emitter) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	if parser.IsReservedEvent(event) {
		return ErrReservedEvent
	}
	data, err := serverSideEmitData(event, args)
	if err != nil {
		return err
	}
	return e.publish(ctx, cluster.ServerSideEmit, data)
}

// serverSideEmitData is the data of a server-side emit: the packet
// [event, ...args].
func serverSideEmitData(event string, args []any) (*wire.Object, error) {
	data := []any{event}
	for _, a := range args {
		if b, ok := a.([]byte); ok {
			data = append(data, b)
			continue
		}
		b, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		v, err := wire.DecodeJSON(b, nil)
		if err != nil {
			return nil, err
		}
		data = append(data, v)
	}
	return wire.Obj("packet", data), nil
}

// encode returns the emitter's message: its NOTIFY payload, or the row to
// store (msgpack) when it carries binary (types 3, 9 and 10, as Node's
// emitter) or is too long for a NOTIFY.
func (e Emitter) encode(typ cluster.MessageType, data *wire.Object) (payload, row []byte, err error) {
	msg := wire.Obj("type", int64(typ), "data", data, "uid", "emitter")
	if !e.noNsp {
		msg.Set("nsp", e.nsp)
	}
	if typ != cluster.BroadcastAck && binaryType(typ) && wire.HasBinary(data) {
		row, err = wire.EncodeMsgpack(msg)
		return nil, row, err
	}
	b, _, err := wire.EncodeJSON(msg, wire.NodeBuffers)
	if err != nil {
		return nil, nil, err
	}
	if len(b) > e.opts.PayloadThreshold || len(b) >= maxNotifyPayload {
		row, err = wire.EncodeMsgpack(msg)
		return nil, row, err
	}
	return b, nil, nil
}

func (e Emitter) publish(ctx context.Context, typ cluster.MessageType, data *wire.Object) error {
	ch, err := channelOf(e.opts.ChannelPrefix, e.nsp)
	if err != nil {
		return err
	}
	payload, row, err := e.encode(typ, data)
	if err != nil {
		return err
	}
	if row != nil {
		var id int64
		if err := e.pool.QueryRow(ctx, "INSERT INTO "+e.table+" (payload) VALUES ($1) RETURNING id", row).Scan(&id); err != nil {
			return fmt.Errorf("postgres emitter: storing an attachment: %w", err)
		}
		payload = attachmentHeader("emitter", typ, id)
	}
	if _, err := e.pool.Exec(ctx, "SELECT pg_notify($1, $2)", ch, string(payload)); err != nil {
		return fmt.Errorf("postgres emitter: NOTIFY %q: %w", ch, err)
	}
	return nil
}
