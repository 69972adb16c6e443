package client_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/client"
)

// warnings is a slog handler that keeps Warn messages.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	w.msgs = append(w.msgs, r.Message)
	w.mu.Unlock()
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

// A full Receive buffer drops its oldest events, counts them and says so
// once in the log; the newest are still there for Receive.
func TestReceiveBufferOverflowIsCountedAndLogged(t *testing.T) {
	srv := startGo(t, srvOpts{})
	w := &warnings{}
	ctx := ctxT(t)
	m, err := client.NewManager(srv.URL(), &client.Options{Logger: slog.New(w), Transports: []string{"websocket"}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.Socket("/", &client.SocketOptions{ReceiveBuffer: 2})
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := s.Emit("echo", i); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(wait)
	// "welcome" (sent at the connection) and five "echo-back": six events
	// for two places.
	for s.ReceiveDropped() < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("dropped %d, want 4", s.ReceiveDropped())
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, want := range []int{3, 4} {
		ev := recv(t, s, "echo-back")
		var n int
		if err := ev.Bind(&n); err != nil || n != want {
			t.Fatalf("received echo %d (%v), want %d", n, err, want)
		}
	}
	if got := s.ReceiveDropped(); got != 4 {
		t.Fatalf("dropped %d, want 4", got)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, m := range w.msgs {
		if strings.Contains(m, "Receive buffer full") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d warnings about the full buffer, want 1: %q", n, w.msgs)
	}
}
