package nats_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/client"
	"github.com/gosio/socketio/engineio"
)

// switchProxy is a TCP proxy whose connections can all be cut and whose
// target can be changed, so that a reconnecting client lands on another
// server.
type switchProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *switchProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		if target == "" { // down: refused
			_ = c.Close()
			continue
		}
		s, err := net.DialTimeout("tcp", target, time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			_, _ = io.Copy(dst, src)
			_ = dst.Close()
			_ = src.Close()
		}
		go pipe(c, s)
		go pipe(s, c)
	}
}

// cut closes every connection; new ones are refused until to.
func (p *switchProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = ""
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// to sends the new connections to target.
func (p *switchProxy) to(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

// recoveryServer is one Go server of the recovery tests; it tells when a
// socket has disconnected (its session is stored by then).
type recoveryServer struct {
	io   *socketio.Server
	addr string
	disc chan string // ids of the sockets that disconnected (the first 16 not read)
	gone sync.Map    // socket id -> chan struct{}, signalled on its disconnect
}

func startRecoveryServer(t *testing.T, cluster string) *recoveryServer {
	t.Helper()
	cfg := socketio.Config{
		Adapter:                 conformanceFactory(t, natsURL, cluster, true),
		ConnectionStateRecovery: &socketio.RecoveryConfig{MaxDisconnectionDuration: time.Minute},
		// A polling client that is cut off is noticed at the next ping.
		Engine: engineio.Config{PingInterval: 300 * time.Millisecond, PingTimeout: 500 * time.Millisecond},
	}
	io, err := socketio.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &recoveryServer{io: io, disc: make(chan string, 16)}
	io.OnConnection(func(so *socketio.Socket) {
		if !so.Recovered() {
			so.Join("news")
		}
		so.OnDisconnect(func(string) {
			select {
			case s.disc <- so.ID():
			default:
			}
			if ch, ok := s.gone.Load(so.ID()); ok {
				select {
				case ch.(chan struct{}) <- struct{}{}:
				default:
				}
			}
		})
	})
	hs := httptest.NewServer(io)
	s.addr = hs.Listener.Addr().String()
	t.Cleanup(func() {
		_ = io.Close()
		hs.Close()
	})
	return s
}

// Connection state recovery across two servers through JetStream: a
// client of server A goes away, N events are broadcast from server B (to
// its room, to everyone, and some that are not for it), and the client
// comes back to B: it recovers its session and gets each of the N events
// meant for it exactly once, in order, then the live ones. Over WebSocket,
// HTTP long-polling, and polling upgraded to WebSocket.
func TestRecoveryAcrossServers(t *testing.T) {
	const n = 60
	for _, tc := range []struct {
		name       string
		transports []string
	}{
		{"websocket", []string{"websocket"}},
		{"polling", []string{"polling"}},
		{"upgrade", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := make([]byte, 6)
			_, _ = rand.Read(b)
			cluster := "recovery-" + hex.EncodeToString(b)
			a, bsrv := startRecoveryServer(t, cluster), startRecoveryServer(t, cluster)
			px := newSwitchProxy(t, a.addr)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			dial := func(url string, reconnect bool) *client.Socket {
				s, err := client.Dial(ctx, url, &client.Options{
					Transports: tc.transports, NoReconnection: !reconnect, Timeout: 5 * time.Second,
					ReconnectionDelay: 50 * time.Millisecond, ReconnectionDelayMax: 200 * time.Millisecond, RandomizationFactor: -1,
				})
				if err != nil {
					t.Fatalf("connect to %s: %v", url, err)
				}
				t.Cleanup(func() { _ = s.Close() })
				return s
			}
			r := dial("http://"+px.ln.Addr().String(), true)
			// A witness on A tells when B's broadcasts are in the stream (A
			// reads them from there).
			w := dial("http://"+a.addr, false)
			recv := func(s *client.Socket, what string) *client.Event {
				t.Helper()
				ev, err := s.Receive(ctx)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				return ev
			}
			waitServers := func() {
				for {
					c, err := bsrv.io.Of("/")
					if err != nil {
						t.Fatal(err)
					}
					if k, _ := c.Adapter().ServerCount(ctx); k == 2 {
						return
					}
					if ctx.Err() != nil {
						t.Fatal("the servers never counted each other")
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
			waitServers()
			// Before the cut, the client gets an offset.
			for {
				if err := bsrv.io.To("news").Emit("hello"); err != nil {
					t.Fatal(err)
				}
				ev := recv(r, "hello")
				recv(w, "hello (witness)")
				if ev.Name == "hello" && ev.Args().Len() == 1 {
					break
				}
			}
			id := r.ID()

			px.cut()
			select {
			case got := <-a.disc:
				if got != id {
					t.Fatalf("server A: %s disconnected, want %s", got, id)
				}
			case <-ctx.Done():
				t.Fatal("server A never saw the client go")
			}

			// While it is away: n events for it from B, interleaved with
			// some that are not.
			for i := range n {
				var err error
				switch i % 3 {
				case 0:
					err = bsrv.io.To("news").Emit("missed", i)
				case 1:
					err = bsrv.io.Emit("missed", i)
				case 2:
					err = bsrv.io.To("news").Emit("missed", i)
					if err == nil {
						err = bsrv.io.To("elsewhere").Emit("not-for-r", i)
					}
				}
				if err != nil {
					t.Fatalf("emit %d: %v", i, err)
				}
			}
			if err := bsrv.io.To("news").Emit("last-missed"); err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if ev := recv(w, "witness"); ev.Name != "missed" {
					t.Fatalf("witness event %d: %s", i, ev.Name)
				}
			}
			if ev := recv(w, "witness"); ev.Name != "last-missed" {
				t.Fatalf("witness: %s, want last-missed", ev.Name)
			}

			// The client comes back, to B.
			px.to(bsrv.addr)
			deadline := time.Now().Add(10 * time.Second)
			for !r.Connected() {
				if time.Now().After(deadline) {
					t.Fatal("the client did not reconnect")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if r.ID() != id || !r.Recovered() {
				t.Fatalf("reconnected as %s recovered=%v, want %s recovered", r.ID(), r.Recovered(), id)
			}
			for i := range n {
				ev := recv(r, "missed")
				var got int
				var off string
				if ev.Name != "missed" || ev.Bind(&got, &off) != nil || got != i || off == "" {
					t.Fatalf("missed event %d: got %s %v", i, ev.Name, ev.Args())
				}
			}
			if ev := recv(r, "last-missed"); ev.Name != "last-missed" {
				t.Fatalf("after the missed events: %s %v, want last-missed", ev.Name, ev.Args())
			}
			// Then live events, from both servers, each once.
			if err := bsrv.io.To("news").Emit("live", "b"); err != nil {
				t.Fatal(err)
			}
			if ev := recv(r, "live from B"); ev.Name != "live" {
				t.Fatalf("live: %s %v", ev.Name, ev.Args())
			}
			if err := a.io.To("news").Emit("live", "a"); err != nil {
				t.Fatal(err)
			}
			if ev := recv(r, "live from A"); ev.Name != "live" {
				t.Fatalf("live: %s %v", ev.Name, ev.Args())
			}
			qctx, qcancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer qcancel()
			if ev, err := r.Receive(qctx); err == nil {
				t.Fatalf("unexpected event %s %v (a duplicate?)", ev.Name, ev.Args())
			}
		})
	}
}
