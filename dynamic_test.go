package socketio_test

import (
	"errors"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
)

// Dynamic namespaces by regular expression and by function, with the
// official client: children are created on first connect, the parent's
// middleware and handlers apply to them, the parent's Emit reaches all of
// them, static namespaces win, and empty children can be cleaned up.
func TestInteropDynamicNamespaces(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		io, err := socketio.NewServer(socketio.Config{CleanupEmptyChildNamespaces: true})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var created []string
		io.OnNewNamespace(func(n *socketio.Namespace) {
			mu.Lock()
			created = append(created, n.Name())
			mu.Unlock()
		})
		whoami := func(kind string) func(*socketio.Socket) {
			return func(s *socketio.Socket) {
				s.On("whoami", func(e *socketio.Event) { _ = e.Ack(kind, s.Namespace().Name(), s.Data()) })
			}
		}
		dyn := io.OfRegexp(regexp.MustCompile(`^/dynamic-\d+$`))
		dyn.Use(func(s *socketio.Socket) error {
			s.SetData("checked by the parent")
			return nil
		})
		dyn.OnConnection(whoami("regexp"))
		tenants := io.OfFunc(func(name string, auth map[string]any) bool {
			return strings.HasPrefix(name, "/tenant-") && auth["key"] == "k"
		})
		tenants.Use(func(s *socketio.Socket) error {
			if s.Handshake().Auth["user"] == "banned" {
				return errors.New("banned")
			}
			return nil
		})
		tenants.OnConnection(whoami("func"))
		of(t, io, "/dynamic-7").OnConnection(whoami("static"))

		hs := httptest.NewServer(io)
		t.Cleanup(func() { hs.Close(); _ = io.Close() })
		p := driver(t, hs.URL)

		for i, c := range []struct{ c, nsp, kind, data string }{
			{"d1", "/dynamic-1", "regexp", "checked by the parent"},
			{"d2", "/dynamic-22", "regexp", "checked by the parent"},
			{"st", "/dynamic-7", "static", ""},
		} {
			p.Send(map[string]any{"cmd": "connect", "c": c.c, "nsp": c.nsp, "transports": tr})
			p.ExpectEv("connect", c.c)
			p.Send(map[string]any{"cmd": "emit", "c": c.c, "event": "whoami", "ack": true, "seq": i})
			want := `["` + c.kind + `","` + c.nsp + `",null]`
			if c.data != "" {
				want = `["` + c.kind + `","` + c.nsp + `","` + c.data + `"]`
			}
			jsonEq(t, c.nsp, ackOf(t, p, c.c, i)["args"], want)
		}
		if err := dyn.Emit("hello", "children"); err != nil {
			t.Fatal(err)
		}
		eventOf(t, p, "d1", "hello")
		eventOf(t, p, "d2", "hello")

		p.Send(map[string]any{"cmd": "connect", "c": "t1", "nsp": "/tenant-a", "transports": tr, "auth": map[string]any{"key": "k"}})
		p.ExpectEv("connect", "t1")
		p.Send(map[string]any{"cmd": "emit", "c": "t1", "event": "whoami", "ack": true, "seq": 9})
		jsonEq(t, "tenant", ackOf(t, p, "t1", 9)["args"], `["func","/tenant-a",null]`)
		for _, bad := range []struct {
			c, nsp, msg string
			auth        map[string]any
		}{
			{"x1", "/dynamic-x", "Invalid namespace", nil},
			{"x2", "/tenant-b", "Invalid namespace", map[string]any{"key": "wrong"}},
			{"x3", "/tenant-c", "banned", map[string]any{"key": "k", "user": "banned"}},
		} {
			p.Send(map[string]any{"cmd": "connect", "c": bad.c, "nsp": bad.nsp, "transports": tr, "auth": bad.auth})
			if m := p.ExpectEv("connect_error", bad.c).Str("message"); m != bad.msg {
				t.Fatalf("%s: connect_error %q, want %q", bad.nsp, m, bad.msg)
			}
		}

		mu.Lock()
		got := strings.Join(created, ",")
		mu.Unlock()
		if got != "/dynamic-1,/dynamic-22,/tenant-a,/tenant-c" {
			t.Fatalf("new namespaces %s", got)
		}
		// Cleanup: a child goes away with its last socket.
		p.Send(map[string]any{"cmd": "disconnect", "c": "d1"})
		deadline := time.Now().Add(5 * time.Second)
		for len(dyn.Children()) != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("children %d, want 1 after the cleanup", len(dyn.Children()))
			}
			time.Sleep(10 * time.Millisecond)
		}
		if dyn.Children()[0].Name() != "/dynamic-22" {
			t.Fatalf("kept %s", dyn.Children()[0].Name())
		}
	})
}
