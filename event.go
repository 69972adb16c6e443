package socketio

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

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
	size   int
	ctx    context.Context // nil: the socket's
	// received is when the event arrived, kept only for AckSent observers.
	received time.Time
}

// Context returns the event's context: the socket's (Socket.Context),
// or what an Observer's EventReceived derived from it (a trace span, for
// instance). Pass it on to the work a handler starts.
func (e *Event) Context() context.Context {
	if e.ctx != nil {
		return e.ctx
	}
	return e.socket.Context()
}

// Size returns the bytes of the event as received: its JSON data and
// binary attachments.
func (e *Event) Size() int { return e.size }

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
	if !e.received.IsZero() {
		if o := e.socket.nsp.srv.obs.Load(); o != nil {
			latency := time.Since(e.received)
			for _, fn := range o.ackSent {
				fn(e, latency)
			}
		}
	}
	return e.socket.ec.writePacket(p)
}

// ArgumentError is the error of an event argument that does not decode
// into the type of a typed handler (On, OnAck): a number where a string is
// expected, say. The socket's OnError handlers receive it (without any,
// it is logged at Warn), the handler is not called, and a client that
// asked for an acknowledgement gets an error answer (see AckError) rather
// than waiting for its timeout.
type ArgumentError struct {
	// Event is the event's name.
	Event string
	// Index is the argument's position (0 for the first).
	Index int
	// Err is the decoding error.
	Err error
}

func (e *ArgumentError) Error() string {
	return fmt.Sprintf("socketio: event %q: invalid argument %d: %v", e.Event, e.Index, e.Err)
}

// Unwrap returns the decoding error.
func (e *ArgumentError) Unwrap() error { return e.Err }

// AckError is an error answer to an acknowledgement. The client's ack
// callback receives a single argument, the JSON object {"error": Message}
// ({"error": Message, "data": Data} when Data is set), which JavaScript
// reads as
//
//	const res = await socket.emitWithAck("sum", [1, 2]);
//	if (res && res.error) { ... }
//
// An OnAck handler answers with it when it returns an error (an *AckError
// as it is, any other error with its message), and so does the server when
// an argument does not decode; Event.AckError sends it from an Event
// handler. A successful answer is the result itself, so a result that is an
// object with an "error" field cannot be told apart: keep that name for
// errors.
type AckError struct {
	Message string `json:"error"`
	Data    any    `json:"data,omitempty"`
}

// Error returns the message.
func (e *AckError) Error() string { return e.Message }

// ackErrorOf returns the error answer for err.
func ackErrorOf(err error) *AckError {
	var ae *AckError
	if errors.As(err, &ae) {
		return ae
	}
	var arg *ArgumentError
	if errors.As(err, &arg) {
		return &AckError{Message: fmt.Sprintf("invalid argument %d: %v", arg.Index, arg.Err)}
	}
	return &AckError{Message: err.Error()}
}

// AckError answers the event with an error (see AckError): the client's
// ack callback receives {"error": ...}. Like Ack, it may be called once.
func (e *Event) AckError(err error) error { return e.Ack(ackErrorOf(err)) }

// decodeFirst decodes the first argument for a typed handler; on failure
// it reports the error to the socket and answers a waiting client.
func decodeFirst[T any](s *Socket, e *Event) (T, bool) {
	var v T
	err := e.args.Decode(0, &v)
	if err == nil {
		return v, true
	}
	aerr := &ArgumentError{Event: e.Name, Index: 0, Err: errors.Unwrap(err)}
	if aerr.Err == nil {
		aerr.Err = err
	}
	if e.hasAck {
		_ = e.AckError(aerr)
	}
	s.handlerError(aerr)
	return v, false
}

// On registers a typed handler: the event's first argument is decoded into
// a T and passed to fn.
//
// An argument that does not decode into a T is an *ArgumentError: fn is
// not called, the socket's OnError handlers receive it (without any, it is
// logged at Warn), and a client waiting for an acknowledgement gets an
// error answer (AckError). A missing argument (the client sent none, or
// JavaScript's undefined) is not an error: fn gets T's zero value, as it
// does for null. Use a pointer type for T to tell them from a real value
// (nil), or an Event handler (Event.Args().Len()) to check the count.
//
//	socketio.On(s, "mensaje", func(msg string) { ... })
func On[T any](s *Socket, event string, fn func(T)) {
	s.On(event, func(e *Event) {
		if v, ok := decodeFirst[T](s, e); ok {
			fn(v)
		}
	})
}

// OnAck registers a typed handler whose result acknowledges the event: the
// first argument is decoded into a T, as for On (same rules for arguments
// that do not decode and for missing ones), and when the client asked for
// an acknowledgement it receives fn's result as the single ack argument,
// or, when fn returns an error, the error answer {"error": message} (see
// AckError).
//
//	socketio.OnAck(s, "sum", func(n []int) (int, error) {
//		if len(n) == 0 {
//			return 0, errors.New("nothing to add")
//		}
//		...
//	})
func OnAck[T, R any](s *Socket, event string, fn func(T) (R, error)) {
	s.On(event, func(e *Event) {
		v, ok := decodeFirst[T](s, e)
		if !ok {
			return
		}
		r, err := fn(v)
		if !e.hasAck {
			return
		}
		if err != nil {
			err = e.AckError(err)
		} else {
			err = e.Ack(r)
		}
		if err != nil && !errors.Is(err, ErrDisconnected) {
			s.emitError(err)
		}
	})
}
