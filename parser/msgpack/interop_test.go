package msgpack

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/internal/testutil"
	"github.com/gosio/socketio/parser"
)

// withBin returns v (a Reconstruct result) with every []byte replaced by
// {"$bin": base64}, the form the interop scripts print.
func withBin(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]any{"$bin": base64.StdEncoding.EncodeToString(x)}
	case []any:
		for i, e := range x {
			x[i] = withBin(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = withBin(e)
		}
	}
	return v
}

// normalize round-trips v through JSON, so that values compare as decoded
// JSON.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func jsonEq(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if g := normalize(t, got); !reflect.DeepEqual(g, w) {
		gb, _ := json.Marshal(g)
		t.Fatalf("%s = %s, want %s", what, gb, want)
	}
}

// TestNpmDecodesOurEncoding checks that npm's socket.io-msgpack-parser
// decodes our encoding of every golden packet to the expected value.
func TestNpmDecodesOurEncoding(t *testing.T) {
	wants := goldenWants()
	var args []string
	for _, v := range loadGolden(t) {
		w := wants[v.Name]
		msgs, err := Parser{}.Encode(&w.want)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, v.Name+"="+hex.EncodeToString(msgs[0].Data))
	}
	script, err := filepath.Abs("testdata/npm-decode.cjs")
	if err != nil {
		t.Fatal(err)
	}
	evs := testutil.RunNode(t, 30*time.Second, script, args...)
	if len(evs) != len(args) {
		t.Fatalf("%d results for %d messages: %v", len(evs), len(args), evs)
	}
	for _, e := range evs {
		name := e.Str("name")
		if e.Name() != "decoded" {
			t.Errorf("%s: npm could not decode our encoding: %s", name, e.Str("message"))
			continue
		}
		w := wants[name].want
		typ := w.Type
		switch typ {
		case parser.BinaryEvent:
			typ = parser.Event
		case parser.BinaryAck:
			typ = parser.Ack
		}
		want := map[string]any{"type": int(typ), "nsp": w.Namespace}
		if w.HasID {
			want["id"] = w.ID
		}
		if w.Data != nil {
			v, err := parser.Reconstruct(w.Data, w.Attachments)
			if err != nil {
				t.Fatal(err)
			}
			want["data"] = withBin(v)
		}
		if g, wn := normalize(t, e["packet"]), normalize(t, want); !reflect.DeepEqual(g, wn) {
			t.Errorf("%s: npm decoded %v, want %v", name, g, wn)
		}
	}
}

// newServer starts a Socket.IO server using the msgpack parser, with the
// same handlers on "/" and "/admin".
func newServer(t *testing.T) string {
	t.Helper()
	io, err := socketio.NewServer(socketio.Config{Parser: Parser{}})
	if err != nil {
		t.Fatal(err)
	}
	setup := func(s *socketio.Socket) {
		// Re-emit every argument, binary included.
		s.On("echo", func(e *socketio.Event) {
			vals, err := e.Args().Values()
			if err != nil {
				t.Errorf("echo: %v", err)
				return
			}
			_ = s.Emit("echo", vals...)
		})
		s.On("echo-ack", func(e *socketio.Event) {
			vals, err := e.Args().Values()
			if err != nil {
				t.Errorf("echo-ack: %v", err)
				return
			}
			_ = e.Ack(vals...)
		})
		// Ask the client, wait for its ack and report the answer.
		s.On("ask", func(e *socketio.Event) {
			vals, _ := e.Args().Values()
			ctx, cancel := context.WithTimeout(s.Context(), 5*time.Second)
			defer cancel()
			res, err := s.EmitWithAck(ctx, "question", vals...)
			if err != nil {
				_ = s.Emit("answer", "error: "+err.Error())
				return
			}
			answer, err := res.Values()
			if err != nil {
				_ = s.Emit("answer", "error: "+err.Error())
				return
			}
			_ = s.Emit("answer", answer...)
		})
		s.On("whoami", func(e *socketio.Event) {
			_ = e.Ack(map[string]any{"nsp": s.Namespace().Name(), "auth": s.Handshake().Auth})
		})
	}
	io.OnConnection(setup)
	admin, err := io.Of("/admin")
	if err != nil {
		t.Fatal(err)
	}
	admin.OnConnection(setup)
	hs := httptest.NewServer(io)
	t.Cleanup(func() {
		hs.Close()
		_ = io.Close()
	})
	return hs.URL
}

func expectEvent(t *testing.T, p *testutil.Proc, c, name string) testutil.Event {
	t.Helper()
	return p.Expect(10*time.Second, fmt.Sprintf("event %q of %s", name, c), func(e testutil.Event) bool {
		return e.Name() == "event" && e.Str("c") == c && e.Str("name") == name
	})
}

func expectAck(t *testing.T, p *testutil.Proc, c string, seq int) testutil.Event {
	t.Helper()
	return p.Expect(10*time.Second, fmt.Sprintf("ack %d of %s", seq, c), func(e testutil.Event) bool {
		return e.Name() == "ack" && e.Str("c") == c && e["seq"] == float64(seq)
	})
}

// TestInteropOfficialClient drives the official socket.io-client, configured
// with socket.io-msgpack-parser, over each transport mode.
func TestInteropOfficialClient(t *testing.T) {
	modes := []struct {
		name       string
		transports []string
	}{
		{"websocket", []string{"websocket"}},
		{"polling", []string{"polling"}},
		{"upgrade", []string{"polling", "websocket"}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			testInterop(t, m.transports)
		})
	}
}

func testInterop(t *testing.T, tr []string) {
	url := newServer(t)
	p := testutil.StartNode(t, "sio-driver.mjs", url)
	p.ExpectEv("ready", "")
	bin := func(b ...byte) map[string]any { return map[string]any{"$bin": append([]byte{}, b...)} }

	// Connect with auth, on a manager shared with a second namespace.
	p.Send(map[string]any{"cmd": "connect", "c": "a", "transports": tr, "manager": "m", "parser": "msgpack",
		"auth": map[string]any{"token": "abc", "n": 1}})
	p.ExpectEv("connect", "a")
	if len(tr) == 2 {
		p.ExpectEv("upgrade", "a")
	}
	p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "whoami", "ack": true, "seq": 1})
	jsonEq(t, "whoami", expectAck(t, p, "a", 1)["args"], `[{"nsp":"/","auth":{"token":"abc","n":1}}]`)

	// Events both ways, with nested binary.
	args := []any{1, "two", map[string]any{"three": []any{true, false}}, "日本語 — ß 😀", nil, 2.5, -7,
		bin(1, 2, 3), map[string]any{"nested": map[string]any{"b": bin(4, 5)}, "list": []any{bin(6), "x", bin()}}}
	wantArgs := `[1,"two",{"three":[true,false]},"日本語 — ß 😀",null,2.5,-7,{"$bin":"AQID"},` +
		`{"nested":{"b":{"$bin":"BAU="}},"list":[{"$bin":"Bg=="},"x",{"$bin":""}]}]`
	p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "echo", "args": args})
	jsonEq(t, "echo", expectEvent(t, p, "a", "echo")["args"], wantArgs)

	// Client to server ack, binary both ways.
	p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "echo-ack", "ack": true, "seq": 2, "args": args})
	jsonEq(t, "echo-ack", expectAck(t, p, "a", 2)["args"], wantArgs)

	// Server to client ack, binary both ways.
	p.Send(map[string]any{"cmd": "reply", "c": "a", "event": "question",
		"args": []any{bin(9, 9), map[string]any{"ok": true, "deep": []any{bin(8)}}}})
	p.ExpectEv("replying", "a")
	p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "ask", "args": []any{"q", bin(7)}})
	q := expectEvent(t, p, "a", "question")
	jsonEq(t, "question", q["args"], `["q",{"$bin":"Bw=="}]`)
	if q["withAck"] != true {
		t.Fatalf("question without an ack callback: %v", q)
	}
	jsonEq(t, "answer", expectEvent(t, p, "a", "answer")["args"], `[{"$bin":"CQk="},{"ok":true,"deep":[{"$bin":"CA=="}]}]`)

	// A second namespace on the same connection.
	p.Send(map[string]any{"cmd": "connect", "c": "adm", "nsp": "/admin", "manager": "m", "transports": tr, "parser": "msgpack"})
	p.ExpectEv("connect", "adm")
	p.Send(map[string]any{"cmd": "emit", "c": "adm", "event": "whoami", "ack": true, "seq": 3})
	jsonEq(t, "admin whoami", expectAck(t, p, "adm", 3)["args"], `[{"nsp":"/admin","auth":{}}]`)
	p.Send(map[string]any{"cmd": "emit", "c": "adm", "event": "echo", "args": []any{"adm", bin(0, 255)}})
	jsonEq(t, "admin echo", expectEvent(t, p, "adm", "echo")["args"], `["adm",{"$bin":"AP8="}]`)

	// An unknown namespace is refused with a CONNECT_ERROR.
	p.Send(map[string]any{"cmd": "connect", "c": "bad", "nsp": "/nope", "manager": "m", "transports": tr, "parser": "msgpack"})
	if msg := p.ExpectEv("connect_error", "bad").Str("message"); msg != "Invalid namespace" {
		t.Fatalf("connect_error %q", msg)
	}
	// The first socket still works.
	p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "echo-ack", "ack": true, "seq": 4, "args": []any{"still"}})
	jsonEq(t, "still", expectAck(t, p, "a", 4)["args"], `["still"]`)
}

// TestInteropDefaultParserRefused checks that a client with the default
// parser cannot talk to the msgpack server (its text packets are a parse
// error), which also shows that the tests above do use msgpack.
func TestInteropDefaultParserRefused(t *testing.T) {
	url := newServer(t)
	p := testutil.StartNode(t, "sio-driver.mjs", url)
	p.ExpectEv("ready", "")
	p.Send(map[string]any{"cmd": "connect", "c": "plain", "transports": []string{"websocket"}})
	ev := p.Expect(10*time.Second, "connect, disconnect or connect_error of plain", func(e testutil.Event) bool {
		return e.Str("c") == "plain" && (e.Name() == "connect" || e.Name() == "disconnect" || e.Name() == "connect_error")
	})
	if ev.Name() == "connect" {
		t.Fatalf("a default-parser client connected to the msgpack server\n%s", p.Log())
	}
}
