package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/internal/gotrack"
	"github.com/gosio/socketio/parser"
)

// Disconnect reasons of server-side sockets, with Node's wording. The
// engine's reasons (engineio.ReasonTransportClose, ReasonPingTimeout, ...)
// are passed through as they are.
const (
	// ReasonServerNamespaceDisconnect: Socket.Disconnect was called.
	ReasonServerNamespaceDisconnect = "server namespace disconnect"
	// ReasonClientNamespaceDisconnect: the client left the namespace.
	ReasonClientNamespaceDisconnect = "client namespace disconnect"
	// ReasonServerShuttingDown: Server.Shutdown or Server.Close.
	ReasonServerShuttingDown = engineio.ReasonServerShutdown
)

// Errors returned by Socket methods.
var (
	// ErrDisconnected is returned by emits on a disconnected socket, and by
	// EmitWithAck when the socket disconnects before the answer.
	ErrDisconnected = errors.New("socketio: socket disconnected")
	// ErrReservedEvent is returned when emitting a reserved event name
	// (connect, connect_error, disconnect, disconnecting, newListener,
	// removeListener).
	ErrReservedEvent = errors.New("socketio: reserved event name")
)

var (
	errTooManyEvents     = errors.New("socketio: too many pending events")
	errTooManyEventBytes = errors.New("socketio: too many bytes in pending events")
)

// Handshake describes the request that opened a socket's connection and the
// auth payload of its namespace CONNECT (Node's socket.handshake).
type Handshake = adapter.Handshake

type handlerEntry struct {
	fn   func(*Event)
	once bool
}

// handlerTable maps event names to their handlers. A socket has few
// events: a slice searched in order costs less memory per socket than a
// map, and no more time for a handful of names.
type handlerTable []struct {
	name    string
	entries []handlerEntry
}

func (t handlerTable) get(name string) []handlerEntry {
	for i := range t {
		if t[i].name == name {
			return t[i].entries
		}
	}
	return nil
}

// set replaces the handlers of name; nil or empty removes the name.
func (t *handlerTable) set(name string, entries []handlerEntry) {
	for i := range *t {
		if (*t)[i].name == name {
			if len(entries) == 0 {
				*t = append((*t)[:i], (*t)[i+1:]...)
			} else {
				(*t)[i].entries = entries
			}
			return
		}
	}
	if len(entries) > 0 {
		*t = append(*t, struct {
			name    string
			entries []handlerEntry
		}{name, entries})
	}
}

// Socket is a client's connection to one namespace (Node's server-side
// Socket).
//
// All methods are safe for concurrent use. The socket's handlers (event,
// catch-all, packet middleware, disconnect) run one at a time, in arrival
// order, on a goroutine that exists only while there is work; a slow
// handler delays this socket only. A handler may call EmitWithAck and wait:
// answers are read by the connection, not by the handler's goroutine.
type Socket struct {
	id        string
	nsp       *Namespace
	ec        *engineClient             // the Engine.IO connection the socket is multiplexed on
	handshake atomic.Pointer[Handshake] // built on first use (see Handshake)
	authRaw   string                    // the CONNECT payload (JSON), "" when none
	pid       string                    // private session id (recovery on)
	recovered bool
	// Set when the socket recovered a session (nil otherwise): rooms to
	// rejoin, events to replay before the CONNECT reply, and the live
	// packets held meanwhile (see recovery.go).
	recov *recovery

	mu    sync.Mutex
	state socketState
	// everConnected: the socket got to stateConnected (under mu), so the
	// events it received then are handled even after it closes.
	everConnected bool
	// flooded: closed for sending faster than its handlers run; what it
	// had queued is dropped.
	flooded atomic.Bool
	// The socket's context, made on first use (an idle socket nobody asks
	// keeps none) and canceled when it disconnects.
	ctx      context.Context
	cancel   context.CancelFunc
	data     any
	handlers handlerTable
	hooks    *socketHooks // made when the first of its handlers is added
	// live and plainOut mirror state == stateConnected and len(anyOut) == 0
	// (both set under mu), so that a broadcast's write to this socket, once
	// per recipient, takes no lock in the common case.
	live     atomic.Bool
	plainOut atomic.Bool
	acks     map[uint64]pendingAck
	// What the socket's goroutine runs (for Shutdown's report of stuck
	// handlers): a kind ("event", "connection handler", ...), the event's
	// name, and since when.
	task, taskName string
	taskSince      time.Duration // since taskEpoch (monotonic, and 16 bytes smaller than a time.Time)
	// Once closed, the socket is out of its rooms at once; its handlers see
	// the rooms it had (hooks.lastRooms) until the disconnecting handlers
	// have run, as in Node.
	roomsFrozen bool

	queue        gotrack.Serial // the socket's handlers run here, in order
	pendingBytes atomic.Int64   // bytes of the incoming events queued or being handled
	nspRef       atomic.Bool    // the socket holds its namespace's reference (see releaseNamespace)
}

// taskEpoch is the origin of Socket.taskSince.
var taskEpoch = time.Now()

type socketState uint8

const (
	statePending socketState = iota
	stateConnected
	stateClosed
)

func newSocket(nsp *Namespace, cl *engineClient, authRaw []byte, sess *adapter.Session) *Socket {
	s := &Socket{
		id:      newID(),
		nsp:     nsp,
		ec:      cl,
		authRaw: string(authRaw),
	}
	s.queue.T = &nsp.srv.track
	s.plainOut.Store(true)
	s.nspRef.Store(true) // taken by the lookup that found nsp
	if nsp.srv.cfg.ConnectionStateRecovery != nil {
		s.pid = newID()
		if sess != nil {
			s.id, s.pid, s.recovered = sess.SID, sess.PID, true
			s.data = sess.Data
			s.recov = &recovery{rooms: sess.Rooms}
			for _, p := range sess.MissedPackets {
				s.recov.missed = append(s.recov.missed, adapter.MissedPacket{Packet: p})
			}
		}
	}
	return s
}

func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func buildHandshake(r *engineio.Request, auth map[string]any) *Handshake {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return &Handshake{
		Headers: r.Header(),
		Time:    adapter.FormatTime(r.Time),
		Address: addr,
		XDomain: r.Header().Get("Origin") != "",
		Secure:  r.TLS != nil,
		Issued:  r.Time.UnixMilli(),
		URL:     r.RequestURI(),
		Query:   r.Query(),
		Auth:    auth,
	}
}

// ID returns the socket id. It differs from the Engine.IO session id and
// names the room every socket is in.
func (s *Socket) ID() string { return s.id }

// Recovered reports whether connection state recovery restored this
// socket's previous session (id, rooms, data, missed events).
func (s *Socket) Recovered() bool { return s.recovered }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake returns the handshake details. The value must not be modified.
func (s *Socket) Handshake() *Handshake {
	if h := s.handshake.Load(); h != nil {
		return h
	}
	// Built on first use from the session's request: most sockets are
	// never asked, and an idle one should not keep it.
	h := buildHandshake(s.ec.conn.Request(), s.auth())
	if !s.handshake.CompareAndSwap(nil, h) {
		h = s.handshake.Load()
	}
	return h
}

// auth returns the CONNECT payload as a map ({} when there was none); the
// CONNECT handler has checked that it is an object.
func (s *Socket) auth() map[string]any {
	auth := map[string]any{}
	if len(s.authRaw) > 0 {
		if err := json.Unmarshal([]byte(s.authRaw), &auth); err != nil || auth == nil {
			auth = map[string]any{}
		}
	}
	return auth
}

// BindAuth decodes the CONNECT auth payload into v.
func (s *Socket) BindAuth(v any) error {
	if len(s.authRaw) == 0 {
		return json.Unmarshal([]byte("{}"), v)
	}
	return json.Unmarshal([]byte(s.authRaw), v)
}

// Conn returns the underlying Engine.IO connection, shared by the client's
// sockets of every namespace.
func (s *Socket) Conn() *engineio.Conn { return s.ec.conn }

// Context returns a context cancelled when the socket disconnects. It
// carries the values the Engine.IO session kept of the HTTP request that
// opened it (engineio.Request.Context, as Config.Engine.SessionContext
// chose; with engineio.KeepRequestContext, what router or net/http
// middleware stored there, such as the authenticated user, is readable
// with Context().Value in connection middleware and in handlers).
func (s *Socket) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(s.ec.conn.Request().Context())
		if s.state == stateClosed {
			s.cancel()
		}
	}
	return s.ctx
}

// cancelContext cancels the socket's context, if it was made (one made
// later is canceled at once: see Context).
func (s *Socket) cancelContext() {
	s.mu.Lock()
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// Data returns the value set with SetData (Node's socket.data).
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData stores an application value on the socket. Keep it
// JSON-serialisable: cluster adapters send it to other servers.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
	if o := s.nsp.srv.obs.Load(); o != nil {
		for _, fn := range o.socketDataSet {
			fn(s)
		}
	}
}

// Connected reports whether the socket is connected to its namespace.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateConnected
}

// On adds a handler for the event.
func (s *Socket) On(event string, fn func(*Event)) { s.addHandler(event, fn, false) }

// Once adds a handler called for the next occurrence of the event only.
func (s *Socket) Once(event string, fn func(*Event)) { s.addHandler(event, fn, true) }

func (s *Socket) addHandler(event string, fn func(*Event), once bool) {
	s.mu.Lock()
	s.handlers.set(event, append(s.handlers.get(event), handlerEntry{fn: fn, once: once}))
	s.mu.Unlock()
}

// Off removes every handler of the event (Node's removeAllListeners(event)).
func (s *Socket) Off(event string) {
	s.mu.Lock()
	s.handlers.set(event, nil)
	s.mu.Unlock()
}

// EventNames returns the events that have handlers.
func (s *Socket) EventNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.handlers))
	for _, e := range s.handlers {
		names = append(names, e.name)
	}
	return names
}

// socketHooks are the handlers most sockets never set, kept apart so that
// a socket without them is smaller.
type socketHooks struct {
	anyIn         []func(*Event)
	anyOut        []func(event string, args Args)
	middlewares   []func(*Event) error
	errHandlers   []func(error)
	disconnecting []func(reason string)
	disconnected  []func(reason string)
	// the rooms the socket had when it closed, while its disconnecting
	// handlers run (see Socket.roomsFrozen)
	lastRooms []string
}

// hooksLocked returns the socket's hooks, made on first use (s.mu held).
func (s *Socket) hooksLocked() *socketHooks {
	if s.hooks == nil {
		s.hooks = new(socketHooks)
	}
	return s.hooks
}

// OnAny adds a handler called for every incoming event, after the event's
// own handlers.
func (s *Socket) OnAny(fn func(*Event)) {
	s.mu.Lock()
	h := s.hooksLocked()
	h.anyIn = append(h.anyIn, fn)
	s.mu.Unlock()
}

// OffAny removes the OnAny handlers.
func (s *Socket) OffAny() {
	s.mu.Lock()
	if s.hooks != nil {
		s.hooks.anyIn = nil
	}
	s.mu.Unlock()
}

// OnAnyOutgoing adds a handler called for every event sent to the client,
// broadcasts included.
func (s *Socket) OnAnyOutgoing(fn func(event string, args Args)) {
	s.mu.Lock()
	h := s.hooksLocked()
	h.anyOut = append(h.anyOut, fn)
	s.plainOut.Store(false)
	s.mu.Unlock()
}

// OffAnyOutgoing removes the OnAnyOutgoing handlers.
func (s *Socket) OffAnyOutgoing() {
	s.mu.Lock()
	if s.hooks != nil {
		s.hooks.anyOut = nil
	}
	s.plainOut.Store(true)
	s.mu.Unlock()
}

// Use adds a packet middleware, run for each incoming event before its
// handlers. An error stops the event and is passed to the OnError handlers
// (Node's socket.use and "error" event).
func (s *Socket) Use(fn func(*Event) error) {
	s.mu.Lock()
	h := s.hooksLocked()
	h.middlewares = append(h.middlewares, fn)
	s.mu.Unlock()
}

// OnError adds a handler for errors: packet middleware refusals, arguments
// that do not decode into a typed handler's type (an *ArgumentError), a
// connection closed for a bad packet. Without OnError handlers, typed
// handler failures are logged at Warn and the others at Debug.
func (s *Socket) OnError(fn func(error)) {
	s.mu.Lock()
	h := s.hooksLocked()
	h.errHandlers = append(h.errHandlers, fn)
	s.mu.Unlock()
}

// OnDisconnecting adds a handler called when the socket disconnects,
// before the OnDisconnect handlers. Rooms still returns the socket's rooms
// while it runs (Node's "disconnecting"), although the socket has already
// left them: a disconnected socket leaves its rooms and its namespace's
// list at once, even while one of its handlers is still running.
func (s *Socket) OnDisconnecting(fn func(reason string)) {
	s.mu.Lock()
	h := s.hooksLocked()
	h.disconnecting = append(h.disconnecting, fn)
	s.mu.Unlock()
}

// OnDisconnect adds a handler called once the socket has disconnected,
// with the reason ("client namespace disconnect", "transport close", ...).
func (s *Socket) OnDisconnect(fn func(reason string)) {
	s.mu.Lock()
	h := s.hooksLocked()
	h.disconnected = append(h.disconnected, fn)
	s.mu.Unlock()
}

// Join adds the socket to the rooms. It does nothing once the socket has
// disconnected.
func (s *Socket) Join(rooms ...string) {
	if s.closed() {
		return
	}
	s.nsp.adapter.AddAll(s.handle(), rooms...)
	if s.leftRooms() {
		// Closed meanwhile, and its rooms may have been left before this
		// join: leave them all (again), so no stale registration stays.
		s.nsp.adapter.DelAll(s.id)
	}
}

// Leave removes the socket from the room.
func (s *Socket) Leave(room string) {
	if !s.closed() {
		s.nsp.adapter.Del(s.id, room)
	}
}

// Rooms returns the rooms the socket is in, its own id included, as a
// set (Has, All). A disconnected socket has left its rooms, but its
// disconnecting handlers still see them here.
func (s *Socket) Rooms() RoomSet { return newRoomSet(s.roomList()) }

// roomList returns the socket's rooms in a new slice.
func (s *Socket) roomList() []string {
	s.mu.Lock()
	if s.roomsFrozen {
		var rooms []string
		if s.hooks != nil {
			rooms = slices.Clone(s.hooks.lastRooms)
		}
		s.mu.Unlock()
		return rooms
	}
	s.mu.Unlock()
	return s.nsp.adapter.SocketRooms(s.id)
}

// leftRooms reports whether the socket has been taken out of its rooms for
// good (it is closed or was refused): set before the adapter's DelAll.
func (s *Socket) leftRooms() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roomsFrozen
}

// leaveAllRooms takes a socket that never connected out of the rooms a
// middleware may have made it join.
func (s *Socket) leaveAllRooms() {
	s.mu.Lock()
	s.roomsFrozen = true
	s.mu.Unlock()
	s.nsp.adapter.DelAll(s.id)
}

func (s *Socket) closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateClosed
}

// setTask records what the socket's goroutine runs now.
func (s *Socket) setTask(kind, name string) {
	s.mu.Lock()
	s.setTaskLocked(kind, name)
	s.mu.Unlock()
}

func (s *Socket) setTaskLocked(kind, name string) {
	s.task, s.taskName, s.taskSince = kind, name, time.Since(taskEpoch)
}

// Emit sends an event to the client. Arguments are encoded as JSON; []byte
// values, at any depth, travel as binary attachments.
func (s *Socket) Emit(event string, args ...any) error {
	return SocketEmitter{s: s}.Emit(event, args...)
}

// Send emits a "message" event (Node's socket.send/write).
func (s *Socket) Send(args ...any) error { return s.Emit("message", args...) }

// EmitWithAck sends an event and waits for the client's acknowledgement,
// until ctx is done or the socket disconnects.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return SocketEmitter{s: s}.EmitWithAck(ctx, event, args...)
}

// Volatile returns an emitter whose events are dropped when the transport
// is not ready to send at once.
func (s *Socket) Volatile() SocketEmitter {
	return SocketEmitter{s: s, flags: adapter.BroadcastFlags{Volatile: true}}
}

// Compress returns an emitter with the compress flag set. WebSocket
// compression is negotiated per connection (engineio.Config.PerMessageDeflate);
// the flag is kept for API parity.
func (s *Socket) Compress(c bool) SocketEmitter {
	return SocketEmitter{s: s, flags: adapter.BroadcastFlags{Compress: &c}}
}

// Timeout returns an emitter whose EmitWithAck gives up after d.
func (s *Socket) Timeout(d time.Duration) SocketEmitter {
	return SocketEmitter{s: s, flags: adapter.BroadcastFlags{Timeout: d}}
}

// To selects the sockets in the rooms, this one excluded (Node's
// socket.to(room)).
func (s *Socket) To(rooms ...string) BroadcastOperator { return s.Broadcast().To(rooms...) }

// In is an alias of To.
func (s *Socket) In(rooms ...string) BroadcastOperator { return s.To(rooms...) }

// Except selects every socket of the namespace outside the rooms, this one
// excluded.
func (s *Socket) Except(rooms ...string) BroadcastOperator { return s.Broadcast().Except(rooms...) }

// Broadcast selects every socket of the namespace but this one.
func (s *Socket) Broadcast() BroadcastOperator {
	return BroadcastOperator{nsp: s.nsp, except: []string{s.id}}
}

// Disconnect disconnects the socket from its namespace (the client sees
// "io server disconnect" and does not reconnect by itself). With close, the
// whole connection is closed, every namespace of the client included.
func (s *Socket) Disconnect(close bool) {
	if close {
		s.ec.disconnectAll()
		return
	}
	s.disconnect()
}

// disconnect closes the socket and sends a DISCONNECT packet. The socket
// is closed first: a client that answers the packet at once by closing its
// connection must not have its "transport close" reported instead.
func (s *Socket) disconnect() {
	if !s.Connected() {
		return
	}
	s.onClose(ReasonServerNamespaceDisconnect)
	_ = s.ec.writePacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp.name})
}

// SocketEmitter sends events to one socket with flags (volatile, compress,
// timeout): what Socket.Volatile, Socket.Compress and Socket.Timeout
// return. It is a value: each method returns a new one. (Broadcasts to
// many sockets have BroadcastOperator.)
type SocketEmitter struct {
	s     *Socket
	flags adapter.BroadcastFlags
}

// Volatile returns a copy of e that drops events for a busy transport.
func (e SocketEmitter) Volatile() SocketEmitter { e.flags.Volatile = true; return e }

// Compress returns a copy of e with the compress flag set (see
// Socket.Compress).
func (e SocketEmitter) Compress(c bool) SocketEmitter { e.flags.Compress = &c; return e }

// Timeout returns a copy of e whose EmitWithAck gives up after d.
func (e SocketEmitter) Timeout(d time.Duration) SocketEmitter { e.flags.Timeout = d; return e }

// Emit sends an event to the socket's client.
func (e SocketEmitter) Emit(event string, args ...any) error {
	if parser.IsReservedEvent(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	p, err := parser.NewEvent(e.s.nsp.name, event, args...)
	if err != nil {
		return err
	}
	if e.s.nsp.srv.cfg.ConnectionStateRecovery != nil && !e.flags.Volatile {
		// Through the adapter, to the socket's own room, so that the event
		// gets an offset and is kept for a reconnecting client (as Node).
		if !e.s.Connected() {
			return ErrDisconnected
		}
		return e.s.nsp.adapter.Broadcast(p, adapter.BroadcastOptions{Rooms: []string{e.s.id}, Flags: e.flags})
	}
	return e.s.send(p, e.flags)
}

// EmitWithAck sends an event and waits for its acknowledgement, until ctx
// is done, the emitter's timeout passes, or the socket disconnects.
func (e SocketEmitter) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	if parser.IsReservedEvent(event) {
		return Args{}, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	p, err := parser.NewEvent(e.s.nsp.name, event, args...)
	if err != nil {
		return Args{}, err
	}
	if e.flags.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.flags.Timeout)
		defer cancel()
	}
	id := nspView{e.s.nsp}.NextAckID()
	p.SetID(id)
	ch := make(chan adapter.AckResponse, 1)
	e.s.expectAck(id, func(r adapter.AckResponse) { ch <- r })
	if err := e.s.send(p, e.flags); err != nil {
		e.s.dropAck(id)
		return Args{}, err
	}
	select {
	case r := <-ch:
		return parser.NewArgs(r.Args, r.Attachments), nil
	case <-ctx.Done():
		e.s.dropAck(id)
		return Args{}, ctx.Err()
	case <-e.s.Context().Done():
		return Args{}, ErrDisconnected
	}
}

// send writes a packet addressed to this socket only.
func (s *Socket) send(p *parser.Packet, flags adapter.BroadcastFlags) error {
	enc, err := s.nsp.srv.encode(p)
	if err != nil {
		return err
	}
	return s.write(p, enc, flags)
}

// socketHandle is the adapter's handle to a socket (adapter.Socket). A
// struct of one pointer is stored in an interface as it is: handing a
// socket to its adapter allocates nothing, and keeps the adapter plumbing
// out of Socket's methods.
type socketHandle struct{ s *Socket }

var _ adapter.Socket = socketHandle{}

// handle returns the socket's adapter handle.
func (s *Socket) handle() adapter.Socket { return socketHandle{s} }

func (h socketHandle) ID() adapter.SocketID { return h.s.id }

// Deliver writes a packet encoded once for many sockets.
func (h socketHandle) Deliver(p *parser.Packet, enc adapter.Encoded, flags adapter.BroadcastFlags) {
	_ = h.s.write(p, enc, flags)
}

func (h socketHandle) ExpectAck(id uint64, fn func(adapter.AckResponse)) { h.s.expectAck(id, fn) }

func (h socketHandle) Disconnect(close bool) { h.s.Disconnect(close) }

// Info describes the socket for FetchSockets.
func (h socketHandle) Info() adapter.SocketInfo {
	s := h.s
	return adapter.SocketInfo{ID: s.id, Handshake: *s.Handshake(), Rooms: s.roomList(), Data: s.Data()}
}

// write queues an encoded packet: one lock for the state and the outgoing
// listeners, as it runs once per recipient of a broadcast.
//
// A recovered socket holds the live packets while it catches up, and
// drops those it got among its missed packets (see recovery.go).
func (s *Socket) write(p *parser.Packet, enc adapter.Encoded, flags adapter.BroadcastFlags) error {
	var fns []func(string, Args)
	r := s.recov
	connected := s.live.Load()
	if !connected && r != nil {
		if r.hold(s, p, enc, flags) {
			return nil
		}
		connected = s.live.Load() // it may have caught up meanwhile
	}
	if !s.plainOut.Load() {
		s.mu.Lock()
		connected = connected && s.state == stateConnected
		if s.hooks != nil {
			fns = s.hooks.anyOut
		}
		s.mu.Unlock()
	}
	if !connected {
		return ErrDisconnected
	}
	if r != nil && r.dup(flags.Offset) {
		return nil
	}
	o := s.nsp.srv.obs.Load()
	if flags.Volatile && !s.ec.conn.Writable() {
		if o != nil {
			for _, fn := range o.volatileDropped {
				fn(s, p)
			}
		}
		return nil
	}
	if len(fns) > 0 {
		s.notifyOutgoing(p, fns)
	}
	if o != nil && len(o.packetOut) > 0 {
		size := packetSize(enc)
		for _, fn := range o.packetOut {
			fn(s.ec.conn, p, size)
		}
	}
	return s.ec.conn.Write(enc...)
}

func (s *Socket) notifyOutgoing(p *parser.Packet, fns []func(string, Args)) {
	name, raw, err := parser.DecodeEvent(p)
	if err != nil {
		return
	}
	args := parser.NewArgs(raw, p.Attachments)
	s.enqueue(func() {
		s.setTask("outgoing listener", name)
		for _, fn := range fns {
			s.safeCall(func() { fn(name, args) })
		}
	})
}

// pendingAck is an acknowledgement the socket waits for.
type pendingAck struct {
	fn    func(adapter.AckResponse)
	since time.Time // when it was asked for, kept only for AckReceived observers
}

// expectAck registers fn for the client's acknowledgement of id.
func (s *Socket) expectAck(id uint64, fn func(adapter.AckResponse)) {
	a := pendingAck{fn: fn}
	if o := s.nsp.srv.obs.Load(); o != nil && len(o.ackReceived) > 0 {
		a.since = time.Now()
	}
	s.mu.Lock()
	if s.acks == nil {
		s.acks = make(map[uint64]pendingAck) // made on demand: most sockets never wait for an ack
	}
	s.acks[id] = a
	s.mu.Unlock()
}

func (s *Socket) dropAck(id uint64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

// onAck runs on the connection's reader: it hands the answer to whoever
// waits for it, never blocking.
func (s *Socket) onAck(p *parser.Packet) {
	args, err := parser.SplitArray(p.Data)
	if err != nil {
		s.ec.fail(err)
		return
	}
	s.mu.Lock()
	a, ok := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if !ok {
		return
	}
	if o := s.nsp.srv.obs.Load(); o != nil && !a.since.IsZero() {
		latency := time.Since(a.since)
		for _, fn := range o.ackReceived {
			fn(s, latency)
		}
	}
	a.fn(adapter.AckResponse{Args: args, Attachments: p.Attachments})
}

// onEvent runs on the connection's reader and queues the event for the
// socket's handlers.
func (s *Socket) onEvent(p *parser.Packet) {
	name, args, err := parser.DecodeEvent(p)
	if err != nil {
		s.ec.fail(err)
		return
	}
	size := len(p.Data)
	for _, a := range p.Attachments {
		size += len(a)
	}
	ev := &Event{Name: name, args: parser.NewArgs(args, p.Attachments), socket: s, ackID: p.ID, hasAck: p.HasID, size: size}
	if o := s.nsp.srv.obs.Load(); o != nil && len(o.ackSent) > 0 && p.HasID {
		ev.received = time.Now()
	}
	s.enqueueEvent(ev)
}

// errMiddlewarePanicked is the refusal an observer sees when a packet
// middleware panicked.
var errMiddlewarePanicked = errors.New("socketio: packet middleware panicked")

// runEventMiddlewares runs the packet middlewares mws for ev and returns
// the refusal, if any (handed to the error handlers first).
func (s *Socket) runEventMiddlewares(ev *Event, mws []func(*Event) error) error {
	for _, mw := range mws {
		var err error
		if !s.safeCall(func() { err = mw(ev) }) {
			return errMiddlewarePanicked
		}
		if err != nil {
			s.emitError(err)
			return err
		}
	}
	return nil
}

func (s *Socket) dispatch(ev *Event) {
	s.mu.Lock()
	if !s.everConnected {
		// Sent before the CONNECT was accepted (a client must wait for
		// its answer), for a socket then refused or closed.
		s.mu.Unlock()
		return
	}
	s.setTaskLocked("event", ev.Name)
	var mws []func(*Event) error
	var anyIn []func(*Event)
	if h := s.hooks; h != nil {
		mws, anyIn = h.middlewares, h.anyIn
	}
	entries := s.handlers.get(ev.Name)
	if len(entries) > 0 {
		kept := entries[:0:0]
		for _, h := range entries {
			if !h.once {
				kept = append(kept, h)
			}
		}
		if len(kept) != len(entries) {
			s.handlers.set(ev.Name, kept)
		}
	}
	s.mu.Unlock()
	if o := s.nsp.srv.obs.Load(); o != nil && len(o.eventReceived) > 0 {
		if done := o.observeEvent(ev); done != nil {
			var refused error
			defer func() { done(refused) }()
			if refused = s.runEventMiddlewares(ev, mws); refused != nil {
				return
			}
			mws = nil
		}
	}
	if s.runEventMiddlewares(ev, mws) != nil {
		return
	}
	for _, h := range entries {
		s.safeCall(func() { h.fn(ev) })
	}
	for _, fn := range anyIn {
		s.safeCall(func() { fn(ev) })
	}
}

// emitError hands err to the OnError handlers; without any it is logged
// at Debug (a packet middleware's refusal, a bad packet: the application
// or the connection's log already knows).
func (s *Socket) emitError(err error) { s.reportError(err, slog.LevelDebug) }

// handlerError is emitError for the failures of a typed handler, logged at
// Warn without OnError handlers: they are bugs between a client and the
// server, and would go unnoticed otherwise.
func (s *Socket) handlerError(err error) { s.reportError(err, slog.LevelWarn) }

func (s *Socket) reportError(err error, level slog.Level) {
	s.mu.Lock()
	var fns []func(error)
	if s.hooks != nil {
		fns = s.hooks.errHandlers
	}
	s.mu.Unlock()
	if len(fns) == 0 {
		s.nsp.srv.cfg.Logger.Log(context.Background(), level, "socket.io: socket error", "id", s.id, "nsp", s.nsp.name, "err", err)
		return
	}
	s.enqueue(func() {
		s.setTask("error handler", "")
		for _, fn := range fns {
			s.safeCall(func() { fn(err) })
		}
	})
}

// enqueue adds a task for the socket's goroutine. A client whose events
// pile up past MaxPendingEvents is disconnected.
func (s *Socket) enqueue(task func()) {
	if s.queue.Len() >= s.nsp.srv.cfg.MaxPendingEvents {
		s.overflow(errTooManyEvents)
		return
	}
	s.queue.Push(task)
}

// enqueueEvent queues an incoming event for its handlers. Its size counts
// against MaxPendingBytes until its handlers have returned; an event that
// finds nothing else pending is always taken, whatever its size.
func (s *Socket) enqueueEvent(ev *Event) {
	cfg := &s.nsp.srv.cfg
	if s.queue.Len() >= cfg.MaxPendingEvents {
		s.overflow(errTooManyEvents)
		return
	}
	n := int64(ev.size)
	if total := s.pendingBytes.Add(n); total > int64(cfg.MaxPendingBytes) && total != n {
		s.pendingBytes.Add(-n)
		s.overflow(errTooManyEventBytes)
		return
	}
	// Read from a polled WebSocket, the handlers run on the reader's
	// goroutine once its read pass has ended (one goroutine hop
	// less per event; see engineio.Conn.RunAfterDelivery).
	s.queue.PushVia(func() {
		defer s.pendingBytes.Add(-n)
		s.dispatch(ev)
	}, s.ec.conn)
}

// overflow closes the connection of a client whose events pile up.
func (s *Socket) overflow(err error) {
	s.flooded.Store(true)
	s.nsp.srv.cfg.Logger.Warn("socket.io: client sends faster than its handlers run; closing", "id", s.id, "err", err)
	if o := s.nsp.srv.obs.Load(); o != nil {
		for _, fn := range o.overflow {
			fn(s, err)
		}
	}
	s.ec.conn.Abort(engineio.ReasonTransportError, err)
}

// safeCall runs application code, turning a panic into a logged error.
func (s *Socket) safeCall(fn func()) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			s.nsp.srv.cfg.Logger.Error("socket.io: handler panicked", "id", s.id, "nsp", s.nsp.name,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			ok = false
		}
	}()
	fn()
	return true
}

// markConnected moves a pending socket to connected; false if it was
// closed meanwhile.
func (s *Socket) markConnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != statePending {
		return false
	}
	s.state = stateConnected
	s.everConnected = true
	// A socket that joined its rooms before its missed packets were read
	// goes live once they are written (catchUp).
	s.live.Store(s.recov == nil || !s.recov.joined)
	return true
}

// onClose disconnects the socket: pending answers fail at once, and the
// socket leaves its rooms and its namespace's
// list at once, whatever its handlers are doing. Then, on the socket's
// goroutine (after the handler running now, if any, returns), the
// disconnecting handlers run, still seeing the rooms in Rooms, the session
// is stored for recovery, and the disconnect handlers run.
func (s *Socket) onClose(reason string) {
	s.mu.Lock()
	prev := s.state
	if prev == stateClosed {
		s.mu.Unlock()
		return
	}
	s.state = stateClosed
	s.live.Store(false)
	s.acks = nil
	s.mu.Unlock()
	if s.recov != nil {
		s.recov.abandon()
	}
	if s.flooded.Load() {
		// A client closed for flooding: what it queued is not handled.
		// Otherwise the events received before the close still are, as
		// Node handles each event when it arrives: a client that emits and
		// disconnects at once ("bye", then close) loses nothing.
		s.queue.Drop()
	}
	s.cancelContext()
	s.ec.remove(s)
	if prev == statePending {
		s.leaveAllRooms()
		s.releaseNamespace()
		s.queue.Push(func() { s.nsp.srv.forgetSocket(s) })
		return
	}
	rooms := s.nsp.adapter.SocketRooms(s.id)
	s.mu.Lock()
	s.roomsFrozen = true
	if len(rooms) > 0 {
		s.hooksLocked().lastRooms = rooms
	}
	s.mu.Unlock()
	if o := s.nsp.srv.obs.Load(); o != nil {
		for _, fn := range o.socketDisconnected {
			fn(s, reason)
		}
	}
	s.nsp.adapter.DelAll(s.id)
	s.nsp.remove(s)
	s.queue.Push(func() {
		defer s.nsp.srv.forgetSocket(s)
		// The handlers are read now, not at the close: a connection handler
		// still running when the connection dropped may be adding them.
		s.mu.Lock()
		var disconnecting, disconnected []func(string)
		if h := s.hooks; h != nil {
			disconnecting, disconnected = h.disconnecting, h.disconnected
		}
		s.setTaskLocked("disconnecting handler", "")
		s.mu.Unlock()
		for _, fn := range disconnecting {
			s.safeCall(func() { fn(reason) })
		}
		if s.pid != "" && recoverable(reason) && (s.recov == nil || !s.recov.overflowed()) {
			err := s.nsp.adapter.PersistSession(context.Background(), &adapter.Session{
				SID: s.id, PID: s.pid, Rooms: s.roomList(), Data: s.Data(),
			})
			if err != nil {
				s.nsp.srv.cfg.Logger.Warn("socket.io: session not persisted", "id", s.id, "err", err)
			}
		}
		s.mu.Lock()
		if s.hooks != nil {
			s.hooks.lastRooms = nil // the rooms are left now, as far as handlers can see
		}
		s.setTaskLocked("disconnect handler", "")
		s.mu.Unlock()
		for _, fn := range disconnected {
			s.safeCall(func() { fn(reason) })
		}
	})
}

// releaseNamespace gives back the namespace's reference the socket got
// when its CONNECT found the namespace, once: when the socket is refused,
// disconnects before it connected, or leaves.
func (s *Socket) releaseNamespace() {
	if s.nspRef.CompareAndSwap(true, false) {
		s.nsp.release()
	}
}

// recoverable reports whether a socket that disconnected for reason may
// recover its session (Node's list: not after a namespace disconnect).
func recoverable(reason string) bool {
	switch reason {
	case engineio.ReasonTransportError, engineio.ReasonTransportClose, engineio.ReasonForcedClose,
		engineio.ReasonPingTimeout, engineio.ReasonServerShutdown, "forced server close":
		return true
	}
	return false
}
