package redis_test

import (
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/testutil"
)

// switchProxy forwards HTTP and WebSocket to a backend that can be
// changed, so that a reconnecting client lands on another server.
type switchProxy struct {
	target atomic.Pointer[url.URL]
	url    string
}

func newSwitchProxy(t *testing.T, to string) *switchProxy {
	p := &switchProxy{}
	p.to(to)
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(p.target.Load())
	}}
	hs := httptest.NewServer(rp)
	t.Cleanup(hs.Close)
	p.url = hs.URL
	return p
}

func (p *switchProxy) to(raw string) {
	u, _ := url.Parse(raw)
	p.target.Store(u)
}

// Connection state recovery through the stream: a client of one server
// drops, an event is broadcast meanwhile, and the client comes back on
// another server (Go or Node) with its session and the missed event.
func TestStreamsRecoveryAcrossServers(t *testing.T) {
	t.Parallel()
	type server struct {
		url  string
		emit func(event string, args ...any)
	}
	for _, tc := range []struct{ name, first, second string }{
		{"GoToGo", "go", "go"}, {"NodeToGo", "node", "go"}, {"GoToNode", "go", "node"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := randomKey(t)
			client := newClient(t, redisAddr)
			start := func(kind, name string) server {
				if kind == "go" {
					n := newGoNode(t, client, key, name, "streams+csr")
					return server{n.url, func(ev string, args ...any) { _ = n.io.Emit(ev, args...) }}
				}
				n := startNodeServer(t, redisAddr, key, name, "streams+csr")
				return server{n.url, func(ev string, args ...any) {
					n.do(map[string]any{"cmd": "emit", "event": ev, "args": args})
				}}
			}
			first, second := start(tc.first, "first"), start(tc.second, "second")
			proxy := newSwitchProxy(t, first.url)
			p := testutil.StartNode(t, "sio-driver.mjs", proxy.url)
			p.ExpectEv("ready", "")
			p.Send(map[string]any{"cmd": "connect", "c": "r", "transports": []string{"websocket"},
				"reconnection": true, "reconnectionDelay": 1500, "randomizationFactor": 0})
			id := p.ExpectEv("connect", "r").Str("id")
			c := &clients{t, p}
			first.emit("beforeDrop", 1)
			if got := c.event("r", "beforeDrop"); len(got) < 10 {
				t.Fatalf("no offset in %s", got)
			}

			p.Send(map[string]any{"cmd": "cut", "c": "r"})
			p.ExpectEv("disconnect", "r")
			proxy.to(second.url)
			time.Sleep(500 * time.Millisecond) // the first server stores the session
			second.emit("missedWhileAway", 2)
			ev := p.Expect(10*time.Second, "reconnect", func(e testutil.Event) bool { return e.Name() == "connect" && e.Str("c") == "r" })
			if ev.Str("id") != id || ev["recovered"] != true {
				t.Fatalf("reconnected %v, want id %s recovered", ev, id)
			}
			got := c.event("r", "missedWhileAway")
			t.Logf("recovered on the %s server with %s", tc.second, got)
			if len(got) < 10 || got[:3] != "[2," {
				t.Fatalf("missed event %s", got)
			}
		})
	}
}
