package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/internal/testutil"
)

// peer is a Socket.IO server running interop/cli-server.mjs's application:
// the official Node one, or ours (goPeer).
type peer interface {
	URL() string
	// Expect waits for a report of the server ("connection", "event",
	// "answered") that match accepts.
	Expect(t *testing.T, ev string, match func(testutil.Event) bool) testutil.Event
}

type peerKind struct {
	name  string
	start func(t *testing.T) peer
}

var peerKinds = []peerKind{
	{"node", startNodePeer},
	{"go", startGoPeer},
}

// mode is a choice of transports, as --transports takes it.
type mode struct {
	name, transports string
}

var modes = []mode{
	{"websocket", "websocket"},
	{"polling", "polling"},
	{"upgrade", "polling,websocket"},
}

// ---- Node ----

type nodePeer struct {
	url  string
	proc *testutil.Proc
}

func startNodePeer(t *testing.T) peer {
	p := testutil.StartNode(t, "cli-server.mjs")
	ev := p.ExpectEv("listening", "")
	port, ok := ev["port"].(float64)
	if !ok {
		t.Fatalf("cli-server.mjs: no port in %v", ev)
	}
	return &nodePeer{url: fmt.Sprintf("http://127.0.0.1:%d", int(port)), proc: p}
}

func (n *nodePeer) URL() string { return n.url }

func (n *nodePeer) Expect(t *testing.T, ev string, match func(testutil.Event) bool) testutil.Event {
	t.Helper()
	return n.proc.Expect(15*time.Second, ev, func(e testutil.Event) bool {
		return e.Name() == ev && (match == nil || match(e))
	})
}

// ---- Go ----

// goPeer is cli-server.mjs's application on our server.
type goPeer struct {
	once sync.Once
	srv  *httptest.Server
	io   *socketio.Server
	mu   sync.Mutex
	evs  []testutil.Event
	more chan struct{}
}

func startGoPeer(t *testing.T) peer {
	t.Helper()
	g := &goPeer{more: make(chan struct{})}
	sio, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	g.io = sio
	of := func(name string) *socketio.Namespace {
		n, err := sio.Of(name)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	g.setup(of("/"))
	g.setup(of("/admin"))
	priv := of("/private")
	priv.Use(func(s *socketio.Socket) error {
		if tok, _ := s.Handshake().Auth["token"].(string); tok == "secret" {
			return nil
		}
		return socketio.NewConnectError("not authorized", map[string]string{"reason": "no token"})
	})
	g.setup(priv)
	g.srv = httptest.NewUnstartedServer(g.handler())
	g.srv.Start()
	t.Cleanup(g.close)
	return g
}

func (g *goPeer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", g.io)
	return mux
}

// close stops the server (Node's io.close()), then its listener.
func (g *goPeer) close() {
	g.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.io.Shutdown(ctx)
		g.srv.Close()
	})
}

func (g *goPeer) URL() string { return g.srv.URL }

func (g *goPeer) report(e testutil.Event) {
	g.mu.Lock()
	g.evs = append(g.evs, e)
	close(g.more)
	g.more = make(chan struct{})
	g.mu.Unlock()
}

func (g *goPeer) Expect(t *testing.T, ev string, match func(testutil.Event) bool) testutil.Event {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		g.mu.Lock()
		for i, e := range g.evs {
			if e.Name() == ev && (match == nil || match(e)) {
				g.evs = append(g.evs[:i], g.evs[i+1:]...)
				g.mu.Unlock()
				return e
			}
		}
		more := g.more
		g.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			g.mu.Lock()
			defer g.mu.Unlock()
			t.Fatalf("the Go server reported no %s within 15s; it reported %v", ev, g.evs)
		}
	}
}

// wireArgs returns generic arguments (binary as {"$bin":...}, as wire.mjs
// writes them).
func wireArgs(a socketio.Args) []any {
	vs, err := a.Values()
	if err != nil {
		return []any{"bad args: " + err.Error()}
	}
	var conv func(v any) any
	conv = func(v any) any {
		switch x := v.(type) {
		case []byte:
			return map[string]any{"$bin": base64.StdEncoding.EncodeToString(x)}
		case []any:
			for i := range x {
				x[i] = conv(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = conv(x[k])
			}
		}
		return v
	}
	for i := range vs {
		vs[i] = conv(vs[i])
	}
	return vs
}

func (g *goPeer) setup(nsp *socketio.Namespace) {
	nsp.OnConnection(func(s *socketio.Socket) {
		hs := s.Handshake()
		query := map[string]any{}
		for k, v := range hs.Query {
			switch k {
			case "EIO", "transport", "t", "sid", "j", "b64":
				continue
			}
			query[k] = strings.Join(v, ",")
		}
		var header any
		if h := hs.Headers.Get("X-Cli-Test"); h != "" {
			header = h
		}
		info := map[string]any{"nsp": nsp.Name(), "id": s.ID(), "auth": hs.Auth, "query": query, "header": header}
		g.report(testutil.Event{"ev": "connection", "nsp": nsp.Name(), "id": s.ID(), "auth": hs.Auth, "query": query, "header": header})
		s.OnAny(func(e *socketio.Event) {
			g.report(testutil.Event{"ev": "event", "nsp": nsp.Name(), "name": e.Name, "args": wireArgs(e.Args())})
		})
		s.On("echo", func(e *socketio.Event) {
			vs, _ := echoArgs(e.Args())
			_ = s.Emit("echo-back", vs...)
		})
		s.On("ack", func(e *socketio.Event) {
			vs, _ := echoArgs(e.Args())
			_ = e.Ack(vs...)
		})
		s.On("sum", func(e *socketio.Event) {
			var a, b float64
			_ = e.Bind(&a, &b)
			_ = e.Ack(a + b)
		})
		s.On("whoami", func(e *socketio.Event) {
			_ = e.Ack(map[string]any{"id": s.ID(), "nsp": nsp.Name(), "transport": s.Conn().Transport()})
		})
		s.On("slow", func(*socketio.Event) {})
		s.On("server-disconnect", func(*socketio.Event) { s.Disconnect(false) })
		_ = s.Emit("welcome", info)
		_ = s.Emit("news", "hello", 42)
		_ = s.Emit("bin", []byte{0, 1, 2, 255}, map[string]string{"name": "blob"})
		if hs.Query.Get("ask") == "1" {
			go func() {
				ctx, cancel := context.WithTimeout(s.Context(), 5*time.Second)
				defer cancel()
				a, err := s.EmitWithAck(ctx, "question", 7)
				if err != nil {
					g.report(testutil.Event{"ev": "answered", "nsp": nsp.Name(), "error": err.Error()})
					return
				}
				g.report(testutil.Event{"ev": "answered", "nsp": nsp.Name(), "args": wireArgs(a)})
			}()
		}
	})
}

// startTLSPeer is the Go application behind TLS with a self-signed
// certificate.
func startTLSPeer(t *testing.T) *goPeer {
	t.Helper()
	g := &goPeer{more: make(chan struct{})}
	sio, err := socketio.NewServer(socketio.Config{Engine: engineio.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	g.io = sio
	g.setup(sio.MainNamespace())
	g.srv = httptest.NewUnstartedServer(g.handler())
	// The refused handshakes of the test are expected.
	g.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	g.srv.StartTLS()
	t.Cleanup(g.close)
	return g
}
