package client_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/client"
	"github.com/lxzan/gws"
)

// rawServer is a scripted Engine.IO WebSocket server: it sends the
// handshake, then answers each client message with replies(msg).
type rawServer struct {
	gws.BuiltinEventHandler
	replies func(msg string) []string
}

func (h *rawServer) OnOpen(c *gws.Conn) {
	_ = c.WriteString(`0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
}

func (h *rawServer) OnMessage(c *gws.Conn, m *gws.Message) {
	msg := string(m.Bytes())
	m.Close()
	for _, r := range h.replies(msg) {
		_ = c.WriteString(r)
	}
}

func startRaw(t *testing.T, replies func(string) []string) string {
	t.Helper()
	up := gws.NewUpgrader(&rawServer{replies: replies}, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		go c.ReadLoop()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestProtocolEdges: events sent before the CONNECT reply are delivered
// after it and before the connect handlers (as in JavaScript); a packet
// that breaks the protocol closes the connection with "parse error" and
// the Manager reconnects; a CONNECT reply without sid (a v2 server) is a
// connect error.
func TestProtocolEdges(t *testing.T) {
	t.Run("buffered events and parse error", func(t *testing.T) {
		ctx := ctxT(t)
		url := startRaw(t, func(msg string) []string {
			if msg == "40" {
				return []string{`42["early",1]`, `40{"sid":"abc"}`, `42["after",2]`, `4zzz`}
			}
			return nil
		})
		rec := newRecorder()
		m, err := client.NewManager(url, &client.Options{Transports: []string{client.WebSocket}, ReconnectionDelay: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		m.OnReconnectAttempt(func(n int) { rec.add("attempt %d", n) })
		s := m.Socket("/", nil)
		s.OnAny(func(e *client.Event) { rec.add("event %s", e.Name) })
		s.OnConnect(func() { rec.add("connect") })
		s.OnDisconnect(func(r string) { rec.add("disconnect %s", r) })
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		rec.waitFor(t, "attempt 1")
		items := rec.list()
		want := []string{"event early", "connect", "event after", "disconnect parse error"}
		if len(items) < len(want) || !slices.Equal(items[:len(want)], want) {
			t.Fatalf("got %q, want %q first", items, want)
		}
	})
	t.Run("v2 server", func(t *testing.T) {
		ctx := ctxT(t)
		url := startRaw(t, func(msg string) []string {
			if msg == "40" {
				return []string{`40`}
			}
			return nil
		})
		s, err := client.Dial(ctx, url, &client.Options{Transports: []string{client.WebSocket}})
		var ce *client.ConnectError
		if err == nil || !errors.As(err, &ce) || !strings.Contains(ce.Message, "v2.x") {
			if s != nil {
				s.Close()
			}
			t.Fatalf("Dial = %v", err)
		}
	})
}
