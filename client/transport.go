package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gosio/socketio/engineio/packet"
	"github.com/gosio/socketio/internal/gotrack"
	"github.com/lxzan/gws"
)

// transport is one Engine.IO transport of a session. write is called by the
// engine's writer goroutine only; close may be called from anywhere and
// makes blocked calls return.
type transport interface {
	name() string
	write(ctx context.Context, pkts []packet.Packet) error
	close()
}

// ---- HTTP long-polling ----

type polling struct {
	cfg    *engineConfig
	sid    string
	ctx    context.Context
	cancel context.CancelFunc
}

func (p *polling) name() string { return Polling }

func (p *polling) url() string {
	q := p.cfg.query(Polling, p.sid)
	q.Set("t", randomString())
	return p.cfg.base + "?" + q.Encode()
}

func (p *polling) do(ctx context.Context, method string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.url(), rd)
	if err != nil {
		return nil, err
	}
	for k, v := range p.cfg.header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := p.cfg.httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, int64(p.cfg.maxResponse)))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, &HTTPError{Status: res.StatusCode, Body: string(b)}
	}
	return b, nil
}

// poll performs one GET and returns its packets.
func (p *polling) poll() ([]packet.Packet, error) {
	b, err := p.do(p.ctx, http.MethodGet, nil)
	if err != nil {
		return nil, err
	}
	return packet.DecodePayload(b)
}

func (p *polling) write(ctx context.Context, pkts []packet.Packet) error {
	c, cancel := mergeCancel(ctx, p.ctx)
	defer cancel()
	_, err := p.do(c, http.MethodPost, packet.AppendPayload(nil, pkts...))
	return err
}

func (p *polling) close() { p.cancel() }

// mergeCancel returns a context done when either a or b is done.
func mergeCancel(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() { stop(); cancel() }
}

// HTTPError is the error of a polling request answered with a status other
// than 200, or of a refused WebSocket handshake.
type HTTPError struct {
	// Status is the HTTP status code.
	Status int
	// Body is the response body (the Engine.IO JSON error, for a server
	// refusal).
	Body string
}

// Error returns the status and the body.
func (e *HTTPError) Error() string {
	return fmt.Sprintf("socketio client: HTTP status %d: %s", e.Status, strings.TrimSpace(e.Body))
}

// ---- WebSocket ----

type wsMsg struct {
	binary bool
	data   []byte
}

// wsTransport wraps a gws client connection. Until the engine attaches its
// sink, received messages wait in pre (the handshake and the probe read
// them there).
type wsTransport struct {
	conn *gws.Conn
	pre  chan wsMsg
	done chan struct{}

	mu      sync.Mutex // serialises deliveries, attach and the close notification
	sink    func(wsMsg)
	onClose func(error)
	err     error
	ended   bool
}

func (t *wsTransport) name() string { return WebSocket }

func (t *wsTransport) write(_ context.Context, pkts []packet.Packet) error {
	for _, p := range pkts {
		var err error
		if p.Binary {
			err = t.conn.WriteMessage(gws.OpcodeBinary, p.Data)
		} else {
			err = t.conn.WriteMessage(gws.OpcodeText, p.AppendText(nil))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *wsTransport) writeText(s string) error { return t.conn.WriteString(s) }

func (t *wsTransport) close() {
	_ = t.conn.SetDeadline(time.Now().Add(time.Second))
	_ = t.conn.WriteClose(1000, nil)
	_ = t.conn.NetConn().Close()
}

// attach delivers the messages received so far, then every later one, to
// sink; onClose is called once when the connection ends.
func (t *wsTransport) attach(sink func(wsMsg), onClose func(error)) {
	t.mu.Lock()
	defer t.mu.Unlock()
drain:
	for {
		select {
		case m := <-t.pre:
			sink(m)
		default:
			break drain
		}
	}
	t.sink, t.onClose = sink, onClose
	if t.ended {
		onClose(t.err)
	}
}

// next returns the next message received before attach.
func (t *wsTransport) next(ctx context.Context) (wsMsg, error) {
	select {
	case m := <-t.pre:
		return m, nil
	case <-t.done:
		select {
		case m := <-t.pre:
			return m, nil
		default:
		}
		return wsMsg{}, fmt.Errorf("websocket closed: %w", t.closeErr())
	case <-ctx.Done():
		return wsMsg{}, ctx.Err()
	}
}

func (t *wsTransport) closeErr() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		return io.EOF
	}
	return t.err
}

// gws event handler.
type wsEvents struct{ t *wsTransport }

func (e wsEvents) OnOpen(*gws.Conn)             {}
func (e wsEvents) OnPing(c *gws.Conn, p []byte) { _ = c.WritePong(p) }
func (e wsEvents) OnPong(*gws.Conn, []byte)     {}
func (e wsEvents) OnMessage(_ *gws.Conn, m *gws.Message) {
	msg := wsMsg{binary: m.Opcode == gws.OpcodeBinary, data: bytes.Clone(m.Bytes())}
	m.Close()
	t := e.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sink != nil {
		t.sink(msg)
		return
	}
	select {
	case t.pre <- msg:
	default: // a peer that floods before the handshake: drop the connection
		_ = t.conn.NetConn().Close()
	}
}
func (e wsEvents) OnClose(_ *gws.Conn, err error) {
	t := e.t
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended, t.err = true, err
	close(t.done)
	if t.onClose != nil {
		t.onClose(err)
	}
}

// dialWS opens a WebSocket to the Engine.IO endpoint and starts its read
// loop on a goroutine of g.
func dialWS(ctx context.Context, cfg *engineConfig, g *gotrack.Tracker, sid string) (*wsTransport, error) {
	q := cfg.query(WebSocket, sid)
	httpURL := cfg.base + "?" + q.Encode()
	u, err := url.Parse(httpURL)
	if err != nil {
		return nil, err
	}
	wsURL := *u
	tlsOn := u.Scheme == "https"
	if tlsOn {
		wsURL.Scheme = "wss"
	} else {
		wsURL.Scheme = "ws"
	}
	nc, err := dialTCP(ctx, cfg, u)
	if err != nil {
		return nil, fmt.Errorf("websocket: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	defer stop()
	if tlsOn {
		tc := cfg.tlsConfig.Clone()
		if tc == nil {
			tc = &tls.Config{}
		}
		// WebSocket needs HTTP/1.1: a server offering HTTP/2 would choose
		// it if asked ("h2"), and the handshake would then fail.
		tc.NextProtos = []string{"http/1.1"}
		if tc.ServerName == "" {
			tc.ServerName = u.Hostname()
		}
		tconn := tls.Client(nc, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("websocket: TLS handshake: %w", err)
		}
		nc = tconn
	}
	hdr := cfg.header.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	if jar := cfg.httpClient.Jar; jar != nil {
		for _, c := range jar.Cookies(u) {
			hdr.Add("Cookie", c.String())
		}
	}
	t := &wsTransport{pre: make(chan wsMsg, 64), done: make(chan struct{})}
	timeout := 30 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	conn, res, err := gws.NewClientFromConn(wsEvents{t}, &gws.ClientOption{
		Addr:               wsURL.String(),
		RequestHeader:      hdr,
		HandshakeTimeout:   timeout,
		ReadMaxPayloadSize: cfg.maxResponse,
		CheckUtf8Enabled:   true,
		Recovery:           func(gws.Logger) {},
	}, nc)
	if res != nil && cfg.httpClient.Jar != nil {
		if cs := res.Cookies(); len(cs) > 0 {
			cfg.httpClient.Jar.SetCookies(u, cs)
		}
	}
	if err != nil {
		_ = nc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if res != nil && res.StatusCode != http.StatusSwitchingProtocols {
			var body []byte
			if res.Body != nil {
				body, _ = io.ReadAll(io.LimitReader(res.Body, 4096))
			}
			return nil, &HTTPError{Status: res.StatusCode, Body: string(body)}
		}
		return nil, fmt.Errorf("websocket handshake: %w", err)
	}
	if !stop() {
		_ = nc.Close()
		return nil, ctx.Err()
	}
	t.conn = conn
	if !g.Go(conn.ReadLoop) {
		_ = nc.Close()
		return nil, ErrClosed
	}
	return t, nil
}

// dialTCP connects to the host of u, through the proxy the configuration
// chooses (HTTP CONNECT), if any.
func dialTCP(ctx context.Context, cfg *engineConfig, u *url.URL) (net.Conn, error) {
	addr := hostPort(u)
	var d net.Dialer
	var proxyURL *url.URL
	if cfg.proxy != nil {
		p, err := cfg.proxy(&http.Request{URL: u, Header: http.Header{}})
		if err != nil {
			return nil, err
		}
		proxyURL = p
	}
	if proxyURL == nil {
		return d.DialContext(ctx, "tcp", addr)
	}
	nc, err := d.DialContext(ctx, "tcp", hostPort(proxyURL))
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	defer stop()
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: http.Header{}}
	if ui := proxyURL.User; ui != nil {
		pw, _ := ui.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(ui.Username()+":"+pw)))
	}
	if err := req.Write(nc); err != nil {
		_ = nc.Close()
		return nil, err
	}
	br := bufio.NewReader(nc)
	res, err := http.ReadResponse(br, req)
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	// A successful CONNECT response has no body: the tunnel follows.
	if res.StatusCode != http.StatusOK {
		_ = nc.Close()
		return nil, fmt.Errorf("proxy CONNECT: %s", res.Status)
	}
	if br.Buffered() > 0 {
		_ = nc.Close()
		return nil, errors.New("proxy CONNECT: unexpected data after the response")
	}
	return nc, nil
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" || u.Scheme == "wss" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// isCleanClose reports whether err ends a WebSocket in an orderly way (the
// peer closed it) rather than by a failure.
func isCleanClose(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ce *gws.CloseError
	if errors.As(err, &ce) {
		return ce.Code == 1000 || ce.Code == 1001 || ce.Code == 1005 || ce.Code == 0
	}
	return false
}
