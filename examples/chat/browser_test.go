package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/testutil"
)

// TestBrowser runs interop/chat.mjs: two headless Chromium pages chat in a
// room (ticks, typing, presence), then Ben loses his network (the browser
// goes offline and the proxy in front of the server cuts his connections)
// while Ana writes to him; he comes back with his session recovered and the
// missed messages, and his own message written offline is delivered. It
// runs with socket.io-client's default transports (polling, then the
// upgrade), WebSocket only and polling only, each against a server of its
// own.
//
// GOSIO_SCREENSHOTS=1 also writes the screenshots of the default run into
// the repository's docs/ (chat-*.png).
func TestBrowser(t *testing.T) {
	if _, err := os.Stat("frontend/dist/index.html"); err != nil {
		t.Fatalf("the frontend is not built: run `npm ci && npm run build` in examples/chat/frontend (make frontend does it): %v", err)
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatalf("the browser test needs Debian's Chromium (apt-get install -y chromium): %v", err)
	}
	for _, mode := range []string{"default", "websocket", "polling"} {
		t.Run(mode, func(t *testing.T) {
			srv, _, err := newServer()
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(newHandler(srv, "frontend/dist"))
			px := newCutProxy(t, hs.Listener.Addr().String())
			ctl := httptest.NewServer(px)
			defer func() {
				ctl.Close()
				px.Close()
				hs.Close()
				if err := srv.Close(); err != nil {
					t.Error(err)
				}
			}()

			var env []string
			if mode == "default" && os.Getenv("GOSIO_SCREENSHOTS") != "" {
				docs, err := filepath.Abs("../../docs")
				if err != nil {
					t.Fatal(err)
				}
				env = append(env, "SCREENSHOTS="+docs)
			}
			evs := testutil.RunNodeEnv(t, 150*time.Second, env, "chat.mjs", hs.URL+"/", "http://"+px.Addr()+"/", ctl.URL, mode)

			var steps []string
			for _, e := range testutil.Filter(evs, "step") {
				steps = append(steps, e.Str("name"))
			}
			want := []string{"enter", "join", "typing", "message", "transport", "typing stops", "offline", "send while away", "back"}
			if !slices.Equal(steps, want) {
				t.Fatalf("steps %v, want %v: %v", steps, want, evs)
			}
			res := testutil.Filter(evs, "result")
			if len(res) != 1 {
				t.Fatalf("no result: %v", evs)
			}
			r := res[0]
			if got := r.Str("banner"); got != "Back online · session recovered, 2 missed messages" {
				t.Errorf("banner %q", got)
			}
			reqs, _ := r["requests"].(map[string]any)
			polls, _ := reqs["polling"].(float64)
			sockets, _ := reqs["websocket"].(float64)
			switch mode {
			case "default":
				if polls == 0 || sockets == 0 {
					t.Errorf("default transports: %v polling requests, %v WebSockets; want both", polls, sockets)
				}
			case "websocket":
				if polls != 0 || sockets == 0 {
					t.Errorf("websocket only: %v polling requests, %v WebSockets", polls, sockets)
				}
			case "polling":
				if polls == 0 || sockets != 0 {
					t.Errorf("polling only: %v polling requests, %v WebSockets", polls, sockets)
				}
			}
			if px.cuts() == 0 {
				t.Error("the proxy cut no connection")
			}
			t.Logf("%s: %v, Ben's messages %v", mode, r["transports"], r["messages"])
		})
	}
}

// cutProxy forwards TCP connections to a server until it is blocked: then
// it closes the connections it carries and those that arrive, as a network
// gone away would (the server sees them close). POST /block and
// POST /unblock on its ServeHTTP switch it.
type cutProxy struct {
	t      *testing.T
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu      sync.Mutex
	blocked bool
	conns   map[net.Conn]struct{}
	cut     int // connections closed by a block
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{t: t, ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.serve()
	return p
}

// Addr returns the proxy's address.
func (p *cutProxy) Addr() string { return p.ln.Addr().String() }

func (p *cutProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.blocked {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.pipe(c)
	}
}

func (p *cutProxy) pipe(c net.Conn) {
	defer p.wg.Done()
	defer p.forget(c)
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, c)
		_ = up.Close()
		close(done)
	}()
	_, _ = io.Copy(c, up)
	_ = c.Close()
	<-done
}

func (p *cutProxy) forget(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

// block closes every connection and refuses new ones until unblock.
func (p *cutProxy) block() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocked = true
	for c := range p.conns {
		_ = c.Close()
		p.cut++
	}
}

func (p *cutProxy) unblock() {
	p.mu.Lock()
	p.blocked = false
	p.mu.Unlock()
}

func (p *cutProxy) cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

func (p *cutProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST /block or /unblock", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/block":
		p.block()
		p.t.Log("proxy: blocked")
	case "/unblock":
		p.unblock()
		p.t.Log("proxy: unblocked")
	default:
		http.NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Close stops the proxy and waits for its goroutines.
func (p *cutProxy) Close() {
	_ = p.ln.Close()
	p.block()
	p.wg.Wait()
}
