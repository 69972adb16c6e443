package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/testutil"
)

// jsonLines decodes each line of s as a JSON object.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// sameJSON fails unless got, marshalled, is the JSON want (keys sorted).
func sameJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	wb, _ := json.Marshal(w)
	if string(b) != string(wb) {
		t.Fatalf("%s: got %s, want %s", what, b, wb)
	}
}

// eventLine checks a JSON line printed by listen or connect.
func eventLine(t *testing.T, m map[string]any, event, args string, ack bool) {
	t.Helper()
	if m["event"] != event {
		t.Fatalf("want event %q, got %v", event, m)
	}
	sameJSON(t, "args of "+event, m["args"], args)
	if got, _ := m["ack"].(bool); got != ack {
		t.Fatalf("event %q: want ack %v, got %v", event, ack, m)
	}
	ts, _ := m["time"].(string)
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		t.Fatalf("event %q: time %q: %v", event, ts, err)
	}
}

// TestClientCommands runs connect, listen, emit and call against the
// official Node server and ours, over websocket, polling and polling
// upgraded to websocket.
func TestClientCommands(t *testing.T) {
	for _, k := range peerKinds {
		t.Run(k.name, func(t *testing.T) {
			p := k.start(t)
			for _, m := range modes {
				t.Run(m.name, func(t *testing.T) {
					t.Run("listen", func(t *testing.T) { testListen(t, p, m) })
					t.Run("call", func(t *testing.T) { testCall(t, p, m) })
					t.Run("emit", func(t *testing.T) { testEmit(t, p, m) })
					t.Run("connect", func(t *testing.T) { testConnect(t, p, m) })
				})
			}
			t.Run("refused", func(t *testing.T) { testRefused(t, p) })
			t.Run("ack timeout", func(t *testing.T) { testAckTimeout(t, p) })
			t.Run("stop", func(t *testing.T) { testStop(t, p) })
			t.Run("pretty", func(t *testing.T) { testPretty(t, p) })
		})
	}
}

// listen prints the events as JSON lines; the handshake carries the
// namespace (URL path), auth, query and headers; --reply answers the
// server's ack request.
func testListen(t *testing.T, p peer, m mode) {
	r := runCLI(t, "", "listen", p.URL()+"/admin", "welcome", "news", "bin", "question",
		"--count", "4", "--transports", m.transports, "-q", "ask=1", "--query", "extra=x y",
		"-H", "X-Cli-Test: hello", "--auth", `{"user":"ann"}`, "--reply", `"yes"`, "--reply", `{"n":1}`).want(t, exitOK)
	lines := jsonLines(t, r.stdout)
	if len(lines) != 4 {
		t.Fatalf("want 4 lines:\n%s", r)
	}
	welcome, _ := lines[0]["args"].([]any)
	if lines[0]["event"] != "welcome" || len(welcome) != 1 {
		t.Fatalf("want welcome first:\n%s", r)
	}
	info := welcome[0].(map[string]any)
	delete(info, "id")
	sameJSON(t, "welcome", info, `{"nsp":"/admin","auth":{"user":"ann"},"query":{"ask":"1","extra":"x y"},"header":"hello"}`)
	eventLine(t, lines[0], "welcome", mustJSON(t, welcome), false)
	eventLine(t, lines[1], "news", `["hello",42]`, false)
	eventLine(t, lines[2], "bin", `[{"$binary":"AAEC/w=="},{"name":"blob"}]`, false)
	eventLine(t, lines[3], "question", `[7]`, true)
	ans := p.Expect(t, "answered", func(e testutil.Event) bool { return e["nsp"] == "/admin" })
	sameJSON(t, "the answer the server got", ans["args"], `["yes",{"n":1}]`)
	if !strings.Contains(r.stderr, "* connected") || !strings.Contains(r.stderr, "namespace=/admin") {
		t.Fatalf("no connected state on stderr:\n%s", r)
	}
	if m.name != "upgrade" && !strings.Contains(r.stderr, "transport="+m.transports) {
		t.Fatalf("want transport=%s on stderr:\n%s", m.transports, r)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// call prints the ack's arguments as one JSON array.
func testCall(t *testing.T, p peer, m mode) {
	r := runCLI(t, "", "call", p.URL(), "sum", "1", "2", "--transports", m.transports).want(t, exitOK)
	if r.stdout != "[3]\n" {
		t.Fatalf("want [3]:\n%s", r)
	}
	// Flags before and after the arguments; -n names the namespace.
	r = runCLI(t, "", "call", "--transports", m.transports, p.URL(), "whoami", "-n", "/admin").want(t, exitOK)
	var who []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &who); err != nil || len(who) != 1 {
		t.Fatalf("want [{...}]:\n%s", r)
	}
	if who[0]["nsp"] != "/admin" {
		t.Fatalf("want namespace /admin:\n%s", r)
	}
	if m.name != "upgrade" && who[0]["transport"] != m.transports {
		t.Fatalf("want transport %s:\n%s", m.transports, r)
	}
}

// emit sends an event and exits; with --ack it prints the answer, binary
// and negative numbers included.
func testEmit(t *testing.T, p peer, m mode) {
	r := runCLI(t, "", "emit", p.URL()+"/admin", "echo", `"fire"`, "5", "--transports", m.transports).want(t, exitOK)
	if r.stdout != "" {
		t.Fatalf("emit without --ack prints nothing:\n%s", r)
	}
	ev := p.Expect(t, "event", func(e testutil.Event) bool { return e["nsp"] == "/admin" && e["name"] == "echo" })
	sameJSON(t, "the event the server got", ev["args"], `["fire",5]`)

	r = runCLI(t, "", "emit", "--ack", "--transports", m.transports, p.URL(), "ack",
		`"a"`, `{"$binary":"AAEC"}`, "-1", `{"x":[true,null],"b":{"$binary":""}}`).want(t, exitOK)
	var answer any
	if err := json.Unmarshal([]byte(r.stdout), &answer); err != nil {
		t.Fatalf("not JSON:\n%s", r)
	}
	// (Objects holding binary values are sent with their keys sorted.)
	sameJSON(t, "the answer", answer, `["a",{"$binary":"AAEC"},-1,{"x":[true,null],"b":{"$binary":""}}]`)
}

// connect prints states and events and emits the lines typed on stdin;
// it ends with code 6 when the server disconnects the socket.
func testConnect(t *testing.T, p peer, m mode) {
	c := startCLI(t, "connect", p.URL(), "--format", "json", "--transports", m.transports)
	connected := c.expectContains(`"state":"connected"`, `"namespace":"/"`)
	c.expectContains(`"event":"welcome"`)
	c.expectContains(`"event":"news"`, `"args":["hello",42]`)
	c.expectContains(`"event":"bin"`, `"args":[{"$binary":"AAEC/w=="},{"name":"blob"}]`)
	c.send(`echo "hi" {"$binary":"AQI="} [1,{"a":null}]`)
	c.expectContains(`"event":"echo-back"`, `"args":["hi",{"$binary":"AQI="},[1,{"a":null}]]`)
	c.send(`echo hi`)         // not JSON: reported, the session goes on
	c.send(`# a comment`)     // ignored
	c.send(`:ack sum 2 3`)    // printed when the answer comes
	c.send(`"echo" "sp ace"`) // an event name as a JSON string
	c.expectContains(`"ack":"sum"`, `"args":[5]`)
	c.expectContains(`"event":"echo-back"`, `"args":["sp ace"]`)
	if !c.stderrContains("argument 1: not JSON") {
		t.Fatalf("the bad line was not reported on stderr\n%s", c.log())
	}
	if m.name == "upgrade" {
		// Reported as a transport change, or at once if the upgrade was
		// done by the time the connection was reported.
		if !strings.Contains(connected, `"transport":"websocket"`) {
			c.expectContains(`"state":"transport"`, `"name":"websocket"`)
		}
	} else if !strings.Contains(connected, `"transport":"`+m.transports+`"`) {
		t.Fatalf("want transport %s in %s", m.transports, connected)
	}
	c.send("server-disconnect")
	c.expectContains(`"state":"disconnected"`, `"reason":"io server disconnect"`)
	c.waitCode(exitDisconnected)
}

// Refused namespaces exit with code 4 and the server's message and data.
func testRefused(t *testing.T, p peer) {
	r := runCLI(t, "", "call", p.URL()+"/private", "whoami").want(t, exitRefused)
	if !strings.Contains(r.stderr, "not authorized") || !strings.Contains(r.stderr, `{"reason":"no token"}`) {
		t.Fatalf("want the middleware's message and data:\n%s", r)
	}
	runCLI(t, "", "listen", p.URL()+"/private").want(t, exitRefused)
	r = runCLI(t, "", "call", "--auth", `{"token":"secret"}`, p.URL()+"/private", "whoami").want(t, exitOK)
	if !strings.Contains(r.stdout, `"nsp":"/private"`) {
		t.Fatalf("want an answer from /private:\n%s", r)
	}
	r = runCLI(t, "", "emit", "-n", "/nope", p.URL(), "x").want(t, exitRefused)
	if !strings.Contains(r.stderr, "Invalid namespace") {
		t.Fatalf("want Invalid namespace:\n%s", r)
	}
}

// No acknowledgement within --timeout: code 5 for call and emit --ack, an
// error line in connect.
func testAckTimeout(t *testing.T, p peer) {
	r := runCLI(t, "", "call", "--timeout", "1s", p.URL(), "slow").want(t, exitTimeout)
	if !strings.Contains(r.stderr, `no acknowledgement of "slow" within 1s`) {
		t.Fatalf("want the timeout on stderr:\n%s", r)
	}
	runCLI(t, "", "emit", "--ack", "--timeout", "1s", p.URL(), "slow", "1").want(t, exitTimeout)
	c := startCLI(t, "connect", "--timeout", "1s", "--format", "json", p.URL())
	c.expectContains(`"state":"connected"`)
	c.send(":ack slow")
	c.expectContains(`"ack":"slow"`, `"error":"no acknowledgement within 1s"`)
	c.send(":quit")
	c.waitCode(exitOK)
}

// connect ends with 0 at the end of stdin, listen with 0 on SIGINT or
// after --count events.
func testStop(t *testing.T, p peer) {
	c := startCLI(t, "connect", "--format", "json", p.URL())
	c.expectContains(`"state":"connected"`)
	c.closeStdin()
	c.expectContains(`"state":"disconnected"`, `"reason":"io client disconnect"`)
	c.waitCode(exitOK)

	// --count: that many events and no more, though more follow at once.
	r := runCLI(t, "", "listen", "-c", "2", p.URL()).want(t, exitOK)
	if lines := jsonLines(t, r.stdout); len(lines) != 2 || lines[0]["event"] != "welcome" || lines[1]["event"] != "news" {
		t.Fatalf("want welcome and news only:\n%s", r)
	}

	l := startCLI(t, "listen", p.URL(), "news")
	l.expectContains(`"event":"news"`)
	l.interrupt()
	l.waitCode(exitOK)
	if strings.Contains(l.log(), "welcome") {
		t.Fatalf("listen news printed other events:\n%s", l.log())
	}
}

// The pretty form: colored with --color always, plain on a pipe.
func testPretty(t *testing.T, p peer) {
	r := runCLI(t, "", "listen", "--format", "pretty", "--color", "always", "-c", "2", p.URL(), "news", "bin").want(t, exitOK)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 ||
		!strings.Contains(lines[0], "< "+ansiEvent+"news"+ansiReset+" "+ansiString+`"hello"`+ansiReset+" "+ansiScalar+"42"+ansiReset) ||
		!strings.Contains(lines[1], ansiBinary+"<4 bytes AAEC/w==>"+ansiReset) {
		t.Fatalf("want colored news and bin lines:\n%q", r.stdout)
	}
	r = runCLI(t, "", "listen", "--format", "pretty", "-c", "2", p.URL(), "news", "bin").want(t, exitOK)
	lines = strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || strings.Contains(r.stdout, "\x1b") ||
		!strings.HasSuffix(lines[0], `< news "hello" 42`) || !strings.HasSuffix(lines[1], `< bin <4 bytes AAEC/w==> {"name":"blob"}`) {
		t.Fatalf("want plain news and bin lines:\n%q", r.stdout)
	}
}

// TestReconnection: when the server goes away, connect reports it and
// reconnects, or exits with code 6 with --no-reconnect.
func TestReconnection(t *testing.T) {
	g := startGoPeer(t).(*goPeer)
	c := startCLI(t, "connect", "--format", "json", g.URL())
	c.expectContains(`"state":"connected"`)
	n := startCLI(t, "connect", "--no-reconnect", "--format", "json", g.URL())
	n.expectContains(`"state":"connected"`)
	g.close()
	n.expectContains(`"state":"disconnected"`, `"reason":"transport close"`)
	n.waitCode(exitDisconnected)
	c.expectContains(`"state":"disconnected"`, `"reason":"transport close"`)
	c.expectContains(`"state":"reconnecting"`, `"attempt":"1"`)
	c.expectContains(`"state":"connect_error"`, `connection refused`)
	c.interrupt()
	c.waitCode(exitOK)
}

// TestConnectionFailures: a refused port, a silent server, bad URLs and
// TLS give a clear error and their exit code.
func TestConnectionFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	// Refused: every command gives up at once, whatever --timeout says.
	for _, args := range [][]string{
		{"call", closed, "x"},
		{"emit", closed, "x"},
		{"listen", closed},
		{"connect", closed},
	} {
		r := runCLI(t, "", append(args, "--timeout", "1m")...).want(t, exitConnect)
		if !strings.Contains(r.stderr, "cannot connect to "+closed) || !strings.Contains(r.stderr, "connection refused") {
			t.Fatalf("%v: want a clear error:\n%s", args, r)
		}
	}

	// A server that accepts connections and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	r := runCLI(t, "", "call", "--timeout", "1s", "http://"+silent.Addr().String(), "x").want(t, exitConnect)
	if !strings.Contains(r.stderr, "cannot connect") || !strings.Contains(r.stderr, "no connection within 1s") {
		t.Fatalf("want a timeout:\n%s", r)
	}

	for _, tc := range []struct{ url, msg string }{
		{"ftp://127.0.0.1/", "the scheme must be http, https, ws or wss"},
		{"http://", "no host"},
		{"http://[::1", "bad URL"},
	} {
		r := runCLI(t, "", "call", tc.url, "x").want(t, exitUsage)
		if !strings.Contains(r.stderr, tc.msg) {
			t.Fatalf("%s: want %q:\n%s", tc.url, tc.msg, r)
		}
	}

	// TLS with a certificate nobody signed: refused, unless --insecure.
	g := startTLSPeer(t)
	r = runCLI(t, "", "call", g.URL(), "whoami").want(t, exitConnect)
	if !strings.Contains(r.stderr, "certificate") {
		t.Fatalf("want a certificate error:\n%s", r)
	}
	for _, tr := range []string{"polling", "websocket", "polling,websocket"} {
		r = runCLI(t, "", "call", "-k", "--transports", tr, g.URL(), "sum", "20", "22").want(t, exitOK)
		if r.stdout != "[42]\n" {
			t.Fatalf("%s: want [42]:\n%s", tr, r)
		}
	}
	wss := "wss" + strings.TrimPrefix(g.URL(), "https")
	runCLI(t, "", "call", "--insecure", "--transports", "websocket", wss, "whoami").want(t, exitOK)
}
