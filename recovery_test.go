package socketio_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/internal/testutil"
)

// Connection state recovery with the official client: the transport is
// cut, events are emitted while the client is away, and on reconnection
// every missed event arrives once, in order, with the same socket id,
// its rooms, and socket.recovered true. Past MaxDisconnectionDuration the
// client gets a fresh session.
func TestInteropRecovery(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		for _, tc := range []struct {
			name      string
			maxAway   time.Duration
			recovered bool
		}{
			{"within the max duration", time.Minute, true},
			{"past the max duration", 200 * time.Millisecond, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				io, url, rec := newTestServer(t, socketio.Config{
					ConnectionStateRecovery: &socketio.RecoveryConfig{MaxDisconnectionDuration: tc.maxAway},
				})
				p := driver(t, url)
				id := connect(t, p, "a", tr, map[string]any{"reconnection": true, "reconnectionDelay": 1000, "randomizationFactor": 0})
				p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "join", "args": []any{"r1"}, "ack": true, "seq": 1})
				ackOf(t, p, "a", 1)
				_ = io.To("r1").Emit("tick", -1) // gives the client an offset
				if args := eventOf(t, p, "a", "tick")["args"].([]any); len(args) != 2 || args[0] != float64(-1) {
					t.Fatalf("first tick %v: want the offset as last argument", args)
				}

				p.Send(map[string]any{"cmd": "cut", "c": "a"})
				if r := rec.reason(t, id); r != "transport close" {
					t.Fatalf("server reason %q", r)
				}
				s := io.MainNamespace().Socket(id)
				if s != nil {
					t.Fatal("socket still registered after the cut")
				}
				const n = 5
				for i := range n {
					_ = io.To("r1").Emit("tick", i)
				}
				_ = io.Except("r1").Emit("not-for-a")
				_ = io.Emit("all", "x")

				ev := p.ExpectEv("connect", "a")
				if got := ev["recovered"] == true; got != tc.recovered {
					t.Fatalf("recovered = %v, want %v", got, tc.recovered)
				}
				if (ev.Str("id") == id) != tc.recovered {
					t.Fatalf("socket id %q after reconnect (was %q)", ev.Str("id"), id)
				}
				if !tc.recovered {
					p.ExpectNone(300*time.Millisecond, "a missed event on a fresh session", func(e testutil.Event) bool {
						return e.Name() == "event" && e.Str("name") == "tick"
					})
					return
				}
				for i := range n {
					args := eventOf(t, p, "a", "tick")["args"].([]any)
					if args[0] != float64(i) {
						t.Fatalf("missed tick %d arrived as %v", i, args)
					}
				}
				eventOf(t, p, "a", "all")
				p.ExpectNone(300*time.Millisecond, "a duplicate or misrouted event", func(e testutil.Event) bool {
					return e.Name() == "event" && (e.Str("name") == "tick" || e.Str("name") == "not-for-a" || e.Str("name") == "all")
				})
				// The recovered socket keeps its rooms and works.
				p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "whoami", "ack": true, "seq": 2})
				rooms := ackOf(t, p, "a", 2)["args"].([]any)[0].(map[string]any)["rooms"].([]any)
				if len(rooms) != 2 || !slices.Contains(rooms, any(id)) || !slices.Contains(rooms, any("r1")) {
					t.Fatalf("rooms after recovery %v, want %s and r1", rooms, id)
				}
				if s := io.MainNamespace().Socket(id); s == nil || !s.Recovered() {
					t.Fatal("server socket not marked recovered")
				}
			})
		}
	})
}

// As with Node, a CONNECT with a session's pid and an offset the server
// does not know gets a fresh session and leaves the stored one in place: a
// later CONNECT with the right offset still recovers it.
func TestInteropRecoveryUnknownOffsetKeepsSession(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		io, url, rec := newTestServer(t, socketio.Config{
			ConnectionStateRecovery: &socketio.RecoveryConfig{MaxDisconnectionDuration: time.Minute},
		})
		p := driver(t, url)
		p.Send(map[string]any{"cmd": "connect", "c": "a", "transports": tr})
		ev := p.ExpectEv("connect", "a")
		id, pid := ev.Str("id"), ev.Str("pid")
		if pid == "" {
			t.Fatalf("no pid in %v", ev)
		}
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "join", "args": []any{"r1"}, "ack": true, "seq": 1})
		ackOf(t, p, "a", 1)
		_ = io.To("r1").Emit("tick", 1)
		args := eventOf(t, p, "a", "tick")["args"].([]any)
		offset, _ := args[len(args)-1].(string)
		p.Send(map[string]any{"cmd": "cut", "c": "a"})
		rec.reason(t, id) // the session is stored before the disconnect handlers run

		p.Send(map[string]any{"cmd": "connect", "c": "b", "transports": tr, "auth": map[string]any{"pid": pid, "offset": "not-an-offset"}})
		if got := p.ExpectEv("connect", "b").Str("id"); got == id {
			t.Fatal("recovered with an unknown offset")
		}
		p.Send(map[string]any{"cmd": "connect", "c": "c", "transports": tr, "auth": map[string]any{"pid": pid, "offset": offset}})
		if got := p.ExpectEv("connect", "c").Str("id"); got != id {
			t.Fatalf("socket id %q after a recovery with the known offset, want %q", got, id)
		}
		s := io.MainNamespace().Socket(id)
		if s == nil || !s.Recovered() || !s.Rooms().Has("r1") {
			t.Fatal("the server socket was not recovered with its rooms")
		}
	})
}

// RecoveryConfig.MaxStoredBytes reaches the adapter: a client whose offset
// was pushed out by newer packets gets a fresh session, while the default
// bound keeps it.
func TestRecoveryMaxStoredBytes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		max       int
		recovered bool
	}{
		{"default bound", 0, true},
		{"small bound", 20_000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			io, url, rec := newTestServer(t, socketio.Config{ConnectionStateRecovery: &socketio.RecoveryConfig{MaxStoredBytes: tc.max}})
			c, _, err := testutil.DialWS(t, url, "/socket.io/?EIO=4&transport=websocket", nil)
			if err != nil {
				t.Fatal(err)
			}
			c.Next() // open
			c.Send("40")
			var reply struct{ SID, PID string }
			if err := json.Unmarshal([]byte(strings.TrimPrefix(c.Next().Data, "40")), &reply); err != nil || reply.PID == "" {
				t.Fatalf("connect reply: %+v %v", reply, err)
			}
			_ = io.Emit("tick", 0)
			var args []any
			_ = json.Unmarshal([]byte(strings.TrimPrefix(c.Next().Data, "42")), &args)
			offset, _ := args[len(args)-1].(string)
			_ = c.Conn.NetConn().Close()
			rec.reason(t, reply.SID)
			for i := range 100 {
				_ = io.Emit("tick", i, strings.Repeat("x", 1000))
			}
			c2, _ := rawSocket(t, url, "")
			auth, _ := json.Marshal(map[string]string{"pid": reply.PID, "offset": offset})
			c2.Send("40" + string(auth))
			m := c2.Next()
			for strings.HasPrefix(m.Data, "42") { // missed events come before the reply
				m = c2.Next()
			}
			var again struct{ SID string }
			_ = json.Unmarshal([]byte(strings.TrimPrefix(m.Data, "40")), &again)
			if got := again.SID == reply.SID; got != tc.recovered {
				t.Fatalf("recovered %v, want %v", got, tc.recovered)
			}
		})
	}
}
