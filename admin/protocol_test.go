package admin_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/admin"
)

// The official client, acting as the UI, logs in: wrong credentials,
// none, or an unknown session get "invalid credentials"; the password
// gets a session id (16 hex digits) sent after the CONNECT reply, where a
// listener added on connect (as the UI adds them) sees it; the session id
// alone then logs in, without a new one.
func TestLogin(t *testing.T) {
	forTransports(t, func(t *testing.T, tr []string) {
		a := newApp(t, admin.Options{Auth: admin.Basic{Username: adminUser, PasswordHash: adminHash}}, socketio.Config{})
		p := driver(t, a.url)
		for i, auth := range []map[string]any{
			{"username": adminUser, "password": "nope"},
			{"username": "root", "password": adminPassword},
			{"username": adminUser},
			{},
			{"sessionId": nil},
			{"sessionId": "0123456789abcdef"},
		} {
			c := fmt.Sprint("bad", i)
			p.Send(map[string]any{"cmd": "connect", "c": c, "nsp": "/admin", "transports": tr, "auth": auth})
			if m := p.ExpectEv("connect_error", c).Str("message"); m != "invalid credentials" {
				t.Errorf("auth %v: connect_error %q, want invalid credentials", auth, m)
			}
		}

		connectUI(t, p, "ui", tr, map[string]any{"username": adminUser, "password": adminPassword})
		args := event(t, p, "ui", "session", nil)
		id, _ := args[0].(string)
		if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
			t.Fatalf("session %v", args)
		}
		event(t, p, "ui", "config", nil)
		if s, c := index(p, "ui", "session"), index(p, "ui", "connect"); s < c {
			t.Errorf("session (event %d) came before the CONNECT reply (event %d): a UI listening from its connect handler misses it", s, c)
		}

		connectUI(t, p, "again", tr, map[string]any{"sessionId": id})
		event(t, p, "again", "config", nil)
		if i := index(p, "again", "session"); i >= 0 {
			t.Errorf("a login by session id got a new session: %v", p.Seen()[i])
		}
	})
}

// The config's features for each mode, all_sockets in development mode
// only, and the commands: carried out unless ReadOnly, where they are
// ignored.
func TestConfigAndReadOnly(t *testing.T) {
	all := []string{"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS", "ALL_EVENTS"}
	for _, tc := range []struct {
		name     string
		opts     admin.Options
		features []string
	}{
		{"development", admin.Options{Auth: admin.NoAuth}, all},
		{"production", admin.Options{Auth: admin.NoAuth, Mode: admin.Production}, all[:8]},
		{"readonly development", admin.Options{Auth: admin.NoAuth, ReadOnly: true, Mode: admin.Development}, all[7:]},
		{"readonly production", admin.Options{Auth: admin.NoAuth, ReadOnly: true, Mode: admin.Production}, all[7:8]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr []string) {
				opts := tc.opts
				opts.StatsInterval = 100 * time.Millisecond
				a := newApp(t, opts, socketio.Config{})
				p := driver(t, a.url)
				app := connectApp(t, p, "app", []string{"websocket"})
				connectUI(t, p, "ui", tr, nil)
				cfg := obj(t, event(t, p, "ui", "config", nil)[0])
				if !jsonEqual(cfg["supportedFeatures"], tc.features) {
					t.Errorf("supportedFeatures %v, want %v", cfg["supportedFeatures"], tc.features)
				}
				dev := tc.opts.Mode != admin.Production
				if dev {
					event(t, p, "ui", "all_sockets", nil)
				}

				p.Send(map[string]any{"cmd": "emit", "c": "ui", "event": "join", "args": []any{"/", "from-ui", app}})
				p.Send(map[string]any{"cmd": "emit", "c": "ui", "event": "emit", "args": []any{"/", app, "fromAdmin", 1}})
				p.Send(map[string]any{"cmd": "emit", "c": "ui", "event": "_disconnect", "args": []any{"/", false, app}})
				if !tc.opts.ReadOnly {
					event(t, p, "app", "fromAdmin", argsAre(1))
					p.ExpectEv("disconnect", "app")
					if r := a.reason(t, app); r != socketio.ReasonServerNamespaceDisconnect {
						t.Errorf("disconnected by the UI: %q", r)
					}
					return
				}
				// Ignored: after a few statistics (the commands, sent
				// before, were read long ago) nothing has happened.
				for range 3 {
					event(t, p, "ui", "server_stats", nil)
				}
				if !a.connected(app) {
					t.Fatal("a read-only instrumentation let the UI disconnect a socket")
				}
				if rooms := a.io.MainNamespace().Socket(app).Rooms(); rooms.Has("from-ui") {
					t.Errorf("a read-only instrumentation let the UI make a socket join a room: %v", rooms)
				}
				if i := index(p, "app", "fromAdmin"); i >= 0 {
					t.Errorf("a read-only instrumentation let the UI emit: %v", p.Seen()[i])
				}
				if i := index(p, "ui", "all_sockets"); (i >= 0) != dev {
					t.Errorf("all_sockets sent: %v, want %v", i >= 0, dev)
				}
			})
		})
	}
}

// checkSerialized checks the shape of a SerializedSocket (§4.1 of
// docs/admin-ui.md).
func checkSerialized(t *testing.T, v any, id, nsp string, transports ...string) map[string]any {
	t.Helper()
	s := obj(t, v)
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range s {
			if !yield(k) {
				return
			}
		}
	})
	if want := []string{"clientId", "data", "handshake", "id", "nsp", "rooms", "transport"}; !slices.Equal(keys, want) {
		t.Errorf("socket keys %v, want %v", keys, want)
	}
	if s["id"] != id || s["nsp"] != nsp {
		t.Errorf("socket %v, want id %s nsp %s", s, id, nsp)
	}
	if c, _ := s["clientId"].(string); len(c) != 12 {
		t.Errorf("clientId %v: want 12 characters", s["clientId"])
	}
	if tr, _ := s["transport"].(string); !slices.Contains(transports, tr) {
		t.Errorf("transport %v, want one of %v", s["transport"], transports)
	}
	hs := obj(t, s["handshake"])
	hkeys := slices.Sorted(func(yield func(string) bool) {
		for k := range hs {
			if !yield(k) {
				return
			}
		}
	})
	if want := []string{"address", "headers", "issued", "query", "secure", "time", "url", "xdomain"}; !slices.Equal(hkeys, want) {
		t.Errorf("handshake keys %v, want %v (no auth)", hkeys, want)
	}
	issued, _ := hs["issued"].(float64)
	if d := time.Since(time.UnixMilli(int64(issued))); d < 0 || d > time.Minute {
		t.Errorf("handshake.issued %v: not epoch ms of now", hs["issued"])
	}
	if tm, _ := hs["time"].(string); !regexp.MustCompile(`^\w{3} \w{3} \d{2} \d{4} \d{2}:\d{2}:\d{2} GMT[+-]\d{4} \(.+\)$`).MatchString(tm) {
		t.Errorf("handshake.time %q: not a JavaScript Date string", tm)
	}
	if hs["address"] != "127.0.0.1" || obj(t, hs["headers"])["host"] == nil || obj(t, hs["query"])["EIO"] != "4" {
		t.Errorf("handshake %v", hs)
	}
	if u, _ := hs["url"].(string); !strings.HasPrefix(u, "/socket.io/?EIO=4&transport=") {
		t.Errorf("handshake.url %q", u)
	}
	return s
}

// Development mode: every socket, room change and event, as it happens,
// with the shapes of Node's instrumentation, and the UI's commands, over
// each transport of the UI (the app's clients use WebSocket, polling and
// the upgrade).
func TestDevelopmentEvents(t *testing.T) {
	forTransports(t, func(t *testing.T, tr []string) {
		a := newApp(t, admin.Options{Auth: admin.NoAuth, ServerID: "srv-1"}, socketio.Config{})
		p := driver(t, a.url)

		// A socket connected before the UI is in all_sockets, with its
		// rooms and data.
		early := connectApp(t, p, "early", []string{"polling"})
		p.Send(map[string]any{"cmd": "emit", "c": "early", "event": "join-room", "args": []any{"early-room"}, "ack": true, "seq": 1})
		p.ExpectEv("ack", "early")
		p.Send(map[string]any{"cmd": "emit", "c": "early", "event": "set-data", "args": []any{"eve"}})
		waitFor(t, "early's data", func() bool { return a.io.MainNamespace().Socket(early).Data() != nil })

		ui := connectUI(t, p, "ui", tr, nil)
		self := event(t, p, "ui", "socket_connected", func(args []any) bool { return obj(t, args[0])["id"] == ui })
		checkSerialized(t, self[0], ui, "/admin", tr[0])
		if !isISOTime(self[1]) {
			t.Errorf("socket_connected timestamp %v", self[1])
		}
		event(t, p, "ui", "config", nil)
		list, _ := event(t, p, "ui", "all_sockets", nil)[0].([]any)
		var got []string
		for _, v := range list {
			s := obj(t, v)
			got = append(got, fmt.Sprint(s["nsp"], " ", s["id"]))
			if s["id"] == early {
				checkSerialized(t, s, early, "/", "polling")
				if !slices.Equal(sortedStrings(s["rooms"]), sorted(early, "early-room")) || !jsonEqual(s["data"], map[string]any{"user": "eve"}) {
					t.Errorf("early socket in all_sockets: rooms %v data %v", s["rooms"], s["data"])
				}
			}
		}
		slices.Sort(got)
		if want := []string{"/ " + early, "/admin " + ui}; !slices.Equal(got, want) {
			t.Errorf("all_sockets %v, want %v", got, want)
		}

		// A socket that connects with polling and upgrades.
		sock := connectApp(t, p, "a", []string{"polling", "websocket"})
		event(t, p, "ui", "room_joined", argsAre("/", sock, sock))
		conn := event(t, p, "ui", "socket_connected", func(args []any) bool { return obj(t, args[0])["id"] == sock })
		s := checkSerialized(t, conn[0], sock, "/", "polling", "websocket")
		if !jsonEqual(s["rooms"], []string{sock}) || !jsonEqual(s["data"], map[string]any{}) {
			t.Errorf("new socket: rooms %v data %v", s["rooms"], s["data"])
		}
		if s["transport"] == "polling" {
			event(t, p, "ui", "socket_updated", argsAre(map[string]any{"id": sock, "nsp": "/", "transport": "websocket"}))
		}

		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "join-room", "args": []any{"room1"}, "ack": true, "seq": 2})
		p.ExpectEv("ack", "a")
		recv := event(t, p, "ui", "event_received", argsAre("/", sock, []any{"join-room", "room1"}))
		if !isISOTime(recv[3]) {
			t.Errorf("event_received timestamp %v", recv[3])
		}
		event(t, p, "ui", "room_joined", argsAre("/", "room1", sock))

		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "hello", "args": []any{"bob"}})
		event(t, p, "ui", "event_received", argsAre("/", sock, []any{"hello", "bob"}))
		sent := event(t, p, "ui", "event_sent", argsAre("/", sock))
		if !jsonEqual(sent[2], []any{"welcome", "hi bob"}) || !isISOTime(sent[3]) {
			t.Errorf("event_sent %v: the first event sent (acknowledgements are not events) should be welcome", sent)
		}

		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "set-data", "args": []any{"alice"}})
		event(t, p, "ui", "socket_updated", argsAre(map[string]any{"id": sock, "nsp": "/", "data": map[string]any{"user": "alice"}}))

		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "upload", "args": []any{map[string]any{"$bin": "AQID"}}, "ack": true, "seq": 3})
		event(t, p, "ui", "event_received", argsAre("/", sock, []any{"upload", map[string]any{"$bin": "AQID"}}))

		// The UI's commands.
		p.Send(map[string]any{"cmd": "emit", "c": "ui", "event": "join", "args": []any{"/", "room2", sock}})
		event(t, p, "ui", "room_joined", argsAre("/", "room2", sock))
		p.Send(map[string]any{"cmd": "emit", "c": "ui", "event": "leave", "args": []any{"/", "room2"}})
		event(t, p, "ui", "room_left", argsAre("/", "room2", sock))
		p.Send(map[string]any{"cmd": "emit", "c": "ui", "event": "join", "args": []any{"/missing", "room3"}})
		p.Send(map[string]any{"cmd": "emit", "c": "ui", "event": "emit", "args": []any{"/", "room1", "fromAdmin", 1, map[string]any{"$bin": "BAU="}}})
		event(t, p, "a", "fromAdmin", argsAre(1, map[string]any{"$bin": "BAU="}))
		event(t, p, "ui", "event_sent", argsAre("/", sock, []any{"fromAdmin", 1, map[string]any{"$bin": "BAU="}}))
		var names []string
		for _, n := range a.io.Namespaces() {
			names = append(names, n.Name())
		}
		if !slices.Equal(names, []string{"/", "/admin"}) {
			t.Errorf("namespaces %v: a command for a namespace that does not exist created it", names)
		}

		b := connectApp(t, p, "b", tr)
		p.Send(map[string]any{"cmd": "emit", "c": "ui", "event": "_disconnect", "args": []any{"/", false, b}})
		event(t, p, "ui", "socket_disconnected", argsAre("/", b, "server namespace disconnect"))
		event(t, p, "ui", "room_left", argsAre("/", b, b))
		if r := p.ExpectEv("disconnect", "b").Str("reason"); r != "io server disconnect" {
			t.Errorf("b disconnected with %q", r)
		}
		c := connectApp(t, p, "c", tr)
		p.Send(map[string]any{"cmd": "emit", "c": "ui", "event": "_disconnect", "args": []any{"/", true, c}})
		event(t, p, "ui", "socket_disconnected", argsAre("/", c))
		p.ExpectEv("disconnect", "c")
		a.reason(t, c)

		p.Send(map[string]any{"cmd": "disconnect", "c": "a"})
		event(t, p, "ui", "socket_disconnected", argsAre("/", sock, "client namespace disconnect"))
		event(t, p, "ui", "room_left", argsAre("/", sock, sock))
		event(t, p, "ui", "room_left", argsAre("/", "room1", sock))
		var order []string
		for _, e := range p.Seen() {
			args, _ := e["args"].([]any)
			if e.Str("c") == "ui" && len(args) > 2 && args[1] == sock && (e.Str("name") == "socket_disconnected" || e.Str("name") == "room_left") {
				order = append(order, e.Str("name"))
			}
		}
		if len(order) == 0 || order[0] != "socket_disconnected" {
			t.Errorf("on disconnect %v: socket_disconnected must come before room_left", order)
		}
	})
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// server_stats: every field, broadcast every 2 s (the default), counts
// drained at each one.
func TestServerStats(t *testing.T) {
	forTransports(t, func(t *testing.T, tr []string) {
		a := newApp(t, admin.Options{Auth: admin.NoAuth, Mode: admin.Production, ServerID: "srv-stats"}, socketio.Config{})
		p := driver(t, a.url)
		connectUI(t, p, "ui", tr, nil)
		event(t, p, "ui", "config", nil)
		connectApp(t, p, "poll", []string{"polling"})
		connectApp(t, p, "ws", []string{"websocket"})
		p.Send(map[string]any{"cmd": "emit", "c": "ws", "event": "hello", "args": []any{"bob"}})
		event(t, p, "ws", "welcome", nil)
		p.Send(map[string]any{"cmd": "disconnect", "c": "ws"})
		p.ExpectEv("disconnect", "ws")

		host, _ := os.Hostname()
		wantPolling := 1.0
		if tr[0] == "polling" {
			wantPolling = 2
		}
		var (
			stats   []map[string]any
			uptimes []float64
			counts  = map[string]float64{}
			reasons []string
		)
		// Every statistics the UI got (the UI connected first: the
		// clients' connections are in them; the UI's own may have been
		// drained before it joined), until two more after the close.
		after := -1
		for after < 0 || len(stats) < after+2 {
			st := obj(t, event(t, p, "ui", "server_stats", nil)[0])
			stats = append(stats, st)
			uptimes = append(uptimes, st["uptime"].(float64))
			if st["serverId"] != "srv-stats" || st["hostname"] != host || st["pid"] != float64(os.Getpid()) {
				t.Errorf("server_stats ids: %v", st)
			}
			evs, ok := st["aggregatedEvents"].([]any)
			if !ok {
				t.Fatalf("aggregatedEvents %v", st["aggregatedEvents"])
			}
			for _, v := range evs {
				e := obj(t, v)
				ts, _ := e["timestamp"].(float64)
				if int64(ts)%1000 != 0 || time.Since(time.UnixMilli(int64(ts))) > time.Minute {
					t.Errorf("aggregated event timestamp %v", e)
				}
				typ, _ := e["type"].(string)
				sub, hasSub := e["subType"]
				if hasSub != (typ == "rawDisconnection") {
					t.Errorf("aggregated event %v: subType only for rawDisconnection", e)
				}
				if hasSub {
					reasons = append(reasons, sub.(string))
					after = len(stats)
				}
				counts[typ] += e["count"].(float64)
			}
		}
		last := stats[len(stats)-1]
		if last["clientsCount"] != 2.0 || last["pollingClientsCount"] != wantPolling {
			t.Errorf("clientsCount %v pollingClientsCount %v, want 2 and %v", last["clientsCount"], last["pollingClientsCount"], wantPolling)
		}
		if !jsonEqual(last["namespaces"], []any{map[string]any{"name": "/", "socketsCount": 1}, map[string]any{"name": "/admin", "socketsCount": 1}}) {
			t.Errorf("namespaces %v", last["namespaces"])
		}
		for i := 1; i < len(uptimes); i++ {
			if d := uptimes[i] - uptimes[i-1]; d < 1.5 || d > 2.5 {
				t.Errorf("uptimes %v: %.3f s between two statistics, want 2 s", uptimes, d)
			}
		}
		if uptimes[0] <= 0 || len(stats) < 3 {
			t.Errorf("uptime %v", uptimes[0])
		}
		// Counted once each (drained at each emit): the UI's connection
		// and the two clients', at most; the closed one; the packets.
		if c := counts["rawConnection"]; c < 2 || c > 3 {
			t.Errorf("rawConnection counted %v times over %d statistics, want 2 or 3", c, len(stats))
		}
		if counts["rawDisconnection"] != 1 || len(reasons) != 1 || reasons[0] == "" {
			t.Errorf("rawDisconnection %v %q, want 1 with a reason", counts["rawDisconnection"], reasons)
		}
		for _, k := range []string{"packetsIn", "packetsOut", "bytesIn", "bytesOut"} {
			if counts[k] == 0 {
				t.Errorf("no %s in %v", k, counts)
			}
		}
		if counts["bytesOut"] < counts["packetsOut"] || counts["bytesIn"] < counts["packetsIn"] {
			t.Errorf("fewer bytes than packets: %v", counts)
		}
		t.Logf("counted %v, close reasons %q, uptimes %v", counts, reasons, uptimes)
	})
}
