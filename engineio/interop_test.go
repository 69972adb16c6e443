package engineio

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/testutil"
)

// echoServer is an Engine.IO server that echoes every message, closes the
// session when it receives "close-me", and records close reasons.
type echoServer struct {
	*Server
	http *httptest.Server

	mu      sync.Mutex
	reasons []string
	msgs    []string
	closed  chan string
}

func newEchoServer(t *testing.T, cfg Config) *echoServer {
	t.Helper()
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{Server: srv, closed: make(chan string, 16)}
	srv.OnConnection(func(c *Conn) {
		c.OnMessage(func(data []byte, binary bool) {
			e.mu.Lock()
			e.msgs = append(e.msgs, string(data))
			e.mu.Unlock()
			if !binary && string(data) == "close-me" {
				_ = c.Close()
				return
			}
			if binary {
				_ = c.SendBinary(data)
			} else {
				_ = c.Send(data)
			}
		})
		c.OnClose(func(reason string, _ error) {
			e.mu.Lock()
			e.reasons = append(e.reasons, reason)
			e.mu.Unlock()
			e.closed <- reason
		})
	})
	e.http = httptest.NewServer(srv)
	t.Cleanup(func() {
		e.http.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return e
}

func (e *echoServer) waitClose(t *testing.T) string {
	t.Helper()
	select {
	case r := <-e.closed:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("the server saw no close")
		return ""
	}
}

var modes = []string{"websocket", "polling", "upgrade"}

func runEIO(t *testing.T, e *echoServer, mode, scenario string) []testutil.Event {
	t.Helper()
	evs := testutil.RunNode(t, 20*time.Second, "eio-client.mjs", e.http.URL, mode, scenario)
	if len(testutil.Filter(evs, "open")) != 1 {
		t.Fatalf("no open event: %v", evs)
	}
	if mode == "upgrade" {
		ups := testutil.Filter(evs, "upgrade")
		if len(ups) != 1 || ups[0].Str("transport") != "websocket" {
			t.Fatalf("the session did not upgrade: %v", evs)
		}
	}
	return evs
}

func TestInteropEcho(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newEchoServer(t, Config{})
			evs := runEIO(t, e, mode, "echo")
			var got []string
			for _, m := range testutil.Filter(evs, "message") {
				if m["binary"] == true {
					got = append(got, fmt.Sprint(m["data"]))
				} else {
					got = append(got, m.Str("data"))
				}
			}
			want := []string{"hello", "héllo — ß 日本", "[1 2 3 4]", "b1", "b2", "b3", "[0 255]"}
			if !slices.Equal(got, want) {
				t.Fatalf("echoes = %q, want %q", got, want)
			}
			if r := e.waitClose(t); r != ReasonTransportClose {
				t.Fatalf("server close reason = %q, want %q", r, ReasonTransportClose)
			}
			cl := testutil.Filter(evs, "close")
			if len(cl) != 1 || cl[0].Str("reason") != "forced close" {
				t.Fatalf("client close = %v, want forced close", cl)
			}
		})
	}
}

func TestInteropHeartbeat(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newEchoServer(t, Config{PingInterval: 100 * time.Millisecond, PingTimeout: 200 * time.Millisecond})
			evs := runEIO(t, e, mode, "heartbeat")
			if n := len(testutil.Filter(evs, "ping")); n < 5 {
				t.Fatalf("client saw %d pings, want at least 5", n)
			}
			st := testutil.Filter(evs, "still-open")
			if len(st) != 1 || st[0].Str("readyState") != "open" {
				t.Fatalf("session did not survive the heartbeats: %v", evs)
			}
			if r := e.waitClose(t); r != ReasonTransportClose {
				t.Fatalf("server close reason = %q", r)
			}
		})
	}
}

func TestInteropMaxPayload(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newEchoServer(t, Config{MaxPayload: 1000})
			evs := runEIO(t, e, mode, "maxpayload")
			cl := testutil.Filter(evs, "close")
			if len(cl) != 1 {
				t.Fatalf("client was not closed: %v", evs)
			}
			if len(testutil.Filter(evs, "message")) != 0 {
				t.Fatalf("an oversized message was echoed: %v", evs)
			}
			if mode == "polling" {
				// 413 on the POST: the client reports a transport error.
				if r := cl[0].Str("reason"); r != "transport error" {
					t.Fatalf("client close reason = %q, want transport error", r)
				}
			} else if r := e.waitClose(t); r != ReasonTransportError {
				t.Fatalf("server close reason = %q, want %q", r, ReasonTransportError)
			}
		})
	}
}

func TestInteropServerClose(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newEchoServer(t, Config{})
			evs := runEIO(t, e, mode, "server-close")
			cl := testutil.Filter(evs, "close")
			if len(cl) != 1 || cl[0].Str("reason") != "transport close" {
				t.Fatalf("client close = %v, want transport close", cl)
			}
			if r := e.waitClose(t); r != ReasonForcedClose {
				t.Fatalf("server close reason = %q, want %q", r, ReasonForcedClose)
			}
		})
	}
}

func TestInteropClientClose(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newEchoServer(t, Config{})
			evs := runEIO(t, e, mode, "client-close")
			if r := e.waitClose(t); r != ReasonTransportClose {
				t.Fatalf("server close reason = %q, want %q", r, ReasonTransportClose)
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			if !slices.Contains(e.msgs, "bye") {
				t.Fatalf("server did not get the last message before the close: %q (%v)", e.msgs, evs)
			}
		})
	}
}
