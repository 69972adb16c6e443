package socketio_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/client"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/internal/testutil"
)

// python-socketio's disconnect() over polling POSTs "41" and the close
// packet, then waits for its held GET: that GET must always be answered
// (it once hung about 1 in 20 times). Over WebSocket as a control.
func TestInteropPythonDisconnect(t *testing.T) {
	for _, tr := range []string{"polling", "websocket"} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			_, url, _ := newTestServer(t, socketio.Config{})
			const rounds = 30
			evs := testutil.RunPython(t, 90*time.Second, "py_disconnect.py", url, tr, strconv.Itoa(rounds))
			n := 0
			for _, e := range evs {
				if e.Name() == "round" {
					n++
				}
			}
			if n != rounds {
				t.Fatalf("%d rounds of %d: %v", n, rounds, evs)
			}
		})
	}
}

// After a malformed packet the server closes the connection in order, as
// Node does: the official client sees "transport close" (over polling its
// next poll carries the close packet), never a failed request ("transport
// error"), and the server's socket sees "parse error".
func TestInteropParseErrorReason(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, rec := newTestServer(t, socketio.Config{})
		p := driver(t, url)
		for i := range 10 {
			c := fmt.Sprintf("c%d", i)
			id := connect(t, p, c, tr, nil)
			p.Send(map[string]any{"cmd": "raw", "c": c, "data": `2["echo",1`})
			ev := p.ExpectEv("disconnect", c)
			if r := ev.Str("reason"); r != "transport close" {
				t.Fatalf("round %d: client reason %q, want \"transport close\"\n%s", i, r, p.Log())
			}
			if r := rec.reason(t, id); r != engineio.ReasonParseError {
				t.Fatalf("round %d: server reason %q", i, r)
			}
		}
	})
}

// AllowRequest is asked about handshakes only, as Node's allowRequest: a
// client that upgrades from polling to WebSocket is asked about once.
func TestAllowRequestHandshakeOnly(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		var calls atomic.Int32
		_, url, _ := newTestServer(t, socketio.Config{Engine: engineio.Config{
			AllowRequest: func(*http.Request) error { calls.Add(1); return nil },
		}})
		p := driver(t, url)
		connect(t, p, "a", tr, nil)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "echo-ack", "args": []any{1}, "ack": true, "seq": 1})
		ackOf(t, p, "a", 1)
		if n := calls.Load(); n != 1 {
			t.Fatalf("AllowRequest called %d times for one connection, want 1", n)
		}
	})
}

// An empty binary value stays an empty Buffer both ways, over every
// transport (over polling it travels as "b" with no base64 at all).
func TestInteropEmptyBinary(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, _ := newTestServer(t, socketio.Config{})
		p := driver(t, url)
		connect(t, p, "a", tr, nil)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "echo", "args": []any{map[string]any{"$bin": ""}, map[string]any{"nested": map[string]any{"$bin": ""}}}})
		ev := eventOf(t, p, "a", "echo")
		jsonEq(t, "echo of empty buffers", ev["args"], `[{"$bin":""},{"nested":{"$bin":""}}]`)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "echo-bin", "args": []any{map[string]any{"$bin": ""}}})
		ev = eventOf(t, p, "a", "echo-bin")
		jsonEq(t, "echo-bin of an empty buffer", ev["args"], `[{"$bin":""}]`)
	})
}

// The handshake reaches JavaScript in the shape of Node's socket.handshake:
// query values as strings, lower-case header names with string values,
// time as Date.prototype.toString prints it, issued in milliseconds.
func TestInteropHandshakeShape(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, _ := newTestServer(t, socketio.Config{})
		p := driver(t, url)
		connect(t, p, "a", tr, map[string]any{"auth": map[string]any{"k": "v"}, "query": map[string]any{"room": "r1"}})
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "handshake", "ack": true, "seq": 1})
		args, _ := ackOf(t, p, "a", 1)["args"].([]any)
		if len(args) != 1 {
			t.Fatalf("ack args %v", args)
		}
		hs, _ := args[0].(map[string]any)
		q, _ := hs["query"].(map[string]any)
		if q["room"] != "r1" || q["EIO"] != "4" || q["transport"] != tr[0] {
			t.Fatalf("query %v", q)
		}
		h, _ := hs["headers"].(map[string]any)
		if host, _ := h["host"].(string); host == "" {
			t.Fatalf("headers %v: no lower-case host string", h)
		}
		for k, v := range h {
			if _, ok := v.(string); (!ok && k != "set-cookie") || k != strings.ToLower(k) {
				t.Fatalf("header %q = %#v, want a lower-case name and a string", k, v)
			}
		}
		tm, _ := hs["time"].(string)
		if !nodeDateRE.MatchString(tm) {
			t.Fatalf("time %q is not in Date.prototype.toString's form", tm)
		}
		issued, _ := hs["issued"].(float64)
		if d := time.Since(time.UnixMilli(int64(issued))); d < 0 || d > time.Minute {
			t.Fatalf("issued %v", hs["issued"])
		}
		jsonEq(t, "auth", hs["auth"], `{"k":"v"}`)
		if hs["xdomain"] != false || hs["secure"] != false || hs["address"] != "127.0.0.1" {
			t.Fatalf("handshake %v", hs)
		}
	})
}

var nodeDateRE = regexp.MustCompile(`^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{4} \d{2}:\d{2}:\d{2} GMT[+-]\d{4} \(.+\)$`)

// The Go client keeps an empty binary value binary too, both ways.
func TestGoClientEmptyBinary(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, _ := newTestServer(t, socketio.Config{})
		s, err := client.New(url, &client.Options{Transports: tr})
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan []byte, 1)
		client.On(s, "echo-bin", func(b []byte) { got <- b })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Emit("echo-bin", []byte{}); err != nil {
			t.Fatal(err)
		}
		select {
		case b := <-got:
			if b == nil || len(b) != 0 {
				t.Fatalf("got %#v, want an empty, non-nil []byte", b)
			}
		case <-ctx.Done():
			t.Fatal("no echo-bin")
		}
	})
}
