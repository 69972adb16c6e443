// Command socketio is a command-line Socket.IO v4 client and development
// server, in the spirit of wscat: connect to a server and type events,
// listen to what it emits, emit one event or call one with an
// acknowledgement from a script, or run a local echo server that logs
// every packet.
//
//	go install github.com/gosio/socketio/cmd/socketio@latest
//
// Usage:
//
//	socketio connect [flags] URL                 stay connected; print states and events; emit the lines typed on stdin
//	socketio listen  [flags] URL [EVENT...]      print the events received (JSON lines, or --format pretty)
//	socketio emit    [flags] URL EVENT [JSON...] emit one event (--ack: wait for the answer and print it)
//	socketio call    [flags] URL EVENT [JSON...] emit with an ack and print the answer as JSON
//	socketio serve   [flags]                     a local echo server that logs every packet
//	socketio version
//
// The client commands share these flags: -n/--namespace (else the URL's
// path names the namespace, as in socket.io-client's io("http://host/chat")),
// --auth JSON, -q/--query k=v and -H/--header 'Name: value' (repeatable),
// --transports polling,websocket, --path /socket.io/, --timeout and
// -k/--insecure. Flags may come before or after the arguments; "--" ends
// them. Event arguments are JSON values; binary values are written and
// printed as {"$binary":"<base64>"}. "socketio <command> --help" tells more.
//
// Exit codes:
//
//	0    success (connect, listen and serve also exit with 0 on Ctrl-C)
//	1    other failure
//	2    bad command line (flags, arguments, URL, JSON)
//	3    cannot connect (refused, DNS, TLS, HTTP error, --timeout)
//	4    the server refused the namespace (connect_error)
//	5    no acknowledgement within --timeout
//	6    disconnected (by the server, or the connection was lost)
//	130  interrupted before emit or call were done
package main
