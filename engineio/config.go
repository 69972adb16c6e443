package engineio

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Transport names, as they appear in the transport query parameter.
const (
	Polling   = "polling"
	WebSocket = "websocket"
)

// Config configures a Server. The zero value is ready to use; each field
// documents its default. NewServer copies the Config, so later changes to the
// caller's value have no effect.
type Config struct {
	// Path is the URL path the server answers on. Requests for Path with or
	// without its trailing slash are served. Default "/engine.io/".
	Path string

	// PingInterval is the time between two pings sent by the server.
	// Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for the pong that answers a
	// ping before it closes the session with "ping timeout". Default 20s.
	PingTimeout time.Duration
	// UpgradeTimeout is how long a probing WebSocket may take to finish an
	// upgrade before it is closed. Default 10s.
	UpgradeTimeout time.Duration

	// MaxPayload is the largest polling request body and the largest
	// WebSocket message accepted, in bytes. It is advertised to clients in
	// the handshake. A larger POST gets 413; a larger WebSocket message closes
	// the connection (status 1009). Default 1,000,000.
	MaxPayload int

	// Transports lists the transports clients may use. Default
	// {"polling", "websocket"}.
	Transports []string
	// DisableUpgrades stops sessions from upgrading from polling to
	// WebSocket (Node's allowUpgrades: false). Default false: upgrades are
	// allowed.
	DisableUpgrades bool

	// CORS is the origin policy for every request, polling and WebSocket
	// alike. Nil means same-origin only: requests without an Origin header or
	// whose Origin names the request's own host and port (and scheme, when
	// the request's is known: TLS, or X-Forwarded-Proto) are accepted, others
	// are refused with 403. See CORS.
	CORS *CORS

	// AllowedHosts, when set, lists the host names the server answers to:
	// every request (polling, WebSocket, preflight) whose Host header is not
	// one of them is refused with 403 and the Engine.IO error code 4. An
	// entry "example.com" matches that host on any port, "example.com:8443"
	// on that port only, ".example.com" the domain and its subdomains. It
	// closes DNS rebinding: a page on an attacker's name that resolves to
	// this server has the same origin as its requests, so the Origin check
	// cannot tell; its Host header names the attacker's domain. Default:
	// any host.
	AllowedHosts []string

	// AllowRequest, when set, is called for every handshake request
	// (polling or WebSocket), as Node's allowRequest; upgrades of an
	// accepted session are not asked again. A non-nil error refuses the
	// request with HTTP 403 and the Engine.IO error code 4; the error text
	// becomes the message.
	AllowRequest func(r *http.Request) error

	// Cookie, when set, makes the handshake response set a cookie whose
	// value is the session id (for sticky load balancing). Fields left empty
	// take Node's defaults: Name "io", Path "/", SameSite=Lax. The cookie is
	// always HttpOnly; Value is ignored.
	Cookie *http.Cookie

	// InitialHeaders, when set, may add headers to the handshake response
	// (polling or WebSocket 101).
	InitialHeaders func(h http.Header, r *http.Request)
	// Headers, when set, may add headers to every response the server writes
	// for a request it accepts, handshake included.
	Headers func(h http.Header, r *http.Request)
	// OnConnectionError, when set, is called for each request refused with
	// an Engine.IO error code.
	OnConnectionError func(e *RequestError)

	// SessionContext, when set, returns the context a session keeps from
	// the HTTP request that opened it (the handshake GET of a polling
	// client, the upgrade request of a WebSocket-only one): what
	// Request.Context returns for the session's whole life, and the parent
	// of every Socket.IO socket's Context. It is called once per session,
	// during that request. KeepRequestContext keeps everything router or
	// net/http middleware stored in the request's context; returning a
	// context with only the values the application reads keeps sessions
	// smaller. Default nil: nothing of the request's context is kept, and
	// Request.Context returns context.Background(). (Keeping the request's
	// whole context costs each session about 0.4 KiB: net/http's request
	// and connection contexts.)
	SessionContext func(r *http.Request) context.Context

	// GenerateID returns a new session id. Default: 15 random bytes as 20
	// characters of URL-safe base64, like Node's.
	//
	// A panic in any hook of the HTTP path (AllowRequest, InitialHeaders,
	// Headers, OnConnectionError, GenerateID, SessionContext,
	// CORS.AllowOrigin) is logged with its stack and answers that request
	// with 500.
	GenerateID func(r *http.Request) (string, error)

	// HTTPCompression sets the threshold, in bytes, from which polling
	// responses are compressed (gzip or deflate) for clients that accept it.
	// Zero means the default, 1024; a negative value disables compression.
	HTTPCompression int
	// PerMessageDeflate enables the WebSocket permessage-deflate extension
	// when the client offers it. Default false.
	PerMessageDeflate bool

	// WebSocketReadBufferSize is the read buffer, in bytes, of each
	// WebSocket connection read by a goroutine of its own, held for the
	// connection's whole life: TLS and compressed connections, and every
	// connection where the readiness poller is not available (outside
	// Linux). Larger buffers take bursts of small messages in fewer system
	// calls; smaller ones make idle connections cheaper. Connections read
	// through the poller hold no buffer while idle. Default 1024.
	WebSocketReadBufferSize int

	// MaxBufferedBytes bounds the data queued for one session that the
	// client has not taken yet (waiting for a poll, or for a slow WebSocket).
	// A session over the bound is closed with "transport error".
	// Default 8 MiB.
	MaxBufferedBytes int

	// Logger receives the server's diagnostics. Default: none.
	Logger *slog.Logger
}

// CORS is the origin policy. It drives the CORS headers of polling
// responses and preflight requests, and the Origin check of WebSocket
// handshakes, so one setting covers both transports.
type CORS struct {
	// Origins lists the allowed origins, e.g. "http://localhost:5173":
	// scheme, host and optional port, compared exactly (host names without
	// regard to case; "http://a" and "http://a:80" are the same). The entry
	// "*" allows any origin, "null" the opaque origin browsers send from
	// sandboxed frames and files. NewServer refuses other forms. Origin
	// headers with userinfo, a path or a query are refused unless "*" is
	// listed.
	Origins []string
	// AllowOrigin, when set, is asked about well-formed origins not in
	// Origins (and about "null").
	AllowOrigin func(origin string, r *http.Request) bool
	// Credentials sets Access-Control-Allow-Credentials. It cannot be
	// combined with "*": NewServer refuses that.
	Credentials bool
	// Methods answered to preflight requests. Default
	// GET,HEAD,PUT,PATCH,POST,DELETE.
	Methods []string
	// AllowedHeaders answered to preflight requests. Default: the headers
	// the browser asked for.
	AllowedHeaders []string
	// ExposedHeaders sets Access-Control-Expose-Headers.
	ExposedHeaders []string
	// MaxAge of a preflight answer. Default: not sent.
	MaxAge time.Duration

	origins    []webOrigin // Origins, parsed
	anyOrigin  bool        // "*" is listed
	nullOrigin bool        // "null" is listed
}

// Defaults, as documented on Config.
const (
	DefaultPath             = "/engine.io/"
	DefaultPingInterval     = 25 * time.Second
	DefaultPingTimeout      = 20 * time.Second
	DefaultUpgradeTimeout   = 10 * time.Second
	DefaultMaxPayload       = 1_000_000
	DefaultCompression      = 1024
	DefaultMaxBufferedBytes = 8 << 20
)

// withDefaults returns a copy of c with every zero field set to its default,
// or an error when the configuration is contradictory.
func (c Config) withDefaults() (Config, error) {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if !strings.HasPrefix(c.Path, "/") {
		return c, errors.New("engineio: Config.Path must start with /")
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = DefaultPingTimeout
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{Polling, WebSocket}
	} else {
		c.Transports = slices.Clone(c.Transports)
		for _, t := range c.Transports {
			if t != Polling && t != WebSocket {
				return c, errors.New("engineio: unknown transport " + t)
			}
		}
	}
	c.AllowedHosts = slices.Clone(c.AllowedHosts)
	if c.HTTPCompression == 0 {
		c.HTTPCompression = DefaultCompression
	}
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if c.CORS != nil {
		cors := *c.CORS
		if cors.Credentials && slices.Contains(cors.Origins, "*") {
			return c, errors.New(`engineio: CORS origin "*" cannot be combined with Credentials; list the origins`)
		}
		if len(cors.Methods) == 0 {
			cors.Methods = []string{"GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"}
		}
		cors.origins, cors.anyOrigin, cors.nullOrigin = nil, false, false
		for _, o := range cors.Origins {
			switch o {
			case "*":
				cors.anyOrigin = true
				continue
			case "null":
				cors.nullOrigin = true
				continue
			}
			wo, ok := parseOrigin(o, true)
			if !ok {
				return c, errors.New("engineio: CORS origin " + strconv.Quote(o) + " is not scheme://host[:port]")
			}
			cors.origins = append(cors.origins, wo)
		}
		c.CORS = &cors
	}
	if c.Cookie != nil {
		ck := *c.Cookie
		if ck.Name == "" {
			ck.Name = "io"
		}
		if ck.Path == "" {
			ck.Path = "/"
		}
		ck.HttpOnly = true
		if ck.SameSite == 0 {
			ck.SameSite = http.SameSiteLaxMode
		}
		c.Cookie = &ck
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func (c *Config) allows(transport string) bool {
	return slices.Contains(c.Transports, transport)
}
