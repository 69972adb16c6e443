package engineio

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/engineio/packet"
	"github.com/gosio/socketio/internal/ws"
)

// Close reasons, with Node's wording. A Conn's close handlers receive one of
// these.
const (
	// ReasonTransportClose: the client closed the session or its transport.
	ReasonTransportClose = "transport close"
	// ReasonTransportError: the transport failed (aborted request,
	// overlapping polls, network error, a client that cannot keep up).
	ReasonTransportError = "transport error"
	// ReasonPingTimeout: no pong came within PingTimeout of a ping.
	ReasonPingTimeout = "ping timeout"
	// ReasonParseError: the client sent a packet that cannot be decoded.
	ReasonParseError = "parse error"
	// ReasonForcedClose: the application called Conn.Close.
	ReasonForcedClose = "forced close"
	// ReasonServerShutdown: the server is shutting down.
	ReasonServerShutdown = "server shutting down"
)

// Errors returned by Conn methods.
var (
	// ErrClosed is returned when writing to a closed or closing session.
	ErrClosed = errors.New("engineio: session closed")
	// ErrBufferFull is returned when a write would take the session's queue
	// over Config.MaxBufferedBytes; the session is then closed with
	// "transport error".
	ErrBufferFull = errors.New("engineio: session send buffer full")
)

var (
	errOverlap      = errors.New("engineio: overlapping polling request")
	errBinaryPost   = errors.New("engineio: binary polling payloads are not part of protocol v4")
	errClientPing   = errors.New("engineio: invalid heartbeat direction")
	errHandlerPanic = errors.New("engineio: message handler panicked")
)

// Request is what a session keeps of the HTTP request that opened it. An
// idle session should cost little: the header, URL and query are kept in
// a compact form and made into maps on first use (Header, URL, Query);
// treat what they return as read-only. Context carries what
// Config.SessionContext kept of the request's context.
type Request struct {
	Method     string
	Host       string
	RemoteAddr string
	// TLS is nil for plain-text connections.
	TLS *tls.ConnectionState
	// Time is when the handshake request arrived.
	Time time.Time

	// ctx is what Config.SessionContext returned, without its
	// cancellation; nil without a SessionContext.
	ctx context.Context

	// Host, RemoteAddr, uri and packed are parts of one string.
	uri    string // the request URI, as sent
	packed string // the header fields, length-prefixed (see writeHeader)

	maps atomic.Pointer[requestMaps] // made from uri and packed on first use
}

// requestMaps is what Header, URL and Query return, made together on first
// use: an idle session never needs them.
type requestMaps struct {
	url    *url.URL
	header http.Header
	query  url.Values
}

// Header returns the request's header fields, with Host among them (as
// Node has it), made on first use. The map must not be modified.
func (r *Request) Header() http.Header { return r.unpack().header }

// URL returns the request's URL, as net/http parses a request URI, made
// on first use. It must not be modified.
func (r *Request) URL() *url.URL { return r.unpack().url }

// Query returns the query parameters of the request, parsed on first use.
// The map must not be modified.
func (r *Request) Query() url.Values { return r.unpack().query }

// RequestURI returns the request URI as the client sent it (path and
// query), e.g. "/socket.io/?EIO=4&transport=websocket".
func (r *Request) RequestURI() string { return r.uri }

func (r *Request) unpack() *requestMaps {
	if m := r.maps.Load(); m != nil {
		return m
	}
	u, err := url.ParseRequestURI(r.uri)
	if err != nil || r.uri == "" {
		u = &url.URL{}
	}
	m := &requestMaps{url: u, header: unpackHeader(r.packed), query: u.Query()}
	if !r.maps.CompareAndSwap(nil, m) {
		return r.maps.Load() // made meanwhile by another caller
	}
	return m
}

// headerLen is the length writeHeader writes for h and host.
func headerLen(h http.Header, host string) int {
	field := func(k, v string) int {
		return uvarintLen(len(k)) + len(k) + uvarintLen(len(v)) + len(v)
	}
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += field(k, v)
		}
	}
	if host != "" && len(h["Host"]) == 0 {
		n += field("Host", host)
	}
	return n
}

// uvarintLen is the length of n as a uvarint.
func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// writeHeader writes h to sb in packed form: for each field, each value,
// the name's and the value's lengths (uvarint) and bytes, and Host from
// host when h has none. Within the one string a session keeps of its
// request, it costs about the header's text, where the map net/http made
// costs two or three times that.
func writeHeader(sb *strings.Builder, h http.Header, host string) {
	var n [binary.MaxVarintLen64]byte
	put := func(k, v string) {
		sb.Write(n[:binary.PutUvarint(n[:], uint64(len(k)))])
		sb.WriteString(k)
		sb.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
		sb.WriteString(v)
	}
	for k, vs := range h {
		for _, v := range vs {
			put(k, v)
		}
	}
	if host != "" && len(h["Host"]) == 0 {
		put("Host", host)
	}
}

// packHeader returns h and host packed by writeHeader.
func packHeader(h http.Header, host string) string {
	var sb strings.Builder
	sb.Grow(headerLen(h, host))
	writeHeader(&sb, h, host)
	return sb.String()
}

// unpackHeader reverses packHeader.
func unpackHeader(p string) http.Header {
	h := http.Header{}
	next := func() (string, bool) {
		l, n := binary.Uvarint([]byte(p[:min(len(p), binary.MaxVarintLen64)]))
		if n <= 0 || uint64(len(p)-n) < l {
			return "", false
		}
		s := p[n : n+int(l)]
		p = p[n+int(l):]
		return s, true
	}
	for len(p) > 0 {
		k, ok1 := next()
		v, ok2 := next()
		if !ok1 || !ok2 {
			break
		}
		h[k] = append(h[k], v)
	}
	return h
}

// Context returns the context the session kept from the HTTP request that
// opened it, as Config.SessionContext chose, without its cancellation and
// deadline (context.WithoutCancel): its values stay readable for the
// session's whole life, long after that request has been answered. For a
// client that starts with polling it comes from the handshake GET; for a
// WebSocket-only client, from the upgrade request. Later polls and the
// upgrade to WebSocket do not change it. Without a SessionContext, and for a
// Request the server did not make, it is context.Background().
func (r *Request) Context() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}

// KeepRequestContext is a Config.SessionContext that keeps the request's
// whole context: every value router or net/http middleware stored in it (an
// authenticated user, a request id) reaches the session, and the Socket.IO
// sockets' contexts. It keeps what that context references, net/http's own
// per-request and per-connection contexts included, for as long as the
// session lives.
func KeepRequestContext(r *http.Request) context.Context { return r.Context() }

// snapshot keeps what the session needs of its first request: the
// header and URI in compact form (see Request), not the request's maps,
// and copies of its strings: a router may reuse a request's memory once
// it has been answered (fasthttp's adaptor does), while the session lives
// on.
func snapshot(r *http.Request, now time.Time, keep func(*http.Request) context.Context) *Request {
	uri := r.RequestURI
	if uri == "" && r.URL != nil {
		uri = r.URL.RequestURI()
	}
	method := r.Method
	switch method {
	case http.MethodGet:
		method = http.MethodGet
	case http.MethodPost:
		method = http.MethodPost
	default:
		method = strings.Clone(method)
	}
	// One allocation for the strings a session keeps (the router may
	// reuse the request's memory once it has been answered).
	var sb strings.Builder
	sb.Grow(len(r.Host) + len(r.RemoteAddr) + len(uri) + headerLen(r.Header, r.Host))
	sb.WriteString(r.Host)
	sb.WriteString(r.RemoteAddr)
	sb.WriteString(uri)
	writeHeader(&sb, r.Header, r.Host)
	all := sb.String()
	i, j, k := len(r.Host), len(r.Host)+len(r.RemoteAddr), len(r.Host)+len(r.RemoteAddr)+len(uri)
	return &Request{
		Method:     method,
		Host:       all[:i],
		RemoteAddr: all[i:j],
		TLS:        r.TLS,
		Time:       now,
		ctx:        sessionContext(r, keep),
		uri:        all[j:k],
		packed:     all[k:],
	}
}

// sessionContext returns what keep makes of r's context, without its
// cancellation, or nil.
func sessionContext(r *http.Request, keep func(*http.Request) context.Context) context.Context {
	if keep == nil {
		return nil
	}
	ctx := keep(r)
	if ctx == nil {
		return nil
	}
	return context.WithoutCancel(ctx)
}

type connState uint8

const (
	stateOpen    connState = iota
	stateClosing           // a graceful close waits for the queue to drain
	stateClosed
)

// Conn is one Engine.IO session: a message-oriented connection that works the
// same whatever its transport (polling, WebSocket, or polling upgraded to
// WebSocket).
//
// All methods are safe for concurrent use. Handlers set with OnMessage are
// called one at a time, in the order the messages arrived; no library lock is
// held while a handler runs. Messages of one POST body are delivered before
// the POST is answered, so replies they cause go into the next poll.
type Conn struct {
	srv *Server
	id  string
	req *Request

	deliverMu sync.Mutex // one message handler at a time
	// after is what a message handler asked to run once the WebSocket
	// read pass that delivered the message has ended (RunAfterDelivery);
	// under deliverMu.
	after func()

	mu        sync.Mutex
	transport string
	queue     []*Message
	queued    int

	// polling
	pollCh     chan struct{} // wakes the held GET; capacity 1
	pollAnswer *Message      // what a held GET answers once the session is closed

	// websocket
	ws *ws.Conn

	// upgrade
	probe        *ws.Conn
	probeAt      time.Duration // on hbNow's clock
	upgradeTimer *time.Timer

	// heartbeat: the session's deadline in the server's heartbeats heap
	// (hbAt, hbIdx are guarded by the heap's lock), and what it is for
	hbAt    time.Duration
	hbDue   time.Duration // on hbNow's clock, as hbAt
	pongDue time.Duration // when the awaited pong is late, counted from when the ping was due
	linger  *time.Timer

	onMessage []func(data []byte, binary bool)
	onClose   []func(reason string, cause error)
	onUpgrade []func(transport string)
	hooks     atomic.Pointer[connHooks] // observability; copy on write

	reason string
	cause  error
	done   chan struct{} // nil until Done is called

	// The small fields, together (an idle session's size).
	hbIdx        int32     // -1: not scheduled; guarded by the heartbeats' lock
	state        connState // under mu, as the rest unless said
	getActive    bool
	postActive   bool
	answered     bool // a GET has carried pollAnswer (or the final close packet)
	wsB64        bool
	writing      bool // a write loop runs
	probeB64     bool
	probing      bool // "2probe" was answered; waiting for "5"
	awaitingPong bool
	extended     bool
	// inPass: the message being delivered came from a WebSocket read
	// pass that will run after (under deliverMu)
	inPass bool
}

func newConn(s *Server, id string, req *Request, transport string) *Conn {
	c := &Conn{
		srv:       s,
		id:        id,
		req:       req,
		transport: transport,
		hbIdx:     -1,
	}
	if transport == Polling {
		// Only polling sessions hold GETs (a WebSocket session never
		// polls); the channel costs memory per idle session.
		c.pollCh = make(chan struct{}, 1)
	}
	return c
}

// closedChan is the Done channel of sessions that ended before anyone
// asked for it.
var closedChan = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// ID returns the session id (the Engine.IO sid).
func (c *Conn) ID() string { return c.id }

// Request returns the snapshot of the request that opened the session.
func (c *Conn) Request() *Request { return c.req }

// Transport returns the name of the current transport: "polling" or
// "websocket".
func (c *Conn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// Done returns a channel closed when the session has ended.
func (c *Conn) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		// Made on demand: most sessions are never waited for.
		if c.state == stateClosed {
			c.done = closedChan
		} else {
			c.done = make(chan struct{})
		}
	}
	return c.done
}

// CloseReason returns why the session ended ("" while it is open), and the
// underlying error if there was one.
func (c *Conn) CloseReason() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateClosed {
		return "", nil
	}
	return c.reason, c.cause
}

// OnMessage adds a handler of incoming messages; handlers run in the
// order they were added, on the session's reader. Add it in the Server's
// connection handler: messages that arrive before a handler is added are
// dropped. data is shared by every handler and may be kept by one (the
// Socket.IO layer keeps binary attachments): no handler may modify it.
func (c *Conn) OnMessage(fn func(data []byte, binary bool)) {
	c.mu.Lock()
	c.onMessage = append(slices.Clip(c.onMessage), fn)
	c.mu.Unlock()
}

// OnClose adds a handler called once when the session ends, with one of the
// Reason constants and the error behind it, if any. If the session has
// already ended, fn is called at once.
func (c *Conn) OnClose(fn func(reason string, cause error)) {
	c.mu.Lock()
	if c.state == stateClosed {
		reason, cause := c.reason, c.cause
		c.mu.Unlock()
		c.safeCall(func() { fn(reason, cause) })
		return
	}
	c.onClose = append(c.onClose, fn)
	c.mu.Unlock()
}

// OnUpgrade adds a handler called when the session has moved to a new
// transport (from polling to websocket).
func (c *Conn) OnUpgrade(fn func(transport string)) {
	c.mu.Lock()
	c.onUpgrade = append(c.onUpgrade, fn)
	c.mu.Unlock()
}

// connHooks are the observers of a Conn (Node's engine socket events
// packet, packetCreate, drain, heartbeat).
type connHooks struct {
	in, out   []func(t packet.Type, size int)
	drain     []func()
	heartbeat []func()
}

func (c *Conn) addHook(add func(h *connHooks)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := new(connHooks)
	if old := c.hooks.Load(); old != nil {
		*h = *old
		h.in, h.out = slices.Clip(h.in), slices.Clip(h.out)
		h.drain, h.heartbeat = slices.Clip(h.drain), slices.Clip(h.heartbeat)
	}
	add(h)
	c.hooks.Store(h)
}

// OnPacketIn adds an observer of every packet received, with its type and
// encoded size in bytes (Node's "packet" event).
func (c *Conn) OnPacketIn(fn func(t packet.Type, size int)) {
	c.addHook(func(h *connHooks) { h.in = append(h.in, fn) })
}

// OnPacketOut adds an observer of every message and ping queued for the
// client, with its type and size (Node's "packetCreate" event).
func (c *Conn) OnPacketOut(fn func(t packet.Type, size int)) {
	c.addHook(func(h *connHooks) { h.out = append(h.out, fn) })
}

// OnDrain adds an observer called when everything queued has been written
// to the transport (Node's "drain" event).
func (c *Conn) OnDrain(fn func()) {
	c.addHook(func(h *connHooks) { h.drain = append(h.drain, fn) })
}

// OnHeartbeat adds an observer called when the client answers a ping
// (Node's "heartbeat" event).
func (c *Conn) OnHeartbeat(fn func()) {
	c.addHook(func(h *connHooks) { h.heartbeat = append(h.heartbeat, fn) })
}

func (c *Conn) notifyIn(p packet.Packet) {
	if h := c.hooks.Load(); h != nil && len(h.in) > 0 {
		size := p.EncodedLen()
		if p.Binary {
			size = len(p.Data)
		}
		for _, fn := range h.in {
			c.safeCall(func() { fn(p.Type, size) })
		}
	}
}

func (c *Conn) notifyOut(msgs []*Message) {
	if h := c.hooks.Load(); h != nil && len(h.out) > 0 {
		for _, m := range msgs {
			for _, fn := range h.out {
				c.safeCall(func() { fn(m.pkt.Type, m.size()) })
			}
		}
	}
}

func (c *Conn) notifyDrain() {
	if h := c.hooks.Load(); h != nil {
		for _, fn := range h.drain {
			c.safeCall(fn)
		}
	}
}

// Send queues a text message.
func (c *Conn) Send(data []byte) error { return c.Write(NewMessage(data)) }

// SendBinary queues a binary message.
func (c *Conn) SendBinary(data []byte) error { return c.Write(NewBinaryMessage(data)) }

// Write queues the messages, in order and with nothing in between. It does
// not wait for them to be sent. A queue over Config.MaxBufferedBytes closes
// the session with "transport error" and returns ErrBufferFull.
func (c *Conn) Write(msgs ...*Message) error {
	c.mu.Lock()
	err := c.enqueueLocked(msgs...)
	c.mu.Unlock()
	if errors.Is(err, ErrBufferFull) {
		c.finish(ReasonTransportError, err, closeMsg)
	}
	if err == nil {
		c.notifyOut(msgs)
	}
	return err
}

// Writable reports whether a message written now would go out without
// waiting behind others: the session is open and nothing is queued on its
// transport (for polling: a poll is waiting, too). Volatile messages use it
// to decide whether to drop. On WebSocket a write in flight with nothing
// queued behind it does not count as busy: its bytes may already be with
// the client, which may have answered, while the writer has not yet noted
// that the write returned.
func (c *Conn) Writable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return false
	}
	if c.transport == WebSocket {
		return len(c.queue) == 0
	}
	return c.getActive && len(c.queue) == 0
}

// Close closes the session after what is already queued has been sent. The
// close reason is "forced close". It does not wait.
func (c *Conn) Close() error {
	c.closeGracefully(ReasonForcedClose, nil)
	return nil
}

// End closes the session like Close, after what is already queued has been
// sent (a polling client gets the close packet with its next poll), and
// reports reason and cause to the close handlers. Messages that arrive
// meanwhile are still delivered; use Abort to close at once.
func (c *Conn) End(reason string, cause error) {
	c.closeGracefully(reason, cause)
}

// Abort closes the session at once, without flushing its queue, and reports
// reason (one of the Reason constants, or the application's own) and cause to
// the close handlers. Use Close for an orderly close.
func (c *Conn) Abort(reason string, cause error) {
	c.finish(reason, cause, closeMsg)
}

func (c *Conn) enqueueLocked(msgs ...*Message) error {
	if c.state != stateOpen {
		return ErrClosed
	}
	n := 0
	for _, m := range msgs {
		n += m.size()
	}
	if c.queued+n > c.srv.cfg.MaxBufferedBytes {
		return ErrBufferFull
	}
	c.queue = append(c.queue, msgs...)
	c.queued += n
	c.kickLocked()
	return nil
}

// kickLocked makes the current transport take the queue.
func (c *Conn) kickLocked() {
	if c.transport == WebSocket {
		if !c.writing && len(c.queue) > 0 {
			c.writing = true
			if c.ws.Polled() {
				c.srv.writers.schedule(c.srv, c)
			} else {
				c.srv.track.Go(c.writeLoop)
			}
		}
		return
	}
	c.signalPoll()
}

func (c *Conn) signalPoll() {
	select {
	case c.pollCh <- struct{}{}:
	default:
	}
}

// framesPool recycles the frame lists of write loops, so that an idle
// session keeps none.
var framesPool = sync.Pool{New: func() any { return new([]ws.Frame) }}

// takeBatch takes the queue for a WebSocket write. When there is nothing
// to write (or no WebSocket to write to any more) it ends the writer's turn
// (see stopWritingLocked, which gets prev) and returns a nil batch.
func (c *Conn) takeBatch(prev []*Message) ([]*Message, *ws.Conn, bool) {
	c.mu.Lock()
	if len(c.queue) == 0 || c.transport != WebSocket || c.state == stateClosed {
		c.stopWritingLocked(prev)
		return nil, nil, false
	}
	batch := c.queue
	c.queue, c.queued = nil, 0
	wsc, b64 := c.ws, c.wsB64
	c.mu.Unlock()
	return batch, wsc, b64
}

// appendFrames appends the WebSocket frames of the messages.
func appendFrames(frames []ws.Frame, batch []*Message, b64 bool) []ws.Frame {
	for _, m := range batch {
		frames = append(frames, m.wsFrame(b64))
	}
	return frames
}

// writeLoop sends the queue over the WebSocket, coalescing what has
// accumulated into one write, and ends when the queue is empty.
func (c *Conn) writeLoop() {
	fp := framesPool.Get().(*[]ws.Frame)
	defer func() {
		clear(*fp)
		*fp = (*fp)[:0]
		framesPool.Put(fp)
	}()
	frames := *fp
	var prev []*Message // the last batch written, to give its array back
	// Let the goroutine that queued the first message go on first: in a
	// burst (a loop of broadcasts) more messages join the queue and leave
	// in the same system call.
	runtime.Gosched()
	for {
		batch, wsc, b64 := c.takeBatch(prev)
		if batch == nil {
			return
		}
		frames = appendFrames(frames[:0], batch, b64)
		*fp = frames
		if err := wsc.WriteFrames(frames); err != nil {
			c.finish(ReasonTransportError, err, nil)
			return
		}
		prev = batch
	}
}

// stopWritingLocked ends a write loop (or the session's turn in the writer
// pool) once the queue is empty; it unlocks c.mu. prev is the last batch
// written, whose array may be kept for the next burst.
func (c *Conn) stopWritingLocked(prev []*Message) {
	c.writing = false
	if c.queue == nil && cap(prev) <= 16 && c.state != stateClosed {
		// Keep a small array for the next burst: one allocation less
		// per message, a few words per idle session.
		clear(prev)
		c.queue = prev[:0]
	}
	closing := c.state == stateClosing && c.transport == WebSocket
	drained := c.state == stateOpen && len(c.queue) == 0
	reason := c.reason
	c.mu.Unlock()
	if closing {
		c.finish(reason, nil, nil)
	} else if drained {
		c.notifyDrain()
	}
}

// releaseWriter lets the write loop run again after the handshake held it.
func (c *Conn) releaseWriter() {
	c.mu.Lock()
	c.writing = false
	if len(c.queue) > 0 {
		c.kickLocked()
		c.mu.Unlock()
		return
	}
	closing, reason := c.state == stateClosing, c.reason
	c.mu.Unlock()
	if closing {
		c.finish(reason, nil, nil)
	}
}

// closeGracefully closes the session once its queue has been sent.
func (c *Conn) closeGracefully(reason string, cause error) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	c.state = stateClosing
	c.reason, c.cause = reason, cause
	if c.transport == Polling {
		// The close packet rides on the next poll, after the queue.
		c.queue = append(c.queue, closeMsg)
		c.signalPoll()
		c.linger = time.AfterFunc(c.srv.cfg.PingTimeout, func() {
			c.finish(reason, cause, closeMsg)
		})
		c.mu.Unlock()
		return
	}
	writing := c.writing
	c.mu.Unlock()
	if !writing {
		c.finish(reason, nil, nil)
	}
	// else the write loop finishes the session when the queue is empty.
}

// finish ends the session at once. answer is what a held poll receives.
func (c *Conn) finish(reason string, cause error, answer *Message) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	if c.state != stateClosing {
		c.reason, c.cause = reason, cause
	}
	c.state = stateClosed
	if answer == nil {
		answer = closeMsg
	}
	c.pollAnswer = answer
	c.queue, c.queued = nil, 0
	c.srv.hb.stop(c)
	for _, t := range []*time.Timer{c.upgradeTimer, c.linger} {
		if t != nil {
			t.Stop()
		}
	}
	wsc, probe := c.ws, c.probe
	c.probe, c.probing = nil, false
	c.signalPoll()
	handlers := c.onClose
	c.onClose = nil
	reason, cause = c.reason, c.cause
	// A polling client whose GET is not held here has one in flight or
	// about to leave: after an orderly close (its close packet, or the
	// server's), that GET gets the close answer instead of a 400 (see
	// Server.retire). After a failure, the sid is unknown at once, as in
	// Node.
	linger := c.transport == Polling && !c.getActive && !c.answered && !failure(reason)
	c.mu.Unlock()

	c.srv.retire(c, linger)
	if wsc != nil {
		if reason == ReasonTransportError {
			wsc.CloseNow()
		} else {
			wsc.CloseWith(1000)
		}
	}
	if probe != nil {
		probe.CloseNow()
	}
	c.mu.Lock()
	switch c.done {
	case nil:
		c.done = closedChan
	case closedChan: // Done was called after the state changed, above
	default:
		close(c.done)
	}
	c.mu.Unlock()
	c.srv.cfg.Logger.Debug("engine.io session closed", "sid", c.id, "reason", reason, "cause", cause)
	for _, fn := range handlers {
		c.safeCall(func() { fn(reason, cause) })
	}
}

// failure reports whether a close reason means the client or its transport
// failed (as opposed to an orderly close by either side).
func failure(reason string) bool {
	switch reason {
	case ReasonPingTimeout, ReasonParseError, ReasonTransportError:
		return true
	}
	return false
}

// safeCall runs a user callback, turning a panic into a logged error.
func (c *Conn) safeCall(fn func()) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			c.srv.cfg.Logger.Error("engine.io handler panicked", "sid", c.id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			ok = false
		}
	}()
	fn()
	return true
}

// startHeartbeat arms the ping timer; called at the handshake.
func (c *Conn) startHeartbeat() {
	c.mu.Lock()
	c.hbDue = hbNow() + c.srv.cfg.PingInterval
	c.srv.hb.reset(c, c.srv.cfg.PingInterval)
	c.mu.Unlock()
}

// heartbeat runs when the heartbeat timer fires: it either sends a ping or,
// when a ping is still unanswered, closes the session.
func (c *Conn) heartbeat() {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	now := hbNow()
	if now < c.hbDue { // the deadline moved after the timer fired
		c.srv.hb.reset(c, c.hbDue-now)
		c.mu.Unlock()
		return
	}
	if c.awaitingPong {
		c.mu.Unlock()
		c.finish(ReasonPingTimeout, nil, closeMsg)
		return
	}
	c.awaitingPong, c.extended = true, false
	pt := c.srv.cfg.PingTimeout
	// The timer gives the client PingTimeout from now, as Node does. A
	// request that arrives later than PingTimeout after the ping was due
	// finds the session expired even if this timer ran late (expired).
	c.pongDue = c.hbDue + pt
	c.hbDue = now + pt
	c.srv.hb.reset(c, pt)
	err := c.enqueueLocked(pingMsg)
	c.mu.Unlock()
	if errors.Is(err, ErrBufferFull) {
		c.finish(ReasonTransportError, err, closeMsg)
	} else if err == nil {
		c.notifyOut([]*Message{pingMsg})
	}
}

// expired closes the session with "ping timeout" when its pong is overdue
// but the heartbeat timer has not run yet, so that a request arriving after
// the deadline never finds the session alive. It reports whether it did.
func (c *Conn) expired() bool {
	c.mu.Lock()
	late := c.state == stateOpen && c.awaitingPong && hbNow() >= c.pongDue
	c.mu.Unlock()
	if late {
		c.finish(ReasonPingTimeout, nil, closeMsg)
	}
	return late
}

// gotPong schedules the next ping PingInterval from now.
func (c *Conn) gotPong() {
	c.mu.Lock()
	if c.awaitingPong && c.state == stateOpen {
		c.awaitingPong = false
		c.hbDue = hbNow() + c.srv.cfg.PingInterval
		c.srv.hb.reset(c, c.srv.cfg.PingInterval)
	}
	c.mu.Unlock()
	if h := c.hooks.Load(); h != nil {
		for _, fn := range h.heartbeat {
			c.safeCall(fn)
		}
	}
}

// gotTraffic extends an unanswered ping's deadline once, as Node does: any
// packet from the client shows it is alive.
func (c *Conn) gotTraffic() {
	c.mu.Lock()
	if c.awaitingPong && !c.extended && c.state == stateOpen {
		c.extended = true
		c.hbDue = hbNow() + c.srv.cfg.PingTimeout
		c.pongDue = c.hbDue
		c.srv.hb.reset(c, c.srv.cfg.PingTimeout)
	}
	c.mu.Unlock()
}

// onPacket handles one packet from the session's current transport. It
// reports false when the session was closed by it.
//
// fromPass says the packet came from a polled WebSocket's read pass, whose
// goroutine will run what a message handler asks for with
// RunAfterDelivery.
func (c *Conn) onPacket(p packet.Packet, fromPass bool) bool {
	c.notifyIn(p)
	switch p.Type {
	case packet.Pong:
		c.gotPong()
	case packet.Message:
		c.gotTraffic()
		c.deliver(p.Data, p.Binary, fromPass)
	case packet.Close:
		c.finish(ReasonTransportClose, nil, noopMsg)
		return false
	case packet.Ping:
		c.finish(ReasonTransportError, errClientPing, closeMsg)
		return false
	default:
		// open, upgrade and noop mean nothing here; Node ignores them too.
		c.gotTraffic()
	}
	return true
}

func (c *Conn) deliver(data []byte, binary bool, fromPass bool) {
	c.deliverMu.Lock()
	defer c.deliverMu.Unlock()
	c.mu.Lock()
	fns, open := c.onMessage, c.state != stateClosed
	c.mu.Unlock()
	if !open {
		return
	}
	c.inPass = fromPass
	defer func() { c.inPass = false }()
	for _, fn := range fns {
		if !c.safeCall(func() { fn(data, binary) }) {
			c.finish(ReasonTransportError, errHandlerPanic, closeMsg)
			return
		}
	}
}

// RunAfterDelivery may be called by a message handler (OnMessage) during
// its call: it asks that f run once the delivery is over, on the goroutine
// that read the message, instead of the handler starting a goroutine of
// its own for f. It reports whether it will: only for a message read by
// the server's readiness poller from a WebSocket (a read pass, which runs
// f once the pass has ended, so f may block while further
// messages are read and delivered by other passes), and for one f per
// read pass. When it reports false, the caller runs f its own way.
func (c *Conn) RunAfterDelivery(f func()) bool {
	// The caller runs inside deliver, which holds deliverMu.
	if !c.inPass || c.after != nil {
		return false
	}
	c.after = f
	return true
}

// takeAfter returns, and forgets, what the message handlers asked to run
// after the read pass (RunAfterDelivery).
func (c *Conn) takeAfter() func() {
	c.deliverMu.Lock()
	f := c.after
	c.after = nil
	c.deliverMu.Unlock()
	return f
}
