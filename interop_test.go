package socketio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/internal/testutil"
)

// jsonEq compares a decoded JSON value with the JSON text want.
func jsonEq(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(got)
	var g any
	_ = json.Unmarshal(gb, &g)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s = %s, want %s", what, gb, want)
	}
}

func ackOf(t *testing.T, p *testutil.Proc, c string, seq int) testutil.Event {
	t.Helper()
	return p.Expect(15*time.Second, fmt.Sprintf("ack %d of %s", seq, c), func(e testutil.Event) bool {
		return e.Name() == "ack" && e.Str("c") == c && e["seq"] == float64(seq)
	})
}

func eventOf(t *testing.T, p *testutil.Proc, c, name string) testutil.Event {
	t.Helper()
	return p.Expect(15*time.Second, fmt.Sprintf("event %q of %s", name, c), func(e testutil.Event) bool {
		return e.Name() == "event" && e.Str("c") == c && e.Str("name") == name
	})
}

func TestInteropConnectWithAuth(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, _ := newTestServer(t, socketio.Config{})
		p := driver(t, url)
		id := connect(t, p, "a", tr, map[string]any{"auth": map[string]any{"token": "abc", "n": 1}, "query": map[string]any{"room": "x&y=z"}})
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "whoami", "ack": true, "seq": 1})
		ack := ackOf(t, p, "a", 1)
		jsonEq(t, "whoami", ack["args"], `[{"id":"`+id+`","auth":{"token":"abc","n":1},"room":"x&y=z","eio":"4","rooms":["`+id+`"],"nsp":"/"}]`)
	})
}

func TestInteropEventsBothWays(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, _ := newTestServer(t, socketio.Config{})
		p := driver(t, url)
		connect(t, p, "a", tr, nil)
		args := `[1,"two",{"three":[true,false]},"日本語 — ß",null,2.5,{"nested":{"deep":["x"]}}]`
		var a any
		_ = json.Unmarshal([]byte(args), &a)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "echo", "args": a})
		jsonEq(t, "echo", eventOf(t, p, "a", "echo")["args"], args)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "mensaje", "args": []any{"¡Hola desde el frontend!"}})
		jsonEq(t, "respuesta", eventOf(t, p, "a", "respuesta")["args"], `["Hola, recibí tu mensaje: ¡Hola desde el frontend!"]`)
	})
}

func TestInteropAcksBothWays(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, _ := newTestServer(t, socketio.Config{})
		p := driver(t, url)
		connect(t, p, "a", tr, nil)
		// Client to server, typed handler.
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "sum", "args": []any{[]int{1, 2, 3}}, "ack": true, "seq": 1})
		jsonEq(t, "sum ack", ackOf(t, p, "a", 1)["args"], `[6]`)
		// Server to client, from inside a handler that waits for the answer.
		p.Send(map[string]any{"cmd": "reply", "c": "a", "event": "question", "args": []any{84}})
		p.ExpectEv("replying", "a")
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "ask-me", "args": []any{3000}})
		jsonEq(t, "answer", eventOf(t, p, "a", "answer")["args"], `[84]`)
		// A client that answers too late: the server's wait times out.
		p.Send(map[string]any{"cmd": "reply", "c": "a", "event": "question", "args": []any{1}, "delay": 600})
		p.ExpectEv("replying", "a")
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "ask-me", "args": []any{150}})
		jsonEq(t, "late answer", eventOf(t, p, "a", "answer")["args"], `["error: context deadline exceeded"]`)
		// The late ack arrives after the timeout and is ignored; the socket
		// keeps working.
		time.Sleep(600 * time.Millisecond)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "sum", "args": []any{[]int{2}}, "ack": true, "seq": 2})
		jsonEq(t, "sum ack", ackOf(t, p, "a", 2)["args"], `[2]`)
	})
}

func TestInteropBinary(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, _ := newTestServer(t, socketio.Config{})
		p := driver(t, url)
		connect(t, p, "a", tr, nil)
		bin := func(b ...byte) map[string]any { return map[string]any{"$bin": b} }
		// Top-level and nested binary, echoed through generic values.
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "echo", "args": []any{
			bin(1, 2, 3), map[string]any{"nested": map[string]any{"b": bin(4, 5)}, "list": []any{bin(6), "x"}},
		}})
		jsonEq(t, "binary echo", eventOf(t, p, "a", "echo")["args"],
			`[{"$bin":"AQID"},{"list":[{"$bin":"Bg=="},"x"],"nested":{"b":{"$bin":"BAU="}}}]`)
		// Into a typed struct with []byte fields, and back in the ack.
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "upload", "ack": true, "seq": 1, "args": []any{
			map[string]any{"name": "f", "data": bin(0, 255, 7), "nested": map[string]any{"b": bin(9)}},
		}})
		jsonEq(t, "upload ack", ackOf(t, p, "a", 1)["args"], `[{"name":"f","data":{"$bin":"AP8H"},"nested":{"b":{"$bin":"CQ=="}}}]`)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "echo-bin", "args": []any{bin(10, 11)}})
		jsonEq(t, "echo-bin", eventOf(t, p, "a", "echo-bin")["args"], `[{"$bin":"Cgs="}]`)
	})
}

func TestInteropNamespaces(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, _ := newTestServer(t, socketio.Config{})
		p := driver(t, url)
		// Two namespaces multiplexed on one connection (one Manager).
		rootID := connect(t, p, "root", tr, map[string]any{"manager": "m"})
		p.Send(map[string]any{"cmd": "connect", "c": "adm", "nsp": "/admin", "manager": "m", "transports": tr})
		admID := p.ExpectEv("connect", "adm").Str("id")
		if rootID == admID {
			t.Fatal("two namespaces share a socket id")
		}
		p.Send(map[string]any{"cmd": "emit", "c": "adm", "event": "ping-admin"})
		jsonEq(t, "pong", eventOf(t, p, "adm", "pong-admin")["args"], `["pong"]`)
		p.Send(map[string]any{"cmd": "emit", "c": "adm", "event": "whoami", "ack": true, "seq": 1})
		jsonEq(t, "admin whoami", ackOf(t, p, "adm", 1)["args"].([]any)[0].(map[string]any)["nsp"], `"/admin"`)
		p.Send(map[string]any{"cmd": "emit", "c": "root", "event": "sum", "args": []any{[]int{5}}, "ack": true, "seq": 2})
		jsonEq(t, "root still works", ackOf(t, p, "root", 2)["args"], `[5]`)
		// An unknown namespace is refused.
		p.Send(map[string]any{"cmd": "connect", "c": "bad", "nsp": "/nope", "transports": tr})
		if msg := p.ExpectEv("connect_error", "bad").Str("message"); msg != "Invalid namespace" {
			t.Fatalf("connect_error %q", msg)
		}
	})
}

func TestInteropMiddlewareRefusal(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, _ := newTestServer(t, socketio.Config{})
		p := driver(t, url)
		p.Send(map[string]any{"cmd": "connect", "c": "a", "nsp": "/private", "transports": tr, "auth": map[string]any{"token": "wrong"}})
		ce := p.ExpectEv("connect_error", "a")
		if ce.Str("message") != "Not authorized" {
			t.Fatalf("message %q", ce.Str("message"))
		}
		jsonEq(t, "err.data", ce["data"], `{"reason":"no token"}`)
		p.Send(map[string]any{"cmd": "connect", "c": "b", "nsp": "/private", "transports": tr, "auth": map[string]any{"token": "secret"}})
		p.ExpectEv("connect", "b")
	})
}

func TestInteropRooms(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, _ := newTestServer(t, socketio.Config{})
		p := driver(t, url)
		ids := map[string]string{}
		for _, c := range []string{"a", "b", "c"} {
			ids[c] = connect(t, p, c, tr, nil)
		}
		for i, c := range []string{"a", "b"} {
			p.Send(map[string]any{"cmd": "emit", "c": c, "event": "join", "args": []any{"r1"}, "ack": true, "seq": i})
			jsonEq(t, "join", ackOf(t, p, c, i)["args"], `["joined r1"]`)
		}
		isRoomMsg := func(c, msg string) func(testutil.Event) bool {
			return func(e testutil.Event) bool {
				if e.Name() != "event" || e.Str("c") != c || e.Str("name") != "room-msg" {
					return false
				}
				args, _ := e["args"].([]any)
				return len(args) == 1 && args[0] == msg
			}
		}
		// To a room: members only.
		p.Send(map[string]any{"cmd": "emit", "c": "c", "event": "to-room", "args": []any{"r1", "hello r1"}})
		p.Expect(5*time.Second, "a gets room msg", isRoomMsg("a", "hello r1"))
		p.Expect(5*time.Second, "b gets room msg", isRoomMsg("b", "hello r1"))
		// Except a room: the others only.
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "except-room", "args": []any{"r1", "not r1"}})
		p.Expect(5*time.Second, "c gets except msg", isRoomMsg("c", "not r1"))
		// socket.to(room) leaves the sender out.
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "to-others-in", "args": []any{"r1"}})
		p.Expect(5*time.Second, "b gets to-others", isRoomMsg("b", "from "+ids["a"]))
		// Broadcast: everyone but the sender.
		p.Send(map[string]any{"cmd": "emit", "c": "b", "event": "broadcast", "args": []any{"hi all"}})
		eventOf(t, p, "a", "bcast")
		eventOf(t, p, "c", "bcast")
		// Nothing went where it should not: checked last, after everything
		// else has arrived.
		p.Send(map[string]any{"cmd": "emit", "c": "c", "event": "sum", "args": []any{[]int{1}}, "ack": true, "seq": 9})
		ackOf(t, p, "c", 9)
		p.ExpectNone(200*time.Millisecond, "misrouted message", func(e testutil.Event) bool {
			return isRoomMsg("c", "hello r1")(e) || isRoomMsg("a", "not r1")(e) || isRoomMsg("b", "not r1")(e) ||
				isRoomMsg("a", "from "+ids["a"])(e) || isRoomMsg("c", "from "+ids["a"])(e) ||
				(e.Name() == "event" && e.Str("c") == "b" && e.Str("name") == "bcast")
		})
	})
}

func TestInteropBroadcastWithAck(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, _ := newTestServer(t, socketio.Config{})
		p := driver(t, url)
		for _, c := range []string{"a", "b", "c"} {
			connect(t, p, c, tr, nil)
			p.Send(map[string]any{"cmd": "reply", "c": c, "event": "vote", "args": []any{"voter-" + c}})
			p.ExpectEv("replying", c)
		}
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "poll-all", "ack": true, "seq": 1, "timeout": 5000})
		jsonEq(t, "votes", ackOf(t, p, "a", 1)["args"], `[["voter-a","voter-b","voter-c"],""]`)
		// A recipient that never answers: the operation times out with the
		// answers it got.
		connect(t, p, "silent", tr, nil)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "poll-all", "ack": true, "seq": 2, "timeout": 5000})
		args := ackOf(t, p, "a", 2)["args"].([]any)
		jsonEq(t, "partial votes", args[0], `["voter-a","voter-b","voter-c"]`)
		if s, _ := args[1].(string); s == "" {
			t.Fatal("no timeout error with a silent recipient")
		}
	})
}

func TestInteropAnyListeners(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		io, url, _ := newTestServer(t, socketio.Config{})
		p := driver(t, url)
		connect(t, p, "a", tr, nil)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "mensaje", "args": []any{"x"}})
		eventOf(t, p, "a", "respuesta")
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "no-handler", "args": []any{1}})
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "any-report", "ack": true, "seq": 1})
		jsonEq(t, "any", ackOf(t, p, "a", 1)["args"], `[["mensaje","no-handler"],["respuesta"]]`)
		// send() is emit("message").
		if err := io.Send("via send", 2); err != nil {
			t.Fatal(err)
		}
		jsonEq(t, "message", eventOf(t, p, "a", "message")["args"], `["via send",2]`)
	})
}

func TestInteropVolatile(t *testing.T) {
	// Over an idle WebSocket a volatile event goes out at once; the drop
	// path is covered by TestVolatileDropsWhenBusy.
	_, url, _ := newTestServer(t, socketio.Config{})
	p := driver(t, url)
	connect(t, p, "a", []string{"websocket"}, nil)
	p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "volatile", "args": []any{7}})
	jsonEq(t, "vol", eventOf(t, p, "a", "vol")["args"], `[7]`)
}

func TestInteropDisconnectReasons(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		io, url, rec := newTestServer(t, socketio.Config{})
		p := driver(t, url)

		// Client side disconnect.
		id := connect(t, p, "a", tr, nil)
		p.Send(map[string]any{"cmd": "disconnect", "c": "a"})
		if r := p.ExpectEv("disconnect", "a").Str("reason"); r != "io client disconnect" {
			t.Fatalf("client reason %q", r)
		}
		if r := rec.reason(t, id); r != socketio.ReasonClientNamespaceDisconnect {
			t.Fatalf("server reason %q", r)
		}

		// Server side, namespace only and whole connection.
		for i, close := range []bool{false, true} {
			c := fmt.Sprint("s", i)
			id := connect(t, p, c, tr, nil)
			p.Send(map[string]any{"cmd": "emit", "c": c, "event": "disconnect-me", "args": []any{close}})
			if r := p.ExpectEv("disconnect", c).Str("reason"); r != "io server disconnect" {
				t.Fatalf("close=%v: client reason %q", close, r)
			}
			if r := rec.reason(t, id); r != socketio.ReasonServerNamespaceDisconnect {
				t.Fatalf("close=%v: server reason %q", close, r)
			}
		}

		// Shutdown is io.close(): the client sees a transport close and
		// would reconnect.
		id = connect(t, p, "z", tr, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := io.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if r := p.ExpectEv("disconnect", "z").Str("reason"); r != "transport close" {
			t.Fatalf("client reason after Shutdown %q", r)
		}
		if r := rec.reason(t, id); r != socketio.ReasonServerShuttingDown {
			t.Fatalf("server reason after Shutdown %q", r)
		}
	})
}

func TestInteropConnectTimeout(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, _ := newTestServer(t, socketio.Config{ConnectTimeout: 300 * time.Millisecond})
		p := driver(t, url)
		start := time.Now()
		p.Send(map[string]any{"cmd": "manager-open", "manager": "m", "transports": tr})
		p.ExpectEv("manager-open", "")
		ev := p.Expect(5*time.Second, "manager close", func(e testutil.Event) bool { return e.Name() == "manager-close" })
		if el := time.Since(start); el > 3*time.Second {
			t.Fatalf("closed after %v", el)
		}
		if r := ev.Str("reason"); !slices.Contains([]string{"transport close", "forced close"}, r) {
			t.Fatalf("manager close reason %q", r)
		}
	})
}
