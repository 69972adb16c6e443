package socketio_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	socketio "github.com/gosio/socketio"
)

// Invalid UTF-8 sent over polling is turned into U+FFFD when it arrives, as
// Node's decoder does, so an application that relays the raw argument
// cannot break other clients: the official client, on every transport,
// stays connected and receives the replacement characters.
func TestInteropInvalidUTF8Relayed(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		srv, err := socketio.NewServer(socketio.Config{})
		if err != nil {
			t.Fatal(err)
		}
		srv.OnConnection(func(s *socketio.Socket) {
			s.On("relay", func(e *socketio.Event) {
				var raw json.RawMessage
				if err := e.Bind(&raw); err == nil {
					_ = s.Broadcast().Emit("relay", raw)
				}
			})
			s.On("echo", func(e *socketio.Event) {
				vals, _ := e.Args().Values()
				_ = s.Emit("echo", vals...)
			})
		})
		hs := httptest.NewServer(srv)
		t.Cleanup(func() { hs.Close(); _ = srv.Close() })
		p := driver(t, hs.URL)
		connect(t, p, "a", tr, nil)

		sid, _ := pollingSocket(t, hs.URL)
		req, _ := http.NewRequest("POST", hs.URL+"/socket.io/?EIO=4&transport=polling&sid="+sid,
			strings.NewReader(`42["relay","`+"\xff\xfe"+` hi"]`))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != "ok" {
			t.Fatalf("POST answered %d %q", res.StatusCode, b)
		}
		jsonEq(t, "relayed", eventOf(t, p, "a", "relay")["args"], `["\uFFFD\uFFFD hi"]`)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "echo", "args": []any{"still here"}})
		jsonEq(t, "echo", eventOf(t, p, "a", "echo")["args"], `["still here"]`)
	})
}
