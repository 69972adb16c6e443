package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/gosio/socketio/engineio/packet"
	"github.com/gosio/socketio/internal/gotrack"
	"github.com/gosio/socketio/parser"
)

// Disconnect and close reasons, with the JavaScript client's wording.
const (
	// ReasonIOServerDisconnect: the server disconnected the socket
	// (socket.disconnect() on the server); no automatic reconnection.
	ReasonIOServerDisconnect = "io server disconnect"
	// ReasonIOClientDisconnect: Socket.Disconnect or Manager.Close was
	// called; no automatic reconnection.
	ReasonIOClientDisconnect = "io client disconnect"
	// ReasonPingTimeout: the server sent no ping within pingInterval +
	// pingTimeout (a silent network, or a server gone without a word).
	ReasonPingTimeout = "ping timeout"
	// ReasonTransportClose: the server closed the connection.
	ReasonTransportClose = "transport close"
	// ReasonTransportError: the connection failed (network error, HTTP
	// error, a server sending faster than the handlers run).
	ReasonTransportError = "transport error"
	// ReasonParseError: the server sent a packet that breaks the protocol.
	ReasonParseError = "parse error"
	// ReasonForcedClose: the Manager closed the connection itself (its last
	// active socket went away, or Close was called); only Manager OnClose
	// handlers see it.
	ReasonForcedClose = "forced close"
)

// Errors of the client.
var (
	// ErrClosed is returned by calls on a closed Manager.
	ErrClosed = errors.New("socketio client: manager closed")
	// ErrDisconnected fails acknowledgements still expected when the
	// socket disconnects (JavaScript's "socket has been disconnected"),
	// and acks of a disconnected socket.
	ErrDisconnected = errors.New("socketio client: socket has been disconnected")
	// ErrSendBufferFull is returned by emits when the offline send buffer
	// (SocketOptions.SendBuffer) is full; the packet is dropped.
	ErrSendBufferFull = errors.New("socketio client: send buffer full")
	// ErrAckTimeout is returned when an acknowledgement did not arrive in
	// time (SocketOptions.AckTimeout, after every retry).
	ErrAckTimeout = errors.New("socketio client: operation has timed out")
	// ErrReservedEvent is returned when emitting a reserved event name.
	ErrReservedEvent = errors.New("socketio client: reserved event name")
	// ErrReconnectFailed is returned by Connect when the Manager gave up
	// after ReconnectionAttempts attempts.
	ErrReconnectFailed = errors.New("socketio client: reconnection failed")
	// ErrInactive is returned by Receive once the socket is inactive (it was
	// disconnected by either side or refused) and no event is left.
	ErrInactive = errors.New("socketio client: socket is not active")
	// ErrConnectTimeout is the error of a connection attempt that did not
	// complete within Options.Timeout (JavaScript's "timeout").
	ErrConnectTimeout = errors.New("socketio client: timeout")
)

// ConnectError is the error of a CONNECT refused by the server: a middleware
// error (Message is err.message, Data is err.data) or "Invalid namespace".
// The socket does not retry by itself; call Connect again.
type ConnectError struct {
	// Message is the server's message.
	Message string
	// Data is the server's data as JSON, nil when there is none.
	Data []byte
}

// Error returns the server's message.
func (e *ConnectError) Error() string { return e.Message }

// Manager is one Engine.IO connection, shared by the sockets of several
// namespaces, with its automatic reconnection (JavaScript's Manager).
//
// Goroutines: a Manager runs the transport goroutines of its connection,
// one short-lived goroutine per connection attempt, and, only while they
// have work, one goroutine for its event handlers and one per socket for
// that socket's handlers. Close waits for all of them.
type Manager struct {
	opts    Options
	cfg     *engineConfig
	ownHTTP bool
	g       gotrack.Tracker
	events  gotrack.Serial
	ctx     context.Context
	cancel  context.CancelFunc

	mu            sync.Mutex
	eng           *engine
	dec           parser.PacketDecoder
	opening       bool
	reconnecting  bool
	skipReconnect bool
	closed        bool
	backoff       backoff
	timer         *time.Timer
	sockets       map[string]*Socket

	hOpen      []func()
	hClose     []func(reason string, err error)
	hAttempt   []func(attempt int)
	hReconnect []func(attempt int)
	hRecErr    []func(err error)
	hFailed    []func()
	hError     []func(err error)
}

// NewManager returns a Manager for the server at rawURL (http, https, ws or
// wss; the path is ignored, namespaces are chosen with Socket). It does not
// connect: the first Socket.Connect does.
func NewManager(rawURL string, opts *Options) (*Manager, error) {
	o, cfg, _, own, err := resolve(rawURL, opts)
	if err != nil {
		return nil, err
	}
	return newManager(o, cfg, own), nil
}

func newManager(o Options, cfg *engineConfig, own bool) *Manager {
	m := &Manager{opts: o, cfg: cfg, ownHTTP: own, sockets: make(map[string]*Socket)}
	m.events.T = &m.g
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.backoff = backoff{min: o.ReconnectionDelay, max: o.ReconnectionDelayMax, jitter: o.RandomizationFactor, rand: o.Rand}
	return m
}

// Socket returns the socket of the namespace nsp ("/" when empty),
// creating it on first use with opts (nil means the zero SocketOptions).
// Later calls return the same socket and ignore opts. The socket does not
// connect until Connect is called.
func (m *Manager) Socket(nsp string, opts *SocketOptions) *Socket {
	if !strings.HasPrefix(nsp, "/") {
		nsp = "/" + nsp
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.sockets[nsp]; s != nil {
		return s
	}
	var so SocketOptions
	if opts != nil {
		so = *opts
	}
	s := newSocket(m, nsp, so.withDefaults())
	m.sockets[nsp] = s
	return s
}

// Transport returns the name of the current transport ("polling" or
// "websocket"), or "" when not connected.
func (m *Manager) Transport() string {
	m.mu.Lock()
	e := m.eng
	m.mu.Unlock()
	if e == nil {
		return ""
	}
	return e.transportName()
}

// OnOpen adds a handler called when the Engine.IO connection opens.
func (m *Manager) OnOpen(fn func()) { m.mu.Lock(); m.hOpen = append(m.hOpen, fn); m.mu.Unlock() }

// OnClose adds a handler called when the Engine.IO connection closes, with
// the reason ("transport close", "ping timeout", "forced close", ...) and
// the underlying error, if any.
func (m *Manager) OnClose(fn func(reason string, err error)) {
	m.mu.Lock()
	m.hClose = append(m.hClose, fn)
	m.mu.Unlock()
}

// OnReconnectAttempt adds a handler called before each reconnection
// attempt, with the attempt number (from 1).
func (m *Manager) OnReconnectAttempt(fn func(attempt int)) {
	m.mu.Lock()
	m.hAttempt = append(m.hAttempt, fn)
	m.mu.Unlock()
}

// OnReconnect adds a handler called after a successful reconnection, with
// the number of attempts it took.
func (m *Manager) OnReconnect(fn func(attempt int)) {
	m.mu.Lock()
	m.hReconnect = append(m.hReconnect, fn)
	m.mu.Unlock()
}

// OnReconnectError adds a handler called when a reconnection attempt fails.
func (m *Manager) OnReconnectError(fn func(err error)) {
	m.mu.Lock()
	m.hRecErr = append(m.hRecErr, fn)
	m.mu.Unlock()
}

// OnReconnectFailed adds a handler called when the Manager gives up after
// Options.ReconnectionAttempts attempts.
func (m *Manager) OnReconnectFailed(fn func()) {
	m.mu.Lock()
	m.hFailed = append(m.hFailed, fn)
	m.mu.Unlock()
}

// OnError adds a handler called when a connection attempt fails (initial
// or reconnection).
func (m *Manager) OnError(fn func(err error)) {
	m.mu.Lock()
	m.hError = append(m.hError, fn)
	m.mu.Unlock()
}

// emit runs fn on the Manager's handler goroutine, in order.
func (m *Manager) emit(fn func()) {
	m.events.Push(func() { safeCall(m.opts.Logger, fn) })
}

func safeCall(log interface {
	Error(msg string, args ...any)
}, fn func()) {
	defer func() {
		if v := recover(); v != nil {
			log.Error("socket.io client: handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	fn()
}

// Close disconnects every socket ("io client disconnect"), closes the
// connection, stops reconnecting and waits for every goroutine the Manager
// started. It must not be called from a handler (it would wait for
// itself); call Socket.Disconnect there. Close is idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		m.g.Close()
		return nil
	}
	m.closed, m.skipReconnect, m.reconnecting = true, true, false
	if m.timer != nil {
		m.timer.Stop()
	}
	socks := m.socketList()
	m.mu.Unlock()
	for _, s := range socks {
		s.shutdown()
	}
	m.mu.Lock()
	e := m.eng
	m.eng, m.dec = nil, nil
	hs := m.hClose
	m.mu.Unlock()
	m.cancel()
	if e != nil {
		e.close()
		m.emit(func() {
			for _, fn := range hs {
				fn(ReasonForcedClose, nil)
			}
		})
	}
	m.g.Close()
	if m.ownHTTP {
		m.cfg.httpClient.CloseIdleConnections()
		if t, ok := m.cfg.httpClient.Transport.(*http.Transport); ok {
			t.CloseIdleConnections()
		}
	}
	return nil
}

func (m *Manager) socketList() []*Socket {
	l := make([]*Socket, 0, len(m.sockets))
	for _, s := range m.sockets {
		l = append(l, s)
	}
	return l
}

// open starts a connection attempt unless one is open or opening. cb, when
// not nil, gets the result; without cb a failed attempt enters the
// reconnection loop (JavaScript's maybeReconnectOnOpen).
func (m *Manager) open(cb func(error)) {
	m.mu.Lock()
	if m.closed || m.opening {
		m.mu.Unlock()
		return
	}
	if m.eng != nil {
		m.mu.Unlock()
		if cb != nil {
			cb(nil)
		}
		return
	}
	m.opening = true
	m.skipReconnect = false
	m.mu.Unlock()
	ok := m.g.Go(func() {
		ctx, cancel := m.ctx, context.CancelFunc(func() {})
		if m.opts.Timeout > 0 {
			ctx, cancel = context.WithTimeout(m.ctx, m.opts.Timeout)
		}
		e, err := openEngine(ctx, m.cfg, &m.g, m)
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", ErrConnectTimeout, err)
		}
		cancel()
		m.onOpen(e, err, cb)
	})
	if !ok {
		m.mu.Lock()
		m.opening = false
		m.mu.Unlock()
	}
}

func (m *Manager) onOpen(e *engine, err error, cb func(error)) {
	m.mu.Lock()
	m.opening = false
	if m.closed {
		m.mu.Unlock()
		if e != nil {
			e.close()
		}
		return
	}
	if err != nil {
		hs := m.hError
		socks := m.socketList()
		final := m.opts.NoReconnection
		m.mu.Unlock()
		m.opts.Logger.Debug("socket.io client: connection failed", "err", err)
		m.emit(func() {
			for _, fn := range hs {
				fn(err)
			}
		})
		for _, s := range socks {
			s.onConnectFailure(err, final)
		}
		if cb != nil {
			cb(err)
			return
		}
		m.mu.Lock()
		retry := !m.reconnecting && !m.opts.NoReconnection && m.backoff.attempts == 0
		m.mu.Unlock()
		if retry {
			m.reconnect()
		}
		return
	}
	active := false
	for _, s := range m.sockets {
		active = active || s.active.Load()
	}
	if !active {
		// Every socket went away while connecting.
		m.mu.Unlock()
		e.close()
		return
	}
	m.eng = e
	m.dec = m.opts.Parser.NewDecoder()
	hs := m.hOpen
	socks := m.socketList()
	m.mu.Unlock()
	m.emit(func() {
		for _, fn := range hs {
			fn()
		}
	})
	e.start()
	for _, s := range socks {
		s.onOpen()
	}
	if cb != nil {
		cb(nil)
	}
}

// current returns the open engine, or nil.
func (m *Manager) current() *engine {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.eng
}

func (m *Manager) onEngineMessage(e *engine, p packet.Packet) {
	m.mu.Lock()
	if m.eng != e {
		m.mu.Unlock()
		return
	}
	pk, err := m.dec.Add(p.Data, p.Binary)
	if err != nil {
		m.mu.Unlock()
		m.opts.Logger.Debug("socket.io client: bad packet", "err", err)
		e.fail(ReasonParseError, err)
		return
	}
	if pk == nil {
		m.mu.Unlock()
		return
	}
	s := m.sockets[pk.Namespace]
	m.mu.Unlock()
	if s != nil {
		s.onPacket(pk)
	}
}

func (m *Manager) onEngineClose(e *engine, reason string, err error) {
	m.mu.Lock()
	if m.eng != e {
		m.mu.Unlock()
		return
	}
	m.eng, m.dec = nil, nil
	m.backoff.reset()
	socks := m.socketList()
	hs := m.hClose
	m.mu.Unlock()
	if m.ownHTTP && reason != ReasonTransportClose {
		// Kept-alive connections may be as dead as the one that failed.
		m.cfg.httpClient.CloseIdleConnections()
	}
	m.opts.Logger.Debug("socket.io client: connection closed", "reason", reason, "err", err)
	m.emit(func() {
		for _, fn := range hs {
			fn(reason, err)
		}
	})
	for _, s := range socks {
		s.onEngineClosed(reason)
	}
	m.mu.Lock()
	retry := !m.opts.NoReconnection && !m.skipReconnect && !m.closed
	m.mu.Unlock()
	if retry {
		m.reconnect()
	}
}

// failEngine closes the current connection as if the transport had failed.
func (m *Manager) failEngine(reason string, err error) {
	if e := m.current(); e != nil {
		e.fail(reason, err)
	}
}

// reconnect schedules the next reconnection attempt, or gives up.
func (m *Manager) reconnect() {
	m.mu.Lock()
	if m.reconnecting || m.skipReconnect || m.closed {
		m.mu.Unlock()
		return
	}
	if m.opts.ReconnectionAttempts > 0 && m.backoff.attempts >= m.opts.ReconnectionAttempts {
		m.backoff.reset()
		hs := m.hFailed
		socks := m.socketList()
		m.mu.Unlock()
		m.emit(func() {
			for _, fn := range hs {
				fn()
			}
		})
		for _, s := range socks {
			s.onGiveUp()
		}
		return
	}
	d := m.backoff.duration()
	m.reconnecting = true
	m.timer = time.AfterFunc(d, func() { m.g.Run(m.reconnectNow) })
	m.mu.Unlock()
}

func (m *Manager) reconnectNow() {
	m.mu.Lock()
	if m.skipReconnect || m.closed {
		m.mu.Unlock()
		return
	}
	attempt := m.backoff.attempts
	hs := m.hAttempt
	m.mu.Unlock()
	m.emit(func() {
		for _, fn := range hs {
			fn(attempt)
		}
	})
	m.open(func(err error) {
		m.mu.Lock()
		if err != nil {
			m.reconnecting = false
			hs := m.hRecErr
			m.mu.Unlock()
			m.reconnect()
			m.emit(func() {
				for _, fn := range hs {
					fn(err)
				}
			})
			return
		}
		n := m.backoff.attempts
		m.reconnecting = false
		m.backoff.reset()
		hs := m.hReconnect
		m.mu.Unlock()
		m.emit(func() {
			for _, fn := range hs {
				fn(n)
			}
		})
	})
}

// destroy is called when a socket becomes inactive: with no active socket
// left, the connection is closed and reconnection stops.
func (m *Manager) destroy() {
	m.mu.Lock()
	for _, s := range m.sockets {
		if s.active.Load() {
			m.mu.Unlock()
			return
		}
	}
	m.skipReconnect, m.reconnecting = true, false
	if m.timer != nil {
		m.timer.Stop()
	}
	e := m.eng
	m.eng, m.dec = nil, nil
	hs := m.hClose
	m.mu.Unlock()
	if e == nil {
		return
	}
	// Closing flushes what is queued (the DISCONNECT) first; it may wait,
	// so it runs on its own goroutine rather than on a reader.
	m.g.Go(e.close)
	m.emit(func() {
		for _, fn := range hs {
			fn(ReasonForcedClose, nil)
		}
	})
}

// writePacket encodes p and queues it on the connection.
func (m *Manager) writePacket(p *parser.Packet) error {
	e := m.current()
	if e == nil {
		return ErrDisconnected
	}
	msgs, err := m.opts.Parser.Encode(p)
	if err != nil {
		return err
	}
	pkts := make([]packet.Packet, len(msgs))
	for i, msg := range msgs {
		pkts[i] = packet.Packet{Type: packet.Message, Data: msg.Data, Binary: msg.Binary}
	}
	if !e.send(pkts...) {
		return ErrDisconnected
	}
	return nil
}

// writable reports whether the connection can send at once.
func (m *Manager) writable() bool {
	e := m.current()
	return e != nil && e.writable()
}
