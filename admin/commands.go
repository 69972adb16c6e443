package admin

import (
	"context"
	"encoding/json"

	socketio "github.com/gosio/socketio"
)

// registerCommands adds the handlers of the UI's commands to an admin
// socket. Each acts on an existing namespace only (Node's io.of would
// create it), across the cluster, on the sockets in the filter room (a
// socket id targets one socket) or, without a filter, on all of them.
//
//	join        nsp, room, filter?
//	leave       nsp, room, filter?
//	_disconnect nsp, close, filter?
//	emit        nsp, filter, event, ...args
func (in *Instrumentation) registerCommands(s *socketio.Socket) {
	s.On("join", func(e *socketio.Event) {
		op, ok := in.target(e, 0, 2)
		room, rok := stringArg(e, 1)
		if !ok || !rok {
			return
		}
		in.command("join", e, func(ctx context.Context) error { return op.SocketsJoin(ctx, room) })
	})
	s.On("leave", func(e *socketio.Event) {
		op, ok := in.target(e, 0, 2)
		room, rok := stringArg(e, 1)
		if !ok || !rok {
			return
		}
		in.command("leave", e, func(ctx context.Context) error { return op.SocketsLeave(ctx, room) })
	})
	s.On("_disconnect", func(e *socketio.Event) {
		op, ok := in.target(e, 0, 2)
		if !ok {
			return
		}
		var close bool
		_ = json.Unmarshal(e.Args().Raw(1), &close) // JavaScript's truthiness, for the values the UI sends
		in.command("_disconnect", e, func(ctx context.Context) error { return op.DisconnectSockets(ctx, close) })
	})
	s.On("emit", func(e *socketio.Event) {
		op, ok := in.target(e, 0, 1)
		event, eok := stringArg(e, 2)
		if !ok || !eok {
			return
		}
		args, err := restArgs(e, 3)
		if err != nil {
			in.log.Warn("socket.io admin: bad emit arguments", "err", err)
			return
		}
		if err := op.Emit(event, args...); err != nil {
			in.log.Warn("socket.io admin: emit failed", "event", event, "err", err)
		}
	})
}

// command carries out a command, bounded by commandTimeout, logging its
// error.
func (in *Instrumentation) command(name string, e *socketio.Event, fn func(context.Context) error) {
	ctx, cancel := context.WithTimeout(e.Context(), commandTimeout)
	defer cancel()
	if err := fn(ctx); err != nil {
		in.log.Warn("socket.io admin: command failed", "command", name, "err", err)
	}
}

// target returns the operator a command addresses: the namespace named by
// argument nspArg, in the room of argument filterArg when that is a
// non-empty string. It reports false for a namespace this server does not
// have.
func (in *Instrumentation) target(e *socketio.Event, nspArg, filterArg int) (socketio.BroadcastOperator, bool) {
	name, ok := stringArg(e, nspArg)
	if !ok {
		return socketio.BroadcastOperator{}, false
	}
	var nsp *socketio.Namespace
	for _, n := range in.io.Namespaces() {
		if n.Name() == name {
			nsp = n
			break
		}
	}
	if nsp == nil {
		return socketio.BroadcastOperator{}, false
	}
	if filter, ok := stringArg(e, filterArg); ok && filter != "" {
		return nsp.In(filter), true
	}
	return nsp.In(), true // no room: the whole namespace
}

// stringArg returns argument i when it is a string.
func stringArg(e *socketio.Event, i int) (string, bool) {
	raw := e.Args().Raw(i)
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// restArgs returns the arguments from i on, as they came (binary
// included), for an emit.
func restArgs(e *socketio.Event, from int) ([]any, error) {
	args := e.Args()
	if args.Len() <= from {
		return nil, nil
	}
	if len(args.Attachments()) == 0 {
		out := make([]any, 0, args.Len()-from)
		for i := from; i < args.Len(); i++ {
			out = append(out, args.Raw(i))
		}
		return out, nil
	}
	vals, err := args.Values()
	if err != nil {
		return nil, err
	}
	return vals[from:], nil
}
