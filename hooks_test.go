package socketio_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/engineio/packet"
)

// The engine-level observers of a connection, with the official client:
// packets in and out with their sizes, drain, heartbeat, upgrade, close.
func TestInteropEngineHooks(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		io, err := socketio.NewServer(socketio.Config{Engine: engineio.Config{PingInterval: 150 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		count := map[string]int{}
		bytesIn := 0
		inc := func(k string, n int) { mu.Lock(); count[k] += n; mu.Unlock() }
		closed := make(chan string, 1)
		io.OnConnection(func(s *socketio.Socket) {
			c := s.Conn()
			c.OnPacketIn(func(t packet.Type, size int) {
				inc("in:"+t.String(), 1)
				mu.Lock()
				bytesIn += size
				mu.Unlock()
			})
			c.OnPacketOut(func(t packet.Type, size int) { inc("out:"+t.String(), 1) })
			c.OnDrain(func() { inc("drain", 1) })
			c.OnHeartbeat(func() { inc("heartbeat", 1) })
			c.OnUpgrade(func(string) { inc("upgrade", 1) })
			c.OnClose(func(reason string, _ error) { closed <- reason })
			socketio.On(s, "mensaje", func(d string) { _ = s.Emit("respuesta", d) })
		})
		hs := httptest.NewServer(io)
		t.Cleanup(func() { hs.Close(); _ = io.Close() })
		p := driver(t, hs.URL)
		connect(t, p, "a", tr, nil)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "mensaje", "args": []any{"héllo"}})
		eventOf(t, p, "a", "respuesta")
		deadline := time.Now().Add(15 * time.Second)
		for { // a few heartbeats
			mu.Lock()
			n := count["heartbeat"]
			mu.Unlock()
			if n >= 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d heartbeats in 15 s at a 150 ms interval", n)
			}
			time.Sleep(20 * time.Millisecond)
		}
		p.Send(map[string]any{"cmd": "disconnect", "c": "a"})
		select {
		case r := <-closed:
			if r != engineio.ReasonTransportClose {
				t.Fatalf("close reason %q", r)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no close")
		}
		mu.Lock()
		defer mu.Unlock()
		// The CONNECT reply went out before the handlers were set: one
		// message out is the answer.
		if count["in:message"] < 1 || count["out:message"] < 1 || count["out:ping"] < 2 ||
			count["in:pong"] < 2 || count["heartbeat"] < 2 || count["drain"] < 1 || bytesIn < len(`42["mensaje","héllo"]`) {
			t.Fatalf("counts %v, bytes in %d", count, bytesIn)
		}
		if want := map[bool]int{true: 1, false: 0}[len(tr) == 2]; count["upgrade"] != want {
			t.Fatalf("upgrades %d, want %d", count["upgrade"], want)
		}
	})
}

// AllowRequest and the cookie work at the Socket.IO level (Config.Engine).
func TestAllowRequestAndCookie(t *testing.T) {
	srv, err := socketio.NewServer(socketio.Config{Engine: engineio.Config{
		Cookie: &http.Cookie{Name: "sticky"},
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("token") != "ok" {
				return errors.New("no token")
			}
			return nil
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer func() { hs.Close(); _ = srv.Close() }()
	get := func(q string) (*http.Response, string) {
		res, err := http.Get(hs.URL + "/socket.io/?EIO=4&transport=polling" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	if res, body := get(""); res.StatusCode != 403 || body != `{"code":4,"message":"no token"}` {
		t.Fatalf("refused: %d %s", res.StatusCode, body)
	}
	res, body := get("&token=ok")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Set-Cookie"), "sticky=") {
		t.Fatalf("allowed: %d %v %s", res.StatusCode, res.Header, body)
	}
}
