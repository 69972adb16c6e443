package socketio

import (
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/parser"
)

// Config configures a Server. The zero value is ready to use; each field
// documents its default. NewServer copies it.
type Config struct {
	// Path is the URL path of the server, answered with and without its
	// trailing slash. Default "/socket.io/".
	Path string

	// ConnectTimeout closes a connection that has joined no namespace this
	// long after its handshake. Default 45s.
	ConnectTimeout time.Duration

	// Engine holds the Engine.IO options (heartbeat, MaxPayload, CORS,
	// transports, cookie, hooks, ...). Their defaults are documented on
	// engineio.Config. Engine.Path is ignored: Path wins.
	Engine engineio.Config

	// Adapter creates the adapter of each namespace. Default
	// adapter.NewMemory. It runs without the server's locks held, so a
	// slow factory delays only the namespace it creates. Its error is
	// returned by Server.Of (and NewServer, for the main namespace); a
	// client connecting to a dynamic child whose factory fails gets a
	// connect_error "Namespace unavailable" (the error is logged).
	// Nothing is kept after a failure: the next attempt calls it again.
	Adapter adapter.Factory

	// Parser encodes and decodes Socket.IO packets. Default
	// parser.JSONParser{} (npm socket.io-parser).
	Parser parser.Parser

	// ConnectionStateRecovery, when set, turns on Node's connection state
	// recovery: a client that comes back within MaxDisconnectionDuration
	// gets its socket id, rooms and data back, and the events it missed.
	// Off by default.
	ConnectionStateRecovery *RecoveryConfig

	// CleanupEmptyChildNamespaces removes a child namespace of a dynamic
	// namespace (see Server.OfRegexp and Server.OfFunc), and closes its
	// adapter, when no socket is connected or connecting to it any more:
	// its last socket left, or was refused by a middleware, or lost its
	// connection before it was accepted. Default false.
	CleanupEmptyChildNamespaces bool

	// ClientFiles, when set, serves the JavaScript client bundle under Path
	// (socket.io.js, socket.io.min.js, socket.io.esm.min.js,
	// socket.io.msgpack.min.js and their source maps), with an ETag, 304
	// answers and gzip, as Node's serveClient does. Give it the dist folder
	// of npm's socket.io-client, e.g.
	// os.DirFS("node_modules/socket.io-client/dist"). Default: nil, nothing
	// served (the project ships no third-party code).
	ClientFiles fs.FS

	// MaxPendingEvents bounds the events of one socket waiting for its
	// handlers. A client that sends faster than its handlers run is
	// disconnected with "transport error" once it is reached. Default 1024.
	MaxPendingEvents int

	// MaxPendingBytes bounds the bytes (JSON data and binary attachments)
	// of one socket's incoming events that wait for its handlers or are
	// being handled. A client over it is disconnected with "transport
	// error", as with MaxPendingEvents; an event that finds nothing else
	// pending is always taken, so a bound below Engine.MaxPayload refuses
	// no single event. Default 8 MiB (DefaultMaxPendingBytes).
	MaxPendingBytes int

	// MaxBinaryPacketBytes bounds the bytes a packet with binary
	// attachments (its text part and the attachments received so far) may
	// hold while it waits for the rest of its attachments. A client over it
	// is disconnected with "parse error". Default Engine.MaxPayload (its
	// default: 1,000,000 bytes), so that one packet in assembly holds no
	// more than one message could.
	MaxBinaryPacketBytes int

	// BinaryPacketTimeout bounds how long a packet may wait for its binary
	// attachments, from its text part on. A client that has not sent them
	// all by then is disconnected with "parse error". Default 60s.
	BinaryPacketTimeout time.Duration

	// Logger receives diagnostics. Default: none.
	Logger *slog.Logger
}

// RecoveryConfig configures connection state recovery.
type RecoveryConfig struct {
	// MaxDisconnectionDuration is how long a disconnected socket's state and
	// the events broadcast meanwhile are kept. Default 2 minutes.
	MaxDisconnectionDuration time.Duration
	// RunMiddlewares makes a recovered socket go through the connection
	// middlewares again. Default false: they are skipped, as with Node's
	// skipMiddlewares: true (its default). With an adapter that implements
	// adapter.SessionRestorer (all of this project's), the socket is already
	// in its session's rooms while they run, as in Node (it leaves them if
	// refused); the broadcasts it gets meanwhile are written after its
	// missed events, before the CONNECT reply.
	RunMiddlewares bool
	// MaxStoredBytes bounds, per namespace, the bytes of the broadcast
	// packets the in-memory adapter keeps for recovery; past it the oldest
	// are dropped first, and a client whose last offset was dropped gets a
	// fresh session. Default 64 MiB (adapter.DefaultMaxRecoveryBytes). What
	// is kept is also pruned on a timer, at most MaxDisconnectionDuration/2
	// (and at most 60 s) after its window.
	MaxStoredBytes int
}

// DefaultMaxDisconnectionDuration is RecoveryConfig's default.
const DefaultMaxDisconnectionDuration = 2 * time.Minute

// Defaults, as documented on Config.
const (
	DefaultPath             = "/socket.io/"
	DefaultConnectTimeout   = 45 * time.Second
	DefaultMaxPendingEvents = 1024
	DefaultMaxPendingBytes  = 8 << 20
	// DefaultBinaryPacketTimeout is Config.BinaryPacketTimeout's default.
	DefaultBinaryPacketTimeout = 60 * time.Second
)

func (c Config) withDefaults() (Config, error) {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if !strings.HasPrefix(c.Path, "/") {
		return c, errors.New("socketio: Config.Path must start with /")
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Adapter == nil {
		c.Adapter = adapter.NewMemory
	}
	if c.Parser == nil {
		c.Parser = parser.JSONParser{}
	}
	if c.MaxPendingEvents <= 0 {
		c.MaxPendingEvents = DefaultMaxPendingEvents
	}
	if c.MaxPendingBytes <= 0 {
		c.MaxPendingBytes = DefaultMaxPendingBytes
	}
	if c.MaxBinaryPacketBytes <= 0 {
		c.MaxBinaryPacketBytes = c.Engine.MaxPayload
		if c.MaxBinaryPacketBytes <= 0 {
			c.MaxBinaryPacketBytes = engineio.DefaultMaxPayload
		}
	}
	if c.BinaryPacketTimeout <= 0 {
		c.BinaryPacketTimeout = DefaultBinaryPacketTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ConnectionStateRecovery != nil {
		r := *c.ConnectionStateRecovery
		if r.MaxDisconnectionDuration <= 0 {
			r.MaxDisconnectionDuration = DefaultMaxDisconnectionDuration
		}
		c.ConnectionStateRecovery = &r
	}
	c.Engine.Path = c.Path
	if c.Engine.Logger == nil {
		c.Engine.Logger = c.Logger
	}
	return c, nil
}
