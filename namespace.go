package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/parser"
)

// Middleware runs when a client connects to a namespace, before the
// connection handlers. Returning an error refuses the connection: the client
// gets a CONNECT_ERROR carrying the error's message (err.message in
// JavaScript) and, for a *ConnectError, its Data (err.data).
type Middleware func(s *Socket) error

// ConnectError is an error a Middleware returns to refuse a connection
// with data for the client.
type ConnectError struct {
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// Error returns the message.
func (e *ConnectError) Error() string { return e.Message }

// NewConnectError returns a *ConnectError with the message and data.
func NewConnectError(message string, data any) error {
	return &ConnectError{Message: message, Data: data}
}

// Namespace is a communication channel multiplexed on the connections
// (Node's Namespace): its own middleware, connection handlers, sockets and
// rooms.
type Namespace struct {
	srv     *Server
	name    string
	parent  *ParentNamespace // nil for a namespace created with Server.Of
	adapter adapter.Adapter
	ackID   atomic.Uint64
	refs    int // under srv.mu: sockets connecting or connected (counted children only)

	mu             sync.RWMutex
	sockets        map[string]*Socket
	middlewares    []Middleware
	onConn         []func(*Socket)
	serverHandlers map[string][]func(*ServerEvent)
	roomEvents     []adapter.RoomEvents
}

func newNamespace(s *Server, name string, parent *ParentNamespace) (*Namespace, error) {
	n := &Namespace{srv: s, name: name, parent: parent, sockets: make(map[string]*Socket)}
	a, err := s.cfg.Adapter(nspView{n})
	if err != nil {
		return nil, adapterError(name, err)
	}
	if a == nil {
		return nil, adapterError(name, errors.New("the factory returned no adapter"))
	}
	n.adapter = a
	return n, nil
}

// Name returns the namespace's name, e.g. "/" or "/admin".
func (n *Namespace) Name() string { return n.name }

// Server returns the server the namespace belongs to.
func (n *Namespace) Server() *Server { return n.srv }

// Adapter returns the namespace's adapter.
func (n *Namespace) Adapter() adapter.Adapter { return n.adapter }

// Use adds a connection middleware. Middlewares run in the order they were
// added, on the connecting socket's goroutine.
func (n *Namespace) Use(mw Middleware) {
	n.mu.Lock()
	n.middlewares = append(n.middlewares, mw)
	n.mu.Unlock()
}

// OnConnection adds a handler called for each socket that connects.
func (n *Namespace) OnConnection(fn func(*Socket)) {
	n.mu.Lock()
	n.onConn = append(n.onConn, fn)
	n.mu.Unlock()
}

// Sockets returns the sockets connected to this namespace on this server.
func (n *Namespace) Sockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}

// Socket returns the local socket with the id, or nil.
func (n *Namespace) Socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

func (n *Namespace) operator() BroadcastOperator { return BroadcastOperator{nsp: n} }

// Emit sends an event to every socket of the namespace.
func (n *Namespace) Emit(event string, args ...any) error { return n.operator().Emit(event, args...) }

// Send emits a "message" event to every socket of the namespace.
func (n *Namespace) Send(args ...any) error { return n.operator().Send(args...) }

// EmitWithAck sends an event to every socket and gathers their answers; see
// BroadcastOperator.EmitWithAck.
func (n *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return n.operator().EmitWithAck(ctx, event, args...)
}

// To selects the sockets in at least one of the rooms.
func (n *Namespace) To(rooms ...string) BroadcastOperator { return n.operator().To(rooms...) }

// In is an alias of To.
func (n *Namespace) In(rooms ...string) BroadcastOperator { return n.operator().To(rooms...) }

// Except leaves out the sockets in the rooms.
func (n *Namespace) Except(rooms ...string) BroadcastOperator { return n.operator().Except(rooms...) }

// Volatile returns an operator whose packets are dropped for busy sockets.
func (n *Namespace) Volatile() BroadcastOperator { return n.operator().Volatile() }

// Local returns an operator that stays on this server.
func (n *Namespace) Local() BroadcastOperator { return n.operator().Local() }

// Compress returns an operator with the compress flag set.
func (n *Namespace) Compress(c bool) BroadcastOperator { return n.operator().Compress(c) }

// Timeout returns an operator whose EmitWithAck gives up after d.
func (n *Namespace) Timeout(d time.Duration) BroadcastOperator { return n.operator().Timeout(d) }

// DisconnectSockets disconnects every socket of the namespace; see
// BroadcastOperator.DisconnectSockets.
func (n *Namespace) DisconnectSockets(ctx context.Context, close bool) error {
	return n.operator().DisconnectSockets(ctx, close)
}

// connect runs the middlewares for s and, when they all pass, connects it:
// own room, CONNECT reply, then the connection handlers. A client that
// comes back with a known pid and offset gets its previous session back
// (id, rooms, data) and the events it missed, before the CONNECT reply
// (see recovery.go). It runs on the socket's goroutine.
func (n *Namespace) connect(s *Socket) {
	r := s.recov
	o := n.srv.obs.Load()
	done := o.observeConnecting(s)
	if !s.recovered || n.srv.cfg.ConnectionStateRecovery.RunMiddlewares {
		s.setTask("middleware", "")
		if err := n.runMiddlewares(s); err != nil {
			if done != nil {
				done(err)
			}
			if r != nil {
				r.abandon()
			}
			s.leaveAllRooms()
			s.releaseNamespace()
			n.srv.forgetSocket(s)
			return
		}
	}
	if !s.markConnected() {
		if done != nil {
			done(ErrDisconnected)
		}
		return // the connection closed while the middlewares ran (onClose released the namespace)
	}
	if done != nil {
		done(nil)
	}
	n.mu.Lock()
	n.sockets[s.id] = s
	handlers := slices.Clone(n.onConn)
	n.mu.Unlock()
	if n.parent != nil {
		_, parentHandlers := n.parent.hooks()
		handlers = append(parentHandlers, handlers...)
	}
	switch {
	case r == nil:
		n.adapter.AddAll(s.handle(), s.id)
	case !r.joined:
		n.adapter.AddAll(s.handle(), append([]string{s.id}, r.rooms...)...)
	}
	s.ec.joinedNamespace()
	if r != nil {
		s.catchUp(r)
	}
	reply, _ := json.Marshal(struct {
		SID string `json:"sid"`
		PID string `json:"pid,omitempty"`
	}{s.id, s.pid})
	_ = s.ec.writePacket(&parser.Packet{Type: parser.Connect, Namespace: n.name, Data: reply})
	if o != nil {
		for _, fn := range o.socketConnected {
			fn(s)
		}
	}
	s.setTask("connection handler", "")
	for _, fn := range handlers {
		if !s.safeCall(func() { fn(s) }) {
			return
		}
	}
}

// wantsRestore reports whether a CONNECT auth asks to recover a session
// (recovery on, a pid and an offset).
func (n *Namespace) wantsRestore(auth map[string]any) bool {
	if n.srv.cfg.ConnectionStateRecovery == nil {
		return false
	}
	pid, _ := auth["pid"].(string)
	offset, _ := auth["offset"].(string)
	return pid != "" && offset != ""
}

// restore returns the session a client asks to recover with the pid and
// offset of its CONNECT auth, or nil, for an adapter that is not an
// adapter.SessionRestorer (see recoverSession). It may wait on the
// adapter's broker (bounded by the adapter's timeout).
func (n *Namespace) restore(auth map[string]any) *adapter.Session {
	if !n.wantsRestore(auth) {
		return nil
	}
	pid, _ := auth["pid"].(string)
	offset, _ := auth["offset"].(string)
	sess, err := n.adapter.RestoreSession(context.Background(), pid, offset)
	if err != nil {
		n.srv.cfg.Logger.Warn("socket.io: session recovery failed", "err", err)
		return nil
	}
	return sess
}

// runMiddlewares runs the connection middlewares; on a refusal it answers
// CONNECT_ERROR and returns the refusal.
func (n *Namespace) runMiddlewares(s *Socket) error {
	n.mu.RLock()
	mws := slices.Clone(n.middlewares)
	n.mu.RUnlock()
	if n.parent != nil {
		parentMws, _ := n.parent.hooks()
		mws = append(parentMws, mws...)
	}
	for _, mw := range mws {
		var err error
		if !s.safeCall(func() { err = mw(s) }) {
			err = errors.New("middleware failed")
		}
		if err != nil {
			s.ec.remove(s)
			ce, ok := err.(*ConnectError)
			if !ok {
				ce = &ConnectError{Message: err.Error()}
			}
			s.ec.sendConnectError(n.name, ce)
			return err
		}
	}
	return nil
}

func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	if n.sockets[s.id] == s {
		delete(n.sockets, s.id)
	}
	n.mu.Unlock()
	s.releaseNamespace()
}

// Parent returns the dynamic namespace that created this one, or nil.
func (n *Namespace) Parent() *ParentNamespace { return n.parent }

// nspView is the namespace as its adapter sees it.
type nspView struct{ n *Namespace }

func (v nspView) Name() string { return v.n.name }

// ServerKey identifies the namespace's server, so that an adapter factory
// shares one broker connection between the namespaces of one server (see
// adapter/cluster.Factory).
func (v nspView) ServerKey() any { return v.n.srv }

func (v nspView) Encode(p *parser.Packet) (adapter.Encoded, error) { return v.n.srv.encode(p) }

func (v nspView) NextAckID() uint64 { return v.n.ackID.Add(1) - 1 }

func (v nspView) OnServerSideEmit(args []json.RawMessage, ack func(json.RawMessage)) {
	v.n.dispatchServerSideEmit(args, ack)
}

// ReportError hands an adapter's error to the server's observers
// (adapter.ErrorReporter).
func (v nspView) ReportError(err error) {
	if o := v.n.srv.obs.Load(); o != nil {
		for _, fn := range o.adapterError {
			fn(v.n, err)
		}
	}
}

var _ adapter.ErrorReporter = nspView{}

func (v nspView) RecoveryDuration() time.Duration { return v.n.srv.recoveryDuration() }

var _ adapter.RecoveryLimits = nspView{}

func (v nspView) RecoveryMaxBytes() int {
	if r := v.n.srv.cfg.ConnectionStateRecovery; r != nil {
		return r.MaxStoredBytes
	}
	return 0
}

// ErrNoRoomEvents is returned by OnRoomEvents when the namespace's adapter
// does not report room changes.
var ErrNoRoomEvents = errors.New("socketio: the adapter does not report room events")

// OnRoomEvents adds receivers of the namespace's room changes (Node's
// adapter events create-room, delete-room, join-room, leave-room). They
// run on the goroutine that changed the rooms, without library locks held.
func (n *Namespace) OnRoomEvents(ev adapter.RoomEvents) error {
	rn, ok := n.adapter.(adapter.RoomNotifier)
	if !ok {
		return ErrNoRoomEvents
	}
	n.mu.Lock()
	first := len(n.roomEvents) == 0
	n.roomEvents = append(n.roomEvents, ev)
	n.mu.Unlock()
	if first {
		all := func() []adapter.RoomEvents {
			n.mu.RLock()
			defer n.mu.RUnlock()
			return slices.Clone(n.roomEvents)
		}
		rn.SetRoomEvents(adapter.RoomEvents{
			CreateRoom: func(r string) {
				for _, e := range all() {
					if e.CreateRoom != nil {
						e.CreateRoom(r)
					}
				}
			},
			DeleteRoom: func(r string) {
				for _, e := range all() {
					if e.DeleteRoom != nil {
						e.DeleteRoom(r)
					}
				}
			},
			JoinRoom: func(r, id string) {
				for _, e := range all() {
					if e.JoinRoom != nil {
						e.JoinRoom(r, id)
					}
				}
			},
			LeaveRoom: func(r, id string) {
				for _, e := range all() {
					if e.LeaveRoom != nil {
						e.LeaveRoom(r, id)
					}
				}
			},
		})
	}
	return nil
}
