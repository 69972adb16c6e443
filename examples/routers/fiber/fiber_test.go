package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/adaptor"

	"github.com/gosio/socketio/internal/testutil"
)

// TestRouter runs the official socket.io-client against the example over
// WebSocket, polling, and polling upgraded to WebSocket, and a Fiber route
// on the same port.
func TestRouter(t *testing.T) {
	io, err := newServer()
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(newHandler(io, newApp()))
	t.Cleanup(func() { hs.Close(); _ = io.Close() })

	for _, m := range testutil.Modes {
		t.Run(m.Name, func(t *testing.T) {
			t.Parallel()
			testutil.SeedExchange(t, hs.URL, m.Transports, nil)
		})
	}
	t.Run("fiber route", func(t *testing.T) {
		res, err := http.Get(hs.URL + "/api/hello/ana")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := readAll(res.Body)
		if res.StatusCode != 200 || strings.TrimSpace(b) != `{"hello":"ana"}` {
			t.Fatalf("GET /api/hello/ana: %d %q", res.StatusCode, b)
		}
	})
}

// TestMountedInsideFiber: mounted with adaptor.HTTPHandler, Socket.IO gets
// requests whose strings share fasthttp's buffers, which fasthttp reuses
// for the next request on the same connection. What a session keeps of its
// handshake request (here the query and a header) must not change when the
// connection carries another request: the engine keeps its own copies
// (before it did, the first session read the second one's "bobby", and
// clients that upgraded failed now and then with "xhr poll error", the
// transport's name having changed too). The session's context is still
// fasthttp's recycled request context: why the example keeps Socket.IO out
// of Fiber.
func TestMountedInsideFiber(t *testing.T) {
	io, err := newServer()
	if err != nil {
		t.Fatal(err)
	}
	// During each request, look at what the first session kept.
	var firstSID atomic.Value
	seen := make(chan [2]string, 2)
	app := fiber.New()
	app.All("/socket.io/*", adaptor.HTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sid, _ := firstSID.Load().(string); sid != "" {
			if c := io.Engine().Conn(sid); c != nil {
				seen <- [2]string{c.Request().Query().Get("user"), c.Request().Header().Get("X-User")}
			}
		}
		io.ServeHTTP(w, r)
	})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() {
		_ = app.ShutdownWithTimeout(5 * time.Second)
		<-served
		_ = io.Close()
	})

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	// handshake opens a polling session for user on the connection.
	handshake := func(user string) string {
		t.Helper()
		fmt.Fprintf(conn, "GET /socket.io/?EIO=4&transport=polling&user=%s HTTP/1.1\r\nHost: x\r\nX-User: %s\r\n\r\n", user, user)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, err := readAll(res.Body)
		_ = res.Body.Close()
		i := strings.Index(body, `"sid":"`)
		if err != nil || res.StatusCode != 200 || i < 0 {
			t.Fatalf("handshake of %s: %d %q %v", user, res.StatusCode, body, err)
		}
		return body[i+7 : i+7+strings.IndexByte(body[i+7:], '"')]
	}
	first := handshake("alice")
	firstSID.Store(first)
	handshake("bobby")
	got := <-seen
	if got != [2]string{"alice", "alice"} {
		t.Fatalf("during the next request, the first session's handshake says user %q, X-User %q; "+
			"want its own (\"alice\"): the engine must keep copies of what it keeps of a request", got[0], got[1])
	}
}

func readAll(r io.Reader) (string, error) {
	b, err := io.ReadAll(r)
	return string(b), err
}
