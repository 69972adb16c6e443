package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
)

// Mode chooses what the instrumentation reports (Node's mode option).
type Mode string

const (
	// Development reports every socket, room and event to the UI as it
	// happens (the per-socket events and all_sockets), on top of the
	// server statistics. It costs an admin broadcast per socket event,
	// and one per event sent to each socket: use it with few sockets.
	Development Mode = "development"
	// Production sends only the server statistics (connections, packets
	// and bytes per second, sockets per namespace): the UI shows its
	// dashboard and charts, not the sockets.
	Production Mode = "production"
)

// DefaultStatsInterval is how often each server broadcasts its statistics,
// as Node's instrumentation does.
const DefaultStatsInterval = 2 * time.Second

// DefaultNamespace is the admin namespace's name, the UI's default.
const DefaultNamespace = "/admin"

// commandTimeout bounds what a command of the UI, or the all_sockets
// listing, waits for the other servers of a cluster.
const commandTimeout = 5 * time.Second

// Options configures Instrument, as the options of Node's instrument(io,
// options). Auth is required; every other field has a default.
type Options struct {
	// Auth is how the UI authenticates: NoAuth or a Basic. It must be set
	// (Node's "the auth option must be specified or explicitly set to
	// false"): Instrument returns ErrAuthRequired when it is nil.
	Auth Auth

	// NamespaceName is the admin namespace, DefaultNamespace ("/admin")
	// when empty. The UI has a matching "namespace" field.
	NamespaceName string

	// ReadOnly leaves out the UI's commands (join, leave, disconnect,
	// emit): their handlers are not registered, so the commands a UI
	// sends are ignored.
	ReadOnly bool

	// ServerID names this server in the UI, which lists its servers by
	// it; the host name by default. It must be unique per server: when
	// several servers share a host, give each its own, for example
	// hostname + "#" + pid (what Node uses in a cluster worker).
	ServerID string

	// Mode is Development (the default, as Node's when NODE_ENV is unset)
	// or Production.
	Mode Mode

	// Store keeps the session ids handed to the UI after a password
	// login, so that a reloaded UI logs in again without the password.
	// Default: NewMemoryStore(0). Several servers behind a load balancer
	// need a shared store (see Store).
	Store Store

	// StatsInterval is the period of the server_stats broadcast,
	// DefaultStatsInterval (2 s) when zero. The UI marks a server
	// unhealthy when it has not heard from it for 10 s.
	StatsInterval time.Duration

	// Logger receives the errors nobody else sees: a command the adapter
	// failed to carry out, a broadcast that failed, a session store
	// error. Default: silent.
	Logger *slog.Logger
}

// ErrAuthRequired is returned by Instrument when Options.Auth is nil.
var ErrAuthRequired = errors.New("admin: the Auth option must be set: admin.NoAuth, or admin.Basic with a bcrypt hash")

// Features the server announces in its config event; the UI shows the
// controls of those present.
const (
	FeatureEmit             = "EMIT"
	FeatureJoin             = "JOIN"
	FeatureLeave            = "LEAVE"
	FeatureDisconnect       = "DISCONNECT"
	FeatureMJoin            = "MJOIN"
	FeatureMLeave           = "MLEAVE"
	FeatureMDisconnect      = "MDISCONNECT"
	FeatureAggregatedEvents = "AGGREGATED_EVENTS"
	FeatureAllEvents        = "ALL_EVENTS"
)

// Instrumentation is a server instrumented for the Admin UI: its admin
// namespace, the statistics timer and the observers. Close stops it.
type Instrumentation struct {
	io       *socketio.Server
	nsp      *socketio.Namespace
	auth     Auth
	store    Store
	log      *slog.Logger
	readOnly bool
	dev      bool
	features []string
	base     statsBase

	closed    atomic.Bool
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	events  eventBuffer
	polling pollingConns

	// pending holds the session id of a socket that logged in with its
	// password, from the auth middleware until its connection handler
	// sends it (after the CONNECT reply, so that the UI gets it).
	pending sync.Map // *socketio.Socket -> string

	// conns lists the sockets of each connection (development mode): the
	// upgrade of a connection updates them all, and an event written to a
	// connection is reported with the socket of its namespace.
	connsMu sync.RWMutex
	conns   map[*engineio.Conn][]*socketio.Socket
}

// Instrument sets io up for the Socket.IO Admin UI (Node's instrument from
// @socket.io/admin-ui): it creates the admin namespace, with its
// authentication, and its handlers; it adds observers to io that count
// connections, packets and bytes (and, in Development mode, report every
// socket, room and event); and it starts broadcasting the server's
// statistics to the admin namespace, at once and then every
// Options.StatsInterval. Call Close to stop it.
//
// What the UI receives goes through the admin namespace's adapter: with a
// cluster adapter, a UI connected to any server sees every server.
func Instrument(io *socketio.Server, opts Options) (*Instrumentation, error) {
	if opts.Auth == nil {
		return nil, ErrAuthRequired
	}
	if b, ok := opts.Auth.(Basic); ok {
		if err := b.check(); err != nil {
			return nil, err
		}
	} else if _, ok := opts.Auth.(noAuth); !ok {
		return nil, fmt.Errorf("admin: unknown Auth %T: use admin.NoAuth or admin.Basic", opts.Auth)
	}
	name := opts.NamespaceName
	if name == "" {
		name = DefaultNamespace
	}
	if !strings.HasPrefix(name, "/") {
		return nil, fmt.Errorf("admin: NamespaceName %q must start with /", name)
	}
	switch opts.Mode {
	case "":
		opts.Mode = Development
	case Development, Production:
	default:
		return nil, fmt.Errorf("admin: unknown Mode %q: use admin.Development or admin.Production", opts.Mode)
	}
	if opts.StatsInterval < 0 {
		return nil, fmt.Errorf("admin: negative StatsInterval %v", opts.StatsInterval)
	}
	if opts.StatsInterval == 0 {
		opts.StatsInterval = DefaultStatsInterval
	}
	if opts.Store == nil {
		opts.Store = NewMemoryStore(0)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	if opts.ServerID == "" {
		opts.ServerID = host
	}
	nsp, err := io.Of(name)
	if err != nil {
		return nil, fmt.Errorf("admin: namespace %s: %w", name, err)
	}
	in := &Instrumentation{
		io:       io,
		nsp:      nsp,
		auth:     opts.Auth,
		store:    opts.Store,
		log:      opts.Logger,
		readOnly: opts.ReadOnly,
		dev:      opts.Mode == Development,
		base:     statsBase{ServerID: opts.ServerID, Hostname: host, PID: os.Getpid()},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		conns:    make(map[*engineio.Conn][]*socketio.Socket),
	}
	in.features = features(in.readOnly, in.dev)

	nsp.Use(in.authenticate)
	nsp.OnConnection(in.onAdminConnection)
	io.Observe(in.observer())

	in.emitStats()
	go in.run(opts.StatsInterval)
	return in, nil
}

// features returns the config's supportedFeatures.
func features(readOnly, dev bool) []string {
	var f []string
	if !readOnly {
		f = append(f, FeatureEmit, FeatureJoin, FeatureLeave, FeatureDisconnect,
			FeatureMJoin, FeatureMLeave, FeatureMDisconnect)
	}
	f = append(f, FeatureAggregatedEvents)
	if dev {
		f = append(f, FeatureAllEvents)
	}
	return f
}

// Namespace returns the admin namespace.
func (in *Instrumentation) Namespace() *socketio.Namespace { return in.nsp }

// ServerID returns the id this server reports in its statistics.
func (in *Instrumentation) ServerID() string { return in.base.ServerID }

// Close stops the instrumentation: the statistics timer stops (Close
// waits for its goroutine), nothing more is reported, the admin sockets of
// this server are disconnected and new ones are refused. The admin
// namespace stays, and so do the observers (a Server cannot drop them),
// which do nothing any more. Call it before or after closing the server;
// a second call does nothing.
func (in *Instrumentation) Close() error {
	in.closeOnce.Do(func() {
		in.closed.Store(true)
		close(in.stop)
		<-in.done
		for _, s := range in.nsp.Sockets() {
			s.Disconnect(false)
		}
		in.connsMu.Lock()
		clear(in.conns)
		in.connsMu.Unlock()
		in.polling.reset()
	})
	return nil
}

// run broadcasts the statistics every interval until Close.
func (in *Instrumentation) run(interval time.Duration) {
	defer close(in.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-in.stop:
			return
		case <-t.C:
			in.emitStats()
		}
	}
}

// broadcast emits an event to every admin socket of the cluster.
func (in *Instrumentation) broadcast(event string, args ...any) {
	if err := in.nsp.Emit(event, args...); err != nil {
		in.log.Warn("socket.io admin: broadcast failed", "event", event, "err", err)
	}
}

// errClosed refuses admin connections after Close.
var errClosed = errors.New("admin instrumentation closed")

// onAdminConnection runs first for each admin socket, once its CONNECT
// reply is queued: the session id of a password login (Node sends it
// before the CONNECT reply, where the UI cannot see it), the command
// handlers, the config and, in development mode, every socket of the
// cluster.
func (in *Instrumentation) onAdminConnection(s *socketio.Socket) {
	if id, ok := in.pending.LoadAndDelete(s); ok {
		_ = s.Emit("session", id)
	}
	if !in.readOnly {
		in.registerCommands(s)
	}
	_ = s.Emit("config", struct {
		SupportedFeatures []string `json:"supportedFeatures"`
	}{in.features})
	if in.dev {
		ctx, cancel := context.WithTimeout(s.Context(), commandTimeout)
		defer cancel()
		_ = s.Emit("all_sockets", in.allSockets(ctx))
	}
}
