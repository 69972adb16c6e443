package socketio

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/parser"
)

// BroadcastOperator selects sockets of a namespace (rooms, exceptions) and
// carries flags. It is an immutable value: every method returns a new
// operator, so one can be kept and reused.
//
// The selection is "in at least one of the To rooms (or anywhere when there
// are none) and in none of the Except rooms".
type BroadcastOperator struct {
	nsp    *Namespace
	rooms  []string
	except []string
	flags  adapter.BroadcastFlags
}

// To adds rooms to the selection.
func (b BroadcastOperator) To(rooms ...string) BroadcastOperator {
	b.rooms = slices.Concat(b.rooms, rooms)
	return b
}

// In is an alias of To.
func (b BroadcastOperator) In(rooms ...string) BroadcastOperator { return b.To(rooms...) }

// Except leaves out the sockets in the rooms.
func (b BroadcastOperator) Except(rooms ...string) BroadcastOperator {
	b.except = slices.Concat(b.except, rooms)
	return b
}

// Volatile drops the event for sockets whose transport is busy.
func (b BroadcastOperator) Volatile() BroadcastOperator { b.flags.Volatile = true; return b }

// Local keeps the broadcast on this server.
func (b BroadcastOperator) Local() BroadcastOperator { b.flags.Local = true; return b }

// Compress sets the compress flag (kept for API parity; see
// Socket.Compress).
func (b BroadcastOperator) Compress(c bool) BroadcastOperator { b.flags.Compress = &c; return b }

// Timeout bounds EmitWithAck.
func (b BroadcastOperator) Timeout(d time.Duration) BroadcastOperator {
	b.flags.Timeout = d
	return b
}

func (b BroadcastOperator) options() adapter.BroadcastOptions {
	return adapter.BroadcastOptions{Rooms: b.rooms, Except: b.except, Flags: b.flags}
}

// Emit sends the event to the selected sockets. The packet is encoded once
// and the same bytes are written to every recipient; a slow recipient does
// not hold up the others.
func (b BroadcastOperator) Emit(event string, args ...any) error {
	if parser.IsReservedEvent(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	p, err := parser.NewEvent(b.nsp.name, event, args...)
	if err != nil {
		return err
	}
	return b.nsp.adapter.Broadcast(p, b.options())
}

// ErrAckTimeout is returned by BroadcastOperator.EmitWithAck when not every
// recipient answered in time; the answers received are returned with it.
// The error wraps the context's error too, so errors.Is(err,
// context.DeadlineExceeded) (or context.Canceled) also holds.
var ErrAckTimeout = errors.New("socketio: operation has timed out")

// EmitWithAck sends the event to the selected sockets and gathers one
// answer from each, until all have answered, the operator's Timeout passes
// or ctx is done; then ErrAckTimeout comes with the answers received. A
// recipient that disconnects never answers, so always bound the wait with
// Timeout or a ctx deadline.
func (b BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	if parser.IsReservedEvent(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	p, err := parser.NewEvent(b.nsp.name, event, args...)
	if err != nil {
		return nil, err
	}
	if b.flags.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.flags.Timeout)
		defer cancel()
	}
	// Every server of the cluster reports its number of recipients; a
	// local broadcast has one server, this one.
	servers := 1
	if !b.flags.Local {
		if servers, err = b.nsp.adapter.ServerCount(ctx); err != nil {
			return nil, err
		}
	}
	var (
		mu        sync.Mutex
		expected  int
		reported  int
		responses []Args
		done      = make(chan struct{})
		finished  bool
	)
	check := func() {
		if !finished && reported == servers && len(responses) >= expected {
			finished = true
			close(done)
		}
	}
	onCount := func(n int) {
		mu.Lock()
		expected += n
		reported++
		check()
		mu.Unlock()
	}
	onAck := func(r adapter.AckResponse) {
		mu.Lock()
		if !finished {
			responses = append(responses, parser.NewArgs(r.Args, r.Attachments))
			check()
		}
		mu.Unlock()
	}
	if err := b.nsp.adapter.BroadcastWithAck(p, b.options(), onCount, onAck); err != nil {
		return nil, err
	}
	select {
	case <-done:
		mu.Lock()
		defer mu.Unlock()
		return responses, nil
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		finished = true
		return slices.Clone(responses), fmt.Errorf("%w: %d of %d answers (%w)", ErrAckTimeout, len(responses), expected, ctx.Err())
	}
}

// SocketIDs returns the ids of the selected sockets on this server (Node's
// allSockets). Local sockets themselves are Namespace.Sockets.
func (b BroadcastOperator) SocketIDs() []string { return b.nsp.adapter.Sockets(b.options()) }

// SocketsJoin makes the selected sockets join the rooms, on every server
// of the cluster unless the operator is Local. ctx bounds what a network
// adapter does (the in-memory adapter does it at once); the error is the
// adapter's, e.g. a publish that failed: the local sockets have joined
// by then.
func (b BroadcastOperator) SocketsJoin(ctx context.Context, rooms ...string) error {
	return b.nsp.adapter.AddSockets(ctx, b.options(), rooms)
}

// SocketsLeave makes the selected sockets leave the rooms; ctx and the
// error are as for SocketsJoin.
func (b BroadcastOperator) SocketsLeave(ctx context.Context, rooms ...string) error {
	return b.nsp.adapter.DelSockets(ctx, b.options(), rooms)
}

// DisconnectSockets disconnects the selected sockets; with close their
// whole connections are closed. ctx and the error are as for SocketsJoin.
func (b BroadcastOperator) DisconnectSockets(ctx context.Context, close bool) error {
	return b.nsp.adapter.DisconnectSockets(ctx, b.options(), close)
}

// Send emits a "message" event (Node's send/write).
func (b BroadcastOperator) Send(args ...any) error { return b.Emit("message", args...) }
