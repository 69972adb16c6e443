package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/parser"
)

// RemoteSocket is a socket as FetchSockets returns it: a snapshot of its
// id, handshake, rooms and data, and operations that reach it wherever it
// is connected (through the adapter, so across a cluster once a network
// adapter is used).
type RemoteSocket struct {
	nsp *Namespace
	// ID is the socket id.
	ID string
	// Handshake is the socket's handshake.
	Handshake adapter.Handshake
	// Rooms are the socket's rooms when it was fetched.
	Rooms RoomSet
	// Data is the socket's data (see Socket.SetData) when it was fetched:
	// the Go value itself for a socket of this server, the value decoded
	// from the cluster's wire (map[string]any, []any, float64, ...) for a
	// socket of another server. Read it with DataAs to get the same typed
	// value in both cases.
	Data    any
	timeout time.Duration
}

// DataAs returns the data of a fetched socket as a T, the same way
// whether the socket is on this server or on another: the value goes
// through JSON in both cases (encoded, then decoded into a T), as it does
// between servers. So a field that JSON drops (unexported, or tagged "-")
// is missing here even for a local socket, and code that works with one
// server keeps working with many. A socket without data gives T's zero
// value; data that does not decode into a T is an error.
//
//	type user struct{ Name string `json:"name"` }
//	u, err := socketio.DataAs[user](remote)
func DataAs[T any](r *RemoteSocket) (T, error) {
	var v T
	b, err := json.Marshal(r.Data)
	if err != nil {
		return v, fmt.Errorf("socketio: data of socket %s: %w", r.ID, err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("socketio: data of socket %s: %w", r.ID, err)
	}
	return v, nil
}

func (r *RemoteSocket) operator() BroadcastOperator {
	return BroadcastOperator{nsp: r.nsp, rooms: []string{r.ID}}
}

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.operator().Emit(event, args...)
}

// Timeout returns a copy of r whose EmitWithAck gives up after d.
func (r *RemoteSocket) Timeout(d time.Duration) *RemoteSocket {
	c := *r
	c.timeout = d
	return &c
}

// EmitWithAck sends an event and waits for the socket's answer.
func (r *RemoteSocket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	op := r.operator()
	op.flags.ExpectSingleResponse = true
	if r.timeout > 0 {
		op = op.Timeout(r.timeout)
	}
	res, err := op.EmitWithAck(ctx, event, args...)
	if len(res) > 0 {
		return res[0], nil
	}
	if err == nil {
		err = fmt.Errorf("%w: socket %s did not answer", ErrAckTimeout, r.ID)
	}
	return Args{}, err
}

// Join makes the socket join the rooms, on whichever server it is
// connected to; ctx and the error are as for BroadcastOperator.SocketsJoin.
func (r *RemoteSocket) Join(ctx context.Context, rooms ...string) error {
	return r.operator().SocketsJoin(ctx, rooms...)
}

// Leave makes the socket leave the rooms (see Join).
func (r *RemoteSocket) Leave(ctx context.Context, rooms ...string) error {
	return r.operator().SocketsLeave(ctx, rooms...)
}

// Disconnect disconnects the socket; with close its whole connection (see
// Join).
func (r *RemoteSocket) Disconnect(ctx context.Context, close bool) error {
	return r.operator().DisconnectSockets(ctx, close)
}

// FetchSockets returns the selected sockets, wherever they are connected.
func (b BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	infos, err := b.nsp.adapter.FetchSockets(ctx, b.options())
	if err != nil {
		return nil, err
	}
	out := make([]*RemoteSocket, len(infos))
	for i, in := range infos {
		out[i] = &RemoteSocket{nsp: b.nsp, ID: in.ID, Handshake: in.Handshake, Rooms: newRoomSet(slices.Clone(in.Rooms)), Data: in.Data}
	}
	return out, nil
}

// FetchSockets returns every socket of the namespace (see
// BroadcastOperator.FetchSockets).
func (n *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return n.operator().FetchSockets(ctx)
}

// SocketsJoin makes every socket of the namespace join the rooms; see
// BroadcastOperator.SocketsJoin.
func (n *Namespace) SocketsJoin(ctx context.Context, rooms ...string) error {
	return n.operator().SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket of the namespace leave the rooms; see
// BroadcastOperator.SocketsLeave.
func (n *Namespace) SocketsLeave(ctx context.Context, rooms ...string) error {
	return n.operator().SocketsLeave(ctx, rooms...)
}

// FetchSockets returns the sockets of the main namespace.
func (s *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return s.main.FetchSockets(ctx)
}

// SocketsJoin makes every socket of the main namespace join the rooms; see
// BroadcastOperator.SocketsJoin.
func (s *Server) SocketsJoin(ctx context.Context, rooms ...string) error {
	return s.main.SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket of the main namespace leave the rooms;
// see BroadcastOperator.SocketsLeave.
func (s *Server) SocketsLeave(ctx context.Context, rooms ...string) error {
	return s.main.SocketsLeave(ctx, rooms...)
}

// ServerEvent is an event another server of the cluster sent with
// ServerSideEmit.
type ServerEvent struct {
	// Name is the event name.
	Name string
	args Args
	ack  func(json.RawMessage)
}

// Args returns the event's arguments.
func (e *ServerEvent) Args() Args { return e.args }

// Bind decodes the arguments; see Args.Bind.
func (e *ServerEvent) Bind(dst ...any) error { return e.args.Bind(dst...) }

// HasAck reports whether the sending server waits for an answer.
func (e *ServerEvent) HasAck() bool { return e.ack != nil }

// Ack answers the sending server with one value (Node relays only the first
// ack argument between servers).
func (e *ServerEvent) Ack(v any) error {
	if e.ack == nil {
		return ErrNoAck
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	e.ack(b)
	return nil
}

// OnServerSideEmit adds a handler for events that other servers send to
// this namespace with ServerSideEmit.
func (n *Namespace) OnServerSideEmit(event string, fn func(*ServerEvent)) {
	n.mu.Lock()
	if n.serverHandlers == nil {
		n.serverHandlers = make(map[string][]func(*ServerEvent))
	}
	n.serverHandlers[event] = append(n.serverHandlers[event], fn)
	n.mu.Unlock()
}

// ServerSideEmit sends an event to this namespace on the other servers of
// the cluster (not to clients). Alone, with the in-memory adapter, it
// reaches nobody, as in Node.
func (n *Namespace) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	raw, err := serverArgs(event, args)
	if err != nil {
		return err
	}
	return n.adapter.ServerSideEmit(ctx, raw)
}

// ServerSideEmitWithAck sends an event to the other servers and gathers one
// answer from each (none when the server is alone).
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	raw, err := serverArgs(event, args)
	if err != nil {
		return nil, err
	}
	res, err := n.adapter.ServerSideEmitWithAck(ctx, raw)
	out := make([]Args, len(res))
	for i, r := range res {
		out[i] = parser.NewArgs([]json.RawMessage{r}, nil)
	}
	return out, err
}

// ServerSideEmit sends an event to the main namespace of the other servers.
func (s *Server) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	return s.main.ServerSideEmit(ctx, event, args...)
}

// ServerSideEmitWithAck is ServerSideEmit gathering one answer per server.
func (s *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return s.main.ServerSideEmitWithAck(ctx, event, args...)
}

// OnServerSideEmit adds a handler for server-side events on the main
// namespace.
func (s *Server) OnServerSideEmit(event string, fn func(*ServerEvent)) {
	s.main.OnServerSideEmit(event, fn)
}

// serverArgs encodes [event, ...args]; binary is not supported between
// servers.
func serverArgs(event string, args []any) ([]json.RawMessage, error) {
	if parser.IsReservedEvent(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	out := make([]json.RawMessage, 0, len(args)+1)
	name, _ := json.Marshal(event)
	out = append(out, name)
	for _, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// dispatchServerSideEmit runs the handlers of an event from another server.
func (n *Namespace) dispatchServerSideEmit(args []json.RawMessage, ack func(json.RawMessage)) {
	if len(args) == 0 {
		return
	}
	var name string
	if err := json.Unmarshal(args[0], &name); err != nil {
		return
	}
	n.mu.RLock()
	fns := n.serverHandlers[name]
	n.mu.RUnlock()
	ev := &ServerEvent{Name: name, args: parser.NewArgs(args[1:], nil), ack: ack}
	for _, fn := range fns {
		func() {
			defer func() {
				if v := recover(); v != nil {
					n.srv.cfg.Logger.Error("socket.io: server-side event handler panicked", "event", name, "panic", v,
						"stack", string(debug.Stack()))
				}
			}()
			fn(ev)
		}()
	}
}
