package testutil

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// Mode is one way socket.io-client reaches a server.
type Mode struct {
	Name       string
	Transports []string
}

// Modes are WebSocket only, polling only, and polling upgraded to
// WebSocket (the client's default).
var Modes = []Mode{
	{"websocket", []string{"websocket"}},
	{"polling", []string{"polling"}},
	{"upgrade", []string{"polling", "websocket"}},
}

// SeedAnswer is what the seed's backend emits as "respuesta" when its
// frontend emits "mensaje" with msg.
func SeedAnswer(msg string) string { return "Hola, recibí tu mensaje: " + msg }

// SeedExchange connects the official socket.io-client (interop/sio-driver.mjs)
// to base as client "a" with the transports and the extra connect options
// (extraHeaders, query, auth...), emits "mensaje" and waits for the seed's
// "respuesta"; with two transports it also waits for the upgrade to
// WebSocket. It returns the driver, still connected, for further checks.
func SeedExchange(t testing.TB, base string, transports []string, extra map[string]any) *Proc {
	t.Helper()
	p := StartNode(t, "sio-driver.mjs", base)
	p.ExpectEv("ready", "")
	cmd := map[string]any{"cmd": "connect", "c": "a", "transports": transports}
	for k, v := range extra {
		cmd[k] = v
	}
	p.Send(cmd)
	ev := p.ExpectEv("connect", "a")
	if len(transports) == 1 && ev.Str("transport") != transports[0] {
		t.Fatalf("connected over %q, want %q\n%s", ev.Str("transport"), transports[0], p.Log())
	}
	// With both transports the client starts with polling; the upgrade
	// may end before or after the namespace's CONNECT reply.
	if len(transports) > 1 {
		if up := p.ExpectEv("upgrade", "a"); up.Str("transport") != "websocket" {
			t.Fatalf("upgraded to %q\n%s", up.Str("transport"), p.Log())
		}
	}
	const msg = "¡Hola desde el frontend!"
	p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "mensaje", "args": []any{msg}})
	got := p.Expect(15*time.Second, "respuesta", func(e Event) bool {
		return e.Name() == "event" && e.Str("c") == "a" && e.Str("name") == "respuesta"
	})
	args, _ := got["args"].([]any)
	if len(args) != 1 || args[0] != SeedAnswer(msg) {
		t.Fatalf("respuesta %v, want [%q]", got["args"], SeedAnswer(msg))
	}
	return p
}

var callSeq atomic.Int64

// Call emits event with args from client c of the driver with an
// acknowledgement and returns the arguments of the answer; an error answer
// (the ack's timeout) fails the test.
func (p *Proc) Call(c, event string, args ...any) []any {
	p.t.Helper()
	if args == nil {
		args = []any{}
	}
	seq := callSeq.Add(1)
	p.Send(map[string]any{"cmd": "emit", "c": c, "event": event, "args": args, "ack": true, "seq": seq})
	ack := p.Expect(15*time.Second, fmt.Sprintf("ack of %s", event), func(e Event) bool {
		n, _ := e["seq"].(float64)
		return e.Name() == "ack" && e.Str("c") == c && int64(n) == seq
	})
	if msg := ack.Str("error"); msg != "" {
		p.t.Fatalf("%s: %s\n%s", event, msg, p.Log())
	}
	res, _ := ack["args"].([]any)
	return res
}
