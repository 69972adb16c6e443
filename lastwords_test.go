package socketio_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
)

// Events a client sends just before it disconnects are handled, in order,
// before the socket's disconnect handlers, as Node handles each event when
// it arrives: a page that emits "bye" and closes loses nothing, even when
// the handlers are busy with an earlier event. Over each transport, with
// the official client.
func TestEventsBeforeDisconnectAreHandled(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		io, url, _ := newTestServer(t, socketio.Config{})
		var mu sync.Mutex
		var seen []string
		done := make(chan struct{})
		io.OnConnection(func(s *socketio.Socket) {
			note := func(what string) { mu.Lock(); seen = append(seen, what); mu.Unlock() }
			s.On("slow", func(*socketio.Event) { time.Sleep(200 * time.Millisecond); note("slow") })
			socketio.On(s, "bye", func(n int) { note("bye " + string(rune('0'+n))) })
			s.OnDisconnect(func(reason string) { note("disconnect " + reason); close(done) })
		})
		p := driver(t, url)
		connect(t, p, "a", tr, nil)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "slow"})
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "bye", "args": []any{1}})
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "bye", "args": []any{2}})
		p.Send(map[string]any{"cmd": "disconnect", "c": "a"})
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("no disconnect")
		}
		mu.Lock()
		defer mu.Unlock()
		if want := []string{"slow", "bye 1", "bye 2", "disconnect client namespace disconnect"}; !slices.Equal(seen, want) {
			t.Fatalf("handled %q, want %q", seen, want)
		}
	})
}

// The same over a raw WebSocket that writes the event and the DISCONNECT
// back to back, many times: none is lost.
func TestByeThenDisconnectRaw(t *testing.T) {
	io, url, _ := newTestServer(t, socketio.Config{})
	var handled, disconnected atomic.Int32
	io.OnConnection(func(s *socketio.Socket) {
		s.On("bye", func(*socketio.Event) { handled.Add(1) })
		s.OnDisconnect(func(string) { disconnected.Add(1) })
	})
	const n = 50
	for range n {
		c, _ := rawSocket(t, url, "/")
		_ = c.Conn.WriteString(`42["bye"]`)
		_ = c.Conn.WriteString(`41`)
	}
	deadline := time.Now().Add(10 * time.Second)
	for disconnected.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d sockets disconnected", disconnected.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := handled.Load(); got != n {
		t.Fatalf("handled %d bye events of %d", got, n)
	}
}
