package main

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/testutil"
)

var listening = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)/socket\.io/`)

// startServe runs socketio serve on a free port and returns it with its
// URL; it is stopped with SIGINT when the test ends.
func startServe(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	s := startCLI(t, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	m := listening.FindStringSubmatch(s.expectContains("listening on"))
	if m == nil {
		t.Fatalf("no address in the first line\n%s", s.log())
	}
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		<-s.done
	})
	return s, m[1]
}

// sessionOf returns the Engine.IO session id that the serve log gives the
// socket id (its "out NSP connect" line).
func sessionOf(t *testing.T, s *proc, nsp, socketID string) string {
	t.Helper()
	l := s.expectContains(" out "+nsp+" ", `connect {"sid":"`+socketID+`"}`)
	f := strings.Fields(l)
	if len(f) < 2 {
		t.Fatalf("bad log line %q", l)
	}
	return f[1]
}

// TestServeEchoesToOfficialClient: the official socket.io-client gets its
// events echoed and its acks answered with its own arguments (binary
// included), over each transport, and serve logs every packet.
func TestServeEchoesToOfficialClient(t *testing.T) {
	s, base := startServe(t)
	d := testutil.StartNode(t, "sio-driver.mjs", base)
	d.ExpectEv("ready", "")
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := m.name
			d.Send(map[string]any{"cmd": "connect", "c": c, "nsp": "/chat", "transports": strings.Split(m.transports, ","), "auth": map[string]any{"token": "t"}})
			id := d.ExpectEv("connect", c).Str("id")
			sid := sessionOf(t, s, "/chat", id)
			s.expectContains(sid, "open     transport="+strings.Split(m.transports, ",")[0])
			s.expectContains(sid, ` in  /chat connect {"token":"t"}`)
			if m.name == "upgrade" {
				d.ExpectEv("upgrade", c)
				s.expectContains(sid, "upgrade  transport=websocket")
			}

			args := []any{"world", map[string]any{"$bin": "AAEC"}, map[string]any{"n": -1.5}}
			d.Send(map[string]any{"cmd": "emit", "c": c, "event": "hello", "args": args, "ack": true, "seq": 1})
			ack := d.ExpectEv("ack", c)
			sameJSON(t, "ack", ack["args"], `["world",{"$bin":"AAEC"},{"n":-1.5}]`)
			ev := d.Expect(15*time.Second, "the echo", func(e testutil.Event) bool {
				return e.Name() == "event" && e.Str("c") == c && e.Str("name") == "hello"
			})
			sameJSON(t, "echo", ev["args"], `["world",{"$bin":"AAEC"},{"n":-1.5}]`)
			logged := `"hello" ["world",{"$binary":"AAEC"},{"n":-1.5}]`
			s.expectContains(sid, " in  /chat event "+logged+" (ack)")
			s.expectContains(sid, " out /chat event "+logged)
			s.expectContains(sid, ` out /chat ack ["world",{"$binary":"AAEC"},{"n":-1.5}]`)

			d.Send(map[string]any{"cmd": "emit", "c": c, "event": "plain", "args": []any{}})
			d.Expect(15*time.Second, "the echo of plain", func(e testutil.Event) bool {
				return e.Name() == "event" && e.Str("c") == c && e.Str("name") == "plain"
			})
			s.expectContains(sid, ` in  /chat event "plain" []`)

			d.Send(map[string]any{"cmd": "disconnect", "c": c})
			d.ExpectEv("disconnect", c)
			s.expectContains(sid, " in  /chat disconnect (client namespace disconnect)")
			s.expectContains(sid, "close    reason=")
		})
	}
}

// TestServeWithCLI: the CLI's own commands against serve; -v logs the
// Engine.IO packets; SIGINT stops serve with code 0.
func TestServeWithCLI(t *testing.T) {
	s, base := startServe(t, "-v")
	r := runCLI(t, "", "call", base+"/any/where", "hello", `"x"`, `{"$binary":"/w=="}`).want(t, exitOK)
	if r.stdout != `["x",{"$binary":"/w=="}]`+"\n" {
		t.Fatalf("want the arguments back:\n%s", r)
	}
	s.expectContains("namespace /any/where created")
	s.expectContains("engine   out message")
	s.expectContains("engine   in  message")

	c := startCLI(t, "connect", "--format", "json", "--transports", "websocket", base)
	c.expectContains(`"state":"connected"`)
	c.send(`ping 1 "two"`)
	c.expectContains(`"event":"ping"`, `"args":[1,"two"]`)
	c.send(":quit")
	c.waitCode(exitOK)

	_ = s.cmd.Process.Signal(os.Interrupt)
	s.expectContains("shutting down")
	s.waitCode(exitOK)
}

// TestServeNamespaces: with --namespace only those (and /) are served;
// the others get "Invalid namespace", logged.
func TestServeNamespaces(t *testing.T) {
	s, base := startServe(t, "--namespace", "/chat", "-n", "news")
	if !strings.Contains(s.log(), "namespaces: / /chat /news") {
		t.Fatalf("the first line lists the namespaces\n%s", s.log())
	}
	d := testutil.StartNode(t, "sio-driver.mjs", base)
	d.ExpectEv("ready", "")
	d.Send(map[string]any{"cmd": "connect", "c": "other", "nsp": "/other"})
	if msg := d.ExpectEv("connect_error", "other").Str("message"); msg != "Invalid namespace" {
		t.Fatalf("want Invalid namespace, got %q", msg)
	}
	s.expectContains("in  /other connect refused: Invalid namespace")
	for _, nsp := range []string{"/", "/chat", "/news"} {
		d.Send(map[string]any{"cmd": "connect", "c": nsp, "nsp": nsp})
		d.ExpectEv("connect", nsp)
	}
	r := runCLI(t, "", "call", base+"/elsewhere", "x").want(t, exitRefused)
	if !strings.Contains(r.stderr, "Invalid namespace") {
		t.Fatalf("want Invalid namespace:\n%s", r)
	}
}

// TestServeCORS: any origin by default; --origin restricts.
func TestServeCORS(t *testing.T) {
	request := func(method, base, origin string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+"/socket.io/?EIO=4&transport=polling", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		if method == "OPTIONS" {
			req.Header.Set("Access-Control-Request-Method", "POST")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	handshake := func(base, origin string) *http.Response { return request("GET", base, origin) }
	_, base := startServe(t)
	resp := handshake(base, "http://example.test:8080")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://example.test:8080" ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("want 200 with the origin and credentials allowed, got %d %v", resp.StatusCode, resp.Header)
	}
	resp = request("OPTIONS", base, "https://other.test")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://other.test" {
		t.Fatalf("want the preflight allowed, got %d %v", resp.StatusCode, resp.Header)
	}

	_, base = startServe(t, "--origin", "http://good.test")
	if resp := handshake(base, "http://good.test"); resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://good.test" {
		t.Fatalf("want the listed origin allowed, got %d %v", resp.StatusCode, resp.Header)
	}
	if resp := handshake(base, "http://evil.test"); resp.StatusCode != 403 {
		t.Fatalf("want other origins refused, got %d", resp.StatusCode)
	}
	// A bad origin is a usage error.
	r := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--origin", "not an origin").want(t, exitUsage)
	if !strings.Contains(r.stderr, "CORS origin") {
		t.Fatalf("want the CORS error:\n%s", r)
	}
}
