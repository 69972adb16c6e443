package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/engineio/packet"
)

var serveCommand = &command{
	name:    "serve",
	summary: "run a local echo server that logs every packet",
	usage: `usage: socketio serve [flags]

Runs a Socket.IO development server on --addr. It echoes every event back
to its sender (same name, same arguments, binary included) and answers
every acknowledgement request with the arguments it received. It logs
every packet in and out, one readable line each, on stdout:

  15:04:05.000 Kq3.. open     transport=polling remote=127.0.0.1:50312
  15:04:05.001 Kq3.. in  /    connect {"token":"abc"}
  15:04:05.001 Kq3.. out /    connect {"sid":"dF0.."}
  15:04:05.050 Kq3.. upgrade  transport=websocket
  15:04:05.100 Kq3.. in  /    event "chat" ["hello"] (ack)
  15:04:05.100 Kq3.. out /    event "chat" ["hello"]
  15:04:05.100 Kq3.. out /    ack ["hello"]
  15:04:09.000 Kq3.. in  /    disconnect (client namespace disconnect)
  15:04:09.000 Kq3.. close    reason=transport close

The first column after the time is the Engine.IO session id, shared by
the namespaces of one connection. -v adds the Engine.IO packets (ping,
pong, message sizes, ...).

Every namespace is served (dynamic, as io.of(() => true)) unless
--namespace lists them; "/" is always served. CORS allows any origin,
credentials included, unless --origin lists them. Ctrl-C stops the server (exit status 0).

examples:
  socketio serve
  socketio serve --addr :8080 --namespace /chat --namespace /admin --origin http://localhost:5173
`,
	flags: func(fs *flag.FlagSet, c *cli) func(context.Context, []string) int {
		var o serveFlags
		fs.StringVar(&o.addr, "addr", "127.0.0.1:3000", "address to listen on (host:port; port 0 picks a free one)")
		fs.StringVar(&o.path, "path", socketio.DefaultPath, "the Engine.IO path")
		fs.Var(&o.namespaces, "namespace", "serve only this namespace besides / (repeatable; default: every namespace)")
		fs.Var(&o.namespaces, "n", "short for --namespace")
		fs.Var(&o.origins, "origin", "allow this CORS origin, e.g. http://localhost:5173 (repeatable; default: any)")
		fs.StringVar(&o.transports, "transports", "polling,websocket", "the transports offered")
		fs.BoolVar(&o.verbose, "v", false, "also log the Engine.IO packets (ping, pong, message sizes)")
		return func(ctx context.Context, args []string) int {
			if len(args) > 0 {
				c.errorf("serve: unexpected argument %q (see socketio serve --help)", args[0])
				return exitUsage
			}
			return c.serve(ctx, &o)
		}
	},
}

// shutdownGrace bounds the graceful stop of serve.
const shutdownGrace = 2 * time.Second

type serveFlags struct {
	addr       string
	path       string
	namespaces listFlag
	origins    listFlag
	transports string
	verbose    bool
}

// packetLog writes the serve log, one line per packet.
type packetLog struct {
	mu      sync.Mutex
	w       io.Writer
	verbose bool
	conns   map[*engineio.Conn]bool // sessions whose engine events are logged
}

func (l *packetLog) printf(format string, args ...any) {
	line := time.Now().Format("15:04:05.000") + " " + fmt.Sprintf(format, args...) + "\n"
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, line)
}

// socket logs a Socket.IO packet of s: "sid in|out nsp what".
func (l *packetLog) socket(s *socketio.Socket, dir, what string, args ...any) {
	l.printf("%s %-3s %-4s %s", s.Conn().ID(), dir, s.Namespace().Name(), fmt.Sprintf(what, args...))
}

// engine starts logging the engine events of the session of s, once per
// session (its first namespace CONNECT).
func (l *packetLog) engine(s *socketio.Socket) {
	conn := s.Conn()
	l.mu.Lock()
	seen := l.conns[conn]
	l.conns[conn] = true
	l.mu.Unlock()
	if seen {
		return
	}
	id := conn.ID()
	l.printf("%s open     transport=%s remote=%s", id, conn.Transport(), conn.Request().RemoteAddr)
	conn.OnUpgrade(func(tr string) { l.printf("%s upgrade  transport=%s", id, tr) })
	conn.OnClose(func(reason string, cause error) {
		l.mu.Lock()
		delete(l.conns, conn)
		l.mu.Unlock()
		if cause != nil {
			l.printf("%s close    reason=%s (%s)", id, reason, strings.TrimSpace(cause.Error()))
			return
		}
		l.printf("%s close    reason=%s", id, reason)
	})
	if l.verbose {
		conn.OnPacketIn(func(t packet.Type, size int) { l.printf("%s engine   in  %s %d bytes", id, t, size) })
		conn.OnPacketOut(func(t packet.Type, size int) { l.printf("%s engine   out %s %d bytes", id, t, size) })
	}
}

func (c *cli) serve(ctx context.Context, o *serveFlags) int {
	log := &packetLog{w: c.stdout, verbose: o.verbose, conns: make(map[*engineio.Conn]bool)}
	// Children of the dynamic namespace go away with their last socket:
	// a long-running dev server does not pile up the names it was asked.
	cfg := socketio.Config{Path: o.path, CleanupEmptyChildNamespaces: true}
	for _, tr := range strings.Split(o.transports, ",") {
		cfg.Engine.Transports = append(cfg.Engine.Transports, strings.TrimSpace(tr))
	}
	cfg.Engine.CORS = &engineio.CORS{Origins: o.origins}
	if len(o.origins) == 0 {
		// Any origin, named in the answer with credentials allowed, so that
		// pages using withCredentials work too ("*" would refuse them).
		cfg.Engine.CORS.AllowOrigin = func(string, *http.Request) bool { return true }
		cfg.Engine.CORS.Credentials = true
	}
	srv, err := socketio.NewServer(cfg)
	if err != nil {
		c.errorf("serve: %v", err)
		return exitUsage
	}
	connectMW := func(s *socketio.Socket) error {
		log.engine(s)
		auth, _ := marshalNoEscape(s.Handshake().Auth)
		log.socket(s, "in", "connect %s", auth)
		return nil
	}
	onConnection := func(s *socketio.Socket) {
		sid, _ := marshalNoEscape(map[string]string{"sid": s.ID()})
		log.socket(s, "out", "connect %s", sid)
		echo(log, s)
	}
	srv.Use(connectMW)
	srv.OnConnection(onConnection)
	served := "every namespace"
	if len(o.namespaces) == 0 {
		all := srv.OfFunc(func(string, map[string]any) bool { return true })
		all.Use(connectMW)
		all.OnConnection(onConnection)
		srv.OnNewNamespace(func(n *socketio.Namespace) { log.printf("namespace %s created", n.Name()) })
	} else {
		names := []string{"/"}
		for _, n := range o.namespaces {
			if !strings.HasPrefix(n, "/") {
				n = "/" + n
			}
			nsp, err := srv.Of(n)
			if err != nil {
				c.errorf("serve: namespace %s: %v", n, err)
				return exitUsage
			}
			nsp.Use(connectMW)
			nsp.OnConnection(onConnection)
			names = append(names, n)
		}
		served = strings.Join(names, " ")
		// Asked only about the names that are not served: log the refusal
		// (the server answers "Invalid namespace").
		srv.OfFunc(func(name string, _ map[string]any) bool {
			log.printf("in  %s connect refused: Invalid namespace", name)
			return false
		})
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		c.errorf("serve: %v", err)
		return exitError
	}
	mux := http.NewServeMux()
	mux.Handle(strings.TrimSuffix(o.path, "/")+"/", srv)
	httpSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	cors := "any origin"
	if len(o.origins) > 0 {
		cors = strings.Join(o.origins, " ")
	}
	log.printf("listening on http://%s%s (namespaces: %s; CORS: %s)", ln.Addr(), o.path, served, cors)
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	select {
	case err := <-serveErr:
		c.errorf("serve: %v", err)
		_ = srv.Close()
		return exitError
	case <-ctx.Done():
	}
	// Sessions get their close packet; polling ones the client never polls
	// again (an abandoned tab) are cut after a grace period.
	log.printf("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		c.errorf("serve: shutdown: %v", err)
	}
	if err := httpSrv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = httpSrv.Close()
	}
	<-serveErr
	return exitOK
}

// echo sends every event of s back and answers acknowledgements with the
// arguments received, logging each packet.
func echo(log *packetLog, s *socketio.Socket) {
	s.OnAny(func(ev *socketio.Event) {
		args, err := argsJSON(ev.Args())
		if err != nil {
			args = "(" + err.Error() + ")"
		}
		name, _ := marshalNoEscape(ev.Name)
		ack := ""
		if ev.HasAck() {
			ack = " (ack)"
		}
		log.socket(s, "in", "event %s %s%s", name, args, ack)
		values, err := echoArgs(ev.Args())
		if err != nil {
			log.socket(s, "err", "cannot echo %s: %v", name, err)
			return
		}
		// Logged before it is sent: the log keeps the order of the wire.
		log.socket(s, "out", "event %s %s", name, args)
		if err := s.Emit(ev.Name, values...); err != nil {
			log.socket(s, "err", "echo %s: %v", name, err)
		}
		if ev.HasAck() {
			if err := ev.Ack(values...); err != nil {
				log.socket(s, "err", "ack %s: %v", name, err)
				return
			}
			log.socket(s, "out", "ack %s", args)
		}
	})
	s.OnDisconnect(func(reason string) {
		dir := "-"
		switch reason {
		case "client namespace disconnect":
			dir = "in"
		case "server namespace disconnect", "server shutting down":
			dir = "out"
		}
		log.socket(s, dir, "disconnect (%s)", reason)
	})
}
