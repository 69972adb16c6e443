package socketio_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
)

type ctxKey struct{}

// opsProbe is an in-memory adapter whose cluster-wide operations record
// the context they get and return an error after doing their local part,
// as a network adapter does when a publish fails.
type opsProbe struct {
	adapter.Adapter
	err error

	mu   sync.Mutex
	seen []string // "op ctx-value"
}

func (p *opsProbe) note(ctx context.Context, op string) {
	v, _ := ctx.Value(ctxKey{}).(string)
	p.mu.Lock()
	p.seen = append(p.seen, op+" "+v)
	p.mu.Unlock()
}

func (p *opsProbe) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	p.note(ctx, "join")
	_ = p.Adapter.AddSockets(ctx, opts, rooms)
	return p.err
}

func (p *opsProbe) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	p.note(ctx, "leave")
	_ = p.Adapter.DelSockets(ctx, opts, rooms)
	return p.err
}

func (p *opsProbe) DisconnectSockets(ctx context.Context, opts adapter.BroadcastOptions, close bool) error {
	p.note(ctx, "disconnect")
	_ = p.Adapter.DisconnectSockets(ctx, opts, close)
	return p.err
}

// Every operation that can reach the other servers of a cluster passes the
// caller's ctx to the adapter and returns the adapter's error, on
// BroadcastOperator, Namespace, Server and RemoteSocket alike.
func TestClusterOperationsTakeContext(t *testing.T) {
	errPublish := errors.New("publish failed")
	io, err := socketio.NewServer(socketio.Config{Adapter: func(nsp adapter.Namespace) (adapter.Adapter, error) {
		m, err := adapter.NewMemory(nsp)
		return &opsProbe{Adapter: m, err: errPublish}, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	io.OnConnection(pingHandler)
	url := serve(t, io)
	s, err := dialNsp(t, url, "/", []string{"websocket"})
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, s)
	main := io.MainNamespace()
	ctx := context.WithValue(context.Background(), ctxKey{}, "caller")
	remote, err := main.FetchSockets(ctx)
	if err != nil || len(remote) != 1 {
		t.Fatalf("fetch: %v, %v", remote, err)
	}
	r := remote[0]
	for _, tc := range []struct {
		name, op string
		call     func() error
		room     string // a room whose local members the call changed
		members  int
	}{
		{"BroadcastOperator.SocketsJoin", "join", func() error { return io.In(r.ID).SocketsJoin(ctx, "a") }, "a", 1},
		{"BroadcastOperator.SocketsLeave", "leave", func() error { return io.In(r.ID).SocketsLeave(ctx, "a") }, "a", 0},
		{"Namespace.SocketsJoin", "join", func() error { return main.SocketsJoin(ctx, "b") }, "b", 1},
		{"Namespace.SocketsLeave", "leave", func() error { return main.SocketsLeave(ctx, "b") }, "b", 0},
		{"Server.SocketsJoin", "join", func() error { return io.SocketsJoin(ctx, "c") }, "c", 1},
		{"Server.SocketsLeave", "leave", func() error { return io.SocketsLeave(ctx, "c") }, "c", 0},
		{"RemoteSocket.Join", "join", func() error { return r.Join(ctx, "d") }, "d", 1},
		{"RemoteSocket.Leave", "leave", func() error { return r.Leave(ctx, "d") }, "d", 0},
		{"BroadcastOperator.DisconnectSockets", "disconnect", func() error { return io.In("nobody").DisconnectSockets(ctx, false) }, r.ID, 1},
		{"Namespace.DisconnectSockets", "disconnect", func() error { return main.In("nobody").DisconnectSockets(ctx, false) }, r.ID, 1},
		{"RemoteSocket.Disconnect", "disconnect", func() error { return r.Disconnect(ctx, false) }, r.ID, 0},
		{"Server.DisconnectSockets", "disconnect", func() error { return io.DisconnectSockets(ctx, true) }, r.ID, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := main.Adapter().(*opsProbe)
			a.mu.Lock()
			a.seen = nil
			a.mu.Unlock()
			if err := tc.call(); !errors.Is(err, errPublish) {
				t.Fatalf("error %v, want the adapter's", err)
			}
			a.mu.Lock()
			seen := slices.Clone(a.seen)
			a.mu.Unlock()
			if want := []string{tc.op + " caller"}; !slices.Equal(seen, want) {
				t.Fatalf("adapter saw %q, want %q", seen, want)
			}
			// The local part is done all the same.
			if n := len(io.In(tc.room).SocketIDs()); n != tc.members {
				t.Fatalf("%d local sockets in %s, want %d", n, tc.room, tc.members)
			}
		})
	}
}
