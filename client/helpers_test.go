package client_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/internal/testutil"
)

// server is a Socket.IO server the client tests talk to: the official
// Node one (interop/sio-server.mjs) or ours. Both implement the same
// application (see sio-server.mjs).
type server interface {
	URL() string
	// Kill stops the server abruptly; Restart starts it again on the same
	// port.
	Kill()
	Restart()
	// Refused returns how many CONNECTs the /private middleware refused.
	Refused() int
}

type serverKind struct {
	name  string
	start func(t *testing.T, o srvOpts) server
}

type srvOpts struct {
	recovery bool
	ping     time.Duration // ping interval; the timeout is 2/3 of it
}

var serverKinds = []serverKind{
	{"node", startNode},
	{"go", startGo},
}

type mode struct {
	name       string
	transports []string
	final      string // transport once connected and upgraded
}

var modes = []mode{
	{"websocket", []string{"websocket"}, "websocket"},
	{"polling", []string{"polling"}, "polling"},
	{"upgrade", nil, "websocket"},
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ---- Node ----

type nodeServer struct {
	t    *testing.T
	port int
	args []string

	mu      sync.Mutex
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	done    chan struct{}
	events  []testutil.Event
	changed chan struct{}
}

func startNode(t *testing.T, o srvOpts) server {
	t.Helper()
	port := freePort(t)
	n := &nodeServer{t: t, port: port, changed: make(chan struct{}, 1)}
	n.args = []string{"sio-server.mjs", strconv.Itoa(port)}
	if o.recovery {
		n.args = append(n.args, "--recovery")
	}
	if o.ping > 0 {
		n.args = append(n.args, fmt.Sprintf("--ping-interval=%d", o.ping.Milliseconds()),
			fmt.Sprintf("--ping-timeout=%d", (o.ping*2/3).Milliseconds()))
	}
	n.Restart()
	t.Cleanup(n.Kill)
	return n
}

func (n *nodeServer) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.port) }

func (n *nodeServer) Restart() {
	t := n.t
	t.Helper()
	cmd := exec.Command("node", n.args...)
	cmd.Dir = testutil.InteropDir(t)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	done := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.stdin, n.done = cmd, stdin, done
	n.mu.Unlock()
	listening := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		once := sync.Once{}
		for sc.Scan() {
			var e testutil.Event
			if json.Unmarshal(sc.Bytes(), &e) != nil {
				continue
			}
			if e.Name() == "listening" {
				once.Do(func() { close(listening) })
			}
			n.mu.Lock()
			n.events = append(n.events, e)
			n.mu.Unlock()
			select {
			case n.changed <- struct{}{}:
			default:
			}
		}
	}()
	select {
	case <-listening:
	case <-done:
		t.Fatal("the node server exited before listening")
	case <-time.After(15 * time.Second):
		t.Fatal("the node server did not start within 15s")
	}
}

func (n *nodeServer) Kill() {
	n.mu.Lock()
	cmd, stdin, done := n.cmd, n.stdin, n.done
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = stdin.Close()
	<-done
	_ = cmd.Wait()
}

func (n *nodeServer) Refused() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(testutil.Filter(n.events, "refused"))
}

// ---- Go ----

type goServer struct {
	t       *testing.T
	port    int
	o       srvOpts
	refused atomic.Int32

	mu   sync.Mutex
	sio  *socketio.Server
	http *http.Server
	done chan struct{}
}

func startGo(t *testing.T, o srvOpts) server {
	t.Helper()
	return startGoAt(t, freePort(t), o)
}

func startGoAt(t *testing.T, port int, o srvOpts) *goServer {
	t.Helper()
	g := &goServer{t: t, port: port, o: o}
	g.Restart()
	t.Cleanup(g.Kill)
	return g
}

func (g *goServer) URL() string { return fmt.Sprintf("http://127.0.0.1:%d", g.port) }

func (g *goServer) Restart() {
	t := g.t
	t.Helper()
	cfg := socketio.Config{Engine: engineio.Config{MaxPayload: 10_000_000}}
	if g.o.recovery {
		cfg.ConnectionStateRecovery = &socketio.RecoveryConfig{}
	}
	if g.o.ping > 0 {
		cfg.Engine.PingInterval = g.o.ping
		cfg.Engine.PingTimeout = g.o.ping * 2 / 3
	}
	sio, err := socketio.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"/", "/admin", "/private"} {
		nsp, err := sio.Of(name)
		if err != nil {
			t.Fatal(err)
		}
		if name == "/private" {
			nsp.Use(func(s *socketio.Socket) error {
				if tok, _ := s.Handshake().Auth["token"].(string); tok == "secret" {
					return nil
				}
				g.refused.Add(1)
				return socketio.NewConnectError("not authorized", map[string]any{"reason": "no token"})
			})
		}
		nsp.OnConnection(func(s *socketio.Socket) { goApp(nsp, s) })
	}
	var ln net.Listener
	for i := 0; ; i++ {
		ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", g.port))
		if err == nil || i == 50 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", sio)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hs.Serve(ln)
	}()
	g.mu.Lock()
	g.sio, g.http, g.done = sio, hs, done
	g.mu.Unlock()
}

func (g *goServer) Kill() {
	g.mu.Lock()
	sio, hs, done := g.sio, g.http, g.done
	g.sio = nil
	g.mu.Unlock()
	if sio == nil {
		return
	}
	_ = hs.Close()
	_ = sio.Close()
	<-done
}

func (g *goServer) Refused() int { return int(g.refused.Load()) }

// goApp is sio-server.mjs's application on our server.
var goFlaky sync.Map // key -> *atomic.Int32

func goApp(nsp *socketio.Namespace, s *socketio.Socket) {
	info := map[string]any{"nsp": nsp.Name(), "id": s.ID(), "engine": s.Conn().ID(), "recovered": s.Recovered(), "auth": s.Handshake().Auth}
	_ = s.Emit("welcome", info)
	s.On("echo", func(e *socketio.Event) {
		vals, _ := e.Args().Values()
		_ = s.Emit("echo-back", vals...)
	})
	s.On("ack", func(e *socketio.Event) {
		vals, _ := e.Args().Values()
		_ = e.Ack(vals...)
	})
	// As orderScript: an event before the acknowledgement.
	s.On("before-ack", func(e *socketio.Event) {
		vals, _ := e.Args().Values()
		_ = s.Emit("before", vals...)
		_ = e.Ack(vals...)
	})
	s.On("ask", func(e *socketio.Event) {
		vals, _ := e.Args().Values()
		name, _ := vals[0].(string)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a, err := s.EmitWithAck(ctx, name, vals[1:]...)
		if err != nil {
			_ = s.Emit("answer", map[string]any{"error": err.Error()})
			return
		}
		av, _ := a.Values()
		_ = s.Emit("answer", map[string]any{"args": av})
	})
	s.On("whoami", func(e *socketio.Event) {
		_ = e.Ack(map[string]any{"id": s.ID(), "nsp": nsp.Name(), "engine": s.Conn().ID(), "transport": s.Conn().Transport()})
	})
	s.On("flaky", func(e *socketio.Event) {
		var key string
		_ = e.Bind(&key)
		v, _ := goFlaky.LoadOrStore(key, new(atomic.Int32))
		n := v.(*atomic.Int32).Add(1)
		if n >= 2 && e.HasAck() {
			_ = e.Ack("ok", n)
		}
	})
	s.On("server-disconnect", func(*socketio.Event) { s.Disconnect(false) })
	// As sio-server.mjs: cut the transport, then emit while the client is
	// away.
	s.On("kick-transport", func(*socketio.Event) {
		_ = s.Conn().Close()
		time.AfterFunc(100*time.Millisecond, func() {
			_ = nsp.Emit("missed", 1)
			_ = nsp.Emit("missed", 2)
		})
	})
}

// ---- a TCP proxy that can go silent ----

type proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns []*proxyConn
}

type proxyConn struct {
	a, b   net.Conn
	frozen atomic.Bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		a, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = a.Close()
			continue
		}
		pc := &proxyConn{a: a, b: b}
		p.mu.Lock()
		p.conns = append(p.conns, pc)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(pc, a, b)
		go p.pipe(pc, b, a)
	}
}

// pipe copies src to dst; while the connection is frozen, what arrives is
// dropped: nothing is forwarded and nothing is closed.
func (p *proxy) pipe(pc *proxyConn, src, dst net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			if pc.frozen.Load() {
				return // silent: the other side is not told either
			}
			_ = pc.a.Close()
			_ = pc.b.Close()
			return
		}
		if pc.frozen.Load() {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			_ = pc.a.Close()
			_ = pc.b.Close()
			return
		}
	}
}

// freeze silences every current connection (new ones work).
func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.frozen.Store(true)
	}
}

func (p *proxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.a.Close()
		_ = c.b.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// ---- waiting ----

const wait = 15 * time.Second

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// recorder collects what handlers saw, for event-driven waits.
type recorder struct {
	mu      sync.Mutex
	items   []string
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.items = append(r.items, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.items...)
}

// waitFor waits until an item equal to want was recorded, and returns the
// items so far.
func (r *recorder) waitFor(t *testing.T, want string) []string {
	t.Helper()
	deadline := time.After(wait)
	for {
		items := r.list()
		for _, it := range items {
			if it == want {
				return items
			}
		}
		select {
		case <-r.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %q within %v; got %q", want, wait, items)
		}
	}
}
