package postgres_test

import (
	"bytes"
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/adapter/postgres"
)

// A Go server and a Node server (socket.io 4.8, @socket.io/postgres-adapter
// 0.5) on one PostgreSQL form one cluster: every operation, both ways,
// binary and payloads over the NOTIFY limit included (the attachments
// table); then the emitters, Node's to the Go server and Go's to the Node
// server.
func TestMixedCluster(t *testing.T) {
	t.Parallel()
	prefix, table := postgres.RandomName("mixed"), postgres.LiveTable(t)
	g := newGoNode(t, testOptions(prefix, table), "G")
	n := startNodeServer(t, prefix, table, "node")
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
	waitFor(t, "Node counts 2 servers", func() bool { return n.do(map[string]any{"cmd": "serverCount"})["count"] == 2.0 })
	ctx := context.Background()
	big := strings.Repeat("é", 5000) // 10000 bytes of JSON: through the table

	t.Run("GoToNode", func(t *testing.T) {
		_ = g.io.Emit("hello", "w", 1, 2.5, -3, map[string]any{"bin": []byte{1, 2, 3}, "n": nil})
		want := `["w",1,2.5,-3,{"bin":{"$bin":"AQID"},"n":null}]`
		cg.eventIs("g1", "hello", want)
		cn.eventIs("n1", "hello", want)
		cn.eventIs("n2", "hello", want)
		_ = g.io.Emit("text", "t")
		cn.eventIs("n1", "text", `["t"]`)
		_ = g.io.Emit("big", big)
		cn.eventIs("n2", "big", jsonOf([]string{big}))

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
		if err := g.io.In("room2").SocketsLeave(ctx, "room3"); err != nil {
			t.Fatal(err)
		}
		n.waitRoomSize(t, "room3", 0)

		socks, err := g.io.FetchSockets(ctx)
		if err != nil || len(socks) != 3 {
			t.Fatalf("fetched %d %v", len(socks), err)
		}
		for _, s := range socks {
			if s.ID == n1 {
				// A Node Buffer in socket.data arrives as {"type":"Buffer"}
				// JSON (FETCH_SOCKETS_RESPONSE is not sent in msgpack) and
				// reads as []byte.
				bin, _ := s.Data.(map[string]any)["bin"].([]byte)
				if jsonOf(s.Data) != `{"bin":"AQID","server":"node"}` || !bytes.Equal(bin, []byte{1, 2, 3}) ||
					!s.Rooms.Has("room1") || s.Handshake.Query.Get("EIO") != "4" || s.Handshake.Headers.Get("Host") == "" {
					t.Fatalf("Node socket %+v", s)
				}
			}
		}
		socks, err = g.io.In("room1").FetchSockets(ctx)
		if err != nil || len(socks) != 2 {
			t.Fatalf("room1: %d %v", len(socks), err)
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
		n.do(map[string]any{"cmd": "emit", "event": "big", "args": []any{big}})
		cg.eventIs("g1", "big", jsonOf([]string{big}))
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
				// A Go []byte reaches Node as Node's servers send a Buffer
				// in a fetchSockets answer: {"type":"Buffer"} JSON.
				if jsonOf(m["data"]) != `{"bin":{"data":[1,2,3],"type":"Buffer"},"server":"G"}` ||
					!slices.Contains(m["rooms"].([]any), any("room1")) || m["query"].(map[string]any)["EIO"] != "4" {
					t.Fatalf("Go socket as seen by Node: %v", m)
				}
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

	t.Run("Emitters", func(t *testing.T) {
		// Node's emitter leaves nsp out: Go servers route by channel.
		n.do(map[string]any{"cmd": "emitter", "op": "emit", "event": "nem", "args": []any{"e", map[string]any{"b": map[string]any{"$bin": "CQk="}}}})
		cg.eventIs("g1", "nem", `["e",{"b":{"$bin":"CQk="}}]`)
		cn.none("n1", "nem") // Node's servers drop them
		n.do(map[string]any{"cmd": "emitter", "op": "emit", "event": "nem-room", "rooms": []string{"room1"}, "volatile": true})
		cg.eventIs("g1", "nem-room", `[]`)
		n.do(map[string]any{"cmd": "emitter", "op": "emit", "event": "nem-adm", "nsp": "/admin"})
		cg.eventIs("ga", "nem-adm", `[]`)
		n.do(map[string]any{"cmd": "emitter", "op": "socketsJoin", "rooms": []string{g1}, "target": []string{"em-room"}})
		waitFor(t, "g1 in em-room", func() bool { return slices.Contains(g.io.In("em-room").SocketIDs(), g1) })
		n.do(map[string]any{"cmd": "emitter", "op": "socketsLeave", "target": []string{"em-room"}})
		waitFor(t, "g1 out of em-room", func() bool { return len(g.io.In("em-room").SocketIDs()) == 0 })
		n.do(map[string]any{"cmd": "emitter", "op": "serverSideEmit", "event": "ping-server", "args": []any{"from-emitter"}})
		g.expectSide(t, `["from-emitter"]`)

		// Go's emitter: the Node server and the Go server alike.
		pool := postgres.NewLivePool(t, postgres.LiveURL(), 2)
		e := postgres.NewEmitter(pool, postgres.EmitterOptions{ChannelPrefix: prefix, TableName: table})
		if err := e.Emit(ctx, "gem", "x", []byte{7}); err != nil {
			t.Fatal(err)
		}
		cn.eventIs("n1", "gem", `["x",{"$bin":"Bw=="}]`)
		cg.eventIs("g1", "gem", `["x",{"$bin":"Bw=="}]`)
		if err := e.To("room2").Emit(ctx, "gem-big", big); err != nil {
			t.Fatal(err)
		}
		cn.eventIs("n2", "gem-big", jsonOf([]string{big}))
		cn.none("n1", "gem-big")
		if err := e.Of("/admin").Emit(ctx, "gem-adm"); err != nil {
			t.Fatal(err)
		}
		cn.eventIs("na", "gem-adm", `[]`)
		cg.eventIs("ga", "gem-adm", `[]`)
		if err := e.In("room2").SocketsJoin(ctx, "gem-room"); err != nil {
			t.Fatal(err)
		}
		n.waitRoomSize(t, "gem-room", 1)
		if err := e.SocketsLeave(ctx, "gem-room"); err != nil {
			t.Fatal(err)
		}
		n.waitRoomSize(t, "gem-room", 0)
		if err := e.ServerSideEmit(ctx, "ping-server", "go-emitter"); err != nil {
			t.Fatal(err)
		}
		if ev := n.p.ExpectEv("server-side", ""); jsonOf(ev["args"]) != `["go-emitter"]` {
			t.Fatalf("server-side %v", ev)
		}
		g.expectSide(t, `["go-emitter"]`)
		if err := e.Emit(ctx, "connect"); err != postgres.ErrReservedEvent {
			t.Fatalf("reserved event: %v", err)
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
		pool := postgres.NewLivePool(t, postgres.LiveURL(), 2)
		e := postgres.NewEmitter(pool, postgres.EmitterOptions{ChannelPrefix: prefix, TableName: table})
		if err := e.In(n2).DisconnectSockets(ctx, true); err != nil {
			t.Fatal(err)
		}
		if r := cn.disconnected("n2"); r != "io server disconnect" {
			t.Fatalf("reason %q", r)
		}
	})

	// The Node server leaves, sending ADAPTER_CLOSE: the Go server stops
	// counting it before the heartbeat timeout (3 s).
	start := time.Now()
	n.p.Send(map[string]any{"cmd": "exit", "id": 0})
	waitCount(t, g.io, 1)
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Fatalf("the Node server was counted %v after it left", d)
	}
}
