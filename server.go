package socketio

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
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

	mu       sync.RWMutex
	nsps     map[string]*Namespace
	parents  []*ParentNamespace
	onNewNsp []func(*Namespace)
	main     *Namespace

	clientFiles *clientFiles

	closeOnce sync.Once
}

// NewServer returns a Server configured by cfg.
func NewServer(cfg Config) (*Server, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	eng, err := engineio.NewServer(c.Engine)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: c, engine: eng, nsps: make(map[string]*Namespace)}
	if c.ClientFiles != nil {
		s.clientFiles = &clientFiles{fsys: c.ClientFiles}
	}
	s.main = s.Of("/")
	eng.OnConnection(s.onEngineConn)
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

// Of returns the namespace with the given name, creating it on first use.
// A name without a leading slash gets one.
func (s *Server) Of(name string) *Namespace {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	s.mu.RLock()
	n := s.nsps[name]
	s.mu.RUnlock()
	if n != nil {
		return n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n = s.nsps[name]; n == nil {
		n = newNamespace(s, name)
		s.nsps[name] = n
	}
	return n
}

func (s *Server) recoveryDuration() time.Duration {
	if s.cfg.ConnectionStateRecovery == nil {
		return 0
	}
	return s.cfg.ConnectionStateRecovery.MaxDisconnectionDuration
}

// Sockets returns the main namespace, "/" (Node's io.sockets).
func (s *Server) Sockets() *Namespace { return s.main }

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
func (s *Server) DisconnectSockets(close bool) { s.main.DisconnectSockets(close) }

// ErrServerClosed is returned by Shutdown and Close when called again.
var ErrServerClosed = errors.New("socketio: server closed")

// Shutdown is Node's io.close(): every socket is disconnected with the
// reason "server shutting down", without a Socket.IO DISCONNECT packet, and
// the connections are closed after what is queued has been sent. JavaScript
// clients see "transport close" and reconnect (to another server, behind a
// load balancer). It waits for every goroutine of the server, or until ctx
// is done. Use DisconnectSockets(true) first to send clients away for good.
func (s *Server) Shutdown(ctx context.Context) error {
	err := ErrServerClosed
	s.closeOnce.Do(func() {
		err = s.engine.Shutdown(ctx)
		// Handlers still running (the sockets' goroutines) may take a while;
		// wait for them only as long as ctx allows.
		done := make(chan struct{})
		go func() {
			s.track.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
		}
		s.closeAdapters()
	})
	return err
}

// Close closes every connection at once and waits for the server's
// goroutines.
func (s *Server) Close() error {
	err := ErrServerClosed
	s.closeOnce.Do(func() {
		err = s.engine.Close()
		s.track.Wait()
		s.closeAdapters()
	})
	return err
}

func (s *Server) closeAdapters() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, n := range s.nsps {
		_ = n.adapter.Close()
	}
}
