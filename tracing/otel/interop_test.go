package otel_test

import (
	"slices"
	"testing"

	"go.opentelemetry.io/otel/propagation"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/internal/testutil"
	siootel "github.com/gosio/socketio/tracing/otel"
)

// The official socket.io-client, over each transport, sends its trace
// context in the CONNECT auth as a browser would (io(url, {auth:
// {traceparent}})): it is the connect span's parent, and the events that
// follow are spans linked to the connect span.
func TestOfficialClientTraceContext(t *testing.T) {
	for _, m := range testutil.Modes {
		t.Run(m.Name, func(t *testing.T) {
			tr := newTraced(t, siootel.Options{Propagator: propagation.TraceContext{}}, nil)
			tr.io.OnConnection(func(s *socketio.Socket) {
				s.On("work", func(e *socketio.Event) { _ = e.Ack("done") })
			})
			p := testutil.StartNode(t, "sio-driver.mjs", tr.url)
			p.ExpectEv("ready", "")
			p.Send(map[string]any{"cmd": "connect", "c": "a", "transports": m.Transports,
				"auth": map[string]any{"traceparent": "00-" + clientTrace + "-" + clientSpan + "-01"}})
			id := p.ExpectEv("connect", "a").Str("id")
			if got := p.Call("a", "work"); len(got) != 1 || got[0] != "done" {
				t.Fatalf("work = %v", got)
			}

			connect := tr.waitSpan(t, "socket.io connect /", nil)
			if p := connect.Parent(); !p.IsRemote() || p.TraceID().String() != clientTrace || p.SpanID().String() != clientSpan {
				t.Errorf("connect span parent %v, want the client's", p)
			}
			if tp := attrs(connect)["socket.io.transport"].AsString(); !slices.Contains(m.Transports, tp) {
				t.Errorf("transport %q, want one of %q", tp, m.Transports)
			}
			checkAttrs(t, connect, map[string]string{"messaging.client.id": id})
			ev := tr.waitSpan(t, "socket.io event work", nil)
			if !linkedTo(ev, connect.SpanContext()) || len(ev.Events()) != 1 {
				t.Errorf("event span links %v events %v", ev.Links(), ev.Events())
			}
			checkAttrs(t, ev, map[string]string{"messaging.client.id": id, "socket.io.ack": "true"})
		})
	}
}
