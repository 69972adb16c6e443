package socketio_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
	"github.com/lxzan/gws"
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

// A packet waiting for its binary attachments is bounded in bytes
// (MaxBinaryPacketBytes, by default the engine's MaxPayload) and in time
// (BinaryPacketTimeout): past either the connection closes with "parse
// error"; within both the event arrives.
func TestIncompleteBinaryPacketBounds(t *testing.T) {
	placeholders := func(n int) string {
		var b strings.Builder
		b.WriteString(`45` + strconv.Itoa(n) + `-["data"`)
		for i := range n {
			b.WriteString(`,{"_placeholder":true,"num":` + strconv.Itoa(i) + `}`)
		}
		b.WriteString(`]`)
		return b.String()
	}
	for _, tc := range []struct {
		name     string
		cfg      socketio.Config
		declared int
		sent     int
		size     int
		closed   bool
	}{
		{"9 of 10 attachments of 200 KB", socketio.Config{}, 10, 9, 200_000, true},
		{"over an explicit bound", socketio.Config{MaxBinaryPacketBytes: 100_000}, 3, 2, 60_000, true},
		{"attachments that never come", socketio.Config{BinaryPacketTimeout: 300 * time.Millisecond}, 2, 1, 10, true},
		{"complete, within the bounds", socketio.Config{BinaryPacketTimeout: 5 * time.Second}, 10, 10, 90_000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			io, url, rec := newTestServer(t, tc.cfg)
			io.OnConnection(func(s *socketio.Socket) {
				s.On("data", func(e *socketio.Event) { _ = s.Emit("got", e.Args().Len()) })
			})
			c, id := rawSocket(t, url, "/")
			_ = c.Conn.WriteString(placeholders(tc.declared))
			att := make([]byte, tc.size)
			for range tc.sent {
				_ = c.Conn.WriteMessage(gws.OpcodeBinary, att) // fails once the server has closed
			}
			if tc.closed {
				if r := rec.reason(t, id); r != engineio.ReasonParseError {
					t.Fatalf("reason %q, want %q", r, engineio.ReasonParseError)
				}
				c.WaitClosed()
				return
			}
			c.Expect(`42["got",` + strconv.Itoa(tc.declared) + `]`)
		})
	}
}
