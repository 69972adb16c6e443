package socketio

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/internal/gotrack"
)

// Server is a Socket.IO v4 server (protocol v5 over Engine.IO v4). It is an
// http.Handler: mount it on Config.Path (default "/socket.io/").
type Server struct {
	cfg    Config
	engine *engineio.Server
	track  gotrack.Tracker

	mu        sync.RWMutex
	nsps      map[string]*Namespace
	creating  map[string]*nspCreation // namespaces whose adapter is being created
	nspClosed bool                    // the adapters are closed: no more namespaces
	parents   []*ParentNamespace
	onNewNsp  []func(*Namespace)
	main      *Namespace

	clientFiles *clientFiles

	obs atomic.Pointer[observers] // nil: none (see Observe)

	// Every socket from its CONNECT until its goroutine has run its last
	// handler, for Shutdown's report of stuck handlers.
	liveMu sync.Mutex
	live   map[*Socket]struct{}

	closeMu    sync.Mutex
	closing    bool          // Shutdown or Close has begun
	gaveUp     chan struct{} // closed by a Close that stops waiting for handlers
	giveUpOnce sync.Once
}

// NewServer returns a Server configured by cfg. It creates the main
// namespace, "/", and returns the error of its adapter's factory, if any.
//
// The DEBUG environment variable, as Node's, turns on a log of the wire
// (see WireLog): DEBUG=socket.io* for Socket.IO packets, DEBUG=engine*
// for Engine.IO sessions and packets, DEBUG=* or DEBUG=engine,socket.io*
// for both. It goes to Config.Logger when that logs at slog.LevelDebug,
// to standard error otherwise.
func NewServer(cfg Config) (*Server, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	eng, err := engineio.NewServer(c.Engine)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      c,
		engine:   eng,
		nsps:     make(map[string]*Namespace),
		creating: make(map[string]*nspCreation),
		live:     make(map[*Socket]struct{}),
		gaveUp:   make(chan struct{}),
	}
	if c.ClientFiles != nil {
		s.clientFiles = &clientFiles{fsys: c.ClientFiles}
	}
	if s.main, err = s.Of("/"); err != nil {
		return nil, err
	}
	eng.OnConnection(s.onEngineConn)
	s.observeDebugEnv()
	return s, nil
}

// ServeHTTP implements http.Handler. Requests outside Path get 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	base := strings.TrimSuffix(s.cfg.Path, "/")
	if r.URL.Path != base && r.URL.Path != base+"/" {
		if s.serveClientFile(w, r, base) {
			return
		}
		http.NotFound(w, r)
		return
	}
	s.engine.Serve(w, r)
}

// Engine returns the underlying Engine.IO server.
func (s *Server) Engine() *engineio.Server { return s.engine }

func (s *Server) recoveryDuration() time.Duration {
	if s.cfg.ConnectionStateRecovery == nil {
		return 0
	}
	return s.cfg.ConnectionStateRecovery.MaxDisconnectionDuration
}

// MainNamespace returns the main namespace, "/" (Node's io.sockets).
func (s *Server) MainNamespace() *Namespace { return s.main }

// Sockets returns the sockets of the main namespace connected to this
// server, as Namespace.Sockets does (not Node's io.sockets, which is
// MainNamespace).
func (s *Server) Sockets() []*Socket { return s.main.Sockets() }

// OnConnection adds a connection handler to the main namespace.
func (s *Server) OnConnection(fn func(*Socket)) { s.main.OnConnection(fn) }

// Use adds a connection middleware to the main namespace.
func (s *Server) Use(mw Middleware) { s.main.Use(mw) }

// Emit sends an event to every socket of the main namespace.
func (s *Server) Emit(event string, args ...any) error { return s.main.Emit(event, args...) }

// Send emits a "message" event to every socket of the main namespace.
func (s *Server) Send(args ...any) error { return s.main.Emit("message", args...) }

// EmitWithAck sends an event to every socket of the main namespace and
// gathers their answers; see BroadcastOperator.EmitWithAck.
func (s *Server) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return s.main.EmitWithAck(ctx, event, args...)
}

// Timeout returns an operator on the main namespace whose EmitWithAck gives
// up after d.
func (s *Server) Timeout(d time.Duration) BroadcastOperator { return s.main.Timeout(d) }

// Compress returns an operator on the main namespace with the compress flag.
func (s *Server) Compress(c bool) BroadcastOperator { return s.main.Compress(c) }

// To selects the sockets of the main namespace in the rooms.
func (s *Server) To(rooms ...string) BroadcastOperator { return s.main.To(rooms...) }

// In is an alias of To.
func (s *Server) In(rooms ...string) BroadcastOperator { return s.main.To(rooms...) }

// Except selects the sockets of the main namespace outside the rooms.
func (s *Server) Except(rooms ...string) BroadcastOperator { return s.main.Except(rooms...) }

// Volatile marks a broadcast to the main namespace as volatile.
func (s *Server) Volatile() BroadcastOperator { return s.main.Volatile() }

// Local keeps a broadcast to the main namespace on this server.
func (s *Server) Local() BroadcastOperator { return s.main.Local() }

// DisconnectSockets disconnects every socket of the main namespace; with
// close, their whole connections are closed. Clients see "io server
// disconnect" and do not reconnect by themselves: the explicit "go away".
// ctx and the error are as for BroadcastOperator.SocketsJoin.
func (s *Server) DisconnectSockets(ctx context.Context, close bool) error {
	return s.main.DisconnectSockets(ctx, close)
}

// ErrServerClosed is returned by Shutdown and Close when called again.
var ErrServerClosed = errors.New("socketio: server closed")

// StuckHandler describes a socket handler that was still running when
// Shutdown gave up waiting, or when Close stopped waiting.
type StuckHandler struct {
	Namespace string
	SocketID  string
	// Handler is what runs: "event", "connection handler", "middleware",
	// "disconnecting handler", "disconnect handler", "error handler" or
	// "outgoing listener".
	Handler string
	// Event is the event's name, for an event handler.
	Event string
	// Running is how long it had been running.
	Running time.Duration
}

func (h StuckHandler) String() string {
	what := h.Handler
	if h.Event != "" {
		what += " " + strconv.Quote(h.Event)
	}
	return fmt.Sprintf("%s of socket %s in %s (running for %v)", what, h.SocketID, h.Namespace, h.Running.Round(time.Millisecond))
}

// StuckHandlersError is returned by Shutdown when its context ends while
// socket handlers still run (it wraps ctx.Err(), so errors.Is(err,
// context.DeadlineExceeded) holds), and by Close when it stops waiting for
// them (it wraps ErrServerClosed). A goroutine cannot be stopped from the
// outside: those handlers go on until they return.
type StuckHandlersError struct {
	Handlers []StuckHandler
	Err      error
}

func (e *StuckHandlersError) Error() string {
	var b strings.Builder
	if errors.Is(e.Err, ErrServerClosed) {
		fmt.Fprintf(&b, "socketio: server closed without waiting for %d socket handler(s) still running "+
			"(a goroutine cannot be stopped: they go on until they return):", len(e.Handlers))
	} else {
		fmt.Fprintf(&b, "socketio: shutdown: %v with %d socket handler(s) still running:", e.Err, len(e.Handlers))
	}
	for i, h := range e.Handlers {
		if i == 10 {
			fmt.Fprintf(&b, " and %d more", len(e.Handlers)-i)
			break
		}
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(" " + h.String())
	}
	return b.String()
}

// Unwrap returns ctx.Err() or ErrServerClosed.
func (e *StuckHandlersError) Unwrap() error { return e.Err }

func (s *Server) addSocket(sk *Socket) {
	s.liveMu.Lock()
	s.live[sk] = struct{}{}
	s.liveMu.Unlock()
}

func (s *Server) forgetSocket(sk *Socket) {
	s.liveMu.Lock()
	delete(s.live, sk)
	s.liveMu.Unlock()
}

// stuckHandlers lists the sockets whose goroutine runs a handler now.
func (s *Server) stuckHandlers() []StuckHandler {
	s.liveMu.Lock()
	socks := make([]*Socket, 0, len(s.live))
	for sk := range s.live {
		socks = append(socks, sk)
	}
	s.liveMu.Unlock()
	now := time.Now()
	var out []StuckHandler
	for _, sk := range socks {
		if !sk.queue.Busy() {
			continue
		}
		sk.mu.Lock()
		h := StuckHandler{Namespace: sk.nsp.name, SocketID: sk.id, Handler: sk.task, Event: sk.taskName, Running: now.Sub(taskEpoch) - sk.taskSince}
		sk.mu.Unlock()
		if h.Handler == "" {
			h.Handler, h.Running = "connection", 0
		}
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b StuckHandler) int { return cmp.Compare(b.Running, a.Running) })
	return out
}

// begin marks the start of Shutdown or Close; it reports whether this is
// the first.
func (s *Server) begin() bool {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	first := !s.closing
	s.closing = true
	return first
}

// Shutdown is Node's io.close(): every socket is disconnected with the
// reason "server shutting down", without a Socket.IO DISCONNECT packet, and
// the connections are closed after what is queued has been sent. JavaScript
// clients see "transport close" and reconnect (to another server, behind a
// load balancer). It waits for every goroutine of the server, or until ctx
// is done. Use DisconnectSockets(ctx, true) first to send clients away for good.
//
// When ctx ends while socket handlers still run, Shutdown returns a
// *StuckHandlersError that names them and wraps ctx.Err(); the connections
// are closed by then. Close may be called afterwards: it returns at once.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.begin() {
		return ErrServerClosed
	}
	defer s.closeAdapters()
	err := s.engine.Shutdown(ctx)
	select {
	case <-s.track.Idle():
		s.track.Release() // the goroutines waiting for work exit now
		return err
	case <-ctx.Done():
	case <-s.gaveUp:
	}
	stuck := s.stuckHandlers()
	if len(stuck) == 0 {
		if err == nil {
			err = ctx.Err()
		}
		return err
	}
	serr := &StuckHandlersError{Handlers: stuck, Err: ctx.Err()}
	if serr.Err == nil {
		serr.Err = ErrServerClosed // Close stopped the wait
	}
	return serr
}

// Close closes every connection at once and waits for the server's
// goroutines: a handler that never returns makes it wait for ever. After
// (or during) a Shutdown it does not wait for the handlers still running:
// it closes what Shutdown left open and returns at once, with a
// *StuckHandlersError (wrapping ErrServerClosed) naming them; a goroutine
// cannot be killed, so they go on until they return.
func (s *Server) Close() error {
	if s.begin() {
		err := s.engine.Close()
		s.track.Wait()
		s.closeAdapters()
		return err
	}
	s.giveUpOnce.Do(func() { close(s.gaveUp) })
	_ = s.engine.Close()
	s.closeAdapters()
	if stuck := s.stuckHandlers(); len(stuck) > 0 {
		return &StuckHandlersError{Handlers: stuck, Err: ErrServerClosed}
	}
	return ErrServerClosed
}
