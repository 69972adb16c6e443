package socketio_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/client"
)

// slowRestore is the in-memory adapter with a RestoreSession and a
// TakeSession that wait (a broker that is slow to answer).
type slowRestore struct {
	*adapter.Memory
	entered chan struct{}
	release chan struct{}
}

func (a *slowRestore) RestoreSession(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	a.entered <- struct{}{}
	<-a.release
	return a.Memory.RestoreSession(ctx, pid, offset)
}

func (a *slowRestore) TakeSession(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	a.entered <- struct{}{}
	<-a.release
	return a.Memory.TakeSession(ctx, pid, offset)
}

// Restoring a session does not run on the connection's reader: while the
// adapter is slow to restore a namespace's session, the same connection's
// other namespaces keep working; the restore then ends in a new session.
// With the two-step restore (adapter.SessionRestorer) and with
// RestoreSession.
func TestRestoreOffTheReader(t *testing.T) {
	for _, tc := range []struct {
		name       string
		singleStep bool
	}{{"two steps", false}, {"single step", true}} {
		t.Run(tc.name, func(t *testing.T) { testRestoreOffTheReader(t, tc.singleStep) })
	}
}

func testRestoreOffTheReader(t *testing.T, oneStep bool) {
	slow := &slowRestore{entered: make(chan struct{}, 1), release: make(chan struct{})}
	io, err := socketio.NewServer(socketio.Config{
		ConnectionStateRecovery: &socketio.RecoveryConfig{MaxDisconnectionDuration: time.Minute},
		Adapter: func(nsp adapter.Namespace) (adapter.Adapter, error) {
			m, err := adapter.NewMemory(nsp)
			if err != nil || nsp.Name() != "/slow" {
				return m, err
			}
			slow.Memory = m.(*adapter.Memory)
			if oneStep {
				return singleStep{slow}, nil
			}
			return slow, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	io.OnConnection(func(s *socketio.Socket) {
		socketio.OnAck(s, "ping", func(v string) (string, error) { return "pong " + v, nil })
	})
	slowNsp, err := io.Of("/slow")
	if err != nil {
		t.Fatal(err)
	}
	slowNsp.OnConnection(func(*socketio.Socket) {})
	hs := httptest.NewServer(io)
	defer func() { hs.Close(); _ = io.Close() }()
	release := sync.OnceFunc(func() { close(slow.release) })
	defer release() // before Close, which waits for the restore

	m, err := client.NewManager(hs.URL, &client.Options{Transports: []string{"websocket"}, NoReconnection: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	main := m.Socket("/", nil)
	if err := main.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	// A CONNECT asking to recover a session (pid and offset) of /slow.
	slowSock := m.Socket("/slow", &client.SocketOptions{Auth: map[string]any{"pid": "gone", "offset": "0-1"}})
	slowSock.Open()
	select {
	case <-slow.entered:
	case <-ctx.Done():
		t.Fatal("the restore never started")
	}
	res, err := main.EmitWithAck(ctx, "ping", "x")
	if err != nil {
		t.Fatalf("the connection's reader is held by the restore: %v", err)
	}
	var got string
	if err := res.Bind(&got); err != nil || got != "pong x" {
		t.Fatalf("answer %q %v", got, err)
	}
	release()
	if err := slowSock.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if slowSock.Recovered() {
		t.Fatal("an unknown session was recovered")
	}
}
