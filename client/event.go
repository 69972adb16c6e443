package client

import (
	"errors"
	"sync/atomic"

	"github.com/gosio/socketio/parser"
)

// Args are the arguments of an event or of an acknowledgement, still
// encoded; Bind and Decode turn them into typed Go values, binary
// attachments included. The type is shared with the server (see
// parser.Args).
type Args = parser.Args

// Event is one event received from the server.
type Event struct {
	// Name is the event name.
	Name   string
	args   Args
	s      *Socket
	id     uint64
	hasAck bool
	acked  atomic.Bool
}

// Errors of Event.Ack.
var (
	// ErrAlreadyAcked is returned when an event is acknowledged twice.
	ErrAlreadyAcked = errors.New("socketio client: event already acknowledged")
	// ErrNoAck is returned when acknowledging an event the server sent
	// without an ack callback.
	ErrNoAck = errors.New("socketio client: the server expects no acknowledgement")
)

// Socket returns the socket that received the event.
func (e *Event) Socket() *Socket { return e.s }

// Args returns the event's arguments. With connection state recovery, the
// server's offset is the last argument (as in JavaScript).
func (e *Event) Args() Args { return e.args }

// Bind decodes the arguments into the pointers dst; see Args.Bind.
func (e *Event) Bind(dst ...any) error { return e.args.Bind(dst...) }

// HasAck reports whether the server waits for an acknowledgement.
func (e *Event) HasAck() bool { return e.hasAck }

// Ack answers the event: the server's ack callback receives args. It may
// be called once, from any goroutine.
func (e *Event) Ack(args ...any) error {
	if !e.hasAck {
		return ErrNoAck
	}
	if !e.acked.CompareAndSwap(false, true) {
		return ErrAlreadyAcked
	}
	p, err := parser.NewAck(e.s.nsp, e.id, args...)
	if err != nil {
		return err
	}
	if !e.s.Connected() {
		return ErrDisconnected
	}
	return e.s.m.writePacket(p)
}

// On registers a typed handler: the event's first argument is decoded into
// a T and passed to fn. An argument that does not decode is logged and fn
// is not called.
//
//	client.On(s, "respuesta", func(msg string) { ... })
func On[T any](s *Socket, event string, fn func(T)) {
	s.On(event, func(e *Event) {
		var v T
		if err := e.args.Decode(0, &v); err != nil {
			s.m.opts.Logger.Warn("socket.io client: event argument", "event", event, "err", err)
			return
		}
		fn(v)
	})
}

// OnAck registers a typed handler whose result acknowledges the event: the
// first argument is decoded into a T, and fn's result is sent back as the
// single ack argument when the server asked for an ack.
//
//	client.OnAck(s, "sum", func(n []int) int { ... })
func OnAck[T, R any](s *Socket, event string, fn func(T) R) {
	s.On(event, func(e *Event) {
		var v T
		if err := e.args.Decode(0, &v); err != nil {
			s.m.opts.Logger.Warn("socket.io client: event argument", "event", event, "err", err)
			return
		}
		r := fn(v)
		if e.hasAck {
			_ = e.Ack(r)
		}
	})
}
