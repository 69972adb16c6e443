// Package client is a Socket.IO v4 client (Socket.IO protocol v5 over
// Engine.IO protocol v4), the Go counterpart of the JavaScript
// socket.io-client, with automatic reconnection. It does not depend on the
// server packages.
//
//	s, err := client.New("http://localhost:3000", nil)
//	if err != nil { ... }
//	defer s.Close()
//	client.On(s, "respuesta", func(msg string) { log.Println(msg) })
//	if err := s.Connect(ctx); err != nil { ... }
//	_ = s.Emit("mensaje", "¡Hola desde Go!")
//
// # Manager and Socket
//
// A Manager is one Engine.IO connection (HTTP long-polling, WebSocket, or
// polling upgraded to WebSocket) with its reconnection loop; a Socket is one
// namespace on it. Sockets of several namespaces made by the same Manager
// share its connection. Nothing connects until Connect (blocking) or Open
// (background) is called on a socket, so handlers registered before miss
// nothing, not even the events a server emits as soon as a socket
// connects.
//
// New is the shortcut for one namespace on a Manager of its own: register
// the handlers, then Connect. Dial is New and Connect in one call: the
// events the server emits on connection arrive before it returns, so they
// go to Receive, not to handlers registered after Dial. When ctx ends
// before the socket connects, Connect and Dial return an error that wraps
// ctx.Err() and names the last connection error ("connection refused",
// a TLS or HTTP error...).
//
// # Reconnection
//
// When the connection is lost (transport close or error, ping timeout,
// parse error) the Manager reconnects with the JavaScript client's backoff:
// ReconnectionDelay × 2^n with a randomization of ± RandomizationFactor,
// capped at ReconnectionDelayMax (1 s, 5 s and 0.5 by default), until
// ReconnectionAttempts (unlimited by default). Every still active socket
// then connects again, evaluating its AuthFunc anew. As in JavaScript there
// is no automatic reconnection after the server disconnects a socket ("io
// server disconnect"), after the server refuses a CONNECT (a *ConnectError
// carrying the middleware's message and data), or after Disconnect.
//
// While a socket is not connected, its emits wait in a bounded send buffer
// and are sent once it connects; when the buffer is full, emits fail with
// ErrSendBufferFull (the new packet is dropped). Volatile emits are dropped
// instead of buffered. With SocketOptions.Retries, emits are acknowledged
// and resent after AckTimeout: at-least-once delivery. When the server
// has connection state recovery enabled, the events missed while away are
// delivered on reconnection and Recovered reports true.
//
// # Handlers and concurrency
//
//   - Every exported method is safe for concurrent use.
//   - The handlers of one socket (On, OnAny, OnConnect, OnConnectError,
//     OnDisconnect and the auth function) run one at a time, in arrival
//     order, on a goroutine that exists only while that socket has work;
//     the Manager's handlers (OnOpen, OnClose, OnReconnect...) run the same
//     way on a goroutine of the Manager. A slow handler delays only its
//     socket. No handler runs while a library lock is held.
//   - Acknowledgements keep their place among the socket's packets, as in
//     JavaScript: EmitWithAck returns only once the handlers of the
//     packets received before the acknowledgement have run. A handler may
//     call EmitWithAck itself and wait: its acknowledgement is delivered
//     while it runs (the packets queued behind it cannot be handled before
//     it returns). A handler must not wait for an EmitWithAck that another
//     goroutine makes on the same socket: that acknowledgement comes after
//     the handler, which would wait for itself until the context ends.
//   - Events that no On handler takes are kept (bounded) for Receive, a
//     blocking call for tests and command-line tools.
//   - Emits never block on the network: packets are queued and written by a
//     writer goroutine that exists only while there is something to write.
//   - Goroutines belong to the Manager: the transport readers, the writer, a
//     goroutine per connection attempt or upgrade probe, timer callbacks
//     and the handler goroutines. Manager.Close (and Socket.Close for a
//     socket made by Dial) waits for all of them; it must therefore not be
//     called from a handler.
//
// # Disconnect reasons
//
// OnDisconnect handlers receive the JavaScript client's reasons:
// "io server disconnect", "io client disconnect", "ping timeout",
// "transport close", "transport error" and "parse error".
package client
