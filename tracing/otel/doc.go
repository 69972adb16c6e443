// Package otel traces a Socket.IO server (github.com/gosio/socketio) with
// OpenTelemetry, through the server's Observer. It is a module of its own,
// so that the server does not depend on OpenTelemetry.
//
//	io, _ := socketio.NewServer(socketio.Config{})
//	if err := siootel.Instrument(io, siootel.Options{TracerProvider: tp}); err != nil {
//		log.Fatal(err)
//	}
//	io.OnConnection(func(s *socketio.Socket) {
//		s.On("order", func(e *socketio.Event) {
//			ctx, span := tracer.Start(e.Context(), "store order") // a child of the event's span
//			defer span.End()
//			...
//		})
//	})
//
// # Spans
//
//	socket.io connect <namespace>  server    from a CONNECT to the end of the connection middlewares;
//	                                         status Error with the refusal when one refuses
//	socket.io event <event>        consumer  an incoming event, through its packet middlewares and
//	                                         handlers; status Error when a packet middleware refuses it.
//	                                         Event.Context carries it: spans that handlers start from it
//	                                         are its children
//	socket.io ack sent             (event)   on the event's span when a handler acknowledges the event;
//	                                         an acknowledgement sent after the handlers returned is a
//	                                         short producer span "socket.io ack <namespace>" in the
//	                                         event's trace instead
//	socket.io ack <namespace>      consumer  a client's answer to an acknowledgement the server asked
//	                                         for (EmitWithAck, a broadcast's acks): it starts when the
//	                                         server asked and ends when the answer arrived
//
// Event and ack spans are linked to the socket's connect span. Their
// parent is the span in the event's context (Event.Context: the socket's
// context, which carries the span of the HTTP request that opened the
// session when otelhttp or a similar middleware wraps the server), so
// without such a middleware each event is the root of its own trace;
// Options.NewRoot makes them roots in every case. EventName and
// NamespaceName bound the names (span names should have few values; the
// clients choose event names and dynamic namespaces' names).
//
// # Attributes
//
// OpenTelemetry's messaging conventions where they fit (semconv v1.43.0):
//
//	messaging.system             "socket.io"
//	messaging.operation.name     "connect", "event" or "ack"
//	messaging.operation.type     "process" (events), "send" (acks sent), "receive" (acks received)
//	messaging.destination.name   the namespace ("/", "/chat")
//	messaging.client.id          the socket's id
//	messaging.message.body.size  an event's bytes (JSON data and binary attachments)
//	client.address               the client's address (connect spans)
//
// and this package's own: socket.io.event (the event's name as sent),
// socket.io.ack (the client asked for an acknowledgement),
// socket.io.transport ("polling" or "websocket" when the socket
// connected), socket.io.recovered (connection state recovered) and
// socket.io.ack.latency (seconds from the event's arrival to the server's
// acknowledgement, or from the server's request to the client's answer).
// A refusal is recorded as an exception event with status Error.
//
// # Trace context from the client
//
// The connect span's parent is read with Options.Propagator (by default the
// global propagator, W3C trace context once the application installs
// propagation.TraceContext{}), from, in this order:
//
//  1. the CONNECT auth payload, whose string fields are the carrier:
//     io(url, { auth: { traceparent: "00-…-…-01", tracestate: "…" } }) —
//     the way for browsers, which cannot set WebSocket headers, and the
//     only one that differs per namespace;
//  2. the headers of the HTTP request that opened the session (traceparent
//     sent with extraHeaders, or by a proxy), when the socket's context
//     has no span already (a middleware such as otelhttp has then read
//     them).
//
// Without either, the connect span's parent is the span of the socket's
// context, if any: a span an HTTP middleware (otelhttp) put into the
// request's context reaches the socket when the session keeps that
// context (socketio.Config.Engine.SessionContext, e.g.
// engineio.KeepRequestContext); by default it keeps none. Trace context inside event arguments is not read.
package otel
