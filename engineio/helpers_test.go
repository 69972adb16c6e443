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

	"github.com/gosio/socketio/internal/testutil"
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

// wsClient is a raw WebSocket peer that leaves pings to the test.
type wsClient = testutil.RawWS

// dialWS opens a raw WebSocket to base with the query; it returns the HTTP
// response when the handshake is refused.
func dialWS(t *testing.T, base, query string, hdr http.Header) (*wsClient, *http.Response, error) {
	t.Helper()
	return dialWSOpt(t, base, query, &gws.ClientOption{RequestHeader: hdr})
}

func dialWSOpt(t *testing.T, base, query string, opt *gws.ClientOption) (*wsClient, *http.Response, error) {
	t.Helper()
	c, res, err := testutil.DialWSWith(t, base, "/engine.io/?"+query, opt)
	if c != nil {
		c.AutoPong = false
	}
	return c, res, err
}

// expect reads frames, skipping pings unless a ping is wanted, until one
// arrives; it must equal want.
func expect(t *testing.T, c *wsClient, want string) {
	t.Helper()
	for {
		m := c.Next()
		if m.Data == "2" && want != "2" {
			continue
		}
		if m.Data != want {
			t.Fatalf("websocket got %q, want %q", m.Data, want)
		}
		return
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
