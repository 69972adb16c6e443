package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter/cluster"
	"github.com/gosio/socketio/adapter/cluster/clustertest"
	"github.com/gosio/socketio/client"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type node struct {
	io  *socketio.Server
	url string
}

func newNode(t *testing.T, b *clustertest.Broker, opts cluster.Options) *node {
	t.Helper()
	io, err := socketio.NewServer(socketio.Config{Adapter: b.Factory(opts)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(io)
	t.Cleanup(func() { hs.Close(); _ = io.Close() })
	return &node{io: io, url: hs.URL}
}

func dial(t *testing.T, url string) *client.Socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Dial(ctx, url, &client.Options{Transports: []string{"websocket"}, NoReconnection: true,
		Socket: client.SocketOptions{ReceiveBuffer: 4096}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func receive(t *testing.T, s *client.Socket, event string) *client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		ev, err := s.Receive(ctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v", event, err)
		}
		if ev.Name == event {
			return ev
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func serverCount(t *testing.T, n *node) int {
	t.Helper()
	c, err := n.io.MainNamespace().Adapter().ServerCount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Without a counting transport, servers are counted with heartbeats: a
// new server is known at once (INITIAL_HEARTBEAT, answered), one that
// closes is forgotten at once (ADAPTER_CLOSE), one that goes silent after
// HeartbeatTimeout.
func TestHeartbeats(t *testing.T) {
	b := clustertest.New()
	opts := cluster.Options{HeartbeatInterval: 50 * time.Millisecond, HeartbeatTimeout: 300 * time.Millisecond}
	a := newNode(t, b, opts)
	c := newNode(t, b, opts)
	waitFor(t, "two servers", func() bool { return serverCount(t, a) == 2 && serverCount(t, c) == 2 })
	d := newNode(t, b, opts)
	waitFor(t, "three servers", func() bool { return serverCount(t, a) == 3 && serverCount(t, d) == 3 })
	_ = d.io.Close()
	waitFor(t, "a closed server forgotten", func() bool { return serverCount(t, a) == 2 })

	// A server that goes silent (cut from the broker) is dropped after the
	// timeout, and counted again when it comes back.
	b.Cut(c.io.MainNamespace().Adapter().(interface{ UID() string }).UID(), true)
	waitFor(t, "a silent server dropped", func() bool { return serverCount(t, a) == 1 })
	b.Cut(c.io.MainNamespace().Adapter().(interface{ UID() string }).UID(), false)
	waitFor(t, "a server back", func() bool { return serverCount(t, a) == 2 })
}

// Emits never wait on the broker: while it hangs, every Emit returns at
// once; local clients get every event; once the queue is full, emits say
// so (ErrQueueFull) and still reach the local clients; what was queued
// reaches the other server once the broker is back.
func TestEmitsNeverBlock(t *testing.T) {
	b := clustertest.New()
	opts := cluster.Options{MaxQueuedMessages: 100, PublishTimeout: 30 * time.Second}
	a := newNode(t, b, opts)
	c := newNode(t, b, opts)
	la, rc := dial(t, a.url), dial(t, c.url)
	waitFor(t, "two servers", func() bool { return serverCount(t, a) == 2 })

	b.Hang()
	start := time.Now()
	var full int
	for i := range 300 {
		err := a.io.Emit("n", i)
		switch {
		case errors.Is(err, cluster.ErrQueueFull):
			full++
		case err != nil:
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("300 emits took %v with the broker hanging", took)
	}
	// One message is with the hanging publication, 100 queued.
	if full < 150 || full > 200 {
		t.Fatalf("%d emits refused, want 199 or 200", full)
	}
	for i := range 300 {
		ev := receive(t, la, "n")
		var n int
		if err := ev.Bind(&n); err != nil || n != i {
			t.Fatalf("local event %d: %v %v", i, n, err)
		}
	}
	b.Resume()
	for i := range 100 {
		ev := receive(t, rc, "n")
		var n int
		if err := ev.Bind(&n); err != nil || n != i {
			t.Fatalf("remote event %d: %v %v", i, n, err)
		}
	}
}

// A failing broker makes the operations that wait (fetchSockets, socketsJoin)
// return its error, and a namespace created while it fails is refused.
func TestBrokerErrors(t *testing.T) {
	b := clustertest.New()
	a := newNode(t, b, cluster.Options{})
	_ = newNode(t, b, cluster.Options{})
	waitFor(t, "two servers", func() bool { return serverCount(t, a) == 2 })
	b.Fail(true)
	if _, err := a.io.FetchSockets(context.Background()); !errors.Is(err, clustertest.ErrDown) {
		t.Fatalf("FetchSockets: %v", err)
	}
	if err := a.io.MainNamespace().Adapter().ServerSideEmit(context.Background(), nil); err == nil {
		t.Fatal("ServerSideEmit on a failing broker: no error")
	}
	b.Fail(false)
	if _, err := a.io.FetchSockets(context.Background()); err != nil {
		t.Fatalf("FetchSockets after recovery: %v", err)
	}
}

// All the namespaces of a server share one transport, which is closed
// with the server.
func TestOneTransportPerServer(t *testing.T) {
	b := clustertest.New()
	a := newNode(t, b, cluster.Options{})
	a.io.OfFunc(func(name string, _ map[string]any) bool { return true })
	for i := range 50 {
		s := dial(t, fmt.Sprintf("%s/dyn%d", a.url, i))
		_ = s.Close()
	}
	if n := b.Transports(); n != 1 {
		t.Fatalf("%d transports for one server", n)
	}
	if n := b.Subscribers("/dyn7"); n != 1 {
		t.Fatalf("/dyn7 has %d subscribers", n)
	}
	_ = a.io.Close()
	waitFor(t, "the transport closed", func() bool { return b.Transports() == 0 })
}

// A broadcast whose packet has no namespace (Node's emitters may leave it
// out) reads as the message's namespace, and reading it leaves the message
// as it was.
func TestBroadcastPacketWithoutNamespace(t *testing.T) {
	const in = `{"uid":"emitter","type":3,"nsp":"/chat","data":{"packet":{"type":2,"data":["hi",1]},"opts":{"rooms":["r"],"except":[],"flags":{}}}}`
	m, err := cluster.Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := m.EncodeJSON()
	for range 2 {
		p, opts, err := m.BroadcastPacket()
		if err != nil {
			t.Fatal(err)
		}
		if p.Namespace != "/chat" || string(p.Data) != `["hi",1]` || len(opts.Rooms) != 1 {
			t.Fatalf("packet %+v opts %+v", p, opts)
		}
	}
	if after, _ := m.EncodeJSON(); string(after) != string(before) {
		t.Fatalf("message changed by reading it:\n%s\n%s", before, after)
	}
}
