package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/gosio/socketio/parser"
)

// Options configures a Manager: the Engine.IO connection and its
// reconnection. The zero value is ready to use; each field documents its
// default (the JavaScript client's). NewManager copies it.
type Options struct {
	// Path is the server's path. Default "/socket.io/" (a trailing slash
	// is added when missing).
	Path string

	// Query holds extra query parameters sent with every Engine.IO request
	// (the server sees them in the handshake). The query of the URL given
	// to NewManager or Dial is added to it.
	Query url.Values

	// Header holds extra HTTP headers sent with every request, polling and
	// WebSocket alike (JavaScript's extraHeaders).
	Header http.Header

	// Transports lists the transports to use: the first opens the
	// connection; with Polling first, the connection is upgraded to
	// WebSocket when WebSocket is listed too and the server offers it.
	// Default {Polling, WebSocket}.
	Transports []string

	// NoUpgrade keeps a connection opened with polling on polling
	// (JavaScript's upgrade: false).
	NoUpgrade bool

	// TLSConfig configures TLS for https and wss URLs (for the WebSocket
	// dialer, and for the polling HTTP client when HTTPClient is nil).
	// NewManager and Dial copy it and never modify it. Polling may use
	// HTTP/2; the WebSocket dialer always negotiates HTTP/1.1 (its
	// NextProtos are replaced with "http/1.1"), which WebSocket requires.
	TLSConfig *tls.Config

	// HTTPClient sends the polling requests, and its Jar, when set, is
	// also used for the WebSocket handshake (cookies for sticky load
	// balancers). Default: a client of its own with a cookie jar, the proxy
	// from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) and
	// TLSConfig. The Manager closes the idle connections of its own client
	// on Close.
	HTTPClient *http.Client

	// Proxy chooses the proxy of WebSocket connections (HTTP CONNECT), and
	// of polling requests when HTTPClient is nil. Default
	// http.ProxyFromEnvironment.
	Proxy func(*http.Request) (*url.URL, error)

	// Timeout bounds each connection attempt, from the first request until
	// the Engine.IO handshake (JavaScript's timeout); it also bounds an
	// upgrade probe. Default 20s; negative means no limit.
	Timeout time.Duration

	// NoReconnection disables automatic reconnection (JavaScript's
	// reconnection: false).
	NoReconnection bool

	// ReconnectionAttempts is the number of reconnection attempts before
	// giving up (reconnect_failed). Default 0: unlimited.
	ReconnectionAttempts int

	// ReconnectionDelay is the first reconnection delay, doubled at each
	// attempt. Default 1s.
	ReconnectionDelay time.Duration

	// ReconnectionDelayMax caps the reconnection delay. Default 5s.
	ReconnectionDelayMax time.Duration

	// RandomizationFactor is the jitter of the reconnection delay, in
	// (0, 1]. Default 0.5; negative means no jitter.
	RandomizationFactor float64

	// Rand returns uniform random numbers in [0, 1) for the jitter.
	// Default math/rand/v2's Float64. Tests may inject their own.
	Rand func() float64

	// MaxPayload bounds a received polling response or WebSocket message.
	// Default 16 MiB.
	MaxPayload int

	// Parser encodes and decodes Socket.IO packets; it must match the
	// server's. Default parser.JSONParser{} (socket.io-parser); for a
	// server using socket.io-msgpack-parser use the parser/msgpack module.
	Parser parser.Parser

	// Socket holds the options of the socket created by Dial.
	Socket SocketOptions

	// Logger receives diagnostics: failed connections and upgrades (Warn
	// when a WebSocket upgrade fails and the connection stays on polling),
	// closed connections, bad packets, panicking handlers. Default: none.
	Logger *slog.Logger
}

// SocketOptions configures a Socket (one namespace). The zero value is
// ready to use.
type SocketOptions struct {
	// Auth is sent with every CONNECT of the namespace; it must marshal to
	// a JSON object (a map or a struct). Default: none (the server sees
	// {}).
	Auth any

	// AuthFunc, when set, is called before every connection and
	// reconnection, on the socket's handler goroutine, and its result is
	// sent instead of Auth (for tokens that expire). An error stops the
	// connection: it is reported as a connect error and the socket becomes
	// inactive.
	AuthFunc func(ctx context.Context) (any, error)

	// AckTimeout is the acknowledgement timeout of emits retried with
	// Retries (JavaScript's ackTimeout). Default 5s when Retries > 0.
	AckTimeout time.Duration

	// Retries, when positive, makes every non-volatile emit wait for the
	// server's acknowledgement and resend it (with a new ack id) after
	// AckTimeout, up to Retries more times: at-least-once delivery, one
	// packet in flight at a time, in order. The server must acknowledge
	// the events. Default 0: no retries.
	Retries int

	// SendBuffer bounds the packets kept while the socket is not
	// connected (and, with Retries, the packets waiting in the retry
	// queue); they are sent once it connects. When it is full, Emit and
	// EmitWithAck fail with ErrSendBufferFull and the new packet is
	// dropped; packets already buffered are kept. Volatile emits are never
	// buffered. Default 1024.
	SendBuffer int

	// ReceiveBuffer bounds the events kept for Receive (events that no
	// handler registered with On takes). When it is full the oldest event
	// is dropped: Socket.ReceiveDropped counts them, and the first drop
	// (then every thousandth) is logged at Warn. Default 256.
	ReceiveBuffer int

	// MaxPendingEvents bounds the events waiting for the socket's
	// handlers. A server that sends faster than the handlers run gets the
	// connection closed with "transport error" (and the client
	// reconnects). Default 1024.
	MaxPendingEvents int
}

// Defaults, as documented on Options and SocketOptions.
const (
	DefaultPath                 = "/socket.io/"
	DefaultTimeout              = 20 * time.Second
	DefaultReconnectionDelay    = time.Second
	DefaultReconnectionDelayMax = 5 * time.Second
	DefaultRandomizationFactor  = 0.5
	DefaultMaxPayload           = 16 << 20
	DefaultAckTimeout           = 5 * time.Second
	DefaultSendBuffer           = 1024
	DefaultReceiveBuffer        = 256
	DefaultMaxPendingEvents     = 1024
)

func (o SocketOptions) withDefaults() SocketOptions {
	if o.AckTimeout <= 0 {
		o.AckTimeout = DefaultAckTimeout
	}
	if o.SendBuffer <= 0 {
		o.SendBuffer = DefaultSendBuffer
	}
	if o.ReceiveBuffer <= 0 {
		o.ReceiveBuffer = DefaultReceiveBuffer
	}
	if o.MaxPendingEvents <= 0 {
		o.MaxPendingEvents = DefaultMaxPendingEvents
	}
	return o
}

// resolve checks the URL and options and fills the defaults. It returns
// the namespace named by the URL path and whether the HTTP client is ours.
func resolve(rawURL string, o *Options) (Options, *engineConfig, string, bool, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return opts, nil, "", false, fmt.Errorf("socketio client: bad URL: %w", err)
	}
	switch u.Scheme {
	case "http", "https":
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return opts, nil, "", false, fmt.Errorf("socketio client: unsupported URL scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return opts, nil, "", false, errors.New("socketio client: URL without host")
	}
	nsp := u.Path
	if nsp == "" {
		nsp = "/"
	}
	if opts.Path == "" {
		opts.Path = DefaultPath
	}
	if !strings.HasPrefix(opts.Path, "/") {
		opts.Path = "/" + opts.Path
	}
	if !strings.HasSuffix(opts.Path, "/") {
		opts.Path += "/"
	}
	if len(opts.Transports) == 0 {
		opts.Transports = []string{Polling, WebSocket}
	}
	for _, t := range opts.Transports {
		if t != Polling && t != WebSocket {
			return opts, nil, "", false, fmt.Errorf("socketio client: unknown transport %q", t)
		}
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.ReconnectionDelay <= 0 {
		opts.ReconnectionDelay = DefaultReconnectionDelay
	}
	if opts.ReconnectionDelayMax <= 0 {
		opts.ReconnectionDelayMax = DefaultReconnectionDelayMax
	}
	if opts.RandomizationFactor == 0 {
		opts.RandomizationFactor = DefaultRandomizationFactor
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Parser == nil {
		opts.Parser = parser.JSONParser{}
	}
	if opts.Proxy == nil {
		opts.Proxy = http.ProxyFromEnvironment
	}
	opts.Socket = opts.Socket.withDefaults()
	query := url.Values{}
	for k, v := range u.Query() {
		query[k] = v
	}
	for k, v := range opts.Query {
		query[k] = v
	}
	// Our copies: http.Transport adds "h2" to the NextProtos of its
	// config, and the caller may change theirs later.
	opts.TLSConfig = opts.TLSConfig.Clone()
	own := false
	hc := opts.HTTPClient
	if hc == nil {
		own = true
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = opts.TLSConfig.Clone()
		tr.Proxy = opts.Proxy
		jar, _ := cookiejar.New(nil)
		hc = &http.Client{Transport: tr, Jar: jar}
	}
	probe := opts.Timeout
	if probe < 0 {
		probe = time.Duration(math.MaxInt64)
	}
	cfg := &engineConfig{
		base:         u.Scheme + "://" + u.Host + opts.Path,
		userQuery:    query,
		header:       opts.Header,
		httpClient:   hc,
		tlsConfig:    opts.TLSConfig,
		proxy:        opts.Proxy,
		transports:   opts.Transports,
		upgrade:      !opts.NoUpgrade,
		probeTimeout: probe,
		maxResponse:  opts.MaxPayload,
		logger:       opts.Logger,
	}
	return opts, cfg, nsp, own, nil
}

// backoff computes reconnection delays exactly as the JavaScript client
// (backo2): base = min × 2^attempts, jittered by ± floor(r × factor × base)
// (minus when floor(r × 10) is even), capped at max after the jitter.
type backoff struct {
	min, max time.Duration
	jitter   float64
	rand     func() float64
	attempts int
}

func (b *backoff) duration() time.Duration {
	ms := float64(b.min.Milliseconds()) * math.Pow(2, float64(b.attempts))
	b.attempts++
	if b.jitter > 0 && b.jitter <= 1 {
		r := b.rand()
		dev := math.Floor(r * b.jitter * ms)
		if int64(math.Floor(r*10))&1 == 0 {
			ms -= dev
		} else {
			ms += dev
		}
	}
	ms = math.Min(ms, float64(b.max.Milliseconds()))
	return time.Duration(int64(ms)) * time.Millisecond
}

func (b *backoff) reset() { b.attempts = 0 }
