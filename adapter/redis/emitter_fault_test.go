package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	redisadapter "github.com/gosio/socketio/adapter/redis"
)

// The Go emitter reaches the clients of a Go server and of a Node server,
// on the classic adapter and on Streams.
func TestEmitter(t *testing.T) {
	t.Parallel()
	for _, proto := range []string{"classic", "streams"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			testEmitter(t, proto)
		})
	}
}

func testEmitter(t *testing.T, proto string) {
	key := randomKey(t)
	client := newClient(t, redisAddr)
	g := newGoNode(t, client, key, "G", proto)
	n := startNodeServer(t, redisAddr, key, "node", proto)
	cg, cn := newClients(t, g.url), newClients(t, n.url)
	cg.connect("g1")
	cn.connect("n1")
	cn.connect("n2")
	cg.connectNsp("ga", "/admin")
	cn.connectNsp("na", "/admin")
	cg.join("g1", "room1")
	cn.join("n1", "room1")
	waitCount(t, g.io, 2)
	ctx := context.Background()
	em := redisadapter.NewEmitter(client, redisadapter.EmitterOptions{Key: key})
	if proto == "streams" {
		em = redisadapter.NewStreamsEmitter(client, redisadapter.StreamsEmitterOptions{StreamName: key})
	}

	if err := em.Emit(ctx, "fromEmitter", "e", 1, map[string]any{"b": []byte{9}}); err != nil {
		t.Fatal(err)
	}
	want := `["e",1,{"b":{"$bin":"CQ=="}}]`
	cg.eventIs("g1", "fromEmitter", want)
	cn.eventIs("n1", "fromEmitter", want)
	cn.eventIs("n2", "fromEmitter", want)

	_ = em.To("room1").Volatile().Emit(ctx, "emRoom", map[string]any{"k": "v"})
	cg.eventIs("g1", "emRoom", `[{"k":"v"}]`)
	cn.eventIs("n1", "emRoom", `[{"k":"v"}]`)
	cn.none("n2", "emRoom")
	_ = em.Except("room1").Emit(ctx, "emExcept")
	cn.eventIs("n2", "emExcept", `[]`)
	cg.none("g1", "emExcept")

	_ = em.Of("/admin").Emit(ctx, "emAdmin")
	cg.eventIs("ga", "emAdmin", `[]`)
	cn.eventIs("na", "emAdmin", `[]`)
	cg.none("g1", "emAdmin")

	_ = em.In("room1").SocketsJoin(ctx, "room9")
	waitFor(t, "g1 in room9", func() bool { return len(g.io.In("room9").SocketIDs()) == 1 })
	_ = em.To("room9").Emit(ctx, "r9")
	cg.eventIs("g1", "r9", `[]`)
	cn.eventIs("n1", "r9", `[]`)
	_ = em.In("room1").SocketsLeave(ctx, "room9")
	waitFor(t, "g1 out of room9", func() bool { return len(g.io.In("room9").SocketIDs()) == 0 })

	if err := em.ServerSideEmit(ctx, "ping-server", "from-emitter"); err != nil {
		t.Fatal(err)
	}
	g.expectSide(t, `["from-emitter"]`)
	if ev := n.p.ExpectEv("server-side", ""); jsonOf(ev["args"]) != `["from-emitter"]` {
		t.Fatalf("node got %v", ev)
	}
	if err := em.Emit(ctx, "disconnect", 1); err == nil {
		t.Fatal("reserved name accepted")
	}

	_ = em.In("room1").DisconnectSockets(ctx, true)
	if r := cg.disconnected("g1"); r != "io server disconnect" {
		t.Fatalf("reason %q", r)
	}
	if r := cn.disconnected("n1"); r != "io server disconnect" {
		t.Fatalf("reason %q", r)
	}
}

// Redis stops and restarts under two servers: nothing crashes, the
// adapters subscribe again by themselves, and broadcasts flow again.
// What was published during the outage is lost (pub/sub is at most once).
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	forProtocols(t, testRedisRestart)
}

func testRedisRestart(t *testing.T, proto string) {
	pair := newOwnRedisPair(t, proto)
	a, b := pair.a, pair.b
	ca, cb := newClients(t, a.url), newClients(t, b.url)
	ca.connect("a1")
	cb.connect("b1")
	waitCount(t, a.io, 2)

	_ = a.io.Emit("before", 1)
	cb.eventIs("b1", "before", `[1]`)

	pair.kill()
	t.Log("redis-server stopped")
	start := time.Now()
	errA := a.io.Emit("during", 2)
	t.Logf("broadcast during the outage: err=%v after %v", errA, time.Since(start))
	ca.eventIs("a1", "during", `[2]`) // local delivery goes on
	cb.none("b1", "during")
	t.Log("lost during the outage: the broadcast \"during\" never reached b1 (node B)")

	pair.restart()
	t.Log("redis-server restarted on the same port")
	// The subscriptions are back: broadcasts flow both ways.
	if err := a.io.Emit("after", 1); err != nil {
		t.Fatal(err)
	}
	cb.eventIs("b1", "after", `[1]`)
	_ = b.io.Emit("after-b", 3)
	ca.eventIs("a1", "after-b", `[3]`)
	res, err := a.io.ServerSideEmitWithAck(context.Background(), "ping-server", "x")
	if err != nil || len(res) != 1 {
		t.Fatalf("server-side emit after restart: %v %v", res, err)
	}
	b.expectSide(t, `["x"]`)
	t.Logf("recovered %v after the restart", time.Since(start))
}

// ownRedisPair is two Go nodes, A and B, on a redis-server of the test's
// own, which the test may kill and start again on the same port.
type ownRedisPair struct {
	t    *testing.T
	srv  *redisServer
	port string
	a, b *goNode
}

func newOwnRedisPair(t *testing.T, proto string) *ownRedisPair {
	t.Helper()
	srv, err := startRedis("")
	if err != nil {
		t.Fatalf("this test starts its own redis-server: %v", err)
	}
	t.Cleanup(func() { srv.stop() })
	key := randomKey(t)
	return &ownRedisPair{
		t: t, srv: srv, port: srv.addr[len("127.0.0.1:"):],
		a: newGoNode(t, newClient(t, srv.addr), key, "A", proto),
		b: newGoNode(t, newClient(t, srv.addr), key, "B", proto),
	}
}

// kill stops the redis-server.
func (p *ownRedisPair) kill() { p.srv.stop() }

// restart starts a redis-server on the same port again and waits until both
// nodes count two servers and their subscriptions are back.
func (p *ownRedisPair) restart() {
	p.t.Helper()
	srv, err := startRedis(p.port)
	if err != nil {
		p.t.Fatalf("restart redis-server: %v", err)
	}
	p.t.Cleanup(func() { srv.stop() })
	waitCount(p.t, p.a.io, 2)
	waitCount(p.t, p.b.io, 2)
	time.Sleep(200 * time.Millisecond) // the subscriptions are back
}

// A Streams server reads what is added to the stream from the moment its
// main namespace exists: an emit made right after NewServer returns is not
// lost to the reader's first XREAD (which "$" would have made it).
func TestStreamsReadsFromCreation(t *testing.T) {
	t.Parallel()
	client := newClient(t, redisAddr)
	ctx := context.Background()
	for i := range 10 {
		key := randomKey(t)
		g := newGoNode(t, client, key, "G", "streams")
		em := redisadapter.NewStreamsEmitter(client, redisadapter.StreamsEmitterOptions{StreamName: key})
		if err := em.ServerSideEmit(ctx, "ping-server", i); err != nil {
			t.Fatal(err)
		}
		g.expectSide(t, fmt.Sprintf("[%d]", i))
	}
}
