// Package engineio is an Engine.IO protocol v4 server: the transport layer
// under Socket.IO, usable on its own as npm's engine.io is.
//
// A Server is an http.Handler. Each client session is a *Conn: a
// message-oriented connection that hides its transport (HTTP long-polling,
// WebSocket, or polling upgraded to WebSocket).
//
//	srv, err := engineio.NewServer(engineio.Config{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	srv.OnConnection(func(c *engineio.Conn) {
//		c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data) })
//		c.OnClose(func(reason string, err error) { log.Println(c.ID(), reason) })
//	})
//	mux := http.NewServeMux()
//	mux.Handle("/engine.io/", srv)
//
// The package example runs such a server and speaks the protocol to it.
//
// # Life cycle of a Conn
//
// The connection handler runs during the handshake, before the client sees
// the handshake response, so handlers set there see every message. Heartbeat
// timers start at the handshake too: the server sends a ping every
// PingInterval and closes the session ("ping timeout") when no pong follows
// within PingTimeout. A polling session may move to WebSocket (OnUpgrade); its
// Conn stays the same. A session ends once, with one of the Reason constants
// ("transport close", "transport error", "ping timeout", "parse error",
// "forced close", "server shutting down") passed to the OnClose handlers.
//
// # Concurrency
//
// Every exported method is safe for concurrent use. Message handlers of one
// Conn run one at a time, in arrival order, on the goroutine that read the
// message (the WebSocket reader, or the HTTP handler of the POST); no library
// lock is held while they run, so they may call any method. The messages of
// one POST are delivered before the POST is answered, so replies written by
// the handlers go out with the next poll.
//
// Writes never block: Write queues and returns. A WebSocket session gets a
// write goroutine only while it has something queued, and sends all that has
// accumulated in one system call. The queue of each session is bounded by
// Config.MaxBufferedBytes; a client that cannot keep up is closed with
// "transport error" and no other session is affected. Idle sessions cost no
// goroutine beyond the WebSocket reader, and heartbeats use runtime timers.
//
// A Message is encoded once per wire form however many sessions it is
// written to (see Broadcast).
//
// # Errors
//
// Refused requests get Node's answers: HTTP 400 with {"code":N,"message":...}
// (403 for code 4), 413 for a POST over MaxPayload, a closed WebSocket for an
// oversized or invalid frame. No peer input can panic the process; a panic in
// an application handler is logged and closes that session only.
package engineio
