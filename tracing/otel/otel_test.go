package otel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/client"
	"github.com/gosio/socketio/engineio"
	siootel "github.com/gosio/socketio/tracing/otel"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// traced is a server instrumented with an in-memory span recorder.
type traced struct {
	io  *socketio.Server
	url string
	sr  *tracetest.SpanRecorder
	tp  *sdktrace.TracerProvider
}

// wrap, when not nil, wraps the server's handler (a middleware).
func newTraced(t *testing.T, opts siootel.Options, wrap func(http.Handler) http.Handler) *traced {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	// The middleware's span reaches the sockets through the request's
	// context, which the session keeps when asked.
	io, err := socketio.NewServer(socketio.Config{Engine: engineio.Config{SessionContext: engineio.KeepRequestContext}})
	if err != nil {
		t.Fatal(err)
	}
	opts.TracerProvider = tp
	if err := siootel.Instrument(io, opts); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = io
	if wrap != nil {
		h = wrap(io)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(func() {
		_ = io.Close()
		hs.Close()
		_ = tp.Shutdown(context.Background())
	})
	return &traced{io: io, url: hs.URL, sr: sr, tp: tp}
}

// waitSpan waits for an ended span with the name for which match (nil:
// any) is true.
func (tr *traced) waitSpan(t *testing.T, name string, match func(sdktrace.ReadOnlySpan) bool) sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var names []string
		for _, s := range tr.sr.Ended() {
			if s.Name() == name && (match == nil || match(s)) {
				return s
			}
			names = append(names, s.Name())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no span %q; ended: %q", name, names)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// checkAttrs compares the span's attributes with want (values written
// with Value.String).
func checkAttrs(t *testing.T, s sdktrace.ReadOnlySpan, want map[string]string) {
	t.Helper()
	got := attrs(s)
	for k, v := range want {
		if g, ok := got[attribute.Key(k)]; !ok || g.String() != v {
			t.Errorf("%s: %s = %q (present %v), want %q", s.Name(), k, g.String(), ok, v)
		}
	}
}

func linkedTo(s sdktrace.ReadOnlySpan, sc trace.SpanContext) bool {
	for _, l := range s.Links() {
		if l.SpanContext.Equal(sc) {
			return true
		}
	}
	return false
}

func dial(t *testing.T, url string, opts *client.Options) *client.Socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts.NoReconnection = true
	s, err := client.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

const (
	clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpan  = "00f067aa0ba902b7"
)

// A session of the Go client over each transport: the connect span with
// the client's trace context from its CONNECT auth, a refused connect, an
// event span whose handler's own span is its child, the ack sent as an
// event of it or (sent later) as a span of its own, a received ack as a
// span covering its latency, a refused event, and a mapped event name.
func TestSpans(t *testing.T) {
	for _, transports := range [][]string{{client.WebSocket}, {client.Polling}} {
		t.Run(transports[0], func(t *testing.T) {
			tr := newTraced(t, siootel.Options{
				Propagator: propagation.TraceContext{},
				EventName:  siootel.Allow("work", "ask", "late", "forbidden"),
			}, nil)
			handlerTracer := tr.tp.Tracer("app")
			admin, err := tr.io.Of("/admin")
			if err != nil {
				t.Fatal(err)
			}
			admin.Use(func(*socketio.Socket) error { return errors.New("Not authorized") })
			tr.io.OnConnection(func(s *socketio.Socket) {
				s.Use(func(e *socketio.Event) error {
					if e.Name == "forbidden" {
						return errors.New("not allowed")
					}
					return nil
				})
				s.On("work", func(e *socketio.Event) {
					_, span := handlerTracer.Start(e.Context(), "db query")
					time.Sleep(time.Millisecond)
					span.End()
					_ = e.Ack("done")
				})
				s.On("late", func(e *socketio.Event) {
					go func() {
						time.Sleep(20 * time.Millisecond)
						_ = e.Ack("later")
					}()
				})
				s.On("ask", func(e *socketio.Event) {
					ctx, cancel := context.WithTimeout(e.Context(), 5*time.Second)
					defer cancel()
					args, err := s.EmitWithAck(ctx, "question")
					if err != nil {
						_ = e.AckError(err)
						return
					}
					var n int
					_ = args.Bind(&n)
					_ = e.Ack(n)
				})
			})
			c := dial(t, tr.url, &client.Options{Transports: transports, Socket: client.SocketOptions{
				Auth: map[string]any{"traceparent": "00-" + clientTrace + "-" + clientSpan + "-01", "token": 7},
			}})
			client.OnAck(c, "question", func(struct{}) int {
				time.Sleep(30 * time.Millisecond)
				return 42
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := c.Manager().Socket("/admin", nil).Connect(ctx); err == nil {
				t.Fatal("connect to /admin accepted")
			}
			for _, ev := range []string{"work", "late", "ask"} {
				if _, err := c.EmitWithAck(ctx, ev); err != nil {
					t.Fatalf("%s: %v", ev, err)
				}
			}
			_ = c.Emit("forbidden")
			_ = c.Emit("random-name", 1)

			connect := tr.waitSpan(t, "socket.io connect /", nil)
			if connect.SpanKind() != trace.SpanKindServer || connect.Status().Code != codes.Unset {
				t.Errorf("connect span kind %v status %v", connect.SpanKind(), connect.Status())
			}
			if p := connect.Parent(); !p.IsRemote() || p.TraceID().String() != clientTrace || p.SpanID().String() != clientSpan {
				t.Errorf("connect span parent %v, want the client's %s-%s", p, clientTrace, clientSpan)
			}
			checkAttrs(t, connect, map[string]string{
				"messaging.system": "socket.io", "messaging.operation.name": "connect",
				"messaging.destination.name": "/", "messaging.client.id": c.ID(),
				"socket.io.transport": transports[0], "socket.io.recovered": "false", "client.address": "127.0.0.1",
			})

			refused := tr.waitSpan(t, "socket.io connect /admin", nil)
			if refused.Status().Code != codes.Error || refused.Status().Description != "Not authorized" {
				t.Errorf("refused connect status %v", refused.Status())
			}
			if evs := refused.Events(); len(evs) != 1 || evs[0].Name != "exception" {
				t.Errorf("refused connect events %v", evs)
			}

			work := tr.waitSpan(t, "socket.io event work", nil)
			if work.SpanKind() != trace.SpanKindConsumer || !linkedTo(work, connect.SpanContext()) {
				t.Errorf("event span kind %v links %v", work.SpanKind(), work.Links())
			}
			if work.Parent().IsValid() {
				t.Errorf("event span has parent %v; the socket's context has no span", work.Parent())
			}
			checkAttrs(t, work, map[string]string{
				"messaging.operation.type": "process", "messaging.operation.name": "event",
				"messaging.destination.name": "/", "messaging.client.id": c.ID(),
				"socket.io.event": "work", "socket.io.ack": "true",
				"messaging.message.body.size": fmt.Sprint(len(`["work"]`)),
			})
			if evs := work.Events(); len(evs) != 1 || evs[0].Name != "socket.io ack sent" {
				t.Errorf("work span events %v", evs)
			}
			db := tr.waitSpan(t, "db query", nil)
			if db.Parent().SpanID() != work.SpanContext().SpanID() || db.SpanContext().TraceID() != work.SpanContext().TraceID() {
				t.Errorf("the handler's span is not a child of the event's: parent %v, event %v", db.Parent(), work.SpanContext())
			}

			late := tr.waitSpan(t, "socket.io event late", nil)
			lateAck := tr.waitSpan(t, "socket.io ack /", func(s sdktrace.ReadOnlySpan) bool { return s.SpanKind() == trace.SpanKindProducer })
			if lateAck.Parent().SpanID() != late.SpanContext().SpanID() {
				t.Errorf("late ack parent %v, want the event span %v", lateAck.Parent(), late.SpanContext())
			}
			checkAttrs(t, lateAck, map[string]string{"socket.io.event": "late", "messaging.operation.type": "send"})
			if len(late.Events()) != 0 {
				t.Errorf("late span events %v", late.Events())
			}

			ack := tr.waitSpan(t, "socket.io ack /", func(s sdktrace.ReadOnlySpan) bool { return s.SpanKind() == trace.SpanKindConsumer })
			if d := ack.EndTime().Sub(ack.StartTime()); d < 30*time.Millisecond || !linkedTo(ack, connect.SpanContext()) {
				t.Errorf("ack received span lasts %v, links %v", d, ack.Links())
			}
			checkAttrs(t, ack, map[string]string{"messaging.operation.type": "receive", "messaging.operation.name": "ack"})
			if lat := attrs(ack)["socket.io.ack.latency"].AsFloat64(); lat < 0.03 {
				t.Errorf("ack latency %v", lat)
			}
			ask := tr.waitSpan(t, "socket.io event ask", nil)
			if ack.StartTime().Before(ask.StartTime()) || ack.EndTime().After(ask.EndTime()) {
				t.Errorf("the ack received (%v-%v) is not within the handler that asked (%v-%v)",
					ack.StartTime(), ack.EndTime(), ask.StartTime(), ask.EndTime())
			}

			forbidden := tr.waitSpan(t, "socket.io event forbidden", nil)
			if forbidden.Status().Code != codes.Error || forbidden.Status().Description != "not allowed" {
				t.Errorf("refused event status %v", forbidden.Status())
			}
			other := tr.waitSpan(t, "socket.io event other", nil)
			checkAttrs(t, other, map[string]string{"socket.io.event": "random-name", "socket.io.ack": "false"})
		})
	}
}

// Where the connect span's parent comes from: the auth payload first, the
// handshake's traceparent header when the socket's context has no span,
// else the socket context's span; NewRoot makes event spans roots.
func TestParents(t *testing.T) {
	const (
		authTrace, authSpan = "11111111111111111111111111111111", "1111111111111111"
		hdrTrace, hdrSpan   = "22222222222222222222222222222222", "2222222222222222"
		mwTrace, mwSpan     = "33333333333333333333333333333333", "3333333333333333"
	)
	tp := func(tr, sp string) string { return "00-" + tr + "-" + sp + "-01" }
	// withSpan puts a span context in the requests' context, as otelhttp
	// would.
	withSpan := func(h http.Handler) http.Handler {
		tid, _ := trace.TraceIDFromHex(mwTrace)
		sid, _ := trace.SpanIDFromHex(mwSpan)
		sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(trace.ContextWithSpanContext(r.Context(), sc)))
		})
	}
	for _, tc := range []struct {
		name       string
		propagator propagation.TextMapPropagator
		auth       map[string]any
		header     string
		wrap       func(http.Handler) http.Handler
		newRoot    bool
		parent     string // trace-span of the connect span's parent, "" none
		eventChild bool   // the event span's parent is the middleware's span
	}{
		{"auth over header", propagation.TraceContext{}, map[string]any{"traceparent": tp(authTrace, authSpan)}, tp(hdrTrace, hdrSpan), nil, false, authTrace + "-" + authSpan, false},
		{"header", propagation.TraceContext{}, nil, tp(hdrTrace, hdrSpan), nil, false, hdrTrace + "-" + hdrSpan, false},
		{"bad auth, header", propagation.TraceContext{}, map[string]any{"traceparent": "garbage"}, tp(hdrTrace, hdrSpan), nil, false, hdrTrace + "-" + hdrSpan, false},
		{"no propagator", nil, map[string]any{"traceparent": tp(authTrace, authSpan)}, tp(hdrTrace, hdrSpan), nil, false, "", false},
		{"nothing sent", propagation.TraceContext{}, nil, "", nil, false, "", false},
		{"socket context's span over header", propagation.TraceContext{}, nil, tp(hdrTrace, hdrSpan), withSpan, false, mwTrace + "-" + mwSpan, true},
		{"auth over socket context's span", propagation.TraceContext{}, map[string]any{"traceparent": tp(authTrace, authSpan)}, "", withSpan, false, authTrace + "-" + authSpan, true},
		{"new root", propagation.TraceContext{}, nil, "", withSpan, true, mwTrace + "-" + mwSpan, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTraced(t, siootel.Options{Propagator: tc.propagator, NewRoot: tc.newRoot}, tc.wrap)
			tr.io.OnConnection(func(s *socketio.Socket) {
				s.On("ping", func(e *socketio.Event) { _ = e.Ack() })
			})
			opts := &client.Options{Transports: []string{client.WebSocket}, Socket: client.SocketOptions{Auth: tc.auth}}
			if tc.header != "" {
				opts.Header = http.Header{"Traceparent": {tc.header}}
			}
			c := dial(t, tr.url, opts)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := c.EmitWithAck(ctx, "ping"); err != nil {
				t.Fatal(err)
			}
			connect := tr.waitSpan(t, "socket.io connect /", nil)
			got := ""
			if p := connect.Parent(); p.IsValid() {
				got = p.TraceID().String() + "-" + p.SpanID().String()
			}
			if got != tc.parent {
				t.Errorf("connect span parent %q, want %q", got, tc.parent)
			}
			ev := tr.waitSpan(t, "socket.io event ping", nil)
			if isChild := ev.Parent().SpanID().String() == mwSpan; isChild != tc.eventChild {
				t.Errorf("event span parent %v, child of the middleware's span: %v, want %v", ev.Parent(), isChild, tc.eventChild)
			}
			if !tc.eventChild && ev.Parent().IsValid() {
				t.Errorf("event span parent %v, want none", ev.Parent())
			}
			if !linkedTo(ev, connect.SpanContext()) {
				t.Errorf("event span links %v", ev.Links())
			}
		})
	}
}

// Instrument refuses a nil server; Allow keeps its names only.
func TestInstrumentAndAllow(t *testing.T) {
	if err := siootel.Instrument(nil, siootel.Options{}); err == nil {
		t.Error("Instrument(nil) succeeded")
	}
	f := siootel.Allow("chat")
	for in, want := range map[string]string{"chat": "chat", "typing": siootel.Other, "": siootel.Other} {
		if got := f(in); got != want {
			t.Errorf("Allow(chat)(%q) = %q, want %q", in, got, want)
		}
	}
	if !strings.HasPrefix(siootel.ScopeName, "github.com/gosio/socketio/") {
		t.Errorf("scope %q", siootel.ScopeName)
	}
}
