package engineio

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosio/socketio/engineio/packet"
	"github.com/gosio/socketio/internal/gotrack"
	"github.com/gosio/socketio/internal/ws"
)

// Engine.IO error codes, as in Node's engine.io Server.errors.
const (
	codeUnknownTransport = 0
	codeUnknownSID       = 1
	codeBadHandshake     = 2
	codeBadRequest       = 3
	codeForbidden        = 4
	codeUnsupportedProto = 5
)

var codeMessages = [...]string{
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
}

// RequestError describes a request the server refused with an Engine.IO
// error code. It is passed to Config.OnConnectionError.
type RequestError struct {
	Request *http.Request
	// Code is the Engine.IO error code (0 to 5).
	Code int
	// Message is the message sent to the client.
	Message string
	// Detail says more, for logs: e.g. which check failed.
	Detail string
}

// Error describes the refusal.
func (e *RequestError) Error() string {
	return fmt.Sprintf("engineio: request refused: code %d %s (%s)", e.Code, e.Message, e.Detail)
}

// Server is an Engine.IO v4 server. It is an http.Handler: mount it on the
// configured Path. Sessions are handed to the connection handler set with
// OnConnection.
type Server struct {
	cfg      Config
	upgrader *ws.Upgrader
	track    gotrack.Tracker
	hb       heartbeats // the sessions' heartbeat timers

	mu       sync.RWMutex
	sessions map[string]*Conn
	closed   map[string]*Conn // closed polling sessions waiting for their last GET
	onConn   []func(*Conn)
	shutdown bool

	warnHijack sync.Once
	writers    writerPool
}

// NewServer returns a Server for cfg. It fails only when cfg is
// contradictory (for example a CORS origin "*" together with credentials).
func NewServer(cfg Config) (*Server, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: c, sessions: make(map[string]*Conn), closed: make(map[string]*Conn)}
	initWriterPool(s)
	s.upgrader = ws.NewUpgrader(wsHandler{s}, ws.Options{
		MaxMessage:     c.MaxPayload,
		Compression:    c.PerMessageDeflate,
		ReadBufferSize: c.WebSocketReadBufferSize,
	})
	return s, nil
}

// Config returns the effective configuration, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// OnConnection adds a handler called for each new session, before the
// client has seen the handshake response; handlers run in the order they
// were added. Set the Conn's handlers there. A handler must not block for
// long: the handshake waits for it. (A socketio.Server adds its own; yours
// run beside it.)
func (s *Server) OnConnection(fn func(*Conn)) {
	s.mu.Lock()
	s.onConn = append(slices.Clip(s.onConn), fn)
	s.mu.Unlock()
}

// Count returns the number of open sessions.
func (s *Server) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sessions)
}

// Conn returns the open session with the given id, or nil.
func (s *Server) Conn(id string) *Conn {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sessions[id]
}

// Broadcast writes the same message to every given session. The message is
// encoded once per wire form, whatever the number of recipients. A session
// whose buffer is full is closed without affecting the others. It returns
// how many sessions took the message.
func Broadcast(m *Message, conns []*Conn) int {
	n := 0
	for _, c := range conns {
		if c.Write(m) == nil {
			n++
		}
	}
	return n
}

// retire takes a closed session out of the open ones. With linger, a
// closed polling session keeps answering its sid for a while (PingTimeout):
// the next GET, which the client had in flight when the session closed (or
// sends right after), gets the close answer (a close or noop packet) rather
// than a 400, and the sid is then unknown. Node answers such a GET from its
// transport object; without this, the client would see a "transport error"
// instead of the close.
func (s *Server) retire(c *Conn, linger bool) {
	s.mu.Lock()
	if s.sessions[c.id] == c {
		delete(s.sessions, c.id)
	}
	if linger {
		s.closed[c.id] = c
	}
	s.mu.Unlock()
	if linger {
		time.AfterFunc(s.cfg.PingTimeout, func() { s.forget(c) })
	}
}

// forget drops a closed session's sid for good.
func (s *Server) forget(c *Conn) {
	s.mu.Lock()
	if s.closed[c.id] == c {
		delete(s.closed, c.id)
	}
	s.mu.Unlock()
}

// closedConn returns the closed polling session with this sid that has not
// yet given its close answer, or nil.
func (s *Server) closedConn(id string) *Conn {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed[id]
}

// ErrServerClosed is returned by Shutdown and Close when called again.
var ErrServerClosed = errors.New("engineio: server closed")

// Shutdown stops accepting sessions, closes every session gracefully (what
// is queued is still sent, pending polls are released with a close packet,
// the reason is "server shutting down") and waits until all of them have
// ended and every goroutine of the server has returned, or until ctx is done;
// then the remaining sessions are closed at once and ctx's error returned.
func (s *Server) Shutdown(ctx context.Context) error {
	conns, err := s.stopAccepting()
	if err != nil {
		return err
	}
	for _, c := range conns {
		c.closeGracefully(ReasonServerShutdown, nil)
	}
	for _, c := range conns {
		select {
		case <-c.Done():
		case <-ctx.Done():
			s.closeAll(ReasonServerShutdown)
			s.track.Wait()
			return ctx.Err()
		}
	}
	s.track.Wait()
	return nil
}

// Close closes every session at once (reason "server shutting down") and
// waits for the server's goroutines to return. After Shutdown, or during
// it, it closes at once the sessions still open and returns
// ErrServerClosed.
func (s *Server) Close() error {
	_, err := s.stopAccepting()
	s.closeAll(ReasonServerShutdown)
	s.track.Wait()
	return err
}

func (s *Server) stopAccepting() ([]*Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return nil, ErrServerClosed
	}
	s.shutdown = true
	conns := make([]*Conn, 0, len(s.sessions))
	for _, c := range s.sessions {
		conns = append(conns, c)
	}
	return conns, nil
}

func (s *Server) closeAll(reason string) {
	s.mu.RLock()
	conns := make([]*Conn, 0, len(s.sessions))
	for _, c := range s.sessions {
		conns = append(conns, c)
	}
	s.mu.RUnlock()
	for _, c := range conns {
		c.finish(reason, nil, closeMsg)
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.matchPath(r.URL.Path) {
		http.NotFound(w, r)
		return
	}
	s.Serve(w, r)
}

func (s *Server) matchPath(p string) bool {
	base := strings.TrimSuffix(s.cfg.Path, "/")
	return p == base || p == base+"/"
}

// Serve handles an Engine.IO request without checking its path; embedders
// that route by themselves (the Socket.IO server) call it.
func (s *Server) Serve(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.cfg.Logger.Error("engine.io request handler panicked", "panic", fmt.Sprint(v),
				"method", r.Method, "url", r.URL.String(), "stack", string(debug.Stack()))
			// The user hooks of the HTTP path (AllowRequest, Headers,
			// InitialHeaders, CORS.AllowOrigin, GenerateID,
			// SessionContext, OnConnectionError) run before anything is
			// written, so the client gets a 500, as from a panicking
			// net/http handler that recovers, rather than an empty 200.
			s.writeStatus(w, r, http.StatusInternalServerError, "internal server error")
		}
	}()
	q := r.URL.Query()
	isWS := ws.IsUpgradeRequest(r)
	if !s.allowedHost(r) {
		s.refuseAny(w, r, isWS, codeForbidden, "host "+strconv.Quote(r.Host)+" not allowed")
		return
	}
	origin := r.Header.Get("Origin")
	originValid := origin == "" || validHeaderValue(origin)
	allowedOrigin, originOK := s.checkOrigin(r, origin)
	if originValid && originOK {
		// CORS headers go on every answer, errors included, so that
		// browsers let the page read them.
		s.setCORS(w.Header(), r, origin, allowedOrigin)
		if r.Method == http.MethodOptions && !isWS {
			s.preflight(w, r)
			return
		}
	}
	transport := q.Get("transport")
	if !s.cfg.allows(transport) {
		s.refuseAny(w, r, isWS, codeUnknownTransport, "transport "+strconv.Quote(transport))
		return
	}
	// The package's own string, not the request's: a session keeps it
	// (a router may reuse a request's memory once it has been answered).
	if transport == WebSocket {
		transport = WebSocket
	} else {
		transport = Polling
	}
	if !originValid {
		s.refuseAny(w, r, isWS, codeBadRequest, "invalid Origin header")
		return
	}
	if !originOK {
		s.refuseAny(w, r, isWS, codeForbidden, "origin "+strconv.Quote(origin)+" not allowed")
		return
	}

	sid := q.Get("sid")
	if sid != "" {
		c := s.Conn(sid)
		if c != nil && c.expired() {
			c = nil
		}
		if c == nil && !isWS && transport == Polling && r.Method == http.MethodGet {
			c = s.closedConn(sid) // its last GET gets the close answer
		}
		if c == nil {
			s.refuseAny(w, r, isWS, codeUnknownSID, "sid "+strconv.Quote(sid))
			return
		}
		if isWS {
			if transport != WebSocket {
				s.refuseAny(w, r, true, codeBadRequest, "upgrade request without transport=websocket")
				return
			}
			s.serveUpgrade(w, r, c)
			return
		}
		if transport != Polling {
			s.refuse(w, r, codeBadRequest, "transport mismatch")
			return
		}
		s.applyHeaders(w.Header(), r, false)
		switch r.Method {
		case http.MethodGet:
			c.servePoll(w, r)
		case http.MethodPost:
			c.servePost(w, r)
		default:
			// Node's polling transport answers other methods with 500.
			s.writeStatus(w, r, http.StatusInternalServerError, "unsupported method")
		}
		return
	}

	// Handshake.
	if r.Method != http.MethodGet {
		s.refuse(w, r, codeBadHandshake, "method "+r.Method)
		return
	}
	if transport == WebSocket && !isWS {
		s.refuse(w, r, codeBadRequest, "websocket transport without an upgrade request")
		return
	}
	if s.cfg.AllowRequest != nil {
		if err := s.cfg.AllowRequest(r); err != nil {
			s.refuseMsg(w, r, isWS, codeForbidden, err.Error(), "AllowRequest")
			return
		}
	}
	if q.Get("EIO") != "4" {
		s.refuseAny(w, r, isWS, codeUnsupportedProto, "EIO="+strconv.Quote(q.Get("EIO")))
		return
	}
	s.handshake(w, r, transport, isWS, q.Get("b64") != "")
}

func (s *Server) newID(r *http.Request) (string, error) {
	if s.cfg.GenerateID != nil {
		return s.cfg.GenerateID(r)
	}
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

type handshakeData struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func (s *Server) openPacket(id, transport string) *Message {
	ups := []string{}
	if transport == Polling && !s.cfg.DisableUpgrades && s.cfg.allows(WebSocket) {
		ups = append(ups, WebSocket)
	}
	b, _ := json.Marshal(handshakeData{
		SID:          id,
		Upgrades:     ups,
		PingInterval: s.cfg.PingInterval.Milliseconds(),
		PingTimeout:  s.cfg.PingTimeout.Milliseconds(),
		MaxPayload:   s.cfg.MaxPayload,
	})
	return &Message{pkt: packet.Packet{Type: packet.Open, Data: b}}
}

func (s *Server) handshake(w http.ResponseWriter, r *http.Request, transport string, isWS, b64 bool) {
	now := time.Now()
	id, err := s.newID(r)
	if err != nil || id == "" {
		s.refuse(w, r, codeBadRequest, "id generation failed")
		return
	}
	c := newConn(s, id, snapshot(r, now, s.cfg.SessionContext), transport)
	h := w.Header()
	s.applyHeaders(h, r, true)
	if s.cfg.Cookie != nil {
		ck := *s.cfg.Cookie
		ck.Value = id
		h.Add("Set-Cookie", ck.String())
	}

	var wsc *ws.Conn
	if isWS {
		extra := h.Clone()
		wsc, err = s.upgrader.Upgrade(w, r, extra)
		if err != nil {
			s.upgradeFailed(err)
			return
		}
		wsc.Value = c
		c.ws, c.wsB64 = wsc, b64
		// Hold the write loop until the open packet is out.
		c.writing = true
	}

	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		if wsc != nil {
			wsc.CloseWith(1001)
			return
		}
		s.writeStatus(w, r, http.StatusServiceUnavailable, "server shutting down")
		return
	}
	s.sessions[id] = c
	onConn := s.onConn
	s.mu.Unlock()

	// Timers start at the handshake, before the client sees the response,
	// and the connection handler runs before it too.
	c.startHeartbeat()
	for _, fn := range onConn {
		if !c.safeCall(func() { fn(c) }) {
			break
		}
	}
	open := s.openPacket(id, transport)
	c.mu.Lock()
	var batch []*Message
	final := false
	if wsc != nil {
		batch = append([]*Message{open}, c.queue...)
		c.queue, c.queued = nil, 0
	} else {
		var rest []*Message
		rest, final = c.takePollBatchLocked()
		if final { // the close packet waits for the next poll
			c.queue, rest, final = rest, nil, false
		}
		batch = append([]*Message{open}, rest...)
	}
	c.mu.Unlock()
	if wsc != nil {
		frames := make([]ws.Frame, len(batch))
		for i, m := range batch {
			frames[i] = m.wsFrame(b64)
		}
		if err := wsc.WriteFrames(frames); err != nil {
			c.finish(ReasonTransportError, err, nil)
			return
		}
		wsc.Start(&s.track)
		c.releaseWriter()
		return
	}
	// Polling: the handshake response carries the open packet and whatever
	// the connection handler already queued.
	s.writePayload(w, r, batch)
}

func (s *Server) upgradeFailed(err error) {
	if errors.Is(err, ws.ErrHijack) {
		s.warnHijack.Do(func() {
			s.cfg.Logger.Warn("engine.io: WebSocket upgrade impossible: the http.ResponseWriter cannot be hijacked " +
				"(HTTP/2, or a middleware that wraps it without Unwrap); clients stay on polling")
		})
		return
	}
	s.cfg.Logger.Debug("engine.io: WebSocket upgrade failed", "err", err)
}

// serveUpgrade attaches a probing WebSocket to a polling session. As in
// Node, AllowRequest is not asked again (it was, at the handshake), and a
// WebSocket for a session that cannot take it (already upgraded, another
// probe under way, closing) is accepted and closed at once: the session
// goes on untouched.
func (s *Server) serveUpgrade(w http.ResponseWriter, r *http.Request, c *Conn) {
	if s.cfg.DisableUpgrades {
		s.refuseAny(w, r, true, codeBadRequest, "upgrades are disabled")
		return
	}
	h := w.Header()
	s.applyHeaders(h, r, false)
	wsc, err := s.upgrader.Upgrade(w, r, h.Clone())
	if err != nil {
		s.upgradeFailed(err)
		return
	}
	c.mu.Lock()
	if c.state != stateOpen || c.transport != Polling || c.probe != nil {
		c.mu.Unlock()
		s.cfg.Logger.Debug("engine.io: WebSocket for a session that cannot upgrade now; closed", "sid", c.id)
		wsc.CloseWith(1000)
		return
	}
	wsc.Value = c
	c.probe, c.probeB64 = wsc, r.URL.Query().Get("b64") != ""
	c.upgradeTimer = time.AfterFunc(s.cfg.UpgradeTimeout, func() { c.dropProbe(wsc) })
	c.mu.Unlock()
	wsc.Start(&s.track)
}

// dropProbe abandons an upgrade attempt; the session stays on polling.
func (c *Conn) dropProbe(wsc *ws.Conn) {
	c.mu.Lock()
	if c.probe != wsc {
		c.mu.Unlock()
		return
	}
	c.probe, c.probing = nil, false
	if c.upgradeTimer != nil {
		c.upgradeTimer.Stop()
	}
	c.signalPoll()
	c.mu.Unlock()
	wsc.CloseNow()
}

// onProbePacket drives the upgrade handshake on a probing WebSocket.
func (c *Conn) onProbePacket(wsc *ws.Conn, p packet.Packet) {
	switch {
	case p.Type == packet.Ping && string(p.Data) == "probe":
		c.mu.Lock()
		if c.probe != wsc || c.probing || c.state != stateOpen {
			c.mu.Unlock()
			c.dropProbe(wsc)
			return
		}
		c.probing, c.probeAt = true, hbNow()
		b64 := c.probeB64
		c.signalPoll() // the held poll is released with a noop at the next tick
		c.mu.Unlock()
		if err := wsc.WriteFrames([]ws.Frame{probeMsg.wsFrame(b64)}); err != nil {
			c.dropProbe(wsc)
		}
	case p.Type == packet.Upgrade:
		c.mu.Lock()
		if c.probe != wsc || !c.probing || c.state == stateClosed {
			c.mu.Unlock()
			c.dropProbe(wsc)
			return
		}
		c.upgradeTimer.Stop()
		c.transport = WebSocket
		c.ws, c.wsB64 = wsc, c.probeB64
		c.probe, c.probing = nil, false
		c.signalPoll()
		c.kickLocked()
		closing := c.state == stateClosing
		handlers := c.onUpgrade
		c.mu.Unlock()
		if closing {
			c.mu.Lock()
			writing := c.writing
			reason := c.reason
			c.mu.Unlock()
			if !writing {
				c.finish(reason, nil, nil)
			}
			return
		}
		for _, fn := range handlers {
			c.safeCall(func() { fn(WebSocket) })
		}
	default:
		c.dropProbe(wsc)
	}
}

// roleOf tells whether wsc is the session's probing or current WebSocket.
func (c *Conn) roleOf(wsc *ws.Conn) (probe, current bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.probe == wsc, c.ws == wsc
}

// wsHandler receives the events of every WebSocket of the server.
type wsHandler struct{ s *Server }

func (h wsHandler) OnMessage(wsc *ws.Conn, binary bool, data []byte) {
	c, _ := wsc.Value.(*Conn)
	if c == nil {
		return
	}
	var p packet.Packet
	var err error
	if binary {
		p = packet.DecodeBinary(bytes.Clone(data))
	} else {
		p, err = packet.Decode(data)
		if err == nil && !p.Binary {
			p.Data = bytes.Clone(p.Data)
		}
	}
	isProbe, isMain := c.roleOf(wsc)
	switch {
	case isProbe:
		if err != nil {
			c.dropProbe(wsc)
			return
		}
		c.onProbePacket(wsc, p)
	case isMain:
		if err != nil {
			c.finish(ReasonParseError, err, nil)
			return
		}
		c.onPacket(p, wsc.Polled())
	}
}

// OnPassEnd gives the read pass what the session's message handlers asked
// to run after it (Conn.RunAfterDelivery).
func (h wsHandler) OnPassEnd(wsc *ws.Conn) func() {
	if c, _ := wsc.Value.(*Conn); c != nil {
		return c.takeAfter()
	}
	return nil
}

func (h wsHandler) OnClose(wsc *ws.Conn, err error) {
	c, _ := wsc.Value.(*Conn)
	if c == nil {
		return
	}
	isProbe, isMain := c.roleOf(wsc)
	switch {
	case isProbe:
		c.dropProbe(wsc)
	case isMain:
		reason := ReasonTransportClose
		if ws.IsFailure(err) {
			reason = ReasonTransportError
		}
		c.finish(reason, err, nil)
	}
}

// refuse answers a plain HTTP request with an Engine.IO error.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, detail string) {
	s.refuseMsg(w, r, false, code, codeMessages[code], detail)
}

// refuseAny answers with an Engine.IO error, in the form a WebSocket
// handshake or a plain request expects.
func (s *Server) refuseAny(w http.ResponseWriter, r *http.Request, isWS bool, code int, detail string) {
	s.refuseMsg(w, r, isWS, code, codeMessages[code], detail)
}

func (s *Server) refuseMsg(w http.ResponseWriter, r *http.Request, isWS bool, code int, msg, detail string) {
	if s.cfg.OnConnectionError != nil {
		s.cfg.OnConnectionError(&RequestError{Request: r, Code: code, Message: msg, Detail: detail})
	}
	s.cfg.Logger.Debug("engine.io request refused", "code", code, "message", msg, "detail", detail, "remote", r.RemoteAddr)
	status := http.StatusBadRequest
	if code == codeForbidden {
		status = http.StatusForbidden
	}
	h := w.Header()
	if isWS {
		// Node answers a refused WebSocket handshake with the bare message.
		h.Set("Content-Type", "text/html")
		h.Set("Connection", "close")
		h.Set("Content-Length", strconv.Itoa(len(msg)))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(msg))
		return
	}
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, msg})
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeStatus answers with a status and a short plain-text body.
func (s *Server) writeStatus(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(msg)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

func (s *Server) applyHeaders(h http.Header, r *http.Request, initial bool) {
	if initial && s.cfg.InitialHeaders != nil {
		s.cfg.InitialHeaders(h, r)
	}
	if s.cfg.Headers != nil {
		s.cfg.Headers(h, r)
	}
}

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}
var flatePool = sync.Pool{New: func() any { w, _ := flate.NewWriter(nil, flate.BestSpeed); return w }}

// writePayload answers a poll with the messages joined into one payload.
func (s *Server) writePayload(w http.ResponseWriter, r *http.Request, msgs []*Message) {
	n := len(msgs)
	for _, m := range msgs {
		n += len(m.textForm())
	}
	body := make([]byte, 0, n)
	for i, m := range msgs {
		if i > 0 {
			body = append(body, packet.Separator)
		}
		body = append(body, m.textForm()...)
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	if t := s.cfg.HTTPCompression; t > 0 && len(body) >= t {
		if enc := acceptedEncoding(r.Header.Get("Accept-Encoding")); enc != "" {
			var buf bytes.Buffer
			switch enc {
			case "gzip":
				zw := gzipPool.Get().(*gzip.Writer)
				zw.Reset(&buf)
				_, _ = zw.Write(body)
				_ = zw.Close()
				gzipPool.Put(zw)
			case "deflate":
				zw := flatePool.Get().(*flate.Writer)
				zw.Reset(&buf)
				_, _ = zw.Write(body)
				_ = zw.Close()
				flatePool.Put(zw)
			}
			body = buf.Bytes()
			h.Set("Content-Encoding", enc)
			h.Add("Vary", "Accept-Encoding")
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// acceptedEncoding picks gzip or deflate from an Accept-Encoding header.
func acceptedEncoding(v string) string {
	best := ""
	for part := range strings.SplitSeq(v, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") && !strings.Contains(params, "q=0.") {
			continue
		}
		switch name {
		case "gzip":
			return "gzip"
		case "deflate":
			best = "deflate"
		}
	}
	return best
}

// validHeaderValue reports whether v has no control characters (Node's
// checkInvalidHeaderChar).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
