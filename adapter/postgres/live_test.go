package postgres_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter/postgres"
	"github.com/gosio/socketio/internal/testutil"
)

// goNode is a Go server on the PostgreSQL adapter, with the handlers the
// live tests use.
type goNode struct {
	name string
	io   *socketio.Server
	url  string
	side chan sideEvent
}

type sideEvent struct {
	args    []any
	withAck bool
}

// testOptions are the adapter options of the live tests: the prefix and
// table of the test, heartbeats as the Node test server's.
func testOptions(prefix, table string) postgres.Options {
	return postgres.Options{
		ChannelPrefix:     prefix,
		TableName:         table,
		HeartbeatInterval: time.Second,
		HeartbeatTimeout:  3 * time.Second,
		RequestsTimeout:   3 * time.Second,
		ReconnectDelay:    200 * time.Millisecond,
		Logger:            postgres.LiveLogger(),
	}
}

// newGoNode starts a Go server on its own pool.
func newGoNode(t *testing.T, opts postgres.Options, name string) *goNode {
	t.Helper()
	pool := postgres.NewLivePool(t, postgres.LiveURL(), 4)
	io, err := socketio.NewServer(socketio.Config{Adapter: postgres.NewAdapter(pool, opts)})
	if err != nil {
		t.Fatal(err)
	}
	n := &goNode{name: name, io: io, side: make(chan sideEvent, 64)}
	io.OnConnection(func(s *socketio.Socket) {
		s.SetData(map[string]any{"server": name, "bin": []byte{1, 2, 3}})
		socketio.OnAck(s, "join", func(room string) (string, error) {
			s.Join(room)
			return "joined " + room, nil
		})
	})
	admin, err := io.Of("/admin")
	if err != nil {
		t.Fatal(err)
	}
	admin.OnConnection(func(*socketio.Socket) {})
	io.OnServerSideEmit("ping-server", func(e *socketio.ServerEvent) {
		vals, _ := e.Args().Values()
		n.side <- sideEvent{vals, e.HasAck()}
		if e.HasAck() {
			_ = e.Ack(map[string]any{"from": name, "ok": true})
		}
	})
	hs := httptest.NewServer(io)
	n.url = hs.URL
	t.Cleanup(func() {
		hs.Close()
		_ = io.Close()
	})
	return n
}

func (n *goNode) expectSide(t *testing.T, want string) sideEvent {
	t.Helper()
	select {
	case e := <-n.side:
		if b, _ := json.Marshal(e.args); string(b) != want {
			t.Fatalf("%s: server-side args %s, want %s", n.name, b, want)
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no server-side event %s", n.name, want)
	}
	return sideEvent{}
}

// nodeServer is interop/pg-node-server.mjs: socket.io 4.8 with
// @socket.io/postgres-adapter 0.5 on node-postgres.
type nodeServer struct {
	t   *testing.T
	p   *testutil.Proc
	url string
	id  int
}

func startNodeServer(t *testing.T, prefix, table, name string) *nodeServer {
	t.Helper()
	p := testutil.StartNode(t, "pg-node-server.mjs", "0", postgres.LiveURL(), prefix, table, name)
	ev := p.Expect(15*time.Second, "node server ready", func(e testutil.Event) bool { return e.Name() == "ready" })
	port, _ := ev["port"].(float64)
	return &nodeServer{t: t, p: p, url: "http://127.0.0.1:" + strconv.Itoa(int(port))}
}

// do runs a command on the Node server and returns its result.
func (n *nodeServer) do(cmd map[string]any) testutil.Event {
	n.t.Helper()
	n.id++
	id := n.id
	cmd["id"] = id
	n.p.Send(cmd)
	ev := n.p.Expect(10*time.Second, "result of "+cmd["cmd"].(string), func(e testutil.Event) bool {
		f, _ := e["id"].(float64)
		return e.Name() == "result" && int(f) == id
	})
	if e, ok := ev["error"]; ok {
		n.t.Logf("%s: error %v", cmd["cmd"], e)
	}
	return ev
}

// waitRoomSize waits until the Node server has size local sockets in room.
func (n *nodeServer) waitRoomSize(t *testing.T, room string, size int) {
	t.Helper()
	waitFor(t, room+" size on the Node server", func() bool {
		socks, _ := n.do(map[string]any{"cmd": "localSockets", "rooms": []string{room}})["sockets"].([]any)
		return len(socks) == size
	})
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// clients drives official socket.io-client sockets on one server.
type clients struct {
	t *testing.T
	p *testutil.Proc
}

func newClients(t *testing.T, url string) *clients {
	t.Helper()
	p := testutil.StartNode(t, "sio-driver.mjs", url)
	p.ExpectEv("ready", "")
	return &clients{t, p}
}

// connect connects client name to the main namespace over WebSocket and
// returns its id.
func (c *clients) connect(name string) string {
	c.t.Helper()
	return c.connectNsp(name, "/")
}

func (c *clients) connectNsp(name, nsp string) string {
	c.t.Helper()
	c.p.Send(map[string]any{"cmd": "connect", "c": name, "nsp": nsp, "transports": []string{"websocket"}})
	return c.p.ExpectEv("connect", name).Str("id")
}

var (
	seqMu sync.Mutex
	seq   int
)

// join makes client name join room (through its server's handler).
func (c *clients) join(name, room string) {
	c.t.Helper()
	seqMu.Lock()
	seq++
	s := seq
	seqMu.Unlock()
	c.p.Send(map[string]any{"cmd": "emit", "c": name, "event": "join", "args": []any{room}, "ack": true, "seq": s})
	c.p.Expect(5*time.Second, "join ack", func(e testutil.Event) bool {
		n, _ := e["seq"].(float64)
		return e.Name() == "ack" && e.Str("c") == name && int(n) == s
	})
}

// event waits for event ev on client name and returns its args as JSON.
func (c *clients) event(name, ev string) string {
	c.t.Helper()
	e := c.p.Expect(5*time.Second, name+" gets "+ev, func(e testutil.Event) bool {
		return e.Name() == "event" && e.Str("c") == name && e.Str("name") == ev
	})
	b, _ := json.Marshal(e["args"])
	return string(b)
}

func (c *clients) eventIs(name, ev, want string) {
	c.t.Helper()
	if got := c.event(name, ev); got != want {
		c.t.Fatalf("%s got %s%s, want %s", name, ev, got, want)
	}
}

// none checks that client name gets no event ev for a while.
func (c *clients) none(name, ev string) {
	c.t.Helper()
	c.p.ExpectNone(300*time.Millisecond, name+" gets no "+ev, func(e testutil.Event) bool {
		return e.Name() == "event" && e.Str("c") == name && e.Str("name") == ev
	})
}

func (c *clients) reply(name, ev string, args ...any) {
	c.t.Helper()
	c.p.Send(map[string]any{"cmd": "reply", "c": name, "event": ev, "args": args})
	c.p.ExpectEv("replying", name)
}

func (c *clients) disconnected(name string) string {
	c.t.Helper()
	return c.p.ExpectEv("disconnect", name).Str("reason")
}

// waitCount waits until the main namespace of io counts want servers.
func waitCount(t *testing.T, io *socketio.Server, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := io.MainNamespace().Adapter().ServerCount(context.Background())
		if err == nil && n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server count %d (%v), want %d", n, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timeout: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
