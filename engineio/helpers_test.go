package engineio

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lxzan/gws"
)

// rawResp is what a raw HTTP exchange returned.
type rawResp struct {
	status int
	body   string
	header http.Header
}

func do(t *testing.T, method, u, body string, hdr http.Header) rawResp {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if method == http.MethodPost && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return rawResp{res.StatusCode, string(b), res.Header}
}

// pollURL returns the engine.io URL of base with the given query.
func pollURL(base, query string) string { return base + "/engine.io/?" + query }

// openPolling performs a polling handshake and returns the sid.
func openPolling(t *testing.T, base string) string {
	t.Helper()
	r := do(t, "GET", pollURL(base, "EIO=4&transport=polling"), "", nil)
	if r.status != 200 || !strings.HasPrefix(r.body, "0{") {
		t.Fatalf("handshake: %d %q", r.status, r.body)
	}
	var hs struct{ SID string }
	if err := json.Unmarshal([]byte(strings.SplitN(r.body[1:], "\x1e", 2)[0]), &hs); err != nil {
		t.Fatal(err)
	}
	return hs.SID
}

func sidQuery(sid string) string { return "EIO=4&transport=polling&sid=" + url.QueryEscape(sid) }

// wsClient is a raw WebSocket peer for protocol tests.
type wsClient struct {
	conn   *gws.Conn
	msgs   chan wsMsg
	closed chan error
}

type wsMsg struct {
	binary bool
	data   string
}

type wsEvents struct{ c *wsClient }

func (e wsEvents) OnOpen(*gws.Conn)               {}
func (e wsEvents) OnClose(_ *gws.Conn, err error) { e.c.closed <- err }
func (e wsEvents) OnPing(c *gws.Conn, p []byte)   { _ = c.WritePong(p) }
func (e wsEvents) OnPong(*gws.Conn, []byte)       {}
func (e wsEvents) OnMessage(_ *gws.Conn, m *gws.Message) {
	e.c.msgs <- wsMsg{m.Opcode == gws.OpcodeBinary, string(m.Bytes())}
	m.Close()
}

// dialWS opens a raw WebSocket to base with the query; it returns the HTTP
// response when the handshake is refused.
func dialWS(t *testing.T, base, query string, hdr http.Header) (*wsClient, *http.Response, error) {
	t.Helper()
	c := &wsClient{msgs: make(chan wsMsg, 64), closed: make(chan error, 1)}
	addr := "ws" + strings.TrimPrefix(base, "http") + "/engine.io/?" + query
	conn, res, err := gws.NewClient(wsEvents{c}, &gws.ClientOption{Addr: addr, RequestHeader: hdr, ReadMaxPayloadSize: 4 << 20})
	if err != nil {
		return nil, res, err
	}
	c.conn = conn
	go conn.ReadLoop()
	t.Cleanup(func() { _ = conn.NetConn().Close() })
	return c, res, nil
}

func (c *wsClient) send(t *testing.T, s string) {
	t.Helper()
	if err := c.conn.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func (c *wsClient) next(t *testing.T) wsMsg {
	t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case err := <-c.closed:
		// Messages that arrived before the close come first.
		select {
		case m := <-c.msgs:
			c.closed <- err
			return m
		default:
		}
		t.Fatalf("websocket closed while waiting for a message: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no websocket message within 5s")
	}
	return wsMsg{}
}

// expect reads messages, skipping pings, until one arrives; it must equal want.
func (c *wsClient) expect(t *testing.T, want string) {
	t.Helper()
	for {
		m := c.next(t)
		if m.data == "2" && want != "2" {
			continue
		}
		if m.data != want {
			t.Fatalf("websocket got %q, want %q", m.data, want)
		}
		return
	}
}

func (c *wsClient) waitClosed(t *testing.T) error {
	t.Helper()
	for {
		select {
		case <-c.msgs:
		case err := <-c.closed:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("websocket not closed within 5s")
			return nil
		}
	}
}

// recorder keeps the close reasons of a server's sessions.
type recorder struct {
	mu      sync.Mutex
	reasons map[string]string
	conns   map[string]*Conn
	done    map[string]chan struct{}
}

func newRecorder() *recorder {
	return &recorder{reasons: map[string]string{}, conns: map[string]*Conn{}, done: map[string]chan struct{}{}}
}

// attach makes srv echo messages and record closes.
func (rec *recorder) attach(srv *Server) {
	srv.OnConnection(func(c *Conn) {
		rec.mu.Lock()
		rec.conns[c.ID()] = c
		ch := make(chan struct{})
		rec.done[c.ID()] = ch
		rec.mu.Unlock()
		c.OnMessage(func(data []byte, binary bool) {
			if binary {
				_ = c.SendBinary(data)
			} else {
				_ = c.Send(data)
			}
		})
		c.OnClose(func(reason string, _ error) {
			rec.mu.Lock()
			rec.reasons[c.ID()] = reason
			rec.mu.Unlock()
			close(ch)
		})
	})
}

// reason waits for the session to close and returns its reason.
func (rec *recorder) reason(t *testing.T, sid string) string {
	t.Helper()
	rec.mu.Lock()
	ch := rec.done[sid]
	rec.mu.Unlock()
	if ch == nil {
		t.Fatalf("unknown session %q", sid)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("session %s did not close", sid)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.reasons[sid]
}

func (rec *recorder) open(sid string) bool {
	rec.mu.Lock()
	ch := rec.done[sid]
	rec.mu.Unlock()
	select {
	case <-ch:
		return false
	default:
		return true
	}
}
