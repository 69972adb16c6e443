package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/parser"
)

// Socket is the client side of one namespace, multiplexed with the other
// namespaces of its Manager on one connection (JavaScript's Socket).
//
// All methods are safe for concurrent use. The socket's handlers (events,
// connect, connect error, disconnect) run one at a time, in arrival order,
// on a goroutine that exists only while there is work. Acknowledgements
// are delivered in that order too: after the handlers of the packets that
// preceded them. A handler may call EmitWithAck and wait (see the package
// documentation).
type Socket struct {
	m      *Manager
	nsp    string
	opts   SocketOptions
	hq     handlerQueue
	active atomic.Bool
	owned  bool // created by Dial: Close closes the Manager

	mu         sync.Mutex
	connected  bool
	sentFor    *engine // the connection the last CONNECT was sent on
	id         string
	pid        string
	lastOffset string
	recovered  bool
	ids        uint64
	acks       map[uint64]*ackWaiter
	sendBuf    []*parser.Packet
	recvBuf    []*parser.Packet
	retryQ     []*queued
	fatal      error
	lastErr    error // of the last failed connection attempt
	changed    chan struct{}
	inbox      []*Event
	// receiveDropped counts the events dropped from a full inbox (see
	// Options.ReceiveBuffer and Socket.ReceiveDropped).
	receiveDropped uint64

	handlers     map[string][]*handlerEntry
	anyIn        []func(*Event)
	onConnect    []func()
	onConnectErr []func(error)
	onDisconnect []func(reason string)
}

type handlerEntry struct {
	fn   func(*Event)
	once bool
}

// ackWaiter waits for the acknowledgement of one packet. fn is called at
// most once, never under a lock; mark is the handler queue's mark when an
// acknowledgement arrived (see handlerQueue.ack), 0 for an error.
type ackWaiter struct {
	fn    func(a Args, err error, mark uint64)
	sent  bool // written to a connection (not in the send buffer)
	timer *time.Timer
}

type queued struct {
	event   string
	args    []any
	tries   int
	pending bool
	from    uint64 // the handler task running when it was emitted
	done    func(Args, error)
}

func newSocket(m *Manager, nsp string, o SocketOptions) *Socket {
	s := &Socket{
		m: m, nsp: nsp, opts: o,
		acks:     make(map[uint64]*ackWaiter),
		handlers: make(map[string][]*handlerEntry),
		changed:  make(chan struct{}),
	}
	s.hq.q.T = &m.g
	return s
}

// New returns the socket of the namespace named by the URL path ("/" when
// empty) of the server at rawURL, on a Manager of its own, without
// connecting (JavaScript's io(url, {autoConnect: false})): register its
// handlers, then call Connect, so that no event is missed, not even those
// the server emits as soon as the socket connects. Close closes the socket
// and its Manager.
//
//	s, err := client.New("http://localhost:3000", nil)
//	if err != nil { ... }
//	defer s.Close()
//	client.On(s, "welcome", func(msg string) { ... })
//	err = s.Connect(ctx)
func New(rawURL string, opts *Options) (*Socket, error) {
	o, cfg, nsp, own, err := resolve(rawURL, opts)
	if err != nil {
		return nil, err
	}
	m := newManager(o, cfg, own)
	s := m.Socket(nsp, &o.Socket)
	s.owned = true
	return s, nil
}

// Dial is New followed by Connect: it connects to the namespace named by
// the URL path ("/" when empty) of the server at rawURL, on a Manager of
// its own, and waits until the socket is connected. On failure it closes
// the Manager and returns Connect's error. Close the socket with Close.
//
// Events the server emits as soon as the socket connects arrive before
// Dial returns, so before any handler registered afterwards: Receive gets
// them. Use New to register handlers first.
//
//	s, err := client.Dial(ctx, "http://localhost:3000", nil)
func Dial(ctx context.Context, rawURL string, opts *Options) (*Socket, error) {
	s, err := New(rawURL, opts)
	if err != nil {
		return nil, err
	}
	if err := s.Connect(ctx); err != nil {
		_ = s.m.Close()
		return nil, err
	}
	return s, nil
}

// Manager returns the socket's Manager.
func (s *Socket) Manager() *Manager { return s.m }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() string { return s.nsp }

// ID returns the socket id given by the server, "" while not connected.
func (s *Socket) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Connected reports whether the socket is connected to its namespace.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// Active reports whether the socket is connected or trying to (it will
// reconnect by itself). It is false after Disconnect, a server disconnect
// or a connect error from the server.
func (s *Socket) Active() bool { return s.active.Load() }

// Recovered reports whether the last connection restored the previous
// session (the server's connection state recovery): same id, and the
// events missed meanwhile delivered first.
func (s *Socket) Recovered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovered
}

// notifyLocked wakes Connect and Receive waiters.
func (s *Socket) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wake wakes Receive waiters once the handler queue has run (so that
// Receive on an inactive socket sees every event delivered before).
func (s *Socket) wake() {
	s.mu.Lock()
	s.notifyLocked()
	s.mu.Unlock()
}

// Connect makes the socket active (opening the Manager's connection if
// needed) and waits until it is connected. It returns a *ConnectError when
// the server refuses the namespace (the socket is then inactive: no
// automatic retry, as in JavaScript), ErrReconnectFailed when the Manager
// gives up, the connection error when reconnection is disabled, or, when
// ctx is done first, ctx.Err() wrapped together with the error of the last
// failed connection attempt, if any (errors.Is(err,
// context.DeadlineExceeded) holds, and the message says why, "connection
// refused" say); in that last case the socket stays active and keeps
// trying (call Disconnect to stop it).
func (s *Socket) Connect(ctx context.Context) error {
	s.open()
	for {
		s.mu.Lock()
		if s.connected {
			s.mu.Unlock()
			return nil
		}
		if s.fatal != nil {
			err := s.fatal
			s.mu.Unlock()
			return err
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			last := s.lastErr
			s.mu.Unlock()
			if last != nil {
				return fmt.Errorf("socketio client: %w; last connection error: %w", ctx.Err(), last)
			}
			return ctx.Err()
		}
	}
}

// Open is the non-blocking Connect (JavaScript's connect()): the socket
// becomes active and connects in the background.
func (s *Socket) Open() { s.open() }

func (s *Socket) open() {
	s.mu.Lock()
	if s.connected {
		s.mu.Unlock()
		return
	}
	s.fatal = nil
	if !s.active.Load() {
		s.lastErr = nil // from an earlier activation
	}
	s.active.Store(true)
	s.mu.Unlock()
	m := s.m
	m.mu.Lock()
	isOpen, reconnecting, closed := m.eng != nil, m.reconnecting, m.closed
	m.mu.Unlock()
	if closed {
		s.mu.Lock()
		s.fatal = ErrClosed
		s.active.Store(false)
		s.notifyLocked()
		s.mu.Unlock()
		return
	}
	if isOpen {
		s.onOpen()
	} else if !reconnecting {
		m.open(nil)
	}
}

// Disconnect leaves the namespace (the server sees "client namespace
// disconnect", the socket's handlers see "io client disconnect") and stops
// reconnecting; when no other socket of the Manager is active, the
// connection is closed. Connect may be called again later.
func (s *Socket) Disconnect() {
	s.mu.Lock()
	s.active.Store(false)
	var fns []func()
	if s.connected {
		_ = s.m.writePacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp})
		fns = s.closeLocked(ReasonIOClientDisconnect)
	}
	s.sentFor = nil
	s.notifyLocked()
	s.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	s.m.destroy()
}

// Close disconnects the socket; for a socket made by Dial it also closes
// its Manager and waits for its goroutines. Like Manager.Close, it must not
// be called from a handler.
func (s *Socket) Close() error {
	s.Disconnect()
	if s.owned {
		return s.m.Close()
	}
	return nil
}

// shutdown is Disconnect without the Manager bookkeeping (Manager.Close).
func (s *Socket) shutdown() {
	s.mu.Lock()
	s.active.Store(false)
	var fns []func()
	if s.connected {
		_ = s.m.writePacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp})
		fns = s.closeLocked(ReasonIOClientDisconnect)
	}
	if s.fatal == nil {
		s.fatal = ErrClosed
	}
	s.notifyLocked()
	s.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// closeLocked marks the socket disconnected: acks of packets already sent
// fail with ErrDisconnected, the disconnect handlers are queued. It returns
// the ack callbacks to call once the lock is released.
func (s *Socket) closeLocked(reason string) []func() {
	s.connected = false
	s.id = ""
	s.recvBuf = nil
	var fns []func()
	for id, w := range s.acks {
		if !w.sent {
			continue
		}
		delete(s.acks, id)
		if w.timer != nil {
			w.timer.Stop()
		}
		fns = append(fns, func() { w.fn(Args{}, ErrDisconnected, 0) })
	}
	hs := s.onDisconnect
	s.hq.push(func() {
		for _, fn := range hs {
			s.call(func() { fn(reason) })
		}
		s.wake()
	})
	s.notifyLocked()
	return fns
}

// call runs a handler, turning a panic into a logged error.
func (s *Socket) call(fn func()) { safeCall(s.m.opts.Logger, fn) }

// ---- handlers ----

// On adds a handler for the event. Events with no handler are kept for
// Receive.
func (s *Socket) On(event string, fn func(*Event)) { s.addHandler(event, fn, false) }

// Once adds a handler called for the next occurrence of the event only.
func (s *Socket) Once(event string, fn func(*Event)) { s.addHandler(event, fn, true) }

func (s *Socket) addHandler(event string, fn func(*Event), once bool) {
	s.mu.Lock()
	s.handlers[event] = append(s.handlers[event], &handlerEntry{fn: fn, once: once})
	s.mu.Unlock()
}

// Off removes every handler of the event.
func (s *Socket) Off(event string) {
	s.mu.Lock()
	delete(s.handlers, event)
	s.mu.Unlock()
}

// OnAny adds a handler called for every incoming event, after the event's
// own handlers.
func (s *Socket) OnAny(fn func(*Event)) {
	s.mu.Lock()
	s.anyIn = append(s.anyIn, fn)
	s.mu.Unlock()
}

// OffAny removes the OnAny handlers.
func (s *Socket) OffAny() {
	s.mu.Lock()
	s.anyIn = nil
	s.mu.Unlock()
}

// OnConnect adds a handler called on every connection to the namespace,
// reconnections included.
func (s *Socket) OnConnect(fn func()) {
	s.mu.Lock()
	s.onConnect = append(s.onConnect, fn)
	s.mu.Unlock()
}

// OnConnectError adds a handler called when a connection fails: a
// *ConnectError when the server refused the namespace (no automatic retry),
// or the error of a failed connection attempt (the Manager retries).
func (s *Socket) OnConnectError(fn func(err error)) {
	s.mu.Lock()
	s.onConnectErr = append(s.onConnectErr, fn)
	s.mu.Unlock()
}

// OnDisconnect adds a handler called when the socket disconnects, with
// the reason (ReasonIOServerDisconnect, ReasonTransportClose, ...).
func (s *Socket) OnDisconnect(fn func(reason string)) {
	s.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, fn)
	s.mu.Unlock()
}

// ReceiveDropped returns how many events were dropped because the Receive
// buffer was full (Options.ReceiveBuffer: the oldest goes first). The
// first drop, and every thousandth, is logged at Warn.
func (s *Socket) ReceiveDropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.receiveDropped
}

// Receive returns the next event that no On handler took, waiting until
// one arrives or ctx is done. It returns ErrInactive once the socket is
// inactive and every kept event has been returned.
func (s *Socket) Receive(ctx context.Context) (*Event, error) {
	for {
		s.mu.Lock()
		if len(s.inbox) > 0 {
			ev := s.inbox[0]
			s.inbox[0] = nil
			s.inbox = s.inbox[1:]
			s.mu.Unlock()
			return ev, nil
		}
		if !s.active.Load() && s.hq.len() == 0 {
			s.mu.Unlock()
			return nil, ErrInactive
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// ---- emitting ----

// Emitter sends events with flags (volatile, timeout). It is a value: each
// method returns a new one.
type Emitter struct {
	s        *Socket
	volatile bool
	timeout  time.Duration
}

// Volatile returns an emitter whose events are dropped, not buffered, when
// the socket is not connected or the transport is busy.
func (s *Socket) Volatile() Emitter { return Emitter{s: s, volatile: true} }

// Timeout returns an emitter whose EmitWithAck gives up after d.
func (s *Socket) Timeout(d time.Duration) Emitter { return Emitter{s: s, timeout: d} }

// Volatile returns a copy of e with the volatile flag.
func (e Emitter) Volatile() Emitter { e.volatile = true; return e }

// Timeout returns a copy of e whose EmitWithAck gives up after d.
func (e Emitter) Timeout(d time.Duration) Emitter { e.timeout = d; return e }

// Emit sends an event. Arguments are encoded as JSON; []byte values, at
// any depth, travel as binary attachments. While the socket is not
// connected the packet waits in the send buffer (see
// SocketOptions.SendBuffer for the overflow policy).
func (s *Socket) Emit(event string, args ...any) error { return Emitter{s: s}.Emit(event, args...) }

// Send emits a "message" event (JavaScript's socket.send).
func (s *Socket) Send(args ...any) error { return s.Emit("message", args...) }

// EmitWithAck sends an event and waits for the server's acknowledgement,
// until ctx is done. It returns once the handlers of the packets received
// before the acknowledgement have run; called by a handler, it returns
// while that handler runs. It fails with ErrDisconnected if the connection
// is lost after the packet went out.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return Emitter{s: s}.EmitWithAck(ctx, event, args...)
}

// Emit sends an event with the emitter's flags.
func (e Emitter) Emit(event string, args ...any) error {
	if parser.IsReservedEvent(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if e.s.opts.Retries > 0 && !e.volatile {
		return e.s.enqueueRetry(event, args, 0, nil)
	}
	p, err := parser.NewEvent(e.s.nsp, event, args...)
	if err != nil {
		return err
	}
	return e.s.send(p, e.volatile, nil)
}

type ackResult struct {
	args Args
	err  error
}

// EmitWithAck sends an event and waits for its acknowledgement, until ctx
// is done or the emitter's timeout passes. With SocketOptions.Retries, the
// event goes through the retry queue.
func (e Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	if parser.IsReservedEvent(event) {
		return Args{}, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if e.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.timeout)
		defer cancel()
	}
	ch := make(chan ackResult, 1)
	done := func(a Args, err error) { ch <- ackResult{a, err} }
	// The answer comes after the handlers of the packets received before
	// it, unless it is for the running handler (see handlerQueue).
	from := e.s.hq.caller()
	var id uint64
	if e.s.opts.Retries > 0 && !e.volatile {
		if err := e.s.enqueueRetry(event, args, from, done); err != nil {
			return Args{}, err
		}
	} else {
		p, err := parser.NewEvent(e.s.nsp, event, args...)
		if err != nil {
			return Args{}, err
		}
		w := &ackWaiter{fn: func(a Args, err error, mark uint64) {
			e.s.hq.ack(mark, from, func() { done(a, err) })
		}}
		if err := e.s.send(p, e.volatile, w); err != nil {
			return Args{}, err
		}
		id = p.ID
	}
	select {
	case r := <-ch:
		return r.args, r.err
	case <-ctx.Done():
		if e.s.opts.Retries <= 0 || e.volatile {
			e.s.mu.Lock()
			delete(e.s.acks, id)
			e.s.mu.Unlock()
		}
		return Args{}, ctx.Err()
	}
}

// send writes p now, or keeps it in the send buffer while the socket is
// not connected. With w, an ack id is given to p and w waits for it.
func (s *Socket) send(p *parser.Packet, volatile bool, w *ackWaiter) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w != nil {
		id := s.ids
		s.ids++
		p.SetID(id)
		s.acks[id] = w
	}
	if volatile {
		if s.connected && s.m.writable() {
			if w != nil {
				w.sent = true
			}
			if s.m.writePacket(p) == nil {
				return nil
			}
		}
		if w != nil {
			delete(s.acks, p.ID)
		}
		return nil
	}
	if s.connected {
		if w != nil {
			w.sent = true
		}
		err := s.m.writePacket(p)
		if err == nil || !errors.Is(err, ErrDisconnected) {
			if err != nil && w != nil {
				delete(s.acks, p.ID)
			}
			return err
		}
		if w != nil {
			w.sent = false
		}
	}
	if len(s.sendBuf) >= s.opts.SendBuffer {
		if w != nil {
			delete(s.acks, p.ID)
		}
		return ErrSendBufferFull
	}
	s.sendBuf = append(s.sendBuf, p)
	return nil
}

// ---- retries (at-least-once) ----

func (s *Socket) enqueueRetry(event string, args []any, from uint64, done func(Args, error)) error {
	s.mu.Lock()
	if len(s.retryQ) >= s.opts.SendBuffer {
		s.mu.Unlock()
		return ErrSendBufferFull
	}
	s.retryQ = append(s.retryQ, &queued{event: event, args: args, from: from, done: done})
	s.mu.Unlock()
	s.drainRetry(false)
	return nil
}

// drainRetry sends the head of the retry queue if it is not in flight (or
// always, with force, after a reconnection).
func (s *Socket) drainRetry(force bool) {
	s.mu.Lock()
	if len(s.retryQ) == 0 || !s.connected {
		s.mu.Unlock()
		return
	}
	q := s.retryQ[0]
	if q.pending && !force {
		s.mu.Unlock()
		return
	}
	q.pending = true
	q.tries++
	p, err := parser.NewEvent(s.nsp, q.event, q.args...)
	if err != nil {
		s.retryQ = s.retryQ[1:]
		s.mu.Unlock()
		if q.done != nil {
			q.done(Args{}, err)
		}
		s.drainRetry(false)
		return
	}
	id := s.ids
	s.ids++
	p.SetID(id)
	w := &ackWaiter{sent: true, fn: func(a Args, err error, mark uint64) { s.onRetryResult(q, a, err, mark) }}
	w.timer = time.AfterFunc(s.opts.AckTimeout, func() { s.m.g.Run(func() { s.ackTimedOut(id) }) })
	s.acks[id] = w
	_ = s.m.writePacket(p)
	s.mu.Unlock()
}

func (s *Socket) ackTimedOut(id uint64) {
	s.mu.Lock()
	w := s.acks[id]
	delete(s.acks, id)
	s.mu.Unlock()
	if w != nil {
		w.fn(Args{}, ErrAckTimeout, 0)
	}
}

// onRetryResult moves the retry queue on at once; the emitter gets the
// result in order with the handlers (mark, see handlerQueue.ack).
func (s *Socket) onRetryResult(q *queued, a Args, err error, mark uint64) {
	s.mu.Lock()
	if len(s.retryQ) == 0 || s.retryQ[0] != q {
		s.mu.Unlock()
		return
	}
	if err != nil {
		q.pending = false
		if errors.Is(err, ErrDisconnected) {
			// Interrupted, not refused: sent again after the reconnection.
			q.tries--
			s.mu.Unlock()
			return
		}
		if q.tries <= s.opts.Retries {
			s.mu.Unlock()
			s.drainRetry(false)
			return
		}
	}
	s.retryQ[0] = nil
	s.retryQ = s.retryQ[1:]
	s.mu.Unlock()
	if q.done != nil {
		s.hq.ack(mark, q.from, func() { q.done(a, err) })
	}
	s.drainRetry(false)
}

// ---- receiving (called by the Manager) ----

// onOpen sends the CONNECT packet for the new connection, on the handler
// goroutine (the auth function is user code).
func (s *Socket) onOpen() {
	if !s.active.Load() {
		return
	}
	s.hq.push(func() {
		e := s.m.current()
		if e == nil || !s.active.Load() {
			return
		}
		auth := s.opts.Auth
		if s.opts.AuthFunc != nil {
			var err error
			var a any
			s.call(func() { a, err = s.opts.AuthFunc(s.m.ctx) })
			if err != nil {
				s.mu.Lock()
				s.active.Store(false)
				s.fatal = err
				hs := s.onConnectErr
				s.notifyLocked()
				s.mu.Unlock()
				for _, fn := range hs {
					s.call(func() { fn(err) })
				}
				s.m.destroy()
				return
			}
			auth = a
		}
		data, err := s.connectPayload(auth)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			s.m.opts.Logger.Error("socket.io client: auth does not marshal to an object", "err", err)
			return
		}
		if s.connected || s.sentFor == e {
			return
		}
		s.sentFor = e
		_ = s.m.writePacket(&parser.Packet{Type: parser.Connect, Namespace: s.nsp, Data: data})
	})
}

// connectPayload is the CONNECT data: auth, with pid and offset first
// when a session may be recovered.
func (s *Socket) connectPayload(auth any) (json.RawMessage, error) {
	var obj json.RawMessage
	if auth != nil {
		b, err := json.Marshal(auth)
		if err != nil {
			return nil, err
		}
		if len(b) == 0 || b[0] != '{' {
			if string(b) != "null" {
				return nil, fmt.Errorf("auth is %s, not an object", b)
			}
		} else {
			obj = b
		}
	}
	s.mu.Lock()
	pid, off := s.pid, s.lastOffset
	s.mu.Unlock()
	if pid == "" {
		return obj, nil
	}
	hb, _ := json.Marshal(pid)
	out := append([]byte(`{"pid":`), hb...)
	if off != "" {
		ob, _ := json.Marshal(off)
		out = append(append(out, `,"offset":`...), ob...)
	}
	if len(obj) > 2 {
		out = append(append(out, ','), obj[1:]...)
	} else {
		out = append(out, '}')
	}
	return out, nil
}

func (s *Socket) onPacket(p *parser.Packet) {
	switch p.Type {
	case parser.Connect:
		s.onConnectPacket(p)
	case parser.ConnectError:
		s.onConnectError(p)
	case parser.Disconnect:
		s.onServerDisconnect()
	case parser.Event, parser.BinaryEvent:
		s.onEvent(p)
	case parser.Ack, parser.BinaryAck:
		s.onAck(p)
	}
}

func (s *Socket) onConnectPacket(p *parser.Packet) {
	var reply struct {
		SID string `json:"sid"`
		PID string `json:"pid"`
	}
	_ = json.Unmarshal(p.Data, &reply)
	if reply.SID == "" {
		s.refused(&ConnectError{Message: "It seems you are trying to reach a Socket.IO server in v2.x with a v3.x client, but they are not compatible (more information here: https://socket.io/docs/v3/migrating-from-2-x-to-3-0/)"})
		return
	}
	s.mu.Lock()
	if !s.active.Load() || s.connected {
		s.mu.Unlock()
		return
	}
	s.id = reply.SID
	s.recovered = reply.PID != "" && reply.PID == s.pid
	s.pid = reply.PID
	s.connected = true
	s.fatal = nil
	s.lastErr = nil
	for _, bp := range s.sendBuf {
		if bp.HasID {
			if w := s.acks[bp.ID]; w != nil {
				w.sent = true
			}
		}
		_ = s.m.writePacket(bp)
	}
	s.sendBuf = nil
	recv := s.recvBuf
	s.recvBuf = nil
	s.mu.Unlock()
	for _, rp := range recv {
		s.deliver(rp)
	}
	s.mu.Lock()
	hs := s.onConnect
	s.hq.push(func() {
		for _, fn := range hs {
			s.call(fn)
		}
	})
	s.notifyLocked()
	s.mu.Unlock()
	s.drainRetry(true)
}

func (s *Socket) onConnectError(p *parser.Packet) {
	ce := &ConnectError{}
	var obj struct {
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if len(p.Data) > 0 && p.Data[0] == '"' {
		_ = json.Unmarshal(p.Data, &ce.Message)
	} else if json.Unmarshal(p.Data, &obj) == nil {
		ce.Message = obj.Message
		if len(obj.Data) > 0 {
			ce.Data = obj.Data
		}
	}
	s.refused(ce)
}

// refused handles a CONNECT refused by the server: the socket becomes
// inactive and does not retry.
func (s *Socket) refused(err error) {
	s.mu.Lock()
	s.active.Store(false)
	s.sentFor = nil
	s.fatal = err
	hs := s.onConnectErr
	s.hq.push(func() {
		for _, fn := range hs {
			s.call(func() { fn(err) })
		}
		s.wake()
	})
	s.notifyLocked()
	s.mu.Unlock()
	s.m.destroy()
}

func (s *Socket) onServerDisconnect() {
	s.mu.Lock()
	s.active.Store(false)
	s.sentFor = nil
	var fns []func()
	if s.connected {
		fns = s.closeLocked(ReasonIOServerDisconnect)
	}
	s.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	s.m.destroy()
}

// onEngineClosed is called when the connection is lost.
func (s *Socket) onEngineClosed(reason string) {
	s.mu.Lock()
	s.sentFor = nil
	var fns []func()
	if s.connected {
		fns = s.closeLocked(reason)
	}
	s.recvBuf = nil
	s.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// onConnectFailure reports a failed connection attempt; final means no
// further attempt will be made.
func (s *Socket) onConnectFailure(err error, final bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.active.Load() || s.connected {
		return
	}
	s.lastErr = err
	hs := s.onConnectErr
	s.hq.push(func() {
		for _, fn := range hs {
			s.call(func() { fn(err) })
		}
	})
	if final {
		s.fatal = err
		s.notifyLocked()
	}
}

// onGiveUp is called when the Manager stops reconnecting
// (reconnect_failed): Connect returns ErrReconnectFailed.
func (s *Socket) onGiveUp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active.Load() && !s.connected {
		s.fatal = ErrReconnectFailed
		s.notifyLocked()
	}
}

func (s *Socket) onEvent(p *parser.Packet) {
	s.mu.Lock()
	if !s.connected {
		if len(s.recvBuf) < s.opts.MaxPendingEvents {
			s.recvBuf = append(s.recvBuf, p)
		}
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.deliver(p)
}

// deliver queues an event for the handlers.
func (s *Socket) deliver(p *parser.Packet) {
	name, raw, err := parser.DecodeEvent(p)
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.pid != "" && len(raw) > 0 {
		var off string
		if last := raw[len(raw)-1]; len(last) > 0 && last[0] == '"' && json.Unmarshal(last, &off) == nil {
			s.lastOffset = off
		}
	}
	s.mu.Unlock()
	if s.hq.len() >= s.opts.MaxPendingEvents {
		s.m.opts.Logger.Warn("socket.io client: the server sends faster than the handlers run; closing", "nsp", s.nsp)
		s.m.failEngine(ReasonTransportError, errors.New("too many pending events"))
		return
	}
	ev := &Event{Name: name, args: parser.NewArgs(raw, p.Attachments), s: s, id: p.ID, hasAck: p.HasID}
	s.hq.push(func() { s.dispatch(ev) })
}

func (s *Socket) dispatch(ev *Event) {
	s.mu.Lock()
	entries := s.handlers[ev.Name]
	if len(entries) > 0 {
		kept := entries[:0:0]
		for _, h := range entries {
			if !h.once {
				kept = append(kept, h)
			}
		}
		if len(kept) != len(entries) {
			s.handlers[ev.Name] = kept
		}
	}
	anyIn := s.anyIn
	if len(entries) == 0 {
		if len(s.inbox) >= s.opts.ReceiveBuffer {
			dropped := s.inbox[0]
			s.inbox[0] = nil
			s.inbox = s.inbox[1:]
			s.receiveDropped++
			if s.receiveDropped == 1 || s.receiveDropped%1000 == 0 {
				// Told once, then every thousandth: nobody calls Receive
				// often enough, or an On handler is missing.
				s.m.opts.Logger.Warn("socket.io client: Receive buffer full; oldest event dropped",
					"nsp", s.nsp, "event", dropped.Name, "dropped", s.receiveDropped)
			}
		}
		s.inbox = append(s.inbox, ev)
		s.notifyLocked()
	}
	s.mu.Unlock()
	for _, h := range entries {
		s.call(func() { h.fn(ev) })
	}
	for _, fn := range anyIn {
		s.call(func() { fn(ev) })
	}
}

func (s *Socket) onAck(p *parser.Packet) {
	raw, err := parser.SplitArray(p.Data)
	if err != nil {
		return
	}
	s.mu.Lock()
	w := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if w == nil {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	// Called by the reader, which has queued the handlers of every packet
	// before this one: the mark orders the answer after them.
	w.fn(parser.NewArgs(raw, p.Attachments), nil, s.hq.mark())
}
