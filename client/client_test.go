package client_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/socketio/client"
)

// recv returns the next event kept for Receive, failing the test when none
// comes.
func recv(t *testing.T, s *client.Socket, name string) *client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		ev, err := s.Receive(ctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v", name, err)
		}
		if ev.Name == name {
			return ev
		}
	}
}

// forMatrix runs fn for every server kind and transport mode, in parallel.
func forMatrix(t *testing.T, o srvOpts, fn func(t *testing.T, srv server, md mode)) {
	for _, k := range serverKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			srv := k.start(t, o)
			for _, md := range modes {
				t.Run(md.name, func(t *testing.T) { fn(t, srv, md) })
			}
		})
	}
}

func TestConnectEventsAcksBinary(t *testing.T) {
	forMatrix(t, srvOpts{}, func(t *testing.T, srv server, md mode) {
		ctx := ctxT(t)
		m, err := client.NewManager(srv.URL(), &client.Options{Transports: md.transports})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		s := m.Socket("/", &client.SocketOptions{Auth: map[string]any{"token": "abc"}})
		// A handler that waits for an ack must not block the acks.
		fromHandler := make(chan string, 1)
		s.On("welcome", func(e *client.Event) {
			a, err := s.EmitWithAck(ctx, "ack", "from-handler")
			var v string
			_ = a.Bind(&v)
			fromHandler <- v + errString(err)
		})
		// Server -> client with ack (answered by a typed handler).
		client.OnAck(s, "question", func(n int) []int { return []int{n, n * 2} })
		var info struct {
			ID   string         `json:"id"`
			Auth map[string]any `json:"auth"`
		}
		welcome := make(chan struct{})
		s.Once("welcome", func(e *client.Event) { _ = e.Bind(&info); close(welcome) })
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		if !s.Connected() || !s.Active() || s.ID() == "" {
			t.Fatalf("connected=%v active=%v id=%q", s.Connected(), s.Active(), s.ID())
		}
		select {
		case <-welcome:
		case <-ctx.Done():
			t.Fatal("no welcome")
		}
		if info.ID != s.ID() || info.Auth["token"] != "abc" {
			t.Fatalf("welcome %+v, socket id %s", info, s.ID())
		}
		if got := <-fromHandler; got != "from-handler" {
			t.Fatalf("EmitWithAck from a handler: %q", got)
		}

		// Events both ways, with text that must survive both transports.
		if err := s.Emit("echo", "héllo — ß 日本", 42, map[string]any{"b": 1, "a": []any{true, nil}}); err != nil {
			t.Fatal(err)
		}
		ev := recv(t, s, "echo-back")
		var (
			txt string
			n   int
			obj map[string]any
		)
		if err := ev.Bind(&txt, &n, &obj); err != nil || txt != "héllo — ß 日本" || n != 42 || obj["b"] != float64(1) {
			t.Fatalf("echo-back %s %d %v (%v)", txt, n, obj, err)
		}

		// Binary at depth, both ways.
		type blob struct {
			Name string `json:"name"`
			Data []byte `json:"data"`
		}
		if err := s.Emit("echo", []byte{1, 2, 3}, blob{"x", []byte{4, 5}}); err != nil {
			t.Fatal(err)
		}
		ev = recv(t, s, "echo-back")
		var (
			b1 []byte
			b2 blob
		)
		if err := ev.Bind(&b1, &b2); err != nil || !bytes.Equal(b1, []byte{1, 2, 3}) || !bytes.Equal(b2.Data, []byte{4, 5}) {
			t.Fatalf("binary echo %v %+v (%v)", b1, b2, err)
		}

		// Client -> server ack, with binary.
		a, err := s.EmitWithAck(ctx, "ack", "x", []byte{7, 8})
		if err != nil {
			t.Fatal(err)
		}
		var (
			s1 string
			b3 []byte
		)
		if err := a.Bind(&s1, &b3); err != nil || s1 != "x" || !bytes.Equal(b3, []byte{7, 8}) {
			t.Fatalf("ack %q %v (%v)", s1, b3, err)
		}

		// Server -> client ack.
		if err := s.Emit("ask", "question", 21); err != nil {
			t.Fatal(err)
		}
		ev = recv(t, s, "answer")
		var ans struct {
			Args  [][]int `json:"args"`
			Error string  `json:"error"`
		}
		if err := ev.Bind(&ans); err != nil || len(ans.Args) != 1 || !slices.Equal(ans.Args[0], []int{21, 42}) {
			t.Fatalf("answer %+v (%v)", ans, err)
		}

		// The transport ends up as expected (upgrade included).
		deadline := time.Now().Add(wait)
		for s.Manager().Transport() != md.final && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if got := s.Manager().Transport(); got != md.final {
			t.Fatalf("transport %q, want %q", got, md.final)
		}
		a, err = s.EmitWithAck(ctx, "whoami")
		var who struct{ Transport string }
		if err != nil || a.Bind(&who) != nil || who.Transport != md.final {
			t.Fatalf("server sees transport %q (%v)", who.Transport, err)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return " error: " + err.Error()
}

func TestMultiplexAndRefusal(t *testing.T) {
	forMatrix(t, srvOpts{}, func(t *testing.T, srv server, md mode) {
		ctx := ctxT(t)
		m, err := client.NewManager(srv.URL(), &client.Options{Transports: md.transports})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		opens := atomic.Int32{}
		m.OnOpen(func() { opens.Add(1) })
		main, admin := m.Socket("/", nil), m.Socket("admin", nil)
		if m.Socket("/admin", nil) != admin {
			t.Fatal("Socket does not return the existing socket")
		}
		if err := main.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		if err := admin.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		var w1, w2 struct{ NSP, Engine, ID string }
		a, err := main.EmitWithAck(ctx, "whoami")
		if err != nil || a.Bind(&w1) != nil {
			t.Fatal(err)
		}
		a, err = admin.EmitWithAck(ctx, "whoami")
		if err != nil || a.Bind(&w2) != nil {
			t.Fatal(err)
		}
		if w1.NSP != "/" || w2.NSP != "/admin" || w1.Engine != w2.Engine || w1.ID == w2.ID || w2.ID != admin.ID() {
			t.Fatalf("whoami / = %+v, /admin = %+v", w1, w2)
		}
		if n := opens.Load(); n != 1 {
			t.Fatalf("%d Engine.IO connections opened, want 1", n)
		}

		// A middleware refusal: connect_error with the server's data, the
		// socket is inactive and does not retry; the others are unaffected.
		priv := m.Socket("/private", &client.SocketOptions{Auth: map[string]string{"token": "wrong"}})
		cerrs := make(chan error, 4)
		priv.OnConnectError(func(err error) { cerrs <- err })
		before := srv.Refused()
		err = priv.Connect(ctx)
		var ce *client.ConnectError
		if !errors.As(err, &ce) || ce.Message != "not authorized" || string(ce.Data) != `{"reason":"no token"}` {
			t.Fatalf("Connect = %v (%#v)", err, ce)
		}
		if priv.Active() || priv.Connected() {
			t.Fatal("refused socket still active")
		}
		if e := <-cerrs; e != err {
			t.Fatalf("connect_error handler got %v", e)
		}
		time.Sleep(700 * time.Millisecond)
		if n := srv.Refused() - before; n != 1 {
			t.Fatalf("the middleware saw %d attempts, want 1 (no automatic retry)", n)
		}
		if _, err := admin.EmitWithAck(ctx, "ack", 1); err != nil {
			t.Fatalf("other namespace after a refusal: %v", err)
		}

		// Server-side disconnect of one namespace: "io server disconnect",
		// no reconnection; Receive reports the end.
		reasons := make(chan string, 2)
		admin.OnDisconnect(func(r string) { reasons <- r })
		_ = admin.Emit("server-disconnect")
		if r := <-reasons; r != client.ReasonIOServerDisconnect {
			t.Fatalf("reason %q", r)
		}
		if admin.Active() {
			t.Fatal("socket active after a server disconnect")
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		for {
			_, err := admin.Receive(rctx)
			if errors.Is(err, client.ErrInactive) {
				break
			}
			if err != nil {
				t.Fatalf("Receive after a server disconnect: %v", err)
			}
		}
		if !main.Connected() {
			t.Fatal("main namespace lost")
		}
	})
}

// TestReconnectAfterRestart kills the server and starts it again on the
// same port: the client retries with the JavaScript backoff, reconnects,
// and flushes what was emitted meanwhile.
func TestReconnectAfterRestart(t *testing.T) {
	forMatrix(t, srvOpts{}, func(t *testing.T, srv server, md mode) {
		ctx := ctxT(t)
		rec := newRecorder()
		var attempt2 atomic.Int64
		s, err := client.Dial(ctx, srv.URL(), &client.Options{
			Transports:        md.transports,
			ReconnectionDelay: 200 * time.Millisecond,
			Rand:              func() float64 { return 0 }, // no jitter: 200, 400, 800 ms...
			Timeout:           3 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		m := s.Manager()
		m.OnClose(func(reason string, _ error) { rec.add("close") })
		m.OnReconnectAttempt(func(n int) {
			if n == 2 {
				attempt2.Store(time.Now().UnixNano())
			}
			rec.add("attempt %d", n)
		})
		m.OnReconnectError(func(error) { rec.add("reconnect_error") })
		m.OnReconnect(func(n int) { rec.add("reconnect") })
		s.OnDisconnect(func(r string) { rec.add("disconnect") })
		s.OnConnect(func() { rec.add("connect") })
		if md.final == "websocket" {
			deadline := time.Now().Add(wait)
			for m.Transport() != "websocket" && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
		}
		oldID := s.ID()

		killed := time.Now()
		srv.Kill()
		rec.waitFor(t, "disconnect")
		rec.waitFor(t, "attempt 2")
		// Emitted while offline: kept in the send buffer.
		if err := s.Emit("echo", "while-away"); err != nil {
			t.Fatal(err)
		}
		srv.Restart()
		rec.waitFor(t, "reconnect")
		rec.waitFor(t, "connect")
		ev := recv(t, s, "echo-back")
		var txt string
		_ = ev.Bind(&txt)
		if txt != "while-away" {
			t.Fatalf("buffered emit: %q", txt)
		}
		if s.ID() == oldID || !s.Connected() {
			t.Fatalf("id %q (old %q), connected %v", s.ID(), oldID, s.Connected())
		}
		// The delays doubled: 200 ms, then 400 ms (no jitter), so the
		// second attempt comes at least 600 ms after the kill (handlers
		// may only run later than that).
		if d := time.Unix(0, attempt2.Load()).Sub(killed); d < 580*time.Millisecond {
			t.Errorf("second attempt %v after the kill, want >= 600ms", d)
		}
	})
}

// TestSilentNetwork: a proxy that stops forwarding; the ping timeout
// notices, and the client reconnects (through a new connection), calling
// the auth function again.
func TestSilentNetwork(t *testing.T) {
	forMatrix(t, srvOpts{ping: 300 * time.Millisecond}, func(t *testing.T, srv server, md mode) {
		ctx := ctxT(t)
		px := newProxy(t, strings.TrimPrefix(srv.URL(), "http://"))
		var calls atomic.Int32
		rec := newRecorder()
		s, err := client.Dial(ctx, px.URL(), &client.Options{
			Transports:        md.transports,
			ReconnectionDelay: 100 * time.Millisecond,
			Timeout:           3 * time.Second,
			Socket: client.SocketOptions{AuthFunc: func(context.Context) (any, error) {
				return map[string]any{"n": calls.Add(1)}, nil
			}},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.OnDisconnect(func(r string) { rec.add("disconnect %s", r) })
		s.OnConnect(func() { rec.add("connect") })
		client.On(s, "welcome", func(w struct{ Auth map[string]any }) { rec.add("welcome %v", w.Auth["n"]) })
		if md.final == "websocket" {
			deadline := time.Now().Add(wait)
			for s.Manager().Transport() != "websocket" && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
		}
		px.freeze()
		rec.waitFor(t, "disconnect ping timeout")
		rec.waitFor(t, "welcome 2")
		if !s.Connected() {
			t.Fatal("not connected after the reconnection")
		}
	})
}

// TestRecovery: with connection state recovery on the server (Node's
// connectionStateRecovery, our Config.ConnectionStateRecovery), a transport
// cut is repaired: same id, Recovered, and the events emitted meanwhile
// arrive before the connect event.
func TestRecovery(t *testing.T) {
	forMatrix(t, srvOpts{recovery: true}, func(t *testing.T, srv server, md mode) {
		{
			ctx := ctxT(t)
			rec := newRecorder()
			// The reconnection comes 600 ms after the cut, well after the
			// server's "missed" events (100 ms).
			s, err := client.Dial(ctx, srv.URL(), &client.Options{
				Transports: md.transports, ReconnectionDelay: 600 * time.Millisecond, Rand: func() float64 { return 0 },
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			recv(t, s, "welcome") // gives the client an offset
			if s.Recovered() {
				t.Fatal("recovered on the first connection")
			}
			id := s.ID()
			s.OnDisconnect(func(r string) { rec.add("disconnect %s", r) })
			s.OnConnect(func() { rec.add("connect") })
			client.On(s, "missed", func(n int) { rec.add("missed %d", n) })
			if err := s.Emit("kick-transport"); err != nil {
				t.Fatal(err)
			}
			rec.waitFor(t, "disconnect transport close")
			items := rec.waitFor(t, "connect")
			rec.waitFor(t, "missed 2")
			if !s.Recovered() || s.ID() != id {
				t.Fatalf("recovered=%v id %s (was %s); events %q", s.Recovered(), s.ID(), id, items)
			}
			// Missed events come before the connect event, as in JavaScript.
			items = rec.list()
			if i, j := slices.Index(items, "missed 1"), slices.Index(items, "connect"); i < 0 || i > j {
				t.Fatalf("order %q", items)
			}
		}
	})
}
