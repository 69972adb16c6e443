package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/gosio/socketio/client"
)

var emitCommand = &command{
	name:    "emit",
	summary: "connect, emit one event (optionally wait for its ack), exit",
	usage: `usage: socketio emit [flags] URL EVENT [JSON...]

Connects to URL, emits EVENT with the JSON arguments, stays connected for
--linger so that the server handles the event (nothing confirms an event
without an acknowledgement, and a server drops the events still waiting
for its handlers when the socket disconnects), and exits. With --ack it
waits instead, up to --timeout, for the acknowledgement and prints its
arguments as a JSON array.

Arguments are JSON values: strings need their quotes ('"hello"'); binary
values are written {"$binary":"<base64>"} (an object holding one is sent
with its keys sorted). Negative numbers are arguments, not flags; "--"
ends the flags.

Exit status: 0 when sent (and, with --ack, answered); 2 for a bad command
line; 3 when the connection fails; 4 when the server refuses the
namespace; 5 when no acknowledgement comes within --timeout; 6 when the
connection is lost while waiting.

examples:
  socketio emit http://localhost:3000 chat '"hello"' '{"room":"lobby"}'
  socketio emit --ack -n /math localhost:3000 sum 1 2
`,
	flags: func(fs *flag.FlagSet, c *cli) func(context.Context, []string) int {
		var o connFlags
		var ack bool
		o.register(fs, false)
		fs.BoolVar(&ack, "ack", false, "wait for the acknowledgement and print its arguments")
		fs.DurationVar(&o.linger, "linger", defaultLinger, "without --ack: how long to stay connected after the emit, for the server to handle it")
		return func(ctx context.Context, args []string) int {
			return c.emit(ctx, &o, "emit", args, ack)
		}
	},
}

var callCommand = &command{
	name:    "call",
	summary: "emit with an ack, print the answer as JSON, exit",
	usage: `usage: socketio call [flags] URL EVENT [JSON...]

Connects to URL, emits EVENT with the JSON arguments and an
acknowledgement, prints the acknowledgement's arguments as one JSON array
on stdout (binary values as {"$binary":"<base64>"}) and exits: emit --ack
for scripts, e.g. socketio call URL sum 1 2 | jq '.[0]'.

Exit status: 0 with the answer; 2 for a bad command line; 3 when the
connection fails; 4 when the server refuses the namespace; 5 when no
acknowledgement comes within --timeout; 6 when the connection is lost
while waiting; 130 when interrupted.

example:
  socketio call --timeout 2s http://localhost:3000/admin stats '{"since":"1h"}'
`,
	flags: func(fs *flag.FlagSet, c *cli) func(context.Context, []string) int {
		var o connFlags
		o.register(fs, false)
		return func(ctx context.Context, args []string) int {
			return c.emit(ctx, &o, "call", args, true)
		}
	},
}

// emit runs emit and call.
func (c *cli) emit(ctx context.Context, o *connFlags, name string, args []string, ack bool) int {
	if len(args) < 2 {
		c.errorf("%s: want a URL and an event name (see socketio %s --help)", name, name)
		return exitUsage
	}
	t, err := o.resolve(args[0])
	if err != nil {
		c.errorf("%v", err)
		return exitUsage
	}
	event := args[1]
	values, err := emitArgs(args[2:])
	if err != nil {
		c.errorf("%s: %v", name, err)
		return exitUsage
	}
	// One attempt: a lost connection ends the command.
	t.opts.NoReconnection = true
	sess, code := c.connect(ctx, t, nil)
	if sess == nil {
		return code
	}
	defer sess.close()
	if !ack {
		if err := sess.s.Emit(event, values...); err != nil {
			return c.emitFailed(name, event, err)
		}
		// Nothing confirms an event without an ack, and servers drop the
		// events still waiting for their handlers when the socket
		// disconnects (Node too, for an event and a DISCONNECT that come in
		// one polling request): stay a moment before disconnecting.
		select {
		case <-time.After(o.linger):
		case <-ctx.Done():
		}
		return exitOK
	}
	a, err := sess.s.Timeout(t.opts.Timeout).EmitWithAck(ctx, event, values...)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		c.errorf("%s: interrupted while waiting for the acknowledgement of %q", name, event)
		return exitInterrupted
	case errors.Is(err, context.DeadlineExceeded):
		c.errorf("%s: no acknowledgement of %q within %v", name, event, t.opts.Timeout)
		return exitTimeout
	case errors.Is(err, client.ErrDisconnected):
		c.errorf("%s: disconnected while waiting for the acknowledgement of %q", name, event)
		return exitDisconnected
	default:
		return c.emitFailed(name, event, err)
	}
	answer, err := argsJSON(a)
	if err != nil {
		c.errorf("%s: the acknowledgement of %q: %v", name, event, err)
		return exitError
	}
	if _, err := fmt.Fprintln(c.stdout, answer); err != nil {
		c.errorf("%s: %v", name, err)
		return exitError
	}
	return exitOK
}

func (c *cli) emitFailed(name, event string, err error) int {
	c.errorf("%s %q: %v", name, event, err)
	if errors.Is(err, client.ErrReservedEvent) {
		return exitUsage
	}
	return exitError
}
