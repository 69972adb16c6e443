package redis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	redisadapter "github.com/gosio/socketio/adapter/redis"
	"github.com/gosio/socketio/internal/testutil"
)

// nodeServer is interop/redis-node-server.mjs: socket.io 4.8 with
// @socket.io/redis-adapter 8.3 on node-redis.
type nodeServer struct {
	t   *testing.T
	p   *testutil.Proc
	url string
	id  int
}

// startNodeServer starts the Node server on the classic, sharded or
// streams adapter (a "+csr" suffix turns on connection state recovery).
func startNodeServer(t *testing.T, addr, key, name, proto string) *nodeServer {
	t.Helper()
	return startNodeServerURL(t, "redis://"+addr, key, name, proto)
}

// startNodeServerURL is startNodeServer with a Redis URL: redis://host:port,
// or cluster://host:port,host:port,... for a Redis Cluster.
func startNodeServerURL(t *testing.T, url, key, name, proto string) *nodeServer {
	t.Helper()
	csr := ""
	if strings.HasSuffix(proto, "+csr") {
		proto, csr = strings.TrimSuffix(proto, "+csr"), "csr"
	}
	p := testutil.StartNode(t, "redis-node-server.mjs", "0", url, key, name, proto, csr)
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

// waitRoomSize waits until the Node server has n local sockets in room.
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

// A Go server and a Node server (official redis adapter) in one cluster:
// every operation, in both directions.
func TestMixedCluster(t *testing.T) {
	t.Parallel()
	forProtocols(t, testMixedCluster)
}

func testMixedCluster(t *testing.T, proto string) { testMixedClusterOn(t, singleRedis(t), proto) }

// testMixedClusterOn runs the mixed Go + Node test on a Redis backend (one
// server or a Redis Cluster).
func testMixedClusterOn(t *testing.T, be backend, proto string) {
	key := randomKey(t)
	client := be.client
	g := newGoNode(t, client, key, "G", proto)
	n := startNodeServerURL(t, be.url, key, "node", proto)
	cg, cn := newClients(t, g.url), newClients(t, n.url)
	g1 := cg.connect("g1")
	n1 := cn.connect("n1")
	n2 := cn.connect("n2")
	cg.connectNsp("ga", "/admin")
	cn.connectNsp("na", "/admin")
	cg.join("g1", "room1")
	cn.join("n1", "room1")
	cn.join("n2", "room2")
	waitCount(t, g.io, 2)
	ctx := context.Background()

	if c := n.do(map[string]any{"cmd": "serverCount"})["count"]; c != 2.0 {
		t.Fatalf("Node server count %v", c)
	}

	t.Run("GoToNode", func(t *testing.T) {
		_ = g.io.Emit("hello", "w", 1, 2.5, -3, map[string]any{"bin": []byte{1, 2, 3}, "n": nil})
		want := `["w",1,2.5,-3,{"bin":{"$bin":"AQID"},"n":null}]`
		cg.eventIs("g1", "hello", want)
		cn.eventIs("n1", "hello", want)
		cn.eventIs("n2", "hello", want)

		admin, err := g.io.Of("/admin")
		if err != nil {
			t.Fatal(err)
		}
		_ = admin.Emit("adm", "a")
		cn.eventIs("na", "adm", `["a"]`)
		cg.eventIs("ga", "adm", `["a"]`)
		cn.none("n1", "adm")

		_ = g.io.To("room1").Emit("r1", "x")
		cn.eventIs("n1", "r1", `["x"]`)
		cg.eventIs("g1", "r1", `["x"]`)
		cn.none("n2", "r1")
		_ = g.io.To("room1", "room2").Except("room2").Emit("multi")
		cn.eventIs("n1", "multi", `[]`)
		cn.none("n2", "multi")
		_ = g.io.To(n2).Emit("private", "p")
		cn.eventIs("n2", "private", `["p"]`)

		if err := g.io.In("room2").SocketsJoin(ctx, "room3"); err != nil {
			t.Fatal(err)
		}
		n.waitRoomSize(t, "room3", 1)
		n.do(map[string]any{"cmd": "emit", "event": "r3", "rooms": []string{"room3"}})
		cn.eventIs("n2", "r3", `[]`)
		if err := g.io.In("room2").SocketsLeave(ctx, "room3"); err != nil {
			t.Fatal(err)
		}
		n.waitRoomSize(t, "room3", 0)
		n.do(map[string]any{"cmd": "emit", "event": "r3-again", "rooms": []string{"room3"}})
		cn.none("n2", "r3-again")

		socks, err := g.io.FetchSockets(ctx)
		if err != nil || len(socks) != 3 {
			t.Fatalf("fetched %d %v", len(socks), err)
		}
		for _, s := range socks {
			if s.ID == n1 {
				// A Node Buffer in socket.data reads as []byte (from msgpack, or
				// from the {"type":"Buffer"} form JSON gives it).
				bin, _ := s.Data.(map[string]any)["bin"].([]byte)
				if jsonOf(s.Data) != `{"bin":"AQID","server":"node"}` || !bytes.Equal(bin, []byte{1, 2, 3}) ||
					!s.Rooms.Has("room1") || s.Handshake.Query.Get("EIO") != "4" ||
					s.Handshake.Headers.Get("Host") == "" {
					t.Fatalf("Node socket %+v", s)
				}
			}
		}
		socks, err = g.io.In("room1").FetchSockets(ctx)
		if err != nil || len(socks) != 2 {
			t.Fatalf("room1: %d %v", len(socks), err)
		}
		if ca, ok := g.io.MainNamespace().Adapter().(*redisadapter.Adapter); ok {
			rooms, err := ca.AllRooms(ctx)
			if err != nil || !slices.Contains(rooms, "room2") || !slices.Contains(rooms, n1) || !slices.Contains(rooms, g1) {
				t.Fatalf("all rooms %v %v", rooms, err)
			}
		}

		if err := g.io.ServerSideEmit(ctx, "ping-server", "no-ack", 1); err != nil {
			t.Fatal(err)
		}
		ev := n.p.ExpectEv("server-side", "")
		if jsonOf(ev["args"]) != `["no-ack",1]` || ev["withAck"] != false {
			t.Fatalf("server-side %v", ev)
		}
		res, err := g.io.ServerSideEmitWithAck(ctx, "ping-server", "with-ack")
		if err != nil || len(res) != 1 || string(res[0].Raw(0)) != `{"from":"node","ok":true}` {
			t.Fatalf("answers %v %v", res, err)
		}
		n.p.ExpectEv("server-side", "")

		cg.reply("g1", "vote", "g1")
		cn.reply("n1", "vote", "n1")
		cn.reply("n2", "vote", map[string]any{"$bin": "AAE="})
		answers, err := g.io.Timeout(3*time.Second).EmitWithAck(ctx, "vote", 1)
		if err != nil || len(answers) != 3 {
			t.Fatalf("answers %d %v", len(answers), err)
		}
		var got []string
		for _, r := range answers {
			var v any
			_ = r.Decode(0, &v)
			if b, ok := v.([]byte); ok {
				got = append(got, "bin:"+jsonOf(b))
			} else {
				got = append(got, jsonOf(v))
			}
		}
		sort.Strings(got)
		if jsonOf(got) != `["\"g1\"","\"n1\"","bin:\"AAE=\""]` {
			t.Fatalf("answers %v", got)
		}
		// A Node socket fetched by the Go server: join, emit with ack.
		socks, err = g.io.In(n1).FetchSockets(ctx)
		if err != nil || len(socks) != 1 {
			t.Fatalf("fetch n1: %v %v", socks, err)
		}
		if err := socks[0].Join(ctx, "joined-remotely"); err != nil {
			t.Fatal(err)
		}
		n.waitRoomSize(t, "joined-remotely", 1)
		n.do(map[string]any{"cmd": "emit", "event": "jr", "rooms": []string{"joined-remotely"}})
		cn.eventIs("n1", "jr", `[]`)
		one, err := socks[0].Timeout(3*time.Second).EmitWithAck(ctx, "vote", 2)
		if err != nil || string(one.Raw(0)) != `"n1"` {
			t.Fatalf("remote emitWithAck: %v %v", one, err)
		}
		start := time.Now()
		answers, err = g.io.To("nobody").Timeout(3*time.Second).EmitWithAck(ctx, "vote")
		if err != nil || len(answers) != 0 || time.Since(start) > 2*time.Second {
			t.Fatalf("empty room: %v %v", answers, err)
		}
	})

	t.Run("NodeToGo", func(t *testing.T) {
		n.do(map[string]any{"cmd": "emit", "event": "from-node", "args": []any{"s", 1, 2.5, map[string]any{"b": map[string]any{"$bin": "AQID"}}}})
		want := `["s",1,2.5,{"b":{"$bin":"AQID"}}]`
		cg.eventIs("g1", "from-node", want)
		cn.eventIs("n1", "from-node", want)
		n.do(map[string]any{"cmd": "emit", "event": "nadm", "nsp": "/admin"})
		cg.eventIs("ga", "nadm", `[]`)
		cg.none("g1", "nadm")
		n.do(map[string]any{"cmd": "emit", "event": "nr1", "rooms": []string{"room1"}})
		cg.eventIs("g1", "nr1", `[]`)
		n.do(map[string]any{"cmd": "emit", "event": "nex", "except": []string{"room1"}})
		cn.eventIs("n2", "nex", `[]`)
		cg.none("g1", "nex")
		n.do(map[string]any{"cmd": "emit", "event": "to-id", "rooms": []string{g1}, "volatile": true})
		cg.eventIs("g1", "to-id", `[]`)

		n.do(map[string]any{"cmd": "socketsJoin", "rooms": []string{"room1"}, "target": []string{"roomX"}})
		waitFor(t, "g1 in roomX", func() bool { return slices.Contains(g.io.In("roomX").SocketIDs(), g1) })
		n.do(map[string]any{"cmd": "socketsLeave", "rooms": []string{"room1"}, "target": []string{"roomX"}})
		waitFor(t, "g1 out of roomX", func() bool { return len(g.io.In("roomX").SocketIDs()) == 0 })

		res := n.do(map[string]any{"cmd": "fetchSockets"})
		socks, _ := res["sockets"].([]any)
		if len(socks) != 3 {
			t.Fatalf("Node fetched %v", res)
		}
		found := false
		for _, s := range socks {
			m := s.(map[string]any)
			if m["id"] == g1 {
				found = true
				// A Go []byte reaches Node as a Buffer where Node's own servers
				// send one (msgpack), as {"type":"Buffer"} where they send
				// JSON (the classic adapter's answers).
				wantData := `{"bin":{"$bin":"AQID"},"server":"G"}`
				if proto == "classic" {
					wantData = `{"bin":{"data":[1,2,3],"type":"Buffer"},"server":"G"}`
				}
				if jsonOf(m["data"]) != wantData || !slices.Contains(m["rooms"].([]any), any("room1")) ||
					m["query"].(map[string]any)["EIO"] != "4" {
					t.Fatalf("Go socket as seen by Node: %v", m)
				}
				// Node's headers are lowercase strings. (The Go handshake has no
				// "host": net/http moves it to Request.Host.)
				if _, ok := m["headers"].(map[string]any)["sec-websocket-version"].(string); !ok {
					t.Fatalf("headers %v", m["headers"])
				}
			}
		}
		if !found {
			t.Fatalf("Go socket not fetched: %v", res)
		}
		res = n.do(map[string]any{"cmd": "fetchSockets", "rooms": []string{"room1"}})
		if socks, _ := res["sockets"].([]any); len(socks) != 2 {
			t.Fatalf("room1 %v", res)
		}
		if proto == "classic" { // allRooms exists in the classic adapter only
			res = n.do(map[string]any{"cmd": "allRooms"})
			if !slices.Contains(res["rooms"].([]any), any(g1)) {
				t.Fatalf("allRooms %v", res)
			}
		}

		n.do(map[string]any{"cmd": "serverSideEmit", "args": []any{"ping-server", "no-ack", 2}})
		if e := g.expectSide(t, `["no-ack",2]`); e.withAck {
			t.Fatal("unexpected ack")
		}
		res = n.do(map[string]any{"cmd": "serverSideEmit", "args": []any{"ping-server", "with-ack"}, "ack": true})
		g.expectSide(t, `["with-ack"]`)
		if jsonOf(res["responses"]) != `[{"from":"G","ok":true}]` {
			t.Fatalf("Node got %v", res)
		}

		cg.reply("g1", "nvote", map[string]any{"who": "g1", "b": map[string]any{"$bin": "/w=="}})
		cn.reply("n1", "nvote", "n1")
		cn.reply("n2", "nvote", "n2")
		res = n.do(map[string]any{"cmd": "emitWithAck", "event": "nvote", "timeout": 3000})
		rs, _ := res["responses"].([]any)
		if len(rs) != 3 || !slices.ContainsFunc(rs, func(v any) bool {
			return jsonOf(v) == `{"b":{"$bin":"/w=="},"who":"g1"}`
		}) {
			t.Fatalf("Node emitWithAck %v", res)
		}
		// A Go socket fetched by the Node server: join, emit with ack.
		res = n.do(map[string]any{"cmd": "remoteSocket", "socket": g1, "join": "node-joined", "event": "nvote", "timeout": 3000})
		if jsonOf(res["response"]) != `{"b":{"$bin":"/w=="},"who":"g1"}` {
			t.Fatalf("Node RemoteSocket emitWithAck: %v", res)
		}
		waitFor(t, "g1 in node-joined", func() bool { return slices.Contains(g.io.In("node-joined").SocketIDs(), g1) })
		res = n.do(map[string]any{"cmd": "emitWithAck", "event": "nvote", "rooms": []string{"nobody"}, "timeout": 3000})
		if jsonOf(res["responses"]) != `[]` {
			t.Fatalf("empty room %v", res)
		}
	})

	t.Run("Disconnect", func(t *testing.T) {
		n.do(map[string]any{"cmd": "disconnectSockets", "rooms": []string{g1}, "close": true})
		if r := cg.disconnected("g1"); r != "io server disconnect" {
			t.Fatalf("reason %q", r)
		}
		if err := g.io.In(n1).DisconnectSockets(ctx, false); err != nil {
			t.Fatal(err)
		}
		if r := cn.disconnected("n1"); r != "io server disconnect" {
			t.Fatalf("reason %q", r)
		}
	})
	_ = n1
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
