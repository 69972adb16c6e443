// Package adapter is the seam between a Socket.IO namespace and the sockets
// it broadcasts to: room bookkeeping, broadcasts, and the cluster-wide
// operations that network adapters (Redis and others, in their own modules)
// relay to other servers.
//
// One Adapter serves one namespace. The in-memory adapter (NewMemory) is the
// default; it is also the local layer that network adapters build on.
//
// # Handles
//
// The namespace gives the adapter a handle (a Socket) for each local
// socket, with the socket's first AddAll; the adapter keeps it, in the
// room memberships too, until DelAll. A broadcast walks the handles of
// its recipients: nothing is looked up per recipient, and the namespace
// exposes no lookup by id (Namespace has none). The Socket.IO server's
// handles cost no allocation (a struct of one pointer). Operations that
// arrive from other servers name their targets by BroadcastOptions (rooms
// and exceptions, socket ids being rooms too): the local layer resolves
// them to handles in the same way. Everything else is keyed by socket id,
// as in Node's adapter: Del, DelAll, SocketRooms, Sockets, and the room
// events.
package adapter

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/parser"
)

// Room names a set of sockets. Every socket is in the room named by its id.
type Room = string

// SocketID is the id of a Socket.IO socket (not the Engine.IO session id).
type SocketID = string

// BroadcastFlags modify a broadcast. They mirror socket.io-adapter's
// BroadcastFlags, whose JSON form network adapters put on the wire.
type BroadcastFlags struct {
	// Volatile packets are dropped for sockets whose transport is busy.
	Volatile bool `json:"volatile,omitempty"`
	// Compress is the compress flag (nil: unset). The in-memory adapter
	// ignores it: WebSocket compression is negotiated per connection.
	Compress *bool `json:"compress,omitempty"`
	// Local broadcasts stay on this server.
	Local bool `json:"local,omitempty"`
	// Timeout bounds a broadcast with acknowledgements (0: none).
	Timeout time.Duration `json:"-"`
	// ExpectSingleResponse marks an ack request addressed to one socket.
	ExpectSingleResponse bool `json:"expectSingleResponse,omitempty"`
	// Offset is set by an adapter on the packets it delivers with a
	// connection state recovery offset appended as their last argument
	// (the offset itself; "" for a packet that has none). It never
	// travels between servers. A recovering socket uses it to tell a
	// live packet it also got in its missed packets.
	Offset string `json:"-"`
}

// BroadcastOptions select the recipients of an operation: the sockets in
// at least one of Rooms (all sockets when Rooms is empty) and in none of
// Except.
type BroadcastOptions struct {
	Rooms  []Room
	Except []Room
	Flags  BroadcastFlags
}

// Handshake is the part of the first HTTP request a socket keeps (Node's
// socket.handshake). Local sockets, sockets fetched from other servers and
// the cluster wire all use this one shape. Its JSON form is Node's (see
// MarshalJSON), so that JavaScript code reading a handshake sent by a Go
// server, or a Go server reading one from Node, sees the same values.
type Handshake struct {
	// Headers of the request that opened the Engine.IO session, with
	// canonical names (Header.Get works), the Host header included.
	Headers http.Header
	// Time of the handshake, as JavaScript's Date.prototype.toString
	// prints it, e.g. "Tue Dec 01 2026 22:00:00 GMT+0000 (Coordinated
	// Universal Time)" (see FormatTime).
	Time string
	// Address is the client's address (host part of the remote address).
	Address string
	// XDomain reports a cross-origin request (an Origin header was sent).
	XDomain bool
	// Secure reports a TLS connection.
	Secure bool
	// Issued is the handshake time in milliseconds since the Unix epoch.
	Issued int64
	// URL is the request URI of the first request.
	URL string
	// Query holds the query parameters of the first request.
	Query url.Values
	// Auth is the payload the client sent with its CONNECT packet ({} when
	// none).
	Auth map[string]any
}

// SocketInfo describes a socket as FetchSockets returns it.
type SocketInfo struct {
	ID        SocketID  `json:"id"`
	Handshake Handshake `json:"handshake"`
	Rooms     []Room    `json:"rooms"`
	Data      any       `json:"data"`
}

// Session is the state kept for connection state recovery.
type Session struct {
	SID   SocketID `json:"sid"`
	PID   string   `json:"pid"`
	Rooms []Room   `json:"rooms"`
	Data  any      `json:"data"`
	// MissedPackets are the events broadcast while the socket was away,
	// returned by RestoreSession.
	MissedPackets []*parser.Packet `json:"-"`
}

// AckResponse is one recipient's answer to a broadcast with ack: the
// arguments it acknowledged with, and their binary attachments. Answers
// relayed from other servers carry only the first argument, as in Node.
type AckResponse struct {
	Args        []json.RawMessage
	Attachments [][]byte
}

// Encoded is a packet encoded once, ready to be written to many sockets.
type Encoded []*engineio.Message

// Socket is an adapter's handle to a local socket (see Handles in the
// package doc). Its methods are safe for concurrent use and never block:
// Deliver queues the packet on the socket's connection.
type Socket interface {
	// ID is the socket id; it does not change.
	ID() SocketID
	// Deliver writes an encoded packet (with its Packet, for outgoing
	// listeners) to the socket. A disconnected socket drops it.
	Deliver(p *parser.Packet, enc Encoded, flags BroadcastFlags)
	// ExpectAck registers fn to receive this socket's ack for id.
	ExpectAck(id uint64, fn func(AckResponse))
	// Disconnect disconnects the socket, closing its whole connection when
	// close is true.
	Disconnect(close bool)
	// Info describes the socket for FetchSockets.
	Info() SocketInfo
}

// Namespace is what an adapter sees of its namespace.
type Namespace interface {
	// Name is the namespace's name, e.g. "/" or "/admin".
	Name() string
	// Encode encodes a packet once for many recipients.
	Encode(p *parser.Packet) (Encoded, error)
	// NextAckID returns a fresh ack id for this namespace.
	NextAckID() uint64
	// OnServerSideEmit delivers an event emitted by another server; ack is
	// nil unless the sender waits for an answer.
	OnServerSideEmit(args []json.RawMessage, ack func(json.RawMessage))
	// RecoveryDuration is how long sessions and missed packets are kept for
	// connection state recovery; 0 when recovery is off.
	RecoveryDuration() time.Duration
}

// Adapter keeps the rooms of one namespace and carries out its broadcasts.
// All methods must be safe for concurrent use. Methods with a context may
// reach other servers; the in-memory adapter answers at once.
type Adapter interface {
	// AddAll adds the socket to the rooms. The first call for a socket
	// (the namespace makes it when the socket connects, with the socket's
	// own room) registers its handle, kept until DelAll.
	AddAll(s Socket, rooms ...Room)
	// Del removes the socket from the room.
	Del(id SocketID, room Room)
	// DelAll removes the socket from every room and forgets its handle.
	DelAll(id SocketID)
	// SocketRooms returns the rooms of a local socket (nil if unknown).
	SocketRooms(id SocketID) []Room
	// Rooms returns the rooms that have local members.
	Rooms() []Room
	// Sockets returns the ids of the local sockets matched by opts.
	Sockets(opts BroadcastOptions) []SocketID

	// Broadcast sends p to every socket matched by opts.
	Broadcast(p *parser.Packet, opts BroadcastOptions) error
	// BroadcastWithAck sends p with an ack id to every matched socket.
	// onClientCount is called once per server with its number of
	// recipients; onAck once per answer.
	BroadcastWithAck(p *parser.Packet, opts BroadcastOptions, onClientCount func(n int), onAck func(AckResponse)) error
	// ServerCount returns the number of servers sharing this adapter.
	ServerCount(ctx context.Context) (int, error)

	// AddSockets makes the matched sockets join rooms, on every server
	// unless opts.Flags.Local. The local sockets join even when reaching
	// the other servers fails (ctx done, a publish error): the error says
	// that the others may not have been reached.
	AddSockets(ctx context.Context, opts BroadcastOptions, rooms []Room) error
	// DelSockets makes the matched sockets leave rooms (see AddSockets).
	DelSockets(ctx context.Context, opts BroadcastOptions, rooms []Room) error
	// DisconnectSockets disconnects the matched sockets (see AddSockets).
	DisconnectSockets(ctx context.Context, opts BroadcastOptions, close bool) error
	// FetchSockets describes the matched sockets.
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error)

	// ServerSideEmit sends an event to the other servers' namespaces.
	ServerSideEmit(ctx context.Context, args []json.RawMessage) error
	// ServerSideEmitWithAck does the same and gathers one answer per
	// server.
	ServerSideEmitWithAck(ctx context.Context, args []json.RawMessage) ([]json.RawMessage, error)

	// PersistSession stores a disconnected socket's state for recovery.
	PersistSession(ctx context.Context, s *Session) error
	// RestoreSession returns the stored state of pid with the packets
	// missed since offset, or (nil, nil) when it cannot be recovered.
	RestoreSession(ctx context.Context, pid, offset string) (*Session, error)

	// Close releases the adapter's resources.
	Close() error
}

// MissedPacket is a broadcast kept for connection state recovery: the
// packet, its offset appended as last argument, and that offset.
type MissedPacket struct {
	Offset string
	Packet *parser.Packet
}

// SessionRestorer is implemented by adapters that restore a session in
// two steps, so that a recovering socket loses no broadcast: the Socket.IO
// server takes the session (TakeSession), makes the socket a member of its
// rooms, and only then reads the packets it missed (MissedPackets). A
// broadcast published meanwhile reaches the socket live, or is among the
// missed packets, or both: the server writes each once, in offset order,
// before the CONNECT reply. Without this interface the server calls
// RestoreSession and joins the rooms afterwards, and a broadcast published
// in between reaches neither (Node's adapters have that window too).
//
// The offsets of an adapter implementing it must grow in the order the
// packets are stored, and compare with CompareOffsets; a packet delivered
// with an offset must carry it in BroadcastFlags.Offset.
type SessionRestorer interface {
	// TakeSession removes the session of pid from the store and returns
	// it, without missed packets, when it can be recovered from offset
	// (the session is known and unexpired, the offset still stored); it
	// returns (nil, nil) otherwise.
	TakeSession(ctx context.Context, pid, offset string) (*Session, error)
	// MissedPackets returns the packets broadcast after offset that reach
	// a socket in rooms, in offset order. It fails when offset is no
	// longer stored (some of them may be gone).
	MissedPackets(ctx context.Context, rooms []Room, offset string) ([]MissedPacket, error)
}

// ErrOffsetGone is returned by MissedPackets when the offset is no longer
// stored.
var ErrOffsetGone = errors.New("adapter: recovery offset no longer stored")

// CompareOffsets orders the offsets of the adapters of this module and of
// the cluster transports: dash-separated unsigned integers without leading
// zeros, in a base up to 36 whose digits are 0-9 then a-z (the in-memory
// adapter's base-36 numbers, Redis stream ids such as "1700000000000-3",
// JetStream sequences). Parts compare by length, then byte by byte. It
// returns -1, 0 or +1, and orders any two strings, whatever they hold.
func CompareOffsets(a, b string) int {
	for {
		ia, ib := strings.IndexByte(a, '-'), strings.IndexByte(b, '-')
		pa, pb := a, b
		if ia >= 0 {
			pa = a[:ia]
		}
		if ib >= 0 {
			pb = b[:ib]
		}
		if c := cmp.Compare(len(pa), len(pb)); c != 0 {
			return c
		}
		if c := strings.Compare(pa, pb); c != 0 {
			return c
		}
		switch {
		case ia < 0 && ib < 0:
			return 0
		case ia < 0:
			return -1
		case ib < 0:
			return 1
		}
		a, b = a[ia+1:], b[ib+1:]
	}
}

// Factory creates the adapter of a namespace.
type Factory func(nsp Namespace) (Adapter, error)

// ErrNotSupported is returned by operations an adapter cannot carry out.
var ErrNotSupported = errors.New("adapter: operation not supported")

// ErrorReporter is implemented by the Namespace a socketio.Server gives
// its adapters: an adapter reports there the errors that have no caller
// to return them to (a cluster message that failed to publish after the
// emit returned, an answer to another server dropped). The server hands
// them to its observers (socketio.Observer.AdapterError).
type ErrorReporter interface {
	ReportError(err error)
}

// ReportError reports err to nsp when it is an ErrorReporter.
func ReportError(nsp Namespace, err error) {
	if r, ok := nsp.(ErrorReporter); ok {
		r.ReportError(err)
	}
}

// PublishQueue is implemented by adapters that publish to other servers
// from a queue (the cluster and Redis adapters): the messages waiting in
// it, for metrics.
type PublishQueue interface {
	PublishQueueLen() int
}

// RoomEvents receives the room changes of an adapter (Node's adapter
// events create-room, delete-room, join-room and leave-room). Nil fields
// are skipped. The functions run after the change, without adapter locks
// held, on the goroutine that made the change.
type RoomEvents struct {
	CreateRoom func(room Room)
	DeleteRoom func(room Room)
	JoinRoom   func(room Room, id SocketID)
	LeaveRoom  func(room Room, id SocketID)
}

// RoomNotifier is implemented by adapters that report room changes.
type RoomNotifier interface {
	SetRoomEvents(ev RoomEvents)
}
