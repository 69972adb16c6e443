package socketio_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/client"
	"github.com/gosio/socketio/internal/testutil"
)

// factoryProbe is an adapter factory whose behaviour tests choose per
// namespace name: block until released, fail, or create an in-memory
// adapter. It counts calls and the Close of every adapter it made.
type factoryProbe struct {
	mu      sync.Mutex
	block   map[string]chan struct{} // name -> released when closed
	fail    map[string]error
	calls   map[string]int
	entered chan string // a blocking call has started (buffered)
	closed  atomic.Int64
}

func newFactoryProbe() *factoryProbe {
	return &factoryProbe{
		block:   map[string]chan struct{}{},
		fail:    map[string]error{},
		calls:   map[string]int{},
		entered: make(chan string, 16),
	}
}

func (f *factoryProbe) factory(nsp adapter.Namespace) (adapter.Adapter, error) {
	name := nsp.Name()
	f.mu.Lock()
	f.calls[name]++
	wait, err := f.block[name], f.fail[name]
	f.mu.Unlock()
	if wait != nil {
		f.entered <- name
		<-wait
	}
	if err != nil {
		return nil, err
	}
	m, err := adapter.NewMemory(nsp)
	if err != nil {
		return nil, err
	}
	return &closeCounter{Adapter: m, n: &f.closed}, nil
}

func (f *factoryProbe) callsOf(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *factoryProbe) set(fn func()) {
	f.mu.Lock()
	fn()
	f.mu.Unlock()
}

// closeCounter counts the Close calls of an adapter.
type closeCounter struct {
	adapter.Adapter
	n *atomic.Int64
}

func (c *closeCounter) Close() error {
	c.n.Add(1)
	return c.Adapter.Close()
}

// within fails the test when fn does not return within d.
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

// dialNsp connects a Go client to the namespace nsp of the server at url.
func dialNsp(t *testing.T, url, nsp string, tr []string) (*client.Socket, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Dial(ctx, url+nsp, &client.Options{Transports: tr, NoReconnection: true})
	if err == nil {
		t.Cleanup(func() { _ = s.Close() })
	}
	return s, err
}

// echoOnce checks that a connected Go client gets an ack from the server.
func echoOnce(t *testing.T, s *client.Socket) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.EmitWithAck(ctx, "ping", 7)
	if err != nil {
		t.Fatalf("ack on %s: %v", s.Namespace(), err)
	}
	var n int
	if err := res.Bind(&n); err != nil || n != 7 {
		t.Fatalf("ack on %s: %d, %v", s.Namespace(), n, err)
	}
}

func pingHandler(s *socketio.Socket) {
	socketio.OnAck(s, "ping", func(n int) (int, error) { return n, nil })
}

// An adapter factory that blocks (a network adapter dialing its broker)
// holds up only the lookups of the namespace being created: other
// namespaces are created and looked up, clients connect to them and to a
// dynamic child, meanwhile. Concurrent creations of one name, by Of and by
// a client's CONNECT, wait for the first and end up with one namespace.
func TestSlowAdapterFactoryBlocksOnlyItsNamespace(t *testing.T) {
	f := newFactoryProbe()
	release := make(chan struct{})
	f.block["/slow"] = release
	io, err := socketio.NewServer(socketio.Config{Adapter: f.factory})
	if err != nil {
		t.Fatal(err)
	}
	io.OnConnection(pingHandler)
	io.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`)).OnConnection(pingHandler)
	hs := httptest.NewServer(io)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		hs.Close()
		_ = io.Close()
	})

	type result struct {
		n   *socketio.Namespace
		err error
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			n, err := io.Of("/slow")
			results <- result{n, err}
		}()
	}
	select {
	case <-f.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the factory of /slow was not called")
	}

	// Meanwhile: other namespaces, old and new, static and dynamic.
	within(t, 5*time.Second, `Of("/") during a slow creation`, func() { of(t, io, "/") })
	within(t, 5*time.Second, `Of("/fast") during a slow creation`, func() {
		of(t, io, "/fast").OnConnection(pingHandler)
	})
	within(t, 10*time.Second, "clients connecting during a slow creation", func() {
		for _, nsp := range []string{"/", "/fast", "/dyn-1"} {
			s, err := dialNsp(t, hs.URL, nsp, []string{"websocket"})
			if err != nil {
				t.Errorf("connect %s: %v", nsp, err)
				return
			}
			echoOnce(t, s)
		}
	})

	// A client's CONNECT to /slow waits for the creation in flight.
	connected := make(chan error, 1)
	go func() {
		s, err := client.Dial(context.Background(), hs.URL+"/slow", &client.Options{Transports: []string{"websocket"}, NoReconnection: true})
		if err == nil {
			_ = s.Close()
		}
		connected <- err
	}()
	select {
	case r := <-results:
		t.Fatalf("Of(/slow) returned before its factory: %v", r.err)
	case err := <-connected:
		t.Fatalf("a client connected to /slow before its factory returned: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	a, b := <-results, <-results
	if a.err != nil || b.err != nil {
		t.Fatalf("Of(/slow): %v, %v", a.err, b.err)
	}
	if a.n != b.n || a.n != of(t, io, "/slow") {
		t.Fatal("concurrent Of calls made two namespaces")
	}
	select {
	case err := <-connected:
		if err != nil {
			t.Fatalf("connect /slow: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client's CONNECT to /slow was never answered")
	}
	if n := f.callsOf("/slow"); n != 1 {
		t.Fatalf("the factory of /slow ran %d times, want 1", n)
	}
}

var errBroker = errors.New("broker unreachable")

// A failing adapter factory is an error Of returns: nothing is kept (no
// silent fallback to the in-memory adapter) and the next call tries again.
// NewServer returns the error of the main namespace's factory.
func TestFailingAdapterFactory(t *testing.T) {
	f := newFactoryProbe()
	f.fail["/bad"] = errBroker
	io, err := socketio.NewServer(socketio.Config{Adapter: f.factory})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = io.Close() })
	for i := range 2 {
		n, err := io.Of("bad")
		if !errors.Is(err, errBroker) || n != nil {
			t.Fatalf("Of #%d: %v, %v; want the factory's error", i, n, err)
		}
		if want := `socketio: namespace "/bad": adapter: broker unreachable`; err.Error() != want {
			t.Fatalf("error %q, want %q", err, want)
		}
	}
	if n := f.callsOf("/bad"); n != 2 {
		t.Fatalf("factory called %d times, want 2 (a failure is not kept)", n)
	}
	f.set(func() { delete(f.fail, "/bad") })
	n, err := io.Of("/bad")
	if err != nil || n == nil || n.Name() != "/bad" {
		t.Fatalf("Of after the broker came back: %v, %v", n, err)
	}

	g := newFactoryProbe()
	g.fail["/"] = errBroker
	if io, err := socketio.NewServer(socketio.Config{Adapter: g.factory}); !errors.Is(err, errBroker) || io != nil {
		t.Fatalf("NewServer with a failing factory: %v, %v", io, err)
	}
}

// A dynamic child whose adapter cannot be created is refused with a
// connect_error (the Go client sees it as a *client.ConnectError) and not
// kept: no child, no new_namespace event; the next CONNECT tries again.
func TestFailingAdapterFactoryDynamicChild(t *testing.T) {
	for _, m := range transportModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f := newFactoryProbe()
			f.fail["/dyn-bad"] = errBroker
			io, err := socketio.NewServer(socketio.Config{Adapter: f.factory})
			if err != nil {
				t.Fatal(err)
			}
			var created atomic.Int64
			io.OnNewNamespace(func(*socketio.Namespace) { created.Add(1) })
			dyn := io.OfRegexp(regexp.MustCompile(`^/dyn-`))
			dyn.OnConnection(pingHandler)
			hs := httptest.NewServer(io)
			t.Cleanup(func() { hs.Close(); _ = io.Close() })

			_, err = dialNsp(t, hs.URL, "/dyn-bad", m.transports)
			var ce *client.ConnectError
			if !errors.As(err, &ce) || ce.Message != "Namespace unavailable" {
				t.Fatalf("connect: %v, want a connect_error \"Namespace unavailable\"", err)
			}
			if len(dyn.Children()) != 0 || created.Load() != 0 {
				t.Fatalf("children %d, new_namespace events %d after a failed creation", len(dyn.Children()), created.Load())
			}
			s, err := dialNsp(t, hs.URL, "/dyn-ok", m.transports)
			if err != nil {
				t.Fatal(err)
			}
			echoOnce(t, s)
			f.set(func() { delete(f.fail, "/dyn-bad") })
			s, err = dialNsp(t, hs.URL, "/dyn-bad", m.transports)
			if err != nil {
				t.Fatalf("connect once the factory works: %v", err)
			}
			echoOnce(t, s)
			if n := f.callsOf("/dyn-bad"); n != 2 || len(dyn.Children()) != 2 || created.Load() != 2 {
				t.Fatalf("factory calls %d, children %d, new_namespace events %d; want 2, 2, 2", n, len(dyn.Children()), created.Load())
			}
		})
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle empties the sync.Pools
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// settle waits until cond holds, failing after d with what.
func settle(t *testing.T, d time.Duration, cond func() bool, what func() string) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal(what())
		}
	}
}

// With CleanupEmptyChildNamespaces, a dynamic child that ends up with no
// socket goes away with its adapter, whatever way its sockets went:
// refused by the parent's middleware, the connection closed while the
// middleware ran (accepting or refusing afterwards), or connected and
// gone. 2,000 refusals leave no child, close 2,000 adapters, and leave
// goroutines and heap at their baseline.
func TestRefusedChildNamespacesRemoved(t *testing.T) {
	f := newFactoryProbe()
	io, err := socketio.NewServer(socketio.Config{Adapter: f.factory, CleanupEmptyChildNamespaces: true})
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	started := make(chan struct{}, 64)
	dyn := io.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	dyn.Use(func(s *socketio.Socket) error {
		switch s.Handshake().Auth["mode"] {
		case "ok":
			return nil
		case "block-ok", "block-refuse":
			started <- struct{}{}
			<-gate
			if s.Handshake().Auth["mode"] == "block-ok" {
				return nil
			}
		}
		return errors.New("refused")
	})
	hs := httptest.NewServer(io)
	t.Cleanup(func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
		hs.Close()
		_ = io.Close()
	})
	addr := hs.Listener.Addr().String()
	open := func() *leanWS {
		c, err := dialLean(addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.close)
		return c
	}
	refuse := func(c *leanWS, from, to int) {
		for i := from; i < to; i++ {
			nsp := "/room-" + strconv.Itoa(i)
			c.send(t, "40"+nsp+`,{"mode":"refuse"}`)
			c.expect(t, "44"+nsp+`,{"message":"refused"}`)
		}
	}
	children := func() int { return len(dyn.Children()) }
	noChild := func(what string) func() string {
		return func() string { return fmt.Sprintf("%s: %d children left", what, children()) }
	}

	// Warm up (pools, the HTTP server, the runtime), then the baseline.
	warm := open()
	refuse(warm, 0, 50)
	warm.close()
	settle(t, 10*time.Second, func() bool { return children() == 0 && io.Engine().Count() == 0 }, noChild("warm-up"))
	baseClosed := f.closed.Load()
	baseG, baseHeap := runtime.NumGoroutine(), heapAfterGC()

	// 2,000 refusals, on 4 connections.
	const refusals = 2000
	var wg sync.WaitGroup
	conns := make([]*leanWS, 4)
	for k := range conns {
		conns[k] = open()
	}
	for k, c := range conns {
		wg.Go(func() { refuse(c, 1000+k*refusals/4, 1000+(k+1)*refusals/4) })
	}
	wg.Wait()
	for _, c := range conns {
		c.close()
	}
	settle(t, 10*time.Second, func() bool { return children() == 0 }, noChild("after the refusals"))
	if n := f.closed.Load() - baseClosed; n != refusals {
		t.Fatalf("%d adapters closed for %d refused children", n, refusals)
	}

	// A child kept by a connected socket outlives a socket aborted in its
	// middleware (which then refuses: the socket gives its reference back
	// once, not twice); sockets aborted in the middleware of children of
	// their own leave nothing, whether the middleware then accepts or
	// refuses.
	good := open()
	good.send(t, `40/room-1,{"mode":"ok"}`)
	if m := good.next(t); !strings.HasPrefix(m, `40/room-1,{"sid":`) {
		t.Fatalf("connect: %q", m)
	}
	const aborted = 20
	for i := range aborted {
		c := open()
		mode := "block-ok"
		if i%2 == 1 {
			mode = "block-refuse"
		}
		nsp := "/room-" + strconv.Itoa(5000+i)
		if i < 2 {
			nsp = "/room-1" // shares the connected socket's child
		}
		c.send(t, "40"+nsp+`,{"mode":"`+mode+`"}`)
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("the middleware did not start")
		}
		c.close()
	}
	settle(t, 10*time.Second, func() bool { return io.Engine().Count() == 1 }, func() string { return "aborted connections not closed" })
	close(gate)
	settle(t, 10*time.Second, func() bool { return children() == 1 },
		func() string {
			return fmt.Sprintf("%d children after the aborted connects, want 1 (the connected one)", children())
		})
	if c := dyn.Children()[0]; c.Name() != "/room-1" || len(c.Sockets()) != 1 {
		t.Fatalf("kept %s with %d sockets, want /room-1 with 1", c.Name(), len(c.Sockets()))
	}
	good.close()
	settle(t, 10*time.Second, func() bool { return children() == 0 && io.Engine().Count() == 0 }, noChild("after the last socket left"))
	// /room-1 and the 18 others, once each.
	if n, want := f.closed.Load()-baseClosed, int64(refusals+1+aborted-2); n != want {
		t.Fatalf("%d adapters closed, want %d", n, want)
	}

	var g int
	settle(t, 10*time.Second, func() bool { g = runtime.NumGoroutine(); return g <= baseG+2 },
		func() string {
			buf := make([]byte, 1<<20)
			return fmt.Sprintf("%d goroutines, baseline %d\n%s", g, baseG, buf[:runtime.Stack(buf, true)])
		})
	heap := heapAfterGC()
	t.Logf("goroutines %d -> %d, heap %.2f MiB -> %.2f MiB", baseG, g, float64(baseHeap)/(1<<20), float64(heap)/(1<<20))
	// A kept child costs about 700 bytes (its namespace and in-memory
	// adapter): 2,000 would be 1.4 MB.
	const slack = 512 << 10
	if heap > baseHeap+slack {
		t.Fatalf("heap %d bytes, baseline %d: more than %d above", heap, baseHeap, slack)
	}
}

// leanWS is a minimal Engine.IO WebSocket peer that keeps almost nothing
// in memory (a heap measurement sees the server, not its clients): text
// frames out, unmasked frames in, pings answered.
type leanWS struct {
	c net.Conn
	r *bufio.Reader
}

func dialLean(addr string) (*leanWS, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	_, err = io.WriteString(c, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: "+addr+
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	l := &leanWS{c: c, r: bufio.NewReaderSize(c, 1024)}
	for err == nil {
		var line string
		line, err = l.r.ReadString('\n')
		if line == "\r\n" {
			break
		}
	}
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	if p, err := l.read(); err != nil || !strings.HasPrefix(p, "0{") {
		_ = c.Close()
		return nil, fmt.Errorf("open packet %q: %v", p, err)
	}
	return l, nil
}

func (l *leanWS) close() { _ = l.c.Close() }

// send writes a short text frame (masked with a zero key).
func (l *leanWS) send(t *testing.T, s string) {
	t.Helper()
	if len(s) > 125 {
		t.Fatalf("frame of %d bytes: too long for leanWS", len(s))
	}
	if _, err := l.c.Write(append([]byte{0x81, 0x80 | byte(len(s)), 0, 0, 0, 0}, s...)); err != nil {
		t.Fatal(err)
	}
}

func (l *leanWS) read() (string, error) {
	_ = l.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	p, err := testutil.LeanFrame(l.r)
	return string(p), err
}

// next returns the next message that is not a ping.
func (l *leanWS) next(t *testing.T) string {
	t.Helper()
	for {
		p, err := l.read()
		if err != nil {
			t.Fatal(err)
		}
		if p != "2" {
			return p
		}
		l.send(t, "3")
	}
}

func (l *leanWS) expect(t *testing.T, want string) {
	t.Helper()
	if got := l.next(t); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
