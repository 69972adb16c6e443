package socketio_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// record keeps what the test server saw, for assertions.
type record struct {
	mu          sync.Mutex
	disconnects map[string]string // socket id -> reason
	anyIn       map[string][]string
	anyOut      map[string][]string
	errors      map[string][]string
	changed     chan struct{}
}

func (r *record) note(fn func()) {
	r.mu.Lock()
	fn()
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// reason waits until the socket has disconnected and returns the reason.
func (r *record) reason(t *testing.T, id string) string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		r.mu.Lock()
		reason, ok := r.disconnects[id]
		r.mu.Unlock()
		if ok {
			return reason
		}
		select {
		case <-r.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("socket %s did not disconnect", id)
		}
	}
}

type upload struct {
	Name   string `json:"name"`
	Data   []byte `json:"data"`
	Nested struct {
		B []byte `json:"b"`
	} `json:"nested"`
}

// newTestServer starts a Socket.IO server with the handlers the interop
// tests use.
func newTestServer(t *testing.T, cfg socketio.Config) (*socketio.Server, string, *record) {
	t.Helper()
	io, err := socketio.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &record{
		disconnects: map[string]string{},
		anyIn:       map[string][]string{},
		anyOut:      map[string][]string{},
		errors:      map[string][]string{},
		changed:     make(chan struct{}, 1),
	}
	setup := func(s *socketio.Socket) {
		s.OnDisconnect(func(reason string) {
			rec.note(func() { rec.disconnects[s.ID()] = reason })
		})
		s.OnAny(func(e *socketio.Event) {
			rec.note(func() { rec.anyIn[s.ID()] = append(rec.anyIn[s.ID()], e.Name) })
		})
		s.OnAnyOutgoing(func(name string, _ socketio.Args) {
			rec.note(func() { rec.anyOut[s.ID()] = append(rec.anyOut[s.ID()], name) })
		})
		s.OnError(func(err error) {
			rec.note(func() { rec.errors[s.ID()] = append(rec.errors[s.ID()], err.Error()) })
		})
		// Echo every argument back, binary included.
		s.On("echo", func(e *socketio.Event) {
			vals, err := e.Args().Values()
			if err != nil {
				t.Errorf("echo: %v", err)
				return
			}
			_ = s.Emit("echo", vals...)
		})
		s.On("echo-ack", func(e *socketio.Event) {
			vals, _ := e.Args().Values()
			_ = e.Ack(vals...)
		})
		socketio.On(s, "echo-bin", func(b []byte) { _ = s.Emit("echo-bin", b) })
		socketio.On(s, "mensaje", func(data string) {
			_ = s.Emit("respuesta", "Hola, recibí tu mensaje: "+data)
		})
		socketio.OnAck(s, "sum", func(n []int) (int, error) {
			if len(n) == 0 {
				return 0, errors.New("nothing to add")
			}
			total := 0
			for _, v := range n {
				total += v
			}
			return total, nil
		})
		socketio.OnAck(s, "upload", func(u upload) (upload, error) { return u, nil })
		s.On("whoami", func(e *socketio.Event) {
			hs := s.Handshake()
			_ = e.Ack(map[string]any{
				"id":    s.ID(),
				"auth":  hs.Auth,
				"room":  hs.Query.Get("room"),
				"eio":   hs.Query.Get("EIO"),
				"rooms": s.Rooms(),
				"nsp":   s.Namespace().Name(),
			})
		})
		s.On("handshake", func(e *socketio.Event) { _ = e.Ack(s.Handshake()) })
		// The handler itself waits for the client's answer.
		s.On("ask-me", func(e *socketio.Event) {
			var wait int
			_ = e.Bind(&wait)
			ctx, cancel := context.WithTimeout(s.Context(), time.Duration(wait)*time.Millisecond)
			defer cancel()
			res, err := s.EmitWithAck(ctx, "question", 42)
			if err != nil {
				_ = s.Emit("answer", "error: "+err.Error())
				return
			}
			var n int
			_ = res.Bind(&n)
			_ = s.Emit("answer", n)
		})
		socketio.OnAck(s, "join", func(room string) (string, error) {
			s.Join(room)
			return "joined " + room, nil
		})
		s.On("to-room", func(e *socketio.Event) {
			var room, msg string
			_ = e.Bind(&room, &msg)
			_ = s.Namespace().To(room).Emit("room-msg", msg)
		})
		s.On("except-room", func(e *socketio.Event) {
			var room, msg string
			_ = e.Bind(&room, &msg)
			_ = s.Namespace().Except(room).Emit("room-msg", msg)
		})
		socketio.On(s, "broadcast", func(msg string) { _ = s.Broadcast().Emit("bcast", msg) })
		socketio.On(s, "to-others-in", func(room string) { _ = s.To(room).Emit("room-msg", "from "+s.ID()) })
		s.On("poll-all", func(e *socketio.Event) {
			res, err := s.Namespace().Timeout(2*time.Second).EmitWithAck(s.Context(), "vote")
			var names []string
			for _, r := range res {
				var n string
				_ = r.Bind(&n)
				names = append(names, n)
			}
			sort.Strings(names)
			errText := ""
			if err != nil {
				errText = err.Error()
			}
			_ = e.Ack(names, errText)
		})
		socketio.On(s, "volatile", func(n int) { _ = s.Volatile().Emit("vol", n) })
		socketio.On(s, "disconnect-me", func(close bool) { s.Disconnect(close) })
		s.On("any-report", func(e *socketio.Event) {
			rec.mu.Lock()
			in := append([]string(nil), rec.anyIn[s.ID()]...)
			out := append([]string(nil), rec.anyOut[s.ID()]...)
			rec.mu.Unlock()
			_ = e.Ack(in, out)
		})
	}
	io.OnConnection(setup)
	admin := of(t, io, "/admin")
	admin.OnConnection(setup)
	admin.OnConnection(func(s *socketio.Socket) {
		s.On("ping-admin", func(*socketio.Event) { _ = s.Emit("pong-admin", "pong") })
	})
	private := of(t, io, "/private")
	private.Use(func(s *socketio.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		if err := s.BindAuth(&auth); err != nil || auth.Token != "secret" {
			return socketio.NewConnectError("Not authorized", map[string]any{"reason": "no token"})
		}
		return nil
	})
	private.OnConnection(setup)

	hs := httptest.NewServer(io)
	t.Cleanup(func() {
		hs.Close()
		_ = io.Close()
	})
	return io, hs.URL, rec
}

// of returns the namespace name of io, failing the test when it cannot be
// created.
func of(t testing.TB, io *socketio.Server, name string) *socketio.Namespace {
	t.Helper()
	n, err := io.Of(name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var transportModes = []struct {
	name       string
	transports []string
}{
	{"websocket", []string{"websocket"}},
	{"polling", []string{"polling"}},
	{"upgrade", []string{"polling", "websocket"}},
}

// forModes runs fn once per transport mode, in parallel.
func forModes(t *testing.T, fn func(t *testing.T, transports []string)) {
	for _, m := range transportModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			fn(t, m.transports)
		})
	}
}

// driver starts the socket.io-client driver against url.
func driver(t *testing.T, url string) *testutil.Proc {
	t.Helper()
	p := testutil.StartNode(t, "sio-driver.mjs", url)
	p.ExpectEv("ready", "")
	return p
}

// connect connects client c and returns its socket id.
func connect(t *testing.T, p *testutil.Proc, c string, transports []string, extra map[string]any) string {
	t.Helper()
	cmd := map[string]any{"cmd": "connect", "c": c, "transports": transports}
	for k, v := range extra {
		cmd[k] = v
	}
	p.Send(cmd)
	ev := p.ExpectEv("connect", c)
	if len(transports) == 2 {
		p.ExpectEv("upgrade", c)
	}
	return ev.Str("id")
}
