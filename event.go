package socketio

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/gosio/socketio/parser"
)

// Args are the arguments of an event or of an acknowledgement, still
// encoded; Bind and Decode turn them into typed Go values, binary
// attachments included. See parser.Args.
type Args = parser.Args

// Event is one incoming event: its name, arguments and, when the client
// asked for it, the means to acknowledge it.
type Event struct {
	// Name is the event name.
	Name   string
	args   Args
	socket *Socket
	ackID  uint64
	hasAck bool
	acked  atomic.Bool
}

// ErrAlreadyAcked is returned when an event is acknowledged twice.
var ErrAlreadyAcked = errors.New("socketio: event already acknowledged")

// ErrNoAck is returned when acknowledging an event the client sent without
// an ack callback.
var ErrNoAck = errors.New("socketio: the client expects no acknowledgement")

// Socket returns the socket that received the event.
func (e *Event) Socket() *Socket { return e.socket }

// Args returns the event's arguments.
func (e *Event) Args() Args { return e.args }

// Bind decodes the arguments into the pointers dst; see Args.Bind.
func (e *Event) Bind(dst ...any) error { return e.args.Bind(dst...) }

// HasAck reports whether the client waits for an acknowledgement.
func (e *Event) HasAck() bool { return e.hasAck }

// Ack answers the event; the client's ack callback receives args. It may
// be called once, from any goroutine.
func (e *Event) Ack(args ...any) error {
	if !e.hasAck {
		return ErrNoAck
	}
	if !e.acked.CompareAndSwap(false, true) {
		return ErrAlreadyAcked
	}
	p, err := parser.NewAck(e.socket.nsp.name, e.ackID, args...)
	if err != nil {
		return err
	}
	if !e.socket.Connected() {
		return ErrDisconnected
	}
	return e.socket.client.writePacket(p)
}

// On registers a typed handler: the event's first argument is decoded into
// a T and passed to fn. An argument that does not decode is reported to the
// socket's OnError handlers and fn is not called.
//
//	socketio.On(s, "mensaje", func(msg string) { ... })
func On[T any](s *Socket, event string, fn func(T)) {
	s.On(event, func(e *Event) {
		var v T
		if err := e.args.Decode(0, &v); err != nil {
			s.emitError(fmt.Errorf("socketio: event %q: %w", event, err))
			return
		}
		fn(v)
	})
}

// OnAck registers a typed handler whose result acknowledges the event: the
// first argument is decoded into a T, and fn's result is sent back as the
// single ack argument (when the client asked for an ack).
//
//	socketio.OnAck(s, "sum", func(n []int) int { ... })
func OnAck[T, R any](s *Socket, event string, fn func(T) R) {
	s.On(event, func(e *Event) {
		var v T
		if err := e.args.Decode(0, &v); err != nil {
			s.emitError(fmt.Errorf("socketio: event %q: %w", event, err))
			return
		}
		r := fn(v)
		if e.hasAck {
			if err := e.Ack(r); err != nil && !errors.Is(err, ErrDisconnected) {
				s.emitError(err)
			}
		}
	})
}
