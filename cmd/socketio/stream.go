package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/client"
)

var connectCommand = &command{
	name:    "connect",
	summary: "connect, print states and events, emit the lines typed on stdin",
	usage: `usage: socketio connect [flags] URL

Connects to the Socket.IO server at URL and stays connected (reconnecting
when the connection is lost), printing every change of the connection
(connected, transport upgraded, disconnected, reconnecting) and every event
received. The namespace is --namespace, else the URL's path, as with
socket.io-client's io("http://host/chat").

Each line typed on stdin is a command:

  EVENT [JSON...]        emit EVENT with the JSON values as its arguments:
                           chat "hello" {"to":"bob"} [1,2] 3.5 true null
  :ack EVENT [JSON...]   the same, with an acknowledgement: its answer (or
                         the timeout) is printed when it comes
  :help                  print this list (on stderr)
  :quit                  disconnect and exit, as the end of stdin does once
                         the acknowledgements still awaited have come
  # comment              ignored, as empty lines are

Arguments are JSON values separated by spaces: strings need their quotes.
An event name with spaces, or one that starts with '"', ':' or '#', is
written as a JSON string ("my event" 1). Binary arguments are written
{"$binary":"<base64>"} and are sent as binary attachments; binary values
received are printed the same way in JSON, and as <N bytes base64> in the
pretty form.

Printed lines (--format pretty, the default):

  15:04:05.000 * connected id=Xy.. namespace=/ transport=polling
  15:04:05.120 * transport name=websocket
  15:04:05.300 < news "hello" {"n":1}
  15:04:06.000 ack sum: 3

With --format json every line is a JSON object: {"state":..,..,"time":..},
{"event":..,"args":[..],"time":..} (with "ack":true when the server waits
for an acknowledgement) or {"ack":EVENT,"args":[..],"time":..}.

Exit status: 0 after :quit, the end of stdin or Ctrl-C; 3 or 4 when the
first connection fails; 6 when the server disconnects the socket (or the
connection is lost with --no-reconnect).

example:
  socketio connect http://localhost:3000/chat --auth '{"token":"abc"}'
`,
	flags: func(fs *flag.FlagSet, c *cli) func(context.Context, []string) int {
		var o streamFlags
		o.register(fs, "pretty")
		return func(ctx context.Context, args []string) int {
			if len(args) != 1 {
				c.errorf("connect: want one URL (see socketio connect --help)")
				return exitUsage
			}
			return c.stream(ctx, &o, args[0], nil, true)
		}
	},
}

var listenCommand = &command{
	name:    "listen",
	summary: "print the events received, as JSON lines or readable",
	usage: `usage: socketio listen [flags] URL [EVENT...]

Connects to URL and prints every event received, or only the EVENTs
named, one a line, until Ctrl-C (or --count events). Connection states go
to stderr (unless --quiet), so stdout holds only events.

--format json (the default) prints {"event":..,"args":[..],"time":..},
with "ack":true when the server waits for an acknowledgement (answered
only with --reply); binary values are {"$binary":"<base64>"}.
--format pretty prints "15:04:05.000 < event arg arg", colored on a
terminal unless NO_COLOR is set (or as --color says).

Exit status: 0 on Ctrl-C or after --count events; 3 or 4 when the first
connection fails; 6 when the server disconnects the socket (or the
connection is lost with --no-reconnect).

examples:
  socketio listen http://localhost:3000 news
  socketio listen --format pretty -n /admin wss://example.com
`,
	flags: func(fs *flag.FlagSet, c *cli) func(context.Context, []string) int {
		var o streamFlags
		o.register(fs, "json")
		fs.IntVar(&o.count, "count", 0, "exit after this many events (0: never)")
		fs.IntVar(&o.count, "c", 0, "short for --count")
		fs.BoolVar(&o.quiet, "quiet", false, "do not print the connection states on stderr")
		return func(ctx context.Context, args []string) int {
			if len(args) < 1 {
				c.errorf("listen: want a URL (see socketio listen --help)")
				return exitUsage
			}
			if o.count < 0 {
				c.errorf("listen: --count must not be negative")
				return exitUsage
			}
			return c.stream(ctx, &o, args[0], args[1:], false)
		}
	},
}

// streamFlags are the flags of connect and listen.
type streamFlags struct {
	conn  connFlags
	out   outputFlags
	reply listFlag
	count int
	quiet bool
}

func (o *streamFlags) register(fs *flag.FlagSet, format string) {
	o.conn.register(fs, true)
	o.out.register(fs, format)
	fs.Var(&o.reply, "reply", "answer the acknowledgement requests of the events printed with this argument (`JSON`; repeatable, one argument each; default: no answer)")
}

// stream runs connect (interactive) and listen: it prints what the
// socket receives until the end.
func (c *cli) stream(ctx context.Context, o *streamFlags, rawURL string, only []string, interactive bool) int {
	t, err := o.conn.resolve(rawURL)
	if err != nil {
		c.errorf("%v", err)
		return exitUsage
	}
	out, err := c.newPrinter(&o.out, c.stdout)
	if err != nil {
		c.errorf("%v", err)
		return exitUsage
	}
	states := out
	if !interactive {
		states = nil
		if !o.quiet {
			states, _ = c.newPrinter(&outputFlags{format: "pretty", color: o.out.color}, c.stderr)
		}
	}
	reply, err := emitArgs(o.reply)
	if err != nil {
		c.errorf("--reply %v", err)
		return exitUsage
	}
	filter := map[string]bool{}
	for _, e := range only {
		filter[e] = true
	}
	t.opts.Socket.ReceiveBuffer = 1 // events are taken by OnAny, not Receive

	w := &watch{c: c, states: states, done: make(chan int, 1)}
	var seen atomic.Int64
	setup := func(s *client.Socket) {
		w.s = s
		s.OnAny(func(ev *client.Event) {
			if len(filter) > 0 && !filter[ev.Name] {
				return
			}
			n := seen.Add(1)
			if o.count > 0 && n > int64(o.count) {
				return // done: the command is ending
			}
			if len(reply) > 0 && ev.HasAck() {
				if err := ev.Ack(reply...); err != nil {
					c.errorf("acknowledging %q: %v", ev.Name, err)
				}
			}
			if err := out.event(ev.Name, ev.Args(), ev.HasAck()); err != nil {
				c.errorf("%v", err)
				w.finish(exitError)
				return
			}
			if n == int64(o.count) {
				w.finish(exitOK)
			}
		})
		w.hooks(o.conn.noReconnect)
	}
	sess, code := c.connect(ctx, t, setup)
	if sess == nil {
		return code
	}
	w.started.Store(true)
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(1)
	go func() {
		defer bg.Done()
		w.watchTransport(stop)
	}()
	defer func() {
		close(stop)
		bg.Wait()
	}()
	defer sess.close()
	if !interactive {
		select {
		case <-ctx.Done():
			return exitOK
		case code := <-w.done:
			return code
		}
	}
	return c.interact(ctx, sess, out, t.opts.Timeout, w.done)
}

// watch reports the changes of a socket's connection and decides when
// connect and listen end.
type watch struct {
	c       *cli
	s       *client.Socket
	states  *printer // nil: quiet
	done    chan int // the exit code, once
	started atomic.Bool

	mu        sync.Mutex
	transport string // as last reported
}

func (w *watch) finish(code int) {
	select {
	case w.done <- code:
	default:
	}
}

func (w *watch) state(state string, kv ...string) {
	if w.states != nil {
		if err := w.states.state(state, kv...); err != nil {
			w.c.errorf("%v", err)
			w.finish(exitError)
		}
	}
}

func (w *watch) hooks(noReconnect bool) {
	s, m := w.s, w.s.Manager()
	s.OnConnect(func() {
		tr := m.Transport()
		w.mu.Lock()
		w.transport = tr
		w.mu.Unlock()
		w.state("connected", "id", s.ID(), "namespace", s.Namespace(), "transport", tr)
	})
	s.OnDisconnect(func(reason string) {
		w.state("disconnected", "reason", reason)
		if reason == client.ReasonIOClientDisconnect {
			return
		}
		if !s.Active() || noReconnect {
			w.finish(exitDisconnected)
		}
	})
	s.OnConnectError(func(err error) {
		if !w.started.Load() {
			return // the first connection: connect reports it
		}
		w.state("connect_error", "error", err.Error())
		var ce *client.ConnectError
		if errors.As(err, &ce) {
			w.finish(exitRefused)
		}
	})
	m.OnReconnectAttempt(func(n int) { w.state("reconnecting", "attempt", strconv.Itoa(n)) })
	m.OnReconnectFailed(func() {
		w.state("error", "error", "reconnection failed")
		w.finish(exitDisconnected)
	})
}

// watchTransport reports upgrades (the client has no upgrade event).
func (w *watch) watchTransport(stop <-chan struct{}) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if !w.s.Connected() {
			continue
		}
		tr := w.s.Manager().Transport()
		w.mu.Lock()
		changed := tr != "" && w.transport != "" && tr != w.transport
		if changed {
			w.transport = tr
		}
		w.mu.Unlock()
		if changed {
			w.state("transport", "name", tr)
		}
	}
}

const lineHelp = `lines:
  EVENT [JSON...]        emit EVENT with these arguments, e.g. chat "hello" {"to":"bob"}
  :ack EVENT [JSON...]   emit and wait for the acknowledgement (printed when it comes)
  :help                  this list
  :quit                  disconnect and exit
  # ...                  a comment
binary arguments: {"$binary":"<base64>"}
`

// interact emits the lines of stdin until its end, :quit, ctx or done.
func (c *cli) interact(ctx context.Context, sess *session, out *printer, timeout time.Duration, done <-chan int) int {
	lines := make(chan string)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(c.stdin)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-stop:
				return
			}
		}
		if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
			c.errorf("reading stdin: %v", err)
		}
	}()
	var acks sync.WaitGroup
	for {
		select {
		case <-ctx.Done():
			return exitOK
		case code := <-done:
			return code
		case line, ok := <-lines:
			if !ok {
				return c.waitAcks(ctx, &acks, done)
			}
			if quit := c.command(ctx, sess, out, timeout, line, &acks); quit {
				return c.waitAcks(ctx, &acks, done)
			}
		}
	}
}

func (c *cli) waitAcks(ctx context.Context, acks *sync.WaitGroup, done <-chan int) int {
	all := make(chan struct{})
	go func() {
		acks.Wait()
		close(all)
	}()
	select {
	case <-all:
		return exitOK
	case <-ctx.Done():
		return exitOK
	case code := <-done:
		return code
	}
}

// command runs one line typed in connect; it returns true for :quit.
// Mistakes are reported on stderr and the session goes on.
func (c *cli) command(ctx context.Context, sess *session, out *printer, timeout time.Duration, line string, acks *sync.WaitGroup) bool {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return false
	}
	if strings.HasPrefix(line, ":") {
		cmd, rest, _ := strings.Cut(line, " ")
		switch cmd {
		case ":quit", ":q", ":exit":
			return true
		case ":help", ":h":
			fmt.Fprint(c.stderr, lineHelp)
			return false
		case ":ack":
			event, args, err := parseLine(rest)
			if err != nil {
				c.errorf("%v", err)
				return false
			}
			acks.Add(1)
			go func() {
				defer acks.Done()
				a, err := sess.s.Timeout(timeout).EmitWithAck(ctx, event, args...)
				switch {
				case errors.Is(err, context.DeadlineExceeded):
					err = fmt.Errorf("no acknowledgement within %v", timeout)
				case err != nil && ctx.Err() != nil:
					return
				}
				if err := out.ackAnswer(event, a, err); err != nil {
					c.errorf("%v", err)
				}
			}()
			return false
		}
		c.errorf("unknown command %s (:help lists them; a JSON string names an event that starts with ':')", cmd)
		return false
	}
	event, args, err := parseLine(line)
	if err != nil {
		c.errorf("%v", err)
		return false
	}
	if err := sess.s.Emit(event, args...); err != nil {
		c.errorf("emit %q: %v", event, err)
	}
	return false
}
