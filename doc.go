// Package socketio is a Socket.IO v4 server (Socket.IO protocol v5 over
// Engine.IO protocol v4), wire-compatible with the official JavaScript
// client, socket.io-client.
//
//	io, err := socketio.NewServer(socketio.Config{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	io.OnConnection(func(s *socketio.Socket) {
//		socketio.On(s, "mensaje", func(data string) {
//			_ = s.Emit("respuesta", "Hola, recibí tu mensaje: "+data)
//		})
//	})
//	mux := http.NewServeMux()
//	mux.Handle("/socket.io/", io)
//	log.Fatal(http.ListenAndServe(":3000", mux))
//
// The package examples run it with the Go client (package client), and
// show the seed's server with its HTTP timeouts.
//
// # Handlers
//
// Events arrive as *Event values: Bind decodes the arguments into typed Go
// values (structs, strings, numbers, []byte for binary attachments at any
// depth) and Ack answers the client's ack callback. The generic helpers On
// and OnAck cover the common one-argument case with a typed function, so
// user code needs neither ...any nor type assertions. We chose an event
// value plus generic helpers over reflection on arbitrary function
// signatures: the types are checked by the compiler, and nothing is
// analysed at run time.
//
// Failures are not silent. An argument that does not decode into a typed
// handler's type (a number where a string is expected) is an
// *ArgumentError: the handler is not called, the socket's OnError handlers
// receive it (without any, it is logged at Warn), and a client waiting for
// an acknowledgement gets an error answer at once instead of its timeout.
// An OnAck handler returns (result, error); an error answers the client
// with one argument, the object {"error": message} (AckError, which can
// carry data too; Event.AckError does the same from an Event handler), so
// JavaScript reads it as res.error. A missing argument (none sent, or
// undefined) is not an error: the handler gets the type's zero value, as
// for null; use a pointer type to tell them apart.
//
// # Concurrency contract
//
//   - Every exported method of Server, Namespace, Socket, BroadcastOperator
//     and SocketEmitter is safe for concurrent use.
//   - The handlers of one socket (connection handlers, event handlers,
//     catch-all, packet middleware, error and disconnect handlers) run one
//     at a time, in arrival order, on a goroutine that exists only while the
//     socket has work. A slow handler delays that socket only.
//   - A handler may call EmitWithAck and wait for the answer: acks are read
//     by the connection's reader, never by the handler's goroutine.
//   - No user callback runs while a library lock is held.
//   - Emits never block: packets are queued on the connection. Every queue
//     is bounded: a connection whose send queue passes
//     engineio.Config.MaxBufferedBytes, or a socket with more than
//     Config.MaxPendingEvents events or Config.MaxPendingBytes bytes of
//     events waiting for its handlers, is closed with "transport error";
//     volatile emits are dropped instead when the transport is busy; one
//     slow socket never holds up a broadcast to the others.
//   - Shutdown and Close return after every goroutine the server started
//     has returned, with one exception: a handler cannot be stopped from
//     the outside, so one that never returns would hold them for ever.
//     Shutdown(ctx) stops waiting when ctx ends and returns a
//     *StuckHandlersError naming the handlers still running (event, socket
//     id, namespace); a Close after it, or during it, returns at once
//     without waiting for them. A closed connection takes its sockets out
//     of their namespace's list and their rooms at once, whatever their
//     handlers do; the events they had received are still handled (as Node
//     handles each event when it arrives), then their disconnecting and
//     disconnect handlers run, in order, on the socket's goroutine. Only a
//     client closed for flooding (MaxPendingEvents, MaxPendingBytes) has
//     what it queued dropped.
//
// # Limits
//
// Every resource a client can make the server hold is bounded, with a
// stated policy (defaults in parentheses): events waiting for a socket's
// handlers, Config.MaxPendingEvents (1024) and Config.MaxPendingBytes
// (8 MiB), then "transport error"; a binary packet in assembly,
// Config.MaxBinaryPacketBytes (Engine.MaxPayload) and
// Config.BinaryPacketTimeout (60 s), then "parse error"; attachments per
// packet, parser.JSONParser.MaxAttachments (10), then "parse error"; a
// connection without a namespace, Config.ConnectTimeout (45 s); the send
// queue of a connection, engineio.Config.MaxBufferedBytes (8 MiB), then
// "transport error"; recovery storage, RecoveryConfig.MaxDisconnectionDuration
// (2 min, pruned on a timer too) and RecoveryConfig.MaxStoredBytes
// (64 MiB, oldest dropped first). Incoming text that is not valid UTF-8 is
// made valid (U+FFFD) where it arrives. docs/limits.md has the table, and
// docs/engineio.md the engine's limits.
//
// # Disconnect reasons
//
// OnDisconnect handlers receive Node's reasons: "server namespace
// disconnect", "client namespace disconnect", "server shutting down",
// "transport close", "transport error", "ping timeout", "parse error" (a
// packet that breaks the protocol), "forced close".
//
// One deliberate difference: after a packet that breaks the protocol, Node
// closes the connection in order and its sockets see "forced close"; here
// they see "parse error", which says what happened. The connection is closed
// in order too (the client sees "transport close"), and packets that follow
// the bad one are ignored.
package socketio
