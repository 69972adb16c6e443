package engineio

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lxzan/gws"
)

func startServer(t *testing.T, cfg Config) (*Server, *recorder, *httptest.Server) {
	t.Helper()
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	rec.attach(srv)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close()
	})
	return srv, rec, hs
}

func TestHandshake(t *testing.T) {
	_, _, hs := startServer(t, Config{})
	r := do(t, "GET", pollURL(hs.URL, "EIO=4&transport=polling&t=abc"), "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "text/plain; charset=UTF-8" {
		t.Fatalf("%d %v", r.status, r.header)
	}
	sid := sidOf(t, r.body)
	if len(sid) != 20 || strings.ContainsAny(sid, "+/=") {
		t.Fatalf("sid %q is not 20 URL-safe characters", sid)
	}
	want := `0{"sid":"` + sid + `","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	if r.body != want {
		t.Fatalf("handshake\n got %s\nwant %s", r.body, want)
	}

	c, res, err := dialWS(t, hs.URL, "EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 101 {
		t.Fatalf("status %d", res.StatusCode)
	}
	open := c.Next()
	sid = sidOf(t, open.Data)
	want = `0{"sid":"` + sid + `","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	if open.Data != want || open.Binary {
		t.Fatalf("websocket handshake\n got %s\nwant %s", open.Data, want)
	}

	// The path works without its trailing slash too.
	r = do(t, "GET", hs.URL+"/engine.io?EIO=4&transport=polling", "", nil)
	if r.status != 200 || !strings.HasPrefix(r.body, "0{") {
		t.Fatalf("path without slash: %d %q", r.status, r.body)
	}
}

func TestZeroConfigDefaults(t *testing.T) {
	srv, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Config()
	if c.Path != "/engine.io/" || c.PingInterval != 25*time.Second || c.PingTimeout != 20*time.Second ||
		c.UpgradeTimeout != 10*time.Second || c.MaxPayload != 1_000_000 || len(c.Transports) != 2 ||
		c.DisableUpgrades || c.HTTPCompression != 1024 || c.PerMessageDeflate {
		t.Fatalf("defaults: %+v", c)
	}
	bad := []Config{
		{CORS: &CORS{Origins: []string{"*"}, Credentials: true}},
		{Transports: []string{"flash"}},
		{Path: "engine.io"},
	}
	for _, cfg := range bad {
		if _, err := NewServer(cfg); err == nil {
			t.Errorf("NewServer(%+v) accepted a contradictory config", cfg)
		}
	}
}

// POSTed messages are handled, and their replies queued, before "ok".
func TestPostRepliesBeforeOK(t *testing.T) {
	_, _, hs := startServer(t, Config{})
	sid := openPolling(t, hs.URL)
	for _, body := range []string{"4test1\x1e4test2\x1e4test3", "4hello\x1ebAQIDBA==", "4日本語 — ß"} {
		if r := do(t, "POST", pollURL(hs.URL, sidQuery(sid)), body, nil); r.status != 200 || r.body != "ok" ||
			r.header.Get("Content-Type") != "text/html" {
			t.Fatalf("POST: %d %q %v", r.status, r.body, r.header)
		}
		if r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil); r.body != body {
			t.Fatalf("GET = %q, want %q", r.body, body)
		}
	}
}

// With pingInterval 300 ms and pingTimeout 200 ms, a client that never
// answers gets its ping at about 300 ms and is gone by 500 ms; a client that
// answers keeps getting pings every 300 ms.
func TestHeartbeatTiming(t *testing.T) {
	_, rec, hs := startServer(t, Config{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond})

	t.Run("silent client", func(t *testing.T) {
		start := time.Now()
		sid := openPolling(t, hs.URL)
		r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil)
		// Lower bounds are exact (never early); upper bounds only catch a
		// timer that never fires, with room for a loaded machine.
		if el := time.Since(start); r.body != "2" || el < 290*time.Millisecond || el > 3*time.Second {
			t.Fatalf("first poll %q after %v, want \"2\" after ~300ms", r.body, el)
		}
		if got := rec.reason(t, sid); got != ReasonPingTimeout {
			t.Fatalf("reason %q", got)
		}
		if el := time.Since(start); el < 490*time.Millisecond || el > 4*time.Second {
			t.Fatalf("ping timeout after %v, want about 500ms", el)
		}
		if r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil); r.status != 400 {
			t.Fatalf("GET after ping timeout: %d %q", r.status, r.body)
		}
	})

	t.Run("answering client", func(t *testing.T) {
		start := time.Now()
		sid := openPolling(t, hs.URL)
		var at []time.Duration
		for len(at) < 3 {
			r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil)
			if r.body != "2" {
				t.Fatalf("poll = %q", r.body)
			}
			at = append(at, time.Since(start))
			do(t, "POST", pollURL(hs.URL, sidQuery(sid)), "3", nil)
		}
		if at[0] < 290*time.Millisecond || at[2] < 880*time.Millisecond || at[2] > 6*time.Second {
			t.Fatalf("pings at %v, want about 300/600/900ms", at)
		}
		if !rec.open(sid) {
			t.Fatal("session closed")
		}
	})

	t.Run("websocket", func(t *testing.T) {
		c, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket", nil)
		if err != nil {
			t.Fatal(err)
		}
		sid := sidOf(t, c.Next().Data)
		for range 3 {
			expect(t, c, "2")
			c.Send("3")
		}
		if !rec.open(sid) {
			t.Fatal("session closed")
		}
		if got := rec.reason(t, sid); got != ReasonPingTimeout { // now stop answering
			t.Fatalf("reason %q", got)
		}
		c.WaitClosed()
	})
}

func TestUpgradeSequence(t *testing.T) {
	srv, rec, hs := startServer(t, Config{})
	var upgraded atomic.Value
	srv.OnConnection(func(c *Conn) {
		rec.mu.Lock()
		ch := make(chan struct{})
		rec.done[c.ID()] = ch
		rec.mu.Unlock()
		c.OnUpgrade(func(tr string) { upgraded.Store(tr) })
		c.OnMessage(func(data []byte, binary bool) {
			if binary {
				_ = c.SendBinary(data)
			} else {
				_ = c.Send(data)
			}
		})
		c.OnClose(func(string, error) { close(ch) })
	})
	sid := openPolling(t, hs.URL)
	held := make(chan rawResp, 1)
	go func() { held <- do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil) }()
	waitFor(t, func() bool { return sessionGetActive(srv, sid) })

	c, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Send("2probe")
	expect(t, c, "3probe")
	if r := <-held; r.body != "6" {
		t.Fatalf("held poll got %q, want noop", r.body)
	}
	// A poll that arrives during the upgrade is released with a noop.
	if r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil); r.body != "6" {
		t.Fatalf("poll during upgrade got %d %q", r.status, r.body)
	}
	// Messages written during the upgrade wait for the new transport.
	if err := srv.Conn(sid).Send([]byte("queued")); err != nil {
		t.Fatal(err)
	}
	c.Send("5")
	expect(t, c, "4queued")
	if tr := srv.Conn(sid).Transport(); tr != WebSocket {
		t.Fatalf("transport %q", tr)
	}
	waitFor(t, func() bool { return upgraded.Load() == WebSocket })
	_ = c.Conn.WriteMessage(gws.OpcodeBinary, []byte{1, 2, 3})
	if m := c.Next(); !m.Binary || m.Data != "\x01\x02\x03" {
		t.Fatalf("binary echo %+v", m)
	}
}

// An upgrade that does not finish within UpgradeTimeout is dropped and the
// session carries on over polling.
func TestUpgradeTimeout(t *testing.T) {
	srv, rec, hs := startServer(t, Config{UpgradeTimeout: 150 * time.Millisecond})
	sid := openPolling(t, hs.URL)
	c, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Send("2probe")
	expect(t, c, "3probe")
	c.WaitClosed()
	if !rec.open(sid) || srv.Conn(sid).Transport() != Polling {
		t.Fatal("session lost with its upgrade")
	}
	do(t, "POST", pollURL(hs.URL, sidQuery(sid)), "4still", nil)
	if r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil); r.body != "4still" {
		t.Fatalf("poll %q", r.body)
	}
}

func TestB64WebSocket(t *testing.T) {
	_, _, hs := startServer(t, Config{})
	c, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket&b64=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Next()
	c.Send("bAQID")
	if m := c.Next(); m.Binary || m.Data != "bAQID" {
		t.Fatalf("b64 echo %+v, want text bAQID", m)
	}
}

func TestHTTPCompression(t *testing.T) {
	srv, _, hs := startServer(t, Config{})
	sid := openPolling(t, hs.URL)
	big := strings.Repeat("compress me ", 200)
	_ = srv.Conn(sid).Send([]byte(big))
	r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", http.Header{"Accept-Encoding": {"gzip, deflate"}})
	if r.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("not compressed: %v", r.header)
	}
	zr, err := gzip.NewReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if string(plain) != "4"+big || len(r.body) >= len(plain) {
		t.Fatalf("bad gzip body (%d bytes for %d)", len(r.body), len(plain))
	}
	// Small payloads and clients that do not ask stay plain.
	_ = srv.Conn(sid).Send([]byte("small"))
	if r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", http.Header{"Accept-Encoding": {"gzip"}}); r.header.Get("Content-Encoding") != "" || r.body != "4small" {
		t.Fatalf("small payload: %v %q", r.header, r.body)
	}
	_ = srv.Conn(sid).Send([]byte(big))
	if r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", http.Header{"Accept-Encoding": {"identity"}}); r.header.Get("Content-Encoding") != "" {
		t.Fatalf("identity client got %v", r.header)
	}
}

func TestCORS(t *testing.T) {
	const origin = "http://localhost:5173"
	_, _, hs := startServer(t, Config{CORS: &CORS{Origins: []string{origin}, Credentials: true}})
	r := do(t, "OPTIONS", pollURL(hs.URL, "EIO=4&transport=polling"), "", http.Header{
		"Origin":                         {origin},
		"Access-Control-Request-Method":  {"POST"},
		"Access-Control-Request-Headers": {"content-type,x-custom"},
	})
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != origin ||
		r.header.Get("Access-Control-Allow-Credentials") != "true" ||
		r.header.Get("Access-Control-Allow-Methods") != "GET,HEAD,PUT,PATCH,POST,DELETE" ||
		r.header.Get("Access-Control-Allow-Headers") != "content-type,x-custom" {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
	r = do(t, "GET", pollURL(hs.URL, "EIO=4&transport=polling"), "", http.Header{"Origin": {origin}})
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("handshake: %d %v", r.status, r.header)
	}
	// Errors carry the CORS headers too, so browsers can read them.
	r = do(t, "GET", pollURL(hs.URL, "EIO=4&transport=nope"), "", http.Header{"Origin": {origin}})
	if r.status != 400 || r.header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("error response: %d %v", r.status, r.header)
	}
	if r := do(t, "GET", pollURL(hs.URL, "EIO=4&transport=polling"), "", http.Header{"Origin": {"http://other:1"}}); r.status != 403 {
		t.Fatalf("other origin: %d", r.status)
	}
	// One policy: the WebSocket Origin check follows the same list.
	if _, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket", http.Header{"Origin": {origin}}); err != nil {
		t.Fatalf("allowed origin over websocket: %v", err)
	}
	if _, res, err := dialWS(t, hs.URL, "EIO=4&transport=websocket", http.Header{"Origin": {"http://other:1"}}); err == nil || res == nil || res.StatusCode != 403 {
		t.Fatalf("refused origin over websocket: %v %v", err, res)
	}

	_, _, star := startServer(t, Config{CORS: &CORS{Origins: []string{"*"}}})
	r = do(t, "GET", pollURL(star.URL, "EIO=4&transport=polling"), "", http.Header{"Origin": {"http://anything:9"}})
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("wildcard: %d %v", r.status, r.header)
	}
	// The default policy is same-origin: the server's own origin passes.
	_, _, def := startServer(t, Config{})
	if r := do(t, "GET", pollURL(def.URL, "EIO=4&transport=polling"), "", http.Header{"Origin": {def.URL}}); r.status != 200 {
		t.Fatalf("same origin refused: %d %q", r.status, r.body)
	}
}

func TestCookieAndHeaderHooks(t *testing.T) {
	var errs []int
	var mu sync.Mutex
	_, _, hs := startServer(t, Config{
		Cookie:         &http.Cookie{},
		InitialHeaders: func(h http.Header, _ *http.Request) { h.Set("X-Initial", "yes") },
		Headers:        func(h http.Header, _ *http.Request) { h.Set("X-Every", "yes") },
		OnConnectionError: func(e *RequestError) {
			mu.Lock()
			errs = append(errs, e.Code)
			mu.Unlock()
		},
	})
	r := do(t, "GET", pollURL(hs.URL, "EIO=4&transport=polling"), "", nil)
	sid := sidOf(t, r.body)
	if got := r.header.Get("Set-Cookie"); got != "io="+sid+"; Path=/; HttpOnly; SameSite=Lax" {
		t.Fatalf("cookie %q", got)
	}
	if r.header.Get("X-Initial") != "yes" || r.header.Get("X-Every") != "yes" {
		t.Fatalf("hooks: %v", r.header)
	}
	r = do(t, "POST", pollURL(hs.URL, sidQuery(sid)), "4x", nil)
	if r.header.Get("X-Initial") != "" || r.header.Get("X-Every") != "yes" || r.header.Get("Set-Cookie") != "" {
		t.Fatalf("later response headers: %v", r.header)
	}
	_, res, err := dialWS(t, hs.URL, "EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Header.Get("Set-Cookie"), "io=") || res.Header.Get("X-Initial") != "yes" || res.Header.Get("X-Every") != "yes" {
		t.Fatalf("101 headers: %v", res.Header)
	}
	do(t, "GET", pollURL(hs.URL, "EIO=4&transport=nope"), "", nil)
	do(t, "GET", pollURL(hs.URL, "EIO=4&transport=polling&sid=zz"), "", nil)
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 2 || errs[0] != 0 || errs[1] != 1 {
		t.Fatalf("OnConnectionError codes %v, want [0 1]", errs)
	}
}

func TestConnRequestSnapshot(t *testing.T) {
	srv, _, hs := startServer(t, Config{})
	r := do(t, "GET", pollURL(hs.URL, "EIO=4&transport=polling&token=a%26b%3Dc"), "", http.Header{"X-Hello": {"world"}})
	c := srv.Conn(sidOf(t, r.body))
	req := c.Request()
	if req.Query().Get("token") != "a&b=c" || req.Header().Get("X-Hello") != "world" || req.RemoteAddr == "" ||
		req.TLS != nil || time.Since(req.Time) > time.Minute || c.Transport() != Polling {
		t.Fatalf("snapshot %+v", req)
	}
}

// hidingWriter wraps a ResponseWriter and exposes it only through Unwrap,
// as logging middlewares do.
type hidingWriter struct{ w http.ResponseWriter }

func (h *hidingWriter) Header() http.Header         { return h.w.Header() }
func (h *hidingWriter) Write(b []byte) (int, error) { return h.w.Write(b) }
func (h *hidingWriter) WriteHeader(code int)        { h.w.WriteHeader(code) }
func (h *hidingWriter) Unwrap() http.ResponseWriter { return h.w }

// opaqueWriter hides the ResponseWriter completely.
type opaqueWriter struct{ w http.ResponseWriter }

func (h *opaqueWriter) Header() http.Header         { return h.w.Header() }
func (h *opaqueWriter) Write(b []byte) (int, error) { return h.w.Write(b) }
func (h *opaqueWriter) WriteHeader(code int)        { h.w.WriteHeader(code) }

func TestHijackThroughMiddleware(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	srv, err := NewServer(Config{Logger: slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	rec.attach(srv)
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Opaque") != "" {
			srv.ServeHTTP(&opaqueWriter{w}, r)
			return
		}
		srv.ServeHTTP(&hidingWriter{w}, r)
	}))
	hs := httptest.NewServer(mux)
	defer func() { hs.Close(); _ = srv.Close() }()

	c, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatalf("upgrade through an Unwrap middleware: %v", err)
	}
	c.Next()
	c.Send("4through")
	expect(t, c, "4through")

	for range 2 {
		if _, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket", http.Header{"X-Opaque": {"1"}}); err == nil {
			t.Fatal("upgrade through an opaque writer succeeded")
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	if n := strings.Count(logs.String(), "cannot be hijacked"); n != 1 {
		t.Fatalf("hijack warning logged %d times, want once:\n%s", n, logs.String())
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// A long poll outlives an http.Server WriteTimeout shorter than the
// heartbeat.
func TestLongPollBeyondWriteTimeout(t *testing.T) {
	srv, err := NewServer(Config{PingInterval: 600 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.Config.WriteTimeout = 200 * time.Millisecond
	hs.Start()
	defer func() { hs.Close(); _ = srv.Close() }()
	sid := openPolling(t, hs.URL)
	if r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil); r.status != 200 || r.body != "2" {
		t.Fatalf("long poll: %d %q", r.status, r.body)
	}
}

func TestShutdown(t *testing.T) {
	srv, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	rec.attach(srv)
	hs := httptest.NewServer(srv)
	defer hs.Close()

	pollSid := openPolling(t, hs.URL)
	held := make(chan rawResp, 1)
	go func() { held <- do(t, "GET", pollURL(hs.URL, sidQuery(pollSid)), "", nil) }()
	waitFor(t, func() bool { return sessionGetActive(srv, pollSid) })
	c, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	wsSid := sidOf(t, c.Next().Data)
	_ = srv.Conn(wsSid).Send([]byte("last words"))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-held; r.body != "1" {
		t.Fatalf("held poll got %q, want close packet", r.body)
	}
	if m := c.Next(); m.Data != "4last words" {
		t.Fatalf("queued message lost: %q", m.Data)
	}
	c.WaitClosed()
	for _, sid := range []string{pollSid, wsSid} {
		if got := rec.reason(t, sid); got != ReasonServerShutdown {
			t.Fatalf("reason %q", got)
		}
	}
	if srv.Count() != 0 {
		t.Fatalf("%d sessions left", srv.Count())
	}
	if r := do(t, "GET", pollURL(hs.URL, "EIO=4&transport=polling"), "", nil); r.status != 503 {
		t.Fatalf("handshake after shutdown: %d %q", r.status, r.body)
	}
	if err := srv.Shutdown(ctx); err != ErrServerClosed {
		t.Fatalf("second Shutdown: %v", err)
	}
}

// A client that does not take its messages is closed once its queue passes
// MaxBufferedBytes; other sessions carry on.
func TestBufferLimit(t *testing.T) {
	srv, rec, hs := startServer(t, Config{MaxBufferedBytes: 10_000})
	slow := openPolling(t, hs.URL)
	ok := openPolling(t, hs.URL)
	msg := []byte(strings.Repeat("z", 999))
	var err error
	n := 0
	for ; n < 100 && err == nil; n++ {
		err = srv.Conn(slow).Send(msg)
	}
	if err != ErrBufferFull || n != 11 {
		t.Fatalf("after %d writes err = %v, want ErrBufferFull on the 11th", n, err)
	}
	if got := rec.reason(t, slow); got != ReasonTransportError {
		t.Fatalf("reason %q", got)
	}
	if err := srv.Conn(ok).Send([]byte("fine")); err != nil {
		t.Fatal(err)
	}
	if r := do(t, "GET", pollURL(hs.URL, sidQuery(ok)), "", nil); r.body != "4fine" {
		t.Fatalf("other session: %q", r.body)
	}
}

// A broadcast encodes once: every recipient gets the very same frame bytes.
func TestBroadcastEncodesOnce(t *testing.T) {
	srv, _, hs := startServer(t, Config{})
	var clients []*wsClient
	var conns []*Conn
	for range 5 {
		c, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket", nil)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		conns = append(conns, srv.Conn(sidOf(t, c.Next().Data)))
	}
	pollSid := openPolling(t, hs.URL)
	conns = append(conns, srv.Conn(pollSid))

	m := NewBinaryMessage([]byte{9, 8, 7})
	if n := Broadcast(m, conns); n != 6 {
		t.Fatalf("delivered to %d", n)
	}
	for _, c := range clients {
		if got := c.Next(); !got.Binary || got.Data != "\x09\x08\x07" {
			t.Fatalf("got %+v", got)
		}
	}
	if r := do(t, "GET", pollURL(hs.URL, sidQuery(pollSid)), "", nil); r.body != "bCQgH" {
		t.Fatalf("poll %q", r.body)
	}
	f1, f2 := m.wsFrame(false), m.wsFrame(false)
	t1, t2 := m.textForm(), m.textForm()
	if &f1.Wire[0] != &f2.Wire[0] || &t1[0] != &t2[0] {
		t.Fatal("message re-encoded")
	}
	allocs := testing.AllocsPerRun(100, func() { _ = m.wsFrame(false); _ = m.textForm() })
	if allocs != 0 {
		t.Fatalf("encoded forms allocate %v per use", allocs)
	}
}

func TestPerMessageDeflate(t *testing.T) {
	_, _, hs := startServer(t, Config{PerMessageDeflate: true})
	c, res, err := dialWSOpt(t, hs.URL, "EIO=4&transport=websocket", &gws.ClientOption{PermessageDeflate: gws.PermessageDeflate{Enabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatalf("deflate not negotiated: %v", res.Header)
	}
	c.Next()
	long := "4" + strings.Repeat("deflate ", 200)
	c.Send(long)
	expect(t, c, long)
}

func TestClose(t *testing.T) {
	srv, rec, hs := startServer(t, Config{})
	sid := openPolling(t, hs.URL)
	c, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	wsSid := sidOf(t, c.Next().Data)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	c.WaitClosed()
	for _, s := range []string{sid, wsSid} {
		if got := rec.reason(t, s); got != ReasonServerShutdown {
			t.Fatalf("reason %q", got)
		}
	}
	if err := srv.Conn(sid); err != nil {
		t.Fatal("session still registered")
	}
}

// A graceful close over polling sends what is queued first, and the close
// packet alone in the next response (as Node does).
func TestGracefulClosePolling(t *testing.T) {
	srv, rec, hs := startServer(t, Config{})
	sid := openPolling(t, hs.URL)
	c := srv.Conn(sid)
	_ = c.Send([]byte("last"))
	_ = c.Close()
	if err := c.Send([]byte("too late")); err != ErrClosed {
		t.Fatalf("Send after Close: %v", err)
	}
	if r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil); r.body != "4last" {
		t.Fatalf("first poll %q", r.body)
	}
	if r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil); r.body != "1" {
		t.Fatalf("second poll %q", r.body)
	}
	if got := rec.reason(t, sid); got != ReasonForcedClose {
		t.Fatalf("reason %q", got)
	}
}

func TestGenerateID(t *testing.T) {
	n := 0
	_, _, hs := startServer(t, Config{GenerateID: func(*http.Request) (string, error) {
		n++
		if n == 2 {
			return "", errors.New("no ids left")
		}
		return "custom-" + strconv.Itoa(n), nil
	}})
	if sid := openPolling(t, hs.URL); sid != "custom-1" {
		t.Fatalf("sid %q", sid)
	}
	if r := do(t, "GET", pollURL(hs.URL, "EIO=4&transport=polling"), "", nil); r.status != 400 || r.body != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("failing generator: %d %q", r.status, r.body)
	}
}
