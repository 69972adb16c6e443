package socketio_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
)

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A socket whose handler never returns leaves the namespace's socket list
// and its rooms as soon as its client has gone; its disconnecting and
// disconnect handlers run afterwards, in order, once the stuck handler
// returns, and the disconnecting ones still see the rooms.
func TestInteropStuckHandlerLeavesAtOnce(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		io, url, _ := newTestServer(t, socketio.Config{})
		release, blocked := make(chan struct{}), make(chan struct{}, 1)
		var mu sync.Mutex
		var order []string
		note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
		io.OnConnection(func(s *socketio.Socket) {
			s.On("block", func(*socketio.Event) {
				blocked <- struct{}{}
				<-release
				note("block returned")
			})
			s.OnDisconnecting(func(reason string) {
				note("disconnecting " + reason + " " + strings.Join(s.Rooms().Slice(), ","))
			})
			s.OnDisconnect(func(reason string) { note("disconnect " + reason + " " + strings.Join(s.Rooms().Slice(), ",")) })
		})
		t.Cleanup(func() {
			select {
			case <-release:
			default:
				close(release)
			}
		})
		p := driver(t, url)
		id := connect(t, p, "a", tr, nil)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "join", "args": []any{"r1"}, "ack": true, "seq": 1})
		ackOf(t, p, "a", 1)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "block"})
		<-blocked
		p.Send(map[string]any{"cmd": "cut", "c": "a"})

		waitUntil(t, "the socket leaves the namespace", func() bool { return io.MainNamespace().Socket(id) == nil })
		if got := io.To("r1").SocketIDs(); len(got) != 0 {
			t.Fatalf("room r1 still has %v", got)
		}
		if got := io.MainNamespace().To(id).SocketIDs(); len(got) != 0 {
			t.Fatalf("the socket's own room still has %v", got)
		}
		mu.Lock()
		if len(order) != 0 {
			t.Fatalf("handlers ran before the stuck one returned: %v", order)
		}
		mu.Unlock()

		close(release)
		waitUntil(t, "the disconnect handlers run", func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == 3 })
		want := []string{"block returned", "disconnecting transport close " + strings.Join(sortedRooms(id, "r1"), ","), "disconnect transport close "}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(order, want) {
			t.Fatalf("order %q, want %q", order, want)
		}
	})
}

func sortedRooms(rooms ...string) []string { slices.Sort(rooms); return rooms }

// Shutdown names the handlers still running when its context ends (event
// name, socket id, namespace) and wraps ctx.Err(); a Close after it, or
// during it, returns at once, saying it stopped waiting for them, and
// makes a Shutdown under way return.
func TestShutdownNamesStuckHandlers(t *testing.T) {
	for _, tc := range []struct {
		name        string
		closeDuring bool
	}{
		{"Close after Shutdown timed out", false},
		{"Close during Shutdown", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			io, url, rec := newTestServer(t, socketio.Config{})
			release := make(chan struct{})
			started := make(chan struct{}, 2)
			io.OnConnection(func(s *socketio.Socket) {
				s.On("block", func(*socketio.Event) { started <- struct{}{}; <-release })
			})
			of(t, io, "/slow").Use(func(*socketio.Socket) error { started <- struct{}{}; <-release; return nil })
			t.Cleanup(func() {
				select {
				case <-release:
				default:
					close(release)
				}
			})
			c, id := rawSocket(t, url, "/")
			c.Send(`42["block"]`)
			c.Send(`40/slow,`)
			<-started
			<-started
			_, quick := rawSocket(t, url, "/") // idle: not reported

			timeout, wantErr := 300*time.Millisecond, context.DeadlineExceeded
			if tc.closeDuring {
				timeout, wantErr = time.Minute, socketio.ErrServerClosed
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			shut := make(chan error, 1)
			go func() { shut <- io.Shutdown(ctx) }()
			closed := make(chan error, 1)
			if tc.closeDuring {
				if rec.reason(t, quick) != socketio.ReasonServerShuttingDown {
					t.Fatal("idle socket not shut down")
				}
				go func() { closed <- io.Close() }()
			}
			var err error
			select {
			case err = <-shut:
			case <-time.After(10 * time.Second):
				t.Fatal("Shutdown did not return")
			}
			var stuck *socketio.StuckHandlersError
			if !errors.Is(err, wantErr) || !errors.As(err, &stuck) {
				t.Fatalf("Shutdown: %v, want a StuckHandlersError wrapping %v", err, wantErr)
			}
			var got []string
			for _, h := range stuck.Handlers {
				if h.SocketID == quick && h.Handler == "disconnect handler" {
					// The idle socket's disconnect handler, caught between
					// the note the test waited for and its return.
					continue
				}
				got = append(got, h.Namespace+" "+h.Handler+" "+h.Event)
				if h.Namespace == "/" && h.SocketID != id {
					t.Fatalf("stuck socket %s, want %s", h.SocketID, id)
				}
			}
			slices.Sort(got)
			if want := []string{"/ event block", "/slow middleware "}; !slices.Equal(got, want) {
				t.Fatalf("stuck handlers %q, want %q", got, want)
			}
			if msg := err.Error(); !strings.Contains(msg, id) || !strings.Contains(msg, `event "block"`) || !strings.Contains(msg, "/slow") {
				t.Fatalf("error text %q does not name the handlers", msg)
			}
			if rec.reason(t, quick) != socketio.ReasonServerShuttingDown {
				t.Fatal("idle socket not shut down")
			}

			if !tc.closeDuring {
				go func() { closed <- io.Close() }()
			}
			select {
			case err := <-closed:
				if !errors.Is(err, socketio.ErrServerClosed) || !errors.As(err, &stuck) ||
					!strings.Contains(err.Error(), "without waiting") {
					t.Fatalf("Close after a failed Shutdown: %v", err)
				}
				n := 0
				for _, h := range stuck.Handlers {
					// The idle socket's disconnect handler may be caught
					// running here too (see above).
					if h.SocketID != quick || h.Handler != "disconnect handler" {
						n++
					}
				}
				if n != 2 {
					t.Fatalf("Close after a failed Shutdown: %d stuck handlers, want 2: %v", n, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Close after a failed Shutdown did not return")
			}

			close(release)
			if r := rec.reason(t, id); r != socketio.ReasonServerShuttingDown {
				t.Fatalf("stuck socket's reason %q", r)
			}
		})
	}
}
