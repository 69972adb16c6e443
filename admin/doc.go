// Package admin instruments a socketio.Server for the Socket.IO Admin UI
// (https://socket.io/docs/v4/admin-ui/): it is Node's instrument(io,
// options) from npm's @socket.io/admin-ui, on the protocol of its version
// 0.5.1, so that the UI (the hosted one, or its files served by the Go
// server with UIHandler) shows a Go server's sockets, rooms, events and
// statistics and acts on them.
//
//	hash, _ := bcrypt.GenerateFromPassword([]byte(password), 10) // or a hash made once, kept in a secret
//	in, err := admin.Instrument(io, admin.Options{
//		Auth: admin.Basic{Username: "admin", PasswordHash: string(hash)},
//	})
//	if err != nil { ... }
//	defer in.Close()
//
//	ui, err := admin.UIDir("node_modules/@socket.io/admin-ui/ui/dist")
//	if err != nil { ... }
//	mux.Handle("/socket.io/", io)
//	mux.Handle("/admin-ui/", admin.UIHandler("/admin-ui/", ui))
//
// Open /admin-ui/ and type the server's own URL (e.g.
// http://localhost:3000) in the UI's connection form, with the user name
// and password. examples/admin is a complete program.
//
// # The admin namespace
//
// Instrument creates the admin namespace (Options.NamespaceName, "/admin"
// by default), an ordinary namespace: the UI is a socket.io-client socket
// connected to it. Options.Auth is required, as in Node: NoAuth lets
// anyone in; Basic checks a user name and a bcrypt password (the "$2a$",
// "$2b$" and "$2y$" hashes of Node's bcryptjs included) and refuses with
// the CONNECT_ERROR {"message":"invalid credentials"} the UI expects.
// After a password login the UI gets a session id (16 hex digits), which
// a reloaded UI sends instead of the password; the ids live in a Store
// (MemoryStore by default, one per server).
//
// # What the UI receives
//
// Every admin socket gets, once connected:
//
//	session   "<16 hex digits>"                       after a password login
//	config    {"supportedFeatures": [...]}            the features below
//	all_sockets [SerializedSocket, ...]               development mode: every socket of every namespace
//
// Every Options.StatsInterval (2 s), and once at Instrument, each server
// broadcasts its ServerStats (server_stats): ids, uptime in seconds,
// Engine.IO connections (and those still on polling), sockets per
// namespace, and the events counted per second since the previous
// statistics (new and closed connections with their reason, Engine.IO
// messages and their bytes in and out). In Development mode the server
// also broadcasts, as they happen:
//
//	socket_connected     SerializedSocket, time      a socket connected (any namespace, the admin one included)
//	socket_updated       {id, nsp, transport}        its connection upgraded to WebSocket
//	socket_updated       {id, nsp, data}             Socket.SetData on a connected socket
//	socket_disconnected  nsp, id, reason, time       before its room_left events
//	room_joined          nsp, room, id, time         a socket joined a room (its own room included)
//	room_left            nsp, room, id, time
//	event_received       nsp, id, [event, ...args], time   an event from a client, before its handlers
//	event_sent           nsp, id, [event, ...args], time   an event written to a socket (once per recipient of a broadcast)
//
// Times are ISO-8601 strings (JavaScript's toISOString); the events of the
// admin namespace itself are not reported, nor are acknowledgements. That
// reporting costs an admin broadcast per socket event and per event sent
// to each socket: Production mode sends only the statistics, and the UI
// then shows its dashboard and charts.
//
// # The UI's commands
//
// Unless Options.ReadOnly, the UI may send (without acknowledgement):
//
//	join        nsp, room, filter?          SocketsJoin(room)
//	leave       nsp, room, filter?          SocketsLeave(room)
//	_disconnect nsp, close, filter?         DisconnectSockets(close)
//	emit        nsp, filter, event, ...args Emit(event, args...)
//
// on the sockets of namespace nsp in room filter (the UI passes a socket
// id to target one socket), or on all of them without a filter. A command
// for a namespace the server does not have is ignored (Node's io.of would
// create it). With ReadOnly the handlers are not registered: the features
// become AGGREGATED_EVENTS (and ALL_EVENTS in development mode) and the
// UI hides its controls.
//
// # Several servers
//
// Everything the UI receives is a broadcast on the admin namespace (no
// server-side emit), so with a cluster adapter (adapter/redis,
// adapter/postgres, adapter/nats) a UI connected to any server gets the
// statistics of every server (give each its own Options.ServerID: the
// default, the host name, collides when servers share a host), the
// per-socket events of every server, and all_sockets from FetchSockets
// on every namespace of the server it is connected to, across the
// cluster. Its commands are cluster operations too. Behind a load
// balancer, share a Store between the servers, or a UI that reconnects
// to another server must log in again.
//
// # Differences from Node
//
//   - session is sent after the CONNECT reply, not before it: the UI
//     listens for it from its connect handler, and with Node's order it
//     never sees it (its reloads ask for the password again).
//   - A PasswordHash that is not a bcrypt hash is refused by Instrument
//     (Node accepts it and refuses every login); the password is checked
//     even when the user name is wrong, so that the time taken does not
//     reveal the name.
//   - Go has no proxy on socket data: socket_updated {data} follows
//     Socket.SetData only (Node reports any change to socket.data), and
//     Node's internal "_admin" entry is not added to the data. A socket of
//     another Go server listed by all_sockets therefore has no client id
//     of its own: the first 12 characters of its socket id stand for it,
//     and its transport is the one of its handshake (its owner's later
//     events carry the real ones; a Node server's sockets carry theirs in
//     data._admin, which is used).
//   - The byte counts are those of the Engine.IO packets (Node counts
//     their data only: one byte less for a text message).
//   - Commands do not create namespaces, and the uptime is counted from
//     the start of the program (the package's initialisation).
//   - MemoryStore can expire its sessions (NewMemoryStore's ttl); there is
//     no Redis store in this package (Store takes a few lines over any
//     client).
//
// # Serving the UI
//
// The project ships no third-party code: the UI's files come from npm
// (npm install @socket.io/admin-ui@0.5.1, folder
// node_modules/@socket.io/admin-ui/ui/dist), as Config.ClientFiles does
// for the client bundle. UIHandler serves them under a prefix ending in
// "/" (the page's URLs are relative) and redirects the prefix without it.
// Served by the Socket.IO server's own origin, the UI needs no CORS; the
// hosted UI (https://admin.socket.io) needs the server's CORS to allow
// that origin with credentials. The page loads a web font and its icons
// from public CDNs, without which it works but shows no icons.
package admin
