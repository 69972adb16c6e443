package otel

import (
	"context"
	"errors"
	"sync"
	"time"

	otelapi "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	socketio "github.com/gosio/socketio"
)

// ScopeName is the instrumentation scope of the spans (the tracer's name).
const ScopeName = "github.com/gosio/socketio/tracing/otel"

// Other is the name that Allow gives to the names it does not keep.
const Other = "other"

// Attribute keys of this package's own (the others are OpenTelemetry's
// messaging, client and error conventions).
const (
	// EventKey is the event's name, as sent (span names may map it).
	EventKey = attribute.Key("socket.io.event")
	// AckKey tells whether the client asked for an acknowledgement.
	AckKey = attribute.Key("socket.io.ack")
	// TransportKey is the Engine.IO transport ("polling", "websocket")
	// when the socket connected.
	TransportKey = attribute.Key("socket.io.transport")
	// RecoveredKey tells whether the connection's state was recovered.
	RecoveredKey = attribute.Key("socket.io.recovered")
	// AckLatencyKey is, on an acknowledgement, the seconds since the
	// event arrived (sent) or since the server asked (received).
	AckLatencyKey = attribute.Key("socket.io.ack.latency")
)

// Options configure Instrument. The zero value uses OpenTelemetry's global
// tracer provider and propagator.
type Options struct {
	// TracerProvider makes the tracer. nil: otel.GetTracerProvider().
	TracerProvider trace.TracerProvider

	// Propagator extracts the client's trace context as the parent of the
	// connect span (see the package documentation). nil: the global
	// one, otel.GetTextMapPropagator(), read at each connection (it
	// extracts nothing until the application sets one).
	Propagator propagation.TextMapPropagator

	// EventName maps an event's name to the one in its span's name
	// ("socket.io event <name>"); the raw name stays in the socket.io.event
	// attribute. Clients can send any name: Allow keeps a list and names
	// the others Other. nil: the event's name as it is.
	EventName func(event string) string

	// NamespaceName maps a namespace's name to the one in span names
	// ("socket.io connect <name>", "socket.io ack <name>"): dynamic
	// namespaces may have one name per user. nil: the name as it is.
	NamespaceName func(namespace string) string

	// NewRoot starts each event's span and each received acknowledgement's
	// span as the root of a trace of its own, linked to the socket's
	// connect span, even when the socket's context carries a span (that of
	// the HTTP request that opened the session, when otelhttp wraps the
	// server: without NewRoot, all the events of a session are in its
	// trace).
	NewRoot bool
}

// Allow returns a function for Options.EventName or Options.NamespaceName
// that keeps the listed names and maps every other one to Other.
func Allow(names ...string) func(string) string {
	keep := make(map[string]bool, len(names))
	for _, n := range names {
		keep[n] = true
	}
	return func(name string) string {
		if keep[name] {
			return name
		}
		return Other
	}
}

// tracer is what Instrument adds to a server.
type tracer struct {
	t       trace.Tracer
	prop    propagation.TextMapPropagator
	event   func(string) string
	nsp     func(string) string
	newRoot bool

	connects sync.Map // *socketio.Socket -> trace.SpanContext of its connect span
}

// Instrument adds an observer to io that traces its connections, events
// and acknowledgements (the package documentation lists the spans). It
// cannot be undone; call it once per server, before it serves.
func Instrument(io *socketio.Server, opts Options) error {
	if io == nil {
		return errors.New("otel: nil server")
	}
	tp := opts.TracerProvider
	if tp == nil {
		tp = otelapi.GetTracerProvider()
	}
	tr := &tracer{
		t:       tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		prop:    opts.Propagator,
		event:   opts.EventName,
		nsp:     opts.NamespaceName,
		newRoot: opts.NewRoot,
	}
	io.Observe(socketio.Observer{
		SocketConnecting:   tr.connecting,
		SocketDisconnected: func(s *socketio.Socket, _ string) { tr.connects.Delete(s) },
		EventReceived:      tr.eventReceived,
		AckSent:            tr.ackSent,
		AckReceived:        tr.ackReceived,
	})
	return nil
}

var systemAttr = semconv.MessagingSystemKey.String("socket.io")

func (tr *tracer) nspName(n string) string {
	if tr.nsp != nil {
		return tr.nsp(n)
	}
	return n
}

// parent returns the context of a connect span: the socket's, with the
// trace context the client sent in its CONNECT auth, or else in the
// handshake's headers when the socket's context has no span yet.
func (tr *tracer) parent(s *socketio.Socket) context.Context {
	base := s.Context()
	prop := tr.prop
	if prop == nil {
		prop = otelapi.GetTextMapPropagator()
	}
	h := s.Handshake()
	had := trace.SpanContextFromContext(base)
	if h.Auth != nil {
		ctx := prop.Extract(base, authCarrier(h.Auth))
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && !sc.Equal(had) {
			return ctx
		}
	}
	if !had.IsValid() && h.Headers != nil {
		return prop.Extract(base, propagation.HeaderCarrier(h.Headers))
	}
	return base
}

func (tr *tracer) connecting(s *socketio.Socket) func(error) {
	nsp := s.Namespace().Name()
	attrs := []attribute.KeyValue{
		systemAttr,
		semconv.MessagingOperationName("connect"),
		semconv.MessagingDestinationName(nsp),
		semconv.MessagingClientID(s.ID()),
		TransportKey.String(s.Conn().Transport()),
		RecoveredKey.Bool(s.Recovered()),
	}
	if a := s.Handshake().Address; a != "" {
		attrs = append(attrs, semconv.ClientAddress(a))
	}
	_, span := tr.t.Start(tr.parent(s), "socket.io connect "+tr.nspName(nsp),
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	return func(err error) {
		if err != nil {
			fail(span, err)
		} else if sc := span.SpanContext(); sc.IsValid() {
			tr.connects.Store(s, sc)
		}
		span.End()
	}
}

// fail marks span as failed with err.
func fail(span trace.Span, err error) {
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
}

// start returns opts and those that tie a span of s to its connect span
// (a link) and, with Options.NewRoot, start a new trace.
func (tr *tracer) start(ctx context.Context, s *socketio.Socket, opts ...trace.SpanStartOption) []trace.SpanStartOption {
	if sc, ok := tr.connects.Load(s); ok {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc.(trace.SpanContext)}))
	}
	if tr.newRoot && trace.SpanContextFromContext(ctx).IsValid() {
		opts = append(opts, trace.WithNewRoot())
	}
	return opts
}

func (tr *tracer) eventReceived(ctx context.Context, ev *socketio.Event) (context.Context, func(error)) {
	s := ev.Socket()
	name := ev.Name
	if tr.event != nil {
		name = tr.event(name)
	}
	ctx, span := tr.t.Start(ctx, "socket.io event "+name, tr.start(ctx, s,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			systemAttr,
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingOperationName("event"),
			semconv.MessagingDestinationName(s.Namespace().Name()),
			semconv.MessagingClientID(s.ID()),
			semconv.MessagingMessageBodySize(ev.Size()),
			EventKey.String(ev.Name),
			AckKey.Bool(ev.HasAck()),
		))...)
	return ctx, func(err error) {
		if err != nil {
			fail(span, err)
		}
		span.End()
	}
}

// ackSent adds an event to the event's span, or, when its handlers have
// returned (an ack sent later, from another goroutine), makes a short span
// in the event's trace.
func (tr *tracer) ackSent(ev *socketio.Event, latency time.Duration) {
	ctx := ev.Context()
	lat := AckLatencyKey.Float64(latency.Seconds())
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("socket.io ack sent", trace.WithAttributes(lat))
		return
	}
	s := ev.Socket()
	_, span := tr.t.Start(ctx, "socket.io ack "+tr.nspName(s.Namespace().Name()),
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			systemAttr,
			semconv.MessagingOperationTypeSend,
			semconv.MessagingOperationName("ack"),
			semconv.MessagingDestinationName(s.Namespace().Name()),
			semconv.MessagingClientID(s.ID()),
			EventKey.String(ev.Name),
			lat,
		))
	span.End()
}

// ackReceived makes a span from the server's request of an
// acknowledgement (latency ago) to the client's answer.
func (tr *tracer) ackReceived(s *socketio.Socket, latency time.Duration) {
	now := time.Now()
	ctx := s.Context()
	_, span := tr.t.Start(ctx, "socket.io ack "+tr.nspName(s.Namespace().Name()), tr.start(ctx, s,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithTimestamp(now.Add(-latency)),
		trace.WithAttributes(
			systemAttr,
			semconv.MessagingOperationTypeReceive,
			semconv.MessagingOperationName("ack"),
			semconv.MessagingDestinationName(s.Namespace().Name()),
			semconv.MessagingClientID(s.ID()),
			AckLatencyKey.Float64(latency.Seconds()),
		))...)
	span.End(trace.WithTimestamp(now))
}

// authCarrier reads the string values of a CONNECT auth payload
// ({"traceparent": "00-...", "tracestate": "..."}) for a propagator.
type authCarrier map[string]any

func (c authCarrier) Get(key string) string {
	s, _ := c[key].(string)
	return s
}

// Set does nothing: the carrier is only read.
func (c authCarrier) Set(string, string) {}

func (c authCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k, v := range c {
		if _, ok := v.(string); ok {
			keys = append(keys, k)
		}
	}
	return keys
}
