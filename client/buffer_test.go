package client_test

import (
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/socketio/client"
)

// TestSendBufferOverflow checks the offline buffer's policy: while not
// connected, emits are kept up to SendBuffer packets; past that they fail
// with ErrSendBufferFull and are dropped, the kept ones are untouched;
// volatile emits are never kept. Once connected, the kept packets go out
// in order.
func TestSendBufferOverflow(t *testing.T) {
	ctx := ctxT(t)
	port := freePort(t)
	m, err := client.NewManager(fmt.Sprintf("http://127.0.0.1:%d", port), &client.Options{
		Transports:           []string{client.WebSocket},
		ReconnectionDelay:    50 * time.Millisecond,
		ReconnectionDelayMax: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.Socket("/", &client.SocketOptions{SendBuffer: 3})
	s.Open() // nobody listens yet: the Manager retries in the background
	tests := []struct {
		name string
		emit func() error
		want error
	}{
		{"1st kept", func() error { return s.Emit("echo", 1) }, nil},
		{"volatile dropped", func() error { return s.Volatile().Emit("echo", "volatile") }, nil},
		{"2nd kept", func() error { return s.Emit("echo", 2) }, nil},
		{"3rd kept", func() error { return s.Emit("echo", 3) }, nil},
		{"4th refused", func() error { return s.Emit("echo", 4) }, client.ErrSendBufferFull},
		{"with ack refused", func() error { _, err := s.EmitWithAck(ctx, "ack", 5); return err }, client.ErrSendBufferFull},
	}
	for _, tt := range tests {
		if err := tt.emit(); !errors.Is(err, tt.want) {
			t.Fatalf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	startGoAt(t, port, srvOpts{})
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 3; want++ {
		var n int
		if err := recv(t, s, "echo-back").Bind(&n); err != nil || n != want {
			t.Fatalf("echo-back %d (%v), want %d", n, err, want)
		}
	}
	// Connected: a volatile emit goes out (the transport is idle).
	deadline := time.Now().Add(wait)
	for {
		if err := s.Volatile().Emit("echo", "v"); err != nil {
			t.Fatal(err)
		}
		var v string
		ev := recv(t, s, "echo-back")
		if _ = ev.Bind(&v); v == "v" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("volatile emits never arrived; got %q", v)
		}
	}
}

// TestRetries: with Retries, an emit is resent with a new ack id after
// AckTimeout until the server acknowledges it; once the retries are used
// up it fails with ErrAckTimeout.
func TestRetries(t *testing.T) {
	for _, k := range serverKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			srv := k.start(t, srvOpts{})
			ctx := ctxT(t)
			s, err := client.Dial(ctx, srv.URL(), &client.Options{
				Transports: []string{client.WebSocket},
				Socket:     client.SocketOptions{Retries: 2, AckTimeout: 300 * time.Millisecond},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			key := fmt.Sprintf("k-%s-%d", k.name, time.Now().UnixNano())
			// "flaky" answers from the second copy on.
			a, err := s.EmitWithAck(ctx, "flaky", key)
			var (
				ok string
				n  int
			)
			if err != nil || a.Bind(&ok, &n) != nil || ok != "ok" || n != 2 {
				t.Fatalf("flaky: %q %d (%v)", ok, n, err)
			}
			// "echo" never acknowledges: 1 try + 2 retries, then the error.
			start := time.Now()
			_, err = s.EmitWithAck(ctx, "echo", "never acked")
			if !errors.Is(err, client.ErrAckTimeout) {
				t.Fatalf("err %v, want ErrAckTimeout", err)
			}
			if d := time.Since(start); d < 800*time.Millisecond {
				t.Fatalf("gave up after %v, want 3 × 300ms", d)
			}
			copies := 0
			for copies < 3 {
				var v string
				_ = recv(t, s, "echo-back").Bind(&v)
				if v == "never acked" {
					copies++
				}
			}
		})
	}
}

// TestAckFailsOnDisconnect: an ack still expected when the connection is
// lost fails with ErrDisconnected.
func TestAckFailsOnDisconnect(t *testing.T) {
	srv := startGoAt(t, freePort(t), srvOpts{})
	ctx := ctxT(t)
	s, err := client.Dial(ctx, srv.URL(), &client.Options{NoReconnection: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res := make(chan error, 1)
	go func() {
		_, err := s.EmitWithAck(ctx, "echo", "no ack")
		res <- err
	}()
	recv(t, s, "echo-back")
	srv.Kill()
	if err := <-res; !errors.Is(err, client.ErrDisconnected) {
		t.Fatalf("err %v, want ErrDisconnected", err)
	}
}

// TestConnectFailures covers failed attempts: no reconnection, a limited
// number of attempts (reconnect_failed), and the per-attempt timeout.
func TestConnectFailures(t *testing.T) {
	// A listener that accepts and never answers, for the timeout.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	defer func() {
		silent.Close()
		for c := range accepted {
			c.Close()
		}
	}()
	closed := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	tests := []struct {
		name     string
		url      string
		opts     client.Options
		want     error
		events   string
		attempts int32
		cerrs    int32 // connect_error: one per failed attempt
	}{
		{"no reconnection", closed, client.Options{NoReconnection: true}, nil, "", 0, 1},
		{"two attempts", closed, client.Options{ReconnectionAttempts: 2, ReconnectionDelay: 20 * time.Millisecond}, client.ErrReconnectFailed, "failed", 2, 3},
		{"timeout", "http://" + silent.Addr().String(), client.Options{NoReconnection: true, Timeout: 300 * time.Millisecond}, client.ErrConnectTimeout, "", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t)
			m, err := client.NewManager(tt.url, &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			var attempts, recErrs, cerrs atomic.Int32
			failed := make(chan struct{})
			m.OnReconnectAttempt(func(int) { attempts.Add(1) })
			m.OnReconnectError(func(error) { recErrs.Add(1) })
			m.OnReconnectFailed(func() { close(failed) })
			s := m.Socket("/", nil)
			s.OnConnectError(func(error) { cerrs.Add(1) })
			err = s.Connect(ctx)
			if err == nil || ctx.Err() != nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Connect = %v, want %v", err, tt.want)
			}
			if tt.events == "failed" {
				<-failed
			}
			if got := attempts.Load(); got != tt.attempts {
				t.Errorf("%d reconnect attempts, want %d", got, tt.attempts)
			}
			// As in JavaScript, the last reconnect_error comes after
			// reconnect_failed, and handlers run on their own goroutine:
			// wait for the counts rather than read them at once.
			for deadline := time.Now().Add(5 * time.Second); (recErrs.Load() < tt.attempts || cerrs.Load() < tt.cerrs) && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			if got := recErrs.Load(); got != tt.attempts {
				t.Errorf("%d reconnect errors, want %d", got, tt.attempts)
			}
			if got := cerrs.Load(); got != tt.cerrs {
				t.Errorf("%d connect errors, want %d", got, tt.cerrs)
			}
			if !s.Active() {
				t.Error("a low-level failure must leave the socket active (as in JavaScript)")
			}
		})
	}
}

// TestSlowHandlers: a server that sends faster than the socket's handlers
// run gets the connection closed with "transport error" once
// MaxPendingEvents events wait; the client then reconnects.
func TestSlowHandlers(t *testing.T) {
	srv := startGoAt(t, freePort(t), srvOpts{})
	ctx := ctxT(t)
	m, err := client.NewManager(srv.URL(), &client.Options{Transports: []string{client.WebSocket}, ReconnectionDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.Socket("/", &client.SocketOptions{MaxPendingEvents: 5})
	release := make(chan struct{})
	var once atomic.Bool
	s.On("echo-back", func(*client.Event) {
		if once.CompareAndSwap(false, true) {
			<-release
		}
	})
	closed := make(chan string, 4)
	m.OnClose(func(reason string, _ error) { closed <- reason })
	reconnected := make(chan struct{}, 1)
	m.OnReconnect(func(int) { reconnected <- struct{}{} })
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := s.Emit("echo", i); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case r := <-closed:
		if r != client.ReasonTransportError {
			t.Fatalf("close reason %q, want transport error", r)
		}
	case <-ctx.Done():
		t.Fatal("the connection was not closed")
	}
	close(release)
	select {
	case <-reconnected:
	case <-ctx.Done():
		t.Fatal("no reconnection")
	}
}
