package adaptertest

// Every call the suite makes into the server API whose signature may change
// (cluster operations taking a ctx and returning an error, non-blocking
// emits, a public server count) goes through the functions of this file, so
// that adapting the suite to a new signature is an edit here only. The
// operator builders (To, In, Except, Local, Volatile, Timeout) are used
// directly by the cases.

import (
	"context"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
)

// all selects every socket of a namespace.
func all(nsp *socketio.Namespace) socketio.BroadcastOperator { return nsp.Except() }

// emit broadcasts an event through op.
func emit(op socketio.BroadcastOperator, event string, args ...any) error {
	return op.Emit(event, args...)
}

// emitWithAck broadcasts an event through op and gathers the answers,
// giving up after timeout.
func emitWithAck(ctx context.Context, op socketio.BroadcastOperator, timeout time.Duration, event string, args ...any) ([]socketio.Args, error) {
	return op.Timeout(timeout).EmitWithAck(ctx, event, args...)
}

// fetchSockets describes the sockets op selects, on every server.
func fetchSockets(ctx context.Context, op socketio.BroadcastOperator) ([]*socketio.RemoteSocket, error) {
	return op.FetchSockets(ctx)
}

// socketsJoin makes the sockets op selects, on every server, join rooms.
func socketsJoin(ctx context.Context, op socketio.BroadcastOperator, rooms ...string) error {
	return op.SocketsJoin(ctx, rooms...)
}

// socketsLeave makes the sockets op selects, on every server, leave rooms.
func socketsLeave(ctx context.Context, op socketio.BroadcastOperator, rooms ...string) error {
	return op.SocketsLeave(ctx, rooms...)
}

// disconnectSockets disconnects the sockets op selects, on every server.
func disconnectSockets(ctx context.Context, op socketio.BroadcastOperator, close bool) error {
	return op.DisconnectSockets(ctx, close)
}

// localSockets returns the ids of the sockets op selects on this server
// only (no network).
func localSockets(op socketio.BroadcastOperator) []string { return op.SocketIDs() }

// serverSideEmit sends an event to the namespace on the other servers.
func serverSideEmit(ctx context.Context, nsp *socketio.Namespace, event string, args ...any) error {
	return nsp.ServerSideEmit(ctx, event, args...)
}

// serverSideEmitWithAck sends an event to the other servers and gathers
// one answer per server.
func serverSideEmitWithAck(ctx context.Context, nsp *socketio.Namespace, event string, args ...any) ([]socketio.Args, error) {
	return nsp.ServerSideEmitWithAck(ctx, event, args...)
}

// serverCount is the number of servers of the cluster, this one included.
func serverCount(ctx context.Context, nsp *socketio.Namespace) (int, error) {
	return nsp.Adapter().ServerCount(ctx)
}

// of returns the namespace name of a server, created on first use.
func of(t testing.TB, io *socketio.Server, name string) *socketio.Namespace {
	t.Helper()
	n, err := io.Of(name)
	if err != nil {
		t.Fatalf("namespace %s: %v", name, err)
	}
	return n
}

// join makes a local socket join rooms (from its own handler).
func join(_ context.Context, s *socketio.Socket, rooms ...string) error {
	s.Join(rooms...)
	return nil
}

// leave makes a local socket leave a room.
func leave(_ context.Context, s *socketio.Socket, room string) error {
	s.Leave(room)
	return nil
}

// remoteEmit sends an event to a fetched socket, wherever it is.
func remoteEmit(r *socketio.RemoteSocket, event string, args ...any) error {
	return r.Emit(event, args...)
}

// remoteEmitWithAck sends an event to a fetched socket and waits for its
// answer, at most timeout.
func remoteEmitWithAck(ctx context.Context, r *socketio.RemoteSocket, timeout time.Duration, event string, args ...any) (socketio.Args, error) {
	return r.Timeout(timeout).EmitWithAck(ctx, event, args...)
}

// remoteJoin makes a fetched socket join rooms.
func remoteJoin(ctx context.Context, r *socketio.RemoteSocket, rooms ...string) error {
	return r.Join(ctx, rooms...)
}

// remoteLeave makes a fetched socket leave rooms.
func remoteLeave(ctx context.Context, r *socketio.RemoteSocket, rooms ...string) error {
	return r.Leave(ctx, rooms...)
}

// remoteDisconnect disconnects a fetched socket.
func remoteDisconnect(ctx context.Context, r *socketio.RemoteSocket, close bool) error {
	return r.Disconnect(ctx, close)
}
